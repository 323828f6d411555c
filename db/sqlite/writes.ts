/** Every write the SQLite store makes, run by the writer inside one transaction per batch. */
import type { Statements } from "./connection.ts";
import {
  AccountNotFoundError,
  AlreadyAssignedError,
  type Comment,
  DuplicateNameError,
  IdempotencyMismatchError,
  type IdempotencyOptions,
  type NewTicket,
  NotFoundError,
  SESSION_IDLE_MS,
  SESSION_MAX_MS,
  StaleVersionError,
  StorageUnavailableError,
  StoreError,
  type TicketEvent,
  type TicketPatch,
  type TicketSummary,
  UnknownAssigneeError,
  type Visibility,
  WebhookNotFoundError,
} from "../store.ts";
import { type AccountWrite, applyAccountWrite } from "./accounts.ts";
import {
  applyWebhookWrite,
  forgetEndpoints,
  queueDeliveries,
  type WebhookWrite,
} from "./webhooks.ts";
import {
  priorityRank,
  rowToComment,
  rowToEvent,
  rowToSummary,
  rowToTicket,
} from "../rows.ts";
import {
  changesOf,
  commentEvent,
  createdEvent,
  IDEMPOTENCY_TTL_MS,
  idempotencyVerdict,
  isAgentReply,
  keyVerdicts,
  patchChanges,
  patched,
  reopenPatch,
  revokedEvent,
  statusTimes,
  updatedEvent,
} from "../rules.ts";

export type WriteOp =
  | {
    kind: "createTicket";
    input: NewTicket;
    actor: string;
    idempotency?: IdempotencyOptions;
  }
  | {
    kind: "updateTicket";
    id: number;
    patch: TicketPatch;
    actor: string;
    expectedVersion?: number;
    noSteal?: boolean;
  }
  | {
    kind: "bulkUpdate";
    items: { id: number; expectedVersion?: number }[];
    patch: TicketPatch;
    actor: string;
    noSteal?: boolean;
  }
  | { kind: "releaseTickets"; assignee: string; actor: string }
  | {
    kind: "addComment";
    ticketId: number;
    body: string;
    actor: string;
    visibility?: Visibility;
  }
  | {
    kind: "requesterReply";
    ticketId: number;
    body: string;
    tokenVersion: number;
  }
  | { kind: "revokeRequesterLink"; ticketId: number; actor: string }
  | { kind: "webhook"; write: WebhookWrite }
  | { kind: "account"; write: AccountWrite }
  | { kind: "purgeExpired" }
  | { kind: "ping" };

export interface SerializedError {
  name: string;
  message: string;
  ticketId?: number;
  expected?: number;
  current?: number;
  key?: string;
  kind?: "user" | "api key";
  value?: string;
  owner?: string;
  assignee?: string;
  webhookId?: number;
  deliveryId?: number;
}

export type WriteOutcome =
  | { ok: true; value: unknown }
  | { ok: false; error: SerializedError };

/** SQLite primary result codes that mean "the storage cannot take writes now". */
export const STORAGE_CODES: ReadonlySet<number> = new Set([
  5, /* BUSY */
  6, /* LOCKED */
  8, /* READONLY */
  11, /* CORRUPT */
  10, /* IOERR */
  13, /* FULL */
  14, /* CANTOPEN */
  26, /* NOTADB */
]);

/** Turns a thrown value into plain data that survives postMessage. */
export function serializeError(err: unknown): SerializedError {
  const e = err as Error & Record<string, unknown>;
  const code = typeof e?.errcode === "number" ? e.errcode & 0xff : -1;
  if (STORAGE_CODES.has(code)) {
    return {
      name: "StorageUnavailableError",
      message: `The database cannot take writes: ${e.message}`,
    };
  }
  const out: SerializedError = {
    name: String(e?.name ?? "Error"),
    message: String(e?.message ?? err),
  };
  for (
    const k of [
      "ticketId",
      "expected",
      "current",
      "key",
      "kind",
      "value",
      "owner",
      "assignee",
      "webhookId",
      "deliveryId",
    ] as const
  ) {
    if (e?.[k] !== undefined) {
      (out as unknown as Record<string, unknown>)[k] = e[k];
    }
  }
  return out;
}

/** Rebuilds the typed store error from its serialized form. */
export function deserializeError(e: SerializedError): Error {
  switch (e.name) {
    case "NotFoundError":
      return new NotFoundError(e.ticketId!);
    case "StaleVersionError":
      return new StaleVersionError(e.ticketId!, e.expected!, e.current!);
    case "IdempotencyMismatchError":
      return new IdempotencyMismatchError(e.key!);
    case "StorageUnavailableError":
      return new StorageUnavailableError(e.message);
    case "DuplicateNameError":
      return new DuplicateNameError(e.kind!, e.value!);
    case "AccountNotFoundError":
      return new AccountNotFoundError(e.kind!, e.value!);
    case "AlreadyAssignedError":
      return new AlreadyAssignedError(e.ticketId!, e.owner!);
    case "UnknownAssigneeError":
      return new UnknownAssigneeError(e.assignee!);
    case "WebhookNotFoundError":
      return new WebhookNotFoundError(e.webhookId!, e.deliveryId);
    default:
      return new StoreError(e.message);
  }
}

/**
 * Runs every op of a batch in one transaction; an op that fails changes nothing.
 *
 * Fast path without savepoints: every op checks before it writes, and throws
 * its typed StoreError (not found, stale version, reused key, taken name) only
 * before its first write, so a refused op leaves nothing to undo. Savepoints
 * are not free here: FTS5 flushes its pending index data at each one, which
 * made them cost more than the writes themselves. Any other error mid-op
 * (SQLite itself failing) abandons the transaction and the batch is redone
 * with a savepoint per op, so one broken op never takes the others down.
 */
export function commitBatch(
  stmts: Statements,
  ops: readonly WriteOp[],
): WriteOutcome[] {
  const fast = runBatch(stmts, ops, false);
  return fast ?? runBatch(stmts, ops, true)!;
}

/** One attempt at a batch; null when the fast path hit an unexpected error. */
function runBatch(
  stmts: Statements,
  ops: readonly WriteOp[],
  savepoints: boolean,
): WriteOutcome[] | null {
  const db = stmts.db;
  forgetEndpoints(stmts); // read again inside this transaction
  try {
    db.exec("BEGIN IMMEDIATE");
  } catch (err) {
    const error = serializeError(err);
    return ops.map(() => ({ ok: false, error }));
  }
  const outcomes: WriteOutcome[] = [];
  for (let i = 0; i < ops.length;) {
    const run = savepoints ? 0 : createRun(ops, i);
    if (run > 1) {
      try {
        outcomes.push(
          ...createTickets(stmts, ops.slice(i, i + run) as CreateOp[]),
        );
      } catch {
        // Refusals are outcomes already: anything thrown is SQLite failing.
        try {
          db.exec("ROLLBACK");
        } catch { /* already rolled back by SQLite */ }
        return null;
      }
      i += run;
      continue;
    }
    const op = ops[i++]!;
    if (savepoints) db.exec("SAVEPOINT op");
    try {
      const value = applyWrite(stmts, op);
      if (savepoints) db.exec("RELEASE op");
      outcomes.push({ ok: true, value });
    } catch (err) {
      if (savepoints) {
        db.exec("ROLLBACK TO op");
        db.exec("RELEASE op");
      } else if (!(err instanceof StoreError)) {
        // Unknown state: undo the whole batch and redo it op by op.
        try {
          db.exec("ROLLBACK");
        } catch { /* already rolled back by SQLite */ }
        return null;
      }
      outcomes.push({ ok: false, error: serializeError(err) });
    }
  }
  try {
    db.exec("COMMIT");
  } catch (err) {
    // Nothing of this batch is on disk: every caller must hear so.
    try {
      db.exec("ROLLBACK");
    } catch { /* the transaction may already be gone */ }
    const error = serializeError(err);
    if (error.name !== "StorageUnavailableError") {
      error.name = "StorageUnavailableError";
    }
    // Disk full: give back what the WAL holds, so freed space is not eaten again.
    try {
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch { /* still no room: the next commit will say so */ }
    return ops.map(() => ({ ok: false, error }));
  }
  return outcomes;
}

type CreateOp = Extract<WriteOp, { kind: "createTicket" }>;

/**
 * How many creates from `ops[from]` on can share multi-row statements: a run
 * of consecutive creates, ending before a key the run already holds (that
 * one must see the row its twin writes).
 */
function createRun(ops: readonly WriteOp[], from: number): number {
  const keys = new Set<string>();
  let n = 0;
  for (let i = from; i < ops.length; i++, n++) {
    const op = ops[i]!;
    if (op.kind !== "createTicket") break;
    if (op.idempotency) {
      const k = `${op.idempotency.scope}\u0000${op.idempotency.key}`;
      if (keys.has(k)) break;
      keys.add(k);
    }
  }
  return n;
}

/**
 * Creates a run of tickets with one statement per table rather than one per
 * ticket (measured: each node:sqlite call costs about as much as the row it
 * writes). The same rules as createTicket: a reused key replays or is
 * refused before anything is written, and ids follow the order of `ops`.
 */
function createTickets(
  stmts: Statements,
  ops: readonly CreateOp[],
): WriteOutcome[] {
  const now = new Date();
  const at = now.toISOString();
  const outcomes: (WriteOutcome | null)[] = ops.map(() => null);
  const keyed = ops.flatMap((op, i) => op.idempotency ? [i] : []);
  if (keyed.length > 0) {
    const idems = keyed.map((i) => ops[i]!.idempotency!);
    const rows = stmts.get(
      `SELECT i.scope, i.key, i.fingerprint, i.response, i.created_at
       FROM json_each(?) j JOIN idempotency_keys i
         ON i.scope = j.value ->> 0 AND i.key = j.value ->> 1`,
    ).all(JSON.stringify(idems.map((k) => [k.scope, k.key])));
    for (const [n, verdict] of keyVerdicts(idems, rows, now).entries()) {
      const i = keyed[n]!;
      if (verdict?.kind === "replay") {
        outcomes[i] = {
          ok: true,
          value: { ticket: verdict.ticket, replayed: true, event: null },
        };
      } else if (verdict?.kind === "expired") {
        stmts.get("DELETE FROM idempotency_keys WHERE scope = ? AND key = ?")
          .run(idems[n]!.scope, idems[n]!.key);
      } else if (verdict) {
        outcomes[i] = { ok: false, error: serializeError(verdict.error) };
      }
    }
  }
  const todo = ops.flatMap((_, i) => outcomes[i] ? [] : [i]);
  if (todo.length === 0) return outcomes as WriteOutcome[];
  // Rows are inserted in array order, so ids rise in the order of `todo`;
  // RETURNING gives no order of its own, hence the sorts by id.
  const byId = (a: Record<string, unknown>, b: Record<string, unknown>) =>
    Number(a.id) - Number(b.id);
  const tickets = stmts.get(
    `INSERT INTO tickets (user_id, pdf_link, product_id, other_ids, priority,
       created_at, updated_at)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, ?1, ?1
     FROM json_each(?2) ORDER BY key RETURNING *`,
  ).all(
    at,
    JSON.stringify(todo.map((i) => {
      const t = ops[i]!.input;
      return [
        t.user_id,
        t.pdf_link,
        t.product_id,
        t.other_ids,
        priorityRank(t.priority),
      ];
    })),
  ).sort(byId).map(rowToTicket);
  const drafts = tickets.map((t, k) => createdEvent(t, ops[todo[k]!]!.actor));
  const eventIds = stmts.get(
    `INSERT INTO events (type, ticket_id, actor, data, created_at)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4
     FROM json_each(?) ORDER BY key RETURNING id`,
  ).all(JSON.stringify(
    drafts.map((
      e,
    ) => [e.type, e.ticket_id, e.actor, JSON.stringify(e.data), e.created_at]),
  )).map((r) => Number(r.id)).sort((a, b) => a - b);
  const keys: unknown[][] = [];
  tickets.forEach((ticket, k) => {
    const i = todo[k]!;
    const event: TicketEvent = {
      id: eventIds[k]!,
      ...drafts[k]!,
      ticket: { ...ticket, comment_count: 0 },
    };
    queueDeliveries(stmts, event);
    const idem = ops[i]!.idempotency;
    if (idem) {
      keys.push([
        idem.scope,
        idem.key,
        idem.fingerprint,
        ticket.id,
        JSON.stringify(ticket),
      ]);
    }
    outcomes[i] = { ok: true, value: { ticket, replayed: false, event } };
  });
  if (keys.length > 0) {
    stmts.get(
      `INSERT INTO idempotency_keys (scope, key, fingerprint, ticket_id, response, created_at)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, ?
       FROM json_each(?)`,
    ).run(at, JSON.stringify(keys));
  }
  return outcomes as WriteOutcome[];
}

/** Applies one write op inside the caller's transaction. */
export function applyWrite(stmts: Statements, op: WriteOp): unknown {
  switch (op.kind) {
    case "createTicket":
      return createTicket(stmts, op);
    case "updateTicket":
      return updateTicket(stmts, op);
    case "bulkUpdate":
      return bulkUpdate(stmts, op);
    case "releaseTickets":
      return releaseTickets(stmts, op);
    case "addComment":
      return addComment(stmts, op);
    case "requesterReply":
      return requesterReply(stmts, op);
    case "revokeRequesterLink":
      return revokeRequesterLink(stmts, op);
    case "webhook":
      return applyWebhookWrite(stmts, op.write);
    case "account":
      return applyAccountWrite(stmts, op.write);
    case "purgeExpired":
      return purgeExpired(stmts);
    case "ping":
      return stmts.get("SELECT count(*) AS n FROM schema_migrations").get();
  }
}

/**
 * Inserts an event row, and the webhook deliveries it owes (the outbox, in
 * the same transaction); the event carries the ticket as this change left it.
 */
function insertEvent(
  stmts: Statements,
  e: Omit<TicketEvent, "id">,
  ticket: TicketSummary,
  comment?: Comment,
): TicketEvent {
  const row = stmts.get(
    `INSERT INTO events (type, ticket_id, actor, data, created_at)
     VALUES (?, ?, ?, ?, ?) RETURNING *`,
  ).get(e.type, e.ticket_id, e.actor, JSON.stringify(e.data), e.created_at);
  const event: TicketEvent = { ...rowToEvent(row!), ticket };
  if (comment) event.comment = comment;
  queueDeliveries(stmts, event);
  return event;
}

/** The ticket row with the count of its comment rows, as the writer returns it. */
const RETURNING_SUMMARY = `RETURNING *,
  (SELECT count(*) FROM comments c WHERE c.ticket_id = tickets.id) AS comment_count`;

/** Creates a ticket and its event, or replays an earlier create under the same key. */
function createTicket(
  stmts: Statements,
  op: Extract<WriteOp, { kind: "createTicket" }>,
) {
  const now = new Date();
  const idem = op.idempotency;
  if (idem) {
    const prior = stmts.get(
      `SELECT fingerprint, response, created_at FROM idempotency_keys
       WHERE scope = ? AND key = ?`,
    ).get(idem.scope, idem.key);
    const verdict = idempotencyVerdict(
      prior,
      idem,
      now,
    );
    if (verdict.kind === "replay") {
      return { ticket: verdict.ticket, replayed: true, event: null };
    }
    if (verdict.expired) {
      stmts.get("DELETE FROM idempotency_keys WHERE scope = ? AND key = ?")
        .run(idem.scope, idem.key);
    }
  }
  const at = now.toISOString();
  const ticket = rowToTicket(
    stmts.get(
      `INSERT INTO tickets (user_id, pdf_link, product_id, other_ids, priority,
         created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ).get(
      op.input.user_id,
      op.input.pdf_link,
      op.input.product_id,
      op.input.other_ids,
      priorityRank(op.input.priority),
      at,
      at,
    )!,
  );
  const event = insertEvent(stmts, createdEvent(ticket, op.actor), {
    ...ticket,
    comment_count: 0,
  });
  if (idem) {
    stmts.get(
      `INSERT INTO idempotency_keys (scope, key, fingerprint, ticket_id, response, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(
      idem.scope,
      idem.key,
      idem.fingerprint,
      ticket.id,
      JSON.stringify(ticket),
      at,
    );
  }
  return { ticket, replayed: false, event };
}

function currentTicket(stmts: Statements, id: number): TicketSummary {
  const row = stmts.get(
    `SELECT *, (SELECT count(*) FROM comments c WHERE c.ticket_id = tickets.id)
       AS comment_count FROM tickets WHERE id = ?`,
  ).get(id);
  if (!row) throw new NotFoundError(id);
  return rowToSummary(row);
}

/** The owner as the user spells their name; UnknownAssigneeError unless an active user. */
function resolveAssignee(stmts: Statements, name: string | null | undefined) {
  if (name === undefined || name === null) return name;
  // users.username is COLLATE NOCASE: any letter case finds the user.
  const row = stmts.get(
    "SELECT username FROM users WHERE username = ? AND disabled = 0",
  ).get(name);
  if (!row) throw new UnknownAssigneeError(name);
  return String(row.username);
}

/** Applies a patch to one ticket with its checks (rules.ts decides what changes). */
function applyPatch(
  stmts: Statements,
  id: number,
  patch: TicketPatch,
  opts: { actor: string; expectedVersion?: number; noSteal?: boolean },
): { value: TicketSummary; event: TicketEvent | null } {
  const cur = currentTicket(stmts, id);
  const assignee = resolveAssignee(stmts, patch.assignee);
  const wanted = assignee === undefined ? patch : { ...patch, assignee };
  const changes = patchChanges(cur, wanted, opts);
  if (!changes) return { value: cur, event: null };
  const next = patched(cur, wanted);
  if (changes.status) setStatusTimes(stmts, cur, next.status);
  const summary = rowToSummary(
    stmts.get(
      `UPDATE tickets SET status = ?, description = ?, assignee = ?, priority = ?,
         updated_at = ?, version = version + 1
       WHERE id = ? ${RETURNING_SUMMARY}`,
    ).get(
      next.status,
      next.description,
      next.assignee,
      priorityRank(next.priority),
      new Date().toISOString(),
      id,
    )!,
  );
  const event = insertEvent(
    stmts,
    updatedEvent(summary, changes, opts.actor),
    summary,
  );
  return { value: summary, event };
}

/** Applies a patch with its version and owner checks. */
function updateTicket(
  stmts: Statements,
  op: Extract<WriteOp, { kind: "updateTicket" }>,
) {
  return applyPatch(stmts, op.id, op.patch, op);
}

/**
 * One patch for many tickets: each is checked on its own and a refused one
 * is skipped (refusals come before any write, so nothing is left to undo).
 */
function bulkUpdate(
  stmts: Statements,
  op: Extract<WriteOp, { kind: "bulkUpdate" }>,
) {
  const events: TicketEvent[] = [];
  // An unknown owner refuses the whole change, before any ticket is touched.
  const assignee = resolveAssignee(stmts, op.patch.assignee);
  const patch = assignee === undefined ? op.patch : { ...op.patch, assignee };
  const outcomes = op.items.map((item) => {
    try {
      const { value, event } = applyPatch(stmts, item.id, patch, {
        actor: op.actor,
        expectedVersion: item.expectedVersion,
        // A ticket given with its version is checked by that version instead.
        noSteal: op.noSteal && item.expectedVersion === undefined,
      });
      if (event) events.push(event);
      return {
        id: item.id,
        ok: true as const,
        ticket: value,
        changes: changesOf(event),
      };
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      return { id: item.id, ok: false as const, error: serializeError(err) };
    }
  });
  return { outcomes, events };
}

/** Unassigns a user's Open and Pending tickets (a disabled user's work goes back to the queue). */
function releaseTickets(
  stmts: Statements,
  op: Extract<WriteOp, { kind: "releaseTickets" }>,
) {
  const ids = stmts.get(
    `SELECT id FROM tickets WHERE assignee = ? AND status IN ('Open', 'Pending')
     ORDER BY id`,
  ).all(op.assignee).map((r) => Number(r.id));
  const events = ids.flatMap((id) =>
    applyPatch(stmts, id, { assignee: null }, { actor: op.actor }).event ?? []
  );
  return { value: events.length, events };
}

/** Appends a comment; comments do not bump the ticket's version (they never conflict). */
function addComment(
  stmts: Statements,
  op: Extract<WriteOp, { kind: "addComment" }>,
) {
  currentTicket(stmts, op.ticketId);
  return insertComment(stmts, op.ticketId, {
    author: op.actor,
    body: op.body,
    visibility: op.visibility ?? "internal",
    from_requester: false,
  });
}

/** Inserts a comment, touches its ticket (first_response_at on an agent's first public reply), records the event. */
function insertComment(
  stmts: Statements,
  ticketId: number,
  c: Pick<Comment, "author" | "body" | "visibility" | "from_requester">,
) {
  const at = new Date().toISOString();
  const comment = rowToComment(
    stmts.get(
      `INSERT INTO comments (ticket_id, author, body, visibility, from_requester, created_at)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
    ).get(
      ticketId,
      c.author,
      c.body,
      c.visibility,
      c.from_requester ? 1 : 0,
      at,
    )!,
  );
  const summary = rowToSummary(
    stmts.get(
      `UPDATE tickets SET updated_at = ?,
         first_response_at = CASE WHEN ? THEN coalesce(first_response_at, ?)
                             ELSE first_response_at END
       WHERE id = ? ${RETURNING_SUMMARY}`,
    ).get(at, isAgentReply(comment) ? 1 : 0, at, ticketId)!,
  );
  const event = insertEvent(stmts, commentEvent(comment), summary, comment);
  return { value: comment, event };
}

/** Report times of a status change (rules.ts), written before the change's own UPDATE returns the row. */
function setStatusTimes(
  stmts: Statements,
  cur: TicketSummary,
  to: TicketSummary["status"],
) {
  const t = statusTimes(cur, to, new Date().toISOString());
  stmts.get(
    "UPDATE tickets SET resolved_at = ?, reopened_count = ? WHERE id = ?",
  ).run(t.resolved_at, t.reopened_count, cur.id);
}

/** The requester's public reply through their link; a Closed ticket opens again (a second event). */
function requesterReply(
  stmts: Statements,
  op: Extract<WriteOp, { kind: "requesterReply" }>,
) {
  const cur = currentTicket(stmts, op.ticketId);
  // Revoked between the link's check and this write: the link is dead.
  if (cur.token_version !== op.tokenVersion) {
    throw new NotFoundError(op.ticketId);
  }
  const { value, event } = insertComment(stmts, op.ticketId, {
    author: cur.user_id,
    body: op.body,
    visibility: "public",
    from_requester: true,
  });
  const events = [event];
  const reopen = reopenPatch(cur);
  if (reopen) {
    const r = updateTicket(stmts, {
      kind: "updateTicket",
      id: op.ticketId,
      patch: reopen,
      actor: event.actor,
    });
    if (r.event) events.push(r.event);
  }
  return { value, event, events, reopened: reopen !== null };
}

/** Bumps the token version, so the requester's link stops working; the event says who. */
function revokeRequesterLink(
  stmts: Statements,
  op: Extract<WriteOp, { kind: "revokeRequesterLink" }>,
) {
  currentTicket(stmts, op.ticketId);
  const summary = rowToSummary(
    stmts.get(
      `UPDATE tickets SET token_version = token_version + 1
       WHERE id = ? ${RETURNING_SUMMARY}`,
    ).get(op.ticketId)!,
  );
  const event = insertEvent(
    stmts,
    revokedEvent(summary, op.actor, new Date().toISOString()),
    summary,
  );
  return { value: summary, event };
}

/** Drops idempotency keys and sessions past their lifetime. */
function purgeExpired(stmts: Statements) {
  const now = Date.now();
  const before = (ms: number) => new Date(now - ms).toISOString();
  const keys = stmts.get("DELETE FROM idempotency_keys WHERE created_at < ?")
    .run(before(IDEMPOTENCY_TTL_MS)).changes;
  const sessions = stmts.get(
    "DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?",
  ).run(before(SESSION_IDLE_MS), before(SESSION_MAX_MS)).changes;
  return { idempotencyKeys: Number(keys), sessions: Number(sessions) };
}
