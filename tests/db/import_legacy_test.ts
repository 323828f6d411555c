/** deno task import-legacy: the Flask app's tickets.db into either backend, twice safely. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  importLegacy,
  type ImportTarget,
} from "../../scripts/import_legacy.ts";
import { withTempDir } from "../fixtures.ts";
import {
  type Backend,
  TEST_DATABASE_URL,
  testEachBackend,
} from "./backends.ts";

/** A database as the old app made it (the seed README's `tickets` table). */
function makeLegacy(path: string) {
  const db = new DatabaseSync(path);
  db.exec(`CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    pdf_link TEXT NOT NULL,
    product_id TEXT,
    other_ids TEXT,
    status TEXT DEFAULT 'Open',
    description TEXT,
    comments TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
  )`);
  const insert = db.prepare(
    `INSERT INTO tickets (id, user_id, pdf_link, product_id, other_ids, status, description, comments, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  insert.run(
    1,
    "john_doe",
    "https://x.test/a.pdf",
    "PROD1",
    null,
    "Open",
    null,
    null,
    "2024-03-01 09:15:00",
  );
  insert.run(
    2,
    "jane",
    "https://x.test/b.pdf",
    null,
    "ORDER-7",
    "Closed",
    "Printer jam",
    "Called back, walrus fixed",
    "2024-03-02 10:00:00",
  );
  insert.run(
    5,
    "old",
    "https://x.test/c.pdf",
    "PROD1",
    null,
    "pending",
    "",
    "",
    "2024-03-03 11:30:45",
  );
  db.close();
}

function targetFor(backend: Backend, loc: string): ImportTarget {
  return backend.name === "sqlite"
    ? { kind: "sqlite", path: loc }
    : { kind: "postgres", url: TEST_DATABASE_URL!, schema: loc };
}

testEachBackend(
  "import-legacy keeps ids, statuses, descriptions and comments, and imports nothing twice",
  async (backend) => {
    await withTempDir(async (dir) => {
      makeLegacy(`${dir}/legacy.db`);
      await backend.withLocation(async (loc) => {
        const target = targetFor(backend, loc);
        assert.deepEqual(await importLegacy(`${dir}/legacy.db`, target), {
          read: 3,
          imported: 3,
          skipped: 0,
        });
        assert.deepEqual(await importLegacy(`${dir}/legacy.db`, target), {
          read: 3,
          imported: 0,
          skipped: 3,
        });
        const store = await backend.open(loc);
        try {
          const two = await store.getTicket(2);
          assert.equal(two?.status, "Closed");
          assert.equal(two?.description, "Printer jam");
          assert.equal(two?.comments, "Called back, walrus fixed");
          assert.equal(two?.created_at, "2024-03-02T10:00:00.000Z");
          assert.equal(two?.version, 1);
          // No history: a Closed ticket counts as resolved when it last changed.
          assert.equal(two?.resolved_at, two?.updated_at);
          const one = await store.getTicket(1);
          assert.equal(one?.resolved_at, null);
          assert.equal(one?.description, "");
          assert.equal(one?.comments, "");
          assert.equal((await store.getTicket(5))?.status, "Pending");
          assert.equal(await store.getTicket(3), null);
          assert.deepEqual(await store.countByStatus(), {
            All: 3,
            Open: 1,
            Pending: 1,
            Closed: 1,
          });
          assert.deepEqual(await store.listProducts(5), [
            { product_id: "PROD1", tickets: 2 },
          ]);
          const hits = await store.listTickets({ q: "walrus", limit: 5 });
          assert.deepEqual(hits.items.map((t) => t.id), [2]);
          assert.equal(hits.items[0]?.comment_count, 1);
          // New tickets continue after the imported ids.
          const created = await store.createTicket({
            user_id: "new",
            pdf_link: "https://x.test/d.pdf",
            product_id: null,
            other_ids: null,
          }, { actor: "t" });
          assert.equal(created.ticket.id, 6);
          assert.deepEqual(
            (await store.eventsAfter(0, 10)).map((e) => e.ticket_id),
            [6],
            "imported tickets are history: no events",
          );
        } finally {
          await store.close();
        }
      });
    });
  },
);
