/**
 * The ticket page as the agent's workspace, through the app: the previous and
 * next ticket of the list it was opened from (each sort, filtered, the ends
 * of the list), one timeline with a comments-only switch, and the fragments
 * a live update swaps.
 */
import assert from "node:assert/strict";
import type { NewTicket, Priority, Sort } from "../../db/store.ts";
import {
  addUser,
  formPost,
  type Harness,
  logIn,
  withApp,
} from "../fixtures.ts";

const HX = { "HX-Request": "true", "HX-Request-Type": "partial" };

async function create(h: Harness, overrides: Partial<NewTicket> = {}) {
  return (await h.store.createTicket({
    user_id: "john_doe",
    pdf_link: "https://example.com/guide.pdf",
    product_id: "ROUTER-AX3",
    other_ids: null,
    ...overrides,
  }, { actor: "api" })).ticket;
}

/** maria, signed in. */
async function agent(h: Harness) {
  await addUser(h.store, "maria");
  const cookie = await logIn(h.rawApp, "maria");
  return {
    get: async (path: string, headers: Record<string, string> = {}) => {
      const res = await h.rawApp.request(path, {
        headers: { Cookie: cookie, ...headers },
      });
      return { status: res.status, text: await res.text(), res };
    },
    post: async (
      path: string,
      fields: Record<string, string>,
      headers: Record<string, string> = {},
    ) => {
      const res = await h.rawApp.request(
        path,
        formPost(fields, { cookie, headers }),
      );
      return { status: res.status, text: await res.text(), res };
    },
  };
}

const unescape = (s: string) =>
  s.replaceAll("&amp;", "&").replaceAll("&quot;", '"').replaceAll("&#39;", "'");

/** The href of the link with this id, or null when the page has none (the end of the list). */
function linkOf(html: string, id: string): string | null {
  const m = new RegExp(`<a href="([^"]*)" id="${id}"`).exec(html);
  return m ? unescape(m[1]!) : null;
}

/** Every ticket met following `id` links from `start`, the page's own first. */
async function walk(
  b: Awaited<ReturnType<typeof agent>>,
  start: string,
  id: "ticket-next" | "ticket-prev",
): Promise<{ ids: number[]; last: string }> {
  const ids: number[] = [];
  let url: string | null = start;
  let last = "";
  for (let i = 0; i < 30 && url; i++) {
    const page = await b.get(url);
    assert.equal(page.status, 200, url);
    ids.push(Number(/<h1>Ticket #(\d+)<\/h1>/.exec(page.text)![1]));
    last = page.text;
    url = linkOf(page.text, id);
  }
  return { ids, last };
}

/**
 * Eight tickets: priorities, statuses and products varied, and touched in an
 * order unlike their numbers, so that each sort has an order of its own.
 */
async function seed(h: Harness) {
  const priorities: Priority[] = [
    "Normal",
    "Urgent",
    "Low",
    "High",
    "Urgent",
    "Normal",
    "High",
    "Low",
  ];
  const ids: number[] = [];
  for (const [i, priority] of priorities.entries()) {
    ids.push(
      (await create(h, {
        priority,
        product_id: i % 3 === 2 ? "CAM-2K" : "ROUTER-AX3",
      })).id,
    );
  }
  await h.store.updateTicket(ids[3]!, { status: "Closed" }, { actor: "li" });
  await h.store.addComment(ids[0]!, "still broken", { actor: "li" });
  await h.store.updateTicket(ids[5]!, { status: "Pending" }, { actor: "li" });
  return { ids, priorities };
}

Deno.test("Next and Previous walk the list the page was opened from, in each sort and filtered, to both ends", async () => {
  await withApp(async (h) => {
    const b = await agent(h);
    const { ids, priorities } = await seed(h);
    const rows = await Promise.all(
      ids.map(async (id) => (await h.store.getTicket(id))!),
    );
    const rank = (p: Priority) =>
      ["Low", "Normal", "High", "Urgent"].indexOf(p);
    const unsolved = rows.filter((t) => t.status !== "Closed");
    const expected: Record<Sort, number[]> = {
      newest: unsolved.map((t) => t.id).reverse(),
      oldest: unsolved.map((t) => t.id),
      priority: [...unsolved].sort((a, b) =>
        rank(b.priority) - rank(a.priority) || a.id - b.id
      ).map((t) => t.id),
      activity: [...unsolved].sort((a, b) =>
        b.updated_at.localeCompare(a.updated_at) || b.id - a.id
      ).map((t) => t.id),
    };
    assert.equal(priorities.length, 8);
    for (const sort of ["newest", "oldest", "priority", "activity"] as Sort[]) {
      const back = `/dashboard?sort=${sort}`;
      const order = expected[sort];
      const start = `/tickets/${order[0]}?back=${encodeURIComponent(back)}`;
      const forward = await walk(b, start, "ticket-next");
      assert.deepEqual(forward.ids, order, `Next in ${sort}`);
      // The end of the list says so instead of linking.
      assert.match(
        forward.last,
        /<span class="muted" id="ticket-next">Last in this list<\/span>/,
      );
      // Every link keeps the way back.
      assert.match(
        forward.last,
        new RegExp(`href="${back.replace("?", "\\?")}" id="back-link"`),
      );
      const end = `/tickets/${order.at(-1)}?back=${encodeURIComponent(back)}`;
      const backward = await walk(b, end, "ticket-prev");
      assert.deepEqual(
        backward.ids,
        [...order].reverse(),
        `Previous in ${sort}`,
      );
      assert.match(
        backward.last,
        /<span class="muted" id="ticket-prev">First in this list<\/span>/,
      );
    }

    // Filtered: Urgent first among the routers that are not closed.
    const back = "/dashboard?status=all&product=router&sort=priority";
    const routers = rows.filter((t) => t.product_id === "ROUTER-AX3")
      .sort((a, b) => rank(b.priority) - rank(a.priority) || a.id - b.id)
      .map((t) => t.id);
    const walked = await walk(
      b,
      `/tickets/${routers[0]}?back=${encodeURIComponent(back)}`,
      "ticket-next",
    );
    assert.deepEqual(walked.ids, routers);
    const next = linkOf(
      (await b.get(`/tickets/${routers[0]}?back=${encodeURIComponent(back)}`))
        .text,
      "ticket-next",
    )!;
    assert.equal(new URL(next, "http://x").searchParams.get("back"), back);
  });
});

Deno.test("a ticket changed on its own page still leads on from where the agent found it (at=)", async () => {
  await withApp(async (h) => {
    const b = await agent(h);
    const a = await create(h);
    const z = await create(h);
    const c = await create(h);
    // Touched a second apart, long ago: whatever happens now comes after.
    for (const [i, t] of [a, z, c].entries()) {
      h.store.db.prepare("UPDATE tickets SET updated_at = ? WHERE id = ?")
        .run(`2020-01-01T00:00:0${i}.000Z`, t.id);
    }
    const back = "/dashboard?sort=activity";
    // Latest activity first: c, z, a. Open z the way the list links it.
    const first = await b.get(
      `/tickets/${c.id}?back=${encodeURIComponent(back)}`,
    );
    const toZ = linkOf(first.text, "ticket-next")!;
    assert.match(toZ, new RegExp(`^/tickets/${z.id}\\?`));
    assert.match(toZ, /[?&]at=\d+\.\d+/);
    // z is commented on: it is the latest now, but the way on is still a.
    await h.store.addComment(z.id, "on it", { actor: "maria" });
    const onZ = await b.get(toZ);
    assert.match(
      linkOf(onZ.text, "ticket-next")!,
      new RegExp(`^/tickets/${a.id}\\?`),
    );
    assert.match(
      linkOf(onZ.text, "ticket-prev")!,
      new RegExp(`^/tickets/${c.id}\\?`),
    );
    // Without at= the page goes by where z stands now: first.
    const fresh = await b.get(
      `/tickets/${z.id}?back=${encodeURIComponent(back)}`,
    );
    assert.match(fresh.text, /id="ticket-prev">First in this list/);
    // An at= of another ticket is not taken for this one's place: a is
    // last now (z, c, a), after c.
    const other = await b.get(
      `${toZ.replace(`/tickets/${z.id}`, `/tickets/${a.id}`)}`,
    );
    assert.match(
      linkOf(other.text, "ticket-prev")!,
      new RegExp(`^/tickets/${c.id}\\?`),
    );
  });
});

Deno.test("the ticket page opened without a list goes through the default view, and a way back no list reads from links nothing", async () => {
  await withApp(async (h) => {
    const b = await agent(h);
    const one = await create(h);
    const two = await create(h);
    const page = await b.get(`/tickets/${two.id}`);
    assert.equal(page.status, 200);
    assert.equal(
      linkOf(page.text, "ticket-next"),
      `/tickets/${one.id}?at=${one.id}`,
    );
    const odd = await b.get(
      `/tickets/${two.id}?back=${encodeURIComponent("/dashboard?q=a%01b")}`,
    );
    assert.equal(odd.status, 200);
    assert.match(odd.text, /id="ticket-next">Last in this list/);
  });
});

Deno.test("one timeline: comments and activity in the order they happened, the old system's notes after the creation, each kind labelled in words", async () => {
  await withApp(async (h) => {
    const b = await agent(h);
    const t = await create(h);
    h.store.db.prepare("UPDATE tickets SET comments = ? WHERE id = ?").run(
      "called the customer",
      t.id,
    );
    await h.store.addComment(t.id, "first note", { actor: "li" });
    await h.store.updateTicket(t.id, { status: "Pending" }, { actor: "li" });
    await h.store.addComment(t.id, "Fixed in 2.1", {
      actor: "maria",
      visibility: "public",
    });
    await h.store.updateTicket(t.id, { priority: "High" }, { actor: "maria" });
    const page = await b.get(`/tickets/${t.id}`);
    assert.equal(page.status, 200);
    const timeline = /<ol id="timeline"[^]*?<\/ol>/.exec(page.text)![0];
    const order = [
      "created the ticket",
      "called the customer",
      "first note",
      "changed the status from Open to Pending",
      "Fixed in 2.1",
      "changed the priority from Normal to High",
    ].map((s) => timeline.indexOf(s));
    assert.ok(order.every((i) => i >= 0), `all there: ${order}`);
    assert.deepEqual([...order].sort((x, y) => x - y), order, "in order");
    assert.match(timeline, /Internal note<\/span> <strong>li<\/strong>/);
    assert.match(timeline, /Public reply<\/span> <strong>maria<\/strong>/);
    assert.match(timeline, /Earlier notes/);
    assert.match(
      timeline,
      /<li class="event" id="event-\d+"><strong>li<\/strong> changed the status/,
    );
    // The reply box comes after the newest entry; no second activity column.
    assert.ok(
      page.text.indexOf("</ol>", page.text.indexOf('id="timeline"')) <
        page.text.indexOf('id="comment-form"'),
    );
    assert.doesNotMatch(page.text, /id="activity"/);
    assert.match(
      page.text,
      /id="comment-count" class="muted"\s*>\(3 comments\)/,
    );
  });
});

Deno.test("the comments-only switch is a link without JavaScript (?thread=comments) that says whether it is on", async () => {
  await withApp(async (h) => {
    const b = await agent(h);
    const t = await create(h);
    const back = "/dashboard?status=all";
    const all = await b.get(
      `/tickets/${t.id}?back=${encodeURIComponent(back)}`,
    );
    assert.match(
      all.text,
      /<section id="thread" aria-labelledby="thread-title" class="thread">/,
    );
    const toggle =
      /<a href="([^"]*)" id="thread-filter"[^>]*aria-pressed="false"/.exec(
        all.text,
      );
    assert.ok(toggle, "a switch, off");
    const on = unescape(toggle[1]!);
    assert.equal(
      on,
      `/tickets/${t.id}?back=${
        encodeURIComponent(back)
      }&thread=comments#thread`,
    );
    const only = await b.get(on);
    assert.equal(only.status, 200);
    assert.match(only.text, /class="thread comments-only"/);
    const off = /<a href="([^"]*)" id="thread-filter"[^>]*aria-pressed="true"/
      .exec(only.text);
    assert.ok(off, "a switch, on");
    assert.equal(
      unescape(off[1]!),
      `/tickets/${t.id}?back=${encodeURIComponent(back)}#thread`,
    );
    // The way on keeps the choice.
    const other = await create(h);
    const first = await b.get(
      `/tickets/${other.id}?back=${encodeURIComponent(back)}&thread=comments`,
    );
    assert.match(linkOf(first.text, "ticket-next")!, /&thread=comments$/);
  });
});

Deno.test("GET /tickets/:id/latest gives htmx the parts a live update swaps, and a browser the page", async () => {
  await withApp(async (h) => {
    const b = await agent(h);
    const t = await create(h);
    await h.store.addComment(t.id, "from li", { actor: "li" });
    await h.store.updateTicket(t.id, {
      status: "Pending",
      description: "new text",
    }, {
      actor: "li",
    });
    const parts = await b.get(
      `/tickets/${t.id}/latest?back=%2Fdashboard%3Fstatus%3Dall`,
      HX,
    );
    assert.equal(parts.status, 200);
    assert.equal(
      parts.res.headers.get("content-type"),
      "text/html; charset=UTF-8",
    );
    for (
      const id of [
        "timeline",
        "comment-count",
        "ticket-status",
        "description",
        "ticket-details",
        "requester-link",
      ]
    ) {
      assert.match(parts.text, new RegExp(`<[a-z]+ id="${id}"`), id);
    }
    assert.match(parts.text, /from li/);
    assert.match(parts.text, /badge-pending/);
    assert.match(parts.text, /<div class="text">new text<\/div>/);
    assert.match(parts.text, /back=%2Fdashboard%3Fstatus%3Dall/);
    const plain = await b.get(`/tickets/${t.id}/latest`);
    assert.equal(plain.status, 303);
    assert.equal(plain.res.headers.get("location"), `/tickets/${t.id}`);
  });
});

Deno.test("a description draft begun on an older text reopens as a comparison (compare=1)", async () => {
  await withApp(async (h) => {
    const b = await agent(h);
    const t = await create(h);
    await h.store.updateTicket(t.id, { description: "li's text" }, {
      actor: "li",
    });
    const form = await b.get(`/tickets/${t.id}/description/edit?compare=1`, HX);
    assert.equal(form.status, 200);
    assert.match(form.text, /^<form id="description"[^>]*class="conflict"/);
    assert.match(form.text, /\(by li\)/);
    assert.match(form.text, /<div class="text current">li&#39;s text<\/div>/);
    assert.match(form.text, /name="version" value="2"/);
    assert.match(form.text, /Save mine over it/);
    const plain = await b.get(`/tickets/${t.id}/description/edit`, HX);
    assert.doesNotMatch(plain.text, /class="conflict"/);
  });
});

Deno.test("an Undo carried to the next ticket's page is a plain form that lands back on the changed ticket", async () => {
  await withApp(async (h) => {
    const b = await agent(h);
    const closed = await create(h);
    const next = await create(h);
    await h.store.updateTicket(closed.id, { status: "Closed" }, {
      actor: "maria",
    });
    const change = `${closed.id}:status:2:Open:Closed`;
    const page = await b.get(
      `/tickets/${next.id}?undo=${encodeURIComponent(change)}`,
    );
    assert.equal(page.status, 200);
    assert.match(
      page.text,
      /<div hx-ignore[^>]*><div class="undo-offer"[^>]*><span>Closed #\d+<\/span>/,
    );
    const own = await b.get(
      `/tickets/${closed.id}?undo=${encodeURIComponent(change)}`,
    );
    assert.doesNotMatch(own.text, /hx-ignore/);
    assert.match(own.text, /<span>Closed #\d+<\/span>/);
    const undo = await b.post("/tickets/undo", {
      change,
      view: "page",
      back: "/dashboard",
    });
    assert.equal(undo.status, 303);
    assert.equal(undo.res.headers.get("location"), `/tickets/${closed.id}`);
    assert.equal((await h.store.getTicket(closed.id))?.status, "Open");
  });
});
