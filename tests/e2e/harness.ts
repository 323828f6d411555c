/**
 * Browser-test harness: a real server on a free port with a file database, and
 * Debian's Chromium driven by playwright-core.
 *
 * Where no Chromium is found the tests are reported as ignored, with the reason,
 * unless REQUIRE_BROWSER=1 (as CI sets), where they fail instead.
 */
import { type Browser, chromium, type Page } from "./playwright.ts";
import { createApp } from "../../app.ts";
import { createMemoryBus, type EventBus } from "../../db/bus.ts";
import {
  openSqliteStore,
  type SqliteStore,
} from "../../db/sqlite/sqlite_store.ts";
import { createLogger } from "../../log.ts";
import type { AppConfig } from "../../config.ts";
import { makeSelfSignedCert } from "../self_signed.ts";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The Chromium binary to drive, or null when none is installed. */
export function findChromium(): string | null {
  const fromEnv = Deno.env.get("CHROMIUM_PATH");
  for (const path of fromEnv ? [fromEnv, ...CANDIDATES] : CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not here */ }
  }
  return null;
}

const chromiumPath = findChromium();
const required = Deno.env.get("REQUIRE_BROWSER") === "1";

/** Registers a browser test: ignored (with the reason) when no Chromium, failing when one is required. */
export function browserTest(
  name: string,
  fn: (browser: Browser) => Promise<void>,
): void {
  if (!chromiumPath && !required) {
    Deno.test({
      name: `${name} (ignored: no Chromium at ${
        CANDIDATES.join(" or ")
      }; apt-get install -y chromium)`,
      ignore: true,
      fn: () => {},
    });
    return;
  }
  Deno.test({
    name,
    // Playwright keeps its pipe and child process open in ways the sanitizers misread.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      if (!chromiumPath) {
        throw new Error(
          "REQUIRE_BROWSER=1 but no Chromium was found: apt-get install -y chromium",
        );
      }
      const browser = await chromium.launch({
        executablePath: chromiumPath,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          // The HTTPS tests serve a self-signed certificate. A context's
          // ignoreHTTPSErrors covers its pages, not the shared worker that
          // holds the live stream, which opens its own connections.
          "--ignore-certificate-errors",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      });
      try {
        await fn(browser);
      } finally {
        await browser.close();
      }
    },
  });
}

export interface TestServer {
  /** http://127.0.0.1:port, or https:// with `tls: true`. */
  url: string;
  /** With `tls: true`: the self-signed certificate's PEM, for `caCerts` (browsers: `ignoreHTTPSErrors`). */
  cert?: string;
  dbPath: string;
  store: SqliteStore;
  bus: EventBus;
  /** Stops the server and closes the store (the database file stays). */
  stop(): Promise<void>;
}

/**
 * Starts the real app on 127.0.0.1 and a free port, on a file database; with
 * `tls: true` over HTTPS (and so HTTP/2) with a fresh self-signed certificate.
 */
export async function startServer(
  opts: {
    dbPath?: string;
    port?: number;
    config?: Partial<AppConfig>;
    /** Answers a request in place of the app when it returns a response (faults no browser can fake). */
    intercept?: (req: Request) => Response | null;
    tls?: boolean;
  } = {},
): Promise<TestServer> {
  const dbPath = opts.dbPath ??
    `${await Deno.makeTempDir({ prefix: "desk-e2e-" })}/tickets.db`;
  const bus = createMemoryBus();
  const store = await openSqliteStore({ path: dbPath, bus });
  const logger = createLogger("silent");
  const stopping = new AbortController();
  const app = createApp({
    store,
    bus,
    config: { logLevel: "silent", ...opts.config },
    logger,
    signal: stopping.signal,
  });
  const tls = opts.tls ? await makeSelfSignedCert() : null;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    ...tls,
    onListen: () => {},
  }, (req, info) => opts.intercept?.(req) ?? app.fetch(req, info));
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${server.addr.port}`,
    ...(tls && { cert: tls.cert }),
    dbPath,
    store,
    bus,
    async stop() {
      stopping.abort();
      await server.shutdown();
      await store.close();
    },
  };
}

/**
 * Polls a JavaScript expression in the page until it is truthy. Not
 * page.waitForFunction: a string predicate is compiled in the page, which the
 * app's CSP (script-src 'self', no unsafe-eval) rightly refuses. A page that
 * is navigating answers nothing for a moment: polled again.
 */
export async function until(
  page: Page,
  expr: string,
  timeout = 15_000,
): Promise<void> {
  const end = performance.now() + timeout;
  while (
    !(await page.evaluate<boolean>(`Boolean(${expr})`).catch(() => false))
  ) {
    if (performance.now() > end) {
      throw new Error(`Timed out after ${timeout} ms waiting for ${expr}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The password the browser tests give their accounts. */
export const PASSWORD = "correct horse battery";

/** Signs `username` in through the login form and waits for the dashboard. */
export async function logIn(
  page: Page,
  base: string,
  username: string,
  password = PASSWORD,
): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", password);
  await Promise.all([
    page.waitForURL("**/dashboard"),
    page.click("button[type=submit]"),
  ]);
}
