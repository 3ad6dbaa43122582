-- The PostgreSQL catalog, in the shape the SQLite catalog reached with its migration 0006
-- (same tables and meaning; times as timestamptz, ids and JSON documents as text so that a
-- record moves between engines unchanged). Later changes are numbered migrations here too.
CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    client TEXT NOT NULL,
    campaign TEXT,
    agent TEXT,
    customer_phone TEXT,
    contract_ref TEXT,
    started_at TIMESTAMPTZ,
    metadata TEXT NOT NULL,
    original_name TEXT,
    size_bytes BIGINT NOT NULL,
    object_key TEXT NOT NULL,
    audio TEXT,
    state TEXT NOT NULL,
    failure TEXT,
    received_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (client, sha256)
);
CREATE INDEX calls_client ON calls(client, started_at);
CREATE INDEX calls_state ON calls(state, received_at);
CREATE INDEX calls_received ON calls(received_at);
CREATE TABLE transcripts (
    call_id TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
    transcript TEXT NOT NULL
);
CREATE TABLE rulesets (
    client TEXT NOT NULL,
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (client, version)
);
CREATE TABLE verifications (
    call_id TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
    verdict TEXT NOT NULL,
    ruleset_id TEXT NOT NULL,
    ruleset_version INTEGER NOT NULL,
    verification TEXT NOT NULL,
    verified_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX verifications_verdict ON verifications(verdict);
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    clients TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
-- The audit log and its head. Appending locks the head row, so entries from every node are
-- numbered in one sequence; the head (kept apart from the entries) reveals the deletion of the
-- newest entries.
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    key_id TEXT NOT NULL,
    role TEXT NOT NULL,
    tenant TEXT,
    action TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_at ON audit(at);
CREATE TABLE audit_head (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (seq, hash)
    VALUES (0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TABLE samples (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    sample TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE reviews (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    reviewer TEXT NOT NULL,
    calibration_id TEXT,
    version INTEGER NOT NULL,
    review TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX reviews_call ON reviews(call_id, reviewer);
CREATE TABLE calibrations (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    calibration TEXT NOT NULL
);
CREATE TABLE key_preferences (
    key_id TEXT PRIMARY KEY,
    language TEXT NOT NULL
);
-- The work queue: claimed with FOR UPDATE SKIP LOCKED under a lease (database time, so that
-- workers on machines with skewed clocks agree on when a lease ran out).
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    owner TEXT,
    lease_until TIMESTAMPTZ,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX jobs_live ON jobs(call_id, kind) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_claim ON jobs(kind, id) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_owner ON jobs(owner) WHERE state = 'running';
CREATE TABLE web_sessions (
    id_sha256 TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_sessions_key ON web_sessions(key_id);
CREATE TABLE pending_objects (
    object_key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE redactions (
    call_id TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
    json TEXT NOT NULL
);
CREATE TABLE legal_holds (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    json TEXT NOT NULL,
    active BOOLEAN NOT NULL
);
CREATE INDEX legal_holds_client ON legal_holds(client, active);
