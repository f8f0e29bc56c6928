-- A storm of repeats keeps only the first and the newest suppressed events of
-- an incident on its timeline (storage.Options.KeepSuppressed); its
-- suppressed counter still counts them all. suppressed_kept_to is the id of
-- the last of the first ones kept: the entries after it are the newest ones,
-- trimmed from their oldest end as new ones come. NULL until an incident has
-- folded that many, or when it predates this column (then it is worked out
-- on the incident's next repeat).
ALTER TABLE incidents ADD COLUMN suppressed_kept_to INTEGER;
