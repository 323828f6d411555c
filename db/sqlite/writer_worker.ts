/// <reference lib="deno.worker" />
/**
 * The writer: owns the only write connection, off the main thread, so the
 * fsync of each commit never blocks the event loop that serves requests.
 */
import type { DatabaseSync } from "node:sqlite";
import { openConnection, readPragmas, Statements } from "./connection.ts";
import { migrate } from "./migrate.ts";
import { commitBatch } from "./writes.ts";
import {
  encodeOutcomes,
  type WorkerReply,
  type WorkerRequest,
} from "./writer_protocol.ts";
import type { WriteOp } from "./writes.ts";

let db: DatabaseSync | null = null;
let stmts: Statements | null = null;

function reply(msg: WorkerReply) {
  self.postMessage(msg);
}

self.onmessage = (e: MessageEvent<WorkerRequest>) => {
  const msg = e.data;
  switch (msg.type) {
    case "open":
      try {
        db = openConnection(msg.path);
        const migrated = migrate(db);
        stmts = new Statements(db);
        reply({ type: "ready", pragmas: readPragmas(db), migrated });
      } catch (err) {
        reply({ type: "failed", message: (err as Error).message });
      }
      break;
    case "batch": {
      const ops = JSON.parse(msg.ops) as WriteOp[];
      const t0 = performance.now();
      const outcomes = commitBatch(stmts!, ops);
      const ms = performance.now() - t0;
      reply({
        type: "done",
        id: msg.id,
        outcomes: encodeOutcomes(ops, outcomes),
        ms,
      });
      break;
    }
    case "close":
      db?.close();
      db = null;
      reply({ type: "closed" });
      self.close();
      break;
  }
};
