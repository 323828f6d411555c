/** Starting the app and the baseline as subprocesses on loopback, and always stopping them. */

/** The repository root: the app is started from here, as in production. */
export const REPO_ROOT = new URL("../../", import.meta.url).pathname;

/** Every child still running, so an error or Ctrl-C can end them all. */
const live = new Set<Deno.ChildProcess>();

/** A server under test, started by startServer. */
export interface RunningServer {
  name: string;
  pid: number;
  port: number;
  url: string;
  /** Milliseconds from spawn to the first 200 on /healthz. */
  readyMs: number;
  /** The last lines the process wrote, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface ServerSpec {
  name: string;
  /** Arguments after the deno binary. */
  args: string[];
  env: Record<string, string>;
  /** The loopback port it will listen on (also passed as PORT). */
  port: number;
  /** Give up waiting for /healthz after this many ms. */
  readyTimeoutMs: number;
}

/** A port nobody listens on right now (the kernel's choice, released at once). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

/** The first admin a server started with `{ admin: true }` creates (scenarios 2 and 3 log in). */
export const BENCH_ADMIN = {
  username: "benchadmin",
  password: "bench-admin-password-not-secret",
};

/**
 * The production command line for the app, with its database at `dbPath`;
 * `admin` passes ADMIN_USER/ADMIN_PASSWORD so a first start creates BENCH_ADMIN.
 */
export function appSpec(
  dbPath: string,
  port: number,
  opts: { admin?: boolean } = {},
): ServerSpec {
  return {
    name: "ticket desk",
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "main.ts",
    ],
    env: {
      HOST: "127.0.0.1",
      PORT: String(port),
      DB_PATH: dbPath,
      LOG_LEVEL: "warn",
      // One API key carries the whole load, so the per-key limit (default
      // 6,000/min) would answer 429 to nearly everything: raise it out of
      // reach while keeping the limiter in the request path.
      API_RATE_LIMIT: "10000000",
      ...(opts.admin
        ? {
          ADMIN_USER: BENCH_ADMIN.username,
          ADMIN_PASSWORD: BENCH_ADMIN.password,
        }
        : {}),
    },
    port,
    readyTimeoutMs: 120_000,
  };
}

/** The command line for bench/baseline.ts (which stores nothing, so ignores `_dbPath`). */
export function baselineSpec(_dbPath: string, port: number): ServerSpec {
  return {
    name: "baseline",
    args: ["run", "--allow-net", "--allow-env=PORT", "bench/baseline.ts"],
    env: { PORT: String(port) },
    port,
    readyTimeoutMs: 60_000,
  };
}

/** Keeps the last lines of a stream, reading it to the end so the pipe never fills. */
function drain(stream: ReadableStream<Uint8Array>, keep: string[]) {
  const read = async () => {
    const lines = stream.pipeThrough(new TextDecoderStream());
    for await (const chunk of lines) {
      for (const line of chunk.split("\n")) {
        if (line.trim() === "") continue;
        keep.push(line);
        if (keep.length > 40) keep.shift();
      }
    }
  };
  return read().catch(() => {});
}

/** Spawns a server and waits for its first 200 on /healthz; the clock starts at spawn. */
export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const { port } = spec;
  const tail: string[] = [];
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: spec.args,
    cwd: REPO_ROOT,
    env: spec.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  live.add(child);
  const drained = Promise.all([
    drain(child.stdout, tail),
    drain(child.stderr, tail),
  ]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    live.delete(child);
    return s;
  });
  const url = `http://127.0.0.1:${port}`;
  const output = () => tail.join("\n");
  const stop = async () => {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, 5_000);
      await status;
      clearTimeout(timer);
    }
    await drained;
  };
  try {
    const readyMs = await waitHealthy(
      url,
      t0,
      spec.readyTimeoutMs,
      () => exited,
    );
    return {
      name: spec.name,
      pid: child.pid,
      port,
      url,
      readyMs,
      output,
      stop,
    };
  } catch (err) {
    await stop();
    throw new Error(
      `${spec.name} did not become healthy: ${(err as Error).message}\n` +
        `--- its last output ---\n${output()}`,
    );
  }
}

async function waitHealthy(
  url: string,
  t0: number,
  timeoutMs: number,
  exited: () => boolean,
): Promise<number> {
  while (performance.now() - t0 < timeoutMs) {
    if (exited()) throw new Error("the process exited");
    try {
      const res = await fetch(`${url}/healthz`, {
        signal: AbortSignal.timeout(2_000),
      });
      await res.body?.cancel();
      if (res.status === 200) return performance.now() - t0;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`no 200 on /healthz within ${timeoutMs} ms`);
}

/** Kills whatever is still running (last resort on error or interrupt). */
export function killAll(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }
  live.clear();
}

/**
 * Creates an API key in the database at `dbPath` with the app's own CLI
 * (scripts/apikey.ts) and returns it; null when the app has no API keys yet.
 */
export async function provisionApiKey(dbPath: string): Promise<string | null> {
  const script = `${REPO_ROOT}scripts/apikey.ts`;
  try {
    await Deno.stat(script);
  } catch {
    return null;
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      // The task's own permissions (deno.json "apikey"): the CLI reads
      // DATABASE_URL too, and with DB_PATH alone it stops before creating.
      "--allow-net",
      "--allow-env=DB_PATH,DATABASE_URL,PG*",
      "--allow-sys=uid,gid,userInfo",
      "scripts/apikey.ts",
      "create",
      "bench",
      // create for the load, read for the list load and /healthz's details.
      "--scopes",
      "create,read",
    ],
    cwd: REPO_ROOT,
    env: { DB_PATH: dbPath },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  // The CLI prints the key alone on its last line.
  const key = text.split("\n").at(-1)?.trim() ?? "";
  if (!out.success || !/^\S{16,}$/.test(key)) {
    throw new Error(
      `Cannot create an API key with scripts/apikey.ts:\n${text}\n` +
        new TextDecoder().decode(out.stderr),
    );
  }
  return key;
}
