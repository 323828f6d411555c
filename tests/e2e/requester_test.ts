/**
 * The requester's status page and the agent's ticket page, in Chromium: public
 * replies reach the requester live (internal notes never do), and the
 * requester's reply reaches the agent live. Waits are for states, never time.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "./playwright.ts";
import { hashPassword } from "../../lib/passwords.ts";
import { requesterLinks } from "../../lib/requester_token.ts";
import {
  browserTest,
  logIn,
  PASSWORD,
  startServer,
  type TestServer,
} from "./harness.ts";

const SECRET_KEY = "requester-e2e-secret-0123456789abcdef0123";
const WAIT = 10_000;
const MARKER = "INTERNAL-MARKER-5d1e9c";

/** A server with agent alice and one ticket from john_doe; returns the ticket's status page URL. */
async function desk(): Promise<{ server: TestServer; statusUrl: string }> {
  const server = await startServer({ config: { secretKey: SECRET_KEY } });
  await server.store.createUser({
    username: "alice",
    passwordHash: await hashPassword(PASSWORD),
    role: "agent",
  });
  const { ticket } = await server.store.createTicket({
    user_id: "john_doe",
    pdf_link: "https://example.com/guide.pdf",
    product_id: "PROD1",
    other_ids: null,
  }, { actor: "api:mobile" });
  const path = requesterLinks(SECRET_KEY, null).url(ticket);
  return { server, statusUrl: server.url + path };
}

/** Collects uncaught errors of a page, for the tests to assert on. */
function errorsOf(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  return errors;
}

async function agentOn(
  browser: Browser,
  server: TestServer,
  path: string,
): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(WAIT);
  await logIn(page, server.url, "alice");
  await page.goto(server.url + path);
  await page.waitForSelector("#live-status[data-state=live]", {
    state: "attached",
  });
  return page;
}

async function requesterOn(browser: Browser, url: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(WAIT);
  await page.goto(url);
  await page.waitForSelector("#live-status[data-state=live]", {
    state: "attached",
  });
  return page;
}

browserTest(
  "The status page updates live when an agent replies publicly and never shows an internal note",
  async (browser) => {
    const { server, statusUrl } = await desk();
    try {
      const requester = await requesterOn(browser, statusUrl);
      const requesterErrors = errorsOf(requester);
      assert.equal(await requester.locator("#replies li").count(), 0);
      assert.ok(await requester.isVisible(".no-replies"));
      const agent = await agentOn(browser, server, "/tickets/1");
      // The internal note first (the form's default button), then a public reply.
      await agent.fill("#comment-body", `Checked the logs ${MARKER}`);
      await agent.click("#comment-submit");
      await agent.locator("#thread .comment-internal", { hasText: MARKER })
        .waitFor();
      await agent.fill("#comment-body", "Please update to version 2.1");
      await agent.click("#comment-reply");
      await agent.locator("#thread .comment-public", {
        hasText: "version 2.1",
      }).waitFor();
      // The requester's page shows the reply, live…
      await requester.locator("#replies li", { hasText: "version 2.1" })
        .waitFor();
      assert.equal(await requester.locator("#replies li").count(), 1);
      assert.ok(!(await requester.isVisible(".no-replies")));
      // …and nothing of the note sent before it, in the page or its source.
      assert.ok(!(await requester.content()).includes(MARKER));
      // A status change arrives too.
      await agent.click("#ticket-status button[value=Pending]");
      await requester.locator("#request-status .badge", { hasText: "Pending" })
        .waitFor();
      await requester.reload();
      await requester.locator("#replies li", { hasText: "version 2.1" })
        .waitFor();
      assert.ok(!(await requester.content()).includes(MARKER));
      assert.deepEqual(requesterErrors, []);
    } finally {
      await server.stop();
    }
  },
);

browserTest(
  "A requester's reply appears live on the agent's ticket page, and reopens it",
  async (browser) => {
    const { server, statusUrl } = await desk();
    try {
      await server.store.updateTicket(1, { status: "Closed" }, {
        actor: "alice",
      });
      const agent = await agentOn(browser, server, "/tickets/1");
      const agentErrors = errorsOf(agent);
      const requester = await requesterOn(browser, statusUrl);
      await requester.fill("#reply-body", "It crashed again after the update");
      await Promise.all([
        requester.waitForURL(/\?sent=1#reply-\d+$/),
        requester.click("#reply-submit"),
      ]);
      await requester.locator("#replies li.reply-mine", {
        hasText: "crashed again",
      }).waitFor();
      const reply = agent.locator("#thread .comment", {
        hasText: "crashed again",
      });
      await reply.waitFor();
      assert.match(await reply.innerText(), /Requester's reply/i);
      await agent.locator("#ticket-status .badge", { hasText: "Open" })
        .waitFor();
      assert.deepEqual(agentErrors, []);
    } finally {
      await server.stop();
    }
  },
);

browserTest(
  "The status page works without JavaScript: read, reply, see the reply",
  async (browser) => {
    const { server, statusUrl } = await desk();
    try {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT);
      await page.goto(statusUrl);
      await page.fill("#reply-body", "Sent from a plain web view");
      await Promise.all([
        page.waitForURL(/\?sent=1#reply-\d+$/),
        page.click("#reply-submit"),
      ]);
      assert.ok(await page.isVisible("text=Reply sent."));
      assert.ok(
        await page.isVisible("#replies li >> text=Sent from a plain web view"),
      );
      await context.close();
    } finally {
      await server.stop();
    }
  },
);
