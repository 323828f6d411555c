/**
 * SQL for webhooks on PostgreSQL: the outbox rows each event queues (inside
 * the event's transaction), endpoint and delivery writes, and reads. Senders
 * on several instances claim with FOR UPDATE SKIP LOCKED, so each delivery is
 * sent by exactly one of them at a time.
 */
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
import type { Sql, TransactionSql } from "./connection.ts";
import {
  rowToAttempt,
  rowToDue,
  rowToWebhook,
  webhookEventsColumn,
} from "../rows.ts";
import { newMessageId, webhookBody, webhookType } from "../rules.ts";
import { lockWrites } from "./writes.ts";

type Endpoint = { id: number; events: string[] };

/**
 * The enabled endpoints, read once per transaction: endpoint changes take the
 * same write lock as ticket writes, so they cannot change under a batch.
 */
const enabled = new WeakMap<object, Promise<Endpoint[]>>();

function enabledEndpoints(tx: TransactionSql): Promise<Endpoint[]> {
  let list = enabled.get(tx);
  if (!list) {
    list = tx`SELECT id, events FROM webhook_endpoints
              WHERE disabled_at IS NULL ORDER BY id`.then((rows) =>
      rows.map((r) => ({
        id: Number(r.id),
        events: String(r.events).split(","),
      }))
    );
    enabled.set(tx, list);
  }
  return list;
}

/** The transactional outbox: a delivery row per endpoint that wants this event, in the event's transaction. */
export async function queueDeliveries(
  tx: TransactionSql,
  e: TicketEvent,
): Promise<void> {
  const type = webhookType(e);
  if (!type || !e.ticket) return;
  const ids = (await enabledEndpoints(tx)).filter((w) =>
    w.events.includes(type)
  ).map((w) => w.id);
  if (ids.length === 0) return;
  const payload = webhookBody(type, e, e.ticket, e.comment);
  await tx`
    INSERT INTO webhook_deliveries
      (endpoint_id, event_id, ticket_id, type, msg_id, payload, next_attempt_at, created_at)
    SELECT w, ${e.id}::bigint, ${e.ticket_id}::bigint, ${type}::text,
           ${newMessageId()}::text, ${payload}::text,
           ${e.created_at}::timestamptz, ${e.created_at}::timestamptz
    FROM unnest(${ids}::bigint[]) AS w`;
}

// ---- reads ----------------------------------------------------------------

/** Lists endpoints, oldest first. */
export async function listWebhooks(sql: Sql): Promise<WebhookEndpoint[]> {
  const rows = await sql`
    SELECT w.*, (SELECT count(*) FROM webhook_deliveries d
                 WHERE d.endpoint_id = w.id AND d.status = 'pending') AS pending
    FROM webhook_endpoints w ORDER BY w.id`;
  return rows.map(rowToWebhook);
}

/** One endpoint, or null. */
export async function getWebhook(
  sql: Sql,
  id: number,
): Promise<WebhookEndpoint | null> {
  const [r] = await sql`
    SELECT w.*, (SELECT count(*) FROM webhook_deliveries d
                 WHERE d.endpoint_id = w.id AND d.status = 'pending') AS pending
    FROM webhook_endpoints w WHERE w.id = ${id}`;
  return r ? rowToWebhook(r) : null;
}

/** An endpoint's attempts, newest first. */
export async function webhookAttempts(
  sql: Sql,
  endpointId: number,
  limit: number,
): Promise<DeliveryAttempt[]> {
  const rows = await sql`
    SELECT a.*, d.msg_id, d.type, d.ticket_id FROM webhook_attempts a
    JOIN webhook_deliveries d ON d.id = a.delivery_id
    WHERE a.endpoint_id = ${endpointId} ORDER BY a.id DESC LIMIT ${limit}`;
  return rows.map(rowToAttempt);
}

// ---- writes -----------------------------------------------------------------

/** Adds an endpoint (under the write lock: batches read the endpoints once). */
export async function createWebhook(
  tx: TransactionSql,
  w: NewWebhook,
): Promise<WebhookEndpoint> {
  await lockWrites(tx);
  const [r] = await tx`
    INSERT INTO webhook_endpoints (url, events, secret, created_at)
    VALUES (${w.url}, ${
    webhookEventsColumn(w.events)
  }, ${w.secret}, ${new Date()})
    RETURNING *, 0 AS pending`;
  return rowToWebhook(r!);
}

/** Removes an endpoint with its deliveries and log. */
export async function removeWebhook(
  tx: TransactionSql,
  id: number,
): Promise<void> {
  await lockWrites(tx);
  const r = await tx`DELETE FROM webhook_endpoints WHERE id = ${id}`;
  if (r.count === 0) throw new WebhookNotFoundError(id);
}

/** Replaces the secret; the previous one signs beside it until `keepOldUntil`. */
export async function rotateWebhookSecret(
  sql: Sql,
  id: number,
  secret: string,
  keepOldUntil: string,
): Promise<WebhookEndpoint> {
  const r = await sql`
    UPDATE webhook_endpoints SET previous_secret = secret,
      previous_secret_until = ${keepOldUntil}, secret = ${secret}
    WHERE id = ${id}`;
  if (r.count === 0) throw new WebhookNotFoundError(id);
  return (await getWebhook(sql, id))!;
}

/** Enables a disabled endpoint (under the write lock: batches read the endpoints once). */
export async function enableWebhook(
  tx: TransactionSql,
  id: number,
): Promise<void> {
  await lockWrites(tx);
  const r = await tx`
    UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL
    WHERE id = ${id}`;
  if (r.count === 0) throw new WebhookNotFoundError(id);
}

/**
 * Claims due deliveries: oldest first, none while an earlier delivery of the
 * same ticket to the same endpoint is pending, and none another instance
 * holds (SKIP LOCKED now, the lease until the attempt is recorded).
 */
export async function claimDeliveries(
  sql: Sql,
  { limit, leaseMs, firstWaitMs = 0 }: {
    limit: number;
    leaseMs: number;
    firstWaitMs?: number;
  },
): Promise<DueDelivery[]> {
  const now = new Date();
  const first = new Date(now.getTime() - firstWaitMs);
  const rows = await sql`
    WITH due AS (
      SELECT d.id FROM webhook_deliveries d
      JOIN webhook_endpoints w ON w.id = d.endpoint_id
      WHERE d.status = 'pending' AND w.disabled_at IS NULL
        AND d.next_attempt_at <= CASE WHEN d.attempts = 0 THEN ${first}::timestamptz
                                 ELSE ${now}::timestamptz END
        AND (d.leased_until IS NULL OR d.leased_until <= ${now})
        AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries e
          WHERE e.endpoint_id = d.endpoint_id AND e.ticket_id = d.ticket_id
            AND e.status = 'pending' AND e.id < d.id)
      ORDER BY d.id LIMIT ${limit}
      FOR UPDATE OF d SKIP LOCKED
    ),
    claimed AS (
      UPDATE webhook_deliveries d
      SET attempts = d.attempts + 1,
          leased_until = ${new Date(now.getTime() + leaseMs)}
      FROM due WHERE d.id = due.id
      RETURNING d.*
    )
    SELECT c.*, w.url, w.secret, w.previous_secret, w.previous_secret_until
    FROM claimed c JOIN webhook_endpoints w ON w.id = c.endpoint_id
    ORDER BY c.id`;
  return rows.map((r) => rowToDue(r, now));
}

/** Records an attempt, moves the delivery on, disables the endpoint if told, and keeps the log short. */
export async function finishDelivery(
  tx: TransactionSql,
  id: number,
  r: AttemptRecord,
): Promise<void> {
  if (r.disable_reason) await lockWrites(tx);
  const at = new Date();
  const [d] = await tx`
    SELECT endpoint_id FROM webhook_deliveries WHERE id = ${id} FOR UPDATE`;
  if (!d) return; // the endpoint was removed meanwhile
  const endpointId = Number(d.endpoint_id);
  await tx`
    INSERT INTO webhook_attempts
      (endpoint_id, delivery_id, attempted_at, status_code, duration_ms, error, outcome)
    VALUES (${endpointId}, ${id}, ${at}, ${r.status_code},
            ${Math.round(r.duration_ms)}, ${r.error}, ${r.outcome})`;
  await tx`
    UPDATE webhook_deliveries SET
      status = ${r.outcome === "retry" ? "pending" : r.outcome},
      leased_until = NULL,
      next_attempt_at = coalesce(${
    r.next_attempt_at ?? null
  }::timestamptz, next_attempt_at),
      finished_at = ${r.outcome === "retry" ? null : at}
    WHERE id = ${id}`;
  if (r.disable_reason) {
    await tx`
      UPDATE webhook_endpoints SET disabled_at = ${at},
        disabled_reason = ${r.disable_reason}
      WHERE id = ${endpointId} AND disabled_at IS NULL`;
  }
  const pruned = await tx`
    DELETE FROM webhook_attempts WHERE endpoint_id = ${endpointId} AND id <= (
      SELECT id FROM webhook_attempts WHERE endpoint_id = ${endpointId}
      ORDER BY id DESC LIMIT 1 OFFSET ${ATTEMPTS_KEPT})`;
  if (pruned.count > 0) {
    await tx`
      DELETE FROM webhook_deliveries d
      WHERE d.endpoint_id = ${endpointId} AND d.status <> 'pending'
        AND NOT EXISTS (SELECT 1 FROM webhook_attempts a WHERE a.delivery_id = d.id)`;
  }
}

/** Queues a delivery to be sent again now, from its first attempt. */
export async function resendDelivery(
  sql: Sql,
  endpointId: number,
  deliveryId: number,
): Promise<void> {
  const r = await sql`
    UPDATE webhook_deliveries SET status = 'pending', attempts = 0,
      next_attempt_at = ${new Date()}, leased_until = NULL, finished_at = NULL
    WHERE id = ${deliveryId} AND endpoint_id = ${endpointId}`;
  if (r.count === 0) throw new WebhookNotFoundError(endpointId, deliveryId);
}
