/** Configuration from the environment, read once at start-up and then injected. */
import { LOG_LEVELS, type LogLevel } from "./log.ts";
import { isTimeZone } from "./lib/report_days.ts";

export interface AppConfig {
  host: string;
  port: number;
  dbPath: string;
  /** postgres://… to keep the data in PostgreSQL instead of SQLite at dbPath; null = SQLite. */
  databaseUrl: string | null;
  logLevel: LogLevel;
  /** Lets the two create routes work without an API key (the old app's behaviour). */
  allowAnonymousCreate: boolean;
  /** Requests per minute per API key; 0 turns the limit off. */
  apiRateLimit: number;
  /** Requests per minute per client IP for anonymous creates; 0 turns the limit off. */
  anonRateLimit: number;
  /** Login attempts per minute, per account and per client IP. */
  loginRateLimit: number;
  /** Trust X-Forwarded-For / X-Forwarded-Proto / X-Forwarded-Host from a proxy in front. */
  trustProxy: boolean;
  /** Origins allowed to call the JSON API from a browser (CORS); empty = CORS off. */
  corsOrigins: string[];
  /** Keys session-id hashes; null = read or create `secret.key` beside the database. */
  secretKey: string | null;
  /** How far back a reconnecting dashboard may replay missed events, in days. */
  liveReplayDays: number;
  /** The first admin, created on a first start with no users. */
  adminUser: string;
  adminPassword: string | null;
  /** PEM certificate (chain) file: with tlsKey, the server speaks HTTPS and HTTP/2; null = plain HTTP. */
  tlsCert: string | null;
  /** PEM private key file of tlsCert; set exactly when tlsCert is. */
  tlsKey: string | null;
  /** The desk's public base URL (https://desk.example.com): makes requester links absolute; null = paths. */
  publicUrl: string | null;
  /** Lets webhooks reach private, loopback and link-local addresses (tests, a trusted LAN). */
  webhookAllowPrivate: boolean;
  /** Seconds before each delivery attempt of a webhook: the first is the first try. */
  webhookRetrySchedule: number[];
  /** The IANA time zone whose days the reports count in (Europe/Paris, UTC). */
  reportTimeZone: string;
}

/** The environment variables the app reads; the start task grants exactly these. */
export const ENV_NAMES = [
  "HOST",
  "PORT",
  "DB_PATH",
  "DATABASE_URL",
  "LOG_LEVEL",
  "ALLOW_ANONYMOUS_CREATE",
  "API_RATE_LIMIT",
  "ANON_RATE_LIMIT",
  "LOGIN_RATE_LIMIT",
  "TRUST_PROXY",
  "CORS_ORIGINS",
  "SECRET_KEY",
  "ADMIN_USER",
  "ADMIN_PASSWORD",
  "LIVE_REPLAY_DAYS",
  "TLS_CERT",
  "TLS_KEY",
  "PUBLIC_URL",
  "WEBHOOK_ALLOW_PRIVATE",
  "WEBHOOK_RETRY_SCHEDULE",
  "REPORT_TIME_ZONE",
] as const;
export type EnvName = typeof ENV_NAMES[number];

/** Defaults for everything; tests override what they need. */
export const DEFAULT_CONFIG: AppConfig = {
  host: "127.0.0.1",
  port: 8000,
  dbPath: "data/tickets.db",
  databaseUrl: null,
  logLevel: "info",
  allowAnonymousCreate: false,
  apiRateLimit: 6000,
  anonRateLimit: 60,
  loginRateLimit: 5,
  trustProxy: false,
  corsOrigins: [],
  secretKey: null,
  liveReplayDays: 7,
  adminUser: "admin",
  adminPassword: null,
  tlsCert: null,
  tlsKey: null,
  publicUrl: null,
  webhookAllowPrivate: false,
  // The Standard Webhooks schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h,
  // 10 h, 10 h; about 28 hours from the first try to the last.
  webhookRetrySchedule: [0, 5, 300, 1800, 7200, 18000, 36000, 36000],
  reportTimeZone: "UTC",
};

/** A setting that cannot be used as given. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

function quoted(v: string | undefined) {
  return JSON.stringify(v);
}

function flag(name: EnvName, v: string | undefined): boolean {
  if (v === undefined || v === "") return false;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(`${name} must be 1 or 0, got ${quoted(v)}`);
}

function whole(
  name: EnvName,
  v: string | undefined,
  fallback: number,
  max: number,
): number {
  if (v === undefined || v === "") return fallback;
  const n = /^\d{1,10}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new ConfigError(
      `${name} must be a whole number from 0 to ${max}, got ${quoted(v)}`,
    );
  }
  return n;
}

/** PUBLIC_URL: an absolute http(s) URL without query or fragment, kept without its trailing slash. */
function publicUrl(v: string | undefined): string | null {
  if (v === undefined || v === "") return null;
  const u = URL.parse(v);
  if (
    !u || !/^https?:$/.test(u.protocol) || !/^https?:\/\//i.test(v) ||
    u.username || u.password || u.search || u.hash
  ) {
    throw new ConfigError(
      `PUBLIC_URL must be an absolute http(s) URL like https://desk.example.com, got ${
        quoted(v)
      }`,
    );
  }
  return u.href.replace(/\/+$/, "");
}

/** The longest wait WEBHOOK_RETRY_SCHEDULE may name between two attempts: a week. */
const MAX_RETRY_SECONDS = 7 * 24 * 60 * 60;

/** WEBHOOK_RETRY_SCHEDULE: 1 to 20 waits in seconds (decimals allowed), comma-separated. */
function retrySchedule(v: string | undefined): number[] {
  if (v === undefined || v.trim() === "") {
    return DEFAULT_CONFIG.webhookRetrySchedule;
  }
  const parts = v.split(",").map((s) => s.trim());
  const waits = parts.map((s) =>
    /^\d{1,7}(\.\d{1,3})?$/.test(s) ? Number(s) : NaN
  );
  if (
    waits.length > 20 ||
    waits.some((n) => !(n >= 0 && n <= MAX_RETRY_SECONDS))
  ) {
    throw new ConfigError(
      `WEBHOOK_RETRY_SCHEDULE must be 1 to 20 waits in seconds (0 to ${MAX_RETRY_SECONDS}), comma-separated, like 0,5,300; got ${
        quoted(v)
      }`,
    );
  }
  return waits;
}

/** REPORT_TIME_ZONE: a time zone the runtime knows by its IANA name; UTC when unset. */
function reportTimeZone(v: string | undefined): string {
  if (v === undefined || v.trim() === "") return DEFAULT_CONFIG.reportTimeZone;
  // Intl also takes offsets ("+02:00"): only zone names are documented.
  if (!/^[A-Za-z]/.test(v.trim()) || !isTimeZone(v.trim())) {
    throw new ConfigError(
      `REPORT_TIME_ZONE must be an IANA time zone name like Europe/Paris, America/New_York or UTC, got ${
        quoted(v)
      }`,
    );
  }
  return v.trim();
}

/** Reads WEBHOOK_ALLOW_PRIVATE only, for the webhook task (which checks URLs as the server does). */
export function readWebhookAllowPrivate(
  env: (name: "WEBHOOK_ALLOW_PRIVATE") => string | undefined,
): boolean {
  return flag("WEBHOOK_ALLOW_PRIVATE", env("WEBHOOK_ALLOW_PRIVATE"));
}

/** Where the data lives: PostgreSQL at `databaseUrl` when set, else SQLite at `dbPath`. */
export type StoreLocation = Pick<AppConfig, "dbPath" | "databaseUrl">;

/**
 * Reads DB_PATH and DATABASE_URL only, as readConfig does: the command-line
 * tasks open the server's store without needing (or checking) its other settings.
 */
export function readStoreLocation(
  env: (name: "DB_PATH" | "DATABASE_URL") => string | undefined,
): StoreLocation {
  const databaseUrl = env("DATABASE_URL") || null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\/./.test(databaseUrl)) {
    // Not echoed: the URL may carry a password.
    throw new ConfigError(
      "DATABASE_URL must be a postgres://user:password@host:port/database URL",
    );
  }
  return { dbPath: env("DB_PATH") || DEFAULT_CONFIG.dbPath, databaseUrl };
}

/** Builds the config from env values, with defaults; throws ConfigError naming the bad setting. */
export function readConfig(
  env: (name: EnvName) => string | undefined,
): AppConfig {
  const logLevel = (env("LOG_LEVEL") || "info").toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(
      `LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got ${
        quoted(env("LOG_LEVEL"))
      }`,
    );
  }
  const corsOrigins = (env("CORS_ORIGINS") ?? "").split(",").map((s) =>
    s.trim()
  ).filter(Boolean);
  for (const o of corsOrigins) {
    const u = URL.parse(o);
    if (!u || u.origin !== o.replace(/\/$/, "")) {
      throw new ConfigError(
        `CORS_ORIGINS must list origins like https://app.example.com, got ${
          quoted(o)
        }`,
      );
    }
  }
  const secretKey = env("SECRET_KEY") || null;
  if (secretKey !== null && secretKey.length < 32) {
    throw new ConfigError(
      "SECRET_KEY must be at least 32 characters (or unset, to generate one)",
    );
  }
  const adminUser = env("ADMIN_USER") || "admin";
  const tlsCert = env("TLS_CERT") || null;
  const tlsKey = env("TLS_KEY") || null;
  if ((tlsCert === null) !== (tlsKey === null)) {
    throw new ConfigError(
      `TLS_CERT and TLS_KEY must be set together (or neither, for plain HTTP): ${
        tlsCert ? "TLS_KEY" : "TLS_CERT"
      } is not set`,
    );
  }
  const { dbPath, databaseUrl } = readStoreLocation(env);
  return {
    host: env("HOST") || DEFAULT_CONFIG.host,
    port: whole("PORT", env("PORT"), DEFAULT_CONFIG.port, 65535),
    dbPath,
    databaseUrl,
    logLevel: logLevel as LogLevel,
    allowAnonymousCreate: flag(
      "ALLOW_ANONYMOUS_CREATE",
      env("ALLOW_ANONYMOUS_CREATE"),
    ),
    apiRateLimit: whole(
      "API_RATE_LIMIT",
      env("API_RATE_LIMIT"),
      DEFAULT_CONFIG.apiRateLimit,
      10_000_000,
    ),
    anonRateLimit: whole(
      "ANON_RATE_LIMIT",
      env("ANON_RATE_LIMIT"),
      DEFAULT_CONFIG.anonRateLimit,
      10_000_000,
    ),
    loginRateLimit: Math.max(
      1,
      whole(
        "LOGIN_RATE_LIMIT",
        env("LOGIN_RATE_LIMIT"),
        DEFAULT_CONFIG.loginRateLimit,
        1000,
      ),
    ),
    trustProxy: flag("TRUST_PROXY", env("TRUST_PROXY")),
    corsOrigins,
    secretKey,
    liveReplayDays: Math.max(
      1,
      whole("LIVE_REPLAY_DAYS", env("LIVE_REPLAY_DAYS"), 7, 3650),
    ),
    adminUser,
    adminPassword: env("ADMIN_PASSWORD") || null,
    tlsCert,
    tlsKey,
    publicUrl: publicUrl(env("PUBLIC_URL")),
    webhookAllowPrivate: readWebhookAllowPrivate(env),
    webhookRetrySchedule: retrySchedule(env("WEBHOOK_RETRY_SCHEDULE")),
    reportTimeZone: reportTimeZone(env("REPORT_TIME_ZONE")),
  };
}
