/** Header values and redirect targets: no crafted request may crash the server or send a browser off-site. */
import assert from "node:assert/strict";
import { headerValue, localPath, safeHeaders } from "../../routes/headers.ts";
import {
  addUser,
  createTicket,
  formPost,
  logIn,
  withApp,
  withConfiguredApp,
} from "../fixtures.ts";
import { createApp } from "../../app.ts";
import { createMemoryBus } from "../../db/bus.ts";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { createLogger } from "../../log.ts";

/** Control characters and DEL, as they arrive percent-encoded in a query. */
const CONTROLS = ["%00", "%01", "%09", "%0A", "%0B", "%0D", "%1F", "%7F"];

Deno.test("headerValue keeps space and visible ASCII and percent-encodes everything else", () => {
  assert.equal(
    headerValue('attachment; filename="t-1.csv"'),
    'attachment; filename="t-1.csv"',
  );
  assert.equal(headerValue("/x\u0001y"), "/x%01y");
  assert.equal(headerValue("a\u0000b\u007fc\td"), "a%00b%7Fc%09d");
  assert.equal(headerValue("/café"), "/caf%C3%A9");
  assert.equal(headerValue("\ud800"), "%EF%BF%BD");
});

Deno.test("localPath accepts same-site paths only, read as a browser reads them", () => {
  for (
    const ok of [
      "/",
      "/dashboard",
      "/dashboard?status=Open&q=a%20b",
      "/tickets/2#c",
      "/a\\b",
    ]
  ) {
    assert.equal(localPath(ok), ok, ok);
  }
  for (
    const bad of [
      "",
      "dashboard",
      "//evil.example",
      "/\\evil.example",
      "\\/evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "/\r/evil.example",
      " /dashboard",
      "/dash board",
      "/x\u0001y",
      "/x\u0000",
      "/x\u007f",
      "/x\u000b",
      "/x\u00a0",
      "/x\u2028",
      "/x\u202e",
      "https://evil.example/",
      "javascript:alert(1)",
      "/" + "a".repeat(3000),
      null,
      42,
    ]
  ) {
    assert.equal(localPath(bad), null, JSON.stringify(bad));
  }
});

Deno.test("safeHeaders encodes a control character in any response header, frozen or not", async () => {
  const mutable = new Response("x");
  mutable.headers.set("X-Future", "a\u0001b");
  assert.equal(safeHeaders(mutable).headers.get("x-future"), "a%01b");
  const frozen = Response.redirect("http://localhost/a", 303);
  const fixed = safeHeaders(frozen);
  assert.equal(fixed, frozen, "nothing to fix: the same response");
  assert.equal(await safeHeaders(mutable).text(), "x");
});

Deno.test("GET /login?next= with a control character, logged in, redirects to /dashboard", async () => {
  await withConfiguredApp({ loginRateLimit: 100 }, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    for (const c of CONTROLS) {
      const res = await app.request(`/login?next=/x${c}y`, {
        headers: { Cookie: cookie },
      });
      assert.equal(res.status, 303, c);
      assert.equal(res.headers.get("location"), "/dashboard", c);
    }
  });
});

Deno.test("next that a browser would read as another site never becomes the Location", async () => {
  await withConfiguredApp({ loginRateLimit: 100 }, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    for (
      const next of [
        "/%09/evil.example",
        "/%0A/evil.example",
        "/%0D/evil.example",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
        "https:%2F%2Fevil.example",
      ]
    ) {
      const res = await app.request(`/login?next=${next}`, {
        headers: { Cookie: cookie },
      });
      assert.equal(res.status, 303, next);
      assert.equal(res.headers.get("location"), "/dashboard", next);
      const post = await app.request(
        "/login",
        formPost({
          username: "admin",
          password: "correct horse battery staple",
          next: decodeURIComponent(next),
        }),
      );
      assert.equal(post.headers.get("location"), "/dashboard", next);
    }
  });
});

Deno.test("A status form's back field with a control character goes back to /dashboard", async () => {
  await withApp(async (h) => {
    const t = await createTicket(h.app);
    await addUser(h.store, "agent");
    const cookie = await logIn(h.rawApp, "agent");
    for (const c of CONTROLS) {
      const res = await h.rawApp.request(
        `/tickets/${t.id}/status`,
        formPost({
          status: "Pending",
          version: String((await h.store.getTicket(t.id))!.version),
          seen: "Open",
          view: "card",
          back: `/dashboard?${decodeURIComponent(c)}`,
        }, { cookie }),
      );
      assert.equal(res.status, 303, c);
      // Back to the plain board (with the change's Undo, when there was one).
      assert.match(
        res.headers.get("location") ?? "",
        /^\/dashboard(\?undo=[0-9a-zA-Z%]+)?$/,
        c,
      );
    }
  });
});

Deno.test("Over real HTTP, crafted next and back values neither crash the server nor redirect off-site", async () => {
  const dir = await Deno.makeTempDir();
  const bus = createMemoryBus();
  const store = await openSqliteStore({ path: `${dir}/t.db`, bus });
  const stopping = new AbortController();
  const app = createApp({
    store,
    bus,
    config: { logLevel: "silent", loginRateLimit: 1000 },
    logger: createLogger("silent"),
    signal: stopping.signal,
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    app.fetch,
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    await addUser(store, "admin", { role: "admin" });
    const login = await fetch(`${base}/login`, {
      ...formPost({
        username: "admin",
        password: "correct horse battery staple",
      }, { origin: base }),
      redirect: "manual",
    });
    await login.body?.cancel();
    const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
    const nexts = [
      ...CONTROLS.map((c) => `/x${c}y`),
      "/%09/evil.example",
      "/%5Cevil.example",
    ];
    for (const c of nexts) {
      const res = await fetch(`${base}/login?next=${c}`, {
        headers: { Cookie: cookie },
        redirect: "manual",
      });
      await res.body?.cancel();
      assert.equal(res.status, 303, c);
      assert.equal(res.headers.get("location"), "/dashboard", c);
    }
    const health = await fetch(`${base}/healthz`);
    await health.body?.cancel();
    assert.equal(health.status, 200, "the server is still up");
  } finally {
    stopping.abort();
    await server.shutdown();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
