//! Script readings: where a finding is in doubt because the recogniser garbled the words it
//! rests on, the same stretch with the script's phrasing in their place, for the recording to
//! decide between.
//!
//! The text alone cannot tell "l'appétulatif écrit" (a garbled "récapitulatif écrit") from
//! another sentence; the speech model can say how much less likely the script's words are than
//! its own reading of the same audio (`callproof_transcribe::Engine::score_readings`). Building
//! the readings and putting an accepted one into the transcript live here, beside the matching
//! that found the doubtful words; the service scores them, because only it holds audio and model.
//! A reading clears a doubt: it is tried for required items, never for a forbidden phrase nor
//! for the customer's consent, and takes nothing another finding was found on. The consent is
//! the customer's own words, what a proof of the sale quotes: a reading would put the script's
//! assent in their mouth. On the eight benchmark sets, 9 of the 11 consent readings accepted
//! were words the customer never said ("c'est d'accord" for "Oui, s'il vous plaît"), two of
//! them on customers who never agreed ("I'll pass, thanks" heard "I'll test Zunks", read "I
//! agree"; BENCHMARKS.md). The one accusation it may leave is
//! of another item not found whose only doubt lay in the words it replaced: the recording says
//! they were something else ([`apply_clearing`]).

use callproof_models::{FindingStatus, Outcome, RuleKind, Segment, Transcript, Verification, Word};

use crate::{find_with, streams, RuleBook};

pub use callproof_models::{NUMBER_SLOT, REST_SLOT};

/// Longest stretch a reading covers: one Whisper window, less a margin.
pub const MAX_READING_MS: u64 = 29_000;

/// Score under which a place is too unlike the phrasing to be a garbled reading of it.
const CANDIDATE_FLOOR: f32 = 0.4;

/// Places tried per finding, and phrasings tried per place (the most alike). Letters are a
/// weak guide over garbled words: "the colors are recorded" is closer to four other phrasings
/// than to the "call is recorded" said, which the recording put 1.4 nats from its own hearing
/// and the others 10 and more below it. Six instead of four tried 10–26 % more readings on the
/// labelled sets, for 9–18 % more script-check time (1–6 % of an ingest; BENCHMARKS.md).
const PLACES: usize = 3;
const PHRASINGS: usize = 6;
/// Runs of words each phrasing is read over where an item was found missing with confidence
/// ([`held_back_readings`]): letters are a weak guide to words heard with confidence ("honnante
/// de" for "au nom de" came fourth, behind "dubois de"); the recording decides among them.
const RUNS: usize = 4;

/// Words a reading's place may take beyond those its match covered (see [`widened`]).
const MAX_WIDENING: usize = 2;

/// One stretch of a channel heard one way, and the same stretch read with the script's words.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptReading {
    pub rule_id: String,
    pub channel: u16,
    /// The stretch to score: the whole segments that hold the doubtful words (ms).
    pub window: (u64, u64),
    /// What the recogniser heard over `window`.
    pub heard: String,
    /// The same, with the phrasing in place of the words it may have been heard as.
    pub script: String,
    /// The words replaced: from the first one's start to the last one's end (ms).
    pub replaced: (u64, u64),
    /// The same words as positions among the window's words (`a..b`).
    pub words: (usize, usize),
    /// The phrasing as said (a `Rule::script` entry), as put in place.
    pub phrase: String,
    /// The phrasing ends in an elided article that took in the word after those it replaced
    /// (the last of `words`): "au nom d'énergie" for "mon énergie".
    pub took_next: bool,
    /// Read over words heard with confidence where an item was found missing
    /// ([`script_readings`]): a reading the recording supports about as well as those words,
    /// in all and token for token, holds the accusation back for a person to hear; it never
    /// puts the item in place.
    pub hold_back_only: bool,
}

impl ScriptReading {
    /// The words heard that the reading takes the place of (`words` of `heard`).
    pub fn replaced_words(&self) -> String {
        self.heard
            .split_whitespace()
            .skip(self.words.0)
            .take(self.words.1.saturating_sub(self.words.0))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn plain(s: &str) -> String {
    deunicode::deunicode(s)
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ')
        .collect()
}

/// Where a finding's words may have been garbled, if it is one a reading could clear: a
/// required item matched in the doubtful band ("probably said": the match), or not found
/// (where the speech was doubtful, or else all the speech searched — a "missing" is an
/// accusation, and a misheard word must not make one). A forbidden phrase is never read in,
/// nor the customer's consent (see the module's documentation): an assent garbled stays for a
/// person to hear.
fn in_doubt(book: &RuleBook, f: &callproof_models::Finding) -> Option<(u64, u64)> {
    if f.kind != RuleKind::Required {
        return None;
    }
    let hearing = f.hearing.as_ref();
    match (f.status, f.outcome, f.start_ms, f.end_ms, f.score) {
        // Scores are stored rounded to two decimals: 0.7466 reads 0.75.
        (FindingStatus::Review, Outcome::Met, Some(s), Some(e), Some(score))
            if score < book.review_below + 0.005 =>
        {
            Some((s, e))
        }
        (FindingStatus::Review, Outcome::Missing, None, None, _) => {
            hearing.and_then(|h| h.doubtful)
        }
        (FindingStatus::Fail, Outcome::Missing, None, None, _) => hearing.and_then(|h| h.searched),
        _ => None,
    }
}

/// Where a required item with a number ("{number} euros") was not found: one speaker's
/// speech, cut into windows the recording is read in, and the phrasings to read there with
/// the number the recording finds likeliest (`callproof_transcribe::NUMBER_SLOT`).
#[derive(Debug, Clone, PartialEq)]
pub struct NumberPlace {
    pub rule_id: String,
    pub channel: u16,
    /// Whole segments, at most [`MAX_READING_MS`] (ms).
    pub window: (u64, u64),
    /// The rule's `{number}` phrasings, as said.
    pub phrases: Vec<String>,
}

/// The places to read a number in, for each required item with `{number}` phrasings that was
/// not found (see [`script_readings`] for which findings are in doubt): where it was searched
/// as well as the doubtful words. The doubt may lie outside the place the item was expected
/// (the item's own words around it: "Megan Price from" for "price is {number}") while the
/// number was lost inside a word heard with confidence there ("costs eighteen pounds" heard
/// "cost-setting pounds").
pub fn number_places(book: &RuleBook, t: &Transcript, v: &Verification) -> Vec<NumberPlace> {
    let mut out = Vec::new();
    for f in &v.findings {
        let Some(rule) = book.rules.iter().find(|r| r.id == f.rule_id) else {
            continue;
        };
        if rule.number_script.is_empty() || f.outcome != Outcome::Missing {
            continue;
        }
        let Some(doubtful) = in_doubt(book, f) else {
            continue;
        };
        let searched = f.hearing.as_ref().and_then(|h| h.searched);
        let around = searched.map_or(doubtful, |s| (s.0.min(doubtful.0), s.1.max(doubtful.1)));
        let mut found: Vec<NumberPlace> = Vec::new();
        let mut place: Option<NumberPlace> = None;
        for s in t.segments.iter().filter(|s| {
            rule.speaker.is_none_or(|w| s.speaker == w)
                && !s.words.is_empty()
                && s.start_ms < around.1
                && around.0 < s.end_ms
        }) {
            match place.as_mut() {
                Some(p) if p.channel == s.channel && s.end_ms - p.window.0 <= MAX_READING_MS => {
                    p.window.1 = p.window.1.max(s.end_ms);
                }
                _ => {
                    found.extend(place.take());
                    if s.end_ms - s.start_ms <= MAX_READING_MS {
                        place = Some(NumberPlace {
                            rule_id: rule.id.clone(),
                            channel: s.channel,
                            window: (s.start_ms, s.end_ms),
                            phrases: rule.number_script.clone(),
                        });
                    }
                }
            }
        }
        found.extend(place);
        // Every window costs a reading per phrasing and per likely place of a number (a
        // 4-minute call searched whole took 124 readings, 80 s): the windows heard with least
        // confidence are read, where a garbled price is (a price heard confidently is found).
        if found.len() > PLACES {
            let confidence = |p: &NumberPlace| {
                let words: Vec<f32> = t
                    .segments
                    .iter()
                    .filter(|s| {
                        s.channel == p.channel && p.window.0 <= s.start_ms && s.end_ms <= p.window.1
                    })
                    .flat_map(|s| s.words.iter().map(|w| w.probability))
                    .collect();
                words.iter().sum::<f32>() / words.len().max(1) as f32
            };
            found.sort_by(|a, b| confidence(a).total_cmp(&confidence(b)));
            found.truncate(PLACES);
            found.sort_by_key(|p| (p.window.0, p.channel));
        }
        out.extend(found);
    }
    out
}

/// Places in a hearing a number reading tries: the words where the recording finds a number
/// likeliest to begin.
const NUMBER_POSITIONS: usize = 3;

/// Words heard after a number reading's phrasing that may join it in the transcript.
const MAX_REST_WORDS: usize = 3;

/// Similarity under which no words of the transcript are taken for the words a reading
/// replaced in the model's own hearing.
const PLACE_FLOOR: f64 = 0.3;

/// How many times more letters, at most, the words a reading takes the place of may hold than
/// what is put there ([`in_proportion`], [`hears_it_all`]).
const SHORTER_AT_MOST: usize = 2;

/// Letters of a text, without case, accents, punctuation or spaces: how much sound it writes.
fn letters(s: &str) -> usize {
    plain(s).chars().filter(|c| !c.is_whitespace()).count()
}

/// Whether a reading's phrasing is long enough for the words it takes the place of: speech
/// takes time, and the words heard over a stretch are sound a reading must account for. The
/// likelihood a reading is weighed by favours fewer words, since every token costs some
/// probability: "de la part d'" read over the goodbye "Madame, excellent tournée." scored
/// 20 nats above the model's own hearing, and "au nom de" over eight words that held the
/// seller's company 31 nats above, each a disclosure shown where it was never said. A phrasing
/// may be longer than the words it replaces (a recogniser drops words: "mon" for "au nom
/// d'"): the recording weighs those extra tokens itself.
fn in_proportion(r: &ScriptReading) -> bool {
    let replaced = letters(&r.replaced_words());
    // The transcript around the words is the same before and after: what the script holds
    // beyond it is what was put in.
    let put = (letters(&r.script) + replaced).saturating_sub(letters(&r.heard));
    put * SHORTER_AT_MOST >= replaced
}

/// Whether a reading whose rest the model heard freely (a number reading, scored as a whole)
/// still accounts for the stretch its own hearing wrote out: a free rest may end the
/// transcript at once, as Whisper does when it skips speech, and the reading then says the rest
/// of the stretch held nothing. "1 euros", and nothing after, scored 1.5 nats from the best
/// hearing of a stretch the model had heard as "La bonne naine revient à 40 ms." ("L'abonnement
/// d'un an revient à quarante-neuf euros"), and was put in place of "l'abonnement".
pub fn hears_it_all(own: &str, reading: &str) -> bool {
    letters(reading) * SHORTER_AT_MOST >= letters(own)
}

/// A number reading of the model's own hearing: `text` holds the hearing's words before
/// `words.0`, the phrasing with its slot, and [`REST_SLOT`]; `words.1` is the word after the
/// number's place (the words the phrasing took are known once the rest is heard).
#[derive(Debug, Clone, PartialEq)]
pub struct NumberText {
    pub text: String,
    pub words: (usize, usize),
    pub phrase: String,
}

/// The number readings of a hearing (`own`, its words split at spaces; per word, `number_here`:
/// how likely a number begins there, `behind`: how far that falls behind the likeliest token
/// there, and `heard`: the probability the model gave the word in its hearing, where known):
/// at the likeliest places, the hearing up to there, then each phrasing (its words before the
/// number taking the words before), then the rest as the model hears it after the phrasing.
/// A place where the number falls behind by more than `margin` gets none: its reading would
/// lose more than the margin at that one token.
pub fn number_readings(
    own: &str,
    (number_here, behind, heard): (&[f32], &[f32], &[f32]),
    phrases: &[String],
    margin: f32,
) -> Vec<NumberText> {
    let words: Vec<&str> = own.split_whitespace().collect();
    // A number heard already is another item's number ("14 jours"), unless the word after it
    // was heard with doubt: then it may be this item's, its unit garbled ("12 tons a month"
    // for "twelve pounds a month"), as verification takes a number and a doubtful word where
    // a price was expected.
    let unit_in_doubt = |i: usize| {
        heard
            .get(i + 1)
            .is_some_and(|p| *p < Segment::DOUBTFUL_WORD_BELOW)
    };
    // Nor does a number begin right after one: the model carries that one on ("40" then
    // "000 euros"), and the reading would take its last digits for the amount.
    let digits = |w: &str| w.starts_with(|c: char| c.is_ascii_digit());
    let mut at: Vec<usize> = (0..words.len().min(number_here.len()).min(behind.len()))
        .filter(|&i| {
            number_here[i].is_finite()
                && behind[i] >= -margin
                && (!digits(words[i]) || unit_in_doubt(i))
                && !(i > 0 && digits(words[i - 1]))
        })
        .collect();
    at.sort_by(|&x, &y| number_here[y].total_cmp(&number_here[x]));
    at.truncate(NUMBER_POSITIONS);
    // Whisper writes a garbled stretch as one hyphenated word ("The unlimited blend
    // cost-setting pounds" for "The unlimited plan costs eighteen pounds"): a number said
    // inside it begins at no word's start. Such a word without digits is a place too, the
    // least surely heard first: the phrasing's words before the number take its first part.
    // Its mean probability says little (0.71 for "cost-setting", its garbled tokens averaged
    // with "cost"), and a word that is one ("cooling-off") is refused by the recording.
    let mut inside: Vec<usize> = (0..words.len())
        .filter(|&i| {
            let w = words[i].trim_matches(|c: char| !c.is_alphanumeric());
            w.contains('-') && !w.contains(|c: char| c.is_ascii_digit())
        })
        .collect();
    inside.sort_by(|&x, &y| {
        let p = |i: usize| heard.get(i).copied().unwrap_or(0.0);
        p(x).total_cmp(&p(y))
    });
    inside.truncate(NUMBER_POSITIONS);
    let places = at
        .into_iter()
        .map(|k| (k, false))
        .chain(inside.into_iter().map(|k| (k, true)));
    let mut out = Vec::new();
    for (k, within) in places {
        for p in phrases {
            let Some((before, _)) = p.split_once(NUMBER_SLOT) else {
                continue;
            };
            let before = before.split_whitespace().count();
            let a = if within {
                (k + 1).checked_sub(before.max(1))
            } else {
                k.checked_sub(before)
            };
            let Some(a) = a else {
                continue;
            };
            // What follows the number is as the model hears it after the number: the words
            // heard there at first were heard as something other than a price.
            let put = fitted(p, words[a], "");
            let text = [words[..a].join(" "), put, REST_SLOT.to_string()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            if !out.iter().any(|o: &NumberText| o.text == text) {
                out.push(NumberText {
                    text,
                    words: (a, k + 1),
                    phrase: p.clone(),
                });
            }
        }
    }
    out
}

/// What a number reading is weighed against: the model's own hearing up to the same place,
/// then free as the reading's rest is (`own` and `n` as [`number_readings`] took them).
pub fn number_baseline(own: &str, n: &NumberText) -> String {
    let words: Vec<&str> = own.split_whitespace().collect();
    let before = words.get(..n.words.0).unwrap_or(&words[..]).join(" ");
    [before, REST_SLOT.to_string()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The reading of the transcript an accepted number reading of the model's own hearing
/// (`own`) makes: `filled` (the reading with its number) names the words said, and they take
/// the place of the transcript's words most like those the reading replaced in `own`. None
/// when the transcript holds nothing like them (the two hearings differ too much to say
/// where).
pub fn number_reading(
    t: &Transcript,
    place: &NumberPlace,
    own: &str,
    n: &NumberText,
    filled: &str,
) -> Option<ScriptReading> {
    let own_words: Vec<&str> = own.split_whitespace().collect();
    let filled_words: Vec<&str> = filled.split_whitespace().collect();
    let a = n.words.0;
    // The number may take more than one word: its thousands written apart ("40 000 euros").
    let number_at = a + n
        .phrase
        .split(NUMBER_SLOT)
        .next()
        .map_or(0, |before| before.split_whitespace().count());
    let thousands = filled_words.get(number_at + 1..).map_or(0, |rest| {
        rest.iter()
            .take_while(|w| crate::text::thousands_group(w))
            .count()
    });
    let put = n.phrase.split_whitespace().count() + thousands;
    // What the model heard after the phrasing rejoins its first hearing at the first word the
    // two share again: the words before it in the first hearing gave way to the phrasing and
    // to what follows it ("sans l'acteur retardant" to "120 euros par an").
    let bounds = align_bounds(&own_words, &filled_words);
    let (b, c) = (a + 1..own_words.len())
        .map(|j| (j, bounds[j]))
        .find(|&(j, c)| {
            c >= a + put
                && filled_words
                    .get(c)
                    .is_some_and(|w| plain(w) == plain(own_words[j]))
        })
        .filter(|&(_, c)| c <= a + put + MAX_REST_WORDS)
        .unwrap_or((n.words.1, a + put));
    let said = filled_words.get(a..c)?.join(" ");
    let said = said.trim_end_matches(['.', ',', '?', '!']);
    mapped(
        t,
        (&place.rule_id, place.channel, place.window),
        &own_words,
        (a, b),
        said,
    )
}

/// The reading of the transcript the model's own hearing of `window` (`own`) makes with
/// `phrase` where [`substitute`] puts it: the transcript's words heard for the same stretch
/// give way to it. None when the two hearings differ too much there to say which words, or
/// when the phrasing is far shorter than the transcript's words there ([`in_proportion`]).
pub fn own_reading(
    t: &Transcript,
    rule_id: &str,
    (channel, window): (u16, (u64, u64)),
    own: &str,
    phrase: &str,
) -> Option<ScriptReading> {
    let own_words: Vec<&str> = own.split_whitespace().collect();
    let (_, a, b) = best_span(&own_words, phrase, phrase.split_whitespace().count())?;
    mapped(t, (rule_id, channel, window), &own_words, (a, b), phrase).filter(in_proportion)
}

/// `put` in place of the transcript's words that `own_words[a..b]` (another hearing of the
/// window's stretch) align with.
fn mapped(
    t: &Transcript,
    (rule_id, channel, window): (&str, u16, (u64, u64)),
    own_words: &[&str],
    (a, b): (usize, usize),
    put: &str,
) -> Option<ScriptReading> {
    let words = window_words(t, channel, window);
    let texts: Vec<&str> = words.iter().map(|w| w.text.trim()).collect();
    let (ta, tb) = aligned_place(own_words, (a, b), &texts)?;
    Some(reading(
        rule_id,
        (channel, window),
        &words,
        (ta, tb),
        put,
        put.to_string(),
    ))
}

/// The rule's phrasings the model's own hearing of a stretch (`own`) holds word for word
/// (without case, accents or punctuation): heard there by the model alone, whatever the
/// transcript heard.
pub fn phrasings_heard(book: &RuleBook, rule_id: &str, own: &str) -> Vec<String> {
    let heard = format!(
        " {} ",
        plain(own).split_whitespace().collect::<Vec<_>>().join(" ")
    );
    book.rules
        .iter()
        .filter(|r| r.id == rule_id)
        .flat_map(|r| &r.script)
        .filter(|p| {
            let p = plain(p).split_whitespace().collect::<Vec<_>>().join(" ");
            !p.is_empty() && heard.contains(&format!(" {p} "))
        })
        .cloned()
        .collect()
}

/// Where each boundary between the words of `from` falls among the words of `to` (one more
/// position than words, in order), by aligning the two as sequences: a word for a like word costs
/// how unlike they are (letters, without case, accents or punctuation), a word left out or
/// added costs one. Two hearings of the same audio differ word by word but follow each other.
fn align_bounds(from: &[&str], to: &[&str]) -> Vec<usize> {
    let (n, m) = (from.len(), to.len());
    let f: Vec<String> = from.iter().map(|w| plain(w)).collect();
    let g: Vec<String> = to.iter().map(|w| plain(w)).collect();
    let mut cost = vec![vec![0f64; m + 1]; n + 1];
    for i in 0..=n {
        for j in 0..=m {
            cost[i][j] = match (i, j) {
                (0, _) => j as f64,
                (_, 0) => i as f64,
                _ => {
                    let swap = 1.0 - strsim::normalized_levenshtein(&f[i - 1], &g[j - 1]);
                    (cost[i - 1][j - 1] + swap)
                        .min(cost[i - 1][j] + 1.0)
                        .min(cost[i][j - 1] + 1.0)
                }
            };
        }
    }
    // Back from the end: each boundary of `from` takes the last `to` boundary the path passes.
    let mut bounds = vec![0usize; n + 1];
    let (mut i, mut j) = (n, m);
    bounds[n] = m;
    while i > 0 {
        let swap = if j > 0 {
            1.0 - strsim::normalized_levenshtein(&f[i - 1], &g[j - 1])
        } else {
            f64::INFINITY
        };
        if j > 0 && (cost[i][j] - (cost[i - 1][j - 1] + swap)).abs() < 1e-9 {
            i -= 1;
            j -= 1;
        } else if (cost[i][j] - (cost[i - 1][j] + 1.0)).abs() < 1e-9 {
            i -= 1;
        } else {
            j -= 1;
            continue;
        }
        bounds[i] = j;
    }
    bounds
}

/// The words of one channel's segments inside `window`, in order.
fn window_words(t: &Transcript, channel: u16, window: (u64, u64)) -> Vec<&Word> {
    t.segments
        .iter()
        .filter(|s| s.channel == channel && s.start_ms >= window.0 && s.end_ms <= window.1)
        .flat_map(|s| &s.words)
        .collect()
}

/// The words `words[a..b]` give way to `phrase` (fitted to them): a reading of the stretch
/// the words span.
fn reading(
    rule_id: &str,
    (channel, window): (u16, (u64, u64)),
    words: &[&Word],
    (a, b): (usize, usize),
    put: &str,
    phrase: String,
) -> ScriptReading {
    let text = said;
    let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    let (put, next) = elided_into(fitted(put, &words[a].text, &words[b - 1].text), &texts, b);
    let took_next = next > b;
    let b = next;
    ScriptReading {
        rule_id: rule_id.to_string(),
        channel,
        window,
        heard: text(words),
        script: [text(&words[..a]), put, text(&words[b..])]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        replaced: (words[a].start_ms, words[b - 1].end_ms),
        words: (a, b),
        phrase,
        took_next,
        hold_back_only: false,
    }
}

/// The readings worth scoring for a verification: for each required item or consent a misheard
/// word may have decided (a match in the doubtful band, or an item not found), the places its
/// phrasings come closest to, each with the phrasings most like the words heard there.
pub fn script_readings(book: &RuleBook, t: &Transcript, v: &Verification) -> Vec<ScriptReading> {
    let streams = streams(t, &book.language);
    let mut out = Vec::new();
    for f in &v.findings {
        let Some(rule) = book.rules.iter().find(|r| r.id == f.rule_id) else {
            continue;
        };
        if rule.script.is_empty() {
            continue;
        }
        let Some(around) = in_doubt(book, f) else {
            continue;
        };
        let script: Vec<String> = rule.script.iter().map(|p| written(book, p)).collect();
        let wanted = rule.speaker;
        let own: Vec<_> = streams
            .iter()
            .filter(|s| wanted.is_none_or(|w| s.speaker == w))
            .collect();
        // A number heard otherwise ("quatre jours" for "quatorze jours") hides the place from
        // the matcher, which never takes one number for another: here the recording decides.
        let mut places = find_with(&rule.patterns, &own, CANDIDATE_FLOOR, true);
        // An item matched in the doubtful band may have been said, garbled, at another place
        // its phrasings come close to ("par coyer" at 0:28 where "Parfait" at 0:35 matched
        // best): its places anywhere are read. One not found is read where it was expected.
        let anywhere = f.outcome == Outcome::Met;
        places.retain(|c| {
            anywhere
                || (c.start_ms < around.1.saturating_add(1_000)
                    && around.0 < c.end_ms.saturating_add(1_000))
        });
        places.dedup_by(|a, b| a.start_ms == b.start_ms && a.end_ms == b.end_ms);
        // The places whose words, with those a match left out, come closest to a phrasing:
        // the matcher scores "par" of "par mois", "part" and "par pemme" alike for "par
        // e-mail"; the letters of "par pemme" tell them apart.
        let mut seen: Vec<(u64, u64)> = Vec::new();
        let mut read: Vec<(f64, (u64, u64), Vec<ScriptReading>)> = Vec::new();
        for c in places {
            if seen.contains(&(c.start_ms, c.end_ms)) {
                continue;
            }
            seen.push((c.start_ms, c.end_ms));
            let here = readings_at(
                t,
                &rule.id,
                c.speaker,
                (c.start_ms, c.end_ms),
                &script,
                Runs::Widened,
            );
            // The finding's own match is read whatever its letters.
            let own_match = f.start_ms == Some(c.start_ms) && f.end_ms == Some(c.end_ms);
            let sim = here.iter().map(|(sim, _)| *sim).reduce(f64::max);
            if let Some(sim) = sim {
                let rank = if own_match { f64::INFINITY } else { sim };
                let readings = here.into_iter().map(|(_, r)| r).collect();
                read.push((rank, (c.start_ms, c.end_ms), readings));
            }
        }
        // An item not found where the speech was doubtful: the doubtful words themselves are a
        // place too, where no phrasing's letters come close enough for the matcher ("je vous
        // contacte mon énergie" for "au nom d'Énergie", "mon" at 0.15). Their letters say
        // little of which phrasing it was: each is read in their place, or in place of the
        // run of them it could have been ([`within`]).
        let mut exact: Vec<(u64, u64)> = Vec::new();
        if f.outcome == Outcome::Missing && f.start_ms.is_none() {
            exact.extend(f.hearing.iter().flat_map(|h| h.stretches.iter().copied()));
        }
        let speaker = rule.speaker.unwrap_or(callproof_models::Speaker::Unknown);
        for span in exact {
            if seen.iter().any(|s| s.0 < span.1 && span.0 < s.1) {
                continue;
            }
            seen.push(span);
            let here = readings_at(t, &rule.id, speaker, span, &script, Runs::Within);
            if let Some(sim) = here.iter().map(|(sim, _)| *sim).reduce(f64::max) {
                read.push((sim, span, here.into_iter().map(|(_, r)| r).collect()));
            }
        }
        // Stable: equally close places keep the matcher's order. Of places that overlap (two
        // phrasings' matches over the same words), the closer one is read.
        read.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut kept: Vec<(u64, u64)> = Vec::new();
        for (_, span, readings) in read {
            if kept.len() == PLACES || kept.iter().any(|k| k.0 < span.1 && span.0 < k.1) {
                continue;
            }
            kept.push(span);
            out.extend(readings);
        }
        // An item found missing with confidence: the accusation stands on words heard with
        // confidence, yet a phrasing may have been heard as words of the language whose letters
        // the matcher finds too unlike it ("au nom de Solaire Avenir" heard "honnante de soleil
        // à venir", no word under 0.6). Each segment searched is read with each phrasing in
        // place of the runs of its words most like it ([`runs_within`]): a reading the
        // recording supports about as well as what was heard holds the accusation back, and
        // never clears the item. After the matcher's places: a reading made at both is
        // weighed as theirs.
        if f.status == FindingStatus::Fail && f.outcome == Outcome::Missing && f.start_ms.is_none()
        {
            out.extend(held_back_readings(t, rule, around, &script));
        }
    }
    out
}

/// The readings that may hold back an item found missing with confidence ([`script_readings`]):
/// in each segment of the rule's speaker within `searched`, each phrasing in place of the
/// [`RUNS`] runs of its words most like it, the closest [`PHRASINGS`] × [`RUNS`] of those
/// readings; of the [`PLACES`] segments whose words come closest.
fn held_back_readings(
    t: &Transcript,
    rule: &crate::ruleset::Rule,
    searched: (u64, u64),
    script: &[String],
) -> Vec<ScriptReading> {
    let mut places: Vec<(f64, Vec<ScriptReading>)> = Vec::new();
    for seg in t.segments.iter().filter(|s| {
        rule.speaker.is_none_or(|w| s.speaker == w)
            && !s.words.is_empty()
            && s.start_ms < searched.1
            && searched.0 < s.end_ms
    }) {
        let span = (seg.start_ms.max(searched.0), seg.end_ms.min(searched.1));
        let mut here = readings_at(
            t,
            &rule.id,
            seg.speaker,
            span,
            script,
            Runs::Likeliest(RUNS),
        );
        here.sort_by(|a, b| b.0.total_cmp(&a.0));
        here.truncate(PHRASINGS * RUNS);
        let Some(best) = here.first().map(|(sim, _)| *sim) else {
            continue;
        };
        let readings = here
            .into_iter()
            .map(|(_, mut r)| {
                r.hold_back_only = true;
                r
            })
            .collect();
        places.push((best, readings));
    }
    places.sort_by(|a, b| b.0.total_cmp(&a.0));
    places
        .into_iter()
        .take(PLACES)
        .flat_map(|(_, r)| r)
        .collect()
}

/// A phrasing as the recogniser writes it: the rule sets write their phrasings in lower case
/// ("i accept", "bloctel"), Whisper writes "I accept" and "Bloctel", and a reading scored in the
/// rule set's spelling pays for its letters' case what it should pay only for its words ("Yes,
/// i accept." came 5.2 nats below the model's "Yes, consent." for a customer who said "Yes, I
/// accept"). The words the vocabulary spells with a capital take its spelling, and English
/// writes its first person "I" ("I'm", "I'll") with one.
pub fn written(book: &RuleBook, phrase: &str) -> String {
    let capitalised: Vec<&str> = book
        .vocabulary
        .iter()
        .flat_map(|v| v.split_whitespace())
        .filter(|w| w.chars().any(char::is_uppercase))
        .collect();
    phrase
        .split_whitespace()
        .map(|w| {
            if let Some(v) = capitalised
                .iter()
                .find(|v| v.to_lowercase() == w.to_lowercase())
            {
                return v.to_string();
            }
            let first_person =
                w == "i" || (w.len() > 2 && (w.starts_with("i'") || w.starts_with("i’")));
            if book.language == "en" && first_person {
                return format!("I{}", &w[1..]);
            }
            w.to_string()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which words of a place a phrasing is read over ([`readings_at`]).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Runs {
    /// The words a match covered, widened to the phrasing's length ([`widened`]): the
    /// [`PHRASINGS`] phrasings most like them.
    Widened,
    /// Every phrasing over the words (heard with doubt, their letters tell little) or the run
    /// of them it could have been ([`within`]).
    Within,
    /// Every phrasing over each of the runs of the words most like it, this many at most
    /// ([`runs_within`]): words heard with confidence, where the letters are a weak guide.
    Likeliest(usize),
}

/// The readings of one place: the segments of `speaker` around `replaced`, with phrasings in
/// place of words there as `runs` says, and how alike (0..1, letters). A phrasing far shorter
/// than the words it would replace is not read there ([`in_proportion`]).
fn readings_at(
    t: &Transcript,
    rule_id: &str,
    speaker: callproof_models::Speaker,
    replaced: (u64, u64),
    script: &[String],
    runs: Runs,
) -> Vec<(f64, ScriptReading)> {
    let segs: Vec<&Segment> = t
        .segments
        .iter()
        .filter(|s| s.speaker == speaker && s.start_ms <= replaced.1 && replaced.0 <= s.end_ms)
        .filter(|s| !s.words.is_empty())
        .collect();
    let (Some(first), Some(last)) = (segs.first(), segs.last()) else {
        return Vec::new();
    };
    let window = (first.start_ms, last.end_ms);
    if segs.iter().any(|s| s.channel != first.channel) || window.1 - window.0 > MAX_READING_MS {
        return Vec::new();
    }
    let words = window_words(t, first.channel, window);
    // A word the alignment gave no time sits at an edge of the words around it ("pour" at
    // 10 536–10 536 ms, right after "bloquettelle" at 10 027–10 536): at an edge of the span it
    // is the next or the last word, not one of those found there. Taken in, it made
    // "bloquettelle pour" the place of a garbled "Bloctel", too long for "Bloctel" to be read
    // there ([`in_proportion`]).
    let inside = |w: &Word| {
        w.start_ms >= replaced.0
            && w.end_ms <= replaced.1
            && (w.start_ms < w.end_ms || (replaced.0 < w.start_ms && w.end_ms < replaced.1))
    };
    let Some(a) = words.iter().position(|w| inside(w)) else {
        return Vec::new();
    };
    let b = words.iter().rposition(|w| inside(w)).unwrap_or(a) + 1;
    let mut phrasings: Vec<(f64, (usize, usize), &String)> = script
        .iter()
        .flat_map(|p| {
            match runs {
                Runs::Widened => vec![widened(&words, (a, b), p)],
                Runs::Within => vec![within(&words, (a, b), p)],
                Runs::Likeliest(k) => runs_within(&words, (a, b), p).into_iter().take(k).collect(),
            }
            .into_iter()
            .map(move |(sim, span)| (sim, span, p))
        })
        .collect();
    phrasings.sort_by(|x, y| y.0.total_cmp(&x.0));
    phrasings
        .into_iter()
        .take(if runs == Runs::Widened {
            PHRASINGS
        } else {
            usize::MAX
        })
        .map(|(sim, span, p)| {
            let r = reading(rule_id, (first.channel, window), &words, span, p, p.clone());
            (sim, r)
        })
        .filter(|(_, r)| in_proportion(r))
        .collect()
}

/// Words as the recogniser wrote them, one space apart.
fn said(words: &[&Word]) -> String {
    words
        .iter()
        .map(|w| w.text.trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The doubtful words `words[a..b]` a phrasing is read in place of: all of them, or, where the
/// phrasing is too short to have been all of them ([`in_proportion`]), the run of them most like
/// it letter by letter that it could have been. A disclosure said in other words than the rule
/// set's keeps only its key word in a phrasing's reach: "Bloctel" read over the whole of
/// "n'inscrit si on surblouttait" (for "l'inscription sur Bloctel") is refused for its length,
/// read over "surblouttait" it is weighed. Returns the similarity and the run.
fn within(words: &[&Word], (a, b): (usize, usize), phrase: &str) -> (f64, (usize, usize)) {
    runs_within(words, (a, b), phrase)
        .into_iter()
        .next()
        .unwrap_or((0.0, (a, b)))
}

/// The runs of `words[a..b]` a phrasing could have been heard as, the most like it letter by
/// letter first: all of them together where the phrasing is long enough for all
/// ([`in_proportion`]), else each run short enough for it.
fn runs_within(
    words: &[&Word],
    (a, b): (usize, usize),
    phrase: &str,
) -> Vec<(f64, (usize, usize))> {
    let target = plain(phrase);
    let put = letters(phrase);
    let text = |x: usize, y: usize| said(&words[x..y]);
    let all = (
        strsim::normalized_levenshtein(&target, &plain(&text(a, b))),
        (a, b),
    );
    if put * SHORTER_AT_MOST >= letters(&text(a, b)) {
        return vec![all];
    }
    // A phrasing that ends in an elided article takes the word after its run into it
    // ([`elided_into`]): that word is replaced too.
    let elided = phrase.ends_with(['\'', '’']);
    let mut runs: Vec<(f64, (usize, usize))> = Vec::new();
    for x in a..b {
        for y in x + 1..=b {
            let taken = if elided { (y + 1).min(words.len()) } else { y };
            if put * SHORTER_AT_MOST < letters(&text(x, taken)) {
                break;
            }
            let run = text(x, y);
            runs.push((
                strsim::normalized_levenshtein(&target, &plain(&run)),
                (x, y),
            ));
        }
    }
    if runs.is_empty() {
        return vec![all];
    }
    // Stable: of runs equally alike, the first.
    runs.sort_by(|p, q| q.0.total_cmp(&p.0));
    runs
}

/// The words a phrasing takes the place of: those its match covered, `words[a..b]`, or, where
/// the match covers fewer words than the phrasing has (its garbled words were left out of the
/// match: "par" of "par pemme" for "par e-mail"), up to as many more on either side as it
/// lacks (at most [`MAX_WIDENING`]), whichever run is most like the phrasing letter by letter.
/// Otherwise "par e-mail" reads in place of "par" alone ("par e-mail pemme"), which the
/// recording rightly refuses. Returns the similarity and the run.
fn widened(words: &[&Word], (a, b): (usize, usize), phrase: &str) -> (f64, (usize, usize)) {
    let target = plain(phrase);
    let text = |x: usize, y: usize| plain(&said(&words[x..y]));
    let lacks = phrase
        .split_whitespace()
        .count()
        .saturating_sub(b - a)
        .min(MAX_WIDENING);
    let mut best = (strsim::normalized_levenshtein(&target, &text(a, b)), (a, b));
    for x in a.saturating_sub(lacks)..=a {
        for y in b..=(b + lacks).min(words.len()) {
            if (a - x) + (y - b) > lacks || (x, y) == (a, b) {
                continue;
            }
            let sim = strsim::normalized_levenshtein(&target, &text(x, y));
            if sim > best.0 {
                best = (sim, (x, y));
            }
        }
    }
    best
}

/// A phrasing fitted to the words it takes the place of: their capital and their closing
/// punctuation ("Un récapitulatif écrit," for "L'appétulatif écrit,"), and, for a phrasing that
/// ends in an elided article ("au nom d'"), the word the last one elides into ("au nom
/// d'Énergie" for "ton nom d'Énergie": the name is not the garbled part).
fn fitted(phrase: &str, first: &str, last: &str) -> String {
    let mut out = phrase.to_string();
    if out.ends_with(['\'', '’']) {
        if let Some((_, rest)) = last.trim().split_once(['\'', '’']) {
            out.push_str(rest.trim_end_matches(['.', ',', '?', '!']));
        }
    }
    if first.trim().starts_with(char::is_uppercase) {
        let mut cs = out.chars();
        if let Some(c) = cs.next() {
            out = c.to_uppercase().chain(cs).collect();
        }
    }
    if let Some(end) = last
        .trim()
        .chars()
        .last()
        .filter(|c| matches!(c, '.' | ',' | '?' | '!'))
    {
        out.push(end);
    }
    out
}

/// `text` with `phrase` in place of the words most like it (a window of about the phrasing's
/// length, compared letter by letter without case, accents or punctuation): how the model's own
/// hearing of a stretch reads if the phrasing was said where it heard something like it.
/// Unchanged when it already holds the phrasing.
pub fn substitute(text: &str, phrase: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some((sim, a, b)) = best_span(&words, phrase, phrase.split_whitespace().count()) else {
        return phrase.to_string();
    };
    if sim >= 1.0 {
        return text.to_string();
    }
    put_in(&words, (a, b), phrase)
}

/// `words` with `phrase`, fitted to them, in place of `words[a..b]`.
fn put_in(words: &[&str], (a, b): (usize, usize), phrase: &str) -> String {
    let (put, b) = elided_into(fitted(phrase, words[a], words[b - 1]), words, b);
    [words[..a].join(" "), put, words[b..].join(" ")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A phrasing that ends in an elided article ("au nom d'", "de la part d'") put before
/// `words[b]` takes that word in, as it is said and as the recogniser writes it ("au nom
/// d'énergie"): "d' énergie" is no way anyone writes French, and the recording scores it as
/// such. Returns the words put in place and where the words after them begin.
fn elided_into<W: AsRef<str>>(put: String, words: &[W], b: usize) -> (String, usize) {
    match words.get(b) {
        Some(next) if put.ends_with(['\'', '’']) => {
            (format!("{put}{}", next.as_ref().trim()), b + 1)
        }
        _ => (put, b),
    }
}

/// Where `from[a..b]` falls among the words of `to`, another hearing of the same stretch
/// (the two aligned word by word), if the two agree around it: otherwise it is not the same
/// place.
fn aligned_place(from: &[&str], (a, b): (usize, usize), to: &[&str]) -> Option<(usize, usize)> {
    let bounds = align_bounds(from, to);
    let ta = *bounds.get(a)?;
    let tb = (*bounds.get(b)?).max(ta + 1).min(to.len());
    if ta >= tb {
        return None;
    }
    let sim = strsim::normalized_levenshtein(
        &plain(&from[a.saturating_sub(2)..(b + 2).min(from.len())].join(" ")),
        &plain(&to[ta.saturating_sub(2)..(tb + 2).min(to.len())].join(" ")),
    );
    (sim >= PLACE_FLOOR).then_some((ta, tb))
}

/// `own` (the model's own hearing of `r`'s window) with `r`'s phrasing in place of the words
/// that align with those `r` replaces in the transcript: the reading is made where the
/// transcript heard something like the phrasing, not where the own hearing's letters happen to
/// come closest ("au nom d'" read in place of "clair pour une" in "Je vous contaque mon énergie
/// clair pour une proposition" rather than of "mon", where the transcript had "ton nom
/// d'énergie"). Where the two hearings do not agree around the place, or the own hearing holds
/// the phrasing already, it is [`substitute`]'s reading. Returns the reading and whether it was
/// made at `r`'s place (then `r` is where it goes in the transcript).
pub fn substitute_at(own: &str, r: &ScriptReading) -> (String, bool) {
    let own_words: Vec<&str> = own.split_whitespace().collect();
    let heard: Vec<&str> = r.heard.split_whitespace().collect();
    let (a, b) = r.words;
    // The word an elided article took in is put back by `put_in`, from the own hearing.
    let b = if r.took_next { b - 1 } else { b };
    let holds = best_span(&own_words, &r.phrase, r.phrase.split_whitespace().count())
        .is_some_and(|(sim, _, _)| sim >= 1.0);
    let place = (!holds && a < b && b <= heard.len() && !own_words.is_empty())
        .then(|| aligned_place(&heard, (a, b), &own_words))
        .flatten();
    match place {
        Some(at) => (put_in(&own_words, at, &r.phrase), true),
        None => (substitute(own, &r.phrase), false),
    }
}

/// The run of `words` most like `target` (about `n` words long, compared letter by letter
/// without case, accents or punctuation), with its similarity (0..1); None for no words.
fn best_span(words: &[&str], target: &str, n: usize) -> Option<(f64, usize, usize)> {
    let n = n.max(1);
    let target = plain(target);
    let mut best: Option<(f64, usize, usize)> = None;
    for i in 0..words.len() {
        for len in n.saturating_sub(1).max(1)..=n + 2 {
            if i + len > words.len() {
                break;
            }
            let sim = strsim::normalized_levenshtein(&plain(&words[i..i + len].join(" ")), &target);
            if best.is_none_or(|b| sim > b.0) {
                best = Some((sim, i, i + len));
            }
        }
    }
    best
}

/// Puts an accepted reading into the transcript (as [`apply_reading`]) only if no finding of
/// the call is worse for it: a reading clears a doubt, and must not take from another rule the
/// words it was met on ("calling for" read in place of "calling from" would clear on whose
/// behalf and lose the seller's identity). Nor may it change what was found of a forbidden
/// phrase, or another rule's finding made on the words it replaces: "pour signature" read over
/// "coclut, vous n'avez rien a signé" cleared the binding-after-signature item and, with the
/// same words, took away the forbidden "rien à signer" they had been found on, and a call that
/// told the customer there was nothing to sign was called compliant. A reading clears its own
/// rule's doubt; another item not found, in doubt for the words it replaced only, is then
/// missing with confidence. Nor is a reading put in place for an item already met, by a
/// reading put in place before it or by the words heard: it would clear nothing, and only
/// put the script's words where the recogniser heard others ("par mail" over the agent's
/// closing "parfait", once "par courrier" had been read over "par coyer"). Returns whether it
/// was put in place.
pub fn apply_clearing(
    book: &RuleBook,
    facts: &crate::CallFacts<'_>,
    t: &mut Transcript,
    r: &ScriptReading,
    probabilities: &[f32],
) -> bool {
    let provisional = callproof_models::RuleSetRef {
        id: "script-check".into(),
        version: 0,
        sha256: String::new(),
        builtin: true,
    };
    let rank = |s: FindingStatus| match s {
        FindingStatus::Pass => 0,
        FindingStatus::Review => 1,
        FindingStatus::Fail => 2,
    };
    let before = crate::verify(book, &provisional, t, facts);
    let met = before
        .findings
        .iter()
        .any(|f| f.rule_id == r.rule_id && f.status == FindingStatus::Pass);
    if met {
        return false;
    }
    let mut trial = t.clone();
    if !apply_reading(&mut trial, r, probabilities) {
        return false;
    }
    let after = crate::verify(book, &provisional, &trial, facts);
    let (from, to) = r.replaced;
    let overlaps = |(s, e): (u64, u64)| s < to.max(from + 1) && from < e;
    let on_replaced = |f: &callproof_models::Finding| matches!((f.start_ms, f.end_ms), (Some(s), Some(e)) if overlaps((s, e)));
    // Another required item not found, in doubt only for words this reading replaced: those
    // words were its only chance, and the recording now says they were something else ("400
    // pundits per person", where the cancellation period might have been garbled, is "400
    // pounds per person", 0.3 nats from the model's own hearing). Left in doubt, the reading
    // had to be refused, and the item it was made for stayed in doubt with it.
    let explained = |b: &callproof_models::Finding, a: &callproof_models::Finding| {
        a.rule_id != r.rule_id
            && a.kind == RuleKind::Required
            && (b.status, b.outcome, b.start_ms) == (FindingStatus::Review, Outcome::Missing, None)
            && (a.status, a.outcome) == (FindingStatus::Fail, Outcome::Missing)
            && b.hearing.as_ref().is_some_and(|h| {
                !h.stretches.is_empty() && h.stretches.iter().all(|&st| overlaps(st))
            })
    };
    let worse = after.findings.iter().any(|a| {
        before
            .findings
            .iter()
            .find(|b| b.rule_id == a.rule_id)
            .is_some_and(|b| {
                let changed = (a.status, a.outcome) != (b.status, b.outcome);
                (rank(a.status) > rank(b.status) && !explained(b, a))
                    || (changed && a.kind == RuleKind::Forbidden)
                    || (changed && a.rule_id != r.rule_id && (on_replaced(a) || on_replaced(b)))
            })
    });
    if worse {
        return false;
    }
    *t = trial;
    true
}

/// Puts an accepted reading into the transcript: the words it replaced give way to the
/// phrasing's words, spread over the same time in proportion to their length, each with the
/// probability the model gave it in the reading (`probabilities`, one per word of
/// `r.script` as it splits at spaces; their mean where the model split it otherwise). The
/// segments keep what was first heard (`Segment::heard_first`) and count as a second listen.
/// Returns false, changing nothing, when the window no longer reads as `r.heard` (another
/// reading was put there first).
pub fn apply_reading(t: &mut Transcript, r: &ScriptReading, probabilities: &[f32]) -> bool {
    let in_window =
        |s: &Segment| s.channel == r.channel && s.start_ms >= r.window.0 && s.end_ms <= r.window.1;
    let heard: Vec<String> = t
        .segments
        .iter()
        .filter(|s| in_window(s))
        .flat_map(|s| s.words.iter().map(|w| w.text.trim().to_string()))
        .collect();
    let (a, b) = r.words;
    if heard.join(" ") != r.heard
        || heard.len() != r.heard.split_whitespace().count()
        || b > heard.len()
        || a >= b
    {
        return false;
    }
    let script: Vec<&str> = r.script.split_whitespace().collect();
    let Some(new_len) = (script.len() + (b - a)).checked_sub(heard.len()) else {
        return false;
    };
    let mean = probabilities.iter().sum::<f32>() / probabilities.len().max(1) as f32;
    let prob = |i: usize| {
        if probabilities.len() == script.len() {
            probabilities[i]
        } else {
            mean
        }
    };
    let texts = &script[a..a + new_len];
    let span = r.replaced.1.saturating_sub(r.replaced.0);
    let total: u64 = texts.iter().map(|w| w.chars().count().max(1) as u64).sum();
    let (mut at, mut acc) = (r.replaced.0, 0u64);
    let mut new_words: Vec<Word> = Vec::with_capacity(new_len);
    for (i, w) in texts.iter().enumerate() {
        acc += w.chars().count().max(1) as u64;
        let end = r.replaced.0 + span * acc / total.max(1);
        new_words.push(Word {
            text: w.to_string(),
            start_ms: at,
            end_ms: end,
            probability: prob(a + i),
        });
        at = end;
    }
    let mut flat = 0usize;
    for s in t.segments.iter_mut().filter(|s| in_window(s)) {
        let (lo, hi) = (flat, flat + s.words.len());
        flat = hi;
        if hi <= a || lo >= b {
            continue;
        }
        let (from, to) = (a.max(lo) - lo, b.min(hi) - lo);
        let put = if (lo..hi).contains(&a) {
            std::mem::take(&mut new_words)
        } else {
            Vec::new()
        };
        let first_heard = s.text.clone();
        s.words.splice(from..to, put);
        // Its text follows its words, its times stay the window's (not `fit_to_words`).
        s.text = s.words_text();
        s.heard_first.get_or_insert(first_heard);
        s.second_listen = true;
    }
    // A segment whose words all went into the one before is gone.
    t.segments
        .retain(|s| !s.words.is_empty() || s.heard_first.is_none());
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{compliant, finding, meta, run, transcript};
    use callproof_models::Speaker::Agent as A;

    #[test]
    fn the_script_is_the_say_phrasings_as_spoken_never_a_mishearing() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let rule = |id: &str| book.rules.iter().find(|r| r.id == id).unwrap();
        let binding = &rule("binding_after_signature").script;
        // "[l'avoir]" is optional: both readings.
        assert!(binding.contains(&"engagé qu'après l'avoir signé".to_string()));
        assert!(binding.contains(&"engagé qu'après signé".to_string()));
        // heard_as entries are how the recogniser mishears, not what an agent says.
        assert!(!rule("written_confirmation")
            .script
            .contains(&"parcourir".to_string()));
        // Which number only the recording can say: phrasings with {number} apart.
        assert!(rule("price").script.is_empty());
        assert!(rule("price")
            .number_script
            .contains(&"{number} euros".to_string()));
        assert!(binding.iter().all(|p| !p.contains('{')));
    }

    #[test]
    fn a_phrasing_takes_the_place_of_the_words_most_like_it() {
        assert_eq!(
            substitute(
                "En fait, l'appétulatif écrit vous sera envoyé.",
                "récapitulatif écrit"
            ),
            "En fait, récapitulatif écrit vous sera envoyé."
        );
        assert_eq!(
            substitute("Très bien, je s'espris !", "je souscris"),
            "Très bien, je souscris !"
        );
        // Already there: unchanged.
        let said = "Vous recevrez l'offre par courrier.";
        assert_eq!(substitute(said, "par courrier"), said);
        assert_eq!(substitute("", "par courrier"), "par courrier");
    }

    /// The words of segment `segment` that `which` picks, as the recogniser barely heard them.
    fn barely_heard(t: &mut Transcript, segment: usize, which: impl Fn(&str) -> bool) {
        for w in &mut t.segments[segment].words {
            if which(&w.text) {
                w.probability = 0.2;
            }
        }
    }

    fn garbled_written_confirmation() -> Transcript {
        let mut turns = compliant();
        turns[5] = (
            A,
            23_000,
            "Vous aurez l'offre par coyer et vous ne serez engagée qu'après l'avoir signée.",
        );
        let mut t = transcript(&turns);
        barely_heard(&mut t, 5, |w| w.contains("coyer"));
        t
    }

    #[test]
    fn readings_are_made_for_findings_in_doubt_only() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        // A call heard clearly and complete needs no reading.
        let clear = transcript(&compliant());
        let v = run(&book, &clear, &m);
        assert!(script_readings(&book, &clear, &v).is_empty());

        let t = garbled_written_confirmation();
        let v = run(&book, &t, &m);
        assert_eq!(
            finding(&v, "written_confirmation").status,
            FindingStatus::Review
        );
        let readings = script_readings(&book, &t, &v);
        assert!(!readings.is_empty());
        assert!(readings.iter().all(|r| r.rule_id == "written_confirmation"));
        let r = readings
            .iter()
            .find(|r| r.phrase == "par courrier")
            .expect("the closest phrasing is tried");
        assert_eq!(r.window, (23_000, t.segments[5].end_ms));
        assert_eq!(r.heard, t.segments[5].text);
        assert_eq!(
            r.script,
            "Vous aurez l'offre par courrier et vous ne serez engagée qu'après l'avoir signée."
        );
    }

    /// The compliant call with the seller's opening `opening`, its words `doubtful` barely
    /// heard, so that on whose behalf is not found and needs review: the pack, the transcript
    /// and its verification.
    fn on_behalf_garbled(opening: &str, doubtful: &[&str]) -> (RuleBook, Transcript, Verification) {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        let mut turns = compliant();
        turns[0] = (A, 0, opening);
        let mut t = transcript(&turns);
        barely_heard(&mut t, 0, |w| doubtful.contains(&w.trim()));
        let v = run(&book, &t, &m);
        let f = finding(&v, "on_behalf");
        assert_eq!(
            (f.outcome, f.status),
            (Outcome::Missing, FindingStatus::Review),
            "{f:?}"
        );
        (book, t, v)
    }

    /// "au nom d'Électricité du Centre" heard "mon Électricité du Centre": no phrasing of on
    /// whose behalf comes close enough for the matcher, but the words heard with doubt where it
    /// was expected are read with every phrasing in their place.
    #[test]
    fn an_item_not_found_is_read_at_the_doubtful_words_where_it_was_expected() {
        let (book, t, v) = on_behalf_garbled(
            "Bonjour madame, Julie Martin de la société Isosell, je vous contacte mon Électricité du Centre pour une offre commerciale.",
            &["mon"],
        );
        let f = finding(&v, "on_behalf");
        let stretch = f.hearing.as_ref().unwrap().stretches[0];
        let readings = script_readings(&book, &t, &v);
        let ours: Vec<_> = readings
            .iter()
            .filter(|r| r.rule_id == "on_behalf")
            .collect();
        assert!(!ours.is_empty(), "{readings:?}");
        assert!(
            ours.iter()
                .all(|r| r.replaced.0 < stretch.1 + 1_000 && stretch.0 < r.replaced.1 + 1_000),
            "{ours:?}"
        );
        let r = ours
            .iter()
            .find(|r| r.phrase == "au nom d'")
            .unwrap_or_else(|| {
                panic!("the phrasing most like the doubtful words is read: {ours:#?}")
            });
        // The elided article is written against the name, as it is said.
        assert!(
            r.script
                .contains("je vous contacte au nom d'Électricité du Centre"),
            "{}",
            r.script
        );
        // The model's own hearing of the stretch, read the same way, keeps each word once.
        let own = "Bonjour Madame, Julie Martin de la société Isosell. Je vous contaque mon Électricité du Centre pour une offre commerciale.";
        let (text, placed) = substitute_at(own, r);
        assert!(placed);
        assert!(
            text.contains("Je vous contaque au nom d'Électricité du Centre pour"),
            "{text}"
        );
    }

    /// "sur la liste bloquettelle pour ne plier", "Bloctel" garbled and matched in the doubtful
    /// band on "bloquettelle" alone; the alignment gave "pour" no time, at the end of
    /// "bloquettelle". "Bloctel" is read in place of "bloquettelle", not of "bloquettelle
    /// pour", which is too long for it.
    #[test]
    fn a_word_without_time_at_the_edge_of_a_match_is_not_part_of_its_place() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let mut turns = compliant();
        turns[2] = (
            A,
            10_000,
            "Vous pouvez vous inscrire sur la liste bloquettelle pour ne plus être appelé.",
        );
        let mut t = transcript(&turns);
        barely_heard(&mut t, 2, |w| w.trim() == "bloquettelle");
        let seg = &mut t.segments[2];
        let k = seg
            .words
            .iter()
            .position(|w| w.text.trim() == "bloquettelle")
            .unwrap();
        let end = seg.words[k].end_ms;
        seg.words[k + 1].start_ms = end;
        seg.words[k + 1].end_ms = end;
        let v = run(&book, &t, &meta("2026-03-03T10:30:00+01:00"));
        let f = finding(&v, "bloctel");
        assert_eq!(
            (f.outcome, f.status, f.end_ms),
            (Outcome::Met, FindingStatus::Review, Some(end)),
            "{f:?}"
        );
        let readings = script_readings(&book, &t, &v);
        let r = readings
            .iter()
            .find(|r| r.phrase == "Bloctel")
            .unwrap_or_else(|| panic!("Bloctel read over the garbled word: {readings:#?}"));
        assert_eq!(r.replaced_words(), "bloquettelle");
        assert!(
            r.script.contains("sur la liste Bloctel pour ne plus"),
            "{}",
            r.script
        );
    }

    /// A number reading's rest is heard freely, and Whisper may end a transcript at once where
    /// it skips speech: such a reading says nothing of most of the stretch.
    #[test]
    fn a_number_reading_that_ends_the_hearing_early_does_not_hear_it_all() {
        let own = "La bonne naine revient à 40 ms.";
        assert!(!hears_it_all(own, "1 euros"));
        assert!(hears_it_all(own, "La bonne naine revient 40 euros"));
        // A reading longer than the hearing accounts for all of it.
        assert!(hears_it_all("Il coûte.", "Il coûte 40 euros par mois."));
    }

    /// Each reading's phrasing holds half the letters of the words it takes the place of, or
    /// more ([`in_proportion`]).
    fn assert_in_proportion(readings: &[ScriptReading]) {
        for r in readings {
            assert!(
                2 * letters(&r.phrase) >= letters(&r.replaced_words()),
                "{} over {:?}",
                r.phrase,
                r.replaced_words()
            );
        }
    }

    /// "Je vous rappelle que l'inscription sur Bloctel vous protège du démarchage
    /// téléphonique" (the disclosure in other words than the rule set's) heard "Je vous
    /// rappelle que n'inscrit si on surblouttait vos protèges du démarrage d'élephonique." with
    /// doubt: "Bloctel" is too short to have been all of the doubtful words, and is read in
    /// place of the one most like it.
    #[test]
    fn a_short_phrasing_is_read_over_the_doubtful_words_it_could_have_been() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let mut turns = compliant();
        turns[2] = (
            A,
            10_000,
            "Je vous rappelle que n'inscrit si on surblouttait vos protèges du démarrage d'élephonique.",
        );
        let mut t = transcript(&turns);
        let doubtful = ["n'inscrit", "si", "on", "surblouttait"];
        barely_heard(&mut t, 2, |w| doubtful.contains(&w.trim()));
        let v = run(&book, &t, &meta("2026-03-03T10:30:00+01:00"));
        let f = finding(&v, "bloctel");
        assert_eq!(
            (f.outcome, f.status),
            (Outcome::Missing, FindingStatus::Review),
            "{f:?}"
        );
        let ours: Vec<_> = script_readings(&book, &t, &v)
            .into_iter()
            .filter(|r| r.rule_id == "bloctel")
            .collect();
        let r = ours
            .iter()
            .find(|r| r.phrase.eq_ignore_ascii_case("bloctel"))
            .unwrap_or_else(|| panic!("\"Bloctel\" is read: {ours:#?}"));
        assert_eq!(r.replaced_words(), "surblouttait", "{r:?}");
        assert!(
            r.script.contains("si on Bloctel vos protèges"),
            "{}",
            r.script
        );
        // Every reading stays in proportion to the words it takes the place of.
        assert_in_proportion(&ours);
    }

    /// "j'appelle au nom du magazine Jardins" heard as four garbled words: a
    /// phrasing far shorter than them is not read over them all (the recording favours fewer
    /// words, and "au nom de" would stand where a company's name was said), one long enough is.
    #[test]
    fn a_short_phrasing_is_not_read_over_many_more_words() {
        let (book, t, v) = on_behalf_garbled(
            "Bonjour madame, Julie Martin de la société Isosell, la telle honneur du magalinjard, pour une offre commerciale.",
            &["telle", "honneur", "magalinjard,"],
        );
        let ours: Vec<_> = script_readings(&book, &t, &v)
            .into_iter()
            .filter(|r| r.rule_id == "on_behalf")
            .collect();
        // Read in place of the doubtful words (25 letters), "pour le compte de" (14) holds
        // half of theirs or more; "au nom de" (7) does not.
        assert!(
            ours.iter()
                .any(|r| r.phrase == "pour le compte de"
                    && r.replaced_words().contains("magalinjard")),
            "{ours:?}"
        );
        assert_in_proportion(&ours);
        assert!(!ours
            .iter()
            .any(|r| r.phrase == "au nom de" && r.replaced_words().contains("magalinjard")));
    }

    /// "Très bien, je souscris" heard "Très bien, je s'es surpris", "I'll pass, thanks" heard
    /// "I'll test Zunks": no assent phrasing, the consent for review. The customer's answer is
    /// never read with an assent: the recording cannot tell "je vois" from "j'accepte" at a
    /// customer's level well enough to put words in their mouth (it took "I agree" for "I'll
    /// pass, thanks").
    #[test]
    fn the_customers_assent_is_never_read_in() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        let mut turns = compliant();
        for said in [
            "Très bien, je s'es surpris.",
            "Très bien, je s'esprit.",
            "Oui, j'avoue à cela.",
        ] {
            turns[7] = (callproof_models::Speaker::Customer, 32_000, said);
            let t = transcript(&turns);
            let v = run(&book, &t, &m);
            let f = finding(&v, "consent");
            assert_eq!(
                (f.outcome, f.status),
                (Outcome::Missing, FindingStatus::Review),
                "{said}"
            );
            let readings = script_readings(&book, &t, &v);
            assert!(
                readings.iter().all(|r| r.rule_id != "consent"),
                "{said}: {readings:#?}"
            );
        }
        let en = RuleBook::pack("en-sales").unwrap();
        let mut t = transcript(&[
            (
                A,
                0,
                "Hello, I'm Chris Walker from Netlink, calling on behalf of Pulse. This call is recorded.",
            ),
            (
                A,
                6_000,
                "The deal costs thirty five pounds per month, and you have a fourteen day cancellation period.",
            ),
            (callproof_models::Speaker::Customer, 14_000, "I'll test Zunks."),
        ]);
        t.language = "en".into();
        barely_heard(&mut t, 2, |w| w.contains("test") || w.contains("Zunks"));
        let v = run(&en, &t, &m);
        assert_ne!(finding(&v, "consent").status, FindingStatus::Pass);
        let readings = script_readings(&en, &t, &v);
        assert!(
            readings.iter().all(|r| r.rule_id != "consent"),
            "{readings:#?}"
        );
    }

    #[test]
    fn a_reading_put_in_place_clears_the_doubt_and_keeps_what_was_heard() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        let mut t = garbled_written_confirmation();
        let v = run(&book, &t, &m);
        let readings = script_readings(&book, &t, &v);
        let r = readings
            .iter()
            .find(|r| r.phrase == "par courrier")
            .unwrap();
        let probs = vec![0.8; r.script.split_whitespace().count()];
        assert!(apply_reading(&mut t, r, &probs));
        // Twice is once: the stretch no longer reads as it was heard.
        assert!(!apply_reading(&mut t, r, &probs));
        let s = &t.segments[5];
        assert_eq!(s.text, r.script);
        assert_eq!(s.heard_first.as_deref(), Some(r.heard.as_str()));
        assert!(s.second_listen);
        // The phrasing's words share the time of the words they replace, in order.
        let put: Vec<&Word> = s
            .words
            .iter()
            .filter(|w| w.text == "par" || w.text == "courrier")
            .collect();
        assert_eq!(put.len(), 2);
        assert_eq!(put[0].start_ms, r.replaced.0);
        assert_eq!(put[1].end_ms, r.replaced.1);
        assert!(put[0].end_ms <= put[1].start_ms);

        let v = run(&book, &t, &m);
        let f = finding(&v, "written_confirmation");
        assert_eq!(f.status, FindingStatus::Pass, "{f:?}");
        assert!(f.hearing.as_ref().is_some_and(|h| h.script_check));
        assert!(f.detail.contains("first heard as"), "{}", f.detail);
    }

    /// "par e-mail" heard "par pemme": the matcher covers "par" only (the garbled word is left
    /// out of its match); the reading takes "par pemme", not "par" alone.
    #[test]
    fn a_reading_takes_the_garbled_words_its_match_left_out() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        let mut turns = compliant();
        turns[5] = (
            A,
            23_000,
            "Le contrat, vous l'aurez par pemme pour signature.",
        );
        let mut t = transcript(&turns);
        barely_heard(&mut t, 5, |w| w.contains("pemme"));
        let v = run(&book, &t, &m);
        assert_ne!(
            finding(&v, "written_confirmation").status,
            FindingStatus::Pass
        );
        let readings = script_readings(&book, &t, &v);
        let r = readings
            .iter()
            .find(|r| r.phrase == "par e-mail")
            .expect("the e-mail phrasing is tried");
        assert_eq!(
            r.script,
            "Le contrat, vous l'aurez par e-mail pour signature."
        );
        // Where the match covered the phrasing's words, the place is the match.
        let r = readings.iter().find(|r| r.phrase == "par mail").unwrap();
        assert!(r.script.contains("par mail pour signature"), "{}", r.script);
    }

    /// Four places the matcher scores alike for "par e-mail" ("par" each time, the rest left
    /// out): the three read are those whose words come closest, "par pmeine" among them.
    #[test]
    fn the_places_read_are_those_most_like_a_phrasing() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        let mut turns = compliant();
        turns[5] = (
            A,
            23_000,
            "Payable par mois, ou par an, par prélèvement, et le contrat par pmeine.",
        );
        let mut t = transcript(&turns);
        for w in &mut t.segments[5].words {
            w.probability = 0.3;
        }
        let v = run(&book, &t, &m);
        assert_ne!(
            finding(&v, "written_confirmation").status,
            FindingStatus::Pass
        );
        let readings = script_readings(&book, &t, &v);
        assert!(
            readings
                .iter()
                .any(|r| r.script.ends_with("le contrat par e-mail.")),
            "{readings:#?}"
        );
    }

    /// "quatorze jours" heard "quatre jours" with confidence: the withdrawal period "missing",
    /// a compliant call called a violation, and no reading tried, because the matcher never
    /// takes one number for another. The place is read with the script's number.
    #[test]
    fn an_item_missing_with_confidence_is_read_over_the_words_searched_to_hold_back_only() {
        // "au nom de Solaire Avenir" heard, every word at 0.9, as "honnante de soleil à venir":
        // letters too unlike any phrasing for the matcher, so the item is missing, with
        // confidence, and the accusation stands unless the recording is asked.
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        let mut turns = compliant();
        turns[0] = (
            A,
            0,
            "Bonjour monsieur, Claire Dubois, de l'entreprise Phonea, honnante de soleil à venir, je vous contacte pour une offre commerciale.",
        );
        let t = transcript(&turns);
        let v = run(&book, &t, &m);
        let f = finding(&v, "on_behalf");
        assert_eq!(
            (f.status, f.outcome),
            (FindingStatus::Fail, Outcome::Missing)
        );
        let all = script_readings(&book, &t, &v);
        let readings: Vec<&ScriptReading> =
            all.iter().filter(|r| r.rule_id == "on_behalf").collect();
        assert!(!readings.is_empty(), "the searched speech is read");
        assert!(readings.iter().all(|r| r.hold_back_only), "{readings:?}");
        let r = readings
            .iter()
            .find(|r| r.phrase == "au nom de" && r.replaced_words() == "honnante de")
            .expect("over the words it was heard as, among the runs most like it");
        assert!(
            r.script.contains("Phonea, au nom de soleil à venir"),
            "{}",
            r.script
        );
        // A required item met, or one found with doubt, gets no such reading.
        let v = run(&book, &transcript(&compliant()), &m);
        assert!(script_readings(&book, &transcript(&compliant()), &v)
            .iter()
            .all(|r| !r.hold_back_only));
    }

    #[test]
    fn a_disclosure_whose_number_was_misheard_is_read_with_the_scripts_number() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        let mut turns = compliant();
        turns[4] = (
            A,
            19_000,
            "Vous disposez d'un délai de quatre jours pour vous rétracter.",
        );
        let t = transcript(&turns);
        let v = run(&book, &t, &m);
        let f = finding(&v, "withdrawal_14d");
        assert_eq!(
            (f.status, f.outcome),
            (FindingStatus::Fail, Outcome::Missing)
        );
        let readings = script_readings(&book, &t, &v);
        let r = readings
            .iter()
            .find(|r| r.phrase == "délai de 14 jours pour vous rétracter")
            .expect("the phrasing is read where the transcript has another number");
        assert_eq!(
            r.script,
            "Vous disposez d'un délai de 14 jours pour vous rétracter."
        );
        // Read, not concluded: the finding stands until the recording says otherwise.
        assert_eq!(
            finding(&run(&book, &t, &m), "withdrawal_14d").status,
            FindingStatus::Fail
        );
    }

    #[test]
    fn no_reading_is_tried_for_a_forbidden_phrase() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        let mut turns = compliant();
        turns.push((A, 40_000, "Votre contrat est con clu au téléphone."));
        let t = transcript(&turns);
        let v = run(&book, &t, &m);
        assert!(script_readings(&book, &t, &v)
            .iter()
            .all(|r| r.rule_id != "final_on_phone"));
    }

    #[test]
    fn a_reading_is_made_where_the_transcript_heard_the_phrasing() {
        // The transcript heard "ton nom d'Énergie"; the model's own hearing of the same stretch
        // differs word by word, and its letters come closest to "au nom d'" elsewhere.
        let heard = "Je vous contacte ton nom d'Énergie Claire pour une proposition commerciale.";
        let r = ScriptReading {
            rule_id: "on_behalf".into(),
            channel: 0,
            window: (0, 7_000),
            heard: heard.into(),
            script: String::new(),
            replaced: (1_000, 2_000),
            words: (3, 6),
            phrase: "au nom d'".into(),
            took_next: false,
            hold_back_only: false,
        };
        let own = "Je vous contaque mon d'Énergie clair pour une proposition commerciale.";
        let (text, placed) = substitute_at(own, &r);
        assert!(placed);
        assert_eq!(
            text,
            "Je vous contaque au nom d'Énergie clair pour une proposition commerciale."
        );
        // Hearings that do not follow each other there: the reading goes where the letters
        // say, as before.
        let (text, placed) = substitute_at("Merci beaucoup madame, au revoir.", &r);
        assert!(!placed);
        assert_eq!(
            text,
            substitute("Merci beaucoup madame, au revoir.", "au nom d'")
        );
        // A hearing that holds the phrasing already is left as it is.
        let holds = "Je vous appelle au nom d' Énergie Claire.";
        assert_eq!(substitute_at(holds, &r), (holds.to_string(), false));
    }

    fn garbled_price() -> Transcript {
        let mut turns = compliant();
        turns[3] = (
            A,
            15_000,
            "La dévillon qui la coûte sans l'acteur retardant,",
        );
        turns.insert(
            4,
            (
                A,
                17_800,
                "Vous pourrez vous rétracter dans les quatorze jours.",
            ),
        );
        turns.remove(5);
        transcript(&turns)
    }

    #[test]
    fn a_price_not_found_is_read_with_a_number_where_one_is_likeliest() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        let t = garbled_price();
        let v = run(&book, &t, &m);
        assert_eq!(finding(&v, "price").status, FindingStatus::Fail);
        // A "missing" is an accusation: the agent's speech searched is read again.
        let places = number_places(&book, &t, &v);
        assert!(!places.is_empty());
        assert!(places
            .iter()
            .all(|p| p.rule_id == "price" && p.channel == 0));
        assert!(places
            .iter()
            .any(|p| p.window.0 <= 15_000 && 17_800 <= p.window.1));
        assert!(places
            .iter()
            .all(|p| p.window.1 - p.window.0 <= MAX_READING_MS));

        // A long stretch searched is read where it was heard with least confidence only: eight
        // minutes of other talk, heard confidently, before the garbled price.
        let mut long = garbled_price();
        let shift = 480_000;
        for s in long.segments.iter_mut().filter(|s| s.start_ms >= 15_000) {
            s.start_ms += shift;
            s.end_ms += shift;
            for w in &mut s.words {
                w.start_ms += shift;
                w.end_ms += shift;
            }
        }
        for k in 0..8u64 {
            let mut talk = transcript(&[(
                A,
                15_000 + k * 60_000,
                "Nous parlons de votre maison et de vos besoins en chauffage pour cet hiver.",
            )]);
            for w in &mut talk.segments[0].words {
                w.probability = 0.95;
            }
            long.segments.append(&mut talk.segments);
        }
        long.segments.sort_by_key(|s| s.start_ms);
        let lv = run(&book, &long, &m);
        assert_eq!(finding(&lv, "price").status, FindingStatus::Fail);
        let read = number_places(&book, &long, &lv);
        assert_eq!(read.len(), PLACES, "{read:?}");
        assert!(
            read.iter()
                .any(|p| p.window.0 <= 15_000 + shift && 17_800 + shift <= p.window.1),
            "{read:?}"
        );

        // The model's own hearing differs from the transcript; a number is likeliest at
        // "sans", then at "14" (heard already: another number), then at "qui".
        let own = "La dévion qui l'a coût sans l'acteur retardant. Vous pourrez vous rétracter dans les 14 jours.";
        let mut here = vec![-20.0; own.split_whitespace().count()];
        here[5] = -1.0;
        here[14] = -0.5;
        here[2] = -3.0;
        // Elsewhere a number falls far behind what the model hears there.
        let mut behind = vec![-12.0; here.len()];
        behind[5] = -0.5;
        behind[14] = -0.2;
        behind[2] = -2.5;
        let euros = ["{number} euros".to_string()];
        let texts = number_readings(own, (&here, &behind, &[]), &euros, 5.0);
        let at: Vec<usize> = texts.iter().map(|n| n.words.0).collect();
        assert_eq!(at, [5, 2], "{texts:?}");
        // With a margin that takes in every place, the third likeliest is read too.
        let all = number_readings(own, (&here, &behind, &[]), &euros, 20.0);
        assert_eq!(all.len(), 3, "{all:?}");
        assert_eq!(
            texts[0].text,
            "La dévion qui l'a coût {number} euros {rest}"
        );
        // A phrasing's words before the number take the words before.
        let costs = number_readings(
            own,
            (&here, &behind, &[]),
            &["coûte {number}".to_string()],
            5.0,
        );
        assert_eq!(costs[0].text, "La dévion qui l'a coûte {number} {rest}");

        // The model read "120 euros par an" there, then rejoined its hearing at "Vous": those
        // words take the place of the transcript's words heard for the same stretch.
        let filled = "La dévion qui l'a coût 120 euros par an. Vous pourrez vous rétracter dans les 14 jours.";
        let place = places
            .iter()
            .find(|p| p.window.0 <= 15_000 && 17_800 <= p.window.1)
            .unwrap();
        let r = number_reading(&t, place, own, &texts[0], filled).expect("a place");
        assert_eq!(r.phrase, "120 euros par an");
        assert!(
            r.script
                .contains("La dévillon qui la coûte 120 euros par an, Vous pourrez"),
            "{}",
            r.script
        );
        let mut t = t;
        let probs = vec![0.5; r.script.split_whitespace().count()];
        assert!(apply_reading(&mut t, &r, &probs));
        let v = run(&book, &t, &m);
        let f = finding(&v, "price");
        assert_eq!(f.status, FindingStatus::Pass, "{f:?}");
        assert!(f.hearing.as_ref().is_some_and(|h| h.script_check));

        // A number written with its thousands apart takes its unit with it, where nothing
        // after it rejoins the first hearing.
        let t = transcript(&[(A, 14_000, "l'abonnement d'un revien à quarante-messero.")]);
        let short = NumberPlace {
            window: (14_000, 16_000),
            ..place.clone()
        };
        let own = "La bonne mandat n'en revient à 40 mms.";
        let n = NumberText {
            text: String::new(),
            words: (6, 7),
            phrase: "{number} euros".into(),
        };
        let filled = "La bonne mandat n'en revient à 40 000 euros.";
        let r = number_reading(&t, &short, own, &n, filled).expect("a place");
        assert_eq!(r.phrase, "40 000 euros");

        // Hearings too unlike to say where: no reading of the transcript.
        let other = "Hmm hmm hmm hmm hmm hmm hmm hmm hmm hmm.";
        let n = NumberText {
            text: String::new(),
            words: (5, 6),
            phrase: "{number} euros".into(),
        };
        let t = garbled_price();
        assert!(number_reading(&t, place, other, &n, "Hmm hmm hmm hmm hmm 12 euros").is_none());
    }

    #[test]
    fn a_price_in_doubt_elsewhere_is_read_where_it_was_searched() {
        // The price's number lost inside a word heard surely ("cost-setting" for "costs
        // eighteen"), while the doubt verification named lies in the greeting, where the
        // phrasing's word "price" was heard ("Megan Price").
        let book = RuleBook::pack("en-sales").unwrap();
        let m = meta("2026-03-03T10:30:00+00:00");
        let mut t = transcript(&[
            (A, 0, "Hello, it's Megan Price from Tuckwell."),
            (A, 2_700, "I'm calling for Bright Mobile."),
            (A, 4_400, "Just so you're aware, this call is recorded."),
            (
                A,
                9_200,
                "The unlimited plan cost-setting pounds per month.",
            ),
            (
                A,
                15_000,
                "You can cancel within fourteen days, free of charge.",
            ),
        ]);
        t.language = "en".into();
        let mut v = run(&book, &t, &m);
        let price = v
            .findings
            .iter_mut()
            .find(|f| f.rule_id == "price")
            .unwrap();
        assert_eq!(price.outcome, Outcome::Missing);
        let greeting = (300, 1_200);
        price.status = FindingStatus::Review;
        price.hearing = Some(callproof_models::Hearing {
            confidence: 0.8,
            doubtful: Some(greeting),
            stretches: vec![greeting],
            searched: Some((7_000, 15_400)),
            second_listen: false,
            script_check: false,
        });
        let places = number_places(&book, &t, &v);
        assert!(
            places
                .iter()
                .any(|p| p.window.0 <= 9_200 && 11_000 <= p.window.1),
            "{places:?}"
        );
        // The doubtful words are read as well.
        assert!(
            places.iter().any(|p| p.window.0 <= greeting.0),
            "{places:?}"
        );
    }

    #[test]
    fn a_number_heard_with_its_unit_in_doubt_is_read_with_the_phrasing() {
        let own = "Our home covered 12 tons a month and that includes accidental damage.";
        let n = own.split_whitespace().count();
        let mut here = vec![-20.0; n];
        let mut behind = vec![-12.0; n];
        here[3] = -0.1;
        behind[3] = 0.0;
        let pounds = ["{number} pounds".to_string()];
        let mut heard = vec![0.9; n];
        // "tons" heard surely: "12 tons" is another item's number, as "14 jours" is.
        assert!(number_readings(own, (&here, &behind, &heard), &pounds, 5.0).is_empty());
        // Heard with doubt: the number may be the price, its unit garbled.
        heard[4] = 0.2;
        let read = number_readings(own, (&here, &behind, &heard), &pounds, 5.0);
        assert_eq!(read.len(), 1, "{read:?}");
        assert_eq!(read[0].text, "Our home covered {number} pounds {rest}");
        assert_eq!(read[0].words, (3, 4));
        // Right after the number, a number would carry it on ("12 000 pounds"): none there.
        here[4] = -0.2;
        behind[4] = 0.0;
        let read = number_readings(own, (&here, &behind, &heard), &pounds, 5.0);
        assert_eq!(read.len(), 1, "{read:?}");
    }

    /// "The unlimited plan costs eighteen pounds per month" heard "The unlimited blend
    /// cost-setting pounds per month": the number was said inside a word. Read there, "costs 18
    /// pounds per month" scored 1.31 nats below the hearing free from the same place.
    #[test]
    fn a_number_said_inside_a_hyphenated_garble_is_read_there() {
        let own = "The unlimited blend cost-setting pounds per month.";
        let n = own.split_whitespace().count();
        // No word begins a number likely enough.
        let (here, behind) = (vec![-9.0; n], vec![-8.0; n]);
        let costs = ["{number} pounds".to_string(), "costs {number}".to_string()];
        let heard = vec![0.9; n];
        let read = number_readings(own, (&here, &behind, &heard), &costs, 5.0);
        let texts: Vec<&str> = read.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "The unlimited blend {number} pounds {rest}",
                "The unlimited blend costs {number} {rest}"
            ]
        );
        assert!(read.iter().all(|r| r.words == (3, 4)), "{read:?}");
        // A number written in one ("14-day") is a number heard, not a garble.
        let own = "You have a 14-day cancellation period.";
        let n = own.split_whitespace().count();
        let read = number_readings(
            own,
            (&vec![-9.0; n], &vec![-8.0; n], &vec![0.1; n]),
            &costs,
            5.0,
        );
        assert!(read.is_empty(), "{read:?}");
    }

    #[test]
    fn a_reading_that_explains_another_items_only_doubt_leaves_it_missing() {
        // The withdrawal period is never said; the price sentence is garbled. Both items are
        // in doubt for the same words: either may be hiding there.
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        let facts = minute_call(&m);
        let mut turns = compliant();
        turns[3] = (A, 15_000, "Notre offre coûte sans l'acteur retardant.");
        turns.remove(4);
        let mut t = transcript(&turns);
        barely_heard(&mut t, 3, |w| {
            ["sans", "l'acteur", "retardant."].contains(&w.trim())
        });
        let v = run(&book, &t, &m);
        for id in ["price", "withdrawal_14d"] {
            assert_eq!(finding(&v, id).status, FindingStatus::Review, "{id}");
        }
        let seg = &t.segments[3];
        let (channel, window) = (seg.channel, (seg.start_ms, seg.end_ms));
        let words = window_words(&t, channel, window);
        let price = |(a, b)| {
            reading(
                "price",
                (channel, window),
                &words,
                (a, b),
                "39 euros par mois",
                "39 euros par mois".into(),
            )
        };
        // Read in place of some of the doubtful words only: the price is met and the
        // withdrawal period is still in doubt for the others.
        let mut part = t.clone();
        let r = price((3, 4));
        let probs = vec![0.8; r.script.split_whitespace().count()];
        assert!(apply_clearing(&book, &facts, &mut part, &r, &probs));
        let v = run(&book, &part, &m);
        assert_eq!(finding(&v, "price").status, FindingStatus::Pass);
        assert_eq!(finding(&v, "withdrawal_14d").status, FindingStatus::Review);
        // Read in place of all of them: the recording says they were the price, and the
        // withdrawal period was nowhere else.
        let r = price((3, 6));
        let probs = vec![0.8; r.script.split_whitespace().count()];
        assert!(apply_clearing(&book, &facts, &mut t, &r, &probs));
        let v = run(&book, &t, &m);
        assert_eq!(finding(&v, "price").status, FindingStatus::Pass);
        let w = finding(&v, "withdrawal_14d");
        assert_eq!(
            (w.status, w.outcome),
            (FindingStatus::Fail, Outcome::Missing)
        );
        assert_eq!(v.verdict, callproof_models::Verdict::Violation);
    }

    #[test]
    fn two_hearings_of_one_stretch_are_aligned_word_by_word() {
        let own = ["La", "dévion", "qui", "l'a", "coût", "sans", "l'acteur"];
        let heard = ["Là", "dévillon", "qui", "la", "coûte", "sans", "l'acteur"];
        assert_eq!(align_bounds(&own, &heard), vec![0, 1, 2, 3, 4, 5, 6, 7]);
        // A word left out of one hearing: the boundaries after it shift by one.
        let fewer = ["La", "dévion", "qui", "coût", "sans", "l'acteur"];
        let b = align_bounds(&own, &fewer);
        assert_eq!((b[0], b[2], b[5], b[7]), (0, 2, 4, 6));
    }

    #[test]
    fn a_phrasing_is_read_as_the_recogniser_writes_it() {
        let en = RuleBook::pack("en-sales").unwrap();
        assert_eq!(written(&en, "i accept"), "I accept");
        assert_eq!(written(&en, "i'll take it"), "I'll take it");
        assert_eq!(written(&en, "go ahead"), "go ahead");
        let fr = RuleBook::pack("fr-demarchage").unwrap();
        // The vocabulary's spelling: "Bloctel" is a name.
        assert_eq!(
            written(&fr, "inscrire sur la liste bloctel"),
            "inscrire sur la liste Bloctel"
        );
        // French has no capital "I"; "il" is a word like another.
        assert_eq!(written(&fr, "il est enregistré"), "il est enregistré");
        // The readings carry it: an agent's garbled "I work for" is read with its "I".
        let m = meta("2026-03-03T10:30:00+00:00");
        let mut t = transcript(&[
            (
                A,
                0,
                "Hello, Chris Walker here, I wok fur Netlink, on behalf of Pulse. This call is recorded.",
            ),
            (
                A,
                6_000,
                "The deal costs thirty five pounds per month, and you have a fourteen day cancellation period.",
            ),
            (callproof_models::Speaker::Customer, 14_000, "Yes, I accept."),
        ]);
        t.language = "en".into();
        barely_heard(&mut t, 0, |w| w.contains("wok") || w.contains("fur"));
        let v = run(&en, &t, &m);
        assert_ne!(finding(&v, "identity").status, FindingStatus::Pass);
        let readings = script_readings(&en, &t, &v);
        assert!(
            readings.iter().any(|r| r.script.contains("I work for")),
            "{:#?}",
            readings.iter().map(|r| &r.script).collect::<Vec<_>>()
        );
        assert!(!readings.iter().any(|r| r.script.contains(" i ")));
    }

    /// "the call is recorded" heard "the colors are recorded": by their letters, four other
    /// phrasings ("may be recorded", "has been recorded", "it is recorded", "being recorded")
    /// come closer to the garbled words than the one said, which the recording alone can tell.
    #[test]
    fn the_phrasing_said_is_read_though_others_look_more_like_the_garbled_words() {
        let book = RuleBook::pack("en-sales").unwrap();
        let m = meta("2026-03-03T10:30:00+00:00");
        let mut t = transcript(&[
            (
                A,
                0,
                "Hello, I'm Grace Walker from Netlink, calling on behalf of Pulse Broadband. Just to let you know, the colors are recorded.",
            ),
            (
                A,
                9_000,
                "The deal costs thirty five pounds per month, and you have a fourteen day cancellation period.",
            ),
            (callproof_models::Speaker::Customer, 16_000, "Yes, I accept."),
        ]);
        t.language = "en".into();
        barely_heard(&mut t, 0, |w| w == " colors" || w == " are");
        let v = run(&book, &t, &m);
        assert_ne!(
            finding(&v, "recorded_notice").status,
            FindingStatus::Pass,
            "{:#?}",
            finding(&v, "recorded_notice")
        );
        let phrases: Vec<String> = script_readings(&book, &t, &v)
            .into_iter()
            .filter(|r| r.rule_id == "recorded_notice")
            .map(|r| r.phrase)
            .collect();
        assert!(
            phrases.iter().any(|p| p == "call is recorded"),
            "{phrases:#?}"
        );
    }

    #[test]
    fn an_item_matched_in_doubt_is_read_at_its_other_places_too() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        // The closing words come closer to a phrasing ("Parfait" ~ "par mail") than the
        // garbled disclosure ("par coyer") does.
        let mut turns = compliant();
        turns[5] = (
            A,
            23_000,
            "Vous aurez l'offre par coyer et vous ne serez engagée qu'après l'avoir signée.",
        );
        turns.push((A, 40_000, "Parfait, merci madame."));
        let t = transcript(&turns);
        let v = run(&book, &t, &m);
        let f = finding(&v, "written_confirmation");
        assert_eq!(
            (f.outcome, f.status, f.start_ms),
            (Outcome::Met, FindingStatus::Review, Some(40_000)),
            "{f:?}"
        );
        let readings = script_readings(&book, &t, &v);
        assert!(readings.iter().any(|r| r.window.0 == 40_000));
        let r = readings
            .iter()
            .find(|r| r.phrase == "par courrier" && r.window.0 == 23_000)
            .expect("the garbled disclosure is read too");
        assert!(r.script.contains("l'offre par courrier et"), "{}", r.script);
    }

    #[test]
    fn a_reading_goes_where_the_models_own_hearing_has_it() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let t = transcript(&[(
            A,
            0,
            "Bonjour monsieur, Marc Lofaèvre, de l'assos sociétal Isosell, et je travaille pour le compte des Menuiseries.",
        )]);
        let window = (0, t.segments[0].end_ms);
        // The model alone heard the identity word for word; the transcript did not.
        let own = "Bonjour Monsieur, Marc Lefevre, de la société Isosell et je travaille pour le compte des Menuiseries.";
        assert!(phrasings_heard(&book, "identity", own).contains(&"de la société".to_string()));
        assert!(phrasings_heard(&book, "identity", &t.segments[0].text).is_empty());
        assert!(phrasings_heard(&book, "bloctel", own).is_empty());
        // It takes the place of the transcript's words for that stretch.
        let r = own_reading(&t, "identity", (0, window), own, "de la société").expect("a place");
        assert!(
            r.script
                .contains("Marc Lofaèvre, de la société Isosell, et je travaille"),
            "{}",
            r.script
        );
        assert_eq!(r.heard, t.segments[0].text);
        // Hearings too unlike to say where: none.
        assert!(own_reading(
            &t,
            "identity",
            (0, window),
            "Hmm hmm hmm hmm hmm.",
            "de la société"
        )
        .is_none());
    }

    /// What verification knows of a one-minute call besides its transcript.
    fn minute_call(m: &callproof_models::CallMetadata) -> crate::CallFacts<'_> {
        crate::CallFacts {
            call_id: callproof_models::CallId::new(),
            metadata: m,
            duration_ms: Some(60_000),
        }
    }

    #[test]
    fn a_reading_that_takes_another_findings_words_is_left_out() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        let facts = minute_call(&m);
        let mut t = garbled_written_confirmation();
        // "par courrier" read in place of "quatorze jours": the written confirmation would be
        // met and the 14-day withdrawal lost.
        let seg = &t.segments[4];
        let window = (seg.start_ms, seg.end_ms);
        let words = window_words(&t, seg.channel, window);
        let n = words.len();
        let bad = reading(
            "written_confirmation",
            (seg.channel, window),
            &words,
            (n - 2, n),
            "par courrier",
            "par courrier".into(),
        );
        let before = t.clone();
        assert!(!apply_clearing(&book, &facts, &mut t, &bad, &[0.8; 12]));
        assert_eq!(t, before);
        // The reading of the garbled words themselves clears and is put in place.
        assert!(read_par_courrier(&book, &facts, &mut t));
        assert_eq!(
            finding(&run(&book, &t, &m), "written_confirmation").status,
            FindingStatus::Pass
        );
    }

    /// Puts in place the reading "par courrier" made for `garbled_written_confirmation`'s
    /// garbled words ("par coyer"); whether it was.
    fn read_par_courrier(
        book: &RuleBook,
        facts: &crate::CallFacts<'_>,
        t: &mut Transcript,
    ) -> bool {
        let v = run(book, t, facts.metadata);
        let good = script_readings(book, t, &v)
            .into_iter()
            .find(|r| r.phrase == "par courrier")
            .unwrap();
        let probs = vec![0.8; good.script.split_whitespace().count()];
        apply_clearing(book, facts, t, &good, &probs)
    }

    #[test]
    fn no_reading_is_put_in_place_for_an_item_already_met() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        let facts = minute_call(&m);
        let mut t = garbled_written_confirmation();
        assert!(read_par_courrier(&book, &facts, &mut t));
        // The item is met: "par mail" read over the agent's question at the end would clear
        // nothing, and put words in the transcript that nobody may have said.
        let seg = t
            .segments
            .iter()
            .find(|s| s.text.starts_with("Acceptez-vous"))
            .unwrap();
        let window = (seg.start_ms, seg.end_ms);
        let words = window_words(&t, seg.channel, window);
        let again = reading(
            "written_confirmation",
            (seg.channel, window),
            &words,
            (0, 1),
            "par mail",
            "par mail".into(),
        );
        let before = t.clone();
        let probs = vec![0.8; again.script.split_whitespace().count()];
        assert!(!apply_clearing(&book, &facts, &mut t, &again, &probs));
        assert_eq!(t, before);
    }

    #[test]
    fn a_reading_never_takes_away_a_forbidden_phrase() {
        // The binding-after-signature item is not said; instead the agent tells the customer
        // there is nothing to sign: the call is a violation.
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let m = meta("2026-03-03T10:30:00+01:00");
        let facts = minute_call(&m);
        let mut turns = compliant();
        turns[5] = (
            A,
            23_000,
            "Vous recevrez l'offre par courrier. Parfait, le contrat est coclut, vous n'avez rien à signer.",
        );
        let mut t = transcript(&turns);
        barely_heard(&mut t, 5, |w| w.contains("coclut"));
        let v = run(&book, &t, &m);
        assert_eq!(finding(&v, "final_on_phone").status, FindingStatus::Fail);
        // "pour signature" read over the garbled word and the forbidden words after it would
        // clear the missing item by taking the forbidden phrase away.
        let (channel, window) = (
            t.segments[5].channel,
            (t.segments[5].start_ms, t.segments[5].end_ms),
        );
        let words = window_words(&t, channel, window);
        let n = words.len();
        let at = words
            .iter()
            .position(|w| w.text.contains("coclut"))
            .unwrap();
        let read = |(a, b)| {
            reading(
                "binding_after_signature",
                (channel, window),
                &words,
                (a, b),
                "pour signature",
                "pour signature".into(),
            )
        };
        // A reading of the garbled word alone leaves the forbidden words where they are.
        let (over, alone) = (read((at, n)), read((at, at + 1)));
        let probs = vec![0.8; over.script.split_whitespace().count()];
        let before = t.clone();
        assert!(!apply_clearing(&book, &facts, &mut t, &over, &probs));
        assert_eq!(t, before);
        assert_eq!(
            run(&book, &t, &m).verdict,
            callproof_models::Verdict::Violation
        );
        let probs = vec![0.8; alone.script.split_whitespace().count()];
        assert!(apply_clearing(&book, &facts, &mut t, &alone, &probs));
        assert_eq!(
            finding(&run(&book, &t, &m), "final_on_phone").status,
            FindingStatus::Fail
        );
    }
}
