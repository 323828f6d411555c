/**
 * SSE forced drops: one logged-in client follows GET /events while tickets are
 * created continuously; it cuts its TCP connection at random moments (before the
 * response head, in the middle of a replay, in the middle of a frame) and comes
 * back with Last-Event-ID, as EventSource does. When creation stops and the
 * client has caught up, the ids it received must be exactly 1..N, N being the
 * number of events in the database: no gap and no duplicate at any seam.
 */
import { SseConnection, ticketIdOf } from "../../bench/lib/sse_clients.ts";
import { loginAdmin } from "./auth.ts";
import { createOnce, LEGACY } from "./creates.ts";
import { withDb } from "./db_check.ts";
import { sleep } from "./http.ts";
import { Findings, type ScenarioResult } from "./result.ts";
import type { Rng } from "./rng.ts";
import { startServer } from "./server.ts";
import { ticketBody } from "./tickets.ts";

export interface SseOptions {
  dir: string;
  rng: Rng;
  /** Forced drops (TCP connections the client cuts). */
  drops: number;
}

const NAME = "sse forced drops";
/** Creators posting at once: enough that events arrive between and during drops. */
const CREATORS = 2;

/** Where each id breaks the 1..N sequence (first few of each kind). */
function sequenceProblems(ids: number[], n: number): string[] {
  const out: string[] = [];
  let expect = 1;
  for (let i = 0; i < ids.length && out.length < 10; i++) {
    const id = ids[i]!;
    if (id < expect) {
      out.push(`event ${id} received again at position ${i + 1}`);
    } else if (id > expect) {
      out.push(`events ${expect}..${id - 1} never received (gap before ${id})`);
      expect = id + 1;
    } else expect++;
  }
  if (expect <= n && out.length < 10) {
    out.push(
      `events ${expect}..${n} never received (stream ended at ${expect - 1})`,
    );
  }
  return out;
}

/** Runs the scenario on a fresh database; every violated expectation is a failure. */
export async function sseScenario(opts: SseOptions): Promise<ScenarioResult> {
  const f = new Findings();
  const dbPath = `${opts.dir}/sse.db`;
  const server = await startServer({ dbPath });
  const received: number[] = [];
  const ticketsSeen = new Set<number>();
  let lastId = 0;
  let conn: SseConnection | null = null;
  let creating = true;
  const created: number[] = [];
  let reconnects = 0;
  try {
    const cookie = await loginAdmin(server.base, dbPath, server.client);
    const open = (first: boolean) => {
      const c = new SseConnection({
        port: server.port,
        // The first connect asks for everything after 0, so no event is missed
        // between the creators starting and the stream opening.
        path: first ? "/events?after=0" : "/events",
        cookie,
        lastEventId: first ? null : lastId,
        onFrame: (frame) => {
          if (frame.event === "reload") {
            f.fail(
              `after Last-Event-ID ${lastId} the server sent "reload" (id ${frame.id}) instead of replaying`,
            );
          }
          if (frame.id === null) return;
          received.push(frame.id);
          lastId = frame.id;
          const t = ticketIdOf(frame.data);
          if (t !== null) ticketsSeen.add(t);
        },
      });
      // An end we did not cause (a server error, a non-200) is a finding.
      c.ended.then((why) => {
        if (why !== "closed by client" && creating) {
          f.fail(`the stream ended on its own: ${why}`);
        }
      });
      return c;
    };
    conn = open(true);

    const creator = async (w: number) => {
      for (let i = 0; creating; i++) {
        const out = await createOnce(
          server,
          LEGACY,
          `sse-${w}-${i}`,
          ticketBody(opts.rng, `sse_${w}_${i}`).body,
        );
        if (out.ticketId !== null) created.push(out.ticketId);
        else {
          f.fail(
            `create answered ${out.status} ${
              out.error ?? out.text.slice(0, 200)
            }`,
          );
          await sleep(50);
        }
      }
    };
    const creators = Array.from({ length: CREATORS }, (_, w) => creator(w));

    for (let d = 0; d < opts.drops; d++) {
      // Anywhere from at once (before the response head or during the replay)
      // to a tenth of a second in (between or in the middle of live frames).
      await sleep(opts.rng.int(0, 100));
      conn.close();
      await conn.ended;
      reconnects++;
      if (opts.rng.chance(0.5)) await sleep(opts.rng.int(1, 30));
      conn = open(false);
    }
    await sleep(100);
    creating = false;
    await Promise.all(creators);

    const db = () =>
      withDb(dbPath, true, (d) => {
        const r = d.prepare("SELECT count(*) AS n, max(id) AS last FROM events")
          .get();
        return { n: Number(r?.n ?? 0), last: Number(r?.last ?? 0) };
      });
    const { n, last } = db();
    const deadline = Date.now() + 15_000;
    while (lastId < last && Date.now() < deadline) await sleep(20);
    f.check(
      lastId >= last,
      `the client did not catch up within 15 s: last id ${lastId}, latest event ${last}`,
    );
    conn.close();
    await conn.ended;

    f.check(
      last === n,
      `the events table holds ${n} events but its last id is ${last}`,
    );
    f.check(
      received.length === n,
      `received ${received.length} events, the database holds ${n}`,
    );
    for (const p of sequenceProblems(received, n)) f.fail(p);
    const unseen = created.filter((id) => !ticketsSeen.has(id));
    f.check(
      unseen.length === 0,
      `${unseen.length} created tickets never appeared in a frame (first: ${
        unseen.slice(0, 5).join(", ")
      })`,
    );
    for (const line of server.errorLines) f.fail(`server logged: ${line}`);
    return f.result(
      NAME,
      opts.drops,
      `${opts.drops} forced drops during ${created.length} creates; the client reconnected ${reconnects} times with Last-Event-ID ` +
        `and received events 1..${
          received.at(-1) ?? 0
        } (${received.length} frames, ${n} events in the DB)`,
    );
  } finally {
    creating = false;
    conn?.close();
    await server.kill();
  }
}
