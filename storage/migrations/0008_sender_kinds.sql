-- klaxon: foreign keys off
-- The senders' own dialects (alertmanager, grafana, pagerduty, opsgenie) as
-- integration kinds, and chaos for testing a sender's retries. The kind's
-- CHECK cannot be altered in place, so the table is rebuilt as SQLite's
-- ALTER TABLE documentation describes.
CREATE TABLE integrations_new (
	id               INTEGER PRIMARY KEY,
	name             TEXT NOT NULL UNIQUE,
	service          TEXT NOT NULL,
	escalation       TEXT NOT NULL DEFAULT '',
	kind             TEXT NOT NULL CHECK (kind IN ('webhook', 'healthchecks', 'alertmanager', 'grafana', 'pagerduty', 'opsgenie')),
	token            TEXT NOT NULL UNIQUE,
	created_at       INTEGER NOT NULL,
	ack_timeout_ms   INTEGER NOT NULL DEFAULT 0,
	resolve_after_ms INTEGER NOT NULL DEFAULT 0,
	chaos            TEXT NOT NULL DEFAULT '' -- incidents.ParseChaos; '' is off
);
INSERT INTO integrations_new (id, name, service, escalation, kind, token, created_at, ack_timeout_ms, resolve_after_ms)
SELECT id, name, service, escalation, kind, token, created_at, ack_timeout_ms, resolve_after_ms FROM integrations;
DROP TABLE integrations;
ALTER TABLE integrations_new RENAME TO integrations;

-- Which dialect read each journaled request, and what each alert in it did.
ALTER TABLE requests ADD COLUMN kind TEXT;
ALTER TABLE requests ADD COLUMN alerts TEXT; -- JSON array of incidents.AlertOutcome

-- At most one open incident per (integration, key), whatever the code does
-- (SPEC §2; migration 0005 had left it to the writer alone). Two processes
-- on one file, or a bug in the writer's memory of open keys, now fail the
-- write instead of opening a second incident.
CREATE UNIQUE INDEX incidents_one_open_per_key ON incidents (integration_id, dedup_key)
	WHERE status <> 'resolved' AND dedup_key IS NOT NULL;
