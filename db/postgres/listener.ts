/**
 * Multi-instance fan-out: every instance's SSE streams hear every instance's
 * committed events, in id order, each once.
 *
 * Design. A write commits its event row and `NOTIFY ticket_events, '<id>'` in
 * one transaction, so the notification exists only if the row does. Each
 * instance runs one listener: a dedicated connection that LISTENs on the
 * channel, and a high-water mark (the last event id it published). A
 * notification carries no data the listener trusts; it only says "look": the
 * listener then reads `eventsAfter(mark)` from the table and publishes those
 * rows on the local bus in id order, moving the mark. So lost or coalesced
 * notifications cannot create a gap, and a reconnect needs no special replay:
 * after LISTEN succeeds again it reads from the mark, as after any
 * notification. A slow poll (every few seconds) does the same, in case a
 * connection dies silently. The mark never skips a lower id committed late,
 * because ticket writes hold one advisory lock to commit, so ids commit in
 * order (see lockWrites in writes.ts).
 *
 * One path to the bus: in Postgres mode the store never publishes directly.
 * Its own writes are published by this listener like everyone else's; the
 * store pokes the listener after commit and waits (briefly) until the mark
 * has passed its event, so a write still resolves after its event is on the
 * bus, as with SQLite, and the order on the bus is always id order.
 */
import postgres from "postgres";
import type { EventBus } from "../bus.ts";
import type { TicketEvent } from "../store.ts";
import { EVENTS_CHANNEL, SIGNALS_CHANNEL } from "./writes.ts";

export interface EventListenerOptions {
  url: string;
  /** The schema of the events table, when not the server's default. */
  schema?: string;
  bus: EventBus;
  /**
   * Reads committed events after an id, oldest first (the store's
   * eventsAfter). Once it has the rows it asks `known` (with their ids) for
   * this instance's own events, whole, which need no reading back.
   */
  read: (
    afterId: number,
    limit: number,
    known: (
      ids: readonly number[],
    ) => Promise<ReadonlyMap<number, TicketEvent>>,
  ) => Promise<TicketEvent[]>;
  /** Publish only events above this id (the newest event when the instance started). */
  fromId: number;
  /** How often to look without a notification, in ms (5000 unless told). */
  pollMs?: number;
}

const BATCH = 500;
const MAX_BACKOFF_MS = 5000;

/** Listens for committed events and publishes them on the local bus, in id order, each once. */
export class PostgresEventListener {
  #mark: number;
  #conn: postgres.Sql;
  #closed = false;
  #listening = false;
  #pumping = false;
  #again = false;
  #waiters: { id: number; resolve: () => void }[] = [];
  #poll: ReturnType<typeof setInterval>;
  #retry: ReturnType<typeof setTimeout> | null = null;
  #backoff = 100;
  #pid = 0;

  constructor(readonly opts: EventListenerOptions) {
    this.#mark = opts.fromId;
    const options = {
      max: 1,
      // A listening connection must stay open: no idle or lifetime limit.
      idle_timeout: 0,
      max_lifetime: null,
      onnotice: () => {},
      onnotify: (channel: string, payload: string) => {
        if (channel === SIGNALS_CHANNEL) this.#signal(payload);
        else this.poke();
      },
      onclose: () => this.#lost(),
      connection: {
        application_name: "ticket_desk_listener",
        ...(opts.schema ? { search_path: opts.schema } : {}),
      },
    };
    // onnotify is what postgres.js's own listen() uses; its types leave it out.
    this.#conn = postgres(opts.url, options as postgres.Options<never>);
    this.#poll = setInterval(() => this.poke(), opts.pollMs ?? 5000);
  }

  #signalListeners = new Set<(payload: string) => void>();

  #signal(payload: string) {
    for (const l of this.#signalListeners) {
      try {
        l(payload);
      } catch { /* one listener's failure is not the others' */ }
    }
  }

  /** Hears every instance's signals (presence), this one's included. */
  listenSignals(listener: (payload: string) => void): () => void {
    this.#signalListeners.add(listener);
    return () => this.#signalListeners.delete(listener);
  }

  /** The id of the last event published. */
  get mark(): number {
    return this.#mark;
  }

  /** The server process of the LISTEN connection (tests end it to test reconnects). */
  get backendPid(): number {
    return this.#pid;
  }

  /** True while the LISTEN connection is up. */
  get listening(): boolean {
    return this.#listening;
  }

  /** Starts listening; resolves once LISTEN is in force (or rejects if the database is down). */
  async start(): Promise<void> {
    await this.#conn.unsafe(`LISTEN ${EVENTS_CHANNEL}`);
    await this.#conn.unsafe(`LISTEN ${SIGNALS_CHANNEL}`);
    const [r] = await this.#conn`SELECT pg_backend_pid() AS pid`;
    this.#pid = Number(r!.pid);
    this.#listening = true;
    this.poke();
  }

  /** Reads and publishes whatever is new; runs at most one read loop at a time. */
  poke(): void {
    if (this.#closed) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    this.#pump().finally(() => this.#pumping = false);
  }

  /**
   * This instance's committed events, whole (the ticket as the change left
   * it): the pump publishes these instead of reading their tickets back.
   */
  #own = new Map<number, TicketEvent>();

  /** This instance's commits in flight: each ends once its events are in #own. */
  #committing = new Set<Promise<void>>();

  /**
   * Runs one of this instance's commits. Its events are known (published
   * whole, never read back) before it counts as ended: a read whose rows came
   * back meanwhile waits for it (#knownNow), so a notification heard before
   * the commit's answer cannot make the pump read a ticket back as a later
   * commit left it.
   */
  async committing<T>(
    run: () => Promise<T>,
    eventsOf: (value: T) => TicketEvent[],
  ): Promise<T> {
    const { promise: ended, resolve } = Promise.withResolvers<void>();
    this.#committing.add(ended);
    try {
      const value = await run();
      for (const e of eventsOf(value)) {
        if (e.id > this.#mark) this.#own.set(e.id, e);
      }
      return value;
    } finally {
      this.#committing.delete(ended);
      resolve();
    }
  }

  /**
   * This instance's own events among `ids` (the rows a read got): when one is
   * not known yet, once every commit in flight as the rows came back has
   * ended, since an own event among them belongs to one of those. Commits
   * begun later cannot hold such a row, and rows all known wait for nothing.
   */
  #knownNow = async (
    ids: readonly number[],
  ): Promise<ReadonlyMap<number, TicketEvent>> => {
    if (this.#committing.size > 0 && ids.some((id) => !this.#own.has(id))) {
      await Promise.all([...this.#committing]);
    }
    return this.#own;
  };

  /** Resolves once event `id` has been published (or after `timeoutMs`, whichever is first). */
  reached(id: number, timeoutMs = 5000): Promise<void> {
    if (this.#mark >= id || this.#closed) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    const timer = setTimeout(resolve, timeoutMs);
    this.#waiters.push({
      id,
      resolve: () => {
        clearTimeout(timer);
        resolve();
      },
    });
    this.poke();
    return promise;
  }

  /** Stops listening and releases every waiter. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#poll);
    if (this.#retry) clearTimeout(this.#retry);
    this.#own.clear();
    for (const w of this.#waiters.splice(0)) w.resolve();
    await this.#conn.end({ timeout: 1 });
  }

  async #pump(): Promise<void> {
    try {
      do {
        this.#again = false;
        let batch: TicketEvent[];
        do {
          batch = await this.opts.read(this.#mark, BATCH, this.#knownNow);
          for (const e of batch) {
            if (this.#closed) return;
            if (e.id <= this.#mark) continue;
            this.#mark = e.id;
            this.#own.delete(e.id);
            this.opts.bus.publish(e);
          }
          this.#release();
        } while (batch.length === BATCH);
      } while (this.#again && !this.#closed);
    } catch {
      // The database is away: the poll or the reconnect will look again.
    }
  }

  #release() {
    if (this.#waiters.length === 0) return;
    const ready = this.#waiters.filter((w) => w.id <= this.#mark);
    this.#waiters = this.#waiters.filter((w) => w.id > this.#mark);
    for (const w of ready) w.resolve();
  }

  /** The LISTEN connection closed: listen again, backing off, then catch up from the mark. */
  #lost() {
    this.#listening = false;
    if (this.#closed || this.#retry) return;
    this.#retry = setTimeout(async () => {
      this.#retry = null;
      if (this.#closed) return;
      try {
        await this.start();
        this.#backoff = 100;
      } catch {
        this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
        this.#lost();
      }
    }, this.#backoff);
  }
}
