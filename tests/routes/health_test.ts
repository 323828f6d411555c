/**
 * GET /healthz: a real round trip through the database, and 503 when it cannot
 * answer. Anonymous callers get only "ok" or a generic 503; the database
 * details go to a logged-in admin or an API key with `read`.
 */
import assert from "node:assert/strict";
import { createMemoryBus } from "../../db/bus.ts";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import type { ApiScope } from "../../db/store.ts";
import { newApiKey } from "../../lib/tokens.ts";
import {
  addUser,
  type App,
  assertProblem,
  bearer,
  type DeskApp,
  harnessFor,
  type Json,
  jsonRequest,
  logIn,
  sampleTicket,
  withApp,
  withConfiguredApp,
  withTempDir,
} from "../fixtures.ts";
import type { SqliteStore } from "../../db/sqlite/sqlite_store.ts";

async function keyWith(
  store: SqliteStore,
  name: string,
  scopes: ApiScope[],
): Promise<string> {
  const { key, prefix, hash } = newApiKey();
  await store.createApiKey({ name, prefix, hash, scopes });
  return key;
}

/** GETs /healthz and checks what every answer carries: JSON and no-store. */
async function healthz(
  app: App | DeskApp,
  headers: Record<string, string> = {},
): Promise<Json> {
  const res = await app.request("/healthz", { headers });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.headers.get("cache-control"), "no-store");
  return await res.json();
}

/** Asserts the detailed answer: status ok and today's database figures. */
function assertDetails(body: Json, journal: string) {
  const {
    commits,
    writes,
    writes_per_commit,
    commit_ms_avg,
    writer_ms_avg,
    writer_us_per_write,
    ...db
  } = body.database as Json;
  assert.deepEqual({ ...body, database: db }, {
    status: "ok",
    database: { backend: "sqlite", journal_mode: journal, synchronous: "FULL" },
  });
  // Group-commit figures for operators: the health check itself commits once.
  assert.ok(
    Number(commits) >= 1 && Number(writes) >= Number(commits),
    JSON.stringify(body),
  );
  assert.equal(typeof writes_per_commit, "number");
  assert.equal(typeof commit_ms_avg, "number");
  assert.equal(typeof writer_ms_avg, "number");
  assert.equal(typeof writer_us_per_write, "number");
}

Deno.test("GET /healthz without credentials returns 200 {status: ok} and nothing more", async () => {
  await withApp(async ({ rawApp }) => {
    assert.deepEqual(await healthz(rawApp), { status: "ok" });
  });
});

Deno.test("GET /healthz with a key that has read returns the database settings", async () => {
  await withApp(async ({ app }) => {
    assertDetails(await healthz(app), "memory");
  });
});

Deno.test("GET /healthz on a file database reports WAL through the writer", async () => {
  await withTempDir(async (dir) => {
    await withApp(async ({ app }) => {
      assertDetails(await healthz(app), "wal");
    }, { path: `${dir}/t.db` });
  });
});

Deno.test("GET /healthz counts every write and commit: N creates one after another are N commits more, each taking time", async () => {
  await withTempDir(async (dir) => {
    await withApp(async ({ app }) => {
      // The first request also records the key's last use; let that pass first.
      const first = await app.request(
        "/create_ticket",
        jsonRequest(sampleTicket()),
      );
      assert.equal(first.status, 201, await first.text());
      const before = (await healthz(app)).database as Json;
      const N = 5;
      for (let i = 0; i < N; i++) {
        const res = await app.request(
          "/create_ticket",
          jsonRequest(sampleTicket({ user_id: `u${i}` })),
        );
        assert.equal(res.status, 201, await res.text());
      }
      const after = (await healthz(app)).database as Json;
      // The N creates, and the write the first /healthz made to check the writer.
      const writes = Number(after.writes) - Number(before.writes);
      const commits = Number(after.commits) - Number(before.commits);
      assert.deepEqual({ writes, commits }, { writes: N + 1, commits: N + 1 });
      assert.equal(
        after.writes_per_commit,
        Math.round(Number(after.writes) / Number(after.commits) * 10) / 10,
      );
      // A commit through the writer worker (a message each way and an fsync) takes time.
      assert.ok(Number(after.commit_ms_avg) > 0, JSON.stringify(after));
      // The writer's own time is part of that round trip.
      assert.ok(
        Number(after.writer_ms_avg) > 0 &&
          Number(after.writer_ms_avg) <= Number(after.commit_ms_avg),
        JSON.stringify(after),
      );
      assert.ok(Number(after.writer_us_per_write) > 0, JSON.stringify(after));
    }, { path: `${dir}/t.db` });
  });
});

Deno.test("GET /healthz shows the details to a read or write key, not to a create-only one", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    for (const scopes of [["read"], ["write"], ["create", "read"]]) {
      const key = await keyWith(store, scopes.join("-"), scopes as ApiScope[]);
      assertDetails(await healthz(app, bearer(key)), "memory");
    }
    const creator = await keyWith(store, "ios-app", ["create"]);
    assert.deepEqual(await healthz(app, bearer(creator)), { status: "ok" });
  });
});

Deno.test("GET /healthz with an unknown, revoked or malformed key answers as to anyone, not 401", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    const revoked = await keyWith(store, "old", ["read"]);
    await store.revokeApiKey("old");
    for (
      const authorization of [
        `Bearer ${revoked}`,
        "Bearer tdk_not-a-key-at-all-not-a-key-at-all",
        "Basic YWRtaW46YWRtaW4=",
        "Bearer",
      ]
    ) {
      assert.deepEqual(
        await healthz(app, { Authorization: authorization }),
        { status: "ok" },
        authorization,
      );
    }
  });
});

Deno.test("GET /healthz shows the details to a logged-in admin, not to an agent", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "root", { role: "admin" });
    await addUser(store, "maria", { role: "agent" });
    const admin = await logIn(app, "root");
    assertDetails(await healthz(app, { Cookie: admin }), "memory");
    const agent = await logIn(app, "maria");
    assert.deepEqual(await healthz(app, { Cookie: agent }), { status: "ok" });
    assert.deepEqual(
      await healthz(app, { Cookie: "desk_session=forged" }),
      { status: "ok" },
    );
  });
});

for (const where of [":memory:", "file"] as const) {
  Deno.test(`GET /healthz returns a generic 503 problem once the ${where} store is closed`, async () => {
    await withTempDir(async (dir) => {
      const bus = createMemoryBus();
      const store = await openSqliteStore({
        path: where === "file" ? `${dir}/t.db` : ":memory:",
        bus,
      });
      const h = await harnessFor(store, bus);
      await store.close();
      // Without credentials, and with a key that can no longer be checked.
      for (const app of [h.rawApp, h.app]) {
        const res = await app.request("/healthz");
        assert.equal(res.headers.get("retry-after"), "5");
        assert.equal(res.headers.get("cache-control"), "no-store");
        const body = await assertProblem(res, 503, {
          type: "about:blank",
          title: "Service unavailable",
          detail: "The service cannot reach its database. Retry later.",
          instance: "/healthz",
        });
        assert.deepEqual(
          Object.keys(body).sort(),
          [
            "detail",
            "instance",
            "message",
            "request_id",
            "status",
            "success",
            "title",
            "type",
          ],
        );
      }
    });
  });
}

/** Makes the store's health check fail with `error`, as a full or broken disk would. */
function breakHealth(store: SqliteStore, error: string) {
  store.health = () =>
    Promise.resolve({
      ok: false,
      backend: "sqlite",
      detail: { journal_mode: "wal", error },
    });
}

Deno.test("A failing GET /healthz tells anonymous callers nothing of the error, a read key all of it", async () => {
  await withApp(async ({ app, rawApp, store }) => {
    breakHealth(store, "disk I/O error at /srv/desk/data/tickets.db");
    const anonymous = await rawApp.request("/healthz");
    const text = await anonymous.clone().text();
    assert.doesNotMatch(text, /disk I\/O|\/srv|sqlite|tickets\.db/);
    await assertProblem(anonymous, 503, {
      detail: "The service cannot reach its database. Retry later.",
    });
    const detailed = await app.request("/healthz");
    assert.equal(detailed.headers.get("retry-after"), "5");
    assert.equal(detailed.headers.get("cache-control"), "no-store");
    await assertProblem(detailed, 503, {
      title: "Database unavailable",
      detail:
        "The sqlite database is not answering: disk I/O error at /srv/desk/data/tickets.db",
    });
  });
});

Deno.test("A failing GET /healthz shows its error to an admin but not to a create-only key", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "root", { role: "admin" });
    const cookie = await logIn(app, "root");
    const creator = await keyWith(store, "ios-app", ["create"]);
    breakHealth(store, "database or disk is full");
    await assertProblem(
      await app.request("/healthz", { headers: { Cookie: cookie } }),
      503,
      {
        detail:
          "The sqlite database is not answering: database or disk is full",
      },
    );
    await assertProblem(
      await app.request("/healthz", { headers: bearer(creator) }),
      503,
      { detail: "The service cannot reach its database. Retry later." },
    );
  });
});
