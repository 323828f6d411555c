/**
 * The reports' reads on PostgreSQL: index-only scans over report_facts and
 * report_groups (migration 009), which the triggers keep. The queries run
 * side by side on the pool.
 */
import type {
  FactCounts,
  ReportFacts,
  ReportFilter,
  ReportGroupFacts,
  ReportQuery,
  WaitingTicket,
} from "../store.ts";
import { rowToTicket, type Sql } from "./connection.ts";
import { priorityRank } from "../rows.ts";

/** Past any Unix second a fact can have: the "since" bucket's end. */
const LATER = Number.MAX_SAFE_INTEGER;

function likePrefix(prefix: string): string {
  return prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`) + "%";
}

/** The filter's conditions on report_facts `f` beyond the grouping column. */
function factFilter(sql: Sql, q: ReportFilter, byProduct: boolean) {
  const none = sql``;
  return sql`
    ${
    q.product_prefix !== undefined && !byProduct
      ? sql`AND lower(f.product_id) LIKE ${likePrefix(q.product_prefix)}`
      : none
  }
    ${
    q.assignee !== undefined && byProduct
      ? sql`AND f.assignee = ${q.assignee ?? ""}`
      : none
  }
    ${
    q.priority !== undefined
      ? sql`AND f.priority = ${priorityRank(q.priority)}`
      : none
  }`;
}

/** The owner, product and priority combinations the filter takes, with their counters. */
async function groups(sql: Sql, q: ReportFilter) {
  const none = sql``;
  const rows = await sql`
    SELECT assignee, product_id, unsolved, waiting FROM report_groups
    WHERE true
    ${q.assignee !== undefined ? sql`AND assignee = ${q.assignee ?? ""}` : none}
    ${
    q.product_prefix !== undefined
      ? sql`AND lower(product_id) LIKE ${likePrefix(q.product_prefix)}`
      : none
  }
    ${
    q.priority !== undefined
      ? sql`AND priority = ${priorityRank(q.priority)}`
      : none
  }`;
  return rows.map((r) => ({
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

/** Per day (and after the range): facts of `owners`, narrowed by the filter. */
async function perDay(
  sql: Sql,
  q: ReportQuery,
  owners: string[],
): Promise<FactCounts[]> {
  const f = factFilter(sql, q, false);
  const count = (kind: number) =>
    sql`(SELECT count(*) FROM report_facts f
      WHERE f.kind = ${kind} AND f.assignee = ANY(${owners}::text[])
        AND f.at >= d.s AND f.at < d.e ${f})`;
  const starts = q.bounds;
  const ends = [...q.bounds.slice(1), LATER];
  const rows = await sql`
    SELECT ${count(0)} AS created, ${count(2)} AS closed, ${
    count(3)
  } AS reopened
    FROM unnest(${starts}::bigint[], ${ends}::bigint[]) WITH ORDINALITY AS d(s, e, i)
    ORDER BY d.i`;
  return rows.map(counts);
}

/** Each owner's (or product's) counts and durations over the range. */
async function perGroup(
  sql: Sql,
  q: ReportQuery,
  by: "assignee" | "product_id",
  keys: string[],
): Promise<ReportGroupFacts[]> {
  const f = factFilter(sql, q, by === "product_id");
  const from = q.bounds[0]!;
  const to = q.bounds.at(-1)!;
  const range = sql`f.${
    sql(by)
  } = o.key AND f.at >= ${from} AND f.at < ${to} ${f}`;
  const rows = await sql`
    SELECT o.key,
      (SELECT count(*) FROM report_facts f WHERE f.kind = 0 AND ${range}) AS created,
      (SELECT count(*) FROM report_facts f WHERE f.kind = 2 AND ${range}) AS closed,
      (SELECT count(*) FROM report_facts f WHERE f.kind = 3 AND ${range}) AS reopened,
      (SELECT coalesce(array_agg(f.seconds::int), '{}') FROM report_facts f
       WHERE f.kind = 1 AND ${range}) AS replies,
      (SELECT coalesce(array_agg(f.seconds::int), '{}') FROM report_facts f
       WHERE f.kind = 2 AND ${range} AND f.standing) AS closes
    FROM unnest(${keys}::text[]) AS o(key)`;
  return rows.map((r) => ({
    key: String(r.key) || null,
    ...counts(r),
    replies: (r.replies as number[]).map(Number),
    closes: (r.closes as number[]).map(Number),
  }));
}

/** The oldest tickets still waiting for a first public reply. */
async function oldestWaiting(
  sql: Sql,
  q: ReportQuery,
): Promise<WaitingTicket[]> {
  const none = sql``;
  const rows = await sql`
    SELECT * FROM tickets
    WHERE first_response_at IS NULL AND status <> 'Closed'
    ${
    q.assignee === null
      ? sql`AND assignee IS NULL`
      : q.assignee !== undefined
      ? sql`AND assignee = ${q.assignee}`
      : none
  }
    ${
    q.product_prefix !== undefined
      ? sql`AND lower(product_id) LIKE ${likePrefix(q.product_prefix)}`
      : none
  }
    ${
    q.priority !== undefined
      ? sql`AND priority = ${priorityRank(q.priority)}`
      : none
  }
    ORDER BY created_at, id LIMIT ${q.waitingLimit}`;
  return rows.map((r) => {
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

/** Counts what a report shows. */
export async function reportFacts(
  sql: Sql,
  q: ReportQuery,
): Promise<ReportFacts> {
  const combos = await groups(sql, q);
  const owners = [...new Set(combos.map((g) => g.assignee))].sort();
  const products = [...new Set(combos.map((g) => g.product))].sort();
  const [days, oldest, ownerFacts, productFacts] = await Promise.all([
    perDay(sql, q, owners),
    q.waitingLimit > 0 ? oldestWaiting(sql, q) : [],
    perGroup(sql, q, "assignee", owners),
    perGroup(sql, q, "product_id", products),
  ]);
  const since = days.pop()!;
  return {
    days,
    since,
    unsolved: combos.reduce((n, g) => n + g.unsolved, 0),
    waiting: combos.reduce((n, g) => n + g.waiting, 0),
    oldestWaiting: oldest,
    owners: ownerFacts,
    products: productFacts,
  };
}
