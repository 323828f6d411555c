/**
 * The Reports page: the range and filter form (a plain GET form), and the
 * report itself in #report, the fragment the live stream has refetched.
 */
import { PRIORITIES, type Priority, type User } from "../db/store.ts";
import type { Report } from "../db/reports.ts";
import { type RangeDays, RANGES } from "../lib/report_range.ts";
import { FieldError, invalid } from "./form_parts.tsx";
import { Layout } from "./layout.tsx";
import { LiveIndicator, LiveStream, type LiveStreamProps } from "./live.tsx";
import { UserMenu } from "./user_menu.tsx";
import type { PageAssets } from "./dashboard_page.tsx";
import { RowsTable, Waiting } from "./report_tables.tsx";
import { Choice } from "./triage.tsx";
import {
  DailyChart,
  DistributionChart,
  formatDuration,
  shortDate,
} from "./charts.tsx";

/** The report's query as the URL gave it: what the form and the links keep. */
export interface ReportQueryView {
  range?: RangeDays;
  from?: string;
  to?: string;
  product?: string;
  /** `@me`, `@none` or a user's name, as on the dashboard. */
  assignee?: string;
  priority?: Priority;
}

export interface ReportsPageProps {
  assets: PageAssets;
  user: Pick<User, "username" | "role">;
  /** Owners the form offers. */
  users: string[];
  query: ReportQueryView;
  /** Null when the query was refused (`errors` say why). */
  report: Report | null;
  errors?: Record<string, string>;
  live?: LiveStreamProps;
  now: Date;
}

/** The query string of a report (range or dates, then the filter); `path` may be /reports.csv. */
export function reportsHref(
  q: ReportQueryView,
  path = "/reports",
): string {
  const p = new URLSearchParams();
  if (q.from) {
    p.set("from", q.from);
    if (q.to) p.set("to", q.to);
  } else if (q.range) p.set("range", String(q.range));
  if (q.product) p.set("product", q.product);
  if (q.assignee) p.set("assignee", q.assignee);
  if (q.priority) p.set("priority", q.priority);
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

const num = (n: number) => n.toLocaleString("en-US");

/** A day field of the range, with its error beside it. */
function DateField(
  { name, label, value, error }: {
    name: "from" | "to";
    label: string;
    value?: string;
    error?: string;
  },
) {
  return (
    <div>
      <label for={name}>{label}</label>
      <input
        type="date"
        id={name}
        name={name}
        value={value ?? ""}
        {...invalid(`${name}-error`, error)}
      />
      <FieldError id={`${name}-error`} text={error} />
    </div>
  );
}

/** The range and filter form: a GET form that works without JavaScript. */
function ReportForm(
  { query, users, errors = {} }: {
    query: ReportQueryView;
    users: string[];
    errors?: Record<string, string>;
  },
) {
  return (
    <form method="get" action="/reports" class="filters report-filters">
      {/* Dates, when given, win over the range: the range rides along unseen. */}
      {query.range && !query.from && (
        <input type="hidden" name="range" value={String(query.range)} />
      )}
      <DateField
        name="from"
        label="From"
        value={query.from}
        error={errors.from}
      />
      <DateField name="to" label="To" value={query.to} error={errors.to} />
      <div>
        <label for="product">Product</label>
        <input
          type="search"
          id="product"
          name="product"
          value={query.product ?? ""}
          placeholder="Any product"
          autocomplete="off"
        />
      </div>
      <div>
        <label for="assignee">Owner</label>
        <select id="assignee" name="assignee">
          <Choice value="" selected={!query.assignee}>Anyone</Choice>
          <Choice value="@me" selected={query.assignee === "@me"}>Me</Choice>
          <Choice value="@none" selected={query.assignee === "@none"}>
            Unassigned
          </Choice>
          {users.map((u) => (
            <Choice key={u} value={u} selected={query.assignee === u}>
              {u}
            </Choice>
          ))}
        </select>
      </div>
      <div>
        <label for="priority">Priority</label>
        <select id="priority" name="priority">
          <Choice value="" selected={!query.priority}>Any</Choice>
          {PRIORITIES.map((p) => (
            <Choice key={p} value={p} selected={query.priority === p}>
              {p}
            </Choice>
          ))}
        </select>
      </div>
      <div class="filter-submit">
        <button type="submit">Show</button>
      </div>
      {errors.range && (
        <p class="field-error" id="range-error">Range: {errors.range}</p>
      )}
    </form>
  );
}

function RangeLink({ q, days }: { q: ReportQueryView; days: RangeDays }) {
  const current = q.range === days && !q.from;
  return (
    <li>
      <a
        href={reportsHref({
          ...q,
          range: days,
          from: undefined,
          to: undefined,
        })}
        aria-current={current ? "page" : undefined}
      >
        Last {days} days
      </a>
    </li>
  );
}

/** A headline figure. */
function Figure({ label, value, note }: {
  label: string;
  value: string;
  note?: string;
}) {
  return (
    <div class="report-figure">
      <dt>{label}</dt>
      <dd>
        <span class="report-figure-value">{value}</span>
        {note && <small>{note}</small>}
      </dd>
    </div>
  );
}

/** When the figures were read, in the report's zone. */
function asOf(now: Date, zone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).format(now);
}

/** The report: headline figures, the charts and the tables; the fragment live updates refetch. */
export function ReportBody(
  { report, query, now }: {
    report: Report;
    query: ReportQueryView;
    now: Date;
  },
) {
  const r = report;
  return (
    <div id="report" class="report" aria-labelledby="report-heading">
      <h2 id="report-heading">
        {shortDate(r.from)} – {shortDate(r.to)} {r.to.slice(0, 4)}
      </h2>
      <p class="report-meta">
        Days in {r.zone}; figures as of{" "}
        {asOf(now, r.zone)}, and kept up to date while this page is open.
      </p>
      <dl class="report-figures">
        <Figure label="Created" value={num(r.totals.created)} />
        <Figure
          label="Closed"
          value={num(r.totals.closed)}
          note={`${num(r.totals.reopened)} reopened`}
        />
        <Figure
          label="Backlog"
          value={num(r.totals.backlog)}
          note={`at the end of ${shortDate(r.to)}`}
        />
        <Figure
          label="Median first reply"
          value={formatDuration(r.firstReply.median)}
          note={`90%: ${formatDuration(r.firstReply.p90)}`}
        />
        <Figure
          label="Median close"
          value={formatDuration(r.close.median)}
          note={`90%: ${formatDuration(r.close.p90)}`}
        />
        <Figure label="Waiting now" value={num(r.waiting.count)} />
      </dl>
      <section aria-labelledby="daily-heading">
        <h3 id="daily-heading">Created and closed per day, with the backlog</h3>
        <DailyChart id="daily" days={r.days} />
      </section>
      <div class="report-durations">
        <section aria-labelledby="reply-heading">
          <h3 id="reply-heading">Time to first public reply</h3>
          <DistributionChart
            id="reply"
            title="Time to first public reply"
            what="first replies"
            stats={r.firstReply}
          />
          <Waiting report={r} />
        </section>
        <section aria-labelledby="close-heading">
          <h3 id="close-heading">Time to close</h3>
          <DistributionChart
            id="close"
            title="Time to close"
            what="closed tickets"
            stats={r.close}
          />
        </section>
      </div>
      <section aria-labelledby="owners-heading">
        <h3 id="owners-heading">Per owner</h3>
        <RowsTable
          id="owners"
          caption="Per owner"
          by="assignee"
          rows={r.owners}
          q={query}
        />
      </section>
      <section aria-labelledby="products-heading">
        <h3 id="products-heading">Per product</h3>
        <RowsTable
          id="products"
          caption="Per product"
          by="product"
          rows={r.products}
          q={query}
        />
      </section>
    </div>
  );
}

/** The whole Reports page. */
export function ReportsPage(p: ReportsPageProps) {
  return (
    "<!doctype html>" +
    (
      <Layout
        title="Reports · Ticket desk"
        styles={p.assets.styles}
        scripts={p.assets.scripts}
        current="reports"
        connection={p.live && <LiveIndicator />}
        user={<UserMenu user={p.user} />}
      >
        <div class="report-head">
          <h1>Reports</h1>
          {p.report && (
            <a
              href={reportsHref(p.query, "/reports.csv")}
              role="button"
              class="outline secondary"
              download
            >
              Export CSV
            </a>
          )}
        </div>
        <nav aria-label="Range" class="report-ranges">
          <ul>
            {RANGES.map((d) => <RangeLink key={d} q={p.query} days={d} />)}
          </ul>
        </nav>
        <search>
          <ReportForm query={p.query} users={p.users} errors={p.errors} />
        </search>
        {p.report
          ? <ReportBody report={p.report} query={p.query} now={p.now} />
          : (
            <p class="field-error" role="alert">
              This report cannot be shown: {Object.entries(p.errors ?? {}).map((
                [field, text],
              ) => `${field} ${text}`).join("; ")}.
            </p>
          )}
        {p.live && <LiveStream {...p.live} />}
      </Layout>
    )
  );
}
