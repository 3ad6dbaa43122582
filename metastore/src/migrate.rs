//! Moving an embedded catalog (SQLite) into a shared one (PostgreSQL), record for record: the
//! ids, times, states, key hashes and the audit chain arrive unchanged, so transcripts need no
//! second pass through Whisper and the audit log still verifies.
//!
//! The two schemas have the same tables and columns (PostgreSQL's were made so); only the
//! types differ (text times become `timestamptz`, integer flags booleans). The copy is one
//! PostgreSQL transaction (all or nothing) and skips rows that are already there, so a copy that
//! failed half-way is simply run again.

use std::path::Path;

use rusqlite::types::Value;

use crate::{MetastoreError, PostgresMetastore};

#[derive(Clone, Copy)]
enum Col {
    Text,
    Int,
    Time,
    Bool,
}

use Col::{Bool, Int, Text, Time};

/// The tables copied, parents first, with their columns. Web sessions (people sign in again)
/// and pending objects (a start-up check's business) are not copied.
const TABLES: &[(&str, &[(&str, Col)])] = &[
    (
        "calls",
        &[
            ("id", Text),
            ("sha256", Text),
            ("client", Text),
            ("campaign", Text),
            ("agent", Text),
            ("customer_phone", Text),
            ("contract_ref", Text),
            ("started_at", Time),
            ("metadata", Text),
            ("original_name", Text),
            ("size_bytes", Int),
            ("object_key", Text),
            ("audio", Text),
            ("state", Text),
            ("failure", Text),
            ("received_at", Time),
            ("updated_at", Time),
        ],
    ),
    ("transcripts", &[("call_id", Text), ("transcript", Text)]),
    (
        "rulesets",
        &[
            ("client", Text),
            ("version", Int),
            ("sha256", Text),
            ("source", Text),
            ("created_at", Time),
        ],
    ),
    (
        "verifications",
        &[
            ("call_id", Text),
            ("verdict", Text),
            ("ruleset_id", Text),
            ("ruleset_version", Int),
            ("verification", Text),
            ("verified_at", Time),
        ],
    ),
    (
        "api_keys",
        &[
            ("id", Text),
            ("name", Text),
            ("role", Text),
            ("clients", Text),
            ("secret_sha256", Text),
            ("created_at", Time),
            ("revoked_at", Time),
        ],
    ),
    (
        "audit",
        &[
            ("seq", Int),
            ("at", Time),
            ("key_id", Text),
            ("role", Text),
            ("tenant", Text),
            ("action", Text),
            ("target", Text),
            ("outcome", Text),
            ("prev_hash", Text),
            ("hash", Text),
        ],
    ),
    (
        "samples",
        &[
            ("id", Text),
            ("client", Text),
            ("sample", Text),
            ("created_at", Time),
        ],
    ),
    (
        "reviews",
        &[
            ("id", Text),
            ("call_id", Text),
            ("reviewer", Text),
            ("calibration_id", Text),
            ("version", Int),
            ("review", Text),
            ("created_at", Time),
        ],
    ),
    (
        "calibrations",
        &[("id", Text), ("call_id", Text), ("calibration", Text)],
    ),
    ("key_preferences", &[("key_id", Text), ("language", Text)]),
    (
        "jobs",
        &[
            ("id", Int),
            ("call_id", Text),
            ("kind", Text),
            ("state", Text),
            ("attempts", Int),
            ("max_attempts", Int),
            ("owner", Text),
            ("lease_until", Time),
            ("last_error", Text),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    ),
    ("redactions", &[("call_id", Text), ("json", Text)]),
    (
        "legal_holds",
        &[
            ("id", Text),
            ("client", Text),
            ("json", Text),
            ("active", Bool),
        ],
    ),
];

/// Rows copied per table, and rows that were already there.
#[derive(Debug, Default, serde::Serialize)]
pub struct CopyReport {
    pub tables: Vec<(String, u64, u64)>,
}

fn unavailable(e: impl std::fmt::Display) -> MetastoreError {
    MetastoreError::Unavailable(format!("reading the SQLite catalog: {e}"))
}

/// Copies every record of the SQLite catalog at `from` into `to`. A job that was running is
/// copied as queued (its worker stays behind); the change log gets one entry per indexed call,
/// so that serving nodes that already have an index pick the calls up.
pub async fn copy_sqlite_into_postgres(
    from: &Path,
    to: &PostgresMetastore,
    progress: &(dyn Fn(&str, u64) + Sync),
) -> Result<CopyReport, MetastoreError> {
    // Opening through the store brings an old catalog to the current schema first.
    drop(crate::SqliteMetastore::open(from)?);
    let src =
        rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(unavailable)?;
    let mut tx = to.pool().begin().await?;
    let mut report = CopyReport::default();
    for (table, cols) in TABLES {
        let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
        let rows: Vec<Vec<Value>> = {
            let mut stmt = src
                .prepare(&format!("SELECT {} FROM {table}", names.join(", ")))
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([], |r| {
                    (0..cols.len()).map(|i| r.get::<_, Value>(i)).collect()
                })
                .map_err(unavailable)?;
            rows.collect::<Result<_, _>>().map_err(unavailable)?
        };
        let placeholders: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, (name, kind))| {
                let p = i + 1;
                match (kind, *table, *name) {
                    // A running job's worker does not come along: the job waits again.
                    (_, "jobs", "state") => {
                        format!(
                            "CASE WHEN ${p}::text = 'running' THEN 'queued' ELSE ${p}::text END"
                        )
                    }
                    (_, "jobs", "owner") | (_, "jobs", "lease_until") => "NULL".to_string(),
                    (Text, _, _) => format!("${p}::text"),
                    (Int, _, _) => format!("${p}::bigint"),
                    (Time, _, _) => format!("${p}::text::timestamptz"),
                    (Bool, _, _) => format!("(${p}::bigint <> 0)"),
                }
            })
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT DO NOTHING",
            names.join(", "),
            placeholders.join(", ")
        );
        let (mut copied, mut present) = (0u64, 0u64);
        for row in rows {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for v in row {
                q = match v {
                    Value::Null => q.bind(None::<String>),
                    Value::Integer(i) => q.bind(i),
                    Value::Real(f) => q.bind(f.to_string()),
                    Value::Text(t) => q.bind(t),
                    Value::Blob(b) => q.bind(String::from_utf8_lossy(&b).to_string()),
                };
            }
            match q.execute(&mut *tx).await?.rows_affected() {
                0 => present += 1,
                _ => copied += 1,
            }
        }
        progress(table, copied);
        report.tables.push((table.to_string(), copied, present));
    }
    // The chain's head, the job ids' sequence, and the change log follow the copied rows.
    sqlx::query(
        "UPDATE audit_head SET seq = a.seq, hash = a.hash
         FROM (SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1) a",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('jobs', 'id'), GREATEST((SELECT MAX(id) FROM jobs), 1))",
    )
    .execute(&mut *tx)
    .await?;
    let indexed: Vec<String> =
        sqlx::query_scalar("SELECT id FROM calls WHERE state = 'indexed' ORDER BY received_at")
            .fetch_all(&mut *tx)
            .await?;
    for id in indexed {
        let call = id.parse().map_err(|e: String| MetastoreError::Corrupt {
            id: id.clone(),
            detail: e,
        })?;
        crate::postgres::append_index_change_in(&mut tx, call).await?;
    }
    tx.commit().await?;
    Ok(report)
}
