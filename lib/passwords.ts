/** Password hashing with scrypt (node:crypto): per-user salt, constant-time comparison. */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { PASSWORD_MAX, PASSWORD_MIN } from "./fields.ts";

// N=2^15, r=8, p=1: about 30–60 ms and 32 MiB per hash here, OWASP's scrypt minimum or better.
const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_LEN = 32;
const MAX_MEM = 64 * 1024 * 1024;

function derive(
  password: string,
  salt: Buffer,
  n: number,
  r: number,
  p: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize("NFC"),
      salt,
      KEY_LEN,
      { N: n, r, p, maxmem: MAX_MEM },
      (err, key) => err ? reject(err) : resolve(key),
    )
  );
}

/** Hashes a password as `scrypt$N$r$p$salt$hash` (base64url parts). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return [
    "scrypt",
    N,
    R,
    P,
    salt.toString("base64url"),
    key.toString("base64url"),
  ]
    .join("$");
}

/** A hash of a random password: verifying against it costs what a real check costs. */
const DUMMY = hashPassword(crypto.randomUUID());

/**
 * Checks a password against a stored hash in constant time. With `stored`
 * null (unknown user) it still does the work, so timing does not reveal
 * which usernames exist.
 */
export async function verifyPassword(
  password: string,
  stored: string | null,
): Promise<boolean> {
  const parts = (stored ?? await DUMMY).split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [, n, r, p, salt, hash] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const expected = Buffer.from(hash, "base64url");
  const actual = await derive(
    password,
    Buffer.from(salt, "base64url"),
    Number(n),
    Number(r),
    Number(p),
  );
  return timingSafeEqual(actual, expected) && stored !== null;
}

/** Rules for a new password; returns the problem, or null when acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN) {
    return `must be at least ${PASSWORD_MIN} characters`;
  }
  if (password.length > PASSWORD_MAX) {
    return `must be at most ${PASSWORD_MAX} characters`;
  }
  return null;
}
