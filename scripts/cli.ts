/** Shared bits of the command-line tasks: opening the store, reading passwords, failing clearly. */
import {
  openSqliteStore,
  type SqliteStore,
} from "../db/sqlite/sqlite_store.ts";

/** Opens the store at DB_PATH (default data/tickets.db); safe while the server runs (WAL). */
export function openCliStore(): Promise<SqliteStore> {
  const path = Deno.env.get("DB_PATH") || "data/tickets.db";
  return openSqliteStore({ path, writer: "inline" });
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
