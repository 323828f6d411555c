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
import {
  priorityRank,
  rowToFactCounts,
  rowToReportGroup,
  rowToTicket,
} from "../rows.ts";
import { daysOf } from "../reports.ts";

type Params = Record<string, string | number>;

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
  ).all(params).map(rowToReportGroup);
}

/** Each owner's or product's facts over the range, and (owners) their days. */
interface GroupRows extends ReportGroupFacts {
  /** Owners only: when each creation, close and reopen of the range happened, and how many came after it. */
  at?: { created: number[]; closed: number[]; reopened: number[] };
  since?: FactCounts;
}

/**
 * Per owner: the range's facts as arrays (times of creations, closes and
 * reopens, durations of replies and closes) and counts after the range; per
 * product: counts and durations. One index range per owner (or product) and
 * kind; the days are counted from the times by the caller, so the facts are
 * read once.
 */
function perGroup(
  stmts: Statements,
  q: ReportQuery,
  by: "assignee" | "product_id",
  keys: string[],
): GroupRows[] {
  const f = factFilter(q, by === "product_id");
  const range = `f.${by} = o.value AND f.at >= $from AND f.at < $to${f.sql}`;
  const after = `f.${by} = o.value AND f.at >= $to${f.sql}`;
  const list = (kind: number, col: string, extra = "") =>
    `(SELECT json_group_array(f.${col}) FROM report_facts f
      WHERE f.kind = ${kind} AND ${range}${extra})`;
  const count = (kind: number, where: string) =>
    `(SELECT count(*) FROM report_facts f WHERE f.kind = ${kind} AND ${where})`;
  const owners = by === "assignee";
  const rows = stmts.get(
    `SELECT o.value AS key,
       ${owners ? list(0, "at") : count(0, range)} AS created,
       ${owners ? list(2, "at") : count(2, range)} AS closed,
       ${owners ? list(3, "at") : count(3, range)} AS reopened,
       ${
      owners
        ? `${count(0, after)} AS since_created, ${
          count(2, after)
        } AS since_closed, ${count(3, after)} AS since_reopened,`
        : ""
    }
       ${list(1, "seconds")} AS replies,
       ${list(2, "seconds", " AND f.standing = 1")} AS closes
     FROM json_each($keys) o`,
  ).all({
    ...f.params,
    keys: JSON.stringify(keys),
    from: q.bounds[0]!,
    to: q.bounds.at(-1)!,
  });
  return rows.map((r) => {
    const g = {
      key: String(r.key) || null,
      replies: JSON.parse(String(r.replies)) as number[],
      closes: JSON.parse(String(r.closes)) as number[],
    };
    if (!owners) return { ...g, ...rowToFactCounts(r) };
    const at = {
      created: JSON.parse(String(r.created)) as number[],
      closed: JSON.parse(String(r.closed)) as number[],
      reopened: JSON.parse(String(r.reopened)) as number[],
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
    const byOwner = perGroup(stmts, q, "assignee", owners);
    return {
      ...daysOf(q.bounds, byOwner),
      unsolved: combos.reduce((n, g) => n + g.unsolved, 0),
      waiting: combos.reduce((n, g) => n + g.waiting, 0),
      oldestWaiting: q.waitingLimit > 0 ? oldestWaiting(stmts, q) : [],
      owners: byOwner.map(({ at: _, since: __, ...g }) => g),
      products: perGroup(stmts, q, "product_id", products),
    };
  } finally {
    stmts.db.exec("COMMIT");
  }
}
