-- The people generation moves with every row written to what projections derive people from,
-- whoever writes it: this code, an older build, a tool editing the database. A writer that needs
-- to know its own share reads the counter at the start and end of its transaction.
-- Moved once now: nothing taken before the triggers existed names the generation after them.
UPDATE generation SET value = value + 1 WHERE id = 0;
CREATE TRIGGER generation_people_insert AFTER INSERT ON people
BEGIN UPDATE generation SET value = value + 1 WHERE id = 0; END;
CREATE TRIGGER generation_people_update AFTER UPDATE ON people
BEGIN UPDATE generation SET value = value + 1 WHERE id = 0; END;
CREATE TRIGGER generation_people_delete AFTER DELETE ON people
BEGIN UPDATE generation SET value = value + 1 WHERE id = 0; END;
CREATE TRIGGER generation_identities_insert AFTER INSERT ON identities
BEGIN UPDATE generation SET value = value + 1 WHERE id = 0; END;
CREATE TRIGGER generation_identities_update AFTER UPDATE ON identities
BEGIN UPDATE generation SET value = value + 1 WHERE id = 0; END;
CREATE TRIGGER generation_identities_delete AFTER DELETE ON identities
BEGIN UPDATE generation SET value = value + 1 WHERE id = 0; END;
CREATE TRIGGER generation_accounts_insert AFTER INSERT ON account_history
BEGIN UPDATE generation SET value = value + 1 WHERE id = 0; END;
CREATE TRIGGER generation_accounts_update AFTER UPDATE ON account_history
BEGIN UPDATE generation SET value = value + 1 WHERE id = 0; END;
CREATE TRIGGER generation_accounts_delete AFTER DELETE ON account_history
BEGIN UPDATE generation SET value = value + 1 WHERE id = 0; END;
-- Appends are replayed from the log; rewrites and deletions of logged events are not.
CREATE TRIGGER generation_events_update AFTER UPDATE ON events
BEGIN UPDATE generation SET value = value + 1 WHERE id = 0; END;
CREATE TRIGGER generation_events_delete AFTER DELETE ON events
BEGIN UPDATE generation SET value = value + 1 WHERE id = 0; END;
