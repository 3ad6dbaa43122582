//! Numbers as people say them, back to digits: "quatre-vingt-dix-sept" → 97, "double four" →
//! 44, "4970-1012" → 49701012, and a card read digit by digit or in pairs → its digit string.
//!
//! A run of spoken numbers is cut into numbers the way a listener would: "quatre neuf sept
//! zéro" is four numbers (4970), "soixante-dix-sept" is one (77), "vingt deux" is one (22).
//! Each number is then written out in decimal and the run's digits are concatenated.

/// The value of one number word, French or English, if it is one.
fn word_value(w: &str) -> Option<u64> {
    Some(match w {
        "zéro" | "zero" | "oh" => 0,
        "un" | "une" | "one" => 1,
        "deux" | "two" => 2,
        "trois" | "three" => 3,
        "quatre" | "four" => 4,
        "cinq" | "five" => 5,
        "six" => 6,
        "sept" | "seven" => 7,
        "huit" | "eight" => 8,
        "neuf" | "nine" => 9,
        "dix" | "ten" => 10,
        "onze" | "eleven" => 11,
        "douze" | "twelve" => 12,
        "treize" | "thirteen" => 13,
        "quatorze" | "fourteen" => 14,
        "quinze" | "fifteen" => 15,
        "seize" | "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        "vingt" | "vingts" | "twenty" => 20,
        "trente" | "thirty" => 30,
        "quarante" | "forty" => 40,
        "cinquante" | "fifty" => 50,
        "soixante" | "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        "cent" | "cents" | "hundred" => 100,
        "mille" | "thousand" => 1000,
        _ => return None,
    })
}

/// Words that may sit inside a spoken number without ending it ("vingt et un", "a hundred and
/// five").
fn is_joiner(w: &str) -> bool {
    matches!(w, "et" | "and")
}

/// Repeaters: "double quatre" → 44, "triple zero" → 000.
fn repeat_of(w: &str) -> Option<usize> {
    match w {
        "double" => Some(2),
        "triple" => Some(3),
        _ => None,
    }
}

/// One piece of a spoken run: a number word's value, or digits written as digits.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Word(u64),
    Digits(String),
    Repeat(usize),
    Joiner,
}

/// What a (normalised) token contributes to a run of digits, if anything. A token may hold
/// several pieces ("quatre-vingt-dix-sept", "12/27", "787-3123").
fn pieces(token: &str) -> Option<Vec<Piece>> {
    // Ordinals written with digits: "12th", "1er", "3ème".
    let token = ["st", "nd", "rd", "th", "er", "ème", "eme", "e"]
        .iter()
        .find_map(|suffix| {
            token
                .strip_suffix(suffix)
                .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
        })
        .unwrap_or(token);
    if token.chars().any(|c| c.is_ascii_digit()) {
        // Written digits, with the separators people and recognisers put between groups, and
        // letters mixed in ("FR-6736101.235…", an IBAN as the recogniser wrote it) once there
        // are enough digits to be a number rather than a name ("b2b").
        let digits: String = token.chars().filter(char::is_ascii_digit).collect();
        let plain = token
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | '/' | ' ' | ','));
        if plain || digits.len() >= 4 {
            return Some(vec![Piece::Digits(digits)]);
        }
        return None;
    }
    if is_joiner(token) {
        return Some(vec![Piece::Joiner]);
    }
    if let Some(n) = repeat_of(token) {
        return Some(vec![Piece::Repeat(n)]);
    }
    let parts: Vec<&str> = token.split('-').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for p in parts {
        if is_joiner(p) {
            out.push(Piece::Joiner);
        } else {
            out.push(Piece::Word(word_value(p)?));
        }
    }
    Some(out)
}

/// Whether `token` (normalised) is part of a spoken or written number.
pub fn is_numeric(token: &str) -> bool {
    pieces(token).is_some_and(|p| p.iter().any(|x| !matches!(x, Piece::Joiner)))
}

/// Whether `token` may continue a run without being a number itself.
pub fn is_joining(token: &str) -> bool {
    is_joiner(token) || repeat_of(token).is_some()
}

/// The digits a run of tokens says, in order.
pub fn digits_of(tokens: &[&str]) -> String {
    let mut all = Vec::new();
    for t in tokens {
        if let Some(p) = pieces(t) {
            all.extend(p);
        }
    }
    let mut out = String::new();
    let mut number: Option<Compound> = None;
    let mut repeat = 1usize;
    let flush = |number: &mut Option<Compound>, out: &mut String| {
        if let Some(n) = number.take() {
            out.push_str(&n.value().to_string());
        }
    };
    for piece in all {
        match piece {
            Piece::Joiner => {}
            Piece::Repeat(n) => {
                flush(&mut number, &mut out);
                repeat = n;
            }
            Piece::Digits(d) => {
                flush(&mut number, &mut out);
                out.push_str(&d.repeat(repeat));
                repeat = 1;
            }
            Piece::Word(v) => {
                if repeat > 1 {
                    flush(&mut number, &mut out);
                    out.push_str(&v.to_string().repeat(repeat));
                    repeat = 1;
                    continue;
                }
                match number.as_mut() {
                    Some(n) if n.accepts(v) => n.add(v),
                    _ => {
                        flush(&mut number, &mut out);
                        let mut n = Compound::default();
                        n.add(v);
                        // Zero is always a number of its own ("zéro six" is 06).
                        if v == 0 {
                            out.push('0');
                        } else {
                            number = Some(n);
                        }
                    }
                }
            }
        }
    }
    flush(&mut number, &mut out);
    out
}

/// A number being read word by word.
#[derive(Debug, Default)]
struct Compound {
    total: u64,
    current: u64,
    last: Option<u64>,
}

impl Compound {
    /// Whether `v` continues this number rather than starting the next one.
    fn accepts(&self, v: u64) -> bool {
        let Some(last) = self.last else { return true };
        let below_hundred = self.current % 100;
        match v {
            1..=9 => {
                // After a ten (vingt, trente … quatre-vingt), after dix in dix-sept,
                // soixante-dix-sept, quatre-vingt-dix-neuf, or after hundred/thousand.
                (matches!(last, 20 | 30 | 40 | 50 | 60 | 70 | 80 | 90)
                    && below_hundred.is_multiple_of(10))
                    || (last == 10 && matches!(below_hundred, 10 | 70 | 90) && v >= 7)
                    || matches!(last, 100 | 1000)
            }
            10..=19 => {
                // soixante-dix, quatre-vingt-dix-…, or after hundred/thousand.
                (matches!(last, 60 | 80) && matches!(below_hundred, 60 | 80))
                    || matches!(last, 100 | 1000)
            }
            20 if last == 4 && below_hundred == 4 => true, // quatre-vingt(s)
            20..=90 => matches!(last, 100 | 1000),
            100 => (1..=9).contains(&below_hundred) && last < 10,
            1000 => self.current > 0 || self.total == 0,
            _ => false,
        }
    }

    fn add(&mut self, v: u64) {
        match v {
            100 => self.current = self.current.max(1) * 100,
            1000 => {
                self.total += self.current.max(1) * 1000;
                self.current = 0;
            }
            20 if self.last == Some(4) && self.current % 100 == 4 => {
                self.current = self.current - 4 + 80;
            }
            _ => self.current += v,
        }
        self.last = Some(if v == 20 && self.current % 100 == 80 {
            80
        } else {
            v
        });
    }

    fn value(&self) -> u64 {
        self.total + self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> String {
        let words: Vec<String> = text
            .split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| c == ',' || c == '.')
                    .to_lowercase()
            })
            .collect();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        digits_of(&refs)
    }

    #[test]
    fn french_numbers_are_read_as_a_listener_would() {
        assert_eq!(d("quatre-vingt-dix-sept"), "97");
        assert_eq!(d("soixante-dix-sept"), "77");
        assert_eq!(d("soixante et onze"), "71");
        assert_eq!(d("vingt et un"), "21");
        assert_eq!(d("quatre-vingts"), "80");
        assert_eq!(d("dix-sept"), "17");
        assert_eq!(d("quatre-vingt-onze"), "91");
        assert_eq!(d("quatre vingt deux"), "82");
        assert_eq!(d("vingt deux"), "22");
        assert_eq!(d("quatre neuf sept zéro"), "4970");
        assert_eq!(d("quarante-neuf soixante-dix, dix, douze"), "49701012");
        assert_eq!(d("zéro six douze trente-quatre"), "061234");
        assert_eq!(d("deux mille vingt-sept"), "2027");
        assert_eq!(d("cent vingt-trois"), "123");
        assert_eq!(d("quatre mille neuf cent soixante-dix"), "4970");
    }

    #[test]
    fn english_numbers_and_written_digits() {
        assert_eq!(d("four nine seven zero"), "4970");
        assert_eq!(d("double four one"), "441");
        assert_eq!(d("forty nine seventy ten twelve"), "49701012");
        assert_eq!(d("oh six"), "06");
        assert_eq!(d("one hundred and five"), "105");
        assert_eq!(d("4970 1012 3456 7890"), "4970101234567890");
        assert_eq!(
            d("787-3123-38678-9012-28"),
            "7873123386789012".to_string() + "28"
        );
        assert_eq!(d("12/27"), "1227");
    }

    #[test]
    fn words_that_are_not_numbers() {
        assert!(!is_numeric("carte"));
        assert!(!is_numeric("et"));
        assert!(is_numeric("quatre-vingt-dix"));
        assert!(is_numeric("4970"));
        assert!(!is_numeric("b2b"));
        assert!(is_numeric("fr-6736101.235678801.149"));
        assert_eq!(d("FR-6736101.235678801.149"), "6736101235678801149");
    }
}
