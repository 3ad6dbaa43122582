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
    /// As written, for the case of letters (an IBAN's country code is upper case).
    raw: String,
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
                raw: w.text.trim().to_string(),
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
    "chiffres",
    "digits",
    "prélèvement",
    "prelevement",
    "coordonnées bancaires",
    "numéro de compte",
    "direct debit",
    "bank details",
    "account number",
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
const SOCIAL: &[&str] = &[
    "sécurité sociale",
    "securite sociale",
    "sécu",
    "secu",
    "social security",
    "national insurance",
    "nir",
];
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

/// The transcript as the recogniser first heard it, where a later reading changed it
/// (`Segment::heard_first`: the first hearing's words spread over the segment's time); None
/// when nothing was changed. Payment data may be in the first hearing only — a reading of the
/// script that replaced a customer's words keeps them there — so it is searched too.
fn first_hearing(t: &Transcript) -> Option<Transcript> {
    if t.segments.iter().all(|s| s.heard_first.is_none()) {
        return None;
    }
    let mut out = t.clone();
    for seg in out.segments.iter_mut() {
        let Some(first) = seg.heard_first.take() else {
            continue;
        };
        let words: Vec<&str> = first.split_whitespace().collect();
        let span = seg.end_ms.saturating_sub(seg.start_ms);
        let n = words.len().max(1) as u64;
        seg.words = words
            .iter()
            .enumerate()
            .map(|(i, w)| callproof_models::Word {
                text: format!(" {w}"),
                start_ms: seg.start_ms + span * i as u64 / n,
                end_ms: seg.start_ms + span * (i as u64 + 1) / n,
                probability: 1.0,
            })
            .collect();
        seg.text = first;
    }
    Some(out)
}

/// `find` over the transcript and over its first hearing (see [`first_hearing`]), once each.
fn both_hearings(t: &Transcript, find: impl Fn(&Transcript) -> Vec<Span>) -> Vec<Span> {
    let mut spans = find(t);
    if let Some(first) = first_hearing(t) {
        for s in find(&first) {
            if !spans.contains(&s) {
                spans.push(s);
            }
        }
        spans.sort_by_key(|s| (s.start_ms, s.end_ms));
    }
    spans
}

/// Finds what `policy` redacts in a transcript, as heard now and as first heard.
pub fn detect(t: &Transcript, policy: &Policy) -> Vec<Span> {
    both_hearings(t, |t| detect_in(t, policy))
}

fn detect_in(t: &Transcript, policy: &Policy) -> Vec<Span> {
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
            let raw = toks[k].raw.trim_matches(|c: char| !c.is_alphanumeric());
            let letters = raw.chars().take_while(|c| c.is_ascii_uppercase()).count();
            let shaped = (1..=2).contains(&letters)
                && raw.len() <= 4
                && raw.chars().skip(letters).all(|c| c.is_ascii_digit());
            let so_far = head.chars().filter(char::is_ascii_alphabetic).count();
            if shaped && !taken[k] && so_far + letters <= 2 {
                head = format!("{w}{head}");
                start = k;
            } else {
                break;
            }
        }
        if head.is_empty() {
            // "FR76…" written as one token: its letters are the head.
            let raw = toks[i].raw.trim_matches(|c: char| !c.is_alphanumeric());
            let letters: String = raw.chars().take_while(|c| c.is_ascii_uppercase()).collect();
            if letters.len() == 2 {
                head = letters.to_lowercase();
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

/// How long after a payment question the customer's answer is removed from the audio.
const ANSWER_MS: u64 = 15_000;
/// How long a payment dialogue lasts after the agent's last payment word.
const DIALOGUE_MS: u64 = 30_000;

/// The customer's answers to the agent's payment questions ("le cryptogramme, les trois
/// chiffres au dos ?"), as spans of audio to remove whatever the recogniser made of them: a
/// code said too fast or too quietly to be transcribed is still in the recording, and PCI DSS
/// 3.3.1 forbids keeping it. Each runs from the end of the question to the agent's next turn
/// (at most 15 s), on the customer's channel. A payment dialogue lasts 30 s past the agent's
/// last payment word: every agent turn in it is taken as a payment prompt ("je vous écoute",
/// "and when does it expire?"), whatever the recogniser made of it. Needs the agent and the
/// customer apart: a mono recording has none.
pub fn answer_windows(t: &Transcript, policy: &Policy) -> Vec<Span> {
    both_hearings(t, |t| answer_windows_in(t, policy))
}

fn answer_windows_in(t: &Transcript, policy: &Policy) -> Vec<Span> {
    use callproof_models::Speaker;
    let toks = tokens(t);
    let customer = t
        .segments
        .iter()
        .find(|s| s.speaker == Speaker::Customer)
        .map(|s| s.channel);
    let Some(customer) = customer else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // The payment dialogue: until when, and what was last asked in it.
    let mut dialogue: Option<(u64, PiiKind, String)> = None;
    for (si, seg) in t.segments.iter().enumerate() {
        if seg.speaker != Speaker::Agent {
            continue;
        }
        // The question's own words, as tokens, for the phrase matcher.
        let own: Vec<usize> = toks
            .iter()
            .enumerate()
            .filter(|(_, k)| k.seg == si)
            .map(|(i, _)| i)
            .collect();
        let (Some(&first), Some(&last)) = (own.first(), own.last()) else {
            continue;
        };
        let asks = |words: &[&str]| find_phrase(&toks, first..last + 1, words, |_| true);
        let kind = if let Some(w) = asks(CVV) {
            Some((PiiKind::Cvv, w))
        } else if let Some(w) = asks(EXPIRY) {
            Some((PiiKind::Expiry, w))
        } else if let Some(w) = asks(IBAN).filter(|_| asks(PAYMENT).is_some()) {
            Some((PiiKind::Iban, w))
        } else {
            asks(PAYMENT).map(|w| (PiiKind::Card, w))
        };
        let (kind, word) = match (kind, &dialogue) {
            (Some((kind, word)), _) => {
                dialogue = Some((seg.end_ms + DIALOGUE_MS, kind, word.clone()));
                (kind, word)
            }
            (None, Some((until, kind, word))) if seg.start_ms <= *until => {
                (*kind, format!("{word}, in the payment dialogue"))
            }
            (None, _) => continue,
        };
        if !policy.types.contains(&kind) {
            continue;
        }
        let next_agent = t.segments[si + 1..]
            .iter()
            .find(|s| s.speaker == Speaker::Agent)
            .map(|s| s.start_ms);
        let end = next_agent.unwrap_or(u64::MAX).min(seg.end_ms + ANSWER_MS);
        if end > seg.end_ms {
            out.push(Span {
                kind,
                speaker: Speaker::Customer,
                channel: customer,
                start_ms: seg.end_ms,
                end_ms: end,
                reason: format!("the answer to a payment question ({word})"),
            });
        }
    }
    out
}

/// Whether a recognised word is a context word, allowing for the recogniser's mishearings of
/// the long, rare words payment talk is made of ("crito-gramme", "expirquant", "CVB"): the same
/// word (or after an elided article, "d'expiration"), or within a small edit distance that
/// for long words (two letters off, or the same first five letters), or an acronym one letter
/// off; short words must be heard as they are.
fn heard_as(token: &str, keyword: &str) -> bool {
    let token = token.rsplit('\'').next().unwrap_or(token).replace('-', "");
    if token == keyword {
        return true;
    }
    let (n, k) = (token.chars().count(), keyword.chars().count());
    let distance = strsim::levenshtein(&token, keyword);
    let vowel = |c: char| "aeiouyéèàù".contains(c);
    match k {
        // An acronym misheard as another (CVV as "CVB"): three letters, no vowel, one letter
        // off, the first two kept.
        3 => {
            n == 3
                && distance <= 1
                && !token.chars().any(vowel)
                && token.chars().take(2).eq(keyword.chars().take(2))
        }
        // Short words ("card", "carte", "visa") are matched exactly: one letter off is
        // another common word ("care", "carré").
        0..=5 => false,
        _ => distance <= 2 || (n >= 6 && token.chars().take(5).eq(keyword.chars().take(5))),
    }
}

/// The first of `words` (a word, or a phrase of several) found in `toks[range]`, searching
/// from its end backwards, among the tokens `keep` accepts.
fn find_phrase(
    toks: &[Tok],
    range: std::ops::Range<usize>,
    words: &[&str],
    keep: impl Fn(&Tok) -> bool,
) -> Option<String> {
    let is = |t: &Tok, k: &str| heard_as(&t.norm, k);
    let end = range.end;
    range.rev().take_while(|&i| keep(&toks[i])).find_map(|i| {
        words.iter().find_map(|phrase| {
            let parts: Vec<&str> = phrase.split(' ').collect();
            let fits = i + parts.len() <= end
                && parts.iter().enumerate().all(|(k, p)| is(&toks[i + k], p));
            fits.then(|| phrase.to_string())
        })
    })
}

/// Whether any of `words` appears in the context before token `at` (the same exchange: the
/// last 30 words, within 30 s); returns the one found.
fn context_has(toks: &[Tok], at: usize, words: &[&str]) -> Option<String> {
    let from = at.saturating_sub(CONTEXT_WORDS);
    let start = toks[at].start_ms;
    find_phrase(toks, from..at, words, |t| {
        start.saturating_sub(t.end_ms) <= CONTEXT_MS
    })
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
    // Every channel: an agent repeating a number over the customer is redacted too.
    relabel(
        t,
        spans,
        |_, w, s| {
            let mid = (w.start_ms + w.end_ms) / 2;
            mid >= s.start_ms && mid <= s.end_ms
        },
        |_, _| true,
    )
}

/// Within the customer's answers to payment questions ([`answer_windows`]), every number the
/// recogniser wrote — even a lone digit between misheard words ("3 s'accueille 2", "DO-09") —
/// is payment data: each is replaced by the window's label. Other words stay.
pub fn redact_numbers_in(t: &Transcript, windows: &[Span]) -> Transcript {
    relabel(
        t,
        windows,
        |seg, w, s| {
            let mid = (w.start_ms + w.end_ms) / 2;
            s.channel == seg.channel && mid >= s.start_ms && mid <= s.end_ms && numeric(&w.text)
        },
        |seg, s| s.channel == seg.channel,
    )
}

/// A number, or any word with a digit in it ("DO-09": a misheard date).
fn numeric(word: &str) -> bool {
    let norm = normalise(word);
    numbers::is_numeric(&norm) || norm.chars().any(|c| c.is_ascii_digit())
}

/// What a segment's first hearing (`heard_first`, text without word times) keeps where a span
/// overlaps the segment: every number in it gives way to the span's `label`, since which of
/// its words the span covered cannot be told.
fn relabel_first(first: &str, label: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for w in first.split_whitespace() {
        if numeric(w) {
            if out.last() != Some(&label) {
                out.push(label);
            }
        } else {
            out.push(w);
        }
    }
    out.join(" ")
}

/// Replaces the words `hit` puts in a span by the span's label — consecutive words of one span
/// become one label word stretched over them — and rebuilds the text of every segment touched
/// from its words, so that nothing of a span survives in it.
/// `applies` says which spans reach a segment's first hearing (`heard_first`).
fn relabel(
    t: &Transcript,
    spans: &[Span],
    hit: impl Fn(&callproof_models::Segment, &callproof_models::Word, &Span) -> bool,
    applies: impl Fn(&callproof_models::Segment, &Span) -> bool,
) -> Transcript {
    let mut out = t.clone();
    if spans.is_empty() {
        return out;
    }
    for seg in out.segments.iter_mut() {
        let over = spans
            .iter()
            .find(|s| applies(seg, s) && s.start_ms <= seg.end_ms && seg.start_ms <= s.end_ms);
        if let (Some(first), Some(s)) = (seg.heard_first.as_ref(), over) {
            seg.heard_first = Some(relabel_first(first, s.kind.label(&t.language)));
        }
        let mut touched = false;
        let mut words: Vec<callproof_models::Word> = Vec::with_capacity(seg.words.len());
        let mut open: Option<usize> = None;
        let old = std::mem::take(&mut seg.words);
        for w in old {
            match spans.iter().position(|s| hit(seg, &w, s)) {
                Some(k) if open == Some(k) => {
                    if let Some(prev) = words.last_mut() {
                        prev.end_ms = prev.end_ms.max(w.end_ms);
                    }
                }
                Some(k) => {
                    touched = true;
                    open = Some(k);
                    let lead = if w.text.starts_with(' ') || !words.is_empty() {
                        " "
                    } else {
                        ""
                    };
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
            // Words may or may not carry their leading space: joined with one either way.
            let text = seg
                .words
                .iter()
                .map(|w| w.text.trim())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let lead = if seg.text.starts_with(' ') { " " } else { "" };
            seg.text = format!("{lead}{text}");
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
