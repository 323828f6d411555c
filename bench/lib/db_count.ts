/** Counting what the server really stored, by opening its database file read-only. */
import { DatabaseSync } from "node:sqlite";

/** Number of rows in tickets, read through a read-only connection (WAL allows it beside the server). */
export function countTickets(dbPath: string): number {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const row = db.prepare("SELECT count(*) AS n FROM tickets").get();
    return Number(row?.n ?? 0);
  } finally {
    db.close();
  }
}

/** Counts tickets until the number holds still, so writes still committing are included. */
export async function settledTicketCount(dbPath: string): Promise<number> {
  let last = countTickets(dbPath);
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const n = countTickets(dbPath);
    if (n === last) return n;
    last = n;
  }
  return last;
}

/** The newest event id, as a page that just loaded would resume from. */
export function latestEventId(dbPath: string): number {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const row = db.prepare("SELECT coalesce(max(id), 0) AS id FROM events")
      .get();
    return Number(row?.id ?? 0);
  } finally {
    db.close();
  }
}
