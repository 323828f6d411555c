/** Login, logout, sessions for the dashboard, and API-key checks for the JSON API. */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import {
  type AccountStore,
  type ApiKey,
  type ApiScope,
  SESSION_IDLE_MS,
  SESSION_MAX_MS,
  type SessionRecord,
  type User,
} from "../db/store.ts";
import type { AppConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { verifyPassword } from "../lib/passwords.ts";
import { LoginThrottle } from "../lib/login_throttle.ts";
import { RateLimiter, rateLimitHeaders } from "../lib/rate_limit.ts";
import { hashApiKey, hashSessionId, randomToken } from "../lib/tokens.ts";
import { LoginPage } from "../views/login_page.tsx";
import { PAGE_STYLES } from "./assets.ts";
import { type AppEnv, clientIp, isHttps, publicOrigin } from "./context.ts";
import { HttpProblem } from "./problems.ts";
import { localPath } from "./headers.ts";
import { textProblem } from "./validation.ts";

export interface AuthDeps {
  store: AccountStore;
  config: AppConfig;
  logger: Logger;
  secretKey: string;
}

const COOKIE = "desk_session";
const SECURE_COOKIE = "__Host-desk_session";
/** last_seen_at is refreshed at most this often: a write per page view would be waste. */
const TOUCH_EVERY_MS = 5 * 60 * 1000;
const LOGIN_ERROR = "Wrong username or password.";

const styles = () => PAGE_STYLES;

/** Only same-site paths may be a post-login destination (no open redirect). */
function safeNext(next: unknown): string {
  return localPath(next) ?? "/dashboard";
}

/**
 * The session cookie of this request. Over HTTPS only the `__Host-` cookie
 * counts: accepting the plain one too would let a cookie planted by a sibling
 * domain or over plain HTTP stand in for it, which the prefix exists to stop.
 */
function readSessionCookie(c: Context, trustProxy: boolean) {
  return isHttps(c, trustProxy)
    ? getCookie(c, SECURE_COOKIE)
    : getCookie(c, COOKIE);
}

/** Whether a session record is still good: user enabled, neither idle nor too old. */
function sessionValid(record: SessionRecord, now = Date.now()): boolean {
  return !record.user.disabled &&
    now - Date.parse(record.last_seen_at) <= SESSION_IDLE_MS &&
    now - Date.parse(record.created_at) <= SESSION_MAX_MS;
}

/** True while the session with this id hash may still be used (live streams ask every few seconds). */
export async function sessionAlive(
  store: AccountStore,
  hash: string,
): Promise<boolean> {
  const record = await store.getSession(hash);
  return record !== null && sessionValid(record);
}

/** Looks up the request's session, ending it when idle, too old or its user disabled. */
async function currentSession(
  c: Context,
  deps: AuthDeps,
): Promise<{ record: SessionRecord; hash: string } | null> {
  const id = readSessionCookie(c, deps.config.trustProxy);
  if (!id || id.length > 100) return null;
  const hash = hashSessionId(id, deps.secretKey);
  const record = await deps.store.getSession(hash);
  if (!record) return null;
  const now = Date.now();
  if (!sessionValid(record, now)) {
    await deps.store.deleteSession(hash);
    return null;
  }
  if (now - Date.parse(record.last_seen_at) > TOUCH_EVERY_MS) {
    deps.store.touchSession(hash).catch((err) =>
      deps.logger.warn("session touch failed", { error: String(err) })
    );
  }
  return { record, hash };
}

/** Dashboard guard: a session is required; htmx gets HX-Redirect, a browser a 303 to /login. */
export function requireSession(deps: AuthDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const s = await currentSession(c, deps);
    if (s) {
      c.set("user", s.record.user);
      c.set("actor", s.record.user.username);
      c.set("session", s.hash);
      await next();
      // Pages for a logged-in person are theirs alone: no cache keeps a copy.
      c.header("Cache-Control", "no-store");
      return;
    }
    const here = c.req.method === "GET"
      ? c.req.path + new URL(c.req.url).search
      : "/dashboard";
    const login = `/login?next=${encodeURIComponent(here)}`;
    if (c.req.header("hx-request")) {
      c.header("HX-Redirect", login);
      return c.body(null, 401);
    }
    if (c.req.header("accept")?.includes("text/event-stream")) {
      return c.text("Log in first", 401);
    }
    return c.redirect(login, 303);
  };
}

/** Settings guard: only admins manage users and API keys. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get("user")?.role !== "admin") {
    throw new HttpProblem({
      status: 403,
      title: "Admins only",
      detail: "Only admins can manage users and API keys.",
    });
  }
  await next();
};

/** CSRF: a state-changing form request must come from our own origin. */
export function csrfGuard(config: AppConfig): MiddlewareHandler<AppEnv> {
  const check = csrf({
    origin: (origin, c) => origin === publicOrigin(c, config.trustProxy),
  });
  return async (c, next) => {
    try {
      await check(c, next);
    } catch (err) {
      if ((err as { status?: number }).status !== 403) throw err;
      throw new HttpProblem({
        status: 403,
        title: "Cross-site request refused",
        detail:
          "This form was sent from another site (or without an Origin header), so it was refused and nothing changed. Reload the page and try again.",
      });
    }
  };
}

/** GET/POST /login and POST /logout. */
export function authPages(deps: AuthDeps) {
  const app = new Hono<AppEnv>();
  const throttle = new LoginThrottle(deps.config.loginRateLimit);

  app.get("/login", async (c) => {
    const next = safeNext(c.req.query("next"));
    if (await currentSession(c, deps)) return c.redirect(next, 303);
    return c.html(LoginPage({ styles: styles(), next }));
  });

  app.post("/login", async (c) => {
    const form = await c.req.parseBody();
    const username = String(form.username ?? "").trim().slice(0, 128);
    const password = String(form.password ?? "");
    const next = safeNext(form.next);
    const unprintable = textProblem(username, false);
    if (unprintable) {
      return c.html(
        LoginPage({
          styles: styles(),
          next,
          error: `The username ${unprintable}: type it again.`,
        }),
        400,
      );
    }
    const address = clientIp(c, deps.config.trustProxy);
    const account = username.toLowerCase();
    const verdict = throttle.check(address, account);
    if (!verdict.allowed) {
      c.header("Retry-After", String(verdict.retryAfterSeconds));
      return c.html(
        LoginPage({
          styles: styles(),
          next,
          username,
          error:
            `Too many failed logins. Wait ${verdict.retryAfterSeconds} seconds and try again.`,
        }),
        429,
      );
    }
    const found = await deps.store.findUserForLogin(username);
    const ok = await verifyPassword(password, found?.passwordHash ?? null);
    if (!ok || !found || found.user.disabled) {
      throttle.failed(address, account);
      deps.logger.info("login failed", { username, ip: address });
      return c.html(
        LoginPage({ styles: styles(), next, username, error: LOGIN_ERROR }),
        401,
      );
    }
    // A fresh id on every login: a session id planted before login is worthless.
    const old = readSessionCookie(c, deps.config.trustProxy);
    if (old) await deps.store.deleteSession(hashSessionId(old, deps.secretKey));
    const id = randomToken();
    await deps.store.createSession(
      hashSessionId(id, deps.secretKey),
      found.user.id,
    );
    const secure = isHttps(c, deps.config.trustProxy);
    setCookie(c, secure ? SECURE_COOKIE : COOKIE, id, {
      httpOnly: true,
      sameSite: "Lax",
      path: "/",
      secure,
      maxAge: SESSION_MAX_MS / 1000,
    });
    deps.logger.info("login", { username: found.user.username });
    return c.redirect(next, 303);
  });

  app.post("/logout", async (c) => {
    const id = readSessionCookie(c, deps.config.trustProxy);
    if (id) await deps.store.deleteSession(hashSessionId(id, deps.secretKey));
    deleteCookie(c, COOKIE, { path: "/" });
    deleteCookie(c, SECURE_COOKIE, { path: "/", secure: true });
    return c.redirect("/login", 303);
  });
  return app;
}

function unauthorized(detail: string): HttpProblem {
  return new HttpProblem({
    status: 401,
    title: "Unauthorized",
    detail,
    headers: { "WWW-Authenticate": 'Bearer realm="tickets"' },
  });
}

/** The create routes, which ALLOW_ANONYMOUS_CREATE may open to callers without a key. */
function isCreateRoute(method: string, path: string): boolean {
  return method === "POST" &&
    (path === "/create_ticket" || path === "/api/v1/tickets");
}

/** The key of `Authorization: Bearer <key>`: undefined without the header, null when malformed. */
function bearerToken(header: string | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  return /^Bearer +([\x21-\x7e]{1,200})$/i.exec(header)?.[1] ?? null;
}

/** The active API key the request's Authorization header carries, or null (none, malformed, unknown or revoked). */
export async function requestApiKey(
  c: Parameters<MiddlewareHandler>[0],
  store: AccountStore,
): Promise<ApiKey | null> {
  const token = bearerToken(c.req.header("authorization"));
  if (!token) return null;
  const key = await store.findApiKey(hashApiKey(token));
  return key && !key.revoked_at ? key : null;
}

/** The user of the request's live session, or null; unlike requireSession it never redirects. */
export async function sessionUser(
  c: Parameters<MiddlewareHandler>[0],
  deps: AuthDeps,
): Promise<User | null> {
  return (await currentSession(c, deps))?.record.user ?? null;
}

/** Whether a key may do what `scope` allows: a key has the scopes it lists, and `write` includes `read`. */
export function keyAllows(
  key: Pick<ApiKey, "scopes">,
  scope: ApiScope,
): boolean {
  return key.scopes.includes(scope) ||
    (scope === "read" && key.scopes.includes("write"));
}

/** JSON API route guard, after apiAuth: the request's key must allow `scope`, else 403. */
export function requireScope(scope: ApiScope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.get("apiKey");
    if (!key) {
      // apiAuth lets a request without a key through to the create routes
      // only, and only under ALLOW_ANONYMOUS_CREATE.
      if (scope === "create") return await next();
      throw unauthorized("Send an API key as 'Authorization: Bearer <key>'");
    }
    if (!keyAllows(key, scope)) {
      throw new HttpProblem({
        status: 403,
        type: "/problems/insufficient-scope",
        title: "Insufficient scope",
        detail:
          `This request needs an API key with the '${scope}' scope; this key has: ${
            key.scopes.join(", ")
          }. An admin can create a key that has it (Settings, or deno task apikey create NAME --scopes ${scope}).`,
        extra: { required_scope: scope, key_scopes: key.scopes },
      });
    }
    await next();
  };
}

/** JSON API guard: Bearer API key (or anonymous create when allowed), with rate limits. */
export function apiAuth(deps: AuthDeps): MiddlewareHandler<AppEnv> {
  const { config, store } = deps;
  const perKey = new RateLimiter("api-key", config.apiRateLimit);
  const perIp = new RateLimiter("anonymous", config.anonRateLimit);
  const touched = new Map<number, number>();

  const limit = (
    limiter: RateLimiter,
    key: string,
    c: Parameters<MiddlewareHandler>[0],
  ) => {
    if (limiter.limit === 0) return;
    const d = limiter.take(key);
    for (const [k, v] of Object.entries(rateLimitHeaders(d))) c.header(k, v);
    if (!d.allowed) {
      throw new HttpProblem({
        status: 429,
        title: "Too many requests",
        detail:
          `Rate limit of ${d.limit} requests per ${d.windowSeconds} s reached; retry in ${d.retryAfterSeconds} s`,
        headers: { "Retry-After": String(d.retryAfterSeconds) },
      });
    }
  };

  return async (c, next) => {
    const header = c.req.header("authorization");
    if (header === undefined) {
      if (
        !(config.allowAnonymousCreate &&
          isCreateRoute(c.req.method, c.req.path))
      ) {
        throw unauthorized(
          "Send an API key as 'Authorization: Bearer <key>' (create one with: deno task apikey create NAME)",
        );
      }
      c.set("actor", "anonymous");
      limit(perIp, clientIp(c, config.trustProxy), c);
      return next();
    }
    const token = bearerToken(header);
    if (!token) {
      throw unauthorized("The Authorization header must be 'Bearer <key>'");
    }
    const key = await store.findApiKey(hashApiKey(token));
    if (!key || key.revoked_at) {
      throw unauthorized("The API key is unknown or has been revoked");
    }
    c.set("apiKey", key);
    c.set("actor", `api:${key.name}`);
    limit(perKey, String(key.id), c);
    const now = Date.now();
    if (now - (touched.get(key.id) ?? 0) > 60_000) {
      touched.set(key.id, now);
      store.touchApiKey(key.id).catch(() => touched.delete(key.id));
    }
    return next();
  };
}
