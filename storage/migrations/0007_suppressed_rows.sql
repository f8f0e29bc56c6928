-- While an incident storms, only every StormSample-th repeat is recorded on
-- its timeline (the counter still counts every one), so the number of
-- suppressed events an incident stores is no longer its counter.
-- suppressed_rows is that number, which trimming to the first and newest
-- KeepSuppressed goes by. NULL: not known yet (an incident from before this
-- column); it is counted on the incident's next repeat.
ALTER TABLE incidents ADD COLUMN suppressed_rows INTEGER;
