/**
 * Scenario 8: the Reports page over a 90-day range at 1M tickets (100k with
 * --quick), on SQLite and on PostgreSQL, each beside the same page at 100
 * tickets. Seeding is outside the timed part (SQLite: scripts/seed_bulk.ts;
 * PostgreSQL: db/postgres/seed_bulk.ts on a fresh database of the cluster
 * scenario 7 uses); then one logged-in client sends the requests one after
 * another (warm: the first ones are not measured).
 */
import type { BenchContext } from "./context.ts";
import { appSpec, BENCH_ADMIN, freePort, startServer } from "./server.ts";
import { login } from "./session.ts";
import { seed } from "./scenario_dashboard.ts";
import { type Cluster, startCluster } from "./scenario_postgres.ts";
import { ms } from "./create_load.ts";
import {
  num,
  percentile,
  type Row,
  type ScenarioOutcome,
  times,
  verdict,
} from "./report.ts";
import { openPool } from "../../db/postgres/connection.ts";
import { openPostgresStore } from "../../db/postgres/postgres_store.ts";
import { seedBulkPostgres } from "../../db/postgres/seed_bulk.ts";
import { hashPassword } from "../../lib/passwords.ts";

const TARGET_MS = 300;

/** What is measured on each database. */
const PATHS = [
  { key: "page", label: "GET /reports?range=90", path: "/reports?range=90" },
  {
    key: "mine",
    label: "the same, Mine (assignee=@me)",
    path: "/reports?range=90&assignee=%40me",
  },
  {
    key: "fragment",
    label: "its live refetch (htmx fragment)",
    path: "/reports?range=90",
    headers: { "HX-Request": "true", "HX-Request-Type": "partial" },
  },
] as const;
type PathKey = typeof PATHS[number]["key"];

interface Latency {
  p50: number;
  p90: number;
  p99: number;
  bytes: number;
}

/** Sends `warm` then `n` GETs one at a time; percentiles of the measured ones. */
async function timeGets(
  url: string,
  headers: Record<string, string>,
  n: number,
  warm: number,
): Promise<Latency> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < warm + n; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    const body = await res.text();
    const dt = performance.now() - t0;
    if (res.status !== 200) {
      throw new Error(
        `GET ${url} answered ${res.status}: ${body.slice(0, 300)}`,
      );
    }
    if (i >= warm) times.push(dt);
    bytes = body.length;
  }
  const sorted = Float64Array.from(times).sort();
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    bytes,
  };
}

async function measureAll(
  ctx: BenchContext,
  url: string,
  cookie: string,
  what: string,
): Promise<Record<PathKey, Latency>> {
  const n = ctx.opts.quick ? 20 : 40;
  const out = {} as Record<PathKey, Latency>;
  for (const p of PATHS) {
    const headers = { cookie, ...("headers" in p ? p.headers : {}) };
    out[p.key] = await timeGets(url + p.path, headers, n, 5);
    ctx.log(
      `    ${what} ${p.path}${"headers" in p ? " (htmx)" : ""}: p50 ${
        ms(out[p.key].p50)
      }, p99 ${ms(out[p.key].p99)}`,
    );
  }
  return out;
}

/** SQLite: a seeded file per size, a server of its own on it. */
async function sqliteSizes(ctx: BenchContext, sizes: number[]) {
  const out: { tickets: number; latency: Record<PathKey, Latency> }[] = [];
  for (const tickets of sizes) {
    const dbPath = `${ctx.opts.tmpDir}/reports-${tickets}.db`;
    ctx.log(`  SQLite, ${num(tickets)} tickets: seeding …`);
    const seedS = await seed(ctx, dbPath, tickets);
    ctx.log(
      `  SQLite, ${num(tickets)} tickets: seeded in ${seedS.toFixed(1)} s`,
    );
    const app = await ctx.dedicatedApp(dbPath, { apiKey: false });
    try {
      const cookie = await login(app.server.url, dbPath);
      out.push({
        tickets,
        latency: await measureAll(ctx, app.server.url, cookie, "SQLite"),
      });
    } finally {
      await app.server.stop();
      for (const f of ["", "-wal", "-shm"]) {
        await Deno.remove(`${dbPath}${f}`).catch(() => {});
      }
    }
  }
  return out;
}

/** PostgreSQL: a fresh database per size, seeded in SQL, the app on it with BENCH_ADMIN. */
async function postgresSizes(
  ctx: BenchContext,
  cluster: Cluster,
  sizes: number[],
) {
  const out: { tickets: number; latency: Record<PathKey, Latency> }[] = [];
  for (const tickets of sizes) {
    const name = `bench_reports_${tickets}`;
    const admin = openPool(cluster.adminUrl, { max: 1 });
    try {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name}`);
      await admin.unsafe(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end({ timeout: 5 });
    }
    const url = new URL(cluster.adminUrl);
    url.pathname = `/${name}`;
    const store = await openPostgresStore({ url: url.href });
    const t0 = performance.now();
    try {
      await store.createUser({
        username: BENCH_ADMIN.username,
        passwordHash: await hashPassword(BENCH_ADMIN.password),
        role: "admin",
      });
      ctx.log(`  PostgreSQL, ${num(tickets)} tickets: seeding …`);
      await seedBulkPostgres(store.sql, { count: tickets });
    } finally {
      await store.close();
    }
    ctx.log(
      `  PostgreSQL, ${num(tickets)} tickets: seeded in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`,
    );
    const spec = appSpec(`${ctx.opts.tmpDir}/pg-reports.db`, freePort());
    spec.name = "ticket desk on PostgreSQL (reports)";
    spec.env = { ...spec.env, DATABASE_URL: url.href };
    const server = await startServer(spec);
    try {
      const cookie = await pgLogin(server.url);
      out.push({
        tickets,
        latency: await measureAll(ctx, server.url, cookie, "PostgreSQL"),
      });
    } finally {
      await server.stop();
      // A million tickets are no scratch to leave on an operator's server.
      const admin = openPool(cluster.adminUrl, { max: 1 });
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name}`).catch(() => {});
      await admin.end({ timeout: 5 });
    }
  }
  return out;
}

/** Logs BENCH_ADMIN in (made before the server started, so no wait is needed). */
async function pgLogin(url: string): Promise<string> {
  const res = await fetch(`${url}/login`, {
    method: "POST",
    headers: { origin: url },
    body: new URLSearchParams({
      username: BENCH_ADMIN.username,
      password: BENCH_ADMIN.password,
    }),
    redirect: "manual",
  });
  await res.body?.cancel();
  const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]!)
    .find((c) => c.startsWith("desk_session="));
  if (!cookie) throw new Error(`POST /login answered ${res.status}`);
  return cookie;
}

const size = (n: number) =>
  n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : `${n}`;

function rows(
  backend: string,
  results: { tickets: number; latency: Record<PathKey, Latency> }[],
): Row[] {
  const small = results[0]!;
  const large = results.at(-1)!;
  return PATHS.map((p) => {
    const l = large.latency[p.key];
    return {
      scenario: `8 · reports, ${backend}`,
      metric: `${p.label}, 90 days, p50 / p99 at ${
        size(large.tickets)
      } tickets`,
      value: `${ms(l.p50)} / ${ms(l.p99)}`,
      baseline: `${ms(small.latency[p.key].p50)} at ${size(small.tickets)}`,
      ratio: times(l.p50 / small.latency[p.key].p50),
      target: `p50 ≤ ${TARGET_MS} ms`,
      result: verdict(l.p50 <= TARGET_MS),
    };
  });
}

/** Scenario 8: the Reports page at scale, on both backends. */
export async function reportsScenario(
  ctx: BenchContext,
): Promise<ScenarioOutcome> {
  const sizes = ctx.opts.quick ? [100, 100_000] : [100, 1_000_000];
  const sqlite = await sqliteSizes(ctx, sizes);
  const out: Row[] = rows("SQLite", sqlite);
  const notes = [
    `Scenario 8: one logged-in client, 5 unmeasured then ${
      ctx.opts.quick ? 20 : 40
    } measured GETs per URL, one at a time, full HTML page (the fragment: what a live refetch gets); ` +
    "days in UTC, the seeders' year of tickets (a 90-day range holds about a quarter of them).",
  ];
  const cluster = await startCluster(ctx);
  let postgres = null;
  if (cluster) {
    postgres = await postgresSizes(ctx, cluster, sizes);
    out.push(...rows("PostgreSQL", postgres));
  } else {
    notes.push(
      "Scenario 8 on PostgreSQL skipped: no BENCH_DATABASE_URL and no PostgreSQL installed.",
    );
  }
  return { rows: out, data: { sqlite, postgres }, notes };
}
