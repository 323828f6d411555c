/** readConfig: defaults, pass-through and ConfigError naming the bad setting. */
import assert from "node:assert/strict";
import {
  ConfigError,
  DEFAULT_CONFIG,
  ENV_NAMES,
  readConfig,
  readStoreLocation,
} from "../config.ts";

/** An env lookup over a plain object. */
function env(values: Record<string, string>) {
  return (name: string) => values[name];
}

Deno.test("readConfig uses the documented defaults when nothing is set", () => {
  const config = readConfig(env({}));
  assert.deepEqual(config, DEFAULT_CONFIG);
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 8000);
  assert.equal(config.dbPath, "data/tickets.db");
  assert.equal(config.logLevel, "info");
});

Deno.test("readConfig takes every setting from the environment", () => {
  assert.deepEqual(
    readConfig(env({
      HOST: "0.0.0.0",
      PORT: "9090",
      DB_PATH: "/var/lib/tickets/t.db",
      LOG_LEVEL: "warn",
    })),
    {
      ...DEFAULT_CONFIG,
      host: "0.0.0.0",
      port: 9090,
      dbPath: "/var/lib/tickets/t.db",
      logLevel: "warn",
    },
  );
});

Deno.test("readConfig accepts PORT 0 and 65535 and any letter case of LOG_LEVEL", () => {
  assert.equal(readConfig(env({ PORT: "0" })).port, 0);
  assert.equal(readConfig(env({ PORT: "65535" })).port, 65535);
  assert.equal(readConfig(env({ LOG_LEVEL: "DEBUG" })).logLevel, "debug");
  assert.equal(readConfig(env({ LOG_LEVEL: "Silent" })).logLevel, "silent");
});

Deno.test("readConfig treats an empty HOST, PORT, DB_PATH or LOG_LEVEL like an unset one", () => {
  assert.deepEqual(
    readConfig(env({ HOST: "", PORT: "", DB_PATH: "", LOG_LEVEL: "" })),
    DEFAULT_CONFIG,
  );
});

for (const port of ["abc", "-1", "65536", "80.5", "8000abc"]) {
  Deno.test(`readConfig throws a ConfigError naming PORT for ${JSON.stringify(port)}`, () => {
    assert.throws(() => readConfig(env({ PORT: port })), {
      name: "ConfigError",
      message: `PORT must be a whole number from 0 to 65535, got ${
        JSON.stringify(port)
      }`,
    });
    assert.throws(() => readConfig(env({ PORT: port })), ConfigError);
  });
}

for (const level of ["verbose", "trace", "0"]) {
  Deno.test(`readConfig throws a ConfigError naming LOG_LEVEL for ${JSON.stringify(level)}`, () => {
    assert.throws(() => readConfig(env({ LOG_LEVEL: level })), {
      name: "ConfigError",
      message:
        `LOG_LEVEL must be one of debug, info, warn, error, silent, got ${
          JSON.stringify(level)
        }`,
    });
  });
}

Deno.test({
  name: "readConfig refuses PORT written in hex, exponent or padded form",
  fn: () => {
    for (const port of ["0x1F90", "1e3", " 80 "]) {
      assert.throws(() => readConfig(env({ PORT: port })), ConfigError, port);
    }
  },
});

Deno.test("readStoreLocation reads DB_PATH and DATABASE_URL only, as readConfig does", () => {
  const asked: string[] = [];
  const only = (values: Record<string, string>) => (name: string) => {
    asked.push(name);
    return values[name];
  };
  assert.deepEqual(readStoreLocation(only({})), {
    dbPath: DEFAULT_CONFIG.dbPath,
    databaseUrl: null,
  });
  const set = { DB_PATH: "/var/lib/t.db", DATABASE_URL: "postgres://d@h/d" };
  const { dbPath, databaseUrl } = readConfig(env(set));
  assert.deepEqual(readStoreLocation(only(set)), { dbPath, databaseUrl });
  assert.deepEqual([...new Set(asked)].sort(), ["DATABASE_URL", "DB_PATH"]);
  assert.throws(
    () => readStoreLocation(only({ DATABASE_URL: "mysql://x:secret@h/d" })),
    {
      name: "ConfigError",
      message:
        "DATABASE_URL must be a postgres://user:password@host:port/database URL",
    },
  );
});

Deno.test("readConfig takes TLS_CERT and TLS_KEY as file paths, and treats empty ones as unset", () => {
  const config = readConfig(
    env({ TLS_CERT: "/etc/tls/cert.pem", TLS_KEY: "/etc/tls/key.pem" }),
  );
  assert.equal(config.tlsCert, "/etc/tls/cert.pem");
  assert.equal(config.tlsKey, "/etc/tls/key.pem");
  assert.deepEqual(
    readConfig(env({ TLS_CERT: "", TLS_KEY: "" })),
    DEFAULT_CONFIG,
  );
  assert.equal(DEFAULT_CONFIG.tlsCert, null);
});

for (
  const [when, values, missing] of [
    ["only TLS_CERT is set", { TLS_CERT: "/etc/tls/cert.pem" }, "TLS_KEY"],
    ["only TLS_KEY is set", { TLS_KEY: "/etc/tls/key.pem" }, "TLS_CERT"],
    ["TLS_KEY is empty", { TLS_CERT: "/c.pem", TLS_KEY: "" }, "TLS_KEY"],
  ] as const
) {
  Deno.test(`readConfig throws a ConfigError naming TLS_CERT and TLS_KEY when ${when}`, () => {
    assert.throws(() => readConfig(env(values)), {
      name: "ConfigError",
      message:
        `TLS_CERT and TLS_KEY must be set together (or neither, for plain HTTP): ${missing} is not set`,
    });
  });
}

Deno.test("The start and dev tasks grant exactly the settings readConfig reads, plus PostgreSQL's PG*", () => {
  const tasks = JSON.parse(
    Deno.readTextFileSync(new URL("../deno.json", import.meta.url)),
  ).tasks;
  for (const task of ["start", "dev"]) {
    const allowEnv = (tasks[task] as string).split(" ").find((w) =>
      w.startsWith("--allow-env=")
    );
    assert.ok(allowEnv, `${task} should name the variables it may read`);
    assert.deepEqual(
      allowEnv.slice("--allow-env=".length).split(",").sort(),
      [...ENV_NAMES, "PG*"].sort(),
      task,
    );
  }
});

Deno.test("readConfig takes PUBLIC_URL without its trailing slash, and refuses one that is not an absolute http(s) URL", () => {
  assert.equal(
    readConfig(env({ PUBLIC_URL: "https://desk.example.com/" })).publicUrl,
    "https://desk.example.com",
  );
  assert.equal(
    readConfig(env({ PUBLIC_URL: "http://10.0.0.2:8000/desk" })).publicUrl,
    "http://10.0.0.2:8000/desk",
  );
  for (
    const bad of [
      "desk.example.com",
      "ftp://desk.example.com",
      "https://desk.example.com/?a=1",
      "https://u:p@desk.example.com",
      "/desk",
    ]
  ) {
    assert.throws(() => readConfig(env({ PUBLIC_URL: bad })), {
      name: "ConfigError",
      message:
        `PUBLIC_URL must be an absolute http(s) URL like https://desk.example.com, got ${
          JSON.stringify(bad)
        }`,
    });
  }
});

Deno.test("readConfig reads WEBHOOK_ALLOW_PRIVATE as a flag and WEBHOOK_RETRY_SCHEDULE as seconds", () => {
  assert.equal(DEFAULT_CONFIG.webhookAllowPrivate, false);
  assert.deepEqual(
    DEFAULT_CONFIG.webhookRetrySchedule,
    [0, 5, 300, 1800, 7200, 18000, 36000, 36000],
  );
  const config = readConfig(
    env({ WEBHOOK_ALLOW_PRIVATE: "1", WEBHOOK_RETRY_SCHEDULE: "0, 0.5,2" }),
  );
  assert.equal(config.webhookAllowPrivate, true);
  assert.deepEqual(config.webhookRetrySchedule, [0, 0.5, 2]);
  assert.throws(() => readConfig(env({ WEBHOOK_ALLOW_PRIVATE: "maybe" })), {
    name: "ConfigError",
    message: 'WEBHOOK_ALLOW_PRIVATE must be 1 or 0, got "maybe"',
  });
  for (const bad of ["5,-1", "a", "1,,2", "1e3", "700000"]) {
    assert.throws(
      () => readConfig(env({ WEBHOOK_RETRY_SCHEDULE: bad })),
      (err: Error) =>
        err instanceof ConfigError &&
        err.message.startsWith("WEBHOOK_RETRY_SCHEDULE must be") &&
        err.message.endsWith(JSON.stringify(bad)),
      bad,
    );
  }
});

Deno.test("readConfig takes REPORT_TIME_ZONE as an IANA zone (UTC when unset or empty) and refuses one that does not exist", () => {
  assert.equal(DEFAULT_CONFIG.reportTimeZone, "UTC");
  assert.equal(readConfig(env({ REPORT_TIME_ZONE: "" })).reportTimeZone, "UTC");
  assert.equal(
    readConfig(env({ REPORT_TIME_ZONE: " " })).reportTimeZone,
    "UTC",
  );
  for (const zone of ["Europe/Paris", "America/Sao_Paulo", "Asia/Kolkata"]) {
    assert.equal(
      readConfig(env({ REPORT_TIME_ZONE: zone })).reportTimeZone,
      zone,
    );
  }
  for (const bad of ["Mars/Olympus_Mons", "Paris", "+02:00"]) {
    assert.throws(
      () => readConfig(env({ REPORT_TIME_ZONE: bad })),
      (err: Error) =>
        err instanceof ConfigError &&
        err.message.startsWith("REPORT_TIME_ZONE must be an IANA time zone") &&
        err.message.endsWith(JSON.stringify(bad)),
      bad,
    );
  }
});
