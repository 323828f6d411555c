/**
 * `deno task chaos`: fault tests of the real server (issue #8, part 2). Starts the
 * server as a subprocess on 127.0.0.1, kills it, fuzzes it, fills its disk, and
 * prints one table; exits 1 on any loss or violated expectation.
 *
 *   deno task chaos                  full run (bounded by --timeout, 8 minutes)
 *   deno task chaos --quick          small run, well under a minute
 *   deno task chaos --seed 42        replay a run's random choices
 *   deno task chaos --only crash,fuzz,forms,hooks-crash,hooks-outage
 */
import { parseArgs } from "node:util";
import { conflictScenario } from "./lib/conflicts.ts";
import { crashScenario } from "./lib/crash.ts";
import { diskScenario } from "./lib/disk.ts";
import { formFuzzScenario } from "./lib/forms.ts";
import { fuzzScenario } from "./lib/fuzz.ts";
import { crashed, formatTable, type ScenarioResult } from "./lib/result.ts";
import { retryScenario } from "./lib/retries.ts";
import { Rng } from "./lib/rng.ts";
import { killAllServers } from "./lib/server.ts";
import { sseScenario } from "./lib/sse.ts";
import { webhookCrashScenario, webhookOutageScenario } from "./lib/webhooks.ts";

/** How big each scenario runs. */
export interface ChaosSize {
  crashRuns: number;
  retries: number;
  fuzzCases: number;
  /** Mutated requests built from the pages' forms and links. */
  formCases: number;
  conflictPairs: number;
  diskCreates: number;
  sseDrops: number;
  /** Run the fuzz scenario's fixed probes (default true). */
  fuzzProbes?: boolean;
  /** Tickets whose changes the webhook scenarios deliver (each: created, changed, commented). */
  webhookChanges: number;
  /** How long the webhook receiver stays down. */
  webhookDownMs: number;
}

export const FULL: ChaosSize = {
  crashRuns: 20,
  retries: 1000,
  fuzzCases: 1000,
  formCases: 2500,
  conflictPairs: 100,
  diskCreates: 100,
  sseDrops: 50,
  webhookChanges: 60,
  webhookDownMs: 60_000,
};

export const QUICK: ChaosSize = {
  crashRuns: 3,
  retries: 100,
  fuzzCases: 200,
  formCases: 400,
  conflictPairs: 20,
  diskCreates: 30,
  sseDrops: 10,
  webhookChanges: 20,
  webhookDownMs: 3_000,
};

type Scenario = (
  dir: string,
  rng: Rng,
  size: ChaosSize,
) => Promise<ScenarioResult>;

/** Every scenario, in the order the table lists them. */
export const SCENARIOS: Record<string, Scenario> = {
  crash: (dir, rng, s) => crashScenario({ dir, rng, runs: s.crashRuns }),
  retries: (dir, rng, s) => retryScenario({ dir, rng, creates: s.retries }),
  fuzz: (dir, rng, s) =>
    fuzzScenario({ dir, rng, cases: s.fuzzCases, probes: s.fuzzProbes }),
  forms: (dir, rng, s) => formFuzzScenario({ dir, rng, cases: s.formCases }),
  conflicts: (dir, rng, s) =>
    conflictScenario({ dir, rng, pairs: s.conflictPairs }),
  sse: (dir, rng, s) => sseScenario({ dir, rng, drops: s.sseDrops }),
  disk: (dir, rng, s) => diskScenario({ dir, rng, creates: s.diskCreates }),
  "hooks-crash": (dir, rng, s) =>
    webhookCrashScenario({ dir, rng, changes: s.webhookChanges }),
  "hooks-outage": (dir, rng, s) =>
    webhookOutageScenario({
      dir,
      rng,
      changes: s.webhookChanges,
      downMs: s.webhookDownMs,
    }),
};

/** Runs the named scenarios one after another in a fresh temp dir; never throws. */
export async function runChaos(opts: {
  size: ChaosSize;
  seed: number;
  only?: string[];
  onResult?: (r: ScenarioResult) => void;
}): Promise<ScenarioResult[]> {
  const dir = await Deno.makeTempDir({ prefix: "ticket-desk-chaos-" });
  const results: ScenarioResult[] = [];
  try {
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      if (opts.only && !opts.only.includes(name)) continue;
      // One generator per scenario: replaying one scenario replays its choices.
      const rng = new Rng(opts.seed + name.length * 7919 + name.charCodeAt(0));
      let result: ScenarioResult;
      try {
        result = await scenario(dir, rng, opts.size);
      } catch (err) {
        result = crashed(name, err);
      }
      results.push(result);
      opts.onResult?.(result);
    }
  } finally {
    await killAllServers();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return results;
}

function printReport(results: ScenarioResult[], seed: number, ms: number) {
  console.log(
    `\nticket desk chaos, seed ${seed}, ${(ms / 1000).toFixed(1)} s\n`,
  );
  console.log(formatTable(results));
  for (const r of results.filter((r) => r.failures.length)) {
    console.log(`\n${r.scenario}: ${r.failures.length} failure(s)`);
    for (const line of r.failures.slice(0, 25)) {
      console.log(`  - ${line.slice(0, 400)}`);
    }
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      seed: { type: "string" },
      only: { type: "string" },
      timeout: { type: "string" },
    },
  });
  const seed = values.seed
    ? Number(values.seed)
    : Math.floor(Math.random() * 2 ** 31);
  const size = values.quick ? QUICK : FULL;
  const limitMs = Number(values.timeout ?? (values.quick ? 60 : 480)) * 1000;
  const results: ScenarioResult[] = [];
  const t0 = performance.now();
  // The watchdog: whatever hangs, the run ends, with every server killed.
  const watchdog = setTimeout(async () => {
    console.error(
      `\nchaos: over the ${limitMs / 1000} s limit; killing the servers`,
    );
    await killAllServers();
    printReport(results, seed, performance.now() - t0);
    Deno.exit(3);
  }, limitMs);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, async () => {
      await killAllServers();
      Deno.exit(130);
    });
  }
  await runChaos({
    size,
    seed,
    only: values.only?.split(","),
    onResult: (r) => {
      results.push(r);
      console.error(`chaos: ${r.scenario}: ${r.result}`);
    },
  });
  clearTimeout(watchdog);
  printReport(results, seed, performance.now() - t0);
  Deno.exit(results.some((r) => r.result === "FAIL") ? 1 : 0);
}
