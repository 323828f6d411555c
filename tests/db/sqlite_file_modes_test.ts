/** The SQLite files hold password hashes and tickets: readable by their owner only. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { withTempDir } from "../fixtures.ts";

function modeOf(path: string): number {
  return Deno.statSync(path).mode! & 0o777;
}

/** Runs `fn` under a permissive umask (0022, common on servers), restoring the old one. */
async function withUmask022(fn: () => Promise<void>): Promise<void> {
  const old = Deno.umask(0o022);
  try {
    await fn();
  } finally {
    Deno.umask(old);
  }
}

const unix = Deno.build.os !== "windows";

Deno.test({
  name:
    "A new database, its WAL and SHM files are 0600 and the directory made for them 0700",
  ignore: !unix,
  fn: async () => {
    await withTempDir(async (dir) => {
      await withUmask022(async () => {
        const path = join(dir, "data", "tickets.db");
        const store = await openSqliteStore({ path });
        try {
          await store.createUser({
            username: "bob",
            passwordHash: "x",
            role: "agent",
          });
          assert.equal(modeOf(join(dir, "data")), 0o700);
          for (const file of [path, `${path}-wal`, `${path}-shm`]) {
            assert.equal(modeOf(file), 0o600, file);
          }
        } finally {
          await store.close();
        }
      });
    });
  },
});

Deno.test({
  name:
    "Opening a database made world-readable by an older version makes it and its WAL and SHM 0600",
  ignore: !unix,
  fn: async () => {
    await withTempDir(async (dir) => {
      await withUmask022(async () => {
        const path = join(dir, "tickets.db");
        const old = await openSqliteStore({ path, writer: "inline" });
        // Left open, so the WAL and SHM files stay; all three as before the fix.
        for (const file of [path, `${path}-wal`, `${path}-shm`]) {
          Deno.chmodSync(file, 0o644);
        }
        const store = await openSqliteStore({ path });
        try {
          for (const file of [path, `${path}-wal`, `${path}-shm`]) {
            assert.equal(modeOf(file), 0o600, file);
          }
        } finally {
          await store.close();
          await old.close();
        }
      });
    });
  },
});

Deno.test({
  name: "A directory the operator made keeps its mode",
  ignore: !unix,
  fn: async () => {
    await withTempDir(async (dir) => {
      const data = join(dir, "shared");
      Deno.mkdirSync(data);
      Deno.chmodSync(data, 0o750);
      const store = await openSqliteStore({ path: join(data, "t.db") });
      await store.close();
      assert.equal(modeOf(data), 0o750);
    });
  },
});
