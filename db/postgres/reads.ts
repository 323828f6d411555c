/** Read queries of the PostgreSQL store, run on any pooled connection. */
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
  rowToComment,
  rowToEvent,
  rowToTicket,
  type Sql,
} from "./connection.ts";
import {
  commentIdsOf,
  rowToSummary,
  toTicketPage,
  withComments,
  withTickets,
} from "../rows.ts";

/** Returns one ticket with its comments, oldest comment first, or null. */
export async function getTicket(
  sql: Sql,
  id: number,
): Promise<TicketWithComments | null> {
  const [row] = await sql`SELECT * FROM tickets WHERE id = ${id}`;
  if (!row) return null;
  const comments = await sql`
    SELECT * FROM comments WHERE ticket_id = ${id} ORDER BY id`;
  return { ...rowToTicket(row), comment_list: comments.map(rowToComment) };
}

/** ts_headline options: about what SQLite's snippet(…, 12) shows, hits marked. */
const HEADLINE =
  `StartSel="${MATCH_START}", StopSel="${MATCH_END}", MaxWords=12, MinWords=4, ShortWord=0`;

/** Lists tickets newest first; keyset on id, so page N costs what page 1 costs. */
export async function listTickets(
  sql: Sql,
  f: ListFilter,
): Promise<TicketPage> {
  const terms = searchTerms(f.q);
  const q = terms.length ? terms : null;
  const none = sql``;
  // The search words travel as one text[] parameter; desk_search_query (migration
  // 002) folds them and builds the tsquery, so user text is never query syntax.
  const rows = await sql`
    SELECT t.*,
      (SELECT count(*) FROM comments c WHERE c.ticket_id = t.id) AS comment_count
      ${
    q
      ? sql`, ts_headline('simple', s.comments, desk_search_query(${q}::text[]), ${HEADLINE}) AS match`
      : none
  }
    FROM tickets t
    ${q ? sql`JOIN ticket_search s ON s.ticket_id = t.id` : none}
    WHERE true
    ${q ? sql`AND s.doc @@ desk_search_query(${q}::text[])` : none}
    ${f.status !== undefined ? sql`AND t.status = ${f.status}` : none}
    ${f.user_id !== undefined ? sql`AND t.user_id = ${f.user_id}` : none}
    ${
    f.product_id !== undefined ? sql`AND t.product_id = ${f.product_id}` : none
  }
    ${f.before_id !== undefined ? sql`AND t.id < ${f.before_id}` : none}
    ORDER BY t.id DESC LIMIT ${f.limit + 1}`;
  return toTicketPage(rows, f.limit);
}

/** Reads the per-status counters the triggers of migration 002 maintain. */
export async function countByStatus(sql: Sql): Promise<StatusCounts> {
  const counts: StatusCounts = { All: 0, Open: 0, Pending: 0, Closed: 0 };
  const rows = await sql`
    SELECT value, n FROM ticket_counts WHERE dimension = 'status'`;
  for (const r of rows) {
    const status = STATUSES.find((s) => s === r.value);
    if (status) counts[status] = Number(r.n);
  }
  counts.All = counts.Open + counts.Pending + counts.Closed;
  return counts;
}

/** Lists products by ticket count, most first, from the maintained counters. */
export async function listProducts(
  sql: Sql,
  limit: number,
): Promise<ProductCount[]> {
  // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
  const rows = await sql`
    SELECT value, n FROM ticket_counts WHERE dimension = 'product' AND n > 0
    ORDER BY n DESC, value COLLATE "C" LIMIT ${limit}`;
  return rows.map((r) => ({
    product_id: String(r.value),
    tickets: Number(r.n),
  }));
}

/** Lists one ticket's events, oldest first (a ticket has tens, not thousands). */
export async function ticketActivity(
  sql: Sql,
  id: number,
): Promise<TicketEvent[]> {
  const rows = await sql`
    SELECT * FROM events WHERE ticket_id = ${id} ORDER BY id LIMIT 1000`;
  return rows.map(rowToEvent);
}

/** Lists events after an id, oldest first, each with its ticket as it is now. */
export async function eventsAfter(
  sql: Sql,
  afterId: number,
  limit: number,
): Promise<TicketEvent[]> {
  const rows = await sql`
    SELECT * FROM events WHERE id > ${afterId} ORDER BY id LIMIT ${limit}`;
  const events = rows.map(rowToEvent);
  if (events.length === 0) return events;
  const ids = [...new Set(events.map((e) => e.ticket_id))];
  const tickets = await sql`
    SELECT t.*,
      (SELECT count(*) FROM comments c WHERE c.ticket_id = t.id) AS comment_count
    FROM tickets t WHERE t.id = ANY(${ids}::bigint[])`;
  withTickets(events, tickets.map(rowToSummary));
  const commentIds = commentIdsOf(events);
  if (commentIds.length === 0) return events;
  const comments = await sql`
    SELECT * FROM comments WHERE id = ANY(${commentIds}::bigint[])`;
  return withComments(events, comments.map(rowToComment));
}

/**
 * A ticket, its public replies and the newest event id, read in one snapshot:
 * events commit in id order (the write lock), so every event up to `after` is
 * in what it shows and none after it.
 */
export async function requestView(
  sql: Sql,
  id: number,
): Promise<RequestView | null> {
  return await sql.begin(
    "isolation level repeatable read read only",
    async (tx) => {
      const [row] = await tx`SELECT * FROM tickets WHERE id = ${id}`;
      if (!row) return null;
      const replies = await tx`
        SELECT * FROM comments WHERE ticket_id = ${id} AND visibility = 'public'
        ORDER BY id`;
      const [e] = await tx`SELECT coalesce(max(id), 0) AS id FROM events`;
      return {
        after: Number(e!.id),
        ticket: rowToTicket(row),
        replies: replies.map(rowToComment),
      };
    },
  ) as RequestView | null;
}

/** Which of `ids` a search for `q` finds. */
export async function searchMatches(
  sql: Sql,
  q: string,
  ids: number[],
): Promise<Set<number>> {
  const terms = searchTerms(q);
  if (terms.length === 0) return new Set(ids);
  const rows = await sql`
    SELECT ticket_id FROM ticket_search
    WHERE ticket_id = ANY(${ids}::bigint[])
      AND doc @@ desk_search_query(${terms}::text[])`;
  return new Set(rows.map((r) => Number(r.ticket_id)));
}

/** The newest event id, 0 when there is none. */
export async function latestEventId(sql: Sql): Promise<number> {
  const [r] = await sql`SELECT coalesce(max(id), 0) AS id FROM events`;
  return Number(r!.id);
}
