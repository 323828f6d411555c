/**
 * The reports' reads on PostgreSQL: index-only scans over report_facts and
 * report_groups (migration 009), which the triggers keep. The owners' and
 * the products' queries run side by side on the pool.
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
import { daysOf } from "../reports.ts";

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

/** Each owner's or product's facts over the range, and (owners) their days. */
interface GroupRows extends ReportGroupFacts {
  at?: { created: number[]; closed: number[]; reopened: number[] };
  since?: FactCounts;
}

/**
 * Per owner: the range's facts as arrays (times of creations, closes and
 * reopens, durations of replies and closes) and counts after the range; per
 * product: counts and durations (see the SQLite twin, db/sqlite/reports.ts).
 */
async function perGroup(
  sql: Sql,
  q: ReportQuery,
  by: "assignee" | "product_id",
  keys: string[],
): Promise<GroupRows[]> {
  const f = factFilter(sql, q, by === "product_id");
  const from = q.bounds[0]!;
  const to = q.bounds.at(-1)!;
  const range = sql`f.${
    sql(by)
  } = o.key AND f.at >= ${from} AND f.at < ${to} ${f}`;
  const after = sql`f.${sql(by)} = o.key AND f.at >= ${to} ${f}`;
  const list = (kind: number, col: "at" | "seconds", standing = false) =>
    sql`(SELECT coalesce(array_agg(f.${
      sql(col)
    }::int8), '{}') FROM report_facts f
      WHERE f.kind = ${kind} AND ${range} ${
      standing ? sql`AND f.standing` : sql``
    })`;
  const count = (kind: number, where: typeof range) =>
    sql`(SELECT count(*) FROM report_facts f WHERE f.kind = ${kind} AND ${where})`;
  const owners = by === "assignee";
  const rows = await sql`
    SELECT o.key,
      ${owners ? list(0, "at") : count(0, range)} AS created,
      ${owners ? list(2, "at") : count(2, range)} AS closed,
      ${owners ? list(3, "at") : count(3, range)} AS reopened,
      ${
    owners
      ? sql`${count(0, after)} AS since_created, ${
        count(2, after)
      } AS since_closed, ${count(3, after)} AS since_reopened,`
      : sql``
  }
      ${list(1, "seconds")} AS replies,
      ${list(2, "seconds", true)} AS closes
    FROM unnest(${keys}::text[]) AS o(key)`;
  const nums = (v: unknown) => (v as (string | number)[]).map(Number);
  return rows.map((r) => {
    const g = {
      key: String(r.key) || null,
      replies: nums(r.replies),
      closes: nums(r.closes),
    };
    if (!owners) return { ...g, ...counts(r) };
    const at = {
      created: nums(r.created),
      closed: nums(r.closed),
      reopened: nums(r.reopened),
    };
    return {
      ...g,
      created: at.created.length,
      closed: at.closed.length,
      reopened: at.reopened.length,
      at,
      since: {
        created: Number(r.since_created),
        closed: Number(r.since_closed),
        reopened: Number(r.since_reopened),
      },
    };
  });
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
  const [oldest, byOwner, byProduct] = await Promise.all([
    q.waitingLimit > 0 ? oldestWaiting(sql, q) : [],
    perGroup(sql, q, "assignee", owners),
    perGroup(sql, q, "product_id", products),
  ]);
  return {
    ...daysOf(q.bounds, byOwner),
    unsolved: combos.reduce((n, g) => n + g.unsolved, 0),
    waiting: combos.reduce((n, g) => n + g.waiting, 0),
    oldestWaiting: oldest,
    owners: byOwner.map(({ at: _, since: __, ...g }) => g),
    products: byProduct,
  };
}
