/**
 * Keyboard triage under races: keys typed faster than the page can follow
 * still act, in order, on the card the admin meant.
 */
import assert from "node:assert/strict";
import type { Browser, Page, Route } from "./playwright.ts";
import { hashPassword } from "../../lib/passwords.ts";
import type { Status } from "../../db/store.ts";
import { browserTest, startServer, type TestServer } from "./harness.ts";

const PASSWORD = "correct horse battery";

/** A server with five open tickets (#5 on top) and an admin signed in on the dashboard. */
async function deskWithFive(
  browser: Browser,
): Promise<{ server: TestServer; page: Page; errors: string[] }> {
  const server = await startServer();
  await server.store.createUser({
    username: "alice",
    passwordHash: await hashPassword(PASSWORD),
    role: "admin",
  });
  for (const user_id of ["ann", "bob", "cat", "dan", "eve"]) {
    await server.store.createTicket({
      user_id,
      pdf_link: "https://example.com/guide.pdf",
      product_id: "CAM-2K",
      other_ids: null,
    }, { actor: "api:mobile" });
  }
  const page = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(server.url + "/login");
  await page.fill("#username", "alice");
  await page.fill("#password", PASSWORD);
  await Promise.all([
    page.waitForURL("**/dashboard"),
    page.click("button[type=submit]"),
  ]);
  // Every status, so a Closed card stays where it is (the unsolved view would
  // put a placeholder in its place: tests/e2e/workspace_test.ts).
  await page.goto(server.url + "/dashboard?status=all");
  return { server, page, errors };
}

async function statuses(server: TestServer): Promise<Record<number, Status>> {
  const out: Record<number, Status> = {};
  for (let id = 1; id <= 5; id++) {
    out[id] = (await server.store.getTicket(id))!.status;
  }
  return out;
}

/**
 * Holds the dashboard's status POSTs until `release()`: the requests reach the
 * server only then, so every key typed before it lands while they are in flight.
 */
async function holdStatusPosts(page: Page) {
  const held: Route[] = [];
  let open = false;
  let arrived = () => {};
  await page.route("**/tickets/*/status", async (route) => {
    if (open) return await route.continue();
    held.push(route);
    arrived();
  });
  return {
    /** Resolves once `n` requests are being held. */
    async waitFor(n: number) {
      while (held.length < n) {
        await new Promise<void>((r) => (arrived = r));
      }
    },
    async release() {
      open = true;
      for (const route of held.splice(0)) await route.continue();
    },
  };
}

const activeId = (page: Page) =>
  page.evaluate<string>("document.activeElement?.id ?? ''");

browserTest(
  "status keys typed before htmx has started wait for it, and j after them moves on from that card",
  async (browser) => {
    const { server, page, errors } = await deskWithFive(browser);
    try {
      // htmx starts itself on a timer once the page is interactive; on a busy
      // machine keys arrive first. Hold that timer to make the wait as long as
      // it takes to type.
      await page.addInitScript(`(() => {
        const setTimer = window.setTimeout;
        window.setTimeout = function (fn, ...rest) {
          if (!window.__startHtmx && typeof fn === "function" &&
              /\\binitialize\\(/.test(String(fn))) {
            window.__startHtmx = () => setTimer(fn);
            return 0;
          }
          return setTimer.call(this, fn, ...rest);
        };
      })()`);
      await page.goto(server.url + "/dashboard?status=all");
      await page.evaluate("window.__samePage = true");
      assert.equal(
        await page.evaluate<string>("typeof window.__startHtmx"),
        "function",
        "htmx's start was held",
      );

      for (const key of ["j", "j", "p", "j", "p", "j", "c"]) {
        await page.keyboard.press(key); // #5, #4 Pending, #3 Pending, #2 Closed
      }
      await page.evaluate("window.__startHtmx()");

      await page.locator("#ticket-2.status-closed").waitFor();
      await page.locator("#ticket-3.status-pending").waitFor();
      await page.locator("#ticket-4.status-pending").waitFor();
      assert.deepEqual(await statuses(server), {
        1: "Open",
        2: "Closed",
        3: "Pending",
        4: "Pending",
        5: "Open",
      });
      assert.equal(
        await page.evaluate("window.__samePage"),
        true,
        "no key made the browser submit a form itself and reload the page",
      );
      assert.equal(await activeId(page), "ticket-2");
      assert.deepEqual(errors, []);
    } finally {
      await server.stop();
    }
  },
);

browserTest(
  "p j p j c typed while each change is still in flight gives every ticket the status meant, in order",
  async (browser) => {
    const { server, page, errors } = await deskWithFive(browser);
    try {
      const posts = await holdStatusPosts(page);
      await page.keyboard.press("j"); // #5
      await page.keyboard.press("j"); // #4
      await page.keyboard.press("p");
      await posts.waitFor(1);
      // Typed while #4's change is in flight and before its card is swapped.
      for (const key of ["j", "p", "j", "c"]) await page.keyboard.press(key);
      assert.equal(await activeId(page), "ticket-2");
      await posts.release();

      await page.locator("#ticket-2.status-closed").waitFor();
      await page.locator("#ticket-3.status-pending").waitFor();
      await page.locator("#ticket-4.status-pending").waitFor();
      assert.deepEqual(await statuses(server), {
        1: "Open",
        2: "Closed",
        3: "Pending",
        4: "Pending",
        5: "Open",
      });
      // The swaps of #4 and #3 did not pull focus back from where the admin went.
      assert.equal(await activeId(page), "ticket-2");
      assert.deepEqual(errors, []);
    } finally {
      await server.stop();
    }
  },
);

browserTest(
  "a second status key on a card whose first change is still in flight applies after it",
  async (browser) => {
    const { server, page, errors } = await deskWithFive(browser);
    try {
      const posts = await holdStatusPosts(page);
      await page.keyboard.press("j"); // #5
      await page.keyboard.press("j"); // #4
      await page.keyboard.press("p");
      await posts.waitFor(1);
      await page.keyboard.press("c"); // changed her mind: Closed after all
      await posts.release();

      await page.locator("#ticket-4.status-closed").waitFor();
      assert.equal((await server.store.getTicket(4))?.status, "Closed");
      const card = page.locator("#ticket-4");
      assert.equal(await card.locator(".notice").count(), 0, "no conflict");
      assert.equal(await activeId(page), "ticket-4");
      assert.deepEqual(errors, []);
    } finally {
      await server.stop();
    }
  },
);
