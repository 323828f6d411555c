/**
 * Disk trouble: the database's filesystem fills up while the server runs (a 16 MiB
 * tmpfs, filled with a filler file). Creates must get a clear 503 problem, nothing
 * may be acknowledged that was not stored, and creates must work again once space
 * is back.
 *
 * Why not chmod 0444: SQLite keeps its file descriptors open, so changing modes
 * under a running server changes nothing (and root ignores modes anyway). A full
 * filesystem is the fault that reaches a running server; it needs root to mount.
 *
 * Why 16 MiB and not 2: SQLite checkpoints the WAL only at 1000 pages (~4 MiB)
 * and never shrinks it, so on a 2 MiB disk the WAL eats the freed space again
 * within a few creates and the server never gets its space back.
 */
import { join } from "node:path";
import { consistencyProblems, integrityCheck, withDb } from "./db_check.ts";
import {
  createOnce,
  type CreateOutcome,
  createUntilFinal,
  LEGACY,
} from "./creates.ts";
import { pool, send, sleep } from "./http.ts";
import { Findings, type ScenarioResult, skipped } from "./result.ts";
import type { Rng } from "./rng.ts";
import { type ServerProcess, startServer } from "./server.ts";
import { fieldDiff, type StoredFields, ticketBody } from "./tickets.ts";

export interface DiskOptions {
  dir: string;
  rng: Rng;
  /** Creates attempted while the disk is full. */
  creates: number;
}

const NAME = "disk full (tmpfs)";

interface Key {
  key: string;
  body: Record<string, unknown>;
  expected: StoredFields;
  ticketId: number | null;
}

async function run(cmd: string, args: string[]) {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
  })
    .output().catch((err) => ({
      success: false,
      stderr: new TextEncoder().encode(String(err)),
    }));
  return {
    ok: out.success,
    stderr: new TextDecoder().decode(out.stderr).trim(),
  };
}

/** Writes a filler file until the filesystem refuses; returns the bytes written. */
async function fill(path: string): Promise<number> {
  const file = await Deno.open(path, { write: true, create: true });
  let written = 0;
  try {
    for (const size of [256 * 1024, 4096, 1]) {
      const chunk = new Uint8Array(size).fill(120);
      try {
        while (true) written += await file.write(chunk);
      } catch { /* this size no longer fits: try a smaller one */ }
    }
  } finally {
    file.close();
  }
  return written;
}

/** Runs the disk scenario; see the module comment. */
export async function diskScenario(opts: DiskOptions): Promise<ScenarioResult> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) {
    return skipped(
      NAME,
      "skipped: needs root on Linux to mount a 16 MiB tmpfs (chmod cannot stop an open SQLite file)",
    );
  }
  const mnt = join(opts.dir, "disk-mnt");
  await Deno.mkdir(mnt, { recursive: true });
  const mounted = await run("mount", [
    "-t",
    "tmpfs",
    "-o",
    "size=16m",
    "tmpfs",
    mnt,
  ]);
  if (!mounted.ok) {
    return skipped(
      NAME,
      `skipped: cannot mount a tmpfs here (${mounted.stderr.slice(0, 80)})`,
    );
  }
  const { rng } = opts;
  const f = new Findings();
  const dbPath = join(mnt, "d.db");
  const keys: Key[] = [];
  let n = 0;
  const newKey = (): Key => {
    const key = `disk-${rng.seed}-${n++}`;
    const k = { key, ...ticketBody(rng, key), ticketId: null };
    keys.push(k);
    return k;
  };
  const record = (k: Key, o: CreateOutcome) => {
    if (o.status === 201 && o.ticketId !== null) k.ticketId = o.ticketId;
  };
  let server: ServerProcess | null = null;
  let full201 = 0, full503 = 0, recoveredAfterMs = -1, filled = 0;
  try {
    server = await startServer({ dbPath });
    const live = server;
    for (let i = 0; i < 20; i++) {
      const k = newKey();
      const o = await createOnce(live, LEGACY, k.key, k.body);
      record(k, o);
      f.check(o.status === 201, `before the fault: create got ${o.status}`);
    }

    filled = await fill(join(mnt, "filler"));
    const during: Key[] = Array.from({ length: opts.creates }, newKey);
    await pool(during, 6, async (k) => {
      const o = await createOnce(live, LEGACY, k.key, k.body);
      record(k, o);
      if (o.status === 201) full201++;
      else if (o.status === 503) {
        full503++;
        f.check(
          o.contentType.startsWith("application/problem+json"),
          `503 content type ${o.contentType}`,
        );
        f.check(
          o.text.includes("/problems/storage-unavailable"),
          `503 body: ${o.text.slice(0, 200)}`,
        );
        f.check(o.retryAfter !== null, "503 without Retry-After");
      } else {
        f.fail(
          `disk full: create ${k.key} got ${o.status} ${
            o.error ?? o.text.slice(0, 200)
          }`,
        );
      }
    });
    f.check(
      full503 > 0,
      `the full disk never surfaced: ${full201} creates got 201 after filling ${filled} bytes`,
    );
    const list = await send(live, "/api/v1/tickets?limit=5");
    f.check(
      list.status === 200,
      `reads while the disk is full: ${list.status}`,
    );

    await Deno.remove(join(mnt, "filler"));
    const t0 = Date.now();
    while (Date.now() - t0 < 15_000) {
      const k = newKey();
      const o = await createOnce(live, LEGACY, k.key, k.body);
      record(k, o);
      if (o.status === 201) {
        recoveredAfterMs = Date.now() - t0;
        break;
      }
      await sleep(250);
    }
    if (recoveredAfterMs < 0) {
      const health = await send(live, "/healthz");
      f.fail(
        `no recovery: creates still fail 15 s after space came back (healthz ${health.status}: ${
          health.text.slice(0, 200)
        })`,
      );
    } else {
      // Keys refused while full are retried, as clients told "Retry-After" would.
      for (const k of keys.filter((k) => k.ticketId === null)) {
        const { final } = await createUntilFinal(live, LEGACY, k.key, k.body, {
          retryTransient: true,
          maxAttempts: 10,
        });
        record(k, final);
        f.check(
          final.status === 201,
          `retry of ${k.key} after recovery: ${final.status}`,
        );
      }
      for (let i = 0; i < 20; i++) {
        const k = newKey();
        const o = await createOnce(live, LEGACY, k.key, k.body);
        record(k, o);
        f.check(o.status === 201, `after recovery: create got ${o.status}`);
      }
    }
    await live.stop();
    server = null;
    withDb(dbPath, false, (db) => {
      const ok = integrityCheck(db);
      f.check(ok === "ok", `integrity_check: ${ok}`);
      const rows = db.prepare(
        "SELECT id, user_id, pdf_link, product_id, other_ids FROM tickets",
      ).all();
      const byKey = new Map<string, Record<string, unknown>[]>();
      for (const r of rows) {
        byKey.set(String(r.user_id), [
          ...(byKey.get(String(r.user_id)) ?? []),
          r,
        ]);
      }
      for (const k of keys) {
        const list = byKey.get(k.key) ?? [];
        if (k.ticketId === null) {
          // Never acknowledged: stored at most once (a 503 promised "nothing was saved").
          f.check(
            list.length === 0,
            `${k.key} got no 201 but is stored ${list.length} time(s)`,
          );
          continue;
        }
        f.check(
          list.length === 1,
          `${k.key} (ticket ${k.ticketId}) stored ${list.length} times`,
        );
        const row = list.find((r) => Number(r.id) === k.ticketId);
        if (!row) f.fail(`LOST acknowledged ticket ${k.ticketId} (${k.key})`);
        else {
          const diff = fieldDiff(row, k.expected);
          if (diff.length) f.fail(`ticket ${k.ticketId}: ${diff.join("; ")}`);
        }
      }
      for (const p of consistencyProblems(db)) f.fail(p);
    });
  } finally {
    await server?.kill();
    const un = await run("umount", [mnt]);
    if (!un.ok) await run("umount", ["-l", mnt]);
  }
  return f.result(
    NAME,
    opts.creates,
    `filled ${
      Math.round(filled / 1024)
    } KiB; while full ${full503} x 503 problem+json, ${full201} x 201 (all stored); ` +
      (recoveredAfterMs >= 0
        ? `creates work again ${recoveredAfterMs} ms after space came back; `
        : "no recovery; ") +
      `${
        keys.filter((k) => k.ticketId !== null).length
      } acked tickets all stored once`,
  );
}
