/**
 * Login throttling that stops guessing without locking anyone out.
 *
 * Only failures count, never successes: an office of colleagues behind one
 * address logging in at nine is not an attack. Failures are limited per
 * address (LOGIN_RATE_LIMIT per minute). Failures per account are counted too,
 * but they hold back only addresses that have failed recently: a guesser
 * spreading attempts over many addresses is slowed on that account, while the
 * account's owner, from an address that has not been failing, logs in at once.
 */
import { RateLimiter } from "./rate_limit.ts";

/** How long an address counts as "recently failing" after its last failure. */
const RECENT_MS = 15 * 60 * 1000;
const MAX_TRACKED = 100_000;

export type LoginVerdict =
  | { allowed: true }
  | { allowed: false; retryAfterSeconds: number };

/** Per-address and per-account failure limits for POST /login. */
export class LoginThrottle {
  #perAddress: RateLimiter;
  #perAccount: RateLimiter;
  #lastFailure = new Map<string, number>();

  constructor(
    readonly failuresPerMinute: number,
    readonly now: () => number = () => performance.now(),
  ) {
    this.#perAddress = new RateLimiter("login", failuresPerMinute, 60, now);
    this.#perAccount = new RateLimiter("login", failuresPerMinute, 60, now);
  }

  /** Whether an attempt from `address` on `account` may be checked at all. */
  check(address: string, account: string): LoginVerdict {
    const byAddress = this.#perAddress.peek(address);
    if (!byAddress.allowed) {
      return { allowed: false, retryAfterSeconds: byAddress.retryAfterSeconds };
    }
    if (!this.#failingRecently(address)) return { allowed: true };
    const byAccount = this.#perAccount.peek(account);
    return byAccount.allowed
      ? { allowed: true }
      : { allowed: false, retryAfterSeconds: byAccount.retryAfterSeconds };
  }

  /** Records a failed attempt. */
  failed(address: string, account: string): void {
    this.#perAddress.take(address);
    this.#perAccount.take(account);
    const t = this.now();
    if (this.#lastFailure.size >= MAX_TRACKED) this.#sweep(t);
    this.#lastFailure.delete(address); // re-insert: the map stays oldest first
    this.#lastFailure.set(address, t);
  }

  #failingRecently(address: string): boolean {
    const at = this.#lastFailure.get(address);
    return at !== undefined && this.now() - at < RECENT_MS;
  }

  #sweep(t: number) {
    for (const [address, at] of this.#lastFailure) {
      if (t - at < RECENT_MS) break;
      this.#lastFailure.delete(address);
    }
  }
}
