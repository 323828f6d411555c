/**
 * Fills a database with sample tickets for benchmarks (search index and counts included).
 *
 *   deno run --allow-read --allow-write --allow-env=DB_PATH,DATABASE_URL scripts/seed_bulk.ts [--count 100000] [--path data/bench.db]
 *
 * Best run while the server is stopped: the whole batch is one write transaction.
 */
import { parseArgs } from "node:util";
import { openConnection } from "../db/sqlite/connection.ts";
import { migrate } from "../db/sqlite/migrate.ts";
import { seedBulk } from "../db/sqlite/seed_bulk.ts";
import { fail, readCliLocation } from "./cli.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    count: { type: "string", default: "100000" },
    path: { type: "string" },
    seed: { type: "string", default: "1" },
  },
});
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1) {
  fail(`--count must be a positive whole number, got ${values.count}`, 2);
}
let path = values.path;
if (path === undefined) {
  const { dbPath, databaseUrl } = readCliLocation();
  if (databaseUrl) {
    fail(
      "DATABASE_URL is set, but this fills a SQLite file only: give --path FILE, or unset DATABASE_URL",
      2,
    );
  }
  path = dbPath;
}
const db = openConnection(path);
migrate(db);
const t0 = performance.now();
const { first, last } = seedBulk(db, { count, seed: Number(values.seed) });
const ms = performance.now() - t0;
db.close();
console.log(
  `Inserted ${count} tickets (ids ${first}..${last}) into ${path} in ${
    (ms / 1000).toFixed(2)
  } s (${
    Math.round(count / (ms / 1000))
  } tickets/s), search index and counts included.`,
);
