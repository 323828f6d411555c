/**
 * The requester's JSON API: `GET /api/v1/requests/{token}` and
 * `POST /api/v1/requests/{token}/replies`. The token is the credential (no
 * API key); what comes back is public: status, priority, times and public
 * replies, never an internal note or who on the desk wrote a reply.
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  type Comment,
  PRIORITIES,
  type RequestView,
  type TicketStore,
} from "../db/store.ts";
import { openRequest, replyAsRequester } from "../db/requests.ts";
import type { RequesterLinks } from "../lib/requester_token.ts";
import { type RateLimiter, rateLimitHeaders } from "../lib/rate_limit.ts";
import { commentBodyField } from "./fields.ts";
import { jsonBody } from "./json_body.ts";
import { HttpProblem } from "./problems.ts";

export interface RequestRoutesDeps {
  store: TicketStore;
  links: RequesterLinks;
  /** Replies per token (shared with the /r/ page's form). */
  replyLimit: RateLimiter;
}

/** A reply as the requester sees it: who wrote it is "agent" or "requester", never a name from the desk. */
export function replyJson(c: Comment) {
  return {
    id: c.id,
    from: c.from_requester ? "requester" as const : "agent" as const,
    body: c.body,
    created_at: c.created_at,
  };
}

/** What a requester may see of their ticket. */
export function requestJson(view: RequestView) {
  const t = view.ticket;
  return {
    ticket_id: t.id,
    status: t.status,
    priority: t.priority,
    created_at: t.created_at,
    updated_at: t.updated_at,
    replies: view.replies.map(replyJson),
  };
}

/** The answer for a token that opens nothing: unknown, malformed and revoked look alike. */
export function noSuchRequest(): HttpProblem {
  return new HttpProblem({
    status: 404,
    title: "Not found",
    detail:
      "No request has this link: it is mistyped, or the desk has revoked it",
  });
}

/** Takes one reply from the token's bucket, or throws 429 with Retry-After. */
export function limitReplies(
  c: Context,
  limiter: RateLimiter,
  token: string,
): void {
  const d = limiter.take(token);
  for (const [k, v] of Object.entries(rateLimitHeaders(d))) c.header(k, v);
  if (!d.allowed) {
    throw new HttpProblem({
      status: 429,
      title: "Too many replies",
      detail:
        `At most ${d.limit} replies per ${d.windowSeconds} s on one request; retry in ${d.retryAfterSeconds} s`,
      headers: { "Retry-After": String(d.retryAfterSeconds) },
    });
  }
}

const TokenParam = z.object({
  token: z.string().openapi({
    param: { name: "token", in: "path" },
    description:
      "The token of the ticket's requester_url (`/r/{token}`): the credential",
    example: "42.pzT6uAqAzH4m7o0bqB4Zl2bN6a8w0c2Y7w7N8r5YvA0",
  }),
});

const Reply = z.object({
  id: z.number().int(),
  from: z.enum(["agent", "requester"]),
  body: z.string(),
  created_at: z.string().openapi({ format: "date-time" }),
}).openapi("RequestReply");

const RequestStatus = z.object({
  ticket_id: z.number().int(),
  status: z.enum(["Open", "Pending", "Closed"]),
  priority: z.enum(PRIORITIES),
  created_at: z.string().openapi({ format: "date-time" }),
  updated_at: z.string().openapi({ format: "date-time" }),
  replies: z.array(Reply),
}).openapi("RequestStatus");

const ReplyInput = z.object({ body: commentBodyField }).openapi(
  "RequestReplyInput",
);

const problem = (description: string) => ({
  content: {
    "application/problem+json": { schema: z.object({}).passthrough() },
  },
  description,
});

const getRequestRoute = createRoute({
  method: "get",
  path: "/api/v1/requests/{token}",
  security: [],
  summary:
    "The requester's view of their ticket (no API key: the token is the credential)",
  request: { params: TokenParam },
  responses: {
    200: {
      content: { "application/json": { schema: RequestStatus } },
      description:
        "Status, priority, times and the public replies, oldest first",
    },
    404: problem("Unknown, malformed or revoked token"),
  },
});

const addReplyRoute = createRoute({
  method: "post",
  path: "/api/v1/requests/{token}/replies",
  security: [],
  summary:
    "Add the requester's reply (public; reopens a Closed ticket; rate-limited per token)",
  request: {
    params: TokenParam,
    body: {
      content: { "application/json": { schema: ReplyInput } },
      required: true,
    },
  },
  responses: {
    201: {
      content: { "application/json": { schema: Reply } },
      description: "The reply",
    },
    404: problem("Unknown, malformed or revoked token"),
    422: problem("Invalid fields"),
    429: problem("Too many replies on this request; Retry-After says when"),
  },
});

/** Adds the requester routes to the API's OpenAPI app (so its document lists them). */
export function requestRoutes(app: OpenAPIHono, deps: RequestRoutesDeps) {
  const { store, links, replyLimit } = deps;
  app.openapi(getRequestRoute, async (c) => {
    const view = await openRequest(store, links, c.req.valid("param").token);
    if (!view) throw noSuchRequest();
    return c.json(requestJson(view), 200);
  });

  app.openapi({ ...addReplyRoute, middleware: jsonBody }, async (c) => {
    const { token } = c.req.valid("param");
    if (links.ticketIdOf(token) === null) throw noSuchRequest();
    limitReplies(c, replyLimit, token);
    const done = await replyAsRequester(
      store,
      links,
      token,
      c.req.valid("json").body,
    );
    if (!done) throw noSuchRequest();
    c.header("Location", `/api/v1/requests/${token}`);
    return c.json(replyJson(done.value), 201);
  });

  for (
    const [path, allow] of [
      ["/api/v1/requests/:token", "GET"],
      ["/api/v1/requests/:token/replies", "POST"],
    ]
  ) {
    app.all(path!, (c) => {
      throw new HttpProblem({
        status: 405,
        title: "Method not allowed",
        detail:
          `${c.req.method} is not supported on ${c.req.path}; use ${allow}`,
        headers: { Allow: allow! },
      });
    });
  }
}
