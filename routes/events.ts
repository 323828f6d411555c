/**
 * GET /events: the live stream (server-sent events).
 *
 * Lossless by construction: a client subscribes to the bus first (buffering),
 * then replays every event after its Last-Event-ID from the table, then drains
 * the buffer skipping ids it already sent — no gap and no duplicate at the seam.
 */
import { Hono } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import type { EventBus } from "../db/bus.ts";
import type { TicketEvent, TicketStore } from "../db/store.ts";
import type { Logger } from "../log.ts";
import type { AppEnv } from "./context.ts";

/** What a client asked to watch: the dashboard's filter, or one ticket's page. */
export interface StreamFilter {
  status?: string;
  product_id?: string;
  q?: string;
  ticket?: number;
}

export interface SseMessage {
  /** A named event becomes a DOM event; unnamed messages are swapped by htmx. */
  event?: string;
  data: string;
}

/** Renders an event for one filter; the result is shared by every client with that filter. */
export type ComposeMessage = (
  event: TicketEvent,
  filter: StreamFilter,
) => Promise<SseMessage | null>;

export interface LiveOptions {
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs: number;
  /** Replay reaches back this far; an older Last-Event-ID gets a `reload` event. */
  retentionMs: number;
  /** Messages a client may have waiting; past that it is dropped and catches up by replay. */
  queueLimit: number;
  /** The reconnect delay suggested to browsers. */
  retryMs: number;
}

export const DEFAULT_LIVE: LiveOptions = {
  heartbeatMs: 15_000,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  queueLimit: 500,
  retryMs: 1_000,
};

export interface EventsDeps {
  store: TicketStore;
  bus: EventBus;
  logger: Logger;
  compose: ComposeMessage;
  live?: Partial<LiveOptions>;
  /** Aborted when the server shuts down: open streams end, so shutdown need not wait on them. */
  signal?: AbortSignal;
}

const REPLAY_PAGE = 500;
const CACHE_SIZE = 4096;

/** Reads the client's filter from the stream URL. */
function readFilter(q: (name: string) => string | undefined): StreamFilter {
  const f: StreamFilter = {};
  const status = q("status");
  if (status) f.status = status.slice(0, 16);
  const product = q("product");
  if (product) f.product_id = product.slice(0, 128);
  const text = q("q");
  if (text) f.q = text.slice(0, 200);
  const ticket = Number(q("ticket"));
  if (Number.isInteger(ticket) && ticket > 0) f.ticket = ticket;
  return f;
}

function filterKey(f: StreamFilter): string {
  return JSON.stringify([f.status, f.product_id, f.q, f.ticket]);
}

/** Parses Last-Event-ID (or `after` for the first connect); null when absent or not an id. */
function readLastId(header: string | undefined, after: string | undefined) {
  const raw = header ?? after;
  return raw !== undefined && /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

/** Caches composed messages so each event is rendered once per distinct filter, not per client. */
function messageCache(compose: ComposeMessage) {
  const cache = new Map<string, Promise<SseMessage | null>>();
  return (e: TicketEvent, f: StreamFilter) => {
    const key = `${e.id}|${filterKey(f)}`;
    let p = cache.get(key);
    if (!p) {
      p = compose(e, f);
      cache.set(key, p);
      if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    return p;
  };
}

/** Counts of connected clients, for tests, benchmarks and the log. */
export interface LiveStats {
  clients: number;
  dropped: number;
}

/** Builds the SSE sub-app. */
export function events(deps: EventsDeps) {
  const opts = { ...DEFAULT_LIVE, ...deps.live };
  const render = messageCache(deps.compose);
  const stats: LiveStats = { clients: 0, dropped: 0 };
  const app = new Hono<AppEnv>();

  app.get("/events", (c) => {
    const filter = readFilter((n) => c.req.query(n));
    const lastId = readLastId(
      c.req.header("last-event-id"),
      c.req.query("after"),
    );
    c.header("X-Accel-Buffering", "no"); // nginx: do not buffer the stream
    return streamSSE(c, async (stream) => {
      stats.clients++;
      const client = new LiveClient(stream, filter, render, opts, () => {
        stats.dropped++;
        deps.logger.info("slow live client dropped", {
          request_id: c.get("requestId"),
        });
      });
      const unsubscribe = deps.bus.subscribe((e) => client.push(e));
      const stop = () => client.close();
      deps.signal?.addEventListener("abort", stop);
      if (deps.signal?.aborted) stop();
      try {
        await stream.writeSSE({
          data: "",
          event: "hello",
          retry: opts.retryMs,
        });
        await client.catchUp(deps.store, lastId);
        await client.run();
      } finally {
        unsubscribe();
        deps.signal?.removeEventListener("abort", stop);
        stats.clients--;
      }
    }, async (err, stream) => {
      deps.logger.warn("live stream failed", { error: String(err) });
      await stream.close();
    });
  });
  return { app, stats };
}

/** One connected browser tab: a bounded queue and a pump that never blocks the publisher. */
class LiveClient {
  #queue: TicketEvent[] = [];
  #wake: (() => void) | null = null;
  #lastSent = 0;
  #closed = false;

  constructor(
    readonly stream: SSEStreamingApi,
    readonly filter: StreamFilter,
    readonly render: (
      e: TicketEvent,
      f: StreamFilter,
    ) => Promise<SseMessage | null>,
    readonly opts: LiveOptions,
    readonly onDrop: () => void,
  ) {
    stream.onAbort(() => this.close());
  }

  /** Called by the bus for every committed event: queue it, never wait. */
  push(e: TicketEvent) {
    if (this.#closed) return;
    this.#queue.push(e);
    if (this.#queue.length > this.opts.queueLimit) {
      // Too far behind: drop it. The browser reconnects with Last-Event-ID and replays.
      this.onDrop();
      this.close();
      return;
    }
    this.#wake?.();
  }

  /** Ends this client's stream (the browser reconnects and replays). */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#wake?.();
    this.stream.abort();
  }

  async #send(e: TicketEvent) {
    if (e.id <= this.#lastSent) return; // already sent by replay
    const msg = await this.render(e, this.filter);
    if (this.#closed) return;
    // Every event carries its id, even when this client has nothing to show for it,
    // so a reconnect resumes after it.
    if (msg) {
      await this.stream.writeSSE({
        id: String(e.id),
        data: msg.data,
        event: msg.event,
      });
    } else {
      await this.stream.write(`id: ${e.id}\n\n`);
    }
    this.#lastSent = e.id;
  }

  /** Replays from the table what the client missed, or tells it to reload. */
  async catchUp(store: TicketStore, lastId: number | null) {
    if (lastId === null) return;
    this.#lastSent = lastId;
    const latest = await store.latestEventId();
    if (lastId >= latest) {
      // Up to date, or an id from another (reset) database: then start afresh.
      if (lastId > latest) await this.#reload(latest);
      return;
    }
    const cutoff = Date.now() - this.opts.retentionMs;
    let first = true;
    while (!this.#closed) {
      const page = await store.eventsAfter(this.#lastSent, REPLAY_PAGE);
      if (page.length === 0) return;
      if (
        first &&
        (page[0]!.id !== lastId + 1 ||
          Date.parse(page[0]!.created_at) < cutoff)
      ) {
        // Older than the replay window (or events are missing): a partial replay
        // would mislead, so the page refetches its grid instead.
        return this.#reload(latest);
      }
      first = false;
      for (const e of page) {
        if (this.#closed) return;
        await this.#send(e);
      }
    }
  }

  async #reload(latest: number) {
    await this.stream.writeSSE({
      id: String(latest),
      event: "reload",
      data: "",
    });
    this.#lastSent = latest;
  }

  /** Sends live events until the client goes away, with a heartbeat while idle. */
  async run() {
    while (!this.#closed) {
      const e = this.#queue.shift();
      if (e) {
        await this.#send(e);
        continue;
      }
      const timedOut = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(true), this.opts.heartbeatMs);
        this.#wake = () => {
          clearTimeout(t);
          resolve(false);
        };
      });
      this.#wake = null;
      if (timedOut && !this.#closed) await this.stream.write(": ping\n\n");
    }
  }
}
