/** Team triage through the app: owners and priorities in the API and the dashboard, bulk changes, views. */
import assert from "node:assert/strict";
import {
  addUser,
  assertProblem,
  createTicket,
  formPost,
  type Harness,
  jsonRequest,
  logIn,
  withApp,
} from "../fixtures.ts";

const HX = { "HX-Request": "true", "HX-Request-Type": "partial" };

/** maria and li, agents, with maria signed in; returns maria's session cookie. */
async function team(h: Harness): Promise<string> {
  await addUser(h.store, "maria");
  await addUser(h.store, "li");
  return await logIn(h.rawApp, "maria");
}

function post(
  h: Harness,
  cookie: string,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return h.rawApp.request(path, formPost(fields, { cookie, headers }));
}

async function htmlOf(res: Response, status: number): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, text.slice(0, 300));
  assert.equal(res.headers.get("content-type"), "text/html; charset=UTF-8");
  return text;
}

Deno.test("PATCH assignee without If-Match takes a free ticket, and refuses to take another's with 409 naming the owner", async () => {
  await withApp(async (h) => {
    await team(h);
    const t = await createTicket(h.app);
    const take = await h.app.request(
      `/api/v1/tickets/${t.id}`,
      jsonRequest({ assignee: "MARIA" }, { method: "PATCH" }),
    );
    assert.equal(take.status, 200);
    const taken = await take.json();
    assert.equal(taken.assignee, "maria");
    assert.equal(taken.version, 2);

    const steal = await h.app.request(
      `/api/v1/tickets/${t.id}`,
      jsonRequest({ assignee: "li" }, { method: "PATCH" }),
    );
    const problem = await assertProblem(steal, 409, {
      type: "/problems/already-assigned",
      title: "Already assigned",
    });
    assert.equal(problem.assignee, "maria");
    assert.match(String(problem.detail), /"maria" owns it/);

    // Reassigning with the version seen is a deliberate change.
    const reassign = await h.app.request(
      `/api/v1/tickets/${t.id}`,
      jsonRequest({ assignee: "li" }, {
        method: "PATCH",
        headers: { "If-Match": '"2"' },
      }),
    );
    assert.equal(reassign.status, 200);
    assert.equal((await reassign.json()).assignee, "li");

    const unknown = await h.app.request(
      `/api/v1/tickets/${t.id}`,
      jsonRequest({ assignee: "ghost", priority: "urgent" }, {
        method: "PATCH",
      }),
    );
    await assertProblem(unknown, 422, { fields: ["assignee"] });
    const bad = await h.app.request(
      `/api/v1/tickets/${t.id}`,
      jsonRequest({ priority: "Critical" }, { method: "PATCH" }),
    );
    await assertProblem(bad, 422, { fields: ["priority"] });
  });
});

Deno.test("The API creates with a priority, lists by owner and priority, and pages Urgent first with cursors", async () => {
  await withApp(async (h) => {
    await team(h);
    const low = await createTicket(h.app, { priority: "low" });
    assert.equal(low.priority, "Low");
    const urgent = await createTicket(h.app, { priority: "Urgent" });
    const normal = await createTicket(h.app);
    await h.app.request(
      `/api/v1/tickets/${normal.id}`,
      jsonRequest({ assignee: "li" }, { method: "PATCH" }),
    );
    const list = async (query: string) => {
      const res = await h.app.request(`/api/v1/tickets?${query}`);
      assert.equal(res.status, 200, query);
      return await res.json();
    };
    assert.deepEqual(
      (await list("assignee=@none")).items.map((t: { id: number }) => t.id),
      [urgent.id, low.id],
    );
    assert.deepEqual(
      (await list("assignee=li")).items.map((t: { id: number }) => t.id),
      [normal.id],
    );
    assert.deepEqual(
      (await list("priority=urgent")).items.map((t: { id: number }) => t.id),
      [urgent.id],
    );
    const first = await list("sort=priority&limit=2");
    assert.deepEqual(first.items.map((t: { id: number }) => t.id), [
      urgent.id,
      normal.id,
    ]);
    const rest = await list(
      `sort=priority&limit=2&cursor=${first.next_cursor}`,
    );
    assert.deepEqual(rest.items.map((t: { id: number }) => t.id), [low.id]);
    // A cursor of one sort is refused by another.
    const other = await h.app.request(
      `/api/v1/tickets?sort=oldest&cursor=${first.next_cursor}`,
    );
    await assertProblem(other, 422, { fields: ["cursor"] });
    const legacy = await h.app.request(
      "/create_ticket",
      jsonRequest({
        user_id: "x",
        pdf_link: "https://example.com/a.pdf",
        priority: "Urgent",
      }),
    );
    assert.equal(legacy.status, 201);
    assert.deepEqual(Object.keys(await legacy.json()), [
      "success",
      "ticket_id",
      "message",
    ]);
  });
});

Deno.test("POST /api/v1/tickets/bulk changes up to 100 tickets and says per ticket 200, 404, 409 or 412", async () => {
  await withApp(async (h) => {
    await team(h);
    const a = await createTicket(h.app);
    const b = await createTicket(h.app);
    const c = await createTicket(h.app);
    await h.app.request(
      `/api/v1/tickets/${b.id}`,
      jsonRequest({ assignee: "li" }, { method: "PATCH" }),
    );
    const res = await h.app.request(
      "/api/v1/tickets/bulk",
      jsonRequest({
        ids: [a.id, b.id, c.id, 999],
        patch: { assignee: "maria", priority: "High" },
        versions: { [String(c.id)]: 7 },
      }),
    );
    assert.equal(res.status, 200);
    const { results } = await res.json();
    assert.deepEqual(
      results.map((r: { id: number; status: number }) => [r.id, r.status]),
      [[a.id, 200], [b.id, 409], [c.id, 412], [999, 404]],
    );
    assert.equal(results[0].ticket.assignee, "maria");
    assert.equal(results[0].ticket.priority, "High");
    assert.equal(results[1].problem.type, "/problems/already-assigned");
    assert.equal(results[1].problem.assignee, "li");
    assert.equal(results[2].problem.current_version, 1);

    for (
      const body of [
        { ids: [], patch: { status: "Closed" } },
        { ids: [a.id, a.id], patch: { status: "Closed" } },
        { ids: Array.from({ length: 101 }, (_, i) => i + 1), patch: {} },
        { ids: [a.id], patch: { description: "x" } },
        { ids: [a.id], patch: { assignee: "ghost" } },
      ]
    ) {
      const refused = await h.app.request(
        "/api/v1/tickets/bulk",
        jsonRequest(body),
      );
      await assertProblem(refused, 422);
    }
  });
});

Deno.test("Take on a card makes it yours; the counts of Mine and Unassigned come along", async () => {
  await withApp(async (h) => {
    const cookie = await team(h);
    const t = await createTicket(h.app);
    const body = await htmlOf(
      await post(h, cookie, `/tickets/${t.id}/assignee`, {
        assignee: "@me",
        version: "1",
        seen: "",
        view: "card",
      }, { ...HX, Referer: "http://localhost/dashboard?assignee=%40none" }),
      200,
    );
    // Taken, it has left the Unassigned view: a placeholder with Undo.
    assert.match(
      body,
      new RegExp(
        `^<article id="ticket-${t.id}" class="ticket-card moved"[^>]*><p>#${t.id} now belongs to maria</p>`,
      ),
    );
    assert.match(body, /<span>Took #\d+<\/span>/);
    const onAll = await htmlOf(
      await post(h, cookie, `/tickets/${t.id}/assignee`, {
        assignee: "",
        version: "2",
        seen: "maria",
        view: "card",
      }, HX),
      200,
    );
    assert.match(onAll, /<span>Unassigned #\d+<\/span>/);
    const body2 = await htmlOf(
      await post(h, cookie, `/tickets/${t.id}/assignee`, {
        assignee: "@me",
        version: "3",
        seen: "",
        view: "card",
      }, { ...HX, Referer: "http://localhost/dashboard" }),
      200,
    );
    assert.match(body2, new RegExp(`^<article id="ticket-${t.id}"[^>]*mine`));
    assert.match(body2, /data-owner="maria"/);
    assert.match(body2, /id="owner-count-unassigned"[^>]*>0</);
    assert.match(body2, /data-by-owner="\{&quot;maria&quot;:1\}"/);
    assert.equal((await h.store.getTicket(t.id))?.assignee, "maria");
  });
});

Deno.test("Two agents taking one ticket: the second is told who has it, and nothing is stolen", async () => {
  await withApp(async (h) => {
    const maria = await team(h);
    const li = await logIn(h.rawApp, "li");
    const t = await createTicket(h.app);
    const form = { assignee: "@me", version: "1", seen: "", view: "card" };
    const first = await post(h, li, `/tickets/${t.id}/assignee`, form, HX);
    assert.equal(first.status, 200);
    await first.body?.cancel();
    const second = await htmlOf(
      await post(h, maria, `/tickets/${t.id}/assignee`, form, HX),
      409,
    );
    assert.match(
      second,
      /role="alert">Not changed: li took ticket \d+ meanwhile\./,
    );
    assert.equal((await h.store.getTicket(t.id))?.assignee, "li");
  });
});

Deno.test("Taking a ticket someone else owns asks first, and the confirming button does it", async () => {
  await withApp(async (h) => {
    const cookie = await team(h);
    const t = await createTicket(h.app);
    await h.store.updateTicket(t.id, { assignee: "li" }, { actor: "li" });
    const asked = await htmlOf(
      await post(h, cookie, `/tickets/${t.id}/assignee`, {
        assignee: "@me",
        version: "2",
        seen: "li",
        view: "card",
      }, HX),
      409,
    );
    assert.match(asked, /li owns ticket \d+\./);
    assert.match(asked, /name="confirm" value="1"/);
    assert.match(asked, /Take it from li<\/button>/);
    assert.equal((await h.store.getTicket(t.id))?.assignee, "li");
    const done = await post(h, cookie, `/tickets/${t.id}/assignee`, {
      assignee: "maria",
      version: "2",
      seen: "li",
      view: "card",
      confirm: "1",
    }, HX);
    assert.equal(done.status, 200);
    await done.body?.cancel();
    assert.equal((await h.store.getTicket(t.id))?.assignee, "maria");
    const events = await h.store.ticketActivity(t.id);
    assert.deepEqual(events.at(-1)?.data.changes, {
      assignee: { from: "li", to: "maria" },
    });
  });
});

Deno.test("The priority select and the ticket page's buttons set the priority, without JavaScript too", async () => {
  await withApp(async (h) => {
    const cookie = await team(h);
    const t = await createTicket(h.app);
    const plain = await post(h, cookie, `/tickets/${t.id}/priority`, {
      priority: "Urgent",
      version: "1",
      seen: "Normal",
      view: "page",
    });
    assert.equal(plain.status, 303);
    assert.equal(
      plain.headers.get("location"),
      `/tickets/${t.id}?undo=${t.id}%3Apriority%3A2%3ANormal%3AUrgent`,
    );
    const page = await htmlOf(
      await h.rawApp.request(`/tickets/${t.id}`, {
        headers: { Cookie: cookie },
      }),
      200,
    );
    assert.match(
      page,
      /id="ticket-status-priority-urgent" aria-pressed="true"/,
    );
    assert.match(page, /changed the priority from Normal to Urgent/);
    const refused = await post(h, cookie, `/tickets/${t.id}/priority`, {
      priority: "Critical",
      version: "2",
      seen: "Urgent",
    }, HX);
    assert.equal(refused.status, 422);
    await refused.body?.cancel();
  });
});

Deno.test("The bulk form changes the selected tickets, skips the one changed meanwhile and links it, without JavaScript", async () => {
  await withApp(async (h) => {
    const cookie = await team(h);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createTicket(h.app)).id);
    await h.store.updateTicket(ids[2]!, { status: "Pending" }, { actor: "li" });
    const fields = new URLSearchParams({
      back: "/dashboard?status=Open",
      status: "Closed",
      assignee: "@me",
      priority: "",
    });
    for (const id of ids) {
      fields.append("ids", String(id));
      fields.append(`v${id}`, "1");
    }
    const res = await h.rawApp.request("/tickets/bulk", {
      method: "POST",
      headers: {
        Cookie: cookie,
        Origin: "http://localhost",
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: fields.toString(),
    });
    assert.equal(res.status, 303);
    const to = res.headers.get("location")!;
    assert.ok(
      to.startsWith(`/dashboard?status=Open&bulk=4.5&skipped=${ids[2]}&undo=`),
      to,
    );
    const page = await htmlOf(
      await h.rawApp.request(to, { headers: { Cookie: cookie } }),
      200,
    );
    // The Undo offer comes along: every change, in one form.
    assert.match(page, /<span>Changed 4 tickets<\/span>/);
    assert.equal(page.match(/name="change"/g)?.length, 8);
    assert.match(
      page,
      new RegExp(
        `1 of 5 was changed meanwhile and left as they are — review it: <a href="/tickets/${
          ids[2]
        }">#${ids[2]}</a>`,
      ),
    );
    for (const id of ids) {
      const t = await h.store.getTicket(id);
      if (id === ids[2]) assert.equal(t?.status, "Pending");
      else {
        assert.equal(t?.status, "Closed");
        assert.equal(t?.assignee, "maria");
      }
    }
    const nothing = await h.rawApp.request("/tickets/bulk", {
      method: "POST",
      headers: {
        Cookie: cookie,
        Origin: "http://localhost",
        "Content-Type": "application/x-www-form-urlencoded",
        ...HX,
      },
      body: "status=Closed",
    });
    assert.equal(nothing.status, 422);
    await nothing.body?.cancel();
  });
});

Deno.test("Mine, Unassigned and a user's name are views of the dashboard, combinable with a status and a search", async () => {
  await withApp(async (h) => {
    const cookie = await team(h);
    const mine = await createTicket(h.app, { user_id: "wifi_person" });
    const theirs = await createTicket(h.app, { user_id: "wifi_other" });
    const free = await createTicket(h.app, { user_id: "wifi_free" });
    await h.store.updateTicket(mine.id, { assignee: "maria" }, { actor: "x" });
    await h.store.updateTicket(theirs.id, { assignee: "li" }, { actor: "x" });
    const view = async (query: string) => {
      const body = await htmlOf(
        await h.rawApp.request(`/dashboard?${query}`, {
          headers: { Cookie: cookie, ...HX },
        }),
        200,
      );
      return [...body.matchAll(/<article id="ticket-(\d+)"/g)].map((m) =>
        Number(m[1])
      );
    };
    assert.deepEqual(await view("assignee=%40me"), [mine.id]);
    assert.deepEqual(await view("assignee=%40none"), [free.id]);
    assert.deepEqual(await view("assignee=li&q=wifi"), [theirs.id]);
    assert.deepEqual(await view("assignee=%40me&status=Closed"), []);
    assert.deepEqual(await view("assignee=%40none&sort=oldest"), [free.id]);
    const csv = await (await h.rawApp.request("/tickets.csv?assignee=%40me", {
      headers: { Cookie: cookie },
    })).text();
    assert.match(csv, new RegExp(`\\r\\n${mine.id},Open,Normal,maria,`));
    assert.equal(csv.trimEnd().split("\r\n").length, 2);
  });
});

Deno.test("A disabled user's tickets say so on their cards, and an admin hands back their open ones in one click", async () => {
  await withApp(async (h) => {
    await team(h);
    await addUser(h.store, "boss", { role: "admin" });
    const admin = await logIn(h.rawApp, "boss");
    const t = await createTicket(h.app);
    await h.store.updateTicket(t.id, { assignee: "li" }, { actor: "li" });
    await h.store.setUserDisabled("li", true);
    const board = await htmlOf(
      await h.rawApp.request("/dashboard", { headers: { Cookie: admin } }),
      200,
    );
    assert.match(
      board,
      /data-owner="li">li<span class="owner-disabled">\(disabled\)</,
    );
    const settings = await htmlOf(
      await h.rawApp.request("/settings", { headers: { Cookie: admin } }),
      200,
    );
    assert.match(settings, /Unassign all of li&#39;s open tickets \(1\)/);
    const res = await post(h, admin, "/settings/users/li/release", {});
    assert.equal(res.status, 303);
    assert.equal(
      res.headers.get("location"),
      "/settings?done=tickets-released",
    );
    assert.equal((await h.store.getTicket(t.id))?.assignee, null);
  });
});
