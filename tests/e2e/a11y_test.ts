/**
 * Accessibility checks with axe-core in Chromium: every screen an admin uses,
 * on a desktop and a phone, in light and dark. No violation of impact
 * "serious" or "critical" is allowed; the message lists every violation found
 * (moderate and minor too) so they can be fixed together.
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContextOptions, Page } from "./playwright.ts";
import type { Status } from "../../db/store.ts";
import { hashPassword } from "../../lib/passwords.ts";
import { requesterLinks } from "../../lib/requester_token.ts";
import { axe, type Violation } from "./axe.ts";
import {
  browserTest,
  logIn,
  PASSWORD,
  startServer,
  type TestServer,
} from "./harness.ts";

const WAIT = 10_000;

/** Violations found per screen, checked together at the end of a test. */
class Audit {
  #found: { screen: string; v: Violation }[] = [];

  async check(page: Page, screen: string): Promise<void> {
    for (const v of await axe(page)) this.#found.push({ screen, v });
  }

  /** Fails on any serious or critical violation; the message lists them all. */
  assertNoSerious(): void {
    const all = this.#found.map(({ screen, v }) =>
      `[${v.impact}] ${v.id} on ${screen}: ${v.help}\n` +
      v.nodes.map((n) => `    ${n.target} — ${n.summary}`).join("\n")
    );
    const serious = this.#found.filter(({ v }) =>
      v.impact === "serious" || v.impact === "critical"
    );
    assert.equal(
      serious.length,
      0,
      `${serious.length} serious or critical violation(s); all found:\n${
        all.join("\n")
      }`,
    );
  }
}

const STATUSES: Status[] = [
  "Open",
  "Pending",
  "Closed",
  "Open",
  "Pending",
  "Open",
  "Closed",
  "Open",
  "Pending",
  "Open",
];

/** Ten tickets of varied status, text and links, some with comments. */
async function seed(server: TestServer): Promise<void> {
  for (const [i, status] of STATUSES.entries()) {
    const { ticket } = await server.store.createTicket({
      user_id: `customer_${i + 1}`,
      pdf_link: `https://example.com/guides/product-${i + 1}.pdf`,
      product_id: i % 3 ? `PROD${100 + i}` : null,
      other_ids: i % 2 ? `ORDER-${900 + i}, DEVICE-${i}` : null,
    }, { actor: "api:mobile" });
    await server.store.updateTicket(ticket.id, {
      status,
      description: i % 4 === 0
        ? ""
        : `The app crashes when I open the guide for product ${i}. `.repeat(
          1 + (i % 3),
        ),
    }, { actor: "api:mobile" });
    for (let c = 0; c < i % 3; c++) {
      await server.store.addComment(
        ticket.id,
        `Looked into it (${c + 1}): please update to the latest version.`,
        { actor: "alice" },
      );
    }
  }
}

async function newServer(): Promise<TestServer> {
  const server = await startServer();
  await server.store.createUser({
    username: "alice",
    passwordHash: await hashPassword(PASSWORD),
    role: "admin",
  });
  return server;
}

/** A context without CSP enforcement (axe is injected inline) and signed in as alice. */
async function signedIn(
  browser: Browser,
  server: TestServer,
  options: BrowserContextOptions = {},
): Promise<Page> {
  const context = await browser.newContext({ bypassCSP: true, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await logIn(page, server.url, "alice");
  return page;
}

/** Opens a page and waits until its scripts have run and the stream (if any) is live. */
async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  if (await page.locator("#live-status").count()) {
    await page.waitForSelector("#live-status[data-state=live]", {
      state: "attached",
    });
  }
}

browserTest(
  "the login page and the empty dashboard have no serious accessibility violations",
  async (browser) => {
    const server = await newServer();
    try {
      const audit = new Audit();
      const context = await browser.newContext({ bypassCSP: true });
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT);
      await page.goto(server.url + "/login");
      await audit.check(page, "the login page");
      // A failed login: the error is announced and tied to the fields.
      await page.fill("input[name=username]", "alice");
      await page.fill("input[name=password]", "wrong password");
      await page.click("button[type=submit]");
      await page.waitForSelector("#login-error");
      await audit.check(page, "the login page after a failed login");
      await context.close();

      const admin = await signedIn(browser, server);
      await open(admin, server.url + "/dashboard");
      assert.ok(await admin.isVisible("#empty"), "the empty state is shown");
      await audit.check(admin, "the empty dashboard");
      audit.assertNoSerious();
    } finally {
      await server.stop();
    }
  },
);

browserTest(
  "the dashboard with tickets, on a phone, searched and with the keyboard help open has no serious accessibility violations",
  async (browser) => {
    const server = await newServer();
    try {
      await seed(server);
      const audit = new Audit();
      const page = await signedIn(browser, server);
      await open(page, server.url + "/dashboard?status=all");
      assert.equal(await page.locator(".ticket-card").count(), STATUSES.length);
      await audit.check(page, "the dashboard (10 tickets)");
      await open(page, server.url + "/dashboard");
      await audit.check(page, "the dashboard's unsolved view");
      // A quick change: the placeholder where the card was and the Undo offer.
      await page.click("#ticket-10-set-closed");
      await page.waitForSelector("#ticket-10.moved");
      await page.waitForSelector("#undo [data-undo]");
      await audit.check(page, "a placeholder with Undo and the Undo offer");
      await page.click('[data-layout-button="list"]');
      await page.waitForSelector("#cards[data-layout=list]");
      await audit.check(page, "the dashboard as a list");
      await page.click('[data-layout-button="grid"]');
      await page.waitForSelector("#cards[data-layout=grid]");
      await open(page, server.url + "/dashboard?status=Pending");
      await audit.check(page, "the dashboard's Pending tab");
      await open(page, server.url + "/dashboard?q=crashes");
      assert.ok(await page.locator(".ticket-card mark").count() > 0);
      await audit.check(page, "a search result");
      await open(page, server.url + "/dashboard?q=nothing-like-this");
      await audit.check(page, "a search with no result");
      await open(page, server.url + "/dashboard");
      await page.keyboard.press("?");
      await page.waitForSelector("#keys-help[open]");
      await audit.check(page, "the keyboard help dialog");
      await page.context().close();

      const phone = await signedIn(browser, server, {
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
      });
      await open(phone, server.url + "/dashboard");
      await audit.check(phone, "the dashboard on a phone (390×844)");
      await open(phone, server.url + "/tickets/2");
      await audit.check(phone, "a ticket page on a phone (390×844)");
      audit.assertNoSerious();
    } finally {
      await server.stop();
    }
  },
);

browserTest(
  "the ticket page, its description editor and the settings page have no serious accessibility violations",
  async (browser) => {
    const server = await newServer();
    try {
      await seed(server);
      const audit = new Audit();
      const page = await signedIn(browser, server);
      // Ticket 9 has two comments and a description.
      await open(page, server.url + "/tickets/9");
      assert.equal(await page.locator("#thread .comment").count(), 2);
      await audit.check(page, "the ticket page (with comments)");
      await page.click("#description-edit");
      await page.waitForSelector("#description-text");
      await audit.check(page, "the ticket page with the description editor");
      // The editor as a plain page (the no-JavaScript path to editing).
      await open(page, server.url + "/tickets/1?edit=description");
      await audit.check(page, "the description editor without JavaScript");
      await open(page, server.url + "/settings");
      await audit.check(page, "the settings page");
      await page.fill(
        "form[action='/settings/keys'] input[name=name]",
        "bad name!",
      );
      await page.click("form[action='/settings/keys'] button[type=submit]");
      await page.waitForSelector("#key-name-error");
      await audit.check(page, "the settings page with a field error");
      audit.assertNoSerious();
    } finally {
      await server.stop();
    }
  },
);

browserTest(
  "dark mode has no serious accessibility violations",
  async (browser) => {
    const server = await newServer();
    try {
      await seed(server);
      const audit = new Audit();
      const page = await signedIn(browser, server, { colorScheme: "dark" });
      await open(page, server.url + "/dashboard");
      await audit.check(page, "the dashboard (dark)");
      await open(page, server.url + "/dashboard?q=crashes");
      await audit.check(page, "a search result (dark)");
      await open(page, server.url + "/tickets/9");
      await audit.check(page, "the ticket page (dark)");
      await open(page, server.url + "/settings");
      await audit.check(page, "the settings page (dark)");
      await page.context().clearCookies();
      await open(page, server.url + "/login");
      await audit.check(page, "the login page (dark)");
      audit.assertNoSerious();
    } finally {
      await server.stop();
    }
  },
);

browserTest(
  "the requester's status page, Settings → Webhooks, its delivery log and the dashboard's webhook alert have no serious accessibility violations",
  async (browser) => {
    const secretKey = "a11y-requester-secret-0123456789abcdef0123";
    const server = await startServer({ config: { secretKey } });
    try {
      await server.store.createUser({
        username: "alice",
        passwordHash: await hashPassword(PASSWORD),
        role: "admin",
      });
      await seed(server);
      await server.store.addComment(9, "We found the cause.", {
        actor: "alice",
        visibility: "public",
      });
      await server.store.addRequesterReply(9, "Thank you, it works now.", {
        tokenVersion: 1,
      });
      const ticket = (await server.store.getTicket(9))!;
      const statusUrl = server.url +
        requesterLinks(secretKey, null).url(ticket);
      const audit = new Audit();
      for (
        const [label, options] of [
          ["", {}],
          [" on a phone (390×844)", {
            viewport: { width: 390, height: 844 },
            isMobile: true,
            hasTouch: true,
          }],
          [" (dark)", { colorScheme: "dark" as const }],
        ] as [string, BrowserContextOptions][]
      ) {
        const context = await browser.newContext({
          bypassCSP: true,
          ...options,
        });
        const page = await context.newPage();
        page.setDefaultTimeout(WAIT);
        await open(page, statusUrl);
        assert.equal(await page.locator("#replies li").count(), 2);
        await audit.check(page, `the requester's status page${label}`);
        await page.fill("#reply-body", "   ");
        await page.click("#reply-submit");
        await page.waitForSelector("#reply-error");
        await audit.check(page, `the status page with a reply error${label}`);
        await context.close();
      }
      const admin = await signedIn(browser, server);
      await open(admin, server.url + "/tickets/9");
      assert.equal(await admin.locator("#thread .comment").count(), 4);
      await audit.check(
        admin,
        "a ticket page with notes, replies and the requester's link",
      );
      const dark = await signedIn(browser, server, { colorScheme: "dark" });
      await open(dark, server.url + "/tickets/9");
      await audit.check(dark, "a ticket page with notes and replies (dark)");
      await dark.context().close();
      await open(admin, server.url + "/settings/webhooks");
      await audit.check(admin, "Settings → Webhooks, empty");
      await admin.fill("input[name=url]", "http://10.0.0.1/hook");
      await admin.click(
        "form[action='/settings/webhooks'] button[type=submit]",
      );
      await admin.waitForSelector("#webhook-url-error");
      await audit.check(admin, "Settings → Webhooks with a field error");
      await admin.fill("input[name=url]", "https://hooks.example.com/desk");
      await admin.click(
        "form[action='/settings/webhooks'] button[type=submit]",
      );
      await admin.waitForSelector("#webhook-secret");
      await audit.check(admin, "Settings → Webhooks with a new secret");
      await server.store.createTicket({
        user_id: "hooked",
        pdf_link: "https://example.com/h.pdf",
        product_id: null,
        other_ids: null,
      }, { actor: "api:mobile" });
      const [d] = await server.store.claimDeliveries({
        limit: 1,
        leaseMs: 60_000,
      });
      await server.store.finishDelivery(d!.id, {
        status_code: null,
        duration_ms: 10_000,
        error: "timed out after 10 s",
        outcome: "failed",
        disable_reason:
          "Every attempt failed: 8 over 28 h; the last one: timed out after 10 s.",
      });
      await open(admin, `${server.url}/settings/webhooks/${d!.endpoint_id}`);
      await audit.check(admin, "a webhook's delivery log");
      await open(admin, server.url + "/settings/webhooks");
      await audit.check(admin, "Settings → Webhooks with a disabled endpoint");
      await open(admin, server.url + "/dashboard");
      assert.ok(await admin.isVisible("#webhook-alert"));
      await audit.check(admin, "the dashboard with a webhook alert");
      audit.assertNoSerious();
    } finally {
      await server.stop();
    }
  },
);

browserTest(
  "on a phone, Settings, Webhooks and Reports scroll their wide tables inside them, never the page",
  async (browser) => {
    const server = await newServer();
    try {
      for (const username of ["maria", "sam"]) {
        await server.store.createUser({
          username,
          passwordHash: await hashPassword(PASSWORD),
          role: "agent",
        });
      }
      await seed(server);
      const page = await signedIn(browser, server, {
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
      });
      const wider: string[] = [];
      for (const url of ["/settings", "/settings/webhooks", "/reports"]) {
        await open(page, server.url + url);
        const w = await page.evaluate<number>(
          "document.documentElement.scrollWidth",
        );
        if (w > 390) wider.push(`${url}: ${w}px`);
      }
      assert.deepEqual(wider, []);
    } finally {
      await server.stop();
    }
  },
);
