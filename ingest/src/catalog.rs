//! The embedded SQL catalog: every call, its metadata, its state and its transcript.
//!
//! SQLite (bundled) is the embedded default so a data folder is self-contained and survives
//! restarts. The catalog is the single source of truth for a call's state; the search index is
//! derived from it and can be rebuilt from the transcripts stored here.

use std::path::Path;
use std::sync::Mutex;

use callproof_models::{
    Actor, ApiKey, AudioInfo, AuditEntry, Calibration, Call, CallId, CallMetadata, CallState,
    Review, Role, Sample, Scope, Transcript, Verdict, Verification,
};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

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
    #[error("no API key {0}; `callproof keys list` shows them")]
    NoSuchKey(String),
}

/// Where the audit log's hash chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditBreak {
    /// The first entry that fails (or, for a missing entry, the one after the gap).
    pub seq: u64,
    pub reason: String,
}

/// Filters of an audit log listing.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub key_id: Option<String>,
    pub action: Option<String>,
    pub tenant: Option<String>,
    pub target: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: Option<usize>,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
    /// Holds the last audit entry's sequence and hash outside the database, so that removing
    /// the newest entries is detectable too.
    audit_head: std::path::PathBuf,
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
PRAGMA user_version = 5;
";
/// Catalogs older than this get the missing tables added on open.
const SCHEMA_VERSION: i64 = 5;

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
        let mut head = path.as_os_str().to_owned();
        head.push(".audit-head");
        Ok(Self {
            conn: Mutex::new(conn),
            audit_head: head.into(),
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

/// Tenants a scope is limited to, as the JSON array SQL reads with `json_each`; `None` for
/// every tenant.
fn scope_json(scope: &Scope) -> Option<String> {
    scope
        .clients()
        .map(|list| serde_json::to_string(list).unwrap_or_else(|_| "[]".into()))
}

fn audit_hash(
    seq: u64,
    at: &str,
    actor: &Actor,
    action: &str,
    target: Option<&str>,
    outcome: &str,
    prev: &str,
) -> String {
    let line = format!(
        "{seq}\x1f{at}\x1f{}\x1f{}\x1f{}\x1f{action}\x1f{}\x1f{outcome}\x1f{prev}",
        actor.key_id,
        actor.role,
        actor.tenant.as_deref().unwrap_or(""),
        target.unwrap_or("")
    );
    hex::encode(Sha256::digest(line.as_bytes()))
}

impl Catalog {
    /// A call, only if `scope` may see it: another tenant's call is indistinguishable from
    /// one that does not exist.
    pub fn get_in(&self, id: CallId, scope: &Scope) -> Result<Option<Call>, CatalogError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_CALL_C} WHERE c.id = ?1
               AND (?2 IS NULL OR c.client IN (SELECT value FROM json_each(?2)))"
        ))?;
        let row = stmt
            .query_row(params![id.to_string(), scope_json(scope)], raw_call)
            .optional()?;
        row.map(RawCall::into_call).transpose()
    }

    /// Calls `scope` may see, newest first.
    pub fn list_in(&self, scope: &Scope, limit: usize) -> Result<Vec<Call>, CatalogError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_CALL_C} WHERE (?2 IS NULL OR c.client IN (SELECT value FROM json_each(?2)))
             ORDER BY c.received_at DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map(params![limit as i64, scope_json(scope)], raw_call)?;
        rows.map(|r| r.map_err(CatalogError::from).and_then(RawCall::into_call))
            .collect()
    }

    /// The object key of a call's original, only if `scope` may see the call and the key lies
    /// under that call's tenant (`clients/<client>/…`): a row pointing into another tenant's
    /// objects is refused rather than served.
    pub fn object_key_in(&self, id: CallId, scope: &Scope) -> Result<Option<String>, CatalogError> {
        let Some(call) = self.get_in(id, scope)? else {
            return Ok(None);
        };
        let Some(key) = self.object_key(id)? else {
            return Ok(None);
        };
        if !key.starts_with(&format!("clients/{}/", call.metadata.client)) {
            return Err(corrupt(
                &id.to_string(),
                format!("its original is stored outside its tenant's objects ({key})"),
            ));
        }
        Ok(Some(key))
    }

    /// A call's transcript, only if `scope` may see the call.
    pub fn transcript_in(
        &self,
        id: CallId,
        scope: &Scope,
    ) -> Result<Option<Transcript>, CatalogError> {
        if self.get_in(id, scope)?.is_none() {
            return Ok(None);
        }
        self.transcript(id)
    }

    /// A call's verification, only if `scope` may see the call.
    pub fn verification_in(
        &self,
        id: CallId,
        scope: &Scope,
    ) -> Result<Option<Verification>, CatalogError> {
        if self.get_in(id, scope)?.is_none() {
            return Ok(None);
        }
        self.verification(id)
    }

    /// Creates an API key; the caller keeps the secret, only its SHA-256 is stored.
    pub fn create_key(
        &self,
        id: &str,
        name: &str,
        role: Role,
        clients: &[String],
        secret_sha256: &str,
    ) -> Result<ApiKey, CatalogError> {
        let now = Utc::now();
        self.conn().execute(
            "INSERT INTO api_keys (id, name, role, clients, secret_sha256, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                name,
                role.as_str(),
                serde_json::to_string(clients).unwrap_or_else(|_| "[]".into()),
                secret_sha256,
                now.to_rfc3339()
            ],
        )?;
        Ok(ApiKey {
            id: id.to_string(),
            name: name.to_string(),
            role,
            clients: clients.to_vec(),
            created_at: now,
            revoked_at: None,
        })
    }

    /// A key and its secret's SHA-256, revoked or not.
    pub fn key(&self, id: &str) -> Result<Option<(ApiKey, String)>, CatalogError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT id, name, role, clients, created_at, revoked_at, secret_sha256
                 FROM api_keys WHERE id = ?1",
                [id],
                raw_key,
            )
            .optional()?;
        row.map(|(k, h)| Ok((k?, h))).transpose()
    }

    pub fn keys(&self) -> Result<Vec<ApiKey>, CatalogError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, role, clients, created_at, revoked_at, secret_sha256
             FROM api_keys ORDER BY created_at",
        )?;
        let rows = stmt.query_map([], raw_key)?;
        rows.map(|r| r.map_err(CatalogError::from).and_then(|(k, _)| k))
            .collect()
    }

    /// Revokes a key; revoking twice keeps the first time.
    pub fn revoke_key(&self, id: &str) -> Result<ApiKey, CatalogError> {
        self.conn().execute(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
            params![id, Utc::now().to_rfc3339()],
        )?;
        self.key(id)?
            .map(|(k, _)| k)
            .ok_or_else(|| CatalogError::NoSuchKey(id.to_string()))
    }

    /// Appends an entry to the hash-chained audit log.
    pub fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: Option<&str>,
        outcome: &str,
    ) -> Result<AuditEntry, CatalogError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let last: Option<(u64, String)> = tx
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (prev_seq, prev_hash) = last.unwrap_or((0, GENESIS.to_string()));
        let seq = prev_seq + 1;
        let at = Utc::now();
        let at_s = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let hash = audit_hash(seq, &at_s, actor, action, target, outcome, &prev_hash);
        tx.execute(
            "INSERT INTO audit (seq, at, key_id, role, tenant, action, target, outcome, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                seq,
                at_s,
                actor.key_id,
                actor.role.as_str(),
                actor.tenant,
                action,
                target,
                outcome,
                prev_hash,
                hash
            ],
        )?;
        tx.commit()?;
        drop(conn);
        // Best effort: the chain itself still detects edits and deletions inside the log.
        let _ = std::fs::write(&self.audit_head, format!("{seq} {hash}\n"));
        Ok(AuditEntry {
            seq,
            at,
            actor: actor.clone(),
            action: action.to_string(),
            target: target.map(str::to_string),
            outcome: outcome.to_string(),
            prev_hash,
            hash,
        })
    }

    /// Audit entries, oldest first, filtered.
    pub fn audit_entries(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>, CatalogError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, at, key_id, role, tenant, action, target, outcome, prev_hash, hash
             FROM audit
             WHERE (?1 IS NULL OR key_id = ?1) AND (?2 IS NULL OR action = ?2)
               AND (?3 IS NULL OR tenant = ?3) AND (?4 IS NULL OR target = ?4)
               AND (?5 IS NULL OR at >= ?5) AND (?6 IS NULL OR at < ?6)
             ORDER BY seq LIMIT ?7",
        )?;
        let ts = |t: &Option<DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        };
        let rows = stmt.query_map(
            params![
                f.key_id,
                f.action,
                f.tenant,
                f.target,
                ts(&f.from),
                ts(&f.to),
                f.limit.unwrap_or(1000) as i64
            ],
            raw_audit,
        )?;
        rows.map(|r| r.map_err(CatalogError::from).and_then(|x| x))
            .collect()
    }

    /// Walks the whole audit log, recomputing the chain. Ok(number of entries) or where it
    /// breaks.
    pub fn verify_audit(&self) -> Result<Result<u64, AuditBreak>, CatalogError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT seq, at, key_id, role, tenant, action, target, outcome, prev_hash, hash
             FROM audit ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        let mut expected_seq = 1u64;
        let mut prev = GENESIS.to_string();
        while let Some(r) = rows.next()? {
            let seq: u64 = r.get(0)?;
            let at: String = r.get(1)?;
            let role: String = r.get(3)?;
            let actor = Actor {
                key_id: r.get(2)?,
                role: role.parse().unwrap_or(Role::Client),
                tenant: r.get(4)?,
            };
            let action: String = r.get(5)?;
            let target: Option<String> = r.get(6)?;
            let outcome: String = r.get(7)?;
            let prev_hash: String = r.get(8)?;
            let hash: String = r.get(9)?;
            let brk = |reason: String| Ok(Err(AuditBreak { seq, reason }));
            if seq != expected_seq {
                return brk(format!(
                    "entries {expected_seq} to {} are missing (deleted)",
                    seq - 1
                ));
            }
            if actor.role.as_str() != role {
                return brk(format!("entry {seq} has an unknown role {role:?} (edited)"));
            }
            if prev_hash != prev {
                return brk(format!(
                    "entry {seq} does not follow entry {}: its previous-hash differs (an entry was removed or replaced)",
                    seq - 1
                ));
            }
            let want = audit_hash(
                seq,
                &at,
                &actor,
                &action,
                target.as_deref(),
                &outcome,
                &prev_hash,
            );
            if want != hash {
                return brk(format!(
                    "entry {seq} was edited: its content no longer matches its hash"
                ));
            }
            prev = hash;
            expected_seq += 1;
        }
        let count = expected_seq - 1;
        if let Ok(head) = std::fs::read_to_string(&self.audit_head) {
            let mut parts = head.split_whitespace();
            let seq: u64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let hash = parts.next().unwrap_or("");
            if seq > count {
                return Ok(Err(AuditBreak {
                    seq: count + 1,
                    reason: format!(
                        "the log ends at entry {count} but entry {seq} was written (the newest entries were deleted)"
                    ),
                }));
            }
            if seq == count && seq > 0 && hash != prev {
                return Ok(Err(AuditBreak {
                    seq,
                    reason: format!(
                        "entry {seq} differs from the one recorded when it was written"
                    ),
                }));
            }
        }
        Ok(Ok(count))
    }
}

impl Catalog {
    /// A client's verified calls started in `[from, to)` (received time when the start is
    /// unknown), oldest first, with their verification.
    pub fn verified_calls(
        &self,
        client: &str,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<(Call, Verification)>, CatalogError> {
        let rows: Vec<(RawCall, String)> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(&format!(
                "{SELECT_CALL_C_V} WHERE c.client = ?1 ORDER BY c.received_at"
            ))?;
            let rows = stmt.query_map([client], |r| Ok((raw_call(r)?, r.get::<_, String>(10)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        for (raw, v) in rows {
            let call = raw.into_call()?;
            let at = call
                .metadata
                .started_at
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(call.received_at);
            if from.is_some_and(|f| at < f) || to.is_some_and(|t| at >= t) {
                continue;
            }
            let v: Verification =
                serde_json::from_str(&v).map_err(|e| corrupt(&call.id.to_string(), e))?;
            out.push((call, v));
        }
        Ok(out)
    }

    pub fn put_sample(&self, s: &Sample) -> Result<(), CatalogError> {
        let json = serde_json::to_string(s).map_err(|e| corrupt(&s.id, e))?;
        self.conn().execute(
            "INSERT INTO samples (id, client, sample, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![s.id, s.params.client, json, s.created_at.to_rfc3339()],
        )?;
        Ok(())
    }

    pub fn sample(&self, id: &str) -> Result<Option<Sample>, CatalogError> {
        let json: Option<String> = self
            .conn()
            .query_row("SELECT sample FROM samples WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| corrupt(id, e)))
            .transpose()
    }

    /// Samples of the clients `scope` may see, newest first.
    pub fn samples(&self, scope: &Scope) -> Result<Vec<Sample>, CatalogError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, sample FROM samples
             WHERE ?1 IS NULL OR client IN (SELECT value FROM json_each(?1))
             ORDER BY created_at DESC",
        )?;
        let rows = stmt.query_map([scope_json(scope)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        json_rows(rows)
    }

    /// The next version number of a reviewer's review of a call (within a calibration or not).
    pub fn next_review_version(
        &self,
        call: CallId,
        reviewer: &str,
        calibration: Option<&str>,
    ) -> Result<u32, CatalogError> {
        let max: Option<u32> = self.conn().query_row(
            "SELECT MAX(version) FROM reviews WHERE call_id = ?1 AND reviewer = ?2
               AND calibration_id IS ?3",
            params![call.to_string(), reviewer, calibration],
            |r| r.get(0),
        )?;
        Ok(max.unwrap_or(0) + 1)
    }

    pub fn put_review(&self, r: &Review) -> Result<(), CatalogError> {
        let json = serde_json::to_string(r).map_err(|e| corrupt(&r.id, e))?;
        self.conn().execute(
            "INSERT INTO reviews (id, call_id, reviewer, calibration_id, version, review, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                r.id,
                r.call_id.to_string(),
                r.reviewer.key_id,
                r.input.calibration_id,
                r.version,
                json,
                r.created_at.to_rfc3339()
            ],
        )?;
        Ok(())
    }

    /// Every review of a call, every version, oldest first.
    pub fn reviews(&self, call: CallId) -> Result<Vec<Review>, CatalogError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, review FROM reviews WHERE call_id = ?1 ORDER BY created_at, version",
        )?;
        let rows = stmt.query_map([call.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        json_rows(rows)
    }

    /// Every review of a client's calls, oldest first.
    pub fn client_reviews(&self, client: &str) -> Result<Vec<Review>, CatalogError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT r.id, r.review FROM reviews r JOIN calls c ON c.id = r.call_id
             WHERE c.client = ?1 ORDER BY r.created_at, r.version",
        )?;
        let rows = stmt.query_map([client], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        json_rows(rows)
    }

    /// The interface language a key's holder chose, if any.
    pub fn key_language(&self, key_id: &str) -> Result<Option<String>, CatalogError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT language FROM key_preferences WHERE key_id = ?1",
                [key_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn set_key_language(&self, key_id: &str, language: &str) -> Result<(), CatalogError> {
        self.conn().execute(
            "INSERT INTO key_preferences (key_id, language) VALUES (?1, ?2)
             ON CONFLICT(key_id) DO UPDATE SET language = excluded.language",
            params![key_id, language],
        )?;
        Ok(())
    }

    pub fn put_calibration(&self, c: &Calibration) -> Result<(), CatalogError> {
        let json = serde_json::to_string(c).map_err(|e| corrupt(&c.id, e))?;
        self.conn().execute(
            "INSERT INTO calibrations (id, call_id, calibration) VALUES (?1, ?2, ?3)",
            params![c.id, c.call_id.to_string(), json],
        )?;
        Ok(())
    }

    pub fn calibration(&self, id: &str) -> Result<Option<Calibration>, CatalogError> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT calibration FROM calibrations WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| corrupt(id, e)))
            .transpose()
    }
}

/// Rows of (id, JSON) decoded; a row that does not decode names its id.
fn json_rows<T: serde::de::DeserializeOwned>(
    rows: impl Iterator<Item = rusqlite::Result<(String, String)>>,
) -> Result<Vec<T>, CatalogError> {
    rows.map(|r| {
        let (id, j) = r?;
        serde_json::from_str(&j).map_err(|e| corrupt(&id, e))
    })
    .collect()
}

const SELECT_CALL_C_V: &str = "SELECT c.id, c.metadata, c.sha256, c.original_name, c.size_bytes,
    c.audio, c.state, c.failure, c.received_at, c.updated_at, v.verification
    FROM calls c JOIN verifications v ON v.call_id = c.id";

type RawKeyRow = (Result<ApiKey, CatalogError>, String);

fn raw_key(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawKeyRow> {
    let id: String = r.get(0)?;
    let role: String = r.get(2)?;
    let clients: String = r.get(3)?;
    let created: String = r.get(4)?;
    let revoked: Option<String> = r.get(5)?;
    let hash: String = r.get(6)?;
    let time = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| corrupt(&id, e))
    };
    let key = (|| {
        Ok(ApiKey {
            name: r.get(1).map_err(CatalogError::from)?,
            role: role.parse().map_err(|e: String| corrupt(&id, e))?,
            clients: serde_json::from_str(&clients).map_err(|e| corrupt(&id, e))?,
            created_at: time(&created)?,
            revoked_at: revoked.as_deref().map(time).transpose()?,
            id: id.clone(),
        })
    })();
    Ok((key, hash))
}

fn raw_audit(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<AuditEntry, CatalogError>> {
    let seq: u64 = r.get(0)?;
    let at: String = r.get(1)?;
    let role: String = r.get(3)?;
    let key_id: String = r.get(2)?;
    let tenant: Option<String> = r.get(4)?;
    let action: String = r.get(5)?;
    let target: Option<String> = r.get(6)?;
    let outcome: String = r.get(7)?;
    let prev_hash: String = r.get(8)?;
    let hash: String = r.get(9)?;
    Ok((|| {
        let id = seq.to_string();
        Ok(AuditEntry {
            seq,
            at: DateTime::parse_from_rfc3339(&at)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| corrupt(&id, e))?,
            actor: Actor {
                key_id,
                role: role.parse().map_err(|e: String| corrupt(&id, e))?,
                tenant,
            },
            action,
            target,
            outcome,
            prev_hash,
            hash,
        })
    })())
}

const SELECT_CALL_C: &str = "SELECT c.id, c.metadata, c.sha256, c.original_name, c.size_bytes,
    c.audio, c.state, c.failure, c.received_at, c.updated_at FROM calls c";

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
    use callproof_models::{Actor, Role, RuleSetRef, Scope, Verification};

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

    #[test]
    fn scoped_reads_hide_other_tenants() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalog::open(&dir.path().join("c.sqlite")).unwrap();
        let a = new_call(&cat, "acme", "sa");
        let b = new_call(&cat, "globex", "sb");
        let only_acme = Scope::Clients(vec!["acme".into()]);
        assert!(cat.get_in(a, &only_acme).unwrap().is_some());
        assert!(cat.get_in(b, &only_acme).unwrap().is_none());
        assert!(cat.get_in(b, &Scope::All).unwrap().is_some());
        assert!(cat.get_in(a, &Scope::Clients(vec![])).unwrap().is_none());
        let listed = cat.list_in(&only_acme, 10).unwrap();
        assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), vec![a]);
        assert_eq!(cat.list_in(&Scope::All, 10).unwrap().len(), 2);
    }

    #[test]
    fn keys_are_stored_hashed_and_revocable() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalog::open(&dir.path().join("c.sqlite")).unwrap();
        let k = cat
            .create_key("k1", "ADV portal", Role::Client, &["acme".into()], "hash")
            .unwrap();
        assert_eq!(k.scope(), Scope::Clients(vec!["acme".into()]));
        let (stored, hash) = cat.key("k1").unwrap().unwrap();
        assert_eq!((stored.role, hash.as_str()), (Role::Client, "hash"));
        assert!(stored.revoked_at.is_none());
        assert!(cat.revoke_key("k1").unwrap().revoked_at.is_some());
        assert!(matches!(
            cat.revoke_key("nope"),
            Err(CatalogError::NoSuchKey(_))
        ));
        assert_eq!(cat.keys().unwrap().len(), 1);
    }

    #[test]
    fn audit_chain_detects_edits_and_deletions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let cat = Catalog::open(&path).unwrap();
        let actor = Actor::local();
        for i in 0..5 {
            cat.audit(&actor, "read_transcript", Some(&format!("call{i}")), "ok")
                .unwrap();
        }
        assert_eq!(cat.verify_audit().unwrap(), Ok(5));
        let listed = cat
            .audit_entries(&AuditFilter {
                target: Some("call3".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].seq, 4);
        let raw = Connection::open(&path).unwrap();
        // Editing an entry's content.
        raw.execute("UPDATE audit SET outcome = 'denied' WHERE seq = 3", [])
            .unwrap();
        let brk = cat.verify_audit().unwrap().unwrap_err();
        assert_eq!(brk.seq, 3, "{brk:?}");
        assert!(brk.reason.contains("edited"), "{brk:?}");
        raw.execute("UPDATE audit SET outcome = 'ok' WHERE seq = 3", [])
            .unwrap();
        assert_eq!(cat.verify_audit().unwrap(), Ok(5));
        // Deleting one in the middle.
        raw.execute("DELETE FROM audit WHERE seq = 2", []).unwrap();
        let brk = cat.verify_audit().unwrap().unwrap_err();
        assert_eq!(brk.seq, 3, "{brk:?}");
        assert!(brk.reason.contains("missing"), "{brk:?}");
    }

    #[test]
    fn audit_truncation_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let cat = Catalog::open(&path).unwrap();
        for _ in 0..3 {
            cat.audit(&Actor::local(), "create_key", Some("k"), "ok")
                .unwrap();
        }
        let raw = Connection::open(&path).unwrap();
        raw.execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
        let brk = cat.verify_audit().unwrap().unwrap_err();
        assert_eq!(brk.seq, 3, "{brk:?}");
    }
}
