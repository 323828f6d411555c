/** Looking inside the database file directly, as a second witness beside the API. */
import { DatabaseSync } from "node:sqlite";
import { ticketRuleBreaks } from "./tickets.ts";

type Row = Record<string, unknown>;

/** Opens the file; read-write only while the server is stopped (it may recover the WAL). */
export function openDb(path: string, readOnly: boolean): DatabaseSync {
  const db = new DatabaseSync(path, { readOnly });
  db.exec("PRAGMA busy_timeout = 5000");
  return db;
}

/** Runs `fn` on a connection to `path` and closes it. */
export function withDb<T>(
  path: string,
  readOnly: boolean,
  fn: (db: DatabaseSync) => T,
): T {
  const db = openDb(path, readOnly);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** `PRAGMA integrity_check`: "ok", or the problems it lists. */
export function integrityCheck(db: DatabaseSync): string {
  return db.prepare("PRAGMA integrity_check").all()
    .map((r) => String(Object.values(r)[0])).join("; ");
}

/**
 * Whole-database consistency: every ticket obeys the validation rules and has its
 * ticket.created event, every idempotency row points at a ticket whose stored reply
 * matches it, and every comment is valid. Returns the problems found.
 */
export function consistencyProblems(db: DatabaseSync): string[] {
  const out: string[] = [];
  for (const row of db.prepare("SELECT * FROM tickets").all() as Row[]) {
    const breaks = ticketRuleBreaks(row);
    if (breaks.length) out.push(`ticket ${row.id}: ${breaks.join(", ")}`);
  }
  const noEvent = db.prepare(
    `SELECT id FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM events e
     WHERE e.ticket_id = t.id AND e.type = 'ticket.created')`,
  ).all();
  for (const r of noEvent) {
    out.push(`ticket ${r.id} has no ticket.created event`);
  }
  const created = db.prepare(
    `SELECT ticket_id, count(*) AS n FROM events WHERE type = 'ticket.created'
     GROUP BY ticket_id HAVING n > 1`,
  ).all();
  for (const r of created) {
    out.push(`ticket ${r.ticket_id} has ${r.n} ticket.created events`);
  }
  const orphans = db.prepare(
    `SELECT e.id FROM events e LEFT JOIN tickets t ON t.id = e.ticket_id
     WHERE t.id IS NULL`,
  ).all();
  for (const r of orphans) out.push(`event ${r.id} names no ticket`);
  const keys = db.prepare(
    `SELECT k.scope, k.key, k.ticket_id, k.response, t.id AS tid
     FROM idempotency_keys k LEFT JOIN tickets t ON t.id = k.ticket_id`,
  ).all();
  for (const k of keys) {
    if (k.tid === null) {
      out.push(
        `idempotency key ${k.key} points at missing ticket ${k.ticket_id}`,
      );
      continue;
    }
    const reply = JSON.parse(String(k.response)) as Row;
    if (reply.id !== k.ticket_id) {
      out.push(
        `idempotency key ${k.key} stores a reply for ticket ${reply.id}`,
      );
    }
  }
  const comments = db.prepare(
    `SELECT c.id, c.body, c.author, t.id AS tid FROM comments c
     LEFT JOIN tickets t ON t.id = c.ticket_id`,
  ).all();
  for (const c of comments) {
    const body = String(c.body);
    const author = String(c.author);
    if (c.tid === null) out.push(`comment ${c.id} names no ticket`);
    if (!body.trim() || body.length > 10_000) out.push(`comment ${c.id} body`);
    if (!author.trim() || author.length > 128) {
      out.push(`comment ${c.id} author`);
    }
  }
  return out;
}
