/** Load generation with wrk (Debian package `wrk`) and bench/lib/load.lua. */

const SCRIPT = new URL("./load.lua", import.meta.url).pathname;

/** What one wrk run measured (counts from load.lua, latencies in ms). */
export interface WrkResult {
  durationS: number;
  requests: number;
  reqPerS: number;
  /** Requests written, including those unanswered when wrk stopped. */
  sent: number;
  created: number;
  non2xx: number;
  socketErrors: number;
  timeouts: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

export interface WrkOptions {
  url: string;
  mode: "create" | "read";
  connections: number;
  threads: number;
  durationS: number;
  /** Makes Idempotency-Keys unique across runs against one database. */
  runId: string;
  /** Sent as "Authorization: Bearer <apiKey>" when set. */
  apiKey?: string | null;
}

async function run(cmd: string, args: string[]) {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      ok: out.success,
      text: new TextDecoder().decode(out.stdout) +
        new TextDecoder().decode(out.stderr),
    };
  } catch (err) {
    return { ok: false, text: (err as Error).message };
  }
}

/** Returns wrk's version line, installing wrk with apt-get first when missing and root. */
export async function ensureWrk(log: (s: string) => void): Promise<string> {
  const version = async () => {
    const r = await run("wrk", ["--version"]);
    // wrk --version exits 1 after printing its banner.
    const line = r.text.split("\n")[0] ?? "";
    return line.startsWith("wrk ") ? line.trim() : null;
  };
  const found = await version();
  if (found) return found;
  if (Deno.uid() !== 0) {
    throw new Error(
      "wrk is not installed. Install it with `sudo apt-get install -y wrk` " +
        "(Debian/Ubuntu) or `brew install wrk`, then run `deno task bench` again.",
    );
  }
  log("wrk is missing: apt-get install -y wrk …");
  let r = await run("apt-get", ["install", "-y", "wrk"]);
  if (!r.ok) {
    log("apt-get install failed; apt-get update and retry …");
    await run("apt-get", ["update"]);
    r = await run("apt-get", ["install", "-y", "wrk"]);
  }
  const installed = await version();
  if (!installed) {
    throw new Error(`Could not install wrk with apt-get:\n${r.text}`);
  }
  return installed;
}

/** A started wrk process; `result` resolves when it has finished. */
export interface WrkRun {
  result: Promise<WrkResult>;
}

/** Starts one wrk run (killed if it overruns its duration by 30 s). */
export function startWrk(o: WrkOptions): WrkRun {
  const args = [
    "--threads",
    String(o.threads),
    "--connections",
    String(o.connections),
    "--duration",
    `${o.durationS}s`,
    "--timeout",
    "10s",
    "--latency",
    "--script",
    SCRIPT,
    o.url,
    "--",
    o.mode,
    o.runId,
    o.apiKey || "-",
  ];
  const cmd = new Deno.Command("wrk", {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout((o.durationS + 30) * 1000),
  });
  const result = cmd.output().then((out) => {
    const text = new TextDecoder().decode(out.stdout);
    const line = text.split("\n").find((l) => l.startsWith("BENCH_JSON "));
    if (!out.success || !line) {
      throw new Error(
        `wrk ${args.join(" ")} failed (code ${out.code}):\n${text}\n` +
          new TextDecoder().decode(out.stderr),
      );
    }
    return parse(JSON.parse(line.slice("BENCH_JSON ".length)));
  });
  return { result };
}

/** Runs wrk to the end. */
export function runWrk(o: WrkOptions): Promise<WrkResult> {
  return startWrk(o).result;
}

interface RawWrk {
  duration_us: number;
  requests: number;
  sent: number;
  created: number;
  non2xx: number;
  errors: {
    connect: number;
    read: number;
    write: number;
    status: number;
    timeout: number;
  };
  latency_us: { p50: number; p90: number; p99: number; max: number };
}

const ms = (us: number) => Math.round(us / 10) / 100;

function parse(raw: RawWrk): WrkResult {
  const durationS = raw.duration_us / 1e6;
  return {
    durationS,
    requests: raw.requests,
    reqPerS: Math.round(raw.requests / durationS),
    sent: raw.sent,
    created: raw.created,
    non2xx: raw.non2xx,
    socketErrors: raw.errors.connect + raw.errors.read + raw.errors.write,
    timeouts: raw.errors.timeout,
    latencyMs: {
      p50: ms(raw.latency_us.p50),
      p90: ms(raw.latency_us.p90),
      p99: ms(raw.latency_us.p99),
      max: ms(raw.latency_us.max),
    },
  };
}
