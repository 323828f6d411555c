/** The JSON API: the seed's /create_ticket contract and /api/v1 reads, patches and comments. */
import assert from "node:assert/strict";
import {
  assertNothingWritten,
  assertProblem,
  createTicket,
  type Json,
  jsonRequest,
  sampleTicket,
  snapshot,
  withApp,
} from "../fixtures.ts";

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

// --- POST /create_ticket: the seed's contract, byte for byte -------------------------

Deno.test("POST /create_ticket returns 201 with exactly the seed's body and a Location", async () => {
  await withApp(async ({ app }) => {
    const res = await app.request(
      "/create_ticket",
      jsonRequest(sampleTicket()),
    );
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.deepEqual(await res.json(), {
      success: true,
      ticket_id: 1,
      message: "Ticket created successfully",
    });
    assert.equal(res.headers.get("location"), "/api/v1/tickets/1");
    assert.equal(res.headers.get("idempotent-replayed"), null);
  });
});

Deno.test("POST /create_ticket numbers tickets 1, 2, 3 and stores every field", async () => {
  await withApp(async ({ app }) => {
    const ids: number[] = [];
    for (const user_id of ["a", "b", "c"]) {
      const res = await app.request(
        "/create_ticket",
        jsonRequest(sampleTicket({ user_id })),
      );
      assert.equal(res.status, 201);
      const body = await res.json();
      ids.push(body.ticket_id);
      assert.equal(
        res.headers.get("location"),
        `/api/v1/tickets/${body.ticket_id}`,
      );
    }
    assert.deepEqual(ids, [1, 2, 3]);

    const res = await app.request("/api/v1/tickets/2");
    assert.equal(res.status, 200);
    const t = await res.json();
    assert.deepEqual(
      { ...t, created_at: "", updated_at: "" },
      {
        id: 2,
        user_id: "b",
        pdf_link: "https://example.com/product-guide.pdf",
        product_id: "PROD123",
        other_ids: "ORDER-991",
        status: "Open",
        description: "",
        assignee: null,
        priority: "Normal",
        created_at: "",
        updated_at: "",
        version: 1,
        first_response_at: null,
        resolved_at: null,
        reopened_count: 0,
        comments: [],
      },
    );
    assert.match(t.created_at, ISO_TIME);
    assert.equal(t.updated_at, t.created_at);
  });
});

Deno.test("POST /create_ticket accepts the seed README's curl example without other_ids", async () => {
  await withApp(async ({ app }) => {
    const res = await app.request(
      "/create_ticket",
      jsonRequest({
        user_id: "john_doe",
        pdf_link: "https://example.com/guide.pdf",
        product_id: "PROD123",
      }),
    );
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.deepEqual(await res.json(), {
      success: true,
      ticket_id: 1,
      message: "Ticket created successfully",
    });
    const t = await (await app.request("/api/v1/tickets/1")).json();
    assert.equal(t.other_ids, null);
    assert.equal(t.product_id, "PROD123");
  });
});

// --- POST /api/v1/tickets ------------------------------------------------------------

Deno.test('POST /api/v1/tickets returns 201 with the ticket, its Location and ETag "1"', async () => {
  await withApp(async ({ app }) => {
    const res = await app.request(
      "/api/v1/tickets",
      jsonRequest(sampleTicket()),
    );
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("content-type"), "application/json");
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), [
      "assignee",
      "created_at",
      "description",
      "first_response_at",
      "id",
      "other_ids",
      "pdf_link",
      "priority",
      "product_id",
      "reopened_count",
      "requester_url",
      "resolved_at",
      "status",
      "updated_at",
      "user_id",
      "version",
    ]);
    assert.equal(body.id, 1);
    assert.equal(body.user_id, "john_doe");
    assert.equal(body.status, "Open");
    assert.equal(body.version, 1);
    assert.match(body.created_at, ISO_TIME);
    assert.equal(res.headers.get("location"), "/api/v1/tickets/1");
    assert.equal(res.headers.get("etag"), '"1"');
  });
});

// --- GET /api/v1/tickets: keyset pagination and filters ------------------------------

Deno.test("GET /api/v1/tickets walks 250 tickets in pages of 7, newest first, with no gap or repeat", async () => {
  await withApp(async ({ app }) => {
    for (let i = 1; i <= 250; i++) {
      const res = await app.request(
        "/create_ticket",
        jsonRequest(sampleTicket({ user_id: `u${i}` })),
      );
      assert.equal(res.status, 201);
      await res.body?.cancel();
    }
    const seen: number[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = cursor
        ? `?limit=7&cursor=${encodeURIComponent(cursor)}`
        : "?limit=7";
      const res = await app.request(`/api/v1/tickets${qs}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json");
      const page = await res.json();
      pageSizes.push(page.items.length);
      for (const t of page.items) {
        seen.push(t.id);
        assert.equal(t.user_id, `u${t.id}`);
      }
      cursor = page.next_cursor;
      assert.ok(++pages <= 36, "pagination must end");
    } while (cursor !== null);
    const expected = Array.from({ length: 250 }, (_, i) => 250 - i);
    assert.deepEqual(seen, expected);
    assert.equal(pageSizes.length, 36);
    assert.deepEqual(pageSizes.slice(0, 35), Array(35).fill(7));
    assert.equal(pageSizes[35], 5);
  });
});

Deno.test("GET /api/v1/tickets returns 50 tickets by default and next_cursor null on the last page", async () => {
  await withApp(async ({ app }) => {
    for (let i = 0; i < 52; i++) await createTicket(app);
    const res = await app.request("/api/v1/tickets");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    const page = await res.json();
    assert.equal(page.items.length, 50);
    assert.equal(page.items[0].id, 52);
    assert.equal(page.items[49].id, 3);
    assert.equal(typeof page.next_cursor, "string");

    const rest = await app.request(
      `/api/v1/tickets?cursor=${page.next_cursor}`,
    );
    assert.equal(rest.status, 200);
    const last = await rest.json();
    assert.deepEqual(last.items.map((t: Json) => t.id), [2, 1]);
    assert.equal(last.next_cursor, null);
  });
});

Deno.test("GET /api/v1/tickets gives next_cursor null when the last page is exactly full", async () => {
  await withApp(async ({ app }) => {
    for (let i = 0; i < 4; i++) await createTicket(app);
    const first = await (await app.request("/api/v1/tickets?limit=2")).json();
    assert.deepEqual(first.items.map((t: Json) => t.id), [4, 3]);
    const second = await (await app.request(
      `/api/v1/tickets?limit=2&cursor=${first.next_cursor}`,
    )).json();
    assert.deepEqual(second.items.map((t: Json) => t.id), [2, 1]);
    assert.equal(second.next_cursor, null);
  });
});

Deno.test("GET /api/v1/tickets on an empty database returns no items and no cursor", async () => {
  await withApp(async ({ app }) => {
    const res = await app.request("/api/v1/tickets");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.deepEqual(await res.json(), { items: [], next_cursor: null });
  });
});

Deno.test("GET /api/v1/tickets accepts limit=1 and limit=100", async () => {
  await withApp(async ({ app }) => {
    for (let i = 0; i < 3; i++) await createTicket(app);
    const one = await app.request("/api/v1/tickets?limit=1");
    assert.equal(one.status, 200);
    assert.deepEqual((await one.json()).items.map((t: Json) => t.id), [3]);
    const hundred = await app.request("/api/v1/tickets?limit=100");
    assert.equal(hundred.status, 200);
    const page = await hundred.json();
    assert.deepEqual(page.items.map((t: Json) => t.id), [3, 2, 1]);
    assert.equal(page.next_cursor, null);
  });
});

Deno.test("GET /api/v1/tickets filters by status case-insensitively, by user_id and by product_id", async () => {
  await withApp(async ({ app }) => {
    await createTicket(app, { user_id: "ann", product_id: "P1" }); // 1
    await createTicket(app, { user_id: "bob", product_id: "P2" }); // 2
    await createTicket(app, { user_id: "ann", product_id: "P2" }); // 3
    await createTicket(app, { user_id: "cat", product_id: null }); // 4
    for (const id of [2, 3]) {
      const res = await app.request(
        `/api/v1/tickets/${id}`,
        jsonRequest({ status: "Pending" }, { method: "PATCH" }),
      );
      assert.equal(res.status, 200);
    }
    const ids = async (qs: string) => {
      const res = await app.request(`/api/v1/tickets?${qs}`);
      assert.equal(res.status, 200, qs);
      return (await res.json()).items.map((t: Json) => t.id);
    };
    assert.deepEqual(await ids("status=pending"), [3, 2]);
    assert.deepEqual(await ids("status=PENDING"), [3, 2]);
    assert.deepEqual(await ids("status=Open"), [4, 1]);
    assert.deepEqual(await ids("status=closed"), []);
    assert.deepEqual(await ids("user_id=ann"), [3, 1]);
    assert.deepEqual(await ids("product_id=P2"), [3, 2]);
    assert.deepEqual(await ids("user_id=ann&product_id=P2"), [3]);
    assert.deepEqual(await ids("user_id=ann&status=open"), [1]);
    assert.deepEqual(await ids("user_id=nobody"), []);
  });
});

Deno.test("GET /api/v1/tickets keeps a filter across pages", async () => {
  await withApp(async ({ app }) => {
    for (let i = 1; i <= 9; i++) {
      await createTicket(app, { user_id: i % 3 === 0 ? "three" : "other" });
    }
    const first = await (await app.request(
      "/api/v1/tickets?user_id=three&limit=2",
    )).json();
    assert.deepEqual(first.items.map((t: Json) => t.id), [9, 6]);
    const second = await (await app.request(
      `/api/v1/tickets?user_id=three&limit=2&cursor=${first.next_cursor}`,
    )).json();
    assert.deepEqual(second.items.map((t: Json) => t.id), [3]);
    assert.equal(second.next_cursor, null);
  });
});

for (
  const [qs, field, detail] of [
    ["limit=0", "limit", "must be at least 1"],
    ["limit=101", "limit", "must be at most 100"],
    ["limit=abc", "limit", "must be a whole number"],
    ["limit=2.5", "limit", "must be a whole number"],
    [
      "status=Resolved",
      "status",
      "must be one of Open, Pending, Closed or unsolved",
    ],
    ["cursor=zzz", "cursor", "is not a cursor this API returned"],
    ["cursor=!!!", "cursor", "is not a cursor this API returned"],
    [
      `cursor=${btoa("b:0").replaceAll("=", "")}`,
      "cursor",
      "is not a cursor this API returned",
    ],
    [
      `cursor=${btoa("a:5").replaceAll("=", "")}`,
      "cursor",
      "is not a cursor this API returned",
    ],
  ] as const
) {
  Deno.test(`GET /api/v1/tickets?${qs} returns 422 with a field error on ${field}`, async () => {
    await withApp(async ({ app }) => {
      await createTicket(app);
      const res = await app.request(`/api/v1/tickets?${qs}`);
      await assertProblem(res, 422, {
        type: "/problems/validation",
        instance: "/api/v1/tickets",
        errors: [{ field, detail }],
      });
    });
  });
}

// --- GET /api/v1/tickets/{id} -------------------------------------------------------

Deno.test('GET /api/v1/tickets/{id} returns the ticket with ETag "1" and an empty comments array', async () => {
  await withApp(async ({ app }) => {
    const created = await createTicket(app, { other_ids: ["A", "B"] });
    const res = await app.request(`/api/v1/tickets/${created.id}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("etag"), '"1"');
    assert.deepEqual(await res.json(), { ...created, comments: [] });
  });
});

for (const id of ["999", "abc", "0", "-1", "1.5", "01"]) {
  Deno.test(`GET /api/v1/tickets/${id} returns a 404 problem`, async () => {
    await withApp(async ({ app }) => {
      await createTicket(app);
      const res = await app.request(`/api/v1/tickets/${id}`);
      await assertProblem(res, 404, {
        title: "Not found",
        instance: `/api/v1/tickets/${id}`,
        detail: id === "999"
          ? "Ticket 999 does not exist"
          : "Ticket ids are positive whole numbers",
      });
    });
  });
}

// --- PATCH /api/v1/tickets/{id} -------------------------------------------------------

Deno.test("PATCH /api/v1/tickets/{id} changes status and description, bumps the version and the ETag", async () => {
  await withApp(async ({ app, store }) => {
    const t = await createTicket(app);
    const res = await app.request(
      `/api/v1/tickets/${t.id}`,
      jsonRequest({ status: "pending", description: "Looking into it" }, {
        method: "PATCH",
      }),
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("etag"), '"2"');
    const body = await res.json();
    assert.equal(body.status, "Pending");
    assert.equal(body.description, "Looking into it");
    assert.equal(body.version, 2);
    assert.equal(body.created_at, t.created_at);
    assert.ok(body.updated_at >= t.updated_at);

    const got = await app.request(`/api/v1/tickets/${t.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get("etag"), '"2"');
    assert.deepEqual(await got.json(), { ...body, comments: [] });

    const events = await store.eventsAfter(1, 100);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, "ticket.updated");
    assert.equal(events[0]!.ticket_id, t.id);
    assert.deepEqual(events[0]!.data, {
      changes: {
        status: { from: "Open", to: "Pending" },
        description: { from: "", to: "Looking into it" },
      },
      version: 2,
    });
  });
});

Deno.test("PATCH /api/v1/tickets/{id} changes only the description when only it is given", async () => {
  await withApp(async ({ app }) => {
    const t = await createTicket(app);
    const res = await app.request(
      `/api/v1/tickets/${t.id}`,
      jsonRequest({ description: "Note" }, { method: "PATCH" }),
    );
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, "Open");
    assert.equal(body.description, "Note");
    assert.equal(body.version, 2);
  });
});

Deno.test('PATCH /api/v1/tickets/{id} returns 412 with current_version when If-Match "1" is stale', async () => {
  await withApp(async (h) => {
    const { app } = h;
    const t = await createTicket(app);
    const first = await app.request(
      `/api/v1/tickets/${t.id}`,
      jsonRequest({ status: "Pending" }, { method: "PATCH" }),
    );
    assert.equal(first.status, 200);
    const before = await snapshot(h);
    const res = await app.request(
      `/api/v1/tickets/${t.id}`,
      jsonRequest({ status: "Closed" }, {
        method: "PATCH",
        headers: { "If-Match": '"1"' },
      }),
    );
    const body = await assertProblem(res, 412, {
      type: "/problems/stale-version",
      title: "Version is stale",
      instance: `/api/v1/tickets/${t.id}`,
      detail: `Cannot update ticket ${t.id}: version 1 is stale (current is 2)`,
    });
    assert.equal(body.current_version, 2);
    await assertNothingWritten(h, before);
  });
});

for (const ifMatch of ['"2"', 'W/"2"', "2", "*"]) {
  Deno.test(`PATCH /api/v1/tickets/{id} returns 200 when If-Match ${ifMatch} matches version 2`, async () => {
    await withApp(async ({ app }) => {
      const t = await createTicket(app);
      const first = await app.request(
        `/api/v1/tickets/${t.id}`,
        jsonRequest({ status: "Pending" }, { method: "PATCH" }),
      );
      assert.equal(first.status, 200);
      const res = await app.request(
        `/api/v1/tickets/${t.id}`,
        jsonRequest({ status: "Closed" }, {
          method: "PATCH",
          headers: { "If-Match": ifMatch },
        }),
      );
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.equal(res.headers.get("etag"), '"3"');
      const body = await res.json();
      assert.equal(body.status, "Closed");
      assert.equal(body.version, 3);
    });
  });
}

Deno.test("PATCH /api/v1/tickets/{id} returns 400 for a malformed If-Match and writes nothing", async () => {
  await withApp(async (h) => {
    const t = await createTicket(h.app);
    const before = await snapshot(h);
    const res = await h.app.request(
      `/api/v1/tickets/${t.id}`,
      jsonRequest({ status: "Closed" }, {
        method: "PATCH",
        headers: { "If-Match": "version-one" },
      }),
    );
    await assertProblem(res, 400, {
      title: "Malformed If-Match",
      errors: [{ field: "If-Match", detail: 'must look like "3"' }],
    });
    await assertNothingWritten(h, before);
  });
});

Deno.test("PATCH /api/v1/tickets/{id} that changes nothing keeps the version and records no event", async () => {
  await withApp(async (h) => {
    const t = await createTicket(h.app);
    const before = await snapshot(h);
    const res = await h.app.request(
      `/api/v1/tickets/${t.id}`,
      jsonRequest({ status: "open", description: "" }, { method: "PATCH" }),
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("etag"), '"1"');
    assert.deepEqual(await res.json(), t);
    await assertNothingWritten(h, before);
  });
});

for (
  const [name, body, errors] of [
    ["the patch is empty", {}, [{
      field: "status",
      pointer: "#/status",
      detail: "give at least one of status, description, assignee, priority",
    }]],
    ["the status is unknown", { status: "Resolved" }, [{
      field: "status",
      pointer: "#/status",
      detail: "must be one of Open, Pending, Closed",
    }]],
    ["the status is not a string", { status: 2 }, [{
      field: "status",
      pointer: "#/status",
      detail: "must be a string",
    }]],
    ["the description is not a string", { description: ["x"] }, [{
      field: "description",
      pointer: "#/description",
      detail: "must be a string",
    }]],
    ["the description is over 10000 characters", {
      description: "x".repeat(10_001),
    }, [{
      field: "description",
      pointer: "#/description",
      detail: "must be at most 10000 characters",
    }]],
  ] as const
) {
  Deno.test(`PATCH /api/v1/tickets/{id} returns 422 when ${name}`, async () => {
    await withApp(async (h) => {
      const t = await createTicket(h.app);
      const before = await snapshot(h);
      const res = await h.app.request(
        `/api/v1/tickets/${t.id}`,
        jsonRequest(body, { method: "PATCH" }),
      );
      await assertProblem(res, 422, {
        type: "/problems/validation",
        instance: `/api/v1/tickets/${t.id}`,
        errors: errors.map((e) => ({ ...e })),
      });
      await assertNothingWritten(h, before);
    });
  });
}

Deno.test("PATCH /api/v1/tickets/{id} returns 404 for a missing ticket and writes nothing", async () => {
  await withApp(async (h) => {
    await createTicket(h.app);
    const before = await snapshot(h);
    const res = await h.app.request(
      "/api/v1/tickets/42",
      jsonRequest({ status: "Closed" }, { method: "PATCH" }),
    );
    await assertProblem(res, 404, {
      instance: "/api/v1/tickets/42",
      detail: "Ticket 42 does not exist",
    });
    await assertNothingWritten(h, before);
  });
});

// --- POST /api/v1/tickets/{id}/comments --------------------------------------------------

Deno.test("POST /api/v1/tickets/{id}/comments returns 201 and the comment appears in GET", async () => {
  await withApp(async ({ app, store, actor }) => {
    const t = await createTicket(app);
    const res = await app.request(
      `/api/v1/tickets/${t.id}/comments`,
      jsonRequest({ body: "  Please send the serial number.  " }),
    );
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(
      res.headers.get("location"),
      `/api/v1/tickets/${t.id}#comment-1`,
    );
    const comment = await res.json();
    assert.deepEqual({ ...comment, created_at: "" }, {
      id: 1,
      author: actor,
      body: "Please send the serial number.",
      visibility: "internal",
      from_requester: false,
      created_at: "",
    });
    assert.match(comment.created_at, ISO_TIME);

    const second = await app.request(
      `/api/v1/tickets/${t.id}/comments`,
      jsonRequest({ body: "Thanks", author: "agent-7" }),
    );
    assert.equal(second.status, 201);
    const reply = await second.json();
    // A client-supplied author is shown with the key it came through.
    assert.equal(reply.author, `agent-7 (via ${actor})`);

    const got = await app.request(`/api/v1/tickets/${t.id}`);
    assert.equal(got.status, 200);
    // Comments never conflict with edits, so they leave the version alone.
    assert.equal(got.headers.get("etag"), '"1"');
    const ticket = await got.json();
    assert.deepEqual(ticket.comments, [comment, reply]);
    assert.equal(ticket.version, 1);
    assert.equal(ticket.updated_at, reply.created_at);

    const events = await store.eventsAfter(1, 100);
    assert.deepEqual(
      events.map((e) => [e.type, e.ticket_id, e.actor, e.data]),
      [
        ["comment.added", t.id, actor, {
          comment_id: 1,
          visibility: "internal",
        }],
        ["comment.added", t.id, `agent-7 (via ${actor})`, {
          comment_id: 2,
          visibility: "internal",
        }],
      ],
    );
  });
});

Deno.test("POST /api/v1/tickets/{id}/comments returns 404 for a missing ticket and writes nothing", async () => {
  await withApp(async (h) => {
    await createTicket(h.app);
    const before = await snapshot(h);
    const res = await h.app.request(
      "/api/v1/tickets/7/comments",
      jsonRequest({ body: "hello?" }),
    );
    await assertProblem(res, 404, {
      instance: "/api/v1/tickets/7/comments",
      detail: "Ticket 7 does not exist",
    });
    await assertNothingWritten(h, before);
  });
});

Deno.test("POST /api/v1/tickets/abc/comments returns 404 for a non-numeric id", async () => {
  await withApp(async (h) => {
    const before = await snapshot(h);
    const res = await h.app.request(
      "/api/v1/tickets/abc/comments",
      jsonRequest({ body: "hello?" }),
    );
    await assertProblem(res, 404, {
      detail: "Ticket ids are positive whole numbers",
    });
    await assertNothingWritten(h, before);
  });
});

for (
  const [name, body, errors] of [
    ["the body is missing", {}, [{
      field: "body",
      pointer: "#/body",
      detail: "is required",
    }]],
    ["the body is only spaces", { body: "   " }, [{
      field: "body",
      pointer: "#/body",
      detail: "must not be empty",
    }]],
    ["the body is over 10000 characters", { body: "x".repeat(10_001) }, [{
      field: "body",
      pointer: "#/body",
      detail: "must be at most 10000 characters",
    }]],
    ["the author is empty", { body: "hi", author: " " }, [{
      field: "author",
      pointer: "#/author",
      detail: "must not be empty",
    }]],
  ] as const
) {
  Deno.test(`POST /api/v1/tickets/{id}/comments returns 422 when ${name}`, async () => {
    await withApp(async (h) => {
      const t = await createTicket(h.app);
      const before = await snapshot(h);
      const res = await h.app.request(
        `/api/v1/tickets/${t.id}/comments`,
        jsonRequest(body),
      );
      await assertProblem(res, 422, {
        type: "/problems/validation",
        errors: errors.map((e) => ({ ...e })),
      });
      await assertNothingWritten(h, before);
    });
  });
}
