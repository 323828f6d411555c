/** Input and output schemas of the JSON API, with the OpenAPI routes built from them. */
import { createRoute, z } from "@hono/zod-openapi";
import {
  type ApiScope,
  PRIORITIES,
  SORTS,
  STATUSES,
  VISIBILITIES,
} from "../db/store.ts";
import { plainText, textProblem } from "./validation.ts";
import {
  assigneeField,
  commentBodyField,
  descriptionField,
  priorityField,
  statusField,
  typeError,
} from "./fields.ts";

/** Ids from older clients may be numbers; they are stored as text. */
function idText(max: number, required: boolean) {
  const base = z.union([z.string(), z.number().int()], {
    error: typeError("a string"),
  }).transform((v) => String(v).trim());
  return required
    ? base.pipe(
      z.string().min(1, "must not be empty").max(
        max,
        `must be at most ${max} characters`,
      ).superRefine(plainText()),
    )
    : base.pipe(
      z.string().max(max, `must be at most ${max} characters`).superRefine(
        plainText(),
      ),
    );
}

/** Why a link is refused, or null when it is a safe absolute http(s) URL. */
export function linkProblem(value: string): string | null {
  if (value === "") return "must not be empty";
  if (value.length > 2048) return "must be at most 2048 characters";
  const url = URL.parse(value);
  if (!url || !/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    return "must be an absolute http or https URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return "must use http or https";
  }
  if (url.username || url.password) return "must not contain credentials";
  if (!url.hostname) return "must name a host";
  return null;
}

function textProblemOf(v: string) {
  return textProblem(v, false);
}

function nullIfEmpty(v: string | null | undefined): string | null {
  return v === undefined || v === null || v === "" ? null : v;
}

export const TicketInput = z.object({
  user_id: idText(128, true).openapi({ type: "string", example: "john_doe" }),
  pdf_link: z.string({ error: typeError("a string") }).trim()
    .superRefine((v, ctx) => {
      const problem = linkProblem(v) ?? textProblemOf(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .openapi({ example: "https://example.com/product-guide.pdf" }),
  product_id: idText(128, false).nullable().optional()
    .transform(nullIfEmpty)
    .openapi({ type: "string", example: "PROD123" }),
  other_ids: z.union([
    z.string(),
    z.array(z.union([z.string(), z.number().int()]).transform(String), {
      error: "must be a string or an array of strings",
    }).transform((a) => a.map((s) => s.trim()).filter(Boolean).join(", ")),
  ], { error: typeError("a string or an array of strings") })
    .transform((v) => v.trim())
    .pipe(
      z.string().max(1024, "must be at most 1024 characters").superRefine(
        plainText(),
      ),
    )
    .nullable().optional().transform(nullIfEmpty)
    .openapi({
      type: "string",
      description: "Free text, or an array of strings stored comma-separated",
      example: "ORDER-991, DEVICE-7",
    }),
  priority: priorityField.optional().openapi({
    description: "Low, Normal (when not given), High or Urgent",
  }),
}).openapi("TicketInput");
export type TicketInput = z.infer<typeof TicketInput>;

/** The original mobile contract takes exactly the old fields (a new one could break nothing, but stays out). */
export const LegacyTicketInput = TicketInput.omit({ priority: true }).openapi(
  "LegacyTicketInput",
);

const PATCH_FIELDS = ["status", "description", "assignee", "priority"] as const;

export const TicketPatchInput = z.object({
  status: statusField.optional(),
  description: descriptionField.optional(),
  assignee: assigneeField.optional().openapi({
    description:
      "The owner's user name, or null to unassign. Without If-Match it is set only while the ticket is unassigned or already theirs (else 409 naming the owner).",
  }),
  priority: priorityField.optional(),
}).refine((p) => PATCH_FIELDS.some((f) => p[f] !== undefined), {
  message: "give at least one of status, description, assignee, priority",
  path: ["status"],
}).openapi("TicketPatch");

/** What a bulk change may set: the fields of triage, not the description. */
export const BulkInput = z.object({
  ids: z.array(z.number().int().positive("must be positive ticket ids"), {
    error: typeError("an array of ticket ids"),
  }).min(1, "must name at least one ticket")
    .max(100, "must name at most 100 tickets")
    .refine((ids) => new Set(ids).size === ids.length, "must not repeat an id"),
  patch: z.object({
    status: statusField.optional(),
    assignee: assigneeField.optional(),
    priority: priorityField.optional(),
  }, { error: typeError("an object") }).refine(
    (p) =>
      p.status !== undefined || p.assignee !== undefined ||
      p.priority !== undefined,
    "give at least one of status, assignee, priority",
  ),
  versions: z.record(
    z.string().regex(/^[1-9][0-9]{0,15}$/, "keys must be ticket ids"),
    z.number().int().positive(),
    { error: typeError("an object of ticket id to version") },
  ).optional().openapi({
    description:
      'The version each ticket was shown at, e.g. {"42": 3}: a ticket changed since is skipped with 412',
  }),
}).openapi("BulkInput");

export const CommentInput = z.object({
  body: commentBodyField,
  author: z.string({ error: typeError("a string") }).trim()
    .min(1, "must not be empty").max(128, "must be at most 128 characters")
    .superRefine(plainText()).optional(),
  visibility: z.enum(VISIBILITIES, {
    error: `must be one of ${VISIBILITIES.join(", ")}`,
  }).default("internal").openapi({
    description:
      "internal (agents only; the default, so nothing leaks by accident) or public (the requester sees it)",
  }),
}).openapi("CommentInput");

export const ListQuery = z.object({
  cursor: z.string().optional().openapi({
    description: "next_cursor from the previous page",
  }),
  limit: z.coerce.number({ error: "must be a whole number" }).int(
    "must be a whole number",
  ).min(1, "must be at least 1").max(100, "must be at most 100").default(50),
  status: z.string().transform((v, ctx) => {
    // "unsolved" is Open and Pending together, the dashboard's first view.
    if (v.toLowerCase() === "unsolved") return "unsolved" as const;
    const found = STATUSES.find((s) => s.toLowerCase() === v.toLowerCase());
    if (!found) {
      ctx.addIssue({
        code: "custom",
        message: `must be one of ${STATUSES.join(", ")} or unsolved`,
      });
      return z.NEVER;
    }
    return found;
  }).optional().openapi({
    type: "string",
    enum: [...STATUSES, "unsolved"],
    description: "One status, or `unsolved` for Open and Pending together",
  }),
  user_id: z.string().max(128, "must be at most 128 characters")
    .superRefine(plainText()).optional(),
  product_id: z.string().max(128, "must be at most 128 characters")
    .superRefine(plainText()).optional(),
  assignee: z.string().regex(
    /^(@none|[\w.@-]{1,64})$/,
    "must be @none or a user name",
  ).optional().openapi({
    description: "`@none` for unassigned tickets, or a user name",
  }),
  priority: priorityField.optional(),
  sort: z.enum(SORTS, { error: `must be one of ${SORTS.join(", ")}` })
    .default("newest").openapi({
      description:
        "newest (default), oldest, activity (last changed first), or priority (Urgent first, then oldest)",
    }),
});

export const IdParam = z.object({
  id: z.string().regex(/^[1-9][0-9]{0,15}$/).transform(Number).openapi({
    type: "integer",
    param: { name: "id", in: "path" },
    example: 42,
  }),
});

const Ticket = z.object({
  id: z.number().int(),
  user_id: z.string(),
  pdf_link: z.string(),
  product_id: z.string().nullable(),
  other_ids: z.string().nullable(),
  status: z.enum(STATUSES),
  description: z.string(),
  assignee: z.string().nullable(),
  priority: z.enum(PRIORITIES),
  created_at: z.string().openapi({ format: "date-time" }),
  updated_at: z.string().openapi({ format: "date-time" }),
  version: z.number().int(),
  first_response_at: z.string().nullable().openapi({
    format: "date-time",
    description: "The first public reply by an agent",
  }),
  resolved_at: z.string().nullable().openapi({
    format: "date-time",
    description: "The last move to Closed; null while not Closed",
  }),
  reopened_count: z.number().int().openapi({
    description: "How often the ticket left Closed",
  }),
}).openapi("Ticket");

const Comment = z.object({
  id: z.number().int().nullable().openapi({
    description: "null for text carried over from the legacy comments column",
  }),
  author: z.string(),
  body: z.string(),
  visibility: z.enum(VISIBILITIES),
  from_requester: z.boolean().openapi({
    description: "Written by the requester through their link",
  }),
  created_at: z.string(),
}).openapi("Comment");

const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string(),
  errors: z.array(z.object({
    field: z.string(),
    pointer: z.string().optional(),
    detail: z.string(),
  })).optional(),
  request_id: z.string(),
  success: z.literal(false),
  message: z.string(),
}).openapi("Problem");

/** An OpenAPI JSON response of `schema`. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});
/** The OpenAPI problem+json responses of these status codes. */
export const problems = (...codes: number[]) =>
  Object.fromEntries(codes.map((code) => [code, {
    content: { "application/problem+json": { schema: Problem } },
    description: PROBLEM_TEXT[code] ?? "Error",
  }]));
const PROBLEM_TEXT: Record<number, string> = {
  400: "The body is not JSON, or a header is malformed",
  401:
    "No API key, a malformed Authorization header, or an unknown or revoked key",
  403:
    "The API key lacks the scope this operation needs (type /problems/insufficient-scope, with `required_scope`)",
  404: "No such ticket",
  409:
    "A request with this Idempotency-Key is still in flight, or the ticket already has another owner (type /problems/already-assigned)",
  412: "If-Match names a stale version",
  413: "The body is over 16 KiB",
  415: "The body is not application/json",
  422: "Invalid fields, or an Idempotency-Key reused with another body",
  503: "The database cannot take writes right now",
};
/** The name of the API key security scheme in the OpenAPI document. */
export const API_KEY_SCHEME_NAME = "ApiKey";

/** How callers authenticate, and what each scope allows. */
export const API_KEY_SCHEME = {
  type: "http" as const,
  scheme: "bearer",
  description:
    "An API key as `Authorization: Bearer <key>`. Each key has scopes: `create` (create tickets only: what a key built into an app should have), `read` (list and get tickets) and `write` (change and comment on tickets; includes `read`). A key has exactly the scopes it lists, except that `write` includes `read`. A key without the scope an operation names gets 403 problem+json of type /problems/insufficient-scope.",
};

/** The security requirement of an operation that needs `scope`. */
export const needs = (scope: ApiScope) => [{ [API_KEY_SCHEME_NAME]: [scope] }];

const idempotencyHeader = z.object({
  "idempotency-key": z.string().optional().openapi({
    description:
      "Any unique string (e.g. a UUID) per ticket: retries with the same key and body return the first response",
  }),
});
const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});

export const createTicketLegacyRoute = createRoute({
  method: "post",
  path: "/create_ticket",
  security: needs("create"),
  summary: "Create a ticket (the original mobile contract)",
  request: { ...body(LegacyTicketInput), headers: idempotencyHeader },
  responses: {
    201: {
      ...json(
        z.object({
          success: z.literal(true),
          ticket_id: z.number().int(),
          message: z.literal("Ticket created successfully"),
        }),
        "Created (or replayed for a repeated Idempotency-Key)",
      ),
      headers: z.object({
        "Ticket-Status-URL": z.string().openapi({
          description: "The requester's status page (as requester_url)",
        }),
      }),
    },
    ...problems(400, 401, 403, 409, 413, 415, 422, 503),
  },
});

export const createTicketRoute = createRoute({
  method: "post",
  path: "/api/v1/tickets",
  security: needs("create"),
  summary: "Create a ticket",
  request: { ...body(TicketInput), headers: idempotencyHeader },
  responses: {
    201: json(
      Ticket.extend({
        requester_url: z.string().openapi({
          description:
            "The requester's status page (/r/{token}); absolute when the server has PUBLIC_URL. The same URL on an idempotent replay.",
        }),
      }),
      "The created ticket",
    ),
    ...problems(400, 401, 403, 409, 413, 415, 422, 503),
  },
});

export const listTicketsRoute = createRoute({
  method: "get",
  path: "/api/v1/tickets",
  security: needs("read"),
  summary: "List tickets, newest first unless sorted",
  request: { query: ListQuery },
  responses: {
    200: json(
      z.object({ items: z.array(Ticket), next_cursor: z.string().nullable() }),
      "A page of tickets",
    ),
    ...problems(401, 403, 422),
  },
});

export const getTicketRoute = createRoute({
  method: "get",
  path: "/api/v1/tickets/{id}",
  security: needs("read"),
  summary: "Get a ticket with its comments",
  request: { params: IdParam },
  responses: {
    200: json(
      Ticket.extend({ comments: z.array(Comment) }),
      "The ticket; ETag carries its version",
    ),
    ...problems(401, 403, 404),
  },
});

export const patchTicketRoute = createRoute({
  method: "patch",
  path: "/api/v1/tickets/{id}",
  security: needs("write"),
  summary: "Change a ticket's status, description, owner or priority",
  request: {
    params: IdParam,
    ...body(TicketPatchInput),
    headers: z.object({
      "if-match": z.string().optional().openapi({
        description: 'The ETag you read, e.g. "3": refused with 412 if stale',
      }),
    }),
  },
  responses: {
    200: json(Ticket, "The updated ticket"),
    ...problems(400, 401, 403, 404, 409, 412, 413, 415, 422, 503),
  },
});

export const bulkTicketsRoute = createRoute({
  method: "post",
  path: "/api/v1/tickets/bulk",
  security: needs("write"),
  summary:
    "Set status, owner or priority of up to 100 tickets in one transaction",
  request: body(BulkInput),
  responses: {
    200: json(
      z.object({
        results: z.array(z.object({
          id: z.number().int(),
          status: z.union([
            z.literal(200),
            z.literal(404),
            z.literal(409),
            z.literal(412),
          ]),
          ticket: Ticket.optional(),
          problem: Problem.optional(),
        })),
      }),
      "What happened to each ticket, in the order given: 200 changed (or already so), 404 no such ticket, 409 another owner, 412 changed since the given version",
    ),
    ...problems(400, 401, 403, 413, 415, 422, 503),
  },
});

export const addCommentRoute = createRoute({
  method: "post",
  path: "/api/v1/tickets/{id}/comments",
  security: needs("write"),
  summary: "Add a comment to a ticket",
  request: { params: IdParam, ...body(CommentInput) },
  responses: {
    201: json(Comment, "The new comment"),
    ...problems(400, 401, 403, 404, 413, 415, 422, 503),
  },
});
