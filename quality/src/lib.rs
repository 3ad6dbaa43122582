//! Quality audits: reproducible samples, reviews of findings, calibration, field precision of
//! rules, and trends.
//!
//! The computations are pure functions over calls, verifications and reviews, so that the
//! numbers a quality manager sees can be checked by hand (the tests do); storing samples and
//! reviews, and who may see which, is the service layer's business. Sampling is seeded
//! (ChaCha8) over candidates in a fixed order, so the same parameters and seed always draw the
//! same calls; weighted draws use Efraimidis–Spirakis keys.

use std::collections::{BTreeMap, BTreeSet};

use callproof_models::{
    Calibration, Call, CallId, Decision, FindingDecision, FindingStatus, Outcome, Review,
    ReviewInput, RuleKind, SampleParams, SampledCall, StratumCount, StratumKey, Verdict,
    Verification,
};
use chrono::Datelike;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde::Serialize;

/// Why a sample or review request cannot be honoured.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QualityError {
    #[error("{0}")]
    Invalid(String),
    /// An overruling says what was really heard: without it, nobody can check the review.
    #[error("overruling rule {rule:?} needs a reason (what was really said, and when)")]
    ReasonNeeded { rule: String },
}

fn invalid<T>(m: impl Into<String>) -> std::result::Result<T, QualityError> {
    Err(QualityError::Invalid(m.into()))
}

fn stratum_of(call: &Call, keys: &[StratumKey]) -> String {
    if keys.is_empty() {
        return "all".into();
    }
    keys.iter()
        .map(|k| match k {
            StratumKey::Agent => format!(
                "agent={}",
                call.metadata.agent.as_deref().unwrap_or("(none)")
            ),
            StratumKey::Campaign => format!(
                "campaign={}",
                call.metadata.campaign.as_deref().unwrap_or("(none)")
            ),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A sample's name is a label on a page, not a document.
pub const MAX_SAMPLE_NAME_CHARS: usize = 120;

/// Draws a sample from a client's verified calls (already limited to the period).
pub fn draw(
    params: &SampleParams,
    candidates: &[(Call, Verification)],
) -> std::result::Result<(Vec<SampledCall>, Vec<StratumCount>), QualityError> {
    match (params.per_stratum, params.percent) {
        (None, None) => return invalid("give per_stratum (a number of calls) or percent"),
        (Some(_), Some(_)) => return invalid("give per_stratum or percent, not both"),
        (_, Some(p)) if !(p > 0.0 && p <= 100.0) => {
            return invalid("percent must be above 0 and at most 100")
        }
        _ => {}
    }
    if !(params.violation_weight.is_finite() && params.violation_weight > 0.0) {
        return invalid("violation_weight must be a positive number (1 = no weighting)");
    }
    if params
        .name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_SAMPLE_NAME_CHARS)
    {
        return invalid(format!(
            "a sample's name is at most {MAX_SAMPLE_NAME_CHARS} characters: shorten it"
        ));
    }
    let mut strata: BTreeMap<String, Vec<(&Call, Verdict)>> = BTreeMap::new();
    let mut sorted: Vec<&(Call, Verification)> = candidates.iter().collect();
    sorted.sort_by_key(|(c, _)| c.id);
    for (call, v) in sorted {
        if !params.only.is_empty() && !params.only.contains(&v.verdict) {
            continue;
        }
        strata
            .entry(stratum_of(call, &params.strata))
            .or_default()
            .push((call, v.verdict));
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(params.seed);
    let mut drawn = Vec::new();
    let mut counts = Vec::new();
    for (name, members) in &strata {
        let population = members.len();
        let wanted = match (params.per_stratum, params.percent) {
            (Some(n), _) => n as usize,
            (_, Some(p)) => ((population as f64) * p / 100.0).ceil() as usize,
            _ => 0,
        };
        let n = wanted.max(params.min_per_stratum as usize).min(population);
        // Efraimidis–Spirakis: key = u^(1/w); the n largest keys are a weighted sample
        // without replacement.
        let mut keyed: Vec<(f64, usize)> = members
            .iter()
            .enumerate()
            .map(|(i, (_, verdict))| {
                let u = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
                let w = if verdict.is_flagged() {
                    params.violation_weight
                } else {
                    1.0
                };
                (u.powf(1.0 / w), i)
            })
            .collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut picked: Vec<usize> = keyed.iter().take(n).map(|(_, i)| *i).collect();
        picked.sort_unstable();
        for i in picked {
            let (call, verdict) = members[i];
            drawn.push(SampledCall {
                call_id: call.id,
                stratum: name.clone(),
                verdict,
            });
        }
        counts.push(StratumCount {
            stratum: name.clone(),
            population,
            drawn: n,
        });
    }
    Ok((drawn, counts))
}

/// "Confirm the rest": a confirmation for every finding of `v` the review leaves undecided, so
/// that what is stored says, finding by finding, what the reviewer agreed to.
pub fn confirm_rest(v: &Verification, input: &mut ReviewInput) {
    if !std::mem::take(&mut input.confirm_rest) {
        return;
    }
    for f in &v.findings {
        if !input.decisions.iter().any(|d| d.rule_id == f.rule_id) {
            input.decisions.push(FindingDecision {
                rule_id: f.rule_id.clone(),
                decision: Decision::Confirm,
                reason: None,
                corrected_outcome: None,
                corrected_start_ms: None,
            });
        }
    }
}

/// Each finding's status after a review, with whether it is a customer's refusal: the
/// reviewer's decision where there is one, the automatic status otherwise.
pub fn reviewed_statuses<'a>(
    v: &'a Verification,
    input: &ReviewInput,
) -> Vec<(&'a str, FindingStatus, bool)> {
    v.findings
        .iter()
        .map(|f| {
            let refusal =
                |outcome: Outcome| f.kind == RuleKind::Consent && outcome == Outcome::Refused;
            let (status, refused) = match input.decisions.iter().find(|d| d.rule_id == f.rule_id) {
                None => (f.status, f.is_refusal()),
                Some(d) => {
                    let outcome = match d.decision {
                        Decision::Confirm => f.outcome,
                        Decision::Overrule => {
                            d.corrected_outcome.unwrap_or(if f.outcome == Outcome::Met {
                                // Overruling a pass means the requirement was in fact broken.
                                Outcome::Missing
                            } else {
                                Outcome::Met
                            })
                        }
                    };
                    // Confirming a doubtful finding settles it as stated; overruling replaces it.
                    let status = if outcome != Outcome::Met {
                        FindingStatus::Fail
                    } else {
                        FindingStatus::Pass
                    };
                    (status, refusal(outcome))
                }
            };
            (f.rule_id.as_str(), status, refused)
        })
        .collect()
}

/// The verdict after a review: the reviewer's decisions replace the automatic statuses.
pub fn reviewed_verdict(v: &Verification, input: &ReviewInput) -> Verdict {
    let mut statuses: Vec<(FindingStatus, bool)> = reviewed_statuses(v, input)
        .into_iter()
        .map(|(_, status, refusal)| (status, refusal))
        .collect();
    for a in &input.added {
        statuses.push(if a.outcome == Outcome::Met {
            (FindingStatus::Pass, false)
        } else {
            (FindingStatus::Fail, false)
        });
    }
    Verdict::of_statuses(statuses)
}

/// Checks a review against the call's findings and the scorecard; returns the weighted score
/// (0..100) when scores were given.
pub fn check_review(
    v: &Verification,
    input: &ReviewInput,
    scorecard: &[(String, f32)],
) -> std::result::Result<Option<f32>, QualityError> {
    let mut seen = BTreeSet::new();
    for d in &input.decisions {
        if !v.findings.iter().any(|f| f.rule_id == d.rule_id) {
            return invalid(format!(
                "decision on rule {:?}, which has no finding on this call; rules: {}",
                d.rule_id,
                v.findings
                    .iter()
                    .map(|f| f.rule_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !seen.insert(d.rule_id.as_str()) {
            return invalid(format!("two decisions on rule {:?}", d.rule_id));
        }
        if d.decision == Decision::Overrule
            && d.reason.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            return Err(QualityError::ReasonNeeded {
                rule: d.rule_id.clone(),
            });
        }
    }
    for a in &input.added {
        if a.rule_id.trim().is_empty() {
            return invalid("an added finding needs a rule_id");
        }
    }
    if input.scores.is_empty() {
        return Ok(None);
    }
    let mut total = 0.0;
    let mut weights = 0.0;
    for (criterion, score) in &input.scores {
        let Some((_, w)) = scorecard.iter().find(|(c, _)| c == criterion) else {
            return invalid(format!(
                "scorecard has no criterion {criterion:?}; criteria: {}",
                scorecard
                    .iter()
                    .map(|(c, _)| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        if !(0.0..=5.0).contains(score) {
            return invalid(format!(
                "score {score} for {criterion:?} must be from 0 to 5"
            ));
        }
        total += w * score / 5.0;
        weights += w;
    }
    Ok((weights > 0.0).then(|| (100.0 * total / weights * 10.0).round() / 10.0))
}

/// How reviewers judged one rule in the field.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct RuleField {
    pub rule_id: String,
    /// Flagged findings reviewers confirmed.
    pub confirmed: usize,
    /// Flagged findings reviewers overruled (false alarms).
    pub overruled: usize,
    /// Passes reviewers overruled, and findings they added: what the rule missed.
    pub missed: usize,
    /// confirmed / (confirmed + overruled); None before any review of a flagged finding.
    pub precision: Option<f64>,
}

/// Per rule: confirmed, overruled and missed, from each reviewer's latest review of each call.
pub fn rules_report(pairs: &[(Verification, Review)]) -> Vec<RuleField> {
    let mut by: BTreeMap<String, RuleField> = BTreeMap::new();
    for (v, r) in pairs {
        for d in &r.input.decisions {
            let Some(f) = v.findings.iter().find(|f| f.rule_id == d.rule_id) else {
                continue;
            };
            let e = by.entry(d.rule_id.clone()).or_default();
            let flagged = f.status != FindingStatus::Pass;
            match (flagged, d.decision) {
                (true, Decision::Confirm) => e.confirmed += 1,
                (true, Decision::Overrule) => e.overruled += 1,
                (false, Decision::Overrule) => e.missed += 1,
                (false, Decision::Confirm) => {}
            }
        }
        for a in &r.input.added {
            by.entry(a.rule_id.clone()).or_default().missed += 1;
        }
    }
    by.into_iter()
        .map(|(id, mut e)| {
            e.rule_id = id;
            let n = e.confirmed + e.overruled;
            e.precision = (n > 0).then(|| e.confirmed as f64 / n as f64);
            e
        })
        .collect()
}

/// Latest version of each reviewer's review of each call (calibration reviews excluded).
pub fn latest_reviews(reviews: &[Review]) -> Vec<&Review> {
    let mut latest: BTreeMap<(String, String), &Review> = BTreeMap::new();
    for r in reviews.iter().filter(|r| r.input.calibration_id.is_none()) {
        let k = (r.call_id.to_string(), r.reviewer.key_id.clone());
        if latest.get(&k).is_none_or(|x| r.version > x.version) {
            latest.insert(k, r);
        }
    }
    latest.into_values().collect()
}

/// Agreement of calibration reviewers: per finding decision and per scorecard criterion, the
/// share of reviewers who gave the most common answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    pub item: String,
    pub answers: BTreeMap<String, String>,
    pub agreement: f64,
}

pub fn agreement(reviews: &[&Review]) -> Vec<Agreement> {
    let mut items: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for r in reviews {
        for d in &r.input.decisions {
            items
                .entry(format!("finding {}", d.rule_id))
                .or_default()
                .insert(
                    r.reviewer.key_id.clone(),
                    match d.decision {
                        Decision::Confirm => "confirm".into(),
                        Decision::Overrule => "overrule".into(),
                    },
                );
        }
        for (c, s) in &r.input.scores {
            items
                .entry(format!("criterion {c}"))
                .or_default()
                .insert(r.reviewer.key_id.clone(), format!("{s}"));
        }
    }
    items
        .into_iter()
        .map(|(item, answers)| {
            let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
            for a in answers.values() {
                *tally.entry(a.as_str()).or_default() += 1;
            }
            let top = tally.values().copied().max().unwrap_or(0);
            let agreement = top as f64 / reviews.len().max(1) as f64;
            Agreement {
                item,
                answers,
                agreement: (agreement * 1000.0).round() / 1000.0,
            }
        })
        .collect()
}

/// A rate with the number of calls behind it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    pub key: String,
    pub calls: usize,
    pub violations: usize,
    pub rate: f64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub calls: usize,
    /// Calls whose verdict and findings come from a person's review rather than the rules.
    pub reviewed: usize,
    pub verdicts: BTreeMap<Verdict, usize>,
    /// Per rule: calls checked by it and calls where it failed.
    pub per_rule: Vec<Rate>,
    /// Per agent, campaign and ISO week: calls and calls with a violation verdict.
    pub per_agent: Vec<Rate>,
    pub per_campaign: Vec<Rate>,
    pub per_week: Vec<Rate>,
}

fn rates(map: BTreeMap<String, (usize, usize)>) -> Vec<Rate> {
    map.into_iter()
        .map(|(key, (calls, violations))| Rate {
            key,
            calls,
            violations,
            rate: if calls == 0 {
                0.0
            } else {
                (violations as f64 / calls as f64 * 10_000.0).round() / 10_000.0
            },
        })
        .collect()
}

/// Violation rates of a set of verified calls, after the reviews given (any of the client's:
/// those of other calls are ignored).
pub fn stats(calls: &[(Call, Verification)], reviews: &[Review]) -> Stats {
    // A person's word beats the machine's: the newest review of a call (calibration answers
    // included) decides its verdict and its findings.
    let mut newest: BTreeMap<CallId, &Review> = BTreeMap::new();
    for r in reviews {
        if newest
            .get(&r.call_id)
            .is_none_or(|x| (r.created_at, r.version) > (x.created_at, x.version))
        {
            newest.insert(r.call_id, r);
        }
    }
    let mut verdicts = BTreeMap::new();
    let mut reviewed = 0;
    let mut rule: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut agent: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut campaign: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut week: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (c, v) in calls {
        let (verdict, findings) = match newest.get(&c.id) {
            Some(r) => {
                reviewed += 1;
                (r.reviewed_verdict, reviewed_statuses(v, &r.input))
            }
            None => (
                v.verdict,
                v.findings
                    .iter()
                    .map(|f| (f.rule_id.as_str(), f.status, f.is_refusal()))
                    .collect(),
            ),
        };
        *verdicts.entry(verdict).or_default() += 1;
        let violation = usize::from(verdict == Verdict::Violation);
        for (rule_id, status, refusal) in findings {
            let e = rule.entry(rule_id.to_string()).or_default();
            e.0 += 1;
            // A customer's refusal is not the agent's breach of the consent rule.
            e.1 += usize::from(status == FindingStatus::Fail && !refusal);
        }
        let bump = |m: &mut BTreeMap<String, (usize, usize)>, k: String| {
            let e = m.entry(k).or_default();
            e.0 += 1;
            e.1 += violation;
        };
        bump(
            &mut agent,
            c.metadata.agent.clone().unwrap_or_else(|| "(none)".into()),
        );
        bump(
            &mut campaign,
            c.metadata
                .campaign
                .clone()
                .unwrap_or_else(|| "(none)".into()),
        );
        let at = c
            .metadata
            .started_at
            .map(|t| t.date_naive())
            .unwrap_or_else(|| c.received_at.date_naive());
        let iso = at.iso_week();
        bump(&mut week, format!("{}-W{:02}", iso.year(), iso.week()));
    }
    Stats {
        calls: calls.len(),
        reviewed,
        verdicts,
        per_rule: by_rate(rates(rule)),
        per_agent: by_rate(rates(agent)),
        per_campaign: by_rate(rates(campaign)),
        per_week: rates(week),
    }
}

/// Worst first (the rule, agent or campaign to look at), then by name.
fn by_rate(mut rows: Vec<Rate>) -> Vec<Rate> {
    rows.sort_by(|a, b| b.rate.total_cmp(&a.rate).then_with(|| a.key.cmp(&b.key)));
    rows
}

/// A cell a spreadsheet will not run: text starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return is a formula to Excel and LibreOffice (`=HYPERLINK(…)` in a campaign name would be a
/// live link in the client's sheet), so it gets a leading apostrophe, as OWASP advises.
pub fn spreadsheet_safe(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// Findings as CSV, one row per finding.
pub fn findings_csv(calls: &[(Call, Verification)]) -> std::result::Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "call_id",
        "client",
        "campaign",
        "agent",
        "started_at",
        "verdict",
        "rule_id",
        "kind",
        "outcome",
        "status",
        "speaker",
        "start_ms",
        "end_ms",
        "score",
        "matched",
        "detail",
    ])?;
    for (c, v) in calls {
        for f in &v.findings {
            w.write_record(
                [
                    c.id.to_string(),
                    c.metadata.client.clone(),
                    c.metadata.campaign.clone().unwrap_or_default(),
                    c.metadata.agent.clone().unwrap_or_default(),
                    c.metadata
                        .started_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default(),
                    v.verdict.to_string(),
                    f.rule_id.clone(),
                    serde_json::to_value(f.kind)
                        .ok()
                        .and_then(|k| k.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    f.outcome.to_string(),
                    serde_json::to_value(f.status)
                        .ok()
                        .and_then(|k| k.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    f.speaker.map(|s| s.to_string()).unwrap_or_default(),
                    f.start_ms.map(|x| x.to_string()).unwrap_or_default(),
                    f.end_ms.map(|x| x.to_string()).unwrap_or_default(),
                    f.score.map(|x| x.to_string()).unwrap_or_default(),
                    f.matched.clone().unwrap_or_default(),
                    f.detail.clone(),
                ]
                .map(spreadsheet_safe),
            )?;
        }
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).to_string())
}

/// Reviews as CSV, one row per review version.
pub fn reviews_csv(reviews: &[Review]) -> std::result::Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "review_id",
        "call_id",
        "reviewer",
        "version",
        "calibration_id",
        "automatic_verdict",
        "reviewed_verdict",
        "confirmed",
        "overruled",
        "added",
        "score",
        "comment",
        "created_at",
    ])?;
    for r in reviews {
        let count = |d: Decision| r.input.decisions.iter().filter(|x| x.decision == d).count();
        w.write_record(
            [
                r.id.to_string(),
                r.call_id.to_string(),
                r.reviewer.key_id.clone(),
                r.version.to_string(),
                r.input
                    .calibration_id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                r.automatic_verdict.to_string(),
                r.reviewed_verdict.to_string(),
                count(Decision::Confirm).to_string(),
                count(Decision::Overrule).to_string(),
                r.input.added.len().to_string(),
                r.score.map(|s| s.to_string()).unwrap_or_default(),
                r.input.comment.clone().unwrap_or_default(),
                r.created_at.to_rfc3339(),
            ]
            .map(spreadsheet_safe),
        )?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).to_string())
}

/// What a caller sees of a calibration: who answered, and once everyone has, every answer and
/// the agreement per item.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Serialize)]
pub struct CalibrationView {
    pub calibration: Calibration,
    pub answered: Vec<String>,
    pub pending: Vec<String>,
    pub complete: bool,
    /// Hidden (empty) until every reviewer has answered, except the caller's own.
    pub reviews: Vec<Review>,
    pub agreement: Vec<Agreement>,
}

mod energy;
mod talk;
#[cfg(test)]
mod tests;

pub use energy::{energy_profile, EnergyProfile};
pub use talk::{talk_stats, TalkStats};

#[cfg(test)]
mod csv_tests {
    use super::spreadsheet_safe;

    #[test]
    fn formulas_are_not_left_live() {
        for bad in [
            "=HYPERLINK(\"http://x\",\"click\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(spreadsheet_safe(bad.into()), format!("'{bad}"));
        }
        for fine in ["acme", "0.5", "2026-03-02T10:15:00+01:00", ""] {
            assert_eq!(spreadsheet_safe(fine.into()), fine);
        }
    }
}
