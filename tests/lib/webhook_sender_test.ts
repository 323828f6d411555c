/** The webhook sender against a real receiver on loopback, on both backends. */
import assert from "node:assert/strict";
import { createMemoryBus } from "../../db/bus.ts";
import { createLogger } from "../../log.ts";
import { startWebhookSender } from "../../lib/webhooks/sender.ts";
import { newWebhookSecret } from "../../lib/webhooks/signature.ts";
import { verifyWebhook } from "../../docs/verify_webhook.ts";
import type { DeliveryAttempt } from "../../db/store.ts";
import {
  type AnyStore,
  type Backend,
  testEachBackend,
} from "../db/backends.ts";

interface Received {
  path: string;
  headers: Headers;
  body: string;
}

/** A receiver on 127.0.0.1 that answers with `respond` and records every request. */
function receiver(
  respond: (r: Received, n: number) => Response | Promise<Response>,
) {
  const got: Received[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const r = {
        path: new URL(req.url).pathname,
        headers: req.headers,
        body: await req.text(),
      };
      got.push(r);
      return await respond(r, got.length);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    got,
    stop: () => server.shutdown(),
  };
}

/** Waits until `ready` holds (a state, checked every 10 ms), failing after `ms`. */
async function until(
  what: string,
  ready: () => boolean | Promise<boolean>,
  ms = 10_000,
) {
  const deadline = Date.now() + ms;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const input = (user_id: string) => ({
  user_id,
  pdf_link: "https://example.com/a.pdf",
  product_id: null,
  other_ids: null,
});

/** A store with a bus, a sender over it, and one endpoint at `url`; all stopped after. */
async function withSender(
  backend: Backend,
  opts: {
    url: string;
    schedule?: number[];
    allowPrivate?: boolean;
    timeoutMs?: number;
    events?: (
      | "ticket.created"
      | "ticket.updated"
      | "comment.public"
      | "comment.internal"
    )[];
  },
  fn: (
    s: { store: AnyStore; secret: string; endpoint: number },
  ) => Promise<void>,
) {
  const bus = createMemoryBus();
  const store = await backend.open(null, bus);
  const stop = new AbortController();
  const secret = newWebhookSecret();
  try {
    const w = await store.createWebhook({
      url: opts.url,
      events: opts.events ??
        [
          "ticket.created",
          "ticket.updated",
          "comment.public",
          "comment.internal",
        ],
      secret,
    });
    const sender = startWebhookSender({
      store,
      bus,
      logger: createLogger("silent"),
      signal: stop.signal,
      schedule: opts.schedule ?? [0, 0.05, 0.05],
      allowPrivate: opts.allowPrivate ?? true,
      pollMs: 20,
      timeoutMs: opts.timeoutMs,
    });
    try {
      await fn({ store, secret, endpoint: w.id });
    } finally {
      stop.abort();
      await sender.stopped;
    }
  } finally {
    await store.close();
  }
}

const attempts = (store: AnyStore, id: number) =>
  store.webhookAttempts(id, 100).then((a) => a.reverse());
const outcomes = (log: DeliveryAttempt[]) =>
  log.map((a) => [a.type, a.status_code, a.outcome]);

testEachBackend(
  "The sender delivers every change once, signed per Standard Webhooks, in order per ticket",
  async (backend) => {
    const r = receiver(() => new Response(null, { status: 204 }));
    try {
      await withSender(
        backend,
        { url: r.url },
        async ({ store, secret, endpoint }) => {
          const a =
            (await store.createTicket(input("ann"), { actor: "app" })).ticket;
          const b =
            (await store.createTicket(input("bob"), { actor: "app" })).ticket;
          await store.addComment(a.id, "SECRET-NOTE", { actor: "alice" });
          await store.updateTicket(b.id, { status: "Pending" }, {
            actor: "alice",
          });
          await store.addComment(a.id, "Hello", {
            actor: "alice",
            visibility: "public",
          });
          await store.updateTicket(a.id, { status: "Closed" }, {
            actor: "alice",
          });
          await until("six deliveries", () => r.got.length >= 6);
          const bodies: Awaited<ReturnType<typeof verifyWebhook>>[] = [];
          for (const got of r.got) {
            assert.equal(got.headers.get("content-type"), "application/json");
            assert.match(got.headers.get("webhook-id")!, /^msg_[\w-]{22}$/);
            assert.match(got.headers.get("webhook-timestamp")!, /^\d{10}$/);
            bodies.push(await verifyWebhook(secret, got.headers, got.body));
          }
          const of = (id: number) =>
            bodies.filter((x) => (x.data.ticket as { id: number }).id === id)
              .map((x) => x.type);
          assert.deepEqual(of(a.id), [
            "ticket.created",
            "comment.internal",
            "comment.public",
            "ticket.updated",
          ]);
          assert.deepEqual(of(b.id), ["ticket.created", "ticket.updated"]);
          assert.equal(
            new Set(r.got.map((g) => g.headers.get("webhook-id"))).size,
            6,
          );
          await until(
            "all recorded",
            async () => (await attempts(store, endpoint)).length === 6,
          );
          const log = await attempts(store, endpoint);
          assert.ok(
            log.every((x) =>
              x.outcome === "delivered" && x.status_code === 204
            ),
          );
          assert.equal((await store.getWebhook(endpoint))!.pending, 0);
        },
      );
    } finally {
      await r.stop();
    }
  },
);

testEachBackend(
  "A 503 is retried with the same webhook-id, and the ticket's next delivery waits for it",
  async (backend) => {
    const r = receiver((_, n) =>
      new Response(null, { status: n === 1 ? 503 : 200 })
    );
    try {
      await withSender(backend, { url: r.url }, async ({ store, endpoint }) => {
        const t =
          (await store.createTicket(input("ann"), { actor: "app" })).ticket;
        await store.updateTicket(t.id, { status: "Closed" }, {
          actor: "alice",
        });
        await until("three requests", () => r.got.length >= 3);
        const types = r.got.map((g) => JSON.parse(g.body).type);
        assert.deepEqual(types, [
          "ticket.created",
          "ticket.created",
          "ticket.updated",
        ]);
        assert.equal(
          r.got[0]!.headers.get("webhook-id"),
          r.got[1]!.headers.get("webhook-id"),
        );
        await until(
          "three attempts",
          async () => (await attempts(store, endpoint)).length === 3,
        );
        assert.deepEqual(outcomes(await attempts(store, endpoint)), [
          ["ticket.created", 503, "retry"],
          ["ticket.created", 200, "delivered"],
          ["ticket.updated", 200, "delivered"],
        ]);
        assert.equal((await attempts(store, endpoint))[0]!.error, "HTTP 503");
      });
    } finally {
      await r.stop();
    }
  },
);

testEachBackend(
  "A 400 fails that delivery alone; a 410 disables the endpoint; so does failing every scheduled attempt",
  async (backend) => {
    const statuses = [400, 200, 410];
    const r = receiver((_, n) =>
      new Response(null, { status: statuses[n - 1] ?? 500 })
    );
    try {
      await withSender(backend, { url: r.url }, async ({ store, endpoint }) => {
        const t =
          (await store.createTicket(input("ann"), { actor: "app" })).ticket;
        await store.updateTicket(t.id, { status: "Pending" }, { actor: "x" });
        await store.updateTicket(t.id, { status: "Closed" }, { actor: "x" });
        await until(
          "the endpoint disabled",
          async () => (await store.getWebhook(endpoint))!.disabled_at !== null,
        );
        assert.deepEqual(outcomes(await attempts(store, endpoint)), [
          ["ticket.created", 400, "failed"],
          ["ticket.updated", 200, "delivered"],
          ["ticket.updated", 410, "failed"],
        ]);
        assert.match(
          (await store.getWebhook(endpoint))!.disabled_reason!,
          /410 Gone/,
        );
        // Re-enabled, with a receiver that now always fails.
        await store.enableWebhook(endpoint);
        await store.updateTicket(t.id, { status: "Open" }, { actor: "x" });
        await until(
          "disabled again",
          async () => (await store.getWebhook(endpoint))!.disabled_at !== null,
        );
        const log = await attempts(store, endpoint);
        assert.deepEqual(outcomes(log.slice(3)), [
          ["ticket.updated", 500, "retry"],
          ["ticket.updated", 500, "retry"],
          ["ticket.updated", 500, "failed"],
        ]);
        assert.equal(
          (await store.getWebhook(endpoint))!.disabled_reason,
          "Every attempt failed: 3 over 0 s; the last one: HTTP 500.",
        );
      });
    } finally {
      await r.stop();
    }
  },
);

testEachBackend(
  "Redirects are not followed and timeouts are cut at the limit: both are retried",
  async (backend) => {
    const hang = Promise.withResolvers<void>();
    const r = receiver(async (req, n) => {
      if (req.path !== "/hook") {
        return new Response("moved here", { status: 200 });
      }
      if (n === 1) {
        return new Response(null, {
          status: 302,
          headers: { Location: "/elsewhere" },
        });
      }
      if (n === 2) await hang.promise; // never answers in time
      return new Response(null, { status: 200 });
    });
    try {
      await withSender(
        backend,
        { url: r.url, timeoutMs: 300, events: ["ticket.created"] },
        async ({ store, endpoint }) => {
          await store.createTicket(input("ann"), { actor: "app" });
          await until(
            "delivered",
            async () =>
              (await attempts(store, endpoint)).some((a) =>
                a.outcome === "delivered"
              ),
          );
          hang.resolve();
          const log = await attempts(store, endpoint);
          assert.deepEqual(outcomes(log), [
            ["ticket.created", 302, "retry"],
            ["ticket.created", null, "retry"],
            ["ticket.created", 200, "delivered"],
          ]);
          assert.equal(
            log[0]!.error,
            "HTTP 302 redirect to /elsewhere: not followed; update the endpoint's URL",
          );
          assert.equal(log[1]!.error, "timed out after 0.3 s");
          assert.ok(!r.got.some((g) => g.path === "/elsewhere"));
        },
      );
    } finally {
      hang.resolve();
      await r.stop();
    }
  },
);

testEachBackend(
  "Without WEBHOOK_ALLOW_PRIVATE nothing is sent to a loopback receiver: each attempt is refused, then the endpoint is disabled",
  async (backend) => {
    const r = receiver(() => new Response(null, { status: 200 }));
    try {
      await withSender(
        backend,
        { url: r.url, allowPrivate: false, schedule: [0, 0.01] },
        async ({ store, endpoint }) => {
          await store.createTicket(input("ann"), { actor: "app" });
          await until(
            "disabled",
            async () =>
              (await store.getWebhook(endpoint))!.disabled_at !== null,
          );
          const log = await attempts(store, endpoint);
          assert.equal(log.length, 2);
          assert.equal(
            log[0]!.error,
            "refused: 127.0.0.1 is not a public address (WEBHOOK_ALLOW_PRIVATE=1 allows it)",
          );
          assert.equal(r.got.length, 0);
        },
      );
    } finally {
      await r.stop();
    }
  },
);
