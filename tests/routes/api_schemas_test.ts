/** The create rules of both create routes: what is refused (422, nothing written) and how input is stored. */
import assert from "node:assert/strict";
import {
  assertNothingWritten,
  assertProblem,
  type Json,
  jsonRequest,
  sampleTicket,
  snapshot,
  withApp,
} from "../fixtures.ts";

const CREATE_ROUTES = ["/create_ticket", "/api/v1/tickets"] as const;

/** A URL of exactly `length` characters. */
function urlOfLength(length: number): string {
  const head = "https://example.com/";
  return head + "a".repeat(length - head.length);
}

const IS_REQUIRED = "is required";

/** [what is wrong, body overrides (undefined removes the field), field, message]. */
const INVALID: [string, Json, string, string][] = [
  ["user_id is missing", { user_id: undefined }, "user_id", IS_REQUIRED],
  ["user_id is null", { user_id: null }, "user_id", "must be a string"],
  ["user_id is empty", { user_id: "" }, "user_id", "must not be empty"],
  [
    "user_id is only spaces",
    { user_id: "   " },
    "user_id",
    "must not be empty",
  ],
  [
    "user_id is 129 characters",
    { user_id: "u".repeat(129) },
    "user_id",
    "must be at most 128 characters",
  ],
  ["user_id is a fraction", { user_id: 1.5 }, "user_id", "must be a string"],
  [
    "user_id is an object",
    { user_id: { id: 1 } },
    "user_id",
    "must be a string",
  ],
  ["user_id is a boolean", { user_id: true }, "user_id", "must be a string"],
  ["pdf_link is missing", { pdf_link: undefined }, "pdf_link", IS_REQUIRED],
  ["pdf_link is empty", { pdf_link: "" }, "pdf_link", "must not be empty"],
  ["pdf_link is a number", { pdf_link: 42 }, "pdf_link", "must be a string"],
  [
    "pdf_link is not a URL",
    { pdf_link: "not a url" },
    "pdf_link",
    "must be an absolute http or https URL",
  ],
  [
    "pdf_link is relative",
    { pdf_link: "/files/guide.pdf" },
    "pdf_link",
    "must be an absolute http or https URL",
  ],
  [
    "pdf_link is protocol-relative",
    { pdf_link: "//example.com/guide.pdf" },
    "pdf_link",
    "must be an absolute http or https URL",
  ],
  [
    "user_id holds a NUL (SQLite text would be cut at it)",
    { user_id: "\u0000abc" },
    "user_id",
    "must not contain control characters (found U+0000)",
  ],
  [
    "product_id holds a control character",
    { product_id: "P\u0007" },
    "product_id",
    "must not contain control characters (found U+0007)",
  ],
  [
    "other_ids holds a NUL",
    { other_ids: "x\u0000y" },
    "other_ids",
    "must not contain control characters (found U+0000)",
  ],
  [
    "other_ids holds a line break",
    { other_ids: ["a\nb"] },
    "other_ids",
    "must not contain control characters (found U+000A)",
  ],
  [
    "user_id holds a lone surrogate",
    { user_id: "a\ud800b" },
    "user_id",
    "must not contain control characters (found U+D800)",
  ],
  [
    "pdf_link is a javascript: URL",
    { pdf_link: "javascript:alert(1)" },
    "pdf_link",
    "must be an absolute http or https URL",
  ],
  [
    "pdf_link is a javascript:// URL",
    { pdf_link: "javascript://example.com/%0Aalert(1)" },
    "pdf_link",
    "must use http or https",
  ],
  [
    "pdf_link is a data: URL",
    { pdf_link: "data:text/html,<script>alert(1)</script>" },
    "pdf_link",
    "must be an absolute http or https URL",
  ],
  [
    "pdf_link is an ftp: URL",
    { pdf_link: "ftp://example.com/guide.pdf" },
    "pdf_link",
    "must use http or https",
  ],
  [
    "pdf_link is a file: URL",
    { pdf_link: "file:///etc/passwd" },
    "pdf_link",
    "must use http or https",
  ],
  [
    "pdf_link carries credentials",
    { pdf_link: "https://u:p@example.com/guide.pdf" },
    "pdf_link",
    "must not contain credentials",
  ],
  [
    "pdf_link carries a user name",
    { pdf_link: "https://admin@example.com/guide.pdf" },
    "pdf_link",
    "must not contain credentials",
  ],
  [
    "pdf_link is 2049 characters",
    { pdf_link: urlOfLength(2049) },
    "pdf_link",
    "must be at most 2048 characters",
  ],
  [
    "product_id is 129 characters",
    { product_id: "p".repeat(129) },
    "product_id",
    "must be at most 128 characters",
  ],
  [
    "product_id is an object",
    { product_id: { a: 1 } },
    "product_id",
    "must be a string",
  ],
  [
    "other_ids is 1025 characters",
    { other_ids: "o".repeat(1025) },
    "other_ids",
    "must be at most 1024 characters",
  ],
  [
    "other_ids joins to over 1024 characters",
    { other_ids: ["o".repeat(600), "p".repeat(600)] },
    "other_ids",
    "must be at most 1024 characters",
  ],
  [
    "other_ids is a number",
    { other_ids: 5 },
    "other_ids",
    "must be a string or an array of strings",
  ],
  [
    "other_ids holds an object",
    { other_ids: ["A", { id: 1 }] },
    "other_ids",
    "must be a string or an array of strings",
  ],
];

/** Builds a body from the sample with overrides; `undefined` removes a field. */
function bodyWith(overrides: Json): Json {
  const body = sampleTicket(overrides);
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete body[k];
  }
  return body;
}

for (const route of CREATE_ROUTES) {
  for (const [what, overrides, field, detail] of INVALID) {
    Deno.test(`POST ${route} returns 422 with a field error when ${what}`, async () => {
      await withApp(async (h) => {
        const before = await snapshot(h);
        const res = await h.app.request(
          route,
          jsonRequest(bodyWith(overrides)),
        );
        const body = await assertProblem(res, 422, {
          type: "/problems/validation",
          title: "The request has invalid fields",
          instance: route,
          errors: [{ field, pointer: `#/${field}`, detail }],
          detail: `${field}: ${detail}`,
        });
        assert.equal(body.success, false);
        await assertNothingWritten(h, before);
      });
    });
  }

  Deno.test(`POST ${route} returns one error per invalid field, in schema order`, async () => {
    await withApp(async (h) => {
      const before = await snapshot(h);
      const res = await h.app.request(
        route,
        jsonRequest({ pdf_link: "ftp://x/", product_id: "p".repeat(200) }),
      );
      await assertProblem(res, 422, {
        errors: [
          { field: "user_id", pointer: "#/user_id", detail: "is required" },
          {
            field: "pdf_link",
            pointer: "#/pdf_link",
            detail: "must use http or https",
          },
          {
            field: "product_id",
            pointer: "#/product_id",
            detail: "must be at most 128 characters",
          },
        ],
      });
      await assertNothingWritten(h, before);
    });
  });
}

/** [what is accepted, body overrides, the stored fields it leads to]. */
const VALID: [string, Json, Json][] = [
  ["user_id is trimmed", { user_id: "  jane  " }, { user_id: "jane" }],
  ["user_id is a number", { user_id: 12345 }, { user_id: "12345" }],
  ["user_id is 128 characters", { user_id: "u".repeat(128) }, {
    user_id: "u".repeat(128),
  }],
  ["pdf_link is trimmed", { pdf_link: "  https://example.com/a.pdf  " }, {
    pdf_link: "https://example.com/a.pdf",
  }],
  ["pdf_link is plain http", { pdf_link: "http://example.com/a.pdf" }, {
    pdf_link: "http://example.com/a.pdf",
  }],
  ["pdf_link is 2048 characters", { pdf_link: urlOfLength(2048) }, {
    pdf_link: urlOfLength(2048),
  }],
  ["product_id is null", { product_id: null }, { product_id: null }],
  ["product_id is empty", { product_id: "" }, { product_id: null }],
  ["product_id is only spaces", { product_id: "   " }, { product_id: null }],
  ["product_id is absent", { product_id: undefined }, { product_id: null }],
  ["product_id is a number", { product_id: 77 }, { product_id: "77" }],
  ["product_id is 128 characters", { product_id: "p".repeat(128) }, {
    product_id: "p".repeat(128),
  }],
  ["other_ids is absent", { other_ids: undefined }, { other_ids: null }],
  ["other_ids is null", { other_ids: null }, { other_ids: null }],
  ["other_ids is empty", { other_ids: "" }, { other_ids: null }],
  ["other_ids is an array", { other_ids: ["ORDER-1", "DEVICE-7"] }, {
    other_ids: "ORDER-1, DEVICE-7",
  }],
  ["other_ids is an array with blanks and numbers", {
    other_ids: [" A ", "", 7],
  }, { other_ids: "A, 7" }],
  ["other_ids is an empty array", { other_ids: [] }, { other_ids: null }],
  ["other_ids is 1024 characters", { other_ids: "o".repeat(1024) }, {
    other_ids: "o".repeat(1024),
  }],
  ["unknown fields are sent", { status: "Closed", id: 99, admin: true }, {
    id: 1,
    status: "Open",
  }],
];

for (const route of CREATE_ROUTES) {
  for (const [what, overrides, stored] of VALID) {
    Deno.test(`POST ${route} returns 201 and stores the normalized value when ${what}`, async () => {
      await withApp(async ({ app }) => {
        const res = await app.request(route, jsonRequest(bodyWith(overrides)));
        assert.equal(res.status, 201, await res.clone().text());
        assert.equal(res.headers.get("content-type"), "application/json");
        assert.equal(res.headers.get("location"), "/api/v1/tickets/1");
        const got = await app.request("/api/v1/tickets/1");
        assert.equal(got.status, 200);
        const ticket = await got.json();
        const expected = { ...sampleTicket(), ...stored };
        for (const [k, v] of Object.entries(expected)) {
          assert.deepEqual(ticket[k], v, k);
        }
        assert.equal("admin" in ticket, false);
      });
    });
  }
}
