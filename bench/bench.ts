/**
 * `deno task bench [--quick]`: the performance scenarios of issue #8 on loopback,
 * each figure beside a bare Deno.serve baseline (bench/baseline.ts) measured in
 * the same run. Progress goes to stderr, the Markdown table to stdout, and
 * everything to bench/results/<YYYY-MM-DD>.json (`<date>-quick.json` for --quick).
 */
import { BenchContext, type BenchOptions } from "./lib/context.ts";
import { SCENARIOS } from "./lib/scenarios.ts";
import { killAll } from "./lib/server.ts";
import { ensureWrk } from "./lib/wrk.ts";
import {
  markdownTable,
  type Row,
  type ScenarioOutcome,
  today,
} from "./lib/report.ts";

const RESULTS_DIR = new URL("./results/", import.meta.url).pathname;

const USAGE = `Usage: deno task bench [--quick] [--only 1,7]

  --quick   a short run (about a minute) for a CI smoke test: 200 SSE
            clients instead of 1,000, dashboards at 100 and 100k tickets only
  --only    run these scenarios only (4 and 5 need 1; 7 compares with 1);
            results go to <date>[-quick]-only-<ids>.json
  --help    this text

Runs every scenario of issue #8 against the app started as in production
(file database, synchronous=FULL, LOG_LEVEL=warn) and against bench/baseline.ts,
on 127.0.0.1, with wrk as the load generator (installed with apt-get when
missing and running as root). Scenario 3 seeds databases of 100, 100k and
1M tickets first (the 1M one takes a minute or more; not timed).
Scenario 7 measures the PostgreSQL store, one and two app instances: on
BENCH_DATABASE_URL when set (a scratch database), else on a throw-away
cluster started with .ci/postgres.sh when PostgreSQL is installed (with
fsync off, then on), else it is skipped with a note. Scenario 8 times the
Reports page over 90 days at 100 and 1M tickets (100k with --quick) on
SQLite and, as scenario 7 finds one, PostgreSQL (seeding takes minutes).`;

const t0 = performance.now();
function log(line: string) {
  const s = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
  console.error(`[${s}s] ${line}`);
}

async function text(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "";
  }
}

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(
      " ",
    );
  } catch {
    return "unknown";
  }
}

async function machine(wrk: string) {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown",
    cores: navigator.hardwareConcurrency,
    memory_gib: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    wrk,
    load_average_at_start: loadAverage(),
  };
}

async function gitState() {
  const commit = await text("git", ["rev-parse", "--short", "HEAD"]);
  const changed = await text("git", ["status", "--porcelain"]);
  return {
    commit: commit || "unknown",
    uncommitted_files: changed ? changed.split("\n").length : 0,
  };
}

async function writeResults(name: string, results: unknown): Promise<string> {
  await Deno.mkdir(RESULTS_DIR, { recursive: true });
  const path = `${RESULTS_DIR}${name}`;
  await Deno.writeTextFile(
    `${path}.tmp`,
    JSON.stringify(results, null, 2) + "\n",
  );
  await Deno.rename(`${path}.tmp`, path);
  return path;
}

async function main(): Promise<number> {
  const argv = [...Deno.args];
  const onlyAt = argv.indexOf("--only");
  const only = onlyAt >= 0 ? argv.splice(onlyAt, 2)[1]?.split(",") : null;
  const args = new Set(argv);
  if (args.has("--help") || args.has("-h")) {
    console.log(USAGE);
    return 0;
  }
  const unknown = [...args].filter((a) => a !== "--quick");
  const badOnly = only?.find((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length || (only && (!only.length || badOnly !== undefined))) {
    console.error(
      `Unknown argument ${
        unknown[0] ?? `--only ${only?.join(",")}`
      }\n\n${USAGE}`,
    );
    return 2;
  }
  const scenarios = only
    ? SCENARIOS.filter((s) => only.includes(s.id))
    : SCENARIOS;
  const quick = args.has("--quick");
  const tmpDir = await Deno.makeTempDir({ prefix: "ticket-desk-bench-" });
  const opts: BenchOptions = {
    quick,
    warmupS: quick ? 1 : 3,
    durationS: quick ? 4 : 15,
    coldStarts: quick ? 2 : 5,
    createConnections: 50,
    readConnections: 10,
    tmpDir,
    log,
  };
  const ctx = new BenchContext(opts);
  // Stops the servers, then what scenarios deferred (a PostgreSQL cluster),
  // giving up after 15 s.
  const abandon = async (code: number) => {
    killAll();
    await Promise.race([
      ctx.close(),
      new Promise((r) => setTimeout(r, 15_000)),
    ]);
    Deno.exit(code);
  };
  // Bounded in time whatever happens: a hung server or wrk cannot keep CI waiting.
  // Scenario 8 seeds a million tickets twice: it gets time of its own.
  const minutes = (quick ? 3 : 15) +
    (scenarios.some((s) => s.id === "8") ? (quick ? 5 : 30) : 0);
  const watchdog = setTimeout(() => {
    log(`took longer than ${minutes} minutes: giving up`);
    void abandon(1);
  }, minutes * 60_000);
  const onInterrupt = () => void abandon(130);
  Deno.addSignalListener("SIGINT", onInterrupt);

  const outcomes: Record<string, ScenarioOutcome & { title: string }> = {};
  const rows: Row[] = [];
  const notes: string[] = [];
  const started = new Date();
  let failure: Error | null = null;
  let info: Awaited<ReturnType<typeof machine>>;
  try {
    const wrk = await ensureWrk(log);
    info = await machine(wrk);
    log(
      `${
        quick ? "quick" : "full"
      } run: ${opts.durationS} s per measurement after ${opts.warmupS} s warm-up; ` +
        `${info.cores} cores, load average ${info.load_average_at_start}; ${wrk}`,
    );
    for (const scenario of scenarios) {
      log(`scenario ${scenario.id}: ${scenario.title}`);
      const outcome = await scenario.run(ctx);
      ctx.outcomes.set(scenario.id, outcome);
      outcomes[scenario.id] = { title: scenario.title, ...outcome };
      rows.push(...outcome.rows);
      notes.push(...(outcome.notes ?? []));
    }
  } catch (err) {
    failure = err as Error;
  } finally {
    log("stopping servers …");
    await ctx.close();
    killAll();
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
    clearTimeout(watchdog);
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
  if (failure) {
    console.error(`\nBenchmark failed: ${failure.stack ?? failure.message}`);
    return 1;
  }

  const git = await gitState();
  const loadEnd = loadAverage();
  notes.unshift(
    `Machine: ${info!.cpu}, ${info!.cores} cores, ${info!.memory_gib} GiB, ${
      info!.os
    }; Deno ${info!.deno}; ${info!.wrk}. ` +
      `Load average ${
        info!.load_average_at_start
      } at start, ${loadEnd} at end: other work on the machine makes figures noisy; the baseline shares that noise.`,
    `Load: wrk, 1 thread, ${opts.createConnections} connections POST /create_ticket with a unique Idempotency-Key per request, ` +
      `${opts.durationS} s after a ${opts.warmupS} s warm-up, on 127.0.0.1; wrk and the server share the same cores.`,
    `Commit ${git.commit}${
      git.uncommitted_files
        ? ` with ${git.uncommitted_files} uncommitted file(s) in the work tree`
        : ""
    }; ${quick ? "quick (--quick) run: short, noisier figures" : "full run"}.`,
  );
  const table = markdownTable(rows);
  const missed = rows.filter((r) => r.result === "missed").length;
  const results = {
    date: today(),
    mode: quick ? "quick" : "full",
    started_at: started.toISOString(),
    elapsed_s: Math.round((performance.now() - t0) / 100) / 10,
    machine: { ...info!, load_average_at_end: loadEnd },
    git,
    options: {
      warmup_s: opts.warmupS,
      duration_s: opts.durationS,
      cold_starts: opts.coldStarts,
      create_connections: opts.createConnections,
      read_connections: opts.readConnections,
    },
    targets_missed: missed,
    scenarios: outcomes,
    table,
    notes,
  };
  const file = await writeResults(
    `${today()}${quick ? "-quick" : ""}${
      only ? `-only-${only.join("-")}` : ""
    }.json`,
    results,
  );
  console.log(table);
  console.log();
  for (const note of notes) console.log(`- ${note}`);
  log(`results written to ${file}; ${missed} target(s) missed`);
  // Missed targets are findings, not failures of the harness: exit 0.
  return 0;
}

Deno.exit(await main());
