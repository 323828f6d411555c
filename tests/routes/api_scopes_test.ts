/** API key scopes: every API route needs its scope; a key without it gets 403 and nothing changes. */
import assert from "node:assert/strict";
import type { SqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { API_SCOPES, type ApiScope } from "../../db/store.ts";
import { newApiKey } from "../../lib/tokens.ts";
import {
  assertProblem,
  bearer,
  jsonRequest,
  sampleTicket,
  withConfiguredApp,
} from "../fixtures.ts";

/** Each API route, the scope it needs, a request that succeeds with it and its status then. */
const ROUTES: {
  method: string;
  path: string;
  doc: [string, string];
  scope: ApiScope;
  body?: unknown;
  ok: number;
}[] = [
  {
    method: "POST",
    path: "/create_ticket",
    doc: ["/create_ticket", "post"],
    scope: "create",
    body: sampleTicket(),
    ok: 201,
  },
  {
    method: "POST",
    path: "/api/v1/tickets",
    doc: ["/api/v1/tickets", "post"],
    scope: "create",
    body: sampleTicket(),
    ok: 201,
  },
  {
    method: "GET",
    path: "/api/v1/tickets",
    doc: ["/api/v1/tickets", "get"],
    scope: "read",
    ok: 200,
  },
  {
    method: "GET",
    path: "/api/v1/tickets/1",
    doc: ["/api/v1/tickets/{id}", "get"],
    scope: "read",
    ok: 200,
  },
  {
    method: "PATCH",
    path: "/api/v1/tickets/1",
    doc: ["/api/v1/tickets/{id}", "patch"],
    scope: "write",
    body: { status: "Pending" },
    ok: 200,
  },
  {
    method: "POST",
    path: "/api/v1/tickets/1/comments",
    doc: ["/api/v1/tickets/{id}/comments", "post"],
    scope: "write",
    body: { body: "Sent the reset steps." },
    ok: 201,
  },
  {
    method: "POST",
    path: "/api/v1/tickets/bulk",
    doc: ["/api/v1/tickets/bulk", "post"],
    scope: "write",
    body: { ids: [1], patch: { priority: "High" } },
    ok: 200,
  },
  {
    method: "GET",
    path: "/api/v1/reports/summary",
    doc: ["/api/v1/reports/summary", "get"],
    scope: "read",
    ok: 200,
  },
];

/** Whether a key with exactly `scopes` may use a route needing `needed`: write includes read. */
function allows(scopes: ApiScope[], needed: ApiScope): boolean {
  return scopes.includes(needed) ||
    (needed === "read" && scopes.includes("write"));
}

async function keyWith(
  store: SqliteStore,
  name: string,
  scopes: ApiScope[],
): Promise<string> {
  const { key, prefix, hash } = newApiKey();
  await store.createApiKey({ name, prefix, hash, scopes });
  return key;
}

function send(
  route: (typeof ROUTES)[number],
  headers: Record<string, string>,
  body = route.body,
): RequestInit {
  return body === undefined
    ? { method: route.method, headers }
    : jsonRequest(body, { method: route.method, headers });
}

/** What a refused request must leave as it was: every ticket and event. */
async function stateOf(store: SqliteStore) {
  return {
    tickets: (await store.listTickets({ limit: 100 })).items,
    ticket: await store.getTicket(1),
    events: await store.eventsAfter(0, 1000),
  };
}

const KEY_SCOPES: ApiScope[][] = [
  ["create"],
  ["read"],
  ["write"],
  ["create", "read"],
  ["create", "write"],
  ["read", "write"],
  ["create", "read", "write"],
];

for (const route of ROUTES) {
  for (const scopes of KEY_SCOPES) {
    const allowed = allows(scopes, route.scope);
    Deno.test(
      `${route.method} ${route.path} with a key scoped ${scopes} answers ${
        allowed ? route.ok : "403 insufficient-scope"
      }`,
      async () => {
        await withConfiguredApp({}, async ({ app, store }) => {
          await store.createTicket({
            user_id: "u",
            pdf_link: "https://example.com/a.pdf",
            product_id: null,
            other_ids: null,
          }, { actor: "test" });
          const key = await keyWith(store, "k", scopes);
          const before = await stateOf(store);
          const res = await app.request(route.path, send(route, bearer(key)));
          if (allowed) {
            assert.equal(res.status, route.ok, await res.text());
            return;
          }
          const body = await assertProblem(res, 403, {
            type: "/problems/insufficient-scope",
            title: "Insufficient scope",
            instance: route.path,
          });
          assert.equal(body.required_scope, route.scope);
          assert.ok(String(body.detail).includes(`'${route.scope}'`));
          assert.deepEqual(await stateOf(store), before, "nothing changed");
        });
      },
    );
  }
}

Deno.test("The 403 names the scope needed and the key's scopes, and says how to get one", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    const key = await keyWith(store, "ios-app", ["create"]);
    const res = await app.request("/api/v1/tickets", { headers: bearer(key) });
    assert.equal(res.headers.get("www-authenticate"), null);
    const body = await assertProblem(res, 403, {
      type: "/problems/insufficient-scope",
      title: "Insufficient scope",
      instance: "/api/v1/tickets",
      detail:
        "This request needs an API key with the 'read' scope; this key has: create. An admin can create a key that has it (Settings, or deno task apikey create NAME --scopes read).",
    });
    assert.equal(body.required_scope, "read");
    assert.deepEqual(body.key_scopes, ["create"]);
  });
});

Deno.test("A key without the scope gets 403 before its body or the ticket id is looked at", async () => {
  await withConfiguredApp({}, async ({ app, store }) => {
    const reader = await keyWith(store, "reader", ["read"]);
    const creator = await keyWith(store, "creator", ["create"]);
    const cases: [string, RequestInit][] = [
      [
        "/create_ticket",
        jsonRequest({ user_id: "" }, { headers: bearer(reader) }),
      ],
      ["/api/v1/tickets", jsonRequest("not json", { headers: bearer(reader) })],
      [
        "/api/v1/tickets/999",
        jsonRequest({ status: "Nope" }, {
          method: "PATCH",
          headers: bearer(reader),
        }),
      ],
      ["/api/v1/tickets/999", { headers: bearer(creator) }],
      ["/api/v1/tickets?limit=0", { headers: bearer(creator) }],
    ];
    for (const [path, init] of cases) {
      await assertProblem(await app.request(path, init), 403, {
        type: "/problems/insufficient-scope",
      });
    }
  });
});

Deno.test("With ALLOW_ANONYMOUS_CREATE, no key still creates, but a key without create gets 403", async () => {
  await withConfiguredApp(
    { allowAnonymousCreate: true },
    async ({ app, store }) => {
      const anonymous = await app.request(
        "/create_ticket",
        jsonRequest(sampleTicket()),
      );
      assert.equal(anonymous.status, 201, await anonymous.text());
      const reader = await keyWith(store, "reader", ["read"]);
      await assertProblem(
        await app.request(
          "/create_ticket",
          jsonRequest(sampleTicket(), { headers: bearer(reader) }),
        ),
        403,
        { type: "/problems/insufficient-scope" },
      );
      assert.equal((await store.listTickets({ limit: 10 })).items.length, 1);
    },
  );
});

Deno.test("The OpenAPI document names each operation's scope and its 403, as enforced", async () => {
  await withConfiguredApp({}, async ({ app }) => {
    const res = await app.request("/api/openapi.json");
    assert.equal(res.status, 200);
    const doc = await res.json();
    const scheme = doc.components.securitySchemes.ApiKey;
    assert.equal(scheme.type, "http");
    assert.equal(scheme.scheme, "bearer");
    for (const s of API_SCOPES) {
      assert.match(scheme.description, new RegExp(`\`${s}\``));
    }
    // The requester's routes take no key (their token is the credential): below.
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops as object).map((method) => `${path} ${method}`)
    ).filter((op) => !op.startsWith("/api/v1/requests/"));
    assert.deepEqual(
      operations.sort(),
      ROUTES.map((r) => r.doc.join(" ")).sort(),
      "every operation is in the table above",
    );
    for (const route of ROUTES) {
      const op = doc.paths[route.doc[0]][route.doc[1]];
      assert.deepEqual(op.security, [{ ApiKey: [route.scope] }], route.path);
      assert.ok(op.responses["401"], `${route.path} documents 401`);
      assert.ok(op.responses["403"], `${route.path} documents 403`);
    }
  });
});
