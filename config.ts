/** Configuration from the environment, read once at start-up and then injected. */
import { LOG_LEVELS, type LogLevel } from "./log.ts";

export interface AppConfig {
  host: string;
  port: number;
  dbPath: string;
  logLevel: LogLevel;
}

/** The environment variables the app reads; the start task grants exactly these. */
export const ENV_NAMES = ["HOST", "PORT", "DB_PATH", "LOG_LEVEL"] as const;

/** A setting that cannot be used as given. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Builds the config from env values, with defaults; throws ConfigError naming the bad setting. */
export function readConfig(
  env: (name: typeof ENV_NAMES[number]) => string | undefined,
): AppConfig {
  const port = Number(env("PORT") ?? "8000");
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(
      `PORT must be a whole number from 0 to 65535, got ${
        JSON.stringify(env("PORT"))
      }`,
    );
  }
  const logLevel = (env("LOG_LEVEL") ?? "info").toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(
      `LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got ${
        JSON.stringify(env("LOG_LEVEL"))
      }`,
    );
  }
  const dbPath = env("DB_PATH") || "data/tickets.db";
  return {
    host: env("HOST") || "127.0.0.1",
    port,
    dbPath,
    logLevel: logLevel as LogLevel,
  };
}
