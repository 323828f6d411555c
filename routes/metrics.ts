/**
 * GET /metrics: what operators graph and alert on, in Prometheus' text
 * format (0.0.4): requests by route and status with latency histograms, the
 * group commit's figures, open live streams, the webhook backlog, and the
 * process's memory and CPU. For an admin's session or an API key with
 * `read` (Prometheus sends it as `Authorization: Bearer …`); a scrape reads,
 * it never writes (unlike /healthz, which checks the writer).
 */
import { Hono, type MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import process from "node:process";
import type { AccountStore, TicketStore } from "../db/store.ts";
import type { CommitStats } from "../db/group_commit.ts";
import type { LiveStats } from "./events.ts";
import {
  type AuthDeps,
  keyAllows,
  requestApiKey,
  sessionUser,
} from "./auth.tsx";

/** Upper bounds of the latency buckets, in seconds. */
const BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

interface Series {
  labels: string;
  count: number;
}

interface Histogram {
  labels: string;
  buckets: number[];
  sum: number;
  count: number;
}

/** A label value as the text format wants it: backslash, quote and newline escaped. */
function label(value: string): string {
  return value.replace(/[\\"\n]/g, (ch) => ch === "\n" ? "\\n" : `\\${ch}`);
}

/** Requests counted by route pattern (never the raw path: ids would make a series each), method and status. */
export class RequestMetrics {
  #requests = new Map<string, Series>();
  #latency = new Map<string, Histogram>();
  readonly startedAt = Date.now();

  /** Counts one answered request. */
  record(route: string, method: string, status: number, seconds: number) {
    const base = `route="${label(route)}",method="${label(method)}"`;
    const key = `${base},status="${status}"`;
    const series = this.#requests.get(key);
    if (series) series.count++;
    else this.#requests.set(key, { labels: key, count: 1 });
    let h = this.#latency.get(base);
    if (!h) {
      h = { labels: base, buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#latency.set(base, h);
    }
    h.count++;
    h.sum += seconds;
    const i = BUCKETS.findIndex((b) => seconds <= b);
    if (i >= 0) h.buckets[i]!++;
  }

  /** Middleware for the whole app: times each request to its response head. */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const t0 = performance.now();
      await next();
      // The route that answered (its pattern, such as /api/v1/tickets/:id).
      this.record(
        routePath(c) || "(none)",
        c.req.method,
        c.res.status,
        (performance.now() - t0) / 1000,
      );
    };
  }

  /** The request families in the text format. */
  lines(): string[] {
    const out = [
      "# HELP ticket_desk_http_requests_total Requests answered, by route pattern, method and status.",
      "# TYPE ticket_desk_http_requests_total counter",
    ];
    for (const s of this.#requests.values()) {
      out.push(`ticket_desk_http_requests_total{${s.labels}} ${s.count}`);
    }
    out.push(
      "# HELP ticket_desk_http_request_duration_seconds Time to the response head, by route pattern and method.",
      "# TYPE ticket_desk_http_request_duration_seconds histogram",
    );
    for (const h of this.#latency.values()) {
      let cumulative = 0;
      BUCKETS.forEach((b, i) => {
        cumulative += h.buckets[i]!;
        out.push(
          `ticket_desk_http_request_duration_seconds_bucket{${h.labels},le="${b}"} ${cumulative}`,
        );
      });
      out.push(
        `ticket_desk_http_request_duration_seconds_bucket{${h.labels},le="+Inf"} ${h.count}`,
        `ticket_desk_http_request_duration_seconds_sum{${h.labels}} ${h.sum}`,
        `ticket_desk_http_request_duration_seconds_count{${h.labels}} ${h.count}`,
      );
    }
    return out;
  }
}

export interface MetricsDeps extends AuthDeps {
  store: TicketStore & AccountStore;
  requests: RequestMetrics;
  /** Open live streams, now. */
  live: LiveStats;
}

function family(
  name: string,
  type: "counter" | "gauge",
  help: string,
  value: number,
): string[] {
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} ${type}`,
    `${name} ${value}`,
  ];
}

/** The store's group-commit counters, when it keeps them (both stores do). */
function commitStats(store: TicketStore): CommitStats | null {
  const s = (store as { commitStats?: CommitStats }).commitStats;
  return s ?? null;
}

/** Everything /metrics shows, in the text format. */
async function exposition(deps: MetricsDeps): Promise<string> {
  const out = deps.requests.lines();
  const commits = commitStats(deps.store);
  if (commits) {
    out.push(
      ...family(
        "ticket_desk_commits_total",
        "counter",
        "Transactions committed by the group committer.",
        commits.batches,
      ),
      ...family(
        "ticket_desk_writes_total",
        "counter",
        "Writes those commits carried (writes / commits: writes per commit).",
        commits.writes,
      ),
      ...family(
        "ticket_desk_commit_seconds_total",
        "counter",
        "Time from handing a batch to the writer to hearing it committed.",
        commits.commitMs / 1000,
      ),
      ...family(
        "ticket_desk_writer_seconds_total",
        "counter",
        "The writer's own time on those commits (SQLite: BEGIN to COMMIT in its thread).",
        commits.writerMs / 1000,
      ),
    );
  }
  out.push(
    ...family(
      "ticket_desk_live_streams",
      "gauge",
      "Open live streams (one per browser with the shared connection).",
      deps.live.clients,
    ),
    ...family(
      "ticket_desk_live_watches",
      "gauge",
      "Filters those streams watch (about one per tab).",
      deps.live.watches,
    ),
    ...family(
      "ticket_desk_live_streams_dropped_total",
      "counter",
      "Streams ended because their reader fell too far behind.",
      deps.live.dropped,
    ),
  );
  const hooks = await deps.store.listWebhooks();
  out.push(
    "# HELP ticket_desk_webhook_backlog Webhook deliveries waiting to be sent, by endpoint.",
    "# TYPE ticket_desk_webhook_backlog gauge",
    ...hooks.map((w) =>
      `ticket_desk_webhook_backlog{endpoint="${w.id}",enabled="${
        w.disabled_at === null
      }"} ${w.pending}`
    ),
  );
  const mem = Deno.memoryUsage();
  const cpu = process.cpuUsage();
  out.push(
    ...family(
      "process_resident_memory_bytes",
      "gauge",
      "Resident memory of the server process.",
      mem.rss,
    ),
    ...family(
      "ticket_desk_js_heap_used_bytes",
      "gauge",
      "JavaScript heap in use (main thread).",
      mem.heapUsed,
    ),
    ...family(
      "ticket_desk_js_heap_total_bytes",
      "gauge",
      "JavaScript heap reserved (main thread).",
      mem.heapTotal,
    ),
    ...family(
      "ticket_desk_js_external_bytes",
      "gauge",
      "Memory outside the heap held by JavaScript objects (buffers).",
      mem.external,
    ),
    ...family(
      "process_cpu_seconds_total",
      "counter",
      "CPU time of the process, user and system.",
      (cpu.user + cpu.system) / 1e6,
    ),
    ...family(
      "process_start_time_seconds",
      "gauge",
      "When the process started, in seconds since the epoch.",
      Math.floor(deps.requests.startedAt / 1000),
    ),
  );
  return out.join("\n") + "\n";
}

/** Whether the caller is an admin (session) or holds a key with `read`; which answer they get otherwise. */
async function allowed(
  c: Parameters<MiddlewareHandler>[0],
  deps: MetricsDeps,
): Promise<"yes" | "no credentials" | "not allowed"> {
  const key = await requestApiKey(c, deps.store);
  if (key) return keyAllows(key, "read") ? "yes" : "not allowed";
  const user = await sessionUser(c, deps);
  if (user) return user.role === "admin" ? "yes" : "not allowed";
  return "no credentials";
}

/** Builds the /metrics sub-app. */
export function metrics(deps: MetricsDeps) {
  const app = new Hono();
  app.get("/metrics", async (c) => {
    c.header("Cache-Control", "no-store");
    const who = await allowed(c, deps);
    if (who === "no credentials") {
      c.header("WWW-Authenticate", 'Bearer realm="metrics"');
      return c.text(
        "Metrics need an API key with read (Authorization: Bearer …) or an admin's session.\n",
        401,
      );
    }
    if (who === "not allowed") {
      return c.text(
        "Metrics are for API keys with read and for admins.\n",
        403,
      );
    }
    c.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return c.body(await exposition(deps));
  });
  return app;
}
