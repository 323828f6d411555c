/**
 * The slow reference for reports: every figure recomputed from the events
 * table and the tickets as they are now, ticket by ticket, with local dates
 * from Intl directly. The store's fast figures (db/reports.ts over
 * report_facts) must equal these.
 */
import type {
  Priority,
  Status,
  Ticket,
  TicketEvent,
  TicketStore,
} from "../../db/store.ts";

export interface RefFilter {
  product_prefix?: string;
  assignee?: string | null;
  priority?: Priority;
}

interface RefCounts {
  created: number;
  closed: number;
  reopened: number;
}

export interface RefRow extends RefCounts {
  key: string | null;
  firstReplyMedian: number | null;
  closeMedian: number | null;
}

export interface RefReport {
  days: (RefCounts & { date: string; backlog: number })[];
  firstReply: { count: number; median: number | null; p90: number | null };
  close: { count: number; median: number | null; p90: number | null };
  waiting: { count: number; oldest: number[] };
  owners: RefRow[];
  products: RefRow[];
}

const dateIn = (iso: string, zone: string) =>
  new Date(iso).toLocaleDateString("en-CA", { timeZone: zone });

const secondsBetween = (a: string, b: string) =>
  Math.floor((Date.parse(b) - Date.parse(a)) / 1000);

function nearestRank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p / 100 * sorted.length)) - 1]!;
}

function statusMove(e: TicketEvent): { from: Status; to: Status } | null {
  if (e.type !== "ticket.updated") return null;
  const s = (e.data.changes as Record<string, { from: Status; to: Status }>)
    ?.status;
  return s ?? null;
}

/** Every ticket and every event of the store, read the slow way. */
export async function readAll(store: TicketStore) {
  const events = await store.eventsAfter(0, 100_000);
  const ids = [...new Set(events.map((e) => e.ticket_id))];
  const tickets: Ticket[] = [];
  for (const id of ids) {
    const t = await store.getTicket(id);
    if (t) tickets.push(t);
  }
  return { events, tickets };
}

/** The report of `dates` (inclusive, consecutive) in `zone`, from events and tickets alone. */
export function referenceReport(
  all: { events: TicketEvent[]; tickets: Ticket[] },
  opts: { dates: string[]; zone: string; filter: RefFilter },
): RefReport {
  const { dates, zone, filter } = opts;
  const first = dates[0]!;
  const last = dates.at(-1)!;
  const inRange = (iso: string) => {
    const d = dateIn(iso, zone);
    return d >= first && d <= last;
  };
  const matches = (t: Ticket) =>
    (filter.product_prefix === undefined ||
      (t.product_id ?? "").toLowerCase().startsWith(
        filter.product_prefix.toLowerCase(),
      )) &&
    (filter.assignee === undefined || t.assignee === filter.assignee) &&
    (filter.priority === undefined || t.priority === filter.priority);
  const tickets = all.tickets.filter(matches);
  const byId = new Map(tickets.map((t) => [t.id, t]));
  const events = all.events.filter((e) => byId.has(e.ticket_id));

  interface Fact {
    ticket: Ticket;
    kind: "created" | "closed" | "reopened" | "reply" | "close";
    at: string;
    seconds?: number;
  }
  const facts: Fact[] = [];
  for (const t of tickets) {
    const mine = events.filter((e) => e.ticket_id === t.id);
    const created = mine.find((e) => e.type === "ticket.created")!;
    facts.push({ ticket: t, kind: "created", at: created.created_at });
    const reply = mine.find((e) =>
      e.type === "comment.added" && e.data.visibility === "public" &&
      !e.data.from_requester
    );
    if (reply) {
      facts.push({
        ticket: t,
        kind: "reply",
        at: reply.created_at,
        seconds: secondsBetween(t.created_at, reply.created_at),
      });
    }
    let lastClose: TicketEvent | null = null;
    for (const e of mine) {
      const m = statusMove(e);
      if (!m || (m.from === "Closed") === (m.to === "Closed")) continue;
      facts.push({
        ticket: t,
        kind: m.to === "Closed" ? "closed" : "reopened",
        at: e.created_at,
      });
      lastClose = m.to === "Closed" ? e : null;
    }
    if (t.status === "Closed" && lastClose) {
      facts.push({
        ticket: t,
        kind: "close",
        at: lastClose.created_at,
        seconds: secondsBetween(t.created_at, lastClose.created_at),
      });
    }
  }

  const days = dates.map((date) => {
    const on = (kind: Fact["kind"]) =>
      facts.filter((f) => f.kind === kind && dateIn(f.at, zone) === date)
        .length;
    // The backlog, ticket by ticket: its status at the end of the day.
    const backlog = tickets.filter((t) => {
      const moves = events.filter((e) =>
        e.ticket_id === t.id && dateIn(e.created_at, zone) <= date
      );
      if (!moves.some((e) => e.type === "ticket.created")) return false;
      let status: Status = "Open";
      for (const e of moves) status = statusMove(e)?.to ?? status;
      return status !== "Closed";
    }).length;
    return {
      date,
      created: on("created"),
      closed: on("closed"),
      reopened: on("reopened"),
      backlog,
    };
  });

  const durations = (kind: "reply" | "close", list = facts) =>
    list.filter((f) => f.kind === kind && inRange(f.at)).map((f) => f.seconds!);
  const stats = (kind: "reply" | "close") => {
    const d = durations(kind);
    return {
      count: d.length,
      median: nearestRank(d, 50),
      p90: nearestRank(d, 90),
    };
  };
  const rowsBy = (key: (t: Ticket) => string | null): RefRow[] => {
    const keys = [...new Set(tickets.map(key))];
    return keys.map((k) => {
      const mine = facts.filter((f) => key(f.ticket) === k);
      const count = (kind: Fact["kind"]) =>
        mine.filter((f) => f.kind === kind && inRange(f.at)).length;
      return {
        key: k,
        created: count("created"),
        closed: count("closed"),
        reopened: count("reopened"),
        firstReplyMedian: nearestRank(durations("reply", mine), 50),
        closeMedian: nearestRank(durations("close", mine), 50),
      };
    }).filter((r) =>
      r.created + r.closed + r.reopened > 0 || r.firstReplyMedian !== null ||
      r.closeMedian !== null
    );
  };
  const waiting = tickets.filter((t) =>
    t.status !== "Closed" && t.first_response_at === null
  ).sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id);
  return {
    days,
    firstReply: stats("reply"),
    close: stats("close"),
    waiting: { count: waiting.length, oldest: waiting.map((t) => t.id) },
    owners: rowsBy((t) => t.assignee),
    products: rowsBy((t) => t.product_id),
  };
}
