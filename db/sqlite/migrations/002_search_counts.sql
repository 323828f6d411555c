-- Dashboard support: full-text search and cheap counts, both kept in sync by
-- triggers so every write path (the store, bulk seeding, a manual fix in the
-- sqlite3 shell) keeps them right, and rebuilt here for existing rows.

-- One search row per ticket (rowid = ticket id). `comments` holds the legacy
-- comments text followed by every comment body. Prefix queries ("jo"*) need no
-- extra index; unicode61 folds case and diacritics.
CREATE VIRTUAL TABLE tickets_fts USING fts5 (
  user_id,
  product_id,
  other_ids,
  description,
  comments,
  tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO tickets_fts (rowid, user_id, product_id, other_ids, description, comments)
SELECT t.id, t.user_id, t.product_id, t.other_ids, t.description,
       concat_ws(char(10), nullif(t.comments, ''),
                 (SELECT group_concat(c.body, char(10)) FROM comments c WHERE c.ticket_id = t.id))
FROM tickets t;

CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets
BEGIN
  INSERT INTO tickets_fts (rowid, user_id, product_id, other_ids, description, comments)
  VALUES (NEW.id, NEW.user_id, NEW.product_id, NEW.other_ids, NEW.description, NEW.comments);
END;

CREATE TRIGGER tickets_fts_update
AFTER UPDATE OF user_id, product_id, other_ids, description, comments ON tickets
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.product_id IS NOT NEW.product_id
  OR OLD.other_ids IS NOT NEW.other_ids OR OLD.description IS NOT NEW.description
  OR OLD.comments IS NOT NEW.comments
BEGIN
  UPDATE tickets_fts
  SET user_id = NEW.user_id, product_id = NEW.product_id, other_ids = NEW.other_ids,
      description = NEW.description,
      comments = concat_ws(char(10), nullif(NEW.comments, ''),
                           (SELECT group_concat(c.body, char(10)) FROM comments c WHERE c.ticket_id = NEW.id))
  WHERE rowid = NEW.id;
END;

CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets
BEGIN
  DELETE FROM tickets_fts WHERE rowid = OLD.id;
END;

-- Appending is O(1) per comment; a comment never changes once written.
CREATE TRIGGER comments_fts_insert AFTER INSERT ON comments
BEGIN
  UPDATE tickets_fts
  SET comments = concat_ws(char(10), nullif(comments, ''), NEW.body)
  WHERE rowid = NEW.ticket_id;
END;

-- Tickets per status and per product, so tabs and the product list never
-- COUNT(*) the whole table. (dimension, value): ('status', 'Open'), ('product', 'PROD1').
CREATE TABLE ticket_counts (
  dimension TEXT    NOT NULL,
  value     TEXT    NOT NULL,
  n         INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (dimension, value)
) WITHOUT ROWID;

INSERT INTO ticket_counts (dimension, value, n)
SELECT 'status', status, count(*) FROM tickets GROUP BY status;
INSERT INTO ticket_counts (dimension, value, n)
SELECT 'product', product_id, count(*) FROM tickets
WHERE product_id IS NOT NULL GROUP BY product_id;

CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets
BEGIN
  INSERT INTO ticket_counts (dimension, value, n) VALUES ('status', NEW.status, 1)
  ON CONFLICT (dimension, value) DO UPDATE SET n = n + 1;
  INSERT INTO ticket_counts (dimension, value, n)
  SELECT 'product', NEW.product_id, 1 WHERE NEW.product_id IS NOT NULL
  ON CONFLICT (dimension, value) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets
BEGIN
  UPDATE ticket_counts SET n = n - 1 WHERE dimension = 'status' AND value = OLD.status;
  UPDATE ticket_counts SET n = n - 1 WHERE dimension = 'product' AND value = OLD.product_id;
END;

CREATE TRIGGER ticket_counts_status AFTER UPDATE OF status ON tickets
WHEN OLD.status IS NOT NEW.status
BEGIN
  UPDATE ticket_counts SET n = n - 1 WHERE dimension = 'status' AND value = OLD.status;
  INSERT INTO ticket_counts (dimension, value, n) VALUES ('status', NEW.status, 1)
  ON CONFLICT (dimension, value) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_counts_product AFTER UPDATE OF product_id ON tickets
WHEN OLD.product_id IS NOT NEW.product_id
BEGIN
  UPDATE ticket_counts SET n = n - 1 WHERE dimension = 'product' AND value = OLD.product_id;
  INSERT INTO ticket_counts (dimension, value, n)
  SELECT 'product', NEW.product_id, 1 WHERE NEW.product_id IS NOT NULL
  ON CONFLICT (dimension, value) DO UPDATE SET n = n + 1;
END;
