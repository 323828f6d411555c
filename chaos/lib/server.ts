/**
 * The real server as a subprocess, started like production (`deno run main.ts` with
 * DB_PATH, PORT and LOG_LEVEL), on loopback only, and always killed in `finally`.
 */
import { fileURLToPath } from "node:url";
import { CHAOS_ENV, provisionApiKey } from "./auth.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Every server started and not yet reaped: the watchdog and signal handlers kill these. */
const RUNNING = new Set<ServerProcess>();

export interface StartOptions {
  dbPath: string;
  /**
   * An API key provisioned by an earlier start on the same file. Reuse it across
   * restarts: idempotency keys are scoped per API key, as for a real client.
   */
  apiKey?: string | null;
  /** How long to wait for /healthz to answer 200. */
  readyTimeoutMs?: number;
  /** A port to listen on (a restart on the same address); a free one when absent. */
  port?: number;
  /** Serve HTTPS (and HTTP/2) with this certificate: PEM files, and the certificate to trust. */
  tls?: { certFile: string; keyFile: string; cert: string };
  /** More settings for this server (the webhook scenarios' schedule, say). */
  env?: Record<string, string>;
}

/** Picks a free loopback port (the OS assigns it; a tiny race remains, handled by retrying). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A running server subprocess with its own HTTP client (no pooled connection outlives it). */
export class ServerProcess {
  readonly base: string;
  readonly client: Deno.HttpClient;
  /** The last lines of stdout and stderr, for failure reports. */
  readonly tail: string[] = [];
  /** Log lines at level "error" (unhandled errors end up here). */
  readonly errorLines: string[] = [];
  /** The API key requests send, when the server has API keys. */
  apiKey: string | null = null;
  #exited = false;
  #status: Promise<Deno.CommandStatus>;
  #drains: Promise<void>[];

  constructor(
    readonly child: Deno.ChildProcess,
    readonly port: number,
    /** The certificate to trust when the server speaks HTTPS. */
    cert?: string,
  ) {
    this.base = `${cert ? "https" : "http"}://127.0.0.1:${port}`;
    this.client = Deno.createHttpClient({
      poolMaxIdlePerHost: 64,
      ...(cert ? { caCerts: [cert] } : {}),
    });
    this.#status = child.status.then((s) => {
      this.#exited = true;
      return s;
    });
    this.#drains = [this.#drain(child.stdout), this.#drain(child.stderr)];
    RUNNING.add(this);
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return !this.#exited;
  }

  /** Resolves when the process has exited. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#status;
  }

  /** Sends a signal (SIGKILL by default) and waits for the process and its pipes to end. */
  async kill(signal: Deno.Signal = "SIGKILL"): Promise<void> {
    if (!this.#exited) {
      try {
        this.child.kill(signal);
      } catch { /* already gone */ }
    }
    await this.#reap();
  }

  /** Asks for a graceful shutdown (SIGTERM), and kills after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.#exited) {
      try {
        this.child.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          this.child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, graceMs);
      await this.#status;
      clearTimeout(timer);
    }
    await this.#reap();
  }

  async #reap(): Promise<void> {
    await this.#status;
    await Promise.all(this.#drains);
    try {
      this.client.close();
    } catch { /* closed before */ }
    RUNNING.delete(this);
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let rest = "";
    try {
      for await (const chunk of stream) {
        rest += decoder.decode(chunk, { stream: true });
        const lines = rest.split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) this.#line(line);
      }
    } catch { /* the pipe broke when the process died */ }
    if (rest) this.#line(rest);
  }

  #line(line: string) {
    this.tail.push(line);
    if (this.tail.length > 40) this.tail.shift();
    if (line.includes('"level":"error"') && this.errorLines.length < 50) {
      this.errorLines.push(line.slice(0, 500));
    }
  }
}

/** Starts the server on a fresh port and waits until /healthz answers 200. */
export async function startServer(opts: StartOptions): Promise<ServerProcess> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = opts.port ?? freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-write",
        "main.ts",
      ],
      cwd: REPO_ROOT,
      env: {
        ...CHAOS_ENV,
        DB_PATH: opts.dbPath,
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
        NO_COLOR: "1",
        ...(opts.tls
          ? { TLS_CERT: opts.tls.certFile, TLS_KEY: opts.tls.keyFile }
          : {}),
        ...opts.env,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const server = new ServerProcess(child, port, opts.tls?.cert);
    try {
      await waitReady(server, opts.readyTimeoutMs ?? 30_000);
      server.apiKey = opts.apiKey ?? provisionApiKey(opts.dbPath);
      return server;
    } catch (err) {
      lastError = err;
      await server.kill();
    }
  }
  throw lastError;
}

// With LOG_LEVEL=warn the server does not print its "listening" line (it is info),
// so readiness is a 200 from /healthz, which also proves the writer is up.
async function waitReady(server: ServerProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!server.alive) {
      throw new Error(
        `server exited during start-up: ${server.tail.slice(-5).join(" | ")}`,
      );
    }
    try {
      const res = await fetch(`${server.base}/healthz`, {
        client: server.client,
        signal: AbortSignal.timeout(1000),
      });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server not ready after ${timeoutMs} ms`);
}

/** Kills every server still running (watchdog, Ctrl-C). */
export async function killAllServers(): Promise<void> {
  await Promise.all([...RUNNING].map((s) => s.kill()));
}
