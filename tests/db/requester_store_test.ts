/** Comment visibility, the requester's replies and link, and the report times, on both backends. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createMemoryBus } from "../../db/bus.ts";
import {
  migrate as migrateSqlite,
  MIGRATIONS as SQLITE_MIGRATIONS,
} from "../../db/sqlite/migrate.ts";
import {
  migrate as migratePostgres,
  MIGRATIONS as POSTGRES_MIGRATIONS,
} from "../../db/postgres/migrate.ts";
import { openPool } from "../../db/postgres/connection.ts";
import { NotFoundError, type TicketEvent } from "../../db/store.ts";
import {
  type AnyStore,
  createTestSchema,
  dropTestSchema,
  TEST_DATABASE_URL,
  testEachBackend,
  testPostgres,
  withStore,
} from "./backends.ts";

const input = (user_id = "maria.k") => ({
  user_id,
  pdf_link: "https://example.com/a.pdf",
  product_id: null,
  other_ids: null,
});

async function newTicket(store: AnyStore, user_id?: string) {
  return (await store.createTicket(input(user_id), { actor: "api:app" }))
    .ticket;
}

testEachBackend(
  "A comment is internal unless made public, and says so in its row and its event",
  async (backend) => {
    await withStore(backend, async (store) => {
      const t = await newTicket(store);
      const note = await store.addComment(t.id, "checked the logs", {
        actor: "alice",
      });
      const reply = await store.addComment(t.id, "Try the reset button", {
        actor: "alice",
        visibility: "public",
      });
      assert.equal(note.value.visibility, "internal");
      assert.equal(reply.value.visibility, "public");
      assert.equal(reply.value.from_requester, false);
      const got = await store.getTicket(t.id);
      assert.deepEqual(
        got!.comment_list.map((c) => [c.body, c.visibility]),
        [["checked the logs", "internal"], ["Try the reset button", "public"]],
      );
      assert.deepEqual(note.event?.data, {
        comment_id: note.value.id,
        visibility: "internal",
      });
      assert.equal(reply.event?.data.visibility, "public");
      // Replays carry the comment, as the bus did.
      const replay = await store.eventsAfter(0, 10);
      assert.deepEqual(
        replay.filter((e) => e.type === "comment.added").map((e) =>
          e.comment?.body
        ),
        ["checked the logs", "Try the reset button"],
      );
    });
  },
);

testEachBackend(
  "first_response_at is the first public reply by an agent: not an internal note, not the requester's reply, never moved later",
  async (backend) => {
    await withStore(backend, async (store) => {
      const t = await newTicket(store);
      await store.addComment(t.id, "internal", { actor: "alice" });
      await store.addRequesterReply(t.id, "hello?", { tokenVersion: 1 });
      assert.equal((await store.getTicket(t.id))!.first_response_at, null);
      const first = await store.addComment(t.id, "On it", {
        actor: "alice",
        visibility: "public",
      });
      assert.equal(
        first.event?.ticket?.first_response_at,
        first.value.created_at,
      );
      await store.addComment(t.id, "Fixed", {
        actor: "bob",
        visibility: "public",
      });
      const got = await store.getTicket(t.id);
      assert.equal(got!.first_response_at, first.value.created_at);
    });
  },
);

testEachBackend(
  "resolved_at is set on the move to Closed and cleared on reopening, which reopened_count counts",
  async (backend) => {
    await withStore(backend, async (store) => {
      const t = await newTicket(store);
      const closed = await store.updateTicket(t.id, { status: "Closed" }, {
        actor: "alice",
      });
      assert.ok(closed.value.resolved_at);
      assert.ok(
        Math.abs(
          Date.parse(closed.value.resolved_at) -
            Date.parse(closed.value.updated_at),
        ) < 1000,
      );
      assert.equal(closed.value.reopened_count, 0);
      const edited = await store.updateTicket(t.id, { description: "x" }, {
        actor: "alice",
      });
      assert.equal(edited.value.resolved_at, closed.value.resolved_at);
      const reopened = await store.updateTicket(t.id, { status: "Pending" }, {
        actor: "alice",
      });
      assert.equal(reopened.value.resolved_at, null);
      assert.equal(reopened.value.reopened_count, 1);
      await store.updateTicket(t.id, { status: "Closed" }, { actor: "alice" });
      await store.updateTicket(t.id, { status: "Open" }, { actor: "alice" });
      const got = await store.getTicket(t.id);
      assert.equal(got!.reopened_count, 2);
      assert.equal(got!.resolved_at, null);
    });
  },
);

testEachBackend(
  "A requester's reply is public, written as the ticket's user, and reopens a Closed ticket with a second event",
  async (backend) => {
    const bus = createMemoryBus();
    const published: TicketEvent[] = [];
    bus.subscribe((e) => published.push(e));
    const store = await backend.open(null, bus);
    try {
      const t = await newTicket(store, "john_doe");
      await store.updateTicket(t.id, { status: "Closed" }, { actor: "alice" });
      published.length = 0;
      const r = await store.addRequesterReply(t.id, "Still broken", {
        tokenVersion: 1,
      });
      assert.equal(r.reopened, true);
      assert.equal(r.value.author, "john_doe");
      assert.equal(r.value.visibility, "public");
      assert.equal(r.value.from_requester, true);
      assert.deepEqual(
        r.events.map((e) => [e.type, e.actor]),
        [
          ["comment.added", "requester:john_doe"],
          ["ticket.updated", "requester:john_doe"],
        ],
      );
      assert.deepEqual(r.events[1]!.data.changes, {
        status: { from: "Closed", to: "Open" },
      });
      // Both are on the bus, in order, once the write has resolved.
      assert.deepEqual(
        published.map((e) => e.id),
        r.events.map((e) => e.id),
      );
      const got = await store.getTicket(t.id);
      assert.equal(got!.status, "Open");
      assert.equal(got!.reopened_count, 1);
      // An open ticket stays as it is: one event.
      const again = await store.addRequesterReply(t.id, "Any news?", {
        tokenVersion: 1,
      });
      assert.equal(again.reopened, false);
      assert.equal(again.events.length, 1);
    } finally {
      await store.close();
    }
  },
);

testEachBackend(
  "Revoking the requester's link bumps the token version with an event, and a reply under the old version writes nothing",
  async (backend) => {
    await withStore(backend, async (store) => {
      const t = await newTicket(store);
      assert.equal(t.token_version, 1);
      const r = await store.revokeRequesterLink(t.id, { actor: "maria" });
      assert.equal(r.value.token_version, 2);
      assert.equal(r.event?.type, "requester.revoked");
      assert.equal(r.event?.actor, "maria");
      const before = await store.latestEventId();
      await assert.rejects(
        () => store.addRequesterReply(t.id, "hi", { tokenVersion: 1 }),
        NotFoundError,
      );
      assert.equal(await store.latestEventId(), before);
      assert.equal((await store.getTicket(t.id))!.comment_list.length, 0);
      await assert.rejects(
        () => store.revokeRequesterLink(999, { actor: "maria" }),
        NotFoundError,
      );
    });
  },
);

testEachBackend(
  "requestView shows public replies only, with the newest event id it reflects",
  async (backend) => {
    await withStore(backend, async (store) => {
      const t = await newTicket(store);
      await store.addComment(t.id, "SECRET-NOTE", { actor: "alice" });
      await store.addComment(t.id, "We are on it", {
        actor: "alice",
        visibility: "public",
      });
      await store.addRequesterReply(t.id, "Thanks", { tokenVersion: 1 });
      const view = await store.requestView(t.id);
      assert.ok(view);
      assert.deepEqual(view.replies.map((c) => c.body), [
        "We are on it",
        "Thanks",
      ]);
      assert.equal(view.after, await store.latestEventId());
      assert.equal(view.ticket.id, t.id);
      assert.equal(await store.requestView(t.id + 100), null);
    });
  },
);

/** Tickets as the migration before 006/007 left them, with a history of status changes. */
const HISTORY = [
  // ticket 1: closed, reopened, closed again
  { ticket: 1, from: "Open", to: "Closed", at: "2026-01-01T10:00:00.000Z" },
  { ticket: 1, from: "Closed", to: "Open", at: "2026-01-02T10:00:00.000Z" },
  { ticket: 1, from: "Open", to: "Closed", at: "2026-01-03T10:00:00.000Z" },
  // ticket 2: closed, then reopened: not resolved
  { ticket: 2, from: "Open", to: "Closed", at: "2026-01-01T11:00:00.000Z" },
  { ticket: 2, from: "Closed", to: "Pending", at: "2026-01-04T11:00:00.000Z" },
];

Deno.test("Migration 006 backfills resolved_at and reopened_count from the events, and resolved_at = updated_at for a Closed ticket without history [sqlite]", () => {
  const db = new DatabaseSync(":memory:");
  try {
    migrateSqlite(db, SQLITE_MIGRATIONS.filter((m) => m.version < 6));
    const ticket = db.prepare(
      `INSERT INTO tickets (id, user_id, pdf_link, status, created_at, updated_at)
       VALUES (?, 'u', 'https://e.com/a.pdf', ?, '2026-01-01T00:00:00.000Z', ?)`,
    );
    ticket.run(1, "Closed", "2026-01-03T10:00:00.000Z");
    ticket.run(2, "Pending", "2026-01-04T11:00:00.000Z");
    ticket.run(3, "Closed", "2025-12-24T08:00:00.000Z"); // imported: no events
    ticket.run(4, "Open", "2026-01-05T00:00:00.000Z");
    db.prepare(
      `INSERT INTO comments (ticket_id, author, body, created_at)
       VALUES (1, 'alice', 'old note', '2026-01-01T00:00:00.000Z')`,
    ).run();
    const event = db.prepare(
      `INSERT INTO events (type, ticket_id, actor, data, created_at)
       VALUES ('ticket.updated', ?, 'alice', ?, ?)`,
    );
    for (const h of HISTORY) {
      event.run(
        h.ticket,
        JSON.stringify({ changes: { status: { from: h.from, to: h.to } } }),
        h.at,
      );
    }
    migrateSqlite(db);
    const rows = db.prepare(
      "SELECT id, resolved_at, reopened_count, first_response_at, token_version FROM tickets ORDER BY id",
    ).all().map((r) => ({ ...r }));
    assert.deepEqual(rows, [
      {
        id: 1,
        resolved_at: "2026-01-03T10:00:00.000Z",
        reopened_count: 1,
        first_response_at: null,
        token_version: 1,
      },
      {
        id: 2,
        resolved_at: null,
        reopened_count: 1,
        first_response_at: null,
        token_version: 1,
      },
      {
        id: 3,
        resolved_at: "2025-12-24T08:00:00.000Z",
        reopened_count: 0,
        first_response_at: null,
        token_version: 1,
      },
      {
        id: 4,
        resolved_at: null,
        reopened_count: 0,
        first_response_at: null,
        token_version: 1,
      },
    ]);
    assert.equal(
      db.prepare("SELECT visibility FROM comments").get()!.visibility,
      "internal",
    );
  } finally {
    db.close();
  }
});

testPostgres(
  "Migration 007 backfills resolved_at and reopened_count from the events, and resolved_at = updated_at for a Closed ticket without history",
  async () => {
    const schema = await createTestSchema();
    const sql = openPool(TEST_DATABASE_URL!, { max: 1, schema });
    try {
      await migratePostgres(
        sql,
        POSTGRES_MIGRATIONS.filter((m) => m.version < 7),
      );
      for (
        const [id, status, updated] of [
          [1, "Closed", "2026-01-03T10:00:00.000Z"],
          [2, "Pending", "2026-01-04T11:00:00.000Z"],
          [3, "Closed", "2025-12-24T08:00:00.000Z"],
          [4, "Open", "2026-01-05T00:00:00.000Z"],
        ] as const
      ) {
        await sql`INSERT INTO tickets (id, user_id, pdf_link, status, created_at, updated_at)
                  VALUES (${id}, 'u', 'https://e.com/a.pdf', ${status},
                          '2026-01-01T00:00:00.000Z', ${updated})`;
      }
      await sql`INSERT INTO comments (ticket_id, author, body, created_at)
                VALUES (1, 'alice', 'old note', now())`;
      for (const h of HISTORY) {
        const data = JSON.stringify({
          changes: { status: { from: h.from, to: h.to } },
        });
        // Ticket 1's events as the store writes them (the driver encodes the
        // text once more: a JSON string holding the object), ticket 2's as
        // migrate-data does (the object itself).
        await sql.unsafe(
          `INSERT INTO events (type, ticket_id, actor, data, created_at)
           VALUES ('ticket.updated', $1, 'alice', ${
            h.ticket === 1 ? "$2" : "$2::text::json"
          }, $3)`,
          [h.ticket, data, h.at],
        );
      }
      await migratePostgres(sql);
      const rows = await sql`
        SELECT id, resolved_at, reopened_count, first_response_at, token_version
        FROM tickets ORDER BY id`;
      assert.deepEqual(
        rows.map((r) => [
          Number(r.id),
          r.resolved_at ? (r.resolved_at as Date).toISOString() : null,
          r.reopened_count,
          r.first_response_at,
          r.token_version,
        ]),
        [
          [1, "2026-01-03T10:00:00.000Z", 1, null, 1],
          [2, null, 1, null, 1],
          [3, "2025-12-24T08:00:00.000Z", 0, null, 1],
          [4, null, 0, null, 1],
        ],
      );
      const [c] = await sql`SELECT visibility, from_requester FROM comments`;
      assert.deepEqual({ ...c }, {
        visibility: "internal",
        from_requester: false,
      });
    } finally {
      await sql.end({ timeout: 1 });
      await dropTestSchema(schema);
    }
  },
);
