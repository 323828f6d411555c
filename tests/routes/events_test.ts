import assert from "node:assert/strict";
import { Hono } from "hono";
import { createMemoryBus } from "../../db/bus.ts";
import type { TicketEvent } from "../../db/store.ts";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { createLogger } from "../../log.ts";
import {
  events,
  type LiveComposer,
  type LiveOptions,
  type SseMessage,
  type StreamFilter,
} from "../../routes/events.ts";
import { filterKey, readStreamFilter } from "../../lib/live_filter.ts";

/** Renders one event for one filter (the tests' stand-in for the app's card composer). */
type RenderOne = (
  e: TicketEvent,
  filter: StreamFilter,
) => SseMessage | null;
import { collectSse, readSse, type SseFrame } from "../sse_client.ts";

const input = (i: number) => ({
  user_id: `user${i}`,
  pdf_link: "https://example.com/a.pdf",
  product_id: null,
  other_ids: null,
});

async function setup(
  opts: { live?: Partial<LiveOptions>; render?: RenderOne } = {},
) {
  const bus = createMemoryBus();
  const store = await openSqliteStore({ path: ":memory:", bus });
  const calls: { id: number; filter: StreamFilter }[] = [];
  const render: RenderOne = opts.render ??
    ((e) => ({ data: `<p>${e.type} ${e.ticket_id}</p>` }));
  const composer: LiveComposer = {
    prepare: () => Promise.resolve(null),
    compose: (_shared, filter, batch) => {
      for (const e of batch) calls.push({ id: e.id, filter });
      return Promise.resolve(batch.map((e) => render(e, filter)));
    },
  };
  const live = events({
    store,
    bus,
    logger: createLogger("silent"),
    composer,
    live: opts.live,
  });
  const app = new Hono().route("/", live.app);
  const create = async (n: number, from = 0) => {
    for (let i = 0; i < n; i++) {
      await store.createTicket(input(from + i), { actor: "test" });
    }
  };
  return { store, app, stats: live.stats, calls, create };
}

const ids = (frames: SseFrame[]) =>
  frames.filter((f) => f.id !== undefined && f.event !== "reload").map((f) =>
    Number(f.id)
  );

Deno.test("GET /events answers with an event stream that starts with a retry hint", async () => {
  const { app, store } = await setup();
  try {
    const res = await app.request("/events");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.equal(res.headers.get("cache-control"), "no-cache");
    const frames = await collectSse(res, (f) => f.length >= 1, 2000);
    assert.equal(frames[0]?.event, "hello");
    assert.equal(frames[0]?.retry, 1000);
  } finally {
    await store.close();
  }
});

Deno.test("GET /events replays every event after Last-Event-ID in order, then live ones, none twice, while writes continue", async () => {
  const { app, store, create } = await setup();
  try {
    await create(1200); // events 1..1200: replay spans three pages
    const res = await app.request("/events", {
      headers: { "Last-Event-ID": "7" },
    });
    // Write while the replay is running: these land at the replay/live seam.
    const writing = create(60, 5000);
    const frames = await collectSse(
      res,
      (f) => ids(f).includes(1260),
      15000,
    );
    await writing;
    const got = ids(frames);
    const expected = Array.from({ length: 1260 - 7 }, (_, i) => i + 8);
    assert.deepEqual(got, expected);
  } finally {
    await store.close();
  }
});

Deno.test("GET /events without Last-Event-ID sends only what happens after connecting", async () => {
  const { app, store, create } = await setup();
  try {
    await create(3);
    const res = await app.request("/events");
    const frames = collectSse(res, (f) => ids(f).length >= 2, 3000);
    await create(2, 10);
    assert.deepEqual(ids(await frames), [4, 5]);
  } finally {
    await store.close();
  }
});

Deno.test("GET /events?after= replays from the page's own event id on the first connect", async () => {
  const { app, store, create } = await setup();
  try {
    await create(5);
    const res = await app.request("/events?after=3");
    const frames = await collectSse(res, (f) => ids(f).length >= 2, 3000);
    assert.deepEqual(ids(frames), [4, 5]);
  } finally {
    await store.close();
  }
});

Deno.test("GET /events sends reload when Last-Event-ID is older than the replay window", async () => {
  const { app, store, create } = await setup({ live: { retentionMs: 1 } });
  try {
    await create(4);
    // Wait until the newest event is older than the 1 ms window.
    const newest = Date.parse((await store.eventsAfter(3, 1))[0]!.created_at);
    while (Date.now() <= newest + 1) await new Promise((r) => setTimeout(r, 1));
    const res = await app.request("/events", {
      headers: { "Last-Event-ID": "1" },
    });
    const frames = await collectSse(
      res,
      (f) => f.some((x) => x.event === "reload"),
      3000,
    );
    const reload = frames.find((f) => f.event === "reload");
    assert.ok(reload, "a reload event");
    assert.equal(reload.id, "4", "it carries the newest id, to resume from");
    assert.deepEqual(ids(frames), [], "no partial replay");
  } finally {
    await store.close();
  }
});

Deno.test("GET /events sends reload when Last-Event-ID is newer than any event (another database)", async () => {
  const { app, store, create } = await setup();
  try {
    await create(2);
    const res = await app.request("/events", {
      headers: { "Last-Event-ID": "999" },
    });
    const frames = collectSse(
      res,
      (f) => ids(f).includes(3),
      3000,
    );
    await create(1, 10);
    const got = await frames;
    assert.ok(got.some((f) => f.event === "reload" && f.id === "2"));
    assert.deepEqual(ids(got), [3], "later events still arrive");
  } finally {
    await store.close();
  }
});

Deno.test("GET /events sends a heartbeat comment while idle", async () => {
  const { app, store } = await setup({ live: { heartbeatMs: 30 } });
  try {
    const res = await app.request("/events");
    const frames = await collectSse(
      res,
      (f) => f.filter((x) => x.comment === "ping").length >= 2,
      2000,
    );
    assert.equal(frames.filter((x) => x.comment === "ping").length, 2);
  } finally {
    await store.close();
  }
});

Deno.test("GET /events passes the page's filter to the renderer and renders each event once for all clients", async () => {
  const { app, store, create, calls } = await setup();
  try {
    const url = "/events?status=Open&product=P1&q=wifi&ticket=3";
    const streams = [1, 2, 3].map(() =>
      Promise.resolve(app.request(url)).then((res) =>
        collectSse(res, (f) => ids(f).length >= 1, 3000)
      )
    );
    await create(1);
    const all = await Promise.all(streams);
    for (const frames of all) {
      assert.deepEqual(ids(frames), [1]);
      assert.equal(frames.at(-1)?.data, "<p>ticket.created 1</p>");
    }
    assert.equal(calls.length, 1, "rendered once, not once per client");
    assert.deepEqual(calls[0]!.filter, {
      status: "Open",
      product_id: "P1",
      q: "wifi",
      ticket: 3,
    });
  } finally {
    await store.close();
  }
});

Deno.test("GET /events sends just the id for events a client has nothing to show for", async () => {
  const { app, store, create } = await setup({
    render: (e: TicketEvent) =>
      e.ticket_id % 2 ? { data: `t${e.ticket_id}` } : null,
  });
  try {
    const res = await app.request("/events");
    const frames = collectSse(res, (f) => ids(f).length >= 3, 3000);
    await create(3);
    const got = await frames;
    assert.deepEqual(ids(got), [1, 2, 3]);
    assert.deepEqual(got.filter((f) => f.id).map((f) => f.data), [
      "t1",
      "",
      "t3",
    ]);
  } finally {
    await store.close();
  }
});

Deno.test("GET /events drops a stalled client without blocking writers or other clients", async () => {
  const { app, store, create, stats } = await setup({
    live: { queueLimit: 5 },
  });
  try {
    const stalled = await app.request("/events"); // never read
    const healthy = readSse(await app.request("/events"));
    assert.equal((await healthy.next()).value?.event, "hello");
    // The healthy reader takes each event before the next is written, as a
    // tab keeps up with real traffic; the stalled one falls ever further behind.
    const got: number[] = [];
    for (let i = 0; i < 30; i++) {
      await create(1, i);
      const frame = await healthy.next();
      got.push(Number(frame.value?.id));
    }
    await healthy.return(undefined);
    assert.deepEqual(got, Array.from({ length: 30 }, (_, i) => i + 1));
    assert.ok(stats.dropped >= 1, "the stalled client was dropped");
    await stalled.body?.cancel();
  } finally {
    await store.close();
  }
});

Deno.test("GET /events?watch= carries several filters on one stream, each from its own cursor, each frame naming its channel", async () => {
  const { app, store, create, calls, stats } = await setup();
  try {
    await create(6);
    const url = "/events?" + new URLSearchParams([
      ["watch", "status=Open"],
      ["after", "2"],
      ["watch", "ticket=5"],
      ["after", "4"],
    ]);
    const res = await app.request(url);
    assert.equal(stats.clients, 1);
    assert.equal(stats.watches, 2);
    const frames = collectSse(
      res,
      (f) => f.filter((x) => x.id === "8").length >= 2,
      5000,
    );
    await create(2, 10);
    const got = (await frames).filter((f) => f.id !== undefined);
    const byChannel = (ch: string) =>
      got.filter((f) => f.f === ch).map((f) => Number(f.id));
    assert.deepEqual(byChannel("status=Open"), [3, 4, 5, 6, 7, 8]);
    assert.deepEqual(byChannel("ticket=5"), [5, 6, 7, 8]);
    assert.ok(
      calls.some((c) => c.filter.ticket === 5) &&
        calls.some((c) => c.filter.status === "Open"),
    );
  } finally {
    await store.close();
  }
});

Deno.test("Two streams watching the same filter share its rendering", async () => {
  const { app, store, create, calls } = await setup();
  try {
    const url = "/events?watch=q%3Dwifi&after=0";
    const a = await app.request(url);
    const b = await app.request(
      "/events?watch=q%3Dwifi&after=0&watch=&after=0",
    );
    const frames = [a, b].map((res) =>
      collectSse(
        res,
        (f) => f.some((x) => x.id === "3" && x.f === "q=wifi"),
        5000,
      )
    );
    await create(3);
    for (const got of await Promise.all(frames)) {
      assert.deepEqual(
        got.filter((f) => f.f === "q=wifi").map((f) => Number(f.id)),
        [1, 2, 3],
      );
    }
    const wifi = calls.filter((c) => c.filter.q === "wifi").map((c) => c.id);
    assert.deepEqual(
      wifi,
      [1, 2, 3],
      "each event rendered once for the filter",
    );
  } finally {
    await store.close();
  }
});

Deno.test("GET /events refuses watch lists it cannot serve with 400", async () => {
  const { app, store } = await setup();
  try {
    for (
      const query of [
        "watch=status%3DDone&after=1",
        "watch=status%3DOpen",
        "watch=ticket%3Dx&after=1",
        "watch=q%3Da%2500b&after=1",
        Array.from({ length: 33 }, (_, i) => `watch=ticket%3D${i + 1}&after=0`)
          .join("&"),
      ]
    ) {
      const res = await app.request(`/events?${query}`);
      assert.equal(res.status, 400, query);
      await res.body?.cancel();
    }
  } finally {
    await store.close();
  }
});

Deno.test("GET /events writes what is ready together for a stream as one chunk: the frames of every filter it watches", async () => {
  const { app, store, create } = await setup();
  try {
    const url = "/events?" + new URLSearchParams([
      ["watch", "status=Open"],
      ["after", "0"],
      ["watch", ""],
      ["after", "0"],
      ["watch", "ticket=1"],
      ["after", "0"],
    ]);
    const res = await app.request(url);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    // The opening frames (hello) come as one chunk, before anything happens.
    const first = decoder.decode((await reader.read()).value);
    assert.match(first, /event: hello/);
    await create(1);
    // The one event's frames for all three filters, in one write.
    const chunk = decoder.decode((await reader.read()).value);
    const channels = [...chunk.matchAll(/^f: (.*)$/gm)].map((m) => m[1]);
    assert.deepEqual(channels.sort(), ["", "status=Open", "ticket=1"]);
    assert.equal([...chunk.matchAll(/^id: 1$/gm)].length, 3);
    await reader.cancel();
  } finally {
    await store.close();
  }
});

Deno.test("A report's channel (reports=1) takes an owner, a priority and a product, and nothing else", () => {
  const read = (q: string) => {
    const p = new URLSearchParams(q);
    return readStreamFilter((n) => p.get(n) ?? undefined, "maria");
  };
  const f = read("reports=1&assignee=%40me&priority=High&product=CAM");
  assert.deepEqual(f, {
    reports: true,
    assignee: "maria",
    priority: "High",
    product_id: "CAM",
  });
  assert.equal(
    filterKey(f!),
    "reports=1&assignee=maria&priority=High&product=CAM",
  );
  for (
    const bad of [
      "reports=2",
      "reports=1&status=Open",
      "reports=1&q=x",
      "reports=1&ticket=3",
      "reports=1&sort=oldest",
      "reports=1&request=1.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ]
  ) {
    assert.equal(read(bad), null, bad);
  }
});

Deno.test("GET /events: a reader that cancels while frames wait for the tick's write leaves nothing thrown", async () => {
  const { app, store, create } = await setup();
  try {
    for (let round = 0; round < 30; round++) {
      const res = await app.request("/events?after=0");
      const reader = res.body!.getReader();
      await reader.read(); // hello
      // Frames are queued as the batch is composed; cancel at every point of it.
      const made = create(1, round * 10);
      for (let i = 0; i < round % 6; i++) await Promise.resolve();
      await reader.cancel();
      await made;
      await new Promise((r) => setTimeout(r, 0)); // the tick that writes
    }
  } finally {
    await store.close();
  }
});
