//! Normalised tokens: what recognised speech and rule phrasings are compared as.
//!
//! Speech recognition writes the same words in many ways: "Quatorze jours," or "14 jours",
//! "l'octèle", "e-mail", "29,90 €". Both the transcript and the rule's phrasings go through the
//! same steps here (lower case, numbers said in words turned into digits, accents and ligatures
//! folded, punctuation, apostrophes and hyphens as separators, currency signs as words) so the
//! matcher only ever compares like with like, and every transcript token still knows which
//! recognised word, and so which time, it came from. A duration said in weeks is read in days
//! ("deux semaines" is "14 jours", "a fortnight" is "14 days"): the law and the packs count a
//! withdrawal period in days, a speaker often in weeks.

use std::borrow::Cow;

/// One normalised token of a transcript stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Tok {
    pub norm: String,
    /// Index of the first and last recognised word this token comes from.
    pub first_word: usize,
    pub last_word: usize,
}

/// A lower-cased piece before number folding, with accents kept (number words need them).
struct Piece {
    lower: String,
    word: usize,
}

impl text2num::Token for &Piece {
    fn text(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.lower)
    }
    fn text_lowercase(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.lower)
    }
}

fn symbol_word(c: char, language: &str) -> Option<&'static str> {
    let fr = language == "fr";
    Some(match c {
        '€' => "euros",
        '£' => "pounds",
        '$' => "dollars",
        '%' if fr => "pourcent",
        '%' => "percent",
        '&' if fr => "et",
        '&' => "and",
        _ => return None,
    })
}

/// Splits a piece of text into lower-case word pieces: letters and digits stay together,
/// everything else separates (apostrophes and hyphens included: "l'octèle" → "l", "octèle").
fn split_into(text: &str, word: usize, language: &str, out: &mut Vec<Piece>) {
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<Piece>| {
        if !cur.is_empty() {
            out.push(Piece {
                lower: std::mem::take(cur),
                word,
            });
        }
    };
    let first = out.len();
    let mut prev_digit = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            // "14jours" → "14", "jours"; "mp3" stays one piece.
            if prev_digit && !c.is_numeric() && cur.chars().all(char::is_numeric) {
                flush(&mut cur, out);
            }
            cur.extend(c.to_lowercase());
            prev_digit = c.is_numeric();
        } else {
            flush(&mut cur, out);
            prev_digit = false;
            if let Some(w) = symbol_word(c, language) {
                out.push(Piece {
                    lower: w.to_string(),
                    word,
                });
            }
        }
    }
    flush(&mut cur, out);
    // "$25", "£30", "€15": the sign is read after the number, as "25 dollars" is said.
    let is_currency = |p: &Piece| matches!(p.lower.as_str(), "euros" | "pounds" | "dollars");
    let is_number = |p: &Piece| p.lower.chars().all(|c| c.is_ascii_digit());
    if out.len() > first + 1 && is_currency(&out[first]) && is_number(&out[first + 1]) {
        let digits = out[first + 1..].iter().take_while(|p| is_number(p)).count();
        out[first..=first + digits].rotate_left(1);
    }
}

/// Folds accents and ligatures: "rétractation" → "retractation", "œuvre" → "oeuvre".
fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    deunicode::deunicode(s).to_ascii_lowercase()
}

/// French fuses "de" and "à" with the article that follows ("de le" → "du", "de les" →
/// "des", "à le" → "au", "à les" → "aux") and elides "de" before a vowel ("d'Énergie"): a
/// phrasing written "au nom de" is said "au nom du fournisseur", "au nom des Énergies" or "au
/// nom d'Énergie Claire". Both sides of the comparison take the bare preposition, so no pack
/// has to list every form (whose letters are too few for the matcher's tolerance: "du" is as
/// far from "de" as "le" is).
fn contracted<'a>(token: &'a str, language: &str) -> &'a str {
    if language != "fr" {
        return token;
    }
    match token {
        "du" | "des" | "d" => "de",
        "au" | "aux" => "a",
        other => other,
    }
}

/// Normalises a sequence of recognised words into tokens that remember their word.
pub fn tokens<'a>(words: impl IntoIterator<Item = &'a str>, language: &str) -> Vec<Tok> {
    let mut pieces = Vec::new();
    for (i, w) in words.into_iter().enumerate() {
        split_into(w, i, language, &mut pieces);
    }
    let numbers = text2num::get_interpreter_for(language)
        .map(|lang| text2num::find_numbers(pieces.iter(), &lang, 0.0))
        .unwrap_or_default();
    let mut out = Vec::with_capacity(pieces.len());
    let mut next = numbers.into_iter().peekable();
    let mut i = 0;
    while i < pieces.len() {
        if let Some(n) = next.peek() {
            if n.start == i && n.end > i && n.end <= pieces.len() {
                // "vingt-neuf,90" style decimals come out as "29,9": keep digits only.
                let digits: String = n.text.chars().filter(|c| c.is_alphanumeric()).collect();
                out.push(Tok {
                    norm: fold(&digits),
                    first_word: pieces[i].word,
                    last_word: pieces[n.end - 1].word,
                });
                i = n.end;
                next.next();
                continue;
            }
            if n.start < i {
                next.next();
                continue;
            }
        }
        let p = &pieces[i];
        for part in fold(&p.lower).split(|c: char| !c.is_ascii_alphanumeric()) {
            if !part.is_empty() {
                out.push(Tok {
                    norm: contracted(part, language).to_string(),
                    first_word: p.word,
                    last_word: p.word,
                });
            }
        }
        i += 1;
    }
    weeks_as_days(thousands(out), language)
}

/// Reads a count of weeks as the days it is: "deux semaines" → "14 jours", "a two-week
/// cancellation period" → "a 14 day …", "a fortnight" → "14 days", "une semaine" → "7 jours".
/// Only a count said before the unit: "cette semaine", "next week" name no duration. The
/// number takes the count's words, the unit the unit's, so quotes and times are unchanged.
fn weeks_as_days(mut toks: Vec<Tok>, language: &str) -> Vec<Tok> {
    let fr = language == "fr";
    for i in 1..toks.len() {
        let (days_per, unit) = match (fr, toks[i].norm.as_str()) {
            (true, "semaine") => (7, "jour"),
            (true, "semaines") => (7, "jours"),
            (false, "week") => (7, "day"),
            (false, "weeks") => (7, "days"),
            // "a fortnight to cancel" is said as "14 days to cancel" is: plural.
            (false, "fortnight") => (14, "days"),
            (false, "fortnights") => (14, "days"),
            _ => continue,
        };
        let count: Option<u64> = match toks[i - 1].norm.as_str() {
            "un" | "une" if fr => Some(1),
            "a" | "one" if !fr => Some(1),
            n if !n.is_empty() && n.len() <= 3 && n.chars().all(|c| c.is_ascii_digit()) => {
                n.parse().ok()
            }
            _ => None,
        };
        if let Some(n) = count.filter(|&n| n > 0) {
            toks[i - 1].norm = (n * days_per).to_string();
            toks[i].norm = unit.to_string();
        }
    }
    toks
}

/// Joins an amount whose thousands were written apart ("8 000 euros", "1 250 000", as Whisper
/// writes French amounts) into one number from its first word to its last: read as two, the
/// price matched "000 euros" and the evidence quoted that. A group of one to three digits,
/// then groups of exactly three, each its own word.
fn thousands(toks: Vec<Tok>) -> Vec<Tok> {
    let digits = |t: &Tok| t.norm.chars().all(|c| c.is_ascii_digit());
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    // Whether the last token is an amount being joined, or may begin one.
    let mut open = false;
    for t in toks {
        let group = thousands_group(&t.norm);
        match out.last_mut() {
            Some(prev) if open && group && t.first_word == prev.last_word + 1 => {
                prev.norm.push_str(&t.norm);
                prev.last_word = t.last_word;
            }
            _ => {
                open = (1..=3).contains(&t.norm.len()) && digits(&t);
                out.push(t);
            }
        }
    }
    out
}

/// A group of thousands as Whisper writes it apart ("000" of "8 000"): exactly three digits.
pub fn thousands_group(s: &str) -> bool {
    s.len() == 3 && s.chars().all(|c| c.is_ascii_digit())
}

/// Normalises free text (a rule phrasing) into its token strings.
pub fn normalise(text: &str, language: &str) -> Vec<String> {
    tokens(text.split_whitespace(), language)
        .into_iter()
        .map(|t| t.norm)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_punctuation_and_numbers() {
        assert_eq!(
            normalise("Délai de rétractation : quatorze jours.", "fr"),
            ["delai", "de", "retractation", "14", "jours"]
        );
        assert_eq!(
            normalise("délai de rétractation de 14 jours", "fr"),
            ["delai", "de", "retractation", "de", "14", "jours"]
        );
        assert_eq!(normalise("L'octèle", "fr"), ["l", "octele"]);
        assert_eq!(
            normalise("vingt-neuf euros par mois", "fr"),
            ["29", "euros", "par", "mois"]
        );
        assert_eq!(normalise("29 €", "fr"), ["29", "euros"]);
        assert_eq!(
            normalise("quatre-vingt-dix-neuf", "fr"),
            normalise("99", "fr")
        );
        assert_eq!(
            normalise("a fourteen day cancellation period", "en"),
            ["a", "14", "day", "cancellation", "period"]
        );
        assert_eq!(normalise("Œuvre", "fr"), ["oeuvre"]);
    }

    #[test]
    fn thousands_written_apart_are_one_amount() {
        assert_eq!(normalise("8 000 euros", "fr"), ["8000", "euros"]);
        assert_eq!(normalise("1 250 000 euros", "fr"), ["1250000", "euros"]);
        let t = tokens(["coûte", "6", "000", "euros,"], "fr");
        assert_eq!(t[1].norm, "6000");
        assert_eq!((t[1].first_word, t[1].last_word), (1, 2));
        // Not a thousands group: two numbers stay two.
        assert_eq!(
            normalise("14 jours et 30 jours", "fr"),
            ["14", "jours", "et", "30", "jours"]
        );
        assert_eq!(normalise("2024 000", "fr"), ["2024", "000"]);
        assert_eq!(normalise("12 34 euros", "fr"), ["12", "34", "euros"]);
    }

    #[test]
    fn a_count_of_weeks_is_read_in_days() {
        assert_eq!(
            normalise("vous avez deux semaines pour vous rétracter", "fr"),
            normalise("vous avez quatorze jours pour vous rétracter", "fr")
        );
        assert_eq!(
            normalise("you have a fortnight to cancel", "en"),
            normalise("you have 14 days to cancel", "en")
        );
        assert_eq!(
            normalise("a two-week cancellation period", "en"),
            ["a", "14", "day", "cancellation", "period"]
        );
        assert_eq!(normalise("une semaine", "fr"), ["7", "jour"]);
        assert_eq!(normalise("three weeks", "en"), ["21", "days"]);
        // The count keeps its words, the unit its own.
        let t = tokens([" deux", " semaines"], "fr");
        assert_eq!((t[0].norm.as_str(), t[0].first_word), ("14", 0));
        assert_eq!((t[1].norm.as_str(), t[1].first_word), ("jours", 1));
        // A week that is no count of days stays a week.
        assert_eq!(normalise("cette semaine", "fr"), ["cette", "semaine"]);
        assert_eq!(normalise("next week", "en"), ["next", "week"]);
    }

    #[test]
    fn french_contractions_read_as_their_preposition() {
        let want = normalise("au nom de", "fr");
        assert_eq!(normalise("Au nom du", "fr"), want);
        assert_eq!(normalise("au nom des", "fr"), want);
        assert_eq!(normalise("au nom d'", "fr"), want);
        assert_eq!(normalise("aux", "fr"), normalise("à", "fr"));
        // English is left alone: "des" and "au" are other words there, if any.
        assert_eq!(normalise("Des Moines", "en"), ["des", "moines"]);
    }

    #[test]
    fn currency_signs_before_numbers_are_read_after_them() {
        assert_eq!(
            normalise("Membership $25 per month", "en"),
            ["membership", "25", "dollars", "per", "month"]
        );
        assert_eq!(
            normalise("£30 a month", "en"),
            ["30", "pounds", "a", "month"]
        );
        assert_eq!(
            normalise("29 € par mois", "fr"),
            ["29", "euros", "par", "mois"]
        );
    }

    #[test]
    fn tokens_remember_their_words() {
        let words = [" Vous", " avez", " quatorze", " jours,", " l'octèle."];
        let t = tokens(words, "fr");
        let norms: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
        assert_eq!(norms, ["vous", "avez", "14", "jours", "l", "octele"]);
        assert_eq!((t[2].first_word, t[2].last_word), (2, 2));
        assert_eq!((t[5].first_word, t[5].last_word), (4, 4));
        // A number said over several recognised words spans them.
        let t = tokens([" quarante", "-deux", " euros"], "fr");
        assert_eq!(t[0].norm, "42");
        assert_eq!((t[0].first_word, t[0].last_word), (0, 1));
    }
}
