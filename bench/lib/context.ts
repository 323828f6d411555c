/**
 * What every scenario is handed: the options, the long-running servers they
 * share and the outcomes of the scenarios before them. Its own module so the
 * scenario files and the scenario list (scenarios.ts) do not import each other.
 */
import {
  appSpec,
  baselineSpec,
  freePort,
  provisionApiKey,
  type RunningServer,
  startServer,
} from "./server.ts";
import { type MemorySample, readMemory, sampleMemory } from "./memory.ts";
import type { ScenarioOutcome } from "./report.ts";

export interface BenchOptions {
  quick: boolean;
  /** Seconds of unmeasured load before each measured create run. */
  warmupS: number;
  /** Seconds of each measured wrk run. */
  durationS: number;
  /** Spawns measured for the cold-start median. */
  coldStarts: number;
  /** Connections of the create load, and of the concurrent readers. */
  createConnections: number;
  readConnections: number;
  tmpDir: string;
  log: (line: string) => void;
}

/** A server shared by the load scenarios, with its memory sampled from start to stop. */
export interface SharedServer {
  server: RunningServer;
  /** The app's database file; absent for the baseline, which stores nothing. */
  dbPath?: string;
  /** The API key the load sends, when the app requires one. */
  apiKey?: string | null;
  /** Memory at the first 200 on /healthz, before any load. */
  idle: MemorySample | null;
  /** Peak memory seen so far. */
  memory(): MemorySample;
}

/** What scenarios share: options, the two long-running servers and earlier outcomes. */
export class BenchContext {
  readonly outcomes = new Map<string, ScenarioOutcome>();
  #shared = new Map<string, Promise<SharedServer>>();
  #samplers: { stop(): MemorySample }[] = [];
  #servers: RunningServer[] = [];
  #deferred: (() => Promise<void>)[] = [];

  constructor(readonly opts: BenchOptions) {}

  /** Runs `fn` when the context closes (after the servers stop), e.g. to stop a database. */
  defer(fn: () => Promise<void>): void {
    this.#deferred.push(fn);
  }

  log(line: string): void {
    this.opts.log(line);
  }

  /** The app, started once like production (file DB, LOG_LEVEL=warn) and reused. */
  app(): Promise<SharedServer> {
    return this.#once("app", async () => {
      const dbPath = `${this.opts.tmpDir}/bench.db`;
      const apiKey = await provisionApiKey(dbPath);
      if (apiKey) this.log("created an API key with scripts/apikey.ts");
      this.log(`starting ticket desk (DB_PATH=${dbPath}) …`);
      const shared = await this.#start(appSpec(dbPath, freePort()));
      return { ...shared, dbPath, apiKey };
    });
  }

  /** bench/baseline.ts, started once and reused. */
  baseline(): Promise<SharedServer> {
    return this.#once("baseline", () => {
      this.log("starting baseline (bench/baseline.ts) …");
      return this.#start(baselineSpec("", freePort()));
    });
  }

  /**
   * A server of its own for one scenario (the app with BENCH_ADMIN, on `dbPath`,
   * with an API key), its memory sampled until close() or `stop()`.
   */
  async dedicatedApp(
    dbPath: string,
    opts: { apiKey: boolean },
  ): Promise<SharedServer> {
    const apiKey = opts.apiKey ? await provisionApiKey(dbPath) : null;
    const shared = await this.#start(
      appSpec(dbPath, freePort(), { admin: true }),
    );
    return { ...shared, dbPath, apiKey };
  }

  #once(name: string, make: () => Promise<SharedServer>) {
    let p = this.#shared.get(name);
    if (!p) this.#shared.set(name, p = make());
    return p;
  }

  async #start(
    spec: Parameters<typeof startServer>[0],
  ): Promise<SharedServer> {
    const server = await startServer(spec);
    this.#servers.push(server);
    const idle = readMemory(server.pid);
    const sampler = sampleMemory(server.pid);
    this.#samplers.push(sampler);
    return { server, idle, memory: () => sampler.peak() };
  }

  /** Stops every server this context started. */
  async close(): Promise<void> {
    for (const s of this.#samplers) s.stop();
    await Promise.allSettled(this.#servers.map((s) => s.stop()));
    const deferred = this.#deferred.splice(0).reverse();
    for (const fn of deferred) await fn().catch(() => {});
  }
}
