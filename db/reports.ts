/**
 * Reports: what the Reports page, its CSV and the summary API show, made from
 * the facts the store counts (TicketStore.reportFacts). Days are local dates
 * in the configured time zone; figures follow the tickets as they are now
 * (a ticket's owner, product and priority), as the dashboard's filters do.
 *
 * - created: tickets created that day;
 * - closed: moves to Closed that day (a ticket closed twice counts twice);
 * - backlog: Open and Pending tickets at the end of the day;
 * - time to first reply: creation → the first public reply by an agent, for
 *   first replies made in the range;
 * - time to close: creation → resolved_at (the last move to Closed), for
 *   tickets whose standing close was made in the range (a reopened ticket
 *   counts again once it is closed again, with its whole time);
 * - reopen rate: moves out of Closed per move to Closed, in the range.
 *
 * Percentiles are nearest-rank over whole seconds.
 */
import type {
  FactCounts,
  ReportFacts,
  ReportFilter,
  ReportGroupFacts,
  TicketStore,
  WaitingTicket,
} from "./store.ts";
import { countInDays, dayBounds } from "../lib/report_days.ts";
import type { ReportRange } from "../lib/report_range.ts";

/** One day of the report. */
export interface ReportDay extends FactCounts {
  date: string;
  /** Open and Pending tickets at the end of the day. */
  backlog: number;
}

/** The distribution's buckets: up to each bound in seconds (the last has none). */
export const DURATION_BUCKETS: { label: string; upTo: number | null }[] = [
  { label: "under 15 min", upTo: 15 * 60 },
  { label: "15 min – 1 h", upTo: 3600 },
  { label: "1 – 4 h", upTo: 4 * 3600 },
  { label: "4 – 24 h", upTo: 86_400 },
  { label: "1 – 3 days", upTo: 3 * 86_400 },
  { label: "3 – 7 days", upTo: 7 * 86_400 },
  { label: "over 7 days", upTo: null },
];

/** Durations in seconds: how many, median and 90th percentile, and a small histogram. */
export interface DurationStats {
  count: number;
  median: number | null;
  p90: number | null;
  /** Tickets per DURATION_BUCKETS entry (a bucket holds durations below its bound). */
  histogram: number[];
}

/** One owner's or product's row. */
export interface ReportRow extends FactCounts {
  /** The owner or product; null for none. */
  key: string | null;
  firstReplyMedian: number | null;
  closeMedian: number | null;
  /** Reopens per close in the range, null without a close. */
  reopenRate: number | null;
}

export interface Report {
  from: string;
  to: string;
  zone: string;
  filter: ReportFilter;
  days: ReportDay[];
  totals: FactCounts & { backlog: number; reopenRate: number | null };
  firstReply: DurationStats;
  close: DurationStats;
  /** Open or Pending tickets without a public reply now, and the oldest of them. */
  waiting: { count: number; oldest: WaitingTicket[] };
  owners: ReportRow[];
  products: ReportRow[];
}

/**
 * The days of a report from each owner's fact times (the stores read the
 * range's facts once, per owner, and leave the days to this), and the counts
 * after the range.
 */
export function daysOf(
  bounds: readonly number[],
  owners: {
    at?: { created: number[]; closed: number[]; reopened: number[] };
    since?: FactCounts;
  }[],
): { days: FactCounts[]; since: FactCounts } {
  const n = bounds.length - 1;
  const created = new Array<number>(n).fill(0);
  const closed = new Array<number>(n).fill(0);
  const reopened = new Array<number>(n).fill(0);
  const since = { created: 0, closed: 0, reopened: 0 };
  for (const o of owners) {
    countInDays(bounds, o.at?.created ?? [], created);
    countInDays(bounds, o.at?.closed ?? [], closed);
    countInDays(bounds, o.at?.reopened ?? [], reopened);
    since.created += o.since?.created ?? 0;
    since.closed += o.since?.closed ?? 0;
    since.reopened += o.since?.reopened ?? 0;
  }
  return {
    days: created.map((c, i) => ({
      created: c,
      closed: closed[i]!,
      reopened: reopened[i]!,
    })),
    since,
  };
}

/** The p-th percentile (nearest rank) of ascending `sorted`, null when empty. */
export function percentile(
  sorted: ArrayLike<number>,
  p: number,
): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** The nearest rank of the p-th percentile among n values, from 0. */
const rankOf = (n: number, p: number) =>
  Math.max(1, Math.ceil((p / 100) * n)) - 1;

/**
 * The k-th smallest of `a` (from 0), moving its values about (Hoare's
 * selection): a percentile of 200,000 durations without sorting them.
 */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** The p-th percentiles (nearest rank) of `values`, in the order asked; nulls when empty. */
export function percentiles(
  values: ArrayLike<number>,
  ps: number[],
): (number | null)[] {
  if (values.length === 0) return ps.map(() => null);
  const a = Float64Array.from(values);
  return ps.map((p) => select(a, rankOf(a.length, p)));
}

/** Count, median, 90th percentile and histogram of durations in seconds. */
export function durationStats(seconds: ArrayLike<number>): DurationStats {
  const histogram = DURATION_BUCKETS.map(() => 0);
  for (let i = 0; i < seconds.length; i++) {
    const s = seconds[i]!;
    let b = 0;
    while (
      DURATION_BUCKETS[b]!.upTo !== null && s >= DURATION_BUCKETS[b]!.upTo!
    ) b++;
    histogram[b]!++;
  }
  const [median, p90] = percentiles(seconds, [50, 90]);
  return { count: seconds.length, median: median!, p90: p90!, histogram };
}

/** Every group's durations as one array. */
function joined(groups: ReportGroupFacts[], k: "replies" | "closes") {
  const out = new Float64Array(groups.reduce((n, g) => n + g[k].length, 0));
  let at = 0;
  for (const g of groups) (out.set(g[k], at), at += g[k].length);
  return out;
}

const rate = (reopened: number, closed: number) =>
  closed > 0 ? reopened / closed : null;

function row(g: ReportGroupFacts): ReportRow {
  return {
    key: g.key,
    created: g.created,
    closed: g.closed,
    reopened: g.reopened,
    firstReplyMedian: percentiles(g.replies, [50])[0]!,
    closeMedian: percentiles(g.closes, [50])[0]!,
    reopenRate: rate(g.reopened, g.closed),
  };
}

/** Rows with anything in the range, busiest first (then by name, none last). */
function rows(groups: ReportGroupFacts[]): ReportRow[] {
  return groups
    .filter((g) =>
      g.created + g.closed + g.reopened + g.replies.length + g.closes.length >
        0
    )
    .map(row)
    .sort((a, b) =>
      b.created - a.created || b.closed - a.closed ||
      (a.key === null ? 1 : b.key === null ? -1 : a.key.localeCompare(b.key))
    );
}

/** The report of `facts` over `dates` (pure: the figures of the store's counts). */
export function buildReport(
  facts: ReportFacts,
  ctx: {
    range: ReportRange;
    zone: string;
    filter: ReportFilter;
    dates: string[];
  },
): Report {
  // The backlog at the end of a day is the one now, less what came after it.
  let backlog = facts.unsolved - facts.since.created + facts.since.closed -
    facts.since.reopened;
  const days: ReportDay[] = [];
  for (let i = facts.days.length - 1; i >= 0; i--) {
    const d = facts.days[i]!;
    days.unshift({ date: ctx.dates[i]!, ...d, backlog });
    backlog -= d.created - d.closed + d.reopened;
  }
  const sum = (k: keyof FactCounts) => facts.days.reduce((n, d) => n + d[k], 0);
  const totals = {
    created: sum("created"),
    closed: sum("closed"),
    reopened: sum("reopened"),
  };
  return {
    from: ctx.range.from,
    to: ctx.range.to,
    zone: ctx.zone,
    filter: ctx.filter,
    days,
    totals: {
      ...totals,
      backlog: days.at(-1)?.backlog ?? 0,
      reopenRate: rate(totals.reopened, totals.closed),
    },
    firstReply: durationStats(joined(facts.owners, "replies")),
    close: durationStats(joined(facts.owners, "closes")),
    waiting: { count: facts.waiting, oldest: facts.oldestWaiting },
    owners: rows(facts.owners),
    products: rows(facts.products),
  };
}

/** Loads the report of `range` in `zone`, narrowed by `filter`. */
export async function loadReport(
  store: TicketStore,
  opts: {
    range: ReportRange;
    zone: string;
    filter: ReportFilter;
    /** Waiting tickets to list (oldest first). */
    waitingLimit?: number;
  },
): Promise<Report> {
  const { dates, bounds } = dayBounds(
    opts.range.from,
    opts.range.to,
    opts.zone,
  );
  const facts = await store.reportFacts({
    ...opts.filter,
    bounds,
    waitingLimit: opts.waitingLimit ?? 10,
  });
  return buildReport(facts, { ...opts, dates });
}
