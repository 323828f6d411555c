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
 * Report times of a seeded ticket, from their own generator (so adding them
 * left every other seeded field as it was): most are answered within hours,
 * Closed ones resolved within days, never after `end`; one Closed ticket in
 * 40 was reopened once and closed again.
 */
function reportTimes(
  rnd: () => number,
  created: number,
  status: string,
  end: number,
) {
  // Log-uniform between a minute and `maxH` hours: many quick, a long tail.
  const wait = (maxH: number) =>
    Math.round(60_000 * Math.exp(rnd() * Math.log(maxH * 60)));
  const replied = status !== "Open" || rnd() < 0.75 ? created + wait(48) : null;
  const first = replied !== null && replied < end ? replied : null;
  if (status !== "Closed") return { first, resolved: null, reopen: null };
  const resolved = Math.min(
    end,
    Math.max(first ?? created, created) + wait(240),
  );
  const reopen = rnd() < 0.025 && resolved + 7_200_000 < end
    ? {
      at: resolved + 3_600_000,
      closed: Math.min(end, resolved + 3_600_000 + wait(48)),
    }
    : null;
  return { first, resolved, reopen };
}

/**
 * Inserts `count` tickets (with their creation events) in one transaction
 * through prepared statements. The triggers of migrations 002 and 008 keep the
 * search index, the counters and the report facts in step, exactly as for
 * tickets made by the API.
 */
export function seedBulk(
  db: DatabaseSync,
  opts: { count: number; seed?: number; now?: Date },
): { first: number; last: number } {
  const rnd = random(opts.seed ?? 1);
  const times = random((opts.seed ?? 1) + 0x5eed);
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)]!;
  const end = (opts.now ?? new Date()).getTime();
  const span = 365 * 24 * 3600 * 1000;
  const ticket = db.prepare(
    `INSERT INTO tickets (user_id, pdf_link, product_id, other_ids, status, description,
       assignee, priority, created_at, updated_at, first_response_at, resolved_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
  );
  // A reopen and the close after it, as the writes record them (the
  // triggers of migration 008 count both).
  const reopen = db.prepare(
    `UPDATE tickets SET status = 'Open', resolved_at = NULL, reopened_count = 1,
       updated_at = ? WHERE id = ?`,
  );
  const close = db.prepare(
    `UPDATE tickets SET status = 'Closed', resolved_at = ?, updated_at = ? WHERE id = ?`,
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
      const createdMs = end - span + (span * i) / opts.count;
      const at = new Date(createdMs).toISOString();
      const status = rnd() < 0.6 ? "Open" : pick(STATUSES);
      const report = reportTimes(times, createdMs, status, end);
      const iso = (ms: number | null) =>
        ms === null ? null : new Date(ms).toISOString();
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
          iso(report.resolved ?? report.first ?? createdMs),
          iso(report.first),
          iso(report.resolved),
        )!.id,
      );
      if (report.reopen) {
        reopen.run(iso(report.reopen.at), id);
        close.run(iso(report.reopen.closed), iso(report.reopen.closed), id);
      }
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
