//! Quality audits: sample parameters and draws, reviews and their decisions, calibrations.

use super::*;

/// What a quality sample is stratified by.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StratumKey {
    Agent,
    Campaign,
}

/// How to draw a quality sample. The same parameters and seed draw the same calls.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampledCall {
    pub call_id: CallId,
    /// "agent=julie, campaign=hiver"; "all" without strata.
    pub stratum: String,
    pub verdict: Verdict,
}

/// How many calls a stratum had and how many were drawn.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StratumCount {
    pub stratum: String,
    pub population: usize,
    pub drawn: usize,
}

/// A stored sample: its parameters and the calls they drew.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The finding is right.
    Confirm,
    /// The finding is wrong (a reason is required).
    Overrule,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Every finding the reviewer left without a decision is confirmed ("confirm the rest"):
    /// the stored review then lists each of them, and this is false again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirm_rest: bool,
}

/// A stored review: versioned per reviewer and call; the automatic verdict is kept beside the
/// reviewed one for the record.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub id: CalibrationId,
    pub call_id: CallId,
    /// Reviewer key ids.
    pub reviewers: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Actor,
}
