/** GET /healthz: a real round trip through the database, and 503 when it cannot answer. */
import assert from "node:assert/strict";
import { createMemoryBus } from "../../db/bus.ts";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import {
  assertProblem,
  harnessFor,
  withApp,
  withTempDir,
} from "../fixtures.ts";

Deno.test("GET /healthz returns 200 JSON with status ok and the database settings", async () => {
  await withApp(async ({ app }) => {
    const res = await app.request("/healthz");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("cache-control"), "no-store");
    const body = await res.json();
    const { commits, writes, writes_per_commit, commit_ms_avg, ...db } =
      body.database;
    assert.deepEqual({ ...body, database: db }, {
      status: "ok",
      database: {
        backend: "sqlite",
        journal_mode: "memory",
        synchronous: "FULL",
      },
    });
    // Group-commit figures for operators: the health check itself commits once.
    assert.ok(commits >= 1 && writes >= commits, JSON.stringify(body));
    assert.equal(typeof writes_per_commit, "number");
    assert.ok(commit_ms_avg >= 0);
  });
});

Deno.test("GET /healthz on a file database reports WAL through the writer", async () => {
  await withTempDir(async (dir) => {
    await withApp(async ({ app }) => {
      const res = await app.request("/healthz");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json");
      const body = await res.json();
      const { commits, writes, writes_per_commit, commit_ms_avg, ...db } =
        body.database;
      assert.deepEqual({ ...body, database: db }, {
        status: "ok",
        database: {
          backend: "sqlite",
          journal_mode: "wal",
          synchronous: "FULL",
        },
      });
      // Group-commit figures for operators: the health check itself commits once.
      assert.ok(commits >= 1 && writes >= commits, JSON.stringify(body));
      assert.equal(typeof writes_per_commit, "number");
      assert.ok(commit_ms_avg >= 0);
    }, { path: `${dir}/t.db` });
  });
});

for (const where of [":memory:", "file"] as const) {
  Deno.test(`GET /healthz returns a 503 problem once the ${where} store is closed`, async () => {
    await withTempDir(async (dir) => {
      const bus = createMemoryBus();
      const store = await openSqliteStore({
        path: where === "file" ? `${dir}/t.db` : ":memory:",
        bus,
      });
      const { app } = await harnessFor(store, bus);
      await store.close();
      const res = await app.request("/healthz");
      assert.equal(res.headers.get("retry-after"), "5");
      const body = await assertProblem(res, 503, {
        title: "Database unavailable",
        instance: "/healthz",
      });
      assert.match(
        String(body.detail),
        /^The sqlite database is not answering: /,
      );
    });
  });
}
