/**
 * The surface for people: the dashboard, ticket pages, settings, login and
 * the live stream. Sessions, same-origin forms (CSRF), small form bodies, the
 * page security headers (CSP without inline scripts), and HTML errors.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { timeout } from "hono/timeout";
import {
  createMemorySignals,
  type EventBus,
  type SignalBus,
} from "../db/bus.ts";
import type { AccountStore, TicketStore } from "../db/store.ts";
import { assets } from "./assets.ts";
import {
  type AuthDeps,
  authPages,
  csrfGuard,
  requireSession,
  sessionAlive,
} from "./auth.tsx";
import { type AppEnv, isHttps } from "./context.ts";
import { ticketPages } from "./ticket_pages.tsx";
import { reports } from "./reports.tsx";
import { dashboard } from "./dashboard.tsx";
import { errorHandler, strictTransport } from "./errors.ts";
import { events } from "./events.ts";
import { metrics, type RequestMetrics } from "./metrics.ts";
import { liveComposer } from "./live_render.tsx";
import { HttpProblem } from "./problems.ts";
import { problemTypes } from "./problem_types.tsx";
import { settings } from "./settings.tsx";
import { presence, PresenceBoard } from "./presence.ts";
import { requesterLinkRoutes, requesterPages } from "./requester_pages.tsx";
import { webhookSettings } from "./webhook_settings.tsx";
import { openRequest } from "../db/requests.ts";
import type { RequesterLinks } from "../lib/requester_token.ts";
import type { RateLimiter } from "../lib/rate_limit.ts";

export interface PageSurfaceDeps extends AuthDeps {
  store: TicketStore & AccountStore;
  bus: EventBus;
  /** Signals between instances (presence); one process's own when not given. */
  signals?: SignalBus;
  /** Aborted at shutdown: ends the live streams so the server can stop. */
  signal?: AbortSignal;
  /** Requesters' links and their reply allowance (shared with the API). */
  links: RequesterLinks;
  replyLimit: RateLimiter;
  /** Request counts the whole app records; GET /metrics shows them. */
  requests?: RequestMetrics;
}

/** Forms are small: a description or a comment is at most 10,000 characters. */
const FORM_BODY_LIMIT = 64 * 1024;
/** No request but the live stream should take longer than this. */
const REQUEST_TIMEOUT_MS = 30_000;

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

/** CSP without inline scripts or eval, no framing, no sniffing; HSTS over HTTPS. */
function pageHeaders(trustProxy: boolean): MiddlewareHandler<AppEnv> {
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
    await headers(c, next);
    // The same URL answers a whole page or, to htmx, just the fragment it swaps.
    c.res.headers.append("Vary", "HX-Request");
    strictTransport(c, isHttps(c, trustProxy));
  };
}

/** Builds the pages surface. */
export function pageSurface(deps: PageSurfaceDeps) {
  const { store, config, logger } = deps;
  const pages = new Hono<AppEnv>();
  pages.use(pageHeaders(config.trustProxy));
  const limitTime = timeout(REQUEST_TIMEOUT_MS);
  // The live stream is meant to stay open.
  pages.use((c, next) =>
    c.req.path === "/events" ? next() : limitTime(c, next)
  );

  // Public: assets, and the problem types the API links to.
  pages.route("/", assets());
  pages.route("/", problemTypes());

  pages.use(formLimit, csrfGuard(config));
  pages.route("/", authPages(deps));
  const board = new PresenceBoard(deps.signals ?? createMemorySignals());
  deps.signal?.addEventListener("abort", () => board.close());
  const live = events({
    store,
    bus: deps.bus,
    logger,
    composer: liveComposer(store, deps.links),
    sessionAlive: (hash) => sessionAlive(store, hash),
    presence: board,
    requestOpens: async (token) =>
      await openRequest(store, deps.links, token) !== null,
    signal: deps.signal,
    live: { retentionMs: config.liveReplayDays * 24 * 60 * 60 * 1000 },
  });
  // A requester has no session: their page and its stream (requester
  // channels only) are served here; the link's token is the key.
  pages.route("/", requesterPages(deps));
  pages.get("/events", live.requesterStreams);
  // An API key (Prometheus) or an admin's session: checked by the route itself.
  if (deps.requests) {
    pages.route(
      "/",
      metrics({ ...deps, requests: deps.requests, live: live.stats }),
    );
  }
  pages.use(requireSession(deps));
  pages.route("/", presence(board));
  pages.route("/", settings(deps));
  pages.route("/", webhookSettings(deps));
  pages.route("/", dashboard(deps));
  pages.route("/", ticketPages(deps));
  pages.route("/", reports(deps));
  pages.route("/", requesterLinkRoutes(deps));
  pages.route("/", live.app);
  pages.onError(errorHandler("page", logger));
  return pages;
}
