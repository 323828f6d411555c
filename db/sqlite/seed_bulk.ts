/** Bulk sample data for benchmarks: many tickets in one transaction, search index and counts included. */
import type { DatabaseSync } from "node:sqlite";
import { STATUSES } from "../store.ts";
import { SAMPLE_USERS as USERS } from "../../lib/sample_data.ts";

/** Who owns seeded tickets; `benchadmin` is the user the bench logs in as. */
const OWNERS = [
  "benchadmin",
  ...Array.from({ length: 7 }, (_, i) => `agent${i + 1}`),
];

const WORDS = (
  "router wifi password reset firmware update camera lens night mode battery " +
  "charger thermostat schedule lock keypad app crash login pairing bluetooth " +
  "refund replacement shipping damaged manual screen frozen slow noise error"
).split(" ");

/** A small deterministic generator, so two seeds of the same size hold the same data. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Inserts `count` tickets (with their creation events) in one transaction
 * through prepared statements. The triggers of migration 002 keep the search
 * index and the counters in step, exactly as for tickets made by the API.
 */
export function seedBulk(
  db: DatabaseSync,
  opts: { count: number; seed?: number; now?: Date },
): { first: number; last: number } {
  const rnd = random(opts.seed ?? 1);
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)]!;
  const end = (opts.now ?? new Date()).getTime();
  const span = 365 * 24 * 3600 * 1000;
  const ticket = db.prepare(
    `INSERT INTO tickets (user_id, pdf_link, product_id, other_ids, status, description,
       assignee, priority, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
  );
  const event = db.prepare(
    `INSERT INTO events (type, ticket_id, actor, data, created_at)
     VALUES ('ticket.created', ?, 'seed', ?, ?)`,
  );
  let first = 0;
  let last = 0;
  db.exec("BEGIN IMMEDIATE");
  try {
    for (let i = 0; i < opts.count; i++) {
      // Oldest first, so ids grow with time as they do in real use.
      const at = new Date(end - span + (span * i) / opts.count).toISOString();
      const status = rnd() < 0.6 ? "Open" : pick(STATUSES);
      const words = Array.from(
        { length: 4 + Math.floor(rnd() * 12) },
        () => pick(WORDS),
      );
      const id = Number(
        ticket.get(
          `${pick(USERS)}${Math.floor(rnd() * 5000)}`,
          `https://example.com/guides/${pick(WORDS)}.pdf`,
          rnd() < 0.9 ? `PROD-${Math.floor(rnd() * 50)}` : null,
          rnd() < 0.4 ? `ORDER-${Math.floor(rnd() * 1e6)}` : null,
          status,
          rnd() < 0.7 ? words.join(" ") : "",
          // Six in ten have an owner: one of eight agents (the bench logs in as one).
          rnd() < 0.6 ? pick(OWNERS) : null,
          // Mostly Normal, a few of each other priority.
          rnd() < 0.7 ? 1 : Math.floor(rnd() * 4),
          at,
          at,
        )!.id,
      );
      event.run(id, JSON.stringify({ status }), at);
      if (i === 0) first = id;
      last = id;
    }
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
  return { first, last };
}
