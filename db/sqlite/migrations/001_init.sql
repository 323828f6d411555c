-- The seed's tickets table, plus optimistic versions and update times.
CREATE TABLE tickets (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id     TEXT    NOT NULL,
  pdf_link    TEXT    NOT NULL,
  product_id  TEXT,
  other_ids   TEXT,
  status      TEXT    NOT NULL DEFAULT 'Open'
                      CHECK (status IN ('Open', 'Pending', 'Closed')),
  description TEXT    NOT NULL DEFAULT '',
  comments    TEXT    NOT NULL DEFAULT '',
  created_at  TEXT    NOT NULL,
  updated_at  TEXT    NOT NULL,
  version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX tickets_status_id ON tickets (status, id);
CREATE INDEX tickets_user_id_id ON tickets (user_id, id);
CREATE INDEX tickets_product_id_id ON tickets (product_id, id);

-- The comment thread of a ticket.
CREATE TABLE comments (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  author     TEXT    NOT NULL,
  body       TEXT    NOT NULL,
  created_at TEXT    NOT NULL
);
CREATE INDEX comments_ticket_id ON comments (ticket_id, id);

-- Append-only log of every change, written in the change's own transaction.
-- AUTOINCREMENT so an id is never reused, even after old events are pruned:
-- SSE clients resume from it with Last-Event-ID.
CREATE TABLE events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  type       TEXT    NOT NULL,
  ticket_id  INTEGER NOT NULL,
  actor      TEXT    NOT NULL,
  data       TEXT    NOT NULL DEFAULT '{}',
  created_at TEXT    NOT NULL
);
CREATE INDEX events_ticket_id ON events (ticket_id, id);
CREATE TRIGGER events_append_only BEFORE UPDATE ON events
BEGIN
  SELECT RAISE(ABORT, 'events are append-only');
END;

-- Idempotency keys of create requests, stored with the ticket they created.
CREATE TABLE idempotency_keys (
  scope       TEXT    NOT NULL,
  key         TEXT    NOT NULL,
  fingerprint TEXT    NOT NULL,
  ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  response    TEXT    NOT NULL,
  created_at  TEXT    NOT NULL,
  PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
