/**
 * Team triage in Chromium (issue #15), with two agents in two browsers:
 * taking and the conflict it can meet, the Mine and Unassigned counts moving
 * live, a bulk change that skips a ticket changed meanwhile, who else is on a
 * ticket, and the keys t, x and 1–4.
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

interface Agent {
  context: BrowserContext;
  page: Page;
}

async function withTeam(
  browser: Browser,
  fn: (
    d: { server: TestServer; alice: Agent; bob: Agent; ids: number[] },
  ) => Promise<void>,
  opts: {
    tickets?: number;
    prepareAlice?: (c: BrowserContext) => Promise<void>;
  } = {},
) {
  const server = await startServer();
  const contexts: BrowserContext[] = [];
  try {
    for (const username of ["alice", "bob"]) {
      await server.store.createUser({
        username,
        passwordHash: await hashPassword(PASSWORD),
        role: "agent",
      });
    }
    const ids: number[] = [];
    for (let i = 0; i < (opts.tickets ?? 3); i++) {
      const { ticket } = await server.store.createTicket({
        user_id: `customer_${i + 1}`,
        pdf_link: "https://example.com/a.pdf",
        product_id: null,
        other_ids: null,
      }, { actor: "api:app" });
      ids.push(ticket.id);
    }
    const signIn = async (
      username: string,
      prepare?: (c: BrowserContext) => Promise<void>,
    ): Promise<Agent> => {
      const context = await browser.newContext();
      contexts.push(context);
      await prepare?.(context);
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT);
      await logIn(page, server.url, username);
      // (A page whose stream a test holds back never goes live.)
      if (!prepare) {
        await page.waitForSelector("#live-status[data-state=live]", {
          state: "attached",
        });
      }
      return { context, page };
    };
    const alice = await signIn("alice", opts.prepareAlice);
    const bob = await signIn("bob");
    await fn({ server, alice, bob, ids });
  } finally {
    for (const c of contexts) await c.close();
    await server.stop();
  }
}

const owner = (id: number) =>
  `document.getElementById("ticket-${id}")?.dataset.owner`;
const count = (id: string) =>
  `Number(document.getElementById("${id}")?.textContent)`;

browserTest(
  "alice takes a ticket, bob sees it live, and taking it from her asks first",
  async (browser) => {
    await withTeam(browser, async ({ alice, bob, ids }) => {
      const id = ids[0]!;
      await alice.page.click(`#ticket-${id} .owner-take button`);
      await until(alice.page, `${owner(id)} === "alice"`);
      await until(
        alice.page,
        `document.getElementById("ticket-${id}").classList.contains("mine")`,
      );
      // bob's board hears of it: the card names alice.
      await until(bob.page, `${owner(id)} === "alice"`);
      assert.match(
        (await bob.page.textContent(`#ticket-${id} .owner`)) ?? "",
        /alice/,
      );
      // bob presses Take on alice's ticket: asked first, nothing changes yet.
      await bob.page.click(`#ticket-${id} .owner-take button`);
      await bob.page.waitForSelector(
        `#ticket-${id} [role=alert] >> text=alice owns ticket`,
      );
      assert.equal(await alice.page.evaluate<string>(owner(id)), "alice");
      await bob.page.click(
        `#ticket-${id} button:has-text("Take it from alice")`,
      );
      await until(bob.page, `${owner(id)} === "bob"`);
      await until(alice.page, `${owner(id)} === "bob"`);
    });
  },
);

browserTest(
  "the Mine and Unassigned counts move live on both agents' boards",
  async (browser) => {
    await withTeam(browser, async ({ alice, bob, ids }) => {
      await until(alice.page, `${count("owner-count-unassigned")} === 3`);
      await until(bob.page, `${count("owner-count-mine")} === 0`);
      await bob.page.click(`#ticket-${ids[1]} .owner-take button`);
      await until(bob.page, `${count("owner-count-mine")} === 1`);
      await until(alice.page, `${count("owner-count-unassigned")} === 2`);
      // alice's own Mine stays hers: the stream's numbers are everyone's.
      await until(alice.page, `${count("owner-count-mine")} === 0`);
      await alice.page.click(`#ticket-${ids[2]} .owner-take button`);
      await until(alice.page, `${count("owner-count-mine")} === 1`);
      await until(bob.page, `${count("owner-count-unassigned")} === 1`);
      await until(bob.page, `${count("owner-count-mine")} === 1`);
    });
  },
);

browserTest(
  "a bulk change of 20 tickets skips the one bob changed meanwhile and says so, with a link",
  async (browser) => {
    await withTeam(
      browser,
      async ({ server, alice, ids }) => {
        await alice.page.check("#select-all");
        await until(
          alice.page,
          `document.getElementById("bulk-count").textContent === "20 selected"`,
        );
        // bob closes one of them while alice's page still shows it open.
        await server.store.updateTicket(ids[5]!, { status: "Pending" }, {
          actor: "bob",
        });
        await alice.page.selectOption("#bulk-status", "Closed");
        await alice.page.click("#bulk button[type=submit]");
        await alice.page.waitForSelector(".bulk-notice");
        const notice = (await alice.page.textContent(".bulk-notice")) ?? "";
        assert.match(notice, /1 of 20 was changed meanwhile/);
        assert.equal(
          await alice.page.getAttribute(".bulk-notice a", "href"),
          `/tickets/${ids[5]}`,
        );
        for (const id of ids) {
          const t = await server.store.getTicket(id);
          assert.equal(
            t?.status,
            id === ids[5] ? "Pending" : "Closed",
            `#${id}`,
          );
        }
      },
      {
        tickets: 20,
        // alice's tab streams on its own, held: her cards stay as they were
        // shown, as a busy page would be when someone else acts.
        prepareAlice: async (context) => {
          await context.addInitScript("delete window.SharedWorker");
          await context.route("**/events?**", () => {});
        },
      },
    );
  },
);

browserTest(
  "who else is on a ticket: viewing, writing, and gone soon after leaving",
  async (browser) => {
    await withTeam(browser, async ({ server, alice, bob, ids }) => {
      const id = ids[0]!;
      const ticketPage = await alice.context.newPage();
      ticketPage.setDefaultTimeout(WAIT);
      await ticketPage.goto(`${server.url}/tickets/${id}`);
      // bob's board marks the card alice has open.
      await until(
        bob.page,
        `document.querySelector("#ticket-${id} .presence-marker")?.textContent.includes("alice is viewing")`,
      );
      const bobTicket = await bob.context.newPage();
      bobTicket.setDefaultTimeout(WAIT);
      await bobTicket.goto(`${server.url}/tickets/${id}`);
      await until(
        bobTicket,
        `document.getElementById("presence").textContent === "alice is viewing"`,
      );
      await until(
        ticketPage,
        `document.getElementById("presence").textContent === "bob is viewing"`,
      );
      await ticketPage.fill("#comment-body", "Looking into it");
      await until(
        bobTicket,
        `document.getElementById("presence").textContent === "alice is writing a comment"`,
      );
      await ticketPage.close();
      await until(
        bobTicket,
        `document.getElementById("presence").textContent === ""`,
      );
      await until(
        bob.page,
        `!document.querySelector("#ticket-${id} .presence-marker")`,
      );
    });
  },
);

browserTest(
  "keys: t takes the focused ticket, x selects it, 1–4 set its priority",
  async (browser) => {
    await withTeam(browser, async ({ server, alice, ids }) => {
      const page = alice.page;
      const top = ids.at(-1)!; // newest first
      await page.keyboard.press("j");
      await until(page, `document.activeElement?.id === "ticket-${top}"`);
      await page.keyboard.press("t");
      await until(page, `${owner(top)} === "alice"`);
      await until(page, `document.activeElement?.id === "ticket-${top}"`);
      await page.keyboard.press("x");
      await until(
        page,
        `document.querySelector("#ticket-${top} [data-select]").checked`,
      );
      assert.equal(await page.textContent("#bulk-count"), "1 selected");
      await page.keyboard.press("4");
      await until(
        page,
        `document.querySelector("#ticket-${top} .priority").textContent.includes("Urgent")`,
      );
      await page.keyboard.press("1");
      await until(
        page,
        `document.querySelector("#ticket-${top} .priority").textContent.includes("Low")`,
      );
      const t = await server.store.getTicket(top);
      assert.equal(t?.assignee, "alice");
      assert.equal(t?.priority, "Low");
    });
  },
);
