/** Read queries of the PostgreSQL store, run on any pooled connection. */
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
  rowToComment,
  rowToEvent,
  rowToTicket,
  type Sql,
} from "./connection.ts";
import {
  cappedCounts,
  commentIdsOf,
  ownerCount,
  priorityRank,
  rowToSummary,
  toTicketPage,
  withComments,
  withTickets,
} from "../rows.ts";
import { statusCounts } from "../counts.ts";

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

/** Lists tickets in the filter's sort (newest first unless told), keyset-paginated. */
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
    ${f.statuses !== undefined ? sql`AND t.status = ANY(${f.statuses})` : none}
    ${
    f.product_prefix !== undefined
      ? sql`AND lower(t.product_id) LIKE ${likePrefix(f.product_prefix)}`
      : none
  }
    ${f.user_id !== undefined ? sql`AND t.user_id = ${f.user_id}` : none}
    ${
    f.product_id !== undefined ? sql`AND t.product_id = ${f.product_id}` : none
  }
    ${
    f.assignee === null
      ? sql`AND t.assignee IS NULL`
      : f.assignee !== undefined
      ? sql`AND t.assignee = ${f.assignee}`
      : none
  }
    ${
    f.priority !== undefined
      ? sql`AND t.priority = ${priorityRank(f.priority)}`
      : none
  }
    ${after(sql, f)}
    ORDER BY ${order(sql, f)} LIMIT ${f.limit + 1}`;
  return toTicketPage(rows, f.limit);
}

/**
 * Where the next page starts, in the filter's sort; with `before`, the same
 * keyset flipped (the nearest earlier ticket first, see order).
 */
function after(sql: Sql, f: ListFilter) {
  const key = f.before ?? f.after;
  if (key === undefined) return sql``;
  const back = f.before !== undefined;
  const lt = sql.unsafe(back ? ">" : "<");
  const gt = sql.unsafe(back ? "<" : ">");
  const sort = f.sort ?? "newest";
  if (sort === "newest") return sql`AND t.id ${lt} ${key.id}`;
  if (sort === "oldest") return sql`AND t.id ${gt} ${key.id}`;
  if (sort === "activity") {
    const at = new Date(key.updated_at ?? 0);
    return sql`AND (t.updated_at ${lt} ${at} OR (t.updated_at = ${at} AND t.id ${lt} ${key.id}))`;
  }
  const p = priorityRank(key.priority);
  return sql`AND (t.priority ${lt} ${p} OR (t.priority = ${p} AND t.id ${gt} ${key.id}))`;
}

function order(sql: Sql, f: ListFilter) {
  const back = f.before !== undefined;
  const desc = sql.unsafe(back ? "ASC" : "DESC");
  const asc = sql.unsafe(back ? "DESC" : "ASC");
  const sort = f.sort ?? "newest";
  if (sort === "newest") return sql`t.id ${desc}`;
  if (sort === "oldest") return sql`t.id ${asc}`;
  if (sort === "activity") return sql`t.updated_at ${desc}, t.id ${desc}`;
  return sql`t.priority ${desc}, t.id ${asc}`;
}

/** Reads the per-status counters the triggers of migration 002 maintain. */
export async function countByStatus(sql: Sql): Promise<StatusCounts> {
  return statusCounts(
    await sql<
      Record<string, unknown>[]
    >`SELECT value, n FROM ticket_counts WHERE dimension = 'status'`,
  );
}

/** A lower-case LIKE pattern for text starting with `prefix` (its own % _ \ taken literally). */
function likePrefix(prefix: string): string {
  return prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`) + "%";
}

/** Counts a narrowed view per status and owner, scanning at most `cap` + 1 tickets. */
export async function countMatching(
  sql: Sql,
  f: Pick<ListFilter, "q" | "product_prefix" | "priority">,
  cap: number,
): Promise<OwnerCounts & { capped: boolean }> {
  const terms = searchTerms(f.q);
  const q = terms.length ? terms : null;
  const none = sql``;
  const rows = await sql`
    SELECT status, assignee, count(*) AS n FROM (
      SELECT t.status, t.assignee FROM tickets t
      ${q ? sql`JOIN ticket_search s ON s.ticket_id = t.id` : none}
      WHERE true
      ${q ? sql`AND s.doc @@ desk_search_query(${q}::text[])` : none}
      ${
    f.product_prefix !== undefined
      ? sql`AND lower(t.product_id) LIKE ${likePrefix(f.product_prefix)}`
      : none
  }
      ${
    f.priority !== undefined
      ? sql`AND t.priority = ${priorityRank(f.priority)}`
      : none
  }
      LIMIT ${cap + 1}
    ) m GROUP BY status, assignee`;
  return cappedCounts(rows, cap);
}

/** Reads the per-(status, owner) counters migration 006 maintains. */
export async function countByOwner(sql: Sql): Promise<OwnerCounts> {
  const rows = await sql`
    SELECT value, n FROM ticket_counts WHERE dimension = 'owner' AND n > 0`;
  return {
    byOwner: rows.flatMap((r) => ownerCount(String(r.value), Number(r.n))),
  };
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
  /** Events this instance committed, whole, asked once the rows are read: their tickets are not read back. */
  known?: (ids: readonly number[]) => Promise<ReadonlyMap<number, TicketEvent>>,
): Promise<TicketEvent[]> {
  const rows = await sql`
    SELECT * FROM events WHERE id > ${afterId} ORDER BY id LIMIT ${limit}`;
  const own = rows.length > 0
    ? await known?.(rows.map((r) => Number(r.id)))
    : undefined;
  const all = rows.map((r) => own?.get(Number(r.id)) ?? rowToEvent(r));
  const events = all.filter((e) => !e.ticket);
  if (events.length === 0) return all;
  const ids = [...new Set(events.map((e) => e.ticket_id))];
  const tickets = await sql`
    SELECT t.*,
      (SELECT count(*) FROM comments c WHERE c.ticket_id = t.id) AS comment_count
    FROM tickets t WHERE t.id = ANY(${ids}::bigint[])`;
  withTickets(events, tickets.map(rowToSummary));
  const commentIds = commentIdsOf(events);
  if (commentIds.length === 0) return all;
  const comments = await sql`
    SELECT * FROM comments WHERE id = ANY(${commentIds}::bigint[])`;
  withComments(events, comments.map(rowToComment));
  return all;
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
