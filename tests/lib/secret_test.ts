/** SECRET_KEY: configured, or generated once into secret.key (mode 0600) beside the database. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, readConfig } from "../../config.ts";
import { loadSecretKey } from "../../lib/secret.ts";
import { withTempDir } from "../fixtures.ts";

const CONFIGURED = "k".repeat(32);

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

Deno.test("loadSecretKey creates secret.key beside the database, readable by its owner only", async () => {
  await withTempDir(async (dir) => {
    const dbPath = join(dir, "data", "tickets.db");
    const path = join(dir, "data", "secret.key");
    const { key, source } = loadSecretKey(null, dbPath);
    assert.equal(source, path);
    assert.match(key, /^[\w-]{43}$/);
    assert.equal(await Deno.readTextFile(path), key + "\n");
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    }
  });
});

Deno.test({
  name:
    "loadSecretKey makes a missing directory for secret.key 0700 and leaves an existing one alone",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withTempDir(async (dir) => {
      const old = Deno.umask(0o022);
      try {
        loadSecretKey(null, join(dir, "new", "tickets.db"));
        Deno.mkdirSync(join(dir, "mine"), { mode: 0o755 });
        loadSecretKey(null, join(dir, "mine", "tickets.db"));
      } finally {
        Deno.umask(old);
      }
      assert.equal((await Deno.stat(join(dir, "new"))).mode! & 0o777, 0o700);
      assert.equal((await Deno.stat(join(dir, "mine"))).mode! & 0o777, 0o755);
    });
  },
});

Deno.test("loadSecretKey reuses secret.key on the next start", async () => {
  await withTempDir(async (dir) => {
    const dbPath = join(dir, "tickets.db");
    const first = loadSecretKey(null, dbPath);
    const second = loadSecretKey(null, dbPath);
    assert.deepEqual(second, first);
    assert.equal(
      await Deno.readTextFile(join(dir, "secret.key")),
      first.key + "\n",
    );
  });
});

Deno.test("SECRET_KEY wins over secret.key, and no file is written", async () => {
  await withTempDir(async (dir) => {
    const dbPath = join(dir, "tickets.db");
    assert.deepEqual(loadSecretKey(CONFIGURED, dbPath), {
      key: CONFIGURED,
      source: "SECRET_KEY",
    });
    assert.equal(await exists(join(dir, "secret.key")), false);
    const generated = loadSecretKey(null, dbPath).key;
    assert.equal(loadSecretKey(CONFIGURED, dbPath).key, CONFIGURED);
    assert.notEqual(generated, CONFIGURED);
  });
});

Deno.test("An in-memory database gets a fresh key each time and no file", () => {
  const a = loadSecretKey(null, ":memory:");
  const b = loadSecretKey(null, ":memory:");
  assert.equal(a.source, "memory");
  assert.notEqual(a.key, b.key);
  assert.ok(a.key.length >= 32);
});

Deno.test("loadSecretKey never hands out a key under 32 characters from a damaged secret.key", async () => {
  await withTempDir(async (dir) => {
    const dbPath = join(dir, "tickets.db");
    for (const content of ["", "short\n"]) {
      await Deno.writeTextFile(join(dir, "secret.key"), content);
      let result: { key: string } | Error;
      try {
        result = loadSecretKey(null, dbPath);
      } catch (err) {
        result = err as Error;
      }
      // Refusing to start is as good as replacing the file; using it is not.
      if (!(result instanceof Error)) {
        assert.ok(
          result.key.length >= 32,
          `a ${content.trim().length}-character file gave the key ${
            JSON.stringify(result.key)
          }`,
        );
      }
    }
  });
});

Deno.test("readConfig refuses a SECRET_KEY under 32 characters and treats empty as unset", () => {
  const env = (values: Record<string, string>) => (name: string) =>
    values[name];
  assert.throws(
    () => readConfig(env({ SECRET_KEY: "k".repeat(31) })),
    (err) =>
      err instanceof ConfigError &&
      err.message ===
        "SECRET_KEY must be at least 32 characters (or unset, to generate one)",
  );
  assert.equal(
    readConfig(env({ SECRET_KEY: CONFIGURED })).secretKey,
    CONFIGURED,
  );
  assert.equal(readConfig(env({ SECRET_KEY: "" })).secretKey, null);
  assert.equal(readConfig(env({})).secretKey, null);
});
