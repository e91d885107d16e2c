-- The people generation: bumped in the same transaction as every write that changes what a
-- projection derives about people (a profile, identities, an erasure, events rewritten by a
-- merge). A projection kept outside the store (the interaction graph's snapshot) is only valid
-- for the generation it was taken at.
CREATE TABLE generation (
    id    INTEGER PRIMARY KEY CHECK (id = 0),
    value INTEGER NOT NULL
);
INSERT INTO generation (id, value) VALUES (0, 0);
