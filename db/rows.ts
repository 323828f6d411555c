/** Mapping database rows to the store's plain types, for every backend. */
import {
  API_SCOPES,
  type ApiKey,
  type ApiScope,
  type Comment,
  MATCH_START,
  type OwnerCounts,
  PRIORITIES,
  type Role,
  type Status,
  STATUSES,
  type Ticket,
  type TicketEvent,
  type TicketListItem,
  type TicketPage,
  type TicketSummary,
  type User,
} from "./store.ts";

type Row = Record<string, unknown>;

/** Timestamps: SQLite stores ISO strings, PostgreSQL hands back Dates; the store's types carry ISO strings. */
export function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

/** Maps a `tickets` row to a Ticket. */
export function rowToTicket(r: Row): Ticket {
  return {
    id: Number(r.id),
    user_id: String(r.user_id),
    pdf_link: String(r.pdf_link),
    product_id: r.product_id == null ? null : String(r.product_id),
    other_ids: r.other_ids == null ? null : String(r.other_ids),
    status: String(r.status) as Status,
    description: String(r.description ?? ""),
    comments: String(r.comments ?? ""),
    assignee: r.assignee == null ? null : String(r.assignee),
    priority: PRIORITIES[Number(r.priority ?? 1)] ?? "Normal",
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    version: Number(r.version),
  };
}

/**
 * Maps a `tickets` row with its `comment_count` (the comment rows, as the
 * queries count them) to a TicketSummary; the legacy comments text counts as one.
 */
export function rowToSummary(r: Row): TicketSummary {
  const t = rowToTicket(r);
  return {
    ...t,
    comment_count: Number(r.comment_count ?? 0) + (t.comments.trim() ? 1 : 0),
  };
}

/** Attaches to each event the summary of its ticket, when that ticket still exists. */
export function withTickets(
  events: TicketEvent[],
  tickets: TicketSummary[],
): TicketEvent[] {
  const byId = new Map(tickets.map((t) => [t.id, t]));
  for (const e of events) {
    const t = byId.get(e.ticket_id);
    if (t) e.ticket = t;
  }
  return events;
}

/** Maps a `comments` row to a Comment. */
export function rowToComment(r: Row): Comment {
  return {
    id: Number(r.id),
    ticket_id: Number(r.ticket_id),
    author: String(r.author),
    body: String(r.body),
    created_at: iso(r.created_at),
  };
}

/** Maps an `events` row to a TicketEvent. */
export function rowToEvent(r: Row): TicketEvent {
  return {
    id: Number(r.id),
    type: String(r.type) as TicketEvent["type"],
    ticket_id: Number(r.ticket_id),
    actor: String(r.actor),
    // SQLite stores the JSON as text; postgres.js parses json columns itself.
    data: typeof r.data === "string"
      ? JSON.parse(r.data)
      : (r.data as Record<string, unknown>) ?? {},
    created_at: iso(r.created_at),
  };
}

/** Maps a `users` row (without its password hash) to a User. */
export function rowToUser(r: Row): User {
  return {
    id: Number(r.id),
    username: String(r.username),
    role: String(r.role) as Role,
    created_at: iso(r.created_at),
    // SQLite stores 0/1, PostgreSQL a boolean.
    disabled: r.disabled === true || Number(r.disabled) === 1,
    board_layout: r.board_layout === "list" ? "list" : "grid",
  };
}

/** Maps an `api_keys` row (without its hash) to an ApiKey. */
export function rowToApiKey(r: Row): ApiKey {
  const stored = String(r.scopes ?? "").split(",");
  return {
    id: Number(r.id),
    name: String(r.name),
    prefix: String(r.prefix),
    scopes: API_SCOPES.filter((s) => stored.includes(s)),
    created_at: iso(r.created_at),
    last_used_at: r.last_used_at == null ? null : iso(r.last_used_at),
    revoked_at: r.revoked_at == null ? null : iso(r.revoked_at),
  };
}

/**
 * The `scopes` column for a new key: every scope when none are given, else the
 * given ones in API_SCOPES order without repeats. An empty list is a caller's
 * bug (a key that can do nothing), refused rather than stored.
 */
export function apiScopesColumn(scopes?: readonly ApiScope[]): string {
  if (scopes === undefined) return API_SCOPES.join(",");
  const known = API_SCOPES.filter((s) => scopes.includes(s));
  if (known.length === 0) {
    throw new Error("An API key needs at least one scope");
  }
  return known.join(",");
}

/** One per-(status, owner) counter row (`Open\u001fmaria`), or none for an unknown status. */
export function ownerCount(
  value: string,
  n: number,
): { status: Status; assignee: string | null; n: number }[] {
  const [status, owner = ""] = value.split("\u001f");
  const known = STATUSES.find((s) => s === status);
  return known ? [{ status: known, assignee: owner || null, n }] : [];
}

/**
 * Per-(status, owner) counts of a narrowed view from `status, assignee, n`
 * rows of at most `cap` + 1 tickets; one over the cap says there are more.
 */
export function cappedCounts(
  rows: Row[],
  cap: number,
): OwnerCounts & { capped: boolean } {
  const byOwner = rows.flatMap((r) =>
    ownerCount(`${r.status}\u001f${r.assignee ?? ""}`, Number(r.n))
  );
  const total = byOwner.reduce((a, c) => a + c.n, 0);
  return { byOwner, capped: total > cap };
}

/** A priority's stored number (0 Low … 3 Urgent). */
export function priorityRank(p: string | undefined): number {
  const i = PRIORITIES.findIndex((x) => x === p);
  return i < 0 ? 1 : i;
}

/**
 * Turns the `limit + 1` rows of a keyset query into a page: the extra row only
 * says there is a next page. `match` is the search excerpt, kept only when it
 * holds a hit (both backends return the text's start when it has none).
 */
export function toTicketPage(rows: Row[], limit: number): TicketPage {
  const items = rows.slice(0, limit).map((r): TicketListItem => {
    const m = r.match == null ? null : String(r.match);
    return {
      ...rowToSummary(r),
      match: m !== null && m.includes(MATCH_START) ? m : null,
    };
  });
  const last = items[items.length - 1];
  return {
    items,
    next: rows.length > limit && last
      ? { id: last.id, priority: last.priority, updated_at: last.updated_at }
      : null,
  };
}
