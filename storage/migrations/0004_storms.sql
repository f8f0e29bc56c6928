-- Storms: a key that triggers StormThreshold (20) times within StormWindow
-- (60 s) storms for the next StormWindow after each such repeat, as Spike
-- limits it. Repeats still count exactly; their raw events are sampled.
-- storm_start and storm_count are the current window; storm_until is when
-- the storm ends (0: not storming). Unix milliseconds.
ALTER TABLE incidents ADD COLUMN storm_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN storm_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN storm_until INTEGER NOT NULL DEFAULT 0;
