/** Idempotency-Key on both create routes: replays, mismatches, races, malformed keys, scopes. */
import assert from "node:assert/strict";
import {
  assertNothingWritten,
  assertProblem,
  jsonRequest,
  listAllTickets,
  sampleTicket,
  snapshot,
  withApp,
  withTempDir,
} from "../fixtures.ts";

const CREATE_ROUTES = ["/create_ticket", "/api/v1/tickets"] as const;

function withKey(key: string, body: unknown = sampleTicket()): RequestInit {
  return jsonRequest(body, { headers: { "Idempotency-Key": key } });
}

for (const route of CREATE_ROUTES) {
  Deno.test(`POST ${route} with a repeated Idempotency-Key and body replays the first response`, async () => {
    await withApp(async (h) => {
      const key = crypto.randomUUID();
      const first = await h.app.request(route, withKey(key));
      assert.equal(first.status, 201);
      assert.equal(first.headers.get("content-type"), "application/json");
      assert.equal(first.headers.get("idempotent-replayed"), null);
      const firstBody = await first.text();
      const before = await snapshot(h);

      for (let i = 0; i < 2; i++) {
        const again = await h.app.request(route, withKey(key));
        assert.equal(again.status, 201);
        assert.equal(again.headers.get("content-type"), "application/json");
        assert.equal(again.headers.get("idempotent-replayed"), "true");
        assert.equal(
          again.headers.get("location"),
          first.headers.get("location"),
        );
        assert.equal(again.headers.get("etag"), first.headers.get("etag"));
        assert.equal(await again.text(), firstBody);
      }
      await assertNothingWritten(h, before);
      assert.equal(before.tickets.length, 1);
      assert.equal(before.events.length, 1);
    });
  });

  Deno.test(`POST ${route} treats a body that normalizes the same as the same request`, async () => {
    await withApp(async (h) => {
      const first = await h.app.request(
        route,
        withKey(
          "k-norm",
          sampleTicket({ user_id: "ann", other_ids: ["A", "B"] }),
        ),
      );
      assert.equal(first.status, 201);
      const before = await snapshot(h);
      const again = await h.app.request(
        route,
        withKey(
          "k-norm",
          sampleTicket({ user_id: "  ann ", other_ids: "A, B", extra: 1 }),
        ),
      );
      assert.equal(again.status, 201);
      assert.equal(again.headers.get("idempotent-replayed"), "true");
      assert.equal(await again.text(), await first.text());
      await assertNothingWritten(h, before);
    });
  });

  Deno.test(`POST ${route} returns 422 on Idempotency-Key when the key is reused with another body`, async () => {
    await withApp(async (h) => {
      const first = await h.app.request(route, withKey("k-1"));
      assert.equal(first.status, 201);
      const before = await snapshot(h);
      const res = await h.app.request(
        route,
        withKey("k-1", sampleTicket({ user_id: "someone-else" })),
      );
      assert.equal(res.headers.get("idempotent-replayed"), null);
      await assertProblem(res, 422, {
        type: "/problems/idempotency-key-reused",
        title: "Idempotency-Key reused",
        instance: route,
        detail:
          'Idempotency-Key "k-1" was already used with a different request; use a new key for a new ticket',
        errors: [{
          field: "Idempotency-Key",
          detail: "was used with another body",
        }],
      });
      await assertNothingWritten(h, before);
    });
  });

  for (
    const [what, key] of [
      ["is 300 characters long", "k".repeat(300)],
      ["is 256 characters long", "k".repeat(256)],
      ["contains a space", "my key"],
      ["contains a non-ASCII character", "clé"],
    ] as const
  ) {
    Deno.test(`POST ${route} returns 400 when the Idempotency-Key ${what}`, async () => {
      await withApp(async (h) => {
        const before = await snapshot(h);
        const res = await h.app.request(route, {
          method: "POST",
          headers: new Headers([
            ["Content-Type", "application/json"],
            // Headers are ByteStrings: send the UTF-8 bytes as Latin-1 characters.
            [
              "Idempotency-Key",
              String.fromCharCode(...new TextEncoder().encode(key)),
            ],
          ]),
          body: JSON.stringify(sampleTicket()),
        });
        await assertProblem(res, 400, {
          title: "Malformed Idempotency-Key",
          instance: route,
          errors: [{
            field: "Idempotency-Key",
            detail: "must be 1 to 255 visible ASCII characters",
          }],
        });
        await assertNothingWritten(h, before);
      });
    });
  }

  Deno.test(`POST ${route} accepts an Idempotency-Key of 255 characters`, async () => {
    await withApp(async ({ app }) => {
      const key = "k".repeat(255);
      const first = await app.request(route, withKey(key));
      assert.equal(first.status, 201);
      const again = await app.request(route, withKey(key));
      assert.equal(again.status, 201);
      assert.equal(again.headers.get("idempotent-replayed"), "true");
    });
  });

  Deno.test(`POST ${route} with an invalid body and a key stores no key, so a fixed retry creates`, async () => {
    await withApp(async (h) => {
      const before = await snapshot(h);
      const bad = await h.app.request(
        route,
        withKey("k-fix", sampleTicket({ pdf_link: "ftp://x/" })),
      );
      await assertProblem(bad, 422, { fields: ["pdf_link"] });
      await assertNothingWritten(h, before);
      const good = await h.app.request(route, withKey("k-fix"));
      assert.equal(good.status, 201);
      assert.equal(good.headers.get("idempotent-replayed"), null);
    });
  });

  Deno.test(`POST ${route} racing twice with one key creates exactly one ticket (in memory)`, async () => {
    await withApp(async (h) => {
      const [a, b] = await Promise.all([
        h.app.request(route, withKey("k-race")),
        h.app.request(route, withKey("k-race")),
      ]);
      const statuses = [a.status, b.status].sort();
      if (statuses[1] === 409) {
        assert.deepEqual(statuses, [201, 409]);
        const loser = a.status === 409 ? a : b;
        assert.equal(loser.headers.get("retry-after"), "1");
        await assertProblem(loser, 409, {
          type: "/problems/idempotency-in-flight",
          title: "Request in flight",
        });
      } else {
        assert.deepEqual(statuses, [201, 201]);
        assert.equal(await a.text(), await b.text());
      }
      assert.equal((await listAllTickets(h.app)).length, 1);
      assert.equal((await h.store.eventsAfter(0, 100)).length, 1);
    });
  });
}

Deno.test("POST /create_ticket racing twice with one key on a file database gives one 201 and one 409 with Retry-After", async () => {
  await withTempDir(async (dir) => {
    await withApp(async (h) => {
      const [a, b] = await Promise.all([
        h.app.request("/create_ticket", withKey("k-race")),
        h.app.request("/create_ticket", withKey("k-race")),
      ]);
      assert.equal(a.status, 201);
      assert.equal(a.headers.get("content-type"), "application/json");
      const created = await a.json();
      assert.deepEqual(created, {
        success: true,
        ticket_id: 1,
        message: "Ticket created successfully",
      });
      assert.equal(b.headers.get("retry-after"), "1");
      await assertProblem(b, 409, {
        type: "/problems/idempotency-in-flight",
        title: "Request in flight",
        instance: "/create_ticket",
        detail:
          'A request with Idempotency-Key "k-race" is still being processed; retry shortly',
      });
      assert.equal((await listAllTickets(h.app)).length, 1);

      // Once the first has committed, the retry the 409 asked for is a replay.
      const retry = await h.app.request("/create_ticket", withKey("k-race"));
      assert.equal(retry.status, 201);
      assert.equal(retry.headers.get("idempotent-replayed"), "true");
      assert.deepEqual(await retry.json(), created);
      assert.equal((await listAllTickets(h.app)).length, 1);
    }, { path: `${dir}/t.db` });
  });
});

Deno.test("Idempotency-Key is scoped per route: one key on both create routes creates two tickets", async () => {
  await withApp(async ({ app, store }) => {
    const legacy = await app.request("/create_ticket", withKey("shared"));
    assert.equal(legacy.status, 201);
    assert.equal((await legacy.json()).ticket_id, 1);
    const v1 = await app.request("/api/v1/tickets", withKey("shared"));
    assert.equal(v1.status, 201);
    assert.equal(v1.headers.get("idempotent-replayed"), null);
    assert.equal((await v1.json()).id, 2);
    assert.deepEqual(
      (await listAllTickets(app)).map((t) => t.id),
      [2, 1],
    );
    assert.equal((await store.eventsAfter(0, 100)).length, 2);
  });
});

Deno.test("POST /api/v1/tickets replays the ticket as first created, even after it changed", async () => {
  await withApp(async ({ app }) => {
    const first = await app.request("/api/v1/tickets", withKey("k-old"));
    assert.equal(first.status, 201);
    const created = await first.json();
    const patch = await app.request(
      "/api/v1/tickets/1",
      jsonRequest({ status: "Closed" }, { method: "PATCH" }),
    );
    assert.equal(patch.status, 200);
    const again = await app.request("/api/v1/tickets", withKey("k-old"));
    assert.equal(again.status, 201);
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    assert.equal(again.headers.get("etag"), '"1"');
    assert.deepEqual(await again.json(), created);
  });
});
