/** The agent workspace through the app: status views, counts that follow the filters, product prefixes, Undo. */
import assert from "node:assert/strict";
import type { NewTicket } from "../../db/store.ts";
import {
  addApiKey,
  addUser,
  assertProblem,
  bearer,
  formPost,
  type Harness,
  logIn,
  withApp,
} from "../fixtures.ts";
import { countText } from "../../views/ticket_card.tsx";

const HX = { "HX-Request": "true", "HX-Request-Type": "partial" };

function newTicket(overrides: Partial<NewTicket> = {}): NewTicket {
  return {
    user_id: "john_doe",
    pdf_link: "https://example.com/guide.pdf",
    product_id: "ROUTER-AX3",
    other_ids: null,
    ...overrides,
  };
}

async function create(h: Harness, overrides: Partial<NewTicket> = {}) {
  return (await h.store.createTicket(newTicket(overrides), { actor: "api" }))
    .ticket;
}

/** maria (signed in) and li, agents. */
async function team(h: Harness) {
  await addUser(h.store, "maria");
  await addUser(h.store, "li");
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
      fields: Record<string, string | string[]>,
      headers: Record<string, string> = {},
    ) => {
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries(fields)) {
        for (const one of [v].flat()) body.append(k, one);
      }
      const init = formPost({}, { cookie, headers });
      const res = await h.rawApp.request(path, { ...init, body });
      return { status: res.status, text: await res.text(), res };
    },
  };
}

const cardIds = (html: string) =>
  [...html.matchAll(/<article id="ticket-(\d+)" class="ticket-card(?! moved)/g)]
    .map((m) => Number(m[1]));

const countOf = (html: string, id: string) =>
  new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html)?.[1];

Deno.test("the dashboard opens on unsolved tickets (Open and Pending), with All, Closed and each status a click away", async () => {
  await withApp(async (h) => {
    const b = await team(h);
    const open = await create(h);
    const pending = await create(h);
    const closed = await create(h);
    await h.store.updateTicket(pending.id, { status: "Pending" }, {
      actor: "li",
    });
    await h.store.updateTicket(closed.id, { status: "Closed" }, {
      actor: "li",
    });
    const page = await b.get("/dashboard");
    assert.equal(page.status, 200);
    assert.deepEqual(cardIds(page.text), [pending.id, open.id]);
    assert.match(page.text, /id="tab-unsolved" aria-current="page"/);
    assert.equal(countOf(page.text, "count-unsolved"), "2");
    assert.equal(countOf(page.text, "count-closed"), "1");
    assert.equal(countOf(page.text, "count-all"), "3");
    assert.match(page.text, /href="\/dashboard\?status=all"[^>]*id="tab-all"/);
    const all = await b.get("/dashboard?status=all");
    assert.deepEqual(cardIds(all.text), [closed.id, pending.id, open.id]);
    assert.deepEqual(
      cardIds((await b.get("/dashboard?status=Closed")).text),
      [closed.id],
    );
    // An unknown view is the default one, not an error.
    assert.deepEqual(
      cardIds((await b.get("/dashboard?status=Nope")).text),
      [pending.id, open.id],
    );
    // The live stream watches the same view.
    assert.match(page.text, /data-channel="status=unsolved"/);
    assert.match(all.text, /data-channel=""/);
  });
});

Deno.test("tab counts follow the search, the product and the priority; the product matches a prefix in any letter case", async () => {
  await withApp(async (h) => {
    const b = await team(h);
    const printers: number[] = [];
    for (let i = 0; i < 4; i++) {
      printers.push((await create(h, { user_id: `printer${i}` })).id);
    }
    for (let i = 0; i < 20; i++) {
      const t = await create(h, { user_id: `other${i}`, product_id: "CAM-2K" });
      if (i < 10) {
        await h.store.updateTicket(t.id, { status: "Pending" }, {
          actor: "li",
        });
      }
    }
    await h.store.updateTicket(printers[0]!, { status: "Pending" }, {
      actor: "li",
    });
    const search = await b.get("/dashboard?q=printer");
    assert.equal(countOf(search.text, "count-pending"), "1");
    assert.equal(countOf(search.text, "count-open"), "3");
    assert.equal(countOf(search.text, "count-unsolved"), "4");
    const everything = await b.get("/dashboard");
    assert.equal(countOf(everything.text, "count-pending"), "11");

    const product = await b.get("/dashboard?product=router");
    assert.deepEqual(cardIds(product.text), [...printers].reverse());
    assert.equal(countOf(product.text, "count-unsolved"), "4");
    const upper = await b.get("/dashboard?product=ROUTER-AX");
    assert.deepEqual(cardIds(upper.text), [...printers].reverse());

    await h.store.updateTicket(printers[1]!, { priority: "Urgent" }, {
      actor: "li",
    });
    const urgent = await b.get("/dashboard?priority=Urgent");
    assert.equal(countOf(urgent.text, "count-unsolved"), "1");
    assert.equal(countOf(urgent.text, "owner-count-unassigned"), "1");
    // The board's own answer to a quick change brings the same counts.
    const moved = await b.post(`/tickets/${printers[2]}/status`, {
      status: "Closed",
      version: "1",
      seen: "Open",
      view: "card",
      back: "/dashboard?q=printer",
    }, HX);
    assert.equal(moved.status, 200);
    assert.match(moved.text, /id="count-unsolved"[^>]*>3</);
    assert.match(moved.text, /id="count-closed"[^>]*>1</);
  });
});

Deno.test("counts that stop at the cap say so", () => {
  assert.equal(countText(10_000, true), "10,000+");
  assert.equal(countText(1234), "1,234");
});

Deno.test("latest activity is an order of its own, with pages that continue it", async () => {
  await withApp(async (h) => {
    const b = await team(h);
    const first = await create(h);
    const second = await create(h);
    await h.store.addComment(first.id, "still broken", { actor: "li" });
    const page = await b.get("/dashboard?sort=activity");
    // Latest activity first; two changes in one millisecond tie by number.
    const [a, z] = [
      (await h.store.getTicket(first.id))!,
      (await h.store.getTicket(second.id))!,
    ];
    const expected = a.updated_at > z.updated_at ? [a.id, z.id] : [z.id, a.id];
    assert.deepEqual(cardIds(page.text), expected);
    assert.match(page.text, /<option value="activity" selected>/);
    assert.match(page.text, /most recently active/);
  });
});

Deno.test("a quick change that moves a card out of the view leaves a placeholder with Undo, and Undo puts it back", async () => {
  await withApp(async (h) => {
    const b = await team(h);
    const t = await create(h);
    const closed = await b.post(`/tickets/${t.id}/status`, {
      status: "Closed",
      version: "1",
      seen: "Open",
      view: "card",
      back: "/dashboard",
    }, HX);
    assert.equal(closed.status, 200);
    assert.match(
      closed.text,
      new RegExp(
        `^<article id="ticket-${t.id}" class="ticket-card moved"[^>]*><p>#${t.id} moved to Closed</p>`,
      ),
    );
    assert.match(closed.text, /id="count-unsolved"[^>]*>0</);
    // The offer, for eight seconds in the page's region (key u).
    assert.match(
      closed.text,
      /<div id="undo" hx-swap-oob="innerHTML"><div class="undo-offer"[^>]*><span>Closed #\d+<\/span>/,
    );
    const change = /name="change" value="([^"]+)"/.exec(closed.text)![1]!;
    assert.equal(change, `${t.id}:status:2:Open:Closed`);

    const undone = await b.post("/tickets/undo", {
      change,
      view: "card",
      back: "/dashboard",
    }, HX);
    assert.equal(undone.status, 200);
    assert.match(
      undone.text,
      new RegExp(
        `^<article id="ticket-${t.id}" class="ticket-card status-open`,
      ),
    );
    assert.match(undone.text, /<span>Undone: #\d+ is Open again<\/span>/);
    assert.match(undone.text, /id="count-unsolved"[^>]*>1</);
    assert.doesNotMatch(undone.text, /data-undo=""/, "an Undo is not undone");
    const now = await h.store.getTicket(t.id);
    assert.equal(now?.status, "Open");
    const last = (await h.store.ticketActivity(t.id)).at(-1);
    assert.equal(last?.actor, "maria");
    assert.deepEqual(last?.data.changes, {
      status: { from: "Closed", to: "Open" },
    });
  });
});

Deno.test("Undo leaves alone a field someone else changed meanwhile, and says so", async () => {
  await withApp(async (h) => {
    const b = await team(h);
    const t = await create(h);
    const res = await b.post(`/tickets/${t.id}/priority`, {
      priority: "Urgent",
      version: "1",
      seen: "Normal",
      view: "card",
      back: "/dashboard",
    }, HX);
    assert.match(res.text, /<span>Urgent priority for #\d+<\/span>/);
    const change = /name="change" value="([^"]+)"/.exec(res.text)![1]!;
    await h.store.updateTicket(t.id, { priority: "High" }, { actor: "li" });
    const undo = await b.post("/tickets/undo", {
      change,
      view: "card",
      back: "/dashboard",
    }, HX);
    assert.equal(undo.status, 409);
    assert.match(
      undo.text,
      /Not undone: ticket \d+ was changed meanwhile \(its priority is now High\)\./,
    );
    assert.equal((await h.store.getTicket(t.id))?.priority, "High");

    // A change to another field meanwhile does not stop it.
    const t2 = await create(h);
    const took = await b.post(`/tickets/${t2.id}/assignee`, {
      assignee: "@me",
      version: "1",
      seen: "",
      view: "card",
      back: "/dashboard",
    }, HX);
    const take = /name="change" value="([^"]+)"/.exec(took.text)![1]!;
    await h.store.updateTicket(t2.id, { status: "Pending" }, { actor: "li" });
    const released = await b.post("/tickets/undo", {
      change: take,
      view: "card",
      back: "/dashboard",
    }, HX);
    assert.equal(released.status, 200);
    assert.match(released.text, /Undone: #\d+ is unassigned again/);
    const now = await h.store.getTicket(t2.id);
    assert.equal(now?.assignee, null);
    assert.equal(now?.status, "Pending");
  });
});

Deno.test("Undo works without JavaScript, from the board and from the ticket page", async () => {
  await withApp(async (h) => {
    const b = await team(h);
    const t = await create(h);
    const res = await b.post(`/tickets/${t.id}/status`, {
      status: "Pending",
      version: "1",
      seen: "Open",
      view: "page",
      back: "/dashboard?status=Open",
    });
    assert.equal(res.status, 303);
    const to = res.res.headers.get("location")!;
    assert.match(to, new RegExp(`^/tickets/${t.id}\\?back=.*&undo=`));
    const page = await b.get(to);
    assert.match(page.text, /<span>Pending #\d+<\/span>/);
    assert.match(page.text, /<input type="hidden" name="view" value="page">/);
    const change = /name="change" value="([^"]+)"/.exec(page.text)![1]!;
    const undo = await b.post("/tickets/undo", {
      change,
      view: "page",
      back: "/dashboard?status=Open",
    });
    assert.equal(undo.status, 303);
    assert.equal(
      undo.res.headers.get("location"),
      `/tickets/${t.id}?back=${encodeURIComponent("/dashboard?status=Open")}`,
    );
    assert.equal((await h.store.getTicket(t.id))?.status, "Open");
  });
});

Deno.test("a bulk change is undone in one go, each ticket to what it was", async () => {
  await withApp(async (h) => {
    const b = await team(h);
    const a = await create(h);
    const c = await create(h);
    await h.store.updateTicket(c.id, { status: "Pending" }, { actor: "li" });
    const bulk = await b.post("/tickets/bulk", {
      ids: [String(a.id), String(c.id)],
      [`v${a.id}`]: "1",
      [`v${c.id}`]: "2",
      status: "Closed",
      back: "/dashboard?status=all",
    }, HX);
    assert.equal(bulk.status, 200);
    assert.match(bulk.text, /Changed 2 of 2 tickets/);
    const changes = [
      ...bulk.text.matchAll(/name="change" value="([^"]+)"/g),
    ].map((m) => m[1]!);
    assert.deepEqual(changes.sort(), [
      `${a.id}:status:2:Open:Closed`,
      `${c.id}:status:3:Pending:Closed`,
    ]);
    const undo = await b.post("/tickets/undo", {
      change: changes,
      view: "board",
      back: "/dashboard?status=all",
    }, HX);
    assert.equal(undo.status, 200);
    assert.match(undo.text, /Undone: 2 tickets are as they were/);
    assert.equal((await h.store.getTicket(a.id))?.status, "Open");
    assert.equal((await h.store.getTicket(c.id))?.status, "Pending");
  });
});

Deno.test("an Undo that is not one this desk wrote is refused and changes nothing", async () => {
  await withApp(async (h) => {
    const b = await team(h);
    const t = await create(h);
    for (
      const change of [
        "",
        "nonsense",
        `${t.id}:status:1:Done:Open`,
        `${t.id}:description:1:a:b`,
        `${t.id}:priority:1:Critical:Normal`,
        `0:status:1:Open:Closed`,
      ]
    ) {
      const res = await b.post("/tickets/undo", {
        change,
        view: "card",
        back: "/dashboard",
      }, HX);
      assert.equal(res.status, 422, change);
    }
    const badView = await b.post("/tickets/undo", {
      change: `${t.id}:status:1:Open:Closed`,
      view: "window",
    }, HX);
    assert.equal(badView.status, 422);
    const missing = await b.post("/tickets/undo", {
      change: `999:status:1:Open:Closed`,
      view: "card",
    }, HX);
    assert.equal(missing.status, 404);
    const t2 = await h.store.getTicket(t.id);
    assert.equal(t2?.version, 1);

    // Putting back an owner who has since been disabled is refused in words.
    const given = await b.post(`/tickets/${t.id}/assignee`, {
      assignee: "li",
      version: "1",
      seen: "",
      view: "card",
    }, HX);
    const changeToLi = /name="change" value="([^"]+)"/.exec(given.text)![1]!;
    const back = await b.post(`/tickets/${t.id}/assignee`, {
      assignee: "",
      version: "2",
      seen: "li",
      view: "card",
      confirm: "1",
    }, HX);
    const release = /name="change" value="([^"]+)"/.exec(back.text)![1]!;
    assert.ok(changeToLi);
    await h.store.setUserDisabled("li", true);
    const refused = await b.post("/tickets/undo", {
      change: release,
      view: "card",
    }, HX);
    assert.equal(refused.status, 409);
    assert.match(refused.text, /Not undone: li can no longer own tickets/);
  });
});

Deno.test("the API lists the unsolved view and the latest-activity order, with cursors that continue them", async () => {
  await withApp(async (h) => {
    const key = await addApiKey(h.store);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(h)).id);
    await h.store.updateTicket(ids[1]!, { status: "Pending" }, { actor: "li" });
    await h.store.updateTicket(ids[2]!, { status: "Closed" }, { actor: "li" });
    const list = async (query: string) => {
      const res = await h.rawApp.request(`/api/v1/tickets?${query}`, {
        headers: bearer(key),
      });
      assert.equal(res.status, 200, query);
      return await res.json() as {
        items: { id: number; status: string }[];
        next_cursor: string | null;
      };
    };
    const unsolved = await list("status=unsolved");
    assert.deepEqual(
      unsolved.items.map((t) => t.id),
      [ids[4], ids[3], ids[1], ids[0]],
    );
    assert.deepEqual((await list("status=UNSOLVED")).items.length, 4);
    // Latest activity, two at a time, to the end.
    const seen: number[] = [];
    let cursor = "";
    for (let i = 0; i < 5; i++) {
      const page = await list(
        `sort=activity&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      seen.push(...page.items.map((t) => t.id));
      if (!page.next_cursor) break;
      cursor = encodeURIComponent(page.next_cursor);
    }
    assert.deepEqual([...seen].sort((a, b) => a - b), ids);
    const bad = await h.rawApp.request("/api/v1/tickets?status=solved", {
      headers: bearer(key),
    });
    const problem = await assertProblem(bad, 422, {});
    assert.match(
      JSON.stringify(problem.errors),
      /must be one of Open, Pending, Closed or unsolved/,
    );
    // The OpenAPI document says so.
    const doc = await (await h.rawApp.request("/api/openapi.json")).json();
    const params = doc.paths["/api/v1/tickets"].get.parameters as {
      name: string;
      schema: { enum?: string[] };
    }[];
    assert.deepEqual(
      params.find((p) => p.name === "status")?.schema.enum,
      ["Open", "Pending", "Closed", "unsolved"],
    );
    assert.ok(
      params.find((p) => p.name === "sort")?.schema.enum?.includes("activity"),
    );
  });
});
