/** Settings → Webhooks: admins only, the secret shown once, the delivery log with resend, and the dashboard's alert. */
import assert from "node:assert/strict";
import {
  addUser,
  firstDelivery,
  formPost,
  logIn,
  withConfiguredApp,
} from "../fixtures.ts";

const HTML = "text/html; charset=UTF-8";

Deno.test("Only admins reach Settings → Webhooks", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "agent1");
    const agent = await logIn(app, "agent1");
    const res = await app.request("/settings/webhooks", {
      headers: { Cookie: agent },
    });
    assert.equal(res.status, 403);
    const add = await app.request(
      "/settings/webhooks",
      formPost(
        { url: "https://hooks.example.com/", events: "ticket.created" },
        {
          cookie: agent,
        },
      ),
    );
    assert.equal(add.status, 403);
    assert.deepEqual(await store.listWebhooks(), []);
    const anon = await app.request("/settings/webhooks");
    assert.equal(anon.status, 303);
    assert.match(anon.headers.get("location") ?? "", /^\/login/);
  });
});

Deno.test("Adding an endpoint shows its secret once; the list never shows it again", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "root", { role: "admin" });
    const cookie = await logIn(app, "root");
    const body = new URLSearchParams([
      ["url", " https://hooks.example.com/desk "],
      ["events", "ticket.created"],
      ["events", "comment.public"],
    ]);
    const res = await app.request("/settings/webhooks", {
      method: "POST",
      headers: {
        Cookie: cookie,
        Origin: "http://localhost",
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), HTML);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const html = await res.text();
    const secret = /value="(whsec_[A-Za-z0-9+/=]+)"/.exec(html)?.[1];
    assert.ok(secret, "the secret is shown");
    const [w] = await store.listWebhooks();
    assert.equal(w!.url, "https://hooks.example.com/desk");
    assert.deepEqual(w!.events, ["ticket.created", "comment.public"]);
    const list = await (await app.request("/settings/webhooks", {
      headers: { Cookie: cookie },
    })).text();
    assert.ok(list.includes("https://hooks.example.com/desk"));
    assert.ok(!list.includes(secret));
    assert.ok(!list.includes("whsec_"));
    // The secret is the one the deliveries are signed with.
    const d = await firstDelivery(store, 1000);
    assert.deepEqual(d!.secrets, [secret]);
  });
});

Deno.test("A bad endpoint is refused with messages beside the fields, and nothing is stored", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "root", { role: "admin" });
    const cookie = await logIn(app, "root");
    const cases: [Record<string, string>, RegExp][] = [
      [
        { url: "not a url", events: "ticket.created" },
        /id="webhook-url-error"[^>]*>The URL must be an absolute http or https URL\./,
      ],
      [
        { url: "http://127.0.0.1:9000/", events: "ticket.created" },
        /id="webhook-url-error"[^>]*>The URL must not be the private address 127\.0\.0\.1/,
      ],
      [
        { url: "https://hooks.example.com/" },
        /id="webhook-events-error"[^>]*>Pick one or more of/,
      ],
      [
        { url: "https://hooks.example.com/", events: "ticket.deleted" },
        /id="webhook-events-error"[^>]*>/,
      ],
    ];
    for (const [fields, message] of cases) {
      const res = await app.request(
        "/settings/webhooks",
        formPost(fields, { cookie }),
      );
      assert.equal(res.status, 422, JSON.stringify(fields));
      const html = await res.text();
      assert.match(html, message);
      assert.match(
        html,
        /aria-invalid="true"|aria-describedby="webhook-events-error"/,
      );
    }
    assert.deepEqual(await store.listWebhooks(), []);
    const cross = await app.request(
      "/settings/webhooks",
      formPost(
        { url: "https://hooks.example.com/", events: "ticket.created" },
        {
          cookie,
          origin: "https://evil.example",
        },
      ),
    );
    assert.equal(cross.status, 403);
    assert.deepEqual(await store.listWebhooks(), []);
  });
});

Deno.test("WEBHOOK_ALLOW_PRIVATE=1 lets an admin add a loopback endpoint", async () => {
  await withConfiguredApp(
    { webhookAllowPrivate: true },
    async ({ app, store }) => {
      await addUser(store, "root", { role: "admin" });
      const cookie = await logIn(app, "root");
      const res = await app.request(
        "/settings/webhooks",
        formPost({
          url: "http://127.0.0.1:9000/hook",
          events: "ticket.created",
        }, {
          cookie,
        }),
      );
      assert.equal(res.status, 200);
      assert.equal((await store.listWebhooks()).length, 1);
    },
  );
});

Deno.test("Rotating shows the new secret once and keeps the old one signing for a day; enable and remove do what they say", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "root", { role: "admin" });
    const cookie = await logIn(app, "root");
    const w = await store.createWebhook({
      url: "https://hooks.example.com/",
      events: ["ticket.created"],
      secret: "whsec_b2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xk",
    });
    const res = await app.request(
      `/settings/webhooks/${w.id}/rotate`,
      formPost({}, { cookie }),
    );
    assert.equal(res.status, 200);
    const secret = /value="(whsec_[A-Za-z0-9+/=]+)"/.exec(await res.text())
      ?.[1];
    assert.ok(secret && secret !== "whsec_b2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xk");
    const d = await firstDelivery(store);
    assert.deepEqual(d!.secrets, [
      secret,
      "whsec_b2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xk",
    ]);
    await store.finishDelivery(d!.id, {
      status_code: 410,
      duration_ms: 4,
      error: "HTTP 410",
      outcome: "failed",
      disable_reason:
        "The receiver answered 410 Gone: it wants no more webhooks here.",
    });
    const enable = await app.request(
      `/settings/webhooks/${w.id}/enable`,
      formPost({}, { cookie }),
    );
    assert.equal(enable.status, 303);
    assert.equal((await store.getWebhook(w.id))!.disabled_at, null);
    const remove = await app.request(
      `/settings/webhooks/${w.id}/remove`,
      formPost({}, { cookie }),
    );
    assert.equal(remove.status, 303);
    assert.equal(
      remove.headers.get("location"),
      "/settings/webhooks?done=removed",
    );
    assert.deepEqual(await store.listWebhooks(), []);
    const again = await app.request(
      `/settings/webhooks/${w.id}/remove`,
      formPost({}, { cookie }),
    );
    assert.equal(again.status, 404);
  });
});

Deno.test("The delivery log lists attempts newest first and resends one", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "root", { role: "admin" });
    const cookie = await logIn(app, "root");
    const w = await store.createWebhook({
      url: "https://hooks.example.com/",
      events: ["ticket.created"],
      secret: "whsec_YWJj",
    });
    const d = await firstDelivery(store);
    await store.finishDelivery(d!.id, {
      status_code: 422,
      duration_ms: 37,
      error: "HTTP 422",
      outcome: "failed",
    });
    const page = await app.request(`/settings/webhooks/${w.id}`, {
      headers: { Cookie: cookie },
    });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(
      html,
      /<td>Failed<\/td><td>422<\/td><td>37 ms<\/td><td class="webhook-error">HTTP 422<\/td>/,
    );
    assert.match(html, /<a href="\/tickets\/1">#1<\/a>/);
    const resend = await app.request(
      `/settings/webhooks/${w.id}/deliveries/${d!.id}/resend`,
      formPost({}, { cookie }),
    );
    assert.equal(resend.status, 303);
    assert.equal(
      resend.headers.get("location"),
      `/settings/webhooks/${w.id}?done=resent`,
    );
    assert.equal((await store.getWebhook(w.id))!.pending, 1);
    const missing = await app.request(
      `/settings/webhooks/${w.id}/deliveries/999/resend`,
      formPost({}, { cookie }),
    );
    assert.equal(missing.status, 404);
    assert.equal(
      (await app.request("/settings/webhooks/77", {
        headers: { Cookie: cookie },
      })).status,
      404,
    );
  });
});

Deno.test("Admins see a disabled webhook, and why, on the dashboard; agents do not", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "root", { role: "admin" });
    await addUser(store, "agent1");
    const w = await store.createWebhook({
      url: "https://hooks.example.com/down",
      events: ["ticket.created"],
      secret: "whsec_YWJj",
    });
    const root = await logIn(app, "root");
    const before = await (await app.request("/dashboard", {
      headers: { Cookie: root },
    })).text();
    assert.ok(!before.includes("webhook-alert"));
    const d = await firstDelivery(store);
    await store.finishDelivery(d!.id, {
      status_code: 503,
      duration_ms: 4,
      error: "HTTP 503",
      outcome: "failed",
      disable_reason:
        "Every attempt failed: 8 over 28 h; the last one: HTTP 503.",
    });
    const admin = await (await app.request("/dashboard", {
      headers: { Cookie: root },
    })).text();
    assert.match(admin, /A webhook is disabled/);
    assert.match(
      admin,
      /<code>https:\/\/hooks\.example\.com\/down<\/code>: Every attempt failed: 8 over 28 h; the last one: HTTP 503\./,
    );
    const agent = await logIn(app, "agent1");
    const theirs = await (await app.request("/dashboard", {
      headers: { Cookie: agent },
    })).text();
    assert.ok(!theirs.includes("webhook-alert"));
    assert.equal(w.id, 1);
  });
});
