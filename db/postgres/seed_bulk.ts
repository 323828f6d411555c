/**
 * Bulk sample data on PostgreSQL for benchmarks: the same shape of data as the
 * SQLite seeder (db/sqlite/seed_bulk.ts: a year of tickets, statuses, owners,
 * products, priorities and report times), made by the server itself from
 * generate_series. Row triggers would take half an hour for a million: they
 * are off while the rows go in, and the search index, the counters and the
 * report facts are then built in bulk, by the statements the migrations
 * backfill them with. Run it on a database no server is using.
 */
import type { Sql } from "./connection.ts";

const WORDS =
  "router wifi password reset firmware update camera lens night mode battery charger thermostat schedule lock keypad app crash login pairing bluetooth refund replacement shipping damaged manual screen frozen slow noise error"
    .split(" ");
const OWNERS = [
  "benchadmin",
  ...Array.from({ length: 7 }, (_, i) => `agent${i + 1}`),
];
const USERS = ["li_wei", "maria", "john_doe", "a.nguyen", "fatima", "sam"];

/** Inserts `count` tickets (and their creation events), `chunk` per transaction. */
export async function seedBulkPostgres(
  sql: Sql,
  opts: { count: number; now?: Date; chunk?: number },
): Promise<void> {
  const end = (opts.now ?? new Date()).getTime() / 1000;
  const span = 365 * 86_400;
  const chunk = opts.chunk ?? 100_000;
  await sql`ALTER TABLE tickets DISABLE TRIGGER USER`;
  for (let from = 0; from < opts.count; from += chunk) {
    const to = Math.min(opts.count, from + chunk) - 1;
    await sql.begin(async (tx) => {
      await tx`
        WITH s AS (
          SELECT g, to_timestamp(${
        end - span
      }::float8 + ${span}::float8 * g / ${opts.count}) AS created,
                 CASE WHEN random() < 0.6 THEN 'Open'
                      ELSE (ARRAY['Open', 'Pending', 'Closed'])[1 + floor(random() * 3)::int] END AS status,
                 -- Log-uniform waits, as the SQLite seeder: a minute to 48 h, a minute to 240 h.
                 make_interval(secs => 60 * exp(random() * ln(48 * 60))) AS reply_wait,
                 make_interval(secs => 60 * exp(random() * ln(240 * 60))) AS close_wait,
                 random() AS answered
          FROM generate_series(${from}::int, ${to}::int) g
        ), t AS (
          SELECT s.*,
                 CASE WHEN (status <> 'Open' OR answered < 0.75)
                        AND created + reply_wait < to_timestamp(${end}::float8)
                      THEN created + reply_wait END AS first_response_at
          FROM s
        )
        INSERT INTO tickets (user_id, pdf_link, product_id, other_ids, status, description,
          assignee, priority, created_at, updated_at, first_response_at, resolved_at)
        SELECT
          (${USERS}::text[])[1 + floor(random() * ${USERS.length})::int] || floor(random() * 5000)::int,
          'https://example.com/guides/' || (${WORDS}::text[])[1 + floor(random() * ${WORDS.length})::int] || '.pdf',
          CASE WHEN random() < 0.9 THEN 'PROD-' || floor(random() * 50)::int END,
          CASE WHEN random() < 0.4 THEN 'ORDER-' || floor(random() * 1e6)::int END,
          status,
          -- Six words; g makes the subquery run per row (else it runs once).
          (SELECT string_agg((${WORDS}::text[])[1 + floor(random() * ${WORDS.length} + 0 * w + 0 * g)::int], ' ')
           FROM generate_series(1, 6) w),
          CASE WHEN random() < 0.6 THEN (${OWNERS}::text[])[1 + floor(random() * ${OWNERS.length})::int] END,
          CASE WHEN random() < 0.7 THEN 1 ELSE floor(random() * 4)::int END,
          created,
          created,
          first_response_at,
          CASE WHEN status = 'Closed' THEN least(
            to_timestamp(${end}::float8),
            coalesce(first_response_at, created) + close_wait
          ) END
        FROM t ORDER BY g`;
    });
  }
  await sql`
    INSERT INTO events (type, ticket_id, actor, data, created_at)
    SELECT 'ticket.created', id, 'seed', json_build_object('status', status), created_at
    FROM tickets ORDER BY id`;
  await sql.begin(async (tx) => {
    // As migrations 002, 006 and 009 backfill them.
    await tx`DELETE FROM ticket_search`;
    await tx`
      INSERT INTO ticket_search (ticket_id, comments, doc)
      SELECT t.id, t.comments, desk_search_doc(t, t.comments) FROM tickets t`;
    await tx`DELETE FROM ticket_counts`;
    await tx`
      INSERT INTO ticket_counts (dimension, value, n)
      SELECT 'status', status, count(*) FROM tickets GROUP BY status`;
    await tx`
      INSERT INTO ticket_counts (dimension, value, n)
      SELECT 'product', product_id, count(*) FROM tickets
      WHERE product_id IS NOT NULL GROUP BY product_id`;
    await tx`
      INSERT INTO ticket_counts (dimension, value, n)
      SELECT 'owner', status || chr(31) || coalesce(assignee, ''), count(*)
      FROM tickets GROUP BY status, assignee`;
    await tx`SELECT report_rebuild()`;
    await tx`ALTER TABLE tickets ENABLE TRIGGER USER`;
  });
  // Index-only scans need the visibility map that autovacuum would make later.
  // A VACUUM while autovacuum analyzes the new rows cannot mark their pages
  // (the analysis holds a snapshot): again, until it has.
  for (let i = 0; i < 10; i++) {
    await sql`VACUUM (ANALYZE)`;
    const [r] = await sql`
      SELECT relallvisible >= relpages * 0.99 AS done FROM pg_class
      WHERE relname = 'report_facts' AND relnamespace = current_schema()::regnamespace`;
    if (r?.done) break;
    await new Promise((ok) => setTimeout(ok, 2000));
  }
}
