/**
 * The write rules both backends share: what an idempotency key means, when a
 * version is stale, what a patch changes, and which event each change
 * records. Only the SQL around them differs per backend.
 */
import {
  AlreadyAssignedError,
  type Comment,
  IdempotencyMismatchError,
  type IdempotencyOptions,
  StaleVersionError,
  type Status,
  StoreError,
  type Ticket,
  type TicketEvent,
  type TicketPatch,
  type WebhookEventType,
} from "./store.ts";
import { commentJson, ticketJson } from "../lib/ticket_json.ts";

/** Idempotency keys are honoured for a day, as the API documents. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** An idempotency key already in the table: its request fingerprint, stored answer and age. */
export interface PriorKey {
  fingerprint: string;
  response: string;
  created_at: Date;
}

/** An idempotency_keys row as either backend returns it (PostgreSQL gives a Date or an ISO string, SQLite text). */
export function priorKey(
  row: PriorKey | Record<string, unknown> | null | undefined,
): PriorKey | null {
  if (!row) return null;
  const at: unknown = row.created_at;
  return {
    fingerprint: String(row.fingerprint),
    response: String(row.response),
    created_at: at instanceof Date ? at : new Date(String(at)),
  };
}

/**
 * What a create under an idempotency key must do, given the key's row if any:
 * `create` (no row, or one past its day: delete it first) or `replay` the
 * stored answer. A live key with another request's fingerprint is refused.
 */
export function idempotencyVerdict(
  row: PriorKey | Record<string, unknown> | null | undefined,
  idem: IdempotencyOptions,
  now: Date,
): { kind: "create"; expired: boolean } | { kind: "replay"; ticket: Ticket } {
  const prior = priorKey(row);
  if (!prior) return { kind: "create", expired: false };
  if (now.getTime() - prior.created_at.getTime() >= IDEMPOTENCY_TTL_MS) {
    return { kind: "create", expired: true };
  }
  if (prior.fingerprint !== idem.fingerprint) {
    throw new IdempotencyMismatchError(idem.key);
  }
  return { kind: "replay", ticket: JSON.parse(prior.response) as Ticket };
}

/** What a batch of creates does with one key: answer from its stored row, drop a row past its day, or refuse. */
export type KeyVerdict =
  | { kind: "replay"; ticket: Ticket }
  | { kind: "expired" }
  | { kind: "refused"; error: StoreError };

/**
 * The verdicts of a batch's keys (one per entry of `idems`) against the rows
 * found for them, as idempotencyVerdict gives each: null where the create goes
 * ahead as asked.
 */
export function keyVerdicts(
  idems: readonly IdempotencyOptions[],
  rows: Iterable<Record<string, unknown>>,
  now: Date,
): (KeyVerdict | null)[] {
  const at = (scope: unknown, key: unknown) => `${scope}\u0000${key}`;
  const prior = new Map<string, Record<string, unknown>>();
  for (const r of rows) prior.set(at(r.scope, r.key), r);
  return idems.map((idem) => {
    try {
      const verdict = idempotencyVerdict(
        prior.get(at(idem.scope, idem.key)),
        idem,
        now,
      );
      if (verdict.kind === "replay") return verdict;
      return verdict.expired ? { kind: "expired" } : null;
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      return { kind: "refused", error: err };
    }
  });
}

/** A field's value before and after a change. */
export type Changes = Record<string, { from: unknown; to: unknown }>;

/**
 * The changes `patch` makes to `cur`, or null when it changes nothing (then
 * there is no new version and no event). Throws StaleVersionError when an
 * expected version is given and is not the current one, and
 * AlreadyAssignedError when `noSteal` would take the ticket from its owner.
 */
export function patchChanges(
  cur: Ticket,
  patch: TicketPatch,
  opts: { expectedVersion?: number; noSteal?: boolean } = {},
): Changes | null {
  const { expectedVersion } = opts;
  if (expectedVersion !== undefined && expectedVersion !== cur.version) {
    throw new StaleVersionError(cur.id, expectedVersion, cur.version);
  }
  if (
    opts.noSteal && patch.assignee !== undefined && cur.assignee !== null &&
    cur.assignee !== patch.assignee
  ) {
    throw new AlreadyAssignedError(cur.id, cur.assignee);
  }
  const changes: Changes = {};
  for (const key of Object.keys(patch) as (keyof TicketPatch)[]) {
    const to = patch[key];
    if (to !== undefined && to !== cur[key]) {
      changes[key] = { from: cur[key], to };
    }
  }
  return Object.keys(changes).length > 0 ? changes : null;
}

/** The ticket's fields with a patch applied (fields the patch leaves undefined keep their value). */
export function patched(cur: Ticket, patch: TicketPatch): Ticket {
  const next = { ...cur };
  for (const key of Object.keys(patch) as (keyof TicketPatch)[]) {
    const to = patch[key];
    if (to !== undefined) Object.assign(next, { [key]: to });
  }
  return next;
}

/** The event row of a new ticket. */
export function createdEvent(
  ticket: Ticket,
  actor: string,
): Omit<TicketEvent, "id"> {
  return {
    type: "ticket.created",
    ticket_id: ticket.id,
    actor,
    data: { status: ticket.status },
    created_at: ticket.created_at,
  };
}

/** The event row of a patch that changed something. */
export function updatedEvent(
  ticket: Ticket,
  changes: Changes,
  actor: string,
): Omit<TicketEvent, "id"> {
  return {
    type: "ticket.updated",
    ticket_id: ticket.id,
    actor,
    data: { changes, version: ticket.version },
    created_at: ticket.updated_at,
  };
}

/**
 * The event row of a new comment, saying whether it was internal or public.
 * A requester's reply is recorded as `requester:<user_id>`, a name no agent
 * or API key can have.
 */
export function commentEvent(comment: Comment): Omit<TicketEvent, "id"> {
  return {
    type: "comment.added",
    ticket_id: comment.ticket_id,
    actor: comment.from_requester
      ? `requester:${comment.author}`
      : comment.author,
    data: {
      comment_id: comment.id,
      visibility: comment.visibility,
      ...(comment.from_requester ? { from_requester: true } : {}),
    },
    created_at: comment.created_at,
  };
}

/** The event row of a revoked requester link. */
export function revokedEvent(
  ticket: Ticket,
  actor: string,
  at: string,
): Omit<TicketEvent, "id"> {
  return {
    type: "requester.revoked",
    ticket_id: ticket.id,
    actor,
    data: { token_version: ticket.token_version },
    created_at: at,
  };
}

/** Report times after a status change: resolved on the move to Closed, cleared and counted on the move out. */
export function statusTimes(
  cur: Pick<Ticket, "status" | "resolved_at" | "reopened_count">,
  to: Status,
  at: string,
): Pick<Ticket, "resolved_at" | "reopened_count"> {
  if (cur.status !== "Closed" && to === "Closed") {
    return { resolved_at: at, reopened_count: cur.reopened_count };
  }
  if (cur.status === "Closed" && to !== "Closed") {
    return { resolved_at: null, reopened_count: cur.reopened_count + 1 };
  }
  return { resolved_at: cur.resolved_at, reopened_count: cur.reopened_count };
}

/** Whether a comment answers the requester: a public reply by an agent (first_response_at). */
export function isAgentReply(
  c: Pick<Comment, "visibility" | "from_requester">,
): boolean {
  return c.visibility === "public" && !c.from_requester;
}

/** What a requester's reply changes besides the thread: a Closed ticket opens again. */
export function reopenPatch(cur: Pick<Ticket, "status">): TicketPatch | null {
  return cur.status === "Closed" ? { status: "Open" } : null;
}

/** A webhook-id (Standard Webhooks): random, no dots, the same for every endpoint and attempt of one event. */
export function newMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "msg_" +
    btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
      .replace(/=+$/, "");
}

/** The webhook type of an event, or null for events no endpoint hears of. */
export function webhookType(
  e: Pick<TicketEvent, "type" | "data">,
): WebhookEventType | null {
  if (e.type === "ticket.created" || e.type === "ticket.updated") {
    return e.type;
  }
  if (e.type === "comment.added") {
    return e.data.visibility === "public"
      ? "comment.public"
      : "comment.internal";
  }
  return null;
}

/**
 * The body of an event's webhook (Standard Webhooks: type, timestamp, data),
 * written once into the outbox and sent as is: the bytes signed are the bytes
 * stored, whatever the attempt.
 */
export function webhookBody(
  type: WebhookEventType,
  e: Pick<TicketEvent, "created_at">,
  ticket: Ticket,
  comment?: Comment,
): string {
  return JSON.stringify({
    type,
    timestamp: e.created_at,
    data: {
      ticket: ticketJson(ticket),
      ...(comment ? { comment: commentJson(comment) } : {}),
    },
  });
}

/** The field-by-field changes an update event records (none for no event). */
export function changesOf(
  event: TicketEvent | null,
): Record<string, { from: unknown; to: unknown }> {
  return (event?.data.changes ?? {}) as Record<
    string,
    { from: unknown; to: unknown }
  >;
}
