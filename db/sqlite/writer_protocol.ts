/**
 * Messages between the main thread and the writer worker. Batches and their
 * outcomes cross as JSON text: V8's structured clone of a batch of 25
 * created tickets took about 650 µs on each side, its JSON a tenth of that
 * (measured; a string crosses as one copy).
 */
import type { PragmaReport } from "./connection.ts";
import type { WriteOp, WriteOutcome } from "./writes.ts";

export type WorkerRequest =
  | { type: "open"; path: string }
  /** `ops`: the batch's WriteOp[] as JSON. */
  | { type: "batch"; id: number; ops: string }
  | { type: "close" };

export type WorkerReply =
  | { type: "ready"; pragmas: PragmaReport; migrated: string[] }
  | { type: "failed"; message: string }
  /** `outcomes`: encodeOutcomes' text; `ms`: the writer's own time, BEGIN to COMMIT. */
  | { type: "done"; id: number; outcomes: string; ms: number }
  | { type: "closed" };

type Created = { ticket: object; event: { ticket?: object } | null };

/**
 * The outcomes as JSON, without what the main thread can rebuild: a new
 * ticket's event carries the ticket again (decodeOutcomes puts it back).
 */
export function encodeOutcomes(
  ops: readonly WriteOp[],
  outcomes: readonly WriteOutcome[],
): string {
  return JSON.stringify(outcomes.map((o, i) => {
    if (ops[i]?.kind !== "createTicket" || !o.ok) return o;
    const v = o.value as Created;
    if (!v.event) return o;
    const { ticket: _, ...event } = v.event;
    return { ok: true, value: { ...v, event } };
  }));
}

/** Reads encodeOutcomes' text back into the outcomes the writer returned. */
export function decodeOutcomes(
  ops: readonly WriteOp[],
  text: string,
): WriteOutcome[] {
  const outcomes = JSON.parse(text) as WriteOutcome[];
  outcomes.forEach((o, i) => {
    if (ops[i]?.kind !== "createTicket" || !o.ok) return;
    const v = o.value as Created;
    if (v.event) v.event.ticket = { ...v.ticket, comment_count: 0 };
  });
  return outcomes;
}
