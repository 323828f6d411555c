/** createApp(deps): the whole HTTP application, with no global state, for main.ts and tests. */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { compress } from "hono/compress";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import { timeout } from "hono/timeout";
import type { EventBus } from "./db/bus.ts";
import {
  AccountNotFoundError,
  type AccountStore,
  DuplicateNameError,
  IdempotencyMismatchError,
  NotFoundError,
  StaleVersionError,
  StorageUnavailableError,
  type TicketStore,
} from "./db/store.ts";
import type { Logger } from "./log.ts";
import { type AppConfig, DEFAULT_CONFIG } from "./config.ts";
import { randomToken } from "./lib/tokens.ts";
import {
  apiAuth,
  authPages,
  csrfGuard,
  requireSession,
  sessionAlive,
} from "./routes/auth.tsx";
import { apiTickets } from "./routes/api_tickets.ts";
import { health } from "./routes/health.ts";
import { dashboard } from "./routes/dashboard.tsx";
import { events } from "./routes/events.ts";
import { liveComposer } from "./routes/live_render.tsx";
import { settings } from "./routes/settings.tsx";
import { problemTypes } from "./routes/problem_types.tsx";
import { ASSETS, assets } from "./routes/assets.ts";
import {
  HttpProblem,
  problemBody,
  type ProblemInit,
} from "./routes/problems.ts";
import { ErrorNotice, ErrorPage } from "./views/error_page.tsx";
import { type AppEnv, isHttps } from "./routes/context.ts";
import { safeHeaders } from "./routes/headers.ts";

export interface AppDeps {
  store: TicketStore & AccountStore;
  bus: EventBus;
  /** Anything not given takes its default (tests give only what they test). */
  config: Partial<AppConfig>;
  logger: Logger;
  /** Aborted at shutdown: ends the live streams so the server can stop. */
  signal?: AbortSignal;
}

/** Forms are small: a description or a comment is at most 10,000 characters. */
const FORM_BODY_LIMIT = 64 * 1024;
/** No request but the live stream should take longer than this. */
const REQUEST_TIMEOUT_MS = 30_000;

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** Paths whose errors are problem+json; everything else is a page for people. */
function isApiPath(path: string): boolean {
  return path === "/create_ticket" || path.startsWith("/api/") ||
    path === "/healthz";
}

/** Maps any thrown value to a problem, once, for the whole app. */
function toProblem(err: unknown, api: boolean): ProblemInit | null {
  if (err instanceof HttpProblem) return err.init;
  if (err instanceof NotFoundError) {
    return { status: 404, title: "Not found", detail: err.message };
  }
  if (err instanceof StaleVersionError) {
    return {
      // The API's If-Match precondition failed (412); a dashboard form's version
      // is part of the form, so there it is a conflict with the current state (409).
      status: api ? 412 : 409,
      type: "/problems/stale-version",
      title: "Version is stale",
      detail: err.message,
      extra: { current_version: err.current },
    };
  }
  if (err instanceof IdempotencyMismatchError) {
    return {
      status: 422,
      type: "/problems/idempotency-key-reused",
      title: "Idempotency-Key reused",
      detail: `${err.message}; use a new key for a new ticket`,
      errors: [{
        field: "Idempotency-Key",
        detail: "was used with another body",
      }],
    };
  }
  if (err instanceof DuplicateNameError) {
    return { status: 409, title: "Name taken", detail: err.message };
  }
  if (err instanceof AccountNotFoundError) {
    return { status: 404, title: "Not found", detail: err.message };
  }
  if (err instanceof StorageUnavailableError) {
    return {
      status: 503,
      type: "/problems/storage-unavailable",
      title: "Storage unavailable",
      detail:
        "The database cannot store anything right now; nothing was saved. Retry later.",
      headers: { "Retry-After": "5" },
    };
  }
  if (err instanceof HTTPException) {
    return {
      status: err.status,
      title: err.message || "Request refused",
      detail: err.message || `The request was refused (${err.status})`,
    };
  }
  return null;
}

/** Builds the app from its dependencies. */
export function createApp(deps: AppDeps) {
  const { logger, store } = deps;
  const config: AppConfig = { ...DEFAULT_CONFIG, ...deps.config };
  const auth = {
    store,
    config,
    logger,
    secretKey: config.secretKey ?? randomToken(),
  };
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const id = incoming && REQUEST_ID.test(incoming)
      ? incoming
      : crypto.randomUUID();
    c.set("requestId", id);
    const t0 = performance.now();
    await next();
    c.header("X-Request-Id", id);
    logger.info("request", {
      request_id: id,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - t0) * 100) / 100,
    });
  });

  // Compresses text, HTML and JSON; the default filter leaves text/event-stream alone.
  app.use(compress());
  app.use(securityHeaders(config));
  const limitTime = timeout(REQUEST_TIMEOUT_MS);
  app.use((c, next) => c.req.path === "/events" ? next() : limitTime(c, next));

  // Public: health, assets, the API description and its problem types.
  app.route("/", health(auth));
  app.route("/", assets());
  app.route("/", problemTypes());

  // The JSON API: API keys (or anonymous create, if allowed), rate limits, CORS if configured.
  if (config.corsOrigins.length > 0) {
    const allow = cors({
      origin: config.corsOrigins,
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
        "Idempotent-Replayed",
        "RateLimit",
        "RateLimit-Policy",
        "Retry-After",
        "X-Request-Id",
      ],
      maxAge: 600,
    });
    app.use("/create_ticket", allow);
    app.use("/api/*", allow);
  }
  const guardApi = apiAuth(auth);
  app.use("/create_ticket", guardApi);
  app.use("/api/v1/*", guardApi);
  app.route("/", apiTickets(deps));

  // Pages for people: same-origin forms only, small bodies, login required past /login.
  app.use((c, next) => isApiPath(c.req.path) ? next() : formLimit(c, next));
  const guardForms = csrfGuard(config);
  app.use((c, next) => isApiPath(c.req.path) ? next() : guardForms(c, next));
  app.route("/", authPages(auth));
  const guardPages = requireSession(auth);
  app.use((c, next) => isApiPath(c.req.path) ? next() : guardPages(c, next));
  app.route("/", settings(deps));
  app.route("/", dashboard(deps));
  app.route(
    "/",
    events({
      store,
      bus: deps.bus,
      logger,
      composer: liveComposer(store),
      sessionAlive: (hash) => sessionAlive(store, hash),
      signal: deps.signal,
      live: { retentionMs: config.liveReplayDays * 24 * 60 * 60 * 1000 },
    }).app,
  );

  app.notFound((c) =>
    respondError(c, {
      status: 404,
      title: "Not found",
      detail: `Nothing lives at ${c.req.path}`,
    })
  );

  app.onError((err, c) => {
    const problem = toProblem(err, isApiPath(c.req.path));
    if (problem) {
      if (problem.status >= 500) {
        logger.warn("request failed", {
          request_id: c.get("requestId"),
          status: problem.status,
          error: String(err),
        });
      }
      return respondError(c, problem);
    }
    logger.error("unhandled error", {
      request_id: c.get("requestId"),
      path: c.req.path,
      error: String(err),
      stack: (err as Error)?.stack,
    });
    return respondError(c, {
      status: 500,
      title: "Internal error",
      detail:
        `Something went wrong on our side; nothing was saved. Quote request id ${
          c.get("requestId")
        } when reporting it.`,
    });
  });

  // Every header of every response passes one guard on its way out: a control
  // character in any of them (a Location built from a crafted `next`, say)
  // would otherwise make Deno's HTTP layer panic and stop the whole process.
  const dispatch = app.fetch;
  app.fetch = async (request, env, ctx) =>
    safeHeaders(await dispatch(request, env, ctx));
  return app;
}

const formLimit = bodyLimit({
  maxSize: FORM_BODY_LIMIT,
  onError: () => {
    throw new HttpProblem({
      status: 413,
      title: "Too much text",
      detail: `A form may send at most ${FORM_BODY_LIMIT / 1024} KiB.`,
    });
  },
});

const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Pages: CSP without inline scripts or eval, no framing, no sniffing. API: no sniffing. HSTS only over HTTPS. */
function securityHeaders(config: AppConfig): MiddlewareHandler<AppEnv> {
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      // Pico draws its icons as data: SVGs from the stylesheet.
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
    },
    strictTransportSecurity: false,
    xFrameOptions: "DENY",
    referrerPolicy: "same-origin",
    crossOriginEmbedderPolicy: false,
  });
  return async (c, next) => {
    if (isApiPath(c.req.path)) {
      // JSON is never a page: the OWASP REST set (nothing may load, nothing may
      // frame it, no sniffing) instead of the dozen page headers, measurably
      // cheaper on the hottest path.
      await next();
      const h = c.res.headers;
      h.set("Content-Security-Policy", API_CSP);
      h.set("X-Content-Type-Options", "nosniff");
      h.set("X-Frame-Options", "DENY");
      h.set("Referrer-Policy", "same-origin");
      // API answers are per key and often private: no cache keeps them.
      if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
    } else {
      await headers(c, next);
    }
    if (isHttps(c, config.trustProxy)) {
      c.res.headers.set(
        "Strict-Transport-Security",
        "max-age=31536000; includeSubDomains",
      );
    }
  };
}

function respondError(c: Context<AppEnv>, p: ProblemInit) {
  for (const [k, v] of Object.entries(p.headers ?? {})) c.header(k, v);
  const requestId = c.get("requestId") ?? "";
  if (isApiPath(c.req.path)) {
    return c.body(
      JSON.stringify(problemBody(p, c.req.path, requestId)),
      p.status as 400,
      { "Content-Type": "application/problem+json" },
    );
  }
  if (
    c.req.header("hx-request") === "true" &&
    c.req.header("hx-history-restore-request") !== "true"
  ) {
    // htmx swaps error responses too: show the message in the page's live
    // region instead of replacing the card or form the request came from.
    c.header("HX-Retarget", "#flash");
    c.header("HX-Reswap", "innerHTML");
    return c.html(
      ErrorNotice({ status: p.status, title: p.title, detail: p.detail }),
      p.status as 400,
    );
  }
  return c.html(
    ErrorPage({
      status: p.status,
      title: p.title,
      detail: p.detail,
      styles: [ASSETS.pico.url, ASSETS.appCss.url],
    }),
    p.status as 400,
  );
}
