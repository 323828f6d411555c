/** createApp: not-found pages, request ids and the one place errors become HTTP. */
import assert from "node:assert/strict";
import { createApp } from "../app.ts";
import { createMemoryBus } from "../db/bus.ts";
import { StorageUnavailableError } from "../db/store.ts";
import { openSqliteStore } from "../db/sqlite/sqlite_store.ts";
import { createLogger } from "../log.ts";
import {
  type App,
  assertNothingWritten,
  assertProblem,
  harnessFor,
  jsonRequest,
  sampleTicket,
  snapshot,
  withApp,
} from "./fixtures.ts";

const UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("GET of an unknown /api/ path returns a 404 problem", async () => {
  await withApp(async ({ app }) => {
    const res = await app.request("/api/v1/nothing-here");
    await assertProblem(res, 404, {
      title: "Not found",
      instance: "/api/v1/nothing-here",
      detail: "Nothing lives at /api/v1/nothing-here",
    });
  });
});

Deno.test("GET of an unknown page outside the API returns a 404 HTML page", async () => {
  await withApp(async ({ app }) => {
    const res = await app.request("/static/no-such-file.css");
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), "text/html; charset=UTF-8");
    const html = await res.text();
    assert.match(html, /^<!doctype html>/i);
    assert.match(html, /<title>404 Not found<\/title>/);
    assert.match(html, /Nothing lives at \/static\/no-such-file.css/);
  });
});

Deno.test("GET of an unknown page while signed out redirects to the login page", async () => {
  await withApp(async ({ app }) => {
    const res = await app.request("/no/such/page");
    assert.equal(res.status, 303);
    assert.equal(
      res.headers.get("location"),
      "/login?next=%2Fno%2Fsuch%2Fpage",
    );
  });
});

Deno.test("An unsupported method on an API route returns a 405 problem with Allow, not a page", async () => {
  await withApp(async ({ app }) => {
    const cases: [string, string, string][] = [
      ["GET", "/create_ticket", "POST"],
      ["DELETE", "/api/v1/tickets", "GET, POST"],
      ["PUT", "/api/v1/tickets/1", "GET, PATCH"],
      ["GET", "/api/v1/tickets/1/comments", "POST"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await app.request(path, { method });
      assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
      await assertProblem(res, 405, { instance: path });
    }
  });
});

Deno.test("X-Request-Id is echoed when it is sane", async () => {
  await withApp(async ({ app }) => {
    for (const id of ["abc-123", "req.42:x_y", "a".repeat(64)]) {
      const res = await app.request("/healthz", {
        headers: { "X-Request-Id": id },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-request-id"), id);
      await res.body?.cancel();
    }
  });
});

Deno.test("X-Request-Id is generated when absent or not sane", async () => {
  await withApp(async ({ app }) => {
    const seen = new Set<string>();
    for (const id of [undefined, "", "has space", "<script>", "a".repeat(65)]) {
      const res = await app.request("/healthz", {
        headers: id === undefined ? {} : { "X-Request-Id": id },
      });
      assert.equal(res.status, 200);
      const got = res.headers.get("x-request-id") ?? "";
      assert.match(got, UUID);
      seen.add(got);
      await res.body?.cancel();
    }
    assert.equal(seen.size, 5);
  });
});

Deno.test("X-Request-Id is echoed on problems and quoted in their body", async () => {
  await withApp(async ({ app }) => {
    const res = await app.request("/api/v1/tickets/404", {
      headers: { "X-Request-Id": "trace-7" },
    });
    assert.equal(res.headers.get("x-request-id"), "trace-7");
    const body = await assertProblem(res, 404);
    assert.equal(body.request_id, "trace-7");
  });
});

/** An app over a store whose createTicket and getTicket throw what we choose. */
async function withFailingStore(
  err: Error,
  fn: (app: App) => Promise<void>,
) {
  const bus = createMemoryBus();
  const store = await openSqliteStore({ path: ":memory:", bus });
  const failing = new Proxy(store, {
    get(target, prop) {
      if (prop === "createTicket" || prop === "getTicket") {
        return () => Promise.reject(err);
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  try {
    await fn((await harnessFor(failing, bus)).app);
  } finally {
    await store.close();
  }
}

Deno.test("An unexpected error becomes a generic 500 problem that quotes the request id, not the error", async () => {
  await withFailingStore(new Error("secret table name"), async (app) => {
    const res = await app.request("/api/v1/tickets/1", {
      headers: { "X-Request-Id": "boom-1" },
    });
    const body = await assertProblem(res, 500, {
      title: "Internal error",
      detail:
        "Something went wrong on our side; nothing was saved. Quote request id boom-1 when reporting it.",
    });
    assert.equal(JSON.stringify(body).includes("secret"), false);
  });
});

Deno.test("A full disk becomes a 503 problem with Retry-After", async () => {
  await withFailingStore(
    new StorageUnavailableError("disk full"),
    async (app) => {
      const res = await app.request(
        "/create_ticket",
        jsonRequest(sampleTicket()),
      );
      assert.equal(res.headers.get("retry-after"), "5");
      await assertProblem(res, 503, {
        type: "/problems/storage-unavailable",
        title: "Storage unavailable",
        instance: "/create_ticket",
      });
    },
  );
});

Deno.test("POST /create_ticket (anonymous) after the store closed returns 503 with Retry-After and writes nothing", async () => {
  const bus = createMemoryBus();
  const store = await openSqliteStore({ path: ":memory:", bus });
  const published: unknown[] = [];
  bus.subscribe((e) => published.push(e));
  const app = createApp({
    store,
    bus,
    config: { logLevel: "silent", allowAnonymousCreate: true },
    logger: createLogger("silent"),
  });
  await store.close();
  const res = await app.request("/create_ticket", jsonRequest(sampleTicket()));
  assert.equal(res.headers.get("retry-after"), "5");
  await assertProblem(res, 503, {
    type: "/problems/storage-unavailable",
    instance: "/create_ticket",
  });
  assert.deepEqual(published, []);
});

Deno.test({
  name: "A signed API request after the store closed returns 503, not 500",
  fn: async () => {
    await withApp(async (h) => {
      await h.store.close();
      for (
        const [path, init] of [
          ["/create_ticket", jsonRequest(sampleTicket())],
          ["/api/v1/tickets", undefined],
        ] as const
      ) {
        const res = await h.app.request(path, init);
        assert.equal(res.headers.get("retry-after"), "5");
        await assertProblem(res, 503, {
          type: "/problems/storage-unavailable",
        });
      }
    });
  },
});

Deno.test("GET /api/openapi.json describes the API as OpenAPI 3.1", async () => {
  await withApp(async ({ app }) => {
    const res = await app.request("/api/openapi.json");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    const doc = await res.json();
    assert.equal(doc.openapi, "3.1.0");
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      "/api/v1/reports/summary",
      "/api/v1/requests/{token}",
      "/api/v1/requests/{token}/replies",
      "/api/v1/tickets",
      "/api/v1/tickets/bulk",
      "/api/v1/tickets/{id}",
      "/api/v1/tickets/{id}/comments",
      "/create_ticket",
    ]);
  });
});

Deno.test("assertNothingWritten notices a write (the helper itself can fail)", async () => {
  await withApp(async (h) => {
    const before = await snapshot(h);
    const res = await h.app.request(
      "/create_ticket",
      jsonRequest(sampleTicket()),
    );
    assert.equal(res.status, 201);
    await assert.rejects(
      () => assertNothingWritten(h, before),
      assert.AssertionError,
    );
  });
});

Deno.test("The two surfaces keep their own errors: POST /healthz is a 405 problem, an unknown page stays HTML", async () => {
  await withApp(async ({ rawApp }) => {
    const res = await rawApp.request("/healthz", { method: "POST" });
    await assertProblem(res, 405, { title: "Method not allowed" });
    assert.equal(res.headers.get("allow"), "GET");
    assert.doesNotMatch(res.headers.get("vary") ?? "", /HX-Request/);
    assert.equal(
      res.headers.get("content-security-policy"),
      "default-src 'none'; frame-ancestors 'none'",
    );
  });
});

Deno.test("Pages that answer htmx with a fragment say Vary: HX-Request; the API does not", async () => {
  await withApp(async ({ app, rawApp }) => {
    const page = await rawApp.request("/login");
    await page.body?.cancel();
    assert.match(page.headers.get("vary") ?? "", /\bHX-Request\b/);
    const api = await app.request("/api/v1/tickets");
    await api.body?.cancel();
    assert.doesNotMatch(api.headers.get("vary") ?? "", /HX-Request/);
  });
});

Deno.test("No module asks 'is this an API path?': the surfaces are mounted once each", () => {
  for (const file of ["app.ts", "routes/api.ts", "routes/pages.ts"]) {
    const text = Deno.readTextFileSync(new URL(`../${file}`, import.meta.url));
    assert.doesNotMatch(text, /isApiPath/, file);
  }
});
