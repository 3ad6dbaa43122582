//! The metastore: every record callproof keeps about calls, behind one trait per record family.
//!
//! Every read of a call or of what was made of it takes a [`Scope`]: code acting for the system
//! (workers, the indexer, the local operator) says `Scope::All` where it reads, so that an
//! unscoped read is always a visible choice. Callers (the service layer, workers, the CLI) see
//! traits, not SQL: [`Calls`], [`Results`],
//! [`RuleSets`], [`Access`], [`Quality`] and the work queue [`Jobs`], gathered in
//! [`Metastore`]. Each implementation passes the same conformance suite
//! ([`metastore_test_suite!`]); [`SqliteMetastore`] is the embedded default,
//! [`PostgresMetastore`] the catalog several machines share. Schema changes
//! are numbered migrations (`migrations/NNNN_name.sql`), applied in order and recorded in the
//! catalog, so every implementation and every old data folder reaches the same shape.
//!
//! The methods are async (`async_trait`, so that `dyn Metastore` works): an engine with a
//! network client (PostgreSQL) awaits it; the embedded SQLite engine answers at once.

#[doc(hidden)]
pub mod conformance;
mod jobs;
mod migrate;
mod postgres;
mod sqlite;
#[doc(hidden)]
pub mod testing;

use callproof_models::{
    Actor, ApiKey, AudioInfo, AuditEntry, Calibration, CalibrationId, Call, CallId, CallMetadata,
    CallState, LegalHold, Redaction, Review, Role, Sample, SampleId, Scope, Transcript, Verdict,
    Verification,
};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

pub use jobs::{Job, JobKind, JobState, Jobs, TranscriptionWork};
pub use migrate::{copy_sqlite_into_postgres, CopyReport};
pub use postgres::PostgresMetastore;
pub use sqlite::SqliteMetastore;

/// What went wrong, in the four kinds callers act on (plus data that no longer reads).
#[derive(Debug, thiserror::Error)]
pub enum MetastoreError {
    /// The record does not exist (or the caller's scope may not see it).
    #[error("{0}")]
    NotFound(String),
    /// The same recording is already a call of this tenant.
    #[error("this recording was already ingested as call {existing} (identical SHA-256); nothing was added")]
    Duplicate { existing: CallId },
    #[error("client {client} already has rule set version {version} with different content; give the changed file a higher `version`, or leave `version` out to get the next one")]
    RuleSetVersionTaken { client: String, version: u32 },
    /// The write conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// The request itself is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The engine cannot be reached or written now; trying again may work.
    #[error("{0}")]
    Unavailable(String),
    /// Stored data no longer decodes.
    #[error("catalog holds unreadable data for {id}: {detail}")]
    Corrupt { id: String, detail: String },
}

/// The kind of a [`MetastoreError`], for callers that map errors to answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Conflict,
    Invalid,
    Unavailable,
}

impl MetastoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            MetastoreError::NotFound(_) => ErrorKind::NotFound,
            MetastoreError::Duplicate { .. }
            | MetastoreError::RuleSetVersionTaken { .. }
            | MetastoreError::Conflict(_) => ErrorKind::Conflict,
            MetastoreError::Invalid(_) => ErrorKind::Invalid,
            MetastoreError::Unavailable(_) | MetastoreError::Corrupt { .. } => {
                ErrorKind::Unavailable
            }
        }
    }
}

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

/// The hash of an audit entry: SHA-256 over its fields and the previous entry's hash. The same
/// for every engine, so that a log moved between engines still verifies.
pub fn audit_hash(
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

pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A client's rule set as stored: the TOML source exactly as given, and its hash.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredRuleSet {
    pub client: String,
    pub version: u32,
    pub sha256: String,
    pub source: String,
    pub created_at: DateTime<Utc>,
}

/// What a calls list asks for: filters (each None = any), an order and one page.
#[derive(Debug, Clone, PartialEq)]
pub struct CallPage {
    pub agent: Option<String>,
    pub campaign: Option<String>,
    /// Only calls with this verdict; `Some(None)`: calls not verified yet.
    pub verdict: Option<Option<Verdict>>,
    pub sort: CallSort,
    pub ascending: bool,
    pub offset: u64,
    pub limit: u64,
}

impl Default for CallPage {
    fn default() -> Self {
        CallPage {
            agent: None,
            campaign: None,
            verdict: None,
            sort: CallSort::Received,
            ascending: false,
            offset: 0,
            limit: 50,
        }
    }
}

/// The column a calls list is ordered by (ties by call id, so pages never overlap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallSort {
    Received,
    /// The call's start, or its arrival when the start is unknown.
    Started,
    Agent,
    Campaign,
    Verdict,
}

impl CallSort {
    /// The SQL expression it orders by: a fixed text per variant, never a caller's words.
    pub(crate) fn column(self) -> &'static str {
        match self {
            CallSort::Received => "c.received_at",
            CallSort::Started => "COALESCE(c.started_at, c.received_at)",
            CallSort::Agent => "COALESCE(c.agent, '')",
            CallSort::Campaign => "COALESCE(c.campaign, '')",
            CallSort::Verdict => "COALESCE(v.verdict, '')",
        }
    }
}

/// A call's verdict as an engine stored it (its name), read back; a name no version of
/// callproof wrote is a corrupt row, named by the call.
pub(crate) fn stored_verdict(
    call: CallId,
    name: Option<&str>,
) -> Result<Option<Verdict>, MetastoreError> {
    name.map(|v| {
        v.parse().map_err(|e: String| MetastoreError::Corrupt {
            id: call.to_string(),
            detail: e,
        })
    })
    .transpose()
}

/// Calls: their metadata, state and the key of their original.
#[async_trait::async_trait]
pub trait Calls: Send + Sync {
    /// The call of `client` that already holds these exact bytes, if any. Another tenant's
    /// identical recording is not a duplicate: nothing may reveal that it exists.
    async fn find_by_sha256(
        &self,
        client: &str,
        sha256: &str,
    ) -> Result<Option<CallId>, MetastoreError>;

    async fn insert(&self, c: &NewCall<'_>) -> Result<(), MetastoreError>;

    async fn set_state(&self, id: CallId, state: &CallState) -> Result<(), MetastoreError>;

    /// Points a call at a new recording (its redacted version): key, format, size. The call's
    /// `sha256` stays the original's, so that the same upload is still known as a duplicate.
    /// An empty key says the recording was deleted (retention): `object_key_in` answers it
    /// empty.
    async fn replace_original(
        &self,
        id: CallId,
        object_key: &str,
        format: &str,
        size_bytes: u64,
    ) -> Result<(), MetastoreError>;

    /// Number of calls in each state (states without calls left out), for monitoring.
    async fn state_counts(&self) -> Result<Vec<(String, u64)>, MetastoreError>;

    /// Calls in the given state, oldest first (used to resume work after a restart).
    async fn in_state(&self, state: &str) -> Result<Vec<Call>, MetastoreError>;

    /// All calls, newest first, at most `limit`.
    async fn list(&self, limit: usize) -> Result<Vec<Call>, MetastoreError>;

    /// Removes a call that never completed ingestion (its original could not be stored).
    async fn delete(&self, id: CallId) -> Result<(), MetastoreError>;

    /// A client's calls that have a transcript, oldest first: what re-verification walks.
    async fn transcribed_calls(&self, client: &str) -> Result<Vec<Call>, MetastoreError>;

    /// A call, only if `scope` may see it: another tenant's call is indistinguishable from
    /// one that does not exist.
    async fn get_in(&self, id: CallId, scope: &Scope) -> Result<Option<Call>, MetastoreError>;

    /// Calls `scope` may see, newest first.
    async fn list_in(&self, scope: &Scope, limit: usize) -> Result<Vec<Call>, MetastoreError>;

    /// One page of the calls `scope` may see that pass `page`'s filters, in its order, with
    /// each call's verdict (None until verified), and how many calls pass the filters in all.
    async fn calls_page(
        &self,
        scope: &Scope,
        page: &CallPage,
    ) -> Result<(Vec<(Call, Option<Verdict>)>, u64), MetastoreError>;

    /// The object key of a call's original, only if `scope` may see the call and the key lies
    /// under that call's tenant (`clients/<client>/…`): a row pointing into another tenant's
    /// objects is refused rather than served.
    async fn object_key_in(
        &self,
        id: CallId,
        scope: &Scope,
    ) -> Result<Option<String>, MetastoreError>;

    /// A client's verified calls started in `[from, to)` (received time when the start is
    /// unknown), oldest first, with their verification.
    async fn verified_calls(
        &self,
        client: &str,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<(Call, Verification)>, MetastoreError>;
}

/// What the pipeline produced for a call: its transcript and its latest verification.
#[async_trait::async_trait]
pub trait Results: Send + Sync {
    async fn put_transcript(&self, t: &Transcript) -> Result<(), MetastoreError>;

    async fn put_verification(&self, v: &Verification) -> Result<(), MetastoreError>;

    /// Stores (or replaces) what was redacted from a call.
    async fn put_redaction(&self, r: &Redaction) -> Result<(), MetastoreError>;

    /// What was redacted from a call `scope` may see, if anything was.
    async fn redaction_in(
        &self,
        call: CallId,
        scope: &Scope,
    ) -> Result<Option<Redaction>, MetastoreError>;

    /// Number of verified calls per verdict for a client.
    async fn verdict_counts(&self, client: &str) -> Result<Vec<(Verdict, u64)>, MetastoreError>;

    /// A call's transcript, only if `scope` may see the call.
    async fn transcript_in(
        &self,
        id: CallId,
        scope: &Scope,
    ) -> Result<Option<Transcript>, MetastoreError>;

    /// A call's verification, only if `scope` may see the call.
    async fn verification_in(
        &self,
        id: CallId,
        scope: &Scope,
    ) -> Result<Option<Verification>, MetastoreError>;
}

/// Clients' rule sets, every version kept.
#[async_trait::async_trait]
pub trait RuleSets: Send + Sync {
    /// Stores a client's rule set. `version` None takes the next one. Storing the same content
    /// again is a no-op that returns the existing version.
    async fn put_ruleset(
        &self,
        client: &str,
        version: Option<u32>,
        sha256: &str,
        source: &str,
    ) -> Result<StoredRuleSet, MetastoreError>;

    /// A client's rule set: the given version, or the active one (the highest version).
    async fn ruleset(
        &self,
        client: &str,
        version: Option<u32>,
    ) -> Result<Option<StoredRuleSet>, MetastoreError>;

    /// Every version of a client's rule set, oldest first (sources included).
    async fn ruleset_versions(&self, client: &str) -> Result<Vec<StoredRuleSet>, MetastoreError>;
}

/// API keys, their preferences, and the hash-chained audit log.
#[async_trait::async_trait]
pub trait Access: Send + Sync {
    /// Creates an API key; the caller keeps the secret, only its SHA-256 is stored.
    async fn create_key(
        &self,
        id: &str,
        name: &str,
        role: Role,
        clients: &[String],
        secret_sha256: &str,
    ) -> Result<ApiKey, MetastoreError>;

    /// A key and its secret's SHA-256, revoked or not.
    async fn key(&self, id: &str) -> Result<Option<(ApiKey, String)>, MetastoreError>;

    async fn keys(&self) -> Result<Vec<ApiKey>, MetastoreError>;

    /// Revokes a key; revoking twice keeps the first time.
    async fn revoke_key(&self, id: &str) -> Result<ApiKey, MetastoreError>;

    /// Appends an entry to the hash-chained audit log.
    async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: Option<&str>,
        outcome: &str,
    ) -> Result<AuditEntry, MetastoreError>;

    /// Audit entries, oldest first, filtered.
    async fn audit_entries(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>, MetastoreError>;

    /// One audit entry by its number.
    async fn audit_entry(&self, seq: u64) -> Result<Option<AuditEntry>, MetastoreError>;

    /// The newest audit entry (the head of the chain).
    async fn audit_last(&self) -> Result<Option<AuditEntry>, MetastoreError>;

    /// Walks the whole audit log, recomputing the chain. Ok(number of entries) or where it
    /// breaks.
    async fn verify_audit(&self) -> Result<Result<u64, AuditBreak>, MetastoreError>;

    /// The interface language a key's holder chose, if any.
    async fn key_language(&self, key_id: &str) -> Result<Option<String>, MetastoreError>;

    async fn set_key_language(&self, key_id: &str, language: &str) -> Result<(), MetastoreError>;

    /// Opens a web session for a key. `id_sha256` is the SHA-256 of the browser's session id:
    /// the catalog never holds a usable session.
    async fn create_session(
        &self,
        id_sha256: &str,
        key_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), MetastoreError>;

    /// The key of a session that exists and has not expired at `now`.
    async fn session_key(
        &self,
        id_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, MetastoreError>;

    /// Ends a session (sign-out); ending one that does not exist is not an error.
    async fn delete_session(&self, id_sha256: &str) -> Result<(), MetastoreError>;
}

/// Legal holds.
#[async_trait::async_trait]
pub trait Holds: Send + Sync {
    /// Stores a hold, new or updated (a release asked or confirmed).
    async fn put_hold(&self, h: &LegalHold) -> Result<(), MetastoreError>;

    async fn hold(&self, id: &str) -> Result<Option<LegalHold>, MetastoreError>;

    /// A client's holds (every client's with `None`), the active ones only if asked.
    async fn holds(
        &self,
        client: Option<&str>,
        active_only: bool,
    ) -> Result<Vec<LegalHold>, MetastoreError>;
}

/// Originals being written, so that the object of an upload that died between storing it and
/// cataloguing its call is found and removed.
#[async_trait::async_trait]
pub trait PendingObjects: Send + Sync {
    /// Records that `owner` is about to store `object_key`.
    async fn begin_object(&self, object_key: &str, owner: &str) -> Result<(), MetastoreError>;

    /// The object is catalogued (or removed): it is no longer pending.
    async fn end_object(&self, object_key: &str) -> Result<(), MetastoreError>;

    /// Every pending object with its owner, oldest first.
    async fn pending_objects(&self) -> Result<Vec<(String, String)>, MetastoreError>;
}

/// Quality audits: samples, reviews (every version) and calibrations.
#[async_trait::async_trait]
pub trait Quality: Send + Sync {
    async fn put_sample(&self, s: &Sample) -> Result<(), MetastoreError>;

    async fn sample(&self, id: &SampleId) -> Result<Option<Sample>, MetastoreError>;

    /// Samples of the clients `scope` may see, newest first.
    async fn samples(&self, scope: &Scope) -> Result<Vec<Sample>, MetastoreError>;

    /// The next version number of a reviewer's review of a call (within a calibration or not).
    async fn next_review_version(
        &self,
        call: CallId,
        reviewer: &str,
        calibration: Option<&CalibrationId>,
    ) -> Result<u32, MetastoreError>;

    async fn put_review(&self, r: &Review) -> Result<(), MetastoreError>;

    /// Every review of a call, every version, oldest first.
    async fn reviews(&self, call: CallId) -> Result<Vec<Review>, MetastoreError>;

    /// Every review of a client's calls, oldest first.
    async fn client_reviews(&self, client: &str) -> Result<Vec<Review>, MetastoreError>;

    async fn put_calibration(&self, c: &Calibration) -> Result<(), MetastoreError>;

    async fn calibration(&self, id: &CalibrationId) -> Result<Option<Calibration>, MetastoreError>;
}

/// One change to what a call's search documents hold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IndexChange {
    /// Position in the log: increasing, and visible in that order.
    pub seq: u64,
    pub call_id: CallId,
    /// The call is gone (erased, past retention): its documents go too. Otherwise the call's
    /// documents are to be rebuilt from the catalog.
    pub removed: bool,
}

/// The index's change log, which every serving node follows into its own index. Completing a
/// call's index job and deleting a call append to it in the same write; other changes to what
/// is indexed (a new verification) are announced with [`IndexChanges::index_changed`].
#[async_trait::async_trait]
pub trait IndexChanges: Send + Sync {
    /// Announces that a call's indexed content changed (re-verified).
    async fn index_changed(&self, call: CallId) -> Result<(), MetastoreError>;

    /// Changes after `seq`, oldest first, at most `limit`.
    async fn index_changes(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<IndexChange>, MetastoreError>;

    /// The newest change's number (0 for none).
    async fn last_index_change(&self) -> Result<u64, MetastoreError>;
}

/// Every record family of one engine.
pub trait Metastore:
    Calls + Results + RuleSets + Access + Quality + Jobs + PendingObjects + Holds + IndexChanges
{
}

impl<
        T: Calls
            + Results
            + RuleSets
            + Access
            + Quality
            + Jobs
            + PendingObjects
            + Holds
            + IndexChanges,
    > Metastore for T
{
}

/// One migration: its number, name and SQL.
pub(crate) struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// The schema's history, oldest first. Never edit one that shipped: add the next number.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "duplicates_per_tenant",
        sql: include_str!("../migrations/0002_duplicates_per_tenant.sql"),
    },
    Migration {
        version: 3,
        name: "jobs",
        sql: include_str!("../migrations/0003_jobs.sql"),
    },
    Migration {
        version: 4,
        name: "sessions_and_pending_objects",
        sql: include_str!("../migrations/0004_sessions_and_pending_objects.sql"),
    },
    Migration {
        version: 5,
        name: "redactions",
        sql: include_str!("../migrations/0005_redactions.sql"),
    },
    Migration {
        version: 6,
        name: "legal_holds",
        sql: include_str!("../migrations/0006_legal_holds.sql"),
    },
    Migration {
        version: 7,
        name: "index_changes",
        sql: include_str!("../migrations/0007_index_changes.sql"),
    },
    Migration {
        version: 8,
        name: "job_timings",
        sql: include_str!("../migrations/0008_job_timings.sql"),
    },
];

/// The traits in one import, for code that calls a `dyn Metastore`.
pub mod prelude {
    pub use crate::{
        Access, Calls, Holds, IndexChanges, Jobs, Metastore, PendingObjects, Quality, Results,
        RuleSets,
    };
}
