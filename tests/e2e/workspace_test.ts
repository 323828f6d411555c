/**
 * The agent workspace in Chromium (issue #16): a day's triage by keyboard
 * alone across pages and ticket pages, Undo (eight seconds, `u`), the queue
 * shrinking in the unsolved view and on a colleague's screen, the list view
 * as each agent's choice, search keys, and the phone.
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "./playwright.ts";
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

async function withDesk(
  fn: (server: TestServer, ids: number[]) => Promise<void>,
  tickets = 3,
) {
  const server = await startServer();
  try {
    for (const username of ["alice", "bob"]) {
      await server.store.createUser({
        username,
        passwordHash: await hashPassword(PASSWORD),
        role: "agent",
      });
    }
    const ids: number[] = [];
    for (let i = 0; i < tickets; i++) {
      const { ticket } = await server.store.createTicket({
        user_id: `customer_${i + 1}`,
        pdf_link: "https://example.com/a.pdf",
        product_id: i % 2 ? "ROUTER-AX3" : "CAM-2K",
        other_ids: null,
      }, { actor: "api:app" });
      ids.push(ticket.id);
    }
    await fn(server, ids);
  } finally {
    await server.stop();
  }
}

async function signIn(
  browser: Browser,
  server: TestServer,
  username: string,
  options: Parameters<Browser["newContext"]>[0] = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await logIn(page, server.url, username);
  await page.waitForSelector("#live-status[data-state=live]", {
    state: "attached",
  });
  return { context, page };
}

const focusedCard =
  `document.activeElement?.closest(".ticket-card")?.dataset.ticketId`;

browserTest(
  "an agent triages 60 tickets by keyboard alone, past the first page and back from ticket pages",
  async (browser) => {
    await withDesk(async (server, ids) => {
      const { context, page } = await signIn(browser, server, "alice");
      try {
        // Newest first: the board shows the last 50, "more" has the rest.
        const order = [...ids].reverse();
        assert.equal(await page.locator(".ticket-card").count(), 50);
        const done = new Map<number, string>();
        await page.keyboard.press("j");
        for (const [i, id] of order.entries()) {
          await until(page, `${focusedCard} === "${id}"`);
          if (i % 20 === 7) {
            // Open it, read it, come back: the same card has focus again.
            await page.keyboard.press("Enter");
            await page.waitForURL(`**/tickets/${id}**`);
            await page.waitForSelector("#ticket-status");
            await page.goBack();
            await page.waitForURL("**/dashboard**");
            await until(page, `${focusedCard} === "${id}"`);
          }
          if (i === 3) {
            // A stray c: one key away from undone.
            await page.keyboard.press("c");
            await until(
              page,
              `document.querySelector("#ticket-${id}.moved") && document.querySelector("#undo [data-undo]")`,
            );
            await page.keyboard.press("u");
            await until(
              page,
              `document.querySelector("#ticket-${id}:not(.moved) #ticket-${id}-set-open[aria-pressed=true]")`,
            );
            // Focus comes back to the card (the key works on it again).
            await page.locator(`#ticket-${id}`).focus();
          }
          const key = i % 3 === 0 ? "c" : i % 3 === 1 ? "p" : "3";
          await page.keyboard.press(key);
          if (key === "c") {
            // Closed leaves the unsolved view: a placeholder in its place,
            // and the words a screen reader says.
            await until(page, `document.querySelector("#ticket-${id}.moved")`);
            await until(
              page,
              `document.getElementById("announcer")?.textContent === "Ticket ${id} moved to Closed"`,
            );
            done.set(id, "Closed");
          } else if (key === "p") {
            await until(
              page,
              `document.querySelector("#ticket-${id}-set-pending[aria-pressed=true]")`,
            );
            done.set(id, "Pending");
          } else {
            await until(
              page,
              `document.querySelector("#ticket-${id} [data-priority-select]")?.value === "High"`,
            );
            done.set(id, "High");
          }
          if (i < order.length - 1) await page.keyboard.press("j");
        }
        // The last change is saved and said ("Ticket N is Open") before the
        // last j, whose answer would otherwise be said over.
        await until(
          page,
          `document.getElementById("announcer")?.textContent.startsWith("Ticket ${
            order.at(-1)
          } is")`,
        );
        // The last j had nothing left to load: it says so.
        await page.keyboard.press("j");
        await until(
          page,
          `document.getElementById("announcer")?.textContent.includes("last ticket")`,
        );
        for (const [id, what] of done) {
          const t = (await server.store.getTicket(id))!;
          if (what === "High") {
            assert.equal(t.priority, "High", `#${id}`);
            assert.equal(t.status, "Open", `#${id}`);
          } else assert.equal(t.status, what, `#${id}`);
        }
        assert.equal(done.size, 60);
        // The unsolved count followed: 20 closed, 40 left.
        await until(
          page,
          `document.getElementById("count-unsolved")?.textContent === "40"`,
        );
      } finally {
        await context.close();
      }
    }, 60);
  },
);

browserTest(
  "Undo lasts eight seconds, says so when a colleague changed the ticket meanwhile, and the queue shrinks on every screen",
  async (browser) => {
    await withDesk(async (server, ids) => {
      const alice = await signIn(browser, server, "alice");
      const bob = await signIn(browser, server, "bob");
      try {
        const [a, b] = [ids[2]!, ids[1]!];
        await alice.page.clock.install();
        // alice closes one: her board shows a placeholder with Undo, and the offer.
        await alice.page.click(`#ticket-${a}-set-closed`);
        await alice.page.waitForSelector(
          `#ticket-${a}.moved >> text=#${a} moved to Closed`,
        );
        await alice.page.waitForSelector(`#undo >> text=Closed #${a}`);
        // bob's unsolved board loses it too, saying who moved it.
        await bob.page.waitForSelector(
          `#ticket-${a}.moved >> text=#${a} moved to Closed by alice`,
        );
        await until(
          bob.page,
          `document.getElementById("count-unsolved")?.textContent === "2"`,
        );
        // Eight seconds later the offer and the placeholder are gone.
        await alice.page.mouse.move(0, 0);
        await alice.page.evaluate("document.activeElement?.blur()");
        await alice.page.clock.runFor(9000);
        await until(
          alice.page,
          `!document.querySelector("#undo [data-undo]") && !document.getElementById("ticket-${a}")`,
        );

        // alice sets one Pending; bob closes it meanwhile; her Undo says so.
        await alice.page.click(`#ticket-${b}-set-pending`);
        await alice.page.waitForSelector(`#undo >> text=Pending #${b}`);
        // bob closes it once his screen shows it Pending, as a person would:
        // a click on the card as it was is a conflict, which changes nothing.
        await bob.page.waitForSelector(
          `#ticket-${b}-set-pending[aria-pressed=true]`,
        );
        await bob.page.click(`#ticket-${b}-set-closed`);
        await until(
          alice.page,
          `document.querySelector("#ticket-${b}.moved")`,
        );
        await alice.page.click("#undo [data-undo]");
        await alice.page.waitForSelector(
          `text=Not undone: ticket ${b} was changed meanwhile (its status is now Closed).`,
        );
        assert.equal((await server.store.getTicket(b))?.status, "Closed");
      } finally {
        await alice.context.close();
        await bob.context.close();
      }
    });
  },
);

browserTest(
  "the list view is each agent's choice, kept across sessions; v switches it",
  async (browser) => {
    await withDesk(async (server, ids) => {
      const { context, page } = await signIn(browser, server, "alice");
      try {
        assert.equal(await page.getAttribute("#cards", "data-layout"), "grid");
        await page.keyboard.press("v");
        await until(
          page,
          `document.getElementById("cards")?.dataset.layout === "list"`,
        );
        // One row per ticket, with its columns.
        const row = await page.locator(`#ticket-${ids[0]}`).boundingBox();
        assert.ok(row && row.height < 40, `a row is one line (${row?.height})`);
        assert.ok(await page.isVisible(".list-head"));
        // Kept on the server: another browser signed in as alice gets the list.
        const other = await signIn(browser, server, "alice");
        assert.equal(
          await other.page.getAttribute("#cards", "data-layout"),
          "list",
        );
        await other.context.close();
        // bob keeps his cards.
        const bob = await signIn(browser, server, "bob");
        assert.equal(
          await bob.page.getAttribute("#cards", "data-layout"),
          "grid",
        );
        await bob.context.close();
        // A key still acts on a row (the buttons are there, hidden).
        await page.locator(`#ticket-${ids[1]}`).focus();
        await page.keyboard.press("p");
        await until(
          page,
          `document.querySelector("#ticket-${
            ids[1]
          } .badge")?.textContent.includes("Pending")`,
        );
        await page.click('[data-layout-button="grid"]');
        await until(
          page,
          `document.getElementById("cards")?.dataset.layout === "grid"`,
        );
      } finally {
        await context.close();
      }
    });
  },
);

browserTest(
  "in search, Escape leaves the field and a second one clears it; Enter focuses the first result",
  async (browser) => {
    await withDesk(async (server, ids) => {
      const { context, page } = await signIn(browser, server, "alice");
      try {
        await page.keyboard.press("/");
        await page.keyboard.type("customer_2");
        await page.keyboard.press("Enter");
        await until(page, `${focusedCard} === "${ids[1]}"`);
        await page.keyboard.press("/");
        await page.keyboard.press("Escape");
        await until(page, `document.activeElement?.id !== "q"`);
        assert.equal(await page.inputValue("#q"), "customer_2");
        assert.equal(await page.locator(".ticket-card").count(), 1);
        await page.keyboard.press("Escape");
        await until(
          page,
          `document.querySelectorAll(".ticket-card").length === 3`,
        );
        assert.equal(await page.inputValue("#q"), "");
      } finally {
        await context.close();
      }
    });
  },
);

browserTest(
  "on a phone the header is one row, filters sit behind one button, the first ticket shows and nothing scrolls sideways",
  async (browser) => {
    await withDesk(async (server) => {
      const { context, page } = await signIn(browser, server, "alice", {
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
      });
      try {
        const brand = (await page.locator(".brand").boundingBox())!;
        const menu = (await page.locator(".user-menu").boundingBox())!;
        assert.ok(
          Math.abs(brand.y + brand.height / 2 - (menu.y + menu.height / 2)) <
            10,
          "the header is one row",
        );
        assert.equal(await page.isVisible("#priority"), false);
        await page.click("[data-filters-toggle]");
        assert.equal(await page.isVisible("#priority"), true);
        await page.click("[data-filters-toggle]");
        const first = (await page.locator(".ticket-card").first()
          .boundingBox())!;
        assert.ok(first.y + 80 < 844, `the first ticket shows (${first.y})`);
        for (const layout of ["grid", "list"]) {
          await page.click(`[data-layout-button="${layout}"]`);
          await until(
            page,
            `document.getElementById("cards")?.dataset.layout === "${layout}"`,
          );
          assert.equal(
            await page.evaluate<number>(
              "document.documentElement.scrollWidth",
            ),
            390,
            `no sideways scroll (${layout})`,
          );
        }
        // A toast is dismissable and the page makes room for it.
        await page.click(`[data-layout-button="grid"]`);
        await until(
          page,
          `document.getElementById("cards")?.dataset.layout === "grid"`,
        );
        await page.click(`.ticket-card .status-button.status-pending`);
        await page.waitForSelector("#undo [data-undo]");
        const pad = await page.evaluate<string>(
          "getComputedStyle(document.body).paddingBottom",
        );
        assert.notEqual(pad, "0px", "room is made for the Undo offer");
        await page.click("#undo [data-dismiss-undo]");
        await until(page, `!document.querySelector("#undo [data-undo]")`);
      } finally {
        await context.close();
      }
    });
  },
);
