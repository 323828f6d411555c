-- What an API key may do: a comma-separated list of create, read and write, in
-- that order. Keys made before scopes existed keep every scope (the default),
-- so no deployed app breaks; new keys get what they are given.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'create,read,write';
