/**
 * Token buckets, in memory, per key (API key, client IP, login account).
 *
 * Our own ~60 lines rather than hono-rate-limiter: we need the IETF RateLimit
 * headers in their structured-field form, two kinds of key on one route, and a
 * bucket (bursts allowed, steady rate enforced) rather than a fixed window
 * that lets through twice the limit at a window edge.
 * Per process: with several instances each holds its own buckets.
 */

export interface RateDecision {
  allowed: boolean;
  /** Whole requests left now. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until one more request is allowed (0 when allowed). */
  retryAfterSeconds: number;
  limit: number;
  windowSeconds: number;
  policy: string;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** A set of buckets sharing one policy: `limit` requests per `windowSeconds`. */
export class RateLimiter {
  #buckets = new Map<string, Bucket>();
  #perMs: number;

  constructor(
    readonly policy: string,
    readonly limit: number,
    readonly windowSeconds = 60,
    readonly now: () => number = () => performance.now(),
  ) {
    this.#perMs = limit / (windowSeconds * 1000);
  }

  /** Takes one token for `key` if there is one. */
  take(key: string): RateDecision {
    return this.#decide(key, true);
  }

  /** Says whether `key` has a token, without taking it. */
  peek(key: string): RateDecision {
    return this.#decide(key, false);
  }

  #decide(key: string, consume: boolean): RateDecision {
    const t = this.now();
    let b = this.#buckets.get(key);
    if (!b) {
      if (!consume) return this.#verdict({ tokens: this.limit, at: t }, true);
      if (this.#buckets.size > 100_000) this.#sweep(t);
      b = { tokens: this.limit, at: t };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.limit, b.tokens + (t - b.at) * this.#perMs);
      b.at = t;
    }
    const allowed = b.tokens >= 1;
    if (allowed && consume) b.tokens -= 1;
    return this.#verdict(b, allowed);
  }

  #verdict(b: Bucket, allowed: boolean): RateDecision {
    return {
      allowed,
      remaining: Math.floor(b.tokens),
      resetSeconds: Math.ceil((this.limit - b.tokens) / this.#perMs / 1000),
      retryAfterSeconds: allowed
        ? 0
        : Math.max(1, Math.ceil((1 - b.tokens) / this.#perMs / 1000)),
      limit: this.limit,
      windowSeconds: this.windowSeconds,
      policy: this.policy,
    };
  }

  /** Forgets buckets that have refilled: they behave exactly like new ones. */
  #sweep(t: number) {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + (t - b.at) * this.#perMs >= this.limit) {
        this.#buckets.delete(k);
      }
    }
  }
}

/** The IETF RateLimit-Policy and RateLimit header values for a decision. */
export function rateLimitHeaders(d: RateDecision): Record<string, string> {
  return {
    "RateLimit-Policy": `"${d.policy}";q=${d.limit};w=${d.windowSeconds}`,
    "RateLimit": `"${d.policy}";r=${d.remaining};t=${d.resetSeconds}`,
  };
}
