/**
 * What an attempt's outcome means (Standard Webhooks' suggestions, as the
 * issue settles them): 2xx is delivered; timeouts, connection errors, 3xx
 * (redirects are not followed), 408, 429 and 5xx are tried again on the
 * schedule, with jitter and at least what a 429's or 503's Retry-After asks;
 * other 4xx are final for that delivery; 410 Gone also disables the endpoint,
 * as does a delivery whose last scheduled attempt fails.
 */
import type { AttemptRecord } from "../../db/store.ts";

/** What one attempt saw. */
export interface AttemptResult {
  /** The response's status, or null when there was none (timeout, connection, refused). */
  status: number | null;
  /** Why it failed, in words, when it did. */
  error: string | null;
  /** The response's Retry-After header, if any. */
  retryAfter?: string | null;
  durationMs: number;
}

/** Retry-After is honoured up to a day; a longer one is a day. */
const MAX_RETRY_AFTER_S = 24 * 60 * 60;

/** Seconds a Retry-After header asks for (delta-seconds or an HTTP date), or null. */
export function retryAfterSeconds(
  header: string | null | undefined,
  now: Date,
): number | null {
  if (!header) return null;
  const text = header.trim();
  if (/^\d{1,10}$/.test(text)) {
    return Math.min(Number(text), MAX_RETRY_AFTER_S);
  }
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.min(
    Math.max(0, Math.ceil((at - now.getTime()) / 1000)),
    MAX_RETRY_AFTER_S,
  );
}

function retryable(status: number | null): boolean {
  return status === null || status === 408 || status === 429 ||
    (status >= 300 && status < 400) || status >= 500;
}

/** "5 s", "30 min", "28 h": a wait in words. */
export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/**
 * The record of attempt number `attempt` (from 1) and what follows it, given
 * the schedule's waits in seconds (`schedule[n]` before attempt n + 1).
 */
export function nextStep(
  attempt: number,
  schedule: readonly number[],
  r: AttemptResult,
  now = new Date(),
  random: () => number = Math.random,
): AttemptRecord {
  const base = {
    status_code: r.status,
    duration_ms: r.durationMs,
  };
  if (r.status !== null && r.status >= 200 && r.status < 300) {
    return { ...base, error: null, outcome: "delivered" };
  }
  const error = r.error ?? `HTTP ${r.status}`;
  if (r.status === 410) {
    return {
      ...base,
      error,
      outcome: "failed",
      disable_reason:
        "The receiver answered 410 Gone: it wants no more webhooks here.",
    };
  }
  if (!retryable(r.status)) return { ...base, error, outcome: "failed" };
  if (attempt >= schedule.length) {
    const total = schedule.slice(1).reduce((a, b) => a + b, 0);
    return {
      ...base,
      error,
      outcome: "failed",
      disable_reason: `Every attempt failed: ${attempt} over ${
        duration(total)
      }; the last one: ${error}.`,
    };
  }
  // ±20% jitter, so retries after an outage do not all arrive at once.
  let wait = schedule[attempt]! * (0.8 + 0.4 * random());
  if (r.status === 429 || r.status === 503) {
    wait = Math.max(wait, retryAfterSeconds(r.retryAfter, now) ?? 0);
  }
  return {
    ...base,
    error,
    outcome: "retry",
    next_attempt_at: new Date(now.getTime() + wait * 1000).toISOString(),
  };
}
