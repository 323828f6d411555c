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
  keyVerdicts,
  newMessageId,
  patchChanges,
  patched,
  reopenPatch,
  revokedEvent,
  statusTimes,
  updatedEvent,
  webhookBody,
  webhookType,
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

/** One create of a batch, as data: the batched path handles a run of them at once. */
export interface CreateJob {
  input: NewTicket;
  actor: string;
  idempotency?: IdempotencyOptions;
}

/** What became of one create of a batch (group_commit's Outcome). */
type CreateOutcome =
  | { ok: true; value: unknown }
  | { ok: false; error: Error };

/**
 * Creates a run of tickets in two round trips, however many there are,
 * instead of five per ticket (measured: PostgreSQL was as fast with fsync
 * off as on, so round trips, not the disk, were the limit):
 *
 * 1. before the write lock, one statement reads the run's idempotency keys
 *    and takes its ticket ids from the sequence (ids need no order; event
 *    ids do, and are taken under the lock);
 * 2. on one connection, BEGIN, the lock, one statement writing every ticket,
 *    event (with its NOTIFY), idempotency key and webhook delivery, and
 *    COMMIT are sent together: the lock is held for the server's own work
 *    and the commit's flush, never for a round trip to this process.
 *
 * Returns null when nothing was written and the run must go write by write
 * (createTicket, under the lock): a key another instance recorded between the
 * two steps makes the insert fail on the primary key and roll back. Throws
 * when COMMIT got no answer: then nobody knows whether the run is stored.
 */
export async function createTickets(
  sql: Sql,
  jobs: readonly CreateJob[],
): Promise<CreateOutcome[] | null> {
  const now = new Date();
  const keyed = jobs.flatMap((j, i) => j.idempotency ? [i] : []);
  let first;
  try {
    // Ids only for the creates no recorded key answers: a client's retry
    // must not leave a gap in the ticket numbers.
    [first] = await sql`
    WITH prior AS (
      SELECT scope, key, fingerprint, response, created_at
      FROM idempotency_keys
      WHERE (scope, key) IN (SELECT * FROM unnest(
        ${keyed.map((i) => jobs[i]!.idempotency!.scope)}::text[],
        ${keyed.map((i) => jobs[i]!.idempotency!.key)}::text[])))
    SELECT ARRAY(SELECT nextval(pg_get_serial_sequence('tickets', 'id'))
                 FROM generate_series(1,
                   ${jobs.length}::int - (SELECT count(*)::int FROM prior))) AS ids,
      (SELECT coalesce(json_agg(json_build_object(
                'scope', scope, 'key', key, 'fingerprint', fingerprint,
                'response', response, 'created_at', created_at)), '[]'::json)
       FROM prior) AS prior`;
  } catch {
    return null; // nothing written; write by write reports the error
  }
  const ids = (first!.ids as unknown[]).map(Number);
  const outcomes: (CreateOutcome | null)[] = jobs.map(() => null);
  const expired: IdempotencyOptions[] = [];
  const verdicts = keyVerdicts(
    keyed.map((i) => jobs[i]!.idempotency!),
    first!.prior as Record<string, unknown>[],
    now,
  );
  for (const [n, verdict] of verdicts.entries()) {
    const i = keyed[n]!;
    if (verdict?.kind === "replay") {
      outcomes[i] = {
        ok: true,
        value: { ticket: verdict.ticket, replayed: true, event: null },
      };
    } else if (verdict?.kind === "expired") {
      expired.push(jobs[i]!.idempotency!);
    } else if (verdict) outcomes[i] = { ok: false, error: verdict.error };
  }
  const todo = jobs.flatMap((_, i) => outcomes[i] ? [] : [i]);
  if (todo.length === 0) return outcomes as CreateOutcome[];
  if (todo.length > ids.length) {
    // A recorded key too old to answer is created again: it needs an id too.
    try {
      const [more] = await sql`
        SELECT ARRAY(SELECT nextval(pg_get_serial_sequence('tickets', 'id'))
                     FROM generate_series(1, ${
        todo.length - ids.length
      }::int)) AS ids`;
      ids.push(...(more!.ids as unknown[]).map(Number));
    } catch {
      return null;
    }
  }
  const at = now.toISOString();
  const rows = todo.map((i, ord) => {
    const job = jobs[i]!;
    // The row as the insert leaves it: every column given, none defaulted.
    const ticket = rowToTicket({
      id: ids[ord],
      user_id: job.input.user_id,
      pdf_link: job.input.pdf_link,
      product_id: job.input.product_id,
      other_ids: job.input.other_ids,
      status: "Open",
      description: "",
      comments: "",
      assignee: null,
      priority: priorityRank(job.input.priority),
      created_at: at,
      updated_at: at,
      version: 1,
      token_version: 1,
      first_response_at: null,
      resolved_at: null,
      reopened_count: 0,
    });
    const draft = createdEvent(ticket, job.actor);
    return { i, ord, ticket, draft, type: webhookType(draft)! };
  });
  const input = JSON.stringify(rows.map(({ i, ord, ticket, draft, type }) => {
    const idem = jobs[i]!.idempotency;
    return {
      ord,
      id: ticket.id,
      user_id: ticket.user_id,
      pdf_link: ticket.pdf_link,
      product_id: ticket.product_id,
      other_ids: ticket.other_ids,
      priority: priorityRank(ticket.priority),
      actor: draft.actor,
      data: JSON.stringify(draft.data),
      scope: idem?.scope ?? null,
      key: idem?.key ?? null,
      fingerprint: idem?.fingerprint ?? null,
      response: JSON.stringify(ticket),
      type,
      msg_id: newMessageId(),
      payload: webhookBody(type, draft, ticket),
    };
  }));
  const c = await sql.reserve();
  let written;
  try {
    const sent = [
      c.unsafe("BEGIN"),
      c`SELECT pg_advisory_xact_lock(${WRITE_LOCK}, hashtext(current_schema()))`,
      // Keys past their lifetime go first; one renewed meanwhile stays and
      // makes the insert below fail, so the run is redone write by write.
      expired.length > 0
        ? c`DELETE FROM idempotency_keys
            WHERE (scope, key) IN (SELECT * FROM unnest(
              ${expired.map((k) => k.scope)}::text[],
              ${expired.map((k) => k.key)}::text[]))
              AND created_at <= ${new Date(now.getTime() - IDEMPOTENCY_TTL_MS)}`
        : null,
      c`
      WITH input AS (
        SELECT * FROM json_to_recordset(${input}::text::json) AS r(
          ord int, id bigint, user_id text, pdf_link text, product_id text,
          other_ids text, priority smallint, actor text, data text, scope text,
          key text, fingerprint text, response text, type text, msg_id text,
          payload text)
      ), t AS (
        INSERT INTO tickets (id, user_id, pdf_link, product_id, other_ids,
          status, description, comments, priority, created_at, updated_at,
          version, token_version, reopened_count)
        SELECT id, user_id, pdf_link, product_id, other_ids, 'Open', '', '',
          priority, ${now}, ${now}, 1, 1, 0
        FROM input ORDER BY ord
        RETURNING id
      ), e AS (
        INSERT INTO events (type, ticket_id, actor, data, created_at)
        SELECT 'ticket.created', id, actor, data::json, ${now}
        FROM input ORDER BY ord
        RETURNING id, ticket_id
      ), k AS (
        INSERT INTO idempotency_keys
          (scope, key, fingerprint, ticket_id, response, created_at)
        SELECT scope, key, fingerprint, id, response, ${now}
        FROM input WHERE key IS NOT NULL
      ), d AS (
        INSERT INTO webhook_deliveries (endpoint_id, event_id, ticket_id, type,
          msg_id, payload, next_attempt_at, created_at)
        SELECT w.id, e.id, e.ticket_id, i.type, i.msg_id, i.payload, ${now}, ${now}
        FROM e JOIN input i ON i.id = e.ticket_id
        CROSS JOIN webhook_endpoints w
        WHERE w.disabled_at IS NULL
          AND i.type = ANY(string_to_array(w.events, ','))
        ORDER BY e.id, w.id
      )
      SELECT e.id, e.ticket_id, (SELECT count(*) FROM t) AS tickets,
        CASE WHEN e.id = max(e.id) OVER ()
          THEN pg_notify(${EVENTS_CHANNEL}, e.id::text) END AS notified
      FROM e`,
      c.unsafe("COMMIT"),
    ];
    // Every statement settles before the connection goes back to the pool.
    const done = await Promise.allSettled(sent);
    const commit = done[4]!;
    // No answer to COMMIT: whether it took effect is unknown, so nothing is
    // redone (that could store a ticket twice); every writer hears so.
    if (commit.status === "rejected") throw commit.reason;
    // A statement failed and COMMIT rolled back: nothing was written.
    if ((commit.value as { command?: string }).command !== "COMMIT") {
      return null;
    }
    written = (done[3] as PromiseFulfilledResult<Record<string, unknown>[]>)
      .value;
  } finally {
    c.release();
  }
  const eventOf = new Map(written.map((r) => [Number(r.ticket_id), r.id]));
  for (const { i, ticket, draft } of rows) {
    const event: TicketEvent = {
      id: Number(eventOf.get(ticket.id)),
      ...draft,
      ticket: { ...ticket, comment_count: 0 },
    };
    outcomes[i] = { ok: true, value: { ticket, replayed: false, event } };
  }
  return outcomes as CreateOutcome[];
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
      prior,
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
