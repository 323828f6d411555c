/** Every ticket write the PostgreSQL store makes, each inside the caller's transaction. */
import {
  type BulkOutcome,
  type Comment,
  type IdempotencyOptions,
  type NewTicket,
  NotFoundError,
  SESSION_IDLE_MS,
  SESSION_MAX_MS,
  StoreError,
  type Ticket,
  type TicketEvent,
  type TicketPatch,
  type TicketSummary,
  UnknownAssigneeError,
  type Visibility,
} from "../store.ts";
import type { JSONValue as JsonValue } from "postgres";
import { queueDeliveries } from "./webhooks.ts";
import {
  rowToComment,
  rowToEvent,
  rowToTicket,
  type Sql,
  type TransactionSql,
} from "./connection.ts";
import { priorityRank, rowToSummary } from "../rows.ts";
import {
  changesOf,
  commentEvent,
  createdEvent,
  IDEMPOTENCY_TTL_MS,
  idempotencyVerdict,
  isAgentReply,
  patchChanges,
  patched,
  reopenPatch,
  revokedEvent,
  statusTimes,
  updatedEvent,
} from "../rules.ts";

/** The channel every committed event id is announced on (see listener.ts). */
export const EVENTS_CHANNEL = "ticket_events";

/** The channel of ephemeral signals between instances (presence). */
export const SIGNALS_CHANNEL = "ticket_signals";

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

/**
 * Inserts an event row and queues its NOTIFY, which Postgres delivers only on
 * commit, and the webhook deliveries it owes (the outbox, in the same
 * transaction); the event carries the ticket as this change left it.
 */
async function insertEvent(
  tx: TransactionSql,
  e: Omit<TicketEvent, "id">,
  ticket: TicketSummary,
  comment?: Comment,
): Promise<TicketEvent> {
  const [row] = await tx`
    WITH e AS (
      INSERT INTO events (type, ticket_id, actor, data, created_at)
      VALUES (${e.type}, ${e.ticket_id}, ${e.actor},
              ${tx.json(e.data as JsonValue)}, ${e.created_at})
      RETURNING *
    )
    SELECT e.*, pg_notify(${EVENTS_CHANNEL}, e.id::text) FROM e`;
  const event: TicketEvent = { ...rowToEvent(row!), ticket };
  if (comment) event.comment = comment;
  await queueDeliveries(tx, event);
  return event;
}

/** The ticket row with the count of its comment rows. */
const SUMMARY =
  "*, (SELECT count(*) FROM comments c WHERE c.ticket_id = tickets.id) AS comment_count";

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
    const verdict = idempotencyVerdict(
      prior
        ? {
          fingerprint: String(prior.fingerprint),
          response: String(prior.response),
          created_at: prior.created_at as Date,
        }
        : null,
      idem,
      now,
    );
    if (verdict.kind === "replay") {
      return { ticket: verdict.ticket, replayed: true, event: null };
    }
    if (verdict.expired) {
      await tx`DELETE FROM idempotency_keys
               WHERE scope = ${idem.scope} AND key = ${idem.key}`;
    }
  }
  const [row] = await tx`
    INSERT INTO tickets (user_id, pdf_link, product_id, other_ids, priority,
                         created_at, updated_at)
    VALUES (${input.user_id}, ${input.pdf_link}, ${input.product_id},
            ${input.other_ids}, ${priorityRank(input.priority)}, ${now}, ${now})
    RETURNING *`;
  const ticket = rowToTicket(row!);
  const event = await insertEvent(tx, createdEvent(ticket, ctx.actor), {
    ...ticket,
    comment_count: 0,
  });
  if (idem) {
    await tx`
      INSERT INTO idempotency_keys (scope, key, fingerprint, ticket_id, response, created_at)
      VALUES (${idem.scope}, ${idem.key}, ${idem.fingerprint}, ${ticket.id},
              ${JSON.stringify(ticket)}, ${now})`;
  }
  return { ticket, replayed: false, event };
}

async function currentTicket(
  tx: TransactionSql,
  id: number,
): Promise<TicketSummary> {
  const [row] = await tx`
    SELECT ${tx.unsafe(SUMMARY)} FROM tickets WHERE id = ${id} FOR UPDATE`;
  if (!row) throw new NotFoundError(id);
  return rowToSummary(row);
}

/** The owner as the user spells their name; UnknownAssigneeError unless an active user. */
async function resolveAssignee(
  tx: TransactionSql,
  name: string | null | undefined,
): Promise<string | null | undefined> {
  if (name === undefined || name === null) return name;
  const [row] = await tx`
    SELECT username FROM users
    WHERE lower(username) = lower(${name}) AND NOT disabled`;
  if (!row) throw new UnknownAssigneeError(name);
  return String(row.username);
}

/** Applies a patch to one ticket with its checks (rules.ts decides what changes). */
async function applyPatch(
  tx: TransactionSql,
  id: number,
  patch: TicketPatch,
  opts: { actor: string; expectedVersion?: number; noSteal?: boolean },
): Promise<{ value: TicketSummary; event: TicketEvent | null }> {
  const cur = await currentTicket(tx, id);
  const assignee = await resolveAssignee(tx, patch.assignee);
  const wanted = assignee === undefined ? patch : { ...patch, assignee };
  const changes = patchChanges(cur, wanted, opts);
  if (!changes) return { value: cur, event: null };
  const next = patched(cur, wanted);
  if (changes.status) await setStatusTimes(tx, cur, next.status);
  const [row] = await tx`
    UPDATE tickets SET status = ${next.status}, description = ${next.description},
      assignee = ${next.assignee}, priority = ${priorityRank(next.priority)},
      updated_at = ${new Date()}, version = version + 1
    WHERE id = ${id} RETURNING ${tx.unsafe(SUMMARY)}`;
  const summary = rowToSummary(row!);
  const event = await insertEvent(
    tx,
    updatedEvent(summary, changes, opts.actor),
    summary,
  );
  return { value: summary, event };
}

/** Applies a patch with its version and owner checks. */
export async function updateTicket(
  tx: TransactionSql,
  id: number,
  patch: TicketPatch,
  ctx: { actor: string; expectedVersion?: number; noSteal?: boolean },
): Promise<{ value: TicketSummary; event: TicketEvent | null }> {
  await lockWrites(tx);
  return await applyPatch(tx, id, patch, ctx);
}

/**
 * One patch for many tickets: each is checked on its own and a refused one
 * is skipped (refusals come before any write, so nothing is left to undo).
 */
export async function bulkUpdate(
  tx: TransactionSql,
  items: { id: number; expectedVersion?: number }[],
  patch: TicketPatch,
  ctx: { actor: string; noSteal?: boolean },
): Promise<{ outcomes: BulkOutcome[]; events: TicketEvent[] }> {
  await lockWrites(tx);
  // An unknown owner refuses the whole change, before any ticket is touched.
  const assignee = await resolveAssignee(tx, patch.assignee);
  const wanted = assignee === undefined ? patch : { ...patch, assignee };
  const events: TicketEvent[] = [];
  const outcomes: BulkOutcome[] = [];
  for (const item of items) {
    try {
      const { value, event } = await applyPatch(tx, item.id, wanted, {
        actor: ctx.actor,
        expectedVersion: item.expectedVersion,
        // A ticket given with its version is checked by that version instead.
        noSteal: ctx.noSteal && item.expectedVersion === undefined,
      });
      if (event) events.push(event);
      outcomes.push({
        id: item.id,
        ok: true,
        ticket: value,
        changes: changesOf(event),
      });
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      outcomes.push({ id: item.id, ok: false, error: err });
    }
  }
  return { outcomes, events };
}

/** Unassigns a user's Open and Pending tickets (a disabled user's work goes back to the queue). */
export async function releaseTickets(
  tx: TransactionSql,
  assignee: string,
  actor: string,
): Promise<{ value: number; events: TicketEvent[] }> {
  await lockWrites(tx);
  const rows = await tx`
    SELECT id FROM tickets
    WHERE assignee = ${assignee} AND status IN ('Open', 'Pending') ORDER BY id`;
  const events: TicketEvent[] = [];
  for (const r of rows) {
    const { event } = await applyPatch(tx, Number(r.id), { assignee: null }, {
      actor,
    });
    if (event) events.push(event);
  }
  return { value: events.length, events };
}

/** Appends a comment; comments do not bump the ticket's version (they never conflict). */
export async function addComment(
  tx: TransactionSql,
  ticketId: number,
  body: string,
  ctx: { actor: string; visibility?: Visibility },
) {
  await lockWrites(tx);
  await currentTicket(tx, ticketId);
  return await insertComment(tx, ticketId, {
    author: ctx.actor,
    body,
    visibility: ctx.visibility ?? "internal",
    from_requester: false,
  });
}

/** Inserts a comment, touches its ticket (first_response_at on an agent's first public reply), records the event. */
async function insertComment(
  tx: TransactionSql,
  ticketId: number,
  c: Pick<Comment, "author" | "body" | "visibility" | "from_requester">,
) {
  const at = new Date();
  const [row] = await tx`
    INSERT INTO comments (ticket_id, author, body, visibility, from_requester, created_at)
    VALUES (${ticketId}, ${c.author}, ${c.body}, ${c.visibility},
            ${c.from_requester}, ${at}) RETURNING *`;
  const comment = rowToComment(row!);
  const [t] = await tx`
    UPDATE tickets SET updated_at = ${at},
      first_response_at = CASE WHEN ${isAgentReply(comment)}::boolean
        THEN coalesce(first_response_at, ${at}) ELSE first_response_at END
    WHERE id = ${ticketId}
    RETURNING ${tx.unsafe(SUMMARY)}`;
  const event = await insertEvent(
    tx,
    commentEvent(comment),
    rowToSummary(t!),
    comment,
  );
  return { value: comment, event };
}

/** Report times of a status change (rules.ts), written before the change's own UPDATE returns the row. */
async function setStatusTimes(
  tx: TransactionSql,
  cur: TicketSummary,
  to: TicketSummary["status"],
) {
  const t = statusTimes(cur, to, new Date().toISOString());
  await tx`
    UPDATE tickets SET resolved_at = ${t.resolved_at},
      reopened_count = ${t.reopened_count}
    WHERE id = ${cur.id}`;
}

/** The requester's public reply through their link; a Closed ticket opens again (a second event). */
export async function addRequesterReply(
  tx: TransactionSql,
  ticketId: number,
  body: string,
  tokenVersion: number,
) {
  await lockWrites(tx);
  const cur = await currentTicket(tx, ticketId);
  // Revoked between the link's check and this write: the link is dead.
  if (cur.token_version !== tokenVersion) throw new NotFoundError(ticketId);
  const { value, event } = await insertComment(tx, ticketId, {
    author: cur.user_id,
    body,
    visibility: "public",
    from_requester: true,
  });
  const events = [event];
  const reopen = reopenPatch(cur);
  if (reopen) {
    const r = await updateTicket(tx, ticketId, reopen, { actor: event.actor });
    if (r.event) events.push(r.event);
  }
  return { value, event, events, reopened: reopen !== null };
}

/** Bumps the token version, so the requester's link stops working; the event says who. */
export async function revokeRequesterLink(
  tx: TransactionSql,
  ticketId: number,
  actor: string,
) {
  await lockWrites(tx);
  await currentTicket(tx, ticketId);
  const [t] = await tx`
    UPDATE tickets SET token_version = token_version + 1
    WHERE id = ${ticketId} RETURNING ${tx.unsafe(SUMMARY)}`;
  const summary = rowToSummary(t!);
  const event = await insertEvent(
    tx,
    revokedEvent(summary, actor, new Date().toISOString()),
    summary,
  );
  return { value: summary, event };
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
