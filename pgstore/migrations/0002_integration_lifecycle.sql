-- Integrations can be removed and their tokens rotated, as SQLite's
-- migration 0010 has it: a removed integration's row stays, marked
-- removed_at, so that its incidents keep showing its name; it takes no new
-- events and is listed nowhere. Adding an integration of that name again
-- brings the row back with a new token.
ALTER TABLE integrations ADD COLUMN removed_at bigint; -- NULL: in use

-- The tokens an integration no longer has, by their SHA-256 in hex (the
-- token itself is not kept): a request with one is answered 404 with a hint
-- saying what became of it, or, during a rotation's grace period
-- (works_until), still taken.
CREATE TABLE retired_tokens (
	token_sha256   text PRIMARY KEY,
	integration_id bigint NOT NULL REFERENCES integrations (id),
	reason         text NOT NULL CHECK (reason IN ('rotated', 'removed')),
	retired_at     bigint NOT NULL,
	works_until    bigint NOT NULL -- retired_at: refused at once
);
