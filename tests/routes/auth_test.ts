/** Issue #4 through the app: login, sessions, cookies, API keys, rate limits, CSRF, CORS and secure headers. */
import assert from "node:assert/strict";
import { createApp } from "../../app.ts";
import { createMemoryBus } from "../../db/bus.ts";
import { createLogger } from "../../log.ts";
import { ConfigError, readConfig } from "../../config.ts";
import type { SqliteStore } from "../../db/sqlite/sqlite_store.ts";
import {
  addApiKey,
  addUser,
  assertProblem,
  bearer,
  type DeskApp,
  formPost,
  jsonRequest,
  logIn,
  PASSWORD,
  sampleTicket,
  sessionCookieOf,
  withConfiguredApp,
} from "../fixtures.ts";

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
  "img-src 'self' data:; connect-src 'self'; object-src 'none'; " +
  "frame-ancestors 'none'; base-uri 'self'; form-action 'self'";
const EVIL = "https://evil.example";
const XSS = `"><script>alert(1)</script>`;

/** The socket address app.request passes on, as Deno.serve would. */
function fromIp(hostname: string) {
  return { remoteAddr: { hostname } };
}

function countRows(store: SqliteStore, table: "sessions" | "users"): number {
  const row = store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get();
  return Number(row!.n);
}

function ago(ms: number): string {
  return new Date(Date.now() - ms).toISOString();
}

/** Sets a column of every session (there is one in these tests). */
function setSessionTime(
  store: SqliteStore,
  column: "created_at" | "last_seen_at",
  iso: string,
) {
  store.db.prepare(`UPDATE sessions SET ${column} = ?`).run(iso);
}

function assertRedirect(res: Response, location: string) {
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), location);
}

/** GET /settings as an admin: 200 while the session lives, a redirect to login once it is gone. */
async function settingsStatus(app: DeskApp, cookie: string): Promise<number> {
  const res = await app.request("/settings", { headers: { Cookie: cookie } });
  await res.body?.cancel();
  return res.status;
}

/** Parses a Set-Cookie line into its name, value and attributes (lower-cased names). */
function parseSetCookie(line: string) {
  const [pair, ...attrs] = line.split(/;\s*/);
  const eq = pair!.indexOf("=");
  const attributes = new Map<string, string>();
  for (const a of attrs) {
    const i = a.indexOf("=");
    attributes.set(
      (i < 0 ? a : a.slice(0, i)).toLowerCase(),
      i < 0 ? "" : a.slice(i + 1),
    );
  }
  return {
    name: pair!.slice(0, eq),
    value: pair!.slice(eq + 1),
    attributes,
  };
}

async function assertHtml(res: Response, status: number): Promise<string> {
  const html = await res.text();
  assert.equal(res.status, status, html);
  assert.equal(res.headers.get("content-type"), "text/html; charset=UTF-8");
  return html;
}

// ---- Pages need a session -----------------------------------------------------

Deno.test("GET of a page without a session redirects with 303 to /login?next=<path>", async () => {
  await withConfiguredApp({}, async ({ app }) => {
    for (
      const [path, next] of [
        ["/dashboard", "%2Fdashboard"],
        ["/settings", "%2Fsettings"],
        ["/", "%2F"],
        ["/dashboard?status=open", "%2Fdashboard%3Fstatus%3Dopen"],
      ]
    ) {
      const res = await app.request(path!);
      assertRedirect(res, `/login?next=${next}`);
    }
  });
});

Deno.test("An htmx request without a session gets 401 with HX-Redirect to the login page", async () => {
  await withConfiguredApp({}, async ({ app }) => {
    const res = await app.request("/dashboard", {
      headers: { "HX-Request": "true" },
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("hx-redirect"), "/login?next=%2Fdashboard");
    assert.equal(res.headers.get("location"), null);
    assert.equal(await res.text(), "");
  });
});

Deno.test("GET /events for a stream without a session gets a 401 text answer, not a stream", async () => {
  await withConfiguredApp({}, async ({ app }) => {
    const res = await app.request("/events", {
      headers: { Accept: "text/event-stream" },
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=UTF-8");
    assert.equal(await res.text(), "Log in first");
  });
});

Deno.test("A form POST without a session is sent to the login page with next=/dashboard", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    const res = await app.request(
      "/settings/users",
      formPost({ username: "mallory", password: PASSWORD, role: "admin" }),
    );
    assertRedirect(res, "/login?next=%2Fdashboard");
    assert.equal(countRows(store, "users"), 0);
  });
});

// ---- Logging in ----------------------------------------------------------------

Deno.test("GET /login shows the form with the next path in a hidden field", async () => {
  await withConfiguredApp({}, async ({ app }) => {
    const res = await app.request("/login?next=%2Fsettings");
    const html = await assertHtml(res, 200);
    assert.match(html, /<form method="post" action="\/login">/);
    assert.match(html, /<input type="hidden" name="next" value="\/settings"/);
  });
});

Deno.test("POST /login with the right password redirects to next and the session opens pages", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const res = await app.request(
      "/login",
      formPost({ username: "admin", password: PASSWORD, next: "/settings" }),
    );
    assertRedirect(res, "/settings");
    const cookie = sessionCookieOf(res);
    assert.ok(cookie);
    const page = await app.request("/settings", {
      headers: { Cookie: cookie },
    });
    const html = await assertHtml(page, 200);
    assert.match(html, /<h1>Settings<\/h1>/);
  });
});

Deno.test("POST /login matches the username in any letter case", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "Admin", { role: "admin" });
    const cookie = await logIn(app, "aDMIN");
    assert.equal(await settingsStatus(app, cookie), 200);
  });
});

Deno.test("POST /login never redirects off the site, whatever next says", async () => {
  await withConfiguredApp({ loginRateLimit: 100 }, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    for (
      const next of [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "settings",
        "/x\r\nSet-Cookie: a=b",
      ]
    ) {
      const res = await app.request(
        "/login",
        formPost({ username: "admin", password: PASSWORD, next }),
      );
      assertRedirect(res, "/dashboard");
    }
  });
});

/** One failed login against a fresh store prepared by `setUp`. */
async function failedLogin(
  setUp: (store: SqliteStore) => Promise<unknown>,
  password: string,
): Promise<{ status: number; headers: [string, string][]; body: string }> {
  let out: { status: number; headers: [string, string][]; body: string };
  await withConfiguredApp({}, async ({ app, store }) => {
    await setUp(store);
    const res = await app.request(
      "/login",
      formPost({ username: "alice", password, next: "/settings" }),
    );
    out = {
      status: res.status,
      headers: [...res.headers].filter(([k]) => k !== "x-request-id"),
      body: await res.text(),
    };
    assert.equal(countRows(store, "sessions"), 0);
  });
  return out!;
}

Deno.test("Wrong password, unknown user and disabled user get the same 401 answer", async () => {
  const wrongPassword = await failedLogin(
    (store) => addUser(store, "alice"),
    "not the password",
  );
  const unknownUser = await failedLogin(() => Promise.resolve(), PASSWORD);
  const disabledUser = await failedLogin(async (store) => {
    await addUser(store, "alice");
    await store.setUserDisabled("alice", true);
  }, PASSWORD);

  assert.equal(wrongPassword.status, 401);
  assert.ok(
    wrongPassword.headers.some(([k, v]) =>
      k === "content-type" && v === "text/html; charset=UTF-8"
    ),
  );
  assert.match(wrongPassword.body, /Wrong username or password\./);
  assert.ok(!wrongPassword.headers.some(([k]) => k === "set-cookie"));
  assert.deepEqual(unknownUser, wrongPassword);
  assert.deepEqual(disabledUser, wrongPassword);
});

Deno.test("Successful logins never count: six colleagues behind one address log in within a minute", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    for (let i = 1; i <= 8; i++) await addUser(store, `colleague${i}`);
    for (let i = 1; i <= 8; i++) {
      const res = await app.request(
        "/login",
        formPost({ username: `colleague${i}`, password: PASSWORD }),
        fromIp("203.0.113.50"),
      );
      assert.equal(res.status, 303, `colleague${i}: ${await res.text()}`);
    }
  });
});

Deno.test("Wrong passwords for an account from other addresses never lock its owner out", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    // A guesser tries ten times, five addresses twice each, as fast as allowed.
    for (let round = 0; round < 2; round++) {
      for (let i = 1; i <= 5; i++) {
        const res = await app.request(
          "/login",
          formPost({ username: "admin", password: `guess ${round}${i}` }),
          fromIp(`192.0.2.${i}`),
        );
        await res.body?.cancel();
        assert.ok([401, 429].includes(res.status), `${res.status}`);
      }
    }
    // The real admin, from an address that has not been failing, gets in at once.
    const res = await app.request(
      "/login",
      formPost({ username: "ADMIN", password: PASSWORD }),
      fromIp("198.51.100.7"),
    );
    assert.equal(res.status, 303, await res.text());
    assert.ok(sessionCookieOf(res));
  });
});

Deno.test("An address with recent failures is held back on an account many addresses failed on", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "alice");
    await addUser(store, "bob");
    // Five addresses, one wrong guess each: the account has had its five failures.
    for (let i = 1; i <= 5; i++) {
      const res = await app.request(
        "/login",
        formPost({ username: "alice", password: "wrong password" }),
        fromIp(`192.0.2.${i}`),
      );
      await assertHtml(res, 401);
    }
    // A sixth try from one of them, even with the right password, waits.
    const res = await app.request(
      "/login",
      formPost({ username: "alice", password: PASSWORD }),
      fromIp("192.0.2.3"),
    );
    const html = await assertHtml(res, 429);
    const retryAfter = Number(res.headers.get("retry-after"));
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60,
      `Retry-After ${retryAfter}`,
    );
    assert.match(html, /Too many failed logins\. Wait \d+ seconds/);
    assert.equal(sessionCookieOf(res), null);
    assert.equal(countRows(store, "sessions"), 0);
    // The same address may still log in to another account…
    const bob = await app.request(
      "/login",
      formPost({ username: "bob", password: PASSWORD }),
      fromIp("192.0.2.3"),
    );
    assert.equal(bob.status, 303);
    // …and alice herself, from an address that has not been failing.
    const alice = await app.request(
      "/login",
      formPost({ username: "alice", password: PASSWORD }),
      fromIp("192.0.2.200"),
    );
    assert.equal(alice.status, 303);
  });
});

Deno.test("A username with control characters gets a readable 400 on the login page, never 5xx", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    for (const username of ["admin\u0000", "ad\u0001min", "admin\u007f"]) {
      const res = await app.request(
        "/login",
        formPost({ username, password: PASSWORD }),
      );
      const html = await assertHtml(res, 400);
      assert.match(html, /must not contain control characters/);
      assert.equal(sessionCookieOf(res), null);
    }
  });
});

Deno.test("The sixth failed login from one IP within a minute gets 429, whatever the account", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "alice");
    for (let i = 1; i <= 5; i++) {
      const res = await app.request(
        "/login",
        formPost({ username: `guess${i}`, password: "wrong password" }),
        fromIp("198.51.100.1"),
      );
      await assertHtml(res, 401);
    }
    const blocked = await app.request(
      "/login",
      formPost({ username: "alice", password: PASSWORD }),
      fromIp("198.51.100.1"),
    );
    await assertHtml(blocked, 429);
    assert.match(blocked.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
    const elsewhere = await app.request(
      "/login",
      formPost({ username: "alice", password: PASSWORD }),
      fromIp("198.51.100.2"),
    );
    assert.equal(elsewhere.status, 303);
  });
});

Deno.test("Behind a trusted proxy the per-IP login limit keys on the last X-Forwarded-For entry", async () => {
  await withConfiguredApp({ trustProxy: true }, async ({ app }) => {
    const attempt = async (i: number, xff: string) => {
      const res = await app.request(
        "/login",
        formPost({ username: `guess${i}`, password: "wrong password" }, {
          headers: { "X-Forwarded-For": xff },
        }),
      );
      await res.body?.cancel();
      return res.status;
    };
    for (let i = 1; i <= 5; i++) {
      // The client's own entries vary; the proxy's appended one does not.
      assert.equal(await attempt(i, `10.0.0.${i}, 203.0.113.9`), 401);
    }
    assert.equal(await attempt(6, "10.0.0.99, 203.0.113.9"), 429);
    assert.equal(await attempt(7, "203.0.113.10"), 401);
  });
});

// ---- Sessions --------------------------------------------------------------------

Deno.test("Every login issues a new session id and ends the session sent along with it", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const first = await logIn(app, "admin");
    const second = await logIn(app, "admin", { cookie: first });
    assert.notEqual(second, first);
    assert.equal(await settingsStatus(app, first), 303);
    assert.equal(await settingsStatus(app, second), 200);
    assert.equal(countRows(store, "sessions"), 1);
  });
});

Deno.test("Two logins from two browsers get two different working sessions", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const a = await logIn(app, "admin");
    const b = await logIn(app, "admin");
    assert.notEqual(a, b);
    assert.equal(await settingsStatus(app, a), 200);
    assert.equal(await settingsStatus(app, b), 200);
  });
});

Deno.test("The session id is stored only as a keyed hash", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    const id = cookie.split("=")[1]!;
    const rows = store.db.prepare("SELECT * FROM sessions").all();
    assert.equal(rows.length, 1);
    assert.match(String(rows[0]!.id_hash), /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(rows).includes(id));
  });
});

Deno.test("POST /logout ends the session and clears the cookie", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    const res = await app.request("/logout", formPost({}, { cookie }));
    assertRedirect(res, "/login");
    const cleared = res.headers.getSetCookie().map(parseSetCookie);
    const plain = cleared.find((c) => c.name === "desk_session");
    assert.ok(plain, "the cookie is cleared");
    assert.equal(plain.value, "");
    assert.equal(plain.attributes.get("max-age"), "0");
    assert.equal(countRows(store, "sessions"), 0);
    assert.equal(await settingsStatus(app, cookie), 303);
  });
});

Deno.test("GET /login with a live session goes straight to next", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    const res = await app.request("/login?next=%2Fsettings", {
      headers: { Cookie: cookie },
    });
    assertRedirect(res, "/settings");
  });
});

Deno.test("A session idle for more than 12 hours is refused and deleted", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    setSessionTime(store, "last_seen_at", ago(12 * HOUR + 60_000));
    const res = await app.request("/settings", { headers: { Cookie: cookie } });
    assertRedirect(res, "/login?next=%2Fsettings");
    assert.equal(countRows(store, "sessions"), 0);
  });
});

Deno.test("A session idle for less than 12 hours works and its last use is refreshed", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    const stale = ago(11 * HOUR);
    setSessionTime(store, "last_seen_at", stale);
    assert.equal(await settingsStatus(app, cookie), 200);
    // The refresh is written after the response; wait for it.
    let seen = stale;
    for (let i = 0; i < 100 && seen === stale; i++) {
      await new Promise((r) => setTimeout(r, 10));
      seen = String(
        store.db.prepare("SELECT last_seen_at FROM sessions").get()!
          .last_seen_at,
      );
    }
    assert.ok(Date.now() - Date.parse(seen) < 60_000, `last_seen_at ${seen}`);
  });
});

Deno.test("A session older than 7 days is refused and deleted even when used a moment ago", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    setSessionTime(store, "created_at", ago(7 * DAY + 60_000));
    setSessionTime(store, "last_seen_at", ago(60_000));
    assert.equal(await settingsStatus(app, cookie), 303);
    assert.equal(countRows(store, "sessions"), 0);
  });
});

Deno.test("A session younger than 7 days still works", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    setSessionTime(store, "created_at", ago(7 * DAY - HOUR));
    assert.equal(await settingsStatus(app, cookie), 200);
  });
});

Deno.test("A session whose user was disabled is refused and deleted", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    // Straight in the table, so only the session check can notice.
    store.db.prepare("UPDATE users SET disabled = 1").run();
    assert.equal(await settingsStatus(app, cookie), 303);
    assert.equal(countRows(store, "sessions"), 0);
  });
});

// ---- The session cookie -------------------------------------------------------

Deno.test("Over plain HTTP the session cookie is desk_session: HttpOnly, SameSite=Lax, Path=/, not Secure", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const res = await app.request(
      "/login",
      formPost({ username: "admin", password: PASSWORD }),
    );
    assert.equal(res.status, 303);
    const lines = res.headers.getSetCookie();
    assert.equal(lines.length, 1);
    const c = parseSetCookie(lines[0]!);
    assert.equal(c.name, "desk_session");
    assert.match(c.value, /^[\w-]{43}$/);
    assert.equal(c.attributes.get("httponly"), "");
    assert.equal(c.attributes.get("samesite"), "Lax");
    assert.equal(c.attributes.get("path"), "/");
    assert.equal(c.attributes.has("secure"), false);
    assert.equal(c.attributes.has("domain"), false);
    assert.equal(res.headers.get("strict-transport-security"), null);
  });
});

Deno.test("Behind a trusted proxy over HTTPS the cookie is __Host-desk_session with Secure, and HSTS is sent", async () => {
  await withConfiguredApp({ trustProxy: true }, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const https = { "X-Forwarded-Proto": "https" };
    const res = await app.request(
      "/login",
      formPost({ username: "admin", password: PASSWORD }, {
        origin: "https://localhost",
        headers: https,
      }),
    );
    assert.equal(res.status, 303);
    assert.equal(
      res.headers.get("strict-transport-security"),
      "max-age=31536000; includeSubDomains",
    );
    const lines = res.headers.getSetCookie();
    assert.equal(lines.length, 1);
    const c = parseSetCookie(lines[0]!);
    assert.equal(c.name, "__Host-desk_session");
    assert.equal(c.attributes.has("secure"), true);
    assert.equal(c.attributes.get("httponly"), "");
    assert.equal(c.attributes.get("samesite"), "Lax");
    assert.equal(c.attributes.get("path"), "/");
    assert.equal(c.attributes.has("domain"), false);
    // The cookie the browser got is the one the app reads back.
    const page = await app.request("/settings", {
      headers: { ...https, Cookie: `${c.name}=${c.value}` },
    });
    await assertHtml(page, 200);
    const out = await app.request(
      "/logout",
      formPost({}, {
        origin: "https://localhost",
        cookie: `${c.name}=${c.value}`,
        headers: https,
      }),
    );
    assertRedirect(out, "/login");
    assert.equal(countRows(store, "sessions"), 0);
    assert.ok(
      out.headers.getSetCookie().map(parseSetCookie).some((d) =>
        d.name === "__Host-desk_session" && d.attributes.get("max-age") === "0"
      ),
      "logout clears the __Host- cookie",
    );
  });
});

Deno.test("Over HTTPS only the __Host- cookie opens pages: the plain one is ignored", async () => {
  await withConfiguredApp({ trustProxy: true }, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const https = { "X-Forwarded-Proto": "https" };
    const res = await app.request(
      "/login",
      formPost({ username: "admin", password: PASSWORD }, {
        origin: "https://localhost",
        headers: https,
      }),
    );
    const c = parseSetCookie(res.headers.getSetCookie()[0]!);
    // The same session id under the plain name, as a planted cookie would carry it.
    const page = await app.request("/settings", {
      headers: { ...https, Cookie: `desk_session=${c.value}` },
    });
    assert.equal(page.status, 303);
    assert.match(page.headers.get("location") ?? "", /^\/login\?next=/);
    // Over plain HTTP the prefixed name is not read either (browsers never send it there).
    const plain = await app.request("/settings", {
      headers: { Cookie: `__Host-desk_session=${c.value}` },
    });
    assert.equal(plain.status, 303);
  });
});

Deno.test("Every response to a logged-in person or an API key says Cache-Control: no-store", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    const key = await addApiKey(store);
    const created = await app.request(
      "/api/v1/tickets",
      jsonRequest(sampleTicket(), { headers: bearer(key) }),
    );
    assert.equal(created.status, 201);
    assert.equal(created.headers.get("cache-control"), "no-store");
    for (
      const path of ["/dashboard", "/tickets/1", "/settings", "/tickets.csv"]
    ) {
      const res = await app.request(path, { headers: { Cookie: cookie } });
      await res.body?.cancel();
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("cache-control"), "no-store", path);
    }
    for (const path of ["/api/v1/tickets", "/api/v1/tickets/1"]) {
      const res = await app.request(path, { headers: bearer(key) });
      await res.body?.cancel();
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("cache-control"), "no-store", path);
    }
  });
});

/** Opens /events with a session and resolves once the stream has ended. */
async function streamEnds(app: DeskApp, cookie: string) {
  const res = await app.request("/events", {
    headers: { Cookie: cookie, Accept: "text/event-stream" },
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const first = await reader.read(); // the hello frame: the stream is open
  assert.equal(first.done, false);
  return {
    ended: (async () => {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const r = await Promise.race([
          reader.read(),
          new Promise<null>((ok) => setTimeout(() => ok(null), 500)),
        ]);
        if (r?.done) return true;
      }
      await reader.cancel();
      return false;
    })(),
  };
}

for (
  const [how, end] of [
    [
      "logout",
      (app: DeskApp, _store: SqliteStore, cookie: string) =>
        app.request("/logout", formPost({}, { cookie })),
    ],
    [
      "a password reset",
      (_app: DeskApp, store: SqliteStore) =>
        store.setPassword("agent", "x".repeat(60)),
    ],
    [
      "disabling the user",
      (_app: DeskApp, store: SqliteStore) =>
        store.setUserDisabled("agent", true),
    ],
  ] as const
) {
  Deno.test(`An open live stream ends soon after ${how} ends its session`, async () => {
    await withConfiguredApp({}, async ({ app, store }) => {
      await addUser(store, "agent");
      const cookie = await logIn(app, "agent");
      const stream = await streamEnds(app, cookie);
      await end(app, store, cookie);
      assert.equal(await stream.ended, true, "the stream ended");
    });
  });
}

Deno.test("Without TRUST_PROXY, X-Forwarded-Proto is ignored: plain cookie and no HSTS", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const res = await app.request(
      "/login",
      formPost({ username: "admin", password: PASSWORD }, {
        headers: { "X-Forwarded-Proto": "https" },
      }),
    );
    assert.equal(res.status, 303);
    const c = parseSetCookie(res.headers.getSetCookie()[0]!);
    assert.equal(c.name, "desk_session");
    assert.equal(c.attributes.has("secure"), false);
    assert.equal(res.headers.get("strict-transport-security"), null);
  });
});

// ---- API keys -------------------------------------------------------------------

Deno.test("The API without a key answers 401 problem+json with WWW-Authenticate: Bearer", async () => {
  await withConfiguredApp({}, async ({ app }) => {
    const list = await app.request("/api/v1/tickets");
    assert.equal(
      list.headers.get("www-authenticate"),
      'Bearer realm="tickets"',
    );
    await assertProblem(list, 401, { title: "Unauthorized" });
    const create = await app.request(
      "/create_ticket",
      jsonRequest(sampleTicket()),
    );
    assert.equal(
      create.headers.get("www-authenticate"),
      'Bearer realm="tickets"',
    );
    await assertProblem(create, 401, { instance: "/create_ticket" });
  });
});

Deno.test("A malformed Authorization header gets 401", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    const key = await addApiKey(store);
    for (
      const header of [
        `Basic ${btoa("user:pass")}`,
        "Bearer",
        `Bearer ${key} extra`,
        key,
        `Bearer ${"x".repeat(201)}`,
      ]
    ) {
      const res = await app.request("/api/v1/tickets", {
        headers: { Authorization: header },
      });
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer /);
      await assertProblem(res, 401, {
        detail: "The Authorization header must be 'Bearer <key>'",
      });
    }
  });
});

Deno.test("An unknown or revoked key gets 401", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    const key = await addApiKey(store, "mobile");
    const before = await app.request("/api/v1/tickets", {
      headers: bearer(key),
    });
    assert.equal(before.status, 200);
    await before.body?.cancel();
    await store.revokeApiKey("mobile");
    for (const k of [key, key.slice(0, -1) + (key.endsWith("A") ? "B" : "A")]) {
      const res = await app.request("/api/v1/tickets", { headers: bearer(k) });
      await assertProblem(res, 401, {
        detail: "The API key is unknown or has been revoked",
      });
    }
  });
});

Deno.test("A valid key creates with 201 on both create routes and lists with 200", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    const key = await addApiKey(store);
    const legacy = await app.request(
      "/create_ticket",
      jsonRequest(sampleTicket(), { headers: bearer(key) }),
    );
    assert.equal(legacy.status, 201);
    assert.equal(legacy.headers.get("content-type"), "application/json");
    assert.equal((await legacy.json()).success, true);
    const v1 = await app.request(
      "/api/v1/tickets",
      jsonRequest(sampleTicket(), { headers: bearer(key) }),
    );
    assert.equal(v1.status, 201);
    assert.equal(v1.headers.get("content-type"), "application/json");
    await v1.body?.cancel();
    const list = await app.request("/api/v1/tickets", {
      headers: { Authorization: `bearer ${key}` },
    });
    assert.equal(list.status, 200);
    assert.equal(list.headers.get("content-type"), "application/json");
    assert.equal((await list.json()).items.length, 2);
  });
});

Deno.test("ALLOW_ANONYMOUS_CREATE opens both create routes without a key, but not the list", async () => {
  await withConfiguredApp(
    { allowAnonymousCreate: true },
    async ({ app }) => {
      const legacy = await app.request(
        "/create_ticket",
        jsonRequest(sampleTicket()),
      );
      assert.equal(legacy.status, 201);
      await legacy.body?.cancel();
      const v1 = await app.request(
        "/api/v1/tickets",
        jsonRequest(sampleTicket()),
      );
      assert.equal(v1.status, 201);
      await v1.body?.cancel();
      await assertProblem(await app.request("/api/v1/tickets"), 401);
    },
  );
});

Deno.test("Without ALLOW_ANONYMOUS_CREATE a create without a key is refused and stores nothing", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await assertProblem(
      await app.request("/api/v1/tickets", jsonRequest(sampleTicket())),
      401,
    );
    const row = store.db.prepare("SELECT count(*) AS n FROM tickets").get();
    assert.equal(Number(row!.n), 0);
  });
});

Deno.test("A key's last use is recorded", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    const key = await addApiKey(store, "mobile");
    assert.equal((await store.listApiKeys())[0]!.last_used_at, null);
    const res = await app.request("/api/v1/tickets", { headers: bearer(key) });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    // The touch is written after the response; wait for it.
    let used: string | null = null;
    for (let i = 0; i < 100 && used === null; i++) {
      await new Promise((r) => setTimeout(r, 10));
      used = (await store.listApiKeys())[0]!.last_used_at;
    }
    assert.ok(used, "last_used_at is set");
    assert.ok(Date.now() - Date.parse(used) < 60_000, used);
  });
});

// ---- API rate limits -------------------------------------------------------------

Deno.test("With API_RATE_LIMIT 3 the fourth request gets 429 problem+json with Retry-After and RateLimit headers", async () => {
  await withConfiguredApp({ apiRateLimit: 3 }, async ({ app, store }) => {
    const key = await addApiKey(store);
    for (const remaining of [2, 1, 0]) {
      const res = await app.request("/api/v1/tickets", {
        headers: bearer(key),
      });
      assert.equal(res.status, 200);
      assert.equal(
        res.headers.get("ratelimit-policy"),
        `"api-key";q=3;w=60`,
      );
      assert.match(
        res.headers.get("ratelimit") ?? "",
        new RegExp(`^"api-key";r=${remaining};t=\\d+$`),
      );
      await res.body?.cancel();
    }
    const res = await app.request("/api/v1/tickets", { headers: bearer(key) });
    const retryAfter = Number(res.headers.get("retry-after"));
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 20,
      `Retry-After ${retryAfter}`,
    );
    assert.equal(res.headers.get("ratelimit-policy"), `"api-key";q=3;w=60`);
    assert.match(res.headers.get("ratelimit") ?? "", /^"api-key";r=0;t=\d+$/);
    await assertProblem(res, 429, { title: "Too many requests" });
  });
});

Deno.test("Each API key has its own rate-limit bucket", async () => {
  await withConfiguredApp({ apiRateLimit: 1 }, async ({ app, store }) => {
    const a = await addApiKey(store, "a");
    const b = await addApiKey(store, "b");
    const statuses = [];
    for (const key of [a, a, b]) {
      const res = await app.request("/api/v1/tickets", {
        headers: bearer(key),
      });
      await res.body?.cancel();
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [200, 429, 200]);
  });
});

Deno.test("With ANON_RATE_LIMIT 2 the third anonymous create from one IP gets 429; another IP is served", async () => {
  await withConfiguredApp(
    { allowAnonymousCreate: true, anonRateLimit: 2 },
    async ({ app }) => {
      const create = (ip: string) =>
        app.request(
          "/create_ticket",
          jsonRequest(sampleTicket()),
          fromIp(ip),
        );
      for (const remaining of [1, 0]) {
        const res = await create("192.0.2.1");
        assert.equal(res.status, 201);
        assert.equal(
          res.headers.get("ratelimit-policy"),
          `"anonymous";q=2;w=60`,
        );
        assert.match(
          res.headers.get("ratelimit") ?? "",
          new RegExp(`^"anonymous";r=${remaining};t=\\d+$`),
        );
        await res.body?.cancel();
      }
      const blocked = await create("192.0.2.1");
      assert.match(blocked.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
      assert.equal(
        blocked.headers.get("ratelimit-policy"),
        `"anonymous";q=2;w=60`,
      );
      await assertProblem(blocked, 429);
      const other = await create("192.0.2.2");
      assert.equal(other.status, 201);
      await other.body?.cancel();
    },
  );
});

Deno.test("API_RATE_LIMIT 0 and ANON_RATE_LIMIT 0 mean no limit and no RateLimit headers", async () => {
  await withConfiguredApp(
    { apiRateLimit: 0, anonRateLimit: 0, allowAnonymousCreate: true },
    async ({ app, store }) => {
      const key = await addApiKey(store);
      for (let i = 0; i < 20; i++) {
        const res = i % 2
          ? await app.request("/api/v1/tickets", { headers: bearer(key) })
          : await app.request("/create_ticket", jsonRequest(sampleTicket()));
        assert.equal(res.status, i % 2 ? 200 : 201);
        assert.equal(res.headers.get("ratelimit"), null);
        assert.equal(res.headers.get("ratelimit-policy"), null);
        await res.body?.cancel();
      }
    },
  );
});

// ---- CSRF -------------------------------------------------------------------------

Deno.test("A cross-origin form POST to /login is refused with 403 and logs nobody in", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const res = await app.request(
      "/login",
      formPost({ username: "admin", password: PASSWORD }, { origin: EVIL }),
    );
    const html = await assertHtml(res, 403);
    assert.match(html, /Cross-site request refused/);
    assert.equal(sessionCookieOf(res), null);
    assert.equal(countRows(store, "sessions"), 0);
  });
});

Deno.test("A cross-origin POST /logout is refused and the session lives on", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    const res = await app.request(
      "/logout",
      formPost({}, { origin: EVIL, cookie }),
    );
    await assertHtml(res, 403);
    assert.equal(await settingsStatus(app, cookie), 200);
  });
});

Deno.test("A cross-origin POST to /settings/users adds no user", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    const res = await app.request(
      "/settings/users",
      formPost({ username: "mallory", password: PASSWORD, role: "admin" }, {
        origin: EVIL,
        cookie,
      }),
    );
    await assertHtml(res, 403);
    assert.equal(countRows(store, "users"), 1);
  });
});

Deno.test("A cross-origin POST to /settings/keys creates no key", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    const res = await app.request(
      "/settings/keys",
      formPost({ name: "stolen" }, { origin: EVIL, cookie }),
    );
    const html = await assertHtml(res, 403);
    assert.doesNotMatch(html, /tdk_/);
    assert.deepEqual(await store.listApiKeys(), []);
  });
});

Deno.test("A form POST with neither Origin nor Sec-Fetch-Site is refused", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const form = await app.request(
      "/login",
      formPost({ username: "admin", password: PASSWORD }, { origin: null }),
    );
    await assertHtml(form, 403);
    // No Content-Type at all counts as text/plain, a type a form can send.
    const bare = await app.request("/login", {
      method: "POST",
      body: `username=admin&password=${encodeURIComponent(PASSWORD)}`,
    });
    await assertHtml(bare, 403);
    assert.equal(countRows(store, "sessions"), 0);
  });
});

Deno.test("A form POST with Sec-Fetch-Site same-origin and no Origin is accepted; cross-site is refused", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const post = (site: string) =>
      app.request(
        "/login",
        formPost({ username: "admin", password: PASSWORD }, {
          origin: null,
          headers: { "Sec-Fetch-Site": site },
        }),
      );
    const cross = await post("cross-site");
    await assertHtml(cross, 403);
    const same = await post("same-origin");
    assert.equal(same.status, 303);
    assert.ok(sessionCookieOf(same));
  });
});

Deno.test("An Origin that differs from ours only in scheme or port is refused", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    for (
      const origin of [
        "https://localhost",
        "http://localhost:8080",
        "null",
        "http://localhost.evil.example",
      ]
    ) {
      const res = await app.request(
        "/login",
        formPost({ username: "admin", password: PASSWORD }, { origin }),
      );
      await assertHtml(res, 403);
    }
    assert.equal(countRows(store, "sessions"), 0);
  });
});

// ---- Security headers and error pages ---------------------------------------------

function assertSecurityHeaders(res: Response, what: string) {
  const csp = res.headers.get("content-security-policy");
  assert.equal(csp, CSP, what);
  assert.doesNotMatch(csp!, /unsafe-inline|unsafe-eval/, what);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff", what);
  assert.equal(res.headers.get("referrer-policy"), "same-origin", what);
  assert.equal(res.headers.get("x-frame-options"), "DENY", what);
  assert.equal(res.headers.get("strict-transport-security"), null, what);
}

Deno.test("Every HTML response carries the CSP and the other security headers, and no HSTS over HTTP", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    await addUser(store, "agent");
    const admin = await logIn(app, "admin");
    const agent = await logIn(app, "agent");
    const cases: [string, number, Promise<Response>][] = [
      ["login page", 200, Promise.resolve(app.request("/login"))],
      [
        "failed login",
        401,
        Promise.resolve(app.request(
          "/login",
          formPost({ username: "admin", password: "wrong password" }),
        )),
      ],
      [
        "settings page",
        200,
        Promise.resolve(app.request("/settings", {
          headers: { Cookie: admin },
        })),
      ],
      [
        "403 page",
        403,
        Promise.resolve(app.request("/settings", {
          headers: { Cookie: agent },
        })),
      ],
      [
        "CSRF page",
        403,
        Promise.resolve(app.request(
          "/logout",
          formPost({}, { origin: EVIL }),
        )),
      ],
      [
        "404 page",
        404,
        Promise.resolve(app.request("/no/such/page", {
          headers: { Cookie: admin },
        })),
      ],
    ];
    for (const [what, status, pending] of cases) {
      const res = await pending;
      assert.equal(res.status, status, what);
      assert.equal(
        res.headers.get("content-type"),
        "text/html; charset=UTF-8",
        what,
      );
      assertSecurityHeaders(res, what);
      assert.match(await res.text(), /^<!doctype html>/i, what);
    }
  });
});

Deno.test("JSON API responses carry nosniff, no framing and a CSP that lets nothing load", async () => {
  await withConfiguredApp({}, async ({ app }) => {
    const res = await app.request("/api/v1/tickets");
    assert.equal(
      res.headers.get("content-security-policy"),
      "default-src 'none'; frame-ancestors 'none'",
    );
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("x-frame-options"), "DENY");
    assert.equal(res.headers.get("referrer-policy"), "same-origin");
    assert.equal(res.headers.get("strict-transport-security"), null);
    await assertProblem(res, 401);
  });
});

/** An error as a driver might throw it: SQL in the message, frames in the stack. */
const LEAKY_ERROR = "SQLITE_ERROR near SELECT id_hash FROM sessions WHERE x\n" +
  "    at query (file:///srv/db/sqlite/accounts.ts:12:3)";

/** The app over `store`, whose `method` fails with LEAKY_ERROR. */
function appWithFailing(
  store: SqliteStore,
  method: "getSession" | "findApiKey",
): DeskApp {
  const failing = new Proxy(store, {
    get(target, prop) {
      if (prop === method) return () => Promise.reject(new Error(LEAKY_ERROR));
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return createApp({
    store: failing,
    bus: createMemoryBus(),
    config: { logLevel: "silent" },
    logger: createLogger("silent"),
  });
}

function assertNoInternals(text: string) {
  assert.doesNotMatch(text, /^\s*at \S/m);
  assert.doesNotMatch(text, /\.ts:\d+/);
  assert.doesNotMatch(text, /SELECT|sqlite|id_hash/i);
}

Deno.test("A 500 page names the request id and shows no stack trace or SQL", async () => {
  await withConfiguredApp({}, async ({ store }) => {
    const app = appWithFailing(store, "getSession");
    const res = await app.request("/settings", {
      headers: { Cookie: "desk_session=anything" },
    });
    const html = await assertHtml(res, 500);
    assertSecurityHeaders(res, "500 page");
    const id = res.headers.get("x-request-id");
    assert.ok(id);
    assert.ok(html.includes(id), "the page quotes the request id");
    assertNoInternals(html);
  });
});

Deno.test("A 500 from the API is a problem with the request id and no stack trace or SQL", async () => {
  await withConfiguredApp({}, async ({ store }) => {
    const app = appWithFailing(store, "findApiKey");
    const res = await app.request("/api/v1/tickets", {
      headers: bearer("tdk_anything"),
    });
    const body = await assertProblem(res, 500, { title: "Internal error" });
    assert.ok(String(body.detail).includes(String(body.request_id)));
    assertNoInternals(JSON.stringify(body));
  });
});

Deno.test("With the store closed, pages and the API answer 503 without internals", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    const key = await addApiKey(store);
    await store.close();
    const page = await app.request("/settings", {
      headers: { Cookie: cookie },
    });
    const html = await assertHtml(page, 503);
    assertSecurityHeaders(page, "503 page");
    assertNoInternals(html);
    const api = await app.request("/api/v1/tickets", { headers: bearer(key) });
    assert.equal(api.headers.get("retry-after"), "5");
    const body = await assertProblem(api, 503);
    assertNoInternals(JSON.stringify(body));
  });
});

// ---- Escaping ------------------------------------------------------------------------

Deno.test("A login attempt's username is echoed escaped", async () => {
  await withConfiguredApp({}, async ({ app }) => {
    const res = await app.request(
      "/login",
      formPost({ username: XSS, password: "wrong password" }),
    );
    const html = await assertHtml(res, 401);
    assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert.ok(!html.includes("<script>alert"));
  });
});

Deno.test("The next parameter is escaped in the login form", async () => {
  await withConfiguredApp({}, async ({ app }) => {
    const res = await app.request(
      `/login?next=${encodeURIComponent(`/${XSS}`)}`,
    );
    const html = await assertHtml(res, 200);
    assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert.ok(!html.includes("<script>alert"));
  });
});

// ---- CORS ------------------------------------------------------------------------------

const APP_ORIGIN = "https://app.example.com";

function preflight(app: DeskApp, path: string, origin: string) {
  return app.request(path, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": "POST",
      "Access-Control-Request-Headers": "authorization, content-type",
    },
  });
}

function corsHeaders(res: Response): string[] {
  return [...res.headers.keys()].filter((k) => k.startsWith("access-control-"));
}

Deno.test("With CORS_ORIGINS, a preflight from that origin to the API is allowed", async () => {
  await withConfiguredApp({ corsOrigins: [APP_ORIGIN] }, async ({ app }) => {
    for (const path of ["/api/v1/tickets", "/create_ticket"]) {
      const res = await preflight(app, path, APP_ORIGIN);
      assert.equal(res.status, 204, path);
      assert.equal(res.headers.get("access-control-allow-origin"), APP_ORIGIN);
      assert.match(
        res.headers.get("access-control-allow-methods") ?? "",
        /\bPOST\b/,
      );
      assert.match(
        res.headers.get("access-control-allow-headers") ?? "",
        /\bAuthorization\b/,
      );
    }
  });
});

Deno.test("With CORS_ORIGINS, an allowed origin's API response exposes the RateLimit headers", async () => {
  await withConfiguredApp(
    { corsOrigins: [APP_ORIGIN], apiRateLimit: 10 },
    async ({ app, store }) => {
      const key = await addApiKey(store);
      const res = await app.request("/api/v1/tickets", {
        headers: { ...bearer(key), Origin: APP_ORIGIN },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("access-control-allow-origin"), APP_ORIGIN);
      const exposed = res.headers.get("access-control-expose-headers") ?? "";
      for (const h of ["RateLimit", "RateLimit-Policy", "Retry-After"]) {
        assert.ok(exposed.split(",").includes(h), `${h} in ${exposed}`);
      }
      await res.body?.cancel();
    },
  );
});

Deno.test("With CORS_ORIGINS, another origin gets no Access-Control-Allow-Origin", async () => {
  await withConfiguredApp({ corsOrigins: [APP_ORIGIN] }, async ({ app }) => {
    const res = await preflight(app, "/api/v1/tickets", EVIL);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    await res.body?.cancel();
  });
});

Deno.test("Dashboard paths never get CORS headers, even from an allowed origin", async () => {
  await withConfiguredApp({ corsOrigins: [APP_ORIGIN] }, async ({ app }) => {
    for (const path of ["/login", "/settings", "/logout", "/"]) {
      const pre = await preflight(app, path, APP_ORIGIN);
      assert.deepEqual(corsHeaders(pre), [], `OPTIONS ${path}`);
      await pre.body?.cancel();
    }
    const page = await app.request("/login", {
      headers: { Origin: APP_ORIGIN },
    });
    assert.equal(page.status, 200);
    assert.deepEqual(corsHeaders(page), []);
    await page.body?.cancel();
  });
});

Deno.test("With the default config no response carries CORS headers", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    const key = await addApiKey(store);
    const pre = await preflight(app, "/api/v1/tickets", APP_ORIGIN);
    assert.deepEqual(corsHeaders(pre), []);
    await pre.body?.cancel();
    const res = await app.request("/api/v1/tickets", {
      headers: { ...bearer(key), Origin: APP_ORIGIN },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(corsHeaders(res), []);
    await res.body?.cancel();
  });
});

// ---- Config for these features ------------------------------------------------------------

function env(values: Record<string, string>) {
  return (name: string) => values[name];
}

Deno.test("readConfig reads ALLOW_ANONYMOUS_CREATE as 1/0/true/false, off when unset", () => {
  assert.equal(readConfig(env({})).allowAnonymousCreate, false);
  for (
    const [v, want] of [["1", true], ["0", false], ["true", true], [
      "FALSE",
      false,
    ]] as const
  ) {
    assert.equal(
      readConfig(env({ ALLOW_ANONYMOUS_CREATE: v })).allowAnonymousCreate,
      want,
      v,
    );
  }
  assert.throws(
    () => readConfig(env({ ALLOW_ANONYMOUS_CREATE: "maybe" })),
    (err) =>
      err instanceof ConfigError &&
      err.message === 'ALLOW_ANONYMOUS_CREATE must be 1 or 0, got "maybe"',
  );
});

Deno.test("readConfig reads CORS_ORIGINS as a comma-separated list of origins", () => {
  assert.deepEqual(readConfig(env({})).corsOrigins, []);
  assert.deepEqual(
    readConfig(env({
      CORS_ORIGINS: "https://app.example.com, http://localhost:5173",
    })).corsOrigins,
    ["https://app.example.com", "http://localhost:5173"],
  );
});

for (const bad of ["app.example.com", "https://app.example.com/path", "*"]) {
  Deno.test(`readConfig throws a ConfigError naming CORS_ORIGINS for ${JSON.stringify(bad)}`, () => {
    assert.throws(
      () => readConfig(env({ CORS_ORIGINS: `https://ok.example, ${bad}` })),
      (err) =>
        err instanceof ConfigError && err.message.startsWith("CORS_ORIGINS") &&
        err.message.includes(JSON.stringify(bad)),
    );
  });
}

Deno.test("readConfig reads TRUST_PROXY and keeps LOGIN_RATE_LIMIT at least 1", () => {
  assert.equal(readConfig(env({})).trustProxy, false);
  assert.equal(readConfig(env({ TRUST_PROXY: "1" })).trustProxy, true);
  assert.equal(readConfig(env({})).loginRateLimit, 5);
  assert.equal(readConfig(env({ LOGIN_RATE_LIMIT: "0" })).loginRateLimit, 1);
  assert.equal(readConfig(env({ LOGIN_RATE_LIMIT: "20" })).loginRateLimit, 20);
});
