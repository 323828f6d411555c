-- Team triage: an owner (a user's name, NULL when unassigned) and a priority
-- (0 Low, 1 Normal, 2 High, 3 Urgent: a number, so "Urgent first" is an index order).
ALTER TABLE tickets ADD COLUMN assignee TEXT;
ALTER TABLE tickets ADD COLUMN priority SMALLINT NOT NULL DEFAULT 1
  CHECK (priority BETWEEN 0 AND 3);
CREATE INDEX tickets_assignee_id ON tickets (assignee, id);
CREATE INDEX tickets_priority_id ON tickets (priority, id);

-- Tickets per (status, owner), so the Mine / Unassigned / All tabs and the
-- status tabs inside them are counted without a scan. The value is the
-- status and the owner's name ('' for none) joined by a unit separator.
INSERT INTO ticket_counts (dimension, value, n)
SELECT 'owner', status || chr(31) || coalesce(assignee, ''), count(*)
FROM tickets GROUP BY status, assignee;

CREATE FUNCTION ticket_owner_counts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    IF TG_OP = 'DELETE' OR OLD.status IS DISTINCT FROM NEW.status
       OR OLD.assignee IS DISTINCT FROM NEW.assignee THEN
      PERFORM ticket_counts_add('owner',
        OLD.status || chr(31) || coalesce(OLD.assignee, ''), -1);
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    IF TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status
       OR OLD.assignee IS DISTINCT FROM NEW.assignee THEN
      PERFORM ticket_counts_add('owner',
        NEW.status || chr(31) || coalesce(NEW.assignee, ''), 1);
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER ticket_owner_counts_sync
AFTER INSERT OR DELETE OR UPDATE OF status, assignee ON tickets
FOR EACH ROW EXECUTE FUNCTION ticket_owner_counts_sync();
