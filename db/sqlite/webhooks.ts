/**
 * SQL for webhooks on SQLite: the outbox rows each event queues (run by the
 * writer inside the event's transaction), endpoint and delivery writes for the
 * writer, and reads for the main thread.
 */
import type { Statements } from "./connection.ts";
import {
  type AttemptRecord,
  ATTEMPTS_KEPT,
  type DeliveryAttempt,
  type DueDelivery,
  type NewWebhook,
  type TicketEvent,
  type WebhookEndpoint,
  WebhookNotFoundError,
} from "../store.ts";
import {
  rowToAttempt,
  rowToDue,
  rowToWebhook,
  webhookEventsColumn,
} from "../rows.ts";
import { newMessageId, webhookBody, webhookType } from "../rules.ts";

type Endpoint = { id: number; events: string[] };

/**
 * The enabled endpoints, read once per batch: every change to them goes
 * through the same writer, which forgets them at each batch and change.
 */
const enabled = new WeakMap<Statements, Endpoint[]>();

/** Forgets the endpoints read for the batch (a new batch, or an endpoint changed). */
export function forgetEndpoints(stmts: Statements): void {
  enabled.delete(stmts);
}

function enabledEndpoints(stmts: Statements): Endpoint[] {
  let list = enabled.get(stmts);
  if (!list) {
    list = stmts.get(
      "SELECT id, events FROM webhook_endpoints WHERE disabled_at IS NULL ORDER BY id",
    ).all().map((r) => ({
      id: Number(r.id),
      events: String(r.events).split(","),
    }));
    enabled.set(stmts, list);
  }
  return list;
}

/** The transactional outbox: a delivery row per endpoint that wants this event, in the event's transaction. */
export function queueDeliveries(stmts: Statements, e: TicketEvent): void {
  const type = webhookType(e);
  if (!type || !e.ticket) return;
  const endpoints = enabledEndpoints(stmts).filter((w) =>
    w.events.includes(type)
  );
  if (endpoints.length === 0) return;
  const payload = webhookBody(type, e, e.ticket, e.comment);
  const msgId = newMessageId();
  const insert = stmts.get(
    `INSERT INTO webhook_deliveries
       (endpoint_id, event_id, ticket_id, type, msg_id, payload, next_attempt_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const w of endpoints) {
    insert.run(
      w.id,
      e.id,
      e.ticket_id,
      type,
      msgId,
      payload,
      e.created_at,
      e.created_at,
    );
  }
}

// ---- reads ----------------------------------------------------------------

const ENDPOINT = `SELECT w.*, (SELECT count(*) FROM webhook_deliveries d
  WHERE d.endpoint_id = w.id AND d.status = 'pending') AS pending
  FROM webhook_endpoints w`;

/** Lists endpoints, oldest first. */
export function listWebhooks(s: Statements): WebhookEndpoint[] {
  return s.get(`${ENDPOINT} ORDER BY w.id`).all().map(rowToWebhook);
}

/** One endpoint, or null. */
export function getWebhook(s: Statements, id: number): WebhookEndpoint | null {
  const r = s.get(`${ENDPOINT} WHERE w.id = ?`).get(id);
  return r ? rowToWebhook(r) : null;
}

/** An endpoint's attempts, newest first. */
export function webhookAttempts(
  s: Statements,
  endpointId: number,
  limit: number,
): DeliveryAttempt[] {
  return s.get(
    `SELECT a.*, d.msg_id, d.type, d.ticket_id FROM webhook_attempts a
     JOIN webhook_deliveries d ON d.id = a.delivery_id
     WHERE a.endpoint_id = ? ORDER BY a.id DESC LIMIT ?`,
  ).all(endpointId, limit).map(rowToAttempt);
}

/** Whether any delivery may be claimed now (a read, so an idle sender never takes the writer). */
export function anyDue(s: Statements, firstWaitMs: number): boolean {
  const now = Date.now();
  const at = new Date(now).toISOString();
  return s.get(
    `SELECT 1 FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
     WHERE d.status = 'pending' AND w.disabled_at IS NULL
       AND d.next_attempt_at <= CASE WHEN d.attempts = 0 THEN ? ELSE ? END
       AND (d.leased_until IS NULL OR d.leased_until <= ?) LIMIT 1`,
  ).get(new Date(now - firstWaitMs).toISOString(), at, at) !== undefined;
}

// ---- writes (the writer) --------------------------------------------------

export type WebhookWrite =
  | { action: "create"; webhook: NewWebhook }
  | { action: "remove"; id: number }
  | { action: "rotate"; id: number; secret: string; keepOldUntil: string }
  | { action: "enable"; id: number }
  | { action: "claim"; limit: number; leaseMs: number; firstWaitMs: number }
  | { action: "finish"; id: number; record: AttemptRecord }
  | { action: "release" }
  | { action: "resend"; endpointId: number; deliveryId: number };

/** Applies one webhook write inside the writer's transaction. */
export function applyWebhookWrite(s: Statements, w: WebhookWrite): unknown {
  switch (w.action) {
    case "create": {
      forgetEndpoints(s);
      const r = s.get(
        `INSERT INTO webhook_endpoints (url, events, secret, created_at)
         VALUES (?, ?, ?, ?) RETURNING *, 0 AS pending`,
      ).get(
        w.webhook.url,
        webhookEventsColumn(w.webhook.events),
        w.webhook.secret,
        new Date().toISOString(),
      );
      return rowToWebhook(r!);
    }
    case "remove": {
      forgetEndpoints(s);
      const n = s.get("DELETE FROM webhook_endpoints WHERE id = ?").run(w.id)
        .changes;
      if (Number(n) === 0) throw new WebhookNotFoundError(w.id);
      return null;
    }
    case "rotate": {
      const r = s.get(
        `UPDATE webhook_endpoints SET previous_secret = secret,
           previous_secret_until = ?, secret = ? WHERE id = ? RETURNING id`,
      ).get(w.keepOldUntil, w.secret, w.id);
      if (!r) throw new WebhookNotFoundError(w.id);
      return getWebhook(s, w.id);
    }
    case "enable": {
      forgetEndpoints(s);
      const r = s.get(
        `UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL
         WHERE id = ? RETURNING id`,
      ).get(w.id);
      if (!r) throw new WebhookNotFoundError(w.id);
      return getWebhook(s, w.id);
    }
    case "claim":
      return claim(s, w);
    case "finish":
      return finish(s, w.id, w.record);
    case "release":
      s.get(
        "UPDATE webhook_deliveries SET leased_until = NULL WHERE leased_until IS NOT NULL",
      ).run();
      return null;
    case "resend": {
      const n = s.get(
        `UPDATE webhook_deliveries SET status = 'pending', attempts = 0,
           next_attempt_at = ?, leased_until = NULL, finished_at = NULL
         WHERE id = ? AND endpoint_id = ?`,
      ).run(new Date().toISOString(), w.deliveryId, w.endpointId).changes;
      if (Number(n) === 0) {
        throw new WebhookNotFoundError(w.endpointId, w.deliveryId);
      }
      return null;
    }
  }
}

/**
 * Claims due deliveries: oldest first, and none while an earlier delivery of
 * the same ticket to the same endpoint is still pending (order per ticket).
 */
function claim(
  s: Statements,
  { limit, leaseMs, firstWaitMs }: {
    limit: number;
    leaseMs: number;
    firstWaitMs: number;
  },
): DueDelivery[] {
  const now = new Date();
  const at = now.toISOString();
  const first = new Date(now.getTime() - firstWaitMs).toISOString();
  const rows = s.get(
    `UPDATE webhook_deliveries SET attempts = attempts + 1, leased_until = ?
     WHERE id IN (
       SELECT d.id FROM webhook_deliveries d
       JOIN webhook_endpoints w ON w.id = d.endpoint_id
       WHERE d.status = 'pending' AND w.disabled_at IS NULL
         AND d.next_attempt_at <= CASE WHEN d.attempts = 0 THEN ? ELSE ? END
         AND (d.leased_until IS NULL OR d.leased_until <= ?)
         AND NOT EXISTS (
           SELECT 1 FROM webhook_deliveries e
           WHERE e.endpoint_id = d.endpoint_id AND e.ticket_id = d.ticket_id
             AND e.status = 'pending' AND e.id < d.id)
       ORDER BY d.id LIMIT ?)
     RETURNING *,
       (SELECT url FROM webhook_endpoints w WHERE w.id = endpoint_id) AS url,
       (SELECT secret FROM webhook_endpoints w WHERE w.id = endpoint_id) AS secret,
       (SELECT previous_secret FROM webhook_endpoints w WHERE w.id = endpoint_id)
         AS previous_secret,
       (SELECT previous_secret_until FROM webhook_endpoints w WHERE w.id = endpoint_id)
         AS previous_secret_until`,
  ).all(new Date(now.getTime() + leaseMs).toISOString(), first, at, at, limit);
  return rows.map((r) => rowToDue(r, now)).sort((a, b) => a.id - b.id);
}

/** Records an attempt, moves the delivery on, disables the endpoint if told, and keeps the log short. */
function finish(s: Statements, id: number, r: AttemptRecord): null {
  const at = new Date().toISOString();
  const d = s.get("SELECT endpoint_id FROM webhook_deliveries WHERE id = ?")
    .get(id);
  if (!d) return null; // the endpoint was removed meanwhile
  const endpointId = Number(d.endpoint_id);
  s.get(
    `INSERT INTO webhook_attempts
       (endpoint_id, delivery_id, attempted_at, status_code, duration_ms, error, outcome)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    endpointId,
    id,
    at,
    r.status_code,
    Math.round(r.duration_ms),
    r.error,
    r.outcome,
  );
  s.get(
    `UPDATE webhook_deliveries SET status = ?, leased_until = NULL,
       next_attempt_at = coalesce(?, next_attempt_at), finished_at = ?
     WHERE id = ?`,
  ).run(
    r.outcome === "retry" ? "pending" : r.outcome,
    r.next_attempt_at ?? null,
    r.outcome === "retry" ? null : at,
    id,
  );
  if (r.disable_reason) {
    forgetEndpoints(s);
    s.get(
      `UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = ?
       WHERE id = ? AND disabled_at IS NULL`,
    ).run(at, r.disable_reason, endpointId);
  }
  const pruned = s.get(
    `DELETE FROM webhook_attempts WHERE endpoint_id = ? AND id <= (
       SELECT id FROM webhook_attempts WHERE endpoint_id = ?
       ORDER BY id DESC LIMIT 1 OFFSET ?)`,
  ).run(endpointId, endpointId, ATTEMPTS_KEPT).changes;
  if (Number(pruned) > 0) {
    s.get(
      `DELETE FROM webhook_deliveries WHERE endpoint_id = ? AND status <> 'pending'
       AND NOT EXISTS (SELECT 1 FROM webhook_attempts a WHERE a.delivery_id = webhook_deliveries.id)`,
    ).run(endpointId);
  }
  return null;
}
