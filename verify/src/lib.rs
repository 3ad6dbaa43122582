//! Script verification: a call's transcript checked against its client's rule set.
//!
//! A rule is a query with constraints: which words, said by whom, when, before or after what.
//! It is its own crate because workers, the server and a standalone re-verification all need
//! it, and it needs nothing but the plain types: no index, no catalog. Evaluation is pure: transcript, metadata and
//! rule set in, one [`Finding`] per rule out, each with the evidence (speaker, times, matched
//! words, score) that a quality manager or a proof-of-consent bundle quotes. Scores between the
//! rule set's `absent_below` and `review_below` are doubtful and make the finding "needs
//! review" rather than a silent pass or fail.

pub mod calendar;
pub mod matcher;
pub mod ruleset;
pub mod text;

use std::collections::HashMap;

use callproof_models::{
    Attribution, AttributionSource, CallId, CallMetadata, Finding, FindingStatus, Outcome,
    RuleKind, RuleSetRef, Speaker, Transcript, Verdict, Verification,
};
use chrono::{Datelike, Utc};

use matcher::Pattern;
pub use ruleset::{default_pack, pack_source, RuleBook, RuleSetError, PACKS};
use ruleset::{Hours, Rule};
use text::Tok;

/// What verification knows about a call besides its transcript.
pub struct CallFacts<'a> {
    pub call_id: CallId,
    pub metadata: &'a CallMetadata,
    /// Length of the recording.
    pub duration_ms: Option<u64>,
}

/// A recognised word on the call's clock.
struct WordAt<'a> {
    text: &'a str,
    start_ms: u64,
    end_ms: u64,
    /// How its speaker was told (a channel, or voices on a mono recording).
    who: Attribution,
}

/// Everything one party said, as normalised tokens pointing back to timed words.
struct Stream<'a> {
    speaker: Speaker,
    words: Vec<WordAt<'a>>,
    toks: Vec<Tok>,
}

/// One place a phrasing matched.
#[derive(Debug, Clone)]
struct Cand {
    speaker: Speaker,
    start_ms: u64,
    end_ms: u64,
    score: f32,
    matched: String,
    phrase: String,
    /// The least sure attribution among its words.
    who: Attribution,
}

fn streams<'a>(t: &'a Transcript, language: &str) -> Vec<Stream<'a>> {
    let mut out = Vec::new();
    for speaker in [Speaker::Agent, Speaker::Customer, Speaker::Unknown] {
        let mut words = Vec::new();
        for seg in t.segments.iter().filter(|s| s.speaker == speaker) {
            if seg.words.is_empty() {
                words.push(WordAt {
                    text: &seg.text,
                    start_ms: seg.start_ms,
                    end_ms: seg.end_ms,
                    who: seg.attribution,
                });
            }
            words.extend(seg.words.iter().map(|w| WordAt {
                text: &w.text,
                start_ms: w.start_ms,
                end_ms: w.end_ms,
                who: seg.attribution,
            }));
        }
        if words.is_empty() {
            continue;
        }
        let toks = text::tokens(words.iter().map(|w| w.text), language);
        out.push(Stream {
            speaker,
            words,
            toks,
        });
    }
    out
}

fn find(patterns: &[Pattern], streams: &[&Stream<'_>], floor: f32) -> Vec<Cand> {
    let mut out = Vec::new();
    for s in streams {
        for p in patterns {
            for h in p.find(&s.toks, floor) {
                let first = s.toks[h.start].first_word;
                let last = s.toks[h.end - 1].last_word;
                let words = &s.words[first..=last];
                out.push(Cand {
                    speaker: s.speaker,
                    start_ms: words.first().map_or(0, |w| w.start_ms),
                    end_ms: words.last().map_or(0, |w| w.end_ms),
                    score: h.score,
                    matched: words
                        .iter()
                        .map(|w| w.text.trim())
                        .collect::<Vec<_>>()
                        .join(" "),
                    phrase: p.source.clone(),
                    who: words
                        .iter()
                        .map(|w| w.who)
                        .min_by(|a, b| a.confidence.total_cmp(&b.confidence))
                        .unwrap_or_default(),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.start_ms.cmp(&b.start_ms))
    });
    out
}

fn clock(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

struct Eval<'a> {
    book: &'a RuleBook,
    streams: Vec<Stream<'a>>,
    /// Where each rule already evaluated was met: what `after`/`before` refer to.
    met_at: HashMap<String, (u64, u64)>,
    /// A mono recording: nobody can tell agent from customer.
    mono: bool,
}

impl Eval<'_> {
    fn sure(&self, c: &Cand) -> bool {
        c.score >= self.book.review_below
    }

    fn speaker_ok(&self, rule: &Rule, s: Speaker) -> bool {
        match rule.speaker {
            None => true,
            Some(want) => s == want || (self.mono && s == Speaker::Unknown),
        }
    }

    /// Why a candidate breaks the rule's time constraints, if it does.
    fn window_problem(&self, rule: &Rule, c: &Cand) -> Option<String> {
        if let Some(w) = rule.within_ms {
            if c.start_ms > w {
                return Some(format!(
                    "said at {}, after the first {} s",
                    clock(c.start_ms),
                    w / 1000
                ));
            }
        }
        for dep in &rule.after {
            // A dependency that was not met has its own finding; ordering cannot be judged.
            if let Some((start, _)) = self.met_at.get(dep) {
                if c.start_ms < *start {
                    return Some(format!(
                        "said at {}, before {dep} ({})",
                        clock(c.start_ms),
                        clock(*start)
                    ));
                }
            }
        }
        for dep in &rule.before {
            if let Some((start, _)) = self.met_at.get(dep) {
                if c.start_ms > *start {
                    return Some(format!(
                        "said at {}, after {dep} ({})",
                        clock(c.start_ms),
                        clock(*start)
                    ));
                }
            }
        }
        None
    }

    fn finding(
        &self,
        rule: &Rule,
        outcome: Outcome,
        status: FindingStatus,
        c: Option<&Cand>,
        detail: String,
    ) -> Finding {
        let mut status = status;
        let mut detail = detail;
        // Who said it decides this finding, and the voices were told apart without certainty:
        // a person listens before anyone is accused or cleared.
        let depends_on_speaker = rule.speaker.is_some() || rule.kind == RuleKind::Consent;
        if let Some(c) = c.filter(|c| depends_on_speaker && c.who.is_doubtful()) {
            if status != FindingStatus::Review {
                status = FindingStatus::Review;
                detail.push_str(&format!(
                    "; who said it is uncertain (voices told apart with confidence {:.2}), listen to confirm",
                    c.who.confidence
                ));
            }
        }
        Finding {
            attribution: c
                .map(|c| c.who)
                .filter(|w| w.source == AttributionSource::Diarization),
            rule_id: rule.id.clone(),
            kind: rule.kind,
            outcome,
            status,
            speaker: c.map(|c| c.speaker),
            start_ms: c.map(|c| c.start_ms),
            end_ms: c.map(|c| c.end_ms),
            matched: c.map(|c| c.matched.clone()),
            phrase: c.map(|c| c.phrase.clone()),
            score: c.map(|c| round2(c.score)),
            detail,
        }
    }

    fn said(c: &Cand) -> String {
        format!(
            "{} said \"{}\" at {} (score {:.2})",
            c.speaker,
            c.matched,
            clock(c.start_ms),
            c.score
        )
    }

    fn required(&self, rule: &Rule) -> Finding {
        use FindingStatus::*;
        let all: Vec<&Stream<'_>> = self.streams.iter().collect();
        let cands = find(&rule.patterns, &all, self.book.absent_below);
        let valid =
            |c: &&Cand| self.speaker_ok(rule, c.speaker) && self.window_problem(rule, c).is_none();
        if let Some(c) = cands.iter().filter(valid).find(|c| self.sure(c)) {
            let status = if self.mono && rule.speaker.is_some() {
                Review
            } else {
                Pass
            };
            let mut detail = Self::said(c);
            if status == Review {
                detail.push_str(
                    "; mono recording: who said it cannot be told apart, listen to confirm",
                );
            }
            return self.finding(rule, Outcome::Met, status, Some(c), detail);
        }
        if let Some(c) = cands.iter().find(valid) {
            return self.finding(
                rule,
                Outcome::Met,
                Review,
                Some(c),
                format!("probably said: {}; listen to confirm", Self::said(c)),
            );
        }
        let sure: Vec<&Cand> = cands.iter().filter(|c| self.sure(c)).collect();
        if let Some(c) = sure
            .iter()
            .find(|c| !self.speaker_ok(rule, c.speaker) && self.window_problem(rule, c).is_none())
        {
            let who = rule.speaker.map_or("anyone".into(), |s| s.to_string());
            return self.finding(
                rule,
                Outcome::WrongSpeaker,
                Fail,
                Some(c),
                format!("{}, but the {who} must say it", Self::said(c)),
            );
        }
        if let Some(c) = sure.iter().find(|c| self.speaker_ok(rule, c.speaker)) {
            let why = self.window_problem(rule, c).unwrap_or_default();
            return self.finding(
                rule,
                Outcome::OutOfWindow,
                Fail,
                Some(c),
                format!("\"{}\" {why}", c.matched),
            );
        }
        self.finding(
            rule,
            Outcome::Missing,
            Fail,
            None,
            format!(
                "not found: none of {} phrasings was said",
                rule.patterns.len()
            ),
        )
    }

    fn forbidden(&self, rule: &Rule) -> Finding {
        let all: Vec<&Stream<'_>> = self.streams.iter().collect();
        let cands = find(&rule.patterns, &all, self.book.absent_below);
        let mut relevant = cands
            .iter()
            .filter(|c| self.speaker_ok(rule, c.speaker) && self.window_problem(rule, c).is_none());
        match relevant.next() {
            Some(c) if self.sure(c) => self.finding(
                rule,
                Outcome::ForbiddenSaid,
                FindingStatus::Fail,
                Some(c),
                format!("forbidden: {}", Self::said(c)),
            ),
            Some(c) => self.finding(
                rule,
                Outcome::ForbiddenSaid,
                FindingStatus::Review,
                Some(c),
                format!("possibly forbidden: {}; listen to confirm", Self::said(c)),
            ),
            None => self.finding(
                rule,
                Outcome::Met,
                FindingStatus::Pass,
                None,
                "not said".into(),
            ),
        }
    }

    fn consent(&self, rule: &Rule) -> Finding {
        use FindingStatus::*;
        let floor = self.book.absent_below;
        let customer: Vec<&Stream<'_>> = self
            .streams
            .iter()
            .filter(|s| self.speaker_ok(rule, s.speaker))
            .collect();
        let refusals: Vec<Cand> = find(&rule.revoked_by, &customer, floor);
        let sure_refusals: Vec<&Cand> = refusals.iter().filter(|c| self.sure(c)).collect();
        let overlaps = |a: &Cand, b: &Cand| a.start_ms < b.end_ms && b.start_ms < a.end_ms;
        // An assent inside a refusal ("je ne suis pas d'accord") is no assent.
        let assents: Vec<Cand> = find(&rule.patterns, &customer, floor)
            .into_iter()
            .filter(|a| !sure_refusals.iter().any(|r| overlaps(a, r)))
            .collect();
        let in_window = |c: &Cand| self.window_problem(rule, c).is_none();

        // The customer's last sure assent that respects the order decides; then, was it taken back?
        let last_valid = assents
            .iter()
            .filter(|c| self.sure(c) && in_window(c))
            .max_by_key(|c| c.start_ms);
        if let Some(a) = last_valid {
            if let Some(r) = sure_refusals
                .iter()
                .filter(|r| r.start_ms >= a.end_ms)
                .min_by_key(|r| r.start_ms)
            {
                return self.finding(
                    rule,
                    Outcome::Refused,
                    Fail,
                    Some(r),
                    format!(
                        "the customer assented at {} (\"{}\") then took it back: {}",
                        clock(a.start_ms),
                        a.matched,
                        Self::said(r)
                    ),
                );
            }
            if self.mono {
                return self.finding(
                    rule,
                    Outcome::Met,
                    Review,
                    Some(a),
                    format!(
                        "{}; mono recording: check that the customer, not the agent, said it",
                        Self::said(a)
                    ),
                );
            }
            let mut detail = format!("consent: {}", Self::said(a));
            if let Some(r) = refusals.iter().find(|r| r.start_ms >= a.end_ms) {
                detail.push_str(&format!(
                    "; possibly taken back at {} (\"{}\"), listen to confirm",
                    clock(r.start_ms),
                    r.matched
                ));
                return self.finding(rule, Outcome::Met, Review, Some(a), detail);
            }
            return self.finding(rule, Outcome::Met, Pass, Some(a), detail);
        }
        if let Some(a) = assents
            .iter()
            .filter(|c| in_window(c))
            .max_by_key(|c| c.start_ms)
        {
            return self.finding(
                rule,
                Outcome::Met,
                Review,
                Some(a),
                format!("possible consent: {}; listen to confirm", Self::said(a)),
            );
        }
        if let Some(a) = assents.iter().find(|c| self.sure(c)) {
            let why = self.window_problem(rule, a).unwrap_or_default();
            return self.finding(
                rule,
                Outcome::OutOfWindow,
                Fail,
                Some(a),
                format!(
                    "the customer's assent \"{}\" does not count: {why}",
                    a.matched
                ),
            );
        }
        if let Some(r) = sure_refusals.iter().min_by_key(|r| r.start_ms) {
            return self.finding(
                rule,
                Outcome::Refused,
                Fail,
                Some(r),
                format!("the customer refused: {}", Self::said(r)),
            );
        }
        let agent: Vec<&Stream<'_>> = self
            .streams
            .iter()
            .filter(|s| s.speaker == Speaker::Agent)
            .collect();
        let mut agent_phrases = rule.agent_says.clone();
        agent_phrases.extend(rule.patterns.iter().cloned());
        if let Some(c) = find(&agent_phrases, &agent, self.book.review_below).first() {
            return self.finding(
                rule,
                Outcome::WrongSpeaker,
                Fail,
                Some(c),
                format!(
                    "only the agent stated agreement: {}; the customer's own assent is missing",
                    Self::said(c)
                ),
            );
        }
        self.finding(
            rule,
            Outcome::Missing,
            Fail,
            None,
            "the customer's assent was not found".into(),
        )
    }

    fn calling_hours(&self, rule: &Rule, hours: &Hours, meta: &CallMetadata) -> Finding {
        let Some(started) = meta.started_at else {
            return self.finding(
                rule,
                Outcome::NotCheckable,
                FindingStatus::Review,
                None,
                "the call's start time is unknown: give started_at in its metadata".into(),
            );
        };
        let tz: chrono_tz::Tz = match meta.customer_timezone.as_deref() {
            None => hours.timezone,
            Some(name) => match name.parse() {
                Ok(tz) => tz,
                Err(_) => {
                    return self.finding(
                        rule,
                        Outcome::NotCheckable,
                        FindingStatus::Review,
                        None,
                        format!("customer_timezone {name:?} is not an IANA time zone"),
                    )
                }
            },
        };
        let local = started.with_timezone(&tz);
        let when = format!("{} ({tz})", local.format("%A %Y-%m-%d %H:%M"));
        let day = local.date_naive();
        let time = local.time();
        let problem = if !hours.days.contains(&day.weekday()) {
            Some(format!("started {when}, a day calls are not allowed"))
        } else if let Some(name) = hours.holidays.holiday(day) {
            Some(format!("started {when}, a public holiday ({name})"))
        } else if !hours.ranges.iter().any(|r| time >= r.start && time < r.end) {
            let allowed: Vec<String> = hours
                .ranges
                .iter()
                .map(|r| format!("{}-{}", r.start.format("%H:%M"), r.end.format("%H:%M")))
                .collect();
            Some(format!(
                "started {when}, outside the allowed hours {}",
                allowed.join(", ")
            ))
        } else {
            None
        };
        match problem {
            Some(p) => self.finding(rule, Outcome::OutsideHours, FindingStatus::Fail, None, p),
            None => self.finding(
                rule,
                Outcome::Met,
                FindingStatus::Pass,
                None,
                format!("started {when}"),
            ),
        }
    }
}

/// How much of the seller's script the agent's words in `transcript` carry: the number of
/// required rules to be said by the agent that are found, surely, among the agent's words. On a
/// mono recording the service tries each voice as the agent and keeps the one that scores best.
pub fn script_score(book: &RuleBook, transcript: &Transcript) -> usize {
    let streams = streams(transcript, &book.language);
    let agent: Vec<&Stream<'_>> = streams
        .iter()
        .filter(|s| s.speaker == Speaker::Agent)
        .collect();
    book.rules
        .iter()
        .filter(|r| r.kind == RuleKind::Required && r.speaker == Some(Speaker::Agent))
        .filter(|r| !find(&r.patterns, &agent, book.review_below).is_empty())
        .count()
}

/// Checks one call against a rule set. `ruleset` says which stored version `book` is.
pub fn verify(
    book: &RuleBook,
    ruleset: &RuleSetRef,
    transcript: &Transcript,
    facts: &CallFacts<'_>,
) -> Verification {
    let streams = streams(transcript, &book.language);
    let mono = streams.iter().all(|s| s.speaker == Speaker::Unknown) && !streams.is_empty();
    let mut ev = Eval {
        book,
        streams,
        met_at: HashMap::new(),
        mono,
    };
    let mut findings = Vec::with_capacity(book.rules.len());
    for rule in &book.rules {
        let f = match rule.kind {
            RuleKind::Required => ev.required(rule),
            RuleKind::Forbidden => ev.forbidden(rule),
            RuleKind::Consent => ev.consent(rule),
            RuleKind::CallingHours => match &rule.hours {
                Some(h) => ev.calling_hours(rule, h, facts.metadata),
                None => ev.finding(
                    rule,
                    Outcome::NotCheckable,
                    FindingStatus::Review,
                    None,
                    "no hours".into(),
                ),
            },
            RuleKind::MinDuration => {
                let min = rule.min_ms.unwrap_or(0);
                match facts.duration_ms {
                    None => ev.finding(
                        rule,
                        Outcome::NotCheckable,
                        FindingStatus::Review,
                        None,
                        "the recording's duration is unknown".into(),
                    ),
                    Some(d) if d < min => ev.finding(
                        rule,
                        Outcome::TooShort,
                        FindingStatus::Fail,
                        None,
                        format!("the call lasts {} s, less than {} s", d / 1000, min / 1000),
                    ),
                    Some(d) => ev.finding(
                        rule,
                        Outcome::Met,
                        FindingStatus::Pass,
                        None,
                        format!("the call lasts {} s", d / 1000),
                    ),
                }
            }
        };
        if f.outcome == Outcome::Met {
            if let (Some(s), Some(e)) = (f.start_ms, f.end_ms) {
                ev.met_at.insert(rule.id.clone(), (s, e));
            }
        }
        findings.push(f);
    }
    Verification {
        call_id: facts.call_id,
        ruleset: ruleset.clone(),
        verdict: Verdict::of(&findings),
        findings,
        verified_at: Utc::now(),
    }
}

#[cfg(test)]
mod tests;
