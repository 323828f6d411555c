/** Read queries, run on the main thread's own connection (WAL lets them run beside the writer). */
import type { Statements } from "./connection.ts";
import {
  type ListFilter,
  MATCH_END,
  MATCH_START,
  type ProductCount,
  type RequestView,
  searchTerms,
  type StatusCounts,
  STATUSES,
  type TicketEvent,
  type TicketPage,
  type TicketWithComments,
} from "../store.ts";
import {
  commentIdsOf,
  rowToComment,
  rowToEvent,
  rowToSummary,
  rowToTicket,
  toTicketPage,
  withComments,
  withTickets,
} from "../rows.ts";

/** Returns one ticket with its comments, oldest comment first, or null. */
export function getTicket(
  stmts: Statements,
  id: number,
): TicketWithComments | null {
  const row = stmts.get("SELECT * FROM tickets WHERE id = ?").get(id);
  if (!row) return null;
  const comments = stmts.get(
    "SELECT * FROM comments WHERE ticket_id = ? ORDER BY id",
  ).all(id).map(rowToComment);
  return { ...rowToTicket(row), comment_list: comments };
}

/** The FTS5 query for a search: each word a quoted prefix phrase, all required. */
export function ftsQuery(q: string | undefined): string | null {
  const terms = searchTerms(q);
  // Quoting makes every character literal (no FTS operators from user text);
  // `"prod-12"*` matches the tokens prod, 12… in sequence.
  // A one-letter prefix matches a large part of the index (60+ ms at a million
  // tickets, on every keystroke of search-as-you-type): one letter is a whole word.
  return terms.length
    ? terms.map((t) => [...t].length > 1 ? `"${t}"*` : `"${t}"`).join(" ")
    : null;
}

/** The comment rows of ticket `t` (rowToSummary adds one for legacy comments text). */
const COMMENT_COUNT =
  `(SELECT count(*) FROM comments c WHERE c.ticket_id = t.id) AS comment_count`;

/** Lists tickets newest first; keyset on id, so page N costs what page 1 costs. */
export function listTickets(stmts: Statements, f: ListFilter): TicketPage {
  const where: string[] = [];
  const args: (string | number)[] = [];
  const match = ftsQuery(f.q);
  // Fixed fragments only (never user text in SQL): at most 32 distinct statements get cached.
  if (match !== null) {
    where.push("tickets_fts MATCH ?"), args.push(match);
  }
  if (f.status !== undefined) {
    where.push("t.status = ?"), args.push(f.status);
  }
  if (f.user_id !== undefined) {
    where.push("t.user_id = ?"), args.push(f.user_id);
  }
  if (f.product_id !== undefined) {
    where.push("t.product_id = ?"), args.push(f.product_id);
  }
  // With a search, the FTS index drives the scan in rowid (= ticket id) order.
  const id = match === null ? "t.id" : "tickets_fts.rowid";
  if (f.before_id !== undefined) {
    where.push(`${id} < ?`), args.push(f.before_id);
  }
  const from = match === null
    ? "tickets t"
    : "tickets_fts JOIN tickets t ON t.id = tickets_fts.rowid";
  const snippet = match === null
    ? ""
    : `, snippet(tickets_fts, 4, '${MATCH_START}', '${MATCH_END}', '…', 12) AS match`;
  const sql = `SELECT t.*, ${COMMENT_COUNT}${snippet} FROM ${from}${
    where.length ? " WHERE " + where.join(" AND ") : ""
  } ORDER BY ${id} DESC LIMIT ?`;
  const rows = stmts.get(sql).all(...args, f.limit + 1);
  return toTicketPage(rows, f.limit);
}

/** Reads the per-status counters the triggers of migration 002 maintain. */
export function countByStatus(stmts: Statements): StatusCounts {
  const counts: StatusCounts = { All: 0, Open: 0, Pending: 0, Closed: 0 };
  const rows = stmts.get(
    "SELECT value, n FROM ticket_counts WHERE dimension = 'status'",
  ).all();
  for (const r of rows) {
    const status = STATUSES.find((s) => s === r.value);
    if (status) counts[status] = Number(r.n);
  }
  counts.All = counts.Open + counts.Pending + counts.Closed;
  return counts;
}

/** Lists products by ticket count, most first, from the maintained counters. */
export function listProducts(stmts: Statements, limit: number): ProductCount[] {
  return stmts.get(
    `SELECT value, n FROM ticket_counts WHERE dimension = 'product' AND n > 0
     ORDER BY n DESC, value LIMIT ?`,
  ).all(limit).map((r) => ({
    product_id: String(r.value),
    tickets: Number(r.n),
  }));
}

/** Lists one ticket's events, oldest first (a ticket has tens, not thousands). */
export function ticketActivity(stmts: Statements, id: number): TicketEvent[] {
  return stmts.get(
    "SELECT * FROM events WHERE ticket_id = ? ORDER BY id LIMIT 1000",
  ).all(id).map(rowToEvent);
}

/** Lists events after an id, oldest first, each with its ticket as it is now. */
export function eventsAfter(
  stmts: Statements,
  afterId: number,
  limit: number,
): TicketEvent[] {
  const events = stmts.get(
    "SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?",
  ).all(afterId, limit).map(rowToEvent);
  if (events.length === 0) return events;
  const ids = JSON.stringify([...new Set(events.map((e) => e.ticket_id))]);
  // One statement whatever the number of ids: they travel as one JSON array.
  const tickets = stmts.get(
    `SELECT t.*, ${COMMENT_COUNT} FROM tickets t
     WHERE t.id IN (SELECT value FROM json_each(?))`,
  ).all(ids).map(rowToSummary);
  withTickets(events, tickets);
  const commentIds = commentIdsOf(events);
  if (commentIds.length === 0) return events;
  const comments = stmts.get(
    "SELECT * FROM comments WHERE id IN (SELECT value FROM json_each(?))",
  ).all(JSON.stringify(commentIds)).map(rowToComment);
  return withComments(events, comments);
}

/**
 * A ticket, its public replies and the newest event id, read in one read
 * transaction: every event up to `after` is in what it shows, none after it.
 */
export function requestView(stmts: Statements, id: number): RequestView | null {
  stmts.db.exec("BEGIN");
  try {
    const row = stmts.get("SELECT * FROM tickets WHERE id = ?").get(id);
    if (!row) return null;
    const replies = stmts.get(
      `SELECT * FROM comments WHERE ticket_id = ? AND visibility = 'public'
       ORDER BY id`,
    ).all(id).map(rowToComment);
    return { after: latestEventId(stmts), ticket: rowToTicket(row), replies };
  } finally {
    stmts.db.exec("COMMIT");
  }
}

/** Which of `ids` a search for `q` finds. */
export function searchMatches(
  stmts: Statements,
  q: string,
  ids: number[],
): Set<number> {
  const match = ftsQuery(q);
  if (match === null) return new Set(ids);
  const rows = stmts.get(
    `SELECT rowid AS id FROM tickets_fts
     WHERE tickets_fts MATCH ? AND rowid IN (SELECT value FROM json_each(?))`,
  ).all(match, JSON.stringify(ids));
  return new Set(rows.map((r) => Number(r.id)));
}

/** The newest event id, 0 when there is none. */
export function latestEventId(stmts: Statements): number {
  return Number(
    stmts.get("SELECT coalesce(max(id), 0) AS id FROM events").get()!.id,
  );
}
