-- What was redacted from a call (kinds, speakers, times, the recording's SHA-256 before and
-- after), kept instead of the data itself.
CREATE TABLE redactions (
    call_id TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
    json TEXT NOT NULL
);
