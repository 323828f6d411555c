/** An admin's whole morning in Chromium: the dashboard's "done when" walked end to end. */
import assert from "node:assert/strict";
import type { Browser, Page } from "./playwright.ts";
import { hashPassword } from "../../lib/passwords.ts";
import { browserTest, startServer, type TestServer } from "./harness.ts";

const PASSWORD = "correct horse battery";

async function logIn(browser: Browser, server: TestServer): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(server.url + "/login");
  await page.fill("#username", "alice");
  await page.fill("#password", PASSWORD);
  await Promise.all([
    page.waitForURL("**/dashboard"),
    page.click("button[type=submit]"),
  ]);
  return page;
}

const cardIds = (page: Page) =>
  page.locator("#cards .ticket-card").evaluateAll((cards) =>
    cards.map((c) => c.id)
  );

/** Waits (up to 5 s) until the grid shows exactly these cards, in order. */
async function cardsBecome(page: Page, ids: string[]) {
  const until = Date.now() + 5000;
  let seen: string[] = [];
  while (Date.now() < until) {
    seen = await cardIds(page);
    if (JSON.stringify(seen) === JSON.stringify(ids)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(seen, ids);
}

browserTest(
  "an admin logs in, filters, searches a comment, edits a ticket, meets a conflict and triages from the keyboard",
  async (browser) => {
    const server = await startServer();
    const errors: string[] = [];
    try {
      const { store } = server;
      await store.createUser({
        username: "alice",
        passwordHash: await hashPassword(PASSWORD),
        role: "admin",
      });
      for (const user_id of ["ann", "bob", "cat", "dan", "eve"]) {
        await store.createTicket({
          user_id,
          pdf_link: "https://example.com/guide.pdf",
          product_id: "CAM-2K",
          other_ids: null,
        }, { actor: "api:mobile" });
      }
      await store.updateTicket(5, { status: "Closed" }, { actor: "api" });
      await store.addComment(2, "The zebrafish firmware fixed it", {
        actor: "api",
      });

      // Log in and see the cards, newest first.
      const page = await logIn(browser, server);
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => {
        // The conflict below is a 409 on purpose; Chromium logs every 4xx.
        if (m.type() === "error" && !/status of 409/.test(m.text())) {
          errors.push(m.text());
        }
      });
      // The unsolved view first: #5 is Closed.
      assert.deepEqual(await cardIds(page), [
        "ticket-4",
        "ticket-3",
        "ticket-2",
        "ticket-1",
      ]);

      // Filter by status: the Closed tab, in the URL.
      await page.click("#tab-closed");
      await page.waitForURL("**/dashboard?status=Closed");
      await cardsBecome(page, ["ticket-5"]);
      assert.deepEqual(await cardIds(page), ["ticket-5"]);
      await page.click("#tab-all");
      await page.waitForURL("**/dashboard?status=all");
      await cardsBecome(page, [
        "ticket-5",
        "ticket-4",
        "ticket-3",
        "ticket-2",
        "ticket-1",
      ]);

      // Search by a word that is only in a comment; the hit is highlighted.
      await page.fill("#q", "zebra");
      await page.waitForURL("**/dashboard?status=all&q=zebra");
      await cardsBecome(page, ["ticket-2"]);
      // The search marks the whole word that starts with what was typed.
      assert.equal(await page.textContent("#ticket-2 mark"), "zebrafish");

      // Open the ticket, change its status, edit the description, add a comment.
      await Promise.all([
        page.waitForURL("**/tickets/2**"),
        page.click("#ticket-2 a[data-open]"),
      ]);
      await page.click("#ticket-status-set-pending");
      await page.locator("#ticket-status .badge", { hasText: "Pending" })
        .waitFor();
      await page.click("#description-edit");
      await page.fill("#description-text", "Camera drops Wi-Fi at night.");
      await page.click("#description button[type=submit]");
      await page.locator("section#description .text", {
        hasText: "Camera drops Wi-Fi at night.",
      }).waitFor();
      await page.fill("#comment-body", "Called the customer.\nFollowing up.");
      await page.click("#comment-submit");
      await page.locator("#thread .comment", {
        hasText: "Called the customer.",
      })
        .waitFor();
      const t2 = await store.getTicket(2);
      assert.equal(t2?.status, "Pending");
      assert.equal(t2?.description, "Camera drops Wi-Fi at night.");
      assert.deepEqual(t2?.comment_list.map((c) => c.author), [
        "api",
        "alice",
      ]);

      // A second page edits the same description first: this save is a conflict.
      await page.click("#description-edit");
      await page.fill("#description-text", "Mine: replace the router.");
      const other = await logIn(browser, server);
      await other.goto(server.url + "/tickets/2");
      await other.click("#description-edit");
      await other.fill("#description-text", "Theirs: reset the camera.");
      await other.click("#description button[type=submit]");
      await other.locator("section#description .text", { hasText: "Theirs:" })
        .waitFor();
      await page.click("#description button[type=submit]");
      await page.locator("#description.conflict [role=alert]").waitFor();
      assert.match(
        await page.textContent("#description .current") ?? "",
        /Theirs: reset the camera\./,
      );
      assert.equal(
        await page.inputValue("#description-text"),
        "Mine: replace the router.",
      );
      assert.equal(
        (await store.getTicket(2))?.description,
        "Theirs: reset the camera.",
        "nothing overwritten silently",
      );
      await page.click("#description button[type=submit]"); // Save mine over it
      // The saved text, not the box that still holds it after the conflict.
      await page.locator("section#description .text", {
        hasText: "Mine: replace",
      }).waitFor();
      assert.equal(
        (await store.getTicket(2))?.description,
        "Mine: replace the router.",
      );

      // Back on the dashboard: triage three cards with j / k / p.
      await page.goto(server.url + "/dashboard?status=all");
      await page.keyboard.press("j"); // #5
      await page.keyboard.press("j"); // #4
      await page.keyboard.press("p");
      await page.locator("#ticket-4.status-pending").waitFor();
      await page.keyboard.press("j"); // #3
      await page.keyboard.press("p");
      await page.locator("#ticket-3.status-pending").waitFor();
      await page.keyboard.press("k"); // back to #4
      await page.keyboard.press("k"); // #5
      await page.keyboard.press("p");
      await page.locator("#ticket-5.status-pending").waitFor();
      for (const id of [3, 4, 5]) {
        assert.equal((await store.getTicket(id))?.status, "Pending", `#${id}`);
      }
      assert.match(await page.textContent("#tab-pending") ?? "", /Pending\s+4/);
      assert.deepEqual(errors, []);
    } finally {
      await server.stop();
    }
  },
);
