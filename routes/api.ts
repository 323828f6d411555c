/**
 * The JSON API surface: the seed's /create_ticket, /api/v1 and /healthz. API
 * keys with scopes (or anonymous create, if allowed), rate limits, CORS when
 * configured, the OWASP REST security headers, and problem+json errors.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { timeout } from "hono/timeout";
import { apiAuth, type AuthDeps } from "./auth.tsx";
import { apiTickets } from "./api_tickets.ts";
import { reportRoutes } from "./api_reports.ts";
import { health } from "./health.ts";
import type { AppEnv } from "./context.ts";
import { isHttps } from "./context.ts";
import { errorHandler, respondProblem, strictTransport } from "./errors.ts";
import type { AccountStore, TicketStore } from "../db/store.ts";
import type { RequesterLinks } from "../lib/requester_token.ts";
import type { RateLimiter } from "../lib/rate_limit.ts";

export interface ApiSurfaceDeps extends AuthDeps {
  store: TicketStore & AccountStore;
  links: RequesterLinks;
  replyLimit: RateLimiter;
}

/** The requester's endpoints: the token in the path is the credential, not an API key. */
const REQUESTS = "/api/v1/requests/*";
const isRequestPath = (path: string) => path.startsWith("/api/v1/requests/");

/** Every path the API owns; its middleware applies to these only. */
const API_PATHS = ["/create_ticket", "/api/*", "/healthz"];
const REQUEST_TIMEOUT_MS = 30_000;
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * JSON is never a page: the OWASP REST set (nothing may load, nothing may
 * frame it, no sniffing) instead of the dozen page headers, measurably cheaper
 * on the hottest path; and no cache keeps answers that are per key.
 */
function apiHeaders(trustProxy: boolean): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set("Content-Security-Policy", API_CSP);
    h.set("X-Content-Type-Options", "nosniff");
    h.set("X-Frame-Options", "DENY");
    h.set("Referrer-Policy", "same-origin");
    if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
    strictTransport(c, isHttps(c, trustProxy));
  };
}

function corsFor(origins: string[]) {
  return cors({
    origin: origins,
    allowHeaders: [
      "Authorization",
      "Content-Type",
      "Idempotency-Key",
      "If-Match",
    ],
    allowMethods: ["GET", "POST", "PATCH"],
    exposeHeaders: [
      "Location",
      "ETag",
      "Ticket-Status-URL",
      "Idempotent-Replayed",
      "RateLimit",
      "RateLimit-Policy",
      "Retry-After",
      "X-Request-Id",
    ],
    maxAge: 600,
  });
}

/** Builds the JSON API surface. */
export function apiSurface(deps: ApiSurfaceDeps) {
  const { config } = deps;
  const api = new Hono<AppEnv>();
  const headers = apiHeaders(config.trustProxy);
  const limitTime = timeout(REQUEST_TIMEOUT_MS);
  for (const path of API_PATHS) api.use(path, headers, limitTime);
  // A requester's app or page may call these from any origin: no cookies are
  // involved (credentials off), and the token in the URL is all they carry.
  api.use(
    REQUESTS,
    cors({
      origin: "*",
      allowHeaders: ["Content-Type"],
      allowMethods: ["GET", "POST"],
      exposeHeaders: [
        "Location",
        "RateLimit",
        "RateLimit-Policy",
        "Retry-After",
        "X-Request-Id",
      ],
      maxAge: 600,
    }),
  );
  if (config.corsOrigins.length > 0) {
    const allow = corsFor(config.corsOrigins);
    api.use("/create_ticket", allow);
    api.use(
      "/api/*",
      (c, next) => isRequestPath(c.req.path) ? next() : allow(c, next),
    );
  }
  const guard = apiAuth(deps);
  api.use("/create_ticket", guard);
  api.use(
    "/api/v1/*",
    (c, next) => isRequestPath(c.req.path) ? next() : guard(c, next),
  );

  api.route("/", health(deps));
  const tickets = apiTickets(deps);
  // In the tickets app, so its OpenAPI document lists the route too.
  reportRoutes(tickets, { store: deps.store, zone: config.reportTimeZone });
  api.route("/", tickets);
  api.all("/healthz", (c) =>
    respondProblem(c, {
      status: 405,
      title: "Method not allowed",
      detail: `${c.req.method} is not supported on /healthz; use GET`,
      headers: { Allow: "GET" },
    }));
  api.all("/api/*", (c) =>
    respondProblem(c, {
      status: 404,
      title: "Not found",
      detail: `Nothing lives at ${c.req.path}`,
    }));
  api.onError(errorHandler("api", deps.logger));
  return api;
}
