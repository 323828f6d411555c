/**
 * GET /events: the live stream (server-sent events).
 *
 * Lossless by construction: a client joins its filter's group first (live
 * frames are buffered), replays every event after its Last-Event-ID from the
 * table, then drains the buffer skipping ids it already sent — no gap and no
 * duplicate at the seam.
 *
 * Cheap per client: each event is rendered and encoded ONCE per filter (a
 * group), and the same bytes are enqueued on every client's stream; frames
 * that are ready together go out as one chunk. Writing through Hono's
 * streamSSE re-encoded every frame per client and cost most of the CPU with a
 * thousand dashboards open.
 */
import { Hono } from "hono";
import type { EventBus } from "../db/bus.ts";
import type { TicketEvent, TicketStore } from "../db/store.ts";
import type { Logger } from "../log.ts";
import type { AppEnv } from "./context.ts";
import { textProblem } from "./validation.ts";

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
  /** Chunks a client may leave unread; past that it is dropped and catches up by replay. */
  queueLimit: number;
  /** The reconnect delay suggested to browsers. */
  retryMs: number;
  /** How often the sessions behind open streams are checked: a stream ends soon after its session. */
  sessionCheckMs: number;
}

export const DEFAULT_LIVE: LiveOptions = {
  heartbeatMs: 15_000,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  queueLimit: 500,
  retryMs: 1_000,
  sessionCheckMs: 2_000,
};

export interface EventsDeps {
  store: TicketStore;
  bus: EventBus;
  logger: Logger;
  compose: ComposeMessage;
  live?: Partial<LiveOptions>;
  /** Aborted when the server shuts down: open streams end, so shutdown need not wait on them. */
  signal?: AbortSignal;
  /** Whether the session (by id hash) behind a stream may still be used; streams of ended ones close. */
  sessionAlive?: (hash: string) => Promise<boolean>;
}

const REPLAY_PAGE = 500;
/** Frames a replay may run ahead of its reader before waiting for it. */
const REPLAY_AHEAD = 64;
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

const encoder = new TextEncoder();

/** One SSE frame as bytes: `id:`, optional `event:`, and the data split into lines. */
function frameBytes(id: number, msg: SseMessage | null): Uint8Array {
  if (!msg) return encoder.encode(`id: ${id}\n\n`);
  const data = msg.data.split(/\r\n|\r|\n/).map((l) => `data: ${l}`).join(
    "\n",
  );
  return encoder.encode(
    `id: ${id}\n${msg.event ? `event: ${msg.event}\n` : ""}${data}\n\n`,
  );
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) (out.set(c, at), at += c.length);
  return out;
}

/** Counts of connected clients, for tests, benchmarks and the log. */
export interface LiveStats {
  clients: number;
  dropped: number;
}

interface Frame {
  id: number;
  bytes: Uint8Array | null;
  ready: Promise<Uint8Array>;
}

/** Every client watching the same filter: frames are made once for all of them. */
class Group {
  readonly clients = new Set<LiveClient>();
  #pending: Frame[] = [];
  #flushing = false;

  constructor(
    readonly filter: StreamFilter,
    readonly frame: (e: TicketEvent) => Promise<Uint8Array>,
  ) {}

  /** A committed event: render it (once) and deliver it in id order. */
  push(e: TicketEvent) {
    const f: Frame = { id: e.id, bytes: null, ready: this.frame(e) };
    f.ready.then((b) => (f.bytes = b), () => {});
    this.#pending.push(f);
    if (!this.#flushing) void this.#flush();
  }

  async #flush() {
    this.#flushing = true;
    try {
      while (this.#pending.length > 0) {
        const first = this.#pending[0]!;
        try {
          await first.ready;
        } catch {
          first.bytes = frameBytes(first.id, null); // unrenderable: keep the id
        }
        // Everything already rendered behind it goes in the same chunk.
        let n = 0;
        while (n < this.#pending.length && this.#pending[n]!.bytes) n++;
        const frames = this.#pending.splice(0, Math.max(n, 1));
        const ids = frames.map((f) => f.id);
        const bytes = concat(frames.map((f) => f.bytes!));
        for (const c of this.clients) c.deliver(ids, frames, bytes);
      }
    } finally {
      this.#flushing = false;
    }
  }
}

/** One connected tab: a byte stream it reads at its own pace, never awaited by anyone. */
class LiveClient {
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #buffer: Frame[] | null = []; // live frames held back while replaying
  #lastSent = 0;
  #closed = false;
  #drained: (() => void) | null = null;
  readonly body: ReadableStream<Uint8Array>;

  constructor(
    readonly group: Group,
    readonly opts: LiveOptions,
    readonly onClose: (dropped: boolean) => void,
    /** The session the stream was opened under (its id hash). */
    readonly session?: string,
  ) {
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => {
        this.#drained?.();
        this.#drained = null;
      },
      cancel: () => this.close(false),
    });
  }

  /** Enqueues bytes; a client that stops reading is dropped (it catches up by replay). */
  #send(bytes: Uint8Array) {
    if (this.#closed) return;
    this.#controller.enqueue(bytes);
    // desiredSize = highWaterMark (1) - chunks queued and unread.
    if ((this.#controller.desiredSize ?? 0) < -this.opts.queueLimit) {
      this.close(true);
    }
  }

  /** Live frames from the group (the bytes are shared with every other client). */
  deliver(ids: number[], frames: Frame[], bytes: Uint8Array) {
    if (this.#closed) return;
    if (this.#buffer) {
      this.#buffer.push(...frames);
      // Replaying for so long that live frames pile up: start over later.
      if (this.#buffer.length > this.opts.queueLimit * 10) this.close(true);
      return;
    }
    if (ids[0]! > this.#lastSent) {
      this.#send(bytes);
      this.#lastSent = ids.at(-1)!;
      return;
    }
    for (const f of frames) this.#sendFrame(f);
  }

  #sendFrame(f: Frame) {
    if (f.id <= this.#lastSent || !f.bytes) return;
    this.#send(f.bytes);
    this.#lastSent = f.id;
  }

  comment(bytes: Uint8Array) {
    this.#send(bytes);
  }

  /** Replays what the client missed, then releases the live frames held meanwhile. */
  async start(store: TicketStore, lastId: number | null) {
    this.#send(
      encoder.encode(`retry: ${this.opts.retryMs}\nevent: hello\ndata: \n\n`),
    );
    if (lastId !== null) {
      this.#lastSent = lastId;
      await this.#replay(store, lastId);
    }
    const held = this.#buffer ?? [];
    this.#buffer = null;
    for (const f of held) this.#sendFrame(f);
  }

  async #replay(store: TicketStore, lastId: number) {
    const latest = await store.latestEventId();
    if (lastId >= latest) {
      // Up to date, or an id from another (reset) database: then start afresh.
      if (lastId > latest) this.#reload(latest);
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
        // would mislead, so the page refetches its list instead.
        return this.#reload(latest);
      }
      first = false;
      for (const e of page) {
        if (this.#closed) return;
        // Replay goes at the reader's pace: a long catch-up is not a slow client.
        while ((this.#controller.desiredSize ?? 0) < -REPLAY_AHEAD) {
          await new Promise<void>((r) => (this.#drained = r));
          if (this.#closed) return;
        }
        this.#send(await this.group.frame(e));
        this.#lastSent = e.id;
      }
    }
  }

  #reload(latest: number) {
    this.#send(encoder.encode(`id: ${latest}\nevent: reload\ndata: \n\n`));
    this.#lastSent = latest;
  }

  /** Ends the stream (the browser reconnects and replays). */
  close(dropped: boolean) {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer = null;
    this.#drained?.();
    try {
      this.#controller.close();
    } catch { /* already closed or cancelled */ }
    this.onClose(dropped);
  }
}

/** Builds the SSE sub-app. */
export function events(deps: EventsDeps) {
  const opts = { ...DEFAULT_LIVE, ...deps.live };
  const stats: LiveStats = { clients: 0, dropped: 0 };
  const groups = new Map<string, Group>();
  // Rendered frames, shared by live delivery and replay.
  const cache = new Map<string, Promise<Uint8Array>>();
  const frameFor = (f: StreamFilter, key: string) => (e: TicketEvent) => {
    const k = `${e.id}|${key}`;
    let p = cache.get(k);
    if (!p) {
      p = deps.compose(e, f).then((msg) => frameBytes(e.id, msg));
      cache.set(k, p);
      if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    return p;
  };

  deps.bus.subscribe((e) => {
    for (const g of groups.values()) g.push(e);
  });
  const ping = encoder.encode(": ping\n\n");
  const heartbeat = setInterval(() => {
    for (const g of groups.values()) for (const c of g.clients) c.comment(ping);
  }, opts.heartbeatMs);
  heartbeat.unref();
  // Logout, a password reset or a disabled user ends the session; its streams
  // must stop delivering too. Sessions are checked in the store (so this also
  // holds across instances), each distinct one once per round.
  let checking = false;
  const sessionCheck = setInterval(async () => {
    if (!deps.sessionAlive || checking) return;
    checking = true;
    try {
      const bySession = new Map<string, LiveClient[]>();
      for (const g of groups.values()) {
        for (const c of g.clients) {
          if (c.session) {
            bySession.set(c.session, [...bySession.get(c.session) ?? [], c]);
          }
        }
      }
      for (const [hash, clients] of bySession) {
        const alive = await deps.sessionAlive(hash).catch(() => true);
        if (!alive) { for (const c of clients) c.close(false); }
      }
    } finally {
      checking = false;
    }
  }, opts.sessionCheckMs);
  sessionCheck.unref();
  deps.signal?.addEventListener("abort", () => {
    clearInterval(heartbeat);
    clearInterval(sessionCheck);
    for (const g of groups.values()) {
      for (const c of [...g.clients]) c.close(false);
    }
  });

  const app = new Hono<AppEnv>();
  app.get("/events", (c) => {
    if (deps.signal?.aborted) return c.text("Shutting down", 503);
    const filter = readFilter((n) => c.req.query(n));
    const unusable = [filter.q, filter.product_id, filter.status].find((v) =>
      v !== undefined && textProblem(v, false)
    );
    if (unusable !== undefined) {
      return c.text("The stream's filter holds control characters", 400);
    }
    const lastId = readLastId(
      c.req.header("last-event-id"),
      c.req.query("after"),
    );
    const key = filterKey(filter);
    let group = groups.get(key);
    if (!group) {
      group = new Group(filter, frameFor(filter, key));
      groups.set(key, group);
    }
    const g = group;
    const client = new LiveClient(g, opts, (dropped) => {
      g.clients.delete(client);
      if (g.clients.size === 0) groups.delete(key);
      stats.clients--;
      if (dropped) {
        stats.dropped++;
        deps.logger.info("slow live client dropped", {
          request_id: c.get("requestId"),
        });
      }
    }, c.get("session"));
    g.clients.add(client);
    stats.clients++;
    client.start(deps.store, lastId).catch((err) => {
      deps.logger.warn("live stream failed", { error: String(err) });
      client.close(false);
    });
    return new Response(client.body, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no", // nginx: do not buffer the stream
      },
    });
  });
  return { app, stats };
}
