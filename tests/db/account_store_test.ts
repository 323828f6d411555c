/** The AccountStore on every backend: users, sessions and API keys. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  migrate as migrateSqlite,
  MIGRATIONS as SQLITE_MIGRATIONS,
} from "../../db/sqlite/migrate.ts";
import {
  migrate as migratePostgres,
  MIGRATIONS as POSTGRES_MIGRATIONS,
} from "../../db/postgres/migrate.ts";
import { openPool } from "../../db/postgres/connection.ts";
import {
  AccountNotFoundError,
  API_SCOPES,
  DuplicateNameError,
  SESSION_IDLE_MS,
  SESSION_MAX_MS,
} from "../../db/store.ts";
import { SqliteStore } from "../../db/sqlite/sqlite_store.ts";
import type { PostgresStore } from "../../db/postgres/postgres_store.ts";
import {
  type AnyStore,
  type Backend,
  type Location,
  TEST_DATABASE_URL,
  testEachBackend,
  withStore,
} from "./backends.ts";

testEachBackend(
  "user names are unique in any letter case, and found in any",
  async (backend) => {
    await withStore(backend, async (store) => {
      assert.equal(await store.countUsers(), 0);
      const alice = await store.createUser({
        username: "Alice",
        passwordHash: "h1",
        role: "admin",
      });
      assert.equal(alice.username, "Alice");
      assert.equal(alice.disabled, false);
      assert.match(alice.created_at, /^\d{4}-\d\d-\d\dT.*Z$/);
      await assert.rejects(
        store.createUser({
          username: "aLICE",
          passwordHash: "h",
          role: "agent",
        }),
        DuplicateNameError,
      );
      await store.createUser({
        username: "bob",
        passwordHash: "h2",
        role: "agent",
      });
      await store.createUser({
        username: "Carol",
        passwordHash: "h3",
        role: "agent",
      });
      const found = await store.findUserForLogin("ALICE");
      assert.deepEqual(found, { user: alice, passwordHash: "h1" });
      assert.equal(await store.findUserForLogin("nobody"), null);
      assert.deepEqual((await store.listUsers()).map((u) => u.username), [
        "Alice",
        "bob",
        "Carol",
      ]);
      assert.equal(await store.countUsers(), 3);
    });
  },
);

testEachBackend(
  "sessions live until a password change or disabling ends them",
  async (backend) => {
    await withStore(backend, async (store) => {
      const u = await store.createUser({
        username: "dan",
        passwordHash: "old",
        role: "agent",
      });
      await store.createSession("s1", u.id);
      const s = await store.getSession("s1");
      assert.equal(s?.user.id, u.id);
      assert.equal(s?.created_at, s?.last_seen_at);
      await new Promise((r) => setTimeout(r, 5));
      await store.touchSession("s1");
      const touched = await store.getSession("s1");
      assert.ok(touched!.last_seen_at > touched!.created_at);

      await store.setPassword("DAN", "new");
      assert.equal(await store.getSession("s1"), null);
      assert.equal((await store.findUserForLogin("dan"))?.passwordHash, "new");

      await store.createSession("s2", u.id);
      const disabled = await store.setUserDisabled("dan", true);
      assert.equal(disabled.disabled, true);
      assert.equal(await store.getSession("s2"), null);
      assert.equal((await store.findUserForLogin("dan"))?.user.disabled, true);
      await store.setUserDisabled("dan", false);
      assert.equal((await store.findUserForLogin("dan"))?.user.disabled, false);

      await store.createSession("s3", u.id);
      await store.deleteSession("s3");
      assert.equal(await store.getSession("s3"), null);
      await assert.rejects(
        store.setPassword("nobody", "x"),
        AccountNotFoundError,
      );
    });
  },
);

testEachBackend(
  "API keys: unique names, found by hash, revoked once, touched",
  async (backend) => {
    await withStore(backend, async (store) => {
      const k = await store.createApiKey({
        name: "Mobile",
        prefix: "td_abc",
        hash: "hash1",
      });
      assert.deepEqual(
        [k.name, k.prefix, k.last_used_at, k.revoked_at],
        ["Mobile", "td_abc", null, null],
      );
      assert.deepEqual(k.scopes, ["create", "read", "write"], "store default");
      await assert.rejects(
        store.createApiKey({ name: "mobile", prefix: "td_x", hash: "hash2" }),
        DuplicateNameError,
      );
      await store.createApiKey({
        name: "other",
        prefix: "td_y",
        hash: "hash3",
      });
      assert.deepEqual((await store.listApiKeys()).map((x) => x.name), [
        "other",
        "Mobile",
      ]);
      assert.deepEqual(await store.findApiKey("hash1"), k);
      assert.equal(await store.findApiKey("nope"), null);
      await store.touchApiKey(k.id);
      assert.notEqual((await store.findApiKey("hash1"))?.last_used_at, null);
      const revoked = await store.revokeApiKey("MOBILE");
      assert.notEqual(revoked.revoked_at, null);
      const again = await store.revokeApiKey("mobile");
      assert.equal(
        again.revoked_at,
        revoked.revoked_at,
        "the first time stays",
      );
      await assert.rejects(store.revokeApiKey("nope"), AccountNotFoundError);
    });
  },
);

testEachBackend(
  "API keys keep the scopes they are given, in create, read, write order",
  async (backend) => {
    await withStore(backend, async (store) => {
      const made = await store.createApiKey({
        name: "app",
        prefix: "td_a",
        hash: "h-app",
        scopes: ["create"],
      });
      assert.deepEqual(made.scopes, ["create"]);
      await store.createApiKey({
        name: "triage",
        prefix: "td_t",
        hash: "h-triage",
        scopes: ["write", "read", "write"],
      });
      await store.createApiKey({ name: "all", prefix: "td_l", hash: "h-all" });
      assert.deepEqual((await store.findApiKey("h-app"))?.scopes, ["create"]);
      assert.deepEqual((await store.findApiKey("h-triage"))?.scopes, [
        "read",
        "write",
      ]);
      assert.deepEqual(
        Object.fromEntries(
          (await store.listApiKeys()).map((k) => [k.name, k.scopes]),
        ),
        {
          all: ["create", "read", "write"],
          triage: ["read", "write"],
          app: ["create"],
        },
      );
      assert.deepEqual(
        (await store.revokeApiKey("triage")).scopes,
        ["read", "write"],
      );
    });
  },
);

testEachBackend(
  "An API key with no scope is refused and not stored",
  async (backend) => {
    await withStore(backend, async (store) => {
      await assert.rejects(
        store.createApiKey({
          name: "none",
          prefix: "td_n",
          hash: "h-none",
          scopes: [],
        }),
        /at least one scope/,
      );
      assert.deepEqual(await store.listApiKeys(), []);
    });
  },
);

/** The last migration before API keys had scopes, per backend. */
const BEFORE_SCOPES = {
  sqlite: "003_accounts",
  postgres: "004_one_letter_words",
};

/** Migrates `loc` only up to BEFORE_SCOPES and inserts a key the old way. */
async function oldSchemaWithKey(backend: Backend, loc: Location) {
  const insert = `INSERT INTO api_keys (name, prefix, key_hash, created_at)
     VALUES ('legacy-app', 'tdk_old', 'h-old', '2026-01-02T03:04:05.000Z')`;
  if (backend.name === "sqlite") {
    const upTo = SQLITE_MIGRATIONS.findIndex((m) =>
      m.name === BEFORE_SCOPES.sqlite
    );
    const db = new DatabaseSync(loc);
    try {
      migrateSqlite(db, SQLITE_MIGRATIONS.slice(0, upTo + 1));
      assert.equal(
        db.prepare(
          "SELECT 1 FROM pragma_table_info('api_keys') WHERE name = 'scopes'",
        ).get(),
        undefined,
        "the old schema has no scopes column",
      );
      db.exec(insert);
    } finally {
      db.close();
    }
    return;
  }
  const upTo = POSTGRES_MIGRATIONS.findIndex((m) =>
    m.name === BEFORE_SCOPES.postgres
  );
  const sql = openPool(TEST_DATABASE_URL!, { schema: loc, max: 1 });
  try {
    await migratePostgres(sql, POSTGRES_MIGRATIONS.slice(0, upTo + 1));
    const cols = await sql`
      SELECT 1 FROM information_schema.columns
      WHERE table_schema = ${loc} AND table_name = 'api_keys' AND column_name = 'scopes'`;
    assert.equal(cols.length, 0, "the old schema has no scopes column");
    await sql.unsafe(insert);
  } finally {
    await sql.end();
  }
}

/** Moves every session's times back, under the store (the store itself only writes "now"). */
async function backdateSessions(
  store: AnyStore,
  column: "created_at" | "last_seen_at",
  iso: string,
  id: string,
) {
  if (store instanceof SqliteStore) {
    store.db.prepare(`UPDATE sessions SET ${column} = ? WHERE id_hash = ?`)
      .run(iso, id);
  } else {
    const sql = (store as PostgresStore).sql;
    await sql.unsafe(
      `UPDATE sessions SET ${column} = $1 WHERE id_hash = $2`,
      [iso, id],
    );
  }
}

testEachBackend(
  "purgeExpired deletes sessions idle past 12 hours or older than 7 days, and keeps live ones",
  async (backend) => {
    await withStore(backend, async (store) => {
      const u = await store.createUser({
        username: "agent",
        passwordHash: "h",
        role: "agent",
      });
      for (const id of ["fresh", "idle", "old", "almost-idle"]) {
        await store.createSession(id, u.id);
      }
      const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
      await backdateSessions(
        store,
        "last_seen_at",
        ago(SESSION_IDLE_MS + 60_000),
        "idle",
      );
      await backdateSessions(
        store,
        "created_at",
        ago(SESSION_MAX_MS + 60_000),
        "old",
      );
      await backdateSessions(
        store,
        "last_seen_at",
        ago(SESSION_IDLE_MS - 60_000),
        "almost-idle",
      );
      const purged = await store.purgeExpired();
      assert.equal(purged.sessions, 2);
      assert.ok(await store.getSession("fresh"));
      assert.ok(await store.getSession("almost-idle"));
      assert.equal(await store.getSession("idle"), null);
      assert.equal(await store.getSession("old"), null);
      assert.equal((await store.purgeExpired()).sessions, 0);
    });
  },
);

testEachBackend(
  "A key made before scopes existed has every scope after the migration",
  async (backend) => {
    await backend.withLocation(async (loc) => {
      await oldSchemaWithKey(backend, loc);
      const store = await backend.open(loc);
      try {
        const old = await store.findApiKey("h-old");
        assert.equal(old?.name, "legacy-app");
        assert.deepEqual(old?.scopes, [...API_SCOPES]);
        const fresh = await store.createApiKey({
          name: "new-app",
          prefix: "td_n",
          hash: "h-new",
          scopes: ["create"],
        });
        assert.deepEqual(fresh.scopes, ["create"]);
      } finally {
        await store.close();
      }
    });
  },
);
