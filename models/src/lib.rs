//! callproof's domain vocabulary, shared by every crate.
//!
//! These are plain serde types with no I/O so that ingest, transcription, search and the API
//! agree on one meaning of "call", "speaker" or "segment" without depending on each other.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

/// A tenant's name (an ordering client): 1 to 64 ASCII letters, digits, '-', '_' or '.', not
/// starting with '.'. It names the tenant in object keys, so a `ClientId` that exists is a
/// valid one: the only way to make one is [`ClientId::new`] (or deserialising, which checks).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub fn new(name: impl Into<String>) -> Result<Self, String> {
        let name = name.into();
        let ok = !name.is_empty()
            && name.len() <= 64
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if ok {
            Ok(Self(name))
        } else {
            Err(format!(
                "client {name:?} must be 1 to 64 letters, digits, '-', '_' or '.' (it names the tenant)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ClientId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ClientId::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl std::ops::Deref for ClientId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ClientId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// Identifiers of records that are not calls: UUIDv7 strings, checked when parsed, so that an
/// id that exists is a well-formed one and an ill-formed one answers "not found" at the door.
macro_rules! record_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// A new id (UUIDv7: ids sort by creation time).
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s.trim())
                    .map(|u| Self(u.to_string()))
                    .map_err(|_| format!("{s:?} is not {} id (they are UUIDs)", $what))
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

record_id!(
    /// A quality sample's identifier.
    SampleId,
    "a sample"
);
record_id!(
    /// A review's identifier (one per version).
    ReviewId,
    "a review"
);
record_id!(
    /// A calibration's identifier.
    CalibrationId,
    "a calibration"
);

/// A call's identifier: a UUIDv7, so identifiers sort by ingestion time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(pub uuid::Uuid);

impl CallId {
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }
}

impl Default for CallId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for CallId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s.trim())
            .map(Self)
            .map_err(|_| format!("{s:?} is not a call id (call ids are UUIDs)"))
    }
}

/// Who speaks on a channel. Stereo call recordings put one party on each channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Agent,
    Customer,
    /// A mono recording mixes both parties: no attribution is possible.
    Unknown,
}

impl Speaker {
    pub fn as_str(self) -> &'static str {
        match self {
            Speaker::Agent => "agent",
            Speaker::Customer => "customer",
            Speaker::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Speaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Speaker {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "agent" => Ok(Speaker::Agent),
            "customer" | "client" | "caller" => Ok(Speaker::Customer),
            "unknown" => Ok(Speaker::Unknown),
            other => Err(format!(
                "unknown speaker {other:?}: use agent, customer or unknown"
            )),
        }
    }
}

/// Channel roles in channel order; the default is left = agent, right = customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelRoles(pub Vec<Speaker>);

impl ChannelRoles {
    /// The speaker of channel `index` in a recording of `channels` channels.
    pub fn speaker_for(&self, index: usize, channels: usize) -> Speaker {
        if channels < 2 {
            return Speaker::Unknown;
        }
        match self.0.get(index) {
            Some(s) => *s,
            None if self.0.is_empty() && index == 0 => Speaker::Agent,
            None if self.0.is_empty() && index == 1 => Speaker::Customer,
            None => Speaker::Unknown,
        }
    }
}

impl Default for ChannelRoles {
    fn default() -> Self {
        Self(vec![Speaker::Agent, Speaker::Customer])
    }
}

impl FromStr for ChannelRoles {
    type Err = String;
    /// Parses `agent,customer`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .map(Speaker::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

/// What the person submitting a recording tells us about it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallMetadata {
    /// The ordering client (tenant) the call belongs to.
    pub client: String,
    #[serde(default)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub customer_phone: Option<String>,
    #[serde(default)]
    pub contract_ref: Option<String>,
    /// When the call started, with the time zone it was made in.
    #[serde(default)]
    pub started_at: Option<DateTime<FixedOffset>>,
    /// ISO 639-1 language of the call ("fr", "en"); the configured default when absent.
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub channels: Option<ChannelRoles>,
    /// The customer's IANA time zone ("Europe/Paris"), for calling-hours rules; the rule's
    /// own time zone when absent.
    #[serde(default)]
    pub customer_timezone: Option<String>,
}

/// Where a call is in the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "state", content = "reason")]
pub enum CallState {
    Received,
    Transcribing,
    Indexed,
    /// The pipeline stopped; the reason says what went wrong and what to do.
    Failed(String),
}

impl CallState {
    pub fn name(&self) -> &'static str {
        match self {
            CallState::Received => "received",
            CallState::Transcribing => "transcribing",
            CallState::Indexed => "indexed",
            CallState::Failed(_) => "failed",
        }
    }
}

/// Technical facts about the stored recording, found by decoding it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioInfo {
    /// Container/codec as detected, e.g. "wav/pcm_mulaw".
    pub format: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub duration_ms: u64,
}

/// A call as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub id: CallId,
    pub metadata: CallMetadata,
    /// SHA-256 of the original bytes, hex.
    pub sha256: String,
    pub original_name: Option<String>,
    pub size_bytes: u64,
    pub audio: Option<AudioInfo>,
    #[serde(flatten)]
    pub state: CallState,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A word with its time, as the recogniser placed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// Mean token probability, 0..1.
    pub probability: f32,
}

/// A stretch of speech by one speaker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub speaker: Speaker,
    /// Channel index in the original recording.
    pub channel: u16,
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    /// Mean log-probability of the segment's tokens (Whisper's confidence).
    pub avg_logprob: f32,
    pub no_speech_prob: f32,
    pub words: Vec<Word>,
}

/// The transcript of a whole call: every channel's segments, merged in time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub call_id: CallId,
    /// Name and SHA-256 of the Whisper model that produced it.
    pub model: String,
    pub model_sha256: String,
    pub language: String,
    pub segments: Vec<Segment>,
}

/// One matching segment inside a search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentHit {
    pub speaker: Speaker,
    pub start_ms: u64,
    pub end_ms: u64,
    /// Where to start playing: the first matched word, or the segment start.
    pub match_ms: u64,
    pub text: String,
    /// The text with matches wrapped in `<b>…</b>`, HTML-escaped.
    pub snippet: String,
    pub score: f32,
}

/// A call that matched a search, with its matching segments in time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallHit {
    pub call_id: CallId,
    pub client: String,
    pub campaign: Option<String>,
    pub agent: Option<String>,
    pub started_at: Option<DateTime<FixedOffset>>,
    /// The call's verdict when it has been verified.
    #[serde(default)]
    pub verdict: Option<Verdict>,
    #[serde(default)]
    pub contract_ref: Option<String>,
    pub score: f32,
    pub segments: Vec<SegmentHit>,
}

/// Which rule set produced a verification: a client's stored version or a built-in pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSetRef {
    /// The client the rule set belongs to, or the built-in pack's name ("fr-demarchage").
    pub id: String,
    pub version: u32,
    /// SHA-256 of the rule set's TOML source, hex.
    pub sha256: String,
    /// True for a built-in pack used because the client has no rule set of its own.
    #[serde(default)]
    pub builtin: bool,
}

/// What a rule checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// One of several phrasings must be said.
    Required,
    /// A phrasing that must never be said.
    Forbidden,
    /// The customer's assent, after the offer items it depends on, not taken back.
    Consent,
    /// The call started inside the allowed calling hours.
    CallingHours,
    /// The call lasted at least a minimum time.
    MinDuration,
}

/// What verification found for one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The requirement holds (for a forbidden rule: the phrasing was not said).
    Met,
    /// No phrasing of a required item (or of consent) was found.
    Missing,
    /// A forbidden phrasing was said.
    ForbiddenSaid,
    /// Said, but outside its window (too late, or before/after the wrong item).
    OutOfWindow,
    /// Said by the wrong party (for instance, consent stated only by the agent).
    WrongSpeaker,
    /// The customer refused, or took back an assent.
    Refused,
    /// The call started outside the allowed calling hours or on a public holiday.
    OutsideHours,
    /// The call is shorter than the rule's minimum duration.
    TooShort,
    /// The rule could not be checked (for instance: the call's start time is unknown).
    NotCheckable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Met => "met",
            Outcome::Missing => "missing",
            Outcome::ForbiddenSaid => "forbidden_said",
            Outcome::OutOfWindow => "out_of_window",
            Outcome::WrongSpeaker => "wrong_speaker",
            Outcome::Refused => "refused",
            Outcome::OutsideHours => "outside_hours",
            Outcome::TooShort => "too_short",
            Outcome::NotCheckable => "not_checkable",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure verification is of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    /// The rule holds.
    Pass,
    /// The match score is in the doubtful band: a person must listen.
    Review,
    /// The rule is broken.
    Fail,
}

/// The evidence for one rule of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub kind: RuleKind,
    pub outcome: Outcome,
    pub status: FindingStatus,
    /// Who said the matched text (absent for metadata rules and when nothing was found).
    pub speaker: Option<Speaker>,
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    /// The transcript's words that matched, as recognised.
    pub matched: Option<String>,
    /// The rule phrasing that matched best.
    pub phrase: Option<String>,
    /// Match score, 0..1 (1 = every word recognised exactly).
    pub score: Option<f32>,
    /// One sentence a quality manager can act on.
    pub detail: String,
}

/// A call's overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Compliant,
    Violation,
    NeedsReview,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compliant => "compliant",
            Verdict::Violation => "violation",
            Verdict::NeedsReview => "needs_review",
        }
    }

    /// A violation if any finding fails, else needs review if any is doubtful, else compliant.
    pub fn of(findings: &[Finding]) -> Self {
        match findings.iter().map(|f| f.status).max() {
            Some(FindingStatus::Fail) => Verdict::Violation,
            Some(FindingStatus::Review) => Verdict::NeedsReview,
            _ => Verdict::Compliant,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "compliant" => Ok(Verdict::Compliant),
            "violation" => Ok(Verdict::Violation),
            "needs_review" | "review" => Ok(Verdict::NeedsReview),
            other => Err(format!(
                "unknown verdict {other:?}: use compliant, violation or needs_review"
            )),
        }
    }
}

/// The result of checking one call's transcript against one rule set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub call_id: CallId,
    pub ruleset: RuleSetRef,
    pub verdict: Verdict,
    /// One finding per rule, in the rule set's order; met requirements keep their evidence.
    pub findings: Vec<Finding>,
    pub verified_at: DateTime<Utc>,
}

impl Verification {
    /// Rule ids whose finding is not a pass: what `rule:` searches find.
    pub fn flagged_rules(&self) -> impl Iterator<Item = &str> {
        self.findings
            .iter()
            .filter(|f| f.status != FindingStatus::Pass)
            .map(|f| f.rule_id.as_str())
    }
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, every tenant; the only role that reads the audit log and manages keys.
    Admin,
    /// Provider staff auditing calls: the clients they are assigned to; may change rule sets.
    QualityManager,
    /// Provider staff handling calls: the clients they are assigned to; may upload.
    Agent,
    /// An ordering client: its own tenant only, read and evidence.
    Client,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::QualityManager => "quality_manager",
            Role::Agent => "agent",
            Role::Client => "client",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "admin" => Ok(Role::Admin),
            "quality_manager" | "qm" => Ok(Role::QualityManager),
            "agent" => Ok(Role::Agent),
            "client" => Ok(Role::Client),
            other => Err(format!(
                "unknown role {other:?}: use admin, quality_manager, agent or client"
            )),
        }
    }
}

/// Which tenants' data a reader may see. Every read of calls, transcripts, findings, audio,
/// search hits and evidence is filtered by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Clients(Vec<String>),
}

impl Scope {
    pub fn allows(&self, client: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Clients(c) => c.iter().any(|x| x == client),
        }
    }

    /// The tenants this scope is limited to; `None` for every tenant.
    pub fn clients(&self) -> Option<&[String]> {
        match self {
            Scope::All => None,
            Scope::Clients(c) => Some(c),
        }
    }
}

/// An API key as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The tenants it is limited to (empty for admin).
    pub clients: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn scope(&self) -> Scope {
        if self.role == Role::Admin {
            Scope::All
        } else {
            Scope::Clients(self.clients.clone())
        }
    }
}

/// Who did something: an API key, or the local operator using the command line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub key_id: String,
    pub role: Role,
    /// The tenant of a client key; None for staff and admins.
    pub tenant: Option<String>,
}

impl Actor {
    /// The person at the machine running `callproof` commands on a data folder.
    pub fn local() -> Self {
        Self {
            key_id: "local-cli".into(),
            role: Role::Admin,
            tenant: None,
        }
    }

    pub fn of(key: &ApiKey) -> Self {
        Self {
            key_id: key.id.clone(),
            role: key.role,
            tenant: (key.role == Role::Client)
                .then(|| key.clients.first().cloned())
                .flatten(),
        }
    }
}

/// One line of the audit log. `hash` chains it to the entry before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// What was done: "read_audio", "read_transcript", "read_findings", "create_evidence",
    /// "put_rules", "create_key", "revoke_key", …
    pub action: String,
    /// What it was done to: a call id, a client, a key id.
    pub target: Option<String>,
    /// "ok", "not_found", "denied", "invalid", …
    pub outcome: String,
    pub prev_hash: String,
    pub hash: String,
}

/// What a quality sample is stratified by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StratumKey {
    Agent,
    Campaign,
}

/// How to draw a quality sample. The same parameters and seed draw the same calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleParams {
    pub client: String,
    /// Calls started at or after this instant.
    #[serde(default)]
    pub from: Option<DateTime<FixedOffset>>,
    /// Calls started before this instant.
    #[serde(default)]
    pub to: Option<DateTime<FixedOffset>>,
    /// Strata: by agent, by campaign, or both; none = one stratum.
    #[serde(default)]
    pub strata: Vec<StratumKey>,
    /// Calls drawn per stratum (a number)…
    #[serde(default)]
    pub per_stratum: Option<u32>,
    /// …or a percentage of each stratum (rounded up).
    #[serde(default)]
    pub percent: Option<f64>,
    /// At least this many per stratum (when it has them).
    #[serde(default)]
    pub min_per_stratum: u32,
    /// Only calls with these verdicts (empty: every verified call).
    #[serde(default)]
    pub only: Vec<Verdict>,
    /// How much more likely a violation or needs-review call is drawn than a compliant one.
    #[serde(default = "one_f64")]
    pub violation_weight: f64,
    pub seed: u64,
    #[serde(default)]
    pub name: Option<String>,
}

fn one_f64() -> f64 {
    1.0
}

/// One drawn call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampledCall {
    pub call_id: CallId,
    /// "agent=julie, campaign=hiver"; "all" without strata.
    pub stratum: String,
    pub verdict: Verdict,
}

/// How many calls a stratum had and how many were drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StratumCount {
    pub stratum: String,
    pub population: usize,
    pub drawn: usize,
}

/// A stored sample: its parameters and the calls they drew.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub id: SampleId,
    pub params: SampleParams,
    pub calls: Vec<SampledCall>,
    pub strata: Vec<StratumCount>,
    pub created_at: DateTime<Utc>,
    pub created_by: Actor,
}

/// A reviewer's decision on an automatic finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The finding is right.
    Confirm,
    /// The finding is wrong (a reason is required).
    Overrule,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingDecision {
    pub rule_id: String,
    pub decision: Decision,
    #[serde(default)]
    pub reason: Option<String>,
    /// What the reviewer heard instead (e.g. `met` for a "missing" period said at 0:42).
    #[serde(default)]
    pub corrected_outcome: Option<Outcome>,
    #[serde(default)]
    pub corrected_start_ms: Option<u64>,
}

/// A finding the rules missed, added by a reviewer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddedFinding {
    pub rule_id: String,
    pub outcome: Outcome,
    #[serde(default)]
    pub speaker: Option<Speaker>,
    #[serde(default)]
    pub start_ms: Option<u64>,
    #[serde(default)]
    pub end_ms: Option<u64>,
    #[serde(default)]
    pub note: Option<String>,
}

/// What a reviewer submits for one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    #[serde(default)]
    pub sample_id: Option<SampleId>,
    #[serde(default)]
    pub calibration_id: Option<CalibrationId>,
    #[serde(default)]
    pub decisions: Vec<FindingDecision>,
    #[serde(default)]
    pub added: Vec<AddedFinding>,
    /// Scorecard criterion → score from 0 to 5.
    #[serde(default)]
    pub scores: std::collections::BTreeMap<String, f32>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// A stored review: versioned per reviewer and call; the automatic verdict is kept beside the
/// reviewed one for the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub id: ReviewId,
    pub call_id: CallId,
    pub reviewer: Actor,
    pub version: u32,
    #[serde(flatten)]
    pub input: ReviewInput,
    pub automatic_verdict: Verdict,
    pub reviewed_verdict: Verdict,
    /// Weighted scorecard result, 0..100, when scores were given.
    pub score: Option<f32>,
    pub created_at: DateTime<Utc>,
}

/// The same call given to several reviewers, whose answers stay hidden from each other until
/// all have answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub id: CalibrationId,
    pub call_id: CallId,
    /// Reviewer key ids.
    pub reviewers: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Actor,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_roles_default_left_agent_right_customer() {
        let roles = ChannelRoles::default();
        assert_eq!(roles.speaker_for(0, 2), Speaker::Agent);
        assert_eq!(roles.speaker_for(1, 2), Speaker::Customer);
        assert_eq!(roles.speaker_for(0, 1), Speaker::Unknown);
        let swapped: ChannelRoles = "customer,agent".parse().unwrap();
        assert_eq!(swapped.speaker_for(0, 2), Speaker::Customer);
        assert!("agent,boss".parse::<ChannelRoles>().is_err());
    }

    #[test]
    fn metadata_sidecar_rejects_unknown_fields() {
        let ok: CallMetadata = serde_json::from_str(
            r#"{"client":"acme","started_at":"2026-03-02T10:15:00+01:00","channels":["agent","customer"]}"#,
        )
        .unwrap();
        assert_eq!(ok.started_at.unwrap().offset().local_minus_utc(), 3600);
        let err = serde_json::from_str::<CallMetadata>(r#"{"client":"a","custmer_phone":"1"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("custmer_phone"));
    }

    #[test]
    fn verdict_is_the_worst_finding() {
        let f = |status| Finding {
            rule_id: "r".into(),
            kind: RuleKind::Required,
            outcome: Outcome::Met,
            status,
            speaker: None,
            start_ms: None,
            end_ms: None,
            matched: None,
            phrase: None,
            score: None,
            detail: String::new(),
        };
        use FindingStatus::*;
        assert_eq!(Verdict::of(&[]), Verdict::Compliant);
        assert_eq!(Verdict::of(&[f(Pass), f(Pass)]), Verdict::Compliant);
        assert_eq!(Verdict::of(&[f(Pass), f(Review)]), Verdict::NeedsReview);
        assert_eq!(Verdict::of(&[f(Review), f(Fail)]), Verdict::Violation);
        assert_eq!("needs-review".parse::<Verdict>(), Ok(Verdict::NeedsReview));
    }

    #[test]
    fn client_ids_are_valid_or_do_not_exist() {
        for good in ["acme", "edc-2026", "a.b_c", "X"] {
            assert_eq!(ClientId::new(good).unwrap().as_str(), good);
        }
        for bad in ["", ".hidden", "a/b", "../x", "é", &"x".repeat(65)] {
            assert!(ClientId::new(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<ClientId>("\"../x\"").is_err());
        let s = SampleId::new();
        assert_eq!(s.as_str().parse::<SampleId>().unwrap(), s);
        assert!("nope".parse::<CalibrationId>().is_err());
        assert!(serde_json::from_str::<ReviewId>("\"../x\"").is_err());
        let c: ClientId = serde_json::from_str("\"acme\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"acme\"");
    }

    #[test]
    fn call_state_serialises_with_reason() {
        let s = serde_json::to_string(&CallState::Failed("bad codec".into())).unwrap();
        assert_eq!(s, r#"{"state":"failed","reason":"bad codec"}"#);
    }
}
