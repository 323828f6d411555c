/** The settings page: admins manage users and API keys; agents are kept out. */
import assert from "node:assert/strict";
import type { SqliteStore } from "../../db/sqlite/sqlite_store.ts";
import {
  addApiKey,
  addUser,
  assertProblem,
  bearer,
  type DeskApp,
  formPost,
  jsonRequest,
  LOCAL_ORIGIN,
  logIn,
  PASSWORD,
  sampleTicket,
  withConfiguredApp,
} from "../fixtures.ts";

const NEW_PASSWORD = "a brand new passphrase";
const XSS = "<script>alert(1)</script>";

/** Runs `fn` with an app whose store has an admin "admin", logged in. */
async function asAdmin(
  fn: (
    h: { app: DeskApp; store: SqliteStore; cookie: string },
  ) => Promise<void>,
): Promise<void> {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "admin", { role: "admin" });
    const cookie = await logIn(app, "admin");
    await fn({ app, store, cookie });
  });
}

async function assertHtml(res: Response, status: number): Promise<string> {
  const html = await res.text();
  assert.equal(res.status, status, html);
  assert.equal(res.headers.get("content-type"), "text/html; charset=UTF-8");
  return html;
}

function assertRedirect(res: Response, location: string) {
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), location);
}

async function statusOf(pending: Promise<Response> | Response) {
  const res = await pending;
  await res.body?.cancel();
  return res.status;
}

async function tryLogIn(app: DeskApp, username: string, password: string) {
  return await statusOf(
    app.request("/login", formPost({ username, password })),
  );
}

/** The create-key form as a browser sends it: one `scopes` field per checked box. */
function keyForm(name: string, scopes: string[], cookie: string): RequestInit {
  const body = new URLSearchParams({ name });
  for (const s of scopes) body.append("scopes", s);
  return {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Origin: LOCAL_ORIGIN,
      Cookie: cookie,
    },
    body: body.toString(),
  };
}

function userNamed(store: SqliteStore, name: string) {
  return store.listUsers().then((us) => us.find((u) => u.username === name));
}

Deno.test("An agent gets 403 on the settings page and its forms", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "agent");
    const cookie = await logIn(app, "agent");
    const page = await app.request("/settings", {
      headers: { Cookie: cookie },
    });
    const html = await assertHtml(page, 403);
    assert.match(html, /Admins only/);
    const add = await app.request(
      "/settings/users",
      formPost({ username: "mallory", password: PASSWORD, role: "admin" }, {
        cookie,
      }),
    );
    await assertHtml(add, 403);
    const key = await app.request(
      "/settings/keys",
      formPost({ name: "stolen" }, { cookie }),
    );
    await assertHtml(key, 403);
    assert.deepEqual((await store.listUsers()).map((u) => u.username), [
      "agent",
    ]);
    assert.deepEqual(await store.listApiKeys(), []);
  });
});

Deno.test("GET /settings lists the users and keys, uncached", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    await addUser(store, "bob");
    const key = await addApiKey(store, "ios-app");
    const res = await app.request("/settings", { headers: { Cookie: cookie } });
    const html = await assertHtml(res, 200);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.match(html, /<th scope="row">bob<\/th>/);
    assert.match(html, /<th scope="row">ios-app<\/th>/);
    assert.ok(html.includes(key.slice(0, 12)), "the key's prefix is shown");
    assert.ok(!html.includes(key), "the key itself is not");
  });
});

Deno.test("An admin adds a user: 303 to a notice, and the user exists and can log in", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    const res = await app.request(
      "/settings/users",
      formPost({ username: "bob", password: NEW_PASSWORD, role: "agent" }, {
        cookie,
      }),
    );
    assertRedirect(res, "/settings?done=user-added");
    const bob = await userNamed(store, "bob");
    assert.equal(bob?.role, "agent");
    assert.equal(bob?.disabled, false);
    const page = await app.request("/settings?done=user-added", {
      headers: { Cookie: cookie },
    });
    assert.match(await assertHtml(page, 200), /User added\./);
    assert.equal(await tryLogIn(app, "bob", NEW_PASSWORD), 303);
  });
});

Deno.test("An admin can add another admin", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    const res = await app.request(
      "/settings/users",
      formPost({ username: "carol", password: NEW_PASSWORD, role: "admin" }, {
        cookie,
      }),
    );
    assertRedirect(res, "/settings?done=user-added");
    assert.equal((await userNamed(store, "carol"))?.role, "admin");
  });
});

Deno.test("Adding a user with a short password gets 422 with the message beside the field", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    const res = await app.request(
      "/settings/users",
      formPost({ username: "bob", password: "123456789", role: "agent" }, {
        cookie,
      }),
    );
    const html = await assertHtml(res, 422);
    assert.match(
      html,
      /<small id="user-password-error" class="field-error">Password must be at least 10 characters\.<\/small>/,
    );
    assert.match(html, /value="bob"/);
    assert.equal(await userNamed(store, "bob"), undefined);
  });
});

Deno.test("Adding a user with a bad name gets 422 with the name rule and adds nobody", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    for (const username of ["bad name", "", "x".repeat(65), "bob/../admin"]) {
      const res = await app.request(
        "/settings/users",
        formPost({ username, password: NEW_PASSWORD, role: "agent" }, {
          cookie,
        }),
      );
      const html = await assertHtml(res, 422);
      assert.match(
        html,
        /id="user-username-error" class="field-error">Username: use 1–64 letters, digits, \. _ @ or -\./,
      );
    }
    assert.equal((await store.listUsers()).length, 1);
  });
});

Deno.test("Adding a user with an unknown role gets 422 saying to pick a role", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    const res = await app.request(
      "/settings/users",
      formPost({ username: "bob", password: NEW_PASSWORD, role: "root" }, {
        cookie,
      }),
    );
    const html = await assertHtml(res, 422);
    assert.equal(await userNamed(store, "bob"), undefined);
    assert.match(html, /Pick a role\./);
  });
});

Deno.test("A username with markup is refused and echoed escaped", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    const res = await app.request(
      "/settings/users",
      formPost({ username: XSS, password: NEW_PASSWORD, role: "agent" }, {
        cookie,
      }),
    );
    const html = await assertHtml(res, 422);
    assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert.ok(!html.includes("<script>alert"));
    assert.equal((await store.listUsers()).length, 1);
  });
});

Deno.test("Adding a username that exists in any letter case gets 409", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    await addUser(store, "bob");
    for (const username of ["bob", "BOB"]) {
      const res = await app.request(
        "/settings/users",
        formPost({ username, password: NEW_PASSWORD, role: "agent" }, {
          cookie,
        }),
      );
      const html = await assertHtml(res, 409);
      assert.match(html, /That username is taken\./);
    }
    assert.equal((await store.listUsers()).length, 2);
  });
});

Deno.test("Disabling a user ends their sessions and logins; enabling lets them back in", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    await addUser(store, "bob");
    const bob = await logIn(app, "bob");
    const off = await app.request(
      "/settings/users/bob/disable",
      formPost({}, { cookie }),
    );
    assertRedirect(off, "/settings?done=user-disabled");
    assert.equal((await userNamed(store, "bob"))?.disabled, true);
    assert.equal(
      await statusOf(app.request("/dashboard", { headers: { Cookie: bob } })),
      303,
    );
    assert.equal(await tryLogIn(app, "bob", PASSWORD), 401);
    const on = await app.request(
      "/settings/users/bob/enable",
      formPost({}, { cookie }),
    );
    assertRedirect(on, "/settings?done=user-enabled");
    assert.equal((await userNamed(store, "bob"))?.disabled, false);
    assert.equal(await tryLogIn(app, "bob", PASSWORD), 303);
  });
});

Deno.test("An admin cannot disable themself, in any letter case", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    for (const name of ["admin", "ADMIN"]) {
      const res = await app.request(
        `/settings/users/${name}/disable`,
        formPost({}, { cookie }),
      );
      const html = await assertHtml(res, 422);
      assert.match(html, /You cannot disable yourself\./);
    }
    assert.equal((await userNamed(store, "admin"))?.disabled, false);
    const page = await app.request("/settings", {
      headers: { Cookie: cookie },
    });
    await assertHtml(page, 200);
  });
});

Deno.test("Disabling an unknown user gets a 404 page", async () => {
  await asAdmin(async ({ app, cookie }) => {
    const res = await app.request(
      "/settings/users/nobody/disable",
      formPost({}, { cookie }),
    );
    const html = await assertHtml(res, 404);
    assert.match(html, /No user named &quot;nobody&quot; exists/);
  });
});

Deno.test("Resetting a password ends the user's sessions; the new password works and the old one not", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    await addUser(store, "bob");
    const bob = await logIn(app, "bob");
    const res = await app.request(
      "/settings/users/bob/password",
      formPost({ password: NEW_PASSWORD }, { cookie }),
    );
    assertRedirect(res, "/settings?done=password-reset");
    assert.equal(
      await statusOf(app.request("/dashboard", { headers: { Cookie: bob } })),
      303,
    );
    assert.equal(await tryLogIn(app, "bob", PASSWORD), 401);
    assert.equal(await tryLogIn(app, "bob", NEW_PASSWORD), 303);
  });
});

Deno.test("Resetting to a short password gets 422 and changes nothing", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    await addUser(store, "bob");
    const res = await app.request(
      "/settings/users/bob/password",
      formPost({ password: "short" }, { cookie }),
    );
    const html = await assertHtml(res, 422);
    assert.match(html, /The new password must be at least 10 characters\./);
    assert.equal(await tryLogIn(app, "bob", PASSWORD), 303);
  });
});

Deno.test("Creating an API key shows it once, and the key works against the API", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    const res = await app.request(
      "/settings/keys",
      keyForm("mobile", ["read"], cookie),
    );
    const html = await assertHtml(res, 200);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.match(html, /API key &quot;mobile&quot; created\./);
    const key = /value="(tdk_[\w-]{43})"/.exec(html)?.[1];
    assert.ok(key, "the page shows the new key");
    const api = await app.request("/api/v1/tickets", { headers: bearer(key) });
    assert.equal(api.status, 200);
    await api.body?.cancel();
    const later = await app.request("/settings", {
      headers: { Cookie: cookie },
    });
    const again = await assertHtml(later, 200);
    assert.ok(!again.includes(key), "the key is never shown again");
    const rows = store.db.prepare("SELECT * FROM api_keys").all();
    assert.ok(!JSON.stringify(rows).includes(key), "only its hash is stored");
  });
});

Deno.test("A bad or markup key name gets 422 and a taken one 409; no key is made", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    await addApiKey(store, "mobile");
    for (const [name, status] of [["", 422], [XSS, 422], ["MOBILE", 409]]) {
      const res = await app.request(
        "/settings/keys",
        keyForm(name as string, ["create"], cookie),
      );
      const html = await assertHtml(res, status as number);
      assert.ok(!html.includes("<script>alert"));
      assert.doesNotMatch(html, /tdk_[\w-]{43}/);
      assert.match(
        html,
        status === 409
          ? /A key with that name exists\./
          : /Name: use 1–64 letters, digits, \. _ @ or -\./,
      );
    }
    assert.equal((await store.listApiKeys()).length, 1);
  });
});

Deno.test("The create-key form offers the scopes as labelled checkboxes in a fieldset, create checked", async () => {
  await asAdmin(async ({ app, cookie }) => {
    const html = await assertHtml(
      await app.request("/settings", { headers: { Cookie: cookie } }),
      200,
    );
    const form = /<form[^>]*action="\/settings\/keys"[\s\S]*?<\/form>/.exec(
      html,
    )?.[0] ?? "";
    assert.match(form, /<fieldset[^>]*>\s*<legend[^>]*>Scopes<\/legend>/);
    const boxes = [
      ...form.matchAll(/<label>\s*<input ([^>]*)\/?>\s*<code>(\w+)<\/code>/g),
    ].map((m) => [m[2], m[1]!]);
    assert.deepEqual(boxes.map(([scope]) => scope), [
      "create",
      "read",
      "write",
    ]);
    for (const [scope, attrs] of boxes) {
      assert.match(attrs!, /type="checkbox"/);
      assert.match(attrs!, /name="scopes"/);
      assert.match(attrs!, new RegExp(`value="${scope}"`));
      assert.equal(/\bchecked\b/.test(attrs!), scope === "create", scope);
    }
  });
});

Deno.test("A key created with the default create scope creates tickets but cannot read them", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    const html = await assertHtml(
      await app.request(
        "/settings/keys",
        keyForm("ios-app", ["create"], cookie),
      ),
      200,
    );
    const key = /value="(tdk_[\w-]{43})"/.exec(html)?.[1];
    assert.ok(key, "the page shows the new key");
    assert.match(html, /Scopes: create\. Copy it now/);
    assert.deepEqual((await store.listApiKeys())[0]?.scopes, ["create"]);
    const create = await app.request(
      "/create_ticket",
      jsonRequest(sampleTicket(), { headers: bearer(key) }),
    );
    assert.equal(create.status, 201);
    await create.body?.cancel();
    await assertProblem(
      await app.request("/api/v1/tickets", { headers: bearer(key) }),
      403,
      { type: "/problems/insufficient-scope" },
    );
  });
});

Deno.test("The key table shows each key's scopes", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    assert.equal(
      await statusOf(
        app.request(
          "/settings/keys",
          keyForm("triage", ["write", "read"], cookie),
        ),
      ),
      200,
    );
    await addApiKey(store, "legacy");
    const html = await assertHtml(
      await app.request("/settings", { headers: { Cookie: cookie } }),
      200,
    );
    assert.match(html, /<th scope="col">Scopes<\/th>/);
    assert.match(
      html,
      /<th scope="row">triage<\/th>\s*<td><code>tdk_[^<]*<\/code><\/td>\s*<td>read, write<\/td>/,
    );
    assert.match(
      html,
      /<th scope="row">legacy<\/th>\s*<td><code>tdk_[^<]*<\/code><\/td>\s*<td>create, read, write<\/td>/,
    );
  });
});

Deno.test("Creating a key with no scope or an unknown one gets 422 beside the scopes, keeps the form, makes no key", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    for (const scopes of [[], ["admin"], ["read", "delete"]]) {
      const res = await app.request(
        "/settings/keys",
        keyForm("mobile", scopes, cookie),
      );
      const html = await assertHtml(res, 422);
      assert.match(
        html,
        /<small id="key-scopes-error" class="field-error">Scopes: pick one or more of create, read and write\.<\/small>/,
      );
      assert.match(html, /<fieldset aria-describedby="key-scopes-error">/);
      assert.match(html, /name="name"[^>]*value="mobile"/);
      // What was picked stays picked (only read, here: the unknown is dropped).
      assert.equal(
        /value="read" checked/.test(html),
        scopes.includes("read"),
        String(scopes),
      );
      assert.doesNotMatch(html, /value="create" checked/);
      assert.doesNotMatch(html, /tdk_[\w-]{43}/);
    }
    assert.deepEqual(await store.listApiKeys(), []);
  });
});

Deno.test("Revoking a key refuses it at once", async () => {
  await asAdmin(async ({ app, store, cookie }) => {
    const key = await addApiKey(store, "mobile");
    assert.equal(
      await statusOf(app.request("/api/v1/tickets", { headers: bearer(key) })),
      200,
    );
    const res = await app.request(
      "/settings/keys/mobile/revoke",
      formPost({}, { cookie }),
    );
    assertRedirect(res, "/settings?done=key-revoked");
    await assertProblem(
      await app.request("/api/v1/tickets", { headers: bearer(key) }),
      401,
    );
    const page = await app.request("/settings?done=key-revoked", {
      headers: { Cookie: cookie },
    });
    const html = await assertHtml(page, 200);
    assert.match(html, /API key revoked/);
    assert.match(html, /<span>Revoked <time/);
  });
});

Deno.test("The notice comes from a fixed list: ?done= never echoes its text", async () => {
  await asAdmin(async ({ app, cookie }) => {
    const res = await app.request(
      `/settings?done=${encodeURIComponent(XSS)}`,
      { headers: { Cookie: cookie } },
    );
    const html = await assertHtml(res, 200);
    assert.ok(!html.includes("alert(1)"));
    assert.match(
      html,
      /<p role="status" aria-live="polite" class="notice"><\/p>/,
    );
  });
});
