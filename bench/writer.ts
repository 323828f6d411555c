/**
 * `deno run -A bench/writer.ts [--count 20000] [--clients 50] [--inline] [--tickets N]`:
 * the SQLite writer alone, without HTTP. `clients` loops create `count` tickets, each one
 * ticket at a time through the store (as the API does, with an idempotency
 * key), on a new file database with synchronous=FULL; prints the writer's
 * time per ticket (commits × average commit time ÷ writes, as /healthz
 * gives it) and tickets per commit. `--inline` commits on the calling thread
 * (no Worker, no messages): the difference is what crossing threads costs.
 * `--tickets N` seeds N tickets first (the full-text index grows with them).
 * Profile with `deno run -A --v8-flags=--prof bench/writer.ts`: each thread
 * writes its own isolate-*.log (`node --prof-process` reads them).
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { openSqliteStore } from "../db/sqlite/sqlite_store.ts";
import { seedBulk } from "../db/sqlite/seed_bulk.ts";
import { openConnection } from "../db/sqlite/connection.ts";
import { migrate } from "../db/sqlite/migrate.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    count: { type: "string", default: "20000" },
    clients: { type: "string", default: "50" },
    tickets: { type: "string", default: "0" },
    inline: { type: "boolean", default: false },
    keep: { type: "string" },
  },
});
const count = Number(values.count);
const clients = Number(values.clients);
const dir = await Deno.makeTempDir({ prefix: "writer-bench-" });
const path = values.keep ?? `${dir}/w.db`;
if (Number(values.tickets) > 0) {
  const db = openConnection(path);
  migrate(db);
  seedBulk(db, { count: Number(values.tickets) });
  db.close();
}
const store = await openSqliteStore({
  path,
  writer: values.inline ? "inline" : "worker",
});
const run = crypto.randomUUID();
let n = 0;
let limit = 0;
async function client(c: number) {
  while (n < limit) {
    const i = n++;
    await store.createTicket({
      user_id: `user_${i % 997}`,
      pdf_link: `https://example.com/guides/${i}.pdf`,
      product_id: `PROD-${i % 50}`,
      other_ids: `ORDER-${i}`,
      priority: "Normal",
    }, {
      actor: "api",
      idempotency: {
        scope: "bench",
        key: `${run}-${c}-${i}`,
        fingerprint: `fp-${i}`,
      },
    });
  }
}
// Warm-up, then measure from a clean counter.
limit = Math.min(2000, count);
await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
limit = n + count;
const before = store.commitStats;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
const elapsed = (performance.now() - t0) / 1000;
const after = store.commitStats;
const cpu = process.cpuUsage(cpu0);
const writes = after.writes - before.writes;
const batches = after.batches - before.batches;
const commitMs = after.commitMs - before.commitMs;
console.log(JSON.stringify({
  mode: values.inline ? "inline" : "worker",
  clients,
  seconds: Math.round(elapsed * 10) / 10,
  tickets_per_s: Math.round(writes / elapsed),
  writes_per_commit: Math.round(writes / batches * 10) / 10,
  commit_ms_avg: Math.round(commitMs / batches * 100) / 100,
  // Handing a batch over to hearing it committed, and the writer's own part.
  round_trip_us_per_ticket: Math.round(commitMs / writes * 1000),
  // CPU of the whole process (both threads): steadier than clocks on a busy machine.
  cpu_us_per_ticket: Math.round((cpu.user + cpu.system) / writes),
  writer_us_per_ticket: Math.round(
    ((after.writerMs ?? commitMs) - (before.writerMs ?? 0)) / writes * 1000,
  ),
}));
await store.close();
if (!values.keep) await Deno.remove(dir, { recursive: true });
