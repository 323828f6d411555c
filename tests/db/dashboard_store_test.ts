/** The dashboard's store functions (search, keyset pages, counts, versions, activity) on every backend. */
import assert from "node:assert/strict";
import type { PageKey } from "../../db/store.ts";
import { testEachBackend, withStore } from "./backends.ts";
import { DatabaseSync } from "node:sqlite";
import { migrate, MIGRATIONS } from "../../db/sqlite/migrate.ts";
import { countByStatus, ftsQuery, listTickets } from "../../db/sqlite/reads.ts";
import { Statements } from "../../db/sqlite/connection.ts";
import { seedBulk } from "../../db/sqlite/seed_bulk.ts";
import {
  MATCH_END,
  MATCH_START,
  type NewTicket,
  searchTerms,
  StaleVersionError,
} from "../../db/store.ts";

const ACTOR = { actor: "test" };

function ticket(overrides: Partial<NewTicket> = {}): NewTicket {
  return {
    user_id: "john_doe",
    pdf_link: "https://example.com/guide.pdf",
    product_id: null,
    other_ids: null,
    ...overrides,
  };
}

testEachBackend(
  "search finds tickets by a word prefix in any field, newest first",
  async (backend) => {
    await withStore(backend, async (store) => {
      const a = await store.createTicket(ticket({ user_id: "alice_w" }), ACTOR);
      const b = await store.createTicket(
        ticket({ product_id: "PROD-123", other_ids: "ORDER-9" }),
        ACTOR,
      );
      const c = await store.createTicket(ticket(), ACTOR);
      await store.updateTicket(c.ticket.id, {
        description: "Printer catches fire",
      }, ACTOR);

      const ids = async (q: string) =>
        (await store.listTickets({ q, limit: 10 })).items.map((t) => t.id);
      assert.deepEqual(await ids("alice"), [a.ticket.id]);
      assert.deepEqual(await ids("prod-12"), [b.ticket.id]);
      assert.deepEqual(await ids("order"), [b.ticket.id]);
      assert.deepEqual(await ids("PRINTER fir"), [c.ticket.id]);
      assert.deepEqual(await ids("john"), [c.ticket.id, b.ticket.id]);
      assert.deepEqual(await ids("nobody"), []);
    });
  },
);

testEachBackend(
  "search follows description edits and comments, with the comment hit marked",
  async (backend) => {
    await withStore(backend, async (store) => {
      const { ticket: t } = await store.createTicket(ticket(), ACTOR);
      await store.updateTicket(t.id, { description: "old words" }, ACTOR);
      await store.updateTicket(t.id, { description: "new text" }, ACTOR);
      assert.equal(
        (await store.listTickets({ q: "old", limit: 5 })).items.length,
        0,
      );
      assert.equal(
        (await store.listTickets({ q: "new", limit: 5 })).items.length,
        1,
      );

      await store.addComment(t.id, "Customer says the zebra is striped", ACTOR);
      await store.addComment(t.id, "Second note", ACTOR);
      const [hit] = (await store.listTickets({ q: "zebra", limit: 5 })).items;
      assert.equal(hit?.id, t.id);
      assert.equal(hit?.comment_count, 2);
      assert.ok(
        hit?.match?.includes(`${MATCH_START}zebra${MATCH_END}`),
        hit?.match ?? "",
      );

      const [plain] = (await store.listTickets({ q: "new", limit: 5 })).items;
      assert.equal(
        plain?.match,
        null,
        "no excerpt when comments did not match",
      );
    });
  },
);

testEachBackend(
  "search text is never FTS syntax: operators and quotes are literal words",
  async (backend) => {
    await withStore(backend, async (store) => {
      await store.createTicket(ticket({ other_ids: "NOT AND OR" }), ACTOR);
      for (
        const q of ['"', "NOT", "a OR b", "col:x", "*", "(", "NEAR(a b)", "^x"]
      ) {
        await store.listTickets({ q, limit: 5 }); // must not throw an FTS syntax error
      }
      assert.equal(
        (await store.listTickets({ q: "not and", limit: 5 })).items.length,
        1,
      );
      assert.deepEqual(searchTerms(' "a  b" * '), ["a", "b"]);
    });
  },
);

testEachBackend(
  "a one-letter search word matches that whole word only; two letters match as a prefix",
  async (backend) => {
    await withStore(backend, async (store) => {
      const { ticket: a } = await store.createTicket(
        ticket({ other_ids: "s 42" }),
        ACTOR,
      );
      const { ticket: b } = await store.createTicket(
        ticket({ other_ids: "shelf 42" }),
        ACTOR,
      );
      const ids = async (q: string) =>
        (await store.listTickets({ q, limit: 5 })).items.map((t) => t.id);
      assert.deepEqual(await ids("s"), [a.id]);
      assert.deepEqual(await ids("sh"), [b.id]);
      assert.deepEqual(await ids("4"), []);
      assert.deepEqual(await ids("42"), [b.id, a.id]);
    });
  },
);

Deno.test("ftsQuery quotes each search word as an FTS5 prefix phrase; one letter is a whole word (SQLite)", () => {
  assert.equal(ftsQuery("xy zw"), '"xy"* "zw"*');
  assert.equal(ftsQuery("x yz"), '"x" "yz"*');
  assert.equal(ftsQuery('bat"tery'), '"bat"* "tery"*');
  assert.equal(ftsQuery("  * "), null);
});

testEachBackend(
  "keyset pages walk every ticket once, with and without filters",
  async (backend) => {
    await withStore(backend, async (store) => {
      for (let i = 0; i < 23; i++) {
        const { ticket: t } = await store.createTicket(
          ticket({
            product_id: i % 2 ? "ODD" : "EVEN",
            other_ids: `batch ${i}`,
          }),
          ACTOR,
        );
        if (i % 3 === 0) {
          await store.updateTicket(t.id, { status: "Closed" }, ACTOR);
        }
      }
      for (
        const filter of [
          {},
          { status: "Closed" as const },
          { product_id: "ODD" },
          { q: "batch" },
          { q: "batch", status: "Closed" as const },
        ]
      ) {
        const seen: number[] = [];
        let after: PageKey | undefined;
        for (let pages = 0; pages < 20; pages++) {
          const page = await store.listTickets({ ...filter, after, limit: 5 });
          seen.push(...page.items.map((t) => t.id));
          if (page.next === null) break;
          after = page.next;
        }
        const all = (await store.listTickets({ ...filter, limit: 100 })).items
          .map((t) => t.id);
        assert.deepEqual(seen, all, JSON.stringify(filter));
        assert.deepEqual(all, [...all].sort((x, y) => y - x), "newest first");
      }
      const closed = await store.listTickets({ status: "Closed", limit: 100 });
      assert.equal(closed.items.length, 8);
    });
  },
);

testEachBackend(
  "status counts follow creates and status changes",
  async (backend) => {
    await withStore(backend, async (store) => {
      assert.deepEqual(await store.countByStatus(), {
        All: 0,
        Open: 0,
        Pending: 0,
        Closed: 0,
      });
      const ids = [];
      for (let i = 0; i < 4; i++) {
        ids.push(
          (await store.createTicket(
            ticket({ product_id: i ? "P1" : "P2" }),
            ACTOR,
          )).ticket.id,
        );
      }
      await store.updateTicket(ids[0]!, { status: "Pending" }, ACTOR);
      await store.updateTicket(ids[1]!, { status: "Closed" }, ACTOR);
      await store.updateTicket(ids[1]!, { status: "Closed" }, ACTOR); // no change, no count change
      await store.updateTicket(ids[2]!, { description: "only text" }, ACTOR);
      assert.deepEqual(await store.countByStatus(), {
        All: 4,
        Open: 2,
        Pending: 1,
        Closed: 1,
      });
      assert.deepEqual(await store.listProducts(10), [
        { product_id: "P1", tickets: 3 },
        { product_id: "P2", tickets: 1 },
      ]);
    });
  },
);

testEachBackend(
  "a stale version is refused and changes nothing",
  async (backend) => {
    await withStore(backend, async (store) => {
      const { ticket: t } = await store.createTicket(ticket(), ACTOR);
      const first = await store.updateTicket(t.id, { description: "mine" }, {
        ...ACTOR,
        expectedVersion: t.version,
      });
      await assert.rejects(
        store.updateTicket(t.id, { status: "Closed", description: "theirs" }, {
          ...ACTOR,
          expectedVersion: t.version,
        }),
        (err) =>
          err instanceof StaleVersionError &&
          err.current === first.value.version,
      );
      const now = await store.getTicket(t.id);
      assert.equal(now?.description, "mine");
      assert.equal(now?.status, "Open");
      assert.deepEqual(await store.countByStatus(), {
        All: 1,
        Open: 1,
        Pending: 0,
        Closed: 0,
      });
    });
  },
);

testEachBackend(
  "activity lists a ticket's events in order",
  async (backend) => {
    await withStore(backend, async (store) => {
      const { ticket: t } = await store.createTicket(ticket(), {
        actor: "api",
      });
      await store.createTicket(ticket(), { actor: "api" });
      await store.updateTicket(t.id, { status: "Pending" }, { actor: "admin" });
      await store.addComment(t.id, "hello", { actor: "admin" });
      const events = await store.ticketActivity(t.id);
      assert.deepEqual(events.map((e) => [e.type, e.actor]), [
        ["ticket.created", "api"],
        ["ticket.updated", "admin"],
        ["comment.added", "admin"],
      ]);
    });
  },
);

Deno.test("migration 002 (SQLite) indexes and counts tickets that existed before it", () => {
  const db = new DatabaseSync(":memory:");
  migrate(db, MIGRATIONS.filter((m) => m.version === 1));
  const at = new Date().toISOString();
  db.prepare(
    `INSERT INTO tickets (user_id, pdf_link, product_id, status, comments, created_at, updated_at)
     VALUES (?, 'https://x.test/a.pdf', ?, ?, ?, ?, ?)`,
  ).run("legacy_user", "OLD1", "Pending", "called the customer", at, at);
  db.prepare(
    `INSERT INTO comments (ticket_id, author, body, created_at) VALUES (1, 'a', 'walrus', ?)`,
  ).run(at);
  migrate(db);
  const stmts = new Statements(db);
  assert.deepEqual(countByStatus(stmts), {
    All: 1,
    Open: 0,
    Pending: 1,
    Closed: 0,
  });
  for (const q of ["legacy", "called", "walrus", "old1"]) {
    assert.equal(listTickets(stmts, { q, limit: 5 }).items.length, 1, q);
  }
  assert.equal(listTickets(stmts, { limit: 5 }).items[0]?.comment_count, 2);
  db.close();
});

Deno.test("bulk seeding (SQLite) keeps the search index and the counters consistent", () => {
  const db = new DatabaseSync(":memory:");
  migrate(db);
  const { first, last } = seedBulk(db, { count: 500, seed: 7 });
  assert.equal(last - first + 1, 500);
  const stmts = new Statements(db);
  const real = Object.fromEntries(
    db.prepare("SELECT status, count(*) AS n FROM tickets GROUP BY status")
      .all()
      .map((r) => [String(r.status), Number(r.n)]),
  );
  const counts = countByStatus(stmts);
  assert.equal(counts.All, 500);
  for (const s of ["Open", "Pending", "Closed"] as const) {
    assert.equal(counts[s], real[s] ?? 0, s);
  }
  const indexed = db.prepare("SELECT count(*) AS n FROM tickets_fts").get()!;
  assert.equal(Number(indexed.n), 500);
  const withRouter = db.prepare(
    "SELECT count(*) AS n FROM tickets WHERE description LIKE '%router%'",
  ).get()!;
  let found = 0;
  let after: PageKey | undefined;
  do {
    const page = listTickets(stmts, { q: "router", after, limit: 100 });
    found += page.items.length;
    after = page.next ?? undefined;
  } while (after !== undefined);
  assert.equal(found, Number(withRouter.n));
  db.close();
});
