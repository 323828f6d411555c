/**
 * The store under the app: event rows, bus delivery after commit, durability
 * across reopening, close(). Backend-neutral cases run on every backend (see
 * backends.ts); group commit, pragmas, files and the writer worker are SQLite's own.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createMemoryBus } from "../../db/bus.ts";
import { readPragmas } from "../../db/sqlite/connection.ts";
import {
  openSqliteStore,
  type SqliteStore,
} from "../../db/sqlite/sqlite_store.ts";
import { StorageUnavailableError, type TicketEvent } from "../../db/store.ts";
import {
  createTicket,
  harnessFor,
  jsonRequest,
  listAllTickets,
  sampleTicket,
  withApp,
  withTempDir,
} from "../fixtures.ts";
import { testEachBackend, withBackendApp } from "./backends.ts";

testEachBackend(
  "Each change writes one event row of its type for its ticket, and the bus delivers the same rows in order",
  async (backend) => {
    await withBackendApp(backend, async ({ app, store, published, actor }) => {
      const a = await createTicket(app);
      const b = await createTicket(app);
      const patch = await app.request(
        `/api/v1/tickets/${a.id}`,
        jsonRequest({ status: "Closed" }, { method: "PATCH" }),
      );
      assert.equal(patch.status, 200);
      const comment = await app.request(
        `/api/v1/tickets/${b.id}/comments`,
        jsonRequest({ body: "hi" }),
      );
      assert.equal(comment.status, 201);

      const rows = await store.eventsAfter(0, 100);
      assert.deepEqual(
        rows.map((e) => [e.id, e.type, e.ticket_id, e.actor]),
        [
          [1, "ticket.created", a.id, actor],
          [2, "ticket.created", b.id, actor],
          [3, "ticket.updated", a.id, actor],
          [4, "comment.added", b.id, actor],
        ],
      );
      assert.deepEqual(rows[0]!.data, { status: "Open" });
      assert.deepEqual(rows[2]!.data, {
        changes: { status: { from: "Open", to: "Closed" } },
        version: 2,
      });
      assert.deepEqual(rows[3]!.data, {
        comment_id: 1,
        visibility: "internal",
      });
      const bare = (events: TicketEvent[]) =>
        events.map(({ ticket: _, ...e }) => e);
      assert.deepEqual(bare(published), bare(rows));
      // Live events carry the ticket as that change left it…
      assert.deepEqual(
        published.map((e) => [e.ticket?.status, e.ticket?.version]),
        [["Open", 1], ["Open", 1], ["Closed", 2], ["Open", 1]],
      );
      assert.equal(published[3]!.ticket?.comment_count, 1);
      // …and a replay carries each ticket as it is now.
      assert.deepEqual(
        rows.map((
          e,
        ) => [e.ticket?.id, e.ticket?.status, e.ticket?.comment_count]),
        [[a.id, "Closed", 0], [b.id, "Open", 1], [a.id, "Closed", 0], [
          b.id,
          "Open",
          1,
        ]],
      );
      assert.deepEqual(await store.eventsAfter(2, 100), rows.slice(2));
      assert.deepEqual(await store.eventsAfter(0, 1), rows.slice(0, 1));
    });
  },
);

Deno.test("The bus delivers an event only after its transaction committed (memory store)", async () => {
  await withApp(async ({ app, store, bus }) => {
    const inTransaction: boolean[] = [];
    bus.subscribe(() => inTransaction.push(store.db.isTransaction));
    await createTicket(app);
    await createTicket(app);
    assert.deepEqual(inTransaction, [false, false]);
  });
});

Deno.test("The bus delivers an event only after another connection can read it (file store)", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/t.db`;
    await withApp(async ({ app, bus }) => {
      const other = new DatabaseSync(path);
      try {
        const visible: boolean[] = [];
        bus.subscribe((e) => {
          const row = other.prepare(
            "SELECT t.id FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE e.id = ?",
          ).get(e.id);
          visible.push(row !== undefined);
        });
        await Promise.all(
          Array.from(
            { length: 5 },
            () => app.request("/create_ticket", jsonRequest(sampleTicket())),
          ),
        );
        assert.deepEqual(visible, [true, true, true, true, true]);
      } finally {
        other.close();
      }
    }, { path });
  });
});

testEachBackend(
  "Tickets, comments and versions survive closing and reopening a store",
  async (backend) => {
    await backend.withLocation(async (path) => {
      let before: unknown[] = [];
      let events: TicketEvent[] = [];
      await withBackendApp(backend, async ({ app, store }) => {
        for (let i = 0; i < 3; i++) {
          await createTicket(app, { user_id: `u${i}` });
        }
        const patch = await app.request(
          "/api/v1/tickets/2",
          jsonRequest({ status: "Pending", description: "Checking" }, {
            method: "PATCH",
          }),
        );
        assert.equal(patch.status, 200);
        const comment = await app.request(
          "/api/v1/tickets/2/comments",
          jsonRequest({ body: "Still there?" }),
        );
        assert.equal(comment.status, 201);
        before = await listAllTickets(app);
        events = await store.eventsAfter(0, 100);
      }, path);

      await withBackendApp(backend, async ({ app, store }) => {
        assert.deepEqual(store.migrated, []);
        assert.deepEqual(await listAllTickets(app), before);
        assert.equal(before.length, 3);
        const res = await app.request("/api/v1/tickets/2");
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("etag"), '"2"');
        const t = await res.json();
        assert.equal(t.description, "Checking");
        assert.deepEqual(t.comments.map((c: { body: string }) => c.body), [
          "Still there?",
        ]);
        assert.deepEqual(await store.eventsAfter(0, 100), events);
        // New ids continue after the old ones.
        assert.equal((await createTicket(app)).id, 4);
      }, path);
    });
  },
);

testEachBackend(
  "Idempotency keys survive a restart: the retry after reopening is a replay",
  async (backend) => {
    await backend.withLocation(async (path) => {
      // Keys are scoped per API key too, so the retry must come with the same API key.
      let apiKey = "";
      const request = () =>
        jsonRequest(sampleTicket(), {
          headers: {
            "Idempotency-Key": "k-restart",
            "Authorization": `Bearer ${apiKey}`,
          },
        });
      let first = "";
      await withBackendApp(backend, async (h) => {
        apiKey = h.apiKey;
        const res = await h.app.request("/create_ticket", request());
        assert.equal(res.status, 201);
        first = await res.text();
      }, path);
      await withBackendApp(backend, async ({ app }) => {
        const res = await app.request("/create_ticket", request());
        assert.equal(res.status, 201);
        assert.equal(res.headers.get("idempotent-replayed"), "true");
        assert.equal(await res.text(), first);
        assert.equal((await listAllTickets(app)).length, 1);
      }, path);
    });
  },
);

testEachBackend(
  "200 concurrent creates all persist, with events in id order (sharing commits on SQLite)",
  async (backend) => {
    await backend.withLocation(async (path) => {
      await withBackendApp(backend, async ({ app, store, published }) => {
        // The first signed request records the key's last use (a write of its own).
        const warmUp = await app.request("/api/v1/tickets");
        assert.equal(warmUp.status, 200);
        await warmUp.body?.cancel();
        await store.health();
        const sqlite = backend.name === "sqlite";
        const baseline = sqlite ? store.commitStats : { writes: 0, batches: 0 };
        const responses = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            app.request(
              "/create_ticket",
              jsonRequest(sampleTicket({ user_id: `user-${i}` })),
            )),
        );
        const ids: number[] = [];
        for (const res of responses) {
          assert.equal(res.status, 201);
          ids.push((await res.json()).ticket_id);
        }
        assert.deepEqual(
          [...ids].sort((x, y) => x - y),
          Array.from({ length: 200 }, (_, i) => i + 1),
        );
        if (sqlite) {
          const writes = store.commitStats.writes - baseline.writes;
          const batches = store.commitStats.batches - baseline.batches;
          assert.equal(writes, 200);
          assert.ok(
            batches < 200,
            `expected shared commits, got ${batches} batches`,
          );
          assert.ok(batches >= 1);
        }

        const events = await store.eventsAfter(0, 1000);
        assert.equal(events.length, 200);
        assert.deepEqual(published.map((e) => e.id), events.map((e) => e.id));
        assert.deepEqual(
          published.map((e) => e.id),
          Array.from({ length: 200 }, (_, i) => i + 1),
        );
      }, path);

      await withBackendApp(backend, async ({ app }) => {
        const all = await listAllTickets(app);
        assert.equal(all.length, 200);
        assert.deepEqual(
          new Set(all.map((t) => t.user_id)),
          new Set(Array.from({ length: 200 }, (_, i) => `user-${i}`)),
        );
      }, path);
    });
  },
);

testEachBackend(
  "close() commits writes still queued before it returns",
  async (backend) => {
    await backend.withLocation(async (path) => {
      const bus = createMemoryBus();
      const store = await backend.open(path, bus);
      const pending = Array.from(
        { length: 20 },
        (_, i) =>
          store.createTicket({
            user_id: `u${i}`,
            pdf_link: "https://example.com/a.pdf",
            product_id: null,
            other_ids: null,
          }, { actor: "test" }),
      );
      await store.close();
      const created = await Promise.all(pending);
      assert.equal(created.length, 20);

      await withBackendApp(backend, async ({ app }) => {
        assert.equal((await listAllTickets(app)).length, 20);
      }, path);
    });
  },
);

testEachBackend(
  "Writes after close() are refused with StorageUnavailableError",
  async (backend) => {
    const store = await backend.open(null);
    await store.close();
    await assert.rejects(
      () =>
        store.createTicket({
          user_id: "u",
          pdf_link: "https://example.com/a.pdf",
          product_id: null,
          other_ids: null,
        }, { actor: "test" }),
      StorageUnavailableError,
    );
    // A second close is harmless.
    await store.close();
  },
);

Deno.test("A file store runs WAL, synchronous FULL and foreign keys on both connections", async () => {
  await withTempDir(async (dir) => {
    const store = await openSqliteStore({ path: `${dir}/t.db` });
    try {
      assert.deepEqual(store.pragmas, {
        journal_mode: "wal",
        synchronous: "FULL",
        foreign_keys: 1,
        busy_timeout: 5000,
      });
      // The main thread's read connection.
      assert.deepEqual(readPragmas(store.db), store.pragmas);
    } finally {
      await store.close();
    }
  });
});

Deno.test("A file store with the inline writer works like the worker one", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/t.db`;
    await withApp(async ({ app, store }) => {
      assert.equal(store.pragmas.journal_mode, "wal");
      const t = await createTicket(app);
      assert.equal(t.id, 1);
    }, { path, writer: "inline" });
    await withApp(async ({ app }) => {
      assert.equal((await listAllTickets(app)).length, 1);
    }, { path });
  });
});

Deno.test("The database directory is created when missing", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/nested/deeper/t.db`;
    await withApp(async ({ app }) => {
      await createTicket(app);
    }, { path });
    assert.equal((await Deno.stat(path)).isFile, true);
  });
});

Deno.test({
  name:
    "Opening a store at an unusable path rejects and lets the process exit (no writer left running)",
  fn: async () => {
    const storeUrl = new URL(
      "../../db/sqlite/sqlite_store.ts",
      import.meta.url,
    );
    const config = new URL("../../deno.json", import.meta.url);
    const code = `
      import { openSqliteStore } from ${JSON.stringify(storeUrl.href)};
      await openSqliteStore({ path: "/proc/no-such-dir/t.db" })
        .then(() => console.log("opened"), () => console.log("rejected"));`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--quiet", "--config", config.pathname, code],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const out = await child.output();
    clearTimeout(timer);
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "rejected");
    assert.equal(
      out.signal,
      null,
      "the process had to be killed: it never exited",
    );
    assert.equal(out.code, 0);
  },
});

testEachBackend(
  "harnessFor records bus deliveries for an already-open store",
  async (backend) => {
    const bus = createMemoryBus();
    const store = await backend.open(null, bus);
    try {
      const h = await harnessFor(store as SqliteStore, bus);
      await createTicket(h.app);
      assert.deepEqual(h.published.map((e) => e.type), ["ticket.created"]);
    } finally {
      await store.close();
    }
  },
);

Deno.test("A write that fails inside SQLite mid-batch fails alone: the rest of its batch commits", async () => {
  const bus = createMemoryBus();
  const store = await openSqliteStore({ path: ":memory:", bus });
  try {
    const good = (user_id: string) => ({
      user_id,
      pdf_link: "https://example.com/a.pdf",
      product_id: null,
      other_ids: null,
    });
    // The first write commits alone; the next three queue into one batch.
    // The third breaks a NOT NULL constraint: an error from SQLite, not a refusal.
    const results = await Promise.allSettled([
      store.createTicket(good("first"), { actor: "t" }),
      store.createTicket(good("second"), { actor: "t" }),
      store.createTicket(
        { ...good("x"), user_id: null as unknown as string },
        { actor: "t" },
      ),
      store.createTicket(good("fourth"), { actor: "t" }),
    ]);
    assert.deepEqual(results.map((r) => r.status), [
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    const page = await store.listTickets({ limit: 10 });
    assert.deepEqual(page.items.map((t) => t.user_id), [
      "fourth",
      "second",
      "first",
    ]);
    const events = await store.eventsAfter(0, 10);
    assert.equal(events.length, 3, "no event for the failed write");
    assert.equal(store.commitStats.batches, 2);
  } finally {
    await store.close();
  }
});
