-- Legal holds: a call, or every call of a customer phone or a contract, kept past retention
-- and erasure until two different people release the hold.
CREATE TABLE legal_holds (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    json TEXT NOT NULL,
    active INTEGER NOT NULL
);
CREATE INDEX legal_holds_client ON legal_holds(client, active);
