/** Ordered, recorded SQL migrations, each applied in its own transaction. */
import type { DatabaseSync } from "node:sqlite";
import type { Migration } from "../migration.ts";
import m001 from "./migrations/001_init.sql" with { type: "text" };
import m002 from "./migrations/002_search_counts.sql" with { type: "text" };
import m003 from "./migrations/003_accounts.sql" with { type: "text" };
import m004 from "./migrations/004_api_key_scopes.sql" with { type: "text" };
import m005 from "./migrations/005_team_triage.sql" with { type: "text" };
import m006 from "./migrations/006_requester_webhooks.sql" with {
  type: "text",
};
import m007 from "./migrations/007_workspace.sql" with { type: "text" };
import m008 from "./migrations/008_reports.sql" with { type: "text" };
import m009 from "./migrations/009_one_product_index.sql" with {
  type: "text",
};

/** Every migration, in order. Add new files here; never edit an applied one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "001_init", sql: m001 },
  { version: 2, name: "002_search_counts", sql: m002 },
  { version: 3, name: "003_accounts", sql: m003 },
  { version: 4, name: "004_api_key_scopes", sql: m004 },
  { version: 5, name: "005_team_triage", sql: m005 },
  { version: 6, name: "006_requester_webhooks", sql: m006 },
  { version: 7, name: "007_workspace", sql: m007 },
  { version: 8, name: "008_reports", sql: m008 },
  { version: 9, name: "009_one_product_index", sql: m009 },
];

/** Applies the migrations not yet recorded; returns the names applied (none on a second run). */
export function migrate(
  db: DatabaseSync,
  migrations: readonly Migration[] = MIGRATIONS,
): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const applied = new Set(
    db.prepare("SELECT version FROM schema_migrations").all().map((r) =>
      Number(r.version)
    ),
  );
  const done: string[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    // IMMEDIATE takes the write lock first, so two processes starting at once
    // cannot both apply the same migration.
    db.exec("BEGIN IMMEDIATE");
    try {
      const again = db.prepare(
        "SELECT 1 FROM schema_migrations WHERE version = ?",
      ).get(m.version);
      if (!again) {
        db.exec(m.sql);
        db.prepare(
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        ).run(m.version, m.name, new Date().toISOString());
        done.push(m.name);
      }
      db.exec("COMMIT");
    } catch (err) {
      db.exec("ROLLBACK");
      throw new Error(`Migration ${m.name} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  return done;
}
