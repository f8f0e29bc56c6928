-- klaxon's first schema. Times are Unix milliseconds (UTC).
CREATE TABLE integrations (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	service    TEXT NOT NULL,
	escalation TEXT NOT NULL DEFAULT '',
	kind       TEXT NOT NULL CHECK (kind IN ('webhook', 'healthchecks')),
	token      TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
);

CREATE TABLE incidents (
	id              INTEGER PRIMARY KEY,
	integration_id  INTEGER NOT NULL REFERENCES integrations (id),
	dedup_key       TEXT, -- NULL: never grouped, suppressed or auto-resolved
	title           TEXT NOT NULL,
	details         TEXT, -- JSON text; NULL is null
	severity        TEXT CHECK (severity IN ('sev1', 'sev2', 'sev3')),
	priority        TEXT CHECK (priority IN ('p1', 'p2', 'p3', 'p4', 'p5')),
	status          TEXT NOT NULL CHECK (status IN ('triggered', 'acknowledged', 'resolved')),
	suppressed      INTEGER NOT NULL DEFAULT 0,
	first_seen      INTEGER NOT NULL,
	last_seen       INTEGER NOT NULL,
	acknowledged_at INTEGER,
	resolved_at     INTEGER,
	resolved_by     TEXT,
	is_open         INTEGER GENERATED ALWAYS AS (status <> 'resolved') VIRTUAL,
	-- SPEC §3 order as one sortable string: severity (none last), priority
	-- (none last), newest last_seen, highest id. Lists page on it by keyset.
	sort_key        TEXT GENERATED ALWAYS AS (printf('%d%d%019d%019d',
		CASE severity WHEN 'sev1' THEN 1 WHEN 'sev2' THEN 2 WHEN 'sev3' THEN 3 ELSE 4 END,
		CASE priority WHEN 'p1' THEN 1 WHEN 'p2' THEN 2 WHEN 'p3' THEN 3 WHEN 'p4' THEN 4 WHEN 'p5' THEN 5 ELSE 6 END,
		9223372036854775807 - last_seen, 9223372036854775807 - id)) VIRTUAL
);

-- At most one open incident per (integration, key), whatever the code does.
CREATE UNIQUE INDEX incidents_one_open_per_key ON incidents (integration_id, dedup_key)
	WHERE status <> 'resolved' AND dedup_key IS NOT NULL;
CREATE INDEX incidents_open_order ON incidents (is_open, sort_key);
CREATE INDEX incidents_status_order ON incidents (status, sort_key);
CREATE INDEX incidents_order ON incidents (sort_key);

CREATE TABLE timeline (
	id          INTEGER PRIMARY KEY,
	incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	at          INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	actor       TEXT NOT NULL,
	from_value  TEXT,
	to_value    TEXT,
	event       TEXT -- the raw webhook payload, JSON
);
CREATE INDEX timeline_by_incident ON timeline (incident_id, id);
CREATE INDEX timeline_suppressed ON timeline (id) WHERE kind = 'suppressed';

CREATE TABLE requests (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,
	remote      TEXT NOT NULL,
	method      TEXT NOT NULL,
	path        TEXT NOT NULL,
	integration TEXT,
	headers     TEXT NOT NULL, -- JSON object of arrays, secrets redacted
	body        TEXT NOT NULL,
	truncated   INTEGER NOT NULL DEFAULT 0,
	status      INTEGER NOT NULL,
	outcome     TEXT NOT NULL,
	error       TEXT,
	warnings    TEXT, -- JSON array
	incident_id INTEGER,
	response    TEXT NOT NULL
);
