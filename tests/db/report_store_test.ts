/**
 * Reports on both backends: hand-made histories (a reopened ticket, a ticket
 * closed twice, times either side of midnight in a zone with daylight saving
 * time), each figure checked by hand and against the slow reference.
 */
import assert from "node:assert/strict";
import type { NewTicket, Priority } from "../../db/store.ts";
import { loadReport, type Report } from "../../db/reports.ts";
import { dayBounds } from "../../lib/report_days.ts";
import { type AnyStore, testEachBackend, withStore } from "./backends.ts";
import { type FakeClock, withClock } from "../fake_clock.ts";
import {
  readAll,
  referenceReport,
  type RefFilter,
} from "./report_reference.ts";

const ticket = (
  product_id: string | null = "PROD-1",
  priority?: Priority,
): NewTicket => ({
  user_id: "requester",
  pdf_link: "https://example.com/guide.pdf",
  product_id,
  other_ids: null,
  priority,
});

/**
 * Europe/Paris moves its clocks forward on 2026-03-29 at 02:00 (UTC+1 → UTC+2).
 * The report's days are 27–30 March, Paris time; comments name the local time.
 */
async function history(store: AnyStore, clock: FakeClock) {
  for (const username of ["maria", "li"]) {
    await store.createUser({ username, passwordHash: "x", role: "agent" });
  }
  const at = async <T>(iso: string, fn: () => Promise<T>) => {
    clock.set(iso);
    return await fn();
  };
  const create = (iso: string, t = ticket()) =>
    at(iso, async () => (await store.createTicket(t, { actor: "app" })).ticket);
  const set = (
    iso: string,
    id: number,
    patch: Parameters<AnyStore["updateTicket"]>[1],
  ) => at(iso, () => store.updateTicket(id, patch, { actor: "maria" }));
  const reply = (iso: string, id: number, visibility: "public" | "internal") =>
    at(
      iso,
      () => store.addComment(id, "On it", { actor: "maria", visibility }),
    );

  // Before the range: open all along, never answered.
  const t0 = await create("2026-03-20T10:00:00Z");
  // 27 March 00:30 in Paris (26 March in UTC). Answered, closed, reopened by
  // the requester's reply, closed again: two closes, one reopen.
  const t1 = await create("2026-03-26T23:30:00Z");
  await reply("2026-03-27T08:00:00Z", t1.id, "public");
  await set("2026-03-27T10:00:00Z", t1.id, { status: "Closed" });
  await at(
    "2026-03-28T09:00:00Z",
    () => store.addRequesterReply(t1.id, "Still broken", { tokenVersion: 1 }),
  );
  await set("2026-03-29T12:00:00Z", t1.id, { status: "Closed" });
  // 27 March 23:59:59. An internal note is no reply; the public one comes
  // at 29 March 00:30 (28 March in UTC).
  const t2 = await create("2026-03-27T22:59:59Z", ticket("PROD-2"));
  await set("2026-03-28T10:00:00Z", t2.id, { assignee: "maria" });
  await reply("2026-03-28T10:05:00Z", t2.id, "internal");
  await reply("2026-03-28T23:30:00Z", t2.id, "public");
  // 28 March 00:00:00 sharp; High; Pending, then closed 30 March 23:59 (UTC+2).
  const t3 = await create("2026-03-27T23:00:00Z", ticket("PROD-1", "High"));
  await set("2026-03-29T09:00:00Z", t3.id, { status: "Pending" });
  await set("2026-03-30T21:59:00Z", t3.id, { status: "Closed" });
  // 28 March 23:30 (still UTC+1): another product, never answered.
  const t4 = await create("2026-03-28T22:30:00Z", ticket("prod-9"));
  // 30 March 00:30 (UTC+2; 29 March in UTC), closed 30 March 01:10.
  const t5 = await create("2026-03-29T22:30:00Z", ticket(null));
  await set("2026-03-29T23:10:00Z", t5.id, { status: "Closed" });
  // Created before the range, closed in it (28 March 13:00), then given to li.
  const t6 = await create("2026-03-25T09:00:00Z");
  await set("2026-03-28T12:00:00Z", t6.id, { status: "Closed" });
  await set("2026-03-28T12:30:00Z", t6.id, { assignee: "li" });
  // Closed before the range and reopened after it: not in any day's backlog.
  const t8 = await create("2026-03-20T11:00:00Z");
  await set("2026-03-26T12:00:00Z", t8.id, { status: "Closed" });
  await set("2026-03-31T08:00:00Z", t8.id, { status: "Open" });
  // After the range (31 March).
  const t7 = await create("2026-03-31T10:00:00Z");
  clock.set("2026-04-01T12:00:00Z");
  return { t0, t1, t2, t3, t4, t5, t6, t7, t8 };
}

const DATES = ["2026-03-27", "2026-03-28", "2026-03-29", "2026-03-30"];

async function report(
  store: AnyStore,
  zone: string,
  filter: RefFilter = {},
): Promise<Report> {
  return await loadReport(store, {
    range: { from: DATES[0]!, to: DATES.at(-1)! },
    zone,
    filter,
    waitingLimit: 50,
  });
}

/** The fast report equals the slow one, figure by figure. */
async function assertMatchesReference(
  store: AnyStore,
  zone: string,
  filter: RefFilter,
) {
  const fast = await report(store, zone, filter);
  const slow = referenceReport(await readAll(store), {
    dates: DATES,
    zone,
    filter,
  });
  const label = `${zone} ${JSON.stringify(filter)}`;
  assert.deepEqual(fast.days, slow.days, `days, ${label}`);
  const stats = (s: Report["firstReply"]) => ({
    count: s.count,
    median: s.median,
    p90: s.p90,
  });
  assert.deepEqual(stats(fast.firstReply), slow.firstReply, `reply, ${label}`);
  assert.deepEqual(stats(fast.close), slow.close, `close, ${label}`);
  assert.deepEqual(
    { count: fast.waiting.count, oldest: fast.waiting.oldest.map((t) => t.id) },
    slow.waiting,
    `waiting, ${label}`,
  );
  const rows = (list: Report["owners"]) =>
    list.map(({ reopenRate: _, ...r }) => r)
      .sort((a, b) => String(a.key).localeCompare(String(b.key)));
  const refRows = (list: typeof slow.owners) =>
    [...list].sort((a, b) => String(a.key).localeCompare(String(b.key)));
  assert.deepEqual(rows(fast.owners), refRows(slow.owners), `owners, ${label}`);
  assert.deepEqual(
    rows(fast.products),
    refRows(slow.products),
    `products, ${label}`,
  );
}

testEachBackend(
  "Report days are Paris days: created, closed (twice for a ticket closed twice) and the backlog at each day's end",
  async (backend) => {
    await withStore(backend, async (store) => {
      await withClock("2026-03-01T00:00:00Z", async (clock) => {
        const t = await history(store, clock);
        const r = await report(store, "Europe/Paris");
        assert.deepEqual(r.days.map((d) => d.date), DATES);
        // 27: t1, t2 · 28: t3, t4 · 30: t5.
        assert.deepEqual(r.days.map((d) => d.created), [2, 2, 0, 1]);
        // 27: t1 · 28: t6 · 29: t1 again · 30: t5 (01:10) and t3 (23:59).
        assert.deepEqual(r.days.map((d) => d.closed), [1, 1, 1, 2]);
        assert.deepEqual(r.days.map((d) => d.reopened), [0, 1, 0, 0]);
        // Open at the end of each day: t0 and t6 before; 27: +t1 +t2 −t1
        // (closed) = t0 t2 t6; 28: +t1 (reopened) +t3 +t4 −t6 = t0 t1 t2 t3
        // t4; 29: −t1 = t0 t2 t3 t4; 30: +t5 −t5 −t3 = t0 t2 t4.
        assert.deepEqual(r.days.map((d) => d.backlog), [3, 5, 4, 3]);
        assert.equal(r.totals.closed, 5);
        assert.equal(r.totals.reopened, 1);
        assert.equal(r.totals.reopenRate, 1 / 5);
        // Replies in the range: t1 after 8 h 30 min, t2 after 24 h 30 min 01 s.
        assert.equal(r.firstReply.count, 2);
        assert.equal(r.firstReply.median, 8.5 * 3600);
        assert.equal(r.firstReply.p90, 24.5 * 3600 + 1);
        // Closes that stand: t1 (its last close, created → 29 March 12:00),
        // t6, t3 and t5; t1's first close no longer counts.
        assert.equal(r.close.count, 4);
        assert.equal(
          r.close.median,
          (Date.parse("2026-03-29T12:00:00Z") -
            Date.parse("2026-03-26T23:30:00Z")) / 1000,
        );
        // Waiting for a first reply now: t0, t4, t8 and t7 (oldest first).
        assert.deepEqual(r.waiting.oldest.map((x) => x.id), [
          t.t0.id,
          t.t8.id,
          t.t4.id,
          t.t7.id,
        ]);
        const li = r.owners.find((o) => o.key === "li")!;
        assert.deepEqual(
          [li.created, li.closed, li.closeMedian],
          [0, 1, 3 * 86_400 + 3 * 3600],
          "t6 is li's now: its close follows it",
        );
      });
    });
  },
);

testEachBackend(
  "The same history in UTC puts the midnight tickets on other days",
  async (backend) => {
    await withStore(backend, async (store) => {
      await withClock("2026-03-01T00:00:00Z", async (clock) => {
        await history(store, clock);
        const r = await report(store, "UTC");
        // 27: t2, t3 (23:00) · 28: t4 · 29: t5 — t1 came on the 26th.
        assert.deepEqual(r.days.map((d) => d.created), [2, 1, 1, 0]);
        // 27: t1 · 28: t6 · 29: t1, t5 · 30: t3.
        assert.deepEqual(r.days.map((d) => d.closed), [1, 1, 2, 1]);
      });
    });
  },
);

for (
  const zone of ["Europe/Paris", "UTC", "Asia/Kolkata", "America/Los_Angeles"]
) {
  testEachBackend(
    `Every figure equals the slow reference computed from the events, in ${zone}, with and without filters`,
    async (backend) => {
      await withStore(backend, async (store) => {
        await withClock("2026-03-01T00:00:00Z", async (clock) => {
          await history(store, clock);
          for (
            const filter of [
              {},
              { assignee: "maria" },
              { assignee: null },
              { priority: "High" as const },
              { product_prefix: "prod-" },
              { product_prefix: "PROD-1", assignee: null },
            ]
          ) {
            await assertMatchesReference(store, zone, filter);
          }
        });
      });
    },
  );
}

testEachBackend(
  "A report before any ticket, or in the future, is all zeros and says so",
  async (backend) => {
    await withStore(backend, async (store) => {
      const r = await loadReport(store, {
        range: { from: "2026-01-01", to: "2026-01-07" },
        zone: "UTC",
        filter: {},
      });
      assert.equal(r.days.length, 7);
      assert.ok(r.days.every((d) => d.created === 0 && d.backlog === 0));
      assert.equal(r.firstReply.median, null);
      assert.equal(r.close.count, 0);
      assert.deepEqual(r.owners, []);
    });
  },
);

Deno.test("Paris days around the clock change are 23 and 24 hours long", () => {
  const { bounds } = dayBounds("2026-03-28", "2026-03-30", "Europe/Paris");
  const hours = bounds.slice(1).map((b, i) => (b - bounds[i]!) / 3600);
  assert.deepEqual(hours, [24, 23, 24]);
  assert.equal(bounds[0], Date.parse("2026-03-27T23:00:00Z") / 1000);
});
