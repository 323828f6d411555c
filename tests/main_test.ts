/** main.ts as the operator starts it: ready when it listens, a first admin that obeys the password policy, HTTPS with TLS_CERT/TLS_KEY. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openSqliteStore } from "../db/sqlite/sqlite_store.ts";
import { sessionCookieOf, withTempDir } from "./fixtures.ts";
import { makeSelfSignedCert } from "./self_signed.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** `deno task start`'s own command line (its permissions), run directly so the test can stop it. */
function startArgs(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
  const [deno, ...args] = (config.tasks.start as string).split(" ");
  assert.equal(deno, "deno");
  return args;
}

/** A started main.ts with its stdout read line by line. */
interface Started {
  child: Deno.ChildProcess;
  /** The next stdout line, or null at the end of output. */
  nextLine(): Promise<string | null>;
  /** Stops the server (if running) and returns everything on stderr. */
  stop(): Promise<string>;
}

function start(env: Record<string, string>): Started {
  const child = new Deno.Command(Deno.execPath(), {
    args: startArgs(),
    cwd: ROOT,
    env: { HOST: "127.0.0.1", PORT: "0", NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(child.stderr).text();
  let buffered = "";
  let ended = false;
  return {
    child,
    async nextLine() {
      while (!buffered.includes("\n")) {
        if (ended) return null;
        const { value, done } = await reader.read();
        if (done) ended = true;
        else buffered += value;
      }
      const i = buffered.indexOf("\n");
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      return line;
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
      await child.status;
      await reader.cancel().catch(() => {});
      return await stderr;
    },
  };
}

/** Reads stdout up to the "listening" log line and returns its URL (and the lines before it). */
async function listeningUrl(s: Started): Promise<string> {
  const seen: string[] = [];
  while (true) {
    const line = await s.nextLine();
    if (line === null) {
      throw new Error(`exited before listening:\n${seen.join("\n")}`);
    }
    seen.push(line);
    if (line.startsWith("{") && JSON.parse(line).msg === "listening") {
      return JSON.parse(line).url;
    }
  }
}

/** Waits for a start that must be refused: it exits 2 without listening; returns its stderr. */
async function refusedToStart(s: Started): Promise<string> {
  let listened = false;
  try {
    await listeningUrl(s);
    listened = true;
  } catch { /* exited before listening, as it should */ }
  const stderr = await s.stop();
  assert.ok(!listened, `it listened anyway:\n${stderr}`);
  assert.equal((await s.child.status).code, 2, stderr);
  return stderr;
}

async function login(base: string, username: string, password: string) {
  const res = await fetch(new URL("/login", base), {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Origin: new URL(base).origin,
    },
    body: new URLSearchParams({ username, password }),
    redirect: "manual",
  });
  await res.body?.cancel();
  return res.status;
}

async function userCount(dbPath: string): Promise<number> {
  const store = await openSqliteStore({ path: dbPath, writer: "inline" });
  try {
    return await store.countUsers();
  } finally {
    await store.close();
  }
}

Deno.test("A first start logs in with ADMIN_USER/ADMIN_PASSWORD on the very first request after it listens", async () => {
  await withTempDir(async (dir) => {
    const s = start({
      DB_PATH: join(dir, "tickets.db"),
      ADMIN_USER: "boss",
      ADMIN_PASSWORD: "a long enough password",
    });
    try {
      const url = await listeningUrl(s);
      // No retry: the first request after "listening" must find the admin.
      assert.equal(await login(url, "boss", "a long enough password"), 303);
      assert.equal(
        await s.nextLine(),
        'Created the first admin "boss" with the password from ADMIN_PASSWORD.',
      );
    } finally {
      await s.stop();
    }
  });
});

Deno.test("A first start without ADMIN_PASSWORD prints the generated password after listening, and it logs in at once", async () => {
  await withTempDir(async (dir) => {
    const s = start({ DB_PATH: join(dir, "tickets.db") });
    try {
      const url = await listeningUrl(s);
      const lines: string[] = [];
      for (let i = 0; i < 6; i++) lines.push((await s.nextLine())!);
      assert.equal(lines[1], 'First start: created the admin user "admin".');
      assert.match(lines[3]!, new RegExp(`Log in at ${url}login `));
      const password = lines[2]!.match(/^ {2}Password: (\S+)$/)![1]!;
      assert.equal(await login(url, "admin", password), 303);
    } finally {
      await s.stop();
    }
  });
});

Deno.test("A first start with an ADMIN_PASSWORD that breaks the password policy exits 2, says why and creates no user", async () => {
  await withTempDir(async (dir) => {
    const dbPath = join(dir, "tickets.db");
    const s = start({ DB_PATH: dbPath, ADMIN_PASSWORD: "a" });
    const stderr = await refusedToStart(s);
    assert.match(
      stderr,
      /^Configuration error: ADMIN_PASSWORD must be at least 10 characters/,
    );
    assert.match(stderr, /password policy/);
    assert.equal(await userCount(dbPath), 0);
  });
});

Deno.test("A short ADMIN_PASSWORD is ignored once users exist: the server starts", async () => {
  await withTempDir(async (dir) => {
    const dbPath = join(dir, "tickets.db");
    const store = await openSqliteStore({ path: dbPath, writer: "inline" });
    await store.createUser({
      username: "bob",
      passwordHash: "x",
      role: "admin",
    });
    await store.close();
    const s = start({ DB_PATH: dbPath, ADMIN_PASSWORD: "a" });
    try {
      await listeningUrl(s);
    } finally {
      await s.stop();
    }
    assert.equal(await userCount(dbPath), 1);
  });
});

interface TlsPaths {
  certPath: string;
  keyPath: string;
}

/** A fresh self-signed pair for localhost and 127.0.0.1 written into dir. */
async function writeTlsFiles(dir: string) {
  const { cert, key } = await makeSelfSignedCert();
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  await Deno.writeTextFile(certPath, cert);
  await Deno.writeTextFile(keyPath, key);
  return { cert, certPath, keyPath };
}

function hasCurl(): boolean {
  try {
    return new Deno.Command("curl", { args: ["--version"], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test("With TLS_CERT and TLS_KEY main.ts serves HTTPS with HTTP/2, and a login sets __Host-desk_session (Secure) and HSTS", async (t) => {
  await withTempDir(async (dir) => {
    const { cert, certPath, keyPath } = await writeTlsFiles(dir);
    const s = start({
      DB_PATH: join(dir, "tickets.db"),
      ADMIN_USER: "boss",
      ADMIN_PASSWORD: "a long enough password",
      TLS_CERT: certPath,
      TLS_KEY: keyPath,
    });
    // Trusts only the test's certificate: the handshake itself is checked.
    const client = Deno.createHttpClient({ caCerts: [cert] });
    try {
      const url = await listeningUrl(s);
      assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
      const res = await fetch(new URL("/login", url), {
        client,
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Origin: new URL(url).origin,
        },
        body: new URLSearchParams({
          username: "boss",
          password: "a long enough password",
        }),
        redirect: "manual",
      });
      await res.body?.cancel();
      assert.equal(res.status, 303);
      assert.equal(
        res.headers.get("strict-transport-security"),
        "max-age=31536000; includeSubDomains",
      );
      const [setCookie, ...more] = res.headers.getSetCookie();
      assert.equal(more.length, 0);
      assert.match(setCookie!, /^__Host-desk_session=[^;]+;/);
      assert.match(setCookie!, /;\s*Secure(;|$)/i);
      assert.match(setCookie!, /;\s*Path=\/(;|$)/i);

      // The __Host- cookie is the one the server reads back over HTTPS.
      const page = await fetch(new URL("/dashboard", url), {
        client,
        headers: { Cookie: sessionCookieOf(res)! },
        redirect: "manual",
      });
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type")!, /^text\/html/);
      assert.ok(page.headers.has("strict-transport-security"));
      await page.body?.cancel();

      // Browsers get HTTP/2 by ALPN, as a client offering both h2 and http/1.1.
      const conn = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: Number(new URL(url).port),
        caCerts: [cert],
        alpnProtocols: ["h2", "http/1.1"],
      });
      try {
        assert.equal((await conn.handshake()).alpnProtocol, "h2");
      } finally {
        conn.close();
      }

      await t.step({
        name: "curl --http2, verifying the certificate, reports HTTP/2",
        ignore: !hasCurl(),
        fn: async () => {
          const out = await new Deno.Command("curl", {
            args: [
              "--silent",
              "--show-error",
              "--http2",
              "--cacert",
              certPath,
              "--output",
              "/dev/null",
              "--write-out",
              "%{http_version} %{response_code}",
              new URL("/login", url).href,
            ],
          }).output();
          const stderr = new TextDecoder().decode(out.stderr);
          assert.ok(out.success, stderr);
          assert.equal(new TextDecoder().decode(out.stdout), "2 200");
        },
      });
    } finally {
      client.close();
      await s.stop();
    }
  });
});

for (
  const [when, settings, message] of [
    [
      "only TLS_CERT is set",
      (p: TlsPaths) => ({ TLS_CERT: p.certPath }),
      /^Configuration error: TLS_CERT and TLS_KEY must be set together .*: TLS_KEY is not set$/m,
    ],
    [
      "TLS_CERT cannot be read",
      (p: TlsPaths) => ({ TLS_CERT: `${p.certPath}.gone`, TLS_KEY: p.keyPath }),
      /^Configuration error: TLS_CERT cannot be read from ".*cert\.pem\.gone": no such file$/m,
    ],
    [
      "TLS_KEY is not a PEM key",
      (p: TlsPaths) => ({ TLS_CERT: p.certPath, TLS_KEY: p.certPath }),
      /^Configuration error: TLS_KEY must be a PEM private key/m,
    ],
  ] as const
) {
  Deno.test(`main.ts exits 2 with a configuration error, before creating the database, when ${when}`, async () => {
    await withTempDir(async (dir) => {
      const dbPath = join(dir, "tickets.db");
      const s = start({
        DB_PATH: dbPath,
        ...settings(await writeTlsFiles(dir)),
      });
      const stderr = await refusedToStart(s);
      assert.match(stderr, message);
      await assert.rejects(Deno.stat(dbPath), Deno.errors.NotFound);
    });
  });
}

Deno.test("main.ts exits 2 naming REPORT_TIME_ZONE, before creating the database, for a zone that does not exist", async () => {
  await withTempDir(async (dir) => {
    const dbPath = join(dir, "tickets.db");
    const s = start({ DB_PATH: dbPath, REPORT_TIME_ZONE: "Mars/Olympus_Mons" });
    const stderr = await refusedToStart(s);
    assert.match(
      stderr,
      /^Configuration error: REPORT_TIME_ZONE must be an IANA time zone name like Europe\/Paris.*, got "Mars\/Olympus_Mons"$/m,
    );
    await assert.rejects(Deno.stat(dbPath), Deno.errors.NotFound);
  });
});
