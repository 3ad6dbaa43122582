//! The service layer: the one door every use case goes through, whichever way it was asked
//! (HTTP API, web pages, command line).
//!
//! Each use case takes the [`Caller`], checks what it may do here ([`Permission`], decided in
//! [`allow`] and nowhere else), reads only within its scope, records its [`AuditAction`]
//! before answering, and fails with a [`ServiceError`] that each door turns into its own
//! answer in exactly one function (`ApiError::from`, the pages' `error_page`, the CLI's
//! `anyhow` edge). Handlers parse requests and shape responses; they never reach the
//! metastore or the object store themselves.

use std::collections::BTreeMap;
use std::ops::Range;

use bytes::Bytes;
use callproof_metastore::{AuditFilter, MetastoreError, StoredRuleSet};
use callproof_models::{
    Actor, ApiKey, AuditEntry, Call, CallId, ClientId, Review, Role, Sample, Scope, Transcript,
    Verification,
};
use callproof_storage::{ObjectKey, StoreError};

use crate::app::App;
use crate::auth::AuthError;

/// Why a use case was not carried out. Each door maps it once: 404, 403, 400/422, 409, 409,
/// 503 (with Retry-After), 500 for the HTTP API.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Missing, or outside the caller's scope: the two are never told apart.
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    /// The call exists but has not reached the state this needs yet.
    #[error("{0}")]
    NotReady(String),
    /// Too much of this work is running already; the caller should retry shortly.
    #[error("{0}")]
    Busy(String),
    /// Ours, not the caller's: the catalog, the store or the engine failed.
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

impl From<anyhow::Error> for ServiceError {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<ServiceError>() {
            Ok(s) => s,
            Err(e) => match e.downcast_ref::<MetastoreError>() {
                Some(m) if m.kind() != callproof_metastore::ErrorKind::Unavailable => metastore(m),
                _ => ServiceError::Internal(format!("{e:#}")),
            },
        }
    }
}

/// An error from a request that could not be honoured as asked (Invalid), unless it is a fault
/// of ours (the catalog failing).
pub fn request_error(e: anyhow::Error) -> ServiceError {
    let ours = e
        .downcast_ref::<MetastoreError>()
        .is_some_and(|m| m.kind() == callproof_metastore::ErrorKind::Unavailable);
    match e.downcast::<ServiceError>() {
        Ok(s) => s,
        Err(e) if ours => ServiceError::Internal(format!("{e:#}")),
        Err(e) => ServiceError::Invalid(format!("{e:#}")),
    }
}

fn metastore(e: &MetastoreError) -> ServiceError {
    use callproof_metastore::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => ServiceError::NotFound(e.to_string()),
        ErrorKind::Conflict => ServiceError::Conflict(e.to_string()),
        ErrorKind::Invalid => ServiceError::Invalid(e.to_string()),
        ErrorKind::Unavailable => ServiceError::Internal(e.to_string()),
    }
}

impl From<MetastoreError> for ServiceError {
    fn from(e: MetastoreError) -> Self {
        metastore(&e)
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

/// What an audit entry records was done. The strings are the log's vocabulary: never change
/// one that shipped (investigators filter on them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    ReadCall,
    ReadTranscript,
    ReadFindings,
    ReadAudio,
    Search,
    CreateEvidence,
    PutRules,
    Reverify,
    ExportFindings,
    ExportReviews,
    CreateSample,
    SubmitReview,
    CreateCalibration,
    CreateKey,
    RevokeKey,
    SignIn,
    SignOut,
    PlaceHold,
    ReleaseHold,
    RetentionRun,
    Erase,
    ExportSubject,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::ReadCall => "read_call",
            AuditAction::ReadTranscript => "read_transcript",
            AuditAction::ReadFindings => "read_findings",
            AuditAction::ReadAudio => "read_audio",
            AuditAction::Search => "search",
            AuditAction::CreateEvidence => "create_evidence",
            AuditAction::PutRules => "put_rules",
            AuditAction::Reverify => "reverify",
            AuditAction::ExportFindings => "export_findings",
            AuditAction::ExportReviews => "export_reviews",
            AuditAction::CreateSample => "create_sample",
            AuditAction::SubmitReview => "submit_review",
            AuditAction::CreateCalibration => "create_calibration",
            AuditAction::CreateKey => "create_key",
            AuditAction::RevokeKey => "revoke_key",
            AuditAction::SignIn => "sign_in",
            AuditAction::SignOut => "sign_out",
            AuditAction::PlaceHold => "place_hold",
            AuditAction::ReleaseHold => "release_hold",
            AuditAction::RetentionRun => "retention_run",
            AuditAction::Erase => "erase",
            AuditAction::ExportSubject => "export_subject",
        }
    }
}

/// Who asks: an API key (HTTP, web pages), or the machine's operator at the command line.
#[derive(Debug, Clone)]
pub struct Caller {
    key: Option<ApiKey>,
}

impl Caller {
    pub fn key(key: ApiKey) -> Self {
        Self { key: Some(key) }
    }

    /// The operator at the command line: an administrator of every tenant.
    pub fn local() -> Self {
        Self { key: None }
    }

    pub fn role(&self) -> Role {
        self.key.as_ref().map_or(Role::Admin, |k| k.role)
    }

    pub fn scope(&self) -> Scope {
        self.key.as_ref().map_or(Scope::All, ApiKey::scope)
    }

    pub fn actor(&self) -> Actor {
        self.key.as_ref().map_or_else(Actor::local, Actor::of)
    }

    /// The API key, when the caller has one.
    pub fn api_key(&self) -> Option<&ApiKey> {
        self.key.as_ref()
    }

    fn describe(&self) -> String {
        match &self.key {
            Some(k) => format!("key {} ({})", k.id, k.role),
            None => "the local operator".into(),
        }
    }
}

/// What a caller wants to do, for [`allow`].
#[derive(Debug, Clone, Copy)]
pub enum Permission<'a> {
    /// See anything of this client (its rule set, its statistics…).
    SeeClient(&'a ClientId),
    /// Add calls for this client.
    Upload(&'a ClientId),
    /// Add calls for some client: checked before an upload's body is read.
    UploadAny,
    /// Change this client's rule set and re-verify its archive.
    ChangeRules(&'a ClientId),
    /// Samples, reviews, calibrations: quality work.
    Review,
    /// The provider's staff only (not an ordering client).
    Staff,
    /// The audit log.
    ReadAuditLog,
    /// Running the service: its metrics (queue depth, calls by state, request counts).
    Operate,
    /// Legal holds, erasure and access requests for this client's customers.
    Compliance(&'a ClientId),
}

/// A tenant named in a request (URL, form, query): one whose name is not even valid does not
/// exist, and is answered as such.
pub fn client_named(name: &str) -> Result<ClientId> {
    ClientId::new(name).map_err(|_| ServiceError::NotFound(format!("no client {name:?}")))
}

/// Who may do what: the only place where roles are compared. A client outside the caller's
/// scope is answered as missing, never as forbidden, so that nothing tells it exists.
pub fn allow(caller: &Caller, p: Permission<'_>) -> Result<()> {
    let role = caller.role();
    let scope = caller.scope();
    let unseen = |client: &ClientId| ServiceError::NotFound(format!("no client {client}"));
    match p {
        Permission::SeeClient(c) => {
            if scope.allows(c) {
                Ok(())
            } else {
                Err(unseen(c))
            }
        }
        Permission::UploadAny => match role {
            Role::Admin | Role::Agent | Role::QualityManager => Ok(()),
            Role::Client => Err(ServiceError::Forbidden(format!(
                "{} may not add calls: uploads are for the provider's agents, quality managers and administrators",
                caller.describe()
            ))),
        },
        Permission::Upload(c) => match role {
            Role::Admin => Ok(()),
            Role::Agent | Role::QualityManager if scope.allows(c) => Ok(()),
            _ => Err(ServiceError::Forbidden(format!(
                "{} may not add calls for client \"{c}\"",
                caller.describe()
            ))),
        },
        Permission::ChangeRules(c) => {
            if !scope.allows(c) {
                return Err(unseen(c));
            }
            match role {
                Role::Admin | Role::QualityManager => Ok(()),
                _ => Err(ServiceError::Forbidden(format!(
                    "{} may not change rule sets or re-verify an archive: ask a quality manager or an administrator",
                    caller.describe()
                ))),
            }
        }
        Permission::Review => match role {
            Role::Admin | Role::QualityManager => Ok(()),
            r => Err(ServiceError::Forbidden(format!(
                "{r} keys cannot do this: it is for quality managers and administrators"
            ))),
        },
        Permission::Staff => match role {
            Role::Client => Err(ServiceError::Forbidden(
                "client keys cannot do this: it is for the provider's staff".into(),
            )),
            _ => Ok(()),
        },
        Permission::Compliance(c) => {
            if !scope.allows(c) {
                return Err(unseen(c));
            }
            match role {
                Role::Admin | Role::QualityManager => Ok(()),
                _ => Err(ServiceError::Forbidden(format!(
                    "{} may not place holds or erase data: ask a quality manager or an administrator",
                    caller.describe()
                ))),
            }
        }
        Permission::ReadAuditLog => match role {
            Role::Admin => Ok(()),
            _ => Err(ServiceError::Forbidden(
                "only administrators read the audit log".into(),
            )),
        },
        Permission::Operate => match role {
            Role::Admin => Ok(()),
            _ => Err(ServiceError::Forbidden(
                "only administrators read the service's metrics (give Prometheus an admin key as its bearer token)".into(),
            )),
        },
    }
}

/// What the people who run callproof watch, across every tenant (counts only).
pub struct Operations {
    /// Calls per state.
    pub calls: Vec<(String, u64)>,
    /// Jobs per kind and state: the queue's depth, what runs, the dead letters.
    pub jobs: Vec<(
        callproof_metastore::JobKind,
        callproof_metastore::JobState,
        u64,
    )>,
    /// Transcription jobs done in the last hour, by any worker: work and audio.
    pub transcription_last_hour: callproof_metastore::TranscriptionWork,
}

impl App {
    /// The counts behind `/metrics`; administrators only.
    pub async fn operations(&self, caller: &Caller) -> Result<Operations> {
        allow(caller, Permission::Operate)?;
        Ok(Operations {
            calls: self.catalog.state_counts().await?,
            jobs: self.catalog.job_counts().await?,
            transcription_last_hour: self
                .catalog
                .transcription_work(chrono::Utc::now() - chrono::Duration::hours(1))
                .await?,
        })
    }
}

/// The evidence signing key as it is published.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EvidenceKey {
    pub algorithm: &'static str,
    /// The 32-byte ed25519 public key, hex.
    pub public_key: String,
    /// What a person compares when the key reaches them another way.
    pub fingerprint: String,
    /// The exact command that checks a bundle with this key.
    pub command: String,
}

/// A call with what the pipeline made of it so far.
pub struct CallView {
    pub call: Call,
    pub transcript: Option<Transcript>,
    pub verification: Option<Verification>,
}

/// A call in a list, with its verdict once verified.
pub struct CallRow {
    pub call: Call,
    pub verdict: Option<callproof_models::Verdict>,
}

impl App {
    /// Records `action` on `target` for `caller`; an access that cannot be recorded must not
    /// happen, so a log that cannot be written fails the use case.
    pub async fn record(
        &self,
        caller: &Caller,
        action: AuditAction,
        target: Option<&str>,
        outcome: &str,
    ) -> Result<()> {
        self.audit(&caller.actor(), action, target, outcome).await?;
        Ok(())
    }

    /// The key a token stands for.
    pub async fn authenticate(&self, token: &str) -> std::result::Result<ApiKey, AuthError> {
        crate::auth::authenticate(&*self.catalog, token).await
    }

    /// The key behind a web session id.
    pub async fn authenticate_session(
        &self,
        token: &str,
    ) -> std::result::Result<ApiKey, AuthError> {
        crate::auth::session_key(&*self.catalog, token).await
    }

    /// Signs a key in: a new web session, recorded in the audit log.
    pub async fn open_session(&self, key: &ApiKey) -> Result<String> {
        let caller = Caller::key(key.clone());
        let token = crate::auth::open_session(&*self.catalog, key).await?;
        self.record(&caller, AuditAction::SignIn, None, "ok")
            .await?;
        Ok(token)
    }

    /// Signs a session out; the session id is useless afterwards.
    pub async fn close_session(&self, token: &str) -> Result<()> {
        if let Ok(key) = self.authenticate_session(token).await {
            self.record(&Caller::key(key), AuditAction::SignOut, None, "ok")
                .await?;
        }
        crate::auth::close_session(&*self.catalog, token).await?;
        Ok(())
    }

    /// A call the caller may see, for `action`; otherwise NotFound, with the refused access
    /// recorded under the call's canonical id.
    pub async fn call_for(&self, caller: &Caller, id: CallId, action: AuditAction) -> Result<Call> {
        match self.catalog.get_in(id, &caller.scope()).await? {
            Some(c) => Ok(c),
            None => {
                self.record(caller, action, Some(&id.to_string()), "not_found")
                    .await?;
                Err(ServiceError::NotFound(format!("no call {id}")))
            }
        }
    }

    /// A call's record (metadata: the customer's phone number, the contract): a read.
    pub async fn read_call(&self, caller: &Caller, id: CallId) -> Result<Call> {
        let call = self.call_for(caller, id, AuditAction::ReadCall).await?;
        self.record(caller, AuditAction::ReadCall, Some(&id.to_string()), "ok")
            .await?;
        Ok(call)
    }

    /// A call's transcript; NotReady (with the state and the reason) until it has one.
    pub async fn read_transcript(&self, caller: &Caller, id: CallId) -> Result<Transcript> {
        let call = self
            .call_for(caller, id, AuditAction::ReadTranscript)
            .await?;
        let t = self.catalog.transcript_in(id, &caller.scope()).await?;
        self.answer_read(
            caller,
            AuditAction::ReadTranscript,
            call,
            t,
            "has no transcript",
        )
        .await
    }

    /// A call's verification (findings and verdict); NotReady until it is verified.
    pub async fn read_findings(&self, caller: &Caller, id: CallId) -> Result<Verification> {
        let call = self.call_for(caller, id, AuditAction::ReadFindings).await?;
        let v = self.catalog.verification_in(id, &caller.scope()).await?;
        self.answer_read(
            caller,
            AuditAction::ReadFindings,
            call,
            v,
            "is not verified",
        )
        .await
    }

    /// What the pipeline made of `call`, if it exists yet: recorded as read, or NotReady
    /// saying why (the call failed, with its reason; or it is not that far yet).
    async fn answer_read<T>(
        &self,
        caller: &Caller,
        action: AuditAction,
        call: Call,
        found: Option<T>,
        lacking: &str,
    ) -> Result<T> {
        let id = call.id;
        match found {
            Some(x) => {
                self.record(caller, action, Some(&id.to_string()), "ok")
                    .await?;
                Ok(x)
            }
            None => Err(ServiceError::NotReady(match call.state {
                callproof_models::CallState::Failed(reason) => {
                    format!("call {id} failed, so it {lacking}: {reason}")
                }
                s => format!(
                    "call {id} {lacking} yet (state: {}); calls are transcribed, then verified, as soon as a worker is free: try again shortly",
                    s.name()
                ),
            })),
        }
    }

    /// A call with its transcript and verification as far as they exist (the call page): one
    /// read of the transcript.
    pub async fn view_call(&self, caller: &Caller, id: CallId) -> Result<CallView> {
        let call = self
            .call_for(caller, id, AuditAction::ReadTranscript)
            .await?;
        let scope = caller.scope();
        let transcript = self.catalog.transcript_in(id, &scope).await?;
        let verification = self.catalog.verification_in(id, &scope).await?;
        self.record(
            caller,
            AuditAction::ReadTranscript,
            Some(&id.to_string()),
            "ok",
        )
        .await?;
        Ok(CallView {
            call,
            transcript,
            verification,
        })
    }

    /// One page of the calls the caller may see, filtered and ordered as asked, with their
    /// verdicts, and how many calls the filters let through in all.
    pub async fn list_calls(
        &self,
        caller: &Caller,
        page: &callproof_metastore::CallPage,
    ) -> Result<(Vec<CallRow>, u64)> {
        let (rows, total) = self.catalog.calls_page(&caller.scope(), page).await?;
        Ok((
            rows.into_iter()
                .map(|(call, verdict)| CallRow { call, verdict })
                .collect(),
            total,
        ))
    }

    /// The stored original of a call the caller may see: its key and size, the read recorded.
    pub async fn original(&self, caller: &Caller, id: CallId) -> Result<(Call, ObjectKey, u64)> {
        let call = self.call_for(caller, id, AuditAction::ReadAudio).await?;
        self.record(caller, AuditAction::ReadAudio, Some(&id.to_string()), "ok")
            .await?;
        let key = self.original_key(id, &caller.scope()).await?;
        let size = self.store.size(&key).await?;
        Ok((call, key, size))
    }

    /// Bytes of an original found by [`App::original`]: all, or one range.
    pub async fn original_bytes(
        &self,
        key: &ObjectKey,
        range: Option<Range<u64>>,
    ) -> Result<Bytes> {
        Ok(match range {
            Some(r) => self.store.get_range(key, r).await?,
            None => self.store.get(key).await?,
        })
    }

    /// A client's active rule set; NotFound (explaining the built-in packs) when it has none.
    pub async fn active_rules(&self, caller: &Caller, client: &ClientId) -> Result<StoredRuleSet> {
        allow(caller, Permission::SeeClient(client))?;
        self.catalog.ruleset(client, None).await?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "client {client} has no rule set: its calls are checked with the built-in pack for their language ({}); store one with PUT /api/v1/clients/{client}/rules",
                callproof_verify::PACKS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// The audit log, filtered (administrators only).
    pub async fn audit_log(
        &self,
        caller: &Caller,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEntry>> {
        allow(caller, Permission::ReadAuditLog)?;
        Ok(self.catalog.audit_entries(filter).await?)
    }

    /// The key that signs evidence bundles, for anyone signed in: it is public by nature, and a
    /// client must check bundles with the copy it got here, never with the one a bundle names.
    pub fn evidence_key(&self, _caller: &Caller) -> Result<EvidenceKey> {
        let key = callproof_evidence::load_signing_key(&self.settings.signing_key)
            .map_err(|e| ServiceError::Internal(format!("{e:#}")))?
            .verifying_key();
        let public_key = hex::encode(key.to_bytes());
        Ok(EvidenceKey {
            algorithm: "ed25519",
            fingerprint: callproof_evidence::fingerprint(&key),
            command: format!("callproof evidence verify bundle.zip --public-key {public_key}"),
            public_key,
        })
    }

    /// The samples of the clients the caller may see (staff only).
    pub async fn list_samples(&self, caller: &Caller) -> Result<Vec<Sample>> {
        allow(caller, Permission::Staff)?;
        Ok(self.catalog.samples(&caller.scope()).await?)
    }

    /// The names of the provider's people, by key id: pages show who reviewed, not a key id.
    /// Staff only; a key that no longer exists keeps its id.
    pub async fn people(&self, caller: &Caller) -> Result<BTreeMap<String, String>> {
        allow(caller, Permission::Staff)?;
        Ok(self
            .catalog
            .keys()
            .await?
            .into_iter()
            .map(|k| (k.id, k.name))
            .collect())
    }

    /// A sample the caller may see, with each drawn call's record (None once it was deleted by
    /// retention or erasure) and its latest reviews.
    pub async fn sample_with_reviews(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<(Sample, Vec<(Option<Call>, Vec<Review>)>)> {
        allow(caller, Permission::Staff)?;
        let no_sample = || ServiceError::NotFound(format!("no sample {id}"));
        let sid: callproof_models::SampleId = id.parse().map_err(|_| no_sample())?;
        let sample = self
            .catalog
            .sample(&sid)
            .await?
            .filter(|s| caller.scope().allows(&s.params.client))
            .ok_or_else(no_sample)?;
        let mut reviews = Vec::new();
        for c in &sample.calls {
            let visible = self
                .visible_reviews(c.call_id, &caller.scope(), &caller.actor())
                .await?
                .unwrap_or_default();
            let call = self.catalog.get_in(c.call_id, &caller.scope()).await?;
            reviews.push((
                call,
                crate::quality::latest_reviews(&visible)
                    .into_iter()
                    .cloned()
                    .collect(),
            ));
        }
        Ok((sample, reviews))
    }

    /// A client's verified calls started in `[from, to)`, for statistics and exports.
    pub async fn verified_calls(
        &self,
        caller: &Caller,
        client: &ClientId,
        from: Option<chrono::DateTime<chrono::Utc>>,
        to: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<(Call, Verification)>> {
        allow(caller, Permission::SeeClient(client))?;
        Ok(self.catalog.verified_calls(client, from, to).await?)
    }

    /// A client's violation rates over `[from, to)`, after the reviews people gave (the newest
    /// review of a call replaces its automatic verdict and findings).
    pub async fn stats(
        &self,
        caller: &Caller,
        client: &ClientId,
        from: Option<chrono::DateTime<chrono::Utc>>,
        to: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<callproof_quality::Stats> {
        let calls = self.verified_calls(caller, client, from, to).await?;
        let reviews = self
            .exportable_reviews(client.as_str(), &caller.actor())
            .await?;
        Ok(callproof_quality::stats(&calls, &reviews))
    }

    /// The interface language the caller chose last, if any.
    pub async fn language_of_key(&self, caller: &Caller) -> Result<Option<String>> {
        match caller.api_key() {
            Some(k) => Ok(self.catalog.key_language(&k.id).await?),
            None => Ok(None),
        }
    }

    /// Remembers the caller's interface language.
    pub async fn set_language_of_key(&self, caller: &Caller, language: &str) -> Result<()> {
        if let Some(k) = caller.api_key() {
            self.catalog.set_key_language(&k.id, language).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(role: Role, clients: &[&str]) -> Caller {
        Caller::key(ApiKey {
            id: "k".into(),
            name: "k".into(),
            role,
            clients: clients.iter().map(|c| c.to_string()).collect(),
            created_at: chrono::Utc::now(),
            revoked_at: None,
        })
    }

    fn c(name: &str) -> ClientId {
        ClientId::new(name).unwrap()
    }

    #[test]
    fn who_may_do_what() {
        let qm = key(Role::QualityManager, &["acme"]);
        let agent = key(Role::Agent, &["acme"]);
        let client = key(Role::Client, &["acme"]);
        assert!(allow(&qm, Permission::ChangeRules(&c("acme"))).is_ok());
        assert!(matches!(
            allow(&qm, Permission::ChangeRules(&c("globex"))),
            Err(ServiceError::NotFound(_))
        ));
        assert!(matches!(
            allow(&agent, Permission::ChangeRules(&c("acme"))),
            Err(ServiceError::Forbidden(_))
        ));
        assert!(allow(&agent, Permission::Upload(&c("acme"))).is_ok());
        assert!(allow(&agent, Permission::Upload(&c("globex"))).is_err());
        assert!(allow(&client, Permission::Upload(&c("acme"))).is_err());
        assert!(allow(&client, Permission::Staff).is_err());
        assert!(allow(&agent, Permission::Review).is_err());
        assert!(allow(&qm, Permission::ReadAuditLog).is_err());
        assert!(allow(&Caller::local(), Permission::ReadAuditLog).is_ok());
        assert!(allow(&client, Permission::SeeClient(&c("acme"))).is_ok());
        assert!(allow(&client, Permission::SeeClient(&c("globex"))).is_err());
    }
}
