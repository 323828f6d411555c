/**
 * Imports the tickets of the old Flask app's SQLite database.
 *
 *   deno task import-legacy PATH/tickets.db
 *
 * Into PostgreSQL when DATABASE_URL is set, else into the SQLite database at
 * DB_PATH (default data/tickets.db); safe while the server runs. Keeps ids,
 * statuses, descriptions and the free-text comments column; a ticket whose id
 * is already present is skipped, so running it twice imports nothing twice.
 * Imported tickets are history, not news: they get no events, so live
 * dashboards show them on their next load rather than as new-ticket toasts.
 */
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../db/sqlite/sqlite_store.ts";
import { openPool } from "../db/postgres/connection.ts";
import { migrate } from "../db/postgres/migrate.ts";
import { lockWrites } from "../db/postgres/writes.ts";
import { type Status, STATUSES, type Ticket } from "../db/store.ts";
import { fail, readCliLocation } from "./cli.ts";

/** A legacy ticket, cleaned up for the new schema: the fields the old app had. */
export type LegacyTicket = Pick<
  Ticket,
  | "id"
  | "user_id"
  | "pdf_link"
  | "product_id"
  | "other_ids"
  | "status"
  | "description"
  | "comments"
  | "created_at"
>;

export type ImportTarget =
  | { kind: "sqlite"; path: string }
  | { kind: "postgres"; url: string; schema?: string };

export interface ImportReport {
  read: number;
  imported: number;
  /** Ids already present, left as they are. */
  skipped: number;
}

/** SQLite's CURRENT_TIMESTAMP is UTC "YYYY-MM-DD HH:MM:SS"; the new schema keeps ISO 8601. */
function isoTime(v: unknown): string {
  const s = String(v ?? "").trim();
  const t = Date.parse(
    /^\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d(\.\d+)?)?$/.test(s)
      ? s.replace(" ", "T") + "Z"
      : s,
  );
  return new Date(Number.isNaN(t) ? 0 : t).toISOString();
}

function status(v: unknown): Status {
  const s = String(v ?? "").trim().toLowerCase();
  return STATUSES.find((x) => x.toLowerCase() === s) ?? "Open";
}

/** Reads every ticket of a legacy database, oldest first. */
export function readLegacy(path: string): LegacyTicket[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare("SELECT * FROM tickets ORDER BY id").all().map((r) => ({
      id: Number(r.id),
      user_id: String(r.user_id ?? ""),
      pdf_link: String(r.pdf_link ?? ""),
      product_id: r.product_id == null ? null : String(r.product_id),
      other_ids: r.other_ids == null ? null : String(r.other_ids),
      status: status(r.status),
      description: String(r.description ?? ""),
      comments: String(r.comments ?? ""),
      created_at: isoTime(r.created_at),
    }));
  } finally {
    db.close();
  }
}

/** A Closed ticket without history counts as resolved when it last changed (for reports). */
function resolvedAt(t: LegacyTicket): string | null {
  return t.status === "Closed" ? t.created_at : null;
}

async function intoSqlite(
  path: string,
  tickets: LegacyTicket[],
): Promise<number> {
  await (await openSqliteStore({ path, writer: "inline" })).close(); // migrate
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("BEGIN IMMEDIATE");
    const insert = db.prepare(
      `INSERT OR IGNORE INTO tickets (id, user_id, pdf_link, product_id, other_ids,
         status, description, comments, created_at, updated_at, resolved_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    let imported = 0;
    for (const t of tickets) {
      imported += Number(
        insert.run(
          t.id,
          t.user_id,
          t.pdf_link,
          t.product_id,
          t.other_ids,
          t.status,
          t.description,
          t.comments,
          t.created_at,
          t.created_at,
          resolvedAt(t),
        ).changes,
      );
    }
    db.exec("COMMIT");
    return imported;
  } catch (err) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw err;
  } finally {
    db.close();
  }
}

async function intoPostgres(
  url: string,
  schema: string | undefined,
  tickets: LegacyTicket[],
): Promise<number> {
  const sql = openPool(url, { max: 1, schema });
  try {
    await migrate(sql);
    return await sql.begin(async (tx) => {
      await lockWrites(tx);
      let imported = 0;
      for (let i = 0; i < tickets.length; i += 500) {
        const rows = tickets.slice(i, i + 500).map((t) => ({
          ...t,
          updated_at: t.created_at,
          resolved_at: resolvedAt(t),
        }));
        const done = await tx`
          INSERT INTO tickets ${
          tx(
            rows,
            "id",
            "user_id",
            "pdf_link",
            "product_id",
            "other_ids",
            "status",
            "description",
            "comments",
            "created_at",
            "updated_at",
            "resolved_at",
          )
        } ON CONFLICT (id) DO NOTHING RETURNING id`;
        imported += done.length;
      }
      // Kept ids were not drawn from the sequence: move it past them.
      await tx`
        SELECT setval(pg_get_serial_sequence('tickets', 'id'),
                      greatest((SELECT max(id) FROM tickets), 1))`;
      return imported;
    });
  } finally {
    await sql.end();
  }
}

/** Imports a legacy database into `target`; returns what it did. */
export async function importLegacy(
  source: string,
  target: ImportTarget,
): Promise<ImportReport> {
  const tickets = readLegacy(source);
  const imported = target.kind === "sqlite"
    ? await intoSqlite(target.path, tickets)
    : await intoPostgres(target.url, target.schema, tickets);
  return { read: tickets.length, imported, skipped: tickets.length - imported };
}

if (import.meta.main) {
  const source = Deno.args[0];
  if (!source || Deno.args.length > 1) {
    fail("Usage: deno task import-legacy PATH/tickets.db", 2);
  }
  const { dbPath, databaseUrl } = readCliLocation();
  const target: ImportTarget = databaseUrl
    ? { kind: "postgres", url: databaseUrl }
    : { kind: "sqlite", path: dbPath };
  try {
    await Deno.stat(source);
    const r = await importLegacy(source, target);
    console.log(
      `Read ${r.read} legacy tickets: imported ${r.imported}, skipped ${r.skipped} already present (${
        target.kind === "sqlite" ? target.path : "DATABASE_URL"
      })`,
    );
  } catch (err) {
    fail(`Import failed: ${(err as Error).message}`);
  }
}
