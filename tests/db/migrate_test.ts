/** migrate(): ordered, recorded, idempotent, and all-or-nothing per migration. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { migrate, MIGRATIONS } from "../../db/sqlite/migrate.ts";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { withTempDir } from "../fixtures.ts";

const ALL = MIGRATIONS.map((m) => m.name);

/** Runs `fn` with a raw in-memory database, closed afterwards. */
function withDb(fn: (db: DatabaseSync) => void) {
  const db = new DatabaseSync(":memory:");
  try {
    fn(db);
  } finally {
    db.close();
  }
}

function tableNames(db: DatabaseSync): string[] {
  return db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
  ).all().map((r) => String(r.name));
}

Deno.test("MIGRATIONS starts with 001_init and numbers versions in rising order, each name starting with its number", () => {
  // Rising, not gapless: changes made side by side reserve their numbers.
  assert.equal(MIGRATIONS[0]!.name, "001_init");
  MIGRATIONS.forEach((m, i) => {
    if (i > 0) assert.ok(m.version > MIGRATIONS[i - 1]!.version, m.name);
    assert.ok(
      m.name.startsWith(String(m.version).padStart(3, "0") + "_"),
      m.name,
    );
  });
});

Deno.test("migrate applies every migration once, then nothing on a second run", () => {
  withDb((db) => {
    assert.deepEqual(migrate(db), ALL);
    assert.deepEqual(migrate(db), []);
    assert.deepEqual(migrate(db), []);
  });
});

Deno.test("migrate records each migration in schema_migrations with an ISO time", () => {
  withDb((db) => {
    const t0 = new Date().toISOString();
    migrate(db);
    const rows = db.prepare(
      "SELECT version, name, applied_at FROM schema_migrations ORDER BY version",
    ).all();
    assert.deepEqual(
      rows.map((r) => [r.version, r.name]),
      MIGRATIONS.map((m) => [m.version, m.name]),
    );
    for (const r of rows) {
      assert.match(String(r.applied_at), /^\d{4}-\d\d-\d\dT.*Z$/);
      assert.ok(String(r.applied_at) >= t0);
    }
  });
});

Deno.test("migrate 001 creates the tickets, comments, events and idempotency tables", () => {
  withDb((db) => {
    migrate(db, MIGRATIONS.slice(0, 1));
    assert.deepEqual(tableNames(db), [
      "comments",
      "events",
      "idempotency_keys",
      "schema_migrations",
      "sqlite_sequence",
      "tickets",
    ]);
  });
});

Deno.test("migrate applies only the migrations not yet recorded", () => {
  withDb((db) => {
    assert.deepEqual(migrate(db, MIGRATIONS.slice(0, 1)), ["001_init"]);
    assert.deepEqual(migrate(db), ALL.slice(1));
    assert.deepEqual(migrate(db), []);
  });
});

Deno.test("migrate rolls back a failing migration, records nothing for it and says which failed", () => {
  withDb((db) => {
    const bad = [
      ...MIGRATIONS,
      {
        version: 900,
        name: "900_bad",
        sql: "CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;",
      },
    ];
    assert.throws(() => migrate(db, bad), {
      message: /^Migration 900_bad failed: no such table: no_such_table/,
    });
    assert.equal(tableNames(db).includes("half_done"), false);
    assert.equal(
      db.prepare(
        "SELECT count(*) AS n FROM schema_migrations WHERE version = 900",
      )
        .get()!.n,
      0,
    );
    // The good ones before it stayed applied, and the database is usable.
    assert.deepEqual(migrate(db), []);
    assert.equal(db.isTransaction, false);
  });
});

Deno.test("the events table refuses updates: it is append-only", () => {
  withDb((db) => {
    migrate(db);
    db.prepare(
      `INSERT INTO events (type, ticket_id, actor, data, created_at)
       VALUES ('ticket.created', 1, 'api', '{}', '2026-01-01T00:00:00.000Z')`,
    ).run();
    assert.throws(
      () => db.exec("UPDATE events SET actor = 'someone-else'"),
      /events are append-only/,
    );
  });
});

Deno.test("the tickets table refuses a status outside Open, Pending, Closed", () => {
  withDb((db) => {
    migrate(db);
    assert.throws(
      () =>
        db.prepare(
          `INSERT INTO tickets (user_id, pdf_link, status, created_at, updated_at)
           VALUES ('u', 'https://x/', 'Resolved', 't', 't')`,
        ).run(),
      /CHECK constraint failed/,
    );
  });
});

Deno.test("opening a file store twice migrates only the first time", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/t.db`;
    const first = await openSqliteStore({ path });
    try {
      assert.deepEqual(first.migrated, ALL);
    } finally {
      await first.close();
    }
    const second = await openSqliteStore({ path });
    try {
      assert.deepEqual(second.migrated, []);
    } finally {
      await second.close();
    }
    const db = new DatabaseSync(path);
    try {
      assert.deepEqual(
        db.prepare("SELECT name FROM schema_migrations ORDER BY version").all()
          .map((r) => r.name),
        ALL,
      );
    } finally {
      db.close();
    }
  });
});
