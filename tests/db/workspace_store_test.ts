/** The agent workspace on every backend: status views, latest activity, product prefixes, capped counts, layouts. */
import assert from "node:assert/strict";
import type { ListFilter, PageKey, Sort } from "../../db/store.ts";
import { readPageKey, writePageKey } from "../../lib/page_key.ts";
import { type AnyStore, testEachBackend, withStore } from "./backends.ts";

const ticket = (user_id: string, product_id: string | null = null) => ({
  user_id,
  pdf_link: "https://example.com/a.pdf",
  product_id,
  other_ids: null,
});

/** Every id a filter lists, page by page through the keys a URL would carry. */
async function allIds(
  store: AnyStore,
  f: Omit<ListFilter, "limit" | "after">,
  limit = 2,
): Promise<number[]> {
  const ids: number[] = [];
  let after: PageKey | undefined;
  for (let i = 0; i < 50; i++) {
    const page = await store.listTickets({ ...f, limit, after });
    ids.push(...page.items.map((t) => t.id));
    if (!page.next) return ids;
    // The key goes through its text form, as it does in a "Load more" link.
    const sort: Sort = f.sort ?? "newest";
    after = readPageKey(writePageKey(page.next, sort), sort);
    assert.ok(after, "a key reads back");
  }
  throw new Error("pages never ended");
}

testEachBackend(
  "status views list any of several statuses, and latest activity pages without gaps or repeats",
  async (backend) => {
    await withStore(backend, async (store) => {
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) {
        const { ticket: t } = await store.createTicket(ticket(`u${i}`), {
          actor: "api:app",
        });
        ids.push(t.id);
      }
      await store.updateTicket(ids[1]!, { status: "Pending" }, { actor: "a" });
      await store.updateTicket(ids[2]!, { status: "Closed" }, { actor: "a" });
      await store.addComment(ids[0]!, "bumped", { actor: "a" });

      const unsolved = await allIds(store, { statuses: ["Open", "Pending"] });
      assert.deepEqual(unsolved, [ids[5], ids[4], ids[3], ids[1], ids[0]]);

      // A comment is activity: the oldest ticket, just commented on, is among
      // the latest (others changed in the same millisecond tie by id).
      const active = await allIds(store, { sort: "activity" });
      assert.equal(active.length, 6);
      assert.deepEqual([...active].sort((a, b) => a - b), ids);
      const rows = await Promise.all(
        active.map(async (id) => (await store.getTicket(id))!),
      );
      for (let i = 1; i < rows.length; i++) {
        const [a, b] = [rows[i - 1]!, rows[i]!];
        assert.ok(
          a.updated_at > b.updated_at ||
            (a.updated_at === b.updated_at && a.id > b.id),
          "latest activity first, then the higher id",
        );
      }
      const bumped = rows.find((t) => t.id === ids[0])!;
      assert.equal(bumped.updated_at, rows[0]!.updated_at);
      const activeUnsolved = await allIds(store, {
        sort: "activity",
        statuses: ["Open", "Pending"],
      }, 1);
      assert.deepEqual(
        activeUnsolved,
        active.filter((id) => id !== ids[2]),
      );
    });
  },
);

testEachBackend(
  "the product filter matches a prefix in any letter case and takes % and _ literally",
  async (backend) => {
    await withStore(backend, async (store) => {
      const make = async (product: string) =>
        (await store.createTicket(ticket("u", product), { actor: "api:app" }))
          .ticket.id;
      const app = await make("MobileApp");
      const appBeta = await make("mobileapp-beta");
      const web = await make("Web");
      const odd = await make("50%_off");
      const near = await make("50xxoff");
      assert.deepEqual(
        await allIds(store, { product_prefix: "mobile" }),
        [appBeta, app],
      );
      assert.deepEqual(await allIds(store, { product_prefix: "WE" }), [web]);
      assert.deepEqual(await allIds(store, { product_prefix: "50%_" }), [odd]);
      assert.deepEqual(await allIds(store, { product_prefix: "50" }), [
        near,
        odd,
      ]);
      assert.deepEqual(await allIds(store, { product_prefix: "zzz" }), []);
    });
  },
);

testEachBackend(
  "counts follow a search, a product and a priority, and stop at a cap",
  async (backend) => {
    await withStore(backend, async (store) => {
      await store.createUser({
        username: "maria",
        passwordHash: "h",
        role: "agent",
      });
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        const { ticket: t } = await store.createTicket(
          ticket(i < 3 ? `printer${i}` : `other${i}`, i < 4 ? "Acme" : "Zed"),
          { actor: "api:app" },
        );
        ids.push(t.id);
      }
      await store.updateTicket(ids[0]!, { assignee: "maria" }, { actor: "a" });
      await store.updateTicket(ids[1]!, { status: "Closed" }, { actor: "a" });
      await store.updateTicket(ids[2]!, { priority: "Urgent" }, { actor: "a" });

      const total = (c: { byOwner: { n: number }[] }) =>
        c.byOwner.reduce((a, x) => a + x.n, 0);
      const bySearch = await store.countMatching({ q: "printer" }, 100);
      assert.equal(bySearch.capped, false);
      assert.equal(total(bySearch), 3);
      assert.deepEqual(
        bySearch.byOwner.filter((c) => c.assignee === "maria"),
        [{ status: "Open", assignee: "maria", n: 1 }],
      );
      assert.deepEqual(
        bySearch.byOwner.filter((c) => c.status === "Closed"),
        [{ status: "Closed", assignee: null, n: 1 }],
      );
      const byProduct = await store.countMatching(
        { product_prefix: "ac" },
        100,
      );
      assert.equal(total(byProduct), 4);
      const urgent = await store.countMatching({ priority: "Urgent" }, 100);
      assert.deepEqual(urgent.byOwner, [
        { status: "Open", assignee: null, n: 1 },
      ]);
      const capped = await store.countMatching({ product_prefix: "a" }, 2);
      assert.equal(capped.capped, true);
      const exact = await store.countMatching({ product_prefix: "a" }, 4);
      assert.equal(exact.capped, false);
      assert.equal(total(exact), 4);
    });
  },
);

testEachBackend(
  "a user's board layout is remembered, grid until they choose",
  async (backend) => {
    await withStore(backend, async (store) => {
      const u = await store.createUser({
        username: "Li",
        passwordHash: "h",
        role: "agent",
      });
      assert.equal(u.board_layout, "grid");
      const changed = await store.setBoardLayout("li", "list");
      assert.equal(changed.board_layout, "list");
      assert.equal(
        (await store.findUserForLogin("Li"))?.user.board_layout,
        "list",
      );
    });
  },
);
