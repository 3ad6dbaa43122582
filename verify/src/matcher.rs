//! Tolerant phrase matching over a speaker's token stream.
//!
//! A rule phrasing is compared with every place of the transcript by a small local alignment:
//! each phrasing word is matched to a recognised word by edit distance, or two recognised words
//! to one phrasing word ("bloc tel" / "bloctel") and the other way round ("au près" /
//! "auprès"), a phrasing word may be lost (recognisers drop short words), and a few extra
//! recognised words may sit inside the match ("un délai *légal* de rétractation"). The result is
//! a score in 0..1 that the rule evaluation turns into met, needs-review or missing. Negation
//! words are never skipped over, so "je ne suis pas d'accord" cannot match "je suis d'accord".

use super::text::Tok;

/// A word of a phrasing.
#[derive(Debug, Clone, PartialEq)]
pub enum PatWord {
    Word(String),
    /// `{number}`: any number.
    Number,
    /// `{name}`: one to [`NAME_MAX_WORDS`] words, whatever they are (a person's or a
    /// company's name: "this is {name} from"), never a negation.
    Name,
}

/// Most words a `{name}` stands for ("Anne Marie Dupont").
pub const NAME_MAX_WORDS: usize = 3;

/// Words no person's or company's name holds: articles that open a noun phrase and
/// prepositions that open a complement. "C'est pour une offre de la part de" is no "c'est
/// {name} de chez", nor "this is a quick call from" a "this is {name} from". Particles a name
/// may hold ("de", "du", "le", "la", "van") are not among them.
const NOT_IN_A_NAME: &[&str] = &[
    "un", "une", "pour", "sur", "avec", "dans", "a", "an", "for", "about", "with",
];

#[derive(Debug, Clone, PartialEq)]
pub struct PatTok {
    pub word: PatWord,
    /// Written in `[brackets]`: may be absent.
    pub optional: bool,
}

/// A compiled phrasing.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The phrasing as written in the rule file, for evidence.
    pub source: String,
    pub toks: Vec<PatTok>,
}

/// Where a pattern matched in a stream: tokens `start..end`, with its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub score: f32,
    /// Share of the phrasing's weight lost (its words not heard at all), in 0..1: "le contrat
    /// est" for "le contrat est conclu" lost "conclu", the word the phrasing turns on.
    pub lost: f32,
    /// Some of the lost words come before the first word heard, or after the last.
    pub lost_before: bool,
    pub lost_after: bool,
}

/// Words that change the meaning of what surrounds them: never skipped inside a match, never
/// left out of one. "rien" and "nothing" among them: "rien à signer" (nothing to sign, said to
/// pass a sale off as final) without "rien" is "à signer", what a seller says of the contract
/// to be signed.
const NEGATIONS: &[&str] = &[
    "ne", "n", "pas", "non", "jamais", "aucun", "aucune", "rien", "not", "no", "never", "nothing",
    "dont", "t",
];

/// Whether a normalised token is one of the words that change the meaning of what surrounds
/// them ("ne", "n", "pas", "rien", "not", "t" of "don't"…).
pub fn is_negation(token: &str) -> bool {
    NEGATIONS.contains(&token)
}

/// Cost of one extra recognised word inside a match.
const GAP_COST: f32 = 0.25;
/// Cost of merging or splitting words ("bloc tel" for "bloctel").
const JOIN_COST: f32 = 0.05;
/// Word similarity under which two words count as different.
const MIN_WORD_SIM: f32 = 0.6;

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// Similarity of two words that sound the same, written differently ([`sounded`]).
const HOMOPHONE_SIM: f32 = 0.9;

/// A normalised word as it sounds, where spelling says nothing of it: French writes one sound
/// many ways and the recogniser picks any of them ("à signer" comes out "assigné" or
/// "assignez", "engagée" "engager", "rappeler" "rappelez"). The endings said /e/ ("-er",
/// "-ez", "-ée", "-ées"; "-é" is "-e" once accents are folded) become one, and a doubled
/// consonant a single one. Words of three letters or fewer keep their letters: they are all
/// such words have ("mer", "ces", "les").
fn sounded(word: &str) -> String {
    if word.len() <= 3 || !word.chars().all(|c| c.is_ascii_lowercase()) {
        return word.to_string();
    }
    let stem = ["ees", "ee", "er", "ez"]
        .iter()
        .find_map(|end| word.strip_suffix(end))
        .map_or_else(|| word.to_string(), |s| format!("{s}e"));
    let mut out = String::with_capacity(stem.len());
    for c in stem.chars() {
        if matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y') || !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// A normalised token's consonants as they sound, in the order said: what is left of a word
/// the recogniser spelled from sounds it could not follow ("l'ocinier" for "le signer": both
/// are "s n"). French spelling is folded first — "gn" is one nasal sound, "c" and "g" soften
/// before "e", "i", "y", "qu" is a "k", "ph" an "f", "h" is silent, "-tion" is "-sion", and a
/// final "-er", "-ez", "-es", "-e", "-s", "-t", "-x" or "-d" is not heard — then vowels are
/// dropped and a consonant said twice is one.
pub(crate) fn consonants(token: &str) -> String {
    let mut w: String = token.chars().filter(|c| c.is_ascii_lowercase()).collect();
    for end in ["er", "ez", "es", "e", "s", "t", "x", "d"] {
        if w.len() > end.len() + 2 {
            if let Some(stem) = w.strip_suffix(end) {
                w = stem.to_string();
                break;
            }
        }
    }
    let w = w
        .replace("gn", "n")
        .replace("ph", "f")
        .replace("qu", "k")
        .replace("tion", "sion")
        .replace('h', "");
    let chars: Vec<char> = w.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let soft = chars
            .get(i + 1)
            .is_some_and(|n| matches!(n, 'e' | 'i' | 'y'));
        let sound = match c {
            'a' | 'e' | 'i' | 'o' | 'u' | 'y' => continue,
            'c' if soft => 's',
            'c' => 'k',
            'g' if soft => 'j',
            'z' => 's',
            'w' => 'v',
            other => other,
        };
        if !out.ends_with(sound) {
            out.push(sound);
        }
    }
    out
}

/// Similarity of two normalised words: 1 when equal, [`HOMOPHONE_SIM`] when they only sound
/// the same, by edit distance otherwise; numbers and negations must be equal: "mon" is one
/// letter from "non", and reading one for the other turns "je confirme mon accord. Merci" into
/// "non merci".
pub fn word_sim(p: &str, s: &str) -> f32 {
    if p == s {
        return 1.0;
    }
    if is_number(p) || is_number(s) || NEGATIONS.contains(&p) || NEGATIONS.contains(&s) {
        return 0.0;
    }
    let (p_len, s_len) = (p.chars().count(), s.chars().count());
    let longest = p_len.max(s_len);
    if longest == 0 {
        return 0.0;
    }
    // Most words compared are nothing alike, and this runs for every word of every phrasing at
    // every place of a transcript (and again for each reading of it): the edit distance is at
    // least the difference in length, so where that alone puts the words under
    // `MIN_WORD_SIM` the distance is not computed (same result, a fraction of the time).
    let at_best = 1.0 - p_len.abs_diff(s_len) as f32 / longest as f32;
    let spelled = if at_best < MIN_WORD_SIM {
        0.0
    } else {
        let v = 1.0 - strsim::levenshtein(p, s) as f32 / longest as f32;
        if v < MIN_WORD_SIM {
            0.0
        } else {
            // Each edit costs more than its share of the word: "certaine" is not "certifiée".
            1.0 - (1.0 - v) * 1.25
        }
    };
    // Sounded alike only if begun alike: [`sounded`] keeps a word's first letter.
    if spelled < HOMOPHONE_SIM
        && p.as_bytes().first() == s.as_bytes().first()
        && sounded(p) == sounded(s)
    {
        HOMOPHONE_SIM
    } else {
        spelled
    }
}

impl Pattern {
    /// How much a word counts in the score: longer words carry more of the meaning and are
    /// what recognisers get right; "c'", "de", "le" count little. Numbers count a lot.
    fn weight(t: &PatTok) -> f32 {
        match (&t.word, t.optional) {
            (_, true) => 0.0,
            // Any words: they say nothing of the phrasing, the words around them do.
            (PatWord::Name, _) => 0.0,
            (PatWord::Number, _) => 4.0,
            (PatWord::Word(w), _) if is_number(w) => 4.0,
            (PatWord::Word(w), _) => w.chars().count().clamp(1, 8) as f32,
        }
    }

    /// Words whose absence changes the meaning: a number ("7 jours" is not "14 jours"), a
    /// negation ("thank you" is not "no thank you"), or the elided "m'" of a French reflexive
    /// ("je m'appelle", my name is, is not "je vous appelle", I am calling you). They cannot be
    /// left out of a match.
    fn essential(t: &PatTok) -> bool {
        !t.optional
            && match &t.word {
                PatWord::Number | PatWord::Name => true,
                PatWord::Word(w) => is_number(w) || NEGATIONS.contains(&w.as_str()) || w == "m",
            }
    }

    fn sim(&self, j: usize, s: &str) -> f32 {
        match &self.toks[j].word {
            PatWord::Number => {
                if is_number(s) {
                    1.0
                } else {
                    0.0
                }
            }
            PatWord::Word(w) => word_sim(w, s),
            PatWord::Name => 0.0,
        }
    }

    fn word(&self, j: usize) -> Option<&str> {
        match &self.toks[j].word {
            PatWord::Word(w) => Some(w),
            PatWord::Number | PatWord::Name => None,
        }
    }

    /// Every place the pattern matches `stream` with a score of at least `floor`, best first,
    /// without overlaps.
    pub fn find(&self, stream: &[Tok], floor: f32) -> Vec<Hit> {
        self.find_with(stream, floor, false)
    }

    /// As [`Pattern::find`], and with `numbers_may_differ` a number of the phrasing may be
    /// missing from the place (another number heard in its stead is an extra word): where a
    /// recording is to be read again, "délai de quatre jours pour vous rétracter" is the place
    /// of "délai de 14 jours pour vous rétracter", and the recording says which was said. Never
    /// for a verdict: "7 jours" is not "14 jours".
    pub fn find_with(&self, stream: &[Tok], floor: f32, numbers_may_differ: bool) -> Vec<Hit> {
        let may_lose = |t: &PatTok| {
            !Self::essential(t)
                || (numbers_may_differ
                    && match &t.word {
                        PatWord::Number => true,
                        PatWord::Word(w) => is_number(w),
                        PatWord::Name => false,
                    })
        };
        let m = self.toks.len();
        let n = stream.len();
        let total: f32 = self.toks.iter().map(Self::weight).sum();
        if m == 0 || n == 0 || total <= 0.0 {
            return Vec::new();
        }
        // Similarities computed once: one word to one word, one to two joined, two to one.
        let is_number_tok = |t: &PatTok| match &t.word {
            PatWord::Number => true,
            PatWord::Word(w) => is_number(w),
            PatWord::Name => false,
        };
        // Where numbers may differ, another number stands at the phrasing's number's place
        // (half alike), so that the place spans it.
        let one: Vec<Vec<f32>> = (0..m)
            .map(|j| {
                stream
                    .iter()
                    .map(|t| {
                        let sim = self.sim(j, &t.norm);
                        if sim == 0.0
                            && numbers_may_differ
                            && is_number_tok(&self.toks[j])
                            && is_number(&t.norm)
                        {
                            0.5
                        } else {
                            sim
                        }
                    })
                    .collect()
            })
            .collect();
        // Each pair of heard words joined, and each pair of the phrasing's words, once.
        let stream_pairs: Vec<String> = stream
            .windows(2)
            .map(|w| format!("{}{}", w[0].norm, w[1].norm))
            .collect();
        let split: Vec<Vec<f32>> = (0..m)
            .map(|j| {
                (0..n)
                    .map(|k| match (self.word(j), stream_pairs.get(k)) {
                        (Some(w), Some(pair)) => word_sim(w, pair),
                        _ => 0.0,
                    })
                    .collect()
            })
            .collect();
        let joined: Vec<Vec<f32>> = (0..m)
            .map(|j| {
                let pair = match (self.word(j), self.toks.get(j + 1)) {
                    (
                        Some(a),
                        Some(PatTok {
                            word: PatWord::Word(b),
                            ..
                        }),
                    ) => Some(format!("{a}{b}")),
                    _ => None,
                };
                (0..n)
                    .map(|k| pair.as_ref().map_or(0.0, |p| word_sim(p, &stream[k].norm)))
                    .collect()
            })
            .collect();
        let max_gaps = 2usize;
        let has_name = self.toks.iter().any(|t| t.word == PatWord::Name);
        let window = 2 * m + max_gaps + 1;
        // The first pattern word that must be there: a match starts at most this far in.
        let lead = self
            .toks
            .iter()
            .position(|t| !t.optional)
            .unwrap_or(0)
            .min(m - 1);

        #[derive(Clone, Copy)]
        struct Cell {
            score: f32,
            first: usize,
            last: usize,
            gaps: usize,
            lost: f32,
            /// Weight lost before the first word matched, and since the last.
            lost_before: f32,
            lost_since: f32,
        }
        const NONE: f32 = f32::NEG_INFINITY;
        let mut hits = Vec::new();
        for k0 in 0..n {
            // A match must begin on a word that resembles one of the leading pattern words.
            if !(0..=lead.min(m - 1) + 1)
                .filter(|&j| j < m)
                .any(|j| one[j][k0] > 0.0 || split[j][k0] > 0.0 || joined[j][k0] > 0.0)
            {
                continue;
            }
            let w = window.min(n - k0);
            // dp[j][k]: best alignment of pattern[..j] with stream[k0..k0+k].
            let empty = Cell {
                score: NONE,
                first: usize::MAX,
                last: 0,
                gaps: 0,
                lost: 0.0,
                lost_before: 0.0,
                lost_since: 0.0,
            };
            let mut dp = vec![vec![empty; w + 1]; m + 1];
            dp[0][0] = Cell {
                score: 0.0,
                first: usize::MAX,
                last: 0,
                gaps: 0,
                lost: 0.0,
                lost_before: 0.0,
                lost_since: 0.0,
            };
            let relax = |dp: &mut Vec<Vec<Cell>>, j: usize, k: usize, c: Cell| {
                if c.score > dp[j][k].score {
                    dp[j][k] = c;
                }
            };
            for j in 0..=m {
                for k in 0..=w {
                    let c = dp[j][k];
                    if c.score == NONE {
                        continue;
                    }
                    let at = k0 + k;
                    let matched = |score: f32, first: usize, last: usize| Cell {
                        score,
                        first: c.first.min(first),
                        last,
                        gaps: c.gaps,
                        lost: c.lost,
                        lost_before: c.lost_before,
                        lost_since: 0.0,
                    };
                    if j < m {
                        let wt = Self::weight(&self.toks[j]);
                        if self.toks[j].word == PatWord::Name {
                            // One to three words of any kind, but no negation: "I'm not from".
                            for len in 1..=NAME_MAX_WORDS {
                                if k + len > w
                                    || NEGATIONS.contains(&stream[at + len - 1].norm.as_str())
                                {
                                    break;
                                }
                                relax(&mut dp, j + 1, k + len, matched(c.score, at, at + len - 1));
                            }
                            continue;
                        }
                        // Pattern word lost.
                        if may_lose(&self.toks[j]) {
                            relax(
                                &mut dp,
                                j + 1,
                                k,
                                if c.first == usize::MAX {
                                    Cell {
                                        lost: c.lost + wt,
                                        lost_before: c.lost_before + wt,
                                        ..c
                                    }
                                } else {
                                    Cell {
                                        lost: c.lost + wt,
                                        lost_since: c.lost_since + wt,
                                        ..c
                                    }
                                },
                            );
                        }
                        if k < w {
                            let s = one[j][at];
                            // An optional word only counts when it is really there.
                            if s > 0.0 && (!self.toks[j].optional || s >= 0.8) {
                                relax(&mut dp, j + 1, k + 1, matched(c.score + wt * s, at, at));
                            }
                        }
                        if k + 1 < w && split[j][at] > 0.0 {
                            let s = wt * split[j][at] - JOIN_COST;
                            relax(&mut dp, j + 1, k + 2, matched(c.score + s, at, at + 1));
                        }
                        if j + 1 < m
                            && k < w
                            && joined[j][at] > 0.0
                            && !Self::essential(&self.toks[j])
                            && !Self::essential(&self.toks[j + 1])
                        {
                            let wt2 = wt + Self::weight(&self.toks[j + 1]);
                            let s = wt2 * joined[j][at] - JOIN_COST;
                            relax(&mut dp, j + 2, k + 1, matched(c.score + s, at, at));
                        }
                    }
                    // An extra recognised word inside the match (never a negation, nor
                    // between a number and what it counts: "deux fois par an" is no "{number}
                    // par an").
                    if j > 0
                        && j < m
                        && k < w
                        && c.first != usize::MAX
                        && c.gaps < max_gaps
                        && self.toks[j - 1].word != PatWord::Number
                        && !NEGATIONS.contains(&stream[at].norm.as_str())
                    {
                        relax(
                            &mut dp,
                            j,
                            k + 1,
                            Cell {
                                score: c.score - GAP_COST,
                                gaps: c.gaps + 1,
                                ..c
                            },
                        );
                    }
                }
            }
            // A phrasing with a name holds no word no name holds, however the alignment went
            // round it (lost, skipped or joined words).
            let named = |c: &Cell| {
                !has_name
                    || stream[c.first..=c.last].iter().all(|t| {
                        !NOT_IN_A_NAME.contains(&t.norm.as_str())
                            || (0..m).any(|j| self.word(j) == Some(t.norm.as_str()))
                    })
            };
            let best = dp[m]
                .iter()
                .filter(|c| c.score != NONE && c.first == k0 && named(c))
                .max_by(|a, b| a.score.total_cmp(&b.score));
            if let Some(c) = best {
                let score = (c.score / total).clamp(0.0, 1.0);
                if score >= floor {
                    hits.push(Hit {
                        start: c.first,
                        end: c.last + 1,
                        score,
                        lost: (c.lost / total).clamp(0.0, 1.0),
                        lost_before: c.lost_before > 0.0,
                        lost_after: c.lost_since > 0.0,
                    });
                }
            }
        }
        // Best first, then drop matches overlapping a better one.
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.start.cmp(&b.start)));
        let mut kept: Vec<Hit> = Vec::new();
        for h in hits {
            if kept.iter().all(|k| h.end <= k.start || h.start >= k.end) {
                kept.push(h);
            }
        }
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::tokens;
    use super::*;

    #[test]
    fn a_word_spelled_from_its_sounds_keeps_its_consonants() {
        assert_eq!(consonants("ocinier"), consonants("signer"));
        assert_eq!(consonants("ocinier"), "sn");
        assert_eq!(consonants("signe"), "sn");
        assert_eq!(consonants("assigne"), "sn");
        assert_ne!(consonants("signal"), consonants("signer"));
        assert_eq!(consonants("signature"), "sntr");
        assert_eq!(consonants("retractation"), consonants("retractassion"));
    }

    fn compile(source: &str, lang: &str) -> Pattern {
        crate::ruleset::compile_phrase(source, lang).expect("phrasing compiles")
    }

    pub(super) fn pat(words: &[&str]) -> Pattern {
        Pattern {
            source: words.join(" "),
            toks: words
                .iter()
                .map(|w| {
                    let optional = w.starts_with('[');
                    let w = w.trim_matches(|c| c == '[' || c == ']');
                    PatTok {
                        word: if w == "{number}" {
                            PatWord::Number
                        } else {
                            PatWord::Word(w.to_string())
                        },
                        optional,
                    }
                })
                .collect(),
        }
    }

    fn best(p: &Pattern, text: &str, lang: &str) -> Option<(f32, String)> {
        let s = tokens(text.split_whitespace(), lang);
        p.find(&s, 0.3).first().map(|h| {
            (
                h.score,
                s[h.start..h.end]
                    .iter()
                    .map(|t| t.norm.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })
    }

    /// "À signer" heard as one word with another ending ("assignez", "assigné"): the same
    /// sounds, so the phrasing is said, not probably said.
    #[test]
    fn a_homophone_is_heard_as_said() {
        let p = compile("à signer", "fr");
        for heard in ["le contrat, assignez.", "par courrier, assigné."] {
            let (s, _) = best(&p, heard, "fr").unwrap();
            assert!(s >= 0.85, "{heard}: {s}");
        }
        assert_eq!(word_sim("engagee", "engager"), HOMOPHONE_SIM);
        assert_eq!(word_sim("rappelez", "rappeler"), HOMOPHONE_SIM);
        // Not homophones: as far apart as their letters are.
        assert!(word_sim("signal", "signer") < HOMOPHONE_SIM);
        assert!(word_sim("mer", "mez") < HOMOPHONE_SIM);
    }

    #[test]
    fn exact_and_tolerant_matches() {
        let p = pat(&["retractation", "de", "14", "jours"]);
        let (s, m) = best(
            &p,
            "vous avez un délai de rétractation de quatorze jours.",
            "fr",
        )
        .unwrap();
        assert_eq!(s, 1.0);
        assert_eq!(m, "retractation de 14 jours");
        // A misheard word, a dropped short word, an inserted word: lower but still high.
        let (s, _) = best(&p, "un délai de rétraction 14 jours", "fr").unwrap();
        assert!((0.75..1.0).contains(&s), "{s}");
        let (s, _) = best(&p, "rétractation légale de 14 jours", "fr").unwrap();
        assert!((0.8..1.0).contains(&s), "{s}");
        // The number must be right.
        let r = best(&p, "rétractation de 7 jours", "fr")
            .map(|r| r.0)
            .unwrap_or(0.0);
        assert_eq!(r, 0.0);
        // A short word lost costs little, the key word a lot.
        let p = pat(&["c", "est", "definitif"]);
        assert_eq!(best(&p, "c'est définitif", "fr").unwrap().0, 1.0);
        assert!(best(&p, "c'est tout", "fr").map_or(0.0, |r| r.0) < 0.5);
    }

    #[test]
    fn a_french_phrasing_matches_its_contracted_forms() {
        let p = compile("au nom de", "fr");
        for said in [
            "je vous appelle au nom du fournisseur",
            "je vous appelle au nom des Énergies du Sud",
            "je vous appelle au nom d'Énergie Claire",
        ] {
            assert_eq!(best(&p, said, "fr").map(|b| b.0), Some(1.0), "{said}");
        }
        // Another preposition is still another word.
        assert!(best(&p, "je vous appelle au nom sur", "fr").is_none_or(|b| b.0 < 1.0));
    }

    #[test]
    fn joined_and_split_words() {
        let p = pat(&["bloctel"]);
        let (s, m) = best(&p, "la liste bloc tel", "fr").unwrap();
        assert!(s > 0.9, "{s}");
        assert_eq!(m, "bloc tel");
        let p = pat(&["au", "pres", "de"]);
        assert!(best(&p, "auprès de vous", "fr").unwrap().0 > 0.9);
    }

    #[test]
    fn optional_words_and_numbers() {
        let p = pat(&["[delai]", "[de]", "retractation"]);
        assert_eq!(best(&p, "droit de rétractation", "fr").unwrap().0, 1.0);
        let p = pat(&["{number}", "euros"]);
        let (s, m) = best(&p, "seulement trente-neuf euros par mois", "fr").unwrap();
        assert_eq!((s, m.as_str()), (1.0, "39 euros"));
        assert!(best(&p, "quelques euros", "fr").map(|r| r.0).unwrap_or(0.0) < 0.75);
    }

    #[test]
    fn negations_in_phrasings_must_be_said() {
        let p = pat(&["no", "thank", "you"]);
        assert_eq!(
            best(&p, "No thank you, I'm not interested", "en")
                .unwrap()
                .0,
            1.0
        );
        assert!(best(&p, "Thank you, goodbye", "en").is_none());
    }

    /// "non merci" matched "mon accord. Merci" at 0.81 and called a consent a refusal.
    #[test]
    fn a_negation_is_never_matched_fuzzily() {
        assert_eq!(word_sim("non", "mon"), 0.0);
        assert_eq!(word_sim("mon", "non"), 0.0);
        assert_eq!(word_sim("not", "note"), 0.0);
        let p = pat(&["non", "merci"]);
        let got = best(&p, "je confirme mon accord. Merci", "fr")
            .map(|r| r.0)
            .unwrap_or(0.0);
        assert!(got < 0.75, "{got}");
        assert_eq!(best(&p, "non merci, au revoir", "fr").unwrap().0, 1.0);
    }

    /// "rien à signer" matched "un récapitulatif écrit à signer" at 0.64 and flagged a
    /// compliant call's "to be signed" as "nothing to sign".
    #[test]
    fn nothing_is_never_left_out() {
        let p = pat(&["rien", "a", "signer"]);
        let got = best(&p, "vous recevrez un récapitulatif écrit à signer", "fr")
            .map(|r| r.0)
            .unwrap_or(0.0);
        assert!(got < 0.6, "{got}");
        assert_eq!(best(&p, "vous n'avez rien à signer", "fr").unwrap().0, 1.0);
        let p = pat(&["nothing", "to", "sign"]);
        assert!(best(&p, "the contract to sign", "en").is_none());
    }

    /// A place to read again may hold another number than the phrasing's; a verdict's may not.
    #[test]
    fn a_number_may_differ_only_where_the_recording_decides() {
        let p = pat(&["delai", "de", "14", "jours", "pour", "vous", "retracter"]);
        let s = tokens(
            "vous disposez d'un délai de quatre jours pour vous rétracter".split_whitespace(),
            "fr",
        );
        assert!(p.find(&s, 0.4).is_empty());
        let hits = p.find_with(&s, 0.4, true);
        let h = hits.first().expect("the place of the phrasing");
        let words: Vec<&str> = s[h.start..h.end].iter().map(|t| t.norm.as_str()).collect();
        assert_eq!(words.join(" "), "delai de 4 jours pour vous retracter");
        assert!(h.score < 1.0, "{}", h.score);
    }

    #[test]
    fn a_name_is_any_one_to_three_words() {
        let p = compile("this is {name} from", "en");
        let full = |text: &str| best(&p, text, "en").map(|r| r.0).unwrap_or(0.0);
        assert_eq!(full("Hi, this is Megan Scott from Callwise"), 1.0);
        assert_eq!(full("this is Anne Marie Dupont from Acme"), 1.0);
        assert_eq!(full("this is Megan from Acme"), 1.0);
        // Far more than a name's words (a name and two extra words at most), or none: not
        // the phrasing.
        assert!(full("this is the end of a long story from") < 0.75);
        assert!(full("this is from") < 1.0);
        // Never over a negation, nor over words no name holds.
        assert!(full("this is not from") < 0.75);
        assert!(full("this is a quick call from") < 0.6);
        let p = compile("c'est {name} de chez", "fr");
        let fr = |text: &str| best(&p, text, "fr").map(|r| r.0).unwrap_or(0.0);
        assert!(fr("C'est pour une offre de la part de Mutuelle Horizon") < 0.6);
        assert_eq!(fr("C'est Marie Le Gall, de chez Isosell"), 1.0);
        let p = compile("je suis {name} de chez", "fr");
        assert_eq!(
            best(&p, "Je suis Marc Lefèvre, de chez Isosell", "fr")
                .unwrap()
                .0,
            1.0
        );
    }

    #[test]
    fn negation_is_never_skipped() {
        let p = compile("je suis d'accord", "fr");
        assert_eq!(best(&p, "oui je suis d'accord", "fr").unwrap().0, 1.0);
        let neg = best(&p, "je ne suis pas d'accord", "fr")
            .map(|r| r.0)
            .unwrap_or(0.0);
        assert!(neg < 0.8, "{neg}");
    }

    #[test]
    fn overlapping_hits_are_merged_and_far_ones_kept() {
        let p = pat(&["bloctel"]);
        let s = tokens(
            "bloctel est gratuit et la liste bloctel vous protège".split_whitespace(),
            "fr",
        );
        let hits = p.find(&s, 0.5);
        assert_eq!(hits.len(), 2);
        assert_eq!(hits.iter().map(|h| h.start).min(), Some(0));
    }
}
