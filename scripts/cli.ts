/** Shared bits of the command-line tasks: arguments, opening the store, reading passwords, failing clearly. */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import {
  ConfigError,
  readStoreLocation,
  type StoreLocation,
} from "../config.ts";
import type { AccountStore, TicketStore } from "../db/store.ts";
import { openSqliteStore } from "../db/sqlite/sqlite_store.ts";
import { openPostgresStore } from "../db/postgres/postgres_store.ts";
import { NAME, NAME_RULE } from "../lib/fields.ts";

/**
 * Reads a task's options and positionals (node:util's parseArgs) with
 * `--help`/`-h` added: help prints `usage` and exits 0; an unknown or
 * malformed option prints what is wrong, then `usage`, and exits 2.
 */
export function parseTaskArgs<const O extends ParseArgsOptionsConfig>(
  usage: string,
  options: O,
  { positionals = true }: { positionals?: boolean } = {},
) {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      allowPositionals: positionals,
      options: {
        ...options,
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    fail(`${(err as Error).message}\n\n${usage}`, 2);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    Deno.exit(0);
  }
  return parsed;
}

/** The NAME argument of a user or key command; a missing or malformed one prints `usage` and exits 2. */
export function requireName(name: string | undefined, usage: string): string {
  if (!name || !NAME.test(name)) fail(`${usage}\n\nNAME: ${NAME_RULE}.`, 2);
  return name;
}

/** Reads DB_PATH and DATABASE_URL as the server does; a bad one prints "Configuration error: …" and exits 2. */
export function readCliLocation(): StoreLocation {
  try {
    return readStoreLocation((name) => Deno.env.get(name));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    fail(`Configuration error: ${err.message}`, 2);
  }
}

/**
 * Opens the store the server opens: PostgreSQL at DATABASE_URL (without
 * listening for events), else SQLite at DB_PATH. Safe while the server runs.
 */
export async function openCliStore(): Promise<TicketStore & AccountStore> {
  const { dbPath, databaseUrl } = readCliLocation();
  try {
    return databaseUrl
      ? await openPostgresStore({ url: databaseUrl, max: 2 })
      : await openSqliteStore({ path: dbPath, writer: "inline" });
  } catch (err) {
    fail(
      `Cannot open the database (${databaseUrl ? "DATABASE_URL" : dbPath}): ${
        (err as Error).message
      }`,
    );
  }
}

/** Prints a message and exits with status 2 (wrong usage) or 1 (failure). */
export function fail(message: string, code = 1): never {
  console.error(message);
  Deno.exit(code);
}

/** Reads all of standard input and returns its first line. */
export async function readStdinLine(): Promise<string> {
  const text = await new Response(Deno.stdin.readable).text();
  return text.split(/\r?\n/)[0] ?? "";
}

/** Asks for a password on the terminal without echoing it. */
export async function promptHidden(question: string): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    fail(
      "No terminal to ask for a password: pipe it in with --password-stdin",
      2,
    );
  }
  const enc = new TextEncoder();
  await Deno.stdout.write(enc.encode(question));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buf = new Uint8Array(1);
  try {
    while (true) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      const b = buf[0]!;
      if (b === 3) fail("\nCancelled", 130); // Ctrl-C
      if (b === 13 || b === 10) break;
      if (b === 127 || b === 8) bytes.pop();
      else bytes.push(b);
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stdout.write(enc.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
