/**
 * The backend-neutral ticket store: the only way routes touch data.
 *
 * Implementations (SQLite today, PostgreSQL next) must commit a change and its
 * event row in one transaction, and only resolve a write once it is durable.
 */

export const STATUSES = ["Open", "Pending", "Closed"] as const;
export type Status = typeof STATUSES[number];

/** Lowest first: stored as 0–3, so "Urgent first" is an index order. */
export const PRIORITIES = ["Low", "Normal", "High", "Urgent"] as const;
export type Priority = typeof PRIORITIES[number];
/** Who sees a comment: `internal` (agents only, the default) or `public` (the requester too). */
export const VISIBILITIES = ["internal", "public"] as const;
export type Visibility = typeof VISIBILITIES[number];

export interface Ticket {
  id: number;
  user_id: string;
  pdf_link: string;
  product_id: string | null;
  other_ids: string | null;
  status: Status;
  description: string;
  /** The seed's single free-text comments column, kept for legacy data. */
  comments: string;
  /** The user who owns the ticket, or null when nobody does. */
  assignee: string | null;
  priority: Priority;
  created_at: string;
  updated_at: string;
  version: number;
  /** Bumped to revoke the requester's link (their token is an HMAC of id and this). */
  token_version: number;
  /** Reports: the first public reply by an agent, the last move to Closed (null once reopened), moves out of Closed. */
  first_response_at: string | null;
  resolved_at: string | null;
  reopened_count: number;
}

export interface Comment {
  id: number;
  ticket_id: number;
  author: string;
  body: string;
  visibility: Visibility;
  /** Written by the requester through their link (`author` is then the ticket's user_id). */
  from_requester: boolean;
  created_at: string;
}

export interface TicketWithComments extends Ticket {
  comment_list: Comment[];
}

export interface NewTicket {
  user_id: string;
  pdf_link: string;
  product_id: string | null;
  other_ids: string | null;
  /** Normal when not given. */
  priority?: Priority;
}

export interface TicketPatch {
  status?: Status;
  description?: string;
  /** A user's name (any letter case; stored as the user spells it), or null to unassign. */
  assignee?: string | null;
  priority?: Priority;
}

/** How a write may change a ticket's owner. */
export interface OwnerGuard {
  /**
   * No silent steal: change the owner only while the ticket has none or
   * already has the one asked for (what the API does without If-Match).
   */
  noSteal?: boolean;
}

export interface TicketEvent {
  id: number;
  type:
    | "ticket.created"
    | "ticket.updated"
    | "comment.added"
    | "requester.revoked";
  ticket_id: number;
  actor: string;
  data: Record<string, unknown>;
  created_at: string;
  /**
   * The ticket as it stands after this event, for live updates: the writer's
   * committed row on the bus, the current row in a replay. Not stored with
   * the event; absent in a ticket's activity list.
   */
  ticket?: TicketSummary;
  /** The comment a `comment.added` event added, attached like `ticket`. */
  comment?: Comment;
}

/** Who made a change and, for idempotent creates, under which key. */
export interface WriteContext {
  actor: string;
}

export interface IdempotencyOptions {
  /** Namespace of the key (route, later the API key), so keys never collide across clients. */
  scope: string;
  key: string;
  /** Fingerprint of the normalized request; a reused key with another fingerprint is refused. */
  fingerprint: string;
}

export interface CreateResult {
  ticket: Ticket;
  /** True when the ticket was created earlier under the same idempotency key. */
  replayed: boolean;
  event: TicketEvent | null;
}

/** What a bulk change did to one ticket. */
export type BulkOutcome =
  | {
    id: number;
    ok: true;
    ticket: TicketSummary;
    /** What changed, field by field (none when the ticket already held the patch). */
    changes: Record<string, { from: unknown; to: unknown }>;
  }
  | { id: number; ok: false; error: StoreError };

export interface WriteResult<T> {
  value: T;
  /** The event the change recorded; null when the write changed nothing. */
  event: TicketEvent | null;
}

/** Newest first (the default), oldest first, latest activity first, or Urgent first and then oldest. */
export const SORTS = ["newest", "oldest", "activity", "priority"] as const;
export type Sort = typeof SORTS[number];

export interface ListFilter {
  status?: Status;
  /** Any of these statuses (a dashboard view: Open and Pending are "unsolved"). */
  statuses?: Status[];
  /** Products starting with this, in any letter case (the dashboard's product filter). */
  product_prefix?: string;
  user_id?: string;
  product_id?: string;
  /** A user's name, or null for tickets nobody owns. */
  assignee?: string | null;
  priority?: Priority;
  sort?: Sort;
  /** Full-text search: every word of `q` must start a word of the ticket (see searchTerms). */
  q?: string;
  /** Where the previous page ended (keyset pagination, in the sort's order). */
  after?: PageKey;
  /**
   * The other way: the tickets that come before this key in the sort, nearest
   * first (a ticket page's "previous ticket"). Not combined with `after`.
   */
  before?: PageKey;
  limit: number;
}

/** A position in a sorted list: the last ticket of a page, with what its sort orders by. */
export interface PageKey {
  id: number;
  priority?: Priority;
  updated_at?: string;
}

/** Marks around a search hit inside `TicketListItem.match` (Unicode private use, never typed). */
export const MATCH_START = "\uE000";
export const MATCH_END = "\uE001";

/** A ticket as lists and live updates show it. */
export interface TicketSummary extends Ticket {
  /** Comments in the thread, the legacy comments text counting as one. */
  comment_count: number;
}

export interface TicketListItem extends TicketSummary {
  /** With `q`: an excerpt of the comments around a hit, hits between MATCH_START and MATCH_END. */
  match: string | null;
}

export interface TicketPage {
  items: TicketListItem[];
  /** Where to continue (`after`) for the next page, or null on the last page. */
  next: PageKey | null;
}

/** Tickets per status and in all, from counters the store maintains (never a table scan). */
export type StatusCounts = Record<Status | "All", number>;

/** Tickets per status and owner (`""` for none), from counters the store maintains. */
export interface OwnerCounts {
  byOwner: { status: Status; assignee: string | null; n: number }[];
}

export interface ProductCount {
  product_id: string;
  tickets: number;
}

export interface StoreHealth {
  ok: boolean;
  backend: string;
  detail: Record<string, string | number>;
}

/** A requester's view of their ticket, read in one snapshot; `after` is the newest event it reflects. */
export interface RequestView {
  after: number;
  ticket: Ticket;
  /** Public comments only, oldest first. */
  replies: Comment[];
}

/** What a requester's reply did: the comment, and the events (the reply, and a reopen when the ticket was Closed). */
export interface RequesterReplyResult extends WriteResult<Comment> {
  event: TicketEvent;
  events: TicketEvent[];
  reopened: boolean;
}

/** What a report narrows to, as the dashboard does: product prefix, owner (null: nobody) and priority, as tickets are now. */
export interface ReportFilter {
  product_prefix?: string;
  assignee?: string | null;
  priority?: Priority;
}

/** A report's question: its days as Unix-second boundaries (each day's start, then the last day's end) and a filter. */
export interface ReportQuery extends ReportFilter {
  bounds: number[];
  /** Tickets waiting for a first reply to list, oldest first. */
  waitingLimit: number;
}

/** Tickets created, moves to Closed and moves out of Closed. */
export interface FactCounts {
  created: number;
  closed: number;
  reopened: number;
}

/** One owner's or product's facts over a report's range; durations in seconds. */
export interface ReportGroupFacts extends FactCounts {
  /** The owner or product; null for none. */
  key: string | null;
  /** Seconds from creation to the first public reply, of first replies in the range. */
  replies: number[];
  /** Seconds from creation to resolved_at, of closes in the range that still stand. */
  closes: number[];
}

/** A ticket still waiting for its first public reply. */
export type WaitingTicket = Pick<
  Ticket,
  "id" | "created_at" | "user_id" | "product_id" | "assignee" | "priority"
>;

/** What the store counts for a report; db/reports.ts makes the figures of it. */
export interface ReportFacts {
  /** Per day of the query's bounds. */
  days: FactCounts[];
  /** From the end of the range on: the backlog of each day is the one now less what came after. */
  since: FactCounts;
  /** Open or Pending tickets now, and of those the ones without a public reply yet. */
  unsolved: number;
  waiting: number;
  oldestWaiting: WaitingTicket[];
  owners: ReportGroupFacts[];
  products: ReportGroupFacts[];
}

export interface TicketStore extends WebhookStore {
  /** Creates a ticket (or replays an earlier create with the same idempotency key). */
  createTicket(
    input: NewTicket,
    ctx: WriteContext & { idempotency?: IdempotencyOptions },
  ): Promise<CreateResult>;
  /** Returns one ticket with its comment thread, or null. */
  getTicket(id: number): Promise<TicketWithComments | null>;
  /** Lists tickets newest first, keyset-paginated. */
  listTickets(filter: ListFilter): Promise<TicketPage>;
  /** Counts tickets per status. */
  countByStatus(): Promise<StatusCounts>;
  /** Counts tickets per status and owner. */
  countByOwner(): Promise<OwnerCounts>;
  /**
   * Counts the tickets a narrowed view shows (search, product, priority) per
   * status and owner, up to `cap` tickets in all (`capped` says when there are
   * more): a search matching half the table is not counted to the last one.
   */
  countMatching(
    filter: Pick<ListFilter, "q" | "product_prefix" | "priority">,
    cap: number,
  ): Promise<OwnerCounts & { capped: boolean }>;
  /** Lists the products with the most tickets, most first. */
  listProducts(limit: number): Promise<ProductCount[]>;
  /** Lists a ticket's events (created, changes, comments), oldest first. */
  ticketActivity(id: number): Promise<TicketEvent[]>;
  /**
   * Applies a patch; throws StaleVersionError when `expectedVersion` is not
   * current, AlreadyAssignedError when `noSteal` finds another owner, and
   * UnknownAssigneeError for an owner who is not an active user.
   */
  updateTicket(
    id: number,
    patch: TicketPatch,
    ctx: WriteContext & OwnerGuard & { expectedVersion?: number },
  ): Promise<WriteResult<TicketSummary>>;
  /**
   * Applies one patch to many tickets in one transaction, each with its own
   * version check (or, without one, `noSteal`); a ticket that cannot take it
   * is reported and skipped, the others change (one event each). An unknown
   * owner refuses the whole change (UnknownAssigneeError).
   */
  bulkUpdate(
    items: { id: number; expectedVersion?: number }[],
    patch: TicketPatch,
    ctx: WriteContext & OwnerGuard,
  ): Promise<BulkOutcome[]>;
  /** Unassigns every Open or Pending ticket a user owns; returns how many. */
  releaseTickets(assignee: string, ctx: WriteContext): Promise<number>;
  /** Appends a comment to a ticket's thread: an internal note unless `visibility` says public. */
  addComment(
    ticketId: number,
    body: string,
    ctx: WriteContext & { visibility?: Visibility },
  ): Promise<WriteResult<Comment>>;
  /**
   * Adds the requester's public reply, reopening a Closed ticket; NotFoundError
   * when the ticket is gone or its token version is no longer `tokenVersion`.
   */
  addRequesterReply(
    ticketId: number,
    body: string,
    ctx: { tokenVersion: number },
  ): Promise<RequesterReplyResult>;
  /** Revokes the requester's link (bumps the token version), recording who did. */
  revokeRequesterLink(
    ticketId: number,
    ctx: WriteContext,
  ): Promise<WriteResult<TicketSummary>>;
  /** The ticket with its public replies and the newest event id, in one snapshot; null when there is no such ticket. */
  requestView(id: number): Promise<RequestView | null>;
  /** Lists events with an id above `afterId`, oldest first, each with its ticket as it is now. */
  eventsAfter(afterId: number, limit: number): Promise<TicketEvent[]>;
  /** The ids among `ids` of tickets that a search for `q` finds (one query, for live updates). */
  searchMatches(q: string, ids: number[]): Promise<Set<number>>;
  /** The id of the newest event, 0 when there is none. */
  latestEventId(): Promise<number>;
  /** Counts what a report shows over its days, from the facts the writes keep (see db/reports.ts). */
  reportFacts(q: ReportQuery): Promise<ReportFacts>;
  /** Checks that the database answers and is writable. */
  health(): Promise<StoreHealth>;
  /** Deletes idempotency keys and sessions past their lifetime (also runs every 10 minutes). */
  purgeExpired(): Promise<{ idempotencyKeys: number; sessions: number }>;
  /** Flushes pending writes and closes connections. */
  close(): Promise<void>;
}

const MAX_SEARCH_TERMS = 8;

/**
 * Splits a search into the words every backend matches by prefix, case- and
 * accent-insensitively: `jo prod-1` finds tickets with a word starting "jo" and
 * one starting "prod-1". Quotes are dropped; at most 8 words.
 */
export function searchTerms(q: string | undefined): string[] {
  if (!q) return [];
  // Control characters separate words: a NUL would end the text early in SQLite.
  return q.replace(/["\p{Cc}]/gu, " ").split(/\s+/)
    .filter((w) => /[\p{L}\p{N}]/u.test(w))
    .slice(0, MAX_SEARCH_TERMS);
}

/** Base class of the store's typed errors, mapped to HTTP once in `onError`. */
export class StoreError extends Error {
  override name = "StoreError";
}

/** The ticket does not exist. */
export class NotFoundError extends StoreError {
  override name = "NotFoundError";
  constructor(readonly ticketId: number) {
    super(`Ticket ${ticketId} does not exist`);
  }
}

/** An optimistic-concurrency check failed. */
export class StaleVersionError extends StoreError {
  override name = "StaleVersionError";
  constructor(
    readonly ticketId: number,
    readonly expected: number,
    readonly current: number,
  ) {
    super(
      `Cannot update ticket ${ticketId}: version ${expected} is stale (current is ${current})`,
    );
  }
}

/** The ticket already has another owner, and the write may not take it away silently. */
export class AlreadyAssignedError extends StoreError {
  override name = "AlreadyAssignedError";
  constructor(readonly ticketId: number, readonly owner: string) {
    super(
      `Cannot assign ticket ${ticketId}: ${JSON.stringify(owner)} owns it`,
    );
  }
}

/** An owner who is not an active user. */
export class UnknownAssigneeError extends StoreError {
  override name = "UnknownAssigneeError";
  constructor(readonly assignee: string) {
    super(`${JSON.stringify(assignee)} is not an active user`);
  }
}

/** An idempotency key was reused with a different request. */
export class IdempotencyMismatchError extends StoreError {
  override name = "IdempotencyMismatchError";
  constructor(readonly key: string) {
    super(
      `Idempotency-Key ${
        JSON.stringify(key)
      } was already used with a different request`,
    );
  }
}

/** No webhook endpoint has that id (or, with `deliveryId`, it has no such delivery). */
export class WebhookNotFoundError extends StoreError {
  override name = "WebhookNotFoundError";
  constructor(readonly webhookId: number, readonly deliveryId?: number) {
    super(
      deliveryId === undefined
        ? `Webhook ${webhookId} does not exist`
        : `Webhook ${webhookId} has no delivery ${deliveryId} (any more)`,
    );
  }
}

/** The database refused the write for lack of space or permission. */
export class StorageUnavailableError extends StoreError {
  override name = "StorageUnavailableError";
}

// ---------------------------------------------------------------------------
// Accounts: admins and agents, their sessions, and the mobile app's API keys.

export const ROLES = ["admin", "agent"] as const;
export type Role = typeof ROLES[number];

/** How a user likes the board: cards in a grid (the default), or one row per ticket. */
export const BOARD_LAYOUTS = ["grid", "list"] as const;
export type BoardLayout = typeof BOARD_LAYOUTS[number];

export interface User {
  id: number;
  username: string;
  role: Role;
  created_at: string;
  disabled: boolean;
  board_layout: BoardLayout;
}

/** A session ends after this long without use… */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
/** …and this long after login, however busy. */
export const SESSION_MAX_MS = 7 * 24 * 60 * 60 * 1000;

export interface SessionRecord {
  user: User;
  created_at: string;
  last_seen_at: string;
}

/**
 * What an API key may do: `create` tickets, `read` them, `write` (change and
 * comment on) them. A key has exactly the scopes it lists, except that `write`
 * includes `read`.
 */
export const API_SCOPES = ["create", "read", "write"] as const;
export type ApiScope = typeof API_SCOPES[number];

export interface ApiKey {
  id: number;
  name: string;
  /** The first characters of the key, shown so people can tell keys apart. */
  prefix: string;
  /** As stored, in API_SCOPES order. */
  scopes: ApiScope[];
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** A key to store: its name, visible prefix, hash and (default all) scopes. */
export interface NewApiKey {
  name: string;
  prefix: string;
  hash: string;
  scopes?: readonly ApiScope[];
}

/** Users, sessions and API keys. Secrets arrive already hashed: the store never sees them. */
export interface AccountStore {
  /** Counts users, disabled ones included. */
  countUsers(): Promise<number>;
  /** Creates a user; throws DuplicateNameError when the name is taken (any letter case). */
  createUser(
    u: { username: string; passwordHash: string; role: Role },
  ): Promise<User>;
  /** Returns a user and their password hash, for login; null when unknown. */
  findUserForLogin(
    username: string,
  ): Promise<{ user: User; passwordHash: string } | null>;
  /** Lists users by name. */
  listUsers(): Promise<User[]>;
  /** Replaces a user's password hash and ends their sessions. */
  setPassword(username: string, passwordHash: string): Promise<User>;
  /** Disables (ending their sessions) or re-enables a user. */
  setUserDisabled(username: string, disabled: boolean): Promise<User>;
  /** Remembers how a user likes the board. */
  setBoardLayout(username: string, layout: BoardLayout): Promise<User>;
  /** Records a new session under the hash of its id. */
  createSession(idHash: string, userId: number): Promise<void>;
  /** Returns a session with its user, or null. */
  getSession(idHash: string): Promise<SessionRecord | null>;
  /** Marks a session as used now (idle timeout). */
  touchSession(idHash: string): Promise<void>;
  /** Ends a session. */
  deleteSession(idHash: string): Promise<void>;
  /**
   * Stores a new API key's hash; throws DuplicateNameError when the name is
   * taken. Without `scopes` the key gets every scope.
   */
  createApiKey(k: NewApiKey): Promise<ApiKey>;
  /** Lists API keys, revoked ones included. */
  listApiKeys(): Promise<ApiKey[]>;
  /** Revokes a key by name; throws AccountNotFoundError when unknown. */
  revokeApiKey(name: string): Promise<ApiKey>;
  /** Finds a key by its hash, revoked or not; null when unknown. */
  findApiKey(hash: string): Promise<ApiKey | null>;
  /** Records that a key was used now. */
  touchApiKey(id: number): Promise<void>;
}

/** A user or API key name is already taken. */
export class DuplicateNameError extends StoreError {
  override name = "DuplicateNameError";
  constructor(readonly kind: "user" | "api key", readonly value: string) {
    super(`A ${kind} named ${JSON.stringify(value)} already exists`);
  }
}

/** No user or API key has that name. */
export class AccountNotFoundError extends StoreError {
  override name = "AccountNotFoundError";
  constructor(readonly kind: "user" | "api key", readonly value: string) {
    super(`No ${kind} named ${JSON.stringify(value)} exists`);
  }
}

// ---------------------------------------------------------------------------
// Webhooks: endpoints, the outbox of deliveries, and the log of attempts.

/** What an endpoint may subscribe to (Standard Webhooks `type`s). */
export const WEBHOOK_EVENTS = [
  "ticket.created",
  "ticket.updated",
  "comment.public",
  "comment.internal",
] as const;
export type WebhookEventType = typeof WEBHOOK_EVENTS[number];

/** A new endpoint hears of everything but internal notes: those leave the desk only when asked for. */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEventType[] = [
  "ticket.created",
  "ticket.updated",
  "comment.public",
];

/** A receiver of webhooks. The secret never leaves the store but to sign (DueDelivery). */
export interface WebhookEndpoint {
  id: number;
  url: string;
  /** In WEBHOOK_EVENTS order. */
  events: WebhookEventType[];
  created_at: string;
  /** Set when the last scheduled attempt of a delivery failed (or the receiver answered 410). */
  disabled_at: string | null;
  disabled_reason: string | null;
  /** Deliveries waiting to be sent. */
  pending: number;
}

/** An endpoint to add: its secret is `whsec_` + base64, made by the caller. */
export interface NewWebhook {
  url: string;
  events: readonly WebhookEventType[];
  secret: string;
}

/** A delivery claimed for sending: the exact body, and every secret to sign it with. */
export interface DueDelivery {
  id: number;
  endpoint_id: number;
  url: string;
  /** The current secret first; the one before a rotation too, for a day. */
  secrets: string[];
  msg_id: string;
  type: WebhookEventType;
  ticket_id: number;
  payload: string;
  /** This attempt's number, from 1. */
  attempt: number;
}

/** How an attempt went, as the sender decided. */
export interface AttemptRecord {
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  /** delivered (2xx), retry (at `next_attempt_at`), failed (final). */
  outcome: "delivered" | "retry" | "failed";
  next_attempt_at?: string;
  /** Disables the endpoint, saying why (its last attempt failed, or 410 Gone). */
  disable_reason?: string;
}

/** One attempt in an endpoint's log (the last 1,000 are kept). */
export interface DeliveryAttempt
  extends Omit<AttemptRecord, "next_attempt_at" | "disable_reason"> {
  id: number;
  delivery_id: number;
  msg_id: string;
  type: WebhookEventType;
  ticket_id: number;
  attempted_at: string;
}

/** Attempts kept per endpoint; older ones (and their finished deliveries) are dropped. */
export const ATTEMPTS_KEPT = 1000;

/** Webhook endpoints and their outbox; deliveries are queued by the ticket writes themselves. */
export interface WebhookStore {
  /** Adds an endpoint, enabled. */
  createWebhook(w: NewWebhook): Promise<WebhookEndpoint>;
  /** Lists endpoints, oldest first. */
  listWebhooks(): Promise<WebhookEndpoint[]>;
  /** One endpoint, or null. */
  getWebhook(id: number): Promise<WebhookEndpoint | null>;
  /** Removes an endpoint with its deliveries and log; WebhookNotFoundError when unknown. */
  removeWebhook(id: number): Promise<void>;
  /** Replaces the secret; the old one still signs (beside it) until `keepOldUntil`. */
  rotateWebhookSecret(
    id: number,
    secret: string,
    keepOldUntil: string,
  ): Promise<WebhookEndpoint>;
  /** Enables a disabled endpoint: the deliveries it holds are sent again, in order. */
  enableWebhook(id: number): Promise<WebhookEndpoint>;
  /**
   * Claims up to `limit` due deliveries for `leaseMs` (another sender skips
   * them meanwhile), oldest first, at most one per ticket and endpoint, and
   * none while an earlier one of the same ticket and endpoint is pending. A
   * delivery not yet tried waits `firstWaitMs` after its change.
   */
  claimDeliveries(
    opts: { limit: number; leaseMs: number; firstWaitMs?: number },
  ): Promise<DueDelivery[]>;
  /** Records an attempt and what follows from it (done, retry later, failed, endpoint disabled). */
  finishDelivery(id: number, record: AttemptRecord): Promise<void>;
  /** Frees claims a stopped sender left (SQLite: one process sends; PostgreSQL: leases expire by themselves). */
  releaseDeliveries(): Promise<void>;
  /** An endpoint's attempts, newest first. */
  webhookAttempts(
    endpointId: number,
    limit: number,
  ): Promise<DeliveryAttempt[]>;
  /** Queues a delivery of the endpoint to be sent again now. */
  resendDelivery(endpointId: number, deliveryId: number): Promise<void>;
}
