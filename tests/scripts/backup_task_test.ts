/** deno task backup: SQLite only, and a copy only its owner can read. */
import assert from "node:assert/strict";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { backupSqlite } from "../../scripts/backup.ts";
import { withTempDir } from "../fixtures.ts";

const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** Runs `deno task backup` under the task's own permissions. */
async function backupTask(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "--config", CONFIG, "backup", ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

async function withDatabase(fn: (dir: string, db: string) => Promise<void>) {
  await withTempDir(async (dir) => {
    const db = `${dir}/t.db`;
    const store = await openSqliteStore({ path: db, writer: "inline" });
    await store.createUser({
      username: "bob",
      passwordHash: "x",
      role: "agent",
    });
    await store.close();
    await fn(dir, db);
  });
}

Deno.test({
  name: "backupSqlite writes a copy readable and writable by its owner only",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withDatabase(async (dir, db) => {
      // A permissive umask, as many servers have: the copy must not inherit it.
      const old = Deno.umask(0o022);
      try {
        await backupSqlite(db, `${dir}/copy.db`);
      } finally {
        Deno.umask(old);
      }
      assert.equal(Deno.statSync(`${dir}/copy.db`).mode! & 0o777, 0o600);
    });
  },
});

Deno.test("backupSqlite leaves no file behind when the copy fails", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/junk.db`,
      "not a database, but long enough to be read as one".repeat(3),
    );
    await assert.rejects(backupSqlite(`${dir}/junk.db`, `${dir}/copy.db`));
    assert.equal(await Deno.stat(`${dir}/copy.db`).catch(() => null), null);
  });
});

Deno.test("deno task backup refuses with exit 2 when DATABASE_URL is set and says to use pg_dump", async () => {
  await withDatabase(async (dir, db) => {
    const r = await backupTask([`${dir}/copy.db`], {
      DB_PATH: db,
      DATABASE_URL: "postgres://desk:secret@127.0.0.1:1/desk",
    });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^DATABASE_URL is set: the data is in PostgreSQL/);
    assert.match(r.stderr, /pg_dump/);
    assert.doesNotMatch(r.stderr, /secret/, "the URL is not echoed");
    assert.equal(r.stdout, "");
    assert.equal(await Deno.stat(`${dir}/copy.db`).catch(() => null), null);
  });
});

Deno.test("deno task backup refuses a bad DATABASE_URL as a configuration error", async () => {
  await withDatabase(async (dir, db) => {
    const r = await backupTask([`${dir}/copy.db`], {
      DB_PATH: db,
      DATABASE_URL: "mysql://desk@db/desk",
    });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^Configuration error: DATABASE_URL must be /);
  });
});
