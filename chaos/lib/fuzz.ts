/**
 * Fuzz: malformed bodies, headers, URLs and framing against every route. No 5xx,
 * the server stays up, and the database holds exactly the tickets that got a 201.
 */
import { join } from "node:path";
import { consistencyProblems, integrityCheck, withDb } from "./db_check.ts";
import { LEGACY } from "./creates.ts";
import { pool, rawRequest, send, tryJson } from "./http.ts";
import { type FuzzCase, fuzzCase, probeCases } from "./mutator.ts";
import { Findings, type ScenarioResult } from "./result.ts";
import type { Rng } from "./rng.ts";
import { type ServerProcess, startServer } from "./server.ts";
import { ticketBody } from "./tickets.ts";

/** How long a client that promised more body than it sent waits for an answer. */
const GIVE_UP_MS = 1500;

export interface FuzzOptions {
  dir: string;
  rng: Rng;
  cases: number;
  concurrency?: number;
  /** Run the fixed probes (mutator.ts probeCases) first; default true. */
  probes?: boolean;
}

/** Runs the fuzz scenario; see the module comment. */
export async function fuzzScenario(opts: FuzzOptions): Promise<ScenarioResult> {
  const { rng } = opts;
  const dbPath = join(opts.dir, "fuzz", "f.db");
  const f = new Findings();
  const byClass = new Map<string, number>();
  const ticketIds = new Set<number>();
  let server: ServerProcess | null = await startServer({ dbPath });
  try {
    const live = server;
    const seed = await send(live, LEGACY, {
      body: ticketBody(rng, "fuzz-seed").body,
    });
    const seedId = (tryJson(seed.text) as { ticket_id: number }).ticket_id;
    ticketIds.add(seedId);
    const cases = [
      ...(opts.probes === false ? [] : probeCases(live.apiKey)),
      ...Array.from({ length: opts.cases }, (_, i) => {
        const c = fuzzCase(rng, seedId, live.apiKey);
        return { ...c, label: `#${i} ${c.label}` };
      }),
    ];
    const answers = new Map<string, string>();
    const creators = new Map<number, FuzzCase>();
    await pool(cases, opts.concurrency ?? 8, async (c) => {
      const r = await rawRequest(
        live.port,
        c.head,
        c.body,
        c.incomplete ? GIVE_UP_MS : 10_000,
      );
      answers.set(c.label, `${r.status || r.error}`);
      const cls = r.status === 0
        ? (c.incomplete ? "closed or gave up (broken framing)" : "no reply")
        : `${String(r.status)[0]}xx`;
      byClass.set(cls, (byClass.get(cls) ?? 0) + 1);
      if (r.status >= 500) {
        f.fail(`${r.status} for [${c.label}]: ${r.body.slice(0, 300)}`);
      }
      if (r.status === 201) {
        const json = tryJson(r.body) as Record<string, unknown> | undefined;
        const id = json?.ticket_id ??
          (json && "pdf_link" in json ? json.id : undefined);
        if (typeof id === "number") {
          ticketIds.add(id);
          creators.set(id, c);
        }
      }
      if (r.status === 0 && !c.incomplete) {
        f.fail(`no reply to a well-framed request [${c.label}]: ${r.error}`);
      }
    });
    f.check(
      live.alive,
      `server exited during fuzz: ${live.tail.slice(-3).join(" | ")}`,
    );
    const health = await send(live, "/healthz");
    f.check(health.status === 200, `/healthz after fuzz: ${health.status}`);
    const after = await send(live, LEGACY, {
      body: ticketBody(rng, "fuzz-after").body,
    });
    f.check(
      after.status === 201,
      `create after fuzz: ${after.status} ${after.text.slice(0, 200)}`,
    );
    const afterId = (tryJson(after.text) as { ticket_id?: number })?.ticket_id;
    if (typeof afterId === "number") ticketIds.add(afterId);
    let aborted = 0;
    for (const line of live.errorLines) {
      // A client that leaves mid-body makes the body read fail; nobody gets the 500.
      if (/BadResource: Cannot read (request )?body/.test(line)) aborted++;
      else f.fail(`server logged: ${line}`);
    }
    if (aborted) {
      f.note(
        `${aborted} bodies cut off by the client were logged as "unhandled error" 500s (json_body.ts reads the body unguarded)`,
      );
    }
    await live.stop();
    server = null;
    withDb(dbPath, false, (db) => {
      const ok = integrityCheck(db);
      f.check(ok === "ok", `integrity_check: ${ok}`);
      const stored = db.prepare("SELECT id FROM tickets").all().map((r) =>
        Number(r.id)
      );
      f.check(
        stored.length === ticketIds.size,
        `${stored.length} tickets stored but ${ticketIds.size} were acknowledged with 201`,
      );
      for (const id of stored) {
        if (ticketIds.has(id)) continue;
        const userId = String(
          db.prepare("SELECT user_id FROM tickets WHERE id = ?").get(id)!
            .user_id,
        );
        const c = cases.find((c) =>
          c.body && new TextDecoder().decode(c.body).includes(userId)
        );
        f.fail(
          `ticket ${id} stored without a 201` +
            (c
              ? `: request [${c.label}] was answered ${answers.get(c.label)}`
              : ""),
        );
      }
      for (const p of consistencyProblems(db)) {
        // Name the request that wrote a bad ticket, with its exact body bytes.
        const id = Number(/^ticket (\d+):/.exec(p)?.[1]);
        const c = creators.get(id);
        const body = c?.body
          ? JSON.stringify(new TextDecoder().decode(c.body))
          : "";
        f.fail(
          c ? `${p}, written by [${c.label}] body ${body.slice(0, 300)}` : p,
        );
      }
    });
  } finally {
    await server?.kill();
  }
  const classes = [...byClass].sort().map(([k, n]) => `${n} ${k}`).join(", ");
  return f.result(
    "fuzz (malformed requests)",
    opts.cases,
    `${classes}; ${ticketIds.size} tickets = 201s; checked: no 5xx, alive, stored rows valid`,
  );
}
