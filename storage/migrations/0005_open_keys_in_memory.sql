-- The writer keeps the open incidents by dedup key in memory (storage
-- openKeys): keys arrive in no order, and maintaining this index wrote a page
-- in the middle of it for every new incident, most of each commit's pages.
-- One open incident per (integration, key) is the single writer's rule now,
-- checked against the row on every fold.
DROP INDEX incidents_one_open_per_key;
