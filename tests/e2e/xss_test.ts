/**
 * XSS in a real browser: tickets carrying payloads in every field, created
 * through the API, then the dashboard, a search, a ticket page, its editor and
 * comment form, and live updates. Nothing may run: no dialog, no `__xss++`, no
 * CSP violation (one would mean something tried to run and only the policy
 * stopped it), no injected element or attribute at any moment.
 */
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "./playwright.ts";
import { hashPassword } from "../../lib/passwords.ts";
import { newApiKey } from "../../lib/tokens.ts";
import {
  browserTest,
  logIn,
  PASSWORD,
  startServer,
  type TestServer,
} from "./harness.ts";

const WAIT = 10_000;

const PAYLOADS: readonly string[] = [
  "<script>alert(1)</script>",
  "<script>__xss++</script>",
  '"><img src=x onerror=alert(1)>',
  '"><img src=/xss-probe onerror=__xss++>',
  "' onmouseover='__xss++' x='",
  '" autofocus onfocus="__xss++" x="',
  "<svg onload=__xss++>",
  "<svg><script>__xss++</script></svg>",
  "javascript:__xss++",
  "</textarea><script>__xss++</script><img src=/xss-probe onerror=__xss++>",
  "<iframe src=javascript:__xss++></iframe>",
  "<a href=javascript:__xss++ id=xss-link>click</a>",
  "{{constructor.constructor('__xss++')()}}",
  '<a href="x',
  "<!--",
  '<div hx-get="/logout" hx-trigger="load">x</div>',
  '<button hx-post="/logout" hx-trigger="load">x</button>',
  '<div hx-on::load="__xss++">x</div>',
  '<hx-partial hx-target="body" hx-swap="innerHTML">pwned</hx-partial>',
  "\u200Fgpj.exe <b>\u0645\u0631\u062D\u0628\u0627</b>\u200B \u{1F44B}",
];

/**
 * Before any page script: `__xss` reports every increment, CSP violations are
 * reported, and every element or attribute ever added is audited (a payload
 * that lands for a moment, say in #incoming, is caught too).
 */
const GUARD = `(() => {
  let n = 0;
  Object.defineProperty(window, "__xss", {
    get: () => n,
    set: (v) => { n = v; window.__report("__xss = " + v + " at " + location.pathname); },
  });
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__report("CSP " + e.effectiveDirective + " blocked " + e.blockedURI +
      " sample " + JSON.stringify(e.sample) + " at " + location.pathname);
  }, true);
  const FORBIDDEN = new Set(["img", "svg", "iframe", "object", "embed", "frame",
    "math", "base", "style", "hx-partial"]);
  const audit = (el) => {
    if (!(el instanceof Element)) return;
    const tag = el.localName;
    const say = (why) => window.__report(why + ": " + el.outerHTML.slice(0, 160) + " at " + location.pathname);
    // The stream's own <hx-partial>s live inside #live's SSE handling, never in the page.
    if (FORBIDDEN.has(tag)) say("<" + tag + "> in the page");
    if (tag === "script" && !/^\\/static\\//.test(el.getAttribute("src") ?? "")) say("a script");
    for (const a of el.attributes) {
      if (/^on/i.test(a.name) || /^hx-on/i.test(a.name)) say("handler " + a.name);
      if (/^(href|src|action|formaction)$/i.test(a.name) &&
          /^\\s*(javascript|data|vbscript):/i.test(a.value)) say("script URL");
      if (/^hx-/i.test(a.name) && /logout/.test(a.value)) say(a.name + " to /logout");
      if (a.name === "hx-target" && a.value === "body") say("hx-target=body");
      if (a.name === "id" && /^xss/.test(a.value)) say("an injected id");
    }
    for (const child of el.children) audit(child);
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "attributes") audit(r.target);
      for (const node of r.addedNodes) audit(node);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
})()`;

interface Watched {
  context: BrowserContext;
  page: Page;
  /** Everything that must stay empty: reports, dialogs, errors, forbidden requests. */
  problems: string[];
}

async function watchedPage(
  server: TestServer,
  browser: Parameters<Parameters<typeof browserTest>[1]>[0],
): Promise<Watched> {
  const context = await browser.newContext();
  const problems: string[] = [];
  await context.exposeBinding(
    "__report",
    (_source, what: string) => void problems.push(what),
  );
  await context.addInitScript(GUARD);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.on("dialog", (d) => {
    problems.push(`dialog ${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on("pageerror", (e) => problems.push(`pageerror ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console.error ${m.text()}`);
  });
  page.on("request", (r) => {
    const path = new URL(r.url()).pathname;
    if (path === "/logout" || path.startsWith("/xss") || path === "/x") {
      problems.push(`request ${r.method()} ${r.url()}`);
    }
  });
  await logIn(page, server.url, "alice");
  return { context, page, problems };
}

async function api(
  server: TestServer,
  key: string,
  path: string,
  body: unknown,
  method = "POST",
): Promise<{ id: number }> {
  const res = await fetch(server.url + path, {
    method,
    headers: {
      Authorization: `Bearer ${key}`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.status === 200 || res.status === 201, `${path}: ${text}`);
  return JSON.parse(text);
}

/** A ticket with `payload` in every field, its description and a comment (body and author). */
async function payloadTicket(
  server: TestServer,
  key: string,
  payload: string,
  i: number,
): Promise<number> {
  const { id } = await api(server, key, "/api/v1/tickets", {
    user_id: payload,
    pdf_link: "https://example.com/guide.pdf",
    product_id: payload,
    other_ids: i % 2 ? payload : [payload, "ORDER-1"],
  });
  await api(server, key, `/api/v1/tickets/${id}`, {
    description: payload,
  }, "PATCH");
  await api(server, key, `/api/v1/tickets/${id}/comments`, {
    body: payload,
    author: payload,
  });
  return id;
}

/** Hovers and focuses every card, and lets images and handlers have their chance. */
async function poke(page: Page): Promise<void> {
  for (const card of await page.$$(".ticket-card")) {
    await card.hover().catch(() => {});
  }
  await page.keyboard.press("Tab");
  await page.waitForTimeout(150);
}

/**
 * Waits until `selector` matches `n` elements. (A string waitForFunction is
 * evaluated with eval, which our CSP forbids: it would be a violation itself.)
 */
async function waitCount(page: Page, selector: string, n: number) {
  const until = Date.now() + WAIT;
  while ((await page.locator(selector).count()) !== n) {
    if (Date.now() > until) {
      throw new Error(`timed out waiting for ${n} × ${selector}`);
    }
    await page.waitForTimeout(50);
  }
}

async function assertClean(w: Watched, where: string): Promise<void> {
  await poke(w.page);
  assert.equal(await w.page.evaluate<number>("window.__xss"), 0, where);
  assert.deepEqual(w.problems, [], where);
}

browserTest(
  "payloads in every field stay text on the dashboard, in search, on the ticket page and in live updates",
  async (browser) => {
    const server = await startServer();
    try {
      await server.store.createUser({
        username: "alice",
        passwordHash: await hashPassword(PASSWORD),
        role: "admin",
      });
      const { key, prefix, hash } = newApiKey();
      await server.store.createApiKey({ name: "mobile", prefix, hash });
      const ids: number[] = [];
      for (const [i, p] of PAYLOADS.entries()) {
        ids.push(await payloadTicket(server, key, p, i));
      }

      const w = await watchedPage(server, browser);
      const { page } = w;
      await page.waitForSelector("#live-status[data-state=live]", {
        state: "attached",
      });
      assert.equal(await page.locator(".ticket-card").count(), PAYLOADS.length);
      // Each payload is on screen as the text it is.
      for (const [i, p] of PAYLOADS.entries()) {
        const text = await page.textContent(`#ticket-${ids[i]} .ticket-ids`);
        assert.ok(text?.includes(p.trim()), `card ${ids[i]} shows ${p}`);
      }
      await assertClean(w, "the dashboard");

      // A search for a payload, typed: the board is swapped by htmx.
      await page.keyboard.press("Escape");
      await page.fill("#q", "");
      await page.click("#q");
      await page.keyboard.type("<script>__xss++</script>");
      await page.waitForURL(/q=/);
      await page.locator(".ticket-card").first().waitFor();
      assert.ok(
        (await page.textContent("#board")) !== null,
        "the board is there",
      );
      await assertClean(w, "a typed search");
      // The same search loaded as a page: title, box and empty state echo it.
      await page.goto(
        `${server.url}/dashboard?q=${
          encodeURIComponent('"><img src=/xss-probe onerror=__xss++> zzz')
        }`,
      );
      assert.match(await page.title(), /zzz/);
      assert.equal(
        await page.inputValue("#q"),
        '"><img src=/xss-probe onerror=__xss++> zzz',
      );
      await assertClean(w, "a search page");

      // A ticket page; the description editor holds the payload as its text.
      const textarea = PAYLOADS.indexOf(
        "</textarea><script>__xss++</script><img src=/xss-probe onerror=__xss++>",
      );
      const id = ids[textarea]!;
      await page.goto(`${server.url}/tickets/${id}`);
      assert.equal(
        (await page.textContent("#description .text"))?.trim(),
        PAYLOADS[textarea],
      );
      await page.click("#description-edit");
      await page.waitForSelector("#description-text");
      assert.equal(
        (await page.inputValue("#description-text")).trim(),
        PAYLOADS[textarea],
      );
      await page.fill("#description-text", '<svg onload=__xss++> "saved"');
      await page.click("#description button[type=submit]");
      await page.waitForSelector("#description .saved");
      // A comment through the form.
      await page.fill("#comment-body", "<img src=/xss-probe onerror=__xss++>");
      await page.click("#comment-submit");
      await waitCount(page, "#thread .comment", 2);
      assert.equal(
        (await page.textContent("#thread .comment:last-child .text"))?.trim(),
        "<img src=/xss-probe onerror=__xss++>",
      );
      await assertClean(w, "the ticket page");

      // Someone else changes this ticket while it is open: the page refetches itself.
      await page.waitForSelector("#live-status[data-state=live]", {
        state: "attached",
      });
      await api(server, key, `/api/v1/tickets/${id}/comments`, {
        body: "<script>__xss++</script> live comment",
        author: '"><img src=/xss-probe onerror=__xss++>',
      });
      await waitCount(page, "#thread .comment", 3);
      // Announced beside the timeline (no toast: the comment is on screen).
      await page.waitForSelector("#thread-news:not(:empty)");
      await assertClean(w, "a live change on the ticket page");

      // Live inserts and updates on the dashboard.
      await page.goto(`${server.url}/dashboard`);
      await page.waitForSelector("#live-status[data-state=live]", {
        state: "attached",
      });
      const fresh: number[] = [];
      for (
        const p of [
          "<script>__xss++</script>",
          '"><img src=/xss-probe onerror=__xss++>',
          '<hx-partial hx-target="body" hx-swap="innerHTML">pwned</hx-partial>',
        ]
      ) {
        fresh.push(await payloadTicket(server, key, p, fresh.length));
      }
      await api(server, key, `/api/v1/tickets/${ids[0]}`, {
        status: "Pending",
        description: "<svg onload=__xss++>",
      }, "PATCH");
      for (const n of fresh) {
        await page.waitForSelector(`#cards #ticket-${n}`);
      }
      await page.waitForSelector(`#ticket-${ids[0]}.status-pending`);
      assert.match(
        await page.textContent(`#ticket-${fresh[2]} .ticket-ids`) ?? "",
        /<hx-partial hx-target="body" hx-swap="innerHTML">pwned<\/hx-partial>/,
      );
      assert.ok(await page.isVisible("#main"), "the page was not replaced");
      await assertClean(w, "live inserts and updates on the dashboard");
      await w.context.close();
    } finally {
      await server.stop();
    }
  },
);
