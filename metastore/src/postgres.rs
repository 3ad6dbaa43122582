//! The PostgreSQL metastore: one catalog shared by every `serve` and `worker` process on every
//! machine.
//!
//! It keeps the records the SQLite catalog keeps, in the same shape (ids and JSON documents as
//! text, so that `callproof migrate` moves them unchanged), and passes the same conformance
//! suite. What differs is what several machines need: jobs are claimed with `FOR UPDATE SKIP
//! LOCKED` so that workers never wait on each other's claims; leases are measured by the
//! database's clock, never a worker's; the audit chain is appended under a lock on its head row,
//! so every node numbers entries in one sequence; migrations run under an advisory lock, so
//! nodes starting together apply each one once. Tenant filters are in the SQL (`= ANY($n)`).

use std::time::Duration;

use callproof_models::{
    Actor, ApiKey, AudioInfo, AuditEntry, Calibration, CalibrationId, Call, CallId, CallState,
    LegalHold, Redaction, Review, Role, Sample, SampleId, Scope, Transcript, Verdict, Verification,
};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Postgres, Row, Transaction};

use crate::jobs::{Job, JobKind, JobState, Jobs, MAX_ATTEMPTS};
use crate::{
    audit_hash, Access, AuditBreak, AuditFilter, CallPage, Calls, Holds, IndexChange, IndexChanges,
    MetastoreError, NewCall, PendingObjects, Quality, Results, RuleSets, StoredRuleSet, GENESIS,
};

/// The PostgreSQL schema's history, oldest first. Never edit one that shipped: add the next.
const PG_MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "index_changes",
        include_str!("../migrations/postgres/0002_index_changes.sql"),
    ),
    (
        3,
        "job_timings",
        include_str!("../migrations/postgres/0003_job_timings.sql"),
    ),
];

/// The key of the advisory lock that serialises migrations across nodes ("callproof" in
/// ASCII, truncated to 63 bits).
const MIGRATION_LOCK: i64 = 0x63616c6c70726f6f;

pub struct PostgresMetastore {
    pool: PgPool,
}

impl From<sqlx::Error> for MetastoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d)
                if d.is_unique_violation() || d.is_foreign_key_violation() =>
            {
                MetastoreError::Conflict(format!("catalog: {d}"))
            }
            sqlx::Error::PoolTimedOut => MetastoreError::Unavailable(
                "the PostgreSQL catalog did not answer in time (every connection busy or the server unreachable); try again, or raise the server's max_connections".into(),
            ),
            _ => MetastoreError::Unavailable(format!("catalog (PostgreSQL): {e}")),
        }
    }
}

fn corrupt(id: &str, e: impl std::fmt::Display) -> MetastoreError {
    MetastoreError::Corrupt {
        id: id.to_string(),
        detail: e.to_string(),
    }
}

fn to_json<T: serde::Serialize>(id: &str, v: &T) -> Result<String, MetastoreError> {
    serde_json::to_string(v).map_err(|e| corrupt(id, e))
}

fn from_json<T: serde::de::DeserializeOwned>(id: &str, j: &str) -> Result<T, MetastoreError> {
    serde_json::from_str(j).map_err(|e| corrupt(id, e))
}

/// The tenants a scope is limited to, bound as `text[]` (`NULL` for every tenant).
fn scope_list(scope: &Scope) -> Option<Vec<String>> {
    scope.clients().map(<[String]>::to_vec)
}

/// A catalog URL with its password hidden, for messages.
fn redacted_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{user}:…@{}", &url[..s], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

const CALL_COLUMNS: &str = "c.id, c.metadata, c.sha256, c.original_name, c.size_bytes, c.audio,
    c.state, c.failure, c.received_at, c.updated_at";

type RawCall = (
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
    String,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
);

fn into_call(r: RawCall) -> Result<Call, MetastoreError> {
    let (id, metadata, sha256, original_name, size, audio, state, failure, received, updated) = r;
    let state = match state.as_str() {
        "received" => CallState::Received,
        "transcribing" => CallState::Transcribing,
        "indexed" => CallState::Indexed,
        "failed" => CallState::Failed(failure.unwrap_or_default()),
        other => return Err(corrupt(&id, format!("unknown state {other}"))),
    };
    Ok(Call {
        id: id.parse().map_err(|e: String| corrupt(&id, e))?,
        metadata: from_json(&id, &metadata)?,
        sha256,
        original_name,
        size_bytes: size.max(0) as u64,
        audio: audio
            .as_deref()
            .map(|a| from_json::<AudioInfo>(&id, a))
            .transpose()?,
        state,
        received_at: received,
        updated_at: updated,
    })
}

fn calls(rows: Vec<RawCall>) -> Result<Vec<Call>, MetastoreError> {
    rows.into_iter().map(into_call).collect()
}

type RawKey = (
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    String,
);

const KEY_COLUMNS: &str = "id, name, role, clients, created_at, revoked_at, secret_sha256";

fn into_key(r: RawKey) -> Result<(ApiKey, String), MetastoreError> {
    let (id, name, role, clients, created_at, revoked_at, hash) = r;
    Ok((
        ApiKey {
            name,
            role: role.parse().map_err(|e: String| corrupt(&id, e))?,
            clients: from_json(&id, &clients)?,
            created_at,
            revoked_at,
            id,
        },
        hash,
    ))
}

type RawAudit = (
    i64,
    DateTime<Utc>,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
    String,
);

const AUDIT_COLUMNS: &str =
    "seq, at, key_id, role, tenant, action, target, outcome, prev_hash, hash";

/// The audit time as hashed: microseconds, UTC, as both engines store it.
fn audit_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn into_audit(r: RawAudit) -> Result<AuditEntry, MetastoreError> {
    let (seq, at, key_id, role, tenant, action, target, outcome, prev_hash, hash) = r;
    Ok(AuditEntry {
        seq: seq.max(0) as u64,
        at,
        actor: Actor {
            key_id,
            role: role
                .parse()
                .map_err(|e: String| corrupt(&seq.to_string(), e))?,
            tenant,
        },
        action,
        target,
        outcome,
        prev_hash,
        hash,
    })
}

/// Rows of (id, JSON) decoded; a row that does not decode names its id.
fn json_rows<T: serde::de::DeserializeOwned>(
    rows: Vec<(String, String)>,
) -> Result<Vec<T>, MetastoreError> {
    rows.iter().map(|(id, j)| from_json(id, j)).collect()
}

impl PostgresMetastore {
    /// Connects to the catalog at `url` (`postgres://user:password@host:port/database`) and
    /// applies the migrations it lacks.
    pub async fn connect(url: &str) -> Result<Self, MetastoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(15))
            .connect(url)
            .await
            .map_err(|e| {
                MetastoreError::Unavailable(format!(
                    "the PostgreSQL catalog {} cannot be reached: {e}; check that the server runs, the database exists and the user may connect",
                    redacted_url(url)
                ))
            })?;
        let me = Self { pool };
        me.migrate().await?;
        Ok(me)
    }

    /// Applies, each in its own transaction and under an advisory lock held by one node at a
    /// time, the migrations this catalog has not recorded.
    async fn migrate(&self) -> Result<(), MetastoreError> {
        // Under the migration lock: two nodes running CREATE TABLE IF NOT EXISTS at once can
        // both find it missing, and the loser fails on the table's row type ("type … already
        // exists"), which is not a unique violation one could ignore.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        for (version, name, sql) in PG_MIGRATIONS {
            let mut tx = self.pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *tx)
                .await?;
            let done: Option<i32> =
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await?;
            if done.is_some() {
                continue;
            }
            sqlx::raw_sql(AssertSqlSafe(*sql))
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    MetastoreError::Unavailable(format!(
                        "PostgreSQL migration {version:04} {name} failed: {e}"
                    ))
                })?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())",
            )
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// A JSON document of a call (`sql` selects it by call id), only if `scope` may see the
    /// call.
    async fn scoped_document<T: serde::de::DeserializeOwned>(
        &self,
        id: CallId,
        scope: &Scope,
        sql: &'static str,
    ) -> Result<Option<T>, MetastoreError> {
        if self.get_in(id, scope).await?.is_none() {
            return Ok(None);
        }
        let ids = id.to_string();
        self.document(sql, &ids)
            .await?
            .map(|j| from_json(&ids, &j))
            .transpose()
    }

    /// The connection pool, for tests and tools that inspect the catalog directly.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn object_key_any(&self, id: CallId) -> Result<Option<String>, MetastoreError> {
        Ok(
            sqlx::query_scalar("SELECT object_key FROM calls WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn document(
        &self,
        sql: &'static str,
        id: &str,
    ) -> Result<Option<String>, MetastoreError> {
        Ok(sqlx::query_scalar(sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }
}

#[async_trait::async_trait]
impl Calls for PostgresMetastore {
    async fn find_by_sha256(
        &self,
        client: &str,
        sha256: &str,
    ) -> Result<Option<CallId>, MetastoreError> {
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM calls WHERE client = $1 AND sha256 = $2")
                .bind(client)
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?;
        id.map(|s| s.parse().map_err(|e| corrupt(&s, e)))
            .transpose()
    }

    async fn insert(&self, c: &NewCall<'_>) -> Result<(), MetastoreError> {
        let id = c.id.to_string();
        let m = c.metadata;
        let metadata = to_json(&id, m)?;
        let audio = to_json(&id, c.audio)?;
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO calls (id, sha256, client, campaign, agent, customer_phone, contract_ref,
                started_at, metadata, original_name, size_bytes, object_key, audio, state,
                received_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'received',
                clock_timestamp(), clock_timestamp())
             ON CONFLICT (client, sha256) DO NOTHING",
        )
        .bind(&id)
        .bind(c.sha256)
        .bind(&m.client)
        .bind(&m.campaign)
        .bind(&m.agent)
        .bind(&m.customer_phone)
        .bind(&m.contract_ref)
        .bind(m.started_at.map(|t| t.with_timezone(&Utc)))
        .bind(metadata)
        .bind(c.original_name)
        .bind(c.size_bytes as i64)
        .bind(c.object_key)
        .bind(audio)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            // The call and its first job are one write: a call is never left without its work.
            enqueue_tx(&mut tx, c.id, JobKind::Transcribe).await?;
            tx.commit().await?;
            return Ok(());
        }
        tx.rollback().await?;
        match self.find_by_sha256(&m.client, c.sha256).await? {
            Some(existing) => Err(MetastoreError::Duplicate { existing }),
            None => Err(MetastoreError::Conflict(format!(
                "call {id} could not be stored: a concurrent write conflicted; try again"
            ))),
        }
    }

    async fn set_state(&self, id: CallId, state: &CallState) -> Result<(), MetastoreError> {
        let failure = match state {
            CallState::Failed(reason) => Some(reason.as_str()),
            _ => None,
        };
        sqlx::query(
            "UPDATE calls SET state = $2, failure = $3, updated_at = clock_timestamp()
             WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(state.name())
        .bind(failure)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn replace_original(
        &self,
        id: CallId,
        object_key: &str,
        format: &str,
        size_bytes: u64,
    ) -> Result<(), MetastoreError> {
        let ids = id.to_string();
        let mut tx = self.pool.begin().await?;
        let audio: Option<Option<String>> =
            sqlx::query_scalar("SELECT audio FROM calls WHERE id = $1 FOR UPDATE")
                .bind(&ids)
                .fetch_optional(&mut *tx)
                .await?;
        let audio = audio.ok_or_else(|| MetastoreError::NotFound(format!("no call {id}")))?;
        let audio = match audio {
            Some(json) => {
                let mut info: AudioInfo = from_json(&ids, &json)?;
                info.format = format.to_string();
                Some(to_json(&ids, &info)?)
            }
            None => None,
        };
        sqlx::query(
            "UPDATE calls SET object_key = $2, size_bytes = $3, audio = $4,
                updated_at = clock_timestamp() WHERE id = $1",
        )
        .bind(&ids)
        .bind(object_key)
        .bind(size_bytes as i64)
        .bind(audio)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn state_counts(&self) -> Result<Vec<(String, u64)>, MetastoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM calls GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(s, n)| (s, n.max(0) as u64))
            .collect())
    }

    async fn in_state(&self, state: &str) -> Result<Vec<Call>, MetastoreError> {
        calls(
            sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {CALL_COLUMNS} FROM calls c WHERE c.state = $1 ORDER BY c.received_at"
            )))
            .bind(state)
            .fetch_all(&self.pool)
            .await?,
        )
    }

    async fn list(&self, limit: usize) -> Result<Vec<Call>, MetastoreError> {
        calls(
            sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {CALL_COLUMNS} FROM calls c ORDER BY c.received_at DESC LIMIT $1"
            )))
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?,
        )
    }

    async fn delete(&self, id: CallId) -> Result<(), MetastoreError> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query("DELETE FROM calls WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n > 0 {
            // Every serving node's index drops the call's documents.
            append_index_change(&mut tx, id, true).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn transcribed_calls(&self, client: &str) -> Result<Vec<Call>, MetastoreError> {
        calls(
            sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {CALL_COLUMNS} FROM calls c JOIN transcripts t ON t.call_id = c.id
                 WHERE c.client = $1 ORDER BY c.received_at"
            )))
            .bind(client)
            .fetch_all(&self.pool)
            .await?,
        )
    }

    async fn get_in(&self, id: CallId, scope: &Scope) -> Result<Option<Call>, MetastoreError> {
        let row: Option<RawCall> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CALL_COLUMNS} FROM calls c
             WHERE c.id = $1 AND ($2::text[] IS NULL OR c.client = ANY($2))"
        )))
        .bind(id.to_string())
        .bind(scope_list(scope))
        .fetch_optional(&self.pool)
        .await?;
        row.map(into_call).transpose()
    }

    async fn list_in(&self, scope: &Scope, limit: usize) -> Result<Vec<Call>, MetastoreError> {
        calls(
            sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {CALL_COLUMNS} FROM calls c
                 WHERE ($2::text[] IS NULL OR c.client = ANY($2))
                 ORDER BY c.received_at DESC LIMIT $1"
            )))
            .bind(limit as i64)
            .bind(scope_list(scope))
            .fetch_all(&self.pool)
            .await?,
        )
    }

    async fn calls_page(
        &self,
        scope: &Scope,
        page: &CallPage,
    ) -> Result<(Vec<(Call, Option<Verdict>)>, u64), MetastoreError> {
        let filter = "FROM calls c LEFT JOIN verifications v ON v.call_id = c.id
             WHERE ($1::text[] IS NULL OR c.client = ANY($1))
             AND ($2::text IS NULL OR c.agent = $2) AND ($3::text IS NULL OR c.campaign = $3)
             AND ($4::text IS NULL OR ($4 = '' AND v.verdict IS NULL) OR v.verdict = $4)";
        let verdict = page
            .verdict
            .map(|v| v.map(|v| v.as_str()).unwrap_or_default());
        let (total,): (i64,) = sqlx::query_as(AssertSqlSafe(format!("SELECT COUNT(*) {filter}")))
            .bind(scope_list(scope))
            .bind(&page.agent)
            .bind(&page.campaign)
            .bind(verdict)
            .fetch_one(&self.pool)
            .await?;
        let dir = if page.ascending { "ASC" } else { "DESC" };
        let rows: Vec<RawCall> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CALL_COLUMNS} {filter}
             ORDER BY {} {dir}, c.id {dir} LIMIT $5 OFFSET $6",
            page.sort.column()
        )))
        .bind(scope_list(scope))
        .bind(&page.agent)
        .bind(&page.campaign)
        .bind(verdict)
        .bind(page.limit as i64)
        .bind(page.offset as i64)
        .fetch_all(&self.pool)
        .await?;
        let calls = calls(rows)?;
        let ids: Vec<String> = calls.iter().map(|c| c.id.to_string()).collect();
        let verdicts: Vec<(String, String)> =
            sqlx::query_as("SELECT call_id, verdict FROM verifications WHERE call_id = ANY($1)")
                .bind(&ids)
                .fetch_all(&self.pool)
                .await?;
        let verdicts: std::collections::HashMap<String, String> = verdicts.into_iter().collect();
        let mut out = Vec::with_capacity(calls.len());
        for call in calls {
            let verdict = crate::stored_verdict(
                call.id,
                verdicts.get(&call.id.to_string()).map(String::as_str),
            )?;
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
        let Some(key) = self.object_key_any(id).await? else {
            return Ok(None);
        };
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
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CALL_COLUMNS}, v.verification FROM calls c
             JOIN verifications v ON v.call_id = c.id
             WHERE c.client = $1
               AND ($2::timestamptz IS NULL OR COALESCE(c.started_at, c.received_at) >= $2)
               AND ($3::timestamptz IS NULL OR COALESCE(c.started_at, c.received_at) < $3)
             ORDER BY c.received_at"
        )))
        .bind(client)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let raw: RawCall = (
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
                r.try_get(6)?,
                r.try_get(7)?,
                r.try_get(8)?,
                r.try_get(9)?,
            );
            let v: String = r.try_get(10)?;
            let call = into_call(raw)?;
            let v: Verification = from_json(&call.id.to_string(), &v)?;
            out.push((call, v));
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl Results for PostgresMetastore {
    async fn put_transcript(&self, t: &Transcript) -> Result<(), MetastoreError> {
        let id = t.call_id.to_string();
        sqlx::query(
            "INSERT INTO transcripts (call_id, transcript) VALUES ($1, $2)
             ON CONFLICT (call_id) DO UPDATE SET transcript = excluded.transcript",
        )
        .bind(&id)
        .bind(to_json(&id, t)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn put_verification(&self, v: &Verification) -> Result<(), MetastoreError> {
        let id = v.call_id.to_string();
        sqlx::query(
            "INSERT INTO verifications (call_id, verdict, ruleset_id, ruleset_version, verification, verified_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (call_id) DO UPDATE SET verdict = excluded.verdict,
                ruleset_id = excluded.ruleset_id, ruleset_version = excluded.ruleset_version,
                verification = excluded.verification, verified_at = excluded.verified_at",
        )
        .bind(&id)
        .bind(v.verdict.as_str())
        .bind(&v.ruleset.id)
        .bind(v.ruleset.version as i32)
        .bind(to_json(&id, v)?)
        .bind(v.verified_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn put_redaction(&self, r: &Redaction) -> Result<(), MetastoreError> {
        let id = r.call_id.to_string();
        sqlx::query(
            "INSERT INTO redactions (call_id, json) VALUES ($1, $2)
             ON CONFLICT (call_id) DO UPDATE SET json = excluded.json",
        )
        .bind(&id)
        .bind(to_json(&id, r)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn redaction_in(
        &self,
        id: CallId,
        scope: &Scope,
    ) -> Result<Option<Redaction>, MetastoreError> {
        self.scoped_document(id, scope, "SELECT json FROM redactions WHERE call_id = $1")
            .await
    }

    async fn verdict_counts(&self, client: &str) -> Result<Vec<(Verdict, u64)>, MetastoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT v.verdict, COUNT(*) FROM verifications v JOIN calls c ON c.id = v.call_id
             WHERE c.client = $1 GROUP BY v.verdict ORDER BY v.verdict",
        )
        .bind(client)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(v, n)| {
                let verdict = v.parse().map_err(|e: String| corrupt(client, e))?;
                Ok((verdict, n.max(0) as u64))
            })
            .collect()
    }

    async fn transcript_in(
        &self,
        id: CallId,
        scope: &Scope,
    ) -> Result<Option<Transcript>, MetastoreError> {
        self.scoped_document(
            id,
            scope,
            "SELECT transcript FROM transcripts WHERE call_id = $1",
        )
        .await
    }

    async fn verification_in(
        &self,
        id: CallId,
        scope: &Scope,
    ) -> Result<Option<Verification>, MetastoreError> {
        self.scoped_document(
            id,
            scope,
            "SELECT verification FROM verifications WHERE call_id = $1",
        )
        .await
    }
}

#[async_trait::async_trait]
impl RuleSets for PostgresMetastore {
    async fn put_ruleset(
        &self,
        client: &str,
        version: Option<u32>,
        sha256: &str,
        source: &str,
    ) -> Result<StoredRuleSet, MetastoreError> {
        let version = version.map(|v| v as i32);
        let mut tx = self.pool.begin().await?;
        // One writer of a client's versions at a time, across nodes.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('rulesets:' || $1))")
            .bind(client)
            .execute(&mut *tx)
            .await?;
        let same: Option<i32> = sqlx::query_scalar(
            "SELECT version FROM rulesets WHERE client = $1 AND sha256 = $2
               AND ($3::int IS NULL OR version = $3) ORDER BY version DESC LIMIT 1",
        )
        .bind(client)
        .bind(sha256)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        let chosen = match (same, version) {
            (Some(v), _) => v,
            (None, Some(v)) => {
                let taken: Option<i32> = sqlx::query_scalar(
                    "SELECT version FROM rulesets WHERE client = $1 AND version = $2",
                )
                .bind(client)
                .bind(v)
                .fetch_optional(&mut *tx)
                .await?;
                if taken.is_some() {
                    return Err(MetastoreError::RuleSetVersionTaken {
                        client: client.to_string(),
                        version: v as u32,
                    });
                }
                v
            }
            (None, None) => {
                let max: Option<i32> =
                    sqlx::query_scalar("SELECT MAX(version) FROM rulesets WHERE client = $1")
                        .bind(client)
                        .fetch_one(&mut *tx)
                        .await?;
                max.unwrap_or(0) + 1
            }
        };
        if same.is_none() {
            sqlx::query(
                "INSERT INTO rulesets (client, version, sha256, source, created_at)
                 VALUES ($1, $2, $3, $4, clock_timestamp())",
            )
            .bind(client)
            .bind(chosen)
            .bind(sha256)
            .bind(source)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.ruleset(client, Some(chosen as u32))
            .await?
            .ok_or_else(|| corrupt(client, "rule set vanished after being stored"))
    }

    async fn ruleset(
        &self,
        client: &str,
        version: Option<u32>,
    ) -> Result<Option<StoredRuleSet>, MetastoreError> {
        let row: Option<(String, i32, String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT client, version, sha256, source, created_at FROM rulesets
             WHERE client = $1 AND ($2::int IS NULL OR version = $2)
             ORDER BY version DESC LIMIT 1",
        )
        .bind(client)
        .bind(version.map(|v| v as i32))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(client, version, sha256, source, created_at)| StoredRuleSet {
                client,
                version: version.max(0) as u32,
                sha256,
                source,
                created_at,
            },
        ))
    }

    async fn ruleset_versions(&self, client: &str) -> Result<Vec<StoredRuleSet>, MetastoreError> {
        let rows: Vec<(String, i32, String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT client, version, sha256, source, created_at FROM rulesets
             WHERE client = $1 ORDER BY version",
        )
        .bind(client)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(client, version, sha256, source, created_at)| StoredRuleSet {
                    client,
                    version: version.max(0) as u32,
                    sha256,
                    source,
                    created_at,
                },
            )
            .collect())
    }
}

#[async_trait::async_trait]
impl Access for PostgresMetastore {
    async fn create_key(
        &self,
        id: &str,
        name: &str,
        role: Role,
        clients: &[String],
        secret_sha256: &str,
    ) -> Result<ApiKey, MetastoreError> {
        let now = Utc::now();
        sqlx::query(
            "INSERT INTO api_keys (id, name, role, clients, secret_sha256, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(name)
        .bind(role.as_str())
        .bind(to_json(id, &clients)?)
        .bind(secret_sha256)
        .bind(now)
        .execute(&self.pool)
        .await?;
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
        let row: Option<RawKey> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(into_key).transpose()
    }

    async fn keys(&self) -> Result<Vec<ApiKey>, MetastoreError> {
        let rows: Vec<RawKey> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| into_key(r).map(|(k, _)| k))
            .collect()
    }

    async fn revoke_key(&self, id: &str) -> Result<ApiKey, MetastoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, clock_timestamp()) WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // A revoked key's web sessions end with it.
        sqlx::query("DELETE FROM web_sessions WHERE key_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
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
        let mut tx = self.pool.begin().await?;
        // The head row's lock orders appends from every node.
        let (prev_seq, prev_hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head FOR UPDATE")
                .fetch_one(&mut *tx)
                .await?;
        let seq = prev_seq as u64 + 1;
        let at = Utc::now();
        let at_s = audit_time(&at);
        let hash = audit_hash(seq, &at_s, actor, action, target, outcome, &prev_hash);
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO audit ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )))
        .bind(seq as i64)
        .bind(at)
        .bind(&actor.key_id)
        .bind(actor.role.as_str())
        .bind(&actor.tenant)
        .bind(action)
        .bind(target)
        .bind(outcome)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2")
            .bind(seq as i64)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
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
        let rows: Vec<RawAudit> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {AUDIT_COLUMNS} FROM audit
             WHERE ($1::text IS NULL OR key_id = $1) AND ($2::text IS NULL OR action = $2)
               AND ($3::text IS NULL OR tenant = $3) AND ($4::text IS NULL OR target = $4)
               AND ($5::timestamptz IS NULL OR at >= $5) AND ($6::timestamptz IS NULL OR at < $6)
             ORDER BY seq LIMIT $7"
        )))
        .bind(&f.key_id)
        .bind(&f.action)
        .bind(&f.tenant)
        .bind(&f.target)
        .bind(f.from)
        .bind(f.to)
        .bind(f.limit.unwrap_or(1000) as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(into_audit).collect()
    }

    async fn audit_entry(&self, seq: u64) -> Result<Option<AuditEntry>, MetastoreError> {
        let row: Option<RawAudit> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {AUDIT_COLUMNS} FROM audit WHERE seq = $1"
        )))
        .bind(seq as i64)
        .fetch_optional(&self.pool)
        .await?;
        row.map(into_audit).transpose()
    }

    async fn audit_last(&self) -> Result<Option<AuditEntry>, MetastoreError> {
        let row: Option<RawAudit> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {AUDIT_COLUMNS} FROM audit ORDER BY seq DESC LIMIT 1"
        )))
        .fetch_optional(&self.pool)
        .await?;
        row.map(into_audit).transpose()
    }

    async fn verify_audit(&self) -> Result<Result<u64, AuditBreak>, MetastoreError> {
        use futures_util::TryStreamExt;
        let mut tx = self.pool.begin().await?;
        // One snapshot for the entries and the head.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
        let mut expected_seq = 1u64;
        let mut prev = GENESIS.to_string();
        {
            let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit ORDER BY seq");
            let mut rows = sqlx::query_as::<_, RawAudit>(AssertSqlSafe(sql)).fetch(&mut *tx);
            while let Some(r) = rows.try_next().await? {
                let (seq, at, key_id, role, tenant, action, target, outcome, prev_hash, hash) = r;
                let seq = seq.max(0) as u64;
                let brk = |reason: String| Ok(Err(AuditBreak { seq, reason }));
                if seq != expected_seq {
                    return brk(format!(
                        "entries {expected_seq} to {} are missing (deleted)",
                        seq - 1
                    ));
                }
                let Ok(parsed) = role.parse::<Role>() else {
                    return brk(format!("entry {seq} has an unknown role {role:?} (edited)"));
                };
                if prev_hash != prev {
                    return brk(format!(
                        "entry {seq} does not follow entry {}: its previous-hash differs (an entry was removed or replaced)",
                        seq - 1
                    ));
                }
                let actor = Actor {
                    key_id,
                    role: parsed,
                    tenant,
                };
                let want = audit_hash(
                    seq,
                    &audit_time(&at),
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
        }
        let count = expected_seq - 1;
        let head: Option<(i64, String)> = sqlx::query_as("SELECT seq, hash FROM audit_head")
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        let Some((head_seq, head_hash)) = head else {
            return Ok(Err(AuditBreak {
                seq: count,
                reason: "the audit head row is missing, so the deletion of the newest entries cannot be ruled out; restore the catalog from a backup".into(),
            }));
        };
        let head_seq = head_seq.max(0) as u64;
        if head_seq > count {
            return Ok(Err(AuditBreak {
                seq: count + 1,
                reason: format!(
                    "the log ends at entry {count} but entry {head_seq} was written (the newest entries were deleted)"
                ),
            }));
        }
        if head_seq == count && head_seq > 0 && head_hash != prev {
            return Ok(Err(AuditBreak {
                seq: head_seq,
                reason: format!(
                    "entry {head_seq} differs from the one recorded when it was written"
                ),
            }));
        }
        Ok(Ok(count))
    }

    async fn key_language(&self, key_id: &str) -> Result<Option<String>, MetastoreError> {
        self.document(
            "SELECT language FROM key_preferences WHERE key_id = $1",
            key_id,
        )
        .await
    }

    async fn set_key_language(&self, key_id: &str, language: &str) -> Result<(), MetastoreError> {
        sqlx::query(
            "INSERT INTO key_preferences (key_id, language) VALUES ($1, $2)
             ON CONFLICT (key_id) DO UPDATE SET language = excluded.language",
        )
        .bind(key_id)
        .bind(language)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn create_session(
        &self,
        id_sha256: &str,
        key_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), MetastoreError> {
        let now = Utc::now();
        // Expired sessions are swept as new ones open: the table stays the size of its users.
        sqlx::query("DELETE FROM web_sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO web_sessions (id_sha256, key_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id_sha256)
        .bind(key_id)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session_key(
        &self,
        id_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, MetastoreError> {
        Ok(sqlx::query_scalar(
            "SELECT key_id FROM web_sessions WHERE id_sha256 = $1 AND expires_at > $2",
        )
        .bind(id_sha256)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn delete_session(&self, id_sha256: &str) -> Result<(), MetastoreError> {
        sqlx::query("DELETE FROM web_sessions WHERE id_sha256 = $1")
            .bind(id_sha256)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Holds for PostgresMetastore {
    async fn put_hold(&self, h: &LegalHold) -> Result<(), MetastoreError> {
        sqlx::query(
            "INSERT INTO legal_holds (id, client, json, active) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET json = excluded.json, active = excluded.active",
        )
        .bind(&h.id)
        .bind(&h.client)
        .bind(to_json(&h.id, h)?)
        .bind(h.is_active())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn hold(&self, id: &str) -> Result<Option<LegalHold>, MetastoreError> {
        self.document("SELECT json FROM legal_holds WHERE id = $1", id)
            .await?
            .map(|j| from_json(id, &j))
            .transpose()
    }

    async fn holds(
        &self,
        client: Option<&str>,
        active_only: bool,
    ) -> Result<Vec<LegalHold>, MetastoreError> {
        json_rows(
            sqlx::query_as(
                "SELECT id, json FROM legal_holds WHERE ($1::text IS NULL OR client = $1)
                   AND (NOT $2 OR active) ORDER BY id",
            )
            .bind(client)
            .bind(active_only)
            .fetch_all(&self.pool)
            .await?,
        )
    }
}

#[async_trait::async_trait]
impl PendingObjects for PostgresMetastore {
    async fn begin_object(&self, object_key: &str, owner: &str) -> Result<(), MetastoreError> {
        sqlx::query(
            "INSERT INTO pending_objects (object_key, owner, created_at)
             VALUES ($1, $2, clock_timestamp())",
        )
        .bind(object_key)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn end_object(&self, object_key: &str) -> Result<(), MetastoreError> {
        sqlx::query("DELETE FROM pending_objects WHERE object_key = $1")
            .bind(object_key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn pending_objects(&self) -> Result<Vec<(String, String)>, MetastoreError> {
        Ok(sqlx::query_as(
            "SELECT object_key, owner FROM pending_objects ORDER BY created_at, object_key",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

#[async_trait::async_trait]
impl Quality for PostgresMetastore {
    async fn put_sample(&self, s: &Sample) -> Result<(), MetastoreError> {
        sqlx::query("INSERT INTO samples (id, client, sample, created_at) VALUES ($1, $2, $3, $4)")
            .bind(s.id.as_str())
            .bind(&s.params.client)
            .bind(to_json(s.id.as_str(), s)?)
            .bind(s.created_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn sample(&self, id: &SampleId) -> Result<Option<Sample>, MetastoreError> {
        self.document("SELECT sample FROM samples WHERE id = $1", id.as_str())
            .await?
            .map(|j| from_json(id.as_str(), &j))
            .transpose()
    }

    async fn samples(&self, scope: &Scope) -> Result<Vec<Sample>, MetastoreError> {
        json_rows(
            sqlx::query_as(
                "SELECT id, sample FROM samples
                 WHERE $1::text[] IS NULL OR client = ANY($1)
                 ORDER BY created_at DESC",
            )
            .bind(scope_list(scope))
            .fetch_all(&self.pool)
            .await?,
        )
    }

    async fn next_review_version(
        &self,
        call: CallId,
        reviewer: &str,
        calibration: Option<&CalibrationId>,
    ) -> Result<u32, MetastoreError> {
        let max: Option<i32> = sqlx::query_scalar(
            "SELECT MAX(version) FROM reviews WHERE call_id = $1 AND reviewer = $2
               AND calibration_id IS NOT DISTINCT FROM $3",
        )
        .bind(call.to_string())
        .bind(reviewer)
        .bind(calibration.map(|c| c.as_str()))
        .fetch_one(&self.pool)
        .await?;
        Ok(max.unwrap_or(0).max(0) as u32 + 1)
    }

    async fn put_review(&self, r: &Review) -> Result<(), MetastoreError> {
        sqlx::query(
            "INSERT INTO reviews (id, call_id, reviewer, calibration_id, version, review, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(r.id.as_str())
        .bind(r.call_id.to_string())
        .bind(&r.reviewer.key_id)
        .bind(r.input.calibration_id.as_ref().map(|c| c.as_str()))
        .bind(r.version as i32)
        .bind(to_json(r.id.as_str(), r)?)
        .bind(r.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn reviews(&self, call: CallId) -> Result<Vec<Review>, MetastoreError> {
        json_rows(
            sqlx::query_as(
                "SELECT id, review FROM reviews WHERE call_id = $1 ORDER BY created_at, version",
            )
            .bind(call.to_string())
            .fetch_all(&self.pool)
            .await?,
        )
    }

    async fn client_reviews(&self, client: &str) -> Result<Vec<Review>, MetastoreError> {
        json_rows(
            sqlx::query_as(
                "SELECT r.id, r.review FROM reviews r JOIN calls c ON c.id = r.call_id
                 WHERE c.client = $1 ORDER BY r.created_at, r.version",
            )
            .bind(client)
            .fetch_all(&self.pool)
            .await?,
        )
    }

    async fn put_calibration(&self, c: &Calibration) -> Result<(), MetastoreError> {
        sqlx::query("INSERT INTO calibrations (id, call_id, calibration) VALUES ($1, $2, $3)")
            .bind(c.id.as_str())
            .bind(c.call_id.to_string())
            .bind(to_json(c.id.as_str(), c)?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn calibration(&self, id: &CalibrationId) -> Result<Option<Calibration>, MetastoreError> {
        self.document(
            "SELECT calibration FROM calibrations WHERE id = $1",
            id.as_str(),
        )
        .await?
        .map(|j| from_json(id.as_str(), &j))
        .transpose()
    }
}

// The work queue.

const JOB_COLUMNS: &str =
    "id, call_id, kind, state, attempts, max_attempts, owner, last_error FROM jobs";

type RawJob = (
    i64,
    String,
    String,
    String,
    i32,
    i32,
    Option<String>,
    Option<String>,
);

fn into_job(r: RawJob) -> Result<Job, MetastoreError> {
    let (id, call, kind, state, attempts, max_attempts, owner, last_error) = r;
    let bad = |what: &str| MetastoreError::Corrupt {
        id: format!("job {id}"),
        detail: what.to_string(),
    };
    Ok(Job {
        id,
        call_id: call.parse().map_err(|_| bad("bad call id"))?,
        kind: JobKind::parse(&kind).ok_or_else(|| bad("unknown kind"))?,
        state: JobState::parse(&state).ok_or_else(|| bad("unknown state"))?,
        attempts: attempts.max(0) as u32,
        max_attempts: max_attempts.max(0) as u32,
        owner,
        last_error,
    })
}

fn jobs(rows: Vec<RawJob>) -> Result<Vec<Job>, MetastoreError> {
    rows.into_iter().map(into_job).collect()
}

/// A lease as PostgreSQL reads it (microseconds).
fn interval(lease: Duration) -> sqlx::postgres::types::PgInterval {
    sqlx::postgres::types::PgInterval {
        months: 0,
        days: 0,
        microseconds: lease.as_micros().min(i64::MAX as u128) as i64,
    }
}

type Tx = Transaction<'static, Postgres>;

async fn enqueue_tx(tx: &mut Tx, call: CallId, kind: JobKind) -> Result<(), MetastoreError> {
    sqlx::query(
        "INSERT INTO jobs (call_id, kind, state, max_attempts, created_at, updated_at)
         VALUES ($1, $2, 'queued', $3, clock_timestamp(), clock_timestamp())
         ON CONFLICT DO NOTHING",
    )
    .bind(call.to_string())
    .bind(kind.as_str())
    .bind(MAX_ATTEMPTS as i32)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn set_call(
    tx: &mut Tx,
    call: CallId,
    state: &str,
    failure: Option<&str>,
) -> Result<(), MetastoreError> {
    sqlx::query(
        "UPDATE calls SET state = $2, failure = $3, updated_at = clock_timestamp() WHERE id = $1",
    )
    .bind(call.to_string())
    .bind(state)
    .bind(failure)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Puts a job back in the queue with `reason` as its last error. A call whose transcription
/// goes back is `received` again; one waiting for its index job stays where it is.
async fn requeue(tx: &mut Tx, job: &Job, reason: &str) -> Result<(), MetastoreError> {
    sqlx::query(
        "UPDATE jobs SET state = 'queued', owner = NULL, lease_until = NULL, last_error = $2,
            updated_at = clock_timestamp() WHERE id = $1",
    )
    .bind(job.id)
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    if job.kind == JobKind::Transcribe {
        set_call(tx, job.call_id, "received", None).await?;
    }
    Ok(())
}

/// Dead-letters a job and fails its call.
async fn bury(tx: &mut Tx, job: &Job, reason: &str) -> Result<(), MetastoreError> {
    sqlx::query(
        "UPDATE jobs SET state = 'dead', owner = NULL, lease_until = NULL, last_error = $2,
            updated_at = clock_timestamp() WHERE id = $1",
    )
    .bind(job.id)
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    set_call(tx, job.call_id, "failed", Some(reason)).await
}

#[async_trait::async_trait]
impl Jobs for PostgresMetastore {
    async fn enqueue(&self, call: CallId, kind: JobKind) -> Result<(), MetastoreError> {
        let mut tx = self.pool.begin().await?;
        enqueue_tx(&mut tx, call, kind).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn claim(
        &self,
        kind: JobKind,
        owner: &str,
        lease: Duration,
        call: Option<CallId>,
    ) -> Result<Option<Job>, MetastoreError> {
        let mut tx = self.pool.begin().await?;
        loop {
            // SKIP LOCKED: a job another worker is claiming right now is passed over rather
            // than waited for, so claims from many workers never queue behind each other.
            let next: Option<RawJob> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} WHERE kind = $1
                   AND (state = 'queued' OR (state = 'running' AND lease_until < clock_timestamp()))
                   AND ($2::text IS NULL OR call_id = $2)
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
            )))
            .bind(kind.as_str())
            .bind(call.map(|c| c.to_string()))
            .fetch_optional(&mut *tx)
            .await?;
            let Some(mut job) = next.map(into_job).transpose()? else {
                tx.commit().await?;
                return Ok(None);
            };
            if job.attempts >= job.max_attempts {
                // Its last attempt never reported back: the worker died holding it.
                let last = job.last_error.clone().unwrap_or_else(|| {
                    "its worker stopped before finishing (crashed or was killed)".into()
                });
                let reason = crate::jobs::dead_reason(&job, &last);
                bury(&mut tx, &job, &reason).await?;
                continue;
            }
            job.attempts += 1;
            job.state = JobState::Running;
            job.owner = Some(owner.to_string());
            sqlx::query(
                "UPDATE jobs SET state = 'running', attempts = $2, owner = $3,
                    lease_until = clock_timestamp() + $4, updated_at = clock_timestamp(),
                    started_at = clock_timestamp()
                 WHERE id = $1",
            )
            .bind(job.id)
            .bind(job.attempts as i32)
            .bind(owner)
            .bind(interval(lease))
            .execute(&mut *tx)
            .await?;
            if kind == JobKind::Transcribe {
                set_call(&mut tx, job.call_id, "transcribing", None).await?;
            }
            tx.commit().await?;
            return Ok(Some(job));
        }
    }

    async fn heartbeat(
        &self,
        job: i64,
        owner: &str,
        lease: Duration,
    ) -> Result<bool, MetastoreError> {
        let n = sqlx::query(
            "UPDATE jobs SET lease_until = clock_timestamp() + $3, updated_at = clock_timestamp()
             WHERE id = $1 AND owner = $2 AND state = 'running'",
        )
        .bind(job)
        .bind(owner)
        .bind(interval(lease))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn complete(
        &self,
        job: i64,
        owner: &str,
        next: Option<JobKind>,
    ) -> Result<bool, MetastoreError> {
        let mut tx = self.pool.begin().await?;
        let held: Option<RawJob> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} WHERE id = $1 AND owner = $2 AND state = 'running' FOR UPDATE"
        )))
        .bind(job)
        .bind(owner)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(held) = held.map(into_job).transpose()? else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE jobs SET state = 'done', owner = NULL, lease_until = NULL,
                updated_at = clock_timestamp(),
                work_ms = (EXTRACT(EPOCH FROM clock_timestamp() - started_at) * 1000)::BIGINT
             WHERE id = $1",
        )
        .bind(job)
        .execute(&mut *tx)
        .await?;
        match next {
            Some(k) => enqueue_tx(&mut tx, held.call_id, k).await?,
            None if held.kind == JobKind::Index => {
                set_call(&mut tx, held.call_id, "indexed", None).await?;
                // The other serving nodes index it from the change log.
                append_index_change(&mut tx, held.call_id, false).await?;
            }
            None => {}
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn fail(
        &self,
        job: i64,
        owner: &str,
        reason: &str,
        retry: bool,
    ) -> Result<JobState, MetastoreError> {
        let mut tx = self.pool.begin().await?;
        let held: Option<RawJob> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} WHERE id = $1 FOR UPDATE"
        )))
        .bind(job)
        .fetch_optional(&mut *tx)
        .await?;
        let held = held
            .map(into_job)
            .transpose()?
            .ok_or_else(|| MetastoreError::NotFound(format!("no job {job}")))?;
        if held.owner.as_deref() != Some(owner) || held.state != JobState::Running {
            return Ok(held.state);
        }
        let state = if retry && held.attempts < held.max_attempts {
            requeue(&mut tx, &held, reason).await?;
            JobState::Queued
        } else {
            let why = if retry {
                crate::jobs::dead_reason(&held, reason)
            } else {
                reason.to_string()
            };
            bury(&mut tx, &held, &why).await?;
            JobState::Dead
        };
        tx.commit().await?;
        Ok(state)
    }

    async fn release_owner(&self, owner: &str, reason: &str) -> Result<Vec<Job>, MetastoreError> {
        let mut tx = self.pool.begin().await?;
        let held = jobs(
            sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} WHERE owner = $1 AND state = 'running' ORDER BY id FOR UPDATE"
            )))
            .bind(owner)
            .fetch_all(&mut *tx)
            .await?,
        )?;
        let mut out = Vec::new();
        for mut job in held {
            if job.attempts >= job.max_attempts {
                let why = crate::jobs::dead_reason(&job, reason);
                bury(&mut tx, &job, &why).await?;
                job.state = JobState::Dead;
                job.last_error = Some(why);
            } else {
                requeue(&mut tx, &job, reason).await?;
                job.state = JobState::Queued;
                job.last_error = Some(reason.to_string());
            }
            job.owner = None;
            out.push(job);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn jobs(
        &self,
        state: Option<JobState>,
        limit: usize,
    ) -> Result<Vec<Job>, MetastoreError> {
        jobs(
            sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} WHERE ($1::text IS NULL OR state = $1) ORDER BY id LIMIT $2"
            )))
            .bind(state.map(JobState::as_str))
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?,
        )
    }

    async fn transcription_work(
        &self,
        since: DateTime<Utc>,
    ) -> Result<crate::jobs::TranscriptionWork, MetastoreError> {
        let (jobs, work, audio): (i64, Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), SUM(j.work_ms)::BIGINT,
                SUM((c.audio::jsonb->>'duration_ms')::BIGINT)::BIGINT
             FROM jobs j JOIN calls c ON c.id = j.call_id
             WHERE j.kind = 'transcribe' AND j.state = 'done' AND j.work_ms IS NOT NULL
               AND j.updated_at >= $1",
        )
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(crate::jobs::TranscriptionWork {
            jobs: jobs.max(0) as u64,
            work_ms: work.unwrap_or(0).max(0) as u64,
            audio_ms: audio.unwrap_or(0).max(0) as u64,
        })
    }

    async fn job_counts(&self) -> Result<Vec<(JobKind, JobState, u64)>, MetastoreError> {
        crate::jobs::counted(
            sqlx::query_as(
                "SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state ORDER BY kind, state",
            )
            .fetch_all(&self.pool)
            .await?,
        )
    }

    async fn jobs_of(&self, call: CallId) -> Result<Vec<Job>, MetastoreError> {
        jobs(
            sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} WHERE call_id = $1 ORDER BY id"
            )))
            .bind(call.to_string())
            .fetch_all(&self.pool)
            .await?,
        )
    }
}

/// Appends to the index's change log inside `tx`. The number comes from the head row, whose
/// lock is held until `tx` commits: changes become visible in the order of their numbers.
async fn append_index_change(
    tx: &mut Tx,
    call: CallId,
    removed: bool,
) -> Result<(), MetastoreError> {
    let seq: i64 = sqlx::query_scalar("UPDATE index_change_head SET seq = seq + 1 RETURNING seq")
        .fetch_one(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO index_changes (seq, call_id, removed, at) VALUES ($1, $2, $3, clock_timestamp())",
    )
    .bind(seq)
    .bind(call.to_string())
    .bind(removed)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A call to re-index, announced inside a transaction of the migration from SQLite.
pub(crate) async fn append_index_change_in(
    tx: &mut Tx,
    call: CallId,
) -> Result<(), MetastoreError> {
    append_index_change(tx, call, false).await
}

#[async_trait::async_trait]
impl IndexChanges for PostgresMetastore {
    async fn index_changed(&self, call: CallId) -> Result<(), MetastoreError> {
        let mut tx = self.pool.begin().await?;
        append_index_change(&mut tx, call, false).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn index_changes(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<IndexChange>, MetastoreError> {
        let rows: Vec<(i64, String, bool)> = sqlx::query_as(
            "SELECT seq, call_id, removed FROM index_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after.min(i64::MAX as u64) as i64)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(seq, call, removed)| {
                Ok(IndexChange {
                    seq: seq.max(0) as u64,
                    call_id: call.parse().map_err(|e: String| corrupt(&call, e))?,
                    removed,
                })
            })
            .collect()
    }

    async fn last_index_change(&self) -> Result<u64, MetastoreError> {
        let n: i64 = sqlx::query_scalar("SELECT seq FROM index_change_head")
            .fetch_one(&self.pool)
            .await?;
        Ok(n.max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(
            redacted_url("postgres://cp:s3cret@db.example:5432/callproof"),
            "postgres://cp:…@db.example:5432/callproof"
        );
        assert_eq!(
            redacted_url("postgres://localhost/callproof"),
            "postgres://localhost/callproof"
        );
    }
}
