/** deno task migrate-data: SQLite → PostgreSQL → a new SQLite file keeps every row, id and key. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createApp } from "../../app.ts";
import { createMemoryBus } from "../../db/bus.ts";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { createLogger } from "../../log.ts";
import { hashPassword } from "../../lib/passwords.ts";
import { newApiKey } from "../../lib/tokens.ts";
import { loadReport } from "../../db/reports.ts";
import { addDays } from "../../lib/report_days.ts";
import {
  migrateData,
  type MigrateReport,
  TargetNotEmptyError,
} from "../../scripts/migrate_data.ts";
import { withTempDir } from "../fixtures.ts";
import {
  type AnyStore,
  createTestSchema,
  dropTestSchema,
  openTestPostgres,
  TEST_DATABASE_URL,
  testPostgres,
} from "../db/backends.ts";

const IDEM = { scope: "api:mobile", key: "order-7-retry", fingerprint: "fp-1" };
const PASSWORD = "a long enough password";

const input = (i: number) => ({
  user_id: `user_${i}`,
  pdf_link: `https://example.com/${i}.pdf`,
  product_id: i % 3 === 0 ? null : `PROD${i % 4}`,
  other_ids: i % 2 ? `ORDER-${i}` : null,
});

/**
 * A SQLite database with everything the copy must carry: tickets with status
 * and description changes, comments, a legacy comments text, an idempotency
 * key, users (one disabled), a live and a revoked API key, a session (which
 * stays behind), and a deleted newest ticket (the id counter is ahead of the
 * ids present). Returns the live API key.
 */
async function seedSource(path: string): Promise<string> {
  const store = await openSqliteStore({ path });
  const { ticket: first } = await store.createTicket(input(1), {
    actor: "api:mobile",
    idempotency: IDEM,
  });
  for (let i = 2; i <= 30; i++) {
    await store.createTicket(input(i), { actor: "api:mobile" });
  }
  await store.updateTicket(2, { status: "Pending" }, { actor: "agent" });
  await store.updateTicket(2, { status: "Closed", description: "Fixed" }, {
    actor: "agent",
    expectedVersion: 2,
  });
  await store.updateTicket(5, { status: "Closed" }, { actor: "agent" });
  // Closed twice: its report facts hold a history its row does not.
  await store.updateTicket(5, { status: "Open" }, { actor: "agent" });
  await store.updateTicket(5, { status: "Closed" }, { actor: "agent" });
  await store.addComment(7, "The walrus ate the manual", { actor: "agent" });
  await store.addComment(7, "Sent a new one", { actor: "admin" });
  await store.addComment(first.id, "First!", { actor: "admin" });
  // Webhooks, one delivered to and one disabled, and the public side of a ticket.
  const hookA = await store.createWebhook({
    url: "https://hooks.example.com/a",
    events: ["comment.public"],
    secret: "whsec_b2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xk",
  });
  await store.rotateWebhookSecret(
    hookA.id,
    "whsec_bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmV3",
    "2099-01-01T00:00:00.000Z",
  );
  await store.createWebhook({
    url: "https://hooks.example.com/b",
    events: ["comment.public", "comment.internal"],
    secret: "whsec_YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJi",
  });
  await store.addComment(7, "We found it", {
    actor: "agent",
    visibility: "public",
  });
  await store.addRequesterReply(7, "Thank you!", { tokenVersion: 1 });
  await store.revokeRequesterLink(9, { actor: "admin" });
  const due = await store.claimDeliveries({ limit: 10, leaseMs: 1 });
  await store.finishDelivery(due[0]!.id, {
    status_code: 204,
    duration_ms: 12,
    error: null,
    outcome: "delivered",
  });
  await store.finishDelivery(due[1]!.id, {
    status_code: 410,
    duration_ms: 7,
    error: "HTTP 410",
    outcome: "failed",
    disable_reason: "The receiver answered 410 Gone.",
  });
  const admin = await store.createUser({
    username: "admin",
    passwordHash: await hashPassword(PASSWORD),
    role: "admin",
  });
  await store.createUser({
    username: "zoe",
    passwordHash: await hashPassword(PASSWORD),
    role: "agent",
  });
  await store.setUserDisabled("zoe", true);
  await store.createSession("session-hash", admin.id);
  const live = newApiKey();
  // Narrower than the column's default, so a copy that drops scopes shows.
  const key = await store.createApiKey({
    name: "mobile",
    ...live,
    scopes: ["read"],
  });
  await store.touchApiKey(key.id);
  const old = newApiKey();
  await store.createApiKey({
    name: "old",
    ...old,
    scopes: ["create", "write"],
  });
  await store.revokeApiKey("old");
  await store.createTicket(input(31), { actor: "api:mobile" });
  await store.close();
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA foreign_keys = ON;
    UPDATE tickets SET comments = 'Legacy note: narwhal sighted' WHERE id = 3;
    DELETE FROM tickets WHERE id = 31;`);
  db.close();
  return live.key;
}

/** Everything the stores show, through their own interfaces (not the script's reader). */
async function dump(store: AnyStore) {
  const tickets = [];
  for (let id = 1; id <= 32; id++) tickets.push(await store.getTicket(id));
  const users = await store.listUsers();
  const logins = [];
  for (const u of users) logins.push(await store.findUserForLogin(u.username));
  const webhooks = await store.listWebhooks();
  const attempts = [];
  for (const w of webhooks) {
    attempts.push(await store.webhookAttempts(w.id, 99));
  }
  return {
    webhooks,
    attempts,
    tickets,
    events: await store.eventsAfter(0, 10_000),
    users,
    logins,
    keys: await store.listApiKeys(),
    counts: await store.countByStatus(),
    products: await store.listProducts(10),
    report: await loadReport(store, {
      range: { from: addDays(today(), -1), to: addDays(today(), 1) },
      zone: "UTC",
      filter: {},
    }),
  };
}

const today = () => new Date().toISOString().slice(0, 10);

/** Asserts the target answers like the source: search, sessions, keys, idempotency, new ids. */
async function assertWorksAsTarget(
  store: AnyStore,
  apiKey: string,
  lastEventId: number,
) {
  const walrus = await store.listTickets({ q: "walrus", limit: 10 });
  assert.deepEqual(walrus.items.map((t) => t.id), [7], "a comment word");
  assert.equal(walrus.items[0]?.comment_count, 4);
  const narwhal = await store.listTickets({ q: "narwhal", limit: 10 });
  assert.deepEqual(narwhal.items.map((t) => t.id), [3], "a legacy comment");
  assert.equal(await store.getSession("session-hash"), null, "no sessions");

  const bus = createMemoryBus();
  const app = createApp({
    store,
    bus,
    config: { logLevel: "silent" },
    logger: createLogger("silent"),
  });
  const get = (key: string) =>
    app.request("/api/v1/tickets?limit=1", {
      headers: { Authorization: `Bearer ${key}` },
    });
  const ok = await get(apiKey);
  assert.equal(ok.status, 200, await ok.clone().text());
  assert.equal((await ok.json()).items[0].id, 30);
  const bad = await get("tdk_not-a-key-at-all-not-a-key-at-all");
  assert.equal(bad.status, 401);
  await bad.body?.cancel();

  const replay = await store.createTicket(input(1), {
    actor: "api:mobile",
    idempotency: IDEM,
  });
  assert.equal(replay.replayed, true);
  assert.equal(replay.ticket.id, 1);
  // Ticket 31 was deleted in the source: its id is not handed out again.
  const created = await store.createTicket(input(32), { actor: "t" });
  assert.equal(created.ticket.id, 32);
  assert.equal(created.event?.id, lastEventId + 1);

  // The outbox goes on: the pending delivery, signed with both secrets.
  const [due, ...more] = await store.claimDeliveries({
    limit: 10,
    leaseMs: 1000,
  });
  assert.equal(more.length, 0, "the disabled endpoint sends nothing");
  assert.equal(due?.url, "https://hooks.example.com/a");
  assert.deepEqual(due?.secrets, [
    "whsec_bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmV3",
    "whsec_b2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xk",
  ]);
  assert.equal(JSON.parse(due!.payload).data.comment.body, "Thank you!");
  const comment = await store.addComment(7, "again", {
    actor: "t",
    visibility: "public",
  });
  assert.ok(comment.value.id > 5, "comment ids go on after the copy's");
}

function assertMatched(r: MigrateReport, rows: Record<string, number>) {
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(
    Object.fromEntries(r.tables.map((c) => [c.table, [c.source, c.target]])),
    Object.fromEntries(
      Object.entries(rows).map(([t, n]) => [t, [n, n]]),
    ),
  );
}

const ROWS = {
  tickets: 30,
  comments: 5,
  // creates (31 incl. the deleted one), updates, comments, a revoked link
  events: 31 + 5 + 5 + 1,
  // created, one first public reply, three closes and a reopen
  report_facts: 30 + 1 + 3 + 1,
  idempotency_keys: 1,
  users: 2,
  api_keys: 2,
  webhook_endpoints: 2,
  webhook_deliveries: 4, // two public comments to each endpoint
  webhook_attempts: 2,
};

testPostgres(
  "migrate-data copies SQLite to PostgreSQL and back to a new file keeping every row, id, hash and counter",
  async () => {
    await withTempDir(async (dir) => {
      const apiKey = await seedSource(`${dir}/source.db`);
      const schema = await createTestSchema();
      try {
        const lines: string[] = [];
        const toPg = await migrateData({
          direction: "to-postgres",
          sqlitePath: `${dir}/source.db`,
          url: TEST_DATABASE_URL!,
          schema,
          chunkSize: 7, // several chunks per table: the keyset must not skip or repeat
          log: (l) => lines.push(l),
        });
        assertMatched(toPg, ROWS);
        assert.equal(toPg.counters.tickets, 31);
        assert.ok(
          lines.some((l) => /tickets\s+30\/30/.test(l)),
          lines.join("\n"),
        );

        const back = await migrateData({
          direction: "from-postgres",
          sqlitePath: `${dir}/back.db`,
          url: TEST_DATABASE_URL!,
          schema,
          chunkSize: 7,
        });
        assertMatched(back, ROWS);
        assert.equal(back.counters.tickets, 31);

        const source = await openSqliteStore({ path: `${dir}/source.db` });
        const pg = await openTestPostgres(schema);
        const copy = await openSqliteStore({ path: `${dir}/back.db` });
        try {
          const expected = await dump(source);
          assert.equal(expected.tickets[6]?.comment_list.length, 4);
          assert.ok(expected.tickets[6]?.first_response_at);
          assert.equal(expected.tickets[8]?.token_version, 2);
          assert.ok(expected.tickets[1]?.resolved_at);
          assert.equal(expected.webhooks.length, 2);
          assert.ok(expected.webhooks[1]!.disabled_at);
          assert.equal(expected.logins.length, 2);
          assert.deepEqual(await dump(pg), expected, "PostgreSQL = source");
          assert.deepEqual(await dump(copy), expected, "round trip = source");
          const lastEvent = expected.events.at(-1)!.id;
          await assertWorksAsTarget(pg, apiKey, lastEvent);
          await assertWorksAsTarget(copy, apiKey, lastEvent);
        } finally {
          await Promise.all([source.close(), pg.close(), copy.close()]);
        }

        // The PostgreSQL copy now holds data: refused, then replaced with --force.
        const again = {
          direction: "to-postgres" as const,
          sqlitePath: `${dir}/source.db`,
          url: TEST_DATABASE_URL!,
          schema,
        };
        await assert.rejects(migrateData(again), (err: Error) => {
          assert.ok(err instanceof TargetNotEmptyError);
          assert.match(err.message, /already holds data \(31 tickets, /);
          assert.match(err.message, /--force/);
          return true;
        });
        assertMatched(await migrateData({ ...again, force: true }), ROWS);
      } finally {
        await dropTestSchema(schema);
      }
    });
  },
);

testPostgres(
  "deno task migrate-data runs under its own permissions, prints a check per table and refuses a non-empty target",
  async () => {
    await withTempDir(async (dir) => {
      await seedSource(`${dir}/source.db`);
      const schema = await createTestSchema();
      try {
        const config = new URL("../../deno.json", import.meta.url).pathname;
        const url = `${TEST_DATABASE_URL}?search_path=${schema}`;
        const task = async (dbPath: string, args: string[]) => {
          const out = await new Deno.Command(Deno.execPath(), {
            args: [
              "task",
              "--quiet",
              "--config",
              config,
              "migrate-data",
              ...args,
            ],
            env: { DB_PATH: dbPath, NO_COLOR: "1" },
            stdout: "piped",
            stderr: "piped",
          }).output();
          const dec = new TextDecoder();
          return {
            code: out.code,
            stdout: dec.decode(out.stdout),
            stderr: dec.decode(out.stderr),
          };
        };
        const to = await task(`${dir}/source.db`, ["--to", url]);
        assert.equal(to.code, 0, to.stdout + to.stderr);
        assert.match(to.stdout, /tickets\s+30\/30/);
        assert.match(to.stdout, /tickets\s+30 → 30\s+ok/);
        assert.match(to.stdout, /events\s+42 → 42\s+ok/);
        assert.match(to.stdout, /report_facts\s+35 → 35\s+ok/);
        assert.match(to.stdout, /webhook_deliveries\s+4 → 4\s+ok/);
        assert.match(to.stdout, /search index\s+30 rows for 30 tickets ok/);
        assert.match(to.stdout, /Sessions were not copied/);
        assert.doesNotMatch(to.stdout, /MISMATCH/);

        // Back into the source file, which holds tickets: refused, nothing written.
        const refused = await task(`${dir}/source.db`, ["--from", url]);
        assert.equal(refused.code, 1, refused.stdout + refused.stderr);
        assert.match(refused.stderr, /^Refused: SQLite .* already holds data/);
        assert.match(refused.stderr, /--force/);

        const from = await task(`${dir}/new.db`, ["--from", url]);
        assert.equal(from.code, 0, from.stdout + from.stderr);
        assert.match(from.stdout, /api_keys\s+2 → 2\s+ok/);

        const usage = await task(`${dir}/new.db`, []);
        assert.equal(usage.code, 2);
        assert.match(usage.stderr, /Give one of --to URL or --from URL/);
      } finally {
        await dropTestSchema(schema);
      }
    });
  },
);
