/**
 * Group commit, for every backend: whatever arrives while a batch is being
 * committed goes into the next batch, so one commit (one fsync, one round
 * trip) acknowledges many writes, and each write still resolves only once the
 * batch holding it has committed.
 */

/** What became of one write of a batch. */
export type Outcome = { ok: true; value: unknown } | {
  ok: false;
  error: Error;
};

/** Commits one batch (one transaction) and says what became of each write, in order. */
export type CommitBatch<Op> = (ops: Op[]) => Promise<Outcome[]>;

interface Pending<Op> {
  op: Op;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/**
 * Commits made, writes they carried (writes / batches is the sharing ratio),
 * time from handing a batch over to hearing it committed, and the writer's
 * own time on them (SQLite: in the worker, BEGIN to COMMIT, without the
 * messages and the wait for the main thread; PostgreSQL: the same as commitMs).
 */
export interface CommitStats {
  batches: number;
  writes: number;
  commitMs: number;
  writerMs: number;
}

/** Queues writes and keeps at most one batch in flight. */
export class GroupCommitter<Op> {
  #queue: Pending<Op>[] = [];
  #inFlight = false;
  #idle: (() => void)[] = [];
  readonly stats: CommitStats = {
    batches: 0,
    writes: 0,
    commitMs: 0,
    writerMs: 0,
  };

  constructor(
    readonly commit: CommitBatch<Op>,
    /** Largest batch in one transaction: keeps one commit's latency bounded under a burst. */
    readonly maxBatch = 2048,
    /** Whether commit() adds the writer's own time to stats.writerMs (else it is commitMs). */
    readonly timesItself = false,
  ) {}

  /** Queues one write; resolves after the batch holding it has committed. */
  submit(op: Op): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ op, resolve, reject });
      if (!this.#inFlight) void this.#flush();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  drained(): Promise<void> {
    if (!this.#inFlight && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #flush(): Promise<void> {
    this.#inFlight = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.maxBatch);
      this.stats.batches++;
      this.stats.writes += batch.length;
      let outcomes: Outcome[];
      const t0 = performance.now();
      try {
        outcomes = await this.commit(batch.map((p) => p.op));
        const ms = performance.now() - t0;
        this.stats.commitMs += ms;
        if (!this.timesItself) this.stats.writerMs += ms;
      } catch (err) {
        for (const p of batch) p.reject(err as Error);
        continue;
      }
      batch.forEach((p, i) => {
        const o = outcomes[i]!;
        if (o.ok) p.resolve(o.value);
        else p.reject(o.error);
      });
    }
    this.#inFlight = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}

/** The group-commit figures /healthz shows, for any backend. */
export function commitFigures(s: CommitStats): Record<string, number> {
  return {
    commits: s.batches,
    writes: s.writes,
    writes_per_commit: s.batches
      ? Math.round(s.writes / s.batches * 10) / 10
      : 0,
    commit_ms_avg: s.batches
      ? Math.round(s.commitMs / s.batches * 100) / 100
      : 0,
    writer_ms_avg: s.batches
      ? Math.round(s.writerMs / s.batches * 100) / 100
      : 0,
    writer_us_per_write: s.writes
      ? Math.round(s.writerMs / s.writes * 1000)
      : 0,
  };
}
