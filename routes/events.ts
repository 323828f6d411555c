/**
 * GET /events: the live stream (server-sent events).
 *
 * One way, no reads back: committed events arrive on the bus carrying the
 * ticket as the change left it. Events that arrive together form a batch;
 * work every page shares (rendering each card, the counts) is done once per
 * batch, and each filter's frames once per filter (a group), with at most one
 * store query more (a search match). The same bytes are then enqueued on the
 * stream of every client watching that filter.
 *
 * Lossless by construction: a client joins its filter's group first (live
 * frames are buffered), replays every event after its Last-Event-ID from the
 * table, then drains the buffer skipping ids it already sent — no gap and no
 * duplicate at the seam.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { EventBus } from "../db/bus.ts";
import type { TicketEvent, TicketStore } from "../db/store.ts";
import type { Logger } from "../log.ts";
import {
  filterKey,
  readStreamFilter,
  type StreamFilter,
} from "../lib/live_filter.ts";
import type { AppEnv } from "./context.ts";
import { textProblem } from "./validation.ts";
import { type PresenceBoard, presenceJson } from "./presence.ts";

export type { StreamFilter };

export interface SseMessage {
  /** A named event becomes a DOM event; unnamed messages are swapped by htmx. */
  event?: string;
  data: string;
  /** One line of JSON for the browser's desktop notification (one per event per browser). */
  note?: string;
}

/**
 * Turns batches of committed events into messages: `prepare` does what every
 * filter shares, once per batch; `compose` gives one filter's message per
 * event (null: nothing to show, the client gets just the id).
 */
export interface LiveComposer<Shared = unknown> {
  prepare(events: TicketEvent[]): Promise<Shared>;
  compose(
    shared: Shared,
    filter: StreamFilter,
    events: TicketEvent[],
  ): Promise<(SseMessage | null)[]>;
}

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
  composer: LiveComposer;
  live?: Partial<LiveOptions>;
  /** Aborted when the server shuts down: open streams end, so shutdown need not wait on them. */
  signal?: AbortSignal;
  /** Whether the session (by id hash) behind a stream may still be used; streams of ended ones close. */
  sessionAlive?: (hash: string) => Promise<boolean>;
  /** Who has which ticket open: sent to every stream when it opens and whenever it changes. */
  presence?: PresenceBoard;
  /** Whether a requester's token opens a request now (a stream watching one that does not is refused). */
  requestOpens?: (token: string) => Promise<boolean>;
}

const REPLAY_PAGE = 500;
/** Filters one stream may watch: a browser's tabs rarely show more than a few distinct ones. */
const MAX_WATCHES = 32;
/** Frames a replay may run ahead of its reader before waiting for it. */
const REPLAY_AHEAD = 64;
/** Rendered frames kept for replays (per event and filter). */
const CACHE_SIZE = 4096;

/** Parses Last-Event-ID (or `after` for the first connect); null when absent or not an id. */
function readLastId(header: string | undefined, after: string | undefined) {
  const raw = header ?? after;
  return raw !== undefined && /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/**
 * One SSE frame as bytes: `id:`, the filter's channel (`f:`, a field that
 * EventSource ignores and the shared connection reads), optional `event:`,
 * and the data split into lines.
 */
function frameBytes(
  id: number,
  channel: string,
  msg: SseMessage | null,
  quiet: boolean,
): Uint8Array {
  const head = `id: ${id}\nf: ${channel}\n`;
  // A requester's stream hears of its own ticket only: not even the ids of
  // the desk's other events (how busy the desk is) reach it.
  if (!msg) return quiet ? EMPTY : encoder.encode(`${head}\n`);
  const data = msg.data.split(/\r\n|\r|\n/).map((l) => `data: ${l}`).join(
    "\n",
  );
  const note = msg.note ? `note: ${msg.note}\n` : "";
  return encoder.encode(
    `${head}${msg.event ? `event: ${msg.event}\n` : ""}${note}${data}\n\n`,
  );
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) (out.set(c, at), at += c.length);
  return out;
}

/** Counts of open streams, the filters they watch, and drops, for tests, benchmarks and the log. */
export interface LiveStats {
  /** Open streams (one per browser with the shared connection, else one per tab). */
  clients: number;
  /** Filters watched over all streams. */
  watches: number;
  dropped: number;
}

interface Frame {
  id: number;
  bytes: Uint8Array;
}

/** Every watch of the same filter, over all streams: frames are made once for all of them. */
class Group {
  readonly watches = new Set<Watch>();
  #batches: Promise<Frame[]>[] = [];
  #flushing = false;

  constructor(
    readonly filter: StreamFilter,
    readonly key: string,
    readonly frames: (
      events: TicketEvent[],
      shared: Promise<unknown>,
      filter: StreamFilter,
      key: string,
    ) => Promise<Frame[]>,
  ) {}

  /** A batch of committed events: render it (once) and deliver it in id order. */
  push(events: TicketEvent[], shared: Promise<unknown>) {
    this.#batches.push(this.frames(events, shared, this.filter, this.key));
    if (!this.#flushing) void this.#flush();
  }

  async #flush() {
    this.#flushing = true;
    try {
      while (this.#batches.length > 0) {
        const frames = await this.#batches.shift()!;
        const bytes = concat(frames.map((f) => f.bytes));
        for (const w of this.watches) w.deliver(frames, bytes);
      }
    } finally {
      this.#flushing = false;
    }
  }
}

/**
 * Writes what is ready for a stream once per tick: frames of several watches
 * (a browser's tabs), of batches that landed together, a presence change and
 * a heartbeat all go out as one chunk, one write to the socket.
 */
class Ticker {
  #due = new Set<Connection>();
  #scheduled = false;

  /** Flushes `conn` at the end of this tick. */
  later(conn: Connection) {
    this.#due.add(conn);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      const due = [...this.#due];
      this.#due.clear();
      for (const c of due) c.flush();
    }, 0);
  }
}

/**
 * One open stream: a byte stream its reader takes at its own pace, never
 * awaited by anyone. It carries one or more watches (a browser's shared
 * connection carries every filter its tabs watch). Kept small: a thousand
 * of them stay open at once.
 */
class Connection {
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  #pending: Uint8Array[] | null = null;
  #drained: (() => void) | null = null;
  readonly watches: Watch[] = [];
  readonly body: ReadableStream<Uint8Array>;

  constructor(
    readonly opts: LiveOptions,
    readonly ticker: Ticker,
    readonly onClose: (conn: Connection, dropped: boolean) => void,
    /** The session the stream was opened under (its id hash). */
    readonly session?: string,
    /** The request that opened it, for the log (the stream must not keep its context). */
    readonly requestId?: string,
  ) {
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => this.#wake(),
      // The reader went away: nothing more can be written to it.
      cancel: () => this.close(false, true),
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  #wake() {
    const d = this.#drained;
    this.#drained = null;
    d?.();
  }

  /** Queues bytes for this tick's write. */
  send(bytes: Uint8Array) {
    if (this.#closed || bytes.length === 0) return;
    if (this.#pending) this.#pending.push(bytes);
    else {
      this.#pending = [bytes];
      this.ticker.later(this);
    }
  }

  /** Writes what is queued as one chunk; a reader that stops reading is dropped (it catches up by replay). */
  flush() {
    const pending = this.#pending;
    this.#pending = null;
    if (this.#closed || !pending) return;
    try {
      this.#controller.enqueue(concat(pending));
    } catch {
      // Cancelled or errored between the send and this tick: it is gone.
      this.close(false, true);
      return;
    }
    // desiredSize = highWaterMark (1) - chunks queued and unread.
    if ((this.#controller.desiredSize ?? 0) < -this.opts.queueLimit) {
      this.close(true);
    }
  }

  /** Writes what is queued, then resolves once the reader is within `ahead` chunks (replays go at its pace). */
  async paced(ahead: number): Promise<void> {
    this.flush();
    while (!this.#closed && (this.#controller.desiredSize ?? 0) < -ahead) {
      await new Promise<void>((r) => this.#drained = r);
    }
  }

  /** Ends the stream (the browser reconnects and replays); `gone` when its reader cancelled it. */
  close(dropped: boolean, gone = false) {
    if (this.#closed) return;
    if (!gone) this.flush();
    if (this.#closed) return; // the flush found it gone, and closed it
    this.#closed = true;
    this.#pending = null;
    this.#wake();
    try {
      this.#controller.close();
    } catch { /* already closed or cancelled */ }
    this.onClose(this, dropped);
  }
}

/** One filter watched on a stream, with its own cursor: replay first, then live frames. */
class Watch {
  #buffer: Frame[] | null = []; // live frames held back while replaying
  #lastSent = 0;

  constructor(readonly conn: Connection, readonly group: Group) {}

  /** Live frames from the group (the bytes are shared with every other watch of it). */
  deliver(frames: Frame[], bytes: Uint8Array) {
    if (this.conn.closed || frames.length === 0) return;
    if (this.#buffer) {
      this.#buffer.push(...frames);
      // Replaying for so long that live frames pile up: start over later.
      if (this.#buffer.length > this.conn.opts.queueLimit * 10) {
        this.conn.close(true);
      }
      return;
    }
    if (frames[0]!.id > this.#lastSent) {
      if (bytes.length > 0) this.conn.send(bytes);
      this.#lastSent = frames.at(-1)!.id;
      return;
    }
    for (const f of frames) this.#sendFrame(f);
  }

  #sendFrame(f: Frame) {
    if (f.id <= this.#lastSent) return;
    if (f.bytes.length > 0) this.conn.send(f.bytes);
    this.#lastSent = f.id;
  }

  /** Replays what the page missed, then releases the live frames held meanwhile. */
  async start(
    store: TicketStore,
    lastId: number | null,
    render: (events: TicketEvent[]) => Promise<Frame[]>,
  ) {
    if (lastId !== null) {
      this.#lastSent = lastId;
      await this.#replay(store, lastId, render);
    }
    const held = this.#buffer ?? [];
    this.#buffer = null;
    for (const f of held) this.#sendFrame(f);
    this.conn.flush();
  }

  async #replay(
    store: TicketStore,
    lastId: number,
    render: (events: TicketEvent[]) => Promise<Frame[]>,
  ) {
    const latest = await store.latestEventId();
    if (lastId >= latest) {
      // Up to date, or an id from another (reset) database: then start afresh.
      if (lastId > latest) this.#reload(latest);
      return;
    }
    const cutoff = Date.now() - this.conn.opts.retentionMs;
    let first = true;
    while (!this.conn.closed) {
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
      for (const f of await render(page)) {
        await this.conn.paced(REPLAY_AHEAD);
        if (this.conn.closed) return;
        this.#sendFrame(f);
      }
    }
  }

  #reload(latest: number) {
    this.conn.send(
      encoder.encode(
        `id: ${latest}\nf: ${this.group.key}\nevent: reload\ndata: \n\n`,
      ),
    );
    this.#lastSent = latest;
  }
}

/** The filters a stream watches, each with the event id to resume after. */
function readWatches(
  c: {
    req: {
      query(n: string): string | undefined;
      queries(n: string): string[] | undefined;
      header(n: string): string | undefined;
    };
  },
  viewer: string,
): { filter: StreamFilter; after: number | null }[] | null {
  const channels = c.req.queries("watch");
  if (!channels) {
    // One filter in the URL itself: a tab's own stream (no shared connection).
    const filter = readStreamFilter((n) => c.req.query(n), viewer);
    const after = readLastId(
      c.req.header("last-event-id"),
      c.req.query("after"),
    );
    return filter ? [{ filter, after }] : null;
  }
  const afters = c.req.queries("after") ?? [];
  if (channels.length > MAX_WATCHES || afters.length !== channels.length) {
    return null;
  }
  const out: { filter: StreamFilter; after: number | null }[] = [];
  for (const [i, channel] of channels.entries()) {
    const params = new URLSearchParams(channel);
    const filter = readStreamFilter(
      (n) => params.get(n) ?? undefined,
      viewer,
    );
    if (!filter) return null;
    out.push({ filter, after: readLastId(undefined, afters[i]) });
  }
  return out;
}

/** Builds the SSE sub-app. */
export function events(deps: EventsDeps) {
  const opts = { ...DEFAULT_LIVE, ...deps.live };
  const stats: LiveStats = { clients: 0, watches: 0, dropped: 0 };
  const ticker = new Ticker();
  const connections = new Set<Connection>();
  const groups = new Map<string, Group>();
  // Rendered frames by event id and filter, shared by live delivery and replay.
  const cache = new Map<string, Frame>();
  const remember = (key: string, f: Frame) => {
    cache.set(`${f.id}|${key}`, f);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  };

  /** One filter's frames for a batch; an unrenderable batch still delivers its ids. */
  const frames = async (
    events: TicketEvent[],
    shared: Promise<unknown>,
    filter: StreamFilter,
    key: string,
  ): Promise<Frame[]> => {
    let msgs: (SseMessage | null)[];
    try {
      msgs = await deps.composer.compose(await shared, filter, events);
    } catch (err) {
      deps.logger.warn("live frames failed", { error: String(err) });
      msgs = events.map(() => null);
    }
    const quiet = filter.request !== undefined;
    return events.map((e, i) => {
      const f = {
        id: e.id,
        bytes: frameBytes(e.id, key, msgs[i] ?? null, quiet),
      };
      remember(key, f);
      return f;
    });
  };

  // Events published together (one commit's worth) are composed as one batch.
  let pending: TicketEvent[] = [];
  deps.bus.subscribe((e) => {
    pending.push(e);
    if (pending.length > 1) return;
    queueMicrotask(() => {
      const batch = pending;
      pending = [];
      if (groups.size === 0) return;
      const shared = deps.composer.prepare(batch);
      shared.catch(() => {}); // each group reports its own failure
      for (const g of groups.values()) g.push(batch, shared);
    });
  });

  /** Frames for a replay page: from the cache when every one is there, else rendered now. */
  const replayFrames =
    (filter: StreamFilter, key: string) => async (events: TicketEvent[]) => {
      const hits = events.map((e) => cache.get(`${e.id}|${key}`));
      if (hits.every((f) => f !== undefined)) return hits as Frame[];
      return await frames(events, deps.composer.prepare(events), filter, key);
    };

  // Presence rides the same streams: frames without an id (nothing to
  // replay: a reconnecting stream gets the whole picture again).
  const presenceFrame = (json: string) =>
    encoder.encode(`event: presence\ndata: ${json}\n\n`);
  const unsubscribePresence = deps.presence?.subscribe((changed) => {
    const bytes = presenceFrame(presenceJson(changed));
    for (const c of connections) c.send(bytes);
  });

  const ping = encoder.encode(": ping\n\n");
  const heartbeat = setInterval(() => {
    for (const c of connections) c.send(ping);
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
      const bySession = new Map<string, Connection[]>();
      for (const c of connections) {
        if (!c.session) continue;
        bySession.set(c.session, [...bySession.get(c.session) ?? [], c]);
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
    unsubscribePresence?.();
    for (const c of [...connections]) c.close(false);
  });

  /** A stream ended: it leaves its groups (and an empty group goes). */
  const closed = (conn: Connection, dropped: boolean) => {
    connections.delete(conn);
    for (const w of conn.watches) {
      w.group.watches.delete(w);
      if (w.group.watches.size === 0) groups.delete(w.group.key);
    }
    stats.clients--;
    stats.watches -= conn.watches.length;
    if (dropped) {
      stats.dropped++;
      deps.logger.info("slow live client dropped", {
        request_id: conn.requestId,
      });
    }
  };

  const serve = async (c: Context<AppEnv>) => {
    if (deps.signal?.aborted) return c.text("Shutting down", 503);
    const watches = readWatches(c, c.get("user")?.username ?? "");
    if (
      !watches ||
      watches.some(({ filter }) =>
        [filter.q, filter.product_id, filter.assignee ?? undefined].some((v) =>
          v !== undefined && textProblem(v, false)
        )
      )
    ) {
      return c.text("The stream's filters name nothing this desk shows", 400);
    }
    const requests = watches.filter((w) => w.filter.request !== undefined);
    if (requests.length > 0 && requests.length < watches.length) {
      // A requester's stream needs no session, so it never carries anything else.
      return c.text("A requester's stream watches requests only", 400);
    }
    for (const { filter } of requests) {
      if (!await deps.requestOpens?.(filter.request!)) {
        return c.text("No request has this link", 404);
      }
    }
    const conn = new Connection(
      opts,
      ticker,
      closed,
      c.get("session"),
      c.get("requestId"),
    );
    connections.add(conn);
    stats.clients++;
    conn.send(
      encoder.encode(`retry: ${opts.retryMs}\nevent: hello\ndata: \n\n`),
    );
    if (deps.presence) {
      conn.send(presenceFrame(presenceJson(deps.presence.snapshot())));
    }
    const starts = watches.map(({ filter, after }) => {
      const key = filterKey(filter);
      let group = groups.get(key);
      if (!group) {
        group = new Group(filter, key, frames);
        groups.set(key, group);
      }
      const w = new Watch(conn, group);
      group.watches.add(w);
      conn.watches.push(w);
      stats.watches++;
      return () => w.start(deps.store, after, replayFrames(filter, key));
    });
    // Every watch has joined its group (live frames are held) before any replay reads.
    Promise.all(starts.map((start) => start())).catch((err) => {
      deps.logger.warn("live stream failed", { error: String(err) });
      conn.close(false);
    });
    return new Response(conn.body, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no", // nginx: do not buffer the stream
      },
    });
  };

  const app = new Hono<AppEnv>();
  app.get("/events", serve);
  /**
   * Mounted before the session guard: serves a stream that watches requester
   * channels only (their tokens are the credential, checked above), and
   * passes every other stream on to the guard and `app`.
   */
  const requesterStreams: MiddlewareHandler<AppEnv> = async (c, next) => {
    // No session here: `@me` means nobody (a requester channel has no owner anyway).
    const watches = readWatches(c, "");
    if (watches?.length && watches.every((w) => w.filter.request)) {
      return await serve(c);
    }
    return await next();
  };
  return { app, stats, requesterStreams };
}
