/**
 * A consistent online copy of the SQLite database, safe while the server runs.
 *
 *   deno task backup FILE
 *
 * Uses SQLite's online backup API, copying every page in one step: one read
 * transaction, so the copy is the database as of one commit (WAL lets the
 * server keep writing meanwhile), checked with PRAGMA integrity_check before
 * the command says it worked. (VACUUM INTO would compact too, but it attaches
 * the target, and Deno allows ATTACH only with --allow-all.)
 * PostgreSQL has its own tools for this (pg_dump): with DATABASE_URL set, the
 * task refuses rather than copy a SQLite file the server does not use.
 * The copy holds password hashes, so it is made readable by its owner only.
 */
import { backup, DatabaseSync } from "node:sqlite";
import { DEFAULT_CONFIG } from "../config.ts";
import { fail, readCliLocation } from "./cli.ts";

export interface BackupReport {
  path: string;
  bytes: number;
  tickets: number;
  ms: number;
}

/** Copies the database at `source` to `target` (which must not exist) and verifies the copy. */
export async function backupSqlite(
  source: string,
  target: string,
): Promise<BackupReport> {
  const t0 = performance.now();
  await Deno.stat(source); // a clear NotFound rather than an empty new database
  try {
    // Made empty (an empty file is an empty database) so it is 0600 from the
    // start; createNew also refuses a target that exists.
    await Deno.writeFile(target, new Uint8Array(), {
      createNew: true,
      mode: 0o600,
    });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new Error(`${target} already exists: choose a new file`);
    }
    throw err;
  }
  try {
    const db = new DatabaseSync(source, { readOnly: true });
    try {
      // The server's writer holds its lock only for a commit: wait it out.
      db.exec("PRAGMA busy_timeout = 5000");
      // All pages in one step: a paged backup restarts whenever the server
      // commits, and under steady writes might never finish.
      await backup(db, target, { rate: -1 });
    } finally {
      db.close();
    }
  } catch (err) {
    await Deno.remove(target).catch(() => {});
    throw err;
  }
  const copy = new DatabaseSync(target, { readOnly: true });
  try {
    const check = copy.prepare("PRAGMA integrity_check").all()
      .map((r) => String(Object.values(r)[0]));
    if (check.join() !== "ok") {
      throw new Error(
        `The copy failed its integrity check: ${check.join("; ")}`,
      );
    }
    const tickets = Number(
      copy.prepare("SELECT count(*) AS n FROM tickets").get()!.n,
    );
    return {
      path: target,
      bytes: (await Deno.stat(target)).size,
      tickets,
      ms: Math.round(performance.now() - t0),
    };
  } finally {
    copy.close();
  }
}

if (import.meta.main) {
  const target = Deno.args[0];
  if (!target || Deno.args.length > 1) {
    fail(
      `Usage: deno task backup FILE   (copies DB_PATH, default ${DEFAULT_CONFIG.dbPath})`,
      2,
    );
  }
  const { dbPath: source, databaseUrl } = readCliLocation();
  if (databaseUrl) {
    fail(
      "DATABASE_URL is set: the data is in PostgreSQL, which this task does not copy.\n" +
        'Back it up with PostgreSQL\'s own tools, e.g. pg_dump --format=custom --file=desk.dump "$DATABASE_URL".',
      2,
    );
  }
  try {
    const r = await backupSqlite(source, target);
    console.log(
      `Backed up ${source} to ${r.path}: ${r.tickets} tickets, ${r.bytes} bytes, integrity ok, ${r.ms} ms`,
    );
  } catch (err) {
    fail(`Backup failed: ${(err as Error).message}`);
  }
}
