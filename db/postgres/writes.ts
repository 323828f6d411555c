/** Every ticket write the PostgreSQL store makes, each inside the caller's transaction. */
import {
  IdempotencyMismatchError,
  type IdempotencyOptions,
  type NewTicket,
  NotFoundError,
  SESSION_IDLE_MS,
  SESSION_MAX_MS,
  StaleVersionError,
  type Ticket,
  type TicketEvent,
  type TicketPatch,
} from "../store.ts";
import {
  rowToComment,
  rowToEvent,
  rowToTicket,
  type Sql,
  type TransactionSql,
} from "./connection.ts";

/** Idempotency keys are honoured for a day, as the API documents. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** The channel every committed event id is announced on (see listener.ts). */
export const EVENTS_CHANNEL = "ticket_events";

const WRITE_LOCK = 7_000_002;

/**
 * Takes the schema's write lock until commit. Ticket writes take it first, so
 * they run one at a time, like SQLite's single writer. That buys three things
 * a pool of concurrent transactions would not give: events commit in id order
 * (so a reader that has seen event n has seen every event below n, and the
 * listener's high-water mark never skips a slow transaction's lower id), an
 * idempotency key is checked and recorded with no race between instances, and
 * the counter rows are never locked in two orders (no deadlocks). A ticket
 * write holds it for a few statements and one commit: well under a
 * millisecond of work, so the desk's write rate is not the limit.
 */
export async function lockWrites(tx: TransactionSql): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock(${WRITE_LOCK}, hashtext(current_schema()))`;
}

/** Inserts an event row and queues its NOTIFY, which Postgres delivers only on commit. */
async function insertEvent(
  tx: TransactionSql,
  e: Omit<TicketEvent, "id" | "created_at">,
  at: Date,
): Promise<TicketEvent> {
  const [row] = await tx`
    WITH e AS (
      INSERT INTO events (type, ticket_id, actor, data, created_at)
      VALUES (${e.type}, ${e.ticket_id}, ${e.actor},
              ${JSON.stringify(e.data)}::json, ${at})
      RETURNING *
    )
    SELECT e.*, pg_notify(${EVENTS_CHANNEL}, e.id::text) FROM e`;
  return rowToEvent(row!);
}

/** Creates a ticket and its event, or replays an earlier create under the same key. */
export async function createTicket(
  tx: TransactionSql,
  input: NewTicket,
  ctx: { actor: string; idempotency?: IdempotencyOptions },
): Promise<{ ticket: Ticket; replayed: boolean; event: TicketEvent | null }> {
  await lockWrites(tx);
  const now = new Date();
  const idem = ctx.idempotency;
  if (idem) {
    const [prior] = await tx`
      SELECT fingerprint, response, created_at FROM idempotency_keys
      WHERE scope = ${idem.scope} AND key = ${idem.key}`;
    if (prior) {
      const created = prior.created_at as Date;
      if (now.getTime() - created.getTime() < IDEMPOTENCY_TTL_MS) {
        if (prior.fingerprint !== idem.fingerprint) {
          throw new IdempotencyMismatchError(idem.key);
        }
        return {
          ticket: JSON.parse(String(prior.response)) as Ticket,
          replayed: true,
          event: null,
        };
      }
      await tx`DELETE FROM idempotency_keys
               WHERE scope = ${idem.scope} AND key = ${idem.key}`;
    }
  }
  const [row] = await tx`
    INSERT INTO tickets (user_id, pdf_link, product_id, other_ids, created_at, updated_at)
    VALUES (${input.user_id}, ${input.pdf_link}, ${input.product_id},
            ${input.other_ids}, ${now}, ${now})
    RETURNING *`;
  const ticket = rowToTicket(row!);
  const event = await insertEvent(tx, {
    type: "ticket.created",
    ticket_id: ticket.id,
    actor: ctx.actor,
    data: { status: ticket.status },
  }, now);
  if (idem) {
    await tx`
      INSERT INTO idempotency_keys (scope, key, fingerprint, ticket_id, response, created_at)
      VALUES (${idem.scope}, ${idem.key}, ${idem.fingerprint}, ${ticket.id},
              ${JSON.stringify(ticket)}, ${now})`;
  }
  return { ticket, replayed: false, event };
}

async function currentTicket(tx: TransactionSql, id: number): Promise<Ticket> {
  const [row] = await tx`SELECT * FROM tickets WHERE id = ${id} FOR UPDATE`;
  if (!row) throw new NotFoundError(id);
  return rowToTicket(row);
}

/** Applies a status/description patch with an optional version check. */
export async function updateTicket(
  tx: TransactionSql,
  id: number,
  patch: TicketPatch,
  ctx: { actor: string; expectedVersion?: number },
): Promise<{ value: Ticket; event: TicketEvent | null }> {
  await lockWrites(tx);
  const cur = await currentTicket(tx, id);
  if (
    ctx.expectedVersion !== undefined && ctx.expectedVersion !== cur.version
  ) {
    throw new StaleVersionError(id, ctx.expectedVersion, cur.version);
  }
  const changes: Record<string, { from: string; to: string }> = {};
  if (patch.status !== undefined && patch.status !== cur.status) {
    changes.status = { from: cur.status, to: patch.status };
  }
  if (
    patch.description !== undefined && patch.description !== cur.description
  ) {
    changes.description = { from: cur.description, to: patch.description };
  }
  // A patch that changes nothing is not a change: no new version, no event.
  if (Object.keys(changes).length === 0) return { value: cur, event: null };
  const at = new Date();
  const [row] = await tx`
    UPDATE tickets SET status = ${patch.status ?? cur.status},
      description = ${patch.description ?? cur.description},
      updated_at = ${at}, version = version + 1
    WHERE id = ${id} RETURNING *`;
  const ticket = rowToTicket(row!);
  const event = await insertEvent(tx, {
    type: "ticket.updated",
    ticket_id: id,
    actor: ctx.actor,
    data: { changes, version: ticket.version },
  }, at);
  return { value: ticket, event };
}

/** Appends a comment; comments do not bump the ticket's version (they never conflict). */
export async function addComment(
  tx: TransactionSql,
  ticketId: number,
  body: string,
  actor: string,
) {
  await lockWrites(tx);
  await currentTicket(tx, ticketId);
  const at = new Date();
  const [row] = await tx`
    INSERT INTO comments (ticket_id, author, body, created_at)
    VALUES (${ticketId}, ${actor}, ${body}, ${at}) RETURNING *`;
  const comment = rowToComment(row!);
  await tx`UPDATE tickets SET updated_at = ${at} WHERE id = ${ticketId}`;
  const event = await insertEvent(tx, {
    type: "comment.added",
    ticket_id: ticketId,
    actor,
    data: { comment_id: comment.id },
  }, at);
  return { value: comment, event };
}

/** Drops idempotency keys and sessions past their lifetime; returns how many of each. */
export async function purgeExpired(
  sql: Sql,
): Promise<{ idempotencyKeys: number; sessions: number }> {
  const now = Date.now();
  const before = (ms: number) => new Date(now - ms);
  const keys = await sql`
    DELETE FROM idempotency_keys WHERE created_at < ${
    before(IDEMPOTENCY_TTL_MS)
  }`;
  const sessions = await sql`
    DELETE FROM sessions WHERE last_seen_at < ${before(SESSION_IDLE_MS)}
      OR created_at < ${before(SESSION_MAX_MS)}`;
  return { idempotencyKeys: keys.count, sessions: sessions.count };
}
