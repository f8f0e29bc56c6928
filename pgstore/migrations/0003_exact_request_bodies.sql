-- A journaled body is kept exactly, as SQLite keeps it (a BLOB when it is
-- not UTF-8), so that klaxon replay resends the bytes that arrived and the
-- API gives them as body_base64. PostgreSQL's text cannot hold bytes that
-- are not UTF-8, nor NUL: a body with them has its exact bytes here, and
-- body keeps them with U+FFFD in their place (what a klaxon from before
-- this migration reads). NULL: body is exact. Adding a nullable column
-- rewrites nothing, so existing rows, and nodes not yet upgraded, keep
-- working.
ALTER TABLE requests ADD COLUMN body_bytes bytea;
