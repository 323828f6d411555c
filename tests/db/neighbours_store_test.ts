/** A ticket's neighbours in a list on every backend: `before` walks each sort backwards, nearest first. */
import assert from "node:assert/strict";
import {
  type ListFilter,
  type PageKey,
  type Priority,
  SORTS,
  type TicketSummary,
} from "../../db/store.ts";
import { type AnyStore, testEachBackend, withStore } from "./backends.ts";

const keyOf = (t: TicketSummary): PageKey => ({
  id: t.id,
  priority: t.priority,
  updated_at: t.updated_at,
});

/** The whole list in its order, one ticket per page (as "Next ticket" walks it). */
async function forward(
  store: AnyStore,
  f: Omit<ListFilter, "limit">,
): Promise<TicketSummary[]> {
  const out: TicketSummary[] = [];
  let after: PageKey | undefined;
  for (let i = 0; i < 50; i++) {
    const { items } = await store.listTickets({ ...f, after, limit: 1 });
    if (!items[0]) return out;
    out.push(items[0]);
    after = keyOf(items[0]);
  }
  throw new Error("the list never ended");
}

testEachBackend(
  "before lists the tickets ahead of a key, nearest first, in every sort, filtered and searched",
  async (backend) => {
    await withStore(backend, async (store) => {
      const priorities: Priority[] = [
        "High",
        "Low",
        "High",
        "Urgent",
        "Normal",
        "High",
        "Low",
      ];
      const ids: number[] = [];
      for (const [i, priority] of priorities.entries()) {
        const { ticket } = await store.createTicket({
          user_id: i % 2 ? `printer_${i}` : `scanner_${i}`,
          pdf_link: "https://example.com/a.pdf",
          product_id: null,
          other_ids: null,
          priority,
        }, { actor: "api:app" });
        ids.push(ticket.id);
      }
      // Activity: the oldest tickets are the latest touched.
      await store.addComment(ids[1]!, "bumped", { actor: "a" });
      await store.updateTicket(ids[0]!, { status: "Pending" }, { actor: "a" });
      await store.updateTicket(ids[4]!, { status: "Closed" }, { actor: "a" });

      const filters: Omit<ListFilter, "limit" | "sort">[] = [
        {},
        { statuses: ["Open", "Pending"] },
        { q: "printer" },
      ];
      for (const sort of SORTS) {
        for (const base of filters) {
          const f = { ...base, sort };
          const list = await forward(store, f);
          assert.ok(list.length >= 3, `${sort} ${JSON.stringify(base)}`);
          for (const [i, t] of list.entries()) {
            const { items } = await store.listTickets({
              ...f,
              before: keyOf(t),
              limit: 2,
            });
            assert.deepEqual(
              items.map((x) => x.id),
              list.slice(Math.max(0, i - 2), i).map((x) => x.id).reverse(),
              `before #${t.id} in ${sort} ${JSON.stringify(base)}`,
            );
          }
        }
      }
      // Sanity: the orders are the ones the dashboard shows.
      const urgentFirst = await forward(store, { sort: "priority" });
      assert.equal(urgentFirst[0]!.id, ids[3]);
      const active = await forward(store, { sort: "activity" });
      assert.equal(active[0]!.id, ids[4]);
    });
  },
);
