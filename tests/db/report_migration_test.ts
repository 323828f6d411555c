/**
 * The reports' migration (SQLite 008, PostgreSQL 009) backfills from the
 * events exactly what the triggers keep from then on: a history written by
 * the store, copied into a database one migration short and then migrated,
 * holds the same facts and counters row for row.
 */
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
import type { SqliteStore } from "../../db/sqlite/sqlite_store.ts";
import type { AnyStore } from "./backends.ts";
import {
  adminQuery,
  BACKENDS,
  createTestSchema,
  dropTestSchema,
  TEST_DATABASE_URL,
  testPostgres,
} from "./backends.ts";
import { withClock } from "../fake_clock.ts";

/** A history with every kind of fact: replies, a close, a reopen by the requester, a second close, a move to another owner. */
async function history(store: AnyStore, set: (iso: string) => void) {
  await store.createUser({
    username: "maria",
    passwordHash: "x",
    role: "agent",
  });
  const input = (product_id: string | null) => ({
    user_id: "u",
    pdf_link: "https://example.com/a.pdf",
    product_id,
    other_ids: null,
  });
  set("2026-05-01T08:00:00.250Z");
  const a =
    (await store.createTicket(input("PROD-1"), { actor: "app" })).ticket;
  const b = (await store.createTicket(input(null), { actor: "app" })).ticket;
  const c =
    (await store.createTicket(input("PROD-2"), { actor: "app" })).ticket;
  set("2026-05-01T09:30:00.999Z");
  await store.addComment(a.id, "Hello", {
    actor: "maria",
    visibility: "public",
  });
  await store.updateTicket(a.id, { status: "Closed" }, { actor: "maria" });
  set("2026-05-02T10:00:00Z");
  await store.addRequesterReply(a.id, "Not yet", { tokenVersion: 1 });
  set("2026-05-03T11:00:00.500Z");
  await store.updateTicket(a.id, { status: "Closed", assignee: "maria" }, {
    actor: "maria",
  });
  await store.updateTicket(b.id, { status: "Pending", priority: "Urgent" }, {
    actor: "maria",
  });
  await store.updateTicket(c.id, { status: "Closed" }, { actor: "maria" });
  await store.updateTicket(c.id, { status: "Open" }, { actor: "maria" });
}

const FACTS =
  "SELECT kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds FROM report_facts ORDER BY ticket_id, kind, nth";
const GROUPS =
  "SELECT assignee, product_id, priority, unsolved, waiting FROM report_groups WHERE unsolved <> 0 OR waiting <> 0 ORDER BY 1, 2, 3";

Deno.test("Migration 008 backfills from the events the facts and counters the triggers keep [sqlite]", async () => {
  const sqlite = BACKENDS.find((b) => b.name === "sqlite")!;
  const store = await sqlite.open(null) as SqliteStore;
  try {
    await withClock(
      "2026-05-01T00:00:00Z",
      (clock) => history(store, clock.set),
    );
    const rows = (db: DatabaseSync, sql: string) =>
      db.prepare(sql).all().map((r) => ({ ...r }));
    const old = new DatabaseSync(":memory:");
    try {
      migrateSqlite(old, SQLITE_MIGRATIONS.filter((m) => m.version < 8));
      for (const table of ["users", "tickets", "comments", "events"]) {
        const all = rows(store.db, `SELECT * FROM ${table} ORDER BY id`);
        for (const r of all) {
          const cols = Object.keys(r);
          old.prepare(
            `INSERT INTO ${table} (${cols.join(", ")}) VALUES (${
              cols.map(() => "?").join(", ")
            })`,
          ).run(...(Object.values(r) as (string | number | null)[]));
        }
      }
      assert.deepEqual(
        migrateSqlite(old),
        SQLITE_MIGRATIONS.filter((m) => m.version >= 8).map((m) => m.name),
      );
      const kept = rows(store.db, FACTS);
      assert.ok(kept.length >= 9, "every kind of fact is there");
      assert.deepEqual(rows(old, FACTS), kept);
      assert.deepEqual(rows(old, GROUPS), rows(store.db, GROUPS));
    } finally {
      old.close();
    }
  } finally {
    await store.close();
  }
});

testPostgres(
  "Migration 009 backfills from the events the facts and counters the triggers keep",
  async () => {
    const postgres = BACKENDS.find((b) => b.name === "postgres")!;
    const [kept, fresh] = [await createTestSchema(), await createTestSchema()];
    try {
      const store = await postgres.open(kept);
      try {
        await withClock(
          "2026-05-01T00:00:00Z",
          (clock) => history(store, clock.set),
        );
      } finally {
        await store.close();
      }
      const sql = openPool(TEST_DATABASE_URL!, { max: 1, schema: fresh });
      try {
        await migratePostgres(
          sql,
          POSTGRES_MIGRATIONS.filter((m) => m.version < 9),
        );
        for (const table of ["users", "tickets", "comments", "events"]) {
          await sql.unsafe(
            `INSERT INTO ${fresh}.${table} SELECT * FROM ${kept}.${table}`,
          );
        }
        assert.deepEqual(
          await migratePostgres(sql),
          POSTGRES_MIGRATIONS.filter((m) => m.version >= 9).map((m) => m.name),
        );
      } finally {
        await sql.end({ timeout: 1 });
      }
      const rows = async (schema: string, query: string) =>
        (await adminQuery(query.replace(/FROM (\w+)/, `FROM ${schema}.$1`)))
          .map((r) => ({ ...r }));
      const facts = await rows(kept, FACTS);
      assert.ok(facts.length >= 9, "every kind of fact is there");
      assert.deepEqual(await rows(fresh, FACTS), facts);
      assert.deepEqual(await rows(fresh, GROUPS), await rows(kept, GROUPS));
    } finally {
      await dropTestSchema(kept);
      await dropTestSchema(fresh);
    }
  },
);
