//! The words of a call's language, to tell a word the recogniser heard from one it made up.
//!
//! On degraded lines Whisper does not fall silent where it cannot follow: it spells the sounds
//! ("la desions culo de coup" for "l'adhésion au club coûte"), and does so with word
//! probabilities no lower than those of speech it heard well. Words that are no words of the
//! language are the one sign left that the recogniser was guessing. Where a required item
//! was expected, two of them make the place doubtful (`doubt` in the crate root): the item may
//! have been said there. A single one does not — a seller's surname or a brand spelled another
//! way is one word, and true violations of the benchmark calls had at most one.
//!
//! The word lists are the system's (Debian's `wfrench`, `wamerican`, `wbritish`), read by the
//! service once per language; verification without one simply does not use this sign.

use std::collections::HashSet;
use std::sync::Arc;

/// The words of one language, as lower-case text with and without accents.
#[derive(Clone)]
pub struct Lexicon(Arc<HashSet<String>>);

impl std::fmt::Debug for Lexicon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lexicon({} forms)", self.0.len())
    }
}

impl PartialEq for Lexicon {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

/// Elided or contracted pieces a word splits into at its apostrophe ("l'", "qu'", "'m", "'ll"):
/// parts of words, not words of the lists.
const PIECE_MAX_CHARS: usize = 2;

fn fold(word: &str) -> String {
    deunicode::deunicode(word).to_lowercase()
}

impl Lexicon {
    /// A lexicon from word lists, one word per line (as `/usr/share/dict/*`). Empty when the
    /// lists hold no word.
    pub fn from_lists<'a>(lists: impl IntoIterator<Item = &'a str>) -> Self {
        let mut words = HashSet::new();
        for list in lists {
            for w in list.lines().map(str::trim).filter(|w| !w.is_empty()) {
                words.insert(w.to_lowercase());
                words.insert(fold(w));
            }
        }
        Self(Arc::new(words))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a word as the recogniser wrote it is a word of the language: with its
    /// punctuation off, whole, or each of its parts at apostrophes and hyphens ("aujourd'hui",
    /// "rétractation", "l'offre", "peut-être", "I'm"). A number, a capitalised word (a name:
    /// nobody's surname is in the lists) and a word of `also` (the rule set's vocabulary) count
    /// as known.
    pub fn knows(&self, word: &str, also: &[String]) -> bool {
        let w = word.trim().trim_matches(|c: char| !c.is_alphanumeric());
        if w.is_empty()
            || w.chars().any(|c| c.is_ascii_digit())
            || w.starts_with(char::is_uppercase)
        {
            return true;
        }
        let known = |part: &str| {
            part.chars().count() <= PIECE_MAX_CHARS
                || self.0.contains(&part.to_lowercase())
                || self.0.contains(&fold(part))
                || also.iter().any(|v| fold(v) == fold(part))
        };
        known(w)
            || w.split(['\'', '’', '-'])
                .filter(|p| !p.is_empty())
                .all(known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_words_are_told_from_words_names_and_numbers() {
        let fr = Lexicon::from_lists([
            "adhésion\nau\nclub\ncoûte\nde\ncoup\nsans\nacteur\nretardant\naujourd'hui\noffre\npeut-être\naprès\n",
        ]);
        for w in [
            "coûte",
            "coute",
            "l'acteur",
            "retardant.",
            "aujourd'hui",
            "l'offre",
            "peut-être",
            "Isosell,",
            "120",
            "Fournier",
            "qu'après",
        ] {
            assert!(fr.knows(w, &[]), "{w}");
        }
        for w in ["desions", "culo", "désillonculeau", "démarcharge"] {
            assert!(!fr.knows(w, &[]), "{w}");
        }
        assert!(fr.knows("isosell", &["Isosell".to_string()]));
        assert!(Lexicon::from_lists([""]).is_empty());
    }
}
