/**
 * The Reports page (/reports), its fragment for live refetches, and its CSV
 * (/reports.csv, the same query). Days are REPORT_TIME_ZONE's.
 */
import { type Context, Hono } from "hono";
import type { AccountStore, TicketStore } from "../db/store.ts";
import { loadReport, type Report } from "../db/reports.ts";
import { readRange, type ReportRange } from "../lib/report_range.ts";
import { watchOf } from "../lib/live_filter.ts";
import type { AppConfig } from "../config.ts";
import {
  ReportBody,
  type ReportQueryView,
  ReportsPage,
} from "../views/reports_page.tsx";
import { ASSETS, PAGE_ASSETS } from "./assets.ts";
import type { AppEnv } from "./context.ts";
import { csvRow } from "./csv.ts";
import { ownerOf, readFilter, viewer, wantsFragment } from "./page_request.ts";
import { HttpProblem } from "./problems.ts";

export interface ReportsDeps {
  store: TicketStore & AccountStore;
  config: AppConfig;
}

/** Waiting tickets the page lists. */
const OLDEST_WAITING = 10;

/** What a report request asks: the query as given, and its range or why it has none. */
function readReportRequest(c: Context, zone: string): {
  query: ReportQueryView;
  range: ReportRange | null;
  errors: Record<string, string>;
} {
  const f = readFilter(c);
  const read = readRange((name) => c.req.query(name), {
    zone,
    now: new Date(),
  });
  const query: ReportQueryView = {
    range: "range" in read ? read.range.range : undefined,
    from: c.req.query("from")?.trim() || undefined,
    to: c.req.query("to")?.trim() || undefined,
    product: f.product,
    assignee: f.assignee,
    priority: f.priority,
  };
  if ("errors" in read) {
    return {
      query,
      range: null,
      errors: Object.fromEntries(read.errors.map((e) => [e.field, e.detail])),
    };
  }
  return { query, range: read.range, errors: {} };
}

/** The HTML error (400) of a refused range, field by field. */
function rangeProblem(errors: Record<string, string>): HttpProblem {
  const list = Object.entries(errors);
  return new HttpProblem({
    status: 400,
    title: "Unusable report range",
    detail: list.map(([f, d]) => `${f} ${d}`).join("; "),
    errors: list.map(([field, detail]) => ({ field, detail })),
  });
}

/** The report CSV: one row per day, the totals, then one per owner and per product. */
export function reportCsv(r: Report): string {
  const head = [
    "row",
    "date",
    "owner",
    "product",
    "created",
    "closed",
    "reopened",
    "backlog",
    "first_reply_median_s",
    "first_reply_p90_s",
    "close_median_s",
    "close_p90_s",
    "reopen_rate",
  ];
  const rate = (x: number | null) => x === null ? null : x.toFixed(4);
  const lines = [csvRow(head)];
  for (const d of r.days) {
    lines.push(csvRow([
      "day",
      d.date,
      null,
      null,
      d.created,
      d.closed,
      d.reopened,
      d.backlog,
      null,
      null,
      null,
      null,
      null,
    ]));
  }
  lines.push(csvRow([
    "total",
    `${r.from}/${r.to}`,
    null,
    null,
    r.totals.created,
    r.totals.closed,
    r.totals.reopened,
    r.totals.backlog,
    r.firstReply.median,
    r.firstReply.p90,
    r.close.median,
    r.close.p90,
    rate(r.totals.reopenRate),
  ]));
  for (
    const [kind, rows] of [["owner", r.owners], [
      "product",
      r.products,
    ]] as const
  ) {
    for (const g of rows) {
      lines.push(csvRow([
        kind,
        null,
        kind === "owner" ? g.key ?? "" : null,
        kind === "product" ? g.key ?? "" : null,
        g.created,
        g.closed,
        g.reopened,
        null,
        g.firstReplyMedian,
        null,
        g.closeMedian,
        null,
        rate(g.reopenRate),
      ]));
    }
  }
  return lines.join("");
}

/** Builds the Reports routes (mounted after the session guard). */
export function reports({ store, config }: ReportsDeps) {
  const app = new Hono<AppEnv>();
  const zone = config.reportTimeZone;

  const load = (c: Context, range: ReportRange, q: ReportQueryView) =>
    loadReport(store, {
      range,
      zone,
      filter: {
        product_prefix: q.product,
        assignee: ownerOf(q.assignee, viewer(c).username),
        priority: q.priority,
      },
      waitingLimit: OLDEST_WAITING,
    });

  /** What the page watches live: its filter's reports channel, from `after`. */
  const liveOf = (me: string, q: ReportQueryView, after: number) => ({
    watch: watchOf({
      reports: true,
      product: q.product,
      assignee: ownerOf(q.assignee, me),
      priority: q.priority,
    }, after),
    user: me,
    worker: ASSETS.liveHub.url,
  });

  app.get("/reports", async (c) => {
    const { query, range, errors } = readReportRequest(c, zone);
    const me = viewer(c);
    // Read before the report: events after it arrive live, none is missed.
    const after = await store.latestEventId();
    const report = range ? await load(c, range, query) : null;
    const now = new Date();
    if (report && wantsFragment(c)) {
      return c.html(<ReportBody report={report} query={query} now={now} />);
    }
    const users = (await store.listUsers()).filter((u) => !u.disabled);
    return c.html(
      ReportsPage({
        assets: PAGE_ASSETS,
        user: me,
        users: users.map((u) => u.username),
        query,
        report,
        errors,
        now,
        live: report ? liveOf(me.username, query, after) : undefined,
      }),
      report ? 200 : 400,
    );
  });

  app.get("/reports.csv", async (c) => {
    const { query, range, errors } = readReportRequest(c, zone);
    if (!range) throw rangeProblem(errors);
    const report = await load(c, range, query);
    return c.body(reportCsv(report), 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition":
        `attachment; filename="report-${report.from}-${report.to}.csv"`,
    });
  });

  return app;
}
