/**
 * API access for the harness. When the server has API keys (an `api_keys` table),
 * a key is provisioned by writing its SHA-256 straight into the file, as the key
 * CLI does; servers without the table need none. Where keys have scopes the
 * row takes the column's default, every scope, so the key also reads /healthz's
 * details (the disk scenario quotes them when recovery fails).
 */
import { createHash, randomBytes } from "node:crypto";
import { withDb } from "./db_check.ts";

/** Provisions a fresh API key and returns it, or null when the schema has no API keys. */
export function provisionApiKey(dbPath: string): string | null {
  return withDb(dbPath, false, (db) => {
    const table = db.prepare(
      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'api_keys'",
    ).get();
    if (!table) return null;
    const key = `tdk_${randomBytes(32).toString("base64url")}`;
    db.prepare(
      `INSERT INTO api_keys (name, prefix, key_hash, created_at)
       VALUES (?, ?, ?, ?)`,
    ).run(
      `chaos-${randomBytes(6).toString("hex")}`,
      key.slice(0, 12),
      createHash("sha256").update(key).digest("hex"),
      new Date().toISOString(),
    );
    return key;
  });
}

/**
 * Settings the harness needs from a server with auth: anonymous creates allowed
 * (the mobile contract) and no rate limits, since the load is the point (logins
 * at the highest limit there is: the form fuzz logs in once per `next` it tries).
 * A server without these settings ignores them.
 */
export const CHAOS_ENV = {
  ALLOW_ANONYMOUS_CREATE: "1",
  ANON_RATE_LIMIT: "0",
  API_RATE_LIMIT: "0",
  LOGIN_RATE_LIMIT: "1000",
  ADMIN_PASSWORD: "chaos-admin-password-not-secret",
};

/** The first admin CHAOS_ENV makes the server create (ADMIN_USER defaults to "admin"). */
export const CHAOS_ADMIN = "admin";

/**
 * Logs the first admin in through the login form (with the Origin a browser
 * sends) and returns the Cookie header value. Waits for the admin row first: the
 * server creates it just after it starts listening, and a failed attempt would
 * count against the login rate limit.
 */
export async function loginAdmin(
  base: string,
  dbPath: string,
  client?: Deno.HttpClient,
): Promise<string> {
  const deadline = Date.now() + 30_000;
  const exists = () =>
    withDb(dbPath, true, (db) => {
      try {
        return Boolean(
          db.prepare("SELECT 1 FROM users WHERE username = ?").get(
            CHAOS_ADMIN,
          ),
        );
      } catch {
        return false; // no users table yet
      }
    });
  while (!exists()) {
    if (Date.now() > deadline) {
      throw new Error("the first admin never appeared");
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const res = await fetch(`${base}/login`, {
    method: "POST",
    headers: { origin: base },
    body: new URLSearchParams({
      username: CHAOS_ADMIN,
      password: CHAOS_ENV.ADMIN_PASSWORD,
    }),
    redirect: "manual",
    ...(client ? { client } : {}),
  });
  await res.body?.cancel();
  const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]!)
    .find((c) => c.startsWith("desk_session="));
  if (res.status !== 303 || !cookie) {
    throw new Error(`POST /login answered ${res.status} without a session`);
  }
  return cookie;
}
