-- Per-integration timers, as Spike has them: an acknowledged incident returns
-- to triggered after ack_timeout_ms; an open incident resolves itself once it
-- has not been seen for resolve_after_ms. Zero is off.
ALTER TABLE integrations ADD COLUMN ack_timeout_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE integrations ADD COLUMN resolve_after_ms INTEGER NOT NULL DEFAULT 0;
