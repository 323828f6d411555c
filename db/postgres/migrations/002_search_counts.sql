-- Dashboard support: full-text search and cheap counts, both kept in sync by
-- triggers so every write path (the store, an import, a manual fix in psql)
-- keeps them right, and built here for existing rows.

-- Accent folding, when the server ships the unaccent extension (Debian's and
-- the big hosted ones do). Without it search still works, accents included.
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS unaccent;
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'unaccent is not available: search will not fold accents';
END $$;

-- The text search sees: lower case, accents folded, every run of letters and
-- digits a word and everything else a separator. That is what SQLite's FTS5
-- unicode61 tokenizer does, and it keeps the `simple` parser from reading
-- "PROD-123" as 'prod' and '-123' or "john.doe" as one host name.
DO $$
DECLARE
  ext_schema text;
BEGIN
  SELECT extnamespace::regnamespace::text INTO ext_schema
  FROM pg_extension WHERE extname = 'unaccent';
  IF ext_schema IS NULL THEN
    CREATE FUNCTION desk_fold(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $f$ SELECT regexp_replace(lower(t), '[^[:alnum:]]+', ' ', 'g') $f$;
  ELSE
    -- The dictionary is named with its schema, so the function does not
    -- depend on the caller's search_path.
    EXECUTE format(
      $f$CREATE FUNCTION desk_fold(t text) RETURNS text
         LANGUAGE sql STABLE PARALLEL SAFE
         AS $b$ SELECT regexp_replace(lower(%s.unaccent(%L::regdictionary, t)),
                                      '[^[:alnum:]]+', ' ', 'g') $b$ $f$,
      ext_schema, ext_schema || '.unaccent');
  END IF;
END $$;

-- A ticket's searchable text as one tsvector.
CREATE FUNCTION desk_search_doc(t tickets, comments text) RETURNS tsvector
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT to_tsvector('simple', coalesce(desk_fold(concat_ws(' ',
    t.user_id, t.product_id, t.other_ids, t.description, comments)), ''))
$$;

-- The query for a search's words (see searchTerms in db/store.ts): each word a
-- prefix match (its pieces a phrase, the last one a prefix), all required.
-- Built from folded letters and digits only, so user text is never tsquery syntax.
CREATE FUNCTION desk_search_query(terms text[]) RETURNS tsquery
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  term   text;
  pieces text[];
  parts  text[] := '{}';
BEGIN
  FOREACH term IN ARRAY coalesce(terms, '{}') LOOP
    pieces := array_remove(string_to_array(btrim(desk_fold(term)), ' '), '');
    IF cardinality(pieces) > 0 THEN
      parts := parts || (array_to_string(
        ARRAY(SELECT quote_literal(p) FROM unnest(pieces) AS p), ' <-> ') || ':*');
    END IF;
  END LOOP;
  IF cardinality(parts) = 0 THEN
    RETURN NULL;
  END IF;
  RETURN array_to_string(parts, ' & ')::tsquery;
END $$;

-- One search row per ticket. `comments` holds the legacy comments text followed
-- by every comment body (for the excerpt); `doc` indexes all of it.
CREATE TABLE ticket_search (
  ticket_id BIGINT   PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
  comments  TEXT     NOT NULL DEFAULT '',
  doc       TSVECTOR NOT NULL
);

INSERT INTO ticket_search (ticket_id, comments, doc)
SELECT t.id, c.txt, desk_search_doc(t, c.txt)
FROM tickets t
CROSS JOIN LATERAL (
  SELECT concat_ws(E'\n', nullif(t.comments, ''),
                   (SELECT string_agg(body, E'\n' ORDER BY id)
                    FROM comments WHERE ticket_id = t.id)) AS txt
) c;

CREATE INDEX ticket_search_doc ON ticket_search USING gin (doc);

CREATE FUNCTION ticket_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  txt text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ticket_search (ticket_id, comments, doc)
    VALUES (NEW.id, NEW.comments, desk_search_doc(NEW, NEW.comments));
  ELSE
    txt := concat_ws(E'\n', nullif(NEW.comments, ''),
                     (SELECT string_agg(body, E'\n' ORDER BY id)
                      FROM comments WHERE ticket_id = NEW.id));
    UPDATE ticket_search SET comments = txt, doc = desk_search_doc(NEW, txt)
    WHERE ticket_id = NEW.id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER ticket_search_insert AFTER INSERT ON tickets
FOR EACH ROW EXECUTE FUNCTION ticket_search_sync();

CREATE TRIGGER ticket_search_update
AFTER UPDATE OF user_id, product_id, other_ids, description, comments ON tickets
FOR EACH ROW
WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id
  OR OLD.product_id IS DISTINCT FROM NEW.product_id
  OR OLD.other_ids IS DISTINCT FROM NEW.other_ids
  OR OLD.description IS DISTINCT FROM NEW.description
  OR OLD.comments IS DISTINCT FROM NEW.comments)
EXECUTE FUNCTION ticket_search_sync();

-- Appending is O(1) per comment: tsvector concatenation shifts the new words'
-- positions past the old ones. A comment never changes once written.
CREATE FUNCTION ticket_search_comment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE ticket_search
  SET comments = concat_ws(E'\n', nullif(comments, ''), NEW.body),
      doc = doc || to_tsvector('simple', coalesce(desk_fold(NEW.body), ''))
  WHERE ticket_id = NEW.ticket_id;
  RETURN NULL;
END $$;

CREATE TRIGGER ticket_search_comment AFTER INSERT ON comments
FOR EACH ROW EXECUTE FUNCTION ticket_search_comment();

-- Tickets per status and per product, so tabs and the product list never
-- count(*) the whole table. (dimension, value): ('status', 'Open'), ('product', 'PROD1').
CREATE TABLE ticket_counts (
  dimension TEXT   NOT NULL,
  value     TEXT   NOT NULL,
  n         BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (dimension, value)
);

INSERT INTO ticket_counts (dimension, value, n)
SELECT 'status', status, count(*) FROM tickets GROUP BY status;
INSERT INTO ticket_counts (dimension, value, n)
SELECT 'product', product_id, count(*) FROM tickets
WHERE product_id IS NOT NULL GROUP BY product_id;

CREATE FUNCTION ticket_counts_add(dim text, val text, delta int) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO ticket_counts (dimension, value, n)
  SELECT dim, val, delta WHERE val IS NOT NULL
  ON CONFLICT (dimension, value) DO UPDATE SET n = ticket_counts.n + delta
$$;

CREATE FUNCTION ticket_counts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    IF TG_OP = 'DELETE' OR OLD.status IS DISTINCT FROM NEW.status THEN
      PERFORM ticket_counts_add('status', OLD.status, -1);
    END IF;
    IF TG_OP = 'DELETE' OR OLD.product_id IS DISTINCT FROM NEW.product_id THEN
      PERFORM ticket_counts_add('product', OLD.product_id, -1);
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    IF TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status THEN
      PERFORM ticket_counts_add('status', NEW.status, 1);
    END IF;
    IF TG_OP = 'INSERT' OR OLD.product_id IS DISTINCT FROM NEW.product_id THEN
      PERFORM ticket_counts_add('product', NEW.product_id, 1);
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER ticket_counts_sync AFTER INSERT OR DELETE OR UPDATE OF status, product_id
ON tickets FOR EACH ROW EXECUTE FUNCTION ticket_counts_sync();
