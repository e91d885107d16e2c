-- A workspace's events in log order: reading them by page (a graph rebuild, a compaction, the
-- admin's view of the log) walks this index instead of sorting the workspace's whole log for
-- each page, or walking everyone else's events. The queries name it (INDEXED BY): dropping it
-- by hand makes them fail rather than slow down unnoticed.
CREATE INDEX events_tenant_seq ON events (tenant, seq);
