/** Opening a PostgreSQL pool, mapping rows to the store's types and errors to typed ones. */
import postgres from "postgres";
import { StorageUnavailableError } from "../store.ts";

/** A postgres.js pool (or a transaction on one of its connections). */
export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;
export type Row = Record<string, unknown>;

export interface PoolOptions {
  /** At most this many connections (10 unless told). */
  max?: number;
  /** Tables live in this schema (tests use one schema each); default: the server's search_path. */
  schema?: string;
}

/** Opens a pool; connections are made lazily, on first use. */
export function openPool(url: string, opts: PoolOptions = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 10,
    // CREATE … IF NOT EXISTS and friends send notices: not worth a log line.
    onnotice: () => {},
    connect_timeout: 10,
    idle_timeout: 60,
    connection: {
      application_name: "ticket_desk",
      ...(opts.schema ? { search_path: opts.schema } : {}),
    },
  });
}

/** Connection-level codes from postgres.js and the OS that mean "no database right now". */
const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ETIMEDOUT",
  "EPIPE",
]);

/**
 * SQLSTATEs that mean the storage cannot take the request: connection
 * exceptions (08…), insufficient resources (53…: disk full, out of memory,
 * too many connections), a read-only server (25006) or one shutting down or
 * starting (57P01-57P03), and I/O errors (58…).
 */
function isStorageState(code: string): boolean {
  return /^(08|53|58)/.test(code) || code === "25006" ||
    /^57P0[1-3]$/.test(code);
}

/** Returns the StorageUnavailableError for a driver error that means "no storage", else the error. */
export function mapStorageError(err: unknown, doing = "use"): unknown {
  const e = err as { code?: unknown; message?: string } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if (
    CONNECTION_CODES.has(code) || isStorageState(code) ||
    err instanceof Deno.errors.ConnectionRefused
  ) {
    return new StorageUnavailableError(
      `The database cannot ${doing} now: ${e?.message ?? String(err)}`,
    );
  }
  return err;
}

/** True for a unique-constraint violation (SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown })?.code === "23505";
}

// Row mapping is shared by both backends (db/rows.ts).
export { iso, rowToComment, rowToEvent, rowToTicket } from "../rows.ts";
