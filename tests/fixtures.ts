/** Shared set-up for the tests: an app over a fresh store, factories and problem+json checks. */
import assert from "node:assert/strict";
import { createApp } from "../app.ts";
import { createMemoryBus, type EventBus } from "../db/bus.ts";
import {
  openSqliteStore,
  type SqliteStore,
  type SqliteStoreOptions,
} from "../db/sqlite/sqlite_store.ts";
import type { TicketEvent, TicketStore } from "../db/store.ts";
import { createLogger } from "../log.ts";
import { newApiKey } from "../lib/tokens.ts";

/** The app as tests call it: `request` as Hono's, but signed with the test API key. */
export interface App {
  request(path: string, init?: RequestInit): Promise<Response>;
}

let keyCount = 0;
export type Json = Record<string, unknown>;

/** What a test gets: the app, the store under it, and every event the bus delivered. */
export interface Harness {
  /** The app, with `Authorization: Bearer <test key>` added unless the request sets one. */
  app: App;
  /** The app as it is, for requests that must go without a key. */
  rawApp: ReturnType<typeof createApp>;
  apiKey: string;
  /** The actor the API records for requests signed with the test key (`api:<key name>`). */
  actor: string;
  store: SqliteStore;
  bus: EventBus;
  /** Events the bus delivered, in delivery order. */
  published: TicketEvent[];
}

/** Builds the app over `store` with an API key for the tests, recording what the bus delivers. */
export async function harnessFor(
  store: SqliteStore,
  bus: EventBus,
): Promise<Harness> {
  const published: TicketEvent[] = [];
  bus.subscribe((e) => published.push(e));
  const rawApp = createApp({
    store,
    bus,
    config: { logLevel: "silent" },
    logger: createLogger("silent"),
  });
  const { key, prefix, hash } = newApiKey();
  // A new name each time: a reopened file store still holds the earlier keys.
  const name = `test-${++keyCount}`;
  await store.createApiKey({ name, prefix, hash });
  const app: App = {
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("authorization")) {
        headers.set("Authorization", `Bearer ${key}`);
      }
      return Promise.resolve(rawApp.request(path, { ...init, headers }));
    },
  };
  return {
    app,
    rawApp,
    apiKey: key,
    actor: `api:${name}`,
    store,
    bus,
    published,
  };
}

/** Opens a store (":memory:" unless told otherwise) and the app over it; always closes the store. */
export async function withApp(
  fn: (h: Harness) => Promise<void>,
  opts: Partial<SqliteStoreOptions> = {},
): Promise<void> {
  const bus = createMemoryBus();
  const store = await openSqliteStore({ path: ":memory:", ...opts, bus });
  try {
    await fn(await harnessFor(store, bus));
  } finally {
    await store.close();
  }
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir(
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ticket_desk_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A valid create body, as the mobile app sends it; override any field. */
export function sampleTicket(overrides: Json = {}): Json {
  return {
    user_id: "john_doe",
    pdf_link: "https://example.com/product-guide.pdf",
    product_id: "PROD123",
    other_ids: "ORDER-991",
    ...overrides,
  };
}

/** A JSON request with the given method (POST unless told otherwise). */
export function jsonRequest(
  body: unknown,
  opts: { method?: string; headers?: Record<string, string> } = {},
): RequestInit {
  return {
    method: opts.method ?? "POST",
    headers: { "Content-Type": "application/json", ...opts.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

/** A ticket as the API returns it. */
export interface TicketJson {
  id: number;
  user_id: string;
  pdf_link: string;
  product_id: string | null;
  other_ids: string | null;
  status: string;
  description: string;
  assignee: string | null;
  priority: string;
  created_at: string;
  updated_at: string;
  version: number;
  first_response_at: string | null;
  resolved_at: string | null;
  reopened_count: number;
}

/** Creates a ticket through POST /api/v1/tickets and returns its JSON (without requester_url). */
export async function createTicket(
  app: App,
  overrides: Json = {},
): Promise<TicketJson> {
  const res = await app.request(
    "/api/v1/tickets",
    jsonRequest(sampleTicket(overrides)),
  );
  assert.equal(res.status, 201, await res.clone().text());
  // The ticket as every other call shows it: only this answer has requester_url.
  const { requester_url: _, ...ticket } = await res.json();
  return ticket;
}

/** Lists every ticket through the API, newest first, following cursors. */
export async function listAllTickets(app: App, query = ""): Promise<Json[]> {
  const out: Json[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams(query);
    params.set("limit", "100");
    if (cursor) params.set("cursor", cursor);
    const res = await app.request(`/api/v1/tickets?${params}`);
    assert.equal(res.status, 200);
    const page = await res.json();
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

/** Every ticket (as the API lists it), every event row and every delivered event. */
export interface Snapshot {
  tickets: Json[];
  events: TicketEvent[];
  published: number;
}

/** Records what is stored now, to compare after a request that must write nothing. */
export async function snapshot(h: Harness): Promise<Snapshot> {
  return {
    tickets: await listAllTickets(h.app),
    events: await h.store.eventsAfter(0, 100_000),
    published: h.published.length,
  };
}

/** Asserts that no ticket, field, event row or bus delivery changed since `before`. */
export async function assertNothingWritten(
  h: Harness,
  before: Snapshot,
): Promise<void> {
  assert.deepEqual(await snapshot(h), before);
}

/** What a problem response must carry beyond the common fields. */
export interface ProblemExpectation {
  /** The request path, echoed as `instance`. */
  instance?: string;
  title?: string;
  type?: string;
  detail?: string;
  /** The exact field errors, in order. */
  errors?: { field: string; pointer?: string; detail: string }[];
  /** The field names of the errors, in order, when the messages do not matter. */
  fields?: string[];
}

/**
 * Asserts an RFC 9457 problem response: status, content type, then the body
 * (its status, instance, the seed's success/message pair and the request id).
 */
export async function assertProblem(
  res: Response,
  status: number,
  expect: ProblemExpectation = {},
): Promise<Json> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const body = JSON.parse(text) as Json;
  assert.equal(body.status, status);
  assert.equal(typeof body.title, "string");
  assert.equal(typeof body.detail, "string");
  assert.equal(typeof body.instance, "string");
  if (expect.instance !== undefined) {
    assert.equal(body.instance, expect.instance);
  }
  assert.equal(body.success, false);
  assert.equal(body.message, body.detail);
  assert.equal(body.request_id, res.headers.get("x-request-id"));
  assert.equal(body.type, expect.type ?? body.type);
  if (expect.title !== undefined) assert.equal(body.title, expect.title);
  if (expect.detail !== undefined) assert.equal(body.detail, expect.detail);
  if (expect.errors !== undefined) assert.deepEqual(body.errors, expect.errors);
  if (expect.fields !== undefined) {
    assert.ok(Array.isArray(body.errors), "the problem lists field errors");
    assert.deepEqual(
      (body.errors as { field: string }[]).map((e) => e.field),
      expect.fields,
    );
  }
  return body;
}

// ---- Accounts, sessions and API keys (issue #4) -------------------------------

import type { AppConfig } from "../config.ts";
import type { Role, User } from "../db/store.ts";
import { hashPassword } from "../lib/passwords.ts";
import * as tokens from "../lib/tokens.ts";

/** The app itself (no key added), as the account tests call it. */
export type DeskApp = ReturnType<typeof createApp>;

/** A password that satisfies the rules; test users have it unless told otherwise. */
export const PASSWORD = "correct horse battery staple";

/** The origin app.request gives a request with a bare path. */
export const LOCAL_ORIGIN = "http://localhost";

/** Opens a fresh ":memory:" store and the app over it with `config` overrides; always closes the store. */
export async function withConfiguredApp(
  config: Partial<AppConfig>,
  fn: (h: { app: DeskApp; store: SqliteStore }) => Promise<void>,
): Promise<void> {
  const bus = createMemoryBus();
  const store = await openSqliteStore({ path: ":memory:", bus });
  try {
    const app = createApp({
      store,
      bus,
      config: { logLevel: "silent", ...config },
      logger: createLogger("silent"),
    });
    await fn({ app, store });
  } finally {
    await store.close();
  }
}

/** Creates a dashboard user with PASSWORD (or the given one). */
export async function addUser(
  store: SqliteStore,
  username: string,
  opts: { role?: Role; password?: string } = {},
): Promise<User> {
  return await store.createUser({
    username,
    passwordHash: await hashPassword(opts.password ?? PASSWORD),
    role: opts.role ?? "agent",
  });
}

/** Creates an API key and returns the key itself, as the mobile app would hold it. */
export async function addApiKey(
  store: SqliteStore,
  name = "mobile",
): Promise<string> {
  const { key, prefix, hash } = tokens.newApiKey();
  await store.createApiKey({ name, prefix, hash });
  return key;
}

/** The Authorization header for an API key. */
export function bearer(key: string): Record<string, string> {
  return { Authorization: `Bearer ${key}` };
}

/**
 * A same-origin form POST, as a browser sends it; `origin: null` leaves the
 * Origin header out, `cookie` sends a session.
 */
export function formPost(
  fields: Record<string, string>,
  opts: {
    origin?: string | null;
    cookie?: string;
    headers?: Record<string, string>;
  } = {},
): RequestInit {
  const headers: Record<string, string> = {
    "Content-Type": "application/x-www-form-urlencoded",
    ...opts.headers,
  };
  const origin = opts.origin === undefined ? LOCAL_ORIGIN : opts.origin;
  if (origin !== null) headers.Origin = origin;
  if (opts.cookie) headers.Cookie = opts.cookie;
  return {
    method: "POST",
    headers,
    body: new URLSearchParams(fields).toString(),
  };
}

/** The `name=value` of the session cookie a response sets, or null. */
export function sessionCookieOf(res: Response): string | null {
  for (const line of res.headers.getSetCookie()) {
    const pair = line.split(";")[0]!;
    const [name, value] = pair.split("=");
    if (/^(__Host-)?desk_session$/.test(name!) && value) return pair;
  }
  return null;
}

/** Logs in through POST /login and returns the session cookie (`name=value`). */
export async function logIn(
  app: DeskApp,
  username: string,
  opts: { password?: string; cookie?: string } = {},
): Promise<string> {
  const res = await app.request(
    "/login",
    formPost(
      { username, password: opts.password ?? PASSWORD },
      opts.cookie ? { cookie: opts.cookie } : {},
    ),
  );
  assert.equal(res.status, 303, await res.text());
  const cookie = sessionCookieOf(res);
  assert.ok(cookie, "the login sets a session cookie");
  return cookie;
}

/** A new ticket, and the first webhook delivery it queued, claimed for `leaseMs`. */
export async function firstDelivery(
  store: Pick<TicketStore, "createTicket" | "claimDeliveries">,
  leaseMs = 60_000,
) {
  await store.createTicket({
    user_id: "u",
    pdf_link: "https://e.com/a.pdf",
    product_id: null,
    other_ids: null,
  }, { actor: "app" });
  const [d] = await store.claimDeliveries({ limit: 1, leaseMs });
  return d;
}
