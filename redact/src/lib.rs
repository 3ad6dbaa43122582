//! Finding and removing what a sales call must not keep: card numbers, security codes, expiry
//! dates, IBANs, e-mail addresses, dates of birth, social security numbers.
//!
//! PCI DSS 4.0 (3.3.1) forbids keeping a card's security code after authorisation, recordings
//! included; CNIL asks that personal data be kept only as long as needed. A transcript is read
//! the way a listener would: numbers said digit by digit, in pairs, in groups or in words
//! ([`numbers`]), with their context ("cryptogramme", "les trois chiffres au dos", "IBAN",
//! "security code"). In a payment context every digit run is redacted, whether or not its
//! checksum holds (the recogniser mishears digits); outside one, only a number whose checksum
//! holds (Luhn for cards, mod 97 for IBANs and French social security numbers) is. Each
//! detection is a [`Span`] with its kind, speaker and times, from which the transcript's text
//! and the recording's audio are redacted ([`redact_transcript`], [`redact_audio`]).

pub mod numbers;

use callproof_models::Transcript;

pub use callproof_models::{
    PiiKind, RedactionAudio as AudioMode, RedactionPolicy as Policy, RedactionSpan as Span,
};

/// A word of the call, in time order across speakers, normalised for matching.
struct Tok {
    seg: usize,
    word: usize,
    norm: String,
    start_ms: u64,
    end_ms: u64,
}

fn normalise(w: &str) -> String {
    w.trim()
        .trim_matches(|c: char| {
            !(c.is_alphanumeric() || c == '@' || c == '-' || c == '/' || c == '\'')
        })
        .trim_matches('-')
        .to_lowercase()
        .replace('’', "'")
}

fn tokens(t: &Transcript) -> Vec<Tok> {
    let mut out: Vec<Tok> = t
        .segments
        .iter()
        .enumerate()
        .flat_map(|(si, s)| {
            s.words.iter().enumerate().map(move |(wi, w)| Tok {
                seg: si,
                word: wi,
                norm: normalise(&w.text),
                start_ms: w.start_ms,
                end_ms: w.end_ms,
            })
        })
        .filter(|t| !t.norm.is_empty())
        .collect();
    out.sort_by_key(|t| (t.start_ms, t.seg, t.word));
    out
}

/// Words that put the digits after them in a payment context.
const PAYMENT: &[&str] = &[
    "carte",
    "cb",
    "visa",
    "mastercard",
    "amex",
    "bancaire",
    "cryptogramme",
    "crypto",
    "cvv",
    "cvc",
    "cvc2",
    "expiration",
    "expire",
    "validité",
    "iban",
    "rib",
    "bic",
    "card",
    "expiry",
    "expires",
    "security",
    "sort",
    "account",
];
const CVV: &[&str] = &[
    "cryptogramme",
    "crypto",
    "cvv",
    "cvc",
    "cvc2",
    "dos",
    "sécurité",
    "security",
    "back",
];
const EXPIRY: &[&str] = &[
    "expiration",
    "expire",
    "expirez",
    "validité",
    "valable",
    "expiry",
    "expires",
    "valid",
];
const IBAN: &[&str] = &["iban", "rib", "compte", "account", "sort", "bic"];
const SOCIAL: &[&str] = &["sociale", "sécu", "secu", "social", "insurance", "nir"];
const BIRTH: &[&[&str]] = &[
    &["né", "le"],
    &["née", "le"],
    &["naissance"],
    &["born"],
    &["birth"],
    &["birthday"],
    &["dob"],
];
const MONTHS: &[&str] = &[
    "janvier",
    "février",
    "fevrier",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "aout",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
    "decembre",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "premier",
    "first",
];
/// Words after a number that make it a price or a quantity, never a card or a code.
const AMOUNT: &[&str] = &[
    "euro",
    "euros",
    "€",
    "centimes",
    "dollars",
    "dollar",
    "pounds",
    "livres",
    "pence",
    "cents",
    "kwh",
    "kilowattheure",
    "kilowattheures",
    "mois",
    "month",
    "jours",
    "days",
    "ans",
    "years",
    "pour",
    "percent",
];

/// How far back a context word counts: about one exchange.
const CONTEXT_WORDS: usize = 30;
const CONTEXT_MS: u64 = 30_000;

/// Luhn's checksum, as every payment card number carries.
pub fn luhn(digits: &str) -> bool {
    if digits.len() < 12 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The IBAN checksum (ISO 13616, mod 97 = 1).
pub fn iban_valid(iban: &str) -> bool {
    let s: String = iban
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if s.len() < 15 || s.len() > 34 || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let (head, rest) = s.split_at(4);
    if !head[..2].chars().all(|c| c.is_ascii_alphabetic())
        || !head[2..].chars().all(|c| c.is_ascii_digit())
    {
        return false;
    }
    let mut rem: u32 = 0;
    for c in rest.chars().chain(head.chars()) {
        let v = c.to_digit(36).unwrap_or(0);
        for d in v.to_string().chars() {
            rem = (rem * 10 + d.to_digit(10).unwrap_or(0)) % 97;
        }
    }
    rem == 1
}

/// A French social security number (NIR): 13 digits and a two-digit key, 97 − (NIR mod 97).
pub fn nir_valid(digits: &str) -> bool {
    if digits.len() != 15 || !matches!(digits.as_bytes()[0], b'1' | b'2') {
        return false;
    }
    let (body, key) = digits.split_at(13);
    match (body.parse::<u64>(), key.parse::<u64>()) {
        (Ok(b), Ok(k)) => 97 - (b % 97) == k,
        _ => false,
    }
}

/// Finds what `policy` redacts in a transcript.
pub fn detect(t: &Transcript, policy: &Policy) -> Vec<Span> {
    let toks = tokens(t);
    let mut taken = vec![false; toks.len()];
    let mut spans = Vec::new();
    let push = |spans: &mut Vec<Span>, kind: PiiKind, from: usize, to: usize, reason: String| {
        if !policy.types.contains(&kind) {
            return;
        }
        let first = &toks[from];
        let seg = &t.segments[first.seg];
        spans.push(Span {
            kind,
            speaker: seg.speaker,
            channel: seg.channel,
            start_ms: first.start_ms,
            end_ms: toks[from..=to]
                .iter()
                .map(|t| t.end_ms)
                .max()
                .unwrap_or(first.end_ms),
            reason,
        });
    };
    // E-mail addresses: written with @, or spelt with arobase / at … point / dot.
    for i in 0..toks.len() {
        let w = toks[i].norm.as_str();
        if w.contains('@') && w.len() > 2 {
            taken[i] = true;
            push(&mut spans, PiiKind::Email, i, i, "an e-mail address".into());
            continue;
        }
        if matches!(w, "arobase" | "at") {
            // … at gmail dot com: the domain ends with a dot and a short word.
            let end = (i + 1..toks.len().min(i + 6)).find(|&j| {
                matches!(toks[j - 1].norm.as_str(), "point" | "dot")
                    && toks[j].norm.chars().all(char::is_alphabetic)
                    && (2..=4).contains(&toks[j].norm.chars().count())
            });
            if let Some(end) = end {
                let local = i.saturating_sub(3);
                let start = (local..i)
                    .find(|&k| {
                        !matches!(toks[k].norm.as_str(), "c'est" | "is" | "mon" | "my" | "est")
                    })
                    .unwrap_or(i);
                for x in taken.iter_mut().take(end + 1).skip(start) {
                    *x = true;
                }
                push(
                    &mut spans,
                    PiiKind::Email,
                    start,
                    end,
                    "an e-mail address spelt out".into(),
                );
            }
        }
    }
    // Runs of digits (said or written), with the letters of an IBAN's head before them.
    let mut i = 0;
    while i < toks.len() {
        if taken[i] || !numbers::is_numeric(&toks[i].norm) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < toks.len()
            && !taken[j + 1]
            && (numbers::is_numeric(&toks[j + 1].norm) || numbers::is_joining(&toks[j + 1].norm))
            && toks[j + 1].start_ms.saturating_sub(toks[j].end_ms) < 3_000
        {
            j += 1;
        }
        while j > i && numbers::is_joining(&toks[j].norm) {
            j -= 1;
        }
        let words: Vec<&str> = toks[i..=j].iter().map(|t| t.norm.as_str()).collect();
        let digits = numbers::digits_of(&words);
        // An IBAN's country letters and check digits ("FR76", or "F R 76") just before.
        let mut start = i;
        let mut head = String::new();
        for k in (i.saturating_sub(3)..i).rev() {
            let w = &toks[k].norm;
            let letters = w.chars().take_while(|c| c.is_ascii_alphabetic()).count();
            if (1..=2).contains(&letters)
                && w.len() <= 4
                && w.chars().skip(letters).all(|c| c.is_ascii_digit())
                && !taken[k]
            {
                head = format!("{w}{head}");
                start = k;
            } else {
                break;
            }
        }
        let kind = classify(&toks, start, j, &digits, &head);
        if let Some((kind, reason)) = kind {
            for x in taken.iter_mut().take(j + 1).skip(start) {
                *x = true;
            }
            push(&mut spans, kind, start, j, reason);
        }
        i = j + 1;
    }
    // Dates of birth: a date right after "né le", "date de naissance", "born on"…
    for i in 0..toks.len() {
        let w = toks[i].norm.as_str();
        let starts = BIRTH.iter().any(|pat| {
            pat.iter()
                .enumerate()
                .all(|(k, p)| toks.get(i + k).is_some_and(|t| t.norm == *p))
        });
        if !starts || !w.chars().all(char::is_alphabetic) {
            continue;
        }
        let dateish = |t: &Tok| {
            numbers::is_numeric(&t.norm)
                || MONTHS.contains(&t.norm.as_str())
                || matches!(t.norm.as_str(), "de" | "of" | "the" | "le")
        };
        let first = ((i + 1)..toks.len().min(i + 10)).find(|&k| {
            !taken[k]
                && (numbers::is_numeric(&toks[k].norm) || MONTHS.contains(&toks[k].norm.as_str()))
        });
        // The date runs on as long as its words do (day, month, year in words).
        let last = first.map(|a| {
            let mut b = a;
            while b + 1 < toks.len().min(a + 14) && !taken[b + 1] && dateish(&toks[b + 1]) {
                b += 1;
            }
            while b > a && matches!(toks[b].norm.as_str(), "de" | "of" | "the" | "le") {
                b -= 1;
            }
            b
        });
        if let (Some(a), Some(b)) = (first, last) {
            for x in taken.iter_mut().take(b + 1).skip(a) {
                *x = true;
            }
            push(
                &mut spans,
                PiiKind::BirthDate,
                a,
                b,
                "a date of birth".into(),
            );
        }
    }
    spans.sort_by_key(|s| (s.start_ms, s.end_ms));
    spans
}

/// Whether any of `words` appears in the context before token `at` (same exchange).
fn context_has(toks: &[Tok], at: usize, words: &[&str]) -> Option<String> {
    let from = at.saturating_sub(CONTEXT_WORDS);
    toks[from..at]
        .iter()
        .rev()
        .take_while(|t| toks[at].start_ms.saturating_sub(t.end_ms) <= CONTEXT_MS)
        .find(|t| {
            let w = t.norm.as_str();
            words
                .iter()
                .any(|k| w == *k || w.ends_with(&format!("'{k}")))
        })
        .map(|t| t.norm.clone())
}

/// What a run of digits is, if it must be redacted.
fn classify(
    toks: &[Tok],
    start: usize,
    end: usize,
    digits: &str,
    head: &str,
) -> Option<(PiiKind, String)> {
    let n = digits.len();
    // A price or a quantity ("49 euros", "14 jours") is neither a card nor a code.
    let next = toks.get(end + 1).map(|t| t.norm.as_str()).unwrap_or("");
    if AMOUNT.contains(&next) || next.starts_with('€') {
        return None;
    }
    let iban = format!("{head}{digits}");
    if !head.is_empty() && iban_valid(&iban) {
        return Some((PiiKind::Iban, "IBAN checksum".into()));
    }
    if let Some(w) = context_has(toks, start, SOCIAL) {
        if n >= 13 {
            return Some((PiiKind::SocialSecurity, format!("context: {w}")));
        }
    }
    if let Some(w) = context_has(toks, start, PAYMENT) {
        if n < 3 && head.is_empty() {
            return None;
        }
        let kind = if context_has(toks, start, IBAN).is_some() && (n >= 10 || !head.is_empty()) {
            PiiKind::Iban
        } else if n <= 4 && context_has(toks, start, CVV).is_some() && n >= 3 {
            PiiKind::Cvv
        } else if n <= 6 && context_has(toks, start, EXPIRY).is_some() {
            PiiKind::Expiry
        } else if n <= 4 && context_has(toks, start, CVV).is_some() {
            PiiKind::Cvv
        } else {
            PiiKind::Card
        };
        return Some((kind, format!("payment context: {w}")));
    }
    if (13..=19).contains(&n) && luhn(digits) {
        return Some((PiiKind::Card, "Luhn checksum".into()));
    }
    if nir_valid(digits) {
        return Some((PiiKind::SocialSecurity, "social security number key".into()));
    }
    None
}

/// The transcript with every span's words replaced by its label: the first word of a span
/// reads `[CARTE]` (with the word's times stretched over the span), the others are removed,
/// and the text of each segment touched is rebuilt from its words, so that no digit of a span
/// survives anywhere in it.
pub fn redact_transcript(t: &Transcript, spans: &[Span]) -> Transcript {
    let mut out = t.clone();
    if spans.is_empty() {
        return out;
    }
    for seg in out.segments.iter_mut() {
        let mut touched = false;
        let mut words = Vec::with_capacity(seg.words.len());
        let mut open: Option<usize> = None;
        for w in seg.words.drain(..) {
            let mid = (w.start_ms + w.end_ms) / 2;
            // Every channel: an agent repeating a number over the customer is redacted too.
            let inside = spans
                .iter()
                .position(|s| mid >= s.start_ms && mid <= s.end_ms);
            match inside {
                Some(k) if open == Some(k) => {
                    touched = true;
                    if let Some(last) = words.last_mut() {
                        let last: &mut callproof_models::Word = last;
                        last.end_ms = last.end_ms.max(w.end_ms);
                    }
                }
                Some(k) => {
                    touched = true;
                    open = Some(k);
                    let lead = if w.text.starts_with(' ') { " " } else { "" };
                    words.push(callproof_models::Word {
                        text: format!("{lead}{}", spans[k].kind.label(&t.language)),
                        ..w
                    });
                }
                None => {
                    open = None;
                    words.push(w);
                }
            }
        }
        seg.words = words;
        if touched {
            let text: String = seg.words.iter().map(|w| w.text.as_str()).collect();
            seg.text = text.trim().to_string();
            if !seg.text.starts_with(' ') && t.segments.iter().any(|s| s.text.starts_with(' ')) {
                seg.text.insert(0, ' ');
            }
        }
    }
    out
}

/// Silences (or covers with a tone) every span, with the policy's margin, in every channel:
/// in a stereo call the other party's channel carries an echo of the same words.
pub fn redact_audio(channels: &mut [Vec<f32>], sample_rate: u32, spans: &[Span], policy: &Policy) {
    let rate = sample_rate as u64;
    for s in spans {
        let from = (s.start_ms.saturating_sub(policy.margin_ms) * rate / 1000) as usize;
        let to = ((s.end_ms + policy.margin_ms) * rate / 1000) as usize;
        for ch in channels.iter_mut() {
            let to = to.min(ch.len());
            let from = from.min(to);
            for (i, x) in ch[from..to].iter_mut().enumerate() {
                *x = match policy.audio {
                    AudioMode::Silence => 0.0,
                    AudioMode::Tone => {
                        0.1 * (2.0 * std::f32::consts::PI * 1000.0 * (from + i) as f32
                            / sample_rate as f32)
                            .sin()
                    }
                };
            }
        }
    }
}

#[cfg(test)]
mod tests;
