-- How long each attempt of a job worked (see the SQLite migration 0008).
ALTER TABLE jobs ADD COLUMN started_at TIMESTAMPTZ;
ALTER TABLE jobs ADD COLUMN work_ms BIGINT;
CREATE INDEX jobs_done ON jobs(kind, state, updated_at);
