/**
 * Form and link fuzz: logged in as the admin, read every page's forms (hidden
 * fields such as `next`, `back`, `version`, `seen`, `view` included) and the
 * query parameters of its links, then send each one back with one value
 * replaced by a control character (%00–%1F, %7F), a backslash or an off-site
 * target (`//evil.example`, `/\evil.example`, `https://evil.example`,
 * `/%09/evil.example`, `javascript:`). After every request: no 5xx, any
 * Location is a same-origin path, and /healthz still answers 200. A request
 * that takes the server down is reported with what the server printed, and the
 * server is started again on the same database to go on.
 */
import { join } from "node:path";
import { CHAOS_ADMIN, CHAOS_ENV, loginAdmin } from "./auth.ts";
import { LEGACY } from "./creates.ts";
import { send, tryJson } from "./http.ts";
import { fieldMutations, offSiteLocation } from "./mutator.ts";
import {
  type Field,
  parseForms,
  parseLinks,
  shapeOf,
  type Target,
} from "./pages.ts";
import { Findings, type ScenarioResult } from "./result.ts";
import type { Rng } from "./rng.ts";
import { type ServerProcess, startServer } from "./server.ts";
import { ticketBody } from "./tickets.ts";

export interface FormFuzzOptions {
  dir: string;
  rng: Rng;
  /** At most this many mutated requests (each field gets its likeliest values first). */
  cases: number;
}

const NAME = "fuzz (pages' forms and links)";
/** A field that took the server down this often is not tried further. */
const CRASHES_PER_FIELD = 2;
/** Password fields are typed, not sent back; the login form gets the real ones. */
const SKIP_KINDS = new Set(["password"]);
/**
 * Where-to-go-next parameters the app reads from any form or query even when the
 * page did not render them: every target is also sent each one it lacks.
 */
const REDIRECT_FIELDS = ["back", "next"];

interface Case {
  target: Target;
  field: string;
  value: string;
  /** Sent without the session cookie (the login form; the login page as a stranger). */
  signedOut: boolean;
}

/** One place the fuzz sends requests to: the server, the admin's cookie. */
class Desk {
  server!: ServerProcess;
  cookie = "";
  restarts = 0;
  readonly logged: string[] = [];

  constructor(readonly dbPath: string) {}

  async start(apiKey?: string | null) {
    this.server = await startServer({ dbPath: this.dbPath, apiKey });
    await this.login();
  }

  async login() {
    this.cookie = await loginAdmin(
      this.server.base,
      this.dbPath,
      this.server.client,
    );
  }

  /**
   * Starts the server again on the same file after it went down, and returns
   * what the old one printed last about it (a panic, an error).
   */
  async restart(): Promise<string> {
    const old = this.server;
    await old.kill();
    this.logged.push(...old.errorLines);
    this.restarts++;
    await this.start(old.apiKey);
    const at = old.tail.findLastIndex((l) => /panicked at/.test(l));
    if (at >= 0) return old.tail.slice(at, at + 2).join(" ");
    return old.tail.filter((l) => /error/i.test(l)).slice(-1).join("");
  }

  async get(path: string, signedOut = false): Promise<string> {
    const res = await fetch(this.server.base + path, {
      headers: signedOut ? {} : { cookie: this.cookie },
      redirect: "manual",
      client: this.server.client,
      signal: AbortSignal.timeout(10_000),
    });
    return await res.text();
  }

  /** Whether the server is up and /healthz answers 200. */
  async healthy(): Promise<boolean> {
    if (!this.server.alive) return false;
    try {
      const res = await fetch(`${this.server.base}/healthz`, {
        client: this.server.client,
        signal: AbortSignal.timeout(3000),
      });
      await res.body?.cancel();
      return res.status === 200;
    } catch {
      return false;
    }
  }
}

/** The pages the fuzz reads forms and links from, signed in unless marked. */
function pagesToRead(ticketId: number): [string, boolean][] {
  return [
    ["/dashboard", false],
    ["/dashboard?status=Open", false],
    [`/tickets/${ticketId}`, false],
    [`/tickets/${ticketId}?back=%2Fdashboard%3Fstatus%3DOpen`, false],
    [`/tickets/${ticketId}?edit=description`, false],
    ["/settings", false],
    ["/login?next=%2Fdashboard", true],
  ];
}

/** The page's own URL as a target: its query parameters are fuzzed too. */
function pageTarget(page: string): Target | null {
  const url = new URL(page, "http://desk.invalid");
  if (!url.search) return null;
  const fields = [...url.searchParams].map(([name, value]): Field => ({
    name,
    value,
    kind: "query",
    at: "query",
  }));
  return {
    page,
    method: "GET",
    path: url.pathname,
    fields,
    htmx: false,
    shape: shapeOf("GET", url.pathname, fields.map((f) => f.name), {
      htmx: false,
      page,
    }) + " itself",
    via: "page",
  };
}

async function readTargets(
  desk: Desk,
  ticketId: number,
): Promise<{ targets: Target[]; signedOut: Set<string> }> {
  const byShape = new Map<string, Target>();
  const signedOut = new Set<string>();
  for (const [page, out] of pagesToRead(ticketId)) {
    const html = await desk.get(page, out);
    const own = pageTarget(page);
    const found = [
      ...(own ? [own] : []),
      ...parseForms(html, page),
      ...parseLinks(html, page),
    ];
    for (const t of found) {
      if (byShape.has(t.shape)) continue;
      const at = t.method === "GET" ? "query" : "body";
      for (const name of REDIRECT_FIELDS) {
        if (t.fields.some((f) => f.name === name)) continue;
        t.fields.push({ name, value: "/dashboard", kind: "added", at });
      }
      byShape.set(t.shape, t);
      // The login form and page are what a stranger sees; the login page is
      // also read signed in (it redirects to `next` then).
      if (out && t.path === "/login") signedOut.add(t.shape);
    }
  }
  return { targets: [...byShape.values()], signedOut };
}

/** Each field's values in turn, round-robin, so a cap still tries every field's first values. */
function plan(
  targets: Target[],
  signedOut: Set<string>,
  rng: Rng,
  cap: number,
): { cases: Case[]; total: number; fields: number } {
  const queues = new Map<string, Case[]>();
  for (const target of targets) {
    const out = signedOut.has(target.shape);
    for (const field of target.fields) {
      if (SKIP_KINDS.has(field.kind)) continue;
      const values = fieldMutations(field.value);
      const variants = target.method === "GET" && target.path === "/login"
        ? [out, !out]
        : [out];
      for (const signed of variants) {
        // An added field is tried once per route, not once per page it is on.
        const key = field.kind === "added"
          ? `${target.method} ${
            target.path.replace(/\/\d+(?=\/|$)/g, "/N")
          } ${target.htmx} ${signed} ${field.name}`
          : `${target.shape} ${signed} ${field.name}`;
        if (queues.has(key)) continue;
        queues.set(
          key,
          values.map((value) => ({
            target,
            field: field.name,
            value,
            signedOut: signed,
          })),
        );
      }
    }
  }
  const order = [...queues.values()];
  // Which fields go first in each round varies with the seed; the values' order does not.
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const total = order.reduce((n, q) => n + q.length, 0);
  const cases: Case[] = [];
  for (let round = 0; cases.length < Math.min(cap, total); round++) {
    for (const q of order) {
      if (round < q.length && cases.length < cap) cases.push(q[round]!);
    }
  }
  return { cases, total, fields: order.length };
}

function describe(c: Case): string {
  const t = c.target;
  return `${t.method} ${t.path}${t.htmx ? " (htmx)" : ""}${
    c.signedOut ? " signed out" : ""
  } ${c.field}=${JSON.stringify(c.value)} [${t.via} on ${t.page}]`;
}

/** The target's fields with the values the page shows now (hidden versions move on), or null if gone. */
async function freshFields(desk: Desk, c: Case): Promise<Field[] | null> {
  const t = c.target;
  if (t.method === "GET") return t.fields;
  const html = await desk.get(t.page, c.signedOut);
  const now = parseForms(html, t.page).find((f) => f.shape === t.shape);
  if (!now) return null;
  return [...now.fields, ...t.fields.filter((f) => f.kind === "added")];
}

async function sendCase(desk: Desk, c: Case, fields: Field[]) {
  const t = c.target;
  const value = (f: Field) => {
    if (f.name === c.field) return c.value;
    if (t.path === "/login" && f.name === "username") return CHAOS_ADMIN;
    if (t.path === "/login" && f.name === "password") {
      return CHAOS_ENV.ADMIN_PASSWORD;
    }
    return f.value;
  };
  const query = new URLSearchParams();
  const body = new URLSearchParams();
  for (const f of fields) {
    (f.at === "query" ? query : body).append(f.name, value(f));
  }
  const base = desk.server.base;
  const headers: Record<string, string> = { origin: base, accept: "text/html" };
  if (!c.signedOut) headers.cookie = desk.cookie;
  if (t.htmx) headers["hx-request"] = "true";
  const qs = query.toString();
  return await fetch(`${base}${t.path}${qs ? `?${qs}` : ""}`, {
    method: t.method,
    headers,
    body: t.method === "POST" ? body : undefined,
    redirect: "manual",
    client: desk.server.client,
    signal: AbortSignal.timeout(10_000),
  });
}

/** Runs the scenario; see the module comment. */
export async function formFuzzScenario(
  opts: FormFuzzOptions,
): Promise<ScenarioResult> {
  const f = new Findings();
  const desk = new Desk(join(opts.dir, "forms", "forms.db"));
  await Deno.mkdir(join(opts.dir, "forms"), { recursive: true });
  const byClass = new Map<string, number>();
  const crashesByField = new Map<string, number>();
  let sent = 0;
  let skipped = 0;
  let gone = 0;
  let total = 0;
  let fieldCount = 0;
  try {
    await desk.start();
    let ticketId = 0;
    for (const who of ["forms-a", "forms-b", "forms-c"]) {
      const r = await send(desk.server, LEGACY, {
        body: ticketBody(opts.rng, who).body,
      });
      ticketId = (tryJson(r.text) as { ticket_id: number }).ticket_id;
    }
    const { targets, signedOut } = await readTargets(desk, ticketId);
    const planned = plan(targets, signedOut, opts.rng, opts.cases);
    total = planned.total;
    fieldCount = planned.fields;
    for (const c of planned.cases) {
      const fieldKey = `${c.target.shape} ${c.field}`;
      if ((crashesByField.get(fieldKey) ?? 0) >= CRASHES_PER_FIELD) {
        skipped++;
        continue;
      }
      const label = describe(c);
      let fields: Field[] | null = null;
      try {
        fields = await freshFields(desk, c);
      } catch { /* checked below, with the server's health */ }
      let noReply = "";
      if (fields) {
        sent++;
        try {
          const res = await sendCase(desk, c, fields);
          const cls = `${String(res.status)[0]}xx`;
          byClass.set(cls, (byClass.get(cls) ?? 0) + 1);
          // A live stream never ends: its head is the answer.
          const text = res.headers.get("content-type")?.includes(
              "event-stream",
            )
            ? (await res.body?.cancel(), "")
            : await res.text();
          if (res.status >= 500) {
            f.fail(`${res.status} for ${label}: ${text.slice(0, 200)}`);
          }
          const location = res.headers.get("location");
          const why = location === null ? null : offSiteLocation(location);
          if (why) {
            f.fail(
              `Location ${JSON.stringify(location)} (${why}) for ${label}`,
            );
          }
        } catch (err) {
          byClass.set("no reply", (byClass.get("no reply") ?? 0) + 1);
          noReply = (err as Error).message;
        }
      } else gone++;
      if (await desk.healthy()) {
        if (noReply) f.fail(`no reply to ${label}: ${noReply}`);
        // Any field of the log-out form ends the session the next cases need.
        if (c.target.path === "/logout") await desk.login();
        continue;
      }
      crashesByField.set(fieldKey, (crashesByField.get(fieldKey) ?? 0) + 1);
      const said = await desk.restart();
      f.fail(
        `server down after ${label}${noReply ? " (no reply)" : ""}${
          said ? `: ${said.slice(0, 300)}` : ""
        }`,
      );
    }
    desk.logged.push(...desk.server.errorLines);
    for (const line of desk.logged) f.fail(`server logged: ${line}`);
  } finally {
    await desk.server?.kill();
  }
  const classes = [...byClass].sort().map(([k, n]) => `${n} ${k}`).join(", ");
  if (skipped) {
    f.note(
      `${skipped} cases not sent: their field took the server down ${CRASHES_PER_FIELD} times`,
    );
  }
  // E.g. a key's revoke form, once a mutated request has revoked it.
  if (gone) f.note(`${gone} cases not sent: the form had left its page`);
  return f.result(
    NAME,
    sent,
    `${sent} of ${total} mutations of ${fieldCount} fields sent (${
      classes || "none"
    }); ${desk.restarts} restarts; checked: no 5xx, same-origin Location, /healthz 200 after each`,
  );
}
