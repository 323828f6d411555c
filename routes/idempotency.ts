/** The Idempotency-Key header: a retried create returns the first answer and creates nothing. */
import { createHash } from "node:crypto";
import type { Context } from "hono";
import type {
  CreateResult,
  IdempotencyOptions,
  NewTicket,
  TicketStore,
} from "../db/store.ts";
import { HttpProblem } from "./problems.ts";

const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;

/** Reads and checks the Idempotency-Key header; undefined when absent. */
function readKey(c: Context): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!KEY_FORMAT.test(key)) {
    throw new HttpProblem({
      status: 400,
      title: "Malformed Idempotency-Key",
      detail:
        "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is ideal)",
      errors: [{
        field: "Idempotency-Key",
        detail: "must be 1 to 255 visible ASCII characters",
      }],
    });
  }
  return key;
}

export type IdempotentCreate = (
  c: Context,
  opts: { scope: string; input: NewTicket; actor: string },
) => Promise<CreateResult>;

/** Returns a create function that honours Idempotency-Key within a scope. */
export function idempotentCreator(store: TicketStore): IdempotentCreate {
  // Keys whose first request is still running in this process. Two retries racing
  // each other must not both create: the second is told to come back (409).
  const inFlight = new Set<string>();
  return (c, opts) => createWith(c, store, inFlight, opts);
}

async function createWith(
  c: Context,
  store: TicketStore,
  inFlight: Set<string>,
  opts: { scope: string; input: NewTicket; actor: string },
): Promise<CreateResult> {
  const key = readKey(c);
  if (key === undefined) {
    return store.createTicket(opts.input, { actor: opts.actor });
  }
  const idempotency: IdempotencyOptions = {
    scope: opts.scope,
    key,
    fingerprint: createHash("sha256").update(JSON.stringify(opts.input))
      .digest("base64url"),
  };
  const slot = `${opts.scope}\n${key}`;
  if (inFlight.has(slot)) {
    throw new HttpProblem({
      status: 409,
      type: "/problems/idempotency-in-flight",
      title: "Request in flight",
      detail: `A request with Idempotency-Key ${
        JSON.stringify(key)
      } is still being processed; retry shortly`,
      headers: { "Retry-After": "1" },
    });
  }
  inFlight.add(slot);
  try {
    const result = await store.createTicket(opts.input, {
      actor: opts.actor,
      idempotency,
    });
    if (result.replayed) c.header("Idempotent-Replayed", "true");
    return result;
  } finally {
    inFlight.delete(slot);
  }
}
