/** Ordered, recorded SQL migrations for PostgreSQL, each applied in its own transaction. */
import type { Sql } from "./connection.ts";
import type { Migration } from "../migration.ts";
import m001 from "./migrations/001_init.sql" with { type: "text" };
import m002 from "./migrations/002_search_counts.sql" with { type: "text" };
import m003 from "./migrations/003_accounts.sql" with { type: "text" };
import m004 from "./migrations/004_one_letter_words.sql" with { type: "text" };
import m005 from "./migrations/005_api_key_scopes.sql" with { type: "text" };
import m006 from "./migrations/006_team_triage.sql" with { type: "text" };
import m007 from "./migrations/007_requester_webhooks.sql" with {
  type: "text",
};
import m008 from "./migrations/008_workspace.sql" with { type: "text" };
import m009 from "./migrations/009_reports.sql" with { type: "text" };
import m010 from "./migrations/010_events_data_objects.sql" with {
  type: "text",
};

/** Every migration, in order. Add new files here; never edit an applied one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "001_init", sql: m001 },
  { version: 2, name: "002_search_counts", sql: m002 },
  { version: 3, name: "003_accounts", sql: m003 },
  { version: 4, name: "004_one_letter_words", sql: m004 },
  { version: 5, name: "005_api_key_scopes", sql: m005 },
  { version: 6, name: "006_team_triage", sql: m006 },
  { version: 7, name: "007_requester_webhooks", sql: m007 },
  { version: 8, name: "008_workspace", sql: m008 },
  { version: 9, name: "009_reports", sql: m009 },
  { version: 10, name: "010_events_data_objects", sql: m010 },
];

/**
 * The advisory lock every migration transaction takes first, per schema:
 * two instances starting at once queue on it, and the second finds the
 * migration recorded and skips it. (The two-int form keeps clear of other
 * applications' single-bigint advisory locks.)
 */
const MIGRATION_LOCK = 7_000_001;

/** Applies the migrations not yet recorded; returns the names applied (none on a second run). */
export async function migrate(
  sql: Sql,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<string[]> {
  const done: string[] = [];
  for (const m of migrations) {
    try {
      await sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK}, hashtext(current_schema()))`;
        // Created under the lock: concurrent CREATE TABLE IF NOT EXISTS can
        // still collide in the catalog.
        await tx.unsafe(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version    INTEGER PRIMARY KEY,
          name       TEXT NOT NULL,
          applied_at TIMESTAMPTZ NOT NULL
        )`);
        const [again] =
          await tx`SELECT 1 FROM schema_migrations WHERE version = ${m.version}`;
        if (again) return;
        await tx.unsafe(m.sql); // no parameters: several statements in one go
        await tx`INSERT INTO schema_migrations (version, name, applied_at)
                 VALUES (${m.version}, ${m.name}, ${new Date()})`;
        done.push(m.name);
      });
    } catch (err) {
      throw new Error(`Migration ${m.name} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  return done;
}
