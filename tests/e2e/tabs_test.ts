/**
 * Many tabs, one browser (issue #14), in Chromium: every tab of the desk loads
 * and stays live over one shared connection, outlives the tab that opened it,
 * notifies once per event, and catches up exactly once after the server is
 * killed and restarted.
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "./playwright.ts";
import { hashPassword } from "../../lib/passwords.ts";
import { newApiKey } from "../../lib/tokens.ts";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import {
  browserTest,
  logIn,
  PASSWORD,
  startServer,
  type TestServer,
  until,
} from "./harness.ts";
import { makeSelfSignedCert } from "../self_signed.ts";
import {
  freePort,
  ServerProcess,
  startServer as startProcess,
} from "../../chaos/lib/server.ts";

const WAIT = 15_000;

/** The browser's stub for desktop notifications: every one shown is recorded on its page. */
const NOTIFICATIONS = `(() => {
  const shown = [];
  window.__notes = shown;
  class N {
    static permission = "granted";
    static requestPermission() { return Promise.resolve("granted"); }
    constructor(title, options) { shown.push({ title, tag: options?.tag ?? null }); }
    close() {}
    addEventListener() {}
  }
  window.Notification = N;
})()`;

async function addAgent(
  store: { createUser: TestServer["store"]["createUser"] },
  username: string,
) {
  await store.createUser({
    username,
    passwordHash: await hashPassword(PASSWORD),
    role: "agent",
  });
}

/** Signs in on a fresh page of `context` (the context keeps the session for later tabs). */
async function signIn(context: BrowserContext, base: string, username: string) {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await logIn(page, base, username);
  return page;
}

/** Opens another tab of the same browser at `path` and waits until it is live. */
async function openTab(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await page.goto(url);
  await waitLive(page);
  return page;
}

function waitLive(page: Page) {
  return page.waitForSelector("#live-status[data-state=live]", {
    state: "attached",
    timeout: WAIT,
  });
}

/** How many elements in the page carry the card id of ticket `id`. */
function copies(page: Page, id: number): Promise<number> {
  return page.evaluate<number>(
    `document.querySelectorAll('[id="ticket-${id}"]').length`,
  );
}

/** The HTTP client of the tests' own requests (trusting the test certificate over HTTPS). */
let client: Deno.HttpClient | undefined;

async function post(
  base: string,
  key: string,
  user = "maria",
): Promise<number> {
  const res = await fetch(`${base}/api/v1/tickets`, {
    client,
    method: "POST",
    headers: {
      Authorization: `Bearer ${key}`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({
      user_id: user,
      pdf_link: "https://example.com/guide.pdf",
    }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).id;
}

/** An in-process server with an agent and an API key, counting the stream requests it gets. */
async function withDesk(
  browser: Browser,
  fn: (d: {
    server: TestServer;
    key: string;
    context: BrowserContext;
    streams: () => number;
  }) => Promise<void>,
  prepare?: (context: BrowserContext, base: string) => Promise<void>,
  tls = false,
) {
  let streams = 0;
  const server = await startServer({
    tls,
    intercept: (req) => {
      if (new URL(req.url).pathname === "/events") streams++;
      return null;
    },
  });
  client = server.cert
    ? Deno.createHttpClient({ caCerts: [server.cert] })
    : undefined;
  const context = await browser.newContext({ ignoreHTTPSErrors: tls });
  try {
    await addAgent(server.store, "alice");
    const { key, prefix, hash } = newApiKey();
    await server.store.createApiKey({ name: "mobile", prefix, hash });
    await prepare?.(context, server.url);
    await fn({ server, key, context, streams: () => streams });
  } finally {
    await context.close();
    await server.stop();
    client?.close();
    client = undefined;
  }
}

for (const tls of [false, true]) {
  browserTest(
    `12 tabs of the desk in one browser all load, go live and show a ticket created through the API, over ${
      tls ? "HTTPS and HTTP/2" : "plain HTTP/1.1"
    }`,
    async (browser) => {
      await withDesk(
        browser,
        async ({ server, key, context, streams }) => {
          const first = await signIn(context, server.url, "alice");
          await waitLive(first);
          const seed = await post(server.url, key, "seed");
          const tabs = [first];
          for (let i = 1; i < 12; i++) {
            // A mix of dashboards and a ticket page, as an agent keeps them.
            const path = i % 4 === 0 ? `/tickets/${seed}` : "/dashboard";
            tabs.push(await openTab(context, server.url + path));
          }
          const id = await post(server.url, key, "twelve");
          for (const [i, tab] of tabs.entries()) {
            if (i % 4 === 0 && i > 0) continue; // ticket pages show their own ticket
            await tab.waitForSelector(`#cards > #ticket-${id}`);
            assert.equal(await copies(tab, id), 1, `tab ${i}`);
          }
          // One browser, one stream at a time: a new filter reopens it, so the
          // requests are few, never one per tab.
          assert.ok(streams() <= 4, `${streams()} stream requests for 12 tabs`);
        },
        undefined,
        tls,
      );
    },
  );
}

browserTest(
  "closing the tab that opened the shared connection leaves the other tabs live",
  async (browser) => {
    await withDesk(browser, async ({ server, key, context }) => {
      const opener = await signIn(context, server.url, "alice");
      await waitLive(opener);
      const others = [
        await openTab(context, `${server.url}/dashboard`),
        await openTab(context, `${server.url}/dashboard?status=Open`),
      ];
      await opener.close();
      const id = await post(server.url, key);
      for (const tab of others) {
        await tab.waitForSelector(`#cards > #ticket-${id}`);
        assert.equal(await copies(tab, id), 1);
        assert.equal(
          await tab.getAttribute("#live-status", "data-state"),
          "live",
        );
      }
    });
  },
);

browserTest(
  "with 5 tabs open, one ticket makes exactly one desktop notification",
  async (browser) => {
    await withDesk(
      browser,
      async ({ server, key, context }) => {
        const tabs = [await signIn(context, server.url, "alice")];
        await waitLive(tabs[0]!);
        for (let i = 1; i < 5; i++) {
          tabs.push(await openTab(context, `${server.url}/dashboard`));
        }
        const first = await post(server.url, key, "first");
        const marker = await post(server.url, key, "marker");
        const shown = async () =>
          (await Promise.all(
            tabs.map((t) =>
              t.evaluate<{ title: string }[]>("window.__notes ?? []")
            ),
          )).flat();
        // Wait until the later ticket's notification is out: the first one's
        // came before it, on the same connection, so all of it is in by then.
        await Promise.any(tabs.map((t) =>
          until(
            t,
            `(window.__notes ?? []).some((n) => n.title.includes("#${marker} "))`,
          )
        ));
        const titles = (await shown()).map((n) => n.title);
        assert.equal(
          titles.filter((t) => t.includes(`#${first} `)).length,
          1,
          JSON.stringify(titles),
        );
        assert.equal(titles.length, 2, JSON.stringify(titles));
      },
      async (context, base) => {
        await context.grantPermissions(["notifications"], { origin: base });
        await context.addInitScript(NOTIFICATIONS);
      },
    );
  },
);

browserTest(
  "a change to a ticket is notified by the tab that shows that ticket",
  async (browser) => {
    await withDesk(
      browser,
      async ({ server, key, context }) => {
        const board = await signIn(context, server.url, "alice");
        await waitLive(board);
        const id = await post(server.url, key);
        const page = await openTab(context, `${server.url}/tickets/${id}`);
        await board.bringToFront();
        const res = await fetch(`${server.url}/api/v1/tickets/${id}`, {
          client,
          method: "PATCH",
          headers: {
            Authorization: `Bearer ${key}`,
            "Content-Type": "application/json",
          },
          body: JSON.stringify({ status: "Pending" }),
        });
        assert.equal(res.status, 200);
        await until(
          page,
          `(window.__notes ?? []).some((n) => n.title.includes("to Pending"))`,
        );
        const onBoard = await board.evaluate<{ title: string }[]>(
          "window.__notes",
        );
        assert.ok(
          !onBoard.some((n) => n.title.includes("to Pending")),
          JSON.stringify(onBoard),
        );
      },
      async (context, base) => {
        await context.grantPermissions(["notifications"], { origin: base });
        await context.addInitScript(NOTIFICATIONS);
      },
    );
  },
);

for (const tls of [false, true]) {
  browserTest(
    `kill -9 and restart the server while 6 tabs are open: every tab catches up exactly once, in order, over ${
      tls ? "HTTPS and HTTP/2" : "plain HTTP/1.1"
    }`,
    async (browser) => {
      const dir = await Deno.makeTempDir({ prefix: "desk-tabs-" });
      const dbPath = `${dir}/tickets.db`;
      const port = freePort();
      let server: ServerProcess | null = null;
      const context = await browser.newContext({ ignoreHTTPSErrors: tls });
      const pem = tls ? await makeSelfSignedCert() : null;
      const certs = pem
        ? {
          certFile: `${dir}/cert.pem`,
          keyFile: `${dir}/key.pem`,
          cert: pem.cert,
        }
        : undefined;
      if (pem && certs) {
        await Deno.writeTextFile(certs.certFile, pem.cert);
        await Deno.writeTextFile(certs.keyFile, pem.key);
      }
      try {
        server = await startProcess({ dbPath, port, tls: certs });
        client = server.client;
        const base = server.base;
        {
          const store = await openSqliteStore({
            path: dbPath,
            writer: "inline",
          });
          await addAgent(store, "alice");
          await store.close();
        }
        const tabs = [await signIn(context, base, "alice")];
        await waitLive(tabs[0]!);
        for (let i = 1; i < 6; i++) {
          const path = i % 2 ? "/dashboard" : "/dashboard?status=Open";
          tabs.push(await openTab(context, base + path));
        }
        const before = await post(base, server.apiKey!, "before");
        for (const tab of tabs) await tab.waitForSelector(`#ticket-${before}`);

        await server.kill(); // SIGKILL: no goodbye to anyone
        // Tickets filed while the server is down (as another instance would).
        const missed: number[] = [];
        {
          const store = await openSqliteStore({
            path: dbPath,
            writer: "inline",
          });
          for (let i = 0; i < 3; i++) {
            const { ticket } = await store.createTicket({
              user_id: `missed_${i}`,
              pdf_link: "https://example.com/a.pdf",
              product_id: null,
              other_ids: null,
            }, { actor: "api:other" });
            missed.push(ticket.id);
          }
          await store.close();
        }
        server = await startProcess({
          dbPath,
          port,
          apiKey: server.apiKey,
          tls: certs,
        });
        client = server.client;
        const after = await post(base, server.apiKey!, "after");
        for (const [i, tab] of tabs.entries()) {
          await tab.waitForSelector(`#cards > #ticket-${after}`, {
            timeout: 60_000,
          });
          for (const id of [before, ...missed, after]) {
            assert.equal(await copies(tab, id), 1, `tab ${i}, ticket ${id}`);
          }
          const order = await tab.evaluate<number[]>(
            "[...document.querySelectorAll('#cards > .ticket-card')].map((e) => Number(e.dataset.ticketId))",
          );
          assert.deepEqual(
            order.slice(0, 5),
            [after, ...missed.toReversed(), before],
            `tab ${i}`,
          );
        }
      } finally {
        client = undefined;
        await context.close();
        await server?.kill();
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

browserTest(
  "where SharedWorker is missing, each tab keeps a stream of its own and stays live",
  async (browser) => {
    await withDesk(
      browser,
      async ({ server, key, context, streams }) => {
        const tabs = [await signIn(context, server.url, "alice")];
        await waitLive(tabs[0]!);
        tabs.push(await openTab(context, `${server.url}/dashboard`));
        const id = await post(server.url, key);
        for (const tab of tabs) {
          await tab.waitForSelector(`#cards > #ticket-${id}`);
          assert.equal(await copies(tab, id), 1);
        }
        assert.equal(streams(), 2, "one stream per tab");
      },
      async (context) => {
        await context.addInitScript("delete window.SharedWorker");
      },
    );
  },
);
