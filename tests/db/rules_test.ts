/** The write rules both backends share. */
import assert from "node:assert/strict";
import {
  commentEvent,
  IDEMPOTENCY_TTL_MS,
  idempotencyVerdict,
  isAgentReply,
  keyVerdicts,
  newMessageId,
  patchChanges,
  patched,
  reopenPatch,
  statusTimes,
  webhookBody,
  webhookType,
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
  token_version: 1,
  first_response_at: null,
  resolved_at: null,
  reopened_count: 0,
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

Deno.test("keyVerdicts matches a batch's keys to their rows by scope and key, one verdict each, in order", () => {
  const now = new Date("2026-11-29T12:00:00Z");
  const row = (scope: string, key: string, fingerprint: string, ageMs = 0) => ({
    scope,
    key,
    fingerprint,
    response: JSON.stringify(ticket),
    created_at: new Date(now.getTime() - ageMs).toISOString(),
  });
  const verdicts = keyVerdicts(
    [
      { scope: "a", key: "1", fingerprint: "f" }, // its row: replay
      { scope: "b", key: "1", fingerprint: "f" }, // same key, other scope: none
      { scope: "a", key: "2", fingerprint: "f" }, // another body: refused
      { scope: "a", key: "3", fingerprint: "f" }, // past its day
    ],
    [
      row("a", "1", "f"),
      row("a", "2", "other"),
      row("a", "3", "other", IDEMPOTENCY_TTL_MS),
    ],
    now,
  );
  assert.deepEqual(verdicts[0], { kind: "replay", ticket });
  assert.equal(verdicts[1], null);
  assert.equal(verdicts[2]?.kind, "refused");
  assert.ok(
    verdicts[2]?.kind === "refused" &&
      verdicts[2].error instanceof IdempotencyMismatchError,
  );
  assert.deepEqual(verdicts[3], { kind: "expired" });
  assert.equal(verdicts.length, 4);
});

Deno.test("statusTimes sets resolved_at on the move to Closed, and clears it and counts a reopen on the move out", () => {
  const at = "2026-12-01T09:00:00.000Z";
  assert.deepEqual(statusTimes(ticket, "Closed", at), {
    resolved_at: at,
    reopened_count: 0,
  });
  const closed = {
    status: "Closed" as const,
    resolved_at: at,
    reopened_count: 2,
  };
  assert.deepEqual(statusTimes(closed, "Open", "2026-12-02T00:00:00.000Z"), {
    resolved_at: null,
    reopened_count: 3,
  });
  assert.deepEqual(statusTimes(closed, "Closed", "2026-12-02T00:00:00.000Z"), {
    resolved_at: at,
    reopened_count: 2,
  });
  assert.deepEqual(statusTimes(ticket, "Pending", at), {
    resolved_at: null,
    reopened_count: 0,
  });
});

Deno.test("Only a public reply by an agent is a first response; a requester's reply reopens only a Closed ticket", () => {
  assert.equal(
    isAgentReply({ visibility: "public", from_requester: false }),
    true,
  );
  assert.equal(
    isAgentReply({ visibility: "internal", from_requester: false }),
    false,
  );
  assert.equal(
    isAgentReply({ visibility: "public", from_requester: true }),
    false,
  );
  assert.deepEqual(reopenPatch({ status: "Closed" }), { status: "Open" });
  assert.equal(reopenPatch({ status: "Pending" }), null);
});

Deno.test("A comment's event says its visibility, and a requester's reply is recorded as requester:<user_id>", () => {
  const base = {
    id: 4,
    ticket_id: 7,
    author: "maria",
    body: "hi",
    visibility: "internal" as const,
    from_requester: false,
    created_at: "2026-12-01T09:00:00.000Z",
  };
  const note = commentEvent(base);
  assert.equal(note.actor, "maria");
  assert.deepEqual(note.data, { comment_id: 4, visibility: "internal" });
  assert.equal(webhookType(note), "comment.internal");
  const reply = commentEvent({
    ...base,
    visibility: "public",
    from_requester: true,
  });
  assert.equal(reply.actor, "requester:maria");
  assert.deepEqual(reply.data, {
    comment_id: 4,
    visibility: "public",
    from_requester: true,
  });
  assert.equal(webhookType(reply), "comment.public");
  assert.equal(webhookType({ type: "requester.revoked", data: {} }), null);
});

Deno.test("A webhook body is type, timestamp and data with the ticket as the API shows it", () => {
  const body = JSON.parse(
    webhookBody("ticket.updated", { created_at: ticket.updated_at }, ticket),
  );
  assert.deepEqual(Object.keys(body), ["type", "timestamp", "data"]);
  assert.equal(body.type, "ticket.updated");
  assert.equal(body.timestamp, ticket.updated_at);
  assert.equal(body.data.ticket.id, 7);
  assert.equal(body.data.ticket.comments, undefined);
  assert.equal(body.data.ticket.token_version, undefined);
  assert.equal(body.data.comment, undefined);
  assert.match(newMessageId(), /^msg_[\w-]{22}$/);
  assert.notEqual(newMessageId(), newMessageId());
});
