/** deploy/: the systemd unit runs what `deno task start` runs, and the settings files cover every setting. */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { ENV_NAMES, readConfig } from "../config.ts";

const ROOT = new URL("../", import.meta.url);

function read(path: string): string {
  return Deno.readTextFileSync(new URL(path, ROOT));
}

/** The unit file's settings by section, each key with all its values (continuation lines joined). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      sections.set(header[1]!, section = new Map());
      continue;
    }
    const eq = line.indexOf("=");
    assert.ok(section && eq > 0, `not a unit file line: ${line}`);
    const key = line.slice(0, eq);
    section.set(key, [...section.get(key) ?? [], line.slice(eq + 1).trim()]);
  }
  return sections;
}

/** The one value of a [Service] key. */
function service(key: string): string {
  const unit = parseUnit(read("deploy/ticket-desk.service"));
  const values = unit.get("Service")?.get(key) ?? [];
  assert.equal(values.length, 1, `[Service] ${key}= should be set once`);
  return values[0]!;
}

/** NAME=value lines of an environment file; comments and blank lines skipped. */
function parseEnvFile(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    assert.ok(m, `not a NAME=value line: ${line}`);
    assert.ok(!vars.has(m[1]!), `${m[1]} is set twice`);
    vars.set(m[1]!, m[2]!);
  }
  return vars;
}

function startTaskWords(): string[] {
  const config = JSON.parse(read("deno.json"));
  return (config.tasks.start as string).split(" ");
}

Deno.test("The unit's ExecStart is the start task's command line, run by an absolute deno binary", () => {
  const execStart = service("ExecStart");
  // Split on spaces like the start task: quoting would make the comparison lie.
  assert.doesNotMatch(execStart, /["'$%]/);
  const [binary, ...args] = execStart.split(/\s+/);
  const [deno, ...taskArgs] = startTaskWords();
  assert.equal(deno, "deno");
  assert.match(binary!, /^\/.+\/deno$/);
  assert.deepEqual(args, taskArgs);
  assert.ok(
    args.some((a) => a.startsWith("--allow-env=")) && args.at(-1) === "main.ts",
    "the start task should grant named variables and run main.ts",
  );
});

Deno.test("Every setting the server reads is in .env.example and deploy/ticket-desk.env.example, and nothing else is", () => {
  for (const file of [".env.example", "deploy/ticket-desk.env.example"]) {
    const names = [...parseEnvFile(read(file)).keys()].sort();
    assert.deepEqual(names, [...ENV_NAMES].sort(), file);
  }
});

Deno.test("The production settings are valid, listen on loopback behind the proxy and keep the data in the unit's state directory", () => {
  const vars = parseEnvFile(read("deploy/ticket-desk.env.example"));
  const config = readConfig((name) => vars.get(name));
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.trustProxy, true);
  assert.equal(config.databaseUrl, null);
  assert.equal(dirname(config.dbPath), `/var/lib/${service("StateDirectory")}`);
});

Deno.test("The unit runs in the install directory with Deno's cache in its cache directory, stopped by SIGTERM", () => {
  assert.equal(service("WorkingDirectory"), "/opt/ticket-desk");
  assert.equal(service("EnvironmentFile"), "/etc/ticket-desk/ticket-desk.env");
  const env = parseUnit(read("deploy/ticket-desk.service")).get("Service")!
    .get("Environment")!;
  assert.ok(
    env.includes(`DENO_DIR=/var/cache/${service("CacheDirectory")}`),
    `DENO_DIR should be the CacheDirectory: ${env.join(" ")}`,
  );
  assert.equal(service("KillSignal"), "SIGTERM");
  assert.equal(service("User"), "ticket-desk");
});

Deno.test("The README installs deno where the unit runs it from", () => {
  const [binary] = service("ExecStart").split(/\s+/);
  const prefix = dirname(dirname(binary!));
  const readme = read("README.md");
  assert.ok(
    readme.includes(`npm install -g --prefix ${prefix} `),
    `README.md should install deno with --prefix ${prefix}`,
  );
  assert.ok(readme.includes("deploy/ticket-desk.service"));
});

Deno.test("A first `task start` downloads no test-only package: neither the import map nor the lock holds one, and the server's graph has none", async () => {
  const testOnly = ["playwright-core", "axe-core"];
  const config = JSON.parse(read("deno.json"));
  // `deno task` caches every package of the top-level import map first.
  for (const name of Object.keys(config.imports)) {
    assert.ok(!testOnly.some((p) => name.startsWith(p)), name);
  }
  // `deno task` also caches every package of the lock: the tests have their own.
  const lock = JSON.parse(read("deno.lock"));
  for (const name of Object.keys(lock.npm ?? {})) {
    assert.ok(!testOnly.some((p) => name.startsWith(`${p}@`)), name);
  }
  assert.equal(config.lock?.frozen, true, "a stray import cannot add to it");
  const testLock = JSON.parse(read("tests/deno.lock"));
  for (const p of testOnly) {
    assert.ok(
      Object.keys(testLock.npm).some((n) => n.startsWith(`${p}@`)),
      `tests/deno.lock pins ${p}`,
    );
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: new URL(".", ROOT),
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(out.success);
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  // The modules the server imports (npmPackages lists the whole lock).
  const packages = (info.modules as { kind: string; specifier: string }[])
    .filter((m) => m.kind === "npm").map((m) => m.specifier);
  assert.ok(packages.some((p) => p.startsWith("npm:/hono@")), "sees the graph");
  for (const p of packages) {
    assert.ok(!testOnly.some((t) => p.startsWith(`npm:/${t}@`)), p);
  }
});
