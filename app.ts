/** createApp(deps): the whole HTTP application, with no global state, for main.ts and tests. */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Context } from "hono";
import type { EventBus } from "./db/bus.ts";
import {
  IdempotencyMismatchError,
  NotFoundError,
  StaleVersionError,
  StorageUnavailableError,
  type TicketStore,
} from "./db/store.ts";
import type { Logger } from "./log.ts";
import type { AppConfig } from "./config.ts";
import { apiTickets } from "./routes/api_tickets.ts";
import { health } from "./routes/health.ts";
import { home } from "./routes/home.tsx";
import { ASSETS, assets } from "./routes/assets.ts";
import {
  HttpProblem,
  problemBody,
  type ProblemInit,
} from "./routes/problems.ts";
import { ErrorPage } from "./views/error_page.tsx";
import type { AppEnv } from "./routes/context.ts";

export interface AppDeps {
  store: TicketStore;
  bus: EventBus;
  config: Pick<AppConfig, "logLevel">;
  logger: Logger;
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** Paths whose errors are problem+json; everything else is a page for people. */
function isApiPath(path: string): boolean {
  return path === "/create_ticket" || path.startsWith("/api/") ||
    path === "/healthz";
}

/** Maps any thrown value to a problem, once, for the whole app. */
function toProblem(err: unknown): ProblemInit | null {
  if (err instanceof HttpProblem) return err.init;
  if (err instanceof NotFoundError) {
    return { status: 404, title: "Not found", detail: err.message };
  }
  if (err instanceof StaleVersionError) {
    return {
      status: 412,
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
  const { logger } = deps;
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

  app.route("/", health(deps));
  app.route("/", apiTickets(deps));
  app.route("/", home());
  app.route("/", assets());

  app.notFound((c) =>
    respondError(c, {
      status: 404,
      title: "Not found",
      detail: `Nothing lives at ${c.req.path}`,
    })
  );

  app.onError((err, c) => {
    const problem = toProblem(err);
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

  return app;
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
