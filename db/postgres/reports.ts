/**
 * The reports' reads on PostgreSQL: index-only scans over report_facts and
 * report_groups (migration 009), which the triggers keep. Unlike SQLite's
 * twin it counts days in SQL (counting is what PostgreSQL does fastest) and
 * runs its queries side by side on the pool.
 */
import type {
  FactCounts,
  ReportFacts,
  ReportFilter,
  ReportQuery,
  WaitingTicket,
} from "../store.ts";
import { rowToTicket, type Sql } from "./connection.ts";
import { priorityRank, rowToFactCounts, rowToReportGroup } from "../rows.ts";

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
  return rows.map(rowToReportGroup);
}

/** Past any Unix second a fact can have: the end of the "after the range" bucket. */
const LATER = Number.MAX_SAFE_INTEGER;

/**
 * Per owner and day (and after the range): creations, closes and reopens. One
 * index range per owner, day and kind: counting is the cheapest thing
 * PostgreSQL does with a row, and the owners' totals come with the days.
 */
async function ownerDays(sql: Sql, q: ReportQuery, owners: string[]) {
  const f = factFilter(sql, q, false);
  const count = (kind: number) =>
    sql`(SELECT count(*) FROM report_facts f
      WHERE f.kind = ${kind} AND f.assignee = o.key
        AND f.at >= d.s AND f.at < d.e ${f})`;
  const rows = await sql`
    SELECT o.key, d.i, ${count(0)} AS created, ${count(2)} AS closed,
           ${count(3)} AS reopened
    FROM unnest(${owners}::text[]) AS o(key)
    CROSS JOIN unnest(${q.bounds}::int8[], ${[
    ...q.bounds.slice(1),
    LATER,
  ]}::int8[])
      WITH ORDINALITY AS d(s, e, i)`;
  const n = q.bounds.length - 1;
  const zero = (): FactCounts => ({ created: 0, closed: 0, reopened: 0 });
  const days = Array.from({ length: n }, zero);
  const since = zero();
  const byOwner = new Map(owners.map((o) => [o, zero()]));
  for (const r of rows) {
    const c = rowToFactCounts(r);
    const i = Number(r.i) - 1;
    const into = i < n ? [days[i]!, byOwner.get(String(r.key))!] : [since];
    for (const t of into) {
      t.created += c.created;
      t.closed += c.closed;
      t.reopened += c.reopened;
    }
  }
  return { days, since, byOwner };
}

/** Per product: creations, closes and reopens over the range. */
async function productCounts(sql: Sql, q: ReportQuery, products: string[]) {
  const f = factFilter(sql, q, true);
  const count = (kind: number) =>
    sql`(SELECT count(*) FROM report_facts f
      WHERE f.kind = ${kind} AND f.product_id = o.key
        AND f.at >= ${q.bounds[0]!} AND f.at < ${q.bounds.at(-1)!} ${f})`;
  const rows = await sql`
    SELECT o.key, ${count(0)} AS created, ${count(2)} AS closed,
           ${count(3)} AS reopened
    FROM unnest(${products}::text[]) AS o(key)`;
  return new Map(rows.map((r) => [String(r.key), rowToFactCounts(r)]));
}

/** "{1,2,3}" as numbers: arrays sent as text parse far faster than the driver's arrays. */
const numbers = (text: unknown) =>
  String(text) === "{}" ? [] : String(text).slice(1, -1).split(",").map(Number);

/** Per owner (or product): durations of first replies and of standing closes in the range. */
async function durations(
  sql: Sql,
  q: ReportQuery,
  by: "assignee" | "product_id",
  keys: string[],
) {
  const f = factFilter(sql, q, by === "product_id");
  const list = (kind: number, standing: boolean) =>
    sql`(SELECT coalesce(array_agg(f.seconds), '{}')::text FROM report_facts f
      WHERE f.kind = ${kind} AND f.${sql(by)} = o.key
        AND f.at >= ${q.bounds[0]!} AND f.at < ${q.bounds.at(-1)!}
        ${standing ? sql`AND f.standing` : sql``} ${f})`;
  const rows = await sql`
    SELECT o.key, ${list(1, false)} AS replies, ${list(2, true)} AS closes
    FROM unnest(${keys}::text[]) AS o(key)`;
  return new Map(
    rows.map((r) => [String(r.key), {
      replies: numbers(r.replies),
      closes: numbers(r.closes),
    }]),
  );
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
  // Four queries side by side: on the pool they take the cores there are.
  const [oldest, days, ownerTimes, productFacts, productTimes] = await Promise
    .all([
      q.waitingLimit > 0 ? oldestWaiting(sql, q) : [],
      ownerDays(sql, q, owners),
      durations(sql, q, "assignee", owners),
      productCounts(sql, q, products),
      durations(sql, q, "product_id", products),
    ]);
  const group = (
    key: string,
    c: FactCounts,
    t?: { replies: number[]; closes: number[] },
  ) => ({
    key: key || null,
    ...c,
    replies: t?.replies ?? [],
    closes: t?.closes ?? [],
  });
  return {
    days: days.days,
    since: days.since,
    unsolved: combos.reduce((n, g) => n + g.unsolved, 0),
    waiting: combos.reduce((n, g) => n + g.waiting, 0),
    oldestWaiting: oldest,
    owners: owners.map((o) =>
      group(o, days.byOwner.get(o)!, ownerTimes.get(o))
    ),
    products: products.map((p) =>
      group(p, productFacts.get(p)!, productTimes.get(p))
    ),
  };
}
