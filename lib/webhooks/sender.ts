/**
 * The webhook sender: a loop in the server process that claims due
 * deliveries from the outbox, signs and POSTs each, and records what became of
 * it. At least once, in order per ticket and endpoint (the store hands out a
 * ticket's next delivery only once the one before it is done), each delivery
 * by one sender at a time (a lease; FOR UPDATE SKIP LOCKED on PostgreSQL).
 * Committed events wake it at once; retries come due on a short poll.
 */
import type { EventBus } from "../../db/bus.ts";
import type { DueDelivery, WebhookStore } from "../../db/store.ts";
import type { Logger } from "../../log.ts";
import { destinationProblem, type Resolver } from "./destination.ts";
import { type AttemptResult, nextStep } from "./retry.ts";
import { webhookHeaders } from "./signature.ts";

export interface SenderOptions {
  store: WebhookStore;
  logger: Logger;
  /** Ends the loop; attempts in flight are cut short and left to their lease. */
  signal: AbortSignal;
  /** Waits in seconds before each attempt (WEBHOOK_RETRY_SCHEDULE). */
  schedule: readonly number[];
  /** WEBHOOK_ALLOW_PRIVATE: skip the private-address guard. */
  allowPrivate: boolean;
  /** Committed events wake the sender (else it finds them on its next poll). */
  bus?: EventBus;
  /** How often to look for deliveries coming due, in ms (1000). */
  pollMs?: number;
  /** Each attempt's time limit, in ms (10 s). */
  timeoutMs?: number;
  /** Attempts in flight at once (8). */
  concurrency?: number;
  /** Stands in for DNS in tests. */
  resolve?: Resolver;
}

/** A claim outlives a whole attempt (10 s) by far; a sender that died leaves it to expire. */
const LEASE_MS = 60_000;

/** Starts the loop; resolves `stopped` once it has ended after the signal. */
export function startWebhookSender(
  opts: SenderOptions,
): { stopped: Promise<void>; wake(): void } {
  let wake = () => {};
  const unsubscribe = opts.bus?.subscribe(() => wake());
  const stopped = run(opts, (w) => (wake = w)).finally(() => unsubscribe?.());
  return { stopped, wake: () => wake() };
}

async function run(
  opts: SenderOptions,
  onWake: (wake: () => void) => void,
): Promise<void> {
  const { store, logger, signal } = opts;
  const pollMs = opts.pollMs ?? 1000;
  let woken = false;
  let resolveSleep: (() => void) | null = null;
  onWake(() => {
    woken = true;
    resolveSleep?.();
  });
  signal.addEventListener("abort", () => resolveSleep?.());
  try {
    await store.releaseDeliveries();
  } catch (err) {
    logger.warn("webhooks: cannot release earlier claims", {
      error: String(err),
    });
  }
  while (!signal.aborted) {
    woken = false;
    let due: DueDelivery[] = [];
    try {
      due = await store.claimDeliveries({
        limit: opts.concurrency ?? 8,
        leaseMs: LEASE_MS,
        firstWaitMs: (opts.schedule[0] ?? 0) * 1000,
      });
    } catch (err) {
      if (signal.aborted) break;
      logger.warn("webhooks: cannot claim deliveries", { error: String(err) });
    }
    if (due.length > 0) {
      await Promise.all(due.map((d) => deliver(opts, d)));
      continue;
    }
    if (woken) continue; // an event committed while we looked
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      resolveSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    resolveSleep = null;
  }
}

/** One attempt at one delivery, recorded with what follows from it. */
async function deliver(opts: SenderOptions, d: DueDelivery): Promise<void> {
  const result = await attempt(opts, d);
  if (opts.signal.aborted) return; // shutting down: the lease brings it back
  const record = nextStep(d.attempt, opts.schedule, result);
  try {
    await opts.store.finishDelivery(d.id, record);
  } catch (err) {
    opts.logger.warn("webhooks: cannot record an attempt", {
      delivery: d.id,
      error: String(err),
    });
    return;
  }
  if (record.disable_reason) {
    opts.logger.warn("webhook endpoint disabled", {
      endpoint: d.endpoint_id,
      url: d.url,
      reason: record.disable_reason,
    });
  } else if (record.outcome !== "delivered") {
    opts.logger.info("webhook attempt failed", {
      endpoint: d.endpoint_id,
      delivery: d.id,
      attempt: d.attempt,
      error: record.error,
      next_attempt_at: record.next_attempt_at,
    });
  }
}

/** Signs and POSTs a delivery's payload: no redirects followed, 10 s at most. */
async function attempt(
  opts: SenderOptions,
  d: DueDelivery,
): Promise<AttemptResult> {
  const t0 = performance.now();
  const took = () => Math.round(performance.now() - t0);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  try {
    const refused = await destinationProblem(d.url, {
      allowPrivate: opts.allowPrivate,
      resolve: opts.resolve,
    });
    if (refused) return { status: null, error: refused, durationMs: took() };
  } catch (err) {
    return {
      status: null,
      error: (err as Error).message,
      durationMs: took(),
    };
  }
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(d.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.any([timeout, opts.signal]),
      headers: {
        "content-type": "application/json",
        "user-agent": "ticket-desk-webhooks/1",
        ...webhookHeaders(
          d.secrets,
          d.msg_id,
          Math.floor(Date.now() / 1000),
          d.payload,
        ),
      },
      body: d.payload,
    });
    await res.body?.cancel().catch(() => {});
    const location = res.headers.get("location");
    return {
      status: res.status,
      error: res.status >= 300 && res.status < 400
        ? `HTTP ${res.status} redirect${
          location ? ` to ${location.slice(0, 200)}` : ""
        }: not followed; update the endpoint's URL`
        : res.ok
        ? null
        : `HTTP ${res.status}`,
      retryAfter: res.headers.get("retry-after"),
      durationMs: took(),
    };
  } catch (err) {
    const e = err as Error;
    return {
      status: null,
      error: timeout.aborted
        ? `timed out after ${timeoutMs / 1000} s`
        : `connection failed: ${e.message}`.slice(0, 500),
      durationMs: took(),
    };
  }
}
