-- The work queue. A job is claimed by one worker with a lease that it renews (heartbeat); a job
-- whose lease ran out (its worker died) is claimable again. Every claim counts an attempt; after
-- the last allowed attempt the job is dead-lettered with its reason instead of being retried.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    owner TEXT,
    lease_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- One live job per call and kind: enqueuing again while one waits or runs is a no-op.
CREATE UNIQUE INDEX jobs_live ON jobs(call_id, kind) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_claim ON jobs(state, kind, id);
-- Calls that a previous version left unfinished get their job.
INSERT INTO jobs (call_id, kind, state, max_attempts, created_at, updated_at)
    SELECT id, 'transcribe', 'queued', 3, received_at, received_at FROM calls
    WHERE state IN ('received', 'transcribing');
