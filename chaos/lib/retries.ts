/**
 * Retries: every create is sent up to three times with the same Idempotency-Key,
 * some copies at once; each key must yield one ticket and one reply body.
 */
import { join } from "node:path";
import { consistencyProblems, withDb } from "./db_check.ts";
import { type CreateOutcome, createUntilFinal, LEGACY, V1 } from "./creates.ts";
import { pool } from "./http.ts";
import { Findings, type ScenarioResult } from "./result.ts";
import type { Rng } from "./rng.ts";
import { type ServerProcess, startServer } from "./server.ts";
import { ticketBody } from "./tickets.ts";

export interface RetryOptions {
  dir: string;
  rng: Rng;
  creates: number;
  concurrency?: number;
}

/** Runs the retry scenario; see the module comment. */
export async function retryScenario(
  opts: RetryOptions,
): Promise<ScenarioResult> {
  const { rng } = opts;
  const dbPath = join(opts.dir, "retries", "r.db");
  const f = new Findings();
  let sends = 0, saw409 = 0, replays = 0, concurrentKeys = 0;
  const ids = new Map<number, string>();
  let server: ServerProcess | null = await startServer({ dbPath });
  try {
    const live = server;
    const plans = Array.from({ length: opts.creates }, (_, i) => {
      const key = `retry-${rng.seed}-${i}`;
      return {
        key,
        path: i % 2 ? V1 : LEGACY,
        copies: rng.int(1, 3),
        together: rng.chance(0.5),
        ...ticketBody(rng, key),
      };
    });
    await pool(plans, opts.concurrency ?? 32, async (p) => {
      const one = async () => {
        const r = await createUntilFinal(live, p.path, p.key, p.body, {
          maxAttempts: 200,
        });
        sends += 1 + r.interim.length;
        for (const o of r.interim) check409(o, p.key, f);
        saw409 += r.interim.length;
        return r.final;
      };
      let finals: CreateOutcome[];
      if (p.together && p.copies > 1) {
        concurrentKeys++;
        finals = await Promise.all(Array.from({ length: p.copies }, one));
      } else {
        finals = [];
        for (let c = 0; c < p.copies; c++) finals.push(await one());
      }
      const bad = finals.filter((o) => o.status !== 201 || o.ticketId === null);
      for (const o of bad) {
        f.fail(`${p.key}: ${o.status} ${o.error ?? o.text.slice(0, 200)}`);
      }
      if (bad.length) return;
      const bodies = new Set(finals.map((o) => o.text));
      f.check(
        bodies.size === 1,
        `${p.key}: ${bodies.size} different reply bodies: ${
          [...bodies].join(" / ").slice(0, 300)
        }`,
      );
      const fresh = finals.filter((o) => !o.replayed).length;
      f.check(
        fresh === 1,
        `${p.key}: ${fresh} replies without Idempotent-Replayed (expected 1 of ${p.copies})`,
      );
      replays += finals.length - fresh;
      const id = finals[0]!.ticketId!;
      const other = ids.get(id);
      f.check(
        other === undefined,
        `${p.key}: ticket ${id} was also returned for ${other}`,
      );
      ids.set(id, p.key);
    });
    await server.stop();
    server = null;
    withDb(dbPath, true, (db) => {
      const n = Number(
        db.prepare("SELECT count(*) AS n FROM tickets").get()!.n,
      );
      f.check(
        n === opts.creates,
        `${n} tickets stored for ${opts.creates} keys`,
      );
      const dups = db.prepare(
        "SELECT user_id, count(*) AS n FROM tickets GROUP BY user_id HAVING n > 1",
      ).all();
      for (const d of dups) f.fail(`key ${d.user_id} has ${d.n} tickets`);
      for (const p of consistencyProblems(db)) f.fail(p);
    });
  } finally {
    await server?.kill();
  }
  return f.result(
    "retries (same key up to 3x)",
    opts.creates,
    `${sends} sends for ${opts.creates} keys (${concurrentKeys} keys sent concurrently), ` +
      `${saw409} in-flight 409s retried, ${replays} replays; one ticket and one reply body per key`,
  );
}

function check409(o: CreateOutcome, key: string, f: Findings) {
  if (o.status !== 409) {
    f.fail(
      `${key}: interim answer ${o.status} ${o.error ?? o.text.slice(0, 200)}`,
    );
  } else {
    f.check(
      o.contentType.startsWith("application/problem+json"),
      `${key}: 409 content type ${o.contentType}`,
    );
    f.check(o.retryAfter !== null, `${key}: 409 without Retry-After`);
  }
}
