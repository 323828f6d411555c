/** What the stream sends for an event, per page filter (the composer the app uses). */
import assert from "node:assert/strict";
import { createMemoryBus } from "../../db/bus.ts";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import type { TicketEvent } from "../../db/store.ts";
import { liveComposer } from "../../routes/live_render.tsx";

async function withComposer(
  fn: (
    c: ReturnType<typeof liveComposer>,
    store: Awaited<ReturnType<typeof openSqliteStore>>,
  ) => Promise<void>,
) {
  const store = await openSqliteStore({
    path: ":memory:",
    bus: createMemoryBus(),
  });
  try {
    await fn(liveComposer(store), store);
  } finally {
    await store.close();
  }
}

const ticket = (user_id: string, product_id: string | null = "CAM-2K") => ({
  user_id,
  pdf_link: "https://example.com/a.pdf",
  product_id,
  other_ids: null,
});

Deno.test("a new ticket is offered to pages whose filter it matches, and only counted elsewhere", async () => {
  await withComposer(async (compose, store) => {
    await store.createTicket(ticket("ann"), { actor: "t" });
    const { event } = await store.createTicket(ticket("bob", "LOCK-PRO"), {
      actor: "api:mobile",
    });
    const e = event as TicketEvent;
    const insert = '<hx-partial hx-target="#incoming"';
    const cases: [string, Parameters<typeof compose>[1], boolean][] = [
      ["no filter", {}, true],
      ["status Open", { status: "Open" }, true],
      ["status Closed", { status: "Closed" }, false],
      ["its product", { product_id: "LOCK-PRO" }, true],
      ["another product", { product_id: "CAM-2K" }, false],
      ["a search for its user", { q: "bo" }, true],
      ["a search for someone else", { q: "ann" }, false],
    ];
    for (const [what, filter, offered] of cases) {
      const msg = await compose(e, filter);
      assert.ok(msg, what);
      assert.equal(msg.data.includes(insert), offered, what);
      assert.ok(msg.data.includes('id="ticket-2"') === offered, what);
      // Every dashboard gets the new counts and a note for its toast.
      assert.match(msg.data, /id="count-all"[^>]*>2</, what);
      assert.match(msg.data, /data-actor="api:mobile"/, what);
    }
  });
});

Deno.test("a change replaces the card in place on every dashboard; a ticket page hears only of its own ticket", async () => {
  await withComposer(async (compose, store) => {
    await store.createTicket(ticket("ann"), { actor: "t" });
    await store.createTicket(ticket("bob"), { actor: "t" });
    const { event } = await store.updateTicket(1, { status: "Pending" }, {
      actor: "alice",
    });
    const e = event as TicketEvent;
    const msg = await compose(e, { status: "Closed" });
    assert.match(
      msg!.data,
      /<hx-partial hx-target="#ticket-1" hx-swap="outerHTML"><article id="ticket-1" class="ticket-card status-pending"/,
    );
    assert.doesNotMatch(msg!.data, /#incoming/);
    assert.match(msg!.data, /alice set #1 to Pending/);

    assert.equal(await compose(e, { ticket: 2 }), null);
    const own = await compose(e, { ticket: 1 });
    assert.equal(own?.event, "ticket-changed");
    assert.deepEqual(JSON.parse(own!.data), {
      id: e.id,
      actor: "alice",
      type: "ticket.updated",
      text: "alice set #1 to Pending",
    });
  });
});
