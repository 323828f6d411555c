/**
 * Scenario 3: the dashboard's first page and two searches on databases of 100,
 * 100,000 and 1,000,000 tickets (100 and 100k with --quick). Each database is
 * filled by the bulk seeder (scripts/seed_bulk.ts) before its server starts, so
 * seeding is outside the timed part; then one logged-in client sends the
 * requests one after another (latency without queueing).
 */
import { DatabaseSync } from "node:sqlite";
import type { BenchContext } from "./context.ts";
import { BENCH_ADMIN, REPO_ROOT } from "./server.ts";
import { login } from "./session.ts";
import { toMib } from "./memory.ts";
import { ms } from "./create_load.ts";
import { ftsQuery } from "../../db/sqlite/reads.ts";
import {
  num,
  percentile,
  type Row,
  type ScenarioOutcome,
  times,
  verdict,
} from "./report.ts";

/** What is measured on each database. */
const QUERIES = [
  { key: "page", label: "GET /dashboard (first page)", q: null },
  // "wei12" starts the user ids li_wei12, li_wei120… (about 0.4% of tickets).
  { key: "few", label: "search matching few (q=wei12)", q: "wei12" },
  // "battery" is one of the seeder's 30 description words (about 20%).
  { key: "many", label: "search matching many (q=battery)", q: "battery" },
  // The seeder gives an eighth of the owned tickets to the bench's own user.
  { key: "mine", label: "Mine (assignee=@me)", q: null, owner: "@me" },
  {
    key: "queue",
    label: "Unassigned, oldest first",
    q: null,
    owner: "@none",
  },
] as const;

type QueryKey = typeof QUERIES[number]["key"];

interface Latency {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Cards on the page (data-ticket-id attributes). */
  cards: number;
  /** Tickets the search matches in the database (all tickets for the page). */
  matches: number;
}

interface SizeResult {
  tickets: number;
  seed_s: number;
  db_mib: number;
  latency_ms: Record<QueryKey, Latency>;
  peak_kib: { rssKib: number; hwmKib: number };
}

/** Runs the bulk seeder on a new file, logging progress while it works; returns the seconds it took. */
export async function seed(
  ctx: BenchContext,
  dbPath: string,
  count: number,
): Promise<number> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env=DB_PATH",
      "scripts/seed_bulk.ts",
      "--count",
      String(count),
      "--path",
      dbPath,
    ],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The seeder commits once at the end: all we can show meanwhile is the clock.
  const tick = setInterval(() => {
    ctx.log(
      `    seeding ${num(count)} tickets … ${
        ((performance.now() - t0) / 1000).toFixed(0)
      } s`,
    );
  }, 10_000);
  try {
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    if (!out.success) throw new Error(`seeding ${dbPath} failed:\n${text}`);
  } finally {
    clearInterval(tick);
  }
  return (performance.now() - t0) / 1000;
}

/** Tickets a query shows, counted in the file the way the app selects them. */
function countMatches(dbPath: string, query: typeof QUERIES[number]): number {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const owner = "owner" in query ? query.owner : undefined;
    if (owner) {
      const row = owner === "@none"
        ? db.prepare("SELECT count(*) AS n FROM tickets WHERE assignee IS NULL")
          .get()
        : db.prepare("SELECT count(*) AS n FROM tickets WHERE assignee = ?")
          .get(BENCH_ADMIN.username);
      return Number(row?.n ?? 0);
    }
    const match = ftsQuery(query.q ?? undefined);
    const row = match === null
      ? db.prepare("SELECT count(*) AS n FROM tickets").get()
      : db.prepare(
        "SELECT count(*) AS n FROM tickets_fts WHERE tickets_fts MATCH ?",
      ).get(match);
    return Number(row?.n ?? 0);
  } finally {
    db.close();
  }
}

/** The dashboard URL of a query. */
function pathOf(query: typeof QUERIES[number]): string {
  if ("owner" in query) {
    return `/dashboard?assignee=${encodeURIComponent(query.owner)}${
      query.owner === "@none" ? "&sort=oldest" : ""
    }`;
  }
  return query.q === null
    ? "/dashboard"
    : `/dashboard?q=${encodeURIComponent(query.q)}`;
}

/** Sends `warm` then `n` GETs one at a time; percentiles of the measured ones. */
async function timeGets(
  url: string,
  cookie: string,
  n: number,
  warm: number,
): Promise<Omit<Latency, "matches">> {
  const times: number[] = [];
  let cards = 0;
  for (let i = 0; i < warm + n; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { cookie } });
    const body = await res.text();
    const dt = performance.now() - t0;
    if (res.status !== 200) {
      throw new Error(
        `GET ${url} answered ${res.status}: ${body.slice(0, 300)}`,
      );
    }
    if (i >= warm) times.push(dt);
    cards = body.split("data-ticket-id=").length - 1;
  }
  const sorted = Float64Array.from(times).sort();
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1)!,
    cards,
  };
}

/** Scenario 3: first page and search latency as the table grows. */
export async function dashboardScenario(
  ctx: BenchContext,
): Promise<ScenarioOutcome> {
  const { opts } = ctx;
  const sizes = opts.quick ? [100, 100_000] : [100, 100_000, 1_000_000];
  const requests = opts.quick ? 100 : 200;
  const warm = 20;
  const results: SizeResult[] = [];
  for (const tickets of sizes) {
    const dbPath = `${opts.tmpDir}/dashboard-${tickets}.db`;
    ctx.log(`  ${num(tickets)} tickets: seeding ${dbPath} …`);
    const seedS = await seed(ctx, dbPath, tickets);
    const dbMib = toMib(
      ((await Deno.stat(dbPath)).size +
        ((await Deno.stat(`${dbPath}-wal`).catch(() => null))?.size ?? 0)) /
        1024,
    );
    ctx.log(
      `  ${num(tickets)} tickets: seeded in ${seedS.toFixed(1)} s (${
        num(dbMib, 1)
      } MiB); starting the server …`,
    );
    const app = await ctx.dedicatedApp(dbPath, { apiKey: false });
    try {
      const cookie = await login(app.server.url, dbPath);
      const latency = {} as Record<QueryKey, Latency>;
      for (const query of QUERIES) {
        const path = pathOf(query);
        const matches = countMatches(dbPath, query);
        const l = await timeGets(app.server.url + path, cookie, requests, warm);
        latency[query.key] = { ...l, matches };
        ctx.log(
          `    ${path}: p50 ${ms(l.p50)}, p99 ${ms(l.p99)} (${l.cards} cards; ${
            num(matches)
          } matching tickets)`,
        );
      }
      results.push({
        tickets,
        seed_s: seedS,
        db_mib: dbMib,
        latency_ms: latency,
        peak_kib: app.memory(),
      });
    } finally {
      await app.server.stop();
      await Deno.remove(dbPath).catch(() => {});
      await Deno.remove(`${dbPath}-wal`).catch(() => {});
      await Deno.remove(`${dbPath}-shm`).catch(() => {});
    }
  }

  const small = results[0]!;
  const large = results.at(-1)!;
  const mid = results.find((r) => r.tickets === 100_000)!;
  const s = "3 · dashboard";
  const size = (n: number) =>
    n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : `${n}`;
  const pair = (l: Latency) =>
    `${ms(l.p50)} / ${ms(l.p99)} (${l.cards} card${l.cards === 1 ? "" : "s"})`;
  const rows: Row[] = [];
  for (const query of QUERIES) {
    // A view (Mine, Unassigned) on 100 tickets shows fewer than 50 cards: it is
    // held against the first page on 100 (50 cards), so the ratio is about
    // the table's size, not about rendering fewer cards.
    const base = "owner" in query ? "page" : query.key;
    const ratio = large.latency_ms[query.key].p50 /
      small.latency_ms[base].p50;
    // A view is flat (an index walk); a search grows with its matches.
    const limit = query.q === null ? 1.5 : 3;
    rows.push({
      scenario: s,
      metric: `${query.label}: p50 / p99 at ${size(large.tickets)} tickets, ` +
        `ratio of p50s ${size(large.tickets)} : ${size(small.tickets)}`,
      value: pair(large.latency_ms[query.key]),
      baseline: `${pair(small.latency_ms[base])} at ${size(small.tickets)}${
        base === query.key ? "" : " (first page)"
      }`,
      ratio: times(ratio),
      target: `≤ ${limit}× (1M : 100${opts.quick ? " in the full run" : ""})`,
      result: verdict(ratio <= limit),
    });
  }
  for (const query of QUERIES) {
    const l = mid.latency_ms[query.key];
    rows.push({
      scenario: s,
      metric: `${query.label} at 100k tickets: p50 / p99`,
      value: pair(l),
      baseline: "—",
      ratio: "—",
      target: "p99 < 100 ms (issue #5)",
      result: verdict(l.p99 < 100),
    });
  }
  const matchNote = QUERIES.filter((q) => q.q !== null).map((q) =>
    `q=${q.q} matches ${
      results.map((r) =>
        `${num(r.latency_ms[q.key].matches)} of ${num(r.tickets)}`
      ).join(", ")
    }`
  ).join("; ");
  return {
    rows,
    data: {
      requests_per_query: requests,
      warmup_requests: warm,
      sizes: results,
      peak_kib: {
        rssKib: Math.max(...results.map((r) => r.peak_kib.rssKib)),
        hwmKib: Math.max(...results.map((r) => r.peak_kib.hwmKib)),
      },
    },
    notes: [
      `Scenario 3: each database is filled by scripts/seed_bulk.ts before its server starts (${
        results.map((r) => `${size(r.tickets)} in ${r.seed_s.toFixed(1)} s`)
          .join(", ")
      }; not timed); one logged-in client then sends ${warm} unmeasured and ${requests} measured GETs per URL, one at a time, ` +
      `full HTML page with the default Accept-Encoding. ${matchNote}. ` +
      "A search on 100 tickets shows fewer than 50 cards, so part of a search ratio is rendering more cards, not searching more rows; " +
      `the ${size(mid.tickets)} and ${
        size(large.tickets)
      } figures both show 50.` +
      (opts.quick
        ? " --quick stops at 100k, so its ratios are 100k : 100, not 1M : 100."
        : ""),
    ],
  };
}
