//! What the recogniser made of a call: words with their times, segments, and search hits.

use super::*;

/// A word with its time, as the recogniser placed it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// Mean token probability, 0..1. After a second listen, a word both decodings heard at the
    /// same moment has the higher of their two probabilities.
    pub probability: f32,
}

/// A stretch of speech by one speaker.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// How `speaker` was decided; older transcripts, made before diarization, were by channel.
    #[serde(default)]
    pub attribution: Attribution,
    /// Decoded again with beam search and the rule set's vocabulary because a finding
    /// depended on this stretch of speech (the "second listen").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub second_listen: bool,
    /// What the recogniser first heard here, where the script's words were found to fit the
    /// recording about as well and replaced a garbled stretch ("l'appétulatif écrit" →
    /// "récapitulatif écrit"): kept so that a person sees both readings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heard_first: Option<String>,
    /// A second listen heard this stretch otherwise and lost a finding the first pass had met
    /// on it with a loose match (a customer's assent heard once, not again): the first pass's
    /// words stand, but what rests on them is for a person to confirm.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disputed: bool,
}

impl Segment {
    /// Word probability under which a word was not really heard.
    pub const DOUBTFUL_WORD_BELOW: f32 = 0.5;

    /// Makes the segment's text and times those of its words again, after some were taken
    /// away (words written twice, or past the speech): the text its words joined, from its
    /// first word's start to its last word's end. A segment left without words keeps its
    /// times and has no text.
    pub fn fit_to_words(&mut self) {
        self.text = self.words_text();
        if let (Some(first), Some(last)) = (self.words.first(), self.words.last()) {
            self.start_ms = first.start_ms;
            self.end_ms = last.end_ms.max(first.start_ms);
        }
    }

    /// Its words' texts, trimmed, joined by one space: what the segment says once its words
    /// changed.
    pub fn words_text(&self) -> String {
        self.words
            .iter()
            .map(|w| w.text.trim())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether the recogniser was unsure of this stretch: a low mean log-probability, or many
    /// words under [`Segment::DOUBTFUL_WORD_BELOW`]. Garbled speech ("ça s'offit marronnier"
    /// for a seller's introduction) comes out this way; an item not found there may have been
    /// said, so its absence is for a person to check, not an accusation.
    pub fn is_doubtful(&self) -> bool {
        let low = self
            .words
            .iter()
            .filter(|w| w.probability < Self::DOUBTFUL_WORD_BELOW)
            .count();
        self.avg_logprob < -0.55 || (low * 4 >= self.words.len().max(1) && low >= 2)
    }

    /// Mean word probability (1 when the segment has no word times).
    pub fn confidence(&self) -> f32 {
        if self.words.is_empty() {
            return self.avg_logprob.exp().clamp(0.0, 1.0);
        }
        self.words.iter().map(|w| w.probability).sum::<f32>() / self.words.len() as f32
    }

    /// What is left of this segment once the words another decoding heard again are taken
    /// out: the runs of its words whose middle lies outside every span of `heard` (ms), each
    /// as a segment of its own. One first-pass segment can hold what a second decoding cut in
    /// two ("Hello, I'm … representing Pulse Broadband today, just to let you know, the call is
    /// recorded"): where the second hearing of the introduction was dropped again (it lost
    /// "representing") and its hearing of the notice kept, the first pass's segment, overlapped
    /// by the notice, was not given back at all, the introduction lost with it, and a compliant
    /// call was called a violation. A word counts as heard again when its middle lies in a
    /// span, or when a span covers more than a third of it: word times are only as sure as the
    /// alignment, and the first pass's "Find" (20.61-21.05 s) was kept beside the second
    /// hearing's "Fine, I agree." (from 20.84 s), one word written twice. Without word times, a
    /// segment that overlaps a span goes whole.
    pub fn outside(&self, heard: &[(u64, u64)]) -> Vec<Segment> {
        if self.words.is_empty() {
            let overlaps = heard
                .iter()
                .any(|&(a, b)| self.start_ms < b && a < self.end_ms);
            return if overlaps {
                Vec::new()
            } else {
                vec![self.clone()]
            };
        }
        let covered = |w: &Word| {
            let len = w.end_ms.saturating_sub(w.start_ms);
            let mid = w.start_ms + len / 2;
            heard.iter().any(|&(a, b)| {
                let overlap = w.end_ms.min(b).saturating_sub(w.start_ms.max(a));
                (a <= mid && mid < b) || 3 * overlap > len
            })
        };
        if !self.words.iter().any(covered) {
            return vec![self.clone()];
        }
        let mut out = Vec::new();
        let mut run: Vec<Word> = Vec::new();
        let words = self.words.iter().map(Some).chain(std::iter::once(None));
        for w in words {
            match w {
                Some(w) if !covered(w) => run.push(w.clone()),
                _ if run.is_empty() => {}
                _ => {
                    let words = std::mem::take(&mut run);
                    let start_ms = words[0].start_ms;
                    let end_ms = words.iter().map(|w| w.end_ms).max().unwrap_or(start_ms);
                    out.push(Segment {
                        text: words
                            .iter()
                            .map(|w| w.text.as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                        start_ms,
                        end_ms: end_ms.max(start_ms),
                        words,
                        ..self.clone()
                    });
                }
            }
        }
        out
    }

    /// The speaker as people read it: "agent", or "agent (by voice, 87 %)" when voices rather
    /// than channels told who spoke.
    pub fn speaker_label(&self) -> String {
        match self.attribution.source {
            AttributionSource::Channel => self.speaker.to_string(),
            AttributionSource::Diarization => format!(
                "{} (by voice, {:.0} %)",
                self.speaker,
                self.attribution.confidence * 100.0
            ),
        }
    }
}

/// Where a segment's speaker comes from.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributionSource {
    /// The recording's channel carries one party: certain.
    Channel,
    /// Told apart by voice on a channel that carries several (a mono recording).
    Diarization,
}

/// How a segment's speaker was decided, and how sure that is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    pub source: AttributionSource,
    /// 0..1: 1 for a channel; for diarization, how much closer the voice is to its speaker
    /// than to any other.
    pub confidence: f32,
}

impl Attribution {
    /// Below this confidence, who said it is doubtful: findings that depend on the speaker
    /// are for a person to confirm.
    pub const DOUBTFUL_BELOW: f32 = 0.5;

    pub const CHANNEL: Self = Self {
        source: AttributionSource::Channel,
        confidence: 1.0,
    };

    pub fn diarization(confidence: f32) -> Self {
        Self {
            source: AttributionSource::Diarization,
            confidence: confidence.clamp(0.0, 1.0),
        }
    }

    pub fn is_doubtful(&self) -> bool {
        self.confidence < Self::DOUBTFUL_BELOW
    }
}

impl Default for Attribution {
    fn default() -> Self {
        Self::CHANNEL
    }
}

/// The transcript of a whole call: every channel's segments, merged in time order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub call_id: CallId,
    /// Name and SHA-256 of the Whisper model that produced it.
    pub model: String,
    pub model_sha256: String,
    pub language: String,
    pub segments: Vec<Segment>,
    /// Script phrasings the recording nearly supports where an item was found missing (the
    /// script check): not well enough to put them in place, too well to accuse anyone of not
    /// having said them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub near_readings: Vec<NearReading>,
}

/// A phrasing of a required item or of consent that the recording supports nearly as well as
/// what the recogniser heard at a place ("par courrier" where it heard "par coin et", 8 nats
/// less likely), though not as well as a reading put in place must be. The item may have been
/// said there and garbled, so its absence is for a person to check, not an accusation.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NearReading {
    /// The rule whose phrasing was read.
    pub rule_id: String,
    /// The phrasing, as the rule set says it.
    pub phrasing: String,
    pub speaker: Speaker,
    pub channel: u16,
    /// The words it was read in place of (ms).
    pub start_ms: u64,
    pub end_ms: u64,
    /// How much less likely the recording found the phrasing there than what the recogniser
    /// heard, in nats (natural-log units of probability; 0 would be as likely).
    pub nats_below: f32,
}

impl Transcript {
    /// Puts a second decoding of some of `channel`'s speech in place of the first: the first's
    /// words it heard again go (see [`Segment::outside`]), the rest stay, and its segments come
    /// in. Segments stay in time order.
    pub fn replace_heard(&mut self, channel: u16, heard: Vec<Segment>) {
        let spans: Vec<(u64, u64)> = heard.iter().map(|h| (h.start_ms, h.end_ms)).collect();
        let old = std::mem::take(&mut self.segments);
        for s in old {
            if s.channel == channel {
                self.segments.extend(s.outside(&spans));
            } else {
                self.segments.push(s);
            }
        }
        self.segments.extend(heard);
        self.segments.sort_by_key(|s| (s.start_ms, s.channel));
    }

    /// Undoes a second decoding where it lost words a finding was met on (`lost`, ms): the
    /// first pass's segments that held those words (`first_pass`, the transcript before the
    /// second decoding) come back, and the second decoding's words over them go; its words
    /// elsewhere stay. Where a loss names a speaker (a customer's loose assent), all of that
    /// speaker's second hearing over the span goes, and every first-pass segment it had
    /// taken the place of comes back. First-pass words come back where nothing now covers them
    /// ([`Segment::outside`]: word by word, so that a first-pass segment partly overlapped by
    /// a second hearing that stays gives back its other words), marked `disputed` over the
    /// `disputed` spans. Before, a second hearing went whole and only the first-pass segments
    /// over the lost words came back: "Notre offre de gaz coûte trente-cinq euros par mois",
    /// heard by both decodings, in one second-listen segment with the confirmation by mail the
    /// second one lost, was in neither any more, and the price was missing.
    pub fn give_back_first_pass(
        &mut self,
        first_pass: &[Segment],
        lost: &[(Option<Speaker>, u64, u64)],
        disputed: &[(u64, u64)],
    ) {
        if lost.is_empty() {
            return;
        }
        let over = |s: &Segment, who: Option<Speaker>, (a, b): (u64, u64)| {
            who.is_none_or(|w| w == s.speaker) && s.start_ms < b && a < s.end_ms
        };
        // The stretches given back to the first pass, per channel.
        let mut back: Vec<(u16, u64, u64)> = Vec::new();
        let span = |s: &Segment| (s.channel, s.start_ms, s.end_ms);
        for &(who, a, b) in lost {
            let undone = |s: &&Segment| over(s, who, (a, b));
            if who.is_some() {
                let second = self.segments.iter().filter(|s| s.second_listen);
                back.extend(second.filter(undone).map(span));
            } else {
                back.extend(first_pass.iter().filter(undone).map(span));
            }
        }
        let spans_on = |channel: u16| -> Vec<(u64, u64)> {
            back.iter()
                .filter(|b| b.0 == channel)
                .map(|b| (b.1, b.2))
                .collect()
        };
        for s in std::mem::take(&mut self.segments) {
            if s.second_listen {
                self.segments.extend(s.outside(&spans_on(s.channel)));
            } else {
                self.segments.push(s);
            }
        }
        for old in first_pass {
            let given_back = back
                .iter()
                .any(|&(c, a, b)| c == old.channel && old.start_ms < b && a < old.end_ms);
            if !given_back {
                continue;
            }
            let now: Vec<(u64, u64)> = self
                .segments
                .iter()
                .filter(|s| s.channel == old.channel)
                .map(|s| (s.start_ms, s.end_ms))
                .collect();
            self.segments
                .extend(old.outside(&now).into_iter().map(|mut s| {
                    s.disputed = disputed
                        .iter()
                        .any(|&(a, b)| s.start_ms < b && a < s.end_ms);
                    s
                }));
        }
        self.segments.sort_by_key(|s| (s.start_ms, s.channel));
    }

    /// Makes each speaker's segments on a channel follow one another: where two overlap, one
    /// voice said one thing at a time, so the same audio was written twice. Two decodings meet
    /// this way at the edges of a second listen ("Nous" kept from the first pass at 15.78 s
    /// beside the second listen's "Nous vous proposons…" from 16.00 s) or when a decoding runs
    /// past its stretch and squeezes words it did not hear into its last instant ("The alarm
    /// system gusts for the PAN's demand.", six words at 8.65 s, where the next segment, from
    /// 8.62 s, heard "system costs 40 pounds per month."). The surer hearing of the overlap
    /// keeps it (a second listen's, else the one with the higher mean log-probability); the
    /// other loses its words that lie in that time and, at the edge, the words the surer one
    /// begins or ends with, and the rest of its words are held to the edge, never dropped.
    /// Speakers told apart by voice on one channel (a mono recording) may talk over each
    /// other: only one speaker's segments are compared with each other. Last, a segment that
    /// opens, in no time, with the words the one before it ended with loses them
    /// ([`Transcript::drop_edge_repeats`]). Returns the words dropped.
    pub fn untangle(&mut self) -> usize {
        let mut dropped = 0;
        // Each pass settles one overlap; a segment settled is never made to overlap again,
        // so the passes end. The bound only guards against a mistake here looping forever.
        for _ in 0..10_000 {
            self.segments
                .sort_by_key(|s| (s.channel, s.start_ms, s.end_ms));
            let n = self.segments.len();
            let pair = (0..n).find_map(|i| {
                let a = &self.segments[i];
                (i + 1..n)
                    .take_while(|&j| self.segments[j].channel == a.channel)
                    .find(|&j| {
                        let b = &self.segments[j];
                        b.speaker == a.speaker && b.start_ms < a.end_ms
                    })
                    .map(|j| (i, j))
            });
            let Some((i, j)) = pair else { break };
            let (a, b) = (&self.segments[i], &self.segments[j]);
            let a_wins = match (a.second_listen, b.second_listen) {
                (true, false) => true,
                (false, true) => false,
                _ => a.avg_logprob >= b.avg_logprob,
            };
            let (keep, lose) = if a_wins { (i, j) } else { (j, i) };
            let loser = self.segments.remove(lose);
            let winner = &self.segments[if keep > lose { keep - 1 } else { keep }];
            let before = loser.words.len();
            let rest = loser.held_off(winner);
            dropped += before.saturating_sub(rest.iter().map(|s| s.words.len()).sum());
            self.segments.extend(rest);
        }
        dropped += self.drop_edge_repeats();
        self.segments.sort_by_key(|s| (s.start_ms, s.channel));
        dropped
    }

    /// Where a speaker's segment on a channel opens, within [`EDGE_MS`] of the end of the one
    /// before, with two or more of the words that one ended with, written again in no time
    /// (every word of the repeat but its last starting within [`SQUEEZED_WORD_MS`] a word of
    /// the first: "9 ans, de compris," at 19.2-20.3 s, then "9 ans, de compris, vont marcher
    /// conclux." whose first three words sit at 20.303 s, two hearings of a second listen
    /// meeting), the later segment loses the repeat; one word written again, the copy that
    /// takes no time at the first one's end goes. Untouching segments never overlap, so
    /// the overlap rule does not see this; evidence must not show the words twice. Returns
    /// the words dropped.
    fn drop_edge_repeats(&mut self) -> usize {
        self.segments
            .sort_by_key(|s| (s.channel, s.start_ms, s.end_ms));
        let mut dropped = 0;
        for j in 1..self.segments.len() {
            let Some(i) = (0..j).rev().find(|&i| {
                let (a, b) = (&self.segments[i], &self.segments[j]);
                a.channel == b.channel && a.speaker == b.speaker
            }) else {
                continue;
            };
            let (a, b) = (&self.segments[i], &self.segments[j]);
            if a.channel != b.channel || b.start_ms > a.end_ms + EDGE_MS {
                continue;
            }
            let most = a.words.len().min(b.words.len());
            let repeat = (2..=most).rev().find(|&n| {
                let squeezed = b.words[n - 1].start_ms.saturating_sub(b.words[0].start_ms)
                    < (n as u64 - 1) * SQUEEZED_WORD_MS;
                squeezed
                    && a.words[a.words.len() - n..]
                        .iter()
                        .map(plain)
                        .eq(b.words[..n].iter().map(plain))
            });
            let Some(n) = repeat else {
                // One word: the copy that takes no time at the end of the first ("possibly."
                // at an instant, then "possibly." in its own time) goes.
                let timeless_again = a.words.last().zip(b.words.first()).is_some_and(|(x, y)| {
                    x.end_ms <= x.start_ms && plain(x) == plain(y) && !plain(x).is_empty()
                });
                if timeless_again {
                    let a = &mut self.segments[i];
                    a.words.pop();
                    a.fit_to_words();
                    dropped += 1;
                }
                continue;
            };
            let b = &mut self.segments[j];
            b.words.drain(..n);
            b.fit_to_words();
            dropped += n;
        }
        self.segments
            .retain(|s| !s.words.is_empty() || !s.text.is_empty());
        dropped
    }
}

/// A word's letters and digits, lower case: what "the same word" means when hearings are
/// compared.
fn plain(w: &Word) -> String {
    w.text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Less time than anyone takes to say a word (ms): words written again closer together than
/// this were written by a decoder, not said ([`Transcript::drop_edge_repeats`]).
const SQUEEZED_WORD_MS: u64 = 60;

/// How far (ms) from a surer hearing's edge a word it also heard counts as the same word
/// heard twice: word times are only as sure as the alignment.
const EDGE_MS: u64 = 300;

impl Segment {
    /// What is left of this segment beside `other`, a surer hearing of speech overlapping it
    /// (see [`Transcript::untangle`]): its words outside `other`'s time, less those at the
    /// edge that `other` heard too, each run held to its side of `other`.
    fn held_off(&self, other: &Segment) -> Vec<Segment> {
        let span = (other.start_ms, other.end_ms);
        if self.words.is_empty() {
            // Without word times only the segment's own times can be held off.
            let mut s = self.clone();
            if s.start_ms < span.0 {
                s.end_ms = s.end_ms.min(span.0);
            } else {
                s.start_ms = s.start_ms.max(span.1);
                s.end_ms = s.end_ms.max(s.start_ms);
            }
            return if s.end_ms > s.start_ms || s.start_ms < span.0 {
                vec![s]
            } else {
                Vec::new()
            };
        }
        let mut out = Vec::new();
        // A run of words `outside` left may reach across `other` (none of its words lay in
        // that time): its words before and after it are held off on their own sides.
        let mut sides: Vec<(bool, Segment)> = Vec::new();
        for piece in self.outside(&[span]) {
            let (early, late): (Vec<Word>, Vec<Word>) = piece
                .words
                .iter()
                .cloned()
                .partition(|w| w.start_ms + w.end_ms.saturating_sub(w.start_ms) / 2 < span.0);
            for (before, words) in [(true, early), (false, late)] {
                if !words.is_empty() {
                    sides.push((
                        before,
                        Segment {
                            words,
                            ..piece.clone()
                        },
                    ));
                }
            }
        }
        for (before, mut piece) in sides {
            // At the edge, words `other` begins (or ends) with are the same words heard twice:
            // the longest run of them, up to three, goes.
            let near_edge = |w: &Word| {
                if before {
                    w.end_ms + EDGE_MS >= span.0
                } else {
                    w.start_ms <= span.1 + EDGE_MS
                }
            };
            let repeated = (1..=3.min(piece.words.len()).min(other.words.len()))
                .rev()
                .find(|&k| {
                    let (mine, theirs) = if before {
                        (&piece.words[piece.words.len() - k..], &other.words[..k])
                    } else {
                        (&piece.words[..k], &other.words[other.words.len() - k..])
                    };
                    mine.iter().all(near_edge)
                        && mine
                            .iter()
                            .zip(theirs)
                            .all(|(m, t)| !plain(m).is_empty() && plain(m) == plain(t))
                })
                .unwrap_or(0);
            if before {
                piece.words.truncate(piece.words.len() - repeated);
            } else {
                piece.words.drain(..repeated);
            }
            for w in &mut piece.words {
                if before {
                    w.end_ms = w.end_ms.min(span.0);
                    w.start_ms = w.start_ms.min(w.end_ms);
                } else {
                    w.start_ms = w.start_ms.max(span.1);
                    w.end_ms = w.end_ms.max(w.start_ms);
                }
            }
            if piece.words.is_empty() {
                continue;
            }
            piece.fit_to_words();
            out.push(piece);
        }
        out
    }
}

/// One matching segment inside a search hit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// Syllables of a text, counted as groups of vowels (without accents): "being recorded"
/// counts 4 for 5 said; a French mute e counts one ("de la part de" 4, said "d'la part de" 3
/// when fast). What it serves, a pace (how long words take to say, how much speech a decoding
/// left out), needs no better.
pub fn syllables(text: &str) -> u64 {
    let plain = deunicode::deunicode(text).to_lowercase();
    let mut groups = 0;
    let mut in_vowel = false;
    for c in plain.chars() {
        let vowel = matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
        if vowel && !in_vowel {
            groups += 1;
        }
        in_vowel = vowel;
    }
    groups
}
