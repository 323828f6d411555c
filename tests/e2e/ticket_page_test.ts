/**
 * The ticket page as the agent's workspace, in Chromium (issue #16): j / k
 * through the list it was opened from, Shift+O / P / C that set the status
 * and move on, Ctrl+Enter and Esc in the boxes, a timeline that stays current
 * while the agent types, drafts that survive a reload, the comments-only
 * switch, the phone layout and axe.
 */
import assert from "node:assert/strict";
import { seriousViolations } from "./axe.ts";
import type { Browser, BrowserContextOptions, Page } from "./playwright.ts";
import type { NewTicket } from "../../db/store.ts";
import { hashPassword } from "../../lib/passwords.ts";
import {
  browserTest,
  logIn,
  PASSWORD,
  startServer,
  type TestServer,
  until,
} from "./harness.ts";

const WAIT = 15_000;

interface Desk {
  server: TestServer;
  /** Signs alice in, in a fresh context, and opens `path` (live). */
  open(path: string, options?: BrowserContextOptions): Promise<Page>;
  create(overrides?: Partial<NewTicket>): Promise<number>;
}

async function withDesk(browser: Browser, fn: (d: Desk) => Promise<void>) {
  const server = await startServer();
  const errors: string[] = [];
  try {
    await server.store.createUser({
      username: "alice",
      passwordHash: await hashPassword(PASSWORD),
      role: "admin",
    });
    await fn({
      server,
      async open(path, options = {}) {
        const context = await browser.newContext(options);
        const page = await context.newPage();
        page.setDefaultTimeout(WAIT);
        page.on("pageerror", (e) => errors.push(String(e)));
        await logIn(page, server.url, "alice");
        await page.goto(server.url + path);
        await live(page);
        return page;
      },
      async create(overrides = {}) {
        const { ticket } = await server.store.createTicket({
          user_id: "customer",
          pdf_link: "https://example.com/guide.pdf",
          product_id: null,
          other_ids: null,
          ...overrides,
        }, { actor: "api:mobile" });
        return ticket.id;
      },
    });
    assert.deepEqual(errors, [], "no script errors");
  } finally {
    await server.stop();
  }
}

/** Waits until the page's stream is live (its scripts have run). */
async function live(page: Page): Promise<void> {
  await page.waitForSelector("#live-status[data-state=live]", {
    state: "attached",
  });
}

/** The number of the ticket the page shows. */
function shown(page: Page): Promise<number> {
  return page.evaluate<number>(
    `Number(document.querySelector("h1")?.textContent.match(/\\d+/)?.[0])`,
  );
}

/** Presses `key` on the page and waits for the next ticket page to be live. */
async function pressAndLand(page: Page, key: string, id: number) {
  await Promise.all([
    page.waitForURL(new RegExp(`/tickets/${id}(\\?|$)`)),
    page.keyboard.press(key),
  ]);
  await live(page);
  assert.equal(await shown(page), id);
}

browserTest(
  "j and k walk a filtered list from its ticket pages, say so at its ends, and follow the board's own order when it left one",
  async (browser) => {
    await withDesk(browser, async (d) => {
      const cams: number[] = [];
      for (let i = 0; i < 6; i++) {
        const id = await d.create({
          product_id: i % 2 ? "CAM-2K" : "ROUTER-AX3",
        });
        if (i % 2) cams.push(id);
      }
      // Newest first among the cameras: cams reversed.
      const order = [...cams].reverse();
      const back = "/dashboard?status=all&product=cam";
      const page = await d.open(
        `/tickets/${order[0]}?back=${encodeURIComponent(back)}`,
      );
      assert.equal(
        await page.textContent("#ticket-prev"),
        "First in this list",
      );
      await page.keyboard.press("k");
      await until(
        page,
        `document.getElementById("ticket-nav-status").textContent.includes("first ticket")`,
      );
      await pressAndLand(page, "j", order[1]!);
      await pressAndLand(page, "j", order[2]!);
      // The last one: j says so, and nothing else happens.
      await page.keyboard.press("j");
      await until(
        page,
        `document.getElementById("ticket-nav-status").textContent === "This is the last ticket in this list."`,
      );
      assert.equal(await shown(page), order[2]);
      assert.equal(
        new URL(page.url()).searchParams.get("back"),
        back,
        "the way back is kept",
      );
      await pressAndLand(page, "k", order[1]!);
      // Keys typed into a box are text, not moves.
      await page.fill("#comment-body", "");
      await page.focus("#comment-body");
      await page.keyboard.type("jk");
      assert.equal(await page.inputValue("#comment-body"), "jk");
      assert.equal(await shown(page), order[1]);

      // Opened from the board, whose order it left behind: j follows it,
      // then the page's own link past the last card it had loaded.
      const board = [order[2]!, order[0]!];
      await page.evaluate(
        `sessionStorage.setItem("desk:list", JSON.stringify(${
          JSON.stringify({ back, ids: board })
        }))`,
      );
      await page.goto(
        `${d.server.url}/tickets/${board[0]}?back=${encodeURIComponent(back)}`,
      );
      await live(page);
      await pressAndLand(page, "j", board[1]!);
      await pressAndLand(page, "j", order[1]!);
    });
  },
);

browserTest(
  "Shift+C closes the ticket and opens the next one with the Undo; a conflict stays on the ticket and says why",
  async (browser) => {
    await withDesk(browser, async (d) => {
      const ids = [await d.create(), await d.create(), await d.create()];
      const page = await d.open(`/tickets/${ids[2]}`);
      await pressAndLand(page, "Shift+C", ids[1]!);
      assert.equal((await d.server.store.getTicket(ids[2]!))?.status, "Closed");
      // The Undo of the change came along, and takes the agent back to it.
      await page.waitForSelector(`#undo >> text=Closed #${ids[2]}`);
      await Promise.all([
        page.waitForURL(new RegExp(`/tickets/${ids[2]}(\\?|$)`)),
        page.click("#undo [data-undo]"),
      ]);
      assert.equal((await d.server.store.getTicket(ids[2]!))?.status, "Open");

      // Someone sets it Pending behind the page's back: Shift+O is refused.
      await page.goto(`${d.server.url}/tickets/${ids[1]}`);
      await live(page);
      // The page must not hear of it before the key: its refetches fail from
      // now on, so the panel keeps showing Open, version 1.
      await page.route("**/tickets/*/latest*", (r) => r.abort());
      await d.server.store.updateTicket(ids[1]!, { status: "Pending" }, {
        actor: "api:mobile",
      });
      await page.keyboard.press("Shift+O");
      await page.waitForSelector("#ticket-status [role=alert]");
      assert.match(
        await page.textContent("#ticket-status [role=alert]") ?? "",
        /is now Pending/,
      );
      assert.equal(await shown(page), ids[1]);
      assert.equal(
        (await d.server.store.getTicket(ids[1]!))?.status,
        "Pending",
      );
    });
  },
);

browserTest(
  "Ctrl+Enter adds the comment as an internal note, and Esc cancels the description editor",
  async (browser) => {
    await withDesk(browser, async (d) => {
      const id = await d.create();
      const page = await d.open(`/tickets/${id}`);
      await page.fill("#comment-body", "Checked the logs");
      await page.focus("#comment-body");
      await page.keyboard.press("Control+Enter");
      await page.locator("#timeline .comment-internal", {
        hasText: "Checked the logs",
      }).waitFor();
      assert.equal(await page.inputValue("#comment-body"), "");
      const t = (await d.server.store.getTicket(id))!;
      assert.deepEqual(
        t.comment_list.map((c) => [c.body, c.visibility]),
        [["Checked the logs", "internal"]],
      );

      await page.click("#description-edit");
      await page.waitForSelector("#description-text");
      await page.fill("#description-text", "half a thought");
      await page.keyboard.press("Escape");
      await page.waitForSelector("#description-edit");
      assert.equal(await page.locator("#description-text").count(), 0);
      assert.equal((await d.server.store.getTicket(id))?.description, "");
      // Cancelled is discarded: a reload opens no editor.
      await page.reload();
      await live(page);
      await page.waitForSelector("#description-edit");
      assert.equal(await page.locator("#description-text").count(), 0);
    });
  },
);

browserTest(
  "a colleague's comment and status change arrive live while the agent types, and the draft is untouched",
  async (browser) => {
    await withDesk(browser, async (d) => {
      const id = await d.create();
      const page = await d.open(`/tickets/${id}`);
      await page.focus("#comment-body");
      await page.keyboard.type("I am halfway through");
      await d.server.store.addComment(id, "li was here first", {
        actor: "li",
      });
      await d.server.store.updateTicket(id, { status: "Pending" }, {
        actor: "li",
      });
      await page.locator("#timeline .comment", { hasText: "li was here first" })
        .waitFor();
      await until(
        page,
        `document.querySelector("#ticket-status .badge")?.textContent.includes("Pending")`,
      );
      await until(
        page,
        `document.getElementById("timeline").textContent.includes("changed the status from Open to Pending")`,
      );
      // Above the reply box, in order, and the box as it was, still focused.
      const order = await page.evaluate<boolean>(`(() => {
        const items = [...document.querySelectorAll("#timeline > li")];
        const form = document.getElementById("comment-form");
        return items.at(-1).textContent.includes("Pending") &&
          items.every((li) => li.compareDocumentPosition(form) & Node.DOCUMENT_POSITION_FOLLOWING);
      })()`);
      assert.ok(order, "the newest entries come last, above the box");
      assert.equal(
        await page.inputValue("#comment-body"),
        "I am halfway through",
      );
      assert.equal(
        await page.evaluate<string>("document.activeElement?.id"),
        "comment-body",
      );
      // Said once, politely.
      await until(
        page,
        `document.getElementById("thread-news").textContent.includes("li")`,
      );
      assert.equal(
        await page.getAttribute("#thread-news", "role"),
        "status",
      );
      await page.keyboard.type(" and more");
      assert.equal(
        await page.inputValue("#comment-body"),
        "I am halfway through and more",
      );
    });
  },
);

browserTest(
  "drafts survive a reload, and Show the latest compares instead of throwing the description draft away",
  async (browser) => {
    await withDesk(browser, async (d) => {
      const id = await d.create();
      await d.server.store.updateTicket(
        id,
        { description: "Screen is blank" },
        {
          actor: "api:mobile",
        },
      );
      const page = await d.open(`/tickets/${id}`);
      await page.fill("#comment-body", "A comment not sent yet");
      await page.click("#description-edit");
      await page.waitForSelector("#description-text");
      await page.fill("#description-text", "Screen is blank after the update");
      await page.reload();
      await live(page);
      await until(
        page,
        `document.getElementById("description-text")?.value === "Screen is blank after the update"`,
      );
      assert.equal(
        await page.inputValue("#comment-body"),
        "A comment not sent yet",
      );

      // Someone edits the description meanwhile: the editor stays, says so,
      // and Show the latest puts the current text beside the draft.
      await d.server.store.updateTicket(id, {
        description: "Blank screen, also on Android",
      }, { actor: "li" });
      await page.waitForSelector("#live-banner >> text=changed by li");
      assert.equal(
        await page.inputValue("#description-text"),
        "Screen is blank after the update",
      );
      await page.click("#show-latest");
      await page.waitForSelector("#description.conflict");
      assert.equal(
        await page.textContent("#description .current"),
        "Blank screen, also on Android",
      );
      assert.equal(
        await page.inputValue("#description-text"),
        "Screen is blank after the update",
      );
      assert.equal(
        await page.inputValue("#comment-body"),
        "A comment not sent yet",
      );
      // Saved: the draft goes, and a reload opens no editor.
      await page.click("#description button[type=submit]");
      await page.waitForSelector("#description .saved");
      assert.equal(
        (await d.server.store.getTicket(id))?.description,
        "Screen is blank after the update",
      );
      await page.reload();
      await live(page);
      assert.equal(
        await page.inputValue("#comment-body"),
        "A comment not sent yet",
      );
      assert.equal(await page.locator("#description-text").count(), 0);

      // A draft begun on a text that changed while the page was closed opens as a comparison.
      await page.click("#description-edit");
      await page.waitForSelector("#description-text");
      await page.fill("#description-text", "My offline edit");
      await page.goto("about:blank");
      await d.server.store.updateTicket(id, { description: "li again" }, {
        actor: "li",
      });
      await page.goto(`${d.server.url}/tickets/${id}`);
      await live(page);
      await page.waitForSelector("#description.conflict");
      assert.equal(await page.textContent("#description .current"), "li again");
      assert.equal(
        await page.inputValue("#description-text"),
        "My offline edit",
      );
      // Posting the comment clears its draft.
      await page.click("#comment-submit");
      await page.locator("#timeline .comment", {
        hasText: "A comment not sent yet",
      }).waitFor();
      await page.reload();
      await live(page);
      assert.equal(await page.inputValue("#comment-body"), "");
    });
  },
);

browserTest(
  "one timeline, oldest first down to the reply box, and a comments-only switch that is remembered",
  async (browser) => {
    await withDesk(browser, async (d) => {
      const id = await d.create();
      const s = d.server.store;
      await s.addComment(id, "first note", { actor: "li" });
      await s.updateTicket(id, { status: "Pending" }, { actor: "li" });
      await s.addComment(id, "Fixed in 2.1", {
        actor: "li",
        visibility: "public",
      });
      const page = await d.open(`/tickets/${id}`);
      const entries = () =>
        page.evaluate<string[]>(
          `[...document.querySelectorAll("#timeline > li")].filter((li) => li.offsetParent !== null).map((li) => li.className.split(" ")[0])`,
        );
      assert.deepEqual(await entries(), [
        "event",
        "comment",
        "event",
        "comment",
      ]);
      assert.match(
        await page.textContent("#timeline > li:nth-child(2)") ?? "",
        /Internal note/,
      );
      assert.match(
        await page.textContent("#timeline > li:nth-child(4)") ?? "",
        /Public reply/,
      );
      await page.click("#thread-filter");
      assert.deepEqual(await entries(), ["comment", "comment"]);
      assert.equal(
        await page.getAttribute("#thread-filter", "aria-pressed"),
        "true",
      );
      assert.match(page.url(), /thread=comments/);
      // Remembered on another ticket, and a live change keeps the choice.
      const other = await d.create();
      await page.goto(`${d.server.url}/tickets/${other}`);
      await live(page);
      await s.addComment(other, "hello", { actor: "li" });
      await page.locator("#timeline .comment", { hasText: "hello" }).waitFor();
      assert.deepEqual(await entries(), ["comment"]);
      await page.focus("#thread-filter");
      await page.keyboard.press(" ");
      assert.deepEqual(await entries(), ["event", "comment"]);
    });
  },
);

browserTest(
  "on a phone (390×844) the status controls come before the timeline and nothing scrolls sideways; the conflict view heads its parts in size order",
  async (browser) => {
    await withDesk(browser, async (d) => {
      const id = await d.create({
        other_ids: "ORDER-1234567890123456789012345678901234567890",
      });
      await d.server.store.updateTicket(id, {
        description: "A-very-long-word-".repeat(20),
      }, { actor: "api:mobile" });
      await d.server.store.addComment(id, "https://example.com/".repeat(8), {
        actor: "li",
      });
      const page = await d.open(`/tickets/${id}`, {
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
      });
      const top = (sel: string) =>
        page.evaluate<number>(
          `document.querySelector(${
            JSON.stringify(sel)
          }).getBoundingClientRect().top`,
        );
      assert.ok(
        await top("#ticket-status") < await top("#thread"),
        "status first",
      );
      assert.ok(
        await top("#ticket-status-set-closed") < 844,
        "the status buttons are on the first screen",
      );
      assert.equal(
        await page.evaluate<number>(
          "document.documentElement.scrollWidth - document.documentElement.clientWidth",
        ),
        0,
        "no horizontal scroll",
      );

      // The description conflict view: "Current description" is no bigger than "Description".
      await page.click("#description-edit");
      await page.waitForSelector("#description-text");
      await d.server.store.updateTicket(id, { description: "changed" }, {
        actor: "li",
      });
      await page.fill("#description-text", "mine");
      await page.click("#description button[type=submit]");
      await page.waitForSelector("#description.conflict");
      const [h2, h3] = await page.evaluate<number[]>(
        `["#description h2", "#description h3"].map((s) => parseFloat(getComputedStyle(document.querySelector(s)).fontSize))`,
      );
      assert.ok(h3! < h2!, `h3 ${h3}px under h2 ${h2}px`);
      assert.equal(
        await page.evaluate<number>(
          "document.documentElement.scrollWidth - document.documentElement.clientWidth",
        ),
        0,
      );
    });
  },
);

browserTest(
  "the ticket page's timeline, switch, links and conflict view have no serious accessibility violations, light and dark",
  async (browser) => {
    await withDesk(browser, async (d) => {
      const ids = [await d.create(), await d.create(), await d.create()];
      const id = ids[1]!;
      const s = d.server.store;
      await s.updateTicket(id, { description: "It crashes" }, { actor: "li" });
      await s.addComment(id, "looking", { actor: "li" });
      await s.addComment(id, "Fixed", { actor: "li", visibility: "public" });
      const found: string[] = [];
      for (const colorScheme of ["light", "dark"] as const) {
        const page = await d.open(`/tickets/${id}`, {
          bypassCSP: true,
          colorScheme,
        });
        const check = async (screen: string) => {
          for (const v of await seriousViolations(page)) {
            found.push(`${colorScheme} ${screen}: ${v}`);
          }
        };
        await check("ticket page");
        await page.click("#thread-filter");
        await check("comments only");
        await page.keyboard.press("j");
        await page.waitForURL(new RegExp(`/tickets/${ids[0]}`));
        await live(page);
        await page.keyboard.press("j");
        await page.waitForSelector("#ticket-nav-status:not(:empty)");
        await check("the end of the list announced");
        await page.click("#description-edit");
        await page.waitForSelector("#description-text");
        await s.updateTicket(ids[0]!, { description: `li's, ${colorScheme}` }, {
          actor: "li",
        });
        await page.waitForSelector("#live-banner");
        await check("the description changed under the editor");
        await page.click("#show-latest");
        await page.waitForSelector("#description.conflict");
        await check("the comparison");
        await page.context().close();
      }
      assert.deepEqual(found, []);
    });
  },
);
