-- A recording is a duplicate only within its tenant: UNIQUE(sha256) across tenants let one
-- tenant learn, or block, another tenant's call. SQLite cannot drop a column constraint, so the
-- table is rebuilt (foreign keys are switched off around this migration by the runner).
CREATE TABLE calls_new (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    client TEXT NOT NULL,
    campaign TEXT,
    agent TEXT,
    customer_phone TEXT,
    contract_ref TEXT,
    started_at TEXT,
    metadata TEXT NOT NULL,
    original_name TEXT,
    size_bytes INTEGER NOT NULL,
    object_key TEXT NOT NULL,
    audio TEXT,
    state TEXT NOT NULL,
    failure TEXT,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (client, sha256)
);
INSERT INTO calls_new SELECT id, sha256, client, campaign, agent, customer_phone, contract_ref,
    started_at, metadata, original_name, size_bytes, object_key, audio, state, failure,
    received_at, updated_at FROM calls;
DROP TABLE calls;
ALTER TABLE calls_new RENAME TO calls;
CREATE INDEX calls_client ON calls(client, started_at);
CREATE INDEX calls_state ON calls(state);
