/** The requester's link in the JSON API: requester_url, Ticket-Status-URL and /api/v1/requests/{token}. */
import assert from "node:assert/strict";
import { createMemoryBus } from "../../db/bus.ts";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { createApp } from "../../app.ts";
import { createLogger } from "../../log.ts";
import type { AppConfig } from "../../config.ts";
import { requesterLinks } from "../../lib/requester_token.ts";
import {
  assertNothingWritten,
  assertProblem,
  type Harness,
  harnessFor,
  jsonRequest,
  sampleTicket,
  snapshot,
  withApp,
} from "../fixtures.ts";

const TOKEN_PATH = /^\/r\/([1-9][0-9]*\.[\w-]{43})$/;

/** Creates a ticket through POST /api/v1/tickets; returns its id and requester token. */
async function createWithLink(
  h: Harness,
): Promise<{ id: number; token: string }> {
  const res = await h.app.request(
    "/api/v1/tickets",
    jsonRequest(sampleTicket()),
  );
  assert.equal(res.status, 201);
  const body = await res.json();
  const m = TOKEN_PATH.exec(body.requester_url);
  assert.ok(m, body.requester_url);
  return { id: body.id, token: m[1]! };
}

/** The app with config overrides, as withApp gives it. */
async function withConfig(
  config: Partial<AppConfig>,
  fn: (h: Harness) => Promise<void>,
) {
  const bus = createMemoryBus();
  const store = await openSqliteStore({ path: ":memory:", bus });
  try {
    const h = await harnessFor(store, bus);
    const rawApp = createApp({
      store,
      bus,
      config: { logLevel: "silent", ...config },
      logger: createLogger("silent"),
    });
    await fn({
      ...h,
      rawApp,
      app: {
        request(path, init = {}) {
          const headers = new Headers(init.headers);
          if (!headers.has("authorization")) {
            headers.set("Authorization", `Bearer ${h.apiKey}`);
          }
          return Promise.resolve(rawApp.request(path, { ...init, headers }));
        },
      },
    });
  } finally {
    await store.close();
  }
}

Deno.test("POST /api/v1/tickets answers with a requester_url, and an idempotent replay with the same one", async () => {
  await withApp(async (h) => {
    const init = jsonRequest(sampleTicket(), {
      headers: { "Idempotency-Key": "k-1" },
    });
    const first = await h.app.request("/api/v1/tickets", init);
    assert.equal(first.status, 201);
    const a = await first.json();
    assert.match(a.requester_url, TOKEN_PATH);
    assert.ok(a.requester_url.startsWith(`/r/${a.id}.`));
    const again = await h.app.request("/api/v1/tickets", init);
    assert.equal(again.status, 201);
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    assert.equal((await again.json()).requester_url, a.requester_url);
    // Another ticket, another link.
    const other = await createWithLink(h);
    assert.notEqual(`/r/${other.token}`, a.requester_url);
  });
});

Deno.test("requester_url is absolute under PUBLIC_URL", async () => {
  await withConfig({ publicUrl: "https://desk.example.com" }, async (h) => {
    const res = await h.app.request(
      "/api/v1/tickets",
      jsonRequest(sampleTicket()),
    );
    assert.equal(res.status, 201);
    assert.match(
      (await res.json()).requester_url,
      /^https:\/\/desk\.example\.com\/r\/1\.[\w-]{43}$/,
    );
  });
});

Deno.test("POST /create_ticket keeps its body byte for byte and sends the status page in Ticket-Status-URL, the same on a replay", async () => {
  await withApp(async (h) => {
    const init = jsonRequest(sampleTicket(), {
      headers: { "Idempotency-Key": "legacy-1" },
    });
    const res = await h.app.request("/create_ticket", init);
    assert.equal(res.status, 201);
    assert.equal(
      await res.text(),
      '{"success":true,"ticket_id":1,"message":"Ticket created successfully"}',
    );
    const url = res.headers.get("ticket-status-url");
    assert.match(url ?? "", TOKEN_PATH);
    const replay = await h.app.request("/create_ticket", init);
    assert.equal(replay.headers.get("idempotent-replayed"), "true");
    assert.equal(replay.headers.get("ticket-status-url"), url);
    // The page it names is the ticket's status page.
    const token = TOKEN_PATH.exec(url!)![1]!;
    const status = await h.rawApp.request(`/api/v1/requests/${token}`);
    assert.equal(status.status, 200);
    assert.equal((await status.json()).ticket_id, 1);
  });
});

Deno.test("GET /api/v1/requests/{token} needs no API key and shows status, priority, times and public replies only", async () => {
  await withApp(async (h) => {
    const { id, token } = await createWithLink(h);
    await h.store.addComment(id, "INTERNAL-MARKER-7f3a", { actor: "alice" });
    const reply = await h.store.addComment(id, "Please restart the app", {
      actor: "alice",
      visibility: "public",
    });
    await h.store.addRequesterReply(id, "Done, still broken", {
      tokenVersion: 1,
    });
    const res = await h.rawApp.request(`/api/v1/requests/${token}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("cache-control"), "no-store");
    const text = await res.text();
    assert.ok(!text.includes("INTERNAL-MARKER-7f3a"));
    assert.ok(!text.includes("alice"), "no desk names reach the requester");
    const body = JSON.parse(text);
    const ticket = (await h.store.getTicket(id))!;
    assert.deepEqual(body, {
      ticket_id: id,
      status: "Open",
      priority: "Normal",
      created_at: ticket.created_at,
      updated_at: ticket.updated_at,
      replies: [
        {
          id: reply.value.id,
          from: "agent",
          body: "Please restart the app",
          created_at: reply.value.created_at,
        },
        {
          id: reply.value.id + 1,
          from: "requester",
          body: "Done, still broken",
          created_at: body.replies[1].created_at,
        },
      ],
    });
  });
});

Deno.test("The requester endpoints answer any origin without credentials, preflight included, whatever CORS_ORIGINS says", async () => {
  await withConfig({ corsOrigins: ["https://app.example.com"] }, async (h) => {
    const { token } = await createWithLink(h);
    const res = await h.rawApp.request(`/api/v1/requests/${token}`, {
      headers: { Origin: "https://anyone.example.net" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.equal(res.headers.get("access-control-allow-credentials"), null);
    const pre = await h.rawApp.request(`/api/v1/requests/${token}/replies`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://anyone.example.net",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "*");
    assert.match(pre.headers.get("access-control-allow-methods") ?? "", /POST/);
    // The rest of the API keeps its own origins.
    const api = await h.app.request("/api/v1/tickets", {
      headers: { Origin: "https://anyone.example.net" },
    });
    assert.notEqual(api.headers.get("access-control-allow-origin"), "*");
  });
});

for (
  const [what, token] of [
    ["an unknown ticket", "99.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["a wrong mac", "1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["a malformed token", "1.abc"],
    ["no mac at all", "1"],
  ]
) {
  Deno.test(`GET /api/v1/requests/{token} answers 404 problem+json for ${what}`, async () => {
    await withApp(async (h) => {
      await createWithLink(h);
      const res = await h.rawApp.request(`/api/v1/requests/${token}`);
      await assertProblem(res, 404, {
        detail:
          "No request has this link: it is mistyped, or the desk has revoked it",
      });
    });
  });
}

Deno.test("A revoked link answers 404 and takes no reply; the ticket's new link works", async () => {
  const secretKey = "requests-test-secret-0123456789abcdef";
  await withConfig({ secretKey }, async (h) => {
    const { id, token } = await createWithLink(h);
    const links = requesterLinks(secretKey, null);
    assert.equal(token, links.token({ id, token_version: 1 }));
    await h.store.revokeRequesterLink(id, { actor: "maria" });
    await assertProblem(
      await h.rawApp.request(`/api/v1/requests/${token}`),
      404,
    );
    const before = await snapshot(h);
    await assertProblem(
      await h.rawApp.request(
        `/api/v1/requests/${token}/replies`,
        jsonRequest({ body: "hello?" }),
      ),
      404,
    );
    await assertNothingWritten(h, before);
    const fresh = links.token({ id, token_version: 2 });
    const res = await h.rawApp.request(`/api/v1/requests/${fresh}`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).ticket_id, id);
  });
});

Deno.test("POST /api/v1/requests/{token}/replies adds a public reply from the requester and reopens a Closed ticket", async () => {
  await withApp(async (h) => {
    const { id, token } = await createWithLink(h);
    await h.store.updateTicket(id, { status: "Closed" }, { actor: "alice" });
    const res = await h.rawApp.request(
      `/api/v1/requests/${token}/replies`,
      jsonRequest({ body: "  It happened again  " }),
    );
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("location"), `/api/v1/requests/${token}`);
    const reply = await res.json();
    assert.equal(reply.from, "requester");
    assert.equal(reply.body, "It happened again");
    const ticket = await (await h.app.request(`/api/v1/tickets/${id}`)).json();
    assert.equal(ticket.status, "Open");
    assert.equal(ticket.reopened_count, 1);
    assert.deepEqual(
      ticket.comments.map((
        c: Record<string, unknown>,
      ) => [c.author, c.visibility, c.from_requester]),
      [["john_doe", "public", true]],
    );
    const events = h.published.slice(-2);
    assert.deepEqual(events.map((e) => [e.type, e.actor]), [
      ["comment.added", "requester:john_doe"],
      ["ticket.updated", "requester:john_doe"],
    ]);
  });
});

Deno.test("A requester's reply is validated like any comment, and a refused one writes nothing", async () => {
  await withApp(async (h) => {
    const { token } = await createWithLink(h);
    const before = await snapshot(h);
    const path = `/api/v1/requests/${token}/replies`;
    await assertProblem(
      await h.rawApp.request(path, jsonRequest({ body: "   " })),
      422,
      { fields: ["body"] },
    );
    await assertProblem(
      await h.rawApp.request(path, jsonRequest({ body: "a\u0000b" })),
      422,
      { fields: ["body"] },
    );
    await assertProblem(
      await h.rawApp.request(path, {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        body: "hi",
      }),
      415,
    );
    await assertProblem(
      await h.rawApp.request(path, jsonRequest("{not json")),
      400,
    );
    await assertProblem(
      await h.rawApp.request(
        path,
        jsonRequest({ body: "x" }, { method: "PUT" }),
      ),
      405,
    );
    await assertNothingWritten(h, before);
  });
});

Deno.test("Requester replies are limited per link: the 11th in ten minutes is a 429 with Retry-After and writes nothing", async () => {
  await withApp(async (h) => {
    const { token } = await createWithLink(h);
    const other = await createWithLink(h);
    const path = `/api/v1/requests/${token}/replies`;
    for (let i = 0; i < 10; i++) {
      const res = await h.rawApp.request(path, jsonRequest({ body: `#${i}` }));
      assert.equal(res.status, 201, await res.text());
    }
    const before = await snapshot(h);
    const res = await h.rawApp.request(path, jsonRequest({ body: "again" }));
    const body = await assertProblem(res, 429);
    assert.match(String(body.detail), /^At most 10 replies per 600 s/);
    assert.ok(Number(res.headers.get("retry-after")) >= 1);
    await assertNothingWritten(h, before);
    // Another link has its own allowance.
    const ok = await h.rawApp.request(
      `/api/v1/requests/${other.token}/replies`,
      jsonRequest({ body: "hi" }),
    );
    assert.equal(ok.status, 201);
  });
});

Deno.test("POST /api/v1/tickets/{id}/comments takes visibility: internal when not sent, public when asked, anything else a 422", async () => {
  await withApp(async (h) => {
    const { id } = await createWithLink(h);
    const pub = await h.app.request(
      `/api/v1/tickets/${id}/comments`,
      jsonRequest({ body: "We shipped a fix", visibility: "public" }),
    );
    assert.equal(pub.status, 201);
    assert.equal((await pub.json()).visibility, "public");
    const before = await snapshot(h);
    await assertProblem(
      await h.app.request(
        `/api/v1/tickets/${id}/comments`,
        jsonRequest({ body: "x", visibility: "everyone" }),
      ),
      422,
      {
        errors: [{
          field: "visibility",
          pointer: "#/visibility",
          detail: "must be one of internal, public",
        }],
      },
    );
    await assertNothingWritten(h, before);
    const ticket = await (await h.app.request(`/api/v1/tickets/${id}`)).json();
    assert.ok(ticket.first_response_at);
    assert.deepEqual(
      ticket.comments.map((c: Record<string, unknown>) => c.visibility),
      ["public"],
    );
  });
});

Deno.test("The OpenAPI document lists the requester's routes as needing no key", async () => {
  await withApp(async (h) => {
    const doc = await (await h.rawApp.request("/api/openapi.json")).json();
    assert.deepEqual(doc.paths["/api/v1/requests/{token}"].get.security, []);
    assert.deepEqual(
      doc.paths["/api/v1/requests/{token}/replies"].post.security,
      [],
    );
    assert.ok(doc.paths["/api/v1/tickets"].post.responses["201"]);
  });
});
