/** Group commit: whatever arrives while a batch is being committed goes into the next batch. */
import type { WriteOp, WriteOutcome } from "./writes.ts";
import { deserializeError } from "./writes.ts";

/** Sends one batch to whoever owns the writer connection and resolves with its outcomes. */
export type SendBatch = (ops: WriteOp[]) => Promise<WriteOutcome[]>;

interface Pending {
  op: WriteOp;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** Largest batch in one transaction: keeps a single commit's latency bounded under a burst. */
const MAX_BATCH = 2048;

/** Queues writes and keeps at most one batch in flight. */
export class GroupCommitter {
  #queue: Pending[] = [];
  #inFlight = false;
  #idle: (() => void)[] = [];
  /** Commits made, writes they carried (writes / batches is the sharing ratio), and time spent committing. */
  readonly stats = { batches: 0, writes: 0, commitMs: 0 };

  constructor(readonly send: SendBatch) {}

  /** Queues one write; resolves after the batch holding it has committed. */
  submit(op: WriteOp): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ op, resolve, reject });
      if (!this.#inFlight) this.#flush();
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
      const batch = this.#queue.splice(0, MAX_BATCH);
      this.stats.batches++;
      this.stats.writes += batch.length;
      let outcomes: WriteOutcome[];
      const t0 = performance.now();
      try {
        outcomes = await this.send(batch.map((p) => p.op));
        this.stats.commitMs += performance.now() - t0;
      } catch (err) {
        for (const p of batch) p.reject(err as Error);
        continue;
      }
      batch.forEach((p, i) => {
        const o = outcomes[i]!;
        if (o.ok) p.resolve(o.value);
        else p.reject(deserializeError(o.error));
      });
    }
    this.#inFlight = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
