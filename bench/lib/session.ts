/** Logging in to a server under test, as a browser does, for the pages and the live stream. */
import { DatabaseSync } from "node:sqlite";
import { BENCH_ADMIN } from "./server.ts";

/** Whether the first admin exists yet (the server creates it just after it starts listening). */
function hasUser(dbPath: string, username: string): boolean {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    db.exec("PRAGMA busy_timeout = 2000");
    return Boolean(
      db.prepare("SELECT 1 FROM users WHERE username = ?").get(username),
    );
  } catch {
    return false; // the users table is not there yet
  } finally {
    db.close();
  }
}

/**
 * Logs BENCH_ADMIN in with the login form (Origin set, as a browser sends it)
 * and returns the Cookie header value. Waits for the admin row first: a failed
 * attempt would count against the login rate limit (5 per minute).
 */
export async function login(url: string, dbPath: string): Promise<string> {
  const deadline = performance.now() + 30_000;
  while (!hasUser(dbPath, BENCH_ADMIN.username)) {
    if (performance.now() > deadline) {
      throw new Error(`the first admin was not created in ${dbPath}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const res = await fetch(`${url}/login`, {
    method: "POST",
    headers: { origin: url },
    body: new URLSearchParams({
      username: BENCH_ADMIN.username,
      password: BENCH_ADMIN.password,
    }),
    redirect: "manual",
  });
  await res.body?.cancel();
  const cookie = res.headers.getSetCookie()
    .map((c) => c.split(";")[0]!)
    .find((c) => c.startsWith("desk_session="));
  if (res.status !== 303 || !cookie) {
    throw new Error(
      `POST /login answered ${res.status} without a desk_session cookie`,
    );
  }
  return cookie;
}
