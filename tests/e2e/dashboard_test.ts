import assert from "node:assert/strict";
import type { Page } from "./playwright.ts";
import { hashPassword } from "../../lib/passwords.ts";
import { relativeTime } from "../../views/relative_time.ts";
import { browserTest, startServer, type TestServer } from "./harness.ts";

async function signedIn(server: TestServer, page: Page) {
  await server.store.createUser({
    username: "alice",
    passwordHash: await hashPassword("correct horse battery"),
    role: "admin",
  });
  await page.goto(server.url + "/login");
  await page.fill("input[name=username]", "alice");
  await page.fill("input[name=password]", "correct horse battery");
  await Promise.all([
    page.waitForURL("**/dashboard"),
    page.click("button[type=submit]"),
  ]);
}

const activeId = (page: Page) =>
  page.evaluate<string>("document.activeElement?.id ?? ''");

browserTest(
  "the dashboard works from the keyboard and keeps focus through swaps, with no console errors",
  async (browser) => {
    const server = await startServer();
    try {
      for (const user_id of ["ann", "bob", "cat"]) {
        await server.store.createTicket({
          user_id,
          pdf_link: "https://example.com/a.pdf",
          product_id: "PROD1",
          other_ids: null,
        }, { actor: "api" });
      }
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      page.on("pageerror", (e) => errors.push(e.message));
      await signedIn(server, page);

      // A quick status button swaps just its card; focus stays on the button.
      await page.click("#ticket-3-set-pending");
      await page.waitForSelector("#ticket-3.status-pending");
      assert.equal(await activeId(page), "ticket-3-set-pending");

      // j moves to the next card, c closes it: it leaves the unsolved view,
      // and focus stays on the placeholder in its place.
      await page.keyboard.press("j");
      assert.equal(await activeId(page), "ticket-2");
      await page.keyboard.press("c");
      await page.waitForSelector("#ticket-2.moved");
      assert.equal(await activeId(page), "ticket-2");
      assert.equal((await server.store.getTicket(2))?.status, "Closed");
      assert.match(await page.textContent("#tab-closed") ?? "", /Closed\s+1/);
      assert.match(await page.textContent("#tab-open") ?? "", /Open\s+1/);

      // ? opens the help, Escape closes it.
      await page.keyboard.press("?");
      assert.ok(await page.isVisible("#keys-help"));
      await page.keyboard.press("Escape");
      assert.ok(!(await page.isVisible("#keys-help")));

      // / focuses the search; typing filters the board (all statuses: #2 is
      // Closed now) and replaces the URL.
      await page.click("#tab-all");
      await page.waitForURL("**/dashboard?status=all");
      await page.keyboard.press("/");
      assert.equal(await activeId(page), "q");
      await page.keyboard.type("bo");
      await page.waitForURL("**/dashboard?status=all&q=bo");
      await page.locator(".ticket-card").nth(1).waitFor({ state: "detached" });
      assert.equal(await page.locator(".ticket-card").count(), 1);
      assert.equal(await page.textContent("#ticket-2 mark"), "bo");
      // Typing "c" in the search box is text, not a shortcut.
      await page.keyboard.type("c");
      assert.equal(await page.inputValue("#q"), "boc");
      assert.equal((await server.store.getTicket(2))?.status, "Closed");

      // Enter on a focused card opens its page; the back link keeps the filter.
      await page.goto(server.url + "/dashboard?status=Open");
      await page.keyboard.press("j");
      await Promise.all([
        page.waitForURL("**/tickets/1"),
        page.keyboard.press("Enter"),
      ]);
      assert.equal(
        await page.getAttribute("#back-link", "href"),
        "/dashboard?status=Open",
      );
      assert.deepEqual(errors, []);
    } finally {
      await server.stop();
    }
  },
);

browserTest(
  "relative times are kept fresh in the browser with the words the server would write",
  async (browser) => {
    const server = await startServer();
    try {
      await server.store.createTicket({
        user_id: "ann",
        pdf_link: "https://example.com/a.pdf",
        product_id: null,
        other_ids: null,
      }, { actor: "api" });
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      // Time flows as usual while the page loads; the test moves it on after.
      await page.clock.install();
      await signedIn(server, page);
      const time = page.locator("#ticket-1 time[data-relative]");
      assert.equal(await time.textContent(), "just now");
      const iso = (await time.getAttribute("datetime"))!;
      for (
        const [later, said] of [
          [2 * 3600 + 600, "2 hours ago"],
          [9 * 86400, "last week"],
        ] as const
      ) {
        // Jumps there and stops the clock: the page's minute timer fires once.
        const at = new Date(Date.parse(iso) + later * 1000);
        await page.clock.pauseAt(at);
        assert.equal(relativeTime(iso, at), said);
        await page.locator(`#ticket-1 time:text-is("${said}")`).waitFor();
      }
      assert.deepEqual(errors, []);
      await context.close();
    } finally {
      await server.stop();
    }
  },
);
