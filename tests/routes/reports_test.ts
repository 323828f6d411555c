/** The Reports page, its fragment and CSV, and GET /api/v1/reports/summary, through the app. */
import assert from "node:assert/strict";
import type { NewTicket } from "../../db/store.ts";
import { newApiKey } from "../../lib/tokens.ts";
import { addDays, localDate } from "../../lib/report_days.ts";
import {
  addUser,
  assertProblem,
  type Harness,
  logIn,
  withApp,
  withConfiguredApp,
} from "../fixtures.ts";

const HX = { "HX-Request": "true", "HX-Request-Type": "partial" };
const today = () => new Date().toISOString().slice(0, 10);

function newTicket(overrides: Partial<NewTicket> = {}): NewTicket {
  return {
    user_id: "john_doe",
    pdf_link: "https://example.com/guide.pdf",
    product_id: "ROUTER-AX3",
    other_ids: null,
    ...overrides,
  };
}

/** maria and li, agents; maria signed in. Four tickets: one maria's and closed, one li's, two nobody's (one answered). */
async function desk(h: Harness) {
  await addUser(h.store, "maria");
  await addUser(h.store, "li");
  const cookie = await logIn(h.rawApp, "maria");
  const create = async (o: Partial<NewTicket> = {}) =>
    (await h.store.createTicket(newTicket(o), { actor: "api" })).ticket;
  const a = await create();
  await h.store.updateTicket(a.id, { assignee: "maria", status: "Closed" }, {
    actor: "maria",
  });
  const b = await create({ product_id: "CAM-1", priority: "Urgent" });
  await h.store.updateTicket(b.id, { assignee: "li" }, { actor: "maria" });
  const c = await create({ product_id: null });
  await h.store.addComment(c.id, "Hello", {
    actor: "li",
    visibility: "public",
  });
  const d = await create();
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await h.rawApp.request(path, {
      headers: { Cookie: cookie, ...headers },
    });
    return { status: res.status, text: await res.text(), res };
  };
  return { get, a, b, c, d };
}

Deno.test("GET /reports shows the last 30 days: figures, charts with a title, a summary and a table, and the owner and product tables", async () => {
  await withApp(async (h) => {
    const { get } = await desk(h);
    const page = await get("/reports");
    assert.equal(page.status, 200);
    assert.match(page.res.headers.get("content-type") ?? "", /text\/html/);
    assert.match(
      page.text,
      /<a href="\/reports" aria-current="page">Reports<\/a>/,
    );
    assert.match(
      page.text,
      /<a href="\/reports\?range=30" aria-current="page">Last 30 days/,
    );
    // The daily chart: an image named by its title and its one-sentence summary.
    assert.match(
      page.text,
      /<svg class="chart-svg"[^>]*role="img"[^>]*aria-labelledby="daily-svg-title daily-svg-desc"/,
    );
    assert.match(
      page.text,
      /<title id="daily-svg-title">Created and closed per day/,
    );
    assert.match(page.text, /4 created and 1 closed from/);
    // The table alternative holds the same figures: today 4 created, 1 closed, 3 open.
    const row = new RegExp(
      `<tr data-date="${today()}"><th scope="row">${today()}</th><td data-col="created">4</td><td data-col="closed">1</td><td data-col="reopened">0</td><td data-col="backlog">3</td></tr>`,
    );
    assert.match(page.text, row);
    assert.equal(page.text.match(/<tr data-date=/g)?.length, 30);
    // Waiting: b and d (a is Closed, c was answered), oldest first, linked.
    assert.match(page.text, /<strong id="waiting-count">2<\/strong>/);
    // Rows link to the dashboard filtered the same way, every status.
    assert.match(
      page.text,
      /<a href="\/dashboard\?status=all&amp;assignee=maria">maria<\/a>/,
    );
    assert.match(
      page.text,
      /<a href="\/dashboard\?status=all&amp;assignee=%40none">Unassigned<\/a>/,
    );
    assert.match(
      page.text,
      /<a href="\/dashboard\?status=all&amp;product=CAM-1">CAM-1<\/a>/,
    );
    assert.match(page.text, /<th scope="row">No product<\/th>/);
    assert.match(page.text, /href="\/reports.csv\?range=30"[^>]*>Export CSV/);
    // Live: the page watches a reports channel on the shared connection.
    assert.match(page.text, /data-channel="reports=1"/);
  });
});

Deno.test("GET /reports keeps the range and the dashboard's filters in the URL, the links and the CSV link; @me is the viewer", async () => {
  await withApp(async (h) => {
    const { get } = await desk(h);
    const page = await get("/reports?range=7&assignee=%40me&priority=Normal");
    assert.equal(page.status, 200);
    assert.equal(page.text.match(/<tr data-date=/g)?.length, 7);
    assert.match(
      page.text,
      /href="\/reports.csv\?range=7&amp;assignee=%40me&amp;priority=Normal"/,
    );
    assert.match(page.text, /<option value="@me" selected>Me<\/option>/);
    assert.match(page.text, /<input type="hidden" name="range" value="7"/);
    // Only maria's ticket a: created and closed today.
    assert.match(page.text, /1 created and 1 closed from/);
    assert.match(
      page.text,
      /data-channel="reports=1&amp;assignee=maria&amp;priority=Normal"/,
    );
    assert.match(
      page.text,
      /<a href="\/dashboard\?status=all&amp;assignee=maria&amp;priority=Normal">maria<\/a>/,
    );
  });
});

for (
  const [query, field, message] of [
    ["range=12", "range", "must be 7, 30 or 90"],
    [
      "from=2026-11-05&to=2026-11-01",
      "to",
      "must not be before from (2026-11-05)",
    ],
    [
      "from=2026-02-30&to=2026-03-01",
      "from",
      "must be a date written YYYY-MM-DD",
    ],
    [
      "from=2025-01-01&to=2026-12-31",
      "to",
      "must be at most 366 days from from",
    ],
    ["to=2026-11-01", "from", "is needed with to"],
  ] as const
) {
  Deno.test(`GET /reports?${query} answers 400 with the form and the message beside ${field}`, async () => {
    await withApp(async (h) => {
      const { get } = await desk(h);
      const page = await get(`/reports?${query}`);
      assert.equal(page.status, 400);
      assert.match(page.res.headers.get("content-type") ?? "", /text\/html/);
      assert.ok(page.text.includes(message), page.text);
      assert.doesNotMatch(page.text, /id="report"/);
      if (field !== "range") {
        assert.match(
          page.text,
          new RegExp(`id="${field}"[^>]*aria-invalid="true"`),
        );
      }
      const csv = await get(`/reports.csv?${query}`);
      assert.equal(csv.status, 400);
      assert.ok(csv.text.includes(message));
    });
  });
}

Deno.test("GET /reports for htmx answers the report fragment alone, which live updates swap", async () => {
  await withApp(async (h) => {
    const { get } = await desk(h);
    const part = await get("/reports?range=7", HX);
    assert.equal(part.status, 200);
    assert.match(part.text, /^<div id="report"/);
    assert.doesNotMatch(part.text, /<html|<form/);
  });
});

Deno.test("GET /reports.csv downloads a row per day, the totals, and a row per owner and product, safe for spreadsheets", async () => {
  await withApp(async (h) => {
    const { get } = await desk(h);
    await h.store.createTicket(newTicket({ product_id: "=HYPERLINK(1)" }), {
      actor: "api",
    });
    const from = addDays(today(), -2);
    const csv = await get(`/reports.csv?from=${from}&to=${today()}`);
    assert.equal(csv.status, 200);
    assert.equal(
      csv.res.headers.get("content-type"),
      "text/csv; charset=utf-8",
    );
    assert.equal(
      csv.res.headers.get("content-disposition"),
      `attachment; filename="report-${from}-${today()}.csv"`,
    );
    const lines = csv.text.trimEnd().split("\r\n");
    assert.match(
      lines[0]!,
      /^row,date,owner,product,created,closed,reopened,backlog,first_reply_median_s/,
    );
    assert.deepEqual(lines.slice(1, 4).map((l) => l.split(",").slice(0, 2)), [
      ["day", from],
      ["day", addDays(today(), -1)],
      ["day", today()],
    ]);
    assert.match(lines[3]!, new RegExp(`^day,${today()},,,5,1,0,4,`));
    assert.match(lines[4]!, new RegExp(`^total,${from}/${today()},,,5,1,0,4,`));
    assert.ok(lines.some((l) => l.startsWith("owner,,maria,,1,1,")));
    assert.ok(lines.includes("product,,,'=HYPERLINK(1),1,0,0,,,,,,"));
  });
});

Deno.test("GET /api/v1/reports/summary returns the page's figures as JSON: per day and totals, durations in seconds", async () => {
  await withApp(async (h) => {
    const { c } = await desk(h);
    const res = await h.app.request("/api/v1/reports/summary?range=7");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const body = await res.json();
    assert.equal(body.time_zone, "UTC");
    assert.equal(body.to, today());
    assert.equal(body.days.length, 7);
    assert.deepEqual(body.days.at(-1), {
      date: today(),
      created: 4,
      closed: 1,
      reopened: 0,
      backlog: 3,
    });
    assert.deepEqual(
      { ...body.totals },
      { created: 4, closed: 1, reopened: 0, backlog: 3, reopen_rate: 0 },
    );
    assert.equal(body.first_reply.count, 1);
    const ticket = await h.store.getTicket(c.id);
    assert.equal(
      body.first_reply.median_s,
      Math.floor(
        (Date.parse(ticket!.first_response_at!) -
          Date.parse(ticket!.created_at)) /
          1000,
      ),
    );
    assert.equal(body.first_reply.waiting, 2);
    assert.equal(body.close.count, 1);
    assert.equal(body.first_reply.histogram[0].label, "under 15 min");
    const li = body.owners.find((o: { assignee: string }) =>
      o.assignee === "li"
    );
    assert.deepEqual(li, {
      assignee: "li",
      created: 1,
      closed: 0,
      reopened: 0,
      first_reply_median_s: null,
      close_median_s: null,
      reopen_rate: null,
    });
    const narrowed = await (await h.app.request(
      "/api/v1/reports/summary?range=7&assignee=%40none&product=router",
    )).json();
    assert.deepEqual(narrowed.filter, {
      product: "router",
      assignee: "@none",
      priority: null,
    });
    assert.equal(narrowed.totals.created, 1, "d alone: c has no product");
  });
});

Deno.test("GET /api/v1/reports/summary counts days in REPORT_TIME_ZONE", async () => {
  await withConfiguredApp(
    { reportTimeZone: "Pacific/Kiritimati" },
    async ({ app, store }) => {
      const { key, prefix, hash } = newApiKey();
      await store.createApiKey({ name: "r", prefix, hash, scopes: ["read"] });
      const res = await app.request("/api/v1/reports/summary?range=7", {
        headers: { Authorization: `Bearer ${key}` },
      });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.time_zone, "Pacific/Kiritimati");
      assert.equal(body.to, localDate(Date.now(), "Pacific/Kiritimati"));
    },
  );
});

for (
  const [query, field, detail] of [
    ["range=5", "range", "must be 7, 30 or 90"],
    [
      "from=2026-11-05&to=2026-11-01",
      "to",
      "must not be before from (2026-11-05)",
    ],
    [
      "from=yesterday",
      "from",
      "must be a date written YYYY-MM-DD, like 2026-11-01",
    ],
    [
      "from=2024-01-01&to=2026-01-01",
      "to",
      "must be at most 366 days from from (732 days asked)",
    ],
    ["priority=Soon", "priority", "must be one of Low, Normal, High, Urgent"],
    ["assignee=a%20b", "assignee", "must be @none or a user name"],
  ] as const
) {
  Deno.test(`GET /api/v1/reports/summary?${query} returns 422 with a field error on ${field}`, async () => {
    await withApp(async (h) => {
      const res = await h.app.request(`/api/v1/reports/summary?${query}`);
      await assertProblem(res, 422, {
        type: "/problems/validation",
        errors: [{ field, detail }],
      });
    });
  });
}

Deno.test("GET /api/v1/reports/summary needs the read scope, and is in the OpenAPI document", async () => {
  await withApp(async (h) => {
    const { key, prefix, hash } = newApiKey();
    await h.store.createApiKey({
      name: "app",
      prefix,
      hash,
      scopes: ["create"],
    });
    const res = await h.rawApp.request("/api/v1/reports/summary", {
      headers: { Authorization: `Bearer ${key}` },
    });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).required_scope, "read");
    const anonymous = await h.rawApp.request("/api/v1/reports/summary");
    assert.equal(anonymous.status, 401);
    const doc = await (await h.app.request("/api/openapi.json")).json();
    assert.ok(doc.paths["/api/v1/reports/summary"].get);
  });
});
