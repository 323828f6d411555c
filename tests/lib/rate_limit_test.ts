/** Token buckets with an injected clock, their IETF RateLimit headers, and the settings that size them. */
import assert from "node:assert/strict";
import { ConfigError, readConfig } from "../../config.ts";
import { RateLimiter, rateLimitHeaders } from "../../lib/rate_limit.ts";

/** A clock the test moves by hand. */
function manualClock(start = 1_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

Deno.test("A new bucket allows a burst of `limit` requests, then refuses", () => {
  const clock = manualClock();
  const limiter = new RateLimiter("api-key", 3, 60, clock.now);
  const decisions = [1, 2, 3, 4].map(() => limiter.take("k"));
  assert.deepEqual(decisions.map((d) => d.allowed), [true, true, true, false]);
  assert.deepEqual(decisions.map((d) => d.remaining), [2, 1, 0, 0]);
  assert.deepEqual(decisions.map((d) => d.retryAfterSeconds), [0, 0, 0, 20]);
});

Deno.test("Tokens refill at limit per window: one more request every window/limit seconds", () => {
  const clock = manualClock();
  const limiter = new RateLimiter("api-key", 3, 60, clock.now);
  for (let i = 0; i < 3; i++) limiter.take("k");
  clock.advance(19_900);
  const early = limiter.take("k");
  assert.equal(early.allowed, false);
  assert.equal(early.retryAfterSeconds, 1);
  clock.advance(100);
  assert.equal(limiter.take("k").allowed, true);
  assert.equal(limiter.take("k").allowed, false);
});

Deno.test("A bucket never holds more than its limit, however long it rests", () => {
  const clock = manualClock();
  const limiter = new RateLimiter("api-key", 3, 60, clock.now);
  limiter.take("k");
  clock.advance(60 * 60 * 1000);
  const allowed = [1, 2, 3, 4].map(() => limiter.take("k").allowed);
  assert.deepEqual(allowed, [true, true, true, false]);
});

Deno.test("resetSeconds is the time until the bucket is full again", () => {
  const clock = manualClock();
  const limiter = new RateLimiter("api-key", 3, 60, clock.now);
  assert.equal(limiter.take("k").resetSeconds, 20);
  assert.equal(limiter.take("k").resetSeconds, 40);
  assert.equal(limiter.take("k").resetSeconds, 60);
  clock.advance(30_000);
  const d = limiter.take("k");
  assert.equal(d.allowed, true);
  assert.equal(d.resetSeconds, 50);
});

Deno.test("Each key has its own bucket", () => {
  const clock = manualClock();
  const limiter = new RateLimiter("login-ip", 1, 60, clock.now);
  assert.equal(limiter.take("a").allowed, true);
  assert.equal(limiter.take("a").allowed, false);
  assert.equal(limiter.take("b").allowed, true);
});

Deno.test("Retry-After is at least one second even when the next token is milliseconds away", () => {
  const clock = manualClock();
  const limiter = new RateLimiter("api-key", 6000, 60, clock.now);
  for (let i = 0; i < 6000; i++) assert.equal(limiter.take("k").allowed, true);
  const d = limiter.take("k");
  assert.equal(d.allowed, false);
  assert.equal(d.retryAfterSeconds, 1);
});

Deno.test("A window other than a minute refills over that window", () => {
  const clock = manualClock();
  const limiter = new RateLimiter("burst", 2, 10, clock.now);
  limiter.take("k");
  limiter.take("k");
  const refused = limiter.take("k");
  assert.equal(refused.retryAfterSeconds, 5);
  assert.equal(refused.windowSeconds, 10);
  clock.advance(5_000);
  assert.equal(limiter.take("k").allowed, true);
});

Deno.test("rateLimitHeaders writes the structured-field RateLimit-Policy and RateLimit", () => {
  const clock = manualClock();
  const limiter = new RateLimiter("api-key", 3, 60, clock.now);
  assert.deepEqual(rateLimitHeaders(limiter.take("k")), {
    "RateLimit-Policy": `"api-key";q=3;w=60`,
    "RateLimit": `"api-key";r=2;t=20`,
  });
});

function env(values: Record<string, string>) {
  return (name: string) => values[name];
}

Deno.test("readConfig reads API_RATE_LIMIT and ANON_RATE_LIMIT, 0 turning a limit off", () => {
  const defaults = readConfig(env({}));
  assert.equal(defaults.apiRateLimit, 6000);
  assert.equal(defaults.anonRateLimit, 60);
  const set = readConfig(env({ API_RATE_LIMIT: "120", ANON_RATE_LIMIT: "0" }));
  assert.equal(set.apiRateLimit, 120);
  assert.equal(set.anonRateLimit, 0);
  assert.equal(readConfig(env({ API_RATE_LIMIT: "0" })).apiRateLimit, 0);
});

for (const bad of ["-1", "1.5", "lots", "10000001"]) {
  Deno.test(`readConfig throws a ConfigError naming API_RATE_LIMIT for ${JSON.stringify(bad)}`, () => {
    assert.throws(
      () => readConfig(env({ API_RATE_LIMIT: bad })),
      (err) =>
        err instanceof ConfigError &&
        err.message ===
          `API_RATE_LIMIT must be a whole number from 0 to 10000000, got ${
            JSON.stringify(bad)
          }`,
    );
  });
}
