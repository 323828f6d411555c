/** Password hashing: scrypt with a salt per hash, constant-time checks, and the rules for new passwords. */
import assert from "node:assert/strict";
import {
  hashPassword,
  passwordProblem,
  verifyPassword,
} from "../../lib/passwords.ts";

const PASSWORD = "correct horse battery staple";

Deno.test("hashPassword writes scrypt$N$r$p$salt$hash with base64url parts", async () => {
  const hash = await hashPassword(PASSWORD);
  assert.match(hash, /^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
  assert.ok(!hash.includes(PASSWORD));
});

Deno.test("verifyPassword accepts the password and refuses any other", async () => {
  const hash = await hashPassword(PASSWORD);
  assert.equal(await verifyPassword(PASSWORD, hash), true);
  assert.equal(await verifyPassword(PASSWORD + " ", hash), false);
  assert.equal(
    await verifyPassword("Correct horse battery staple", hash),
    false,
  );
  assert.equal(await verifyPassword("", hash), false);
});

Deno.test("The same password hashes differently each time, and both hashes verify", async () => {
  const a = await hashPassword(PASSWORD);
  const b = await hashPassword(PASSWORD);
  assert.notEqual(a, b);
  assert.notEqual(a.split("$")[4], b.split("$")[4], "the salts differ");
  assert.equal(await verifyPassword(PASSWORD, a), true);
  assert.equal(await verifyPassword(PASSWORD, b), true);
});

Deno.test("verifyPassword with no stored hash (unknown user) is false", async () => {
  assert.equal(await verifyPassword(PASSWORD, null), false);
  assert.equal(await verifyPassword("", null), false);
});

Deno.test("verifyPassword with no stored hash costs about what a real check costs", async () => {
  const hash = await hashPassword(PASSWORD);
  await verifyPassword(PASSWORD, null); // the dummy hash is made once, lazily
  const time = async (stored: string | null) => {
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await verifyPassword("wrong password", stored);
      runs.push(performance.now() - t0);
    }
    return runs.sort((x, y) => x - y)[1]!;
  };
  const real = await time(hash);
  const unknown = await time(null);
  // A shortcut for unknown users would be thousands of times faster; allow wide jitter.
  assert.ok(unknown > real / 4, `unknown ${unknown} ms vs real ${real} ms`);
});

Deno.test("verifyPassword refuses, without throwing, a stored value that is not an scrypt hash", async () => {
  for (
    const stored of [
      "",
      PASSWORD,
      "bcrypt$2b$10$abcdefghijklmnopqrstuv",
      "scrypt$32768$8$1$onlyfive",
    ]
  ) {
    assert.equal(await verifyPassword(PASSWORD, stored), false, stored);
  }
});

Deno.test("verifyPassword treats composed and decomposed accents as the same password", async () => {
  const hash = await hashPassword("caf\u00e9 au lait, s'il vous pla\u00eet");
  assert.equal(
    await verifyPassword("cafe\u0301 au lait, s'il vous plai\u0302t", hash),
    true,
  );
});

Deno.test("passwordProblem asks for 10 to 1024 characters", () => {
  assert.equal(passwordProblem("123456789"), "must be at least 10 characters");
  assert.equal(passwordProblem("1234567890"), null);
  assert.equal(passwordProblem("x".repeat(1024)), null);
  assert.equal(
    passwordProblem("x".repeat(1025)),
    "must be at most 1024 characters",
  );
});
