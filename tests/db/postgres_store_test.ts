/** What only the PostgreSQL store has: migrations under a lock, the listener, its failure modes. */
import assert from "node:assert/strict";
import { createMemoryBus } from "../../db/bus.ts";
import { migrate, MIGRATIONS } from "../../db/postgres/migrate.ts";
import { openPool } from "../../db/postgres/connection.ts";
import {
  openPostgresStore,
  type PostgresStore,
} from "../../db/postgres/postgres_store.ts";
import {
  type NewTicket,
  StorageUnavailableError,
  type TicketEvent,
} from "../../db/store.ts";
import {
  adminQuery,
  createTestSchema,
  dropTestSchema,
  openTestPostgres,
  TEST_DATABASE_URL,
  testPostgres,
} from "./backends.ts";

const ACTOR = { actor: "test" };

function ticket(user_id = "u"): NewTicket {
  return {
    user_id,
    pdf_link: "https://example.com/a.pdf",
    product_id: null,
    other_ids: null,
  };
}

/** Runs `fn` with a fresh schema, dropped afterwards. */
async function withSchema(fn: (schema: string) => Promise<void>) {
  const schema = await createTestSchema();
  try {
    await fn(schema);
  } finally {
    await dropTestSchema(schema);
  }
}

/** Resolves once `cond` holds, polling; fails after `ms`. */
async function eventually(cond: () => boolean, what: string, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

testPostgres(
  "migrate applies every migration once, then nothing on a second run",
  async () => {
    await withSchema(async (schema) => {
      const sql = openPool(TEST_DATABASE_URL!, { schema, max: 1 });
      try {
        assert.deepEqual(await migrate(sql), MIGRATIONS.map((m) => m.name));
        assert.deepEqual(await migrate(sql), []);
        const rows = await sql`
        SELECT version, name FROM schema_migrations ORDER BY version`;
        assert.deepEqual(
          rows.map((r) => [r.version, r.name]),
          MIGRATIONS.map((m) => [m.version, m.name]),
        );
      } finally {
        await sql.end();
      }
    });
  },
);

testPostgres(
  "two instances opening one empty schema at once migrate it exactly once",
  async () => {
    await withSchema(async (schema) => {
      const stores = await Promise.all(
        [1, 2, 3].map(() => openTestPostgres(schema)),
      );
      try {
        const applied = stores.map((s) => s.migrated);
        assert.deepEqual(
          applied.flat().sort(),
          MIGRATIONS.map((m) => m.name).sort(),
          JSON.stringify(applied),
        );
        assert.equal(
          (await stores[0]!.createTicket(ticket(), ACTOR)).ticket.id,
          1,
        );
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  },
);

testPostgres("a failing migration rolls back and records nothing", async () => {
  await withSchema(async (schema) => {
    const sql = openPool(TEST_DATABASE_URL!, { schema, max: 1 });
    try {
      const broken = [
        { version: 1, name: "001_ok", sql: "CREATE TABLE a (x int)" },
        {
          version: 2,
          name: "002_broken",
          sql: "CREATE TABLE b (x int); SELECT no_such_function()",
        },
      ];
      await assert.rejects(migrate(sql, broken), /Migration 002_broken failed/);
      const [b] = await sql`SELECT to_regclass('b') AS t`;
      assert.equal(b!.t, null, "the half-applied migration left nothing");
      const rows = await sql`SELECT name FROM schema_migrations`;
      assert.deepEqual(rows.map((r) => r.name), ["001_ok"]);
    } finally {
      await sql.end();
    }
  });
});

testPostgres(
  "an unreachable server is StorageUnavailableError when opening the store",
  async () => {
    await assert.rejects(
      openPostgresStore({ url: "postgres://nobody@127.0.0.1:1/none" }),
      StorageUnavailableError,
    );
  },
);

testPostgres(
  "each instance's bus hears every instance's events once, in id order",
  async () => {
    await withSchema(async (schema) => {
      const buses = [createMemoryBus(), createMemoryBus()];
      const heard: TicketEvent[][] = [[], []];
      buses.forEach((b, i) => b.subscribe((e) => heard[i]!.push(e)));
      const [a, b] = await Promise.all(
        buses.map((bus) => openTestPostgres(schema, bus)),
      );
      try {
        await Promise.all(
          Array.from(
            { length: 30 },
            (_, i) => (i % 2 ? a! : b!).createTicket(ticket(`u${i}`), ACTOR),
          ),
        );
        const ids = Array.from({ length: 30 }, (_, i) => i + 1);
        await eventually(
          () => heard.every((h) => h.length >= 30),
          "both buses to hear 30 events",
        );
        for (const h of heard) assert.deepEqual(h.map((e) => e.id), ids);
        // A write resolves after its own event is on its own bus.
        const r = await a!.updateTicket(1, { status: "Closed" }, ACTOR);
        assert.equal(heard[0]!.at(-1)?.id, r.event!.id);
      } finally {
        await a!.close();
        await b!.close();
      }
    });
  },
);

testPostgres(
  "the listener reconnects by itself and catches up from the table, with no gap",
  async () => {
    await withSchema(async (schema) => {
      const bus = createMemoryBus();
      const heard: number[] = [];
      bus.subscribe((e) => heard.push(e.id));
      const listening = await openTestPostgres(schema, bus);
      const writer = await openTestPostgres(schema); // no bus: writes only
      try {
        await writer.createTicket(ticket(), ACTOR);
        await eventually(() => heard.length === 1, "the first event");
        const pid = listening.listener!.backendPid;
        await adminQuery("SELECT pg_terminate_backend($1)", [pid]);
        // Written while the listener is down: NOTIFYs nobody hears.
        for (let i = 0; i < 5; i++) {
          await writer.createTicket(ticket(`u${i}`), ACTOR);
        }
        await eventually(
          () => heard.length === 6,
          "the events missed while down",
        );
        await eventually(
          () => listening.listener!.listening,
          "the listener to listen again",
        );
        assert.notEqual(listening.listener!.backendPid, pid);
        await writer.createTicket(ticket("after"), ACTOR);
        await eventually(
          () => heard.length === 7,
          "an event after reconnecting",
        );
        assert.deepEqual(heard, [1, 2, 3, 4, 5, 6, 7]);
      } finally {
        await writer.close();
        await listening.close();
      }
    });
  },
);

testPostgres(
  "concurrent idempotent creates through two instances make one ticket per key",
  async () => {
    await withSchema(async (schema) => {
      const stores: PostgresStore[] = await Promise.all(
        [1, 2].map(() => openTestPostgres(schema)),
      );
      try {
        const keys = Array.from({ length: 10 }, (_, i) => `key-${i}`);
        const results = await Promise.all(
          keys.flatMap((key) =>
            [0, 1, 2, 3].map((n) =>
              stores[n % 2]!.createTicket(ticket(key), {
                actor: "api",
                idempotency: { scope: "s", key, fingerprint: key },
              })
            )
          ),
        );
        for (const key of keys) {
          const mine = results.filter((r) => r.ticket.user_id === key);
          assert.equal(mine.length, 4);
          assert.equal(new Set(mine.map((r) => r.ticket.id)).size, 1, key);
          assert.equal(mine.filter((r) => !r.replayed).length, 1, key);
        }
        assert.equal((await stores[0]!.countByStatus()).All, 10);
        assert.equal((await stores[0]!.eventsAfter(0, 100)).length, 10);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  },
);

testPostgres(
  "health reports the backend, the server version and the listener",
  async () => {
    await withSchema(async (schema) => {
      const store = await openTestPostgres(schema, createMemoryBus());
      try {
        const h = await store.health();
        assert.equal(h.ok, true);
        assert.equal(h.backend, "postgres");
        assert.equal(h.detail.listening, "yes");
        assert.match(String(h.detail.server_version), /^\d+/);
      } finally {
        await store.close();
      }
      const after = await store.health();
      assert.equal(after.ok, false);
    });
  },
);

testPostgres(
  "search folds case and accents and treats punctuation as a separator",
  async () => {
    await withSchema(async (schema) => {
      const store = await openTestPostgres(schema);
      try {
        const { ticket: t } = await store.createTicket(
          { ...ticket("john.doe"), product_id: "PROD-123" },
          ACTOR,
        );
        await store.updateTicket(t.id, { description: "Crème brûlée" }, ACTOR);
        const ids = async (q: string) =>
          (await store.listTickets({ q, limit: 5 })).items.map((x) => x.id);
        for (const q of ["doe", "john.d", "prod-12", "PROD", "creme", "BRÛL"]) {
          assert.deepEqual(await ids(q), [t.id], q);
        }
        for (const q of ["rod", "prod-13", "doe john.x"]) {
          assert.deepEqual(await ids(q), [], q);
        }
      } finally {
        await store.close();
      }
    });
  },
);

testPostgres(
  "events.data is stored as a JSON object, never a string holding one",
  async () => {
    await withSchema(async (schema) => {
      const store = await openTestPostgres(schema);
      try {
        const { ticket: t } = await store.createTicket(ticket(), ACTOR);
        await store.updateTicket(t.id, { status: "Pending" }, ACTOR);
        await store.addComment(t.id, "A note", ACTOR);
        const rows = await adminQuery(
          `SELECT type, json_typeof(data) AS kind, data->>'status' AS status
           FROM ${schema}.events ORDER BY id`,
        );
        assert.deepEqual(rows.map((r) => [r.type, r.kind]), [
          ["ticket.created", "object"],
          ["ticket.updated", "object"],
          ["comment.added", "object"],
        ]);
        assert.equal(rows[0]!.status, "Open");
        // Readers see the same objects as before.
        const activity = await store.ticketActivity(t.id);
        assert.deepEqual(activity[0]!.data, { status: "Open" });
        assert.deepEqual(
          (activity[1]!.data as { changes: unknown }).changes,
          { status: { from: "Open", to: "Pending" } },
        );
      } finally {
        await store.close();
      }
    });
  },
);

testPostgres(
  "migration 010 turns events written as JSON strings into objects and keeps events append-only",
  async () => {
    await withSchema(async (schema) => {
      const sql = openPool(TEST_DATABASE_URL!, { schema, max: 1 });
      try {
        const before = MIGRATIONS.filter((m) => m.version < 10);
        await migrate(sql, before);
        // What the store wrote before the fix: the object's text as a JSON string.
        await sql.unsafe(
          `INSERT INTO events (type, ticket_id, actor, data, created_at) VALUES
             ('ticket.created', 1, 'api', to_json('{"status":"Open"}'::text), now()),
             ('ticket.updated', 1, 'api', '{"changes":{"status":{"from":"Open","to":"Closed"}},"version":2}', now())`,
        );
        assert.deepEqual(await migrate(sql), ["010_events_data_objects"]);
        const rows = await sql`
          SELECT json_typeof(data) AS kind, data::text AS text FROM events ORDER BY id`;
        assert.deepEqual(rows.map((r) => [r.kind, r.text]), [
          ["object", '{"status":"Open"}'],
          [
            "object",
            '{"changes":{"status":{"from":"Open","to":"Closed"}},"version":2}',
          ],
        ]);
        await assert.rejects(
          sql`UPDATE events SET actor = 'x'`,
          /append-only/,
        );
      } finally {
        await sql.end();
      }
    });
  },
);

testPostgres(
  "an instance publishes its own events with each ticket as that change left it",
  async () => {
    await withSchema(async (schema) => {
      const bus = createMemoryBus();
      const published: TicketEvent[] = [];
      bus.subscribe((e) => published.push(e));
      const store = await openTestPostgres(schema, bus);
      try {
        const { ticket: t } = await store.createTicket(ticket(), ACTOR);
        // The last two commit together: a ticket read back after that commit
        // would show version 4 on both their events.
        await Promise.all([
          store.updateTicket(t.id, { status: "Pending" }, ACTOR),
          store.updateTicket(t.id, { description: "Later" }, ACTOR),
          store.updateTicket(t.id, { priority: "High" }, ACTOR),
        ]);
        await eventually(() => published.length === 4, "four events");
        assert.deepEqual(
          published.map((e) => [e.type, e.ticket?.version, e.ticket?.priority]),
          [
            ["ticket.created", 1, "Normal"],
            ["ticket.updated", 2, "Normal"],
            ["ticket.updated", 3, "Normal"],
            ["ticket.updated", 4, "High"],
          ],
        );
      } finally {
        await store.close();
      }
    });
  },
);
