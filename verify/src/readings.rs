//! Script readings: where a finding is in doubt because the recogniser garbled the words it
//! rests on, the same stretch with the script's phrasing in their place, for the recording to
//! decide between.
//!
//! The text alone cannot tell "l'appétulatif écrit" (a garbled "récapitulatif écrit") from
//! another sentence; the speech model can say how much less likely the script's words are than
//! its own reading of the same audio (`callproof_transcribe::Engine::score_readings`). Building
//! the readings and putting an accepted one into the transcript live here, beside the matching
//! that found the doubtful words; the service scores them, because only it holds audio and model.
//! A reading only ever clears a doubt: it is tried for required items and consent, never for a
//! forbidden phrase, so that no accusation rests on it.

use callproof_models::{FindingStatus, Outcome, RuleKind, Segment, Transcript, Verification, Word};

use crate::{find, streams, RuleBook};

/// Longest stretch a reading covers: one Whisper window, less a margin.
pub const MAX_READING_MS: u64 = 29_000;

/// Score under which a place is too unlike the phrasing to be a garbled reading of it.
const CANDIDATE_FLOOR: f32 = 0.4;

/// Places tried per finding, and phrasings tried per place (the most alike).
const PLACES: usize = 3;
const PHRASINGS: usize = 4;

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
}

fn plain(s: &str) -> String {
    deunicode::deunicode(s)
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ')
        .collect()
}

/// The readings worth scoring for a verification: for each required item or consent that is
/// "needs review" because of what was heard — a match in the doubtful band ("probably said"),
/// or an item not found where the speech was garbled — the places its phrasings come closest
/// to, each with the phrasings most like the words heard there.
pub fn script_readings(book: &RuleBook, t: &Transcript, v: &Verification) -> Vec<ScriptReading> {
    let streams = streams(t, &book.language);
    let mut out = Vec::new();
    for f in &v.findings {
        if f.status != FindingStatus::Review
            || !matches!(f.kind, RuleKind::Required | RuleKind::Consent)
        {
            continue;
        }
        let Some(rule) = book.rules.iter().find(|r| r.id == f.rule_id) else {
            continue;
        };
        if rule.script.is_empty() {
            continue;
        }
        // Where to look: the doubtful match itself, or the garbled speech where the item was
        // expected. A consent "needs review" for another reason (a possible retraction, a mono
        // recording, a bare "yes") is not a matter of garbled words.
        let around: (u64, u64) = match (f.outcome, f.start_ms, f.end_ms, f.score) {
            // Scores are stored rounded to two decimals: 0.7466 reads 0.75.
            (Outcome::Met, Some(s), Some(e), Some(score)) if score < book.review_below + 0.005 => {
                (s, e)
            }
            (Outcome::Missing, None, None, _) => {
                match f.hearing.as_ref().and_then(|h| h.doubtful) {
                    Some(span) => span,
                    None => continue,
                }
            }
            _ => continue,
        };
        let wanted = rule.speaker;
        let own: Vec<_> = streams
            .iter()
            .filter(|s| wanted.is_none_or(|w| s.speaker == w))
            .collect();
        let mut places = find(&rule.patterns, &own, CANDIDATE_FLOOR);
        places.retain(|c| c.start_ms < around.1 + 1_000 && around.0 < c.end_ms + 1_000);
        places.dedup_by(|a, b| a.start_ms == b.start_ms && a.end_ms == b.end_ms);
        let mut seen: Vec<(u64, u64)> = Vec::new();
        for c in places {
            if seen.len() == PLACES {
                break;
            }
            if seen.contains(&(c.start_ms, c.end_ms)) {
                continue;
            }
            seen.push((c.start_ms, c.end_ms));
            out.extend(readings_at(
                t,
                &rule.id,
                c.speaker,
                (c.start_ms, c.end_ms),
                &rule.script,
            ));
        }
    }
    out
}

/// The readings of one place: the segments of `speaker` around `replaced`, with each of the
/// phrasings most like the words there in their place.
fn readings_at(
    t: &Transcript,
    rule_id: &str,
    speaker: callproof_models::Speaker,
    replaced: (u64, u64),
    script: &[String],
) -> Vec<ScriptReading> {
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
    let words: Vec<&Word> = segs.iter().flat_map(|s| &s.words).collect();
    let inside = |w: &Word| w.start_ms >= replaced.0 && w.end_ms <= replaced.1;
    let Some(a) = words.iter().position(|w| inside(w)) else {
        return Vec::new();
    };
    let b = words.iter().rposition(|w| inside(w)).unwrap_or(a) + 1;
    let text = |ws: &[&Word]| {
        ws.iter()
            .map(|w| w.text.trim())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let heard = text(&words);
    let said = text(&words[a..b]);
    let mut phrasings: Vec<(f64, &String)> = script
        .iter()
        .map(|p| (strsim::normalized_levenshtein(&plain(p), &plain(&said)), p))
        .collect();
    phrasings.sort_by(|x, y| y.0.total_cmp(&x.0));
    phrasings
        .into_iter()
        .take(PHRASINGS)
        .map(|(_, p)| {
            let phrase = fitted(p, &words[a].text, &words[b - 1].text);
            let script = [text(&words[..a]), phrase.clone(), text(&words[b..])]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            ScriptReading {
                rule_id: rule_id.to_string(),
                channel: first.channel,
                window,
                heard: heard.clone(),
                script,
                replaced: (words[a].start_ms, words[b - 1].end_ms),
                words: (a, b),
                phrase: p.clone(),
            }
        })
        .collect()
}

/// A phrasing fitted to the words it takes the place of: their capital and their closing
/// punctuation ("Un récapitulatif écrit," for "L'appétulatif écrit,").
fn fitted(phrase: &str, first: &str, last: &str) -> String {
    let mut out = phrase.to_string();
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
    let n = phrase.split_whitespace().count().max(1);
    let target = plain(phrase);
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
    let Some((sim, a, b)) = best else {
        return phrase.to_string();
    };
    if sim >= 1.0 {
        return text.to_string();
    }
    let put = fitted(phrase, words[a], words[b - 1]);
    [words[..a].join(" "), put, words[b..].join(" ")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
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
        s.text = s
            .words
            .iter()
            .map(|w| w.text.trim())
            .collect::<Vec<_>>()
            .join(" ");
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
        // No reading can say which number: phrasings with {number} are left out.
        assert!(rule("price").script.is_empty());
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

    fn garbled_written_confirmation() -> Transcript {
        let mut turns = compliant();
        turns[5] = (
            A,
            23_000,
            "Vous recevrez l'offre par coyer et vous ne serez engagée qu'après l'avoir signée.",
        );
        let mut t = transcript(&turns);
        for w in &mut t.segments[5].words {
            if w.text.contains("coyer") {
                w.probability = 0.2;
            }
        }
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
            "Vous recevrez l'offre par courrier et vous ne serez engagée qu'après l'avoir signée."
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
}
