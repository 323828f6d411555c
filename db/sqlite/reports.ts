/**
 * The reports' reads on SQLite: index range scans over report_facts and
 * report_groups (migration 008), which the triggers keep; never a scan of
 * the tickets table.
 */
import type { Statements } from "./connection.ts";
import type {
  FactCounts,
  ReportFacts,
  ReportFilter,
  ReportGroupFacts,
  ReportQuery,
  WaitingTicket,
} from "../store.ts";
import { priorityRank, rowToTicket } from "../rows.ts";

type Params = Record<string, string | number>;

/** Past any Unix second a fact can have: the "since" bucket's end. */
const LATER = Number.MAX_SAFE_INTEGER;

function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + "%";
}

/** The filter's conditions on report_facts `f` beyond the owner (and the parameters they take). */
function factFilter(q: ReportFilter, byProduct: boolean): {
  sql: string;
  params: Params;
} {
  const where: string[] = [];
  const params: Params = {};
  if (q.product_prefix !== undefined && !byProduct) {
    where.push("f.product_id LIKE $product ESCAPE '\\'");
    params.product = likePrefix(q.product_prefix);
  }
  if (q.assignee !== undefined && byProduct) {
    where.push("f.assignee = $assignee");
    params.assignee = q.assignee ?? "";
  }
  if (q.priority !== undefined) {
    where.push("f.priority = $priority");
    params.priority = priorityRank(q.priority);
  }
  return {
    sql: where.map((w) => ` AND ${w}`).join(""),
    params,
  };
}

/** The owner, product and priority combinations the filter takes, with their counters. */
function groups(stmts: Statements, q: ReportFilter) {
  const where: string[] = [];
  const params: Params = {};
  if (q.assignee !== undefined) {
    where.push("assignee = $assignee");
    params.assignee = q.assignee ?? "";
  }
  if (q.product_prefix !== undefined) {
    where.push("product_id LIKE $product ESCAPE '\\'");
    params.product = likePrefix(q.product_prefix);
  }
  if (q.priority !== undefined) {
    where.push("priority = $priority");
    params.priority = priorityRank(q.priority);
  }
  return stmts.get(
    `SELECT assignee, product_id, unsolved, waiting FROM report_groups
     ${where.length ? `WHERE ${where.join(" AND ")}` : ""}`,
  ).all(params).map((r) => ({
    assignee: String(r.assignee),
    product: String(r.product_id),
    unsolved: Number(r.unsolved),
    waiting: Number(r.waiting),
  }));
}

const counts = (r: Record<string, unknown>): FactCounts => ({
  created: Number(r.created),
  closed: Number(r.closed),
  reopened: Number(r.reopened),
});

/** Per day (and after the range): facts of the owners in `$owners`, narrowed by the filter. */
function perDay(
  stmts: Statements,
  q: ReportQuery,
  owners: string[],
): FactCounts[] {
  const f = factFilter(q, false);
  const count = (kind: number) =>
    `(SELECT count(*) FROM report_facts f
      WHERE f.kind = ${kind} AND f.assignee IN (SELECT value FROM json_each($owners))
        AND f.at >= d.s AND f.at < d.e${f.sql})`;
  const days = q.bounds.slice(0, -1).map((s, i) => [s, q.bounds[i + 1]]);
  days.push([q.bounds.at(-1)!, LATER]);
  return stmts.get(
    `SELECT ${count(0)} AS created, ${count(2)} AS closed, ${
      count(3)
    } AS reopened
     FROM (SELECT key AS i, value ->> 0 AS s, value ->> 1 AS e FROM json_each($days)) d
     ORDER BY d.i`,
  ).all({
    ...f.params,
    owners: JSON.stringify(owners),
    days: JSON.stringify(days),
  }).map(counts);
}

/** Each owner's (or product's) counts and durations over the range. */
function perGroup(
  stmts: Statements,
  q: ReportQuery,
  by: "assignee" | "product_id",
  keys: string[],
): ReportGroupFacts[] {
  const f = factFilter(q, by === "product_id");
  const range = `f.${by} = o.value AND f.at >= $from AND f.at < $to${f.sql}`;
  const rows = stmts.get(
    `SELECT o.value AS key,
       (SELECT count(*) FROM report_facts f WHERE f.kind = 0 AND ${range}) AS created,
       (SELECT count(*) FROM report_facts f WHERE f.kind = 2 AND ${range}) AS closed,
       (SELECT count(*) FROM report_facts f WHERE f.kind = 3 AND ${range}) AS reopened,
       (SELECT json_group_array(f.seconds) FROM report_facts f
        WHERE f.kind = 1 AND ${range}) AS replies,
       (SELECT json_group_array(f.seconds) FROM report_facts f
        WHERE f.kind = 2 AND ${range} AND f.standing = 1) AS closes
     FROM json_each($keys) o`,
  ).all({
    ...f.params,
    keys: JSON.stringify(keys),
    from: q.bounds[0]!,
    to: q.bounds.at(-1)!,
  });
  return rows.map((r) => ({
    key: String(r.key) || null,
    ...counts(r),
    replies: JSON.parse(String(r.replies)) as number[],
    closes: JSON.parse(String(r.closes)) as number[],
  }));
}

/** The oldest tickets still waiting for a first public reply. */
function oldestWaiting(stmts: Statements, q: ReportQuery): WaitingTicket[] {
  const where: string[] = [];
  const params: Params = { limit: q.waitingLimit };
  if (q.assignee === null) where.push("assignee IS NULL");
  else if (q.assignee !== undefined) {
    where.push("assignee = $assignee");
    params.assignee = q.assignee;
  }
  if (q.product_prefix !== undefined) {
    where.push("product_id LIKE $product ESCAPE '\\'");
    params.product = likePrefix(q.product_prefix);
  }
  if (q.priority !== undefined) {
    where.push("priority = $priority");
    params.priority = priorityRank(q.priority);
  }
  return stmts.get(
    `SELECT * FROM tickets INDEXED BY tickets_waiting
     WHERE first_response_at IS NULL AND status <> 'Closed'
       ${where.map((w) => `AND ${w}`).join(" ")}
     ORDER BY created_at, id LIMIT $limit`,
  ).all(params).map((r) => {
    const t = rowToTicket(r);
    return {
      id: t.id,
      created_at: t.created_at,
      user_id: t.user_id,
      product_id: t.product_id,
      assignee: t.assignee,
      priority: t.priority,
    };
  });
}

/** Counts what a report shows (one read transaction, so the figures agree). */
export function reportFacts(stmts: Statements, q: ReportQuery): ReportFacts {
  stmts.db.exec("BEGIN");
  try {
    const combos = groups(stmts, q);
    const owners = [...new Set(combos.map((g) => g.assignee))].sort();
    const products = [...new Set(combos.map((g) => g.product))].sort();
    const days = perDay(stmts, q, owners);
    const since = days.pop()!;
    return {
      days,
      since,
      unsolved: combos.reduce((n, g) => n + g.unsolved, 0),
      waiting: combos.reduce((n, g) => n + g.waiting, 0),
      oldestWaiting: q.waitingLimit > 0 ? oldestWaiting(stmts, q) : [],
      owners: perGroup(stmts, q, "assignee", owners),
      products: perGroup(stmts, q, "product_id", products),
    };
  } finally {
    stmts.db.exec("COMMIT");
  }
}
