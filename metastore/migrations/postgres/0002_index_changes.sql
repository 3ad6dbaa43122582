-- The index's change log (see the SQLite migration 0007). Sequence numbers are taken from a
-- head row locked until commit, so they become visible in order: a follower that has read up
-- to N never later finds a smaller number committed (a sequence could leave such gaps).
CREATE TABLE index_changes (
    seq BIGINT PRIMARY KEY,
    call_id TEXT NOT NULL,
    removed BOOLEAN NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE TABLE index_change_head (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    seq BIGINT NOT NULL
);
INSERT INTO index_change_head (seq) VALUES (0);
