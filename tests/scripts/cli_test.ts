/** The user and apikey tasks, run as the operator runs them, against a database the app then opens. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApp } from "../../app.ts";
import { createMemoryBus } from "../../db/bus.ts";
import type { AccountStore } from "../../db/store.ts";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { createLogger } from "../../log.ts";
import { bearer, type DeskApp, formPost, withTempDir } from "../fixtures.ts";
import {
  createTestSchema,
  dropTestSchema,
  openTestPostgres,
  TEST_DATABASE_URL,
  testPostgres,
} from "../db/backends.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PASSWORD = "a long enough password";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `scripts/<script>.ts` with DB_PATH set, feeding `stdin` when given. */
async function run(
  script: "user" | "apikey",
  args: string[],
  dbPath: string,
  stdin?: string,
): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `scripts/${script}.ts`, ...args],
    cwd: ROOT,
    env: { DB_PATH: dbPath, NO_COLOR: "1" },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

function assertRun(r: Run, code: number) {
  assert.equal(r.code, code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
}

const CONFIG = join(ROOT, "deno.json");

/** Runs `deno task <name>` as the operator does, under the task's own permissions. */
async function task(
  name: string,
  args: string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "--config", CONFIG, name, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** The test database URL with the schema as its search_path. */
function urlFor(schema: string): string {
  const url = new URL(TEST_DATABASE_URL!);
  url.searchParams.set("search_path", schema);
  return url.href;
}

/**
 * Runs `fn` with a fresh PostgreSQL schema, its DATABASE_URL, and beside it a
 * stray SQLite database at DB_PATH (a stale copy, as after migrate-data) that
 * already holds a user "bob" and an API key "mobile".
 */
async function withPostgresAndStray(
  fn: (
    env: Record<string, string>,
    schema: string,
    stray: string,
  ) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const stray = join(dir, "data", "tickets.db");
    const old = await openSqliteStore({ path: stray, writer: "inline" });
    await old.createUser({ username: "bob", passwordHash: "x", role: "agent" });
    await old.createApiKey({ name: "mobile", prefix: "tdk_old", hash: "x" });
    await old.close();
    const schema = await createTestSchema();
    try {
      await fn({ DATABASE_URL: urlFor(schema), DB_PATH: stray }, schema, stray);
    } finally {
      await dropTestSchema(schema);
    }
  });
}

/** Opens the app over `store` (closed afterwards). */
async function withAppOver(
  store: Parameters<typeof createApp>[0]["store"],
  bus: ReturnType<typeof createMemoryBus>,
  fn: (app: DeskApp) => Promise<void>,
): Promise<void> {
  try {
    await fn(createApp({
      store,
      bus,
      config: { logLevel: "silent" },
      logger: createLogger("silent"),
    }));
  } finally {
    await store.close();
  }
}

/** Opens the app over the database file the tasks wrote. */
async function withAppOn(
  dbPath: string,
  fn: (app: DeskApp) => Promise<void>,
): Promise<void> {
  const bus = createMemoryBus();
  await withAppOver(await openSqliteStore({ path: dbPath, bus }), bus, fn);
}

/** Opens the app over the PostgreSQL schema the tasks wrote. */
async function withAppOnPostgres(
  schema: string,
  fn: (app: DeskApp) => Promise<void>,
): Promise<void> {
  const bus = createMemoryBus();
  await withAppOver(await openTestPostgres(schema, bus), bus, fn);
}

/** The stray SQLite file's users and keys: proof the tasks left it alone. */
async function strayContents(path: string) {
  const store: AccountStore & { close(): Promise<void> } =
    await openSqliteStore({ path, writer: "inline" });
  try {
    return {
      users: (await store.listUsers()).map((u) => u.username),
      keys: (await store.listApiKeys()).map((k) =>
        `${k.name} ${k.revoked_at ? "revoked" : "active"}`
      ),
    };
  } finally {
    await store.close();
  }
}

async function loginStatus(app: DeskApp, username: string, password: string) {
  const res = await app.request(
    "/login",
    formPost({ username, password }),
  );
  await res.body?.cancel();
  return res.status;
}

async function apiStatus(app: DeskApp, key: string) {
  const res = await app.request("/api/v1/tickets", { headers: bearer(key) });
  await res.body?.cancel();
  return res.status;
}

Deno.test("user add reads the password from stdin, user list shows the user, and they can log in", async () => {
  await withTempDir(async (dir) => {
    const db = join(dir, "tickets.db");
    const add = await run(
      "user",
      ["add", "bob", "--role", "agent", "--password-stdin"],
      db,
      PASSWORD + "\n",
    );
    assertRun(add, 0);
    assert.equal(add.stdout, 'Created agent "bob".\n');
    const list = await run("user", ["list"], db);
    assertRun(list, 0);
    assert.match(list.stdout, /^bob\s+agent\s+active\s+created \d{4}-/m);
    assert.ok(!list.stdout.includes(PASSWORD));
    await withAppOn(db, async (app) => {
      assert.equal(await loginStatus(app, "bob", PASSWORD), 303);
    });
  });
});

Deno.test("user disable stops the user logging in and user enable lets them back", async () => {
  await withTempDir(async (dir) => {
    const db = join(dir, "tickets.db");
    assertRun(
      await run("user", ["add", "bob", "--password-stdin"], db, PASSWORD),
      0,
    );
    const off = await run("user", ["disable", "bob"], db);
    assertRun(off, 0);
    assert.equal(off.stdout, 'Disabled "bob" and ended their sessions.\n');
    assert.match(
      (await run("user", ["list"], db)).stdout,
      /^bob\s+agent\s+disabled/m,
    );
    await withAppOn(db, async (app) => {
      assert.equal(await loginStatus(app, "bob", PASSWORD), 401);
    });
    assertRun(await run("user", ["enable", "bob"], db), 0);
    await withAppOn(db, async (app) => {
      assert.equal(await loginStatus(app, "bob", PASSWORD), 303);
    });
  });
});

Deno.test("user passwd changes the password: the new one logs in, the old one not", async () => {
  await withTempDir(async (dir) => {
    const db = join(dir, "tickets.db");
    assertRun(
      await run("user", ["add", "bob", "--password-stdin"], db, PASSWORD),
      0,
    );
    const passwd = await run(
      "user",
      ["passwd", "bob", "--password-stdin"],
      db,
      "another long password\n",
    );
    assertRun(passwd, 0);
    await withAppOn(db, async (app) => {
      assert.equal(await loginStatus(app, "bob", PASSWORD), 401);
      assert.equal(
        await loginStatus(app, "bob", "another long password"),
        303,
      );
    });
  });
});

Deno.test("apikey create prints the key as the last line; it authenticates until apikey revoke", async () => {
  await withTempDir(async (dir) => {
    const db = join(dir, "tickets.db");
    const created = await run(
      "apikey",
      ["create", "mobile", "--scopes", "read"],
      db,
    );
    assertRun(created, 0);
    const lines = created.stdout.trimEnd().split("\n");
    const key = lines.at(-1)!;
    assert.match(key, /^tdk_[\w-]{43}$/);
    assert.ok(lines.length > 1, "a line says what the key is");
    const list = await run("apikey", ["list"], db);
    assertRun(list, 0);
    assert.match(
      list.stdout,
      /^mobile\s+tdk_\S{8}…\s+read\s+active\s+last used never$/m,
    );
    assert.ok(!list.stdout.includes(key), "the list never shows the key");
    await withAppOn(db, async (app) => {
      assert.equal(await apiStatus(app, key), 200);
    });
    const revoked = await run("apikey", ["revoke", "mobile"], db);
    assertRun(revoked, 0);
    assert.match(revoked.stdout, /^Revoked API key "mobile" \(tdk_/);
    await withAppOn(db, async (app) => {
      assert.equal(await apiStatus(app, key), 401);
    });
  });
});

/** Creates a ticket through POST /create_ticket with `key`; returns the status. */
async function createStatus(app: DeskApp, key: string) {
  const res = await app.request("/create_ticket", {
    method: "POST",
    headers: { ...bearer(key), "Content-Type": "application/json" },
    body: JSON.stringify({
      user_id: "john_doe",
      pdf_link: "https://example.com/guide.pdf",
    }),
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test("apikey create without --scopes makes a create-only key, as an app should hold", async () => {
  await withTempDir(async (dir) => {
    const db = join(dir, "tickets.db");
    const created = await run("apikey", ["create", "ios-app"], db);
    assertRun(created, 0);
    assert.match(
      created.stdout,
      /^Created API key "ios-app" with scopes create\./,
    );
    const key = created.stdout.trimEnd().split("\n").at(-1)!;
    assert.match(
      (await run("apikey", ["list"], db)).stdout,
      /^ios-app\s+tdk_\S{8}…\s+create\s+active\s+last used never$/m,
    );
    await withAppOn(db, async (app) => {
      assert.equal(await createStatus(app, key), 201);
      assert.equal(await apiStatus(app, key), 403);
    });
  });
});

Deno.test("apikey create --scopes takes several scopes in any order and apikey list shows them", async () => {
  await withTempDir(async (dir) => {
    const db = join(dir, "tickets.db");
    const triage = await run(
      "apikey",
      ["create", "triage", "--scopes", "write,create"],
      db,
    );
    assertRun(triage, 0);
    const key = triage.stdout.trimEnd().split("\n").at(-1)!;
    assertRun(
      await run("apikey", ["create", "all", "--scopes=create,read,write"], db),
      0,
    );
    const list = await run("apikey", ["list"], db);
    assertRun(list, 0);
    assert.match(list.stdout, /^triage\s+tdk_\S{8}…\s+create,write\s+active/m);
    assert.match(
      list.stdout,
      /^all\s+tdk_\S{8}…\s+create,read,write\s+active/m,
    );
    await withAppOn(db, async (app) => {
      assert.equal(await createStatus(app, key), 201);
      assert.equal(await apiStatus(app, key), 200, "write includes read");
    });
  });
});

Deno.test("apikey create with an unknown or empty scope exits 2 with the usage and makes no key", async () => {
  await withTempDir(async (dir) => {
    const db = join(dir, "tickets.db");
    for (
      const args of [
        ["create", "mobile", "--scopes", "admin"],
        ["create", "mobile", "--scopes", "create,delete"],
        ["create", "mobile", "--scopes", ""],
        ["create", "mobile", "--scopes"],
        ["list", "--scopes", "read"],
      ]
    ) {
      const r = await run("apikey", args, db);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /Usage:\n {2}deno task apikey create NAME \[--scopes/,
      );
      assert.equal(r.stdout, "", args.join(" "));
    }
    const bad = await run(
      "apikey",
      ["create", "mobile", "--scopes", "admin"],
      db,
    );
    assert.match(
      bad.stderr,
      /^--scopes must list one or more of create, read, write, separated by commas; got "admin"\n/,
    );
    assert.equal(
      (await run("apikey", ["list"], db)).stdout,
      "No API keys yet.\n",
    );
  });
});

Deno.test("Wrong usage exits 2 with the usage message", async () => {
  await withTempDir(async (dir) => {
    const db = join(dir, "tickets.db");
    const cases: [("user" | "apikey"), string[]][] = [
      ["user", []],
      ["user", ["add"]],
      ["user", ["add", "bad name!", "--password-stdin"]],
      ["user", ["frobnicate", "bob"]],
      ["apikey", []],
      ["apikey", ["create"]],
      ["apikey", ["create", "<script>"]],
      ["apikey", ["frobnicate", "mobile"]],
    ];
    for (const [script, args] of cases) {
      const r = await run(script, args, db);
      assert.equal(r.code, 2, `${script} ${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^Usage:\n {2}deno task /, `${script} ${args}`);
      assert.equal(r.stdout, "");
    }
  });
});

Deno.test("An unknown option exits 2 with the usage message, not a stack trace", async () => {
  await withTempDir(async (dir) => {
    const r = await run(
      "user",
      ["add", "bob", "--bogus"],
      join(dir, "tickets.db"),
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Usage:/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  });
});

Deno.test("user add refuses a bad role or a short password with exit 2 and adds nobody", async () => {
  await withTempDir(async (dir) => {
    const db = join(dir, "tickets.db");
    const role = await run(
      "user",
      ["add", "bob", "--role", "root", "--password-stdin"],
      db,
      PASSWORD,
    );
    assertRun(role, 2);
    assert.equal(role.stderr, "--role must be admin or agent\n");
    const short = await run(
      "user",
      ["add", "bob", "--password-stdin"],
      db,
      "short\n",
    );
    assertRun(short, 2);
    assert.equal(
      short.stderr,
      "The password must be at least 10 characters.\n",
    );
    assert.equal((await run("user", ["list"], db)).stdout, "No users yet.\n");
  });
});

Deno.test("user add without a terminal or --password-stdin exits 2 and says to pipe the password", async () => {
  await withTempDir(async (dir) => {
    const r = await run("user", ["add", "bob"], join(dir, "tickets.db"));
    assertRun(r, 2);
    assert.match(r.stderr, /pipe it in with --password-stdin/);
  });
});

Deno.test("Adding a user or key whose name is taken exits 1 and says why", async () => {
  await withTempDir(async (dir) => {
    const db = join(dir, "tickets.db");
    assertRun(
      await run("user", ["add", "bob", "--password-stdin"], db, PASSWORD),
      0,
    );
    const user = await run(
      "user",
      ["add", "BOB", "--password-stdin"],
      db,
      PASSWORD,
    );
    assertRun(user, 1);
    assert.equal(
      user.stderr,
      'Cannot add BOB: A user named "BOB" already exists\n',
    );
    assertRun(await run("apikey", ["create", "mobile"], db), 0);
    const key = await run("apikey", ["create", "mobile"], db);
    assertRun(key, 1);
    assert.match(key.stderr, /^Cannot create mobile: .*already exists\n$/);
    assert.doesNotMatch(key.stdout, /tdk_/);
  });
});

Deno.test("Revoking or disabling an unknown name exits 1 and says so", async () => {
  await withTempDir(async (dir) => {
    const db = join(dir, "tickets.db");
    const key = await run("apikey", ["revoke", "nothing"], db);
    assertRun(key, 1);
    assert.equal(
      key.stderr,
      'Cannot revoke nothing: No api key named "nothing" exists\n',
    );
    const user = await run("user", ["disable", "nobody"], db);
    assertRun(user, 1);
    assert.equal(
      user.stderr,
      'Cannot disable nobody: No user named "nobody" exists\n',
    );
  });
});

testPostgres(
  "apikey create and revoke act on DATABASE_URL's PostgreSQL, not a SQLite file at DB_PATH",
  async () => {
    await withPostgresAndStray(async (env, schema, stray) => {
      const created = await task("apikey", [
        "create",
        "mobile",
        "--scopes",
        "create,read",
      ], env);
      assertRun(created, 0);
      const key = created.stdout.trimEnd().split("\n").at(-1)!;
      assert.match(key, /^tdk_[\w-]{43}$/);
      await withAppOnPostgres(schema, async (app) => {
        assert.equal(await apiStatus(app, key), 200);
      });
      const list = await task("apikey", ["list"], env);
      assertRun(list, 0);
      assert.match(list.stdout, /^mobile\s+tdk_\S{8}…\s+create,read\s+active/m);
      assert.doesNotMatch(list.stdout, /tdk_old/);
      const revoked = await task("apikey", ["revoke", "mobile"], env);
      assertRun(revoked, 0);
      assert.equal(
        revoked.stdout,
        `Revoked API key "mobile" (${key.slice(0, 12)}…).\n`,
      );
      await withAppOnPostgres(schema, async (app) => {
        assert.equal(await apiStatus(app, key), 401);
      });
      assert.deepEqual(await strayContents(stray), {
        users: ["bob"],
        keys: ["mobile active"],
      });
    });
  },
);

testPostgres(
  "user add and user list act on DATABASE_URL's PostgreSQL, not a SQLite file at DB_PATH",
  async () => {
    await withPostgresAndStray(async (env, schema, stray) => {
      const add = await task(
        "user",
        ["add", "maria", "--role", "admin", "--password-stdin"],
        env,
        PASSWORD + "\n",
      );
      assertRun(add, 0);
      assert.equal(add.stdout, 'Created admin "maria".\n');
      const list = await task("user", ["list"], env);
      assertRun(list, 0);
      assert.match(list.stdout, /^maria\s+admin\s+active\s+created /m);
      assert.doesNotMatch(
        list.stdout,
        /^bob /m,
        "bob is only in the SQLite file",
      );
      await withAppOnPostgres(schema, async (app) => {
        assert.equal(await loginStatus(app, "maria", PASSWORD), 303);
      });
      assert.deepEqual((await strayContents(stray)).users, ["bob"]);
    });
  },
);

Deno.test("user and apikey refuse a bad DATABASE_URL with a configuration error and exit 2", async () => {
  await withTempDir(async (dir) => {
    const db = join(dir, "tickets.db");
    for (const name of ["user", "apikey"]) {
      const r = await task(name, ["list"], {
        DATABASE_URL: "mysql://desk@db/desk",
        DB_PATH: db,
      });
      assertRun(r, 2);
      assert.match(
        r.stderr,
        /^Configuration error: DATABASE_URL must be a postgres:\/\/user:password@host:port\/database URL\n/,
      );
      assert.equal(r.stdout, "");
    }
    assert.equal(await Deno.stat(db).catch(() => null), null, "no file made");
  });
});

Deno.test("user and apikey exit 1 and say so when DATABASE_URL's server cannot be reached", async () => {
  await withTempDir(async (dir) => {
    const db = join(dir, "tickets.db");
    for (const name of ["user", "apikey"]) {
      const r = await task(name, ["list"], {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        DATABASE_URL: "postgres://desk:secret@127.0.0.1:1/desk",
        DB_PATH: db,
      });
      assertRun(r, 1);
      assert.match(r.stderr, /^Cannot open the database \(DATABASE_URL\): /);
      assert.doesNotMatch(r.stderr, /secret|^\s+at /m);
      assert.equal(r.stdout, "");
    }
    assert.equal(await Deno.stat(db).catch(() => null), null, "no file made");
  });
});
