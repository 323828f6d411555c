/** Entry point: reads the environment once, builds the dependencies, serves. */
import { createApp } from "./app.ts";
import { ConfigError, ENV_NAMES, readConfig } from "./config.ts";
import { createMemoryBus } from "./db/bus.ts";
import { openSqliteStore } from "./db/sqlite/sqlite_store.ts";
import { createLogger } from "./log.ts";

let config;
try {
  config = readConfig((name) => Deno.env.get(name));
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`Configuration error: ${err.message}`);
  console.error(`Settings read: ${ENV_NAMES.join(", ")} (see README.md).`);
  Deno.exit(2);
}
const logger = createLogger(config.logLevel);
const bus = createMemoryBus();
const store = await openSqliteStore({ path: config.dbPath, bus });
logger.info("database ready", {
  path: config.dbPath,
  migrations_applied: store.migrated,
  ...store.pragmas,
});

const app = createApp({ store, bus, config, logger });
const server = Deno.serve({
  hostname: config.host,
  port: config.port,
  onListen: ({ hostname, port }) => {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    logger.info("listening", { url: `http://${host}:${port}/` });
    logger.flush();
  },
}, app.fetch);

async function shutdown(signal: string) {
  logger.info("shutting down", { signal });
  await server.shutdown();
  await store.close();
  logger.flush();
  Deno.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => void shutdown(signal));
}
