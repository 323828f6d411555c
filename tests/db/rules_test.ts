/** The write rules both backends share. */
import assert from "node:assert/strict";
import {
  IDEMPOTENCY_TTL_MS,
  idempotencyVerdict,
  patchChanges,
  patched,
} from "../../db/rules.ts";
import {
  IdempotencyMismatchError,
  StaleVersionError,
  type Ticket,
} from "../../db/store.ts";

const ticket: Ticket = {
  id: 7,
  user_id: "maria",
  pdf_link: "https://example.com/a.pdf",
  product_id: null,
  other_ids: null,
  status: "Open",
  description: "old",
  comments: "",
  assignee: null,
  priority: "Normal",
  created_at: "2026-11-29T10:00:00.000Z",
  updated_at: "2026-11-29T10:00:00.000Z",
  version: 3,
};

Deno.test("A patch that changes nothing has no changes; one that does lists from and to", () => {
  assert.equal(patchChanges(ticket, {}), null);
  assert.equal(patchChanges(ticket, { status: "Open" }), null);
  assert.equal(patchChanges(ticket, { description: undefined }), null);
  assert.deepEqual(
    patchChanges(ticket, { status: "Closed", description: "old" }),
    {
      status: { from: "Open", to: "Closed" },
    },
  );
});

Deno.test("A stale expected version is refused before anything is compared", () => {
  assert.throws(
    () => patchChanges(ticket, { status: "Open" }, { expectedVersion: 2 }),
    (e) =>
      e instanceof StaleVersionError && e.current === 3 && e.expected === 2,
  );
  assert.ok(
    patchChanges(ticket, { status: "Pending" }, { expectedVersion: 3 }),
  );
});

Deno.test("patched applies only the fields a patch sets", () => {
  const next = patched(ticket, { status: "Pending", description: undefined });
  assert.equal(next.status, "Pending");
  assert.equal(next.description, "old");
  assert.equal(ticket.status, "Open", "the current ticket is not changed");
});

Deno.test("An idempotency key replays within a day, is refused with another body, and starts over after", () => {
  const idem = { scope: "s", key: "k", fingerprint: "f1" };
  const now = new Date("2026-11-29T12:00:00Z");
  const prior = (ageMs: number, fingerprint = "f1") => ({
    fingerprint,
    response: JSON.stringify(ticket),
    created_at: new Date(now.getTime() - ageMs),
  });
  assert.deepEqual(idempotencyVerdict(null, idem, now), {
    kind: "create",
    expired: false,
  });
  assert.deepEqual(idempotencyVerdict(prior(1000), idem, now), {
    kind: "replay",
    ticket,
  });
  assert.throws(
    () => idempotencyVerdict(prior(1000, "f2"), idem, now),
    IdempotencyMismatchError,
  );
  assert.deepEqual(
    idempotencyVerdict(prior(IDEMPOTENCY_TTL_MS, "f2"), idem, now),
    { kind: "create", expired: true },
  );
});
