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
  type Ticket,
  type TicketEvent,
  type TicketPatch,
} from "./store.ts";

/** Idempotency keys are honoured for a day, as the API documents. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** An idempotency key already in the table: its request fingerprint, stored answer and age. */
export interface PriorKey {
  fingerprint: string;
  response: string;
  created_at: Date;
}

/**
 * What a create under an idempotency key must do, given the key's row if any:
 * `create` (no row, or one past its day: delete it first) or `replay` the
 * stored answer. A live key with another request's fingerprint is refused.
 */
export function idempotencyVerdict(
  prior: PriorKey | null,
  idem: IdempotencyOptions,
  now: Date,
): { kind: "create"; expired: boolean } | { kind: "replay"; ticket: Ticket } {
  if (!prior) return { kind: "create", expired: false };
  if (now.getTime() - prior.created_at.getTime() >= IDEMPOTENCY_TTL_MS) {
    return { kind: "create", expired: true };
  }
  if (prior.fingerprint !== idem.fingerprint) {
    throw new IdempotencyMismatchError(idem.key);
  }
  return { kind: "replay", ticket: JSON.parse(prior.response) as Ticket };
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

/** The event row of a new comment. */
export function commentEvent(comment: Comment): Omit<TicketEvent, "id"> {
  return {
    type: "comment.added",
    ticket_id: comment.ticket_id,
    actor: comment.author,
    data: { comment_id: comment.id },
    created_at: comment.created_at,
  };
}
