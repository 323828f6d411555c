/** Read queries, run on the main thread's own connection (WAL lets them run beside the writer). */
import type { Statements } from "./connection.ts";
import { statusCounts } from "../counts.ts";
import {
  type ListFilter,
  MATCH_END,
  MATCH_START,
  type OwnerCounts,
  type ProductCount,
  type RequestView,
  searchTerms,
  type StatusCounts,
  type TicketEvent,
  type TicketPage,
  type TicketWithComments,
} from "../store.ts";
import {
  cappedCounts,
  commentIdsOf,
  ownerCount,
  priorityRank,
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

/** Prefix words a search expands to the index's own terms, at most this many terms each. */
const MAX_EXPANSION = 16;
/** Connections with the vocabulary table (a temp object: one per connection). */
const withVocabulary = new WeakSet<object>();
/** Recent expansions per connection, valid while nothing was committed since. */
const expansions = new WeakMap<
  object,
  { version: string; byQuery: Map<string, string | null> }
>();

/**
 * The MATCH expression for a search, as ftsQuery builds it but with each
 * plain prefix word (ASCII letters and digits: one token, so unicode61 only
 * lowers its case) replaced by the index terms it starts, OR-ed:
 * `"battery"*` becomes `("battery")`. Why: FTS5 answers a prefix word by
 * merging the whole doclist of every term it starts before it returns a
 * single row (20 ms for a word in a fifth of a million tickets), while an OR
 * of exact terms is read newest-first and stops at the page's LIMIT. Listing
 * the terms (fts5vocab) reads their doclists once, about half of that merge;
 * a word that starts more than MAX_EXPANSION terms keeps its prefix form.
 * Same transaction snapshot as the query that uses it, or a fresh one: the
 * result is cached only while no connection has committed since.
 */
export function searchMatch(
  stmts: Statements,
  q: string | undefined,
): string | null {
  const terms = searchTerms(q);
  if (terms.length === 0) return null;
  const db = stmts.db;
  if (!withVocabulary.has(db)) {
    db.exec(
      "CREATE VIRTUAL TABLE IF NOT EXISTS temp.tickets_fts_terms USING fts5vocab(main, tickets_fts, 'row')",
    );
    withVocabulary.add(db);
  }
  // data_version moves with other connections' commits, total_changes() with this one's.
  const v = stmts.get(
    "SELECT total_changes() AS mine, (SELECT data_version FROM pragma_data_version) AS theirs",
  ).get()!;
  const version = `${v.theirs}:${v.mine}`;
  let cache = expansions.get(db);
  if (!cache || cache.version !== version) {
    cache = { version, byQuery: new Map() };
    expansions.set(db, cache);
  }
  const key = terms.join(" ");
  if (cache.byQuery.has(key)) return cache.byQuery.get(key)!;
  const vocab = stmts.get(
    `SELECT term FROM temp.tickets_fts_terms WHERE term >= ? AND term < ?
     LIMIT ${MAX_EXPANSION + 1}`,
  );
  const match = terms.map((t) => {
    const word = ftsQuery(t)!;
    if (!/^[A-Za-z0-9]{2,}$/.test(t)) return word;
    const prefix = t.toLowerCase();
    const end = prefix.slice(0, -1) +
      String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    const found = vocab.all(prefix, end).map((r) => String(r.term));
    if (found.length === 0 || found.length > MAX_EXPANSION) return word;
    return `(${found.map((f) => `"${f.replaceAll('"', '""')}"`).join(" OR ")})`;
  }).join(" AND ");
  if (cache.byQuery.size >= 64) cache.byQuery.clear();
  cache.byQuery.set(key, match);
  return match;
}

/** The comment rows of ticket `t` (rowToSummary adds one for legacy comments text). */
const COMMENT_COUNT =
  `(SELECT count(*) FROM comments c WHERE c.ticket_id = t.id) AS comment_count`;

/**
 * Lists tickets in the filter's sort (newest first unless told), keyset-
 * paginated, so page N costs what page 1 costs. Only fixed fragments go into
 * the SQL (never user text): a few dozen distinct statements get cached.
 */
export function listTickets(stmts: Statements, f: ListFilter): TicketPage {
  const where: string[] = [];
  const args: (string | number)[] = [];
  const match = searchMatch(stmts, f.q);
  if (match !== null) {
    where.push("tickets_fts MATCH ?"), args.push(match);
  }
  if (f.status !== undefined) {
    where.push("t.status = ?"), args.push(f.status);
  }
  if (f.statuses !== undefined) {
    where.push(`t.status IN (${f.statuses.map(() => "?").join(", ")})`);
    args.push(...f.statuses);
  }
  if (f.product_prefix !== undefined) {
    // LIKE ignores ASCII letter case; the NOCASE index of migration 007 serves it.
    where.push("t.product_id LIKE ? ESCAPE '\\'");
    args.push(likePrefix(f.product_prefix));
  }
  if (f.user_id !== undefined) {
    where.push("t.user_id = ?"), args.push(f.user_id);
  }
  if (f.product_id !== undefined) {
    // The NOCASE index (the only one on product_id, migration 009) finds
    // the spellings; the exact comparison keeps this one.
    where.push("t.product_id COLLATE NOCASE = ? AND t.product_id = ?");
    args.push(f.product_id, f.product_id);
  }
  if (f.assignee === null) where.push("t.assignee IS NULL");
  else if (f.assignee !== undefined) {
    where.push("t.assignee = ?"), args.push(f.assignee);
  }
  if (f.priority !== undefined) {
    where.push("t.priority = ?"), args.push(priorityRank(f.priority));
  }
  // With a search, the FTS index drives the scan in rowid (= ticket id) order.
  const id = match === null ? "t.id" : "tickets_fts.rowid";
  const sort = f.sort ?? "newest";
  // Backwards (`before`) is the same keyset with every comparison and
  // direction flipped: the nearest earlier ticket comes first.
  const back = f.before !== undefined;
  const key = f.before ?? f.after;
  const [lt, gt, desc, asc] = back
    ? [">", "<", "ASC", "DESC"]
    : ["<", ">", "DESC", "ASC"];
  if (key !== undefined) {
    if (sort === "newest") where.push(`${id} ${lt} ?`), args.push(key.id);
    else if (sort === "oldest") where.push(`${id} ${gt} ?`), args.push(key.id);
    else if (sort === "activity") {
      const at = key.updated_at ?? "";
      where.push(
        `(t.updated_at ${lt} ? OR (t.updated_at = ? AND ${id} ${lt} ?))`,
      );
      args.push(at, at, key.id);
    } else {
      const p = priorityRank(key.priority);
      where.push(`(t.priority ${lt} ? OR (t.priority = ? AND ${id} ${gt} ?))`);
      args.push(p, p, key.id);
    }
  }
  const order = sort === "newest"
    ? `${id} ${desc}`
    : sort === "oldest"
    ? `${id} ${asc}`
    : sort === "activity"
    ? `t.updated_at ${desc}, ${id} ${desc}`
    : `t.priority ${desc}, ${id} ${asc}`;
  const from = match === null
    ? "tickets t"
    : "tickets_fts JOIN tickets t ON t.id = tickets_fts.rowid";
  const snippet = match === null
    ? ""
    : `, snippet(tickets_fts, 4, '${MATCH_START}', '${MATCH_END}', '…', 12) AS match`;
  const sql = `SELECT t.*, ${COMMENT_COUNT}${snippet} FROM ${from}${
    where.length ? " WHERE " + where.join(" AND ") : ""
  } ORDER BY ${order} LIMIT ?`;
  const rows = stmts.get(sql).all(...args, f.limit + 1);
  return toTicketPage(rows, f.limit);
}

/** Reads the per-status counters the triggers of migration 002 maintain. */
export function countByStatus(stmts: Statements): StatusCounts {
  return statusCounts(
    stmts.get(
      "SELECT value, n FROM ticket_counts WHERE dimension = 'status'",
    ).all(),
  );
}

/** A LIKE pattern for text starting with `prefix` (its own % and _ taken literally). */
function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + "%";
}

/** Counts a narrowed view per status and owner, scanning at most `cap` + 1 tickets. */
export function countMatching(
  stmts: Statements,
  f: Pick<ListFilter, "q" | "product_prefix" | "priority">,
  cap: number,
): OwnerCounts & { capped: boolean } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  const match = searchMatch(stmts, f.q);
  if (match !== null) where.push("tickets_fts MATCH ?"), args.push(match);
  if (f.product_prefix !== undefined) {
    where.push("t.product_id LIKE ? ESCAPE '\\'");
    args.push(likePrefix(f.product_prefix));
  }
  if (f.priority !== undefined) {
    where.push("t.priority = ?"), args.push(priorityRank(f.priority));
  }
  const from = match === null
    ? "tickets t"
    : "tickets_fts JOIN tickets t ON t.id = tickets_fts.rowid";
  const rows = stmts.get(
    `SELECT status, assignee, count(*) AS n FROM (
       SELECT t.status, t.assignee FROM ${from}
       ${where.length ? "WHERE " + where.join(" AND ") : ""} LIMIT ?
     ) GROUP BY status, assignee`,
  ).all(...args, cap + 1);
  return cappedCounts(rows, cap);
}

/** Reads the per-(status, owner) counters migration 005 maintains. */
export function countByOwner(stmts: Statements): OwnerCounts {
  const rows = stmts.get(
    "SELECT value, n FROM ticket_counts WHERE dimension = 'owner' AND n > 0",
  ).all();
  return {
    byOwner: rows.flatMap((r) => ownerCount(String(r.value), Number(r.n))),
  };
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
  const match = searchMatch(stmts, q);
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
