/**
 * The Reports page in Chromium: axe finds nothing serious (light, dark, a
 * phone), a chart follows a ticket closed elsewhere while the page is open,
 * and the range form works without JavaScript.
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContextOptions, Page } from "./playwright.ts";
import { hashPassword } from "../../lib/passwords.ts";
import { seriousViolations } from "./axe.ts";
import {
  browserTest,
  logIn,
  PASSWORD,
  startServer,
  type TestServer,
  until,
} from "./harness.ts";

const WAIT = 10_000;

/** alice (admin) and maria (agent); five tickets today, two answered, one closed. */
async function desk(): Promise<{ server: TestServer; ids: number[] }> {
  const server = await startServer();
  for (
    const [username, role] of [["alice", "admin"], ["maria", "agent"]] as const
  ) {
    await server.store.createUser({
      username,
      passwordHash: await hashPassword(PASSWORD),
      role,
    });
  }
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { ticket } = await server.store.createTicket({
      user_id: `customer_${i}`,
      pdf_link: "https://example.com/guide.pdf",
      product_id: i % 2 ? "ROUTER-AX3" : "CAM-2K",
      other_ids: null,
      priority: i === 0 ? "Urgent" : undefined,
    }, { actor: "api:mobile" });
    ids.push(ticket.id);
  }
  await server.store.addComment(ids[0]!, "We are on it", {
    actor: "maria",
    visibility: "public",
  });
  await server.store.addComment(ids[1]!, "Fixed in 2.1", {
    actor: "alice",
    visibility: "public",
  });
  await server.store.updateTicket(ids[1]!, {
    status: "Closed",
    assignee: "alice",
  }, {
    actor: "alice",
  });
  return { server, ids };
}

async function signedIn(
  browser: Browser,
  server: TestServer,
  options: BrowserContextOptions = {},
): Promise<Page> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await logIn(page, server.url, "alice");
  return page;
}

async function openReports(page: Page, url: string) {
  await page.goto(url);
  await page.waitForSelector("#live-status[data-state=live]", {
    state: "attached",
  });
}

const today = () => new Date().toISOString().slice(0, 10);
const closedToday = (page: Page) =>
  page.evaluate<string>(
    `document.querySelector('#daily tr[data-date="${today()}"] td[data-col=closed]').textContent`,
  );

browserTest(
  "the Reports page has no serious accessibility violations in light, dark and on a phone",
  async (browser) => {
    const { server } = await desk();
    try {
      const found: string[] = [];
      for (
        const [what, options] of [
          ["light", { colorScheme: "light" }],
          ["dark", { colorScheme: "dark" }],
          ["a phone", {
            viewport: { width: 390, height: 844 },
            isMobile: true,
            hasTouch: true,
          }],
        ] as [string, BrowserContextOptions][]
      ) {
        const page = await signedIn(browser, server, {
          bypassCSP: true,
          ...options,
        });
        await openReports(page, server.url + "/reports?range=7");
        assert.equal(await page.locator("#daily svg[role=img]").count(), 1);
        // The data table too, opened as a screen reader user would.
        await page.click("#daily details summary");
        found.push(
          ...(await seriousViolations(page)).map((v) => `${what}: ${v}`),
        );
        await page.goto(server.url + "/reports?from=2026-02-01&to=2026-01-01");
        await page.waitForSelector("#to-error");
        found.push(
          ...(await seriousViolations(page)).map((v) =>
            `${what}, refused range: ${v}`
          ),
        );
        await page.context().close();
      }
      assert.deepEqual(found, []);
    } finally {
      await server.stop();
    }
  },
);

browserTest(
  "a ticket closed elsewhere shows in the open Reports page's chart and figures, over the live connection",
  async (browser) => {
    const { server, ids } = await desk();
    try {
      const page = await signedIn(browser, server);
      await openReports(page, server.url + "/reports?range=7");
      assert.equal(await closedToday(page), "1");
      assert.match(
        (await page.textContent("#daily-summary"))!,
        /^5 created and 1 closed/,
      );
      await server.store.updateTicket(ids[2]!, { status: "Closed" }, {
        actor: "maria",
      });
      await until(
        page,
        `document.querySelector('#daily tr[data-date="${today()}"] td[data-col=closed]').textContent === "2"`,
      );
      // The drawing follows: today's closed bar says 2, and so does the summary.
      assert.match(
        (await page.textContent(`#daily g[data-date="${today()}"] title`))!,
        /5 created, 2 closed, backlog 3$/,
      );
      assert.match(
        (await page.textContent("#daily-summary"))!,
        /^5 created and 2 closed/,
      );
      assert.equal(
        await page.locator("#report").count(),
        1,
        "swapped in place",
      );
    } finally {
      await server.stop();
    }
  },
);

browserTest(
  "without JavaScript the range form still shows the report for the dates asked",
  async (browser) => {
    const { server } = await desk();
    try {
      const page = await signedIn(browser, server, {
        javaScriptEnabled: false,
      });
      await page.goto(server.url + "/reports");
      await page.fill("#from", "2026-01-01");
      await page.fill("#to", "2026-01-03");
      await page.selectOption("#priority", "Urgent");
      await Promise.all([
        page.waitForURL(/\/reports\?/),
        page.click(".report-filters button[type=submit]"),
      ]);
      const url = new URL(page.url());
      assert.equal(url.searchParams.get("from"), "2026-01-01");
      assert.equal(url.searchParams.get("priority"), "Urgent");
      assert.equal(await page.locator("#daily tbody tr").count(), 3);
      assert.match(
        (await page.getAttribute(".report-head a", "href"))!,
        /^\/reports\.csv\?from=2026-01-01&to=2026-01-03&priority=Urgent/,
      );
    } finally {
      await server.stop();
    }
  },
);
