/** Create load with wrk, shared by the scenarios that measure create throughput. */
import type { BenchContext, SharedServer } from "./context.ts";
import { runWrk, startWrk, type WrkResult } from "./wrk.ts";
import { settledTicketCount } from "./db_count.ts";
import { num, type Row, verdict } from "./report.ts";

export const CREATE_PATH = "/create_ticket";
export const READ_PATH = "/api/v1/tickets?limit=50";

/** Milliseconds with two decimals. */
export const ms = (n: number) => `${num(n, 2)} ms`;
/** Requests per second. */
export const rps = (n: number) => `${num(n)} req/s`;

/** One measured create run, with what the database gained. */
export interface CreateRun {
  wrk: WrkResult;
  /** Tickets the database gained during the measured run (app only). */
  stored?: number;
}

/** Tickets stored must lie between the 201s wrk saw and those plus requests unanswered at its stop. */
export function storedCheck(run: CreateRun) {
  const { wrk, stored = 0 } = run;
  const answered = wrk.created + wrk.non2xx;
  const unanswered = Math.max(0, wrk.sent - answered);
  const ok = stored >= wrk.created && stored <= wrk.created + unanswered;
  return { stored, created: wrk.created, unanswered, ok };
}

/** The table row comparing tickets stored with the 201s wrk counted. */
export function storedRow(scenario: string, run: CreateRun): Row {
  const c = storedCheck(run);
  return {
    scenario,
    metric: "tickets stored vs 201s counted",
    value: `${num(c.stored)} stored / ${num(c.created)} 201s` +
      (c.unanswered ? ` (+${c.unanswered} in flight at wrk stop)` : ""),
    baseline: "—",
    ratio: "—",
    target: "stored = 201s (+ in-flight)",
    result: verdict(c.ok),
  };
}

/** Runs warm-up then the measured create load; counts what the DB gained. */
export async function measureCreate(
  ctx: BenchContext,
  target: SharedServer,
  { readers = 0, warmup = true, beforeRun }: {
    readers?: number;
    warmup?: boolean;
    /** Runs after the warm-up, just before the measured load. */
    beforeRun?: () => Promise<void>;
  } = {},
): Promise<{ create: CreateRun; read?: WrkResult }> {
  const { opts } = ctx;
  const url = target.server.url;
  const who = target.server.name;
  const runId = crypto.randomUUID();
  if (warmup && opts.warmupS > 0) {
    ctx.log(`  ${who}: warm-up ${opts.warmupS} s …`);
    await runWrk({
      url: url + CREATE_PATH,
      mode: "create",
      connections: opts.createConnections,
      threads: 1,
      durationS: opts.warmupS,
      runId: `${runId}-warm`,
      apiKey: target.apiKey,
    });
  }
  const before = target.dbPath ? await settledTicketCount(target.dbPath) : 0;
  await beforeRun?.();
  ctx.log(
    `  ${who}: ${opts.durationS} s, ${opts.createConnections} connections POST ${CREATE_PATH}` +
      (readers ? ` + ${readers} connections GET ${READ_PATH}` : "") + " …",
  );
  const createRun = startWrk({
    url: url + CREATE_PATH,
    mode: "create",
    connections: opts.createConnections,
    threads: 1,
    durationS: opts.durationS,
    runId,
    apiKey: target.apiKey,
  });
  const readRun = readers
    ? startWrk({
      url: url + READ_PATH,
      mode: "read",
      connections: readers,
      threads: 1,
      durationS: opts.durationS,
      runId,
      apiKey: target.apiKey,
    })
    : null;
  const [wrk, read] = await Promise.all([
    createRun.result,
    readRun?.result,
  ]);
  const create: CreateRun = { wrk };
  if (target.dbPath) {
    create.stored = (await settledTicketCount(target.dbPath)) - before;
  }
  ctx.log(
    `  ${who}: ${rps(wrk.reqPerS)}, p50 ${ms(wrk.latencyMs.p50)}, p99 ${
      ms(wrk.latencyMs.p99)
    }, non-2xx ${wrk.non2xx}` +
      (read
        ? `; reads ${rps(read.reqPerS)} p99 ${ms(read.latencyMs.p99)}`
        : ""),
  );
  return { create, read };
}
