-- Integrations can be removed and their tokens rotated (klaxon integrations
-- remove, rotate). A removed integration's row stays, marked removed_at, so
-- that its incidents keep showing its name; it takes no new events and is
-- listed nowhere. Adding an integration of that name again brings the row
-- back with a new token (so the name stays unique, and its old incidents are
-- under it again).
ALTER TABLE integrations ADD COLUMN removed_at INTEGER; -- NULL: in use

-- The tokens an integration no longer has, by their SHA-256 in hex (the
-- token itself is not kept): a request with one is answered 404 with a hint
-- saying what became of it, or, during a rotation's grace period
-- (works_until), still taken.
CREATE TABLE retired_tokens (
	token_sha256   TEXT PRIMARY KEY,
	integration_id INTEGER NOT NULL REFERENCES integrations (id),
	reason         TEXT NOT NULL CHECK (reason IN ('rotated', 'removed')),
	retired_at     INTEGER NOT NULL,
	works_until    INTEGER NOT NULL -- retired_at: refused at once
);
