-- The index's change log: every change to what a call's search documents hold (a call indexed
-- or re-verified, a call removed), in commit order. Each serving node follows it into its own
-- index, so a call indexed on one node is found on every node. No foreign key: the log
-- outlives the calls it removes.
CREATE TABLE index_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL,
    removed INTEGER NOT NULL,
    at TEXT NOT NULL
);
