/**
 * The backend-neutral ticket store: the only way routes touch data.
 *
 * Implementations (SQLite today, PostgreSQL next) must commit a change and its
 * event row in one transaction, and only resolve a write once it is durable.
 */

export const STATUSES = ["Open", "Pending", "Closed"] as const;
export type Status = typeof STATUSES[number];

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
}

export interface TicketPatch {
  status?: Status;
  description?: string;
}

export interface TicketEvent {
  id: number;
  type: "ticket.created" | "ticket.updated" | "comment.added";
  ticket_id: number;
  actor: string;
  data: Record<string, unknown>;
  created_at: string;
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

export interface WriteResult<T> {
  value: T;
  /** The event the change recorded; null when the write changed nothing. */
  event: TicketEvent | null;
}

export interface ListFilter {
  status?: Status;
  user_id?: string;
  product_id?: string;
  /** Only tickets with an id below this one (keyset pagination, newest first). */
  before_id?: number;
  limit: number;
}

export interface TicketPage {
  items: Ticket[];
  /** The id to pass as `before_id` for the next page, or null on the last page. */
  next_before_id: number | null;
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
  /** Applies a patch; throws StaleVersionError when `expectedVersion` is not current. */
  updateTicket(
    id: number,
    patch: TicketPatch,
    ctx: WriteContext & { expectedVersion?: number },
  ): Promise<WriteResult<Ticket>>;
  /** Appends a comment to a ticket's thread. */
  addComment(
    ticketId: number,
    body: string,
    ctx: WriteContext,
  ): Promise<WriteResult<Comment>>;
  /** Lists events with an id above `afterId`, oldest first. */
  eventsAfter(afterId: number, limit: number): Promise<TicketEvent[]>;
  /** Checks that the database answers and is writable. */
  health(): Promise<StoreHealth>;
  /** Flushes pending writes and closes connections. */
  close(): Promise<void>;
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
