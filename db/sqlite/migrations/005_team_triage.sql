-- Team triage: an owner (a user's name, NULL when unassigned) and a priority
-- (0 Low, 1 Normal, 2 High, 3 Urgent: a number, so "Urgent first" is an index order).
ALTER TABLE tickets ADD COLUMN assignee TEXT;
ALTER TABLE tickets ADD COLUMN priority INTEGER NOT NULL DEFAULT 1
  CHECK (priority BETWEEN 0 AND 3);
CREATE INDEX tickets_assignee_id ON tickets (assignee, id);
CREATE INDEX tickets_priority_id ON tickets (priority, id);

-- Tickets per (status, owner), so the Mine / Unassigned / All tabs and the
-- status tabs inside them are counted without a scan. The value is the
-- status and the owner's name ('' for none) joined by a unit separator.
INSERT INTO ticket_counts (dimension, value, n)
SELECT 'owner', status || char(31) || coalesce(assignee, ''), count(*)
FROM tickets GROUP BY status, assignee;

CREATE TRIGGER ticket_owner_counts_insert AFTER INSERT ON tickets
BEGIN
  INSERT INTO ticket_counts (dimension, value, n)
  VALUES ('owner', NEW.status || char(31) || coalesce(NEW.assignee, ''), 1)
  ON CONFLICT (dimension, value) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_owner_counts_delete AFTER DELETE ON tickets
BEGIN
  UPDATE ticket_counts SET n = n - 1
  WHERE dimension = 'owner'
    AND value = OLD.status || char(31) || coalesce(OLD.assignee, '');
END;

CREATE TRIGGER ticket_owner_counts_update AFTER UPDATE OF status, assignee ON tickets
WHEN OLD.status IS NOT NEW.status OR OLD.assignee IS NOT NEW.assignee
BEGIN
  UPDATE ticket_counts SET n = n - 1
  WHERE dimension = 'owner'
    AND value = OLD.status || char(31) || coalesce(OLD.assignee, '');
  INSERT INTO ticket_counts (dimension, value, n)
  VALUES ('owner', NEW.status || char(31) || coalesce(NEW.assignee, ''), 1)
  ON CONFLICT (dimension, value) DO UPDATE SET n = n + 1;
END;
