/** The Reports page's tables: per owner and per product, and the tickets waiting for a first reply. */
import type { Report, ReportRow } from "../db/reports.ts";
import type { ReportQueryView } from "./reports_page.tsx";
import { dashboardHref } from "./ticket_card.tsx";
import { formatDuration } from "./charts.tsx";

const num = (n: number) => n.toLocaleString("en-US");
const percent = (r: number | null) =>
  r === null ? "—" : `${(r * 100).toFixed(r > 0 && r < 0.1 ? 1 : 0)}%`;

/** The dashboard showing what a row counts: every status, the same owner, product and priority. */
function rowHref(
  q: ReportQueryView,
  by: "assignee" | "product",
  key: string | null,
): string | null {
  if (by === "product" && key === null) return null; // the dashboard has no "no product" filter
  return dashboardHref({
    status: "all",
    product: by === "product" ? key! : q.product,
    assignee: by === "assignee" ? key ?? "@none" : q.assignee,
    priority: q.priority,
  });
}

function RowName(
  { q, by, row }: {
    q: ReportQueryView;
    by: "assignee" | "product";
    row: ReportRow;
  },
) {
  const name = row.key ?? (by === "assignee" ? "Unassigned" : "No product");
  const href = rowHref(q, by, row.key);
  return (
    <th scope="row">
      {href ? <a href={href}>{name}</a> : name}
    </th>
  );
}

/** Rows a table shows; the CSV and the API have them all. */
const ROWS_SHOWN = 25;

/** One row per owner or product, each linking to the dashboard; the busiest first. */
export function RowsTable(
  { id, caption, by, rows, q }: {
    id: string;
    caption: string;
    by: "assignee" | "product";
    rows: ReportRow[];
    q: ReportQueryView;
  },
) {
  if (rows.length === 0) {
    return <p class="report-empty">Nothing in these days.</p>;
  }
  const more = rows.length - ROWS_SHOWN;
  return (
    <div class="overflow-auto">
      <table class="striped report-table" id={id}>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{by === "assignee" ? "Owner" : "Product"}</th>
            <th scope="col">Created</th>
            <th scope="col">Closed</th>
            <th scope="col">Median first reply</th>
            <th scope="col">Median close</th>
            <th scope="col">Reopen rate</th>
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, ROWS_SHOWN).map((r) => (
            <tr data-key={r.key ?? ""}>
              <RowName q={q} by={by} row={r} />
              <td>{num(r.created)}</td>
              <td>{num(r.closed)}</td>
              <td>{formatDuration(r.firstReplyMedian)}</td>
              <td>{formatDuration(r.closeMedian)}</td>
              <td>{percent(r.reopenRate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {more > 0 && (
        <p class="report-more">
          The busiest {ROWS_SHOWN} of {num(rows.length)}; the CSV has them all.
        </p>
      )}
    </div>
  );
}

/** How many tickets wait for a first public reply, and the oldest of them. */
export function Waiting({ report }: { report: Report }) {
  const { count, oldest } = report.waiting;
  return (
    <div class="report-waiting">
      <h4>Waiting for a first reply</h4>
      <p>
        <strong id="waiting-count">{num(count)}</strong>{" "}
        {count === 1 ? "ticket is" : "tickets are"}{" "}
        Open or Pending without a public reply now
        {oldest.length > 0 && count > oldest.length
          ? `; the oldest ${oldest.length}:`
          : oldest.length > 0
          ? ":"
          : "."}
      </p>
      {oldest.length > 0 && (
        <ol class="waiting-list">
          {oldest.map((t) => (
            <li>
              <a href={`/tickets/${t.id}`}>#{t.id}</a> {t.user_id}
              {t.product_id ? ` · ${t.product_id}` : ""} · since{" "}
              <time datetime={t.created_at}>
                {t.created_at.slice(0, 16).replace("T", " ")} UTC
              </time>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
