-- Reports (issue 18): one row per fact a report counts, kept by triggers on
-- tickets and backfilled here from the events table; the same shape as
-- SQLite's migration 008 (see there for what each column means).
-- kind: 0 created, 1 first public reply by an agent, 2 moved to Closed,
-- 3 moved out of Closed. at: Unix seconds. assignee, product_id, priority:
-- the ticket's now ('' for none). standing: a close that still stands.
CREATE TABLE report_facts (
  kind       SMALLINT NOT NULL,
  assignee   TEXT     NOT NULL,
  at         BIGINT   NOT NULL,
  ticket_id  BIGINT   NOT NULL,
  nth        INTEGER  NOT NULL,
  product_id TEXT     NOT NULL,
  priority   SMALLINT NOT NULL,
  standing   BOOLEAN  NOT NULL DEFAULT false,
  seconds    BIGINT,
  PRIMARY KEY (kind, assignee, at, ticket_id, nth)
    INCLUDE (product_id, priority, standing, seconds)
);
CREATE INDEX report_facts_product ON report_facts (kind, product_id, at)
  INCLUDE (assignee, priority, standing, seconds);
CREATE INDEX report_facts_ticket ON report_facts (ticket_id, kind);
-- Reports read these indexes alone (index-only scans) only where the
-- visibility map says a page holds no recent change; by default autovacuum
-- comes after 20% of the table is new, so the last months' facts, the ones
-- reports read, would each cost a visit to the table. Vacuum after 1%.
ALTER TABLE report_facts SET (
  autovacuum_vacuum_insert_scale_factor = 0.01,
  autovacuum_vacuum_scale_factor = 0.01
);

-- Unsolved tickets and those waiting for a first reply, per owner, product
-- and priority (every combination ever seen keeps its row).
CREATE TABLE report_groups (
  assignee   TEXT     NOT NULL,
  product_id TEXT     NOT NULL,
  priority   SMALLINT NOT NULL,
  unsolved   BIGINT   NOT NULL DEFAULT 0,
  waiting    BIGINT   NOT NULL DEFAULT 0,
  PRIMARY KEY (assignee, product_id, priority)
);

CREATE INDEX tickets_waiting ON tickets (created_at, id)
  WHERE first_response_at IS NULL AND status <> 'Closed';

CREATE FUNCTION report_epoch(t timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT floor(extract(epoch FROM t))::bigint $$;

-- Whole seconds from a to b (never negative).
CREATE FUNCTION report_secs(a timestamptz, b timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT greatest(0, floor(extract(epoch FROM (b - a))))::bigint
$$;

-- ---- Backfill ---------------------------------------------------------------

-- Fills report_facts and report_groups afresh from the tickets and their
-- events: this migration's backfill, and a bulk load's (the seeder's, which
-- inserts with the triggers off).
CREATE FUNCTION report_rebuild() RETURNS void LANGUAGE plpgsql AS $rebuild$
BEGIN
  DELETE FROM report_facts;
  DELETE FROM report_groups;

  INSERT INTO report_facts
    (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
  SELECT 0, coalesce(assignee, ''), report_epoch(created_at), id, 0,
         coalesce(product_id, ''), priority, false, NULL
  FROM tickets;

  INSERT INTO report_facts
    (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
  SELECT 1, coalesce(assignee, ''), report_epoch(first_response_at), id, 0,
         coalesce(product_id, ''), priority, false,
         report_secs(created_at, first_response_at)
  FROM tickets WHERE first_response_at IS NOT NULL;

  -- Moves into or out of Closed. `data` is a JSON string holding the object
  -- when the store wrote it, the object itself when migrate-data did.
  DROP TABLE IF EXISTS pg_temp.report_moves;
  CREATE TEMPORARY TABLE report_moves AS
  SELECT m.*,
         row_number() OVER (PARTITION BY ticket_id, closing ORDER BY event_id) - 1 AS nth,
         row_number() OVER (PARTITION BY ticket_id ORDER BY event_id DESC) AS from_last
  FROM (
    SELECT e.id AS event_id, e.ticket_id, e.created_at,
           coalesce(d -> 'changes' -> 'status' ->> 'to' = 'Closed', false) AS closing,
           coalesce(d -> 'changes' -> 'status' ->> 'from' = 'Closed', false) AS opening
    FROM events e
    JOIN tickets t ON t.id = e.ticket_id
    CROSS JOIN LATERAL (
      SELECT CASE WHEN json_typeof(e.data) = 'string' THEN (e.data #>> '{}')::json
                  ELSE e.data END AS d
    ) j
    WHERE e.type = 'ticket.updated'
  ) m
  WHERE m.closing <> m.opening;

  INSERT INTO report_facts
    (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
  SELECT CASE WHEN m.closing THEN 2 ELSE 3 END, coalesce(t.assignee, ''),
         report_epoch(m.created_at), t.id, m.nth, coalesce(t.product_id, ''),
         t.priority, m.closing AND m.from_last = 1 AND t.status = 'Closed',
         CASE WHEN m.closing THEN report_secs(t.created_at,
           CASE WHEN m.from_last = 1 THEN coalesce(t.resolved_at, m.created_at)
                ELSE m.created_at END)
         END
  FROM report_moves m JOIN tickets t ON t.id = m.ticket_id;

  INSERT INTO report_facts
    (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
  SELECT 2, coalesce(t.assignee, ''),
         report_epoch(coalesce(t.resolved_at, t.updated_at)), t.id, 0,
         coalesce(t.product_id, ''), t.priority, true,
         report_secs(t.created_at, coalesce(t.resolved_at, t.updated_at))
  FROM tickets t
  WHERE t.status = 'Closed'
    AND NOT EXISTS (SELECT 1 FROM report_moves m WHERE m.ticket_id = t.id);

  INSERT INTO report_facts
    (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
  SELECT 2, coalesce(t.assignee, ''), report_epoch(t.created_at), t.id, -1,
         coalesce(t.product_id, ''), t.priority, false, 0
  FROM tickets t JOIN report_moves m ON m.ticket_id = t.id
  WHERE m.opening AND m.nth = 0
    AND NOT EXISTS (
      SELECT 1 FROM report_moves c
      WHERE c.ticket_id = t.id AND c.closing AND c.event_id < m.event_id
    );

  DROP TABLE report_moves;

  INSERT INTO report_groups (assignee, product_id, priority, unsolved, waiting)
  SELECT coalesce(assignee, ''), coalesce(product_id, ''), priority,
         count(*) FILTER (WHERE status <> 'Closed'),
         count(*) FILTER (WHERE status <> 'Closed' AND first_response_at IS NULL)
  FROM tickets GROUP BY 1, 2, 3;
END $rebuild$;

SELECT report_rebuild();

-- ---- Kept by every write from now on -------------------------------------------

-- plpgsql rather than SQL functions: its statements' plans are cached
-- across calls, a SQL function's body is planned again on every call.
CREATE FUNCTION report_fact_add(t tickets, k smallint, at_ timestamptz, standing_ boolean, seconds_ bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO report_facts
    (kind, assignee, at, ticket_id, nth, product_id, priority, standing, seconds)
  VALUES (k, coalesce(t.assignee, ''), floor(extract(epoch FROM at_))::bigint, t.id,
          CASE WHEN k = 0 THEN 0 ELSE
            (SELECT count(*) FROM report_facts f WHERE f.ticket_id = t.id AND f.kind = k) END,
          coalesce(t.product_id, ''), t.priority, standing_, seconds_);
END $$;

CREATE FUNCTION report_group_add(t tickets, delta int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO report_groups AS g (assignee, product_id, priority, unsolved, waiting)
  VALUES (coalesce(t.assignee, ''), coalesce(t.product_id, ''), t.priority,
          CASE WHEN t.status <> 'Closed' THEN delta ELSE 0 END,
          CASE WHEN t.status <> 'Closed' AND t.first_response_at IS NULL THEN delta ELSE 0 END)
  ON CONFLICT (assignee, product_id, priority) DO UPDATE
  SET unsolved = g.unsolved + excluded.unsolved, waiting = g.waiting + excluded.waiting;
END $$;

CREATE FUNCTION report_facts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM report_fact_add(NEW, 0::smallint, NEW.created_at, false, NULL);
    IF NEW.first_response_at IS NOT NULL THEN
      PERFORM report_fact_add(NEW, 1::smallint, NEW.first_response_at, false,
        greatest(0, floor(extract(epoch FROM (NEW.first_response_at - NEW.created_at))))::bigint);
    END IF;
    IF NEW.status = 'Closed' THEN
      PERFORM report_fact_add(NEW, 2::smallint, coalesce(NEW.resolved_at, NEW.updated_at), true,
        greatest(0, floor(extract(epoch FROM (coalesce(NEW.resolved_at, NEW.updated_at) - NEW.created_at))))::bigint);
    END IF;
    PERFORM report_group_add(NEW, 1);
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    DELETE FROM report_facts WHERE ticket_id = OLD.id;
    PERFORM report_group_add(OLD, -1);
    RETURN NULL;
  END IF;
  IF OLD.assignee IS DISTINCT FROM NEW.assignee
     OR OLD.product_id IS DISTINCT FROM NEW.product_id
     OR OLD.priority IS DISTINCT FROM NEW.priority THEN
    UPDATE report_facts
    SET assignee = coalesce(NEW.assignee, ''), product_id = coalesce(NEW.product_id, ''),
        priority = NEW.priority
    WHERE ticket_id = NEW.id;
  END IF;
  IF OLD.first_response_at IS NULL AND NEW.first_response_at IS NOT NULL THEN
    PERFORM report_fact_add(NEW, 1::smallint, NEW.first_response_at, false,
      greatest(0, floor(extract(epoch FROM (NEW.first_response_at - NEW.created_at))))::bigint);
  END IF;
  IF (OLD.status = 'Closed') <> (NEW.status = 'Closed') THEN
    UPDATE report_facts SET standing = false
    WHERE ticket_id = NEW.id AND kind = 2 AND standing;
    IF NEW.status = 'Closed' THEN
      PERFORM report_fact_add(NEW, 2::smallint, NEW.updated_at, true,
        greatest(0, floor(extract(epoch FROM (coalesce(NEW.resolved_at, NEW.updated_at) - NEW.created_at))))::bigint);
    ELSE
      PERFORM report_fact_add(NEW, 3::smallint, NEW.updated_at, false, NULL);
    END IF;
  END IF;
  IF (OLD.status = 'Closed') <> (NEW.status = 'Closed')
     OR OLD.assignee IS DISTINCT FROM NEW.assignee
     OR OLD.product_id IS DISTINCT FROM NEW.product_id
     OR OLD.priority IS DISTINCT FROM NEW.priority
     OR (OLD.first_response_at IS NULL) <> (NEW.first_response_at IS NULL) THEN
    PERFORM report_group_add(OLD, -1);
    PERFORM report_group_add(NEW, 1);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER report_facts_sync
AFTER INSERT OR DELETE OR UPDATE OF status, assignee, product_id, priority, first_response_at
ON tickets FOR EACH ROW EXECUTE FUNCTION report_facts_sync();
