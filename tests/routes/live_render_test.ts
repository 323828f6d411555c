/** What the stream sends for an event, per page filter (the composer the app uses). */
import assert from "node:assert/strict";
import { createMemoryBus } from "../../db/bus.ts";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import type { TicketEvent } from "../../db/store.ts";
import { Hono } from "hono";
import { liveComposer } from "../../routes/live_render.tsx";
import { events } from "../../routes/events.ts";
import { createLogger } from "../../log.ts";
import { collectSse } from "../sse_client.ts";
import type { SseMessage, StreamFilter } from "../../routes/events.ts";

/** The message for one event and one filter, composed as a batch of one. */
type ComposeOne = (
  e: TicketEvent,
  f: StreamFilter,
) => Promise<SseMessage | null>;

async function withComposer(
  fn: (
    compose: ComposeOne,
    store: Awaited<ReturnType<typeof openSqliteStore>>,
  ) => Promise<void>,
) {
  const store = await openSqliteStore({
    path: ":memory:",
    bus: createMemoryBus(),
  });
  const composer = liveComposer(store);
  try {
    await fn(
      async (e, f) =>
        (await composer.compose(await composer.prepare([e]), f, [e]))[0]!,
      store,
    );
  } finally {
    await store.close();
  }
}

const ticket_ = (user_id: string, product_id: string | null = "CAM-2K") => ({
  user_id,
  pdf_link: "https://example.com/a.pdf",
  product_id,
  other_ids: null,
});

Deno.test("a new ticket is offered to pages whose filter it matches, and only counted elsewhere", async () => {
  await withComposer(async (compose, store) => {
    await store.createTicket(ticket_("ann"), { actor: "t" });
    const { event } = await store.createTicket(ticket_("bob", "LOCK-PRO"), {
      actor: "api:mobile",
    });
    const e = event as TicketEvent;
    const insert = '<hx-partial hx-target="#incoming"';
    // The All count is the view's: narrowed by a product or a search, it
    // counts what they match.
    const cases: [string, Parameters<typeof compose>[1], boolean, number][] = [
      ["no filter", {}, true, 2],
      ["unsolved", { status: "unsolved" }, true, 2],
      ["status Open", { status: "Open" }, true, 2],
      ["status Closed", { status: "Closed" }, false, 2],
      ["its product", { product_id: "LOCK-PRO" }, true, 1],
      ["its product, in other letters", { product_id: "lock" }, true, 1],
      ["another product", { product_id: "CAM-2K" }, false, 1],
      ["a search for its user", { q: "bo" }, true, 1],
      ["a search for someone else", { q: "ann" }, false, 1],
    ];
    for (const [what, filter, offered, all] of cases) {
      const msg = await compose(e, filter);
      assert.ok(msg, what);
      assert.equal(msg.data.includes(insert), offered, what);
      assert.ok(msg.data.includes('id="ticket-2"') === offered, what);
      // Every dashboard gets the new counts and a note for its toast.
      assert.match(msg.data, new RegExp(`id="count-all"[^>]*>${all}<`), what);
      assert.match(msg.data, /data-actor="api:mobile"/, what);
    }
  });
});

Deno.test("a change replaces the card in place where the ticket still belongs, leaves a placeholder where it moved out, and a ticket page hears only of its own ticket", async () => {
  await withComposer(async (compose, store) => {
    await store.createTicket(ticket_("ann"), { actor: "t" });
    await store.createTicket(ticket_("bob"), { actor: "t" });
    const { event } = await store.updateTicket(1, { status: "Pending" }, {
      actor: "alice",
    });
    const e = event as TicketEvent;
    for (const still of [{}, { status: "unsolved" as const }]) {
      const msg = await compose(e, still);
      assert.match(
        msg!.data,
        /<hx-partial hx-target="#ticket-1" hx-swap="outerHTML"><article id="ticket-1" class="ticket-card status-pending[^"]*"/,
      );
      assert.doesNotMatch(msg!.data, /#incoming/);
      assert.match(msg!.data, /alice set #1 to Pending/);
    }
    // On the Open view the ticket has left: a line says where it went, in the
    // card's place, never over the mover's own placeholder (which has Undo).
    const moved = await compose(e, { status: "Open" });
    assert.match(
      moved!.data,
      /<hx-partial hx-target="#ticket-1:not\(\.moved\)" hx-swap="outerHTML"><article id="ticket-1" class="ticket-card moved"[^>]*><p>#1 moved to Pending by alice<\/p><\/article>/,
    );
    assert.match(moved!.data, /id="count-open"[^>]*>1</);

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

Deno.test("a ticket changed into a view arrives on top of it, like a new one, where the list is newest first", async () => {
  await withComposer(async (compose, store) => {
    await store.createUser({
      username: "maria",
      passwordHash: "h",
      role: "agent",
    });
    const { ticket } = await store.createTicket(ticket_("ann"), { actor: "t" });
    await store.updateTicket(ticket.id, { status: "Closed" }, { actor: "li" });
    const { event } = await store.updateTicket(ticket.id, { status: "Open" }, {
      actor: "requester:ann",
    });
    const reopened = event as TicketEvent;
    const arrives = (msg: SseMessage | null) =>
      msg!.data.includes(
        '<hx-partial hx-target="#incoming" hx-swap="afterbegin"><article id="ticket-1"',
      );
    assert.ok(arrives(await compose(reopened, { status: "unsolved" })));
    assert.ok(arrives(await compose(reopened, { status: "Open" })));
    // Already in these views: replaced in place, not arriving.
    assert.ok(!arrives(await compose(reopened, {})));
    // Not newest first: its place is elsewhere.
    assert.ok(
      !arrives(await compose(reopened, { status: "unsolved", sort: "oldest" })),
    );
    // A search it does not match.
    assert.ok(
      !arrives(await compose(reopened, { status: "unsolved", q: "zebra" })),
    );
    const { event: taken } = await store.updateTicket(ticket.id, {
      assignee: "maria",
    }, { actor: "maria" });
    const given = taken as TicketEvent;
    assert.ok(arrives(await compose(given, { assignee: "maria" })));
    assert.ok(!arrives(await compose(given, { assignee: null })));
  });
});

Deno.test("the stream reads no ticket back: one counts query per batch and one search query per searching filter", async () => {
  const bus = createMemoryBus();
  const store = await openSqliteStore({ path: ":memory:", bus });
  const reads: string[] = [];
  const counted = new Proxy(store, {
    get(target, name, receiver) {
      const v = Reflect.get(target, name, receiver);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        reads.push(String(name));
        return v.apply(target, args);
      };
    },
  });
  const live = events({
    store: counted,
    bus,
    logger: createLogger("silent"),
    composer: liveComposer(counted),
  });
  const app = new Hono().route("/", live.app);
  try {
    const filters = ["", "?status=Open", "?q=ann", "?q=bob", "?product=CAM-2K"];
    const streams = await Promise.all(
      filters.map((f) => app.request(`/events${f}`)),
    );
    const all = streams.map((res) =>
      collectSse(res, (frames) => frames.some((x) => x.id === "20"), 5000)
    );
    reads.length = 0;
    // Twenty creates at once: the writer commits them in a few batches.
    await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) =>
          store.createTicket(ticket_(i % 2 ? "ann" : "bob"), { actor: "t" }),
      ),
    );
    const got = await Promise.all(all);
    for (const frames of got) {
      assert.deepEqual(
        frames.filter((f) => f.id).map((f) => Number(f.id)),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    }
    const batches = store.commitStats.batches;
    assert.equal(reads.filter((r) => r === "getTicket").length, 0);
    assert.equal(reads.filter((r) => r === "listTickets").length, 0);
    const counts = reads.filter((r) => r === "countByOwner").length;
    assert.ok(counts >= 1 && counts <= batches, `${counts} of ${batches}`);
    const searches = reads.filter((r) => r === "searchMatches").length;
    assert.ok(searches <= 2 * counts, `${searches} searches`);
    // The three narrowed views (two searches, a product) count what they match, once per batch each.
    const narrowed = reads.filter((r) => r === "countMatching").length;
    assert.ok(narrowed <= 3 * counts, `${narrowed} narrowed counts`);
  } finally {
    await store.close();
  }
});

Deno.test("a report's channel is told of changes that can move its figures, of tickets its filter takes before or after", async () => {
  await withComposer(async (compose, store) => {
    await store.createUser({
      username: "maria",
      passwordHash: "x",
      role: "agent",
    });
    const created = (await store.createTicket(ticket_("ann"), { actor: "app" }))
      .event!;
    const t = created.ticket_id;
    const change = async (patch: Parameters<typeof store.updateTicket>[1]) =>
      (await store.updateTicket(t, patch, { actor: "maria" })).event!;
    const note = async (visibility: "public" | "internal") =>
      (await store.addComment(t, "hi", { actor: "maria", visibility })).event!;
    const all: StreamFilter = { reports: true };
    const told = async (e: TicketEvent, f: StreamFilter) => {
      const msg = await compose(e, f);
      if (msg) {
        assert.deepEqual(msg, { event: "report-changed", data: String(e.id) });
      }
      return msg !== null;
    };
    assert.equal(await told(created, all), true, "a new ticket");
    assert.equal(
      await told(created, { reports: true, product_id: "cam" }),
      true,
    );
    assert.equal(
      await told(created, { reports: true, product_id: "lock" }),
      false,
    );
    assert.equal(
      await told(await change({ description: "more" }), all),
      false,
      "an edit counts nothing",
    );
    assert.equal(
      await told(await note("internal"), all),
      false,
      "an internal note is no reply",
    );
    assert.equal(await told(await note("public"), all), true, "a public reply");
    assert.equal(
      await told(await change({ status: "Closed" }), all),
      true,
      "a close",
    );
    const taken = await change({ assignee: "maria" });
    assert.equal(
      await told(taken, { reports: true, assignee: null }),
      true,
      "it left the unassigned report",
    );
    assert.equal(
      await told(taken, { reports: true, assignee: "maria" }),
      true,
      "it came into maria's",
    );
    assert.equal(
      await told(await change({ priority: "High" }), {
        reports: true,
        assignee: null,
      }),
      false,
      "nobody's report never had it",
    );
  });
});
