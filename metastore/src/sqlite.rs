//! The SQLite metastore, the embedded default: one file in the data folder, bundled SQLite.
//!
//! A data folder stays self-contained and survives restarts; several processes (a server, its
//! workers, CLI commands) share the file through SQLite's locking and write-ahead log. Tenant
//! filters are in the SQL (`json_each` over the scope's clients), never applied afterwards.

use std::path::Path;
use std::sync::Mutex;

use callproof_models::{
    Actor, ApiKey, AudioInfo, AuditEntry, Calibration, CalibrationId, Call, CallId, CallState,
    LegalHold, Redaction, Review, Role, Sample, SampleId, Scope, Transcript, Verdict, Verification,
};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::{
    audit_hash, Access, AuditBreak, AuditFilter, CallPage, Calls, Holds, IndexChange, IndexChanges,
    MetastoreError, NewCall, PendingObjects, Quality, Results, RuleSets, StoredRuleSet, GENESIS,
    MIGRATIONS,
};

/// Appends to the index's change log inside `tx` (SQLite has one writer at a time, so numbers
/// are visible in order).
pub(crate) fn append_index_change(
    tx: &rusqlite::Transaction<'_>,
    call: CallId,
    removed: bool,
) -> Result<(), MetastoreError> {
    tx.execute(
        "INSERT INTO index_changes (call_id, removed, at) VALUES (?1, ?2, ?3)",
        params![call.to_string(), removed, Utc::now().to_rfc3339()],
    )?;
    Ok(())
}

pub struct SqliteMetastore {
    conn: Mutex<Connection>,
    /// Holds the last audit entry's sequence and hash outside the database, so that removing
    /// the newest entries is detectable too.
    audit_head: std::path::PathBuf,
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

impl From<rusqlite::Error> for MetastoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                MetastoreError::Conflict(format!("catalog: {e}"))
            }
            _ if is_busy(&e) => MetastoreError::Unavailable(format!(
                "the catalog is locked by another process for too long ({e}); try again"
            )),
            _ => MetastoreError::Unavailable(format!("catalog: {e}")),
        }
    }
}

/// Applies, in order and each in its own transaction, the migrations this catalog has not
/// recorded in `schema_migrations`. Foreign keys are off while migrating: a migration that
/// rebuilds a table (SQLite's only way to change a constraint) must not cascade deletions.
fn migrate(conn: &Connection) -> Result<(), MetastoreError> {
    let applied = |conn: &Connection| -> rusqlite::Result<u32> {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )?;
        conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
    };
    // Reading first: a catalog that is up to date is opened without writing anything.
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations')",
        [],
        |r| r.get(0),
    )?;
    if has_table {
        let done: u32 = conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?;
        if done as usize >= MIGRATIONS.len() {
            return Ok(());
        }
    }
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(MetastoreError::Unavailable(format!(
            "the catalog cannot use write-ahead logging (journal mode {mode}); keep the data folder on a local file system"
        )));
    }
    conn.execute_batch("PRAGMA foreign_keys = OFF;")?;
    let result = (|| -> Result<(), MetastoreError> {
        for m in MIGRATIONS {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let step = (|| -> Result<(), MetastoreError> {
                // Re-read under the write lock: another process may have just migrated.
                if applied(conn)? >= m.version {
                    return Ok(());
                }
                conn.execute_batch(m.sql)?;
                let broken: Option<String> = conn
                    .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
                    .optional()?;
                if let Some(table) = broken {
                    return Err(MetastoreError::Corrupt {
                        id: format!("migration {:04} {}", m.version, m.name),
                        detail: format!("rows of {table} lost their call"),
                    });
                }
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                    params![m.version, m.name, Utc::now().to_rfc3339()],
                )?;
                Ok(())
            })();
            match step {
                Ok(()) => conn.execute_batch("COMMIT")?,
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(e);
                }
            }
        }
        Ok(())
    })();
    conn.execute_batch("PRAGMA foreign_keys = ON;")?;
    result
}

fn corrupt(id: &str, e: impl std::fmt::Display) -> MetastoreError {
    MetastoreError::Corrupt {
        id: id.to_string(),
        detail: e.to_string(),
    }
}

/// Tenants a scope is limited to, as the JSON array SQL reads with `json_each`; `None` for
/// every tenant.
fn scope_json(scope: &Scope) -> Option<String> {
    scope
        .clients()
        .map(|list| serde_json::to_string(list).unwrap_or_else(|_| "[]".into()))
}

/// Rows of (id, JSON) decoded; a row that does not decode names its id.
fn json_rows<T: serde::de::DeserializeOwned>(
    rows: impl Iterator<Item = rusqlite::Result<(String, String)>>,
) -> Result<Vec<T>, MetastoreError> {
    rows.map(|r| {
        let (id, j) = r?;
        serde_json::from_str(&j).map_err(|e| corrupt(&id, e))
    })
    .collect()
}

const SELECT_CALL_C_V: &str = "SELECT c.id, c.metadata, c.sha256, c.original_name, c.size_bytes,
    c.audio, c.state, c.failure, c.received_at, c.updated_at, v.verification
    FROM calls c JOIN verifications v ON v.call_id = c.id";

type RawKeyRow = (Result<ApiKey, MetastoreError>, String);

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
            name: r.get(1).map_err(MetastoreError::from)?,
            role: role.parse().map_err(|e: String| corrupt(&id, e))?,
            clients: serde_json::from_str(&clients).map_err(|e| corrupt(&id, e))?,
            created_at: time(&created)?,
            revoked_at: revoked.as_deref().map(time).transpose()?,
            id: id.clone(),
        })
    })();
    Ok((key, hash))
}

fn raw_audit(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<AuditEntry, MetastoreError>> {
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
    fn into_call(self) -> Result<Call, MetastoreError> {
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

impl SqliteMetastore {
    // Unscoped reads, for the scoped ones below to build on.
    fn object_key_any(&self, id: CallId) -> Result<Option<String>, MetastoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT object_key FROM calls WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn transcript_any(&self, id: CallId) -> Result<Option<Transcript>, MetastoreError> {
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

    fn verification_any(&self, id: CallId) -> Result<Option<Verification>, MetastoreError> {
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

    /// Opens (creating it if needed) the catalog at `path` and applies the migrations it lacks.
    pub fn open(path: &Path) -> Result<Self, MetastoreError> {
        let open_err = |e: rusqlite::Error| {
            MetastoreError::Unavailable(format!(
                "the catalog {} cannot be opened: {e}; check the data folder's permissions",
                path.display()
            ))
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(open_err)?;
        // Several processes (a server, its workers, CLI commands) share one catalog, and a
        // schema change while another process writes can fail at once with "database is
        // locked" instead of waiting: migrating is retried.
        let mut attempt = 0;
        loop {
            match migrate(&conn) {
                Ok(()) => break,
                Err(MetastoreError::Unavailable(m)) if attempt < 50 && m.contains("locked") => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => return Err(e),
            }
        }
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(open_err)?;
        let mut head = path.as_os_str().to_owned();
        head.push(".audit-head");
        Ok(Self {
            conn: Mutex::new(conn),
            audit_head: head.into(),
        })
    }

    /// Replaces the audit head file atomically.
    fn write_head(&self, seq: u64, hash: &str) -> Result<(), MetastoreError> {
        let mut tmp = self.audit_head.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(format!("{seq} {hash}\n").as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.audit_head)
        };
        write().map_err(|e| {
            MetastoreError::Unavailable(format!(
                "the audit head {} cannot be written: {e}; check the data folder's free space and permissions",
                self.audit_head.display()
            ))
        })
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait::async_trait]
impl Calls for SqliteMetastore {
    async fn find_by_sha256(
        &self,
        client: &str,
        sha256: &str,
    ) -> Result<Option<CallId>, MetastoreError> {
        let id: Option<String> = self
            .conn()
            .query_row(
                "SELECT id FROM calls WHERE client = ?1 AND sha256 = ?2",
                [client, sha256],
                |r| r.get(0),
            )
            .optional()?;
        id.map(|s| s.parse().map_err(|e| corrupt(&s, e)))
            .transpose()
    }

    async fn insert(&self, c: &NewCall<'_>) -> Result<(), MetastoreError> {
        let now = Utc::now().to_rfc3339();
        let m = c.metadata;
        let metadata = serde_json::to_string(m).map_err(|e| corrupt(&c.id.to_string(), e))?;
        let audio = serde_json::to_string(c.audio).map_err(|e| corrupt(&c.id.to_string(), e))?;
        // The connection is locked only inside this block: nothing is awaited while it is.
        let duplicate = {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let res = tx.execute(
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
                Ok(_) => {
                    // The call and its first job are one write: a call is never left without
                    // its work.
                    crate::jobs::sqlite::enqueue_tx(&tx, c.id, crate::JobKind::Transcribe, &now)?;
                    tx.commit()?;
                    return Ok(());
                }
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    e
                }
                Err(e) => return Err(e.into()),
            }
        };
        match self.find_by_sha256(&m.client, c.sha256).await? {
            Some(existing) => Err(MetastoreError::Duplicate { existing }),
            None => Err(rusqlite::Error::SqliteFailure(duplicate, None).into()),
        }
    }

    async fn set_state(&self, id: CallId, state: &CallState) -> Result<(), MetastoreError> {
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

    async fn replace_original(
        &self,
        id: CallId,
        object_key: &str,
        format: &str,
        size_bytes: u64,
    ) -> Result<(), MetastoreError> {
        let conn = self.conn();
        let audio: Option<String> = conn
            .query_row(
                "SELECT audio FROM calls WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| MetastoreError::NotFound(format!("no call {id}")))?;
        let audio = match audio {
            Some(json) => {
                let mut info: AudioInfo =
                    serde_json::from_str(&json).map_err(|e| corrupt(&id.to_string(), e))?;
                info.format = format.to_string();
                Some(serde_json::to_string(&info).map_err(|e| corrupt(&id.to_string(), e))?)
            }
            None => None,
        };
        conn.execute(
            "UPDATE calls SET object_key = ?2, size_bytes = ?3, audio = ?4, updated_at = ?5
             WHERE id = ?1",
            params![
                id.to_string(),
                object_key,
                size_bytes as i64,
                audio,
                Utc::now().to_rfc3339()
            ],
        )?;
        Ok(())
    }

    async fn state_counts(&self) -> Result<Vec<(String, u64)>, MetastoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT state, COUNT(*) FROM calls GROUP BY state ORDER BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        rows.map(|r| r.map(|(s, n)| (s, n.max(0) as u64)).map_err(Into::into))
            .collect()
    }

    async fn in_state(&self, state: &str) -> Result<Vec<Call>, MetastoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_CALL} WHERE state = ?1 ORDER BY received_at"
        ))?;
        let rows = stmt.query_map([state], raw_call)?;
        rows.map(|r| r.map_err(MetastoreError::from).and_then(RawCall::into_call))
            .collect()
    }

    async fn list(&self, limit: usize) -> Result<Vec<Call>, MetastoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached(&format!("{SELECT_CALL} ORDER BY received_at DESC LIMIT ?1"))?;
        let rows = stmt.query_map([limit as i64], raw_call)?;
        rows.map(|r| r.map_err(MetastoreError::from).and_then(RawCall::into_call))
            .collect()
    }

    async fn delete(&self, id: CallId) -> Result<(), MetastoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = tx.execute("DELETE FROM calls WHERE id = ?1", [id.to_string()])?;
        if n > 0 {
            // Every serving node's index drops the call's documents.
            append_index_change(&tx, id, true)?;
        }
        tx.commit()?;
        Ok(())
    }

    async fn transcribed_calls(&self, client: &str) -> Result<Vec<Call>, MetastoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_CALL} WHERE client = ?1 AND id IN (SELECT call_id FROM transcripts)
             ORDER BY received_at"
        ))?;
        let rows = stmt.query_map([client], raw_call)?;
        rows.map(|r| r.map_err(MetastoreError::from).and_then(RawCall::into_call))
            .collect()
    }

    async fn get_in(&self, id: CallId, scope: &Scope) -> Result<Option<Call>, MetastoreError> {
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

    async fn list_in(&self, scope: &Scope, limit: usize) -> Result<Vec<Call>, MetastoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_CALL_C} WHERE (?2 IS NULL OR c.client IN (SELECT value FROM json_each(?2)))
             ORDER BY c.received_at DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map(params![limit as i64, scope_json(scope)], raw_call)?;
        rows.map(|r| r.map_err(MetastoreError::from).and_then(RawCall::into_call))
            .collect()
    }

    async fn calls_page(
        &self,
        scope: &Scope,
        page: &CallPage,
    ) -> Result<(Vec<(Call, Option<Verdict>)>, u64), MetastoreError> {
        let conn = self.conn();
        let filter = "FROM calls c LEFT JOIN verifications v ON v.call_id = c.id
             WHERE (?1 IS NULL OR c.client IN (SELECT value FROM json_each(?1)))
             AND (?2 IS NULL OR c.agent = ?2) AND (?3 IS NULL OR c.campaign = ?3)
             AND (?4 IS NULL OR (?4 = '' AND v.verdict IS NULL) OR v.verdict = ?4)";
        let verdict = page
            .verdict
            .map(|v| v.map(|v| v.as_str()).unwrap_or_default());
        let args = params![
            scope_json(scope),
            page.agent,
            page.campaign,
            verdict,
            page.limit as i64,
            page.offset as i64
        ];
        let total: i64 = conn
            .prepare_cached(&format!("SELECT COUNT(*) {filter}"))?
            .query_row(&args[..4], |r| r.get(0))?;
        let dir = if page.ascending { "ASC" } else { "DESC" };
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT c.id, c.metadata, c.sha256, c.original_name, c.size_bytes, c.audio, c.state,
             c.failure, c.received_at, c.updated_at, v.verdict {filter}
             ORDER BY {} {dir}, c.id {dir} LIMIT ?5 OFFSET ?6",
            page.sort.column()
        ))?;
        let rows = stmt.query_map(args, |r| {
            Ok((raw_call(r)?, r.get::<_, Option<String>>(10)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (raw, verdict) = row?;
            let call = raw.into_call()?;
            let verdict = crate::stored_verdict(call.id, verdict.as_deref())?;
            out.push((call, verdict));
        }
        Ok((out, total.max(0) as u64))
    }

    async fn object_key_in(
        &self,
        id: CallId,
        scope: &Scope,
    ) -> Result<Option<String>, MetastoreError> {
        let Some(call) = self.get_in(id, scope).await? else {
            return Ok(None);
        };
        let Some(key) = self.object_key_any(id)? else {
            return Ok(None);
        };
        // A recording deleted at the end of its retention period leaves no key.
        if key.is_empty() {
            return Ok(Some(key));
        }
        if !key.starts_with(&format!("clients/{}/", call.metadata.client)) {
            return Err(corrupt(
                &id.to_string(),
                format!("its original is stored outside its tenant's objects ({key})"),
            ));
        }
        Ok(Some(key))
    }

    async fn verified_calls(
        &self,
        client: &str,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<(Call, Verification)>, MetastoreError> {
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
}

#[async_trait::async_trait]
impl Results for SqliteMetastore {
    async fn put_transcript(&self, t: &Transcript) -> Result<(), MetastoreError> {
        let json = serde_json::to_string(t).map_err(|e| corrupt(&t.call_id.to_string(), e))?;
        self.conn().execute(
            "INSERT INTO transcripts (call_id, transcript) VALUES (?1, ?2)
             ON CONFLICT(call_id) DO UPDATE SET transcript = excluded.transcript",
            params![t.call_id.to_string(), json],
        )?;
        Ok(())
    }

    async fn put_verification(&self, v: &Verification) -> Result<(), MetastoreError> {
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

    async fn put_redaction(&self, r: &Redaction) -> Result<(), MetastoreError> {
        let json = serde_json::to_string(r).map_err(|e| corrupt(&r.call_id.to_string(), e))?;
        self.conn().execute(
            "INSERT INTO redactions (call_id, json) VALUES (?1, ?2)
             ON CONFLICT(call_id) DO UPDATE SET json = excluded.json",
            params![r.call_id.to_string(), json],
        )?;
        Ok(())
    }

    async fn redaction_in(
        &self,
        id: CallId,
        scope: &Scope,
    ) -> Result<Option<Redaction>, MetastoreError> {
        if self.get_in(id, scope).await?.is_none() {
            return Ok(None);
        }
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT json FROM redactions WHERE call_id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| corrupt(&id.to_string(), e)))
            .transpose()
    }

    async fn verdict_counts(&self, client: &str) -> Result<Vec<(Verdict, u64)>, MetastoreError> {
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

    async fn transcript_in(
        &self,
        id: CallId,
        scope: &Scope,
    ) -> Result<Option<Transcript>, MetastoreError> {
        if self.get_in(id, scope).await?.is_none() {
            return Ok(None);
        }
        self.transcript_any(id)
    }

    async fn verification_in(
        &self,
        id: CallId,
        scope: &Scope,
    ) -> Result<Option<Verification>, MetastoreError> {
        if self.get_in(id, scope).await?.is_none() {
            return Ok(None);
        }
        self.verification_any(id)
    }
}

#[async_trait::async_trait]
impl RuleSets for SqliteMetastore {
    async fn put_ruleset(
        &self,
        client: &str,
        version: Option<u32>,
        sha256: &str,
        source: &str,
    ) -> Result<StoredRuleSet, MetastoreError> {
        // The connection is locked only inside this block: nothing is awaited while it is.
        // IMMEDIATE: a transaction that reads before it writes cannot wait for another
        // process's write once it has read (SQLite answers "database is locked" at once).
        let version = {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
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
                        return Err(MetastoreError::RuleSetVersionTaken {
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
            version
        };
        self.ruleset(client, Some(version))
            .await?
            .ok_or_else(|| corrupt(client, "rule set vanished after being stored"))
    }

    async fn ruleset(
        &self,
        client: &str,
        version: Option<u32>,
    ) -> Result<Option<StoredRuleSet>, MetastoreError> {
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

    async fn ruleset_versions(&self, client: &str) -> Result<Vec<StoredRuleSet>, MetastoreError> {
        let versions: Vec<u32> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(
                "SELECT version FROM rulesets WHERE client = ?1 ORDER BY version",
            )?;
            let rows = stmt.query_map([client], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(versions.len());
        for v in versions {
            if let Some(r) = self.ruleset(client, Some(v)).await? {
                out.push(r);
            }
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl Access for SqliteMetastore {
    async fn create_key(
        &self,
        id: &str,
        name: &str,
        role: Role,
        clients: &[String],
        secret_sha256: &str,
    ) -> Result<ApiKey, MetastoreError> {
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

    async fn key(&self, id: &str) -> Result<Option<(ApiKey, String)>, MetastoreError> {
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

    async fn keys(&self) -> Result<Vec<ApiKey>, MetastoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, role, clients, created_at, revoked_at, secret_sha256
             FROM api_keys ORDER BY created_at",
        )?;
        let rows = stmt.query_map([], raw_key)?;
        rows.map(|r| r.map_err(MetastoreError::from).and_then(|(k, _)| k))
            .collect()
    }

    async fn revoke_key(&self, id: &str) -> Result<ApiKey, MetastoreError> {
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
                params![id, Utc::now().to_rfc3339()],
            )?;
            // A revoked key's web sessions end with it.
            tx.execute("DELETE FROM web_sessions WHERE key_id = ?1", [id])?;
            tx.commit()?;
        }
        self.key(id).await?.map(|(k, _)| k).ok_or_else(|| {
            MetastoreError::NotFound(format!("no API key {id}; `callproof keys list` shows them"))
        })
    }

    async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: Option<&str>,
        outcome: &str,
    ) -> Result<AuditEntry, MetastoreError> {
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
        // The head is written while this transaction holds SQLite's write lock, so heads from
        // several processes land in sequence order; atomically (temp file + rename), so a
        // crash never leaves half a head. An entry whose head cannot be written is not
        // committed: an access that cannot be recorded must not happen.
        self.write_head(seq, &hash)?;
        if let Err(e) = tx.commit() {
            let _ = self.write_head(prev_seq, &prev_hash);
            return Err(e.into());
        }
        drop(conn);
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

    async fn audit_entries(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>, MetastoreError> {
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
        rows.map(|r| r.map_err(MetastoreError::from).and_then(|x| x))
            .collect()
    }

    async fn audit_entry(&self, seq: u64) -> Result<Option<AuditEntry>, MetastoreError> {
        self.conn()
            .query_row(
                "SELECT seq, at, key_id, role, tenant, action, target, outcome, prev_hash, hash
                 FROM audit WHERE seq = ?1",
                [seq as i64],
                raw_audit,
            )
            .optional()?
            .transpose()
    }

    async fn audit_last(&self) -> Result<Option<AuditEntry>, MetastoreError> {
        self.conn()
            .query_row(
                "SELECT seq, at, key_id, role, tenant, action, target, outcome, prev_hash, hash
                 FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                raw_audit,
            )
            .optional()?
            .transpose()
    }

    async fn verify_audit(&self) -> Result<Result<u64, AuditBreak>, MetastoreError> {
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
        let head = match std::fs::read_to_string(&self.audit_head) {
            Ok(h) => Some(h),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(MetastoreError::Unavailable(format!(
                    "the audit head {} cannot be read: {e}",
                    self.audit_head.display()
                )))
            }
        };
        // Fail closed: without its head, deleting the newest entries would go unnoticed.
        if head.is_none() && count > 0 {
            return Ok(Err(AuditBreak {
                seq: count,
                reason: format!(
                    "the audit head file {} is missing, so the deletion of the newest entries cannot be ruled out; restore it from a backup of the data folder",
                    self.audit_head.display()
                ),
            }));
        }
        if let Some(head) = head {
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

    async fn key_language(&self, key_id: &str) -> Result<Option<String>, MetastoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT language FROM key_preferences WHERE key_id = ?1",
                [key_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    async fn set_key_language(&self, key_id: &str, language: &str) -> Result<(), MetastoreError> {
        self.conn().execute(
            "INSERT INTO key_preferences (key_id, language) VALUES (?1, ?2)
             ON CONFLICT(key_id) DO UPDATE SET language = excluded.language",
            params![key_id, language],
        )?;
        Ok(())
    }

    async fn create_session(
        &self,
        id_sha256: &str,
        key_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), MetastoreError> {
        let now = Utc::now();
        let conn = self.conn();
        // Expired sessions are swept as new ones open: the table stays the size of its users.
        conn.execute(
            "DELETE FROM web_sessions WHERE expires_at < ?1",
            [now.to_rfc3339()],
        )?;
        conn.execute(
            "INSERT INTO web_sessions (id_sha256, key_id, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![id_sha256, key_id, now.to_rfc3339(), expires_at.to_rfc3339()],
        )?;
        Ok(())
    }

    async fn session_key(
        &self,
        id_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, MetastoreError> {
        let row: Option<(String, String)> = self
            .conn()
            .query_row(
                "SELECT key_id, expires_at FROM web_sessions WHERE id_sha256 = ?1",
                [id_sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.and_then(|(key, expires)| {
            DateTime::parse_from_rfc3339(&expires)
                .ok()
                .filter(|e| *e > now)
                .map(|_| key)
        }))
    }

    async fn delete_session(&self, id_sha256: &str) -> Result<(), MetastoreError> {
        self.conn()
            .execute("DELETE FROM web_sessions WHERE id_sha256 = ?1", [id_sha256])?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Holds for SqliteMetastore {
    async fn put_hold(&self, h: &LegalHold) -> Result<(), MetastoreError> {
        let json = serde_json::to_string(h).map_err(|e| corrupt(&h.id, e))?;
        self.conn().execute(
            "INSERT INTO legal_holds (id, client, json, active) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET json = excluded.json, active = excluded.active",
            params![h.id, h.client, json, h.is_active()],
        )?;
        Ok(())
    }

    async fn hold(&self, id: &str) -> Result<Option<LegalHold>, MetastoreError> {
        let json: Option<String> = self
            .conn()
            .query_row("SELECT json FROM legal_holds WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| corrupt(id, e)))
            .transpose()
    }

    async fn holds(
        &self,
        client: Option<&str>,
        active_only: bool,
    ) -> Result<Vec<LegalHold>, MetastoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, json FROM legal_holds WHERE (?1 IS NULL OR client = ?1)
               AND (?2 = 0 OR active = 1) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![client, active_only], |r| Ok((r.get(0)?, r.get(1)?)))?;
        json_rows(rows)
    }
}

#[async_trait::async_trait]
impl PendingObjects for SqliteMetastore {
    async fn begin_object(&self, object_key: &str, owner: &str) -> Result<(), MetastoreError> {
        self.conn().execute(
            "INSERT INTO pending_objects (object_key, owner, created_at) VALUES (?1, ?2, ?3)",
            params![object_key, owner, Utc::now().to_rfc3339()],
        )?;
        Ok(())
    }

    async fn end_object(&self, object_key: &str) -> Result<(), MetastoreError> {
        self.conn().execute(
            "DELETE FROM pending_objects WHERE object_key = ?1",
            [object_key],
        )?;
        Ok(())
    }

    async fn pending_objects(&self) -> Result<Vec<(String, String)>, MetastoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT object_key, owner FROM pending_objects ORDER BY created_at")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[async_trait::async_trait]
impl Quality for SqliteMetastore {
    async fn put_sample(&self, s: &Sample) -> Result<(), MetastoreError> {
        let json = serde_json::to_string(s).map_err(|e| corrupt(s.id.as_str(), e))?;
        self.conn().execute(
            "INSERT INTO samples (id, client, sample, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                s.id.as_str(),
                s.params.client,
                json,
                s.created_at.to_rfc3339()
            ],
        )?;
        Ok(())
    }

    async fn sample(&self, id: &SampleId) -> Result<Option<Sample>, MetastoreError> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT sample FROM samples WHERE id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| corrupt(id.as_str(), e)))
            .transpose()
    }

    async fn samples(&self, scope: &Scope) -> Result<Vec<Sample>, MetastoreError> {
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

    async fn next_review_version(
        &self,
        call: CallId,
        reviewer: &str,
        calibration: Option<&CalibrationId>,
    ) -> Result<u32, MetastoreError> {
        let max: Option<u32> = self.conn().query_row(
            "SELECT MAX(version) FROM reviews WHERE call_id = ?1 AND reviewer = ?2
               AND calibration_id IS ?3",
            params![call.to_string(), reviewer, calibration.map(|c| c.as_str())],
            |r| r.get(0),
        )?;
        Ok(max.unwrap_or(0) + 1)
    }

    async fn put_review(&self, r: &Review) -> Result<(), MetastoreError> {
        let json = serde_json::to_string(r).map_err(|e| corrupt(r.id.as_str(), e))?;
        self.conn().execute(
            "INSERT INTO reviews (id, call_id, reviewer, calibration_id, version, review, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                r.id.as_str(),
                r.call_id.to_string(),
                r.reviewer.key_id,
                r.input.calibration_id.as_ref().map(|c| c.as_str()),
                r.version,
                json,
                r.created_at.to_rfc3339()
            ],
        )?;
        Ok(())
    }

    async fn reviews(&self, call: CallId) -> Result<Vec<Review>, MetastoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, review FROM reviews WHERE call_id = ?1 ORDER BY created_at, version",
        )?;
        let rows = stmt.query_map([call.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        json_rows(rows)
    }

    async fn client_reviews(&self, client: &str) -> Result<Vec<Review>, MetastoreError> {
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

    async fn put_calibration(&self, c: &Calibration) -> Result<(), MetastoreError> {
        let json = serde_json::to_string(c).map_err(|e| corrupt(c.id.as_str(), e))?;
        self.conn().execute(
            "INSERT INTO calibrations (id, call_id, calibration) VALUES (?1, ?2, ?3)",
            params![c.id.as_str(), c.call_id.to_string(), json],
        )?;
        Ok(())
    }

    async fn calibration(&self, id: &CalibrationId) -> Result<Option<Calibration>, MetastoreError> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT calibration FROM calibrations WHERE id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| corrupt(id.as_str(), e)))
            .transpose()
    }
}
#[async_trait::async_trait]
impl IndexChanges for SqliteMetastore {
    async fn index_changed(&self, call: CallId) -> Result<(), MetastoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        append_index_change(&tx, call, false)?;
        tx.commit()?;
        Ok(())
    }

    async fn index_changes(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<IndexChange>, MetastoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, call_id, removed FROM index_changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after as i64, limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (seq, call, removed) = r?;
            Ok(IndexChange {
                seq: seq.max(0) as u64,
                call_id: call.parse().map_err(|e: String| corrupt(&call, e))?,
                removed,
            })
        })
        .collect()
    }

    async fn last_index_change(&self) -> Result<u64, MetastoreError> {
        let n: i64 =
            self.conn()
                .query_row("SELECT COALESCE(MAX(seq), 0) FROM index_changes", [], |r| {
                    r.get(0)
                })?;
        Ok(n.max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    //! SQLite-only checks: tampering with the file behind the store's back, and migrating a
    //! catalog made by an older version. Shared behaviour is in the conformance suite.
    use super::*;
    use crate::Jobs;

    fn open() -> (tempfile::TempDir, SqliteMetastore, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let cat = SqliteMetastore::open(&path).unwrap();
        (dir, cat, path)
    }

    #[tokio::test]
    async fn audit_chain_detects_edits_and_deletions() {
        let (_dir, cat, path) = open();
        for i in 0..5 {
            cat.audit(
                &Actor::local(),
                "read_transcript",
                Some(&format!("call{i}")),
                "ok",
            )
            .await
            .unwrap();
        }
        let raw = Connection::open(&path).unwrap();
        raw.execute("UPDATE audit SET outcome = 'denied' WHERE seq = 3", [])
            .unwrap();
        let brk = cat.verify_audit().await.unwrap().unwrap_err();
        assert_eq!(brk.seq, 3, "{brk:?}");
        assert!(brk.reason.contains("edited"), "{brk:?}");
        raw.execute("UPDATE audit SET outcome = 'ok' WHERE seq = 3", [])
            .unwrap();
        assert_eq!(cat.verify_audit().await.unwrap(), Ok(5));
        raw.execute("DELETE FROM audit WHERE seq = 2", []).unwrap();
        let brk = cat.verify_audit().await.unwrap().unwrap_err();
        assert_eq!(brk.seq, 3, "{brk:?}");
        assert!(brk.reason.contains("missing"), "{brk:?}");
    }

    #[tokio::test]
    async fn audit_truncation_is_detected() {
        let (_dir, cat, path) = open();
        for _ in 0..3 {
            cat.audit(&Actor::local(), "create_key", Some("k"), "ok")
                .await
                .unwrap();
        }
        let raw = Connection::open(&path).unwrap();
        raw.execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
        let brk = cat.verify_audit().await.unwrap().unwrap_err();
        assert_eq!(brk.seq, 3, "{brk:?}");
    }

    /// Deleting the head file used to switch the truncation check off silently.
    #[tokio::test]
    async fn a_missing_audit_head_fails_closed() {
        let (_dir, cat, path) = open();
        assert_eq!(cat.verify_audit().await.unwrap(), Ok(0));
        for _ in 0..3 {
            cat.audit(&Actor::local(), "create_key", Some("k"), "ok")
                .await
                .unwrap();
        }
        let head = std::path::PathBuf::from(format!("{}.audit-head", path.display()));
        assert_eq!(
            std::fs::read_to_string(&head).unwrap().split(' ').next(),
            Some("3")
        );
        assert!(!std::path::Path::new(&format!("{}.tmp", head.display())).exists());
        std::fs::remove_file(&head).unwrap();
        let raw = Connection::open(&path).unwrap();
        raw.execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
        let brk = cat.verify_audit().await.unwrap().unwrap_err();
        assert!(brk.reason.contains("head file"), "{brk:?}");
    }

    /// An audit entry whose head cannot be written is not committed.
    #[tokio::test]
    async fn an_unwritable_audit_head_refuses_the_entry() {
        let (_dir, cat, path) = open();
        cat.audit(&Actor::local(), "create_key", Some("k"), "ok")
            .await
            .unwrap();
        let head = std::path::PathBuf::from(format!("{}.audit-head", path.display()));
        std::fs::remove_file(&head).unwrap();
        // A folder where the head goes: the rename over it fails.
        std::fs::create_dir(&head).unwrap();
        std::fs::write(head.join("x"), "x").unwrap();
        let err = cat
            .audit(&Actor::local(), "create_key", Some("k2"), "ok")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("audit head"), "{err}");
        let n: i64 = Connection::open(&path)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    /// A catalog made before numbered migrations (user_version 5, global UNIQUE(sha256)) keeps
    /// its rows, gets per-tenant duplicates, and its unfinished calls get their jobs.
    #[tokio::test]
    async fn an_old_catalog_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let raw = Connection::open(&path).unwrap();
            raw.execute_batch(include_str!("../migrations/0001_initial.sql"))
                .unwrap();
            raw.execute_batch(
                "PRAGMA user_version = 5;
                 INSERT INTO calls (id, sha256, client, metadata, size_bytes, object_key, state,
                    received_at, updated_at)
                 VALUES ('0192f0c4-7d2a-7000-8000-000000000001', 'abc', 'acme',
                    '{\"client\":\"acme\"}', 1, 'k', 'received', '2026-01-01T00:00:00Z',
                    '2026-01-01T00:00:00Z');
                 INSERT INTO transcripts VALUES ('0192f0c4-7d2a-7000-8000-000000000001', '{}');",
            )
            .unwrap();
        }
        let cat = SqliteMetastore::open(&path).unwrap();
        let id: CallId = "0192f0c4-7d2a-7000-8000-000000000001".parse().unwrap();
        assert!(cat.get_in(id, &Scope::All).await.unwrap().is_some());
        let raw = Connection::open(&path).unwrap();
        let kept: i64 = raw
            .query_row("SELECT COUNT(*) FROM transcripts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 1, "the table rebuild must not cascade");
        let versions: Vec<u32> = raw
            .prepare("SELECT version FROM schema_migrations ORDER BY version")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(versions, vec![1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(cat.jobs_of(id).await.unwrap().len(), 1);
        assert_eq!(cat.find_by_sha256("acme", "abc").await.unwrap(), Some(id));
        assert_eq!(cat.find_by_sha256("globex", "abc").await.unwrap(), None);
        // Opening again applies nothing twice.
        drop(cat);
        SqliteMetastore::open(&path).unwrap();
    }

    /// A server and its workers are separate processes on one catalog. A transaction that
    /// reads and then writes must wait for the other writer, not fail with "database is
    /// locked": storing a rule set while a worker writes once answered 500.
    #[test]
    fn reading_then_writing_waits_for_another_process_writer() {
        let (_dir, _cat, path) = open();
        let rounds = 150;
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                let other = SqliteMetastore::open(&path).unwrap();
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                for i in 0..rounds {
                    rt.block_on(other.put_ruleset("globex", None, &format!("g{i}"), "x"))
                        .unwrap();
                }
            })
        };
        let cat = SqliteMetastore::open(&path).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for i in 0..rounds {
            let stored = rt
                .block_on(cat.put_ruleset("acme", None, &format!("a{i}"), "y"))
                .unwrap_or_else(|e| panic!("round {i}: {e}"));
            assert_eq!(stored.version, i + 1);
            let id = format!("k{i}");
            rt.block_on(cat.create_key(&id, "n", crate::Role::Admin, &[], &format!("s{i}")))
                .unwrap_or_else(|e| panic!("round {i}: {e}"));
            rt.block_on(cat.revoke_key(&id))
                .unwrap_or_else(|e| panic!("round {i}: {e}"));
        }
        writer.join().unwrap();
    }
}
