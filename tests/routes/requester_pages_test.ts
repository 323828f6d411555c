/**
 * The requester's status page (/r/{token}) and its live stream, the comment
 * form's two kinds, and revoking the link from the ticket page.
 */
import assert from "node:assert/strict";
import {
  addUser,
  formPost,
  type Harness,
  jsonRequest,
  LOCAL_ORIGIN,
  logIn,
  sampleTicket,
  withApp,
} from "../fixtures.ts";
import { readSse, type SseFrame } from "../sse_client.ts";

const HTML = "text/html; charset=UTF-8";
const MARKER = "INTERNAL-MARKER-91c2";

/** A ticket made by the app, with the token of its requester_url. */
async function ticketWithLink(h: Harness) {
  const res = await h.app.request(
    "/api/v1/tickets",
    jsonRequest(sampleTicket({ user_id: "john_doe" })),
  );
  assert.equal(res.status, 201);
  const body = await res.json();
  return { id: body.id as number, token: body.requester_url.slice(3) };
}

Deno.test("GET /r/{token} shows the status and public replies, never an internal note, to anyone with the link", async () => {
  await withApp(async (h) => {
    const { id, token } = await ticketWithLink(h);
    await h.store.addComment(id, MARKER, { actor: "alice" });
    await h.store.addComment(id, "Please update the app", {
      actor: "alice",
      visibility: "public",
    });
    const res = await h.rawApp.request(`/r/${token}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), HTML);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const html = await res.text();
    assert.ok(!html.includes(MARKER));
    assert.ok(!html.includes("alice"), "no desk names reach the requester");
    assert.match(html, /<h1>Your request #1<\/h1>/);
    assert.match(html, /Please update the app/);
    assert.match(html, /<strong>Support team<\/strong>/);
    assert.match(html, /<form method="post" action="\/r\/1\.[\w-]{43}"/);
    assert.ok(html.includes(`data-channel="request=${token}"`));
    assert.ok(html.includes('data-hub="ticket-desk-requester"'));
    assert.ok(!html.includes("/dashboard"), "nothing links into the desk");
  });
});

Deno.test("GET /r/{token} answers a plain 404 page for an unknown, malformed or revoked link", async () => {
  await withApp(async (h) => {
    const { id, token } = await ticketWithLink(h);
    await h.store.revokeRequesterLink(id, { actor: "maria" });
    for (
      const t of [
        token,
        "1.abc",
        "7.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      ]
    ) {
      const res = await h.rawApp.request(`/r/${t}`);
      assert.equal(res.status, 404, t);
      assert.equal(res.headers.get("content-type"), HTML);
      const html = await res.text();
      assert.match(html, /This link does not work/);
      assert.ok(!html.includes("/dashboard"));
    }
  });
});

Deno.test("POST /r/{token} from the page adds the requester's public reply, reopens a Closed ticket and redirects back", async () => {
  await withApp(async (h) => {
    const { id, token } = await ticketWithLink(h);
    await h.store.updateTicket(id, { status: "Closed" }, { actor: "alice" });
    const res = await h.rawApp.request(
      `/r/${token}`,
      formPost({ body: "It broke again\r\nafter the update" }),
    );
    assert.equal(res.status, 303);
    const t = (await h.store.getTicket(id))!;
    assert.equal(t.status, "Open");
    const [c] = t.comment_list;
    assert.equal(
      res.headers.get("location"),
      `/r/${token}?sent=1#reply-${c!.id}`,
    );
    assert.deepEqual(
      [c!.author, c!.body, c!.visibility, c!.from_requester],
      ["john_doe", "It broke again\nafter the update", "public", true],
    );
    const page = await (await h.rawApp.request(`/r/${token}?sent=1`)).text();
    assert.match(page, /Reply sent\./);
    assert.match(page, /<strong>You<\/strong>/);
  });
});

Deno.test("POST /r/{token} from another site, or without an Origin, is refused and writes nothing", async () => {
  await withApp(async (h) => {
    const { id, token } = await ticketWithLink(h);
    for (const origin of ["https://evil.example", null]) {
      const res = await h.rawApp.request(
        `/r/${token}`,
        formPost({ body: "hi" }, { origin }),
      );
      assert.equal(res.status, 403);
    }
    assert.equal((await h.store.getTicket(id))!.comment_list.length, 0);
  });
});

Deno.test("POST /r/{token} with an empty reply shows the message beside the box and keeps nothing; the 11th reply in ten minutes waits", async () => {
  await withApp(async (h) => {
    const { id, token } = await ticketWithLink(h);
    const empty = await h.rawApp.request(
      `/r/${token}`,
      formPost({ body: "   " }),
    );
    assert.equal(empty.status, 422);
    const html = await empty.text();
    assert.match(
      html,
      /<small id="reply-error">Your reply must not be empty\.<\/small>/,
    );
    assert.match(html, /aria-describedby="reply-error"/);
    assert.equal((await h.store.getTicket(id))!.comment_list.length, 0);
    for (let i = 0; i < 10; i++) {
      const ok = await h.rawApp.request(
        `/r/${token}`,
        formPost({ body: `#${i}` }),
      );
      assert.equal(ok.status, 303);
    }
    const limited = await h.rawApp.request(
      `/r/${token}`,
      formPost({ body: "one more" }),
    );
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
    const page = await limited.text();
    assert.match(page, /You have sent many replies in a short time/);
    assert.match(page, /one more/, "the draft is kept");
    assert.equal((await h.store.getTicket(id))!.comment_list.length, 10);
  });
});

Deno.test("The ticket page's comment form adds an internal note by default and a public reply with the other button, labelled in the thread", async () => {
  await withApp(async (h) => {
    const { id } = await ticketWithLink(h);
    await addUser(h.store, "alice");
    const cookie = await logIn(h.rawApp, "alice");
    const post = (fields: Record<string, string>) =>
      h.rawApp.request(`/tickets/${id}/comments`, formPost(fields, { cookie }));
    assert.equal((await post({ body: "checked logs" })).status, 303);
    assert.equal(
      (await post({ body: "a note", visibility: "internal" })).status,
      303,
    );
    assert.equal(
      (await post({ body: "Fixed in 2.1", visibility: "public" })).status,
      303,
    );
    const t = (await h.store.getTicket(id))!;
    assert.deepEqual(t.comment_list.map((c) => c.visibility), [
      "internal",
      "internal",
      "public",
    ]);
    const page = await (await h.rawApp.request(`/tickets/${id}`, {
      headers: { Cookie: cookie },
    })).text();
    assert.equal((page.match(/>Internal note</g) ?? []).length, 2);
    assert.equal((page.match(/>Public reply</g) ?? []).length, 1);
    assert.match(
      page,
      /<button type="submit" name="visibility" value="internal" id="comment-submit">Add internal note<\/button>/,
    );
    assert.match(
      page,
      /value="public" id="comment-reply"[^>]*>Reply to requester</,
    );
    // In the one timeline, in the order they were written.
    const order = [...page.matchAll(/id="comment-(\d+)"/g)].map((m) =>
      Number(m[1])
    );
    assert.deepEqual(order, t.comment_list.map((c) => c.id));
    // htmx gets the thread, announced as what it was.
    const frag = await h.rawApp.request(
      `/tickets/${id}/comments`,
      formPost({ body: "again", visibility: "public" }, {
        cookie,
        headers: { "HX-Request": "true" },
      }),
    );
    assert.equal(frag.status, 200);
    assert.match(
      await frag.text(),
      /data-announce="Reply sent to the requester"/,
    );
  });
});

Deno.test("Revoking the requester link on the ticket page kills the old link, records who did it and shows the new one", async () => {
  await withApp(async (h) => {
    const { id, token } = await ticketWithLink(h);
    await addUser(h.store, "maria");
    const cookie = await logIn(h.rawApp, "maria");
    const before = await (await h.rawApp.request(`/tickets/${id}`, {
      headers: { Cookie: cookie },
    })).text();
    assert.ok(before.includes(`value="/r/${token}"`));
    const anon = await h.rawApp.request(
      `/tickets/${id}/requester-link/revoke`,
      formPost({}),
    );
    assert.equal(anon.status, 303);
    assert.match(anon.headers.get("location") ?? "", /^\/login/);
    assert.equal((await h.rawApp.request(`/r/${token}`)).status, 200);
    const res = await h.rawApp.request(
      `/tickets/${id}/requester-link/revoke`,
      formPost({}, { cookie }),
    );
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), `/tickets/${id}#requester-link`);
    assert.equal((await h.rawApp.request(`/r/${token}`)).status, 404);
    const after = await (await h.rawApp.request(`/tickets/${id}`, {
      headers: { Cookie: cookie },
    })).text();
    assert.match(after, /<strong>maria<\/strong> revoked the requester link/);
    const fresh = /value="\/r\/([\w.-]+)"/.exec(after)![1]!;
    assert.notEqual(fresh, token);
    assert.equal((await h.rawApp.request(`/r/${fresh}`)).status, 200);
    const frag = await h.rawApp.request(
      `/tickets/${id}/requester-link/revoke`,
      formPost({}, { cookie, headers: { "HX-Request": "true" } }),
    );
    assert.equal(frag.status, 200);
    const html = await frag.text();
    assert.match(html, /Link revoked/);
    assert.match(
      html,
      /id="timeline"[^>]*hx-swap-oob="true"[^]*maria<\/strong> revoked the requester link/,
    );
  });
});

/** Opens the requester's stream on the app, with no session. */
function requesterStream(h: Harness, token: string, after: number) {
  const q = new URLSearchParams({
    watch: `request=${token}`,
    after: String(after),
  });
  return h.rawApp.request(`/events?${q}`, {
    headers: { Accept: "text/event-stream" },
  });
}

Deno.test("A requester's stream needs no session, hears public replies and status of its ticket only, and never an internal note", async () => {
  await withApp(async (h) => {
    const { id, token } = await ticketWithLink(h);
    const other = await ticketWithLink(h);
    const res = await requesterStream(h, token, await h.store.latestEventId());
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const frames: SseFrame[] = [];
    const reading = (async () => {
      for await (const f of readSse(res)) {
        frames.push(f);
        if (f.data.includes("LAST-PUBLIC")) return;
      }
    })();
    await h.store.addComment(id, MARKER, { actor: "alice" });
    await h.store.addComment(other.id, "for someone else", {
      actor: "alice",
      visibility: "public",
    });
    await h.store.updateTicket(id, { status: "Pending" }, { actor: "alice" });
    await h.store.addComment(id, "LAST-PUBLIC reply", {
      actor: "alice",
      visibility: "public",
    });
    await reading;
    const data = frames.filter((f) => f.id !== undefined);
    // Only this ticket's status change and public reply: the internal note and
    // the other ticket's reply sent nothing, not even their ids.
    assert.equal(data.length, 2, JSON.stringify(data));
    assert.ok(data.every((f) => f.f === `request=${token}`));
    assert.match(data[0]!.data, /hx-target="#request-status"/);
    assert.match(data[0]!.data, /Pending/);
    assert.match(data[1]!.data, /hx-target="#replies" hx-swap="beforeend"/);
    assert.ok(!frames.some((f) => f.data.includes(MARKER)));
    assert.ok(!frames.some((f) => f.data.includes("someone else")));
    assert.ok(!frames.some((f) => f.data.includes("alice")));
  });
});

Deno.test("A requester's stream is refused for a bad link, and never mixed with the desk's channels", async () => {
  await withApp(async (h) => {
    const { id, token } = await ticketWithLink(h);
    const bad = await requesterStream(
      h,
      "1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      0,
    );
    assert.equal(bad.status, 404);
    await bad.body?.cancel();
    const q = new URLSearchParams();
    q.append("watch", `request=${token}`);
    q.append("after", "0");
    q.append("watch", `ticket=${id}`);
    q.append("after", "0");
    const headers = { Accept: "text/event-stream" };
    // Without a session the desk's channel needs a login…
    const anon = await h.rawApp.request(`/events?${q}`, { headers });
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
    // …and with one, a requester's channel does not ride along.
    await addUser(h.store, "alice");
    const cookie = await logIn(h.rawApp, "alice");
    const mixed = await h.rawApp.request(`/events?${q}`, {
      headers: { ...headers, Cookie: cookie, Origin: LOCAL_ORIGIN },
    });
    assert.equal(mixed.status, 400);
    await mixed.body?.cancel();
    // A request channel that names anything else is no request channel.
    const odd = await h.rawApp.request(
      `/events?watch=${
        encodeURIComponent(`request=${token}&ticket=${id}`)
      }&after=0`,
      { headers },
    );
    assert.equal(odd.status, 401);
    await odd.body?.cancel();
  });
});

Deno.test("A requester's reply reaches the agent's ticket page live, saying who and what", async () => {
  await withApp(async (h) => {
    const { id, token } = await ticketWithLink(h);
    await addUser(h.store, "alice");
    const cookie = await logIn(h.rawApp, "alice");
    const q = new URLSearchParams({
      watch: `ticket=${id}`,
      after: String(await h.store.latestEventId()),
    });
    const res = await h.rawApp.request(`/events?${q}`, {
      headers: { Accept: "text/event-stream", Cookie: cookie },
    });
    assert.equal(res.status, 200);
    const changes: Record<string, unknown>[] = [];
    const reading = (async () => {
      for await (const f of readSse(res)) {
        if (f.event !== "ticket-changed") continue;
        changes.push(JSON.parse(f.data));
        if (changes.length === 3) return;
      }
    })();
    await h.store.addComment(id, "a note", { actor: "alice" });
    await h.store.addComment(id, "a reply", {
      actor: "alice",
      visibility: "public",
    });
    const sent = await h.rawApp.request(
      `/r/${token}`,
      formPost({ body: "thanks!" }),
    );
    assert.equal(sent.status, 303);
    await reading;
    assert.deepEqual(changes.map((c) => [c.actor, c.text]), [
      ["alice", `alice added an internal note to #${id}`],
      ["alice", `alice replied to the requester on #${id}`],
      ["requester:john_doe", `john_doe (requester) replied on #${id}`],
    ]);
  });
});
