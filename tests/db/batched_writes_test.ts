/**
 * Writes that arrive together share one transaction and, for creates, one
 * statement per table: each must still come out exactly as if it had been
 * committed alone.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createMemoryBus } from "../../db/bus.ts";
import {
  IdempotencyMismatchError,
  type NewTicket,
  type TicketEvent,
} from "../../db/store.ts";
import { adminQuery, type Backend, testEachBackend } from "./backends.ts";

function input(user_id: string): NewTicket {
  return {
    user_id,
    pdf_link: `https://example.com/${user_id}.pdf`,
    product_id: `PROD-${user_id}`,
    other_ids: null,
    priority: "High",
  };
}

const idem = (key: string, fingerprint = key) => ({
  scope: "test",
  key,
  fingerprint,
});

/** Moves an idempotency key's creation two days back (past its lifetime). */
async function ageKey(backend: Backend, loc: string, key: string) {
  const old = new Date(Date.now() - 2 * 24 * 3600 * 1000).toISOString();
  if (backend.name === "postgres") {
    await adminQuery(
      `UPDATE ${loc}.idempotency_keys SET created_at = $1 WHERE key = $2`,
      [old, key],
    );
    return;
  }
  const db = new DatabaseSync(loc);
  try {
    db.prepare("UPDATE idempotency_keys SET created_at = ? WHERE key = ?")
      .run(old, key);
  } finally {
    db.close();
  }
}

testEachBackend(
  "Creates committed together keep submission order and each one's idempotency outcome",
  async (backend) => {
    await backend.withLocation(async (loc) => {
      // A key used yesterday-but-one, to be reused now with another body.
      const first = await backend.open(loc);
      try {
        await first.createTicket(input("old"), {
          actor: "t",
          idempotency: idem("expired", "before"),
        });
        await first.createTicket(input("kept"), {
          actor: "t",
          idempotency: idem("kept"),
        });
      } finally {
        await first.close();
      }
      await ageKey(backend, loc, "expired");

      const bus = createMemoryBus();
      const published: TicketEvent[] = [];
      bus.subscribe((e) => published.push(e));
      const store = await backend.open(loc, bus);
      try {
        const ctx = (key?: string, fingerprint?: string) => ({
          actor: "agent",
          ...(key ? { idempotency: idem(key, fingerprint) } : {}),
        });
        // Submitted in one go: they queue behind the first and commit together.
        const results = await Promise.allSettled([
          store.createTicket(input("a"), ctx("k1")),
          store.createTicket(input("b"), ctx("k2")),
          store.createTicket(input("c"), ctx()),
          store.createTicket(input("a-again"), ctx("k1")), // same key: replay
          store.createTicket(input("kept-other"), ctx("kept", "other")),
          store.createTicket(input("d"), ctx("expired", "after")),
          store.createTicket(input("e"), ctx("k3")),
        ]);
        assert.deepEqual(results.map((r) => r.status), [
          "fulfilled",
          "fulfilled",
          "fulfilled",
          "fulfilled",
          "rejected",
          "fulfilled",
          "fulfilled",
        ]);
        const value = (i: number) =>
          (results[i] as PromiseFulfilledResult<
            Awaited<ReturnType<typeof store.createTicket>>
          >).value;
        assert.ok(
          (results[4] as PromiseRejectedResult).reason instanceof
            IdempotencyMismatchError,
        );
        const made = [0, 1, 2, 5, 6].map(value);
        assert.deepEqual(made.map((r) => r.replayed), [
          false,
          false,
          false,
          false,
          false,
        ]);
        // Ids rise in submission order, as do their events.
        const ids = made.map((r) => r.ticket.id);
        assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
        assert.deepEqual(
          made.map((r) => r.ticket.user_id),
          ["a", "b", "c", "d", "e"],
        );
        assert.deepEqual(value(3), {
          ticket: value(0).ticket,
          replayed: true,
          event: null,
        });
        const t = value(1).ticket;
        assert.equal(t.priority, "High");
        assert.equal(t.product_id, "PROD-b");
        assert.equal(t.status, "Open");
        assert.equal(t.version, 1);
        assert.deepEqual(await store.getTicket(t.id), {
          ...t,
          comment_list: [],
        });
        const events = made.map((r) => r.event!);
        assert.deepEqual(
          events.map((e) => [e.type, e.ticket_id, e.actor, e.data]),
          made.map((r) => [
            "ticket.created",
            r.ticket.id,
            "agent",
            { status: "Open" },
          ]),
        );
        const eventIds = events.map((e) => e.id);
        assert.deepEqual(eventIds, [...eventIds].sort((x, y) => x - y));
        assert.deepEqual(events[0]!.ticket, {
          ...made[0]!.ticket,
          comment_count: 0,
        });
        assert.deepEqual(published.map((e) => e.id), eventIds);
        const stored = await store.eventsAfter(eventIds[0]! - 1, 10);
        assert.deepEqual(stored.map((e) => e.id), eventIds);
        // Each key now replays its own ticket.
        for (
          const [i, key] of [[0, "k1"], [1, "k2"], [5, "expired"]] as const
        ) {
          const again = await store.createTicket(input("x"), {
            actor: "agent",
            idempotency: idem(key, key === "expired" ? "after" : key),
          });
          assert.equal(again.replayed, true);
          assert.deepEqual(again.ticket, value(i).ticket);
        }
      } finally {
        await store.close();
      }
    });
  },
);

testEachBackend(
  "An exact product filter matches that spelling only, newest first, page after page",
  async (backend) => {
    const store = await backend.open(null);
    try {
      const made: number[] = [];
      for (const p of ["PROD-1", "prod-1", "PROD-1", "PROD-2", "PROD-1"]) {
        const { ticket } = await store.createTicket({
          ...input("u"),
          product_id: p,
        }, { actor: "t" });
        if (p === "PROD-1") made.push(ticket.id);
      }
      const first = await store.listTickets({ product_id: "PROD-1", limit: 2 });
      assert.deepEqual(first.items.map((t) => t.id), [made[2], made[1]]);
      const rest = await store.listTickets({
        product_id: "PROD-1",
        limit: 2,
        after: first.next!,
      });
      assert.deepEqual(rest.items.map((t) => t.id), [made[0]]);
      const lower = await store.listTickets({ product_id: "prod-1", limit: 5 });
      assert.equal(lower.items.length, 1);
    } finally {
      await store.close();
    }
  },
);

testEachBackend(
  "A replayed create takes no ticket number: the next new ticket follows the last one",
  async (backend) => {
    await backend.withLocation(async (loc) => {
      const store = await backend.open(loc);
      try {
        const key = (k: string) => ({ actor: "t", idempotency: idem(k) });
        for (const k of ["r1", "r2", "r3"]) {
          await store.createTicket(input(k), key(k));
        }
        // Retries and new tickets, submitted together (one batch where it can).
        const results = await Promise.all([
          store.createTicket(input("r1"), key("r1")),
          store.createTicket(input("n1"), key("n1")),
          store.createTicket(input("r2"), key("r2")),
          store.createTicket(input("n2"), { actor: "t" }),
          store.createTicket(input("r3"), key("r3")),
        ]);
        assert.deepEqual(
          results.map((r) => [r.replayed, r.ticket.id]),
          [[true, 1], [false, 4], [true, 2], [false, 5], [true, 3]],
        );
        const next = await store.createTicket(input("n3"), { actor: "t" });
        assert.equal(next.ticket.id, 6);
      } finally {
        await store.close();
      }
    });
  },
);
