-- Reports (issue 18): one row per fact a report counts, kept by triggers on
-- tickets (so the store, bulk seeding, imports and a manual fix in the sqlite3
-- shell all keep it right), and backfilled here from the events table.
--
-- kind: 0 created, 1 first public reply by an agent, 2 moved to Closed,
--       3 moved out of Closed (reopened).
-- at:   Unix seconds; days are cut at query time in REPORT_TIME_ZONE.
-- assignee, product_id, priority: the ticket's as they are NOW ('' for none),
--       updated with the ticket, so a report filters and groups as the
--       dashboard does.
-- nth:  the fact's number among the ticket's facts of its kind (unique key).
-- standing: a close that still stands (the ticket is Closed and this was its
--       last move there): what "time to close" measures, created → resolved_at.
-- seconds: time from the ticket's creation, for first replies and closes.
--
-- Covering indexes: the table itself is ordered by owner, the second index
-- by product, so per-owner and per-product figures, and the days of any
-- filter, are index range scans that never touch the tickets table.
CREATE TABLE report_facts (
  kind       INTEGER NOT NULL,
  assignee   TEXT    NOT NULL,
  at         INTEGER NOT NULL,
  ticket_id  INTEGER NOT NULL,
  nth        INTEGER NOT NULL,
  product_id TEXT    NOT NULL,
  priority   INTEGER NOT NULL,
  standing   INTEGER NOT NULL DEFAULT 0,
  seconds    INTEGER,
  PRIMARY KEY (kind, assignee, at, ticket_id, nth)
) WITHOUT ROWID;
CREATE INDEX report_facts_product
  ON report_facts (kind, product_id, at, priority, standing, seconds);
CREATE INDEX report_facts_ticket ON report_facts (ticket_id, kind);

-- Unsolved (Open or Pending) tickets and, of those, the ones still waiting for
-- a first public reply, per owner, product and priority: the backlog now and
-- the waiting count of any filter without counting the tickets table. Every
-- combination ever seen keeps its row, so it also lists owners and products.
CREATE TABLE report_groups (
  assignee   TEXT    NOT NULL,
  product_id TEXT    NOT NULL,
  priority   INTEGER NOT NULL,
  unsolved   INTEGER NOT NULL DEFAULT 0,
  waiting    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (assignee, product_id, priority)
) WITHOUT ROWID;

-- Tickets still waiting for a first reply, oldest first (the report lists them).
CREATE INDEX tickets_waiting ON tickets (created_at, id)
  WHERE first_response_at IS NULL AND status <> 'Closed';

-- ---- Backfill ---------------------------------------------------------------

INSERT INTO report_facts
  (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
SELECT 0, coalesce(assignee, ''), unixepoch(created_at), id, 0,
       coalesce(product_id, ''), priority, 0, NULL
FROM tickets;

INSERT INTO report_facts
  (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
SELECT 1, coalesce(assignee, ''), unixepoch(first_response_at), id, 0,
       coalesce(product_id, ''), priority, 0,
       max(0, CAST(round((unixepoch(first_response_at, 'subsec')
                          - unixepoch(created_at, 'subsec')) * 1000) AS INTEGER) / 1000)
FROM tickets WHERE first_response_at IS NOT NULL;

-- Every move into or out of Closed the events recorded, numbered per ticket.
CREATE TEMP TABLE report_moves AS
SELECT m.*, row_number() OVER (PARTITION BY ticket_id, closing ORDER BY event_id) - 1 AS nth,
       row_number() OVER (PARTITION BY ticket_id ORDER BY event_id DESC) AS from_last
FROM (
  SELECT e.id AS event_id, e.ticket_id, e.created_at,
         json_extract(e.data, '$.changes.status.to') = 'Closed' AS closing,
         json_extract(e.data, '$.changes.status.from') = 'Closed' AS opening
  FROM events e JOIN tickets t ON t.id = e.ticket_id
  WHERE e.type = 'ticket.updated'
    AND json_extract(e.data, '$.changes.status') IS NOT NULL
) m
WHERE m.closing <> m.opening;

INSERT INTO report_facts
  (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
SELECT CASE WHEN m.closing THEN 2 ELSE 3 END, coalesce(t.assignee, ''),
       unixepoch(m.created_at), t.id, m.nth, coalesce(t.product_id, ''),
       t.priority, m.closing AND m.from_last = 1 AND t.status = 'Closed',
       CASE WHEN m.closing THEN
         max(0, CAST(round((unixepoch(
           CASE WHEN m.from_last = 1 THEN coalesce(t.resolved_at, m.created_at)
                ELSE m.created_at END, 'subsec')
           - unixepoch(t.created_at, 'subsec')) * 1000) AS INTEGER) / 1000)
       END
FROM report_moves m JOIN tickets t ON t.id = m.ticket_id;

-- Closed without a recorded move (imported or seeded Closed): closed when it
-- was resolved (or last changed), as migration 006 decided.
INSERT INTO report_facts
  (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
SELECT 2, coalesce(t.assignee, ''),
       unixepoch(coalesce(t.resolved_at, t.updated_at)), t.id, 0,
       coalesce(t.product_id, ''), t.priority, 1,
       max(0, CAST(round((unixepoch(coalesce(t.resolved_at, t.updated_at), 'subsec')
                          - unixepoch(t.created_at, 'subsec')) * 1000) AS INTEGER) / 1000)
FROM tickets t
WHERE t.status = 'Closed'
  AND NOT EXISTS (SELECT 1 FROM report_moves m WHERE m.ticket_id = t.id);

-- Made Closed without a move and reopened later: the close comes first, when
-- the ticket was created (nth -1 keeps it apart from the recorded ones).
INSERT INTO report_facts
  (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
SELECT 2, coalesce(t.assignee, ''), unixepoch(t.created_at), t.id, -1,
       coalesce(t.product_id, ''), t.priority, 0, 0
FROM tickets t JOIN report_moves m ON m.ticket_id = t.id
WHERE m.opening AND m.nth = 0
  AND NOT EXISTS (
    SELECT 1 FROM report_moves c
    WHERE c.ticket_id = t.id AND c.closing AND c.event_id < m.event_id
  );

DROP TABLE report_moves;

INSERT INTO report_groups (assignee, product_id, priority, unsolved, waiting)
SELECT coalesce(assignee, ''), coalesce(product_id, ''), priority,
       sum(status <> 'Closed'),
       sum(status <> 'Closed' AND first_response_at IS NULL)
FROM tickets GROUP BY 1, 2, 3;

-- ---- Kept by every write from now on -------------------------------------------

CREATE TRIGGER report_ticket_insert AFTER INSERT ON tickets
BEGIN
  INSERT INTO report_facts
    (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
  VALUES (0, coalesce(NEW.assignee, ''), unixepoch(NEW.created_at), NEW.id, 0,
          coalesce(NEW.product_id, ''), NEW.priority, 0, NULL);
  INSERT INTO report_facts
    (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
  SELECT 1, coalesce(NEW.assignee, ''), unixepoch(NEW.first_response_at), NEW.id, 0,
         coalesce(NEW.product_id, ''), NEW.priority, 0,
         max(0, CAST(round((unixepoch(NEW.first_response_at, 'subsec')
                            - unixepoch(NEW.created_at, 'subsec')) * 1000) AS INTEGER) / 1000)
  WHERE NEW.first_response_at IS NOT NULL;
  INSERT INTO report_facts
    (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
  SELECT 2, coalesce(NEW.assignee, ''),
         unixepoch(coalesce(NEW.resolved_at, NEW.updated_at)), NEW.id, 0,
         coalesce(NEW.product_id, ''), NEW.priority, 1,
         max(0, CAST(round((unixepoch(coalesce(NEW.resolved_at, NEW.updated_at), 'subsec')
                            - unixepoch(NEW.created_at, 'subsec')) * 1000) AS INTEGER) / 1000)
  WHERE NEW.status = 'Closed';
  INSERT INTO report_groups (assignee, product_id, priority, unsolved, waiting)
  VALUES (coalesce(NEW.assignee, ''), coalesce(NEW.product_id, ''), NEW.priority,
          NEW.status <> 'Closed',
          NEW.status <> 'Closed' AND NEW.first_response_at IS NULL)
  ON CONFLICT DO UPDATE SET unsolved = unsolved + excluded.unsolved,
                            waiting = waiting + excluded.waiting;
END;

-- The first public reply (first_response_at is set once, by the writes).
CREATE TRIGGER report_ticket_reply AFTER UPDATE OF first_response_at ON tickets
WHEN OLD.first_response_at IS NULL AND NEW.first_response_at IS NOT NULL
BEGIN
  INSERT INTO report_facts
    (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
  VALUES (1, coalesce(NEW.assignee, ''), unixepoch(NEW.first_response_at), NEW.id,
          (SELECT count(*) FROM report_facts WHERE ticket_id = NEW.id AND kind = 1),
          coalesce(NEW.product_id, ''), NEW.priority, 0,
          max(0, CAST(round((unixepoch(NEW.first_response_at, 'subsec')
                             - unixepoch(NEW.created_at, 'subsec')) * 1000) AS INTEGER) / 1000));
END;

-- A move into or out of Closed, at the change's time (its event's). The close
-- before stops standing either way; a new close stands, measured to
-- resolved_at (set by the same write just before).
CREATE TRIGGER report_ticket_status AFTER UPDATE OF status ON tickets
WHEN (OLD.status = 'Closed') <> (NEW.status = 'Closed')
BEGIN
  UPDATE report_facts SET standing = 0
  WHERE ticket_id = NEW.id AND kind = 2 AND standing = 1;
  INSERT INTO report_facts
    (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
  VALUES (CASE WHEN NEW.status = 'Closed' THEN 2 ELSE 3 END,
          coalesce(NEW.assignee, ''), unixepoch(NEW.updated_at), NEW.id,
          (SELECT count(*) FROM report_facts WHERE ticket_id = NEW.id
             AND kind = CASE WHEN NEW.status = 'Closed' THEN 2 ELSE 3 END),
          coalesce(NEW.product_id, ''), NEW.priority, NEW.status = 'Closed',
          CASE WHEN NEW.status = 'Closed' THEN
            max(0, CAST(round((unixepoch(coalesce(NEW.resolved_at, NEW.updated_at), 'subsec')
                               - unixepoch(NEW.created_at, 'subsec')) * 1000) AS INTEGER) / 1000)
          END);
END;

-- A new owner, product or priority: every fact of the ticket follows it.
CREATE TRIGGER report_ticket_dims AFTER UPDATE OF assignee, product_id, priority ON tickets
WHEN OLD.assignee IS NOT NEW.assignee OR OLD.product_id IS NOT NEW.product_id
  OR OLD.priority IS NOT NEW.priority
BEGIN
  UPDATE report_facts
  SET assignee = coalesce(NEW.assignee, ''), product_id = coalesce(NEW.product_id, ''),
      priority = NEW.priority
  WHERE ticket_id = NEW.id;
END;

CREATE TRIGGER report_ticket_groups
AFTER UPDATE OF status, assignee, product_id, priority, first_response_at ON tickets
WHEN (OLD.status = 'Closed') <> (NEW.status = 'Closed')
  OR OLD.assignee IS NOT NEW.assignee OR OLD.product_id IS NOT NEW.product_id
  OR OLD.priority IS NOT NEW.priority
  OR (OLD.first_response_at IS NULL) <> (NEW.first_response_at IS NULL)
BEGIN
  UPDATE report_groups
  SET unsolved = unsolved - (OLD.status <> 'Closed'),
      waiting = waiting - (OLD.status <> 'Closed' AND OLD.first_response_at IS NULL)
  WHERE assignee = coalesce(OLD.assignee, '') AND product_id = coalesce(OLD.product_id, '')
    AND priority = OLD.priority;
  INSERT INTO report_groups (assignee, product_id, priority, unsolved, waiting)
  VALUES (coalesce(NEW.assignee, ''), coalesce(NEW.product_id, ''), NEW.priority,
          NEW.status <> 'Closed',
          NEW.status <> 'Closed' AND NEW.first_response_at IS NULL)
  ON CONFLICT DO UPDATE SET unsolved = unsolved + excluded.unsolved,
                            waiting = waiting + excluded.waiting;
END;

CREATE TRIGGER report_ticket_delete AFTER DELETE ON tickets
BEGIN
  DELETE FROM report_facts WHERE ticket_id = OLD.id;
  UPDATE report_groups
  SET unsolved = unsolved - (OLD.status <> 'Closed'),
      waiting = waiting - (OLD.status <> 'Closed' AND OLD.first_response_at IS NULL)
  WHERE assignee = coalesce(OLD.assignee, '') AND product_id = coalesce(OLD.product_id, '')
    AND priority = OLD.priority;
END;
