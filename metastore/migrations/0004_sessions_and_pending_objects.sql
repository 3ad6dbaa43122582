-- Web sessions: the browser holds a random session id, never the API key. Only the id's
-- SHA-256 is kept; a session ends at its expiry, at sign-out, and when its key is revoked.
CREATE TABLE web_sessions (
    id_sha256 TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX web_sessions_key ON web_sessions(key_id);
-- Objects being written: a row is added before an original is stored and removed once its
-- call is catalogued, so that the object of an upload killed in between is known and removed
-- at the next start (instead of lying in the store, referenced by nothing).
CREATE TABLE pending_objects (
    object_key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    created_at TEXT NOT NULL
);
