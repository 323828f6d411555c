/**
 * Conflicts: pairs of simultaneous PATCHes with the same If-Match on one ticket;
 * optimistic concurrency must let exactly one of each pair through.
 */
import { join } from "node:path";
import { LEGACY } from "./creates.ts";
import { send, tryJson } from "./http.ts";
import { Findings, type ScenarioResult } from "./result.ts";
import type { Rng } from "./rng.ts";
import { type ServerProcess, startServer } from "./server.ts";
import { ticketBody } from "./tickets.ts";

export interface ConflictOptions {
  dir: string;
  rng: Rng;
  pairs: number;
}

const STATUSES = ["Open", "Pending", "Closed"];

/** Runs the conflict scenario; see the module comment. */
export async function conflictScenario(
  opts: ConflictOptions,
): Promise<ScenarioResult> {
  const { rng } = opts;
  const f = new Findings();
  let server: ServerProcess | null = await startServer({
    dbPath: join(opts.dir, "conflicts", "p.db"),
  });
  let successes = 0, initial = 0, final = 0;
  try {
    const live = server;
    const created = await send(live, LEGACY, {
      body: ticketBody(rng, `conflict-${rng.seed}`).body,
    });
    if (created.status !== 201) throw new Error(`create got ${created.status}`);
    const id = (tryJson(created.text) as { ticket_id: number }).ticket_id;
    const path = `/api/v1/tickets/${id}`;
    const first = await send(live, path);
    initial = (tryJson(first.text) as { version: number }).version;
    // Deno.serve weakens the ETag (W/) when it gzips the body; both name the version.
    const tag = first.headers.get("etag")?.replace(/^W\//, "");
    f.check(
      tag === `"${initial}"`,
      `ETag ${first.headers.get("etag")} for version ${initial}`,
    );
    let version = initial;
    for (let i = 0; i < opts.pairs; i++) {
      // Both sides change something, so neither is a no-op that keeps the version.
      const patch = (side: string) =>
        send(live, path, {
          method: "PATCH",
          headers: { "if-match": `"${version}"` },
          body: {
            description: `pair ${i} side ${side}`,
            ...(rng.chance(0.5) ? { status: rng.pick(STATUSES) } : {}),
          },
        });
      const pair = await Promise.all([patch("a"), patch("b")]);
      const codes = pair.map((r) => r.status).sort();
      if (codes[0] !== 200 || codes[1] !== 412) {
        f.fail(`pair ${i} at version ${version}: statuses ${codes.join(", ")}`);
      }
      for (const r of pair) {
        if (r.status === 200) {
          successes++;
          const v = (tryJson(r.text) as { version: number }).version;
          f.check(
            v === version + 1,
            `pair ${i}: 200 returned version ${v}, expected ${version + 1}`,
          );
          version = v;
        } else if (r.status === 412) {
          const p = tryJson(r.text) as { current_version?: number } | undefined;
          f.check(
            (r.headers.get("content-type") ?? "").startsWith(
              "application/problem+json",
            ),
            `pair ${i}: 412 content type ${r.headers.get("content-type")}`,
          );
          f.check(
            typeof p?.current_version === "number",
            `pair ${i}: 412 without current_version`,
          );
        }
      }
    }
    const last = await send(live, path);
    final = (tryJson(last.text) as { version: number }).version;
    f.check(
      final === initial + successes,
      `final version ${final}, expected ${initial} + ${successes} successes`,
    );
  } finally {
    await server?.kill();
    server = null;
  }
  return f.result(
    "conflicts (If-Match races)",
    opts.pairs,
    `${opts.pairs} pairs: ${successes} x 200, ${
      opts.pairs * 2 - successes
    } x 412 expected; ` +
      `version ${initial} -> ${final}`,
  );
}
