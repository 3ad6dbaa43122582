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
pub mod lexicon;
pub mod matcher;
pub mod meaning;
pub mod readings;
mod reply;
pub mod ruleset;
pub mod text;

use std::collections::HashMap;

use callproof_models::syllables;
use callproof_models::{
    Attribution, AttributionSource, CallId, CallMetadata, Finding, FindingStatus, Hearing,
    NearReading, Outcome, RuleKind, RuleSetRef, Segment, Speaker, Transcript, Verdict,
    Verification, Word,
};
use chrono::{Datelike, Utc};

pub use lexicon::Lexicon;
use matcher::Pattern;
pub use readings::{
    apply_clearing, apply_reading, hears_it_all, number_baseline, number_places, number_reading,
    number_readings, own_reading, phrasings_heard, script_readings, substitute, substitute_at,
    NumberPlace, NumberText, ScriptReading, NUMBER_SLOT, REST_SLOT,
};
use reply::Reply;
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
    /// The recogniser's probability for the word.
    prob: f32,
    /// It comes from the second listen.
    second: bool,
    /// What the recogniser first heard in its segment, where a script reading replaced it.
    first: Option<&'a str>,
}

/// Everything one party said, as normalised tokens pointing back to timed words.
struct Stream<'a> {
    speaker: Speaker,
    words: Vec<WordAt<'a>>,
    toks: Vec<Tok>,
}

impl<'a> Stream<'a> {
    /// Up to `reach` words right before word `i`, in its clause: none of them closes a clause
    /// ([`CLAUSE_ENDS`]) and no pause of more than [`MAX_PAUSE_IN_MATCH_MS`] stands between
    /// them and word `i`.
    fn clause_before(&self, i: usize, reach: usize) -> &[WordAt<'a>] {
        let mut from = i.min(self.words.len());
        while from > 0 && i - from < reach {
            let w = &self.words[from - 1];
            if w.text.trim().ends_with(CLAUSE_ENDS)
                || w.end_ms + MAX_PAUSE_IN_MATCH_MS < self.words[from].start_ms
            {
                break;
            }
            from -= 1;
        }
        &self.words[from..i.min(self.words.len())]
    }

    /// Up to `reach` words right after word `i`, in its clause: none where word `i` closes
    /// one; the last may close it; none past a pause of more than [`MAX_PAUSE_IN_MATCH_MS`].
    fn clause_after(&self, i: usize, reach: usize) -> &[WordAt<'a>] {
        let start = (i + 1).min(self.words.len());
        if self
            .words
            .get(i)
            .is_none_or(|w| w.text.trim().ends_with(CLAUSE_ENDS))
        {
            return &self.words[start..start];
        }
        let mut to = start;
        while to < self.words.len() && to - start < reach {
            let w = &self.words[to];
            if self.words[to - 1].end_ms + MAX_PAUSE_IN_MATCH_MS < w.start_ms {
                break;
            }
            to += 1;
            if w.text.trim().ends_with(CLAUSE_ENDS) {
                break;
            }
        }
        &self.words[start..to]
    }
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
    /// Mean recogniser probability of its words.
    confidence: f32,
    /// Its words heard under [`Segment::DOUBTFUL_WORD_BELOW`], and whether one was under
    /// [`BARELY_HEARD`].
    doubtful_words: usize,
    barely_heard: bool,
    /// Its words come from the second listen.
    second: bool,
    /// Its words were put in place by a script reading the recording supports; what was
    /// first heard there.
    first: Option<String>,
    /// Said as a question or a condition ("and what if I change my mind?", "et si je change
    /// d'avis ?"): not a statement of the customer's will.
    hypothetical: bool,
    /// Share of the phrasing's weight not heard at all ([`matcher::Hit::lost`]), and whether
    /// some of it was lost before its first word heard or after its last.
    lost: f32,
    lost_before: bool,
    lost_after: bool,
    /// Its first and last word in its speaker's stream.
    words: (usize, usize),
    /// A number among its words heard with doubt (under [`Segment::DOUBTFUL_WORD_BELOW`]), with
    /// its probability: the item was said, the amount or period not surely as written ("2
    /// euros" read where "soixante-deux euros" was said, the "2" at 0.03).
    doubtful_number: Option<(String, f32)>,
}

impl<'a> WordAt<'a> {
    /// Word `w` of segment `seg`, as heard.
    fn of(seg: &'a Segment, w: &'a Word) -> Self {
        WordAt {
            text: &w.text,
            start_ms: w.start_ms,
            end_ms: w.end_ms,
            who: seg.attribution,
            prob: w.probability,
            second: seg.second_listen,
            first: seg.heard_first.as_deref(),
        }
    }
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
                    prob: seg.confidence(),
                    second: seg.second_listen,
                    first: seg.heard_first.as_deref(),
                });
            }
            words.extend(seg.words.iter().map(|w| WordAt::of(seg, w)));
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

/// Whether words `first..=last` of a stream are said as a question or a condition ("and what
/// if I change my mind?", "et si je change d'avis ?"): the sentence they end in ends with "?",
/// or "if", "si", "s'il" or "whether" comes up to three words before them. Not a statement of
/// the speaker's will.
fn hypothetical(words: &[WordAt<'_>], first: usize, last: usize) -> bool {
    let conditional = words[first.saturating_sub(3)..first]
        .iter()
        .any(|w| matches!(bare(w.text).as_str(), "if" | "si" | "s'il" | "whether"));
    let question = words[last..]
        .iter()
        .map(|w| w.text.trim())
        .find(|w| w.ends_with(SENTENCE_ENDS))
        .is_some_and(|w| w.ends_with('?'));
    conditional || question
}

/// Longest silence between two words of one match.
const MAX_PAUSE_IN_MATCH_MS: u64 = 2_000;

fn find(patterns: &[Pattern], streams: &[&Stream<'_>], floor: f32) -> Vec<Cand> {
    find_with(patterns, streams, floor, false)
}

/// [`find`], where a phrasing's numbers may differ from those heard (see
/// [`Pattern::find_with`]): the places a recording is read again, never a verdict's evidence.
fn find_with(
    patterns: &[Pattern],
    streams: &[&Stream<'_>],
    floor: f32,
    numbers_may_differ: bool,
) -> Vec<Cand> {
    let mut out = Vec::new();
    for s in streams {
        for p in patterns {
            for h in p.find_with(&s.toks, floor, numbers_may_differ) {
                let first = s.toks[h.start].first_word;
                let last = s.toks[h.end - 1].last_word;
                let words = &s.words[first..=last];
                // Words on either side of a long pause belong to different sentences: "c'est"
                // at the end of one turn and "d'accord" nine seconds later are no assent.
                if words
                    .windows(2)
                    .any(|w| w[1].start_ms > w[0].end_ms + MAX_PAUSE_IN_MATCH_MS)
                {
                    continue;
                }
                out.push(Cand {
                    lost: h.lost,
                    lost_before: h.lost_before,
                    lost_after: h.lost_after,
                    ..cand_at(s, (first, last), h.score, &p.source)
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

/// Where a forbidden rule's meanings ([`Rule::means`]) were said: each a candidate matched in
/// full (score 1), or with one word heard only close to its group's (`near_score`), its phrase
/// the groups' words ("price … goes up … tomorrow"), in clauses that end at a punctuation mark
/// or a pause of [`MAX_PAUSE_IN_MATCH_MS`]. With `lost`, also where one group was lost in a
/// word heard with doubt ([`meaning::Meaning::find_or_near`]), at `near_score` too.
fn find_meanings(rule: &Rule, streams: &[&Stream<'_>], near_score: f32, lost: bool) -> Vec<Cand> {
    let mut out = Vec::new();
    if rule.means.is_empty() {
        return out;
    }
    for s in streams {
        // Each word's clause and sentence, then each token's (those of the word it starts in).
        let mut clause_of_word = Vec::with_capacity(s.words.len());
        let mut sentence_of_word = Vec::with_capacity(s.words.len());
        let (mut clause, mut sentence) = (0, 0);
        for (i, w) in s.words.iter().enumerate() {
            if i > 0 && s.words[i - 1].end_ms + MAX_PAUSE_IN_MATCH_MS < w.start_ms {
                clause += 1;
                sentence += 1;
            }
            clause_of_word.push(clause);
            sentence_of_word.push(sentence);
            let text = w.text.trim();
            if text.ends_with(CLAUSE_ENDS) {
                clause += 1;
            }
            if text.ends_with(SENTENCE_ENDS) {
                sentence += 1;
            }
        }
        let clauses: Vec<usize> = s
            .toks
            .iter()
            .map(|t| clause_of_word[t.first_word])
            .collect();
        let sentences: Vec<usize> = s
            .toks
            .iter()
            .map(|t| sentence_of_word[t.first_word])
            .collect();
        // Each token's least word probability, where a group may be lost in one (only then).
        let heard: Vec<f32> = if lost {
            s.toks
                .iter()
                .map(|t| {
                    s.words[t.first_word..=t.last_word.max(t.first_word)]
                        .iter()
                        .map(|w| w.prob)
                        .fold(1.0, f32::min)
                })
                .collect()
        } else {
            Vec::new()
        };
        let heard = lost.then_some(heard.as_slice());
        for m in &rule.means {
            for h in m.find_or_near(&s.toks, &clauses, &sentences, heard) {
                // Said with one word heard only close to its group's: never sure, a person
                // hears it.
                let score = if h.near.is_some() { near_score } else { 1.0 };
                let first = s.toks[h.start].first_word;
                let last = s.toks[h.end - 1].last_word;
                out.push(cand_at(s, (first, last), score, &h.heard.join(" … ")));
            }
        }
    }
    out.sort_by_key(|c| c.start_ms);
    out
}

/// The candidate of words `first..=last` of stream `s` for `phrase`, matched with `score`,
/// nothing of it lost.
fn cand_at(s: &Stream<'_>, (first, last): (usize, usize), score: f32, phrase: &str) -> Cand {
    let words = &s.words[first..=last];
    Cand {
        hypothetical: hypothetical(&s.words, first, last),
        lost: 0.0,
        lost_before: false,
        lost_after: false,
        words: (first, last),
        speaker: s.speaker,
        start_ms: words.first().map_or(0, |w| w.start_ms),
        end_ms: words.last().map_or(0, |w| w.end_ms),
        score,
        matched: words
            .iter()
            .map(|w| w.text.trim())
            .collect::<Vec<_>>()
            .join(" "),
        phrase: phrase.to_string(),
        who: words
            .iter()
            .map(|w| w.who)
            .min_by(|a, b| a.confidence.total_cmp(&b.confidence))
            .unwrap_or_default(),
        confidence: words.iter().map(|w| w.prob).sum::<f32>() / words.len().max(1) as f32,
        doubtful_words: words
            .iter()
            .filter(|w| w.prob < Segment::DOUBTFUL_WORD_BELOW)
            .count(),
        barely_heard: words.iter().any(|w| w.prob < BARELY_HEARD),
        second: words.iter().any(|w| w.second),
        first: words.iter().find_map(|w| w.first).map(str::to_string),
        doubtful_number: words
            .iter()
            .find(|w| is_number_word(w.text) && w.prob < Segment::DOUBTFUL_WORD_BELOW)
            .map(|w| {
                let n = w.text.trim_matches(|c: char| !c.is_alphanumeric());
                (n.to_string(), w.prob)
            }),
    }
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
    /// [`Eval::forbidden_said`], found once a call.
    forbidden: std::cell::OnceCell<Vec<Cand>>,
    /// [`Eval::forbidden_close`], found once a call.
    forbidden_close: std::cell::OnceCell<Vec<Cand>>,
    /// [`Eval::stated_numbers`], found once a call.
    stated_numbers: std::cell::OnceCell<Vec<StatedNumber>>,
}

/// A number a required item was surely stated with: the rule, its speaker, and the number's
/// first and last word in that speaker's stream.
struct StatedNumber {
    rule: String,
    speaker: Speaker,
    words: (usize, usize),
}

impl Eval<'_> {
    /// The stream a candidate was found in: its speaker's.
    fn stream_of(&self, c: &Cand) -> Option<&Stream<'_>> {
        self.streams.iter().find(|s| s.speaker == c.speaker)
    }

    fn sure(&self, c: &Cand) -> bool {
        c.score >= self.book.review_below
    }

    /// The rule speaker's first answer from `from_ms` on that opens as agreement ("Oui",
    /// "Yes", "C'est très bien, je gamin": an [`AFFIRMATIVE`] within its first words), as a
    /// candidate: the agreement word's time, the turn's words for up to [`ANSWER_MS`] as what
    /// was said.
    fn opening_yes(&self, rule: &Rule, from_ms: u64) -> Option<Cand> {
        self.opening_yes_where(rule, from_ms, |_| true)
    }

    /// [`Self::opening_yes`], of the answers `keep` keeps.
    fn opening_yes_where(
        &self,
        rule: &Rule,
        from_ms: u64,
        keep: impl Fn(&Cand) -> bool,
    ) -> Option<Cand> {
        self.streams
            .iter()
            .filter(|s| self.speaker_ok(rule, s.speaker))
            .flat_map(|s| s.words.iter().enumerate().map(move |(i, w)| (s, i, w)))
            .filter(|(s, i, w)| {
                let opening = *i - turn_start(&s.words, *i) <= OPENING_WORDS;
                opening && w.start_ms >= from_ms && agreement_at(&s.words, *i).is_some()
            })
            .map(|(s, i, _)| answer(s, i, i))
            .find(|c| keep(c))
    }

    /// What the agent answered from `from_ms`, where they answered a refusal with a yes (or
    /// words heard with doubt) and went on ([`reply::carries_on`]): a sale may have been
    /// recorded in words no rule set holds.
    fn carried_on_after(&self, rule: &Rule, from_ms: u64) -> Option<String> {
        let (words, range) = self.agent_after(rule, from_ms)?;
        reply::carries_on(words, range).then(|| {
            words[range.0..range.1]
                .iter()
                .map(|w| w.text.trim())
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    /// The agent recording the customer's agreement ([`Rule::agent_says`], or the customer's
    /// own phrasings in the agent's mouth), matched at `floor` or better: a claim said as a
    /// statement ("Vous acceptez l'offre ?" asks), whose sentence does not say no ("I will put
    /// you down as not interested" records no agreement).
    fn claims(&self, rule: &Rule, floor: f32) -> Vec<Cand> {
        let agent: Vec<&Stream<'_>> = self
            .streams
            .iter()
            .filter(|s| s.speaker == Speaker::Agent)
            .collect();
        let mut agent_phrases = rule.agent_says.clone();
        agent_phrases.extend(rule.patterns.iter().cloned());
        find(&agent_phrases, &agent, floor)
            .into_iter()
            .filter(|c| !c.hypothetical && !self.says_no_in_sentence(c) && !self.in_time_clause(c))
            .filter(|c| !self.agrees_to_something_else(rule, c) && !self.opens_a_fact(c))
            .collect()
    }

    /// Whether the words of claim `c` open a clause of what the agent states ("Je vous
    /// confirme que vous avez quatorze jours pour changer d'avis", "I accept that it's a lot
    /// of money"): what they confirm or grant is that clause, not the customer's agreement.
    /// The customer's "oui, je confirme" matched "Je vous confirme" at 0.75 there, and made
    /// a disclosure repeated to a hesitant customer a sale stated by the agent alone.
    fn opens_a_fact(&self, c: &Cand) -> bool {
        self.streams
            .iter()
            .find(|s| s.speaker == c.speaker)
            .and_then(|s| s.words.get(c.words.1 + 1))
            .is_some_and(|w| {
                let next = bare(w.text).replace('’', "'");
                next == "que" || next.starts_with("qu'") || next == "that"
            })
    }

    /// Whether the agent's words from claim `c` to the customer's next words agree to something
    /// else than a sale ([`reply::about_something_else`]): "C'est d'accord, je vous rappelle
    /// lundi" after "Rappelez-moi la semaine prochaine" agrees to the call back the customer
    /// asked for, and was the violation of an agent who recorded a sale; or agree with the
    /// customer ("je suis d'accord avec vous").
    fn agrees_to_something_else(&self, rule: &Rule, c: &Cand) -> bool {
        // "Je suis d'accord avec vous, c'est cher", "I agree with you": the agent agrees with
        // what the customer said, not to a sale.
        let with_you = self
            .streams
            .iter()
            .find(|s| s.speaker == c.speaker)
            .is_some_and(|s| {
                let next: Vec<String> = s.words[c.words.1 + 1..]
                    .iter()
                    .take(2)
                    .map(|w| bare(w.text))
                    .collect();
                matches!(
                    next.iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .as_slice(),
                    ["avec", "vous" | "toi", ..] | ["with", "you", ..]
                )
            });
        with_you
            || self
                .agent_after(rule, c.start_ms)
                .is_some_and(|(words, (from, to))| reply::about_something_else(&words[from..to]))
    }

    /// The agent recording a sale in their own words after `from_ms`, before the rule speaker
    /// speaks again ([`reply::records_sale`]: "Très bien, je valide votre commande", "Lovely,
    /// I've registered your order"), as a candidate: from the sentence's first word to the
    /// verb, the sentence as what was said. None on a mono recording, where nobody can tell
    /// whose words they are.
    fn recorded_after(&self, rule: &Rule, from_ms: u64) -> Option<Cand> {
        if self.mono {
            return None;
        }
        let (words, range) = self.agent_after(rule, from_ms)?;
        let (first, verb) = reply::records_sale(words, range)?;
        let s = self.streams.iter().find(|s| s.speaker == Speaker::Agent)?;
        let mut c = answer(s, first, verb);
        let end = (verb..range.1)
            .find(|&i| words[i].text.trim().ends_with(SENTENCE_ENDS))
            .unwrap_or(range.1 - 1);
        c.matched = words[first..=end]
            .iter()
            .map(|w| w.text.trim())
            .collect::<Vec<_>>()
            .join(" ");
        c.confidence = words[first..=verb]
            .iter()
            .map(|w| w.prob)
            .fold(1.0, f32::min);
        Some(c)
    }

    /// A claim of agreement the agent may have made after `from_ms` that was heard only close
    /// to a phrasing, with a word of it in doubt ("Je n'en peux votre accord", "peux" at 0.28,
    /// for "Je note votre accord"): after a refusal, no sale is proved until a person has
    /// listened, and neither is the agent's violation.
    fn claim_in_doubt(&self, rule: &Rule, from_ms: u64) -> Option<Cand> {
        self.claims(rule, self.book.absent_below)
            .into_iter()
            .filter(|c| c.start_ms >= from_ms && c.doubtful_words > 0)
            .min_by_key(|c| c.start_ms)
    }

    /// The detail of a refusal whose agent then said `c` ([`Self::claim_in_doubt`]).
    fn then_claimed_in_doubt(c: &Cand) -> String {
        format!(
            "but the agent then said \"{}\" at {}, close to \"{}\" with words heard with doubt: listen to whether a sale was recorded",
            c.matched,
            clock(c.start_ms),
            c.phrase
        )
    }

    /// The agent's words from `from_ms` until the rule speaker speaks again, as the agent's
    /// stream and the range of them.
    fn agent_after(&self, rule: &Rule, from_ms: u64) -> Option<(&[WordAt<'_>], (usize, usize))> {
        let agent = self.agent_words();
        let next = self
            .streams
            .iter()
            .filter(|s| self.speaker_ok(rule, s.speaker))
            .flat_map(|s| &s.words)
            .map(|w| w.start_ms)
            .filter(|&t| t > from_ms)
            .min()
            .unwrap_or(u64::MAX);
        let from = agent.iter().position(|w| w.start_ms >= from_ms)?;
        let to = agent[from..]
            .iter()
            .position(|w| w.start_ms >= next)
            .map_or(agent.len(), |k| from + k);
        (from < to).then_some((agent, (from, to)))
    }

    /// The rule speaker's replies that go on past `from_ms` and say something (not only "Au
    /// revoir"), each read by its shape ([`reply::read`]), in order, as candidates: the
    /// reply's first and last words, all its words as what was said, the probability of its
    /// least sure word that says something. Where nothing the answer depends on was found
    /// (`from_ms` 0), only the last one: a "Oui" early in the call answers something else.
    /// None on a mono recording, where the agent's "D'accord, je vous envoie ça" would read as
    /// the customer's.
    ///
    /// A reply answers the agent when the agent asked a question, and also when it is the
    /// customer's last word once the offer is complete (`from_ms` past its last item) and does
    /// not take leave: "Yes, alright." to "…with a fourteen day cancellation period." is the
    /// answer to the offer, where a "D'accord" said to each disclosure before it answers only
    /// that disclosure, and "Entendu, au revoir" closes the call. Not where the agent offered
    /// time or a later call since the offer ("je vous laisse réfléchir, je vous rappelle
    /// demain"): a "D'accord" then agrees to that.
    fn replies(&self, rule: &Rule, from_ms: u64) -> Vec<(Reply, Cand)> {
        if self.mono {
            return Vec::new();
        }
        let agent = self.agent_words();
        let mut said: Vec<(&Stream<'_>, usize, usize)> = self
            .streams
            .iter()
            .filter(|s| self.speaker_ok(rule, s.speaker))
            .flat_map(|s| {
                reply::replies(&s.words, agent)
                    .into_iter()
                    .filter(|&(from, to)| {
                        // A reply said over the offer's last words ("I'd rather think it over"
                        // begun before "…cancellation period" ended) answers it too.
                        s.words[to - 1].end_ms > from_ms
                            && reply::says_something(&s.words, (from, to))
                    })
                    .map(move |(from, to)| (s, from, to))
            })
            .collect();
        said.sort_by_key(|(s, from, _)| s.words[*from].start_ms);
        let last = said.len().checked_sub(1);
        let mut out: Vec<(Reply, Cand)> = Vec::new();
        for (k, &(s, from, to)) in said.iter().enumerate() {
            let words = &s.words[from..to];
            let since_offer = agent
                .iter()
                .filter(|a| a.start_ms >= from_ms && a.start_ms < words[0].start_ms);
            let last_word_on_the_offer = from_ms > 0
                && Some(k) == last
                && !reply::takes_leave(&s.words, (from, to))
                && !reply::offers_time(since_offer);
            let asked = reply::asked(agent, words[0].start_ms) || last_word_on_the_offer;
            let kind = reply::read(&s.words, (from, to), asked);
            let mut c = answer(s, from, to - 1);
            c.matched = words
                .iter()
                .map(|w| w.text.trim())
                .collect::<Vec<_>>()
                .join(" ");
            // Its least sure word that says something: "au" of "au revoir" heard at 0.19
            // does not make a refusal doubtful ([`reply::read`]).
            c.confidence = words
                .iter()
                .filter(|w| !reply::says_nothing(w.text))
                .map(|w| w.prob)
                .fold(1.0, f32::min);
            out.push((kind, c));
        }
        out.sort_by_key(|(_, c)| c.start_ms);
        if from_ms == 0 {
            out.drain(..out.len().saturating_sub(1));
        }
        out
    }

    /// A finding for a person on the rule speaker's answer `c` ([`Self::opening_yes`],
    /// [`Self::saying_no`]), not on a phrasing: what was not found, how they answered, and
    /// what to listen for.
    fn on_answer(
        &self,
        rule: &Rule,
        outcome: Outcome,
        c: &Cand,
        [not_found, answered, listen]: [&str; 3],
    ) -> Finding {
        let detail = format!(
            "{not_found}, but the {} {answered} \"{}\" at {}: {listen}",
            c.speaker,
            c.matched,
            clock(c.start_ms)
        );
        self.on_reply(rule, outcome, FindingStatus::Review, c, detail)
    }

    /// A finding on the rule speaker's reply `c` itself, not on a phrasing: no phrasing and
    /// no match score.
    fn on_reply(
        &self,
        rule: &Rule,
        outcome: Outcome,
        status: FindingStatus,
        c: &Cand,
        detail: String,
    ) -> Finding {
        let mut f = self.finding(rule, outcome, status, Some(c), detail);
        f.score = None;
        f.phrase = None;
        f
    }

    /// The agent's words, in order (none where no voice was told as the agent's).
    fn agent_words(&self) -> &[WordAt<'_>] {
        self.streams
            .iter()
            .find(|s| s.speaker == Speaker::Agent)
            .map_or(&[], |s| &s.words)
    }

    /// The rule speaker's first statement from `from_ms` on that says no ([`negative`]: "non",
    /// "pas", "not", "don't"), the word heard clearly, and not in a question or a condition
    /// ("Et si je ne suis pas satisfait ?"), as a candidate: the word's time, its turn's words
    /// for up to [`ANSWER_MS`] as what was said. Where nothing the answer depends on was
    /// found (`from_ms` 0), only the speaker's last turn counts: a "no" early in the call
    /// ("je ne savais pas") answers something else.
    fn saying_no(&self, rule: &Rule, from_ms: u64) -> Option<Cand> {
        let (s, i, _) = self
            .streams
            .iter()
            .filter(|s| self.speaker_ok(rule, s.speaker))
            .flat_map(|s| {
                let last_turn = s
                    .words
                    .len()
                    .checked_sub(1)
                    .map_or(0, |l| turn_start(&s.words, l));
                s.words
                    .iter()
                    .enumerate()
                    .filter(move |(i, _)| from_ms > 0 || *i >= last_turn)
                    .map(move |(i, w)| (s, i, w))
            })
            .find(|(s, i, w)| {
                w.start_ms >= from_ms
                    && w.prob >= Segment::DOUBTFUL_WORD_BELOW
                    && says_no_at(&s.words, *i)
                    && !hypothetical(&s.words, *i, *i)
            })?;
        Some(answer(s, turn_start(&s.words, i), i))
    }

    /// Whether candidate `c` is said in a clause of time ("you have fourteen days to cancel
    /// after you sign up", "quand vous aurez accepté"): up to three words before it, a word
    /// that opens one ([`TIME_CLAUSE`]). What happens after an agreement is no record of one.
    fn in_time_clause(&self, c: &Cand) -> bool {
        let Some(s) = self.stream_of(c) else {
            return false;
        };
        s.words
            .get(c.words.0.saturating_sub(3)..c.words.0)
            .unwrap_or_default()
            .iter()
            .any(|w| TIME_CLAUSE.contains(&bare(w.text).as_str()))
    }

    /// Whether the sentence a match is part of says no ([`negative`]) from the match's first
    /// word to the sentence's end: "I will put you down [as not interested]".
    fn says_no_in_sentence(&self, c: &Cand) -> bool {
        let Some(s) = self.stream_of(c) else {
            return false;
        };
        for (i, w) in s.words.iter().enumerate().skip(c.words.0) {
            if says_no_at(&s.words, i) {
                return true;
            }
            if w.text.trim().ends_with(SENTENCE_ENDS) {
                break;
            }
        }
        false
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
            hearing: c.map(|c| Hearing {
                confidence: round2(c.confidence),
                doubtful: None,
                stretches: Vec::new(),
                searched: None,
                second_listen: c.second,
                script_check: c.first.is_some(),
            }),
        }
    }

    fn said(c: &Cand) -> String {
        let mut s = format!(
            "{} said \"{}\" at {} (score {:.2})",
            c.speaker,
            c.matched,
            clock(c.start_ms),
            c.score
        );
        if let Some(first) = &c.first {
            s.push_str(&format!(
                " (first heard as \"{first}\"; the recording fits the script's words as well)"
            ));
        }
        if let Some((n, p)) = &c.doubtful_number {
            s.push_str(&format!(
                "; the number \"{n}\" was heard with doubt (probability {p:.2}): listen to it before quoting it"
            ));
        }
        s
    }

    /// What the agent said where they recorded a sale in their own words
    /// ([`Self::recorded_after`]).
    fn recorded(c: &Cand) -> String {
        format!(
            "{} said \"{}\" at {} (a sale recorded in the agent's own words, no phrasing of the rule set; heard with confidence)",
            c.speaker,
            c.matched,
            clock(c.start_ms)
        )
    }

    /// Why a match cannot stand as heard, if it cannot: its words were heard with doubt (two
    /// under [`Segment::DOUBTFUL_WORD_BELOW`] or one under [`BARELY_HEARD`], as [`doubt`]
    /// counts them), or they span less than half the time their syllables take at the fastest
    /// pace anyone speaks. Words a script reading put in place are the recording's own (the
    /// model scored them there).
    fn unheard(c: &Cand) -> Option<String> {
        if c.first.is_some() {
            return None;
        }
        let needs = syllables(&c.matched) * FASTEST_SYLLABLE_MS / 2;
        let took = c.end_ms.saturating_sub(c.start_ms);
        if took < needs {
            return Some(format!(
                "\"{}\" was written into {took} ms, less than anyone takes to say it",
                c.matched
            ));
        }
        if c.doubtful_words >= 2 || c.barely_heard {
            return Some(format!(
                "\"{}\" was not recognised with confidence ({:.2})",
                c.matched, c.confidence
            ));
        }
        None
    }

    /// Whether the answer holding `c` opens, at most two words before it, with an agreement
    /// ("yes", "très bien") heard with confidence: "Yes, I've agreed the switch" with "agreed"
    /// barely heard still says yes; the doubtful words only say to what.
    fn opens_with_yes(&self, c: &Cand) -> bool {
        let Some(s) = self.stream_of(c) else {
            return false;
        };
        let Some(first) = s.words.iter().position(|w| w.start_ms == c.start_ms) else {
            return false;
        };
        let start = turn_start(&s.words, first);
        if first - start > OPENING_WORDS {
            return false;
        }
        agreement_at(&s.words, start).is_some_and(|n| {
            (n == 1 || start < first)
                && s.words[start..start + n]
                    .iter()
                    .all(|w| w.prob >= Segment::DOUBTFUL_WORD_BELOW)
        })
    }

    /// What the rule set forbids, heard surely enough to be a finding, said by anyone in the
    /// call (not as a question or a condition).
    fn forbidden_said(&self) -> &[Cand] {
        self.forbidden.get_or_init(|| {
            self.forbidden_close()
                .iter()
                .filter(|c| self.sure(c))
                .cloned()
                .collect()
        })
    }

    /// What the rule set forbids, matched down to `absent_below`, said by anyone in the call
    /// (not as a question or a condition): heard close to a phrasing, it is no finding, but
    /// the words under it may deny a disclosure ([`Self::denied_nearby`]).
    fn forbidden_close(&self) -> &[Cand] {
        self.forbidden_close.get_or_init(|| {
            let all: Vec<&Stream<'_>> = self.streams.iter().collect();
            self.book
                .rules
                .iter()
                .filter(|r| r.kind == RuleKind::Forbidden)
                .flat_map(|r| {
                    let mut found = find(&r.patterns, &all, self.book.absent_below);
                    found.extend(self.meanings(r, &all, false));
                    found
                })
                .filter(|c| !c.hypothetical && self.not_the_statement(c).is_none())
                .collect()
        })
    }

    /// Why a required item's match `c` may deny the item rather than state it, if it may: the
    /// word right before it, in the same sentence, says no ([`DENIES`]: "pas à signer", "rien
    /// à signer", "nothing to sign", "sans signature"), or a forbidden statement was heard
    /// close to a phrasing over it (down to `absent_below`, where a sure one takes the match
    /// away altogether).
    fn denied_nearby(&self, c: &Cand, others: &[Cand]) -> Option<String> {
        let s = self.stream_of(c)?;
        // A "no" the phrasing holds itself ("tant que vous n'avez pas signé", matched on
        // "signé" alone) is its own; an amount or a period is stated, not denied ("et pas 19
        // euros" was "est à dix-neuf euros" misheard).
        let phrasing = text::normalise(&c.phrase, &self.book.language);
        let states_a_number = self.states_a_number(c);
        if let Some(before) = c.words.0.checked_sub(1).map(|i| &s.words[i]) {
            let same_sentence = !before.text.trim().ends_with(SENTENCE_ENDS);
            // Or another phrasing of the item, matched over the "no" too ("tant que vous
            // n'avez pas signé" where "à signer" took "signé" alone).
            let before_toks = text::normalise(before.text, &self.book.language);
            let own = before_toks.iter().any(|t| phrasing.contains(t))
                || others.iter().any(|o| {
                    o.speaker == c.speaker
                        && o.start_ms <= before.start_ms
                        && before.end_ms <= o.end_ms
                        && text::normalise(&o.phrase, &self.book.language)
                            .iter()
                            .any(|t| before_toks.contains(t))
                });
            if same_sentence && denies(before.text) && !own && !states_a_number {
                return Some(format!(
                    "\"{}\" is said right before it",
                    before.text.trim()
                ));
            }
        }
        self.forbidden_close()
            .iter()
            .find(|f| f.speaker == c.speaker && f.start_ms < c.end_ms && c.start_ms < f.end_ms)
            .map(|f| {
                format!(
                    "its words are close to the forbidden \"{}\" (\"{}\", score {:.2})",
                    f.phrase, f.matched, f.score
                )
            })
    }

    /// Whether `c`'s phrasing states an amount or a period: it has a number.
    fn states_a_number(&self, c: &Cand) -> bool {
        c.phrase.contains(NUMBER_SLOT)
            || text::normalise(&c.phrase, &self.book.language)
                .iter()
                .any(|t| is_number_token(t))
    }

    /// The numbers of `c`'s words (first and last word of each), where `c` states one (its
    /// phrasing has a number).
    fn numbers_of(&self, c: &Cand) -> Vec<(usize, usize)> {
        let Some(s) = self.stream_of(c).filter(|_| self.states_a_number(c)) else {
            return Vec::new();
        };
        s.toks
            .iter()
            .filter(|t| is_number_token(&t.norm))
            .filter(|t| t.first_word >= c.words.0 && t.last_word <= c.words.1)
            .map(|t| (t.first_word, t.last_word))
            .collect()
    }

    /// Every number a required item was surely stated with ("fourteen" of "a fourteen day
    /// cancellation period"), found once a call.
    fn stated_numbers(&self) -> &[StatedNumber] {
        self.stated_numbers.get_or_init(|| {
            let all: Vec<&Stream<'_>> = self.streams.iter().collect();
            self.book
                .rules
                .iter()
                .filter(|r| r.kind == RuleKind::Required)
                .flat_map(|r| {
                    find(&r.patterns, &all, self.book.review_below)
                        .into_iter()
                        .filter(|c| self.sure(c) && self.speaker_ok(r, c.speaker))
                        .flat_map(move |c| {
                            self.numbers_of(&c)
                                .into_iter()
                                .map(move |words| StatedNumber {
                                    rule: r.id.clone(),
                                    speaker: c.speaker,
                                    words,
                                })
                                .collect::<Vec<_>>()
                        })
                })
                .collect()
        })
    }

    /// Whether every number match `c` of `rule` rests on is one another item was surely
    /// stated with: one number is one quantity, and "fourteen" in "comes with a fourteen day
    /// cancellation period" is no price, however close "comes with a fourteen" is to "costs
    /// {number}".
    fn number_of_another(&self, rule: &Rule, c: &Cand) -> bool {
        let numbers = self.numbers_of(c);
        !numbers.is_empty()
            && numbers.iter().all(|n| {
                self.stated_numbers().iter().any(|o| {
                    o.rule != rule.id
                        && o.speaker == c.speaker
                        && o.words.0 <= n.0
                        && n.1 <= o.words.1
                })
            })
    }

    fn required(&self, rule: &Rule) -> Finding {
        use FindingStatus::*;
        let all: Vec<&Stream<'_>> = self.streams.iter().collect();
        // A disclosure's words inside what the rule set forbids are no disclosure: "à signer"
        // in "vous n'avez rien à signer" tells the customer the opposite.
        let forbidden = self.forbidden_said();
        // Its phrasings, then what it means in other words ("le contrat que nous vous
        // enverrons" for a written confirmation). A meaning is words of a kind said together,
        // not the item's wording: it keeps an item from being called missing, and a person
        // confirms it ("vous recevrez la confirmation par téléphone" is none).
        let probably = (self.book.absent_below + self.book.review_below) / 2.0;
        let cands: Vec<Cand> = find(&rule.patterns, &all, self.book.absent_below)
            .into_iter()
            .chain(self.meanings(rule, &all, false).into_iter().map(|mut c| {
                c.score = c.score.min(probably);
                c
            }))
            .filter(|c| {
                !forbidden.iter().any(|f| {
                    f.speaker == c.speaker && f.start_ms < c.end_ms && c.start_ms < f.end_ms
                })
            })
            .collect();
        let valid =
            |c: &&Cand| self.speaker_ok(rule, c.speaker) && self.window_problem(rule, c).is_none();
        // Said right after a "no", or inside words close to a forbidden statement, the item's
        // words may deny it: "vous n'aurez rien à signer" came out "vous n'aurez pas
        // n'assigné", whose "n'assigné" matched "à signer" (0.89) and passed the binding clause
        // of a call that denied it, while the forbidden statement was too garbled to be found.
        let mut denied: Option<(&Cand, String)> = None;
        for c in cands.iter().filter(valid).filter(|c| self.sure(c)) {
            if let Some(why) = self.denied_nearby(c, &cands) {
                denied.get_or_insert((c, why));
                continue;
            }
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
        if let Some((c, why)) = denied {
            return self.finding(
                rule,
                Outcome::Met,
                Review,
                Some(c),
                format!(
                    "{}, but {why}: it may deny the item, listen to confirm",
                    Self::said(c)
                ),
            );
        }
        if let Some(c) = cands
            .iter()
            .filter(valid)
            .find(|c| !self.number_of_another(rule, c))
        {
            return self.finding(
                rule,
                Outcome::Met,
                Review,
                Some(c),
                format!("probably said: {}; listen to confirm", Self::said(c)),
            );
        }
        let sure: Vec<&Cand> = cands.iter().filter(|c| self.sure(c)).collect();
        // The other party asking about the item ("Je vais recevoir un contrat à signer ?")
        // did not say it in the speaker's stead: the item is missing, not said by the wrong
        // party.
        if let Some(c) = sure.iter().find(|c| {
            !self.speaker_ok(rule, c.speaker)
                && !c.hypothetical
                && self.window_problem(rule, c).is_none()
        }) {
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

    /// Where `rule`'s meanings were said ([`find_meanings`]); one read with a word heard only
    /// close to its group's scores between a phrasing absent and one sure, so that it is a
    /// review at most.
    fn meanings(&self, rule: &Rule, streams: &[&Stream<'_>], lost: bool) -> Vec<Cand> {
        let near = (self.book.absent_below + self.book.review_below) / 2.0;
        find_meanings(rule, streams, near, lost)
    }

    fn forbidden(&self, rule: &Rule) -> Finding {
        let all: Vec<&Stream<'_>> = self.streams.iter().collect();
        let mut cands = find(&rule.patterns, &all, self.book.absent_below);
        // Its phrasings first: a statement said word for word is the better evidence.
        cands.extend(
            self.meanings(rule, &all, true)
                .into_iter()
                .filter(|c| !c.hypothetical),
        );
        let (denied, relevant): (Vec<&Cand>, Vec<&Cand>) = cands
            .iter()
            .filter(|c| self.speaker_ok(rule, c.speaker) && self.window_problem(rule, c).is_none())
            .partition(|c| self.not_the_statement(c).is_some());
        let (cut, relevant): (Vec<&Cand>, Vec<&Cand>) =
            relevant.into_iter().partition(|c| self.cut_short(c));
        // Every word of it heard: a phrasing matched with a word lost inside or at an edge
        // may be another statement ("Vous recevrez le contrat définitif par courrier" is
        // "le contrat est définitif" at 0.85 without its "est").
        if let Some(c) = relevant
            .iter()
            .find(|c| self.sure(c) && c.lost <= 0.0 && self.garbled_around(c).is_empty())
        {
            return self.finding(
                rule,
                Outcome::ForbiddenSaid,
                FindingStatus::Fail,
                Some(c),
                format!("forbidden: {}", Self::said(c)),
            );
        }
        if let Some(c) = relevant.iter().find(|c| self.sure(c)) {
            let garbled = self.garbled_around(c);
            let why = if garbled.is_empty() {
                format!("not every word of \"{}\" was heard", c.phrase)
            } else {
                format!(
                    "among words recognised without confidence (\"{}\")",
                    garbled.join("\", \"")
                )
            };
            return self.finding(
                rule,
                Outcome::ForbiddenSaid,
                FindingStatus::Review,
                Some(c),
                format!(
                    "possibly forbidden: {}, {why}: listen to confirm",
                    Self::said(c)
                ),
            );
        }
        let (mut partial, possible): (Vec<&Cand>, Vec<&Cand>) =
            relevant.iter().partition(|c| self.heard_otherwise(c));
        partial.extend(cut);
        if let Some(c) = possible.first() {
            return self.finding(
                rule,
                Outcome::ForbiddenSaid,
                FindingStatus::Review,
                Some(c),
                format!("possibly forbidden: {}; listen to confirm", Self::said(c)),
            );
        }
        let detail = match (partial.first(), denied.first()) {
            (Some(c), _) => format!(
                "not said: \"{}\" at {} is only part of \"{}\", and the words there were heard with confidence",
                c.matched,
                clock(c.start_ms),
                c.phrase
            ),
            (None, Some(c)) => format!(
                "not said: \"{}\" at {} {}",
                c.matched,
                clock(c.start_ms),
                self.not_the_statement(c).unwrap_or_default()
            ),
            (None, None) => "not said".into(),
        };
        self.finding(rule, Outcome::Met, FindingStatus::Pass, None, detail)
    }

    /// Whether a phrasing's match `c` lost words at an edge where the speaker's sentence was
    /// heard to end: its last word, heard with confidence, closes a sentence and the words
    /// lost come after it, or the word before it closes one and the words lost come before.
    /// The speaker stopped there; nothing was lost. "Take all the time you need to decide."
    /// matched "you need to decide now" at 0.83, "now" lost: the word the statement turns on
    /// was never said.
    fn cut_short(&self, c: &Cand) -> bool {
        if c.lost <= 0.0 {
            return false;
        }
        let Some(s) = self.stream_of(c) else {
            return false;
        };
        let (first, last) = c.words;
        let closes = |w: &WordAt<'_>| {
            w.prob >= Segment::DOUBTFUL_WORD_BELOW && w.text.trim().ends_with(SENTENCE_ENDS)
        };
        (c.lost_after && s.words.get(last).is_some_and(closes))
            || (c.lost_before
                && first
                    .checked_sub(1)
                    .and_then(|i| s.words.get(i))
                    .is_some_and(closes))
    }

    /// The words heard with doubt around a forbidden statement's match `c`, within
    /// [`GARBLED_REACH`] words on each side in its clause, where there are two or more: the
    /// statement was heard inside garbled speech, and may itself be misheard however sure its
    /// own words came out ("Ella Stone from Phonepath" heard "the last chance for a phone
    /// path", "last chance" at 0.69 and 0.95 between "the" at 0.38, "a" at 0.15 and "phone"
    /// at 0.43). An accusation needs the words around it heard too. Garbled words of the
    /// clause before say nothing of it ("Vous trac your phone, Sophie, c'est définitif" for
    /// "Votre accord au téléphone suffit, c'est définitif").
    fn garbled_around(&self, c: &Cand) -> Vec<String> {
        let Some(s) = self.stream_of(c) else {
            return Vec::new();
        };
        let (first, last) = c.words;
        let around = s
            .clause_before(first, GARBLED_REACH)
            .iter()
            .chain(s.clause_after(last, GARBLED_REACH));
        let doubtful: Vec<String> = around
            .filter(|w| w.prob < Segment::DOUBTFUL_WORD_BELOW)
            .map(|w| w.text.trim().to_string())
            .collect();
        if doubtful.len() >= 2 {
            doubtful
        } else {
            Vec::new()
        }
    }

    /// Why a forbidden statement's match `c` is not the statement, if it is not: it is said
    /// as its denial ([`Self::said_as_denial`]) or put after the signature
    /// ([`Self::put_after_signing`]).
    fn not_the_statement(&self, c: &Cand) -> Option<String> {
        if let Some(no) = self.said_as_denial(c) {
            return Some(format!("denies \"{}\" (\"{no}\")", c.phrase));
        }
        if let Some(when) = self.put_after_signing(c) {
            return Some(format!(
                "puts \"{}\" after the signature (\"{when}\")",
                c.phrase
            ));
        }
        if let Some(may) = self.offered_as_a_choice(c) {
            return Some(format!("offers \"{}\" as a choice (\"{may}\")", c.phrase));
        }
        self.states_a_term(c)
            .map(|term| format!("states the contract's term (\"{term}\")"))
    }

    /// The word before a forbidden statement's match that offers it as a choice, if any: "you
    /// can decide right now or take a few days" gives leave, it presses nothing
    /// ([`PERMITS`], one of the two words before the match in its clause). Leave is the
    /// customer's: a word said to them ("vous pouvez") or after "you" ("you can"), not the
    /// seller's own ability ("I can only guarantee this price if you say yes today", "je peux").
    fn offered_as_a_choice(&self, c: &Cand) -> Option<String> {
        let s = self.stream_of(c)?;
        let (first, last) = c.words;
        let leave = |i: usize| {
            let w = bare(s.words[i].text);
            PERMITS_YOU.contains(&w.as_str())
                || (PERMITS.contains(&w.as_str())
                    && i.checked_sub(1)
                        .is_some_and(|b| YOU.contains(&bare(s.words[b].text).as_str())))
        };
        let phrasing_permits = c.phrase.split_whitespace().any(|p| {
            let p = bare(p);
            PERMITS.contains(&p.as_str()) || PERMITS_YOU.contains(&p.as_str())
        });
        if !phrasing_permits {
            if let Some(i) = (first..=last).find(|&i| leave(i)) {
                return Some(s.words[i].text.trim().to_string());
            }
        }
        let from = first - s.clause_before(first, 2).len();
        (from..first)
            .rev()
            .find(|&i| leave(i))
            .map(|i| s.words[i].text.trim().to_string())
    }

    /// The words right after a forbidden statement's match that give the contract's term, if
    /// any: "le contrat est conclu pour une durée de douze mois" says how long it runs once
    /// signed, not that the call concluded it. "pour" or "for", then "une durée", "un an", "a
    /// year", "a term", or a number of months or years.
    fn states_a_term(&self, c: &Cand) -> Option<String> {
        let s = self.stream_of(c)?;
        let (_, last) = c.words;
        let after = s.words.get(last + 1..(last + 5).min(s.words.len()))?;
        if s.words[last].text.trim().ends_with(SENTENCE_ENDS) {
            return None;
        }
        let toks = text::tokens(after.iter().map(|w| w.text), &self.book.language);
        let norm: Vec<&str> = toks.iter().map(|t| t.norm.as_str()).collect();
        let term = match norm.as_slice() {
            // "une" and "un" come out of number folding as "1".
            ["pour" | "for", "une" | "1" | "la", "duree" | "periode", ..] => 3,
            ["pour" | "for", "un" | "1" | "a", "an" | "year" | "term" | "period", ..] => 3,
            ["pour" | "for", n, "mois" | "an" | "ans" | "months" | "month" | "years", ..]
                if n.chars().all(|c| c.is_ascii_digit()) =>
            {
                3
            }
            _ => return None,
        };
        let last_word = toks.get(term - 1)?.last_word;
        Some(
            after[..=last_word]
                .iter()
                .map(|w| w.text.trim())
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    /// The words that put a forbidden statement's match `c` after the signature, if any: in
    /// its sentence, a word that opens a clause of time ([`UNTIL`]) followed, past words of
    /// no weight of their own ([`ON_THE_WAY_TO_SIGNING`]), by a word of signing. "Le contrat
    /// est conclu après votre signature", "Une fois signé, le contrat est définitif", "Le
    /// contrat sera conclu quand vous l'aurez signé" are the disclosure that signing binds,
    /// not the claim that the call did; "vous êtes engagé dès maintenant, la signature n'est
    /// qu'une formalité" is the claim ("maintenant" stands between).
    fn put_after_signing(&self, c: &Cand) -> Option<String> {
        let s = self.stream_of(c)?;
        let (first, last) = c.words;
        let ends = |w: &WordAt<'_>| w.text.trim().ends_with(SENTENCE_ENDS);
        let mut from = first;
        while from > 0
            && !ends(&s.words[from - 1])
            && s.words[from - 1].end_ms + MAX_PAUSE_IN_MATCH_MS >= s.words[from].start_ms
        {
            from -= 1;
        }
        let mut to = last;
        while to + 1 < s.words.len()
            && !ends(&s.words[to])
            && s.words[to].end_ms + MAX_PAUSE_IN_MATCH_MS >= s.words[to + 1].start_ms
        {
            to += 1;
        }
        let sentence = &s.words[from..=to];
        let toks = text::tokens(sentence.iter().map(|w| w.text), &self.book.language);
        toks.iter().enumerate().find_map(|(i, t)| {
            if !UNTIL.contains(&t.norm.as_str()) {
                return None;
            }
            let signed = toks[i + 1..]
                .iter()
                .take(SIGNING_REACH)
                .take_while(|n| {
                    n.norm.starts_with("sign") || ON_THE_WAY_TO_SIGNING.contains(&n.norm.as_str())
                })
                .position(|n| n.norm.starts_with("sign"))?;
            let words = &sentence[t.first_word..=toks[i + 1 + signed].last_word];
            Some(
                words
                    .iter()
                    .map(|w| w.text.trim())
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })
    }

    /// Whether a forbidden statement's match `c` is said as its denial, and if so the words
    /// that deny it: a "no" among the words matched that the phrasing does not hold ("Rien
    /// n'est définitif tant que vous n'avez pas signé" matched "c'est définitif" on "n'est
    /// définitif"), or within the [`DENIAL_REACH`] words before them in the same clause ("You
    /// don't have to decide right now", "There's no need to decide today", "sans vous
    /// engager dès maintenant"). What an honest agent says to take pressure off is the
    /// forbidden statement's words under a "no"; a phrasing that holds a "no" of its own ("rien
    /// à signer", "pas besoin de signer") is never read so: a "no" said before it would deny
    /// the denial. A clause ends at a punctuation mark or a pause: "Ne vous inquiétez pas,
    /// c'est définitif" is the statement.
    fn said_as_denial(&self, c: &Cand) -> Option<String> {
        let lang = &self.book.language;
        let says_no = |text: &str| {
            text::normalise(text, lang)
                .iter()
                .any(|t| matcher::is_negation(t) || DENIES.contains(&t.as_str()))
        };
        if says_no(&c.phrase) {
            return None;
        }
        let s = self.stream_of(c)?;
        let (first, last) = c.words;
        s.words.get(first..=last)?;
        // The clause's words from the reach before the match to its end, read for the French
        // "ne … que" ("only", no "no", where its "que" is inside the match:
        // `meaning::says_no_before`).
        let from = first - s.clause_before(first, DENIAL_REACH).len();
        let span = &s.words[from..=last];
        let toks =
            meaning::read_restrictions(&text::tokens(span.iter().map(|w| w.text), lang), None);
        let end = toks.len();
        let no_at = |k: usize| {
            (0..toks.len()).any(|i| {
                toks[i].first_word <= k
                    && k <= toks[i].last_word
                    && (meaning::says_no_before(&toks, i, end)
                        || DENIES.contains(&toks[i].norm.as_str()))
            })
        };
        let at = first - from;
        if let Some(k) = (at..span.len()).find(|&k| no_at(k)) {
            return Some(span[k].text.trim().to_string());
        }
        let no = (0..at).rev().find(|&k| no_at(k))?;
        Some(
            span[no..at]
                .iter()
                .map(|w| w.text.trim())
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    /// A phrasing matched only in part whose missing words were not heard at all, where the
    /// recogniser heard the words of the match, and the next word where the rest would be,
    /// with confidence: it heard other words where the rest of the phrasing would be ("le contrat
    /// est arrivé", not "le contrat est conclu"). The word where the rest would be must be
    /// clear (at least [`Segment::DOUBTFUL_WORD_BELOW`]); the match is held to the measure of
    /// [`doubt`] (one such word hides nothing; two, one under [`BARELY_HEARD`], or a word that
    /// is none of the language may be the rest garbled). A match at the edge of a turn is
    /// never heard otherwise: the recogniser may have dropped the rest there. A phrasing lost
    /// only inside (words heard on both sides of it) is left to the matcher's score.
    fn heard_otherwise(&self, c: &Cand) -> bool {
        if c.lost <= 0.0 {
            return false;
        }
        let Some(s) = self.stream_of(c) else {
            return false;
        };
        // The words of the match, and the word on each side where the rest would be.
        let (first, last) = c.words;
        let from = if c.lost_before {
            match first.checked_sub(1) {
                Some(b) => b,
                None => return false,
            }
        } else {
            first
        };
        let to = if c.lost_after { last + 1 } else { last };
        let Some(words) = s.words.get(from..=to) else {
            return false;
        };
        if words
            .windows(2)
            .any(|w| w[1].start_ms > w[0].end_ms + MAX_PAUSE_IN_MATCH_MS)
        {
            return false;
        }
        // The words where the rest would be are heard clearly; the match's own words, by the
        // measure of `doubt`.
        let neighbours_clear = (from < first || to > last)
            && [from, to]
                .iter()
                .filter(|&&i| i < first || i > last)
                .filter_map(|&i| s.words.get(i))
                .all(|w| w.prob >= Segment::DOUBTFUL_WORD_BELOW);
        let doubtful = words
            .iter()
            .filter(|w| w.prob < Segment::DOUBTFUL_WORD_BELOW)
            .count();
        let made_up = self.book.lexicon.as_ref().is_some_and(|lexicon| {
            words
                .iter()
                .any(|w| !lexicon.knows(w.text, &self.book.vocabulary))
        });
        neighbours_clear && doubtful < 2 && !made_up && words.iter().all(|w| w.prob >= BARELY_HEARD)
    }

    fn consent(&self, rule: &Rule) -> Finding {
        use FindingStatus::*;
        let floor = self.book.absent_below;
        let customer: Vec<&Stream<'_>> = self
            .streams
            .iter()
            .filter(|s| self.speaker_ok(rule, s.speaker))
            .collect();
        // "And what if I change my mind?" asks about a refusal; it does not refuse.
        let refusals: Vec<Cand> = find(&rule.revoked_by, &customer, floor)
            .into_iter()
            .filter(|c| !c.hypothetical)
            .collect();
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
            // The consent is what a proof of the sale rests on: words the recogniser barely
            // heard, or wrote in less time than anyone could say them (a decoding that
            // repeated "je suis d'accord" into 40 ms after a customer's "je ne sais pas
            // trop"), prove nothing until a person has listened.
            if let Some(why) = Self::unheard(a).filter(|_| !self.opens_with_yes(a)) {
                detail.push_str(&format!("; but {why}: listen to confirm"));
                return self.finding(rule, Outcome::Met, Review, Some(a), detail);
            }
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
        // Where the offer's items were said: from the first one's start (an agent's words said
        // before any of them, "I'll only take a minute" in the greeting, close to "I take that
        // as a yes", state no agreement to it) to the last one's end.
        let offer: Vec<(u64, u64)> = rule
            .after
            .iter()
            .filter_map(|d| self.met_at.get(d).copied())
            .collect();
        let offer_begun = offer.iter().map(|m| m.0).min().unwrap_or(0);
        let offer_done = offer.iter().map(|m| m.1).max().unwrap_or(0);
        let claims: Vec<Cand> = self
            .claims(rule, self.book.review_below)
            .into_iter()
            .filter(|c| c.start_ms >= offer_begun)
            .collect();
        if let Some(r) = sure_refusals.iter().min_by_key(|r| r.start_ms) {
            // A refusal heard only close to a phrasing ("c'est pas intéressant", 0.75, for the
            // customer's "c'est intéressant"), then a later answer that opens as agreement:
            // the customer changed their mind, or the refusal was misheard. Neither a sale
            // nor its absence rests on that; a refusal said word for word stands ("No thank
            // you", then "Yes, I'm sure" to "Are you sure?").
            let last = sure_refusals
                .iter()
                .map(|r| r.end_ms)
                .max()
                .unwrap_or(r.end_ms);
            let loose = sure_refusals.iter().all(|r| r.score < 1.0);
            let yes_after = if loose {
                self.opening_yes(rule, offer_done.max(last))
            } else {
                None
            };
            // Refused word for word, then recorded as agreed by the agent: the violation the
            // rule exists for, not a call without a sale. Refused only close to a phrasing,
            // then recorded as agreed: either the refusal was misheard or the agent recorded a
            // sale the customer declined; neither "no sale" nor a violation rests on a loose
            // match.
            let claimed = claims
                .iter()
                .filter(|c| c.start_ms >= r.end_ms)
                .min_by_key(|c| c.start_ms)
                .map(|c| (c.clone(), Self::said(c)))
                .or_else(|| {
                    let c = self.recorded_after(rule, last)?;
                    let said = Self::recorded(&c);
                    Some((c, said))
                });
            if let Some((c, said_c)) = claimed {
                let (outcome, status, evidence, detail) = if loose {
                    (
                        Outcome::Refused,
                        Review,
                        *r,
                        format!(
                            "the customer seemed to refuse ({}), then the agent stated agreement: {said_c}; listen to whether the customer refused",
                            Self::said(r),
                        ),
                    )
                } else {
                    (
                        Outcome::WrongSpeaker,
                        Fail,
                        &c,
                        format!(
                            "the customer refused ({}), then only the agent stated agreement: {said_c}",
                            Self::said(r),
                        ),
                    )
                };
                return self.finding(rule, outcome, status, Some(evidence), detail);
            }
            // Or refused only close to a phrasing, and the agent answered with a yes (or words
            // heard with doubt) and went on: a sale may have been recorded in words no rule
            // set holds ("Parfait, je ... la commande").
            let then = yes_after
                .map(|later| {
                    format!(
                        "answered \"{}\" at {}: listen to whether they agreed",
                        later.matched,
                        clock(later.start_ms)
                    )
                })
                .or_else(|| {
                    let answer = self.carried_on_after(rule, r.end_ms).filter(|_| loose)?;
                    Some(format!(
                        "the agent answered \"{answer}\": listen to whether a sale was recorded"
                    ))
                });
            let review = then
                .map(|then| {
                    format!(
                        "the customer seemed to refuse ({}), then {then}",
                        Self::said(r)
                    )
                })
                .or_else(|| {
                    let c = self.claim_in_doubt(rule, last)?;
                    Some(format!(
                        "the customer refused ({}), {}",
                        Self::said(r),
                        Self::then_claimed_in_doubt(&c)
                    ))
                });
            if let Some(detail) = review {
                return self.finding(rule, Outcome::Refused, Review, Some(r), detail);
            }
            return self.finding(
                rule,
                Outcome::Refused,
                Fail,
                Some(r),
                format!("the customer refused: {}", Self::said(r)),
            );
        }
        // No phrasing of the rule set, but the customer's replies once the offer was
        // complete, heard with confidence, say what was decided in their own words: a yes
        // that takes the offer ("Bon, d'accord, on y va") or answers the agent's question
        // ("Oui, s'il vous plaît"), and nothing declined or put off after it.
        let replies = self.replies(rule, offer_done);
        let agreed = replies
            .iter()
            .rposition(|(k, _)| *k == Reply::Agrees)
            .filter(|&i| {
                !replies[i + 1..]
                    .iter()
                    .any(|(k, _)| matches!(k, Reply::Declines | Reply::PutsOff))
            });
        if let Some(i) = agreed {
            let c = &replies[i].1;
            return self.on_reply(
                rule,
                Outcome::Met,
                Pass,
                c,
                format!(
                    "consent in the customer's own words: {} said \"{}\" at {} (no phrasing of the rule set; a yes heard with confidence that takes the offer, answers the agent's question or is the customer's last word on the complete offer, nothing declined or put off after it)",
                    c.speaker,
                    c.matched,
                    clock(c.start_ms)
                ),
            );
        }
        // A reply heard clearly as no assent: "Oui, je vois", "Yes, I see" (then an agent who
        // records an agreement is the violation the rule exists for), a decision put off, a
        // "no", or a yes the last reply took back ("D'accord, je le prends", then "Enfin non,
        // je vais réfléchir").
        let taken_back = matches!(replies.last(), Some((Reply::Declines | Reply::PutsOff, _)));
        let plainly_not = |c: &Cand| {
            replies.iter().any(|(k, r)| {
                (matches!(
                    k,
                    Reply::Acknowledges | Reply::PutsOff | Reply::Declines | Reply::Unsure
                ) || *k == Reply::Agrees && taken_back)
                    && r.start_ms <= c.start_ms
                    && c.start_ms <= r.end_ms
            })
        };
        // No assent found, but the customer answered "yes" once the offer was complete: the
        // most important word of the call, and the rest of the answer may be what the
        // recogniser garbled ("Yes, I've read the switch" for "Yes, I agree to switch").
        if let Some(c) = self.opening_yes_where(rule, offer_done, |c| !plainly_not(c)) {
            return self.on_answer(rule, Outcome::Missing, &c, ANSWERED_YES);
        }
        if let Some(c) = claims.first() {
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
        // The customer's last reply, heard with confidence, gave no assent (declined, put
        // the decision off, only said they heard, or did not know), and the agent then
        // recorded a sale in their own words ("Je ne sais pas, c'est un peu cher", then "Très
        // bien, je valide votre commande"): the agreement the rule exists for was stated by
        // the agent alone, as with a claim the rule set holds.
        if let Some((
            kind @ (Reply::Declines | Reply::PutsOff | Reply::Acknowledges | Reply::Unsure),
            reply,
        )) = replies.last()
        {
            // A refusal with a yes after its "no" ("Non… enfin oui, d'accord") may have
            // turned: for a person.
            let turned = *kind == Reply::Declines
                && self
                    .streams
                    .iter()
                    .find(|s| s.speaker == reply.speaker)
                    .is_some_and(|s| {
                        reply::a_clause_opens_with_yes(&s.words, (reply.words.0, reply.words.1 + 1))
                    });
            let recorded = self.recorded_after(rule, reply.end_ms).filter(|_| !turned);
            if let Some(c) = recorded {
                return self.finding(
                    rule,
                    Outcome::WrongSpeaker,
                    Fail,
                    Some(&c),
                    format!(
                        "the customer gave no assent ({} said \"{}\" at {}: {}), then only the agent stated agreement: {}",
                        reply.speaker,
                        reply.matched,
                        clock(reply.start_ms),
                        kind.what(),
                        Self::recorded(&c)
                    ),
                );
            }
        }
        // The customer's last reply, heard with confidence, declines or puts the decision
        // off in their own words ("Non, ce n'est pas pour moi", "Let me think about it
        // first"), and the agent recorded no agreement: no sale was made, as with a refusal
        // the rule set holds.
        if let Some((kind @ (Reply::Declines | Reply::PutsOff), c)) = replies.last() {
            let how = if *kind == Reply::Declines {
                "declined"
            } else {
                "put the decision off"
            };
            let said = format!(
                "the customer {how} in their own words: {} said \"{}\" at {} (no phrasing of the rule set; heard with confidence)",
                c.speaker,
                c.matched,
                clock(c.start_ms)
            );
            // Unless the agent answered with a yes and went on ("Great, I've signed you up
            // then"): a sale recorded in words no rule set holds is for a person to hear.
            let (status, detail) = match self.carried_on_after(rule, c.end_ms) {
                Some(answer) => (
                    Review,
                    format!(
                        "{said}; but the agent answered \"{answer}\": listen to whether a sale was recorded"
                    ),
                ),
                None => match self.claim_in_doubt(rule, c.end_ms) {
                    Some(claim) => (
                        Review,
                        format!("{said}; {}", Self::then_claimed_in_doubt(&claim)),
                    ),
                    None => (Fail, said),
                },
            };
            return self.on_reply(rule, Outcome::Refused, status, c, detail);
        }
        // No assent, no refusal the rule set holds, and the agent recorded no agreement; but
        // the customer answered the offer with a "no" heard clearly ("Merci, mais je préfère
        // ne pas donner suite", "That's not for me"): a refusal in words the rule set does
        // not hold, most likely. Not a violation to lay on the agent, nor a sale: a person
        // listens to what was answered.
        if let Some(c) = self.saying_no(rule, offer_done) {
            return self.on_answer(rule, Outcome::Refused, &c, ANSWERED_NO);
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
        forbidden: std::cell::OnceCell::new(),
        forbidden_close: std::cell::OnceCell::new(),
        stated_numbers: std::cell::OnceCell::new(),
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
    doubt(book, transcript, mono, &mut findings);
    disputed(transcript, &mut findings);
    Verification {
        call_id: facts.call_id,
        ruleset: ruleset.clone(),
        verdict: Verdict::of(&findings),
        findings,
        verified_at: Utc::now(),
    }
}

/// How much speech around a match a second listen decodes again, each side (ms).
pub const SECOND_LISTEN_AROUND_MS: u64 = 2_000;

/// Where a second listen could change a finding: the speaker and the stretch of the call
/// (milliseconds) to decode again. An item not found (where it was looked for), a doubtful
/// finding (its runs of doubtful words, or its match with two seconds around it), consent
/// stated only by the agent (where the customer's answer was looked for), and an assent met on
/// a loose match ([`loose_assent`]: its words, two seconds around). A failure heard clearly (a
/// forbidden phrase, a refusal, a disclosure too late) gains nothing from it.
pub fn second_listen_spans(book: &RuleBook, v: &Verification) -> Vec<(Speaker, u64, u64)> {
    let mut out = Vec::new();
    for f in &v.findings {
        let Some(rule) = book.rules.iter().find(|r| r.id == f.rule_id) else {
            continue;
        };
        if !matches!(
            rule.kind,
            RuleKind::Required | RuleKind::Consent | RuleKind::Forbidden
        ) {
            continue;
        }
        let unclear = f.status == FindingStatus::Review
            || (f.status == FindingStatus::Fail
                && matches!(f.outcome, Outcome::Missing | Outcome::WrongSpeaker));
        if !unclear && !loose_assent(f) {
            continue;
        }
        let speaker = rule.speaker.unwrap_or(Speaker::Unknown);
        let hearing = f.hearing.as_ref();
        // The doubtful words where they were heard, not the span from the first to the last:
        // on a call off the script that span was most of the call (3:42 of 4:05), decoded
        // again whole with five beams for words the first pass had heard clearly.
        if let Some(h) = hearing.filter(|h| !h.stretches.is_empty()) {
            out.extend(h.stretches.iter().map(|&(s, e)| (speaker, s, e)));
            continue;
        }
        let span =
            hearing
                .and_then(|h| h.doubtful.or(h.searched))
                .or(match (f.start_ms, f.end_ms) {
                    (Some(s), Some(e)) => Some((
                        s.saturating_sub(SECOND_LISTEN_AROUND_MS),
                        e + SECOND_LISTEN_AROUND_MS,
                    )),
                    _ => None,
                });
        if let Some((s, e)) = span {
            out.push((speaker, s, e));
        }
    }
    out
}

/// A customer's assent met on words only like an assent phrasing ("Je me suis d'accord." for
/// "oui je suis d'accord", 0.81): the one finding that makes a sale valid, resting on words the
/// recogniser may have made up ("Euh, je ne sais pas trop" came out that way, heard with
/// probabilities of 0.89 to 1.00). It is heard again; where the second listen does not hear it,
/// the first hearing stands but the consent is for a person (see [`disputed`]).
pub fn loose_assent(f: &Finding) -> bool {
    f.kind == RuleKind::Consent
        && f.status == FindingStatus::Pass
        && f.outcome == Outcome::Met
        && f.score.is_some_and(|s| s < 1.0)
}

/// Whether a consent finding says the customer agreed in some form: an assent phrasing met, or
/// an answer that opens as agreement ("Okay, send me out." — the one consent "missing" that
/// points at the customer's words). A second listen that hears either has not disputed a
/// loose assent of the first pass ([`loose_assent`]): both hearings have the customer agree.
pub fn heard_agreeing(f: &Finding) -> bool {
    f.kind == RuleKind::Consent
        && f.speaker == Some(Speaker::Customer)
        && (f.outcome == Outcome::Met || (f.outcome == Outcome::Missing && f.start_ms.is_some()))
}

/// A consent met on words a second listen heard otherwise (`Segment::disputed`): the two
/// hearings disagree on whether the customer agreed, so a person listens before the sale
/// counts as consented.
fn disputed(t: &Transcript, findings: &mut [Finding]) {
    for f in findings.iter_mut() {
        let (Some(s), Some(e)) = (f.start_ms, f.end_ms) else {
            continue;
        };
        if f.kind != RuleKind::Consent || f.status != FindingStatus::Pass {
            continue;
        }
        let heard_otherwise = t.segments.iter().any(|seg| {
            seg.disputed && Some(seg.speaker) == f.speaker && seg.start_ms < e && s < seg.end_ms
        });
        if !heard_otherwise {
            continue;
        }
        f.status = FindingStatus::Review;
        f.detail.push_str(&format!(
            "; but a second listen of {}-{} did not hear an assent there: listen to confirm",
            clock(s),
            clock(e)
        ));
        if let Some(h) = f.hearing.as_mut() {
            h.doubtful = Some((s, e));
            h.second_listen = true;
        }
    }
}

/// A silence longer than this (ms) between two words of one speaker starts a new turn.
const TURN_GAP_MS: u64 = 300;

/// Doubtful words this close (ms) are one stretch to hear again.
const STRETCH_GAP_MS: u64 = 1_000;

/// Doubtful words (start, end, segment text), in order, as the stretches they make: words
/// less than [`STRETCH_GAP_MS`] apart join one.
fn stretches_of(words: &[(u64, u64, &str)]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &(s, e, _) in words {
        match out.last_mut() {
            Some(last) if s <= last.1 + STRETCH_GAP_MS => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Words that may come before an agreement and still leave it opening the answer ("C'est
/// très bien", "Ah, oui", "Well, yes").
const OPENING_WORDS: usize = 2;

/// The first word of the turn that holds word `i`: back over words without a pause longer than
/// [`TURN_GAP_MS`].
fn turn_start(words: &[WordAt<'_>], i: usize) -> usize {
    turn_start_by(i, |k| (words[k].start_ms, words[k].end_ms))
}

/// [`turn_start`] over any words in order, `at(k)` giving word `k`'s start and end (ms).
fn turn_start_by(i: usize, at: impl Fn(usize) -> (u64, u64)) -> usize {
    let mut start = i;
    while start > 0 && at(start).0 <= at(start - 1).1 + TURN_GAP_MS {
        start -= 1;
    }
    start
}

/// A word as the [`AFFIRMATIVE`] list writes it: lower case, without its punctuation.
fn bare(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_string()
}

/// How many words from word `i` (one to three) say an [`AFFIRMATIVE`], if they do; none where
/// the word before it in the same turn says no with nothing between ("I'm not sure", "pas
/// très bien", "not great"): a word of agreement said not is no yes. A "no" closed by a
/// mark ("Non, d'accord", "No, sure") is a clause of its own.
fn agreement_at(words: &[WordAt<'_>], i: usize) -> Option<usize> {
    let said_not = turn_start(words, i) < i
        && words.get(i - 1).is_some_and(|w| {
            negative(w.text) && w.text.trim_end().ends_with(|c: char| c.is_alphanumeric())
        });
    if said_not {
        return None;
    }
    affirmative(words.get(i..)?)
}

/// How many of the words `next` (the first one, two or three, one after the other) say an
/// [`AFFIRMATIVE`], the fewest first ("oui", "très bien", "tout à fait").
fn affirmative(next: &[WordAt<'_>]) -> Option<usize> {
    let mut said = String::new();
    for (n, word) in next.iter().take(3).enumerate() {
        if n > 0 {
            said.push(' ');
        }
        said.push_str(&bare(word.text));
        if AFFIRMATIVE.contains(&said.as_str()) {
            return Some(n + 1);
        }
    }
    None
}

/// The answer word `i` of `s` is part of, as a candidate: timed from word `first` of its turn
/// to word `i`, with the turn's words up to [`ANSWER_MS`] after word `i` as what was said, and
/// word `i`'s confidence (the word the answer turns on: "oui", "non").
fn answer(s: &Stream<'_>, first: usize, i: usize) -> Cand {
    let w = &s.words[i];
    let turn: Vec<&str> = s.words[turn_start(&s.words, i)..]
        .iter()
        .take_while(|x| x.start_ms <= w.start_ms + ANSWER_MS)
        .map(|x| x.text.trim())
        .collect();
    Cand {
        speaker: s.speaker,
        start_ms: s.words[first].start_ms,
        end_ms: w.end_ms,
        score: 0.0,
        matched: turn.join(" "),
        phrase: String::new(),
        who: w.who,
        confidence: w.prob,
        doubtful_words: usize::from(w.prob < Segment::DOUBTFUL_WORD_BELOW),
        barely_heard: w.prob < BARELY_HEARD,
        second: w.second,
        first: None,
        hypothetical: false,
        lost: 0.0,
        lost_before: false,
        lost_after: false,
        words: (first, i),
        doubtful_number: None,
    }
}

/// How long an answer that opens with an [`AFFIRMATIVE`] is taken to last (ms): what the
/// finding quotes.
const ANSWER_MS: u64 = 4_000;

/// A word heard with less probability than this may stand for several words said ("au nom
/// d'" heard as "contacterons d'", at 0.29): alone, it makes the speech around it doubtful.
pub(crate) const BARELY_HEARD: f32 = 0.35;

/// How a customer's answer begins when it agrees, in the languages of the built-in packs: said
/// at the start of a turn once the offer is complete, with no assent phrasing found, the rest
/// of the answer may be what the recogniser garbled ("Très bien, je s'esprit" for "Très bien,
/// je souscris"), so the consent needs a person, not a verdict of violation. Each is lower
/// case, without its punctuation, one to three words.
const AFFIRMATIVE: &[&str] = &[
    // French
    "oui",
    "tout à fait",
    "absolument",
    "certainement",
    "ouais",
    "d'accord",
    "daccord",
    "très bien",
    "parfait",
    "entendu",
    "bien sûr",
    "volontiers",
    "ça marche",
    "ça me va",
    "c'est bon",
    "super",
    "génial",
    "impeccable",
    "avec plaisir",
    // "Pourquoi pas": no objection, an assent ("Pourquoi pas, allez, je prends").
    "pourquoi pas",
    // English, and both
    "ok",
    "okay",
    "yes",
    "yeah",
    "yep",
    "sure",
    "alright",
    "all right",
    "fine",
    "great",
    "perfect",
    "sounds good",
    "sounds great",
    "sounds fine",
    "sounds perfect",
    "sounds lovely",
    "lovely",
    "wonderful",
    "brilliant",
    "excellent",
    "with pleasure",
    "why not",
    "certainly",
    "absolutely",
    "definitely",
];

/// What a finding on an answer that opens as agreement says ([`Eval::on_answer`]): what was
/// not found, how the customer answered, what to listen for.
const ANSWERED_YES: [&str; 3] = [
    "no assent phrasing found",
    "answered",
    "listen to what was agreed",
];

/// The same for an answer that says no ([`NEGATIVE`]).
const ANSWERED_NO: [&str; 3] = [
    "no assent or refusal phrasing found",
    "answered the offer",
    "listen to whether they declined",
];

/// Words that say no in the languages of the built-in packs, lower case, without their
/// punctuation; and any English word ending in "n't". A customer's answer to the offer with
/// one of them, and no assent, is most likely a refusal in words no rule set holds. "ne"
/// alone is left out: spoken French drops it, and keeps "pas".
const NEGATIVE: &[&str] = &[
    // French
    "non", "nan", "pas", "jamais", // English
    "no", "not", "never", "nope",
];

/// Words that, said right before a required item's words, deny it ("pas à signer", "rien à
/// signer", "nothing to sign", "sans signature", "without signing"), besides [`NEGATIVE`].
const DENIES: &[&str] = &[
    "rien", "aucun", "aucune", "sans", "nothing", "without", "none",
];

/// Words that open a clause of time (normalised: "après" is "apres", "dès" "des"): followed
/// by signing, they put a statement after the signature ([`Eval::put_after_signing`]).
const UNTIL: &[&str] = &[
    "after", "once", "when", "until", "upon", "apres", "quand", "lorsque", "jusqu", "fois", "des",
];

/// Words a clause of time may hold between its opening word and the signing ("une fois le
/// contrat signé", "quand vous l'aurez signé", "once you've signed it"), normalised.
const ON_THE_WAY_TO_SIGNING: &[&str] = &[
    "le",
    "la",
    "l",
    "les",
    "un",
    "une",
    "votre",
    "vos",
    "du",
    "de",
    "d",
    "que",
    "qu",
    "vous",
    "tu",
    "il",
    "elle",
    "nous",
    "aurez",
    "avez",
    "aura",
    "ont",
    "avoir",
    "ete",
    "etre",
    "ce",
    "cette",
    "contrat",
    "commande",
    "bon",
    "offre",
    "document",
    "documents",
    "you",
    "your",
    "the",
    "a",
    "an",
    "it",
    "is",
    "are",
    "has",
    "have",
    "ve",
    "ll",
    "will",
    "be",
    "been",
    "we",
    "they",
    "contract",
    "order",
    "offer",
    "agreement",
    "form",
    "paperwork",
];

/// Words that offer what follows as a choice after "you" ("you can decide right now"), lower
/// case, without their punctuation.
const PERMITS: &[&str] = &["can", "could", "may", "might", "peux", "pourras"];

/// Words that offer what follows as a choice to the one spoken to, alone ("vous pouvez
/// décider maintenant").
const PERMITS_YOU: &[&str] = &["pouvez", "pourrez", "pourriez"];

/// The one spoken to, before a word of [`PERMITS`].
const YOU: &[&str] = &["you", "tu"];

/// Words after a clause of time's opening word read for the signing.
const SIGNING_REACH: usize = 5;

/// Words on each side of a forbidden statement's match whose doubt makes it doubtful
/// ([`Eval::garbled_around`]).
const GARBLED_REACH: usize = 3;

/// Words before a forbidden statement's match read for a "no" that denies it
/// ([`Eval::said_as_denial`]): "there's no need [at all] to decide today" puts four between.
const DENIAL_REACH: usize = 5;

/// Marks that end a sentence.
const SENTENCE_ENDS: &[char] = &['.', '!', '?', '…'];

/// Marks that end a clause: a "no" before one of them says nothing of the words after it.
const CLAUSE_ENDS: &[char] = &['.', ',', ';', ':', '!', '?', '…'];

/// Whether a word, right before a required item's words, denies it ([`negative`], [`DENIES`]).
fn denies(word: &str) -> bool {
    negative(word) || DENIES.contains(&bare(word).as_str())
}

/// Whether a word says no ([`NEGATIVE`]).
fn negative(word: &str) -> bool {
    let w = bare(word).replace('’', "'");
    NEGATIVE.contains(&w.as_str()) || w.ends_with("n't")
}

/// Words that open a clause of time ("after you sign up", "quand vous aurez signé", "once you
/// agree"), lower case, without their punctuation.
const TIME_CLAUSE: &[&str] = &[
    "after", "once", "when", "until", "before", "quand", "lorsque", "dès", "avant", "après",
];

/// Sounds that hold a turn without answering anything ("Hum.", "Euh…"), lower case, without
/// their punctuation.
const HESITATION: &[&str] = &[
    "hum", "hmm", "hm", "mm", "mmm", "mhm", "euh", "heu", "bah", "um", "uh", "er", "erm", "ah",
    "oh",
];

/// The customer's answer among the words heard where it was expected, if they said more than
/// hesitations: its first word's time and its words (up to [`ANSWER_MS`]). `after_offer`: the
/// words start where the offer was complete, and the first answer counts; otherwise they span
/// the call, and the last turn does (a "Bonjour" answers no offer).
fn answer_heard(heard: &[Heard<'_>], after_offer: bool) -> Option<(u64, String)> {
    let answers = |h: &Heard| {
        let w = bare(h.4);
        !w.is_empty() && !HESITATION.contains(&w.as_str())
    };
    let first = if after_offer {
        heard.iter().position(answers)?
    } else {
        let last = heard.iter().rposition(answers)?;
        let k = turn_start_by(last, |k| (heard[k].1, heard[k].2));
        k + heard[k..=last].iter().position(answers)?
    };
    let at = heard[first].1;
    let said: Vec<&str> = heard[first..]
        .iter()
        .take_while(|h| h.1 <= at + ANSWER_MS)
        .map(|h| h.4.trim())
        .collect();
    Some((at, said.join(" ")))
}

/// Words beside a [`NEGATIVE`] that make it no refusal: "pas de problème", "pas de souci",
/// "no problem", "not a problem", "no worries", "don't worry", "ne vous inquiétez pas" wave
/// an objection away.
const NO_OBJECTION: &[&str] = &[
    "problème",
    "problèmes",
    "souci",
    "soucis",
    "problem",
    "problems",
    "worries",
    "worry",
    "inquiétez",
    "inquiète",
    "inquiéter",
];

/// Whether word `i` of `words` says no: a [`NEGATIVE`] that neither waves an objection away
/// ([`NO_OBJECTION`] one or two words after it, or right before it: the "pas" of "ne vous
/// inquiétez pas") nor asks "why not" ("pourquoi pas", "why not": an assent).
fn says_no_at(words: &[WordAt<'_>], i: usize) -> bool {
    let Some(w) = words.get(i) else {
        return false;
    };
    let waved = words[i + 1..]
        .iter()
        .take(2)
        .chain(i.checked_sub(1).and_then(|b| words.get(b)))
        .any(|n| NO_OBJECTION.contains(&bare(n.text).as_str()));
    let why = i > 0 && matches!(bare(words[i - 1].text).as_str(), "pourquoi" | "why");
    negative(w.text) && !waved && !why
}

/// Words that are no words of the call's language it takes to make a place doubtful: one is a
/// name or a brand spelled another way ("Isocle", "adoucissaire" beside a missing Bloctel
/// notice); the garbled price of a compliant call came out with two or three ("desions culo").
const MADE_UP_MIN: usize = 2;

/// Time a syllable takes at the fastest a seller speaks (10 a second): a stretch heard with
/// doubt that is shorter than the rule's shortest phrasing takes at this pace cannot be that
/// phrasing garbled. Underestimating is the safe side: a stretch wrongly thought long enough
/// only asks a person to listen.
const FASTEST_SYLLABLE_MS: u64 = 100;

/// The least time any of a rule's phrasings takes to say (ms); 0 for a rule without
/// phrasings as said (its doubt is not narrowed). A number slot counts one syllable.
fn shortest_said_ms(rule: &Rule) -> u64 {
    rule.script
        .iter()
        .map(|p| syllables(p))
        .chain(
            rule.number_script
                .iter()
                .map(|p| syllables(&p.replace(NUMBER_SLOT, " ")) + 1),
        )
        .min()
        .unwrap_or(0)
        * FASTEST_SYLLABLE_MS
}

/// Whether words heard with doubt, one after the other, could be a phrasing that takes
/// `shortest` ms garbled: by the time they span, or by their own syllables where a broken
/// decoding placed them at one instant.
fn could_hold(run: &[Heard], shortest: u64) -> bool {
    let (Some(first), Some(last)) = (run.first(), run.last()) else {
        return false;
    };
    let span = last.2.saturating_sub(first.1);
    let said: u64 = run
        .iter()
        .map(|h| syllables(h.4) * FASTEST_SYLLABLE_MS)
        .sum();
    span.max(said) >= shortest
}

/// Adds a word heard with doubt to `low` unless it is there already (several rules of
/// [`doubt`] may find the same word).
fn push_once<'a, 'h>(low: &mut Vec<&'a Heard<'h>>, h: &'a Heard<'h>) {
    if !low.iter().any(|l| l.1 == h.1 && l.2 == h.2) {
        low.push(h);
    }
}

/// The words heard with confidence where an item was expected that carry two distinct stems
/// of the item's own telling words ([`SPOKEN_OF_MIN`], [`PhrasingWords::stems`]), one word per
/// stem: the item was spoken of there, in other words or with one of them misheard. Forced readings of the script's words over such a place could
/// not tell said from unsaid with `base` ("signer" read over the confident "finir" fell
/// 8.0 nats below; "pendant", never said, read over "première" 7.5): the words heard are the
/// evidence a person can weigh.
///
/// Two kinds of speech say nothing of it, however many of its words they hold: a sentence
/// holding a forbidden statement ("vous n'avez rien à signer" denies the binding clause in its
/// words), and, for an item whose phrasings name a number ("14 jours"), another number heard
/// clearly ("un délai de quatre jours"): stated otherwise is the breach, which the script
/// check reads again with the script's number.
fn spoken_of<'a, 'h>(
    heard: &'a [Heard<'h>],
    words: &PhrasingWords,
    denied: &[(u64, u64)],
) -> Option<Vec<&'a Heard<'h>>> {
    let stemmer = stemmer(&words.language)?;
    let mut stems: Vec<String> = Vec::new();
    let mut said: Vec<&Heard> = Vec::new();
    let names_a_number = words.words.iter().any(|w| is_number_token(w));
    for h in heard {
        if h.0.words.is_empty() || h.3 < Segment::DOUBTFUL_WORD_BELOW {
            continue;
        }
        if denied
            .iter()
            .any(|&(s, e)| s < h.0.end_ms && h.0.start_ms < e)
        {
            continue;
        }
        let tokens = text::normalise(h.4, &words.language);
        if names_a_number
            && tokens
                .iter()
                .any(|t| said_number(t, h.4) && !words.words.contains(t))
        {
            return None;
        }
        for t in tokens {
            let Some(s) = stem_of(&stemmer, &t).filter(|s| words.stems.contains(s)) else {
                continue;
            };
            if !stems.contains(&s) {
                stems.push(s);
                said.push(h);
            }
        }
    }
    (stems.len() >= SPOKEN_OF_MIN).then_some(said)
}

/// Distinct stems of an item's phrasings that must be heard where it was expected for it to
/// have been spoken of. One is too few: "je vous appelle de la part de…" holds "appelle" of
/// "je m'appelle" and says nothing of who is calling.
const SPOKEN_OF_MIN: usize = 2;

/// How a phrasing writes a name's place ("I'm {name} from").
const NAME_SLOT: &str = "{name}";

/// The words of `segments` heard between `lo` and `hi` (ms), in order; a segment without
/// words stands as one, with its confidence.
fn words_between<'a>(segments: &[&'a Segment], lo: u64, hi: u64) -> Vec<Heard<'a>> {
    segments
        .iter()
        .flat_map(|s| {
            let words: Vec<Heard> = if s.words.is_empty() {
                vec![(*s, s.start_ms, s.end_ms, s.confidence(), s.text.as_str())]
            } else {
                s.words
                    .iter()
                    .filter(|w| w.start_ms < hi && w.end_ms > lo)
                    .map(|w| (*s, w.start_ms, w.end_ms, w.probability, w.text.as_str()))
                    .collect()
            };
            words
        })
        .collect()
}

/// The words a rule's phrasings are made of, as normalised tokens: the words heard clearly
/// beside a doubtful stretch that belong to them say the item may have been said there.
struct PhrasingWords {
    words: std::collections::HashSet<String>,
    /// Those of them the phrasings of several rules share.
    common: std::collections::HashSet<String>,
    /// A phrasing has a `{number}` slot: any number heard belongs.
    numbers: bool,
    language: String,
    /// The stems of its telling words (see [`Self::telling`]) that the phrasings of fewer than
    /// three rules have: "engagement" and "engagé" are one word of the item.
    stems: std::collections::HashSet<String>,
}

/// How many rules' phrasings say each word, and each stem, of a rule book.
struct BookWords {
    words: HashMap<String, usize>,
    stems: HashMap<String, usize>,
}

/// The Snowball stemmer of a rule book's language, for the languages packs exist in.
fn stemmer(language: &str) -> Option<frostem::Stemmer> {
    match language {
        "fr" => Some(frostem::Stemmer::new(frostem::Algorithm::French)),
        "en" => Some(frostem::Stemmer::new(frostem::Algorithm::English)),
        _ => None,
    }
}

/// The stem of a normalised token long enough to say something (four letters and more, not a
/// number); None for the others.
fn stem_of(stemmer: &frostem::Stemmer, token: &str) -> Option<String> {
    (token.chars().count() >= 4 && !is_number_token(token))
        .then(|| stemmer.stem(token).into_owned())
}

impl PhrasingWords {
    /// The normalised words of `rule`'s phrasings.
    fn words_of(rule: &Rule, language: &str) -> std::collections::HashSet<String> {
        rule.script
            .iter()
            .chain(&rule.number_script)
            .flat_map(|p| text::normalise(&p.replace(NUMBER_SLOT, " "), language))
            .collect()
    }

    /// The stems of `words` (see [`stem_of`]).
    fn stems_of(
        words: &std::collections::HashSet<String>,
        language: &str,
    ) -> std::collections::HashSet<String> {
        let Some(stemmer) = stemmer(language) else {
            return Default::default();
        };
        words.iter().filter_map(|w| stem_of(&stemmer, w)).collect()
    }

    /// For each word and each stem of the book's phrasings, how many rules say it.
    fn rules_saying(book: &RuleBook) -> BookWords {
        let mut out = BookWords {
            words: HashMap::new(),
            stems: HashMap::new(),
        };
        for r in &book.rules {
            let words = Self::words_of(r, &book.language);
            for s in Self::stems_of(&words, &book.language) {
                *out.stems.entry(s).or_default() += 1;
            }
            for w in words {
                *out.words.entry(w).or_default() += 1;
            }
        }
        out
    }

    /// `rules_saying`: [`Self::rules_saying`] of the rule's book.
    fn of(rule: &Rule, language: &str, book_words: &BookWords) -> Self {
        let rules_saying = &book_words.words;
        let words = Self::words_of(rule, language);
        let stems = Self::stems_of(&words, language)
            .into_iter()
            .filter(|s| book_words.stems.get(s).is_none_or(|&n| n < 3))
            .collect();
        // Said in the phrasings of three rules or more ("pour", "vous", "de", "is"), a word
        // tells nothing of which item was being said.
        let common = words
            .iter()
            .filter(|w| rules_saying.get(*w).is_some_and(|&n| n >= 3))
            .cloned()
            .collect();
        // A number the phrasing says ("14 jours") is one of its words; any number only where
        // it has a slot for one (a price heard next to the withdrawal period is no part of it).
        let numbers = !rule.number_script.is_empty();
        PhrasingWords {
            words,
            common,
            numbers,
            language: language.to_string(),
            stems,
        }
    }

    /// Whether every token of a heard word belongs to the phrasings.
    fn holds(&self, word: &str) -> bool {
        let toks = text::normalise(word, &self.language);
        !toks.is_empty()
            && toks
                .iter()
                .all(|t| self.words.contains(t) || self.numbers && is_number_token(t))
    }

    /// Distinctive enough to say the item was being said: neither a short word ("de",
    /// "the") nor one several rules' phrasings share ("pour", "vous": beside a garbled name
    /// in the opening, "pour" said nothing of a withdrawal period). A number the phrasing
    /// names ("14") is; any number is not, where a phrasing only has a slot for one: "for
    /// two years" beside a garbled "electricity" said nothing of a cancellation period.
    ///
    /// A "1" is telling only written in digits: normalisation makes one of the article ("une
    /// offre" is "1 offre"), and "une" beside a garbled name in the opening said nothing of
    /// "une fois signé".
    fn telling(&self, word: &str) -> bool {
        text::normalise(word, &self.language).iter().any(|t| {
            self.words.contains(t)
                && !self.common.contains(t)
                && (t.chars().count() >= 4 || said_number(t, word))
        })
    }

    /// Whether a heard word sounds like one of the phrasings' telling words of six letters or
    /// more: the same consonants, in the same order ([`matcher::consonants`], two at least).
    /// Said of a word that is no word of the language, it is that word misheard.
    fn sounds_like_its_own(&self, word: &str) -> bool {
        let own: Vec<String> = self
            .words
            .iter()
            .filter(|w| !self.common.contains(*w) && w.chars().count() >= 6)
            .map(|w| matcher::consonants(w))
            .filter(|c| c.chars().count() >= 2)
            .collect();
        text::normalise(word, &self.language)
            .iter()
            .filter(|t| t.chars().count() >= 4)
            .any(|t| own.contains(&matcher::consonants(t)))
    }

    /// The stretch `heard[run]` widened, on each side, by the words heard next to it that
    /// belong to the phrasings, from the same segment; the run alone unless a telling word
    /// is among them.
    fn around(&self, heard: &[Heard], start: usize, end: usize) -> (usize, usize) {
        let same = |a: &Heard, b: &Heard| std::ptr::eq(a.0, b.0);
        let mut from = start;
        while from > 0 && same(&heard[from - 1], &heard[start]) && self.holds(heard[from - 1].4) {
            from -= 1;
        }
        let mut to = end;
        while to < heard.len() && same(&heard[to], &heard[end - 1]) && self.holds(heard[to].4) {
            to += 1;
        }
        let telling = heard[from..start]
            .iter()
            .chain(&heard[end..to])
            .any(|h| self.telling(h.4));
        if telling {
            (from, to)
        } else {
            (start, end)
        }
    }
}

/// Whether `token`, normalised from the heard `word`, is a number said: normalisation makes
/// one of the article ("une offre" is "1 offre"), so a "1" is one only written in digits.
fn said_number(token: &str, word: &str) -> bool {
    is_number_token(token) && (token != "1" || word.chars().any(|c| c.is_ascii_digit()))
}

/// A token that is a number, as normalisation writes numbers said in words or digits.
fn is_number_token(t: &str) -> bool {
    !t.is_empty() && t.chars().all(|c| c.is_ascii_digit())
}

/// A word written as a number ("120", "38,50"), as Whisper writes amounts.
fn is_number_word(text: &str) -> bool {
    let t = text.trim_matches(|c: char| !c.is_alphanumeric());
    t.starts_with(|c: char| c.is_ascii_digit())
        && t.chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
}

/// Whether the word starting at `at_ms` opens the customer's turn `seg` among words heard
/// with doubt, and the rest of the turn, every word heard with confidence, would agree to
/// nothing even if those opening words were a yes ("oui", "yes") answering the agent's
/// question: then no assent can hide there, whatever a misheard opening was.
fn opening_rules_out_an_assent(seg: &Segment, at_ms: u64) -> bool {
    let opening = seg
        .words
        .iter()
        .take_while(|w| w.probability < Segment::DOUBTFUL_WORD_BELOW)
        .count();
    let rest = &seg.words[opening..];
    let in_opening = seg.words[..opening].iter().any(|w| w.start_ms == at_ms);
    if !in_opening
        || rest.is_empty()
        || rest
            .iter()
            .any(|w| w.probability < Segment::DOUBTFUL_WORD_BELOW)
    {
        return false;
    }
    !["Oui,", "Yes,"].into_iter().any(|yes| {
        let opened = WordAt {
            text: yes,
            prob: 1.0,
            ..WordAt::of(seg, &seg.words[0])
        };
        let words: Vec<WordAt<'_>> = std::iter::once(opened)
            .chain(rest.iter().map(|w| WordAt::of(seg, w)))
            .collect();
        reply::read(&words, (0, words.len()), true) == Reply::Agrees
    })
}

/// A word heard where an item was expected: its segment, start and end (ms), probability and
/// text (a segment without words stands as one, with its confidence).
type Heard<'a> = (&'a Segment, u64, u64, f32, &'a str);

/// Mean word probability of matched words under which an accusation rests on words the
/// recogniser barely heard ("blockchain" for "Bloctel" came out at 0.2-0.4).
const ACCUSE_CONFIDENCE_MIN: f32 = 0.4;

/// The script check's closest [`NearReading`] of `rule` by a speaker `said_by` accepts, inside
/// `searched` where that is known: a phrasing the recording supports nearly as well as what
/// was heard there. One of the rule's phrasings still: a rule set changed since may no longer
/// say it.
fn near_reading<'t>(
    t: &'t Transcript,
    rule: &Rule,
    said_by: &dyn Fn(Speaker) -> bool,
    searched: Option<(u64, u64)>,
) -> Option<&'t NearReading> {
    t.near_readings
        .iter()
        .filter(|n| n.rule_id == rule.id && said_by(n.speaker))
        .filter(|n| rule.says(&n.phrasing))
        .filter(|n| searched.is_none_or(|(lo, hi)| n.start_ms < hi && lo < n.end_ms))
        .min_by(|a, b| a.nats_below.total_cmp(&b.nats_below))
}

/// Second thoughts on what the recogniser heard. An item "missing" is an accusation only if
/// the speech where it was expected was recognised with confidence: where two or more of the
/// words there were heard with a probability under [`Segment::DOUBTFUL_WORD_BELOW`] ("Belle
/// Octane" for "Bloctel"), or one under [`BARELY_HEARD`] — counting only runs of such words
/// long enough to have held the rule's shortest phrasing ([`could_hold`]: one doubtful "warm"
/// cannot hide "this call is being recorded") —, the item may well have been said and
/// garbled, so the finding becomes
/// "needs review" and names the span to listen to. A failure that rests on
/// words heard without confidence (a forbidden phrase, a refusal, the agent's statement of
/// agreement) becomes "needs review" the same way. Where an item is expected: between the
/// findings met just before and just after it in the rule set's order (the order a script
/// follows), inside the rule's own window; the whole call when the neighbours are out of order.
/// Where nothing there was heard with doubt but the agent spoke of the item, two of its own
/// words heard in its place ([`spoken_of`]), the absence is for a person to weigh as well.
fn doubt(book: &RuleBook, t: &Transcript, mono: bool, findings: &mut [Finding]) {
    // Counted once a call, and only for a call with an item missing.
    let rules_saying = std::cell::OnceCell::new();
    let met: Vec<Option<(u64, u64)>> = findings
        .iter()
        .map(|f| match (f.outcome, f.start_ms, f.end_ms) {
            (Outcome::Met, Some(s), Some(e)) if f.kind != RuleKind::Forbidden => Some((s, e)),
            _ => None,
        })
        .collect();
    // Forbidden statements heard, where an item's words are no sign it was given.
    let denied: Vec<(u64, u64)> = findings
        .iter()
        .filter(|f| f.outcome == Outcome::ForbiddenSaid)
        .filter_map(|f| f.start_ms.zip(f.end_ms))
        .collect();
    for i in 0..findings.len() {
        let Some(rule) = book.rules.iter().find(|r| r.id == findings[i].rule_id) else {
            continue;
        };
        let f = &findings[i];
        if f.status != FindingStatus::Fail {
            continue;
        }
        let absent = f.start_ms.is_none()
            && matches!(f.outcome, Outcome::Missing)
            && matches!(rule.kind, RuleKind::Required | RuleKind::Consent);
        // Consent stated only by the agent: was the customer's own assent garbled?
        let unheard_assent = rule.kind == RuleKind::Consent && f.outcome == Outcome::WrongSpeaker;
        if absent || unheard_assent {
            let speaker = rule.speaker.unwrap_or(Speaker::Unknown);
            // A neighbour met on a phrasing with a `{name}` slot ("I'm {name} from") may
            // have taken this item's garbled words for the name ("I'm Ryan Cole, [calling]
            // from"): its match is part of the place, not a bound of it.
            let named = |j: usize| {
                findings[j]
                    .phrase
                    .as_deref()
                    .is_some_and(|p| p.contains(NAME_SLOT))
            };
            let before = (0..i)
                .rev()
                .find_map(|j| met[j].map(|m| if named(j) { m.0 } else { m.1 }));
            let after = (i + 1..findings.len())
                .find_map(|j| met[j].map(|m| if named(j) { m.1 } else { m.0 }));
            // Where the next item's match ends: the rest of its sentence comes after.
            let after_end = (i + 1..findings.len()).find_map(|j| met[j].map(|m| m.1));
            let (mut lo, mut hi) = (before.unwrap_or(0), after.unwrap_or(u64::MAX));
            if rule.kind == RuleKind::Consent {
                // The customer answers after the items the consent depends on.
                let deps = rule.after.iter().filter_map(|d| {
                    let j = findings.iter().position(|f| &f.rule_id == d)?;
                    met[j].map(|m| m.1)
                });
                lo = deps.max().unwrap_or(0);
                hi = u64::MAX;
            }
            if lo >= hi {
                (lo, hi) = (0, u64::MAX);
            }
            let said_by_speaker = |s: Speaker| s == speaker || (mono && s == Speaker::Unknown);
            let said_by = |s: &Segment| said_by_speaker(s.speaker);
            // Disclosures are said in one sentence in any order ("vous ne serez engagé
            // qu'après la signature du contrat, que vous recevrez par courrier"): the speech
            // read again for the item (second listen, script check) runs to the end of the
            // sentence the next item was found in. Its doubt is still judged between the
            // neighbours: a wider place makes doubt of any garbled word of the next sentence.
            let mut read_to = hi;
            if rule.kind != RuleKind::Consent && hi != u64::MAX {
                if let Some(s) = t
                    .segments
                    .iter()
                    .find(|s| said_by(s) && s.start_ms <= hi && hi < s.end_ms)
                {
                    read_to = s.end_ms;
                }
            }
            if let Some(w) = rule.within_ms {
                hi = hi.min(w);
                read_to = read_to.min(w);
            }
            let call_end = t.segments.iter().map(|s| s.end_ms).max().unwrap_or(0);
            hi = hi.min(call_end);
            read_to = read_to.min(call_end);
            let searched = (lo <= read_to).then_some((lo, read_to));
            let place: Vec<&Segment> = t
                .segments
                .iter()
                .filter(|s| said_by(s) && s.start_ms < hi && s.end_ms > lo)
                .collect();
            // The words said where the item was expected; those heard without confidence
            // could be the item, garbled. Two of them at least: one stray word hides nothing.
            let heard = words_between(&place, lo, hi);
            // A disclosure may be said out of the rule set's order (the withdrawal period
            // last, after the confirmation): its own words around a doubtful stretch say where,
            // anywhere in its window.
            let window_end = rule.within_ms.unwrap_or(u64::MAX).min(call_end);
            let window: Vec<&Segment> = t
                .segments
                .iter()
                .filter(|s| rule.kind == RuleKind::Required && said_by(s))
                .filter(|s| s.start_ms < window_end)
                .collect();
            let window_heard = words_between(&window, 0, window_end);
            let is_low = |(s, _, _, p, _): &Heard| {
                *p < Segment::DOUBTFUL_WORD_BELOW || (s.words.is_empty() && s.is_doubtful())
            };
            // Words heard with doubt one after the other are one stretch that may be the item
            // garbled, if it lasts long enough to have held it, together with the words of
            // the item's phrasings heard clearly on either side of it: "rétractation de
            // [doubtful] jours" is the disclosure with its number lost, though the doubtful
            // word alone is too short to have been all of it.
            let shortest = shortest_said_ms(rule);
            let rules_saying = rules_saying.get_or_init(|| PhrasingWords::rules_saying(book));
            let phrasing_words = PhrasingWords::of(rule, &book.language, rules_saying);
            // The rest of the sentence the next item was found in, after its match: a
            // disclosure said last in that sentence ("…vous ne serez engagée qu'à la
            // signature du contrat que nous vous enverrons") is there. Only a word barely
            // heard there counts ("…du contrat que nos envérones", 0.31): the place is judged
            // between the neighbours, and a wider one would make doubt of any garbled word.
            let mut rest_of_sentence = match after_end {
                // From the match's last word, which may end the sentence itself.
                Some(from) if rule.kind == RuleKind::Required && from < read_to => {
                    words_between(&window, from.saturating_sub(1), read_to)
                }
                _ => Vec::new(),
            };
            if let Some(end) = rest_of_sentence
                .iter()
                .position(|h| h.4.trim().ends_with(SENTENCE_ENDS))
            {
                rest_of_sentence.truncate(end + 1);
            }
            // Words another item was found on are that item's.
            rest_of_sentence.retain(|h| {
                after_end.is_some_and(|from| h.1 >= from)
                    && !met.iter().flatten().any(|&(s, e)| h.1 < e && s < h.2)
            });
            let mut low: Vec<&Heard> = Vec::new();
            for (words, in_place) in [(&heard, true), (&window_heard, false)] {
                let mut k = 0;
                while k < words.len() {
                    if !is_low(&words[k]) {
                        k += 1;
                        continue;
                    }
                    let run_end = (k..words.len())
                        .find(|&j| !is_low(&words[j]))
                        .unwrap_or(words.len());
                    let (from, to) = phrasing_words.around(words, k, run_end);
                    let widened = (from..to) != (k..run_end);
                    if (in_place && could_hold(&words[k..run_end], shortest))
                        || widened && could_hold(&words[from..to], shortest)
                    {
                        for h in &words[from..to] {
                            push_once(&mut low, h);
                        }
                    }
                    k = run_end;
                }
            }
            for h in rest_of_sentence
                .iter()
                .filter(|h| h.3 < BARELY_HEARD && could_hold(std::slice::from_ref(*h), shortest))
            {
                push_once(&mut low, h);
            }
            low.sort_by_key(|h| h.1);
            // A number, then a word heard with doubt or that is no word of the language,
            // where a "{number} euros" was expected: the number was heard and its unit garbled
            // ("coûte 120 reparences", "qui 120 reparons" at 0.42, for "cent vingt euros par
            // an"). One word, but the one the item turns on: the number is its slot.
            if !rule.number_script.is_empty() {
                for pair in heard.windows(2) {
                    let (n, unit) = (&pair[0], &pair[1]);
                    let unclear = unit.3 < Segment::DOUBTFUL_WORD_BELOW
                        || book
                            .lexicon
                            .as_ref()
                            .is_some_and(|l| !l.knows(unit.4, &book.vocabulary));
                    if std::ptr::eq(n.0, unit.0) && is_number_word(n.4) && unclear {
                        for h in [n, unit] {
                            push_once(&mut low, h);
                        }
                    }
                }
                low.sort_by_key(|h| h.1);
            }
            // Two words or more that are no words of the language: the recogniser spelled
            // sounds it could not follow, however sure it says it was.
            if let Some(lexicon) = &book.lexicon {
                let made_up: Vec<&Heard> = heard
                    .iter()
                    .filter(|h| !h.0.words.is_empty() && !lexicon.knows(h.4, &book.vocabulary))
                    .collect();
                let said: u64 = made_up
                    .iter()
                    .map(|h| {
                        h.2.saturating_sub(h.1)
                            .max(syllables(h.4) * FASTEST_SYLLABLE_MS)
                    })
                    .sum();
                if made_up.len() >= MADE_UP_MIN && said >= shortest {
                    for h in made_up {
                        push_once(&mut low, h);
                    }
                    low.sort_by_key(|h| h.1);
                }
            }
            // One word that is no word of the language where a disclosure was expected,
            // sounding like one of its own telling words: that word misheard, however sure the
            // recogniser says it was ("vous recevrez le contrat par e-mail pour l'ocinier" for
            // "… pour le signer": "ocinier" and "signer" are both "s n").
            let mut own_word_misheard = false;
            if let (Some(lexicon), RuleKind::Required) = (&book.lexicon, rule.kind) {
                for h in heard.iter().filter(|h| {
                    !h.0.words.is_empty()
                        && !lexicon.knows(h.4, &book.vocabulary)
                        && phrasing_words.sounds_like_its_own(h.4)
                }) {
                    own_word_misheard = true;
                    push_once(&mut low, h);
                }
                low.sort_by_key(|h| h.1);
            }
            // A customer's answer that opens on a word heard with doubt: "oui" and "non", one
            // syllable each, are the words a call turns on, and open the answer ("Non, ça ne
            // m'intéresse pas, merci" came out "Nous, ça nous m'intéressera, merci", "Nous" at
            // 0.49). No assent found after it may be an assent or a refusal misheard: never
            // certain, however short the word.
            let mut opens_in_doubt = false;
            if rule.kind == RuleKind::Consent {
                for h in heard.iter().filter(|h| {
                    h.3 < Segment::DOUBTFUL_WORD_BELOW
                        && h.0.words.first().is_some_and(|w| w.start_ms == h.1)
                }) {
                    opens_in_doubt = true;
                    push_once(&mut low, h);
                }
                low.sort_by_key(|h| h.1);
            }
            // Against an agent's statement of agreement, only an assent hidden there counts:
            // where the rest of the customer's answer, heard with confidence, makes no yes of
            // it whatever its opening words were ("Vomme, je ne sais pas trop" for "Hum, je ne
            // sais pas trop", "Vomme" at 0.33), the agent stated an agreement the customer
            // never gave.
            if unheard_assent {
                low.retain(|h| !opening_rules_out_an_assent(h.0, h.1));
                opens_in_doubt &= low
                    .iter()
                    .any(|h| h.0.words.first().is_some_and(|w| w.start_ms == h.1));
            }
            // One word long enough to have held the item, heard with doubt, with another
            // heard with doubt close by in the same sentence: garbled speech, whose other
            // words came out sure ("j'ai un petit de cheveux n'école" for "Julien Petit de
            // chez Vendicall": "cheveux" at 0.36, "un" at 0.44, "petit de" above 0.9).
            if low.len() == 1 {
                let one = low[0];
                if let Some(near) = heard.iter().find(|h| {
                    std::ptr::eq(h.0, one.0)
                        && h.1 != one.1
                        && is_low(h)
                        && h.1.max(one.1).saturating_sub(h.2.min(one.2)) <= STRETCH_GAP_MS
                }) {
                    push_once(&mut low, near);
                    low.sort_by_key(|h| h.1);
                }
            }
            let doubtful: Vec<(u64, u64, &str)> = if low.len() >= 2
                || opens_in_doubt
                || own_word_misheard
                || low
                    .iter()
                    .any(|(s, _, _, p, _)| s.words.is_empty() || *p < BARELY_HEARD)
            {
                low.iter()
                    .map(|(s, a, b, _, _)| (*a, *b, s.text.trim()))
                    .collect()
            } else {
                Vec::new()
            };
            let confidence =
                round2(heard.iter().map(|w| w.3).sum::<f32>() / heard.len().max(1) as f32);
            let second_listen = place.iter().any(|s| s.second_listen);
            let f = &mut findings[i];
            match (doubtful.first(), doubtful.last()) {
                (Some(first), Some(last)) => {
                    let span = (first.0, last.1);
                    let mut heard: Vec<&str> = doubtful.iter().map(|d| d.2).collect();
                    heard.dedup();
                    f.status = FindingStatus::Review;
                    f.detail = format!(
                        "{}; but the {speaker}'s speech at {}-{} was not recognised with confidence (\"{}\"): listen there before concluding",
                        f.detail,
                        clock(span.0),
                        clock(span.1),
                        heard.join(" / ")
                    );
                    f.hearing = Some(Hearing {
                        confidence,
                        doubtful: Some(span),
                        stretches: stretches_of(&doubtful),
                        searched,
                        second_listen,
                        script_check: false,
                    });
                }
                _ => {
                    let near =
                        near_reading(t, rule, &|s| said_by_speaker(s), searched).filter(|_| absent);
                    if let Some(n) = near {
                        let span = (n.start_ms, n.end_ms);
                        f.status = FindingStatus::Review;
                        f.detail = format!(
                            "{}; but the recording supports \"{}\" at {}-{} nearly as well as what was heard there ({:.1} nats less likely): listen there before concluding",
                            f.detail,
                            n.phrasing,
                            clock(span.0),
                            clock(span.1),
                            n.nats_below
                        );
                        f.hearing = Some(Hearing {
                            confidence,
                            doubtful: Some(span),
                            stretches: vec![span],
                            searched,
                            second_listen,
                            script_check: false,
                        });
                    } else if let Some(said) = spoken_of(&heard, &phrasing_words, &denied)
                        .filter(|_| absent && rule.kind == RuleKind::Required)
                    {
                        // The agent spoke of the item where it was expected, in words the
                        // rule set does not hold or with one of them heard as another, however
                        // sure the recogniser was ("que vous devrez finir avant tout
                        // engagement" for "… signer avant tout engagement", "finir" at 0.67
                        // in the first pass, 0.76 in the second listen): an accusation would
                        // rest on the rule set's wording, not on the recording.
                        let span = (
                            said.iter().map(|h| h.0.start_ms).min().unwrap_or(0),
                            said.iter().map(|h| h.0.end_ms).max().unwrap_or(0),
                        );
                        let mut sentences: Vec<&str> =
                            said.iter().map(|h| h.0.text.trim()).collect();
                        sentences.dedup();
                        let words: Vec<String> = said
                            .iter()
                            .map(|h| {
                                format!("\"{}\"", h.4.trim_matches(|c: char| !c.is_alphanumeric()))
                            })
                            .collect();
                        f.status = FindingStatus::Review;
                        f.detail = format!(
                            "{}; but the {speaker} spoke of it at {}-{} (\"{}\": {} are words of its phrasings) in words the rule set does not hold: read and listen there before concluding",
                            f.detail,
                            clock(span.0),
                            clock(span.1),
                            sentences.join(" / "),
                            words.join(", ")
                        );
                        f.hearing = Some(Hearing {
                            confidence,
                            doubtful: Some(span),
                            stretches: Vec::new(),
                            searched,
                            second_listen,
                            script_check: false,
                        });
                    } else if absent {
                        f.hearing = Some(Hearing {
                            confidence,
                            doubtful: None,
                            stretches: Vec::new(),
                            searched,
                            second_listen,
                            script_check: false,
                        });
                        // The customer answered the offer, heard clearly, in words that
                        // neither agree nor decline as the rule set writes them ("Rappelez-moi
                        // la semaine prochaine", "Ça marche, on fait comme ça"): no assent is
                        // proved, and no sale either. An accusation would rest on the rule
                        // set's vocabulary, not on the recording.
                        if rule.kind == RuleKind::Consent {
                            if let Some((at, said)) = answer_heard(&heard, lo > 0) {
                                f.status = FindingStatus::Review;
                                f.detail = format!(
                                    "{}, but the {speaker} answered \"{said}\" at {}, neither agreeing nor declining in words the rule set holds: listen to whether a sale was made",
                                    f.detail,
                                    clock(at)
                                );
                            }
                        }
                    } else if let Some(h) = f.hearing.as_mut() {
                        h.searched = searched;
                    }
                }
            }
            continue;
        }
        let shaky = f
            .hearing
            .as_ref()
            .is_some_and(|h| h.confidence < ACCUSE_CONFIDENCE_MIN);
        if shaky && f.start_ms.is_some() {
            let f = &mut findings[i];
            f.status = FindingStatus::Review;
            f.detail.push_str(&format!(
                "; heard without confidence (word probability {:.2}): listen to confirm",
                f.hearing.as_ref().map_or(0.0, |h| h.confidence)
            ));
            if let (Some(s), Some(e), Some(h)) = (f.start_ms, f.end_ms, f.hearing.as_mut()) {
                h.doubtful = Some((s, e));
            }
        }
    }
}

#[cfg(test)]
mod tests;
