/** Entry point: reads the environment once, builds the dependencies, serves. */
import { createApp } from "./app.ts";
import { ConfigError, ENV_NAMES, readConfig } from "./config.ts";
import { createMemoryBus, type SignalBus } from "./db/bus.ts";
import type { AccountStore, TicketStore } from "./db/store.ts";
import { openSqliteStore } from "./db/sqlite/sqlite_store.ts";
import { openPostgresStore } from "./db/postgres/postgres_store.ts";
import { createLogger } from "./log.ts";
import { loadSecretKey } from "./lib/secret.ts";
import { ensureFirstAdmin, firstAdminLines } from "./lib/first_admin.ts";
import { readTlsFiles, type TlsFiles } from "./lib/tls.ts";
import { startWebhookSender } from "./lib/webhooks/sender.ts";

function refuseToStart(err: ConfigError): never {
  console.error(`Configuration error: ${err.message}`);
  console.error(`Settings read: ${ENV_NAMES.join(", ")} (see README.md).`);
  Deno.exit(2);
}

let config;
let tls: TlsFiles | null = null;
try {
  config = readConfig((name) => Deno.env.get(name));
  if (config.tlsCert && config.tlsKey) {
    tls = await readTlsFiles({
      certPath: config.tlsCert,
      keyPath: config.tlsKey,
    });
  }
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  refuseToStart(err);
}
const logger = createLogger(config.logLevel);
const bus = createMemoryBus();
let store: TicketStore & AccountStore;
// Presence crosses instances over LISTEN/NOTIFY; one SQLite process needs none.
let signals: SignalBus | undefined;
if (config.databaseUrl) {
  // Every instance on the same database hears every instance's events (LISTEN/NOTIFY).
  const pg = await openPostgresStore({ url: config.databaseUrl, bus });
  const { host, port, database } = pg.sql.options;
  logger.info("database ready", {
    backend: "postgres",
    host: host.join(","),
    port: port.join(","),
    database,
    migrations_applied: pg.migrated,
  });
  store = pg;
  signals = pg.signals ?? undefined;
} else {
  const sqlite = await openSqliteStore({ path: config.dbPath, bus });
  logger.info("database ready", {
    path: config.dbPath,
    migrations_applied: sqlite.migrated,
    ...sqlite.pragmas,
  });
  store = sqlite;
}

const secret = loadSecretKey(config.secretKey, config.dbPath);
logger.info("secret key", { source: secret.source });
// Before listening: a login in the first moments after start must find the admin.
let firstAdmin;
try {
  firstAdmin = await ensureFirstAdmin(store, {
    username: config.adminUser,
    password: config.adminPassword,
  });
} catch (err) {
  await store.close();
  if (err instanceof ConfigError) refuseToStart(err);
  logger.error("cannot create the first admin", { error: String(err) });
  logger.flush();
  Deno.exit(1);
}
const stopping = new AbortController();
// Sends what the outbox holds, from before a restart too; stops at shutdown.
const webhooks = startWebhookSender({
  store,
  bus,
  logger,
  signal: stopping.signal,
  schedule: config.webhookRetrySchedule,
  allowPrivate: config.webhookAllowPrivate,
});
const app = createApp({
  store,
  bus,
  signals,
  signal: stopping.signal,
  config: { ...config, secretKey: secret.key },
  logger,
});
// With cert and key Deno.serve speaks HTTPS and offers HTTP/2 by ALPN: one
// connection carries every tab's live stream, past HTTP/1.1's six per origin.
const server = Deno.serve({
  hostname: config.host,
  port: config.port,
  ...tls,
  onListen: ({ hostname, port }) => {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    const url = `${tls ? "https" : "http"}://${host}:${port}/`;
    logger.info("listening", { url });
    logger.flush();
    if (firstAdmin) {
      for (const line of firstAdminLines(firstAdmin, `${url}login`)) {
        console.log(line);
      }
    }
  },
}, app.fetch);

async function shutdown(signal: string) {
  logger.info("shutting down", { signal });
  stopping.abort(); // live streams end; browsers reconnect to the next process
  await server.shutdown();
  await webhooks.stopped;
  await store.close();
  logger.flush();
  Deno.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => void shutdown(signal));
}
