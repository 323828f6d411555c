/**
 * Webhook faults, against the real server and a receiver on loopback
 * (WEBHOOK_ALLOW_PRIVATE=1, a shortened WEBHOOK_RETRY_SCHEDULE):
 *
 * - crash: changes are made while the receiver refuses (503), so deliveries
 *   wait in the outbox; the server is killed with -9 mid-load and restarted,
 *   the receiver recovers. Every committed change must arrive at least once,
 *   and nothing else: every message received is one the outbox holds, for a
 *   change that was committed.
 * - outage: the receiver is down (connection refused) for a while as changes
 *   are made, then comes back. Everything must arrive, in order per ticket,
 *   with valid signatures, and the endpoint must stay enabled.
 */
import { join } from "node:path";
import { openSqliteStore } from "../../db/sqlite/sqlite_store.ts";
import { newWebhookSecret } from "../../lib/webhooks/signature.ts";
import { verifyWebhook } from "../../docs/verify_webhook.ts";
import { withDb } from "./db_check.ts";
import { send, sleep } from "./http.ts";
import { Findings, type ScenarioResult } from "./result.ts";
import type { Rng } from "./rng.ts";
import { freePort, type ServerProcess, startServer } from "./server.ts";

export interface WebhookOptions {
  dir: string;
  rng: Rng;
  /** Tickets to make (each created, changed and commented on). */
  changes: number;
  /** How long the receiver stays down (outage). */
  downMs?: number;
}

/** One message as the receiver got it. */
interface Receipt {
  msgId: string;
  type: string;
  ticket: number;
  /** The receiver's answer: only a 2xx counts as delivered. */
  answered: number;
  valid: boolean;
}

/** A webhook receiver on 127.0.0.1:`port` that can be down, refusing (503) or accepting. */
class Receiver {
  readonly got: Receipt[] = [];
  mode: "refuse" | "accept" = "accept";
  #server: Deno.HttpServer | null = null;

  constructor(readonly port: number, readonly secret: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/desk`;
  }

  /** Starts listening (the port was free or reserved for it). */
  up() {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: this.port, onListen: () => {} },
      async (req) => {
        const body = await req.text();
        const answered = this.mode === "accept" ? 204 : 503;
        let valid = true;
        let parsed: { type?: string; data?: { ticket?: { id?: number } } } = {};
        try {
          parsed = await verifyWebhook(this.secret, req.headers, body);
        } catch {
          valid = false;
          parsed = JSON.parse(body);
        }
        this.got.push({
          msgId: req.headers.get("webhook-id") ?? "",
          type: String(parsed.type),
          ticket: Number(parsed.data?.ticket?.id),
          answered,
          valid,
        });
        return new Response(null, { status: answered });
      },
    );
  }

  /** Stops listening: connections are refused from now on. */
  async down() {
    await this.#server?.shutdown();
    this.#server = null;
  }
}

const ALL_TYPES = [
  "ticket.created",
  "ticket.updated",
  "comment.public",
  "comment.internal",
] as const;

/** A database with one endpoint for every type, at the receiver, before the server starts. */
async function prepare(dbPath: string, url: string, secret: string) {
  const store = await openSqliteStore({ path: dbPath, writer: "inline" });
  try {
    await store.createWebhook({ url, events: ALL_TYPES, secret });
  } finally {
    await store.close();
  }
}

/** A ticket's life through the API: created, set Pending, commented on (public or not). */
async function ticketLife(
  server: ServerProcess,
  rng: Rng,
  i: number,
): Promise<number | null> {
  const created = await send(server, "/api/v1/tickets", {
    body: {
      user_id: `hook-${i}`,
      pdf_link: `https://example.com/hook-${i}.pdf`,
    },
  });
  if (created.status !== 201) return null;
  const id = Number(JSON.parse(created.text).id);
  await send(server, `/api/v1/tickets/${id}`, {
    method: "PATCH",
    body: { status: "Pending" },
  });
  await send(server, `/api/v1/tickets/${id}/comments`, {
    body: {
      body: `note ${i}`,
      visibility: rng.chance(0.5) ? "public" : "internal",
    },
  });
  return id;
}

/** Waits until the outbox holds nothing pending; false after `ms`. */
async function drained(dbPath: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const pending = withDb(dbPath, true, (db) =>
      Number(
        db.prepare(
          "SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'",
        ).get()!.n,
      ));
    if (pending === 0) return true;
    await sleep(50);
  }
  return false;
}

/** The outbox as committed: each delivery's message id, event and ticket, in event order. */
function outbox(dbPath: string) {
  return withDb(dbPath, true, (db) => ({
    deliveries: db.prepare(
      `SELECT msg_id, event_id, ticket_id, type, status FROM webhook_deliveries
       ORDER BY event_id`,
    ).all().map((r) => ({
      msgId: String(r.msg_id),
      event: Number(r.event_id),
      ticket: Number(r.ticket_id),
      type: String(r.type),
      status: String(r.status),
    })),
    // Changes committed without a delivery would be lost webhooks.
    unqueued: db.prepare(
      `SELECT e.id FROM events e
       WHERE e.type IN ('ticket.created', 'ticket.updated', 'comment.added')
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)`,
    ).all().map((r) => Number(r.id)),
    disabled: db.prepare(
      "SELECT disabled_reason FROM webhook_endpoints WHERE disabled_at IS NOT NULL",
    ).all().map((r) => String(r.disabled_reason)),
  }));
}

/** The checks both faults share; returns how many messages arrived. */
function checkDelivered(
  f: Findings,
  dbPath: string,
  receiver: Receiver,
): number {
  const box = outbox(dbPath);
  f.check(
    box.unqueued.length === 0,
    `committed events with no delivery: ${box.unqueued.slice(0, 10)}`,
  );
  for (const reason of box.disabled) f.fail(`endpoint disabled: ${reason}`);
  const queued = new Set(box.deliveries.map((d) => d.msgId));
  const delivered = new Set(
    receiver.got.filter((g) => g.answered < 300).map((g) => g.msgId),
  );
  for (const d of box.deliveries) {
    f.check(
      d.status === "delivered",
      `delivery of event ${d.event}: ${d.status}`,
    );
    f.check(
      delivered.has(d.msgId),
      `event ${d.event} (${d.type} of #${d.ticket}) never arrived`,
    );
  }
  for (const g of receiver.got) {
    f.check(
      queued.has(g.msgId),
      `received ${g.msgId} (${g.type} of #${g.ticket}), which no committed change sent`,
    );
    f.check(g.valid, `${g.msgId}: invalid signature`);
  }
  // In order per ticket: the first accepted arrival of each message follows the events.
  const eventOf = new Map(box.deliveries.map((d) => [d.msgId, d.event]));
  const lastByTicket = new Map<number, number>();
  const seen = new Set<string>();
  for (const g of receiver.got) {
    if (g.answered >= 300 || seen.has(g.msgId)) continue;
    seen.add(g.msgId);
    const event = eventOf.get(g.msgId) ?? 0;
    const before = lastByTicket.get(g.ticket) ?? 0;
    f.check(
      event > before,
      `ticket #${g.ticket}: event ${event} arrived after event ${before}`,
    );
    lastByTicket.set(g.ticket, Math.max(before, event));
  }
  return box.deliveries.length;
}

/** kill -9 while deliveries wait in the outbox; restart; all committed changes arrive, nothing else. */
export async function webhookCrashScenario(
  opts: WebhookOptions,
): Promise<ScenarioResult> {
  const name = "webhooks: kill -9 with deliveries pending";
  const f = new Findings();
  const dbPath = join(opts.dir, "hooks-crash", "h.db");
  await Deno.mkdir(join(opts.dir, "hooks-crash"), { recursive: true });
  const receiver = new Receiver(freePort(), newWebhookSecret());
  await prepare(dbPath, receiver.url, receiver.secret);
  receiver.mode = "refuse";
  receiver.up();
  const env = {
    WEBHOOK_ALLOW_PRIVATE: "1",
    WEBHOOK_RETRY_SCHEDULE: "0,0.2,0.3,0.5,0.5,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
  };
  let server = await startServer({ dbPath, env });
  const acked: number[] = [];
  try {
    let stop = false;
    let next = 0;
    const worker = async () => {
      while (!stop && next < opts.changes) {
        try {
          const id = await ticketLife(server, opts.rng, next++);
          if (id !== null) acked.push(id);
        } catch { /* the server was killed under it */ }
      }
    };
    const load = Promise.all(Array.from({ length: 4 }, worker));
    // Kill once some changes (and their refused deliveries) are in.
    while (
      acked.length < Math.max(2, opts.changes / 3) && next < opts.changes
    ) {
      await sleep(10);
    }
    await sleep(opts.rng.int(0, 100));
    await server.kill("SIGKILL");
    stop = true;
    await load;
    const apiKey = server.apiKey;
    receiver.mode = "accept";
    server = await startServer({ dbPath, env, apiKey });
    if (!await drained(dbPath, 60_000)) {
      f.fail("the outbox did not drain in 60 s");
    }
    const n = checkDelivered(f, dbPath, receiver);
    const created = new Set(
      receiver.got.filter((g) =>
        g.type === "ticket.created" && g.answered < 300
      )
        .map((g) => g.ticket),
    );
    for (const id of acked) {
      f.check(
        created.has(id),
        `acknowledged ticket #${id}: no ticket.created arrived`,
      );
    }
    const refused = receiver.got.filter((g) => g.answered >= 300).length;
    return f.result(
      name,
      1,
      `${n} committed changes (${acked.length} tickets acknowledged before the kill) all arrived, ` +
        `${
          receiver.got.length - refused
        } accepted arrivals, ${refused} refused attempts; nothing else`,
    );
  } finally {
    await server.kill();
    await receiver.down();
  }
}

/** The receiver down for a while, then up: everything arrives, in order per ticket, signed. */
export async function webhookOutageScenario(
  opts: WebhookOptions,
): Promise<ScenarioResult> {
  const downMs = opts.downMs ?? 60_000;
  const name = `webhooks: receiver down ${Math.round(downMs / 1000)} s`;
  const f = new Findings();
  const dir = join(opts.dir, "hooks-outage");
  await Deno.mkdir(dir, { recursive: true });
  const dbPath = join(dir, "h.db");
  const receiver = new Receiver(freePort(), newWebhookSecret());
  await prepare(dbPath, receiver.url, receiver.secret);
  // Twenty attempts spanning half as long again as the outage.
  const wait = Math.max(0.5, (1.5 * downMs) / 1000 / 19);
  const env = {
    WEBHOOK_ALLOW_PRIVATE: "1",
    WEBHOOK_RETRY_SCHEDULE: ["0", ...Array(19).fill(wait.toFixed(1))].join(","),
  };
  const server = await startServer({ dbPath, env });
  try {
    const t0 = Date.now();
    for (let i = 0; i < opts.changes; i++) {
      await ticketLife(server, opts.rng, i);
    }
    await sleep(Math.max(0, downMs - (Date.now() - t0)));
    const attemptsWhileDown = withDb(
      dbPath,
      true,
      (db) =>
        Number(
          db.prepare("SELECT count(*) AS n FROM webhook_attempts").get()!.n,
        ),
    );
    receiver.up();
    if (!await drained(dbPath, 60_000 + downMs)) {
      f.fail("the outbox did not drain after the receiver came back");
    }
    const n = checkDelivered(f, dbPath, receiver);
    return f.result(
      name,
      1,
      `${n} changes all arrived in order per ticket with valid signatures after ` +
        `${attemptsWhileDown} refused connections; endpoint still enabled`,
    );
  } finally {
    await server.kill();
    await receiver.down();
  }
}
