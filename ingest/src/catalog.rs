//! The embedded SQL catalog: every call, its metadata, its state and its transcript.
//!
//! SQLite (bundled) is the embedded default so a data folder is self-contained and survives
//! restarts. The catalog is the single source of truth for a call's state; the search index is
//! derived from it and can be rebuilt from the transcripts stored here.

use std::path::Path;
use std::sync::Mutex;

use callproof_models::{
    AudioInfo, Call, CallId, CallMetadata, CallState, Transcript, Verdict, Verification,
};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("the catalog {path} cannot be opened: {source}; check the data folder's permissions")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("catalog: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("catalog holds unreadable data for call {id}: {detail}")]
    Corrupt { id: String, detail: String },
    #[error("this recording was already ingested as call {existing} (identical SHA-256); nothing was added")]
    Duplicate { existing: CallId },
    #[error("client {client} already has rule set version {version} with different content; give the changed file a higher `version`, or leave `version` out to get the next one")]
    RuleSetVersionTaken { client: String, version: u32 },
}

/// A client's rule set as stored: the TOML source exactly as given, and its hash.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredRuleSet {
    pub client: String,
    pub version: u32,
    pub sha256: String,
    pub source: String,
    pub created_at: DateTime<Utc>,
}

pub struct Catalog {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
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
PRAGMA user_version = 2;
";
/// Catalogs older than this get the missing tables added on open.
const SCHEMA_VERSION: i64 = 2;

/// A new call to record.
pub struct NewCall<'a> {
    pub id: CallId,
    pub metadata: &'a CallMetadata,
    pub sha256: &'a str,
    pub original_name: Option<&'a str>,
    pub size_bytes: u64,
    pub object_key: &'a str,
    pub audio: &'a AudioInfo,
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn corrupt(id: &str, e: impl std::fmt::Display) -> CatalogError {
    CatalogError::Corrupt {
        id: id.to_string(),
        detail: e.to_string(),
    }
}

impl Catalog {
    pub fn open(path: &Path) -> Result<Self, CatalogError> {
        let open_err = |source| CatalogError::Open {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(open_err)?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(open_err)?;
        // Several processes (a server, CLI commands) share one catalog. Schema set-up writes, and
        // a write while another process writes can fail at once with "database is locked"
        // instead of waiting, so it is done only on a new catalog, and retried.
        let ready = |c: &Connection| -> rusqlite::Result<bool> {
            let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            Ok(version >= SCHEMA_VERSION && mode.eq_ignore_ascii_case("wal"))
        };
        let mut attempt = 0;
        while !ready(&conn).map_err(open_err)? {
            let setup = conn
                .execute_batch("PRAGMA journal_mode = WAL;")
                .and_then(|_| conn.execute_batch(SCHEMA));
            match setup {
                Ok(()) => break,
                Err(e) if attempt < 50 && is_busy(&e) => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => return Err(open_err(e)),
            }
        }
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The call that already holds these exact bytes, if any.
    pub fn find_by_sha256(&self, sha256: &str) -> Result<Option<CallId>, CatalogError> {
        let id: Option<String> = self
            .conn()
            .query_row("SELECT id FROM calls WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()?;
        id.map(|s| s.parse().map_err(|e| corrupt(&s, e)))
            .transpose()
    }

    pub fn insert(&self, c: &NewCall<'_>) -> Result<(), CatalogError> {
        let now = Utc::now().to_rfc3339();
        let m = c.metadata;
        let metadata = serde_json::to_string(m).map_err(|e| corrupt(&c.id.to_string(), e))?;
        let audio = serde_json::to_string(c.audio).map_err(|e| corrupt(&c.id.to_string(), e))?;
        let res = self.conn().execute(
            "INSERT INTO calls (id, sha256, client, campaign, agent, customer_phone, contract_ref,
                started_at, metadata, original_name, size_bytes, object_key, audio, state,
                received_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'received', ?14, ?14)",
            params![
                c.id.to_string(),
                c.sha256,
                m.client,
                m.campaign,
                m.agent,
                m.customer_phone,
                m.contract_ref,
                m.started_at.map(|t| t.to_rfc3339()),
                metadata,
                c.original_name,
                c.size_bytes as i64,
                c.object_key,
                audio,
                now,
            ],
        );
        match res {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                match self.find_by_sha256(c.sha256)? {
                    Some(existing) => Err(CatalogError::Duplicate { existing }),
                    None => Err(rusqlite::Error::SqliteFailure(e, None).into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn set_state(&self, id: CallId, state: &CallState) -> Result<(), CatalogError> {
        let failure = match state {
            CallState::Failed(reason) => Some(reason.as_str()),
            _ => None,
        };
        self.conn().execute(
            "UPDATE calls SET state = ?2, failure = ?3, updated_at = ?4 WHERE id = ?1",
            params![
                id.to_string(),
                state.name(),
                failure,
                Utc::now().to_rfc3339()
            ],
        )?;
        Ok(())
    }

    pub fn object_key(&self, id: CallId) -> Result<Option<String>, CatalogError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT object_key FROM calls WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn get(&self, id: CallId) -> Result<Option<Call>, CatalogError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("{SELECT_CALL} WHERE id = ?1"))?;
        let row = stmt.query_row([id.to_string()], raw_call).optional()?;
        row.map(RawCall::into_call).transpose()
    }

    /// Calls in the given state, oldest first (used to resume work after a restart).
    pub fn in_state(&self, state: &str) -> Result<Vec<Call>, CatalogError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_CALL} WHERE state = ?1 ORDER BY received_at"
        ))?;
        let rows = stmt.query_map([state], raw_call)?;
        rows.map(|r| r.map_err(CatalogError::from).and_then(RawCall::into_call))
            .collect()
    }

    /// All calls, newest first, at most `limit`.
    pub fn list(&self, limit: usize) -> Result<Vec<Call>, CatalogError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached(&format!("{SELECT_CALL} ORDER BY received_at DESC LIMIT ?1"))?;
        let rows = stmt.query_map([limit as i64], raw_call)?;
        rows.map(|r| r.map_err(CatalogError::from).and_then(RawCall::into_call))
            .collect()
    }

    /// Removes a call that never completed ingestion (its original could not be stored).
    pub fn delete(&self, id: CallId) -> Result<(), CatalogError> {
        self.conn()
            .execute("DELETE FROM calls WHERE id = ?1", [id.to_string()])?;
        Ok(())
    }

    pub fn put_transcript(&self, t: &Transcript) -> Result<(), CatalogError> {
        let json = serde_json::to_string(t).map_err(|e| corrupt(&t.call_id.to_string(), e))?;
        self.conn().execute(
            "INSERT INTO transcripts (call_id, transcript) VALUES (?1, ?2)
             ON CONFLICT(call_id) DO UPDATE SET transcript = excluded.transcript",
            params![t.call_id.to_string(), json],
        )?;
        Ok(())
    }

    pub fn transcript(&self, id: CallId) -> Result<Option<Transcript>, CatalogError> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT transcript FROM transcripts WHERE call_id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| corrupt(&id.to_string(), e)))
            .transpose()
    }
}

impl Catalog {
    /// Stores a client's rule set. `version` None takes the next one. Storing the same content
    /// again is a no-op that returns the existing version.
    pub fn put_ruleset(
        &self,
        client: &str,
        version: Option<u32>,
        sha256: &str,
        source: &str,
    ) -> Result<StoredRuleSet, CatalogError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let same: Option<u32> = tx
            .query_row(
                "SELECT version FROM rulesets WHERE client = ?1 AND sha256 = ?2
                 AND (?3 IS NULL OR version = ?3) ORDER BY version DESC LIMIT 1",
                params![client, sha256, version],
                |r| r.get(0),
            )
            .optional()?;
        let version = match (same, version) {
            (Some(v), _) => v,
            (None, Some(v)) => {
                let taken: Option<u32> = tx
                    .query_row(
                        "SELECT version FROM rulesets WHERE client = ?1 AND version = ?2",
                        params![client, v],
                        |r| r.get(0),
                    )
                    .optional()?;
                if taken.is_some() {
                    return Err(CatalogError::RuleSetVersionTaken {
                        client: client.to_string(),
                        version: v,
                    });
                }
                v
            }
            (None, None) => {
                let max: Option<u32> = tx.query_row(
                    "SELECT MAX(version) FROM rulesets WHERE client = ?1",
                    [client],
                    |r| r.get(0),
                )?;
                max.unwrap_or(0) + 1
            }
        };
        if same.is_none() {
            tx.execute(
                "INSERT INTO rulesets (client, version, sha256, source, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![client, version, sha256, source, Utc::now().to_rfc3339()],
            )?;
        }
        tx.commit()?;
        drop(conn);
        self.ruleset(client, Some(version))?
            .ok_or_else(|| corrupt(client, "rule set vanished after being stored"))
    }

    /// A client's rule set: the given version, or the active one (the highest version).
    pub fn ruleset(
        &self,
        client: &str,
        version: Option<u32>,
    ) -> Result<Option<StoredRuleSet>, CatalogError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT client, version, sha256, source, created_at FROM rulesets
                 WHERE client = ?1 AND (?2 IS NULL OR version = ?2)
                 ORDER BY version DESC LIMIT 1",
                params![client, version],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, u32>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(client, version, sha256, source, created)| {
            Ok(StoredRuleSet {
                created_at: DateTime::parse_from_rfc3339(&created)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| corrupt(&client, e))?,
                client,
                version,
                sha256,
                source,
            })
        })
        .transpose()
    }

    /// Every version of a client's rule set, oldest first (sources included).
    pub fn ruleset_versions(&self, client: &str) -> Result<Vec<StoredRuleSet>, CatalogError> {
        let versions: Vec<u32> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(
                "SELECT version FROM rulesets WHERE client = ?1 ORDER BY version",
            )?;
            let rows = stmt.query_map([client], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        versions
            .into_iter()
            .filter_map(|v| self.ruleset(client, Some(v)).transpose())
            .collect()
    }

    pub fn put_verification(&self, v: &Verification) -> Result<(), CatalogError> {
        let json = serde_json::to_string(v).map_err(|e| corrupt(&v.call_id.to_string(), e))?;
        self.conn().execute(
            "INSERT INTO verifications (call_id, verdict, ruleset_id, ruleset_version, verification, verified_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(call_id) DO UPDATE SET verdict = excluded.verdict,
                ruleset_id = excluded.ruleset_id, ruleset_version = excluded.ruleset_version,
                verification = excluded.verification, verified_at = excluded.verified_at",
            params![
                v.call_id.to_string(),
                v.verdict.as_str(),
                v.ruleset.id,
                v.ruleset.version,
                json,
                v.verified_at.to_rfc3339()
            ],
        )?;
        Ok(())
    }

    pub fn verification(&self, id: CallId) -> Result<Option<Verification>, CatalogError> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT verification FROM verifications WHERE call_id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| corrupt(&id.to_string(), e)))
            .transpose()
    }

    /// A client's calls that have a transcript, oldest first: what re-verification walks.
    pub fn transcribed_calls(&self, client: &str) -> Result<Vec<Call>, CatalogError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_CALL} WHERE client = ?1 AND id IN (SELECT call_id FROM transcripts)
             ORDER BY received_at"
        ))?;
        let rows = stmt.query_map([client], raw_call)?;
        rows.map(|r| r.map_err(CatalogError::from).and_then(RawCall::into_call))
            .collect()
    }

    /// Number of verified calls per verdict for a client.
    pub fn verdict_counts(&self, client: &str) -> Result<Vec<(Verdict, u64)>, CatalogError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT v.verdict, COUNT(*) FROM verifications v JOIN calls c ON c.id = v.call_id
             WHERE c.client = ?1 GROUP BY v.verdict ORDER BY v.verdict",
        )?;
        let rows = stmt.query_map([client], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (v, n) = row?;
            let verdict = v.parse().map_err(|e: String| corrupt(client, e))?;
            out.push((verdict, n.max(0) as u64));
        }
        Ok(out)
    }
}

const SELECT_CALL: &str = "SELECT id, metadata, sha256, original_name, size_bytes, audio, state,
    failure, received_at, updated_at FROM calls";

struct RawCall {
    id: String,
    metadata: String,
    sha256: String,
    original_name: Option<String>,
    size_bytes: i64,
    audio: Option<String>,
    state: String,
    failure: Option<String>,
    received_at: String,
    updated_at: String,
}

fn raw_call(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawCall> {
    Ok(RawCall {
        id: r.get(0)?,
        metadata: r.get(1)?,
        sha256: r.get(2)?,
        original_name: r.get(3)?,
        size_bytes: r.get(4)?,
        audio: r.get(5)?,
        state: r.get(6)?,
        failure: r.get(7)?,
        received_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

impl RawCall {
    fn into_call(self) -> Result<Call, CatalogError> {
        let id = &self.id;
        let time = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| corrupt(id, e))
        };
        let state = match self.state.as_str() {
            "received" => CallState::Received,
            "transcribing" => CallState::Transcribing,
            "indexed" => CallState::Indexed,
            "failed" => CallState::Failed(self.failure.clone().unwrap_or_default()),
            other => return Err(corrupt(id, format!("unknown state {other}"))),
        };
        Ok(Call {
            id: self.id.parse().map_err(|e: String| corrupt(id, e))?,
            metadata: serde_json::from_str(&self.metadata).map_err(|e| corrupt(id, e))?,
            sha256: self.sha256.clone(),
            original_name: self.original_name.clone(),
            size_bytes: self.size_bytes.max(0) as u64,
            audio: self
                .audio
                .as_deref()
                .map(serde_json::from_str::<AudioInfo>)
                .transpose()
                .map_err(|e| corrupt(id, e))?,
            state,
            received_at: time(&self.received_at)?,
            updated_at: time(&self.updated_at)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callproof_models::{RuleSetRef, Verification};

    fn new_call(cat: &Catalog, client: &str, sha: &str) -> CallId {
        let id = CallId::new();
        let meta = CallMetadata {
            client: client.into(),
            ..Default::default()
        };
        let audio = AudioInfo {
            format: "wav".into(),
            sample_rate: 8000,
            channels: 2,
            duration_ms: 1000,
        };
        cat.insert(&NewCall {
            id,
            metadata: &meta,
            sha256: sha,
            original_name: None,
            size_bytes: 1,
            object_key: "k",
            audio: &audio,
        })
        .unwrap();
        id
    }

    #[test]
    fn rule_set_versions() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalog::open(&dir.path().join("c.sqlite")).unwrap();
        assert!(cat.ruleset("acme", None).unwrap().is_none());
        let v1 = cat.put_ruleset("acme", None, "h1", "one").unwrap();
        assert_eq!(v1.version, 1);
        // Same content again: nothing new.
        assert_eq!(
            cat.put_ruleset("acme", None, "h1", "one").unwrap().version,
            1
        );
        assert_eq!(
            cat.put_ruleset("acme", None, "h2", "two").unwrap().version,
            2
        );
        assert_eq!(
            cat.put_ruleset("acme", Some(7), "h3", "three")
                .unwrap()
                .version,
            7
        );
        // A version number cannot be reused for other content.
        assert!(matches!(
            cat.put_ruleset("acme", Some(7), "h4", "four"),
            Err(CatalogError::RuleSetVersionTaken { version: 7, .. })
        ));
        let active = cat.ruleset("acme", None).unwrap().unwrap();
        assert_eq!((active.version, active.source.as_str()), (7, "three"));
        assert_eq!(cat.ruleset("acme", Some(2)).unwrap().unwrap().source, "two");
        assert_eq!(cat.ruleset_versions("acme").unwrap().len(), 3);
        assert!(cat.ruleset("globex", None).unwrap().is_none());
    }

    #[test]
    fn verifications_are_stored_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalog::open(&dir.path().join("c.sqlite")).unwrap();
        let id = new_call(&cat, "acme", "s1");
        let mut v = Verification {
            call_id: id,
            ruleset: RuleSetRef {
                id: "fr-demarchage".into(),
                version: 1,
                sha256: "x".into(),
                builtin: true,
            },
            verdict: Verdict::Violation,
            findings: vec![],
            verified_at: Utc::now(),
        };
        cat.put_verification(&v).unwrap();
        v.verdict = Verdict::Compliant;
        cat.put_verification(&v).unwrap();
        assert_eq!(
            cat.verification(id).unwrap().unwrap().verdict,
            Verdict::Compliant
        );
        assert_eq!(
            cat.verdict_counts("acme").unwrap(),
            vec![(Verdict::Compliant, 1)]
        );
        assert!(cat.transcribed_calls("acme").unwrap().is_empty());
    }
}
