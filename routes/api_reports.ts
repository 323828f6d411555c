/**
 * GET /api/v1/reports/summary: the Reports page's figures as JSON, for a key
 * with `read`. Durations are whole seconds; days are REPORT_TIME_ZONE's.
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { TicketStore } from "../db/store.ts";
import { DURATION_BUCKETS, loadReport, type Report } from "../db/reports.ts";
import { MAX_DAYS, RANGES, readRange } from "../lib/report_range.ts";
import { requireScope } from "./auth.tsx";
import { priorityField } from "./fields.ts";
import { json, needs, problems } from "./api_schemas.ts";
import { validationProblem } from "./problems.ts";
import { plainText } from "./validation.ts";

export const ReportSummaryQuery = z.object({
  range: z.string().optional().openapi({
    description: `The last ${
      RANGES.join(", ")
    } days, today included (30 when neither range nor from is given)`,
    example: "30",
  }),
  from: z.string().optional().openapi({
    description:
      "First day, YYYY-MM-DD, in the server's REPORT_TIME_ZONE; with `to`, wins over `range`",
    example: "2026-11-01",
  }),
  to: z.string().optional().openapi({
    description:
      `Last day, included (today when only \`from\` is given); at most ${MAX_DAYS} days after from`,
    example: "2026-11-30",
  }),
  product: z.string().max(128, "must be at most 128 characters")
    .superRefine(plainText()).optional().openapi({
      description: "Products starting with this, in any letter case",
    }),
  assignee: z.string().regex(
    /^(@none|[\w.@-]{1,64})$/,
    "must be @none or a user name",
  ).optional().openapi({
    description: "`@none` for tickets nobody owns, or a user name",
  }),
  priority: priorityField.optional(),
});

const Counts = {
  created: z.number().int(),
  closed: z.number().int().openapi({
    description: "Moves to Closed: a ticket closed twice counts twice",
  }),
  reopened: z.number().int(),
};
const Seconds = z.number().int().nullable();
const Durations = z.object({
  count: z.number().int(),
  median_s: Seconds,
  p90_s: Seconds,
  histogram: z.array(z.object({
    label: z.string(),
    up_to_s: z.number().int().nullable(),
    count: z.number().int(),
  })),
});
const Row = z.object({
  ...Counts,
  first_reply_median_s: Seconds,
  close_median_s: Seconds,
  reopen_rate: z.number().nullable(),
});

export const ReportSummary = z.object({
  from: z.string(),
  to: z.string(),
  time_zone: z.string(),
  filter: z.object({
    product: z.string().nullable(),
    assignee: z.string().nullable(),
    priority: z.string().nullable(),
  }),
  totals: z.object({
    ...Counts,
    backlog: z.number().int().openapi({
      description: "Open and Pending at the end of the last day",
    }),
    reopen_rate: z.number().nullable(),
  }),
  days: z.array(z.object({
    date: z.string(),
    ...Counts,
    backlog: z.number().int(),
  })),
  first_reply: Durations.extend({
    waiting: z.number().int().openapi({
      description: "Open or Pending tickets without a public reply now",
    }),
    oldest_waiting: z.array(z.object({
      id: z.number().int(),
      created_at: z.string(),
      user_id: z.string(),
      product_id: z.string().nullable(),
      assignee: z.string().nullable(),
      priority: z.string(),
    })),
  }),
  close: Durations,
  owners: z.array(Row.extend({ assignee: z.string().nullable() })),
  products: z.array(Row.extend({ product_id: z.string().nullable() })),
}).openapi("ReportSummary");

export const reportSummaryRoute = createRoute({
  method: "get",
  path: "/api/v1/reports/summary",
  security: needs("read"),
  summary:
    "Created vs closed per day, the backlog, time to first reply and to close, per owner and per product",
  request: { query: ReportSummaryQuery },
  responses: {
    200: json(ReportSummary, "The report"),
    ...problems(401, 403, 422),
  },
});

const durations = (s: Report["firstReply"]) => ({
  count: s.count,
  median_s: s.median,
  p90_s: s.p90,
  histogram: DURATION_BUCKETS.map((b, i) => ({
    label: b.label,
    up_to_s: b.upTo,
    count: s.histogram[i] ?? 0,
  })),
});

const row = (r: Report["owners"][number]) => ({
  created: r.created,
  closed: r.closed,
  reopened: r.reopened,
  first_reply_median_s: r.firstReplyMedian,
  close_median_s: r.closeMedian,
  reopen_rate: r.reopenRate,
});

/** A report as the API's JSON. */
export function reportJson(r: Report): z.infer<typeof ReportSummary> {
  return {
    from: r.from,
    to: r.to,
    time_zone: r.zone,
    filter: {
      product: r.filter.product_prefix ?? null,
      assignee: r.filter.assignee === undefined
        ? null
        : r.filter.assignee ?? "@none",
      priority: r.filter.priority ?? null,
    },
    totals: {
      created: r.totals.created,
      closed: r.totals.closed,
      reopened: r.totals.reopened,
      backlog: r.totals.backlog,
      reopen_rate: r.totals.reopenRate,
    },
    days: r.days,
    first_reply: {
      ...durations(r.firstReply),
      waiting: r.waiting.count,
      oldest_waiting: r.waiting.oldest,
    },
    close: durations(r.close),
    owners: r.owners.map((o) => ({ assignee: o.key, ...row(o) })),
    products: r.products.map((p) => ({ product_id: p.key, ...row(p) })),
  };
}

/** Adds the summary route to the API's OpenAPI app (so it is in /api/openapi.json). */
export function reportRoutes(
  // deno-lint-ignore no-explicit-any -- the tickets app's env and schema types
  app: OpenAPIHono<any, any, any>,
  deps: { store: TicketStore; zone: string },
) {
  app.openapi({
    ...reportSummaryRoute,
    middleware: requireScope("read"),
  }, async (c) => {
    const q = c.req.valid("query");
    const read = readRange((name) => q[name], {
      zone: deps.zone,
      now: new Date(),
    });
    if ("errors" in read) throw validationProblem(read.errors);
    const report = await loadReport(deps.store, {
      range: read.range,
      zone: deps.zone,
      filter: {
        product_prefix: q.product,
        assignee: q.assignee === "@none" ? null : q.assignee,
        priority: q.priority,
      },
    });
    return c.json(reportJson(report), 200);
  });
}
