/** Messages between the main thread and the writer worker. */
import type { PragmaReport } from "./connection.ts";
import type { WriteOp, WriteOutcome } from "./writes.ts";

export type WorkerRequest =
  | { type: "open"; path: string }
  | { type: "batch"; id: number; ops: WriteOp[] }
  | { type: "close" };

export type WorkerReply =
  | { type: "ready"; pragmas: PragmaReport; migrated: string[] }
  | { type: "failed"; message: string }
  | { type: "done"; id: number; outcomes: WriteOutcome[] }
  | { type: "closed" };
