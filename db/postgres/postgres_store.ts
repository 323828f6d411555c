/**
 * The PostgreSQL TicketStore: ticket writes group-committed on a pooled
 * connection, events announced with NOTIFY and published by the listener.
 */
import type { EventBus, SignalBus } from "../bus.ts";
import {
  type AccountStore,
  type ApiKey,
  type AttemptRecord,
  type BoardLayout,
  type BulkOutcome,
  type Comment,
  type CreateResult,
  type DeliveryAttempt,
  type DueDelivery,
  type IdempotencyOptions,
  type ListFilter,
  type NewApiKey,
  type NewTicket,
  type NewWebhook,
  type OwnerCounts,
  type OwnerGuard,
  type ProductCount,
  type ReportFacts,
  type ReportQuery,
  type RequesterReplyResult,
  type RequestView,
  type Role,
  type SessionRecord,
  type StatusCounts,
  StorageUnavailableError,
  StoreError,
  type StoreHealth,
  type TicketEvent,
  type TicketPage,
  type TicketPatch,
  type TicketStore,
  type TicketSummary,
  type TicketWithComments,
  type User,
  type Visibility,
  type WebhookEndpoint,
  type WriteContext,
  type WriteResult,
} from "../store.ts";
import {
  mapStorageError,
  openPool,
  type Sql,
  type TransactionSql,
} from "./connection.ts";
import { migrate } from "./migrate.ts";
import * as reads from "./reads.ts";
import { reportFacts } from "./reports.ts";
import * as writes from "./writes.ts";
import { SIGNALS_CHANNEL } from "./writes.ts";
import * as accounts from "./accounts.ts";
import * as webhooks from "./webhooks.ts";
import { PostgresEventListener } from "./listener.ts";
import {
  commitFigures,
  type CommitStats,
  GroupCommitter,
  type Outcome,
} from "../group_commit.ts";

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Where committed events go. With a bus, the store listens for every instance's events. */
  bus?: EventBus;
  /** Tables live in this schema (tests use a fresh one each); default: the server's search_path. */
  schema?: string;
  /** Pool size (10 unless told). */
  max?: number;
  /** Listen for events (default: when a bus is given). Off, a bus hears this instance's writes only. */
  listen?: boolean;
}

/**
 * One ticket write: its statements, run inside a batch's transaction; or a
 * create as data, which a run of them writes in two round trips (createTickets).
 */
type WriteJob = ((tx: Tx) => Promise<unknown>) | writes.CreateJob;

/** Opens (migrating if needed) a PostgreSQL store; StorageUnavailableError when the server is away. */
export async function openPostgresStore(
  opts: PostgresStoreOptions,
): Promise<PostgresStore> {
  const sql = openPool(opts.url, { max: opts.max, schema: opts.schema });
  let migrated: string[];
  let listener: PostgresEventListener | null = null;
  try {
    migrated = await migrate(sql);
    if (opts.bus && (opts.listen ?? true)) {
      listener = new PostgresEventListener({
        url: opts.url,
        schema: opts.schema,
        bus: opts.bus,
        read: (after, limit, known) =>
          reads.eventsAfter(sql, after, limit, known),
        fromId: await reads.latestEventId(sql),
      });
      await listener.start();
    }
  } catch (err) {
    await listener?.close();
    await sql.end({ timeout: 1 });
    const mapped = mapStorageError((err as Error).cause ?? err, "be opened");
    throw mapped instanceof StorageUnavailableError ? mapped : err;
  }
  return new PostgresStore(sql, migrated, opts.bus, listener);
}

type Tx = TransactionSql;

/** The events a ticket write's answer carries (`event`, or `events` for a bulk change). */
function eventsOfValue(value: unknown): TicketEvent[] {
  const { event, events } = (value ?? {}) as {
    event?: TicketEvent | null;
    events?: TicketEvent[];
  };
  return events ?? (event ? [event] : []);
}

/** The events a batch's writes committed, in order. */
function eventsOf(outcomes: Outcome[]): TicketEvent[] {
  return outcomes.flatMap((o) => o.ok ? eventsOfValue(o.value) : []);
}

/**
 * The jobs from `from` on that commit together: a run of creates with
 * distinct idempotency keys (a repeated key must see its twin's row), or a
 * run of other writes.
 */
function segment(jobs: readonly WriteJob[], from: number): WriteJob[] {
  const creates = typeof jobs[from] !== "function";
  const keys = new Set<string>();
  let end = from;
  for (; end < jobs.length; end++) {
    const job = jobs[end]!;
    if ((typeof job !== "function") !== creates) break;
    if (typeof job !== "function" && job.idempotency) {
      const k = `${job.idempotency.scope}\u0000${job.idempotency.key}`;
      if (keys.has(k)) break;
      keys.add(k);
    }
  }
  return jobs.slice(from, end);
}

/** PostgreSQL implementation of TicketStore and AccountStore. */
export class PostgresStore implements TicketStore, AccountStore {
  #closed = false;
  #inFlight = new Set<Promise<unknown>>();
  readonly #writes = new GroupCommitter<WriteJob>(
    (jobs) =>
      this.listener
        ? this.listener.committing(() => this.#commitBatch(jobs), eventsOf)
        : this.#commitBatch(jobs),
    256,
  );
  #purgeTimer: ReturnType<typeof setInterval>;

  constructor(
    readonly sql: Sql,
    /** Migrations this open applied. */
    readonly migrated: string[],
    readonly bus?: EventBus,
    /** Publishes every instance's events on the bus; null when not listening. */
    readonly listener: PostgresEventListener | null = null,
  ) {
    this.#purgeTimer = setInterval(
      () => this.purgeExpired().catch(() => {}),
      10 * 60 * 1000,
    );
    this.#purgeTimer.unref();
  }

  /** Runs a read; a closed store or an unreachable server is "storage unavailable" (503). */
  async #read<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.#closed) throw new StorageUnavailableError("The store is closed");
    try {
      return await fn(this.sql);
    } catch (err) {
      throw mapStorageError(err, "be read");
    }
  }

  /** Runs a ticket write in one transaction, then gets its event onto the bus before resolving. */
  #write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#track(() => this.#commit(fn));
  }

  /** Runs an account write on the pool (one statement, or its own transaction). */
  #account<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.#track(async () => {
      try {
        return await fn(this.sql);
      } catch (err) {
        throw mapStorageError(err, "take writes");
      }
    });
  }

  /** Refuses writes once closed; remembers the ones in flight so close() can wait for them. */
  #track<T>(run: () => Promise<T>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new StorageUnavailableError("The store is closed"));
    }
    const p = run();
    this.#inFlight.add(p);
    p.finally(() => this.#inFlight.delete(p)).catch(() => {});
    return p;
  }

  async #commit<T>(job: WriteJob): Promise<T> {
    const value = await this.#writes.submit(job) as T;
    const events = eventsOfValue(value);
    if (events.length > 0) {
      // One path to the bus: the listener publishes in id order (listener.ts),
      // the events as this batch left them (known to it since the commit).
      if (this.listener) await this.listener.reached(events.at(-1)!.id);
      else for (const e of events) this.bus?.publish(e);
    }
    return value;
  }

  /**
   * Signals between instances over LISTEN/NOTIFY (null without a listener: a
   * store opened without a bus hears nobody).
   */
  get signals(): SignalBus | null {
    const listener = this.listener;
    if (!listener) return null;
    return {
      send: async (payload) => {
        await this.sql`SELECT pg_notify(${SIGNALS_CHANNEL}, ${payload})`;
      },
      listen: (l) => listener.listenSignals(l),
    };
  }

  /** Commits made and writes they carried since open (group-commit sharing). */
  get commitStats(): CommitStats {
    return { ...this.#writes.stats };
  }

  /**
   * Ticket writes are serialized by the schema's write lock anyway
   * (writes.ts), so the writes that queue up while one transaction commits
   * share the next transaction and its one WAL flush. Every write checks
   * before it writes and throws its typed refusal before its first change, so
   * a refused write leaves nothing to undo; any other error aborts the batch,
   * which is then redone one write per transaction so that it fails alone.
   */
  async #commitBatch(jobs: WriteJob[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (let i = 0; i < jobs.length;) {
      const run = segment(jobs, i);
      i += run.length;
      if (typeof run[0] === "function") {
        const fns = run as ((tx: Tx) => Promise<unknown>)[];
        outcomes.push(
          ...await this.#runBatch(fns) ?? await this.#oneByOne(fns),
        );
        continue;
      }
      const creates = run as writes.CreateJob[];
      let fast: Outcome[] | null;
      try {
        fast = await writes.createTickets(this.sql, creates);
      } catch (err) {
        const error = mapStorageError(err, "take writes") as Error;
        outcomes.push(...creates.map(() => ({ ok: false as const, error })));
        continue;
      }
      outcomes.push(
        ...fast ??
          await this.#oneByOne(
            creates.map((j) => (tx: Tx) => writes.createTicket(tx, j.input, j)),
          ),
      );
    }
    return outcomes;
  }

  /** Each job in a transaction of its own, in order, so that one failing fails alone. */
  async #oneByOne(
    jobs: ((tx: Tx) => Promise<unknown>)[],
  ): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const j of jobs) outcomes.push((await this.#runBatch([j]))![0]!);
    return outcomes;
  }

  /** One transaction for `jobs`; null when a job failed in an unexpected way (batch undone). */
  async #runBatch(
    jobs: ((tx: Tx) => Promise<unknown>)[],
  ): Promise<Outcome[] | null> {
    const outcomes: Outcome[] = [];
    try {
      await this.sql.begin(async (tx) => {
        for (const j of jobs) {
          try {
            outcomes.push({ ok: true, value: await j(tx) });
          } catch (err) {
            if (!(err instanceof StoreError) || jobs.length === 1) throw err;
            outcomes.push({ ok: false, error: err });
          }
        }
      });
      return outcomes;
    } catch (err) {
      if (jobs.length > 1) return null;
      const error = err instanceof StoreError
        ? err
        : mapStorageError(err, "take writes");
      return [{ ok: false, error: error as Error }];
    }
  }

  createTicket(
    input: NewTicket,
    ctx: WriteContext & { idempotency?: IdempotencyOptions },
  ): Promise<CreateResult> {
    return this.#track(() =>
      this.#commit<CreateResult>({
        input,
        actor: ctx.actor,
        idempotency: ctx.idempotency,
      })
    );
  }

  getTicket(id: number): Promise<TicketWithComments | null> {
    return this.#read((sql) => reads.getTicket(sql, id));
  }

  listTickets(filter: ListFilter): Promise<TicketPage> {
    return this.#read((sql) => reads.listTickets(sql, filter));
  }

  countByStatus(): Promise<StatusCounts> {
    return this.#read((sql) => reads.countByStatus(sql));
  }

  countMatching(
    filter: Pick<ListFilter, "q" | "product_prefix" | "priority">,
    cap: number,
  ): Promise<OwnerCounts & { capped: boolean }> {
    return this.#read((sql) => reads.countMatching(sql, filter, cap));
  }

  countByOwner(): Promise<OwnerCounts> {
    return this.#read((sql) => reads.countByOwner(sql));
  }

  listProducts(limit: number): Promise<ProductCount[]> {
    return this.#read((sql) => reads.listProducts(sql, limit));
  }

  ticketActivity(id: number): Promise<TicketEvent[]> {
    return this.#read((sql) => reads.ticketActivity(sql, id));
  }

  updateTicket(
    id: number,
    patch: TicketPatch,
    ctx: WriteContext & OwnerGuard & { expectedVersion?: number },
  ): Promise<WriteResult<TicketSummary>> {
    return this.#write((tx) => writes.updateTicket(tx, id, patch, ctx));
  }

  async bulkUpdate(
    items: { id: number; expectedVersion?: number }[],
    patch: TicketPatch,
    ctx: WriteContext & OwnerGuard,
  ): Promise<BulkOutcome[]> {
    const { outcomes } = await this.#write((tx) =>
      writes.bulkUpdate(tx, items, patch, ctx)
    );
    return outcomes;
  }

  async releaseTickets(assignee: string, ctx: WriteContext): Promise<number> {
    const { value } = await this.#write((tx) =>
      writes.releaseTickets(tx, assignee, ctx.actor)
    );
    return value;
  }

  addComment(
    ticketId: number,
    body: string,
    ctx: WriteContext & { visibility?: Visibility },
  ): Promise<WriteResult<Comment>> {
    return this.#write((tx) => writes.addComment(tx, ticketId, body, ctx));
  }

  addRequesterReply(
    ticketId: number,
    body: string,
    ctx: { tokenVersion: number },
  ): Promise<RequesterReplyResult> {
    return this.#write((tx) =>
      writes.addRequesterReply(tx, ticketId, body, ctx.tokenVersion)
    );
  }

  revokeRequesterLink(
    ticketId: number,
    ctx: WriteContext,
  ): Promise<WriteResult<TicketSummary>> {
    return this.#write((tx) =>
      writes.revokeRequesterLink(tx, ticketId, ctx.actor)
    );
  }

  requestView(id: number): Promise<RequestView | null> {
    return this.#read((sql) => reads.requestView(sql, id));
  }

  // ---- webhooks -------------------------------------------------------

  /** A webhook write in its own transaction (not a ticket write: nothing to group or publish). */
  #webhookTx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#account((sql) => sql.begin(fn) as Promise<T>);
  }

  createWebhook(w: NewWebhook): Promise<WebhookEndpoint> {
    return this.#webhookTx((tx) => webhooks.createWebhook(tx, w));
  }

  listWebhooks(): Promise<WebhookEndpoint[]> {
    return this.#read((sql) => webhooks.listWebhooks(sql));
  }

  getWebhook(id: number): Promise<WebhookEndpoint | null> {
    return this.#read((sql) => webhooks.getWebhook(sql, id));
  }

  removeWebhook(id: number): Promise<void> {
    return this.#webhookTx((tx) => webhooks.removeWebhook(tx, id));
  }

  rotateWebhookSecret(
    id: number,
    secret: string,
    keepOldUntil: string,
  ): Promise<WebhookEndpoint> {
    return this.#account((sql) =>
      webhooks.rotateWebhookSecret(sql, id, secret, keepOldUntil)
    );
  }

  async enableWebhook(id: number): Promise<WebhookEndpoint> {
    await this.#webhookTx((tx) => webhooks.enableWebhook(tx, id));
    return (await this.getWebhook(id))!;
  }

  claimDeliveries(
    opts: { limit: number; leaseMs: number; firstWaitMs?: number },
  ): Promise<DueDelivery[]> {
    return this.#account((sql) => webhooks.claimDeliveries(sql, opts));
  }

  finishDelivery(id: number, record: AttemptRecord): Promise<void> {
    return this.#webhookTx((tx) => webhooks.finishDelivery(tx, id, record));
  }

  /** Nothing to do: another instance may be sending; a stopped one's leases expire by themselves. */
  releaseDeliveries(): Promise<void> {
    return Promise.resolve();
  }

  webhookAttempts(
    endpointId: number,
    limit: number,
  ): Promise<DeliveryAttempt[]> {
    return this.#read((sql) =>
      webhooks.webhookAttempts(sql, endpointId, limit)
    );
  }

  resendDelivery(endpointId: number, deliveryId: number): Promise<void> {
    return this.#account((sql) =>
      webhooks.resendDelivery(sql, endpointId, deliveryId)
    );
  }

  eventsAfter(afterId: number, limit: number): Promise<TicketEvent[]> {
    return this.#read((sql) => reads.eventsAfter(sql, afterId, limit));
  }

  searchMatches(q: string, ids: number[]): Promise<Set<number>> {
    return this.#read((sql) => reads.searchMatches(sql, q, ids));
  }

  latestEventId(): Promise<number> {
    return this.#read((sql) => reads.latestEventId(sql));
  }

  reportFacts(q: ReportQuery): Promise<ReportFacts> {
    return this.#read((sql) => reportFacts(sql, q));
  }

  // ---- accounts -------------------------------------------------------

  countUsers(): Promise<number> {
    return this.#read((sql) => accounts.countUsers(sql));
  }

  createUser(
    u: { username: string; passwordHash: string; role: Role },
  ): Promise<User> {
    return this.#account((sql) => accounts.createUser(sql, u));
  }

  findUserForLogin(
    username: string,
  ): Promise<{ user: User; passwordHash: string } | null> {
    return this.#read((sql) => accounts.findUserForLogin(sql, username));
  }

  listUsers(): Promise<User[]> {
    return this.#read((sql) => accounts.listUsers(sql));
  }

  setPassword(username: string, passwordHash: string): Promise<User> {
    return this.#account((sql) =>
      accounts.setPassword(sql, username, passwordHash)
    );
  }

  setUserDisabled(username: string, disabled: boolean): Promise<User> {
    return this.#account((sql) =>
      accounts.setUserDisabled(sql, username, disabled)
    );
  }

  setBoardLayout(username: string, layout: BoardLayout): Promise<User> {
    return this.#account((sql) =>
      accounts.setBoardLayout(sql, username, layout)
    );
  }

  createSession(idHash: string, userId: number): Promise<void> {
    return this.#account((sql) => accounts.createSession(sql, idHash, userId));
  }

  getSession(idHash: string): Promise<SessionRecord | null> {
    return this.#read((sql) => accounts.getSession(sql, idHash));
  }

  touchSession(idHash: string): Promise<void> {
    return this.#account((sql) => accounts.touchSession(sql, idHash));
  }

  deleteSession(idHash: string): Promise<void> {
    return this.#account((sql) => accounts.deleteSession(sql, idHash));
  }

  createApiKey(k: NewApiKey): Promise<ApiKey> {
    return this.#account((sql) => accounts.createApiKey(sql, k));
  }

  listApiKeys(): Promise<ApiKey[]> {
    return this.#read((sql) => accounts.listApiKeys(sql));
  }

  revokeApiKey(name: string): Promise<ApiKey> {
    return this.#account((sql) => accounts.revokeApiKey(sql, name));
  }

  findApiKey(hash: string): Promise<ApiKey | null> {
    return this.#read((sql) => accounts.findApiKey(sql, hash));
  }

  touchApiKey(id: number): Promise<void> {
    return this.#account((sql) => accounts.touchApiKey(sql, id));
  }

  purgeExpired(): Promise<{ idempotencyKeys: number; sessions: number }> {
    return this.#account((sql) => writes.purgeExpired(sql));
  }

  /** Checks that the server answers and takes writes (not a read-only replica). */
  async health(): Promise<StoreHealth> {
    const detail: Record<string, string | number> = {
      pool_max: Number(this.sql.options.max),
      ...commitFigures(this.#writes.stats),
    };
    if (this.listener) {
      detail.listening = this.listener.listening ? "yes" : "no";
      detail.last_event_id = this.listener.mark;
    }
    try {
      const [r] = await this.#read((sql) =>
        sql`SELECT current_setting('server_version') AS version,
                   current_setting('transaction_read_only') AS read_only,
                   pg_is_in_recovery() AS recovery`
      );
      detail.server_version = String(r!.version);
      const writable = r!.read_only === "off" && r!.recovery === false;
      if (!writable) detail.error = "The server is read-only";
      return { ok: writable, backend: "postgres", detail };
    } catch (err) {
      detail.error = (err as Error).message;
      return { ok: false, backend: "postgres", detail };
    }
  }

  /** Waits for writes in flight, stops listening and closes the pool. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#purgeTimer);
    await Promise.allSettled([...this.#inFlight]);
    await this.listener?.close();
    await this.sql.end({ timeout: 5 });
  }
}
