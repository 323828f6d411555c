/** The SQLite TicketStore: reads on the main thread, writes group-committed by a worker. */
import type { DatabaseSync } from "node:sqlite";
import {
  MEMORY,
  openConnection,
  type PragmaReport,
  readPragmas,
  Statements,
} from "./connection.ts";
import { migrate } from "./migrate.ts";
import {
  commitBatch,
  deserializeError,
  type SerializedError,
  STORAGE_CODES,
  type WriteOp,
  type WriteOutcome,
} from "./writes.ts";
import {
  commitFigures,
  type CommitStats,
  GroupCommitter,
} from "../group_commit.ts";
import * as reads from "./reads.ts";
import { reportFacts } from "./reports.ts";
import * as accounts from "./accounts.ts";
import type { AccountWrite } from "./accounts.ts";
import * as webhooks from "./webhooks.ts";
import type { WebhookWrite } from "./webhooks.ts";
import { decodeOutcomes, type WorkerReply } from "./writer_protocol.ts";
import type { EventBus } from "../bus.ts";
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
  type StoreError,
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

export interface SqliteStoreOptions {
  /** File path, or ":memory:" for tests. */
  path: string;
  /** Where committed events go; optional for tools that only write. */
  bus?: EventBus;
  /**
   * "worker" (default for files) commits off the main thread; "inline" commits on
   * it (the only choice for ":memory:", which one connection must own).
   */
  writer?: "worker" | "inline";
}

interface Writer {
  /** Commits a batch; `ms` is the writer's own time on it, BEGIN to COMMIT. */
  send(ops: WriteOp[]): Promise<{ outcomes: WriteOutcome[]; ms: number }>;
  close(): Promise<void>;
}

/** Opens (creating and migrating if needed) a SQLite store. */
export async function openSqliteStore(
  opts: SqliteStoreOptions,
): Promise<SqliteStore> {
  const mode = opts.path === MEMORY ? "inline" : opts.writer ?? "worker";
  if (mode === "inline") {
    const db = openConnection(opts.path);
    const migrated = migrate(db);
    const stmts = new Statements(db);
    const writer: Writer = {
      send: (ops) => {
        const t0 = performance.now();
        const outcomes = commitBatch(stmts, ops);
        return Promise.resolve({ outcomes, ms: performance.now() - t0 });
      },
      close: () => Promise.resolve(db.close()),
    };
    return new SqliteStore(db, writer, readPragmas(db), migrated, opts.bus);
  }
  const { writer, pragmas, migrated } = await startWorkerWriter(opts.path);
  const db = openConnection(opts.path);
  return new SqliteStore(db, writer, pragmas, migrated, opts.bus);
}

async function startWorkerWriter(path: string) {
  const worker = new Worker(new URL("./writer_worker.ts", import.meta.url), {
    type: "module",
  });
  const waiting = new Map<number, (r: WorkerReply) => void>();
  let nextId = 1;
  let dead: Error | null = null;
  let onClosed: (() => void) | null = null;
  const ready = Promise.withResolvers<
    { pragmas: PragmaReport; migrated: string[] }
  >();
  worker.onmessage = (e: MessageEvent<WorkerReply>) => {
    const m = e.data;
    if (m.type === "ready") ready.resolve(m);
    else if (m.type === "failed") {
      // Nothing will use this worker: end it, or it keeps the process alive.
      worker.terminate();
      ready.reject(new StorageUnavailableError(m.message));
    } else if (m.type === "done") {
      const cb = waiting.get(m.id);
      waiting.delete(m.id);
      cb?.(m);
    } else if (m.type === "closed") onClosed?.();
  };
  worker.onerror = (e) => {
    e.preventDefault();
    dead = new StorageUnavailableError(`The writer stopped: ${e.message}`);
    ready.reject(dead);
    worker.terminate();
    for (const cb of waiting.values()) cb({ type: "closed" });
    waiting.clear();
  };
  worker.postMessage({ type: "open", path });
  const { pragmas, migrated } = await ready.promise;
  const writer: Writer = {
    send(ops) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, (r) => {
          if (r.type === "done") {
            resolve({ outcomes: decodeOutcomes(ops, r.outcomes), ms: r.ms });
          } else reject(dead ?? new StorageUnavailableError("writer closed"));
        });
        worker.postMessage({ type: "batch", id, ops: JSON.stringify(ops) });
      });
    },
    close() {
      if (dead) return Promise.resolve();
      return new Promise((resolve) => {
        onClosed = resolve;
        worker.postMessage({ type: "close" });
      });
    },
  };
  return { writer, pragmas, migrated };
}

/** A bulk outcome as it crosses from the writer: its error is plain data. */
type SerializedBulk =
  | Extract<BulkOutcome, { ok: true }>
  | { id: number; ok: false; error: SerializedError };

/** SQLite implementation of TicketStore. */
export class SqliteStore implements TicketStore, AccountStore {
  readonly #reads: Statements;
  readonly #writes: GroupCommitter<WriteOp>;
  #closed = false;
  #purgeTimer: ReturnType<typeof setInterval>;

  constructor(
    readonly db: DatabaseSync,
    readonly writer: Writer,
    /** The pragmas in force on the writer connection, for the start-up log. */
    readonly pragmas: PragmaReport,
    /** Migrations this open applied. */
    readonly migrated: string[],
    readonly bus?: EventBus,
  ) {
    this.#reads = new Statements(db);
    this.#writes = new GroupCommitter(
      async (ops) => {
        const { outcomes, ms } = await writer.send(ops);
        this.#writes.stats.writerMs += ms;
        return outcomes.map((o) =>
          o.ok ? o : { ok: false, error: deserializeError(o.error) }
        );
      },
      undefined,
      true,
    );
    this.#purgeTimer = setInterval(
      () => this.purgeExpired().catch(() => {}),
      10 * 60 * 1000,
    );
    this.#purgeTimer.unref();
  }

  /** Commits made and writes they carried since open (group-commit sharing). */
  get commitStats(): CommitStats {
    return { ...this.#writes.stats };
  }

  /** Runs a read; a closed or broken database is "storage unavailable" (503), not a bug. */
  #read<T>(fn: () => T): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new StorageUnavailableError("The store is closed"));
    }
    try {
      return Promise.resolve(fn());
    } catch (err) {
      const e = err as { errcode?: number; code?: string; message?: string };
      // Only errors of the storage itself mean "unavailable"; any other SQLite
      // error (a malformed query) is a bug to see, not a 503 that hides it.
      if (
        (typeof e?.errcode === "number" &&
          STORAGE_CODES.has(e.errcode & 0xff)) ||
        e?.code === "ERR_INVALID_STATE"
      ) {
        return Promise.reject(
          new StorageUnavailableError(
            `The database cannot be read: ${e.message}`,
          ),
        );
      }
      return Promise.reject(err);
    }
  }

  async #write<T>(op: WriteOp): Promise<T> {
    if (this.#closed) throw new StorageUnavailableError("The store is closed");
    const value = await this.#writes.submit(op) as T;
    const { event, events } = (value ?? {}) as {
      event?: TicketEvent | null;
      events?: TicketEvent[];
    };
    for (const e of events ?? (event ? [event] : [])) this.bus?.publish(e);
    return value;
  }

  createTicket(
    input: NewTicket,
    ctx: WriteContext & { idempotency?: IdempotencyOptions },
  ): Promise<CreateResult> {
    return this.#write({
      kind: "createTicket",
      input,
      actor: ctx.actor,
      idempotency: ctx.idempotency,
    });
  }

  getTicket(id: number): Promise<TicketWithComments | null> {
    return this.#read(() => reads.getTicket(this.#reads, id));
  }

  listTickets(filter: ListFilter): Promise<TicketPage> {
    return this.#read(() => reads.listTickets(this.#reads, filter));
  }

  countByStatus(): Promise<StatusCounts> {
    return this.#read(() => reads.countByStatus(this.#reads));
  }

  countMatching(
    filter: Pick<ListFilter, "q" | "product_prefix" | "priority">,
    cap: number,
  ): Promise<OwnerCounts & { capped: boolean }> {
    return this.#read(() => reads.countMatching(this.#reads, filter, cap));
  }

  countByOwner(): Promise<OwnerCounts> {
    return this.#read(() => reads.countByOwner(this.#reads));
  }

  listProducts(limit: number): Promise<ProductCount[]> {
    return this.#read(() => reads.listProducts(this.#reads, limit));
  }

  ticketActivity(id: number): Promise<TicketEvent[]> {
    return this.#read(() => reads.ticketActivity(this.#reads, id));
  }

  updateTicket(
    id: number,
    patch: TicketPatch,
    ctx: WriteContext & OwnerGuard & { expectedVersion?: number },
  ): Promise<WriteResult<TicketSummary>> {
    return this.#write({
      kind: "updateTicket",
      id,
      patch,
      actor: ctx.actor,
      expectedVersion: ctx.expectedVersion,
      noSteal: ctx.noSteal,
    });
  }

  async bulkUpdate(
    items: { id: number; expectedVersion?: number }[],
    patch: TicketPatch,
    ctx: WriteContext & OwnerGuard,
  ): Promise<BulkOutcome[]> {
    const { outcomes } = await this.#write<{ outcomes: SerializedBulk[] }>({
      kind: "bulkUpdate",
      items,
      patch,
      actor: ctx.actor,
      noSteal: ctx.noSteal,
    });
    return outcomes.map((o) =>
      o.ok ? o : { ...o, error: deserializeError(o.error) as StoreError }
    );
  }

  releaseTickets(assignee: string, ctx: WriteContext): Promise<number> {
    return this.#write<{ value: number }>({
      kind: "releaseTickets",
      assignee,
      actor: ctx.actor,
    }).then((r) => r.value);
  }

  addComment(
    ticketId: number,
    body: string,
    ctx: WriteContext & { visibility?: Visibility },
  ): Promise<WriteResult<Comment>> {
    return this.#write({
      kind: "addComment",
      ticketId,
      body,
      actor: ctx.actor,
      visibility: ctx.visibility,
    });
  }

  addRequesterReply(
    ticketId: number,
    body: string,
    ctx: { tokenVersion: number },
  ): Promise<RequesterReplyResult> {
    return this.#write({
      kind: "requesterReply",
      ticketId,
      body,
      tokenVersion: ctx.tokenVersion,
    });
  }

  revokeRequesterLink(
    ticketId: number,
    ctx: WriteContext,
  ): Promise<WriteResult<TicketSummary>> {
    return this.#write({
      kind: "revokeRequesterLink",
      ticketId,
      actor: ctx.actor,
    });
  }

  requestView(id: number): Promise<RequestView | null> {
    return this.#read(() => reads.requestView(this.#reads, id));
  }

  // ---- webhooks -------------------------------------------------------

  #webhook<T>(write: WebhookWrite): Promise<T> {
    return this.#write<T>({ kind: "webhook", write });
  }

  createWebhook(webhook: NewWebhook): Promise<WebhookEndpoint> {
    return this.#webhook({ action: "create", webhook });
  }

  listWebhooks(): Promise<WebhookEndpoint[]> {
    return this.#read(() => webhooks.listWebhooks(this.#reads));
  }

  getWebhook(id: number): Promise<WebhookEndpoint | null> {
    return this.#read(() => webhooks.getWebhook(this.#reads, id));
  }

  removeWebhook(id: number): Promise<void> {
    return this.#webhook({ action: "remove", id });
  }

  rotateWebhookSecret(
    id: number,
    secret: string,
    keepOldUntil: string,
  ): Promise<WebhookEndpoint> {
    return this.#webhook({ action: "rotate", id, secret, keepOldUntil });
  }

  enableWebhook(id: number): Promise<WebhookEndpoint> {
    return this.#webhook({ action: "enable", id });
  }

  async claimDeliveries(
    opts: { limit: number; leaseMs: number; firstWaitMs?: number },
  ): Promise<DueDelivery[]> {
    const firstWaitMs = opts.firstWaitMs ?? 0;
    // Asked on the read connection first: an idle sender never queues a write.
    if (!await this.#read(() => webhooks.anyDue(this.#reads, firstWaitMs))) {
      return [];
    }
    return await this.#webhook({ action: "claim", ...opts, firstWaitMs });
  }

  finishDelivery(id: number, record: AttemptRecord): Promise<void> {
    return this.#webhook({ action: "finish", id, record });
  }

  releaseDeliveries(): Promise<void> {
    return this.#webhook({ action: "release" });
  }

  webhookAttempts(
    endpointId: number,
    limit: number,
  ): Promise<DeliveryAttempt[]> {
    return this.#read(() =>
      webhooks.webhookAttempts(this.#reads, endpointId, limit)
    );
  }

  resendDelivery(endpointId: number, deliveryId: number): Promise<void> {
    return this.#webhook({ action: "resend", endpointId, deliveryId });
  }

  // ---- accounts -------------------------------------------------------

  #account<T>(write: AccountWrite): Promise<T> {
    return this.#write<T>({ kind: "account", write });
  }

  countUsers(): Promise<number> {
    return this.#read(() => accounts.countUsers(this.#reads));
  }

  createUser(
    u: { username: string; passwordHash: string; role: Role },
  ): Promise<User> {
    return this.#account({ action: "createUser", ...u });
  }

  findUserForLogin(
    username: string,
  ): Promise<{ user: User; passwordHash: string } | null> {
    return this.#read(() => accounts.findUserForLogin(this.#reads, username));
  }

  listUsers(): Promise<User[]> {
    return this.#read(() => accounts.listUsers(this.#reads));
  }

  setPassword(username: string, passwordHash: string): Promise<User> {
    return this.#account({ action: "setPassword", username, passwordHash });
  }

  setUserDisabled(username: string, disabled: boolean): Promise<User> {
    return this.#account({ action: "setUserDisabled", username, disabled });
  }

  setBoardLayout(username: string, layout: BoardLayout): Promise<User> {
    return this.#account({ action: "setBoardLayout", username, layout });
  }

  createSession(idHash: string, userId: number): Promise<void> {
    return this.#account({ action: "createSession", idHash, userId });
  }

  getSession(idHash: string): Promise<SessionRecord | null> {
    return this.#read(() => accounts.getSession(this.#reads, idHash));
  }

  touchSession(idHash: string): Promise<void> {
    return this.#account({ action: "touchSession", idHash });
  }

  deleteSession(idHash: string): Promise<void> {
    return this.#account({ action: "deleteSession", idHash });
  }

  createApiKey(k: NewApiKey): Promise<ApiKey> {
    return this.#account({ action: "createApiKey", ...k });
  }

  listApiKeys(): Promise<ApiKey[]> {
    return this.#read(() => accounts.listApiKeys(this.#reads));
  }

  revokeApiKey(name: string): Promise<ApiKey> {
    return this.#account({ action: "revokeApiKey", name });
  }

  findApiKey(hash: string): Promise<ApiKey | null> {
    return this.#read(() => accounts.findApiKey(this.#reads, hash));
  }

  touchApiKey(id: number): Promise<void> {
    return this.#account({ action: "touchApiKey", id });
  }

  latestEventId(): Promise<number> {
    return this.#read(() => reads.latestEventId(this.#reads));
  }

  reportFacts(q: ReportQuery): Promise<ReportFacts> {
    return this.#read(() => reportFacts(this.#reads, q));
  }

  eventsAfter(afterId: number, limit: number): Promise<TicketEvent[]> {
    return this.#read(() => reads.eventsAfter(this.#reads, afterId, limit));
  }

  searchMatches(q: string, ids: number[]): Promise<Set<number>> {
    return this.#read(() => reads.searchMatches(this.#reads, q, ids));
  }

  purgeExpired(): Promise<{ idempotencyKeys: number; sessions: number }> {
    return this.#write({ kind: "purgeExpired" });
  }

  async health(): Promise<StoreHealth> {
    const detail: Record<string, string | number> = {
      journal_mode: this.pragmas.journal_mode,
      synchronous: this.pragmas.synchronous,
      ...commitFigures(this.#writes.stats),
    };
    try {
      this.#reads.get("SELECT 1").get();
      await this.#write({ kind: "ping" });
      return { ok: true, backend: "sqlite", detail };
    } catch (err) {
      detail.error = (err as Error).message;
      return { ok: false, backend: "sqlite", detail };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#purgeTimer);
    await this.#writes.drained();
    await this.writer.close();
    if (this.db.isOpen) this.db.close();
  }
}
