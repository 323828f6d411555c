/** SECRET_KEY: from the environment, or generated once and kept beside the database (mode 0600). */
import { dirname, join } from "node:path";
import { randomToken } from "./tokens.ts";

/** Returns the configured secret, or reads (creating on first start) `secret.key` next to the database. */
export function loadSecretKey(
  configured: string | null,
  dbPath: string,
): { key: string; source: string } {
  if (configured) return { key: configured, source: "SECRET_KEY" };
  if (dbPath === ":memory:") return { key: randomToken(), source: "memory" };
  const path = join(dirname(dbPath), "secret.key");
  try {
    const key = Deno.readTextFileSync(path).trim();
    if (key.length >= 32) return { key, source: path };
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const key = randomToken();
  // Like the database's: owner only when we make it, an existing one left as it is.
  Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // createNew: two processes starting at once must not overwrite each other's key.
  try {
    Deno.writeTextFileSync(path, key + "\n", { mode: 0o600, createNew: true });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      // Another process won the race, or an unusable (short) file is in the way.
      const theirs = Deno.readTextFileSync(path).trim();
      if (theirs.length < 32) {
        throw new Error(
          `${path} holds no usable key (under 32 characters): delete it to generate a new one, or set SECRET_KEY`,
        );
      }
      return { key: theirs, source: path };
    }
    throw err;
  }
  Deno.chmodSync(path, 0o600);
  return { key, source: path };
}
