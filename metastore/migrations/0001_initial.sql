-- The catalog as callproof 0.1 created it (PRAGMA user_version 5). IF NOT EXISTS: a catalog
-- made before numbered migrations already holds these tables and is only recorded as migrated.
CREATE TABLE IF NOT EXISTS calls (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
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
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_client ON calls(client, started_at);
CREATE INDEX IF NOT EXISTS calls_state ON calls(state);
CREATE TABLE IF NOT EXISTS transcripts (
    call_id TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
    transcript TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rulesets (
    client TEXT NOT NULL,
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (client, version)
);
CREATE TABLE IF NOT EXISTS verifications (
    call_id TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
    verdict TEXT NOT NULL,
    ruleset_id TEXT NOT NULL,
    ruleset_version INTEGER NOT NULL,
    verification TEXT NOT NULL,
    verified_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS verifications_verdict ON verifications(verdict);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    clients TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    role TEXT NOT NULL,
    tenant TEXT,
    action TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS samples (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    sample TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reviews (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    reviewer TEXT NOT NULL,
    calibration_id TEXT,
    version INTEGER NOT NULL,
    review TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_call ON reviews(call_id, reviewer);
CREATE TABLE IF NOT EXISTS calibrations (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    calibration TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS key_preferences (
    key_id TEXT PRIMARY KEY,
    language TEXT NOT NULL
);
