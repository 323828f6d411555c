/**
 * Copies the desk's data between its two backends, keeping every id.
 *
 *   deno task migrate-data --to postgres://user:pass@host:5432/db [--force]
 *   deno task migrate-data --from postgres://user:pass@host:5432/db [--force]
 *
 * `--to` copies the SQLite database at DB_PATH (default data/tickets.db) into
 * PostgreSQL; `--from` copies PostgreSQL into the SQLite file at DB_PATH.
 * Tickets (version, legacy comments, times, requester token version, report
 * times), comments (visibility), events (so a browser's Last-Event-ID still
 * means the same event), idempotency keys, users (password hashes), API keys
 * (hashes, scopes) and webhooks (endpoints with their secrets, the outbox of
 * deliveries, the attempt log) are copied; sessions are not, so everyone
 * signs in again. The target is migrated first and must hold none of
 * those rows, unless `--force` empties it (it would otherwise collide on ids).
 *
 * The source is read in one read transaction, so the copy is the source as of
 * one moment; stop the app (or keep it from writing) while copying, or later
 * writes stay behind. The target is written 1,000 rows per transaction, keyset
 * by key. Afterwards the id counters (sqlite_sequence, Postgres sequences) are
 * moved to the source's, never below the ids present, so no id is handed out
 * twice. Search index and counts are kept by the target's triggers, which fire
 * on these inserts; the report facts too, but a ticket's past closes and
 * reopens are not in its row: those the triggers made are replaced by the
 * source's. The final check compares row counts per table and checks the
 * derived data, and exits 1 on any mismatch.
 */
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../db/sqlite/sqlite_store.ts";
import { MIGRATIONS as SQLITE_MIGRATIONS } from "../db/sqlite/migrate.ts";
import { openPool, type Sql } from "../db/postgres/connection.ts";
import {
  migrate as migratePostgres,
  MIGRATIONS as POSTGRES_MIGRATIONS,
} from "../db/postgres/migrate.ts";
import { lockWrites } from "../db/postgres/writes.ts";
import { DEFAULT_CONFIG } from "../config.ts";
import { fail, parseTaskArgs, readCliLocation } from "./cli.ts";

type Kind = "int" | "text" | "time" | "json" | "bool";
type Value = number | string | boolean | null;
type Row = Record<string, Value>;

interface Table {
  name: string;
  columns: [string, Kind][];
  /** The primary key, which is also the keyset order. */
  key: string[];
  /** Ids come from a counter (AUTOINCREMENT / a sequence) to carry over. */
  counter: boolean;
  /** Rows the target's triggers made while the tickets went in: emptied first, then copied as the source has them. */
  replacesDerived?: boolean;
}

/** What is copied, parents before children. Sessions are left behind on purpose. */
export const TABLES: readonly Table[] = [
  {
    name: "tickets",
    columns: [
      ["id", "int"],
      ["user_id", "text"],
      ["pdf_link", "text"],
      ["product_id", "text"],
      ["other_ids", "text"],
      ["status", "text"],
      ["description", "text"],
      ["comments", "text"],
      ["created_at", "time"],
      ["updated_at", "time"],
      ["version", "int"],
      ["token_version", "int"],
      ["first_response_at", "time"],
      ["resolved_at", "time"],
      ["reopened_count", "int"],
    ],
    key: ["id"],
    counter: true,
  },
  {
    // Each ticket's report facts, its closes and reopens included (migration 008/009).
    name: "report_facts",
    columns: [
      ["kind", "int"],
      ["assignee", "text"],
      ["at", "int"],
      ["ticket_id", "int"],
      ["nth", "int"],
      ["product_id", "text"],
      ["priority", "int"],
      ["standing", "bool"],
      ["seconds", "int"],
    ],
    key: ["kind", "assignee", "at", "ticket_id", "nth"],
    counter: false,
    replacesDerived: true,
  },
  {
    name: "comments",
    columns: [
      ["id", "int"],
      ["ticket_id", "int"],
      ["author", "text"],
      ["body", "text"],
      ["created_at", "time"],
      ["visibility", "text"],
      ["from_requester", "bool"],
    ],
    key: ["id"],
    counter: true,
  },
  {
    name: "events",
    columns: [
      ["id", "int"],
      ["type", "text"],
      ["ticket_id", "int"],
      ["actor", "text"],
      ["data", "json"],
      ["created_at", "time"],
    ],
    key: ["id"],
    counter: true,
  },
  {
    name: "idempotency_keys",
    columns: [
      ["scope", "text"],
      ["key", "text"],
      ["fingerprint", "text"],
      ["ticket_id", "int"],
      ["response", "text"],
      ["created_at", "time"],
    ],
    key: ["scope", "key"],
    counter: false,
  },
  {
    name: "users",
    columns: [
      ["id", "int"],
      ["username", "text"],
      ["password_hash", "text"],
      ["role", "text"],
      ["created_at", "time"],
      ["disabled", "bool"],
      ["board_layout", "text"],
    ],
    key: ["id"],
    counter: true,
  },
  {
    name: "api_keys",
    columns: [
      ["id", "int"],
      ["name", "text"],
      ["prefix", "text"],
      ["key_hash", "text"],
      ["created_at", "time"],
      ["last_used_at", "time"],
      ["revoked_at", "time"],
      ["scopes", "text"],
    ],
    key: ["id"],
    counter: true,
  },
  {
    name: "webhook_endpoints",
    columns: [
      ["id", "int"],
      ["url", "text"],
      ["events", "text"],
      ["secret", "text"],
      ["previous_secret", "text"],
      ["previous_secret_until", "time"],
      ["created_at", "time"],
      ["disabled_at", "time"],
      ["disabled_reason", "text"],
    ],
    key: ["id"],
    counter: true,
  },
  {
    name: "webhook_deliveries",
    columns: [
      ["id", "int"],
      ["endpoint_id", "int"],
      ["event_id", "int"],
      ["ticket_id", "int"],
      ["type", "text"],
      ["msg_id", "text"],
      ["payload", "text"],
      ["status", "text"],
      ["attempts", "int"],
      ["next_attempt_at", "time"],
      ["leased_until", "time"],
      ["created_at", "time"],
      ["finished_at", "time"],
    ],
    key: ["id"],
    counter: true,
  },
  {
    name: "webhook_attempts",
    columns: [
      ["id", "int"],
      ["endpoint_id", "int"],
      ["delivery_id", "int"],
      ["attempted_at", "time"],
      ["status_code", "int"],
      ["duration_ms", "int"],
      ["error", "text"],
      ["outcome", "text"],
    ],
    key: ["id"],
    counter: true,
  },
];

/** Rows per target transaction (and per source read). */
export const CHUNK = 1_000;

/** Derived data on the target, checked against its tickets. */
export interface Derived {
  tickets: number;
  /** Rows in the search index (one per ticket). */
  search_rows: number;
  /** Sum of the per-status counters. */
  status_total: number;
  /** Tickets with a product, and the sum of the per-product counters. */
  with_product: number;
  product_total: number;
}

/** One side read in a snapshot: counts, keyset chunks and id counters. */
interface Source {
  label: string;
  count(t: Table): Promise<number>;
  chunk(t: Table, after: Row | null, limit: number): Promise<Row[]>;
  /** The highest id the table's counter has handed out (0 when none). */
  counter(t: Table): Promise<number>;
}

/** The side written to. */
interface Target {
  label: string;
  count(t: Table): Promise<number>;
  /** Empties every copied table, sessions and the derived tables. */
  clear(): Promise<void>;
  /** Empties one table (derived rows about to be replaced by the source's). */
  empty(t: Table): Promise<void>;
  write(t: Table, rows: Row[]): Promise<void>;
  /** Moves the counter to at least `n` and past every id present; returns where it is. */
  setCounter(t: Table, n: number): Promise<number>;
  derived(): Promise<Derived>;
  close(): Promise<void>;
}

/** The target already holds data and `--force` was not given. */
export class TargetNotEmptyError extends Error {
  override name = "TargetNotEmptyError";
  constructor(readonly label: string, readonly counts: Record<string, number>) {
    const held = Object.entries(counts).filter(([, n]) => n > 0)
      .map(([t, n]) => `${n} ${t}`).join(", ");
    super(
      `${label} already holds data (${held}). Ids are kept, so copying into it ` +
        `would collide. Nothing was copied. Point at an empty database, or run ` +
        `again with --force to empty it first (its sessions go too).`,
    );
  }
}

// ---- SQLite ---------------------------------------------------------------

function columnList(t: Table): string {
  return t.columns.map(([c]) => c).join(", ");
}

function fromSqlite(t: Table, r: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [c, kind] of t.columns) {
    const v = r[c];
    out[c] = v == null
      ? null
      : kind === "int"
      ? Number(v)
      : kind === "bool"
      ? Number(v) !== 0
      : String(v);
  }
  return out;
}

function schemaVersion(db: DatabaseSync): number {
  try {
    return Number(
      db.prepare("SELECT max(version) AS v FROM schema_migrations").get()?.v ??
        0,
    );
  } catch {
    return 0; // no schema_migrations: not a ticket desk database
  }
}

/** Runs `fn` over the SQLite database at `path`, read in one read transaction. */
async function withSqliteSource<T>(
  path: string,
  fn: (s: Source) => Promise<T>,
): Promise<T> {
  try {
    await Deno.stat(path);
  } catch {
    throw new Error(`There is no SQLite database at ${path} (DB_PATH)`);
  }
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    const latest = SQLITE_MIGRATIONS.at(-1)!.version;
    const at = schemaVersion(db);
    if (at < latest) {
      throw new Error(
        `${path} is at migration ${at} of ${latest}: start the app on it once ` +
          `(it migrates on start), then copy`,
      );
    }
    // One read transaction: every chunk comes from the same commit (WAL lets
    // a running server keep writing meanwhile).
    db.exec("BEGIN");
    const source: Source = {
      label: `SQLite ${path}`,
      count: (t) =>
        Promise.resolve(
          Number(db.prepare(`SELECT count(*) AS n FROM ${t.name}`).get()!.n),
        ),
      chunk(t, after, limit) {
        const keys = t.key.join(", ");
        const where = after
          ? `WHERE (${keys}) > (${t.key.map(() => "?").join(", ")})`
          : "";
        const params = after
          ? t.key.map((k) => after[k] as string | number)
          : [];
        const rows = db.prepare(
          `SELECT ${
            columnList(t)
          } FROM ${t.name} ${where} ORDER BY ${keys} LIMIT ?`,
        ).all(...params, limit);
        return Promise.resolve(rows.map((r) => fromSqlite(t, r)));
      },
      counter(t) {
        const r = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = ?")
          .get(t.name);
        return Promise.resolve(Number(r?.seq ?? 0));
      },
    };
    const result = await fn(source);
    db.exec("COMMIT");
    return result;
  } finally {
    db.close();
  }
}

/** Opens (creating and migrating if needed) the SQLite file at `path` for writing. */
async function openSqliteTarget(path: string): Promise<Target> {
  await (await openSqliteStore({ path, writer: "inline" })).close(); // migrate
  const db = new DatabaseSync(path);
  db.exec("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON");
  const one = (sql: string, ...p: (string | number)[]) =>
    Number(Object.values(db.prepare(sql).get(...p) ?? {})[0] ?? 0);
  const inTransaction = (fn: () => void) => {
    db.exec("BEGIN IMMEDIATE");
    try {
      fn();
      db.exec("COMMIT");
    } catch (err) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw err;
    }
  };
  return {
    label: `SQLite ${path}`,
    count: (t) => Promise.resolve(one(`SELECT count(*) FROM ${t.name}`)),
    clear() {
      inTransaction(() => {
        // Children first; the delete triggers keep the index and counts right,
        // and the derived tables are emptied after them all the same.
        for (
          const t of [
            "sessions",
            "webhook_attempts",
            "webhook_deliveries",
            "webhook_endpoints",
            "idempotency_keys",
            "comments",
            "events",
            "api_keys",
            "users",
            "tickets",
            "ticket_counts",
            "tickets_fts",
            "report_facts",
            "report_groups",
          ]
        ) db.exec(`DELETE FROM ${t}`);
        db.exec(
          `DELETE FROM sqlite_sequence WHERE name IN (${
            TABLES.map((t) => `'${t.name}'`).join(", ")
          })`,
        );
      });
      return Promise.resolve();
    },
    empty(t) {
      inTransaction(() => db.exec(`DELETE FROM ${t.name}`));
      return Promise.resolve();
    },
    write(t, rows) {
      const insert = db.prepare(
        `INSERT INTO ${t.name} (${columnList(t)}) VALUES (${
          t.columns.map(() => "?").join(", ")
        })`,
      );
      inTransaction(() => {
        for (const r of rows) {
          insert.run(
            ...t.columns.map(([c]) => {
              const v = r[c] ?? null;
              return typeof v === "boolean" ? (v ? 1 : 0) : v;
            }),
          );
        }
      });
      return Promise.resolve();
    },
    setCounter(t, n) {
      let at = 0;
      inTransaction(() => {
        // AUTOINCREMENT already moved it past the inserted ids; carry the
        // source's (higher when its newest rows were deleted) too.
        at = Math.max(
          n,
          one(`SELECT coalesce(max(id), 0) FROM ${t.name}`),
          one(
            "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = ?",
            t.name,
          ),
        );
        db.prepare("DELETE FROM sqlite_sequence WHERE name = ?").run(t.name);
        if (at > 0) {
          db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)")
            .run(t.name, at);
        }
      });
      return Promise.resolve(at);
    },
    derived: () =>
      Promise.resolve({
        tickets: one("SELECT count(*) FROM tickets"),
        search_rows: one("SELECT count(*) FROM tickets_fts"),
        status_total: one(
          "SELECT coalesce(sum(n), 0) FROM ticket_counts WHERE dimension = 'status'",
        ),
        with_product: one(
          "SELECT count(*) FROM tickets WHERE product_id IS NOT NULL",
        ),
        product_total: one(
          "SELECT coalesce(sum(n), 0) FROM ticket_counts WHERE dimension = 'product'",
        ),
      }),
    close: () => Promise.resolve(db.close()),
  };
}

// ---- PostgreSQL -------------------------------------------------------------

const PG_TYPES: Record<Kind, string> = {
  int: "bigint",
  text: "text",
  time: "timestamptz",
  json: "text", // cast to json after: json keeps the text as written
  bool: "boolean",
};

function pgSelectList(t: Table): string {
  return t.columns.map(([c, kind]) =>
    kind === "json" ? `${c}::text AS ${c}` : c
  )
    .join(", ");
}

function fromPostgres(t: Table, r: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [c, kind] of t.columns) {
    const v = r[c];
    out[c] = v == null ? null : kind === "int"
      ? Number(v) // bigint arrives as a string
      : kind === "bool"
      ? v === true
      : v instanceof Date
      ? v.toISOString() // the form the SQLite store writes
      : String(v);
  }
  return out;
}

/** Where a server is, without the password a URL may carry. */
function pgLabel(sql: Sql): string {
  const { host, port, database } = sql.options;
  return `PostgreSQL ${host.join(",")}:${port.join(",")}/${database}`;
}

function sequenceOf(t: Table): string {
  return `pg_get_serial_sequence('${t.name}', 'id')`;
}

/** Runs `fn` over the PostgreSQL database at `url`, read in one snapshot. */
async function withPostgresSource<T>(
  url: string,
  schema: string | undefined,
  fn: (s: Source) => Promise<T>,
): Promise<T> {
  const sql = openPool(url, { max: 1, schema });
  try {
    const latest = POSTGRES_MIGRATIONS.at(-1)!.version;
    const [v] = await sql`
      SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0
             ELSE (SELECT coalesce(max(version), 0) FROM schema_migrations) END AS v`;
    const at = Number(v!.v);
    if (at < latest) {
      throw new Error(
        `${
          pgLabel(sql)
        } is at migration ${at} of ${latest}: start the app on ` +
          `it once (it migrates on start), then copy`,
      );
    }
    // REPEATABLE READ: every chunk sees the same snapshot.
    return await sql.begin(
      "isolation level repeatable read read only",
      async (tx) => {
        const source: Source = {
          label: pgLabel(sql),
          async count(t) {
            const [r] = await tx.unsafe(`SELECT count(*) AS n FROM ${t.name}`);
            return Number(r!.n);
          },
          async chunk(t, after, limit) {
            const keys = t.key.join(", ");
            const where = after
              ? `WHERE (${keys}) > (${
                t.key.map((_, i) => `$${i + 1}`).join(", ")
              })`
              : "";
            const params = after
              ? t.key.map((k) => after[k] as string | number)
              : [];
            const rows = await tx.unsafe(
              `SELECT ${pgSelectList(t)} FROM ${t.name} ${where}
               ORDER BY ${keys} LIMIT ${Number(limit)}`,
              params,
            );
            return rows.map((r) => fromPostgres(t, r));
          },
          async counter(t) {
            const [s] = await tx.unsafe(`SELECT ${sequenceOf(t)} AS seq`);
            // Sequences are not transactional: this may run ahead of the
            // snapshot, which only skips ids, never reuses one.
            const [r] = await tx.unsafe(
              `SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS n
               FROM ${s!.seq}`,
            );
            return Number(r!.n);
          },
        };
        return await fn(source);
      },
    ) as T;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Opens (migrating if needed) the PostgreSQL database at `url` for writing. */
async function openPostgresTarget(
  url: string,
  schema: string | undefined,
): Promise<Target> {
  const sql = openPool(url, { max: 1, schema });
  try {
    await migratePostgres(sql);
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw err;
  }
  const one = async (query: string) =>
    Number(Object.values((await sql.unsafe(query))[0] ?? {})[0] ?? 0);
  return {
    label: pgLabel(sql),
    count: (t) => one(`SELECT count(*) FROM ${t.name}`),
    async clear() {
      await sql.begin(async (tx) => {
        await lockWrites(tx);
        await tx.unsafe(
          `TRUNCATE ${
            TABLES.map((t) => t.name).join(", ")
          }, sessions, ticket_search, ticket_counts, report_groups RESTART IDENTITY`,
        );
      });
    },
    async empty(t) {
      await sql.begin(async (tx) => {
        await lockWrites(tx);
        await tx.unsafe(`DELETE FROM ${t.name}`);
      });
    },
    async write(t, rows) {
      const cols = columnList(t);
      const select = t.columns.map(([c, kind]) =>
        kind === "json" ? `r.${c}::json` : `r.${c}`
      ).join(", ");
      const shape = t.columns.map(([c, kind]) => `${c} ${PG_TYPES[kind]}`)
        .join(", ");
      await sql.begin(async (tx) => {
        // Like every ticket write: one at a time, so a running instance's
        // listener never sees ids commit out of order.
        await lockWrites(tx);
        // The whole chunk as one JSON parameter: one statement, explicit types.
        await tx.unsafe(
          `INSERT INTO ${t.name} (${cols})
           SELECT ${select} FROM json_to_recordset($1::text::json) AS r(${shape})
           ORDER BY ${t.key.map((k) => `r.${k}`).join(", ")}`,
          [JSON.stringify(rows)],
        );
      });
    },
    async setCounter(t, n) {
      const [r] = await sql.unsafe(
        `SELECT greatest($1::bigint, coalesce(max(id), 0)) AS n FROM ${t.name}`,
        [n],
      );
      const at = Number(r!.n);
      // setval(seq, 1, false): the next id is 1, as in a new table.
      await sql.unsafe(
        at > 0
          ? `SELECT setval(${sequenceOf(t)}, ${at}, true)`
          : `SELECT setval(${sequenceOf(t)}, 1, false)`,
      );
      return at;
    },
    async derived() {
      const [r] = await sql`
        SELECT (SELECT count(*) FROM tickets) AS tickets,
               (SELECT count(*) FROM ticket_search) AS search_rows,
               (SELECT coalesce(sum(n), 0) FROM ticket_counts
                WHERE dimension = 'status') AS status_total,
               (SELECT count(*) FROM tickets WHERE product_id IS NOT NULL) AS with_product,
               (SELECT coalesce(sum(n), 0) FROM ticket_counts
                WHERE dimension = 'product') AS product_total`;
      return {
        tickets: Number(r!.tickets),
        search_rows: Number(r!.search_rows),
        status_total: Number(r!.status_total),
        with_product: Number(r!.with_product),
        product_total: Number(r!.product_total),
      };
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

// ---- the copy -------------------------------------------------------------

export interface MigrateOptions {
  /** "to-postgres": SQLite → PostgreSQL; "from-postgres": PostgreSQL → SQLite. */
  direction: "to-postgres" | "from-postgres";
  sqlitePath: string;
  url: string;
  /** PostgreSQL schema (tests use a fresh one); default: the server's search_path. */
  schema?: string;
  /** Empty a target that holds data instead of refusing. */
  force?: boolean;
  /** Rows per transaction (1,000 unless told). */
  chunkSize?: number;
  /** Where progress lines go (nowhere unless told). */
  log?: (line: string) => void;
}

export interface TableCheck {
  table: string;
  source: number;
  target: number;
  ok: boolean;
}

export interface MigrateReport {
  source: string;
  target: string;
  tables: TableCheck[];
  /** Where each id counter ended on the target. */
  counters: Record<string, number>;
  derived: Derived;
  derived_ok: boolean;
  /** Every count and derived check matched. */
  ok: boolean;
  ms: number;
}

async function copy(
  source: Source,
  target: Target,
  opts: MigrateOptions,
): Promise<MigrateReport> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const size = opts.chunkSize ?? CHUNK;
  const present: Record<string, number> = {};
  for (const t of TABLES) present[t.name] = await target.count(t);
  if (Object.values(present).some((n) => n > 0)) {
    if (!opts.force) throw new TargetNotEmptyError(target.label, present);
    log(`--force: emptying ${target.label} first …`);
    await target.clear();
  }
  log(
    `Copying ${source.label} → ${target.label}, ${size} rows per transaction`,
  );
  const totals: Record<string, number> = {};
  for (const t of TABLES) {
    if (t.replacesDerived) await target.empty(t);
    const total = totals[t.name] = await source.count(t);
    const name = t.name.padEnd(17);
    let done = 0;
    let after: Row | null = null;
    let shown = 0;
    while (true) {
      const rows = await source.chunk(t, after, size);
      if (rows.length === 0) break;
      await target.write(t, rows);
      done += rows.length;
      after = rows.at(-1)!;
      // A line a second at most, and always the last one.
      if (performance.now() - shown > 1000 && done < total) {
        log(`  ${name} ${done}/${total}`);
        shown = performance.now();
      }
    }
    log(`  ${name} ${done}/${total}`);
  }
  const counters: Record<string, number> = {};
  for (const t of TABLES.filter((t) => t.counter)) {
    counters[t.name] = await target.setCounter(t, await source.counter(t));
  }
  log(
    `Id counters: ${
      Object.entries(counters).map(([t, n]) => `${t} ${n}`).join(", ")
    } (new rows get higher ids)`,
  );
  const tables: TableCheck[] = [];
  for (const t of TABLES) {
    const source = totals[t.name]!;
    const target_ = await target.count(t);
    tables.push({
      table: t.name,
      source,
      target: target_,
      ok: source === target_,
    });
  }
  const derived = await target.derived();
  const derivedOk = derived.search_rows === derived.tickets &&
    derived.status_total === derived.tickets &&
    derived.product_total === derived.with_product;
  return {
    source: source.label,
    target: target.label,
    tables,
    counters,
    derived,
    derived_ok: derivedOk,
    ok: derivedOk && tables.every((c) => c.ok),
    ms: Math.round(performance.now() - t0),
  };
}

/** Copies every table that matters from one backend to the other; throws TargetNotEmptyError without `force`. */
export async function migrateData(
  opts: MigrateOptions,
): Promise<MigrateReport> {
  if (opts.direction === "to-postgres") {
    return await withSqliteSource(opts.sqlitePath, async (source) => {
      const target = await openPostgresTarget(opts.url, opts.schema);
      try {
        return await copy(source, target, opts);
      } finally {
        await target.close();
      }
    });
  }
  return await withPostgresSource(opts.url, opts.schema, async (source) => {
    const target = await openSqliteTarget(opts.sqlitePath);
    try {
      return await copy(source, target, opts);
    } finally {
      await target.close();
    }
  });
}

/** The report's closing lines: a count check per table and the derived data. */
export function checkLines(r: MigrateReport): string[] {
  const mark = (ok: boolean) => ok ? "ok" : "MISMATCH";
  const d = r.derived;
  return [
    "Check (source → target):",
    ...r.tables.map((c) =>
      `  ${c.table.padEnd(17)} ${String(c.source).padStart(8)} → ${
        String(c.target).padEnd(8)
      } ${mark(c.ok)}`
    ),
    `  search index      ${d.search_rows} rows for ${d.tickets} tickets ${
      mark(d.search_rows === d.tickets)
    }`,
    `  status counts     ${d.status_total} for ${d.tickets} tickets ${
      mark(d.status_total === d.tickets)
    }`,
    `  product counts    ${d.product_total} for ${d.with_product} tickets with a product ${
      mark(d.product_total === d.with_product)
    }`,
  ];
}

const USAGE = `Usage:
  deno task migrate-data --to postgres://USER:PASSWORD@HOST:PORT/DB [--force]
  deno task migrate-data --from postgres://USER:PASSWORD@HOST:PORT/DB [--force]

--to copies the SQLite database at DB_PATH (default ${DEFAULT_CONFIG.dbPath}) into
PostgreSQL; --from copies PostgreSQL into the SQLite file at DB_PATH.
Ids are kept; sessions are not copied. The target must hold no tickets,
comments, events, keys or users, unless --force empties it first.
Unset URL parts come from PGHOST, PGUSER, PGPASSWORD… as with libpq
(the user name last from the OS, hence --allow-sys=uid,gid,userInfo);
add ?search_path=NAME to use a schema other than the default.`;

async function main() {
  const { values } = parseTaskArgs(USAGE, {
    to: { type: "string" },
    from: { type: "string" },
    force: { type: "boolean", default: false },
  }, { positionals: false });
  if (Boolean(values.to) === Boolean(values.from)) {
    fail(`Give one of --to URL or --from URL.\n\n${USAGE}`, 2);
  }
  const url = (values.to ?? values.from)!;
  if (!/^postgres(ql)?:\/\//.test(url)) {
    fail(`Expected a postgres:// URL, got ${JSON.stringify(url)}`, 2);
  }
  const { dbPath } = readCliLocation();
  try {
    const r = await migrateData({
      direction: values.to ? "to-postgres" : "from-postgres",
      sqlitePath: dbPath,
      url,
      force: values.force,
      log: (line) => console.log(line),
    });
    for (const line of checkLines(r)) console.log(line);
    console.log("Sessions were not copied: everyone signs in again.");
    if (!r.ok) {
      fail(
        `Copied ${r.source} → ${r.target} in ${r.ms} ms, but the check FAILED: see MISMATCH above`,
      );
    }
    console.log(
      `Done in ${r.ms} ms: ${r.target} matches ${r.source}.`,
    );
  } catch (err) {
    if (err instanceof TargetNotEmptyError) fail(`Refused: ${err.message}`);
    fail(`Copy failed: ${(err as Error).message}`);
  }
}

if (import.meta.main) await main();
