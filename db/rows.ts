/** Mapping database rows to the store's plain types, for every backend. */
import {
  API_SCOPES,
  type ApiKey,
  type ApiScope,
  type Comment,
  type DeliveryAttempt,
  type DueDelivery,
  type FactCounts,
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
  WEBHOOK_EVENTS,
  type WebhookEndpoint,
  type WebhookEventType,
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
    token_version: Number(r.token_version ?? 1),
    first_response_at: r.first_response_at == null
      ? null
      : iso(r.first_response_at),
    resolved_at: r.resolved_at == null ? null : iso(r.resolved_at),
    reopened_count: Number(r.reopened_count ?? 0),
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
    visibility: r.visibility === "public" ? "public" : "internal",
    from_requester: isTrue(r.from_requester),
    created_at: iso(r.created_at),
  };
}

/** SQLite stores booleans as 0/1, PostgreSQL as booleans. */
function isTrue(v: unknown): boolean {
  return v === true || Number(v) === 1;
}

/** Attaches to each comment event the comment it added, when it is among `comments`. */
export function withComments(
  events: TicketEvent[],
  comments: Comment[],
): TicketEvent[] {
  const byId = new Map(comments.map((c) => [c.id, c]));
  for (const e of events) {
    const c = e.type === "comment.added"
      ? byId.get(Number(e.data.comment_id))
      : undefined;
    if (c) e.comment = c;
  }
  return events;
}

/** The comment ids that a page of events names, for withComments. */
export function commentIdsOf(events: TicketEvent[]): number[] {
  return events.filter((e) => e.type === "comment.added")
    .map((e) => Number(e.data.comment_id))
    .filter((id) => Number.isSafeInteger(id));
}

/** Maps a `webhook_endpoints` row (its `pending` count joined) to a WebhookEndpoint. */
export function rowToWebhook(r: Row): WebhookEndpoint {
  const stored = String(r.events ?? "").split(",");
  return {
    id: Number(r.id),
    url: String(r.url),
    events: WEBHOOK_EVENTS.filter((e) => stored.includes(e)),
    created_at: iso(r.created_at),
    disabled_at: r.disabled_at == null ? null : iso(r.disabled_at),
    disabled_reason: r.disabled_reason == null
      ? null
      : String(r.disabled_reason),
    pending: Number(r.pending ?? 0),
  };
}

/** The `events` column of an endpoint: its types in WEBHOOK_EVENTS order. */
export function webhookEventsColumn(
  events: readonly WebhookEventType[],
): string {
  const known = WEBHOOK_EVENTS.filter((e) => events.includes(e));
  if (known.length === 0) {
    throw new Error("A webhook needs at least one event type");
  }
  return known.join(",");
}

/** Maps a `webhook_deliveries` row joined with its endpoint to a DueDelivery. */
export function rowToDue(r: Row, now: Date): DueDelivery {
  const previousValid = r.previous_secret != null &&
    r.previous_secret_until != null &&
    Date.parse(iso(r.previous_secret_until)) > now.getTime();
  return {
    id: Number(r.id),
    endpoint_id: Number(r.endpoint_id),
    url: String(r.url),
    secrets: previousValid
      ? [String(r.secret), String(r.previous_secret)]
      : [String(r.secret)],
    msg_id: String(r.msg_id),
    type: String(r.type) as WebhookEventType,
    ticket_id: Number(r.ticket_id),
    payload: String(r.payload),
    attempt: Number(r.attempts),
  };
}

/** Maps a `webhook_attempts` row joined with its delivery to a DeliveryAttempt. */
export function rowToAttempt(r: Row): DeliveryAttempt {
  return {
    id: Number(r.id),
    delivery_id: Number(r.delivery_id),
    msg_id: String(r.msg_id),
    type: String(r.type) as WebhookEventType,
    ticket_id: Number(r.ticket_id),
    attempted_at: iso(r.attempted_at),
    status_code: r.status_code == null ? null : Number(r.status_code),
    duration_ms: Number(r.duration_ms),
    error: r.error == null ? null : String(r.error),
    outcome: String(r.outcome) as DeliveryAttempt["outcome"],
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

/** A report's counts of facts (created, closed, reopened) from a row of either backend. */
export function rowToFactCounts(r: Row): FactCounts {
  return {
    created: Number(r.created),
    closed: Number(r.closed),
    reopened: Number(r.reopened),
  };
}

/** A `report_groups` row: one owner, product and priority with its counters. */
export function rowToReportGroup(r: Row) {
  return {
    assignee: String(r.assignee),
    product: String(r.product_id),
    unsolved: Number(r.unsolved),
    waiting: Number(r.waiting),
  };
}
