//! The work queue: what is left to do for each call, claimed by workers under a lease.
//!
//! Work lives in the metastore, not in a process's memory, so that a stopped server, a worker
//! killed in the middle of a call, or a file that crashes its decoder never loses or repeats
//! work silently. A claim takes a lease that the worker renews; a lease that runs out makes the
//! job claimable again; every claim counts an attempt, and a job that used all its attempts is
//! dead-lettered with its last reason and its call marked failed. The call's state follows its
//! jobs, written in the same transaction: `received` (queued) → `transcribing` (transcription
//! claimed, then waiting for the indexer) → `indexed`, or `failed`.

use std::time::Duration;

use callproof_models::CallId;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::MetastoreError;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Decode, transcribe and verify a call (a worker's job).
    Transcribe,
    /// Write a transcribed call into the search index (the single indexer's job).
    Index,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Transcribe => "transcribe",
            JobKind::Index => "index",
        }
    }
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "transcribe" => Some(JobKind::Transcribe),
            "index" => Some(JobKind::Index),
            _ => None,
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    /// Gave up after its last attempt (or at once, for a failure that a retry cannot fix).
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(JobState::Queued),
            "running" => Some(JobState::Running),
            "done" => Some(JobState::Done),
            "dead" => Some(JobState::Dead),
            _ => None,
        }
    }
}

/// One unit of work on one call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: i64,
    pub call_id: CallId,
    pub kind: JobKind,
    pub state: JobState,
    /// Claims so far (the one running included).
    pub attempts: u32,
    pub max_attempts: u32,
    /// The worker holding it, while running.
    pub owner: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// Attempts a job gets before it is dead-lettered.
pub const MAX_ATTEMPTS: u32 = 3;

/// The work queue.
#[async_trait::async_trait]
pub trait Jobs: Send + Sync {
    /// Queues work for a call; a no-op while a job of that kind waits or runs for it.
    async fn enqueue(&self, call: CallId, kind: JobKind) -> Result<(), MetastoreError>;

    /// Claims the oldest claimable job of `kind` — queued, or running under a lease that ran
    /// out — for `owner` until `lease` from now, optionally only `call`'s. Counts an attempt.
    /// A job that already used every attempt is dead-lettered (its call failed) instead of
    /// being handed out, and the next one is tried.
    async fn claim(
        &self,
        kind: JobKind,
        owner: &str,
        lease: Duration,
        call: Option<CallId>,
    ) -> Result<Option<Job>, MetastoreError>;

    /// Extends the lease of a job `owner` still holds; false when it no longer does (its
    /// lease ran out and another worker took it over): the work must then be abandoned.
    async fn heartbeat(
        &self,
        job: i64,
        owner: &str,
        lease: Duration,
    ) -> Result<bool, MetastoreError>;

    /// Marks a held job done and queues `next` for the same call in the same write; the
    /// call becomes `indexed` when its index job is done. False when `owner` no longer holds
    /// the job (nothing is written).
    async fn complete(
        &self,
        job: i64,
        owner: &str,
        next: Option<JobKind>,
    ) -> Result<bool, MetastoreError>;

    /// Records a failed attempt. With `retry` the job is queued again while it has attempts
    /// left; otherwise (or after the last one) it is dead-lettered and the call fails with
    /// `reason`. Returns the job's new state.
    async fn fail(
        &self,
        job: i64,
        owner: &str,
        reason: &str,
        retry: bool,
    ) -> Result<JobState, MetastoreError>;

    /// Every job `owner` holds, given back because that worker is gone (its process died):
    /// each is queued again with `reason` as its last error, or dead-lettered after its last
    /// attempt. Returns the jobs as they are now.
    async fn release_owner(&self, owner: &str, reason: &str) -> Result<Vec<Job>, MetastoreError>;

    /// Jobs in `state` (all when None), oldest first, at most `limit`.
    async fn jobs(&self, state: Option<JobState>, limit: usize)
        -> Result<Vec<Job>, MetastoreError>;

    /// The jobs of one call, oldest first.
    async fn jobs_of(&self, call: CallId) -> Result<Vec<Job>, MetastoreError>;

    /// Number of jobs of each kind in each state (queue depth, running, dead letters).
    async fn job_counts(&self) -> Result<Vec<(JobKind, JobState, u64)>, MetastoreError>;

    /// The work of the transcription jobs finished since `since`, whoever ran them: the
    /// seconds they took and the seconds of audio they transcribed.
    async fn transcription_work(
        &self,
        since: DateTime<Utc>,
    ) -> Result<TranscriptionWork, MetastoreError>;
}

/// Transcription jobs done in a period: how many, how long they worked, how much audio.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TranscriptionWork {
    pub jobs: u64,
    pub work_ms: u64,
    pub audio_ms: u64,
}

impl TranscriptionWork {
    /// Seconds of work per second of audio (under 1: faster than real time); None without audio.
    pub fn seconds_per_audio_second(&self) -> Option<f64> {
        (self.audio_ms > 0).then(|| self.work_ms as f64 / self.audio_ms as f64)
    }
}

/// Rows of (kind, state, count) as the engines read them.
pub(crate) fn counted(
    rows: Vec<(String, String, i64)>,
) -> Result<Vec<(JobKind, JobState, u64)>, MetastoreError> {
    rows.into_iter()
        .map(|(k, s, n)| {
            let bad = |what: &str| MetastoreError::Corrupt {
                id: "jobs".into(),
                detail: format!("{what} {k}/{s}"),
            };
            Ok((
                JobKind::parse(&k).ok_or_else(|| bad("unknown kind"))?,
                JobState::parse(&s).ok_or_else(|| bad("unknown state"))?,
                n.max(0) as u64,
            ))
        })
        .collect()
}

/// Why a job was dead-lettered after its attempts ran out, in the words every engine uses.
pub(crate) fn dead_reason(job: &Job, last: &str) -> String {
    format!(
        "gave up after {} attempts; the last one: {last}. The recording may be damaged or hostile; `callproof jobs` lists dead-lettered work",
        job.attempts
    )
}

pub(crate) mod sqlite {
    use super::*;
    use crate::SqliteMetastore;
    use chrono::Utc;
    use rusqlite::{params, OptionalExtension, Transaction};

    const COLUMNS: &str =
        "id, call_id, kind, state, attempts, max_attempts, owner, last_error FROM jobs";

    fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Job, MetastoreError>> {
        let id: i64 = r.get(0)?;
        let call: String = r.get(1)?;
        let kind: String = r.get(2)?;
        let state: String = r.get(3)?;
        let bad = |what: &str| MetastoreError::Corrupt {
            id: format!("job {id}"),
            detail: what.to_string(),
        };
        let attempts: u32 = r.get(4)?;
        let max_attempts: u32 = r.get(5)?;
        let owner: Option<String> = r.get(6)?;
        let last_error: Option<String> = r.get(7)?;
        Ok((|| {
            Ok(Job {
                id,
                call_id: call.parse().map_err(|_| bad("bad call id"))?,
                kind: JobKind::parse(&kind).ok_or_else(|| bad("unknown kind"))?,
                state: JobState::parse(&state).ok_or_else(|| bad("unknown state"))?,
                attempts,
                max_attempts,
                owner,
                last_error,
            })
        })())
    }

    fn ts(after: Duration) -> String {
        let d = chrono::Duration::from_std(after).unwrap_or(chrono::Duration::zero());
        (Utc::now() + d).to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }

    pub(crate) fn enqueue_tx(
        tx: &Transaction<'_>,
        call: CallId,
        kind: JobKind,
        now: &str,
    ) -> Result<(), MetastoreError> {
        tx.execute(
            "INSERT INTO jobs (call_id, kind, state, max_attempts, created_at, updated_at)
             VALUES (?1, ?2, 'queued', ?3, ?4, ?4) ON CONFLICT DO NOTHING",
            params![call.to_string(), kind.as_str(), MAX_ATTEMPTS, now],
        )?;
        Ok(())
    }

    fn set_call(
        tx: &Transaction<'_>,
        call: &str,
        state: &str,
        failure: Option<&str>,
    ) -> Result<(), MetastoreError> {
        tx.execute(
            "UPDATE calls SET state = ?2, failure = ?3, updated_at = ?4 WHERE id = ?1",
            params![call, state, failure, Utc::now().to_rfc3339()],
        )?;
        Ok(())
    }

    /// Puts a job back in the queue with `reason` as its last error, inside `tx`. A call whose
    /// transcription goes back is `received` again; one waiting for its index job stays where
    /// it is (its transcript is done).
    fn requeue(tx: &Transaction<'_>, job: &Job, reason: &str) -> Result<(), MetastoreError> {
        tx.execute(
            "UPDATE jobs SET state = 'queued', owner = NULL, lease_until = NULL,
                last_error = ?2, updated_at = ?3 WHERE id = ?1",
            params![job.id, reason, ts(Duration::ZERO)],
        )?;
        if job.kind == JobKind::Transcribe {
            set_call(tx, &job.call_id.to_string(), "received", None)?;
        }
        Ok(())
    }

    /// Dead-letters a job and fails its call, inside `tx`.
    fn bury(tx: &Transaction<'_>, job: &Job, reason: &str) -> Result<(), MetastoreError> {
        tx.execute(
            "UPDATE jobs SET state = 'dead', owner = NULL, lease_until = NULL, last_error = ?2,
                updated_at = ?3 WHERE id = ?1",
            params![job.id, reason, Utc::now().to_rfc3339()],
        )?;
        set_call(tx, &job.call_id.to_string(), "failed", Some(reason))
    }

    #[async_trait::async_trait]
    impl Jobs for SqliteMetastore {
        async fn enqueue(&self, call: CallId, kind: JobKind) -> Result<(), MetastoreError> {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            enqueue_tx(&tx, call, kind, &Utc::now().to_rfc3339())?;
            tx.commit()?;
            Ok(())
        }

        async fn claim(
            &self,
            kind: JobKind,
            owner: &str,
            lease: Duration,
            call: Option<CallId>,
        ) -> Result<Option<Job>, MetastoreError> {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now = ts(Duration::ZERO);
            loop {
                let next = tx
                    .query_row(
                        // Each branch walks the (state, kind, id) index from its start: one
                        // condition with OR made SQLite scan every job, done ones included
                        // (68 claims/s with 100,000 jobs; bench: metastore/examples/queue.rs).
                        &format!(
                            "SELECT {COLUMNS} WHERE id = (SELECT MIN(id) FROM (
                                SELECT MIN(id) AS id FROM jobs WHERE state = 'queued'
                                   AND kind = ?1 AND (?3 IS NULL OR call_id = ?3)
                                UNION ALL
                                SELECT MIN(id) FROM jobs WHERE state = 'running' AND kind = ?1
                                   AND lease_until < ?2 AND (?3 IS NULL OR call_id = ?3)))"
                        ),
                        params![kind.as_str(), now, call.map(|c| c.to_string())],
                        row,
                    )
                    .optional()?
                    .transpose()?;
                let Some(mut job) = next else {
                    tx.commit()?;
                    return Ok(None);
                };
                if job.attempts >= job.max_attempts {
                    // Its last attempt never reported back: the worker died holding it.
                    let last = job.last_error.clone().unwrap_or_else(|| {
                        "its worker stopped before finishing (crashed or was killed)".into()
                    });
                    let reason = dead_reason(&job, &last);
                    bury(&tx, &job, &reason)?;
                    continue;
                }
                job.attempts += 1;
                job.state = JobState::Running;
                job.owner = Some(owner.to_string());
                tx.execute(
                    "UPDATE jobs SET state = 'running', attempts = ?2, owner = ?3,
                        lease_until = ?4, updated_at = ?5, started_at = ?5 WHERE id = ?1",
                    params![job.id, job.attempts, owner, ts(lease), now],
                )?;
                if kind == JobKind::Transcribe {
                    set_call(&tx, &job.call_id.to_string(), "transcribing", None)?;
                }
                tx.commit()?;
                return Ok(Some(job));
            }
        }

        async fn heartbeat(
            &self,
            job: i64,
            owner: &str,
            lease: Duration,
        ) -> Result<bool, MetastoreError> {
            let n = self.conn().execute(
                "UPDATE jobs SET lease_until = ?3, updated_at = ?4
                 WHERE id = ?1 AND owner = ?2 AND state = 'running'",
                params![job, owner, ts(lease), ts(Duration::ZERO)],
            )?;
            Ok(n == 1)
        }

        async fn complete(
            &self,
            job: i64,
            owner: &str,
            next: Option<JobKind>,
        ) -> Result<bool, MetastoreError> {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let held = tx
                .query_row(
                    &format!("SELECT {COLUMNS} WHERE id = ?1 AND owner = ?2 AND state = 'running'"),
                    params![job, owner],
                    row,
                )
                .optional()?
                .transpose()?;
            let Some(held) = held else {
                return Ok(false);
            };
            let now = ts(Duration::ZERO);
            tx.execute(
                "UPDATE jobs SET state = 'done', owner = NULL, lease_until = NULL, updated_at = ?2,
                    work_ms = CAST(ROUND((julianday(?2) - julianday(started_at)) * 86400000) AS INTEGER)
                 WHERE id = ?1",
                params![job, now],
            )?;
            match next {
                Some(k) => enqueue_tx(&tx, held.call_id, k, &now)?,
                None if held.kind == JobKind::Index => {
                    set_call(&tx, &held.call_id.to_string(), "indexed", None)?;
                    // The other serving nodes index it from the change log.
                    crate::sqlite::append_index_change(&tx, held.call_id, false)?;
                }
                None => {}
            }
            tx.commit()?;
            Ok(true)
        }

        async fn fail(
            &self,
            job: i64,
            owner: &str,
            reason: &str,
            retry: bool,
        ) -> Result<JobState, MetastoreError> {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let held = tx
                .query_row(
                    &format!("SELECT {COLUMNS} WHERE id = ?1"),
                    params![job],
                    row,
                )
                .optional()?
                .transpose()?
                .ok_or_else(|| MetastoreError::NotFound(format!("no job {job}")))?;
            if held.owner.as_deref() != Some(owner) || held.state != JobState::Running {
                return Ok(held.state);
            }
            let state = if retry && held.attempts < held.max_attempts {
                requeue(&tx, &held, reason)?;
                JobState::Queued
            } else {
                let why = if retry {
                    dead_reason(&held, reason)
                } else {
                    reason.to_string()
                };
                bury(&tx, &held, &why)?;
                JobState::Dead
            };
            tx.commit()?;
            Ok(state)
        }

        async fn release_owner(
            &self,
            owner: &str,
            reason: &str,
        ) -> Result<Vec<Job>, MetastoreError> {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let held: Vec<Job> = {
                let mut stmt = tx.prepare(&format!(
                    "SELECT {COLUMNS} WHERE owner = ?1 AND state = 'running' ORDER BY id"
                ))?;
                let rows = stmt.query_map([owner], row)?;
                rows.map(|r| r.map_err(MetastoreError::from).and_then(|x| x))
                    .collect::<Result<_, _>>()?
            };
            let mut out = Vec::new();
            for mut job in held {
                if job.attempts >= job.max_attempts {
                    let why = dead_reason(&job, reason);
                    bury(&tx, &job, &why)?;
                    job.state = JobState::Dead;
                    job.last_error = Some(why);
                } else {
                    requeue(&tx, &job, reason)?;
                    job.state = JobState::Queued;
                    job.last_error = Some(reason.to_string());
                }
                job.owner = None;
                out.push(job);
            }
            tx.commit()?;
            Ok(out)
        }

        async fn jobs(
            &self,
            state: Option<JobState>,
            limit: usize,
        ) -> Result<Vec<Job>, MetastoreError> {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} WHERE (?1 IS NULL OR state = ?1) ORDER BY id LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![state.map(JobState::as_str), limit as i64], row)?;
            rows.map(|r| r.map_err(MetastoreError::from).and_then(|x| x))
                .collect()
        }

        async fn job_counts(&self) -> Result<Vec<(JobKind, JobState, u64)>, MetastoreError> {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(
                "SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state ORDER BY kind, state",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            super::counted(rows.collect::<Result<_, _>>()?)
        }

        async fn transcription_work(
            &self,
            since: DateTime<Utc>,
        ) -> Result<TranscriptionWork, MetastoreError> {
            let conn = self.conn();
            let (jobs, work, audio): (i64, Option<i64>, Option<i64>) = conn
                .prepare_cached(
                    "SELECT COUNT(*), SUM(j.work_ms),
                        SUM(CAST(json_extract(c.audio, '$.duration_ms') AS INTEGER))
                     FROM jobs j JOIN calls c ON c.id = j.call_id
                     WHERE j.kind = 'transcribe' AND j.state = 'done' AND j.work_ms IS NOT NULL
                       AND j.updated_at >= ?1",
                )?
                .query_row(
                    [since.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?;
            Ok(TranscriptionWork {
                jobs: jobs.max(0) as u64,
                work_ms: work.unwrap_or(0).max(0) as u64,
                audio_ms: audio.unwrap_or(0).max(0) as u64,
            })
        }

        async fn jobs_of(&self, call: CallId) -> Result<Vec<Job>, MetastoreError> {
            let conn = self.conn();
            let mut stmt =
                conn.prepare_cached(&format!("SELECT {COLUMNS} WHERE call_id = ?1 ORDER BY id"))?;
            let rows = stmt.query_map([call.to_string()], row)?;
            rows.map(|r| r.map_err(MetastoreError::from).and_then(|x| x))
                .collect()
        }
    }
}
