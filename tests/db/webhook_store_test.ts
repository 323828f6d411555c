/** Webhook endpoints and the transactional outbox, on both backends. */
import assert from "node:assert/strict";
import {
  ATTEMPTS_KEPT,
  type DueDelivery,
  StaleVersionError,
  WebhookNotFoundError,
} from "../../db/store.ts";
import {
  type AnyStore,
  createTestSchema,
  dropTestSchema,
  openTestPostgres,
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

const LEASE = { limit: 50, leaseMs: 60_000 };

async function newTicket(store: AnyStore) {
  return (await store.createTicket(input(), { actor: "api:app" })).ticket;
}

/** Claims, and marks delivered, everything due now; returns what was claimed. */
async function drain(store: AnyStore): Promise<DueDelivery[]> {
  const all: DueDelivery[] = [];
  while (true) {
    const due = await store.claimDeliveries(LEASE);
    if (due.length === 0) return all;
    for (const d of due) {
      await store.finishDelivery(d.id, {
        status_code: 204,
        duration_ms: 3,
        error: null,
        outcome: "delivered",
      });
    }
    all.push(...due);
  }
}

testEachBackend(
  "An endpoint is stored with its events in order and listed without its secret",
  async (backend) => {
    await withStore(backend, async (store) => {
      const w = await store.createWebhook({
        url: "https://hooks.example.com/desk",
        events: ["comment.public", "ticket.created"],
        secret: "whsec_c2VjcmV0",
      });
      assert.deepEqual(w.events, ["ticket.created", "comment.public"]);
      assert.equal(w.disabled_at, null);
      assert.equal(w.pending, 0);
      const list = await store.listWebhooks();
      assert.deepEqual(list, [w]);
      assert.ok(!JSON.stringify(list).includes("whsec_"));
      assert.deepEqual(await store.getWebhook(w.id), w);
      assert.equal(await store.getWebhook(w.id + 1), null);
      await store.removeWebhook(w.id);
      assert.deepEqual(await store.listWebhooks(), []);
      await assert.rejects(
        () => store.removeWebhook(w.id),
        WebhookNotFoundError,
      );
    });
  },
);

testEachBackend(
  "Each change queues one delivery per enabled endpoint that wants its type, with the body the webhook sends",
  async (backend) => {
    await withStore(backend, async (store) => {
      const all = await store.createWebhook({
        url: "https://a.example.com/",
        events: [
          "ticket.created",
          "ticket.updated",
          "comment.public",
          "comment.internal",
        ],
        secret: "whsec_YQ==",
      });
      const publicOnly = await store.createWebhook({
        url: "https://b.example.com/",
        events: ["comment.public"],
        secret: "whsec_Yg==",
      });
      const t = await newTicket(store);
      await store.updateTicket(t.id, { status: "Pending" }, { actor: "alice" });
      await store.addComment(t.id, "SECRET-NOTE", { actor: "alice" });
      const reply = await store.addComment(t.id, "Hello", {
        actor: "alice",
        visibility: "public",
      });
      assert.equal((await store.getWebhook(all.id))!.pending, 4);
      assert.equal((await store.getWebhook(publicOnly.id))!.pending, 1);
      const sent = await drain(store);
      const byEndpoint = (id: number) =>
        sent.filter((d) => d.endpoint_id === id).map((d) => d.type);
      assert.deepEqual(byEndpoint(all.id), [
        "ticket.created",
        "ticket.updated",
        "comment.internal",
        "comment.public",
      ]);
      assert.deepEqual(byEndpoint(publicOnly.id), ["comment.public"]);
      const body = JSON.parse(
        sent.find((d) => d.endpoint_id === publicOnly.id)!.payload,
      );
      assert.equal(body.type, "comment.public");
      assert.equal(body.timestamp, reply.value.created_at);
      assert.equal(body.data.ticket.id, t.id);
      assert.equal(body.data.ticket.status, "Pending");
      assert.deepEqual(body.data.comment, {
        id: reply.value.id,
        author: "alice",
        body: "Hello",
        visibility: "public",
        from_requester: false,
        created_at: reply.value.created_at,
      });
      // One event, one webhook-id, whichever endpoint gets it.
      const reply2 = sent.filter((d) => d.type === "comment.public");
      assert.equal(reply2[0]!.msg_id, reply2[1]!.msg_id);
      assert.equal(new Set(sent.map((d) => d.msg_id)).size, 4);
      assert.deepEqual(sent[0]!.secrets, ["whsec_YQ=="]);
      assert.equal(sent[0]!.url, "https://a.example.com/");
      assert.equal(sent[0]!.attempt, 1);
    });
  },
);

testEachBackend(
  "A refused write queues no delivery",
  async (backend) => {
    await withStore(backend, async (store) => {
      await store.createWebhook({
        url: "https://a.example.com/",
        events: ["ticket.updated"],
        secret: "whsec_YQ==",
      });
      const t = await newTicket(store);
      await assert.rejects(
        () =>
          store.updateTicket(t.id, { status: "Closed" }, {
            actor: "alice",
            expectedVersion: 7,
          }),
        StaleVersionError,
      );
      assert.deepEqual(await store.claimDeliveries(LEASE), []);
    });
  },
);

testEachBackend(
  "Deliveries go in order per ticket: a later one waits while an earlier one of the same ticket is pending",
  async (backend) => {
    await withStore(backend, async (store) => {
      const w = await store.createWebhook({
        url: "https://a.example.com/",
        events: ["ticket.created", "ticket.updated"],
        secret: "whsec_YQ==",
      });
      const a = await newTicket(store);
      const b = await newTicket(store);
      await store.updateTicket(a.id, { status: "Closed" }, { actor: "x" });
      const first = await store.claimDeliveries(LEASE);
      assert.deepEqual(
        first.map((d) => [d.ticket_id, d.type]),
        [[a.id, "ticket.created"], [b.id, "ticket.created"]],
      );
      // Claimed (leased) deliveries are not handed out twice.
      assert.deepEqual(await store.claimDeliveries(LEASE), []);
      // The first of ticket a fails for now: a's update still waits behind it.
      const later = new Date(Date.now() + 60_000).toISOString();
      await store.finishDelivery(first[0]!.id, {
        status_code: 503,
        duration_ms: 12,
        error: "HTTP 503",
        outcome: "retry",
        next_attempt_at: later,
      });
      await store.finishDelivery(first[1]!.id, {
        status_code: 200,
        duration_ms: 5,
        error: null,
        outcome: "delivered",
      });
      assert.deepEqual(await store.claimDeliveries(LEASE), []);
      // Sent again (resend, or its time comes): then the update follows it.
      await store.resendDelivery(w.id, first[0]!.id);
      const again = await store.claimDeliveries(LEASE);
      assert.deepEqual(again.map((d) => [d.id, d.attempt]), [
        [first[0]!.id, 1],
      ]);
      await store.finishDelivery(again[0]!.id, {
        status_code: 400,
        duration_ms: 5,
        error: "HTTP 400",
        outcome: "failed",
      });
      const next = await store.claimDeliveries(LEASE);
      assert.deepEqual(next.map((d) => [d.ticket_id, d.type]), [
        [a.id, "ticket.updated"],
      ]);
      await assert.rejects(
        () => store.resendDelivery(w.id, 9999),
        WebhookNotFoundError,
      );
    });
  },
);

testEachBackend(
  "A claim's lease runs out when its sender never reports back, and a first try waits firstWaitMs",
  async (backend) => {
    await withStore(backend, async (store) => {
      await store.createWebhook({
        url: "https://a.example.com/",
        events: ["ticket.created"],
        secret: "whsec_YQ==",
      });
      await newTicket(store);
      assert.deepEqual(
        await store.claimDeliveries({ ...LEASE, firstWaitMs: 60_000 }),
        [],
      );
      // A lease that is already over: as if its sender had died mid-attempt.
      const [d] = await store.claimDeliveries({ limit: 5, leaseMs: 0 });
      assert.ok(d);
      const again = await store.claimDeliveries(LEASE);
      assert.deepEqual(again.map((x) => [x.id, x.attempt]), [[d.id, 2]]);
      // releaseDeliveries frees claims (SQLite) or leaves them to expire (PostgreSQL).
      await store.releaseDeliveries();
    });
  },
);

testEachBackend(
  "A disabled endpoint keeps its pending deliveries, gets no new ones, and sends them in order once enabled",
  async (backend) => {
    await withStore(backend, async (store) => {
      const w = await store.createWebhook({
        url: "https://a.example.com/",
        events: ["ticket.created", "ticket.updated"],
        secret: "whsec_YQ==",
      });
      const t = await newTicket(store);
      await store.updateTicket(t.id, { status: "Pending" }, { actor: "x" });
      const [d] = await store.claimDeliveries(LEASE);
      await store.finishDelivery(d!.id, {
        status_code: null,
        duration_ms: 10_000,
        error: "timed out after 10 s",
        outcome: "failed",
        disable_reason:
          "8 attempts over 28 hours failed; the last: timed out after 10 s",
      });
      const disabled = (await store.getWebhook(w.id))!;
      assert.ok(disabled.disabled_at);
      assert.match(disabled.disabled_reason!, /^8 attempts/);
      assert.equal(disabled.pending, 1);
      await store.updateTicket(t.id, { status: "Closed" }, { actor: "x" });
      assert.deepEqual(await store.claimDeliveries(LEASE), []);
      assert.equal((await store.getWebhook(w.id))!.pending, 1);
      const enabled = await store.enableWebhook(w.id);
      assert.equal(enabled.disabled_at, null);
      assert.equal(enabled.disabled_reason, null);
      const sent = await drain(store);
      assert.equal(sent.length, 1);
      assert.equal(JSON.parse(sent[0]!.payload).data.ticket.status, "Pending");
      await assert.rejects(
        () => store.enableWebhook(999),
        WebhookNotFoundError,
      );
    });
  },
);

testEachBackend(
  "After a rotation both secrets sign until the old one's time is up",
  async (backend) => {
    await withStore(backend, async (store) => {
      const w = await store.createWebhook({
        url: "https://a.example.com/",
        events: ["ticket.created"],
        secret: "whsec_b2xk",
      });
      await store.rotateWebhookSecret(
        w.id,
        "whsec_bmV3",
        new Date(Date.now() + 60_000).toISOString(),
      );
      await newTicket(store);
      const [d] = await drain(store);
      assert.deepEqual(d!.secrets, ["whsec_bmV3", "whsec_b2xk"]);
      await store.rotateWebhookSecret(
        w.id,
        "whsec_bmV3ZXI=",
        new Date(Date.now() - 1).toISOString(),
      );
      await newTicket(store);
      const [e] = await drain(store);
      assert.deepEqual(e!.secrets, ["whsec_bmV3ZXI="]);
      await assert.rejects(
        () =>
          store.rotateWebhookSecret(999, "whsec_eA==", "2030-01-01T00:00:00Z"),
        WebhookNotFoundError,
      );
    });
  },
);

testEachBackend(
  "The attempt log is newest first and keeps the last 1,000 attempts per endpoint",
  async (backend) => {
    await withStore(backend, async (store) => {
      const w = await store.createWebhook({
        url: "https://a.example.com/",
        events: ["ticket.created"],
        secret: "whsec_YQ==",
      });
      await newTicket(store);
      const [d] = await store.claimDeliveries(LEASE);
      const soon = new Date(Date.now() - 1000).toISOString();
      for (let i = 0; i < ATTEMPTS_KEPT + 2; i++) {
        await store.finishDelivery(d!.id, {
          status_code: 500,
          duration_ms: i,
          error: `HTTP 500 #${i}`,
          outcome: "retry",
          next_attempt_at: soon,
        });
      }
      const log = await store.webhookAttempts(w.id, 2000);
      assert.equal(log.length, ATTEMPTS_KEPT);
      assert.equal(log[0]!.error, `HTTP 500 #${ATTEMPTS_KEPT + 1}`);
      assert.equal(log.at(-1)!.error, "HTTP 500 #2");
      assert.deepEqual(
        { ...log[0], id: 0, attempted_at: "" },
        {
          id: 0,
          delivery_id: d!.id,
          msg_id: d!.msg_id,
          type: "ticket.created",
          ticket_id: d!.ticket_id,
          attempted_at: "",
          status_code: 500,
          duration_ms: ATTEMPTS_KEPT + 1,
          error: `HTTP 500 #${ATTEMPTS_KEPT + 1}`,
          outcome: "retry",
        },
      );
      // The delivery is still pending, so it was kept.
      assert.equal((await store.getWebhook(w.id))!.pending, 1);
    });
  },
);

testPostgres(
  "Two instances claiming at once never get the same delivery (FOR UPDATE SKIP LOCKED)",
  async () => {
    const schema = await createTestSchema();
    const a = await openTestPostgres(schema);
    const b = await openTestPostgres(schema);
    try {
      await a.createWebhook({
        url: "https://a.example.com/",
        events: ["ticket.created"],
        secret: "whsec_YQ==",
      });
      for (let i = 0; i < 40; i++) {
        await a.createTicket(input(`u${i}`), { actor: "x" });
      }
      const claims = await Promise.all(
        Array.from(
          { length: 8 },
          (_, i) =>
            (i % 2 ? a : b).claimDeliveries({ limit: 7, leaseMs: 60_000 }),
        ),
      );
      const ids = claims.flat().map((d) => d.id);
      assert.equal(new Set(ids).size, ids.length, "no delivery twice");
      assert.equal(ids.length, 40);
    } finally {
      await a.close();
      await b.close();
      await dropTestSchema(schema);
    }
  },
);
