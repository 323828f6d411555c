/**
 * Scenario 7: durable create on the PostgreSQL store, with one app instance
 * and with two (two server processes on their own ports over one database,
 * the load split across them), beside SQLite's scenario 1 and the baseline.
 *
 * The server is BENCH_DATABASE_URL when set (a scratch database of yours: the
 * scenario writes tickets into it, and measures it as it is configured);
 * otherwise a throw-away cluster started with .ci/postgres.sh when PostgreSQL's
 * binaries are installed (never installed from here), stopped at the end.
 * That cluster runs with fsync, synchronous_commit and full_page_writes off,
 * which is not durable; so it is measured that way and again after a restart
 * with all three on, the fair comparison with SQLite's synchronous=FULL.
 * Without either, the scenario is skipped with a note.
 */
import type { BenchContext, SharedServer } from "./context.ts";
import {
  appSpec,
  freePort,
  REPO_ROOT,
  type RunningServer,
  startServer,
} from "./server.ts";
import { runWrk, startWrk, type WrkResult } from "./wrk.ts";
import { CREATE_PATH, type CreateRun, ms, rps } from "./create_load.ts";
import {
  num,
  type Row,
  type ScenarioOutcome,
  times,
  verdict,
} from "./report.ts";
import { openPool, type Sql } from "../../db/postgres/connection.ts";
import { openPostgresStore } from "../../db/postgres/postgres_store.ts";
import { newApiKey } from "../../lib/tokens.ts";

const SCENARIO = "7 · PostgreSQL create";
const PG_SCRIPT = `${REPO_ROOT}.ci/postgres.sh`;

/** A server to measure on: ours (restartable) or the operator's. */
export interface Cluster {
  /** URL of a maintenance database, for CREATE DATABASE. */
  adminUrl: string;
  /** Set for the cluster .ci/postgres.sh started. */
  own?: { dir: string; bindir: string; port: number };
}

/** The server settings that decide durability and speed, as the server reports them. */
interface PgSettings {
  server_version: string;
  fsync: string;
  synchronous_commit: string;
  full_page_writes: string;
  wal_sync_method: string;
  shared_buffers: string;
}

interface InstancesRun {
  instances: 1 | 2;
  /** One wrk result per instance. */
  wrk: WrkResult[];
  reqPerS: number;
  /** The worse instance's percentile (percentiles of two runs do not merge). */
  p50: number;
  p99: number;
  created: number;
  non2xx: number;
  errors: number;
  /** Tickets the database gained during the measured run. */
  stored: number;
  /** Requests written but unanswered when wrk stopped. */
  unanswered: number;
}

interface ConfigRun {
  label: string;
  settings: PgSettings;
  runs: InstancesRun[];
}

function findBindir(): string | null {
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((e) => e.name).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = `/usr/lib/postgresql/${v}/bin`;
      try {
        Deno.statSync(`${dir}/initdb`);
        Deno.statSync(`${dir}/pg_ctl`);
        return dir;
      } catch { /* not a server install */ }
    }
  } catch { /* no postgresql at all */ }
  return null;
}

async function command(
  cmd: string,
  args: string[],
  env?: Record<string, string>,
) {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const dec = new TextDecoder();
  const text = dec.decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed:\n${text}${dec.decode(out.stderr)}`,
    );
  }
  return text;
}

/** Runs pg_ctl as the postgres user when we are root (PostgreSQL refuses root). */
function pgCtl(bindir: string, args: string[]) {
  const pgctl = `${bindir}/pg_ctl`;
  return Deno.uid() === 0
    ? command("runuser", ["-u", "postgres", "--", pgctl, ...args])
    : command(pgctl, args);
}

/**
 * Restarts our cluster with durability on or off. The options mirror
 * .ci/postgres.sh's; they are given on the command line, which outranks
 * postgresql.conf and ALTER SYSTEM, hence a restart rather than a reload.
 */
async function restart(own: NonNullable<Cluster["own"]>, durable: boolean) {
  const on = durable ? "on" : "off";
  await pgCtl(own.bindir, [
    "-D",
    `${own.dir}/data`,
    "-l",
    `${own.dir}/server.log`,
    "-w",
    "-t",
    "30",
    "-o",
    `-c listen_addresses=127.0.0.1 -p ${own.port} -k ${own.dir} ` +
    `-c fsync=${on} -c synchronous_commit=${on} -c full_page_writes=${on} ` +
    `-c max_connections=200`,
    "restart",
  ]);
}

/** Finds a server, starting a throw-away one when the binaries are here; null when there is none. */
export async function startCluster(
  ctx: BenchContext,
): Promise<Cluster | null> {
  const external = Deno.env.get("BENCH_DATABASE_URL");
  if (external) return { adminUrl: external };
  if (!findBindir()) return null;
  ctx.log(
    "  starting a throw-away PostgreSQL cluster (.ci/postgres.sh start) …",
  );
  const out = await command("bash", [PG_SCRIPT, "start"]);
  const vars = Object.fromEntries(
    [...out.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]),
  );
  const url = vars.TEST_DATABASE_URL!;
  const own = {
    dir: vars.TEST_PG_DIR!,
    bindir: vars.TEST_PG_BINDIR!,
    port: Number(new URL(url).port),
  };
  // Stopped when the bench closes, whatever happens in between.
  ctx.defer(() =>
    command("bash", [PG_SCRIPT, "stop", own.dir], {
      TEST_PG_BINDIR: own.bindir,
    }).then(() => {})
  );
  return { adminUrl: url, own };
}

async function readSettings(sql: Sql): Promise<PgSettings> {
  const [r] = await sql`
    SELECT current_setting('server_version') AS server_version,
           current_setting('fsync') AS fsync,
           current_setting('synchronous_commit') AS synchronous_commit,
           current_setting('full_page_writes') AS full_page_writes,
           current_setting('wal_sync_method') AS wal_sync_method,
           current_setting('shared_buffers') AS shared_buffers`;
  return r as unknown as PgSettings;
}

async function ticketCount(sql: Sql): Promise<number> {
  const [r] = await sql`SELECT count(*) AS n FROM tickets`;
  return Number(r!.n);
}

/** Counts tickets until the number holds still, so commits in flight are included. */
async function settledCount(sql: Sql): Promise<number> {
  let last = await ticketCount(sql);
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const n = await ticketCount(sql);
    if (n === last) return n;
    last = n;
  }
  return last;
}

/** A fresh database on the cluster, migrated, with an API key for the load. */
async function freshDatabase(cluster: Cluster, name: string) {
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
  try {
    const { key, prefix, hash } = newApiKey();
    await store.createApiKey({ name: "bench", prefix, hash });
    return { url: url.href, apiKey: key };
  } finally {
    await store.close();
  }
}

/** Loads `servers` at once, splitting `connections` evenly; warm-up first. */
async function measure(
  ctx: BenchContext,
  sql: Sql,
  servers: RunningServer[],
  apiKey: string,
  o: { connections: number; warmupS: number; durationS: number },
): Promise<InstancesRun> {
  const per = Math.floor(o.connections / servers.length);
  const runId = crypto.randomUUID();
  const load = (durationS: number, tag: string) =>
    servers.map((s, i) =>
      startWrk({
        url: s.url + CREATE_PATH,
        mode: "create",
        connections: per,
        threads: 1,
        durationS,
        // Idempotency-Keys unique per wrk process: each counts from 1.
        runId: `${runId}-${tag}-${i}`,
        apiKey,
      }).result
    );
  if (o.warmupS > 0) await Promise.all(load(o.warmupS, "warm"));
  const before = await settledCount(sql);
  ctx.log(
    `  ${servers.length} instance(s): ${o.durationS} s, ${servers.length} × ${per} connections POST ${CREATE_PATH} …`,
  );
  const wrk = await Promise.all(load(o.durationS, "run"));
  const stored = (await settledCount(sql)) - before;
  const sum = (f: (w: WrkResult) => number) =>
    wrk.reduce((a, w) => a + f(w), 0);
  const created = sum((w) => w.created);
  const non2xx = sum((w) => w.non2xx);
  const run: InstancesRun = {
    instances: servers.length as 1 | 2,
    wrk,
    reqPerS: sum((w) => w.reqPerS),
    p50: Math.max(...wrk.map((w) => w.latencyMs.p50)),
    p99: Math.max(...wrk.map((w) => w.latencyMs.p99)),
    created,
    non2xx,
    errors: sum((w) => w.socketErrors + w.timeouts),
    stored,
    unanswered: Math.max(0, sum((w) => w.sent) - created - non2xx),
  };
  ctx.log(
    `  ${servers.length} instance(s): ${rps(run.reqPerS)}, p50 ${
      ms(run.p50)
    }, p99 ${ms(run.p99)}, non-2xx ${non2xx}, stored ${stored}`,
  );
  return run;
}

/** Both instance counts on one server configuration, each on a fresh database. */
async function measureConfig(
  ctx: BenchContext,
  cluster: Cluster,
  label: string,
  dbName: string,
  o: { connections: number; warmupS: number; durationS: number },
): Promise<ConfigRun> {
  const { url, apiKey } = await freshDatabase(cluster, dbName);
  const sql = openPool(url, { max: 1 });
  const servers: RunningServer[] = [];
  try {
    const settings = await readSettings(sql);
    ctx.log(
      `  ${label}: PostgreSQL ${settings.server_version}, fsync=${settings.fsync}, ` +
        `synchronous_commit=${settings.synchronous_commit}, full_page_writes=${settings.full_page_writes}`,
    );
    const start = async (n: number) => {
      const port = freePort();
      const spec = appSpec(`${ctx.opts.tmpDir}/pg.db`, port);
      spec.name = `ticket desk on PostgreSQL #${n}`;
      // DB_PATH stays set: with DATABASE_URL it only places secret.key, which
      // the two instances then share.
      spec.env = { ...spec.env, DATABASE_URL: url };
      const server = await startServer(spec);
      servers.push(server);
      return server;
    };
    const one = await start(1);
    // The second instance starts after the one-instance run: idle, it would
    // still take CPU (its listener reads every event the first one writes).
    const single = await measure(ctx, sql, [one], apiKey, o);
    const two = await start(2);
    const double = await measure(ctx, sql, [one, two], apiKey, o);
    return { label, settings, runs: [single, double] };
  } finally {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await sql.end({ timeout: 5 });
  }
}

function configRows(c: ConfigRun, base: CreateRun, sqlite?: CreateRun): Row[] {
  const rows: Row[] = [];
  // Issue 19's targets hold the durable configuration only.
  const durable = c.settings.fsync === "on" &&
    c.settings.synchronous_commit === "on";
  const one = c.runs.find((r) => r.instances === 1);
  for (const r of c.runs) {
    const who = `${r.instances} instance${
      r.instances > 1 ? "s" : ""
    }, ${c.label}`;
    const vsSqlite = sqlite
      ? ` (${times(r.reqPerS / sqlite.wrk.reqPerS)} SQLite s1)`
      : "";
    const ratio = r.reqPerS / base.wrk.reqPerS;
    const scale = one && r.instances > 1 ? r.reqPerS / one.reqPerS : null;
    rows.push(
      {
        scenario: SCENARIO,
        metric: `throughput POST /create_ticket, ${who}`,
        value: `${rps(r.reqPerS)}${vsSqlite}` +
          (scale !== null ? `, ${times(scale)} one instance` : ""),
        baseline: rps(base.wrk.reqPerS),
        ratio: times(ratio),
        target: !durable
          ? "— (not durable: for comparison)"
          : r.instances === 1
          ? "≥ 2,500 req/s"
          : "≥ 1.2× one instance",
        result: !durable ? "—" : verdict(
          r.instances === 1 ? r.reqPerS >= 2500 : (scale ?? 0) >= 1.2,
        ),
      },
      {
        scenario: SCENARIO,
        metric: `latency p50 / p99, ${who}` +
          (r.instances > 1 ? " (worse instance)" : ""),
        value: `${ms(r.p50)} / ${ms(r.p99)}`,
        baseline: `${ms(base.wrk.latencyMs.p50)} / ${
          ms(base.wrk.latencyMs.p99)
        }`,
        ratio: times(r.p99 / base.wrk.latencyMs.p99),
        target: "—",
        result: "—",
      },
      {
        scenario: SCENARIO,
        metric: `non-2xx / socket errors; stored vs 201s, ${who}`,
        value:
          `${num(r.non2xx)} / ${num(r.errors)}; ${num(r.stored)} stored / ${
            num(r.created)
          } 201s` + (r.unanswered ? ` (+${r.unanswered} in flight)` : ""),
        baseline: "—",
        ratio: "—",
        target: "0 / 0; stored = 201s (+ in-flight)",
        result: verdict(
          r.non2xx === 0 && r.errors === 0 && r.stored >= r.created &&
            r.stored <= r.created + r.unanswered,
        ),
      },
    );
  }
  return rows;
}

function settingsText(s: PgSettings): string {
  return `fsync=${s.fsync}, synchronous_commit=${s.synchronous_commit}, full_page_writes=${s.full_page_writes}`;
}

/** Scenario 7: create throughput and latency on PostgreSQL, one and two app instances. */
export async function postgresScenario(
  ctx: BenchContext,
): Promise<ScenarioOutcome> {
  const cluster = await startCluster(ctx);
  if (!cluster) {
    const why =
      "skipped: no PostgreSQL here (no server binaries under /usr/lib/postgresql and no BENCH_DATABASE_URL). " +
      "Install postgresql (the bench then starts a throw-away cluster) or set BENCH_DATABASE_URL=postgres://… to a scratch database.";
    ctx.log(`  ${why}`);
    return {
      rows: [{
        scenario: SCENARIO,
        metric: "create on PostgreSQL, 1 and 2 instances",
        value: "skipped: no PostgreSQL",
        baseline: "—",
        ratio: "—",
        target: "—",
        result: "—",
      }],
      data: { skipped: why },
      notes: [`Scenario 7 ${why}`],
    };
  }
  const quick = ctx.opts.quick;
  // Shorter runs than scenario 1's, to keep four measurements under a minute.
  const o = {
    connections: ctx.opts.createConnections,
    warmupS: quick ? 1 : 2,
    durationS: quick ? 3 : 7,
  };
  const base: SharedServer = await ctx.baseline();
  const s1 = ctx.outcomes.get("1")?.data as
    | { app: CreateRun; baseline: CreateRun }
    | undefined;
  ctx.log(`  baseline: ${o.durationS} s, ${o.connections} connections …`);
  const baseRun: CreateRun = {
    wrk: await runWrk({
      url: base.server.url + CREATE_PATH,
      mode: "create",
      connections: o.connections,
      threads: 1,
      durationS: o.durationS,
      runId: crypto.randomUUID(),
    }),
  };
  const configs: ConfigRun[] = [];
  if (cluster.own) {
    configs.push(
      await measureConfig(ctx, cluster, "fsync off", "bench_fsync_off", o),
    );
    ctx.log(
      "  restarting PostgreSQL with fsync, synchronous_commit and full_page_writes on …",
    );
    await restart(cluster.own, true);
    configs.push(
      await measureConfig(ctx, cluster, "fsync on", "bench_fsync_on", o),
    );
  } else {
    configs.push(
      await measureConfig(ctx, cluster, "as configured", "bench_desk", o),
    );
  }
  const rows: Row[] = [{
    scenario: SCENARIO,
    metric: "PostgreSQL settings per run (SHOW)",
    value: configs.map((c) => `${c.label}: ${settingsText(c.settings)}`).join(
      "; ",
    ),
    baseline: "stores nothing",
    ratio: "—",
    target: "durable: fsync and synchronous_commit on",
    result: verdict(
      configs.some((c) =>
        c.settings.fsync === "on" && c.settings.synchronous_commit === "on"
      ),
    ),
  }];
  if (s1) {
    rows.push({
      scenario: SCENARIO,
      metric:
        "for comparison: SQLite, scenario 1 (synchronous=FULL, 1 instance)",
      value: `${rps(s1.app.wrk.reqPerS)}, p50 ${
        ms(s1.app.wrk.latencyMs.p50)
      }, p99 ${ms(s1.app.wrk.latencyMs.p99)}`,
      baseline: rps(s1.baseline.wrk.reqPerS),
      ratio: times(s1.app.wrk.reqPerS / s1.baseline.wrk.reqPerS),
      target: "—",
      result: "—",
    });
  }
  for (const c of configs) rows.push(...configRows(c, baseRun, s1?.app));
  const own = Boolean(cluster.own);
  return {
    rows,
    data: {
      server: own
        ? "throw-away cluster (.ci/postgres.sh)"
        : "BENCH_DATABASE_URL",
      durations: o,
      baseline: baseRun,
      configs,
    },
    notes: [
      `Scenario 7: ${o.durationS} s per measurement after ${o.warmupS} s warm-up (shorter than scenario 1), ` +
      `${o.connections} connections: one wrk on one instance, or two wrk processes of ${
        o.connections / 2
      } on two instances (two server processes, one database); two-instance p50/p99 are the worse instance's. ` +
      `The baseline was measured again in this scenario for the same duration. Each configuration starts on a new database.`,
      own
        ? "Scenario 7's PostgreSQL is the throw-away cluster of .ci/postgres.sh on the same machine and disk, " +
          "first as that script starts it (fsync, synchronous_commit and full_page_writes off: a crash can lose or corrupt data, " +
          "so that figure is not durable and not comparable with SQLite's synchronous=FULL), then restarted with all three on " +
          "(the fair comparison; other settings are the defaults, e.g. shared_buffers " +
          `${
            configs[0]!.settings.shared_buffers
          }). The app servers, PostgreSQL and wrk share ` +
          `${navigator.hardwareConcurrency} cores, so two instances compete with each other and the database for CPU.`
        : "Scenario 7 ran on BENCH_DATABASE_URL as that server is configured (see the settings row).",
    ],
  };
}
