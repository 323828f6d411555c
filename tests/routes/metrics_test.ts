/** GET /metrics: Prometheus' text format, for an admin or a key with read, and nothing written by a scrape. */
import assert from "node:assert/strict";
import { newApiKey } from "../../lib/tokens.ts";
import type { ApiScope } from "../../db/store.ts";
import type { SqliteStore } from "../../db/sqlite/sqlite_store.ts";
import {
  addUser,
  bearer,
  type DeskApp,
  jsonRequest,
  logIn,
  sampleTicket,
  withConfiguredApp,
} from "../fixtures.ts";

async function keyWith(
  store: SqliteStore,
  name: string,
  scopes: ApiScope[],
): Promise<string> {
  const { key, prefix, hash } = newApiKey();
  await store.createApiKey({ name, prefix, hash, scopes });
  return key;
}

/** One scrape as Prometheus does it: 200 and the text format. */
async function scrape(
  app: DeskApp,
  headers: Record<string, string>,
): Promise<string> {
  const res = await app.request("/metrics", { headers });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(
    res.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  assert.equal(res.headers.get("cache-control"), "no-store");
  return await res.text();
}

/** Every sample line: name{labels} value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# ")) continue;
    const m = /^([a-z_:][a-z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN)$/i
      .exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

Deno.test("GET /metrics without credentials is 401 with a Bearer challenge; a create-only key or an agent gets 403", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    const none = await app.request("/metrics");
    assert.equal(none.status, 401);
    assert.equal(
      none.headers.get("www-authenticate"),
      'Bearer realm="metrics"',
    );
    const wrong = await app.request("/metrics", {
      headers: bearer("tdk_not-a-key-at-all-not-a-key-at-all"),
    });
    assert.equal(wrong.status, 401);
    const creator = await keyWith(store, "app", ["create"]);
    const forbidden = await app.request("/metrics", {
      headers: bearer(creator),
    });
    assert.equal(forbidden.status, 403);
    await addUser(store, "maria", { role: "agent" });
    const agent = await logIn(app, "maria");
    const asAgent = await app.request("/metrics", {
      headers: { Cookie: agent },
    });
    assert.equal(asAgent.status, 403);
    await addUser(store, "root", { role: "admin" });
    const admin = await logIn(app, "root");
    await scrape(app, { Cookie: admin });
  });
});

Deno.test("GET /metrics counts requests by route pattern and status, with a latency histogram, and the store's commits", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    const key = await keyWith(store, "all", ["create", "read"]);
    // The key's first use is recorded (a write); let that pass first.
    const first = await app.request(
      "/create_ticket",
      jsonRequest(sampleTicket({ user_id: "first" }), { headers: bearer(key) }),
    );
    assert.equal(first.status, 201);
    const before = samples(await scrape(app, bearer(key)));
    const N = 3;
    for (let i = 0; i < N; i++) {
      const res = await app.request(
        "/create_ticket",
        jsonRequest(sampleTicket({ user_id: `u${i}` }), {
          headers: bearer(key),
        }),
      );
      assert.equal(res.status, 201);
    }
    const bad = await app.request(
      "/create_ticket",
      jsonRequest({ user_id: "" }, { headers: bearer(key) }),
    );
    assert.equal(bad.status, 422);
    for (const id of [1, 2]) {
      const res = await app.request(`/api/v1/tickets/${id}`, {
        headers: bearer(key),
      });
      assert.equal(res.status, 200);
    }
    const after = samples(await scrape(app, bearer(key)));
    const create = 'route="/create_ticket",method="POST"';
    assert.equal(
      after.get(`ticket_desk_http_requests_total{${create},status="201"}`),
      N + 1,
    );
    assert.equal(
      after.get(`ticket_desk_http_requests_total{${create},status="422"}`),
      1,
    );
    // One series for every ticket id: the route's pattern, not the path.
    const one = 'route="/api/v1/tickets/:id",method="GET"';
    assert.equal(
      after.get(`ticket_desk_http_requests_total{${one},status="200"}`),
      2,
    );
    assert.equal(
      after.get(`ticket_desk_http_request_duration_seconds_count{${create}}`),
      N + 2,
    );
    assert.equal(
      after.get(
        `ticket_desk_http_request_duration_seconds_bucket{${create},le="+Inf"}`,
      ),
      N + 2,
    );
    // Buckets are cumulative.
    const buckets = [...after].filter(([k]) =>
      k.startsWith(`ticket_desk_http_request_duration_seconds_bucket{${create}`)
    ).map(([, v]) => v);
    assert.deepEqual(buckets, [...buckets].sort((a, b) => a - b));
    assert.ok(
      after.get(`ticket_desk_http_request_duration_seconds_sum{${create}}`)! >
        0,
    );
    // The creates committed; the scrapes wrote nothing.
    assert.equal(
      after.get("ticket_desk_writes_total")! -
        before.get("ticket_desk_writes_total")!,
      N,
    );
    assert.ok(after.get("ticket_desk_commits_total")! >= 1);
    assert.ok(after.get("ticket_desk_writer_seconds_total")! > 0);
    assert.ok(after.get("process_resident_memory_bytes")! > 1e6);
    assert.ok(after.get("ticket_desk_js_heap_used_bytes")! > 1e5);
    assert.ok(after.get("process_cpu_seconds_total")! > 0);
    assert.equal(after.get("ticket_desk_live_streams"), 0);
    assert.equal(after.get("ticket_desk_live_streams_dropped_total"), 0);
  });
});

Deno.test("GET /metrics shows open live streams and each webhook endpoint's backlog", async () => {
  await withConfiguredApp(
    { webhookAllowPrivate: true },
    async ({ app, store }) => {
      const key = await keyWith(store, "all", ["create", "read"]);
      const hook = await store.createWebhook({
        url: "http://127.0.0.1:9/hook",
        events: ["ticket.created"],
        secret: "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0",
      });
      for (let i = 0; i < 2; i++) {
        const res = await app.request(
          "/create_ticket",
          jsonRequest(sampleTicket({ user_id: `u${i}` }), {
            headers: bearer(key),
          }),
        );
        assert.equal(res.status, 201);
      }
      await addUser(store, "root", { role: "admin" });
      const cookie = await logIn(app, "root");
      const stream = await app.request("/events", {
        headers: { Cookie: cookie },
      });
      assert.equal(stream.status, 200);
      const reader = stream.body!.getReader();
      await reader.read(); // the stream is open: its first frame came
      const m = samples(await scrape(app, bearer(key)));
      assert.equal(m.get("ticket_desk_live_streams"), 1);
      assert.equal(m.get("ticket_desk_live_watches"), 1);
      assert.equal(
        m.get(
          `ticket_desk_webhook_backlog{endpoint="${hook.id}",enabled="true"}`,
        ),
        2,
      );
      await reader.cancel();
    },
  );
});
