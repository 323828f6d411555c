-- The agent workspace: each user's choice of board (cards or a list), the
-- "recent activity" order, and a product filter that matches in any letter
-- case.
ALTER TABLE users ADD COLUMN board_layout TEXT NOT NULL DEFAULT 'grid'
  CHECK (board_layout IN ('grid', 'list'));
CREATE INDEX tickets_updated_at_id ON tickets (updated_at, id);
CREATE INDEX tickets_product_nocase_id ON tickets (product_id COLLATE NOCASE, id);
