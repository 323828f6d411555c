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
}

export interface Comment {
  id: number;
  ticket_id: number;
  author: string;
  body: string;
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
  type: "ticket.created" | "ticket.updated" | "comment.added";
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
  | { id: number; ok: true; ticket: TicketSummary }
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

export interface TicketStore {
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
  /** Appends a comment to a ticket's thread. */
  addComment(
    ticketId: number,
    body: string,
    ctx: WriteContext,
  ): Promise<WriteResult<Comment>>;
  /** Lists events with an id above `afterId`, oldest first, each with its ticket as it is now. */
  eventsAfter(afterId: number, limit: number): Promise<TicketEvent[]>;
  /** The ids among `ids` of tickets that a search for `q` finds (one query, for live updates). */
  searchMatches(q: string, ids: number[]): Promise<Set<number>>;
  /** The id of the newest event, 0 when there is none. */
  latestEventId(): Promise<number>;
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
