import assert from "node:assert/strict";
import { LoginThrottle } from "../../lib/login_throttle.ts";

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

Deno.test("Only failures use up an address's allowance, and it refills", () => {
  const c = clock();
  const throttle = new LoginThrottle(5, c.now);
  for (let i = 0; i < 100; i++) assert.ok(throttle.check("a", "x").allowed);
  for (let i = 0; i < 5; i++) throttle.failed("a", `user${i}`);
  const held = throttle.check("a", "anyone");
  assert.equal(held.allowed, false);
  assert.ok(!held.allowed && held.retryAfterSeconds === 12);
  c.advance(12_000); // one failure's worth refilled (5 per minute)
  assert.ok(throttle.check("a", "anyone").allowed);
});

Deno.test("An account's failures hold back only addresses that failed recently", () => {
  const c = clock();
  const throttle = new LoginThrottle(5, c.now);
  for (let i = 0; i < 5; i++) throttle.failed(`10.0.0.${i}`, "admin");
  assert.equal(throttle.check("10.0.0.1", "admin").allowed, false);
  assert.ok(throttle.check("10.0.0.1", "bob").allowed);
  assert.ok(throttle.check("192.0.2.1", "admin").allowed, "a clean address");
  // Fifteen minutes later that address counts as clean again.
  c.advance(15 * 60_000);
  assert.ok(throttle.check("10.0.0.1", "admin").allowed);
});
