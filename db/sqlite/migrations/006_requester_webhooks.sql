-- Issue 17: internal notes and public replies, the requester's link, report
-- times, and webhooks with a transactional outbox.

-- Who sees a comment. Every comment written before this (and the old app's
-- comments column) was meant for agents only: internal.
ALTER TABLE comments ADD COLUMN visibility TEXT NOT NULL DEFAULT 'internal'
  CHECK (visibility IN ('internal', 'public'));
-- A reply the requester wrote through their link (author = the ticket's user_id).
ALTER TABLE comments ADD COLUMN from_requester INTEGER NOT NULL DEFAULT 0;

-- The requester's token is an HMAC of the ticket id and this: bumping it revokes the link.
ALTER TABLE tickets ADD COLUMN token_version INTEGER NOT NULL DEFAULT 1;
-- Report times, kept by every write from now on.
ALTER TABLE tickets ADD COLUMN first_response_at TEXT;
ALTER TABLE tickets ADD COLUMN resolved_at TEXT;
ALTER TABLE tickets ADD COLUMN reopened_count INTEGER NOT NULL DEFAULT 0;

-- Backfilled from the events table. first_response_at stays empty: every
-- earlier comment is internal, so no agent has answered a requester yet.
UPDATE tickets SET reopened_count = (
  SELECT count(*) FROM events e
  WHERE e.ticket_id = tickets.id AND e.type = 'ticket.updated'
    AND json_extract(e.data, '$.changes.status.from') = 'Closed'
    AND json_extract(e.data, '$.changes.status.to') <> 'Closed'
);
-- The last move to Closed; a ticket Closed without one (imported, or closed
-- before events existed) counts as resolved when it last changed.
UPDATE tickets SET resolved_at = coalesce((
  SELECT e.created_at FROM events e
  WHERE e.ticket_id = tickets.id AND e.type = 'ticket.updated'
    AND json_extract(e.data, '$.changes.status.to') = 'Closed'
  ORDER BY e.id DESC LIMIT 1
), updated_at)
WHERE status = 'Closed';

-- Receivers of webhooks. The secret (whsec_…) is stored as is: the server
-- needs it to sign. After a rotation the previous one signs too, for a day.
CREATE TABLE webhook_endpoints (
  id                    INTEGER PRIMARY KEY AUTOINCREMENT,
  url                   TEXT    NOT NULL,
  events                TEXT    NOT NULL,
  secret                TEXT    NOT NULL,
  previous_secret       TEXT,
  previous_secret_until TEXT,
  created_at            TEXT    NOT NULL,
  disabled_at           TEXT,
  disabled_reason       TEXT
);

-- The outbox: one row per event and endpoint, written in the event's own
-- transaction. `payload` is the exact body sent; `msg_id` its webhook-id.
CREATE TABLE webhook_deliveries (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id        INTEGER NOT NULL,
  ticket_id       INTEGER NOT NULL,
  type            TEXT    NOT NULL,
  msg_id          TEXT    NOT NULL,
  payload         TEXT    NOT NULL,
  status          TEXT    NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT    NOT NULL,
  leased_until    TEXT,
  created_at      TEXT    NOT NULL,
  finished_at     TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, ticket_id, id)
  WHERE status = 'pending';

-- Every attempt, for the delivery log (the last 1,000 per endpoint are kept).
CREATE TABLE webhook_attempts (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint_id  INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  delivery_id  INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempted_at TEXT    NOT NULL,
  status_code  INTEGER,
  duration_ms  INTEGER NOT NULL,
  error        TEXT,
  outcome      TEXT    NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed'))
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
