/** Owners and priorities on every backend: assigning, atomic taking, bulk changes, counts, sorts. */
import assert from "node:assert/strict";
import {
  AlreadyAssignedError,
  type PageKey,
  StaleVersionError,
  UnknownAssigneeError,
} from "../../db/store.ts";
import { type AnyStore, testEachBackend, withStore } from "./backends.ts";

const ticket = (user_id: string) => ({
  user_id,
  pdf_link: "https://example.com/a.pdf",
  product_id: null,
  other_ids: null,
});

async function agents(store: AnyStore, ...names: string[]) {
  for (const username of names) {
    await store.createUser({ username, passwordHash: "h", role: "agent" });
  }
}

testEachBackend(
  "an owner is an active user, stored as the user spells their name, and every change is an event",
  async (backend) => {
    await withStore(backend, async (store) => {
      await agents(store, "Maria", "li");
      const { ticket: t } = await store.createTicket(ticket("a"), {
        actor: "api:app",
      });
      assert.equal(t.assignee, null);
      assert.equal(t.priority, "Normal");
      const taken = await store.updateTicket(t.id, { assignee: "maria" }, {
        actor: "Maria",
      });
      assert.equal(taken.value.assignee, "Maria");
      assert.deepEqual(taken.event?.data, {
        changes: { assignee: { from: null, to: "Maria" } },
        version: 2,
      });
      await assert.rejects(
        store.updateTicket(t.id, { assignee: "nobody" }, { actor: "li" }),
        UnknownAssigneeError,
      );
      await store.setUserDisabled("li", true);
      await assert.rejects(
        store.updateTicket(t.id, { assignee: "li" }, { actor: "Maria" }),
        UnknownAssigneeError,
      );
      const released = await store.updateTicket(t.id, { assignee: null }, {
        actor: "Maria",
      });
      assert.equal(released.value.assignee, null);
      const urgent = await store.updateTicket(t.id, { priority: "Urgent" }, {
        actor: "Maria",
      });
      assert.equal(urgent.value.priority, "Urgent");
      assert.equal((await store.getTicket(t.id))?.priority, "Urgent");
    });
  },
);

testEachBackend(
  "50 agents taking one ticket at the same moment: exactly one owns it, the others are told",
  async (backend) => {
    await withStore(backend, async (store) => {
      const names = Array.from({ length: 50 }, (_, i) => `agent${i}`);
      await agents(store, ...names);
      const { ticket: t } = await store.createTicket(ticket("a"), {
        actor: "api:app",
      });
      // As the dashboard's Take does: the version the agent saw.
      const versioned = await Promise.allSettled(
        names.map((name) =>
          store.updateTicket(t.id, { assignee: name }, {
            actor: name,
            expectedVersion: t.version,
          })
        ),
      );
      const won = versioned.filter((r) => r.status === "fulfilled");
      assert.equal(won.length, 1);
      for (const r of versioned) {
        if (r.status === "rejected") {
          assert.ok(r.reason instanceof StaleVersionError, String(r.reason));
        }
      }
      const owner = (await store.getTicket(t.id))!.assignee;
      assert.ok(owner && names.includes(owner));

      // As the API does without If-Match: no silent steal.
      const { ticket: u } = await store.createTicket(ticket("b"), {
        actor: "api:app",
      });
      const unguarded = await Promise.allSettled(
        names.map((name) =>
          store.updateTicket(u.id, { assignee: name }, {
            actor: name,
            noSteal: true,
          })
        ),
      );
      assert.equal(
        unguarded.filter((r) => r.status === "fulfilled").length,
        1,
      );
      const second = (await store.getTicket(u.id))!.assignee;
      for (const r of unguarded) {
        if (r.status === "rejected") {
          assert.ok(r.reason instanceof AlreadyAssignedError);
          assert.equal(r.reason.owner, second);
        }
      }
      const events = await store.ticketActivity(u.id);
      assert.equal(events.length, 2, "one create, one assignment");
    });
  },
);

testEachBackend(
  "a bulk change of 20 tickets skips the one changed meanwhile and changes the rest, one event each",
  async (backend) => {
    await withStore(backend, async (store) => {
      await agents(store, "maria", "li");
      const ids: number[] = [];
      for (let i = 0; i < 20; i++) {
        ids.push(
          (await store.createTicket(ticket(`u${i}`), { actor: "api:app" }))
            .ticket.id,
        );
      }
      // Someone changes one after the list was shown (version 1 → 2).
      await store.updateTicket(ids[7]!, { status: "Pending" }, {
        actor: "li",
      });
      const before = await store.latestEventId();
      const outcomes = await store.bulkUpdate(
        ids.map((id) => ({ id, expectedVersion: 1 })),
        { status: "Closed", assignee: "MARIA", priority: "High" },
        { actor: "maria" },
      );
      assert.deepEqual(outcomes.map((o) => o.id), ids);
      const refused = outcomes.filter((o) => !o.ok);
      assert.equal(refused.length, 1);
      assert.equal(refused[0]!.id, ids[7]);
      assert.ok(
        !refused[0]!.ok && refused[0]!.error instanceof StaleVersionError,
      );
      for (const o of outcomes.filter((o) => o.ok)) {
        assert.ok(o.ok);
        assert.equal(o.ticket.status, "Closed");
        assert.equal(o.ticket.assignee, "maria");
        assert.equal(o.ticket.priority, "High");
      }
      const events = await store.eventsAfter(before, 100);
      assert.equal(events.length, 19);
      assert.deepEqual(
        events.map((e) => e.ticket_id),
        ids.filter((id) => id !== ids[7]),
      );
      assert.equal((await store.getTicket(ids[7]!))?.status, "Pending");
      await assert.rejects(
        store.bulkUpdate([{ id: ids[0]! }], { assignee: "ghost" }, {
          actor: "maria",
        }),
        UnknownAssigneeError,
      );
      const missing = await store.bulkUpdate([{ id: 99_999 }], {
        priority: "Low",
      }, { actor: "maria" });
      assert.equal(missing[0]!.ok, false);
    });
  },
);

testEachBackend(
  "the per-(status, owner) counters follow every change, and releasing a user's tickets unassigns only the open ones",
  async (backend) => {
    await withStore(backend, async (store) => {
      await agents(store, "maria", "li");
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) {
        ids.push(
          (await store.createTicket(ticket(`u${i}`), { actor: "api:app" }))
            .ticket.id,
        );
      }
      await store.updateTicket(ids[0]!, { assignee: "maria" }, { actor: "x" });
      await store.updateTicket(ids[1]!, { assignee: "maria" }, { actor: "x" });
      await store.updateTicket(ids[2]!, {
        assignee: "maria",
        status: "Closed",
      }, { actor: "x" });
      await store.updateTicket(ids[3]!, { assignee: "li" }, { actor: "x" });
      const view = async () =>
        Object.fromEntries(
          (await store.countByOwner()).byOwner.map((
            c,
          ) => [`${c.status}:${c.assignee ?? ""}`, c.n]),
        );
      assert.deepEqual(await view(), {
        "Open:maria": 2,
        "Closed:maria": 1,
        "Open:li": 1,
        "Open:": 2,
      });
      assert.equal(
        await store.releaseTickets("maria", { actor: "admin" }),
        2,
      );
      assert.deepEqual(await view(), {
        "Closed:maria": 1,
        "Open:li": 1,
        "Open:": 4,
      });
      const status = await store.countByStatus();
      assert.deepEqual(status, { All: 6, Open: 5, Pending: 0, Closed: 1 });
    });
  },
);

testEachBackend(
  "lists filter by owner and priority and page through each sort without a gap or a repeat",
  async (backend) => {
    await withStore(backend, async (store) => {
      await agents(store, "maria");
      const priorities = ["Low", "Normal", "High", "Urgent"] as const;
      for (let i = 0; i < 23; i++) {
        const { ticket: t } = await store.createTicket(
          { ...ticket(`u${i}`), priority: priorities[i % 4] },
          { actor: "api:app" },
        );
        if (i % 3 === 0) {
          await store.updateTicket(t.id, { assignee: "maria" }, {
            actor: "x",
          });
        }
      }
      const all = async (
        filter: Parameters<AnyStore["listTickets"]>[0],
      ) => {
        const seen: { id: number; priority: string }[] = [];
        let after: PageKey | undefined;
        do {
          const page = await store.listTickets({ ...filter, after, limit: 4 });
          seen.push(...page.items.map((t) => ({
            id: t.id,
            priority: t.priority,
          })));
          after = page.next ?? undefined;
        } while (after);
        return seen;
      };
      const newest = await all({ limit: 4 });
      assert.deepEqual(
        newest.map((t) => t.id),
        Array.from({ length: 23 }, (_, i) => 23 - i),
      );
      const oldest = await all({ sort: "oldest", limit: 4 });
      assert.deepEqual(
        oldest.map((t) => t.id),
        [...newest.map((t) => t.id)].reverse(),
      );
      const urgent = await all({ sort: "priority", limit: 4 });
      const rank = (p: string) => priorities.indexOf(p as "Low");
      const expected = [...newest].sort((a, b) =>
        rank(b.priority) - rank(a.priority) || a.id - b.id
      );
      assert.deepEqual(urgent, expected);
      const mine = await all({ assignee: "maria", limit: 4 });
      assert.deepEqual(
        mine.map((t) => t.id),
        newest.map((t) => t.id).filter((id) => (id - 1) % 3 === 0),
      );
      const unassigned = await all({
        assignee: null,
        sort: "oldest",
        limit: 4,
      });
      assert.equal(unassigned.length, 23 - mine.length);
      const high = await all({ priority: "High", limit: 4 });
      assert.ok(high.length > 0 && high.every((t) => t.priority === "High"));
    });
  },
);
