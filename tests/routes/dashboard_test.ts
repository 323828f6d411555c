import assert from "node:assert/strict";
import { hashPassword } from "../../lib/passwords.ts";
import type { NewTicket } from "../../db/store.ts";
import { ASSETS } from "../../routes/assets.ts";
import { csvCell } from "../../routes/csv.ts";
import { type Harness, withApp } from "../fixtures.ts";

const HTML = "text/html; charset=UTF-8";
const ORIGIN = "http://localhost";
const USER = "alice";

/** A signed-in browser: sends the session cookie and our Origin on every request. */
interface Browser {
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  post(
    path: string,
    form: Record<string, string>,
    headers?: Record<string, string>,
  ): Promise<Response>;
}

async function signIn(h: Harness): Promise<Browser> {
  await h.store.createUser({
    username: USER,
    passwordHash: await hashPassword("correct horse battery"),
    role: "admin",
  });
  const res = await h.rawApp.request("/login", {
    method: "POST",
    headers: {
      Origin: ORIGIN,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({
      username: USER,
      password: "correct horse battery",
      next: "/dashboard",
    }),
  });
  assert.equal(res.status, 303, "login");
  const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  const send = (path: string, init: RequestInit) =>
    Promise.resolve(h.rawApp.request(path, init));
  return {
    get: (path, headers = {}) =>
      send(path, { headers: { Cookie: cookie, ...headers } }),
    post: (path, form, headers = {}) =>
      send(path, {
        method: "POST",
        headers: {
          Cookie: cookie,
          Origin: ORIGIN,
          "Content-Type": "application/x-www-form-urlencoded",
          ...headers,
        },
        body: new URLSearchParams(form),
      }),
  };
}

const HX = { "HX-Request": "true", "HX-Request-Type": "partial" };

function newTicket(overrides: Partial<NewTicket> = {}): NewTicket {
  return {
    user_id: "john_doe",
    pdf_link: "https://example.com/guide.pdf",
    product_id: "PROD123",
    other_ids: null,
    ...overrides,
  };
}

async function create(h: Harness, overrides: Partial<NewTicket> = {}) {
  return (await h.store.createTicket(newTicket(overrides), { actor: "api" }))
    .ticket;
}

function dashboardTest(
  name: string,
  fn: (h: Harness, b: Browser) => Promise<void>,
) {
  Deno.test(name, () => withApp(async (h) => fn(h, await signIn(h))));
}

async function html(res: Response, status: number): Promise<string> {
  assert.equal(res.status, status);
  assert.equal(res.headers.get("content-type"), HTML);
  return await res.text();
}

function count(text: string, re: RegExp): number {
  return [...text.matchAll(new RegExp(re, "g"))].length;
}

dashboardTest("GET / redirects to the dashboard", async (_h, b) => {
  const res = await b.get("/");
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/dashboard");
});

dashboardTest(
  "GET /dashboard with no tickets explains how to create one with curl",
  async (_h, b) => {
    const page = await html(await b.get("/dashboard"), 200);
    assert.match(page, /^<!doctype html>/i);
    assert.match(page, /No tickets yet/);
    assert.match(page, /curl -X POST http:\/\/localhost\/create_ticket/);
    assert.match(page, /<main class="container[^"]*" id="main"/);
  },
);

dashboardTest(
  "GET /dashboard renders cards newest first with badge, escaped text, safe PDF link and counts",
  async (h, b) => {
    const first = await create(h, { user_id: "<script>alert(1)</script>" });
    const second = await create(h, { other_ids: "ORDER-7" });
    await h.store.updateTicket(second.id, { status: "Pending" }, {
      actor: "x",
    });
    const page = await html(await b.get("/dashboard"), 200);
    assert.ok(
      page.indexOf(`id="ticket-${second.id}"`) <
        page.indexOf(`id="ticket-${first.id}"`),
      "newest first",
    );
    assert.ok(!page.includes("<script>alert(1)"), "user text is escaped");
    assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(page, /class="badge badge-pending"[^>]*>.*?Pending<\/span>/s);
    assert.match(
      page,
      /<a href="https:\/\/example.com\/guide.pdf" target="_blank" rel="noopener noreferrer nofollow">/,
    );
    assert.match(
      page,
      /<time datetime="[^"]+" title="[^"]+ UTC" data-relative="true">/,
    );
    assert.match(
      page,
      /id="tab-all"[^>]*>All <span class="count" id="count-all" data-count="All"\s*>2</,
    );
    assert.match(page, /id="tab-pending"[^>]*>Pending <span[^>]*>1</);
    assert.match(
      page,
      new RegExp(`<form method="post" action="/tickets/${first.id}/status"`),
    );
    // No inline scripts: every <script> has a src and is deferred.
    assert.equal(count(page, /<script(?![^>]*\bsrc=)[^>]*>/), 0);
    // One script, so htmx can never start before app.js or live.js arrive.
    assert.equal(count(page, /<script\b/), 1);
    assert.match(page, new RegExp(`<script src="${ASSETS.pageJs.url}" defer>`));
  },
);

dashboardTest(
  "the dashboard pages with keyset cursors: 50 cards, then the rest from /dashboard/cards",
  async (h, b) => {
    const ids: number[] = [];
    for (let i = 0; i < 60; i++) ids.push((await create(h)).id);
    const page = await html(await b.get("/dashboard"), 200);
    assert.equal(count(page, /<article id="ticket-/), 50);
    const cursor = ids[10]!;
    assert.match(
      page,
      new RegExp(`hx-get="/dashboard/cards\\?after=${cursor}"`),
    );
    assert.match(page, /hx-trigger="revealed, click"/);
    assert.match(page, new RegExp(`href="/dashboard\\?after=${cursor}"`));

    const more = await html(
      await b.get(`/dashboard/cards?after=${cursor}`, HX),
      200,
    );
    assert.doesNotMatch(more, /<!doctype/i);
    assert.equal(count(more, /<article id="ticket-/), 10);
    assert.match(more, /That is every ticket/);

    // Without JavaScript, "Load more" is a link to the next page.
    const next = await html(await b.get(`/dashboard?after=${cursor}`), 200);
    assert.equal(count(next, /<article id="ticket-/), 10);
    assert.match(next, /Back to the first page/);
  },
);

dashboardTest(
  "an htmx filter request returns the board fragment and pushes the canonical URL",
  async (h, b) => {
    const open = await create(h);
    const closed = await create(h);
    await h.store.updateTicket(closed.id, { status: "Closed" }, { actor: "x" });
    const res = await b.get("/dashboard?status=Closed&q=&product=", HX);
    const body = await html(res, 200);
    assert.equal(res.headers.get("hx-push-url"), "/dashboard?status=Closed");
    assert.match(body, /^<section id="board"/);
    assert.match(body, new RegExp(`id="ticket-${closed.id}"`));
    assert.doesNotMatch(body, new RegExp(`id="ticket-${open.id}"`));
    assert.match(body, /id="tab-closed"[^>]*aria-current="page"/);
    assert.match(
      body,
      /<span id="view-fields" hx-swap-oob="true"><input type="hidden" name="status" value="Closed">/,
    );

    const live = await b.get("/dashboard?live=1&q=john", HX);
    assert.equal(live.headers.get("hx-replace-url"), "/dashboard?q=john");
    await live.body?.cancel();

    // A history restore asks for the whole page.
    const restore = await html(
      await b.get("/dashboard?status=Closed", {
        "HX-Request": "true",
        "HX-History-Restore-Request": "true",
      }),
      200,
    );
    assert.match(restore, /^<!doctype html>/i);
  },
);

dashboardTest(
  "search highlights matches with <mark> and shows comment hits; #id jumps to the ticket",
  async (h, b) => {
    const t = await create(h, { user_id: "printer_guy" });
    await h.store.updateTicket(
      t.id,
      { description: "The <b>printer</b> jams" },
      {
        actor: "x",
      },
    );
    await h.store.addComment(t.id, "walrus in the paper tray", { actor: "x" });
    await create(h, { user_id: "someone_else" });

    const page = await html(await b.get("/dashboard?q=printer"), 200);
    assert.equal(count(page, /<article id="ticket-/), 1);
    assert.match(page, /<mark>printer<\/mark>_guy/);
    assert.match(page, /&lt;b&gt;<mark>printer<\/mark>&lt;\/b&gt; jams/);

    const comment = await html(await b.get("/dashboard?q=walrus"), 200);
    assert.match(
      comment,
      /In comments:<\/span> <mark>walrus<\/mark> in the paper tray/,
    );

    const none = await html(await b.get("/dashboard?q=zzz"), 200);
    assert.match(none, /No unsolved tickets matching “zzz”/);

    const jump = await b.get(`/dashboard?q=%23${t.id}`);
    assert.equal(jump.status, 303);
    assert.equal(jump.headers.get("location"), `/tickets/${t.id}`);
    const hxJump = await b.get(`/dashboard?q=${t.id}`, HX);
    assert.equal(hxJump.headers.get("hx-redirect"), `/tickets/${t.id}`);
    // While typing, a number only offers the jump.
    const typing = await html(
      await b.get(`/dashboard?live=1&q=${t.id}`, HX),
      200,
    );
    assert.match(typing, new RegExp(`Go to ticket #${t.id}`));
  },
);

dashboardTest(
  "POST /tickets/:id/status without JavaScript saves and redirects back with 303",
  async (h, b) => {
    const t = await create(h);
    const res = await b.post(`/tickets/${t.id}/status`, {
      status: "Pending",
      version: String(t.version),
      seen: "Open",
      view: "card",
    }, { Referer: "http://localhost/dashboard?status=Open" });
    assert.equal(res.status, 303);
    // Back to the board, with the change's Undo for the page to offer.
    assert.equal(
      res.headers.get("location"),
      `/dashboard?status=Open&undo=${t.id}%3Astatus%3A2%3AOpen%3APending`,
    );
    const back = await html(await b.get(res.headers.get("location")!), 200);
    assert.match(back, /<span>Pending #\d+<\/span>/);
    assert.match(
      back,
      new RegExp(`name="change" value="${t.id}:status:2:Open:Pending"`),
    );
    const now = await h.store.getTicket(t.id);
    assert.equal(now?.status, "Pending");
    const events = await h.store.ticketActivity(t.id);
    assert.equal(events.at(-1)?.actor, USER);
  },
);

dashboardTest(
  "POST /tickets/:id/status from a card with htmx returns just that card",
  async (h, b) => {
    const t = await create(h);
    const body = await html(
      await b.post(`/tickets/${t.id}/status`, {
        status: "Closed",
        version: String(t.version),
        seen: "Open",
        view: "card",
        back: "/dashboard?status=all",
      }, HX),
      200,
    );
    assert.match(body, new RegExp(`^<article id="ticket-${t.id}"`));
    assert.equal(count(body, /<article /), 1);
    assert.match(body, /class="badge badge-closed"/);
    assert.match(body, /id="ticket-\d+-set-closed" aria-pressed="true"/);
    // The tab counts come along, swapped in by id.
    assert.match(
      body,
      /<span class="count" id="count-closed" data-count="Closed" hx-swap-oob="true"\s*>1<\/span>/,
    );
    assert.match(body, /name="version" value="2"/);
  },
);

dashboardTest(
  "a stale quick status change returns 409 with the current card and saves nothing",
  async (h, b) => {
    const t = await create(h);
    await h.store.updateTicket(t.id, { status: "Pending" }, { actor: "bob" });
    const body = await html(
      await b.post(`/tickets/${t.id}/status`, {
        status: "Closed",
        version: String(t.version),
        seen: "Open",
        view: "card",
      }, HX),
      409,
    );
    assert.match(body, new RegExp(`^<article id="ticket-${t.id}"`));
    assert.match(
      body,
      /role="alert">Not changed: .* is now Pending\. Press Closed again/,
    );
    assert.match(body, /name="version" value="2"/);
    assert.equal((await h.store.getTicket(t.id))?.status, "Pending");
  },
);

dashboardTest(
  "a status change is applied when only another field changed since the form was rendered",
  async (h, b) => {
    const t = await create(h);
    await h.store.updateTicket(t.id, { description: "by bob" }, {
      actor: "bob",
    });
    const res = await b.post(`/tickets/${t.id}/status`, {
      status: "Closed",
      version: String(t.version),
      seen: "Open",
      view: "page",
    }, HX);
    const body = await html(res, 200);
    assert.match(body, /^<section id="ticket-status"/);
    // The timeline comes along, with the change at its end.
    assert.match(
      body,
      /<ol id="timeline"[^>]*hx-swap-oob="true"[^]*changed the status from Open to Closed[^]*<\/ol>/,
    );
    assert.equal((await h.store.getTicket(t.id))?.status, "Closed");
  },
);

dashboardTest(
  "GET /tickets/:id shows fields, legacy comments first, the thread and activity",
  async (h, b) => {
    const t = await create(h, { other_ids: "ORDER-1" });
    h.store.db.prepare("UPDATE tickets SET comments = ? WHERE id = ?").run(
      "called the customer",
      t.id,
    );
    await h.store.addComment(t.id, "line one\nline two", { actor: "bob" });
    await h.store.updateTicket(t.id, { status: "Pending" }, { actor: "bob" });
    const page = await html(
      await b.get(`/tickets/${t.id}`, {
        Referer: "http://localhost/dashboard?status=Open&q=x",
      }),
      200,
    );
    assert.match(page, new RegExp(`<h1>Ticket #${t.id}</h1>`));
    assert.match(
      page,
      /href="\/dashboard\?status=Open&amp;q=x" id="back-link"/,
    );
    assert.ok(
      page.indexOf("called the customer") < page.indexOf("line one"),
      "legacy text first",
    );
    assert.match(page, /<div class="text">line one\nline two<\/div>/);
    assert.match(
      page,
      /<strong>bob<\/strong> changed the status from Open to Pending/,
    );
    assert.match(page, /<strong>api<\/strong> created the ticket/);
    assert.match(page, /ORDER-1/);
    assert.match(page, /name="back" value="\/dashboard\?status=Open&amp;q=x"/);

    const missing = await html(await b.get("/tickets/999999"), 404);
    assert.match(missing, /Ticket 999999 does not exist/);
  },
);

dashboardTest(
  "the description is edited in place: edit form, saved fragment, 303 without JavaScript",
  async (h, b) => {
    const t = await create(h);
    const form = await html(
      await b.get(`/tickets/${t.id}/description/edit`, HX),
      200,
    );
    assert.match(form, /^<form id="description" method="post"/);
    assert.match(form, /name="version" value="1"/);
    assert.match(
      form,
      /<textarea id="description-text" name="description"[^>]*autofocus/,
    );

    const saved = await html(
      await b.post(`/tickets/${t.id}/description`, {
        description: "Screen is <blank>",
        version: "1",
        seen: "",
      }, HX),
      200,
    );
    assert.match(saved, /^<section id="description"/);
    assert.match(saved, /Screen is &lt;blank&gt;/);
    assert.match(saved, /hx-swap-oob="true"/);

    const plain = await b.post(`/tickets/${t.id}/description`, {
      description: "Second try",
      version: "2",
      seen: "Screen is <blank>",
    });
    assert.equal(plain.status, 303);
    assert.equal(plain.headers.get("location"), `/tickets/${t.id}#description`);
    assert.equal((await h.store.getTicket(t.id))?.description, "Second try");

    const noJs = await html(
      await b.get(`/tickets/${t.id}?edit=description`),
      200,
    );
    assert.match(noJs, /<form id="description" method="post"/);
  },
);

dashboardTest(
  "a stale description save returns 409 showing the current text beside the admin's",
  async (h, b) => {
    const t = await create(h);
    await h.store.updateTicket(t.id, { description: "bob's text" }, {
      actor: "bob",
    });
    const form = {
      description: "alice's text",
      version: "1",
      seen: "",
    };
    const body = await html(
      await b.post(`/tickets/${t.id}/description`, form, HX),
      409,
    );
    assert.match(body, /^<form id="description"[^>]*class="conflict"/);
    assert.match(body, /changed while you were editing<\/strong> \(by bob\)/);
    assert.match(body, /<div class="text current">bob&#39;s text<\/div>/);
    assert.match(body, /<textarea[^>]*>\nalice&#39;s text<\/textarea>/);
    assert.match(body, /name="version" value="2"/);
    assert.match(body, /Save mine over it/);
    assert.match(body, /Discard mine/);
    assert.equal((await h.store.getTicket(t.id))?.description, "bob's text");

    const page = await html(
      await b.post(`/tickets/${t.id}/description`, form),
      409,
    );
    assert.match(page, /^<!doctype html>/i);
    assert.match(page, /class="conflict"/);

    // Re-applying from the conflict form (current version, current text seen) saves.
    const again = await b.post(`/tickets/${t.id}/description`, {
      description: "alice's text",
      version: "2",
      seen: "bob's text",
    }, HX);
    assert.equal(again.status, 200);
    await again.body?.cancel();
    assert.equal((await h.store.getTicket(t.id))?.description, "alice's text");
  },
);

dashboardTest(
  "comments append with htmx, redirect without it; empty or NUL-holding text is refused with 422",
  async (h, b) => {
    const t = await create(h);
    const thread = await html(
      await b.post(
        `/tickets/${t.id}/comments`,
        { body: "first\r\nsecond" },
        HX,
      ),
      200,
    );
    // The timeline, and a fresh box in place of the form (out of band).
    assert.match(thread, /^<ol id="timeline"/);
    assert.match(thread, /<strong>alice<\/strong>/);
    assert.match(thread, /<div class="text">first\nsecond<\/div>/);
    assert.match(thread, /<form id="comment-form"[^>]*hx-swap-oob="true"/);
    assert.match(thread, /<textarea id="comment-body"[^>]*>\n<\/textarea>/);

    const plain = await b.post(`/tickets/${t.id}/comments`, { body: "third" });
    assert.equal(plain.status, 303);
    assert.match(
      plain.headers.get("location")!,
      new RegExp(`^/tickets/${t.id}#comment-\\d+$`),
    );

    const empty = await html(
      await b.post(`/tickets/${t.id}/comments`, { body: "  " }, HX),
      422,
    );
    assert.match(empty, /The comment must not be empty\./);
    assert.match(empty, /aria-invalid="true"/);
    const nul = await html(
      await b.post(`/tickets/${t.id}/comments`, { body: "cut\u0000here" }, HX),
      422,
    );
    assert.match(nul, /must not contain control characters \(found U\+0000\)/);
    const desc = await b.post(
      `/tickets/${t.id}/description`,
      { description: "keep\u0000lost", version: "1", seen: "" },
      HX,
    );
    assert.equal(desc.status, 422);
    await desc.body?.cancel();
    const after = await h.store.getTicket(t.id);
    assert.equal(after?.comment_list.length, 2);
    assert.equal(after?.description, "");
  },
);

dashboardTest(
  "an htmx request that fails gets a notice for the live region, a browser a page",
  async (_h, b) => {
    const form = { status: "Closed", version: "1", seen: "Open", view: "card" };
    const hx = await html(
      await b.post("/tickets/424242/status", form, HX),
      404,
    );
    assert.match(hx, /^<article class="error-notice"/);
    const page = await html(await b.post("/tickets/424242/status", form), 404);
    assert.match(page, /^<!doctype html>/i);
    const bad = await b.post("/tickets/1/status", {
      status: "Done",
      version: "1",
    }, HX);
    assert.equal(bad.status, 422);
    await bad.body?.cancel();
  },
);

dashboardTest(
  "GET /tickets.csv streams the filtered tickets, safe from formula injection",
  async (h, b) => {
    await create(h, { user_id: '=HYPERLINK("http://evil")', other_ids: "a,b" });
    const closed = await create(h, { user_id: "+closed" });
    await h.store.updateTicket(closed.id, { status: "Closed" }, { actor: "x" });
    // The default view, unsolved, leaves the Closed one out.
    const unsolved = (await (await b.get("/tickets.csv")).text()).trimEnd();
    assert.equal(unsolved.split("\r\n").length, 2);
    const res = await b.get("/tickets.csv?status=all");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/csv; charset=utf-8");
    assert.match(
      res.headers.get("content-disposition")!,
      /^attachment; filename="tickets-/,
    );
    const lines = (await res.text()).trimEnd().split("\r\n");
    assert.equal(
      lines[0],
      "id,status,priority,assignee,user_id,product_id,other_ids,pdf_link,description,comment_count,created_at,updated_at",
    );
    assert.equal(lines.length, 3);
    assert.match(lines[1]!, /^\d+,Closed,Normal,,'\+closed,/);
    assert.match(
      lines[2]!,
      /^\d+,Open,Normal,,"'=HYPERLINK\(""http:\/\/evil""\)",PROD123,"a,b",/,
    );

    const filtered = await b.get("/tickets.csv?status=Closed");
    assert.equal((await filtered.text()).trimEnd().split("\r\n").length, 2);
    assert.equal(csvCell("-1"), "'-1");
    assert.equal(csvCell("@x"), "'@x");
  },
);

dashboardTest(
  "assets are content-addressed, immutable and gzipped; pages are compressed",
  async (_h, b) => {
    const res = await b.get(ASSETS.pageJs.url, { "Accept-Encoding": "gzip" });
    assert.equal(res.status, 200);
    assert.equal(
      res.headers.get("content-type"),
      "text/javascript; charset=utf-8",
    );
    assert.equal(res.headers.get("content-encoding"), "gzip");
    assert.equal(
      res.headers.get("cache-control"),
      "public, max-age=31536000, immutable",
    );
    await res.body?.cancel();
    for (
      const a of [ASSETS.pageJs, ASSETS.appCss, ASSETS.pico]
    ) {
      const r = await b.get(a.url);
      assert.equal(r.status, 200, a.url);
      assert.match(a.url, /^\/static\/[\w-]+\.[0-9a-f]{12}\.(js|css)$/);
      assert.doesNotMatch(await r.text(), /sourceMappingURL/);
    }
    const page = await b.get("/dashboard", { "Accept-Encoding": "gzip" });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), HTML);
    assert.equal(page.headers.get("content-encoding"), "gzip");
    await page.body?.cancel();
  },
);

Deno.test("the dashboard needs a session: a browser without one is sent to /login", async () => {
  await withApp(async (h) => {
    const res = await h.rawApp.request("/dashboard");
    assert.equal(res.status, 303);
    assert.match(res.headers.get("location")!, /^\/login\?next=%2Fdashboard/);
  });
});

Deno.test(
  "CSV cells that a spreadsheet would run as formulas are guarded after leading whitespace and invisible characters",
  () => {
    for (
      const [raw, guarded] of [
        ["\n=HYPERLINK(1)", '"\'\n=HYPERLINK(1)"'],
        [" =1+1", "' =1+1"],
        ["\u200B=1+1", "'\u200B=1+1"],
        ["\uFEFF@SUM(A1)", "'\uFEFF@SUM(A1)"],
        ["\u2060\u00A0+1", "'\u2060\u00A0+1"],
        ["\t-2", "'\t-2"],
        ["plain = fine", "plain = fine"],
        ["a\n=b", '"a\n=b"'],
      ]
    ) {
      assert.equal(csvCell(raw!), guarded, JSON.stringify(raw));
    }
  },
);

for (
  const path of ["/dashboard", "/dashboard/cards", "/tickets.csv", "/events"]
) {
  for (const param of ["q", "product"]) {
    dashboardTest(
      `GET ${path} with a control character in ${param} answers 400 with a readable message, never 5xx`,
      async (_h, b) => {
        for (const c of ["%00", "%01", "%1F", "%7F", "%E2%80%AE"]) {
          const res = await b.get(`${path}?${param}=a${c}b`, {
            Accept: path === "/events" ? "text/event-stream" : "text/html",
          });
          const text = await res.text();
          assert.equal(res.status, 400, `${c}: ${text.slice(0, 200)}`);
          assert.doesNotMatch(text, /storage|SQLITE|sqlite/i);
          if (path !== "/events") {
            assert.match(text, /must not contain (control|bidirectional)/);
          }
        }
      },
    );
  }
}

dashboardTest(
  "a refused description comes back in the editor with the message beside the field, as the API words it",
  async (h, b) => {
    const t = await create(h);
    const long = "x".repeat(10_001);
    const hx = await html(
      await b.post(`/tickets/${t.id}/description`, {
        description: long,
        version: "1",
        seen: "",
      }, HX),
      422,
    );
    assert.match(hx, /^<form id="description"/);
    assert.match(
      hx,
      /aria-invalid="true" aria-describedby="description-error"/,
    );
    assert.match(
      hx,
      /<small id="description-error">The description must be at most 10000 characters\.<\/small>/,
    );
    assert.ok(hx.includes(long), "the text is kept in the box");
    const page = await html(
      await b.post(`/tickets/${t.id}/description`, {
        description: long,
        version: "1",
        seen: "",
      }),
      422,
    );
    assert.match(page, /^<!doctype html>/i);
    assert.match(
      page,
      /id="description-error">The description must be at most 10000 characters\./,
    );
    const api = await h.app.request(`/api/v1/tickets/${t.id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ description: long }),
    });
    const problem = await api.json();
    assert.equal(api.status, 422);
    assert.equal(problem.errors[0].detail, "must be at most 10000 characters");
    assert.equal((await h.store.getTicket(t.id))?.description, "");
  },
);
