/** Body handling of every JSON write route: 400 not JSON, 413 too large, 415 wrong type, nothing written. */
import assert from "node:assert/strict";
import { API_BODY_LIMIT } from "../../routes/json_body.ts";
import {
  assertNothingWritten,
  assertProblem,
  createTicket,
  type Harness,
  jsonRequest,
  sampleTicket,
  snapshot,
  withApp,
} from "../fixtures.ts";

/** Every route that reads a JSON body, with a valid body for it; ticket 1 exists. */
const ROUTES = [
  { method: "POST", path: "/create_ticket", valid: sampleTicket() },
  { method: "POST", path: "/api/v1/tickets", valid: sampleTicket() },
  { method: "PATCH", path: "/api/v1/tickets/1", valid: { status: "Closed" } },
  {
    method: "POST",
    path: "/api/v1/tickets/1/comments",
    valid: { body: "hello" },
  },
] as const;

/** Runs `fn` with ticket 1 created and a snapshot taken after it. */
function withTicket(
  fn: (
    h: Harness,
    before: Awaited<ReturnType<typeof snapshot>>,
  ) => Promise<void>,
) {
  return withApp(async (h) => {
    await createTicket(h.app);
    await fn(h, await snapshot(h));
  });
}

for (const { method, path, valid } of ROUTES) {
  const route = `${method} ${path}`;

  Deno.test(`${route} returns 400 when the body is not JSON`, async () => {
    await withTicket(async (h, before) => {
      const res = await h.app.request(
        path,
        jsonRequest("{user_id: nope", { method }),
      );
      const body = await assertProblem(res, 400, {
        title: "Body is not JSON",
        instance: path,
      });
      assert.match(
        String(body.detail),
        /^The request body is not valid JSON: /,
      );
      await assertNothingWritten(h, before);
    });
  });

  Deno.test(`${route} returns 400 when the body is empty`, async () => {
    await withTicket(async (h, before) => {
      const res = await h.app.request(path, jsonRequest("", { method }));
      await assertProblem(res, 400, {
        title: "Body is not JSON",
        detail: "The request body is empty; send a JSON object",
      });
      await assertNothingWritten(h, before);
    });
  });

  for (
    const [kind, text] of [
      ["an array", JSON.stringify([valid])],
      ["a string", JSON.stringify("hello")],
      ["a number", "42"],
      ["null", "null"],
    ] as const
  ) {
    Deno.test(`${route} returns 400 when the body is ${kind}, not an object`, async () => {
      await withTicket(async (h, before) => {
        const res = await h.app.request(path, jsonRequest(text, { method }));
        await assertProblem(res, 400, {
          title: "Body is not a JSON object",
          detail: "The request body must be a JSON object",
          instance: path,
        });
        await assertNothingWritten(h, before);
      });
    });
  }

  for (
    const [kind, type] of [
      ["text/plain", "text/plain"],
      ["form-encoded", "application/x-www-form-urlencoded"],
      ["application/jsonp", "application/jsonp"],
    ] as const
  ) {
    Deno.test(`${route} returns 415 when the content type is ${kind}`, async () => {
      await withTicket(async (h, before) => {
        const res = await h.app.request(path, {
          method,
          headers: { "Content-Type": type },
          body: JSON.stringify(valid),
        });
        await assertProblem(res, 415, {
          title: "Unsupported media type",
          detail: `Send the body as application/json, not ${type}`,
          instance: path,
        });
        await assertNothingWritten(h, before);
      });
    });
  }

  Deno.test(`${route} returns 415 when the content type is missing`, async () => {
    await withTicket(async (h, before) => {
      const res = await h.app.request(path, {
        method,
        body: new TextEncoder().encode(JSON.stringify(valid)),
      });
      await assertProblem(res, 415, {
        detail:
          "Send the body as application/json (the Content-Type header is missing)",
      });
      await assertNothingWritten(h, before);
    });
  });

  Deno.test(`${route} returns 413 when the body is over 16 KiB`, async () => {
    await withTicket(async (h, before) => {
      const big = JSON.stringify({ ...valid, pad: "x".repeat(API_BODY_LIMIT) });
      const res = await h.app.request(path, jsonRequest(big, { method }));
      await assertProblem(res, 413, {
        title: "Body too large",
        detail: "The request body must be at most 16384 bytes",
        instance: path,
      });
      await assertNothingWritten(h, before);
    });
  });

  Deno.test(`${route} returns 413 when a declared Content-Length is over 16 KiB`, async () => {
    await withTicket(async (h, before) => {
      const big = JSON.stringify({ ...valid, pad: "x".repeat(API_BODY_LIMIT) });
      const res = await h.app.request(path, {
        method,
        headers: {
          "Content-Type": "application/json",
          "Content-Length": String(new TextEncoder().encode(big).length),
        },
        body: big,
      });
      await assertProblem(res, 413, { title: "Body too large" });
      await assertNothingWritten(h, before);
    });
  });

  Deno.test(`${route} accepts application/json with a charset parameter`, async () => {
    await withTicket(async (h) => {
      const res = await h.app.request(path, {
        method,
        headers: { "Content-Type": "application/json; charset=utf-8" },
        body: JSON.stringify(valid),
      });
      assert.equal(res.status, method === "PATCH" ? 200 : 201);
      assert.equal(res.headers.get("content-type"), "application/json");
    });
  });
}

/** A create body padded with an ignored field to exactly `bytes` UTF-8 bytes. */
function bodyOfBytes(bytes: number): string {
  const base = JSON.stringify({ ...sampleTicket(), pad: "" });
  const room = bytes - new TextEncoder().encode(base).length;
  const text = JSON.stringify({ ...sampleTicket(), pad: "x".repeat(room) });
  assert.equal(new TextEncoder().encode(text).length, bytes);
  return text;
}

Deno.test("POST /create_ticket accepts a body of exactly 16384 bytes and refuses 16385", async () => {
  await withApp(async (h) => {
    const fits = await h.app.request(
      "/create_ticket",
      jsonRequest(bodyOfBytes(API_BODY_LIMIT)),
    );
    assert.equal(fits.status, 201);
    assert.equal(fits.headers.get("content-type"), "application/json");
    assert.equal((await fits.json()).ticket_id, 1);

    const before = await snapshot(h);
    const over = await h.app.request(
      "/create_ticket",
      jsonRequest(bodyOfBytes(API_BODY_LIMIT + 1)),
    );
    await assertProblem(over, 413, { title: "Body too large" });
    await assertNothingWritten(h, before);
  });
});

Deno.test("POST /create_ticket counts the limit in bytes, not characters", async () => {
  await withApp(async (h) => {
    // 2-byte characters: well under 16384 characters but over 16384 bytes.
    const text = JSON.stringify({ ...sampleTicket(), pad: "é".repeat(8500) });
    assert.ok(text.length < API_BODY_LIMIT);
    assert.ok(new TextEncoder().encode(text).length > API_BODY_LIMIT);
    const before = await snapshot(h);
    const res = await h.app.request("/create_ticket", jsonRequest(text));
    await assertProblem(res, 413, { title: "Body too large" });
    await assertNothingWritten(h, before);
  });
});

Deno.test("POST /create_ticket accepts a +json media type and any letter case", async () => {
  await withApp(async ({ app }) => {
    for (const type of ["application/vnd.api+json", "Application/JSON"]) {
      const res = await app.request("/create_ticket", {
        method: "POST",
        headers: { "Content-Type": type },
        body: JSON.stringify(sampleTicket()),
      });
      assert.equal(res.status, 201, type);
      assert.equal(res.headers.get("content-type"), "application/json");
    }
  });
});

/** Serves the harness's app over real HTTP (its requests then have immutable headers, as in production). */
async function withServed(
  h: Harness,
  fn: (base: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    h.rawApp.fetch,
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

/** Every legal way to say "JSON in UTF-8" (RFC 9110 media types and parameters). */
const JSON_SPELLINGS = [
  "application/json ; charset=utf-8",
  "application/json;charset=UTF-8",
  'application/json; charset="utf-8"',
  "APPLICATION/JSON; Charset=Utf-8",
  "application/json;\tcharset=utf-8",
  "application/json; foo=bar; charset=utf-8",
  "application/problem+json",
];

for (const { method, path, valid } of ROUTES) {
  const route = `${method} ${path}`;
  Deno.test(`${route} over real HTTP accepts every legal spelling of application/json`, async () => {
    await withTicket(async (h) => {
      await withServed(h, async (base) => {
        for (const type of JSON_SPELLINGS) {
          const res = await fetch(base + path, {
            method,
            headers: {
              "Content-Type": type,
              Authorization: `Bearer ${h.apiKey}`,
            },
            body: JSON.stringify(valid),
          });
          const text = await res.text();
          assert.equal(
            res.status,
            method === "PATCH" ? 200 : 201,
            `${type}: ${text}`,
          );
        }
      });
    });
  });

  Deno.test(`${route} returns 400 for a body that is not valid UTF-8 and stores nothing`, async () => {
    await withTicket(async (h, before) => {
      const json = new TextEncoder().encode(JSON.stringify(valid));
      // A lone continuation byte and an overlong sequence, inside the JSON text.
      for (const bad of [[0x80], [0xc0, 0xaf], [0xff, 0xfe]]) {
        const body = new Uint8Array([
          ...json.slice(0, 2),
          ...bad,
          ...json.slice(2),
        ]);
        const res = await h.app.request(path, {
          method,
          headers: { "Content-Type": "application/json" },
          body,
        });
        await assertProblem(res, 400, { title: "Body is not UTF-8" });
      }
      await assertNothingWritten(h, before);
    });
  });

  Deno.test(`${route} returns 415 for a Content-Encoding it does not decode, or a charset other than UTF-8`, async () => {
    await withTicket(async (h, before) => {
      for (const encoding of ["gzip", "br", "deflate"]) {
        const res = await h.app.request(path, {
          method,
          headers: {
            "Content-Type": "application/json",
            "Content-Encoding": encoding,
          },
          body: JSON.stringify(valid),
        });
        await assertProblem(res, 415, {
          title: "Unsupported content encoding",
        });
      }
      const latin1 = await h.app.request(path, {
        method,
        headers: { "Content-Type": "application/json; charset=iso-8859-1" },
        body: JSON.stringify(valid),
      });
      await assertProblem(latin1, 415, { title: "Unsupported charset" });
      await assertNothingWritten(h, before);
    });
  });
}
