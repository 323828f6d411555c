/** The JSON API for the mobile app: the seed's /create_ticket and the versioned /api/v1. */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type {
  BulkOutcome,
  PageKey,
  Sort,
  TicketStore,
  TicketWithComments,
} from "../db/store.ts";
import { readPageKey, writePageKey } from "../lib/page_key.ts";
import { statusFilterOf } from "../lib/status_view.ts";
import { toProblem } from "./errors.ts";
import { problemBody } from "./problems.ts";
import { commentJson, ticketJson } from "../lib/ticket_json.ts";
import type { RequesterLinks } from "../lib/requester_token.ts";
import type { RateLimiter } from "../lib/rate_limit.ts";
import { requestRoutes } from "./api_requests.ts";
import {
  addCommentRoute,
  API_KEY_SCHEME,
  API_KEY_SCHEME_NAME,
  bulkTicketsRoute,
  createTicketLegacyRoute,
  createTicketRoute,
  getTicketRoute,
  listTicketsRoute,
  patchTicketRoute,
} from "./api_schemas.ts";
import { jsonBody } from "./json_body.ts";
import { idempotentCreator } from "./idempotency.ts";
import { HttpProblem, validationProblem } from "./problems.ts";
import { issuesToFieldErrors } from "./validation.ts";
import { actorOf, type AppEnv } from "./context.ts";
import { requireScope } from "./auth.tsx";

export interface ApiDeps {
  store: TicketStore;
  /** The requester's links (requester_url, Ticket-Status-URL, /api/v1/requests). */
  links: RequesterLinks;
  /** Requester replies per token. */
  replyLimit: RateLimiter;
}

/** The ticket with its comments (the legacy comments text is served as the first, internal one). */
function ticketWithCommentsJson(t: TicketWithComments) {
  const legacy = t.comments.trim()
    ? [{
      id: null,
      author: "legacy",
      body: t.comments,
      visibility: "internal" as const,
      from_requester: false,
      created_at: t.created_at,
    }]
    : [];
  const thread = t.comment_list.map(commentJson);
  return { ...ticketJson(t), comments: [...legacy, ...thread] };
}

/** Keys are per client (API key, or all anonymous callers together) and per route. */
function idempotencyScope(c: Context, route: string): string {
  const key = (c as Context<AppEnv>).get("apiKey");
  return `${key ? `key:${key.id}` : "anonymous"}:${route}`;
}

const location = (id: number) => `/api/v1/tickets/${id}`;
const etag = (version: number) => `"${version}"`;

/** Each sort's cursor prefix; `b:` (newest) is what cursors have always been. */
const CURSOR_KIND: Record<Sort, string> = {
  newest: "b",
  oldest: "a",
  activity: "u",
  priority: "p",
};

/** Opaque cursors: clients pass back what we gave, so the key can change later. */
function encodeCursor(next: PageKey | null, sort: Sort): string | null {
  if (next === null) return null;
  return btoa(`${CURSOR_KIND[sort]}:${writePageKey(next, sort)}`)
    .replaceAll("=", "");
}

function decodeCursor(
  cursor: string | undefined,
  sort: Sort,
): PageKey | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  let text = "";
  try {
    text = atob(cursor);
  } catch { /* reported below */ }
  const [kind, key] = [text.slice(0, 2), text.slice(2)];
  const found = kind === `${CURSOR_KIND[sort]}:`
    ? readPageKey(key, sort)
    : undefined;
  if (!found) {
    throw validationProblem([{
      field: "cursor",
      detail: "is not a cursor this API returned",
    }]);
  }
  return found;
}

/** Reads If-Match: `"3"`, `W/"3"` or a bare 3; `*` or absent means "any version". */
function expectedVersion(c: Context): number | undefined {
  const h = c.req.header("if-match")?.trim();
  if (!h || h === "*") return undefined;
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(h);
  if (!m) {
    throw new HttpProblem({
      status: 400,
      title: "Malformed If-Match",
      detail: `If-Match must be an ETag this API returned, like "3"; got ${h}`,
      errors: [{ field: "If-Match", detail: 'must look like "3"' }],
    });
  }
  return Number(m[1]);
}

/** Builds the JSON API sub-app; its OpenAPI document is served at /api/openapi.json. */
export function apiTickets({ store, links, replyLimit }: ApiDeps) {
  const app = new OpenAPIHono({
    defaultHook: (result) => {
      if (result.success) return;
      if (result.target === "param") {
        throw new HttpProblem({
          status: 404,
          title: "Not found",
          detail: "Ticket ids are positive whole numbers",
        });
      }
      throw validationProblem(
        issuesToFieldErrors(result.error.issues, result.target),
      );
    },
  });
  const create = idempotentCreator(store);

  app.openapi(
    {
      ...createTicketLegacyRoute,
      middleware: [requireScope("create"), ...jsonBody],
    },
    async (c) => {
      const input = c.req.valid("json");
      const { ticket } = await create(c, {
        scope: idempotencyScope(c, "create_ticket"),
        input,
        actor: actorOf(c),
      });
      c.header("Location", location(ticket.id));
      // The body stays the seed's, byte for byte: the status page's URL rides in a header.
      c.header("Ticket-Status-URL", links.url(ticket));
      return c.json({
        success: true as const,
        ticket_id: ticket.id,
        message: "Ticket created successfully" as const,
      }, 201);
    },
  );

  app.openapi({
    ...createTicketRoute,
    middleware: [requireScope("create"), ...jsonBody],
  }, async (c) => {
    const input = c.req.valid("json");
    const { ticket } = await create(c, {
      scope: idempotencyScope(c, "api_v1_tickets"),
      input,
      actor: actorOf(c),
    });
    c.header("Location", location(ticket.id));
    c.header("ETag", etag(ticket.version));
    return c.json(
      { ...ticketJson(ticket), requester_url: links.url(ticket) },
      201,
    );
  });

  app.openapi({
    ...listTicketsRoute,
    middleware: requireScope("read"),
  }, async (c) => {
    const q = c.req.valid("query");
    const page = await store.listTickets({
      ...statusFilterOf(q.status),
      user_id: q.user_id,
      product_id: q.product_id,
      assignee: q.assignee === "@none" ? null : q.assignee,
      priority: q.priority,
      sort: q.sort,
      after: decodeCursor(q.cursor, q.sort),
      limit: q.limit,
    });
    return c.json({
      items: page.items.map(ticketJson),
      next_cursor: encodeCursor(page.next, q.sort),
    }, 200);
  });

  app.openapi({
    ...getTicketRoute,
    middleware: requireScope("read"),
  }, async (c) => {
    const { id } = c.req.valid("param");
    const ticket = await store.getTicket(id);
    if (!ticket) throw notFound(id);
    c.header("ETag", etag(ticket.version));
    return c.json(ticketWithCommentsJson(ticket), 200);
  });

  app.openapi({
    ...patchTicketRoute,
    middleware: [requireScope("write"), ...jsonBody],
  }, async (c) => {
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    const version = expectedVersion(c);
    const { value } = await store.updateTicket(id, patch, {
      actor: actorOf(c),
      expectedVersion: version,
      // Without If-Match an owner is set only where nobody else has it.
      noSteal: version === undefined,
    });
    c.header("ETag", etag(value.version));
    return c.json(ticketJson(value), 200);
  });

  app.openapi({
    ...bulkTicketsRoute,
    middleware: [requireScope("write"), ...jsonBody],
  }, async (c) => {
    const { ids, patch, versions } = c.req.valid("json");
    const outcomes = await store.bulkUpdate(
      ids.map((id) => ({ id, expectedVersion: versions?.[String(id)] })),
      patch,
      { actor: actorOf(c), noSteal: true },
    );
    return c.json({ results: outcomes.map((o) => bulkResult(c, o)) }, 200);
  });

  app.openapi({
    ...addCommentRoute,
    middleware: [requireScope("write"), ...jsonBody],
  }, async (c) => {
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const { value } = await store.addComment(id, input.body, {
      // A client-supplied author is shown as such, never as if it were an admin's name.
      actor: input.author ? `${input.author} (via ${actorOf(c)})` : actorOf(c),
      visibility: input.visibility,
    });
    c.header("Location", `${location(id)}#comment-${value.id}`);
    return c.json(commentJson(value), 201);
  });

  // A known path with the wrong method: say which methods work (405 + Allow), not 404.
  const allowed: [string, string][] = [
    ["/create_ticket", "POST"],
    ["/api/v1/tickets", "GET, POST"],
    ["/api/v1/tickets/bulk", "POST"],
    ["/api/v1/tickets/:id", "GET, PATCH"],
    ["/api/v1/tickets/:id/comments", "POST"],
  ];
  for (const [path, allow] of allowed) {
    app.all(path, (c) => {
      throw new HttpProblem({
        status: 405,
        title: "Method not allowed",
        detail:
          `${c.req.method} is not supported on ${c.req.path}; use ${allow}`,
        headers: { Allow: allow },
      });
    });
  }

  requestRoutes(app, { store, links, replyLimit });

  app.openAPIRegistry.registerComponent(
    "securitySchemes",
    API_KEY_SCHEME_NAME,
    API_KEY_SCHEME,
  );
  app.doc31("/api/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Ticket desk API",
      version: "1.0.0",
      description:
        "Create and triage support tickets. Errors are RFC 9457 application/problem+json.",
    },
  });
  return app;
}

/** One ticket's line of a bulk answer: the ticket, or the problem a single PATCH would have had. */
function bulkResult(c: Context, o: BulkOutcome): {
  id: number;
  status: 200 | 404 | 409 | 412;
  ticket?: ReturnType<typeof ticketJson>;
  // The RFC 9457 body, exactly as a single PATCH would have answered.
  problem?: never;
} {
  if (o.ok) return { id: o.id, status: 200, ticket: ticketJson(o.ticket) };
  const p = toProblem(o.error, "api")!;
  const requestId = (c as Context<AppEnv>).get("requestId") ?? "";
  return {
    id: o.id,
    status: p.status as 404 | 409 | 412,
    problem: problemBody(p, c.req.path, requestId) as never,
  };
}

function notFound(id: number) {
  return new HttpProblem({
    status: 404,
    title: "Not found",
    detail: `Ticket ${id} does not exist`,
  });
}
