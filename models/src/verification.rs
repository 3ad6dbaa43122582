//! What checking a call against its rule set found: one finding per rule and a verdict.

use super::*;

/// Which rule set produced a verification: a client's stored version or a built-in pack.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// How the speaker of the matched words was told, when voices rather than channels told
    /// it (a mono recording).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<Attribution>,
    /// How well the speech this finding rests on was heard; absent for rules on metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hearing: Option<Hearing>,
}

/// The recogniser's side of a finding: what it heard, how surely, and where to listen.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hearing {
    /// Mean probability (0..1) of the words the finding rests on: the matched words, or, for an
    /// item not found, the speech searched where it was expected.
    pub confidence: f32,
    /// Speech recognised without confidence where the item was expected: the span to listen
    /// to. Its presence is why an item not found is "needs review" rather than "missing".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doubtful: Option<(u64, u64)>,
    /// The runs of doubtful words inside `doubtful`, each where it was heard (ms): what the
    /// second listen decodes again. On a long call the span from the first doubtful word to
    /// the last can hold minutes of speech heard clearly between them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stretches: Vec<(u64, u64)>,
    /// For an item not found: where it was looked for (between the items met before and after
    /// it, inside its window), in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub searched: Option<(u64, u64)>,
    /// The words came from the second listen (beam search with the rule set's vocabulary).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub second_listen: bool,
    /// The words are the script's, put in place of a garbled stretch because the recording
    /// fits them about as well as what the recogniser first heard (the segment's
    /// `heard_first`). Such words only ever clear a finding: nobody is accused on them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub script_check: bool,
}

impl Finding {
    /// The customer declined (or took back their assent): the sale did not happen, which
    /// verdicts and statistics count apart from the agent's breaches.
    pub fn is_refusal(&self) -> bool {
        self.kind == RuleKind::Consent && self.outcome == Outcome::Refused
    }
}

/// A call's overall result.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Compliant,
    Violation,
    NeedsReview,
    /// The customer declined the offer (or took their assent back) and nothing the agent said
    /// or left unsaid broke a rule: no sale, which is not an agent's fault. A refusal in a call
    /// with a breach is a violation: the breach is still reported.
    NoSale,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compliant => "compliant",
            Verdict::Violation => "violation",
            Verdict::NeedsReview => "needs_review",
            Verdict::NoSale => "no_sale",
        }
    }

    /// A violation if any finding other than the customer's refusal fails, else needs review if
    /// any is doubtful, else no sale if the customer refused, else compliant.
    pub fn of(findings: &[Finding]) -> Self {
        Self::of_statuses(findings.iter().map(|f| (f.status, f.is_refusal())))
    }

    /// [`Verdict::of`] over (status, is the customer's refusal) pairs: what a review decides
    /// with its corrected statuses.
    pub fn of_statuses(statuses: impl IntoIterator<Item = (FindingStatus, bool)>) -> Self {
        let (mut fail, mut review, mut refused) = (false, false, false);
        for (status, refusal) in statuses {
            match status {
                FindingStatus::Fail if refusal => refused = true,
                FindingStatus::Fail => fail = true,
                FindingStatus::Review => review = true,
                FindingStatus::Pass => {}
            }
        }
        if fail {
            Verdict::Violation
        } else if review {
            Verdict::NeedsReview
        } else if refused {
            Verdict::NoSale
        } else {
            Verdict::Compliant
        }
    }

    /// Whether the verdict holds something against the agent or still needs a person: what
    /// samples weigh up and audits flag.
    pub fn is_flagged(self) -> bool {
        matches!(self, Verdict::Violation | Verdict::NeedsReview)
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
            "no_sale" | "refused" => Ok(Verdict::NoSale),
            other => Err(format!(
                "unknown verdict {other:?}: use compliant, violation, needs_review or no_sale"
            )),
        }
    }
}

/// The result of checking one call's transcript against one rule set.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
