/**
 * Crash: kill -9 the server at a random moment under 50-connection create load,
 * restart it on the same file, and prove nothing acknowledged was lost and every
 * retried key yields exactly one ticket.
 */
import { join } from "node:path";
import { consistencyProblems, integrityCheck, withDb } from "./db_check.ts";
import { createOnce, createUntilFinal, LEGACY } from "./creates.ts";
import { sleep } from "./http.ts";
import { Findings, type ScenarioResult } from "./result.ts";
import type { Rng } from "./rng.ts";
import { type ServerProcess, startServer } from "./server.ts";
import { fieldDiff, type StoredFields, ticketBody } from "./tickets.ts";

export interface CrashOptions {
  dir: string;
  rng: Rng;
  runs: number;
  concurrency?: number;
  /** Kill between these many ms after the load starts. */
  killWindowMs?: [number, number];
}

interface SentKey {
  key: string;
  body: Record<string, unknown>;
  expected: StoredFields;
  /** The acknowledged ticket id, once a 201 said so. */
  ticketId: number | null;
  /** The first 201 reply body, to compare replays with. */
  reply: string | null;
}

const MARKER = "crash-";

/** Runs the crash scenario; see the module comment. */
export async function crashScenario(
  opts: CrashOptions,
): Promise<ScenarioResult> {
  const { rng } = opts;
  const concurrency = opts.concurrency ?? 50;
  const [killMin, killMax] = opts.killWindowMs ?? [200, 1500];
  const dbPath = join(opts.dir, "crash", "c.db");
  const f = new Findings();
  const sent = new Map<string, SentKey>();
  let acked = 0, unanswered = 0, retried = 0, replayChecks = 0;
  let server: ServerProcess | null = await startServer({ dbPath });
  try {
    for (let run = 0; run < opts.runs; run++) {
      const tag = `run ${run + 1}`;
      const thisRun: SentKey[] = [];
      let stopping = false;
      let next = 0;
      const live: ServerProcess = server;
      const worker = async () => {
        while (!stopping) {
          const key = `${MARKER}${rng.seed}-${run}-${next++}`;
          const { body, expected } = ticketBody(rng, key);
          const s: SentKey = {
            key,
            body,
            expected,
            ticketId: null,
            reply: null,
          };
          sent.set(key, s);
          thisRun.push(s);
          const out = await createOnce(live, LEGACY, key, body);
          if (out.status === 201 && out.ticketId !== null) {
            s.ticketId = out.ticketId;
            s.reply = out.text;
            acked++;
          } else if (out.status === 0) {
            unanswered++;
          } else {
            f.fail(
              `${tag}: create ${key} got ${out.status} under load: ${
                out.text.slice(0, 200)
              }`,
            );
          }
        }
      };
      const load = Promise.all(Array.from({ length: concurrency }, worker));
      await sleep(rng.int(killMin, killMax));
      stopping = true;
      await live.kill("SIGKILL");
      server = null;
      await load;
      const runAcked = thisRun.filter((s) => s.ticketId !== null).length;
      f.check(
        runAcked > 0,
        `${tag}: no create was acknowledged before the kill (load never ran?)`,
      );

      // The server is down: look at the file itself.
      withDb(dbPath, false, (db) => {
        const ok = integrityCheck(db);
        f.check(ok === "ok", `${tag}: integrity_check after kill -9: ${ok}`);
        checkStored(db, sent, f, `${tag} after kill -9`, false);
      });

      server = await startServer({ dbPath, apiKey: live.apiKey });
      // Every key that got no answer is retried with the same body until it is answered.
      for (const s of thisRun.filter((s) => s.ticketId === null)) {
        retried++;
        const { final } = await createUntilFinal(
          server,
          LEGACY,
          s.key,
          s.body,
          {
            retryTransient: true,
          },
        );
        if (final.status === 201 && final.ticketId !== null) {
          s.ticketId = final.ticketId;
          s.reply = final.text;
        } else {
          f.fail(
            `${tag}: retry of unanswered key ${s.key} got ${final.status} ${
              final.error ?? final.text.slice(0, 200)
            }`,
          );
        }
      }
      // Acknowledged keys replay the same answer after the restart.
      const acks = thisRun.filter((s) => s.reply !== null);
      for (let i = 0; i < Math.min(10, acks.length); i++) {
        const s = rng.pick(acks);
        replayChecks++;
        const { final } = await createUntilFinal(server, LEGACY, s.key, s.body);
        f.check(
          final.status === 201 && final.replayed && final.text === s.reply,
          `${tag}: replay of ${s.key} after restart got ${final.status} replayed=${final.replayed} ${
            final.text.slice(0, 120)
          }; first reply ${s.reply}`,
        );
      }
    }
    await server?.stop();
    server = null;
    withDb(dbPath, false, (db) => {
      const ok = integrityCheck(db);
      f.check(ok === "ok", `final integrity_check: ${ok}`);
      checkStored(db, sent, f, "final", true);
      for (const p of consistencyProblems(db)) f.fail(`final: ${p}`);
    });
  } finally {
    await server?.kill();
  }
  return f.result(
    "crash (kill -9 under load)",
    opts.runs,
    `${sent.size} keys sent at ${concurrency} connections, ${acked} acked before kills, ` +
      `${unanswered} unanswered and retried (${retried} keys), ${replayChecks} replays checked; ` +
      `integrity ok, acked tickets stored with same fields, one ticket per key`,
  );
}

/**
 * Checks the crash tickets in the file: acknowledged ones exist with the fields
 * sent, no key has two tickets and (when `complete`) every key sent has one.
 */
function checkStored(
  db: import("node:sqlite").DatabaseSync,
  sent: Map<string, SentKey>,
  f: Findings,
  when: string,
  complete: boolean,
) {
  const rows = db.prepare(
    "SELECT id, user_id, pdf_link, product_id, other_ids FROM tickets WHERE user_id LIKE ?",
  ).all(`${MARKER}%`);
  const byKey = new Map<string, Record<string, unknown>[]>();
  for (const r of rows) {
    const list = byKey.get(String(r.user_id)) ?? [];
    list.push(r);
    byKey.set(String(r.user_id), list);
  }
  const keyRows = new Map(
    // By key alone: the scope may carry the caller (API key) as well as the route.
    db.prepare("SELECT key, ticket_id FROM idempotency_keys WHERE key LIKE ?")
      .all(`${MARKER}%`).map((r) => [String(r.key), Number(r.ticket_id)]),
  );
  for (const [key, list] of byKey) {
    if (!sent.has(key)) f.fail(`${when}: ticket for unknown key ${key}`);
    if (list.length > 1) {
      f.fail(
        `${when}: key ${key} has ${list.length} tickets (ids ${
          list.map((r) => r.id).join(", ")
        })`,
      );
    }
  }
  for (const s of sent.values()) {
    const list = byKey.get(s.key) ?? [];
    if (s.ticketId === null) {
      if (complete && list.length !== 1) {
        f.fail(`${when}: key ${s.key} has ${list.length} tickets`);
      }
      continue;
    }
    const row = list.find((r) => Number(r.id) === s.ticketId);
    if (!row) {
      f.fail(`${when}: LOST acknowledged ticket ${s.ticketId} (key ${s.key})`);
      continue;
    }
    const diff = fieldDiff(row, s.expected);
    if (diff.length) {
      f.fail(`${when}: ticket ${s.ticketId} changed: ${diff.join("; ")}`);
    }
    if (keyRows.get(s.key) !== s.ticketId) {
      f.fail(
        `${when}: idempotency row of ${s.key} names ${
          keyRows.get(s.key)
        }, not ticket ${s.ticketId}`,
      );
    }
  }
}
