/**
 * The scenarios of issue #8, in table order. Each is a function of the shared
 * BenchContext returning rows (each figure beside its baseline) and raw data.
 * To add one, write `async function x(ctx): Promise<ScenarioOutcome>` and list it
 * in SCENARIOS.
 */
import type { BenchContext, SharedServer } from "./context.ts";
import { appSpec, baselineSpec, freePort, startServer } from "./server.ts";
import { type MemorySample, toMib } from "./memory.ts";
import {
  type CreateRun,
  measureCreate,
  ms,
  READ_PATH,
  rps,
  storedCheck,
  storedRow,
} from "./create_load.ts";
import { sseScenario } from "./scenario_sse.ts";
import { dashboardScenario } from "./scenario_dashboard.ts";
import { postgresScenario } from "./scenario_postgres.ts";
import { reportsScenario } from "./scenario_reports.ts";
import { firstLoad } from "./transfer.ts";
import {
  num,
  type Row,
  type ScenarioOutcome,
  times,
  verdict,
} from "./report.ts";

/** One scenario of the table. */
export interface Scenario {
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<ScenarioOutcome>;
}

/** Scenario 1: durable create throughput and latency against the bare baseline. */
async function durableCreate(ctx: BenchContext): Promise<ScenarioOutcome> {
  const base = await ctx.baseline();
  const app = await ctx.app();
  // The details (journal mode, synchronous, commit counters) are shown only
  // to a key with read.
  const healthz = async () =>
    (await (await fetch(`${app.server.url}/healthz`, {
      headers: app.apiKey ? { authorization: `Bearer ${app.apiKey}` } : {},
    })).json())?.database ?? {};
  const db = await healthz();
  const b = (await measureCreate(ctx, base)).create;
  let before: Record<string, number> = {};
  const a = (await measureCreate(ctx, app, {
    beforeRun: async () => void (before = await healthz()),
  })).create;
  const after = await healthz();
  const writer = writerTime(before, after);
  ctx.log(
    `  writer per ticket: ${
      num(writer.roundTripUs)
    } µs (commits × average commit time ÷ writes), ` +
      `of which the writer's own ${num(writer.ownUs)} µs; ${
        num(writer.writesPerCommit, 1)
      } writes per commit`,
  );
  const s = "1 · durable create, 50 conns";
  const ratio = a.wrk.reqPerS / b.wrk.reqPerS;
  const check = storedCheck(a);
  return {
    rows: [
      {
        scenario: s,
        metric: "DB durability (from /healthz)",
        value: `journal_mode=${db.journal_mode}, synchronous=${db.synchronous}`,
        baseline: "stores nothing",
        ratio: "—",
        target: "synchronous=FULL",
        result: verdict(db.synchronous === "FULL"),
      },
      {
        scenario: s,
        metric: "throughput POST /create_ticket",
        value: rps(a.wrk.reqPerS),
        baseline: rps(b.wrk.reqPerS),
        ratio: times(ratio),
        target: "≥ 0.09× baseline",
        result: verdict(ratio >= 0.09),
      },
      {
        scenario: s,
        metric:
          "writer time per ticket (from /healthz: commits × average commit time ÷ writes, during the run)",
        value: `${num(writer.roundTripUs)} µs (the writer's own: ${
          num(writer.ownUs)
        } µs); ${num(writer.writesPerCommit, 1)} writes per commit`,
        baseline: "—",
        ratio: "—",
        target: "≤ 90 µs",
        result: verdict(writer.roundTripUs <= 90),
      },
      {
        scenario: s,
        metric: "latency p50",
        value: ms(a.wrk.latencyMs.p50),
        baseline: ms(b.wrk.latencyMs.p50),
        ratio: times(a.wrk.latencyMs.p50 / b.wrk.latencyMs.p50),
        target: "—",
        result: "—",
      },
      {
        scenario: s,
        metric: "latency p99",
        value: ms(a.wrk.latencyMs.p99),
        baseline: ms(b.wrk.latencyMs.p99),
        ratio: times(a.wrk.latencyMs.p99 / b.wrk.latencyMs.p99),
        target: "≤ 15 ms",
        result: verdict(a.wrk.latencyMs.p99 <= 15),
      },
      {
        scenario: s,
        metric: "non-2xx responses / socket errors",
        value: `${num(a.wrk.non2xx)} / ${
          num(a.wrk.socketErrors + a.wrk.timeouts)
        }`,
        baseline: `${num(b.wrk.non2xx)} / ${
          num(b.wrk.socketErrors + b.wrk.timeouts)
        }`,
        ratio: "—",
        target: "0 / 0",
        result: verdict(
          a.wrk.non2xx === 0 && a.wrk.socketErrors + a.wrk.timeouts === 0,
        ),
      },
      storedRow(s, a),
    ],
    data: {
      app: a,
      baseline: b,
      ratio,
      stored_check: check,
      healthz_database: db,
      healthz_before_run: before,
      healthz_after_run: after,
      writer: writer,
      api_key: Boolean(app.apiKey),
    },
    notes: app.apiKey
      ? [
        "The API requires a key: the harness creates one with scripts/apikey.ts and sends it on every request; " +
        "API_RATE_LIMIT=10000000 keeps the per-key limiter in the path without refusing the load (the default 6,000/min would answer 429).",
      ]
      : [],
  };
}

/**
 * The writer's time per ticket between two /healthz readings: commits ×
 * average commit time ÷ writes (the round trip the request thread waits), and
 * the same from the writer's own time (writer_ms_avg, SQLite's thread).
 */
function writerTime(
  before: Record<string, number>,
  after: Record<string, number>,
) {
  const total = (h: Record<string, number>, avg: string) =>
    (h[avg] ?? 0) * (h.commits ?? 0);
  const writes = Math.max(1, (after.writes ?? 0) - (before.writes ?? 0));
  const commits = Math.max(1, (after.commits ?? 0) - (before.commits ?? 0));
  return {
    writes,
    commits,
    writesPerCommit: writes / commits,
    roundTripUs:
      (total(after, "commit_ms_avg") - total(before, "commit_ms_avg")) /
      writes * 1000,
    ownUs: (total(after, "writer_ms_avg") - total(before, "writer_ms_avg")) /
      writes * 1000,
  };
}

/** Scenario 4: create throughput while 10 connections page through the list. */
async function createUnderReads(ctx: BenchContext): Promise<ScenarioOutcome> {
  const s1 = ctx.outcomes.get("1")?.data as
    | { app: CreateRun; baseline: CreateRun }
    | undefined;
  if (!s1) throw new Error("scenario 4 compares with scenario 1: run it first");
  const base = await ctx.baseline();
  const app = await ctx.app();
  const readers = ctx.opts.readConnections;
  // No warm-up: both servers are warm from scenario 1.
  const b = await measureCreate(ctx, base, { readers, warmup: false });
  const a = await measureCreate(ctx, app, { readers, warmup: false });
  const ratio = a.create.wrk.reqPerS / s1.app.wrk.reqPerS;
  const baseRatio = b.create.wrk.reqPerS / s1.baseline.wrk.reqPerS;
  const s = `4 · create + ${readers} readers`;
  const read = a.read!;
  const bRead = b.read!;
  return {
    rows: [
      {
        scenario: s,
        metric: "create throughput vs scenario 1",
        value: `${rps(a.create.wrk.reqPerS)} (${times(ratio)} of s1)`,
        baseline: `${rps(b.create.wrk.reqPerS)} (${times(baseRatio)} of s1)`,
        ratio: times(ratio),
        target: "≥ 0.80× scenario 1",
        result: verdict(ratio >= 0.8),
      },
      {
        scenario: s,
        metric: "create latency p99",
        value: ms(a.create.wrk.latencyMs.p99),
        baseline: ms(b.create.wrk.latencyMs.p99),
        ratio: times(a.create.wrk.latencyMs.p99 / b.create.wrk.latencyMs.p99),
        target: "< 20 ms",
        result: verdict(a.create.wrk.latencyMs.p99 < 20),
      },
      {
        scenario: s,
        metric: `reads GET ${READ_PATH}`,
        value: `${rps(read.reqPerS)}, p99 ${ms(read.latencyMs.p99)}`,
        baseline: `${rps(bRead.reqPerS)}, p99 ${ms(bRead.latencyMs.p99)}`,
        ratio: times(read.reqPerS / bRead.reqPerS),
        target: "—",
        result: "—",
      },
      {
        scenario: s,
        metric: "non-2xx (create + read)",
        value: num(a.create.wrk.non2xx + read.non2xx),
        baseline: num(b.create.wrk.non2xx + bRead.non2xx),
        ratio: "—",
        target: "0",
        result: verdict(a.create.wrk.non2xx + read.non2xx === 0),
      },
      storedRow(s, a.create),
    ],
    data: {
      app: a,
      baseline: b,
      ratio_to_s1: ratio,
      baseline_ratio_to_s1: baseRatio,
      stored_check: storedCheck(a.create),
    },
    notes: [
      `Scenario 4: the readers' wrk and the reads themselves take CPU from the same ${navigator.hardwareConcurrency} cores; ` +
      `the bare baseline kept ${
        times(baseRatio)
      } of its own scenario-1 throughput under the same mix, which is what CPU sharing alone costs here.`,
    ],
  };
}

/** Scenario 5: peak resident memory of the servers over all the load above. */
async function peakMemory(ctx: BenchContext): Promise<ScenarioOutcome> {
  const appServer = await ctx.app();
  const baseServer = await ctx.baseline();
  const app = appServer.memory();
  const base = baseServer.memory();
  const peak = toMib(app.hwmKib);
  const idle = (s: SharedServer) => `${num(toMib(s.idle?.rssKib ?? 0), 1)} MiB`;
  const baseCell = `${num(toMib(base.hwmKib), 1)} MiB (at ready ${
    idle(baseServer)
  })`;
  const rows: Row[] = [{
    scenario: "5 · memory",
    metric: "peak RSS of the server process (VmHWM) over scenarios 1 and 4",
    value: `${num(peak, 1)} MiB (RSS at ready ${idle(appServer)})`,
    baseline: baseCell,
    ratio: times(app.hwmKib / base.hwmKib),
    target: "≤ 150 MiB",
    result: verdict(peak <= 150),
  }];
  // Scenarios 2 and 3 run servers of their own; their peaks are in their data.
  const s2 = ctx.outcomes.get("2")?.data as
    | { clients: number; peak_kib: MemorySample }
    | undefined;
  if (s2) {
    const mib = toMib(s2.peak_kib.hwmKib);
    rows.push({
      scenario: "5 · memory",
      metric: `peak RSS (VmHWM) during scenario 2 (${
        num(s2.clients)
      } SSE clients + create load)`,
      value: `${num(mib, 1)} MiB`,
      baseline: baseCell,
      ratio: times(s2.peak_kib.hwmKib / base.hwmKib),
      target: "≤ 150 MiB",
      result: verdict(mib <= 150),
    });
  }
  const s3 = ctx.outcomes.get("3")?.data as
    | { sizes: { tickets: number; peak_kib: MemorySample }[] }
    | undefined;
  if (s3) {
    const top = s3.sizes.reduce((a, b) =>
      b.peak_kib.hwmKib > a.peak_kib.hwmKib ? b : a
    );
    const mib = toMib(top.peak_kib.hwmKib);
    rows.push({
      scenario: "5 · memory",
      metric: `peak RSS (VmHWM) during scenario 3 (highest: ${
        num(top.tickets)
      } tickets)`,
      value: `${num(mib, 1)} MiB`,
      baseline: baseCell,
      ratio: times(top.peak_kib.hwmKib / base.hwmKib),
      target: "≤ 150 MiB",
      result: verdict(mib <= 150),
    });
  }
  return {
    rows,
    data: {
      app_kib: app,
      baseline_kib: base,
      app_idle_kib: appServer.idle,
      baseline_idle_kib: baseServer.idle,
      scenario_2_kib: s2?.peak_kib ?? null,
      scenario_3_kib: s3?.sizes.map((s) => ({
        tickets: s.tickets,
        ...s.peak_kib,
      })) ?? null,
      note:
        "VmHWM from /proc/<pid>/status of the deno process running main.ts, " +
        "spawned directly as deploy/ticket-desk.service runs it (no npx or " +
        "deno task launchers counted); VmRSS sampled every 250 ms",
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Scenario 6: spawn to first 200 on /healthz, and the first-load transfer size. */
async function coldStartAndTransfer(
  ctx: BenchContext,
): Promise<ScenarioOutcome> {
  const n = ctx.opts.coldStarts;
  const appMs: number[] = [];
  const baseMs: number[] = [];
  for (let i = 0; i < n; i++) {
    // A new database each time: a first deploy, migrations included.
    const dbPath = `${ctx.opts.tmpDir}/cold-${i}.db`;
    for (
      const [spec, out] of [[appSpec, appMs], [baselineSpec, baseMs]] as const
    ) {
      const server = await startServer(spec(dbPath, freePort()));
      out.push(server.readyMs);
      await server.stop();
    }
    ctx.log(
      `  cold start ${i + 1}/${n}: app ${ms(appMs.at(-1)!)}, baseline ${
        ms(baseMs.at(-1)!)
      }`,
    );
  }
  const app = await ctx.app();
  const port = app.server.port;
  const compressed = await firstLoad(port, "/", "gzip, br");
  const identity = await firstLoad(port, "/", null);
  const coldApp = median(appMs);
  const coldBase = median(baseMs);
  const paths = compressed.resources.map((r) =>
    `${r.path} (${r.status}, ${r.encoding}, ${num(r.bodyBytes)} B)`
  ).join(", ");
  ctx.log(`  first load of /: ${paths}`);
  return {
    rows: [
      {
        scenario: "6 · cold start",
        metric: `spawn → first 200 on /healthz (median of ${n})`,
        value: ms(coldApp),
        baseline: ms(coldBase),
        ratio: times(coldApp / coldBase),
        target: "—",
        result: "—",
      },
      {
        scenario: "6 · first load",
        metric: "GET / + linked assets, Accept-Encoding: gzip, br (wire bytes)",
        value: `${num(compressed.totalBytes)} B`,
        baseline: `${num(identity.totalBytes)} B uncompressed`,
        ratio: times(compressed.totalBytes / identity.totalBytes),
        target: "—",
        result: "—",
      },
    ],
    data: {
      cold_start_ms: { app: appMs, baseline: baseMs },
      cold_start_median_ms: { app: coldApp, baseline: coldBase },
      first_load: { compressed, identity },
    },
    notes: [
      "Cold start: the process is spawned with the module cache warm and a new database file (migrations run); the clock stops at the first 200 on /healthz, which commits through the writer.",
      `First load: a first visit to / lands on the login page (the dashboard needs a session); this measures it following redirects, and what the final page links: ${paths}. Headers are counted. After login the dashboard adds its HTML and one script (htmx, the live hub's fallback and our JS in one file); the live hub's SharedWorker script is one more.`,
    ],
  };
}

/** Every scenario, in the order of the table. */
export const SCENARIOS: Scenario[] = [
  { id: "1", title: "durable create", run: durableCreate },
  { id: "2", title: "1,000 SSE clients", run: sseScenario },
  {
    id: "3",
    title: "dashboard at 100 / 100k / 1M tickets",
    run: dashboardScenario,
  },
  { id: "4", title: "create under reads", run: createUnderReads },
  { id: "5", title: "memory", run: peakMemory },
  { id: "6", title: "cold start and first load", run: coldStartAndTransfer },
  {
    id: "7",
    title: "create on PostgreSQL, 1 and 2 instances",
    run: postgresScenario,
  },
  {
    id: "8",
    title: "reports over 90 days at 1M tickets, SQLite and PostgreSQL",
    run: reportsScenario,
  },
];
