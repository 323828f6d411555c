/**
 * The store backends the backend-neutral tests run against: SQLite always,
 * PostgreSQL when TEST_DATABASE_URL is set (each test in a fresh schema,
 * dropped afterwards). Without it the Postgres cases are registered as
 * ignored, with a name that says how to run them.
 */
import { createMemoryBus, type EventBus } from "../../db/bus.ts";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import type { SqliteStore } from "../../db/sqlite/sqlite_store.ts";
import {
  openPostgresStore,
  type PostgresStore,
} from "../../db/postgres/postgres_store.ts";
import { openPool, type Sql } from "../../db/postgres/connection.ts";
import type { AccountStore, TicketStore } from "../../db/store.ts";
import { type Harness, harnessFor, withTempDir } from "../fixtures.ts";

export type AnyStore = TicketStore & AccountStore;

/** The database URL for the Postgres cases, or undefined. */
export const TEST_DATABASE_URL = Deno.env.get("TEST_DATABASE_URL") || undefined;

/** Where a store keeps its data between opens: a file path or a schema. */
export type Location = string;

export interface Backend {
  name: "sqlite" | "postgres";
  /** False when the backend cannot run here (Postgres without TEST_DATABASE_URL). */
  enabled: boolean;
  /** Runs `fn` with a fresh, empty location, removed afterwards. */
  withLocation(fn: (loc: Location) => Promise<void>): Promise<void>;
  /** Opens a store at `loc` (null: a throw-away one). */
  open(loc: Location | null, bus?: EventBus): Promise<AnyStore>;
}

let admin: Sql | null = null;

/** One small pool per test process for creating and dropping schemas. */
async function adminPool(): Promise<Sql> {
  if (admin) return admin;
  admin = openPool(TEST_DATABASE_URL!, { max: 2 });
  // Migration 002 folds accents with unaccent when the database has it. Made
  // once here, in public, so test schemas never own (and drop) it.
  for (let i = 0; i < 3; i++) {
    try {
      await admin`CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public`;
      break;
    } catch {
      /* another test process made it at the same moment: look again */
    }
  }
  return admin;
}

/** Creates an empty schema and returns its name. */
export async function createTestSchema(): Promise<string> {
  const name = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const sql = await adminPool();
  await sql.unsafe(`CREATE SCHEMA ${name}`);
  return name;
}

/** Drops a schema made by createTestSchema. */
export async function dropTestSchema(name: string): Promise<void> {
  const sql = await adminPool();
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
}

/** Closes the schema pool (each test file's last test calls it via the sanitizer-safe wrapper). */
async function closeAdmin() {
  const a = admin;
  admin = null;
  await a?.end({ timeout: 1 });
}

/** Opens a Postgres store in `schema` (listening when there is a bus). */
export function openTestPostgres(
  schema: string,
  bus?: EventBus,
): Promise<PostgresStore> {
  return openPostgresStore({ url: TEST_DATABASE_URL!, schema, bus, max: 4 });
}

const sqlite: Backend = {
  name: "sqlite",
  enabled: true,
  withLocation: (fn) => withTempDir((dir) => fn(`${dir}/t.db`)),
  open: (loc, bus) => openSqliteStore({ path: loc ?? ":memory:", bus }),
};

const postgres: Backend = {
  name: "postgres",
  enabled: TEST_DATABASE_URL !== undefined,
  async withLocation(fn) {
    const schema = await createTestSchema();
    try {
      await fn(schema);
    } finally {
      await dropTestSchema(schema);
    }
  },
  async open(loc, bus) {
    if (loc !== null) return await openTestPostgres(loc, bus);
    // A throw-away store: its schema goes when the store closes.
    const schema = await createTestSchema();
    const store = await openTestPostgres(schema, bus);
    const close = store.close.bind(store);
    store.close = async () => {
      await close();
      await dropTestSchema(schema);
    };
    return store;
  },
};

/** Every backend; the Postgres one is disabled without TEST_DATABASE_URL. */
export const BACKENDS: readonly Backend[] = [sqlite, postgres];

const HOW_TO_ENABLE =
  "(ignored: set TEST_DATABASE_URL=postgres://… to run; .ci/postgres.sh starts one)";

/**
 * Registers `name [backend]` once per backend. A disabled backend's case is
 * registered as ignored, with a name saying how to enable it.
 */
export function testEachBackend(
  name: string,
  fn: (backend: Backend) => Promise<void>,
): void {
  for (const backend of BACKENDS) {
    Deno.test({
      name: backend.enabled
        ? `${name} [${backend.name}]`
        : `${name} [${backend.name}] ${HOW_TO_ENABLE}`,
      ignore: !backend.enabled,
      fn: async () => {
        try {
          await fn(backend);
        } finally {
          await closeAdmin();
        }
      },
    });
  }
}

/** Registers a Postgres-only test, ignored (saying how to run it) without TEST_DATABASE_URL. */
export function testPostgres(
  name: string,
  fn: () => Promise<void>,
  opts: { sanitizeResources?: boolean; sanitizeOps?: boolean } = {},
): void {
  const enabled = TEST_DATABASE_URL !== undefined;
  Deno.test({
    name: enabled
      ? `${name} [postgres]`
      : `${name} [postgres] ${HOW_TO_ENABLE}`,
    ignore: !enabled,
    ...opts,
    fn: async () => {
      try {
        await fn();
      } finally {
        await closeAdmin();
      }
    },
  });
}

/** Runs a query on the schema-admin pool (for tests that look under the store). */
export async function adminQuery(
  query: string,
  params: (string | number)[] = [],
): Promise<Record<string, unknown>[]> {
  const sql = await adminPool();
  return [...await sql.unsafe(query, params)];
}

/** Opens a throw-away store of `backend`; always closes it. */
export async function withStore(
  backend: Backend,
  fn: (store: AnyStore) => Promise<void>,
): Promise<void> {
  const store = await backend.open(null);
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * The app over a store of `backend` (throw-away, or at `loc` to reopen later),
 * with a test API key and a record of what the bus delivered.
 */
export async function withBackendApp(
  backend: Backend,
  fn: (h: Harness) => Promise<void>,
  loc: Location | null = null,
): Promise<void> {
  const bus = createMemoryBus();
  const store = await backend.open(loc, bus);
  try {
    // harnessFor only uses the store through its interfaces; fixtures.ts
    // predates a second backend and names the SQLite class.
    await fn(await harnessFor(store as SqliteStore, bus));
  } finally {
    await store.close();
  }
}
