/** createApp(deps): the whole HTTP application, with no global state, for main.ts and tests. */
import { Hono } from "hono";
import { compress } from "hono/compress";
import type { EventBus, SignalBus } from "./db/bus.ts";
import type { AccountStore, TicketStore } from "./db/store.ts";
import type { Logger } from "./log.ts";
import { type AppConfig, DEFAULT_CONFIG } from "./config.ts";
import { randomToken } from "./lib/tokens.ts";
import { requesterLinks } from "./lib/requester_token.ts";
import { RateLimiter } from "./lib/rate_limit.ts";
import { apiSurface } from "./routes/api.ts";
import { pageSurface } from "./routes/pages.ts";
import { errorHandler, respondPage } from "./routes/errors.ts";
import type { AppEnv } from "./routes/context.ts";
import { safeHeaders } from "./routes/headers.ts";
import { RequestMetrics } from "./routes/metrics.ts";

export interface AppDeps {
  store: TicketStore & AccountStore;
  bus: EventBus;
  /** Anything not given takes its default (tests give only what they test). */
  config: Partial<AppConfig>;
  logger: Logger;
  /** Aborted at shutdown: ends the live streams so the server can stop. */
  signal?: AbortSignal;
  /** Signals between instances (presence); within this process when not given. */
  signals?: SignalBus;
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;
/** Replies a requester may send per 10 minutes through one link. */
const REQUESTER_REPLIES = 10;

/** Builds the app from its dependencies: the JSON API and the pages, each with its own middleware and errors. */
export function createApp(deps: AppDeps) {
  const config: AppConfig = { ...DEFAULT_CONFIG, ...deps.config };
  const secretKey = config.secretKey ?? randomToken();
  const surface = {
    ...deps,
    config,
    secretKey,
    links: requesterLinks(secretKey, config.publicUrl),
    // One bucket per requester link, for the JSON API and the page's form alike.
    replyLimit: new RateLimiter("requester-reply", REQUESTER_REPLIES, 600),
    requests: new RequestMetrics(),
  };
  const app = new Hono<AppEnv>();
  app.use(surface.requests.middleware());

  app.use(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const id = incoming && REQUEST_ID.test(incoming)
      ? incoming
      : crypto.randomUUID();
    c.set("requestId", id);
    const t0 = performance.now();
    await next();
    c.header("X-Request-Id", id);
    deps.logger.info("request", {
      request_id: id,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - t0) * 100) / 100,
    });
  });
  // Compresses text, HTML and JSON; the default filter leaves text/event-stream alone.
  app.use(compress());

  // The API owns its own paths (and answers them all); everything else is a page.
  app.route("/", apiSurface(surface));
  app.route("/", pageSurface(surface));
  app.notFound((c) =>
    respondPage(c, {
      status: 404,
      title: "Not found",
      detail: `Nothing lives at ${c.req.path}`,
    })
  );
  app.onError(errorHandler("page", deps.logger));

  // Every header of every response passes one guard on its way out: a control
  // character in any of them (a Location built from a crafted `next`, say)
  // would otherwise make Deno's HTTP layer panic and stop the whole process.
  const dispatch = app.fetch;
  app.fetch = async (request, env, ctx) =>
    safeHeaders(await dispatch(request, env, ctx));
  return app;
}
