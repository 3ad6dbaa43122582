-- How long each attempt of a job worked: started when claimed, measured when completed. The
-- transcription speed (seconds of work per second of audio) is read from the done jobs, so that
-- every serving node reports it for workers running in other processes or machines.
ALTER TABLE jobs ADD COLUMN started_at TEXT;
ALTER TABLE jobs ADD COLUMN work_ms INTEGER;
CREATE INDEX jobs_done ON jobs(kind, state, updated_at);
