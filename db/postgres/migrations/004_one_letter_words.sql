-- A one-letter search word is a whole word, not a prefix, as on SQLite: a
-- one-letter prefix matches a large share of the index on every first
-- keystroke of search-as-you-type. Two letters and more stay prefix matches.
CREATE OR REPLACE FUNCTION desk_search_query(terms text[]) RETURNS tsquery
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
        ARRAY(SELECT quote_literal(p) FROM unnest(pieces) AS p), ' <-> ')
        || CASE WHEN char_length(term) > 1 THEN ':*' ELSE '' END);
    END IF;
  END LOOP;
  IF cardinality(parts) = 0 THEN
    RETURN NULL;
  END IF;
  RETURN array_to_string(parts, ' & ')::tsquery;
END $$;
