//! Forbidden statements by what they mean: kinds of words said together in one clause.
//!
//! A phrasing is one wording; a forbidden statement comes in as many as there are agents. "This
//! price only stands if you make your decision now", "I can't hold this price for you after
//! today", "the deal ends when we hang up" share no phrasing with "this offer expires today",
//! and each says the same thing: an offer, its end, and a time that leaves the customer no
//! room. A rule's `means` lists such statements as groups of interchangeable words
//! (`["offer|price|deal", "expires|ends|goes up", "today|tomorrow|hang up"]`); a statement is
//! found where one word of every group is said in one clause, in any order — a clause that only
//! sets the time or condition ("After today, …") read with the next, one opened by a pronoun
//! ("…, and they'll be gone by tonight") with the one before. Words are compared as normalised
//! tokens ([`crate::text`]) that must be equal or sound the same ([`crate::matcher::word_sim`]):
//! a statement is read only in words heard as written, since it accuses. One long word heard
//! only close to its group's is a near-miss ([`Meaning::find_or_near`]), for a person to hear.
//!
//! Said under a "no" it is not said ("There's no need to decide today", "le contrat n'est pas
//! définitif"): a negation among the clause's words before or between the groups' words, other
//! than one a group's own words hold ("can't hold", "aucune signature"), leaves the clause out.
//! (One put after the signature, "votre commande sera définitive après signature", is left out
//! by the verification, for phrasings and meanings alike: `Eval::put_after_signing`.)

use crate::matcher::{is_negation, word_sim};
use crate::text::{self, Tok};

/// Words before a meaning's first word read for a "no" that denies it ("there's no need [at
/// all] to decide today").
const DENIAL_REACH: usize = 5;

/// Words that open a clause setting the time or the condition of the next one ("after today,
/// …", "une fois raccroché, …", "si vous attendez, …"), normalised.
const FRONTED: &[&str] = &[
    "after", "once", "if", "unless", "until", "from", "apres", "passe", "si", "sauf", "des",
    "jusqu",
];

/// Subject pronouns that stand for what the clause before named ("they'll be gone by
/// tonight", "elles seront parties ce soir"), normalised. Not "il" nor "it": in "il faut" and
/// "it's now" they stand for nothing.
const PRONOUNS: &[&str] = &["they", "elle", "elles", "ils"];

/// Words that may come before a clause's pronoun ("and they'll be gone"), normalised.
const CONJUNCTIONS: &[&str] = &["and", "so", "but", "et", "donc", "mais", "alors"];

/// Similarity under which a token is not the word of a group: equal, or sounding the same.
const SAME_WORD: f32 = 0.9;

/// Similarity from which one word may be read as its group's misheard, for a person to hear
/// ([`Meaning::find_or_near`]): "traduction" for "réduction" is 0.75.
const NEAR_WORD: f32 = 0.75;

/// Letters a group's word needs for a near-miss of it to be read: shorter words are near too
/// many others ("Énergie Verte" is one letter from "vente").
const NEAR_WORD_LETTERS: usize = 7;

/// Words that deny what follows them besides the negations the matcher knows ("sans
/// signature", "without signing").
const DENY_ALSO: &[&str] = &["sans", "without", "none"];

/// Words that make what follows "your" the customer's own, already held ("your current deal",
/// "votre tarif actuel"): its end or its rise is a fact of their contract, said to explain the
/// call, not an offer that runs out.
const HELD: &[&str] = &[
    "current",
    "existing",
    "present",
    "old",
    "previous",
    "actuel",
    "actuelle",
    "ancien",
    "ancienne",
    "precedent",
    "precedente",
];

/// Words that give a thing to the customer.
const YOURS: &[&str] = &["your", "votre", "vos"];

/// Whether tokens `at..end` name something the customer already holds: "your" up to three
/// tokens before, and a [`HELD`] word up to two tokens before or right after ("your current
/// electricity rate", "votre tarif actuel"), within the clause starting at `from`.
fn the_customers_own(toks: &[Tok], from: usize, at: usize, end: usize) -> bool {
    let is = |i: usize, words: &[&str]| {
        toks.get(i)
            .is_some_and(|t| words.contains(&t.norm.as_str()))
    };
    let yours = (at.saturating_sub(3).max(from)..at).any(|i| is(i, YOURS));
    let held = (at.saturating_sub(2).max(from)..at).any(|i| is(i, HELD)) || is(end, HELD);
    yours && held
}

/// One statement a rule forbids, by kinds of words said together.
#[derive(Debug, Clone, PartialEq)]
pub struct Meaning {
    /// As written in the rule file, for evidence: its groups joined by " + ".
    pub source: String,
    /// Each group's alternatives, each as normalised tokens.
    groups: Vec<Vec<Vec<String>>>,
}

/// Where a meaning was said: tokens `start..end` of a stream, and the alternatives heard.
#[derive(Debug, Clone, PartialEq)]
pub struct MeaningHit {
    pub start: usize,
    pub end: usize,
    /// The words of each group heard, as written in the rule file, in the order said.
    pub heard: Vec<String>,
    /// Read with one word heard only close to its group's ([`Meaning::find_or_near`]): that
    /// word's similarity.
    pub near: Option<f32>,
}

impl Meaning {
    /// Compiles a meaning from its groups, each "word|other words|…". At least two groups (one
    /// is a phrasing: `say`), each with at least one alternative of at least one word.
    pub fn compile(groups: &[String], language: &str) -> Result<Self, String> {
        if groups.len() < 2 {
            return Err(format!(
                "a meaning needs two groups of words or more, said together ({:?} has {}); a single wording belongs in `say`",
                groups,
                groups.len()
            ));
        }
        let mut compiled = Vec::with_capacity(groups.len());
        for g in groups {
            let mut alternatives = Vec::new();
            for alt in g.split('|') {
                let toks = text::normalise(alt, language);
                if toks.is_empty() {
                    return Err(format!(
                        "the group \"{g}\" has an empty alternative: write words between the '|'"
                    ));
                }
                alternatives.push(toks);
            }
            compiled.push(alternatives);
        }
        Ok(Meaning {
            source: groups.join(" + "),
            groups: compiled,
        })
    }

    /// Every clause of `toks` that says the meaning, not under a "no". `clause[i]` numbers the
    /// clause token `i` belongs to (a clause ends at a punctuation mark or a long pause),
    /// `sentence[i]` its sentence (ended by a full stop, a question or exclamation mark, or a
    /// long pause).
    ///
    /// A clause is read with the one before it in its sentence where that one only sets its
    /// time or condition ("Après aujourd'hui, cette réduction n'existe plus": it opens with
    /// one of [`FRONTED`]) or where it opens with a pronoun standing for what the one before
    /// named ("… deux places à ce tarif, elles seront parties ce soir": [`PRONOUNS`], after
    /// an "and" or a "so" if any). A "no" in a clause of time or condition is the condition's
    /// ("If you don't sign today, the price goes up"), not a denial of the statement.
    pub fn find(&self, toks: &[Tok], clause: &[usize], sentence: &[usize]) -> Vec<MeaningHit> {
        self.hits(toks, clause, sentence, false)
    }

    /// Where the meaning was said, as [`Self::find`], and where it was said with one word heard
    /// only close to its group's (a similarity of [`NEAR_WORD`] or more, a word of
    /// [`NEAR_WORD_LETTERS`] letters or more: "cette traduction n'existe plus" for "cette
    /// réduction"), in clauses said word for word nowhere: those hits have `near`. A near-miss
    /// never accuses: it is for a person to hear.
    pub fn find_or_near(
        &self,
        toks: &[Tok],
        clause: &[usize],
        sentence: &[usize],
    ) -> Vec<MeaningHit> {
        self.hits(toks, clause, sentence, true)
    }

    fn hits(
        &self,
        toks: &[Tok],
        clause: &[usize],
        sentence: &[usize],
        near: bool,
    ) -> Vec<MeaningHit> {
        let mut spans: Vec<(usize, usize)> = Vec::new();
        let mut from = 0;
        while from < toks.len() {
            let c = clause.get(from).copied();
            let to = (from..toks.len())
                .find(|&i| clause.get(i).copied() != c)
                .unwrap_or(toks.len());
            spans.push((from, to));
            from = to;
        }
        let mut out = Vec::new();
        for (k, &(from, to)) in spans.iter().enumerate() {
            // The clause alone, then with the clause it belongs to (`deny_from` where the "no"
            // may deny); each word for word first, then, where allowed, with a near-miss.
            let mut reads = vec![(from, from)];
            if let Some(&(before, _)) = k.checked_sub(1).and_then(|j| spans.get(j)) {
                let opens = |at: usize, words: &[&str]| {
                    let first = toks.get(at).map(|t| t.norm.as_str());
                    let skip = first.is_some_and(|f| CONJUNCTIONS.contains(&f));
                    let at = if skip { at + 1 } else { at };
                    toks.get(at)
                        .is_some_and(|t| words.contains(&t.norm.as_str()))
                };
                if sentence.get(before) == sentence.get(from) {
                    if opens(before, FRONTED) {
                        // The condition's "no" is no denial: read for one from this clause on.
                        reads.push((before, from));
                    } else if opens(from, PRONOUNS) {
                        reads.push((before, before));
                    }
                }
            }
            let modes: &[bool] = if near { &[false, true] } else { &[false] };
            let hit = modes.iter().find_map(|&near| {
                reads.iter().find_map(|&(start, deny_from)| {
                    self.in_clause(toks, start, deny_from, to, near)
                })
            });
            out.extend(hit);
        }
        out
    }

    /// The meaning in tokens `from..to` (one clause, or two read together): a place for each
    /// group, if every group is there without overlapping another's and no "no" from token
    /// `deny_from` on denies them.
    fn in_clause(
        &self,
        toks: &[Tok],
        from: usize,
        deny_from: usize,
        to: usize,
        near: bool,
    ) -> Option<MeaningHit> {
        // (first token, end, the alternative heard) of each group.
        let mut taken: Vec<(usize, usize, &[String])> = Vec::new();
        // `Some(None)`: one near-miss may be read, none yet; `None`: word for word only.
        let mut near_word: Option<Option<f32>> = near.then_some(None);
        if !self.place(0, toks, from, to, &mut taken, &mut near_word) {
            return None;
        }
        let start = taken.iter().map(|t| t.0).min()?;
        let end = taken.iter().map(|t| t.1).max()?;
        let own = |i: usize| taken.iter().any(|&(s, e, _)| s <= i && i < e);
        let denied = (start.saturating_sub(DENIAL_REACH).max(deny_from)..end)
            .filter(|&i| !own(i))
            .any(|i| is_negation(&toks[i].norm) || DENY_ALSO.contains(&toks[i].norm.as_str()));
        if denied {
            return None;
        }
        taken.sort_by_key(|t| t.0);
        let heard = taken.iter().map(|t| t.2.join(" ")).collect();
        Some(MeaningHit {
            start,
            end,
            heard,
            near: near_word.flatten(),
        })
    }

    /// Places group `g` and the groups after it in tokens `from..to`, each at the first place
    /// that leaves room for the others: one word may belong to two groups ("offer" in "I won't
    /// be able to offer you this price again" is the offering, not the offer), so a group that
    /// takes another's only place tries its next.
    fn place<'m>(
        &'m self,
        g: usize,
        toks: &[Tok],
        from: usize,
        to: usize,
        taken: &mut Vec<(usize, usize, &'m [String])>,
        near: &mut Option<Option<f32>>,
    ) -> bool {
        let Some(alternatives) = self.groups.get(g) else {
            return true;
        };
        for at in from..to {
            for alt in alternatives {
                let end = at + alt.len();
                if end > to
                    || taken.iter().any(|&(s, e, _)| s < end && at < e)
                    || the_customers_own(toks, from, at, end)
                {
                    continue;
                }
                // Each word equal or sounding the same; where a near-miss may be read (`near`
                // is `Some`) and none was yet, one long word close to its group's.
                let sims: Vec<f32> = alt
                    .iter()
                    .zip(&toks[at..end])
                    .map(|(w, t)| word_sim(w, &t.norm))
                    .collect();
                let close: Vec<usize> = (0..sims.len()).filter(|&k| sims[k] < SAME_WORD).collect();
                let this_near = match (close.as_slice(), &*near) {
                    ([], _) => None,
                    ([k], Some(None))
                        if sims[*k] >= NEAR_WORD
                            && alt[*k].chars().count() >= NEAR_WORD_LETTERS =>
                    {
                        Some(sims[*k])
                    }
                    _ => continue,
                };
                taken.push((at, end, alt.as_slice()));
                if this_near.is_some() {
                    *near = Some(this_near);
                }
                if self.place(g + 1, toks, from, to, taken, near) {
                    return true;
                }
                taken.pop();
                if this_near.is_some() {
                    *near = Some(None);
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(m: &Meaning, text: &str) -> Vec<Vec<String>> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let toks = text::tokens(words.iter().copied(), "en");
        // A clause per run of words up to one ending in a comma or a full stop.
        let mut clause_of_word = Vec::new();
        let mut c = 0;
        for w in &words {
            clause_of_word.push(c);
            if w.ends_with([',', '.', ':']) {
                c += 1;
            }
        }
        let mut sentence_of_word = Vec::new();
        let mut n = 0;
        for w in &words {
            sentence_of_word.push(n);
            if w.ends_with(['.', '?', '!']) {
                n += 1;
            }
        }
        let clause: Vec<usize> = toks.iter().map(|t| clause_of_word[t.first_word]).collect();
        let sentence: Vec<usize> = toks
            .iter()
            .map(|t| sentence_of_word[t.first_word])
            .collect();
        m.find(&toks, &clause, &sentence)
            .into_iter()
            .map(|h| h.heard)
            .collect()
    }

    #[test]
    fn every_group_in_one_clause_in_any_order_and_never_under_a_no() {
        let m = Meaning::compile(
            &[
                "offer|price|deal".into(),
                "expires|ends|goes up|can't hold".into(),
                "today|tomorrow|hang up".into(),
            ],
            "en",
        )
        .unwrap();
        assert_eq!(
            said(&m, "If you wait, the price goes up tomorrow."),
            vec![vec!["price", "goes up", "tomorrow"]]
        );
        assert_eq!(
            said(&m, "This deal ends when we hang up."),
            vec![vec!["deal", "ends", "hang up"]]
        );
        // The group's own "no" is its word, not a denial.
        assert_eq!(
            said(&m, "I can't hold this price for you after today, sorry."),
            vec![vec!["can t hold", "price", "today"]]
        );
        // Groups in different clauses: not one statement.
        assert!(said(&m, "The price is fixed, it ends today.").is_empty());
        // A group missing.
        assert!(said(&m, "The offer is valid until the end of the month.").is_empty());
        // Under a "no".
        assert!(said(&m, "No, the offer never expires today or tomorrow.").is_empty());
        assert!(said(&m, "The offer does not expire today.").is_empty());
        // Words must be heard as written: "prize" is not "price".
        assert!(said(&m, "The prize goes up tomorrow.").is_empty());
        // The customer's own contract is no offer that runs out.
        assert!(said(&m, "Your current deal ends tomorrow, so I'm calling.").is_empty());
        assert!(said(&m, "Your existing rate goes up tomorrow.").is_empty());
        // "Your" alone does not make it theirs: "your deal" may be the one offered.
        assert_eq!(
            said(&m, "Your deal ends tomorrow."),
            vec![vec!["deal", "ends", "tomorrow"]]
        );
    }

    #[test]
    fn a_clause_of_time_or_condition_and_a_pronoun_read_with_their_clause() {
        let m = Meaning::compile(
            &[
                "offer|price|deal".into(),
                "expires|ends|goes up".into(),
                "today|tomorrow|tonight".into(),
            ],
            "en",
        )
        .unwrap();
        // The time set by a clause of its own, before.
        assert_eq!(
            said(&m, "After today, the price goes up."),
            vec![vec!["today", "price", "goes up"]]
        );
        // The condition's "no" is the condition's, not a denial of the statement.
        assert_eq!(
            said(&m, "If you don't sign today, the price goes up."),
            vec![vec!["today", "price", "goes up"]]
        );
        // A "no" in the statement's own clause still denies it.
        assert!(said(&m, "After today, the price never goes up.").is_empty());
        // A clause that sets nothing is not read with the next.
        assert!(said(&m, "I called you today, the price goes up.").is_empty());
        // Nor across sentences.
        assert!(said(&m, "After today. The price goes up.").is_empty());
        let slots = Meaning::compile(
            &["slots|places".into(), "gone".into(), "tonight".into()],
            "en",
        )
        .unwrap();
        assert_eq!(
            said(
                &slots,
                "Only two slots are left at this price, and they will be gone by tonight."
            ),
            vec![vec!["slots", "gone", "tonight"]]
        );
        // "it" stands for nothing in "it's gone tonight": no pronoun of the clause before.
        assert!(said(&slots, "Two slots are left, it's gone tonight.").is_empty());
        assert!(said(&slots, "Two slots are left. They will be gone tonight.").is_empty());
    }

    #[test]
    fn a_word_two_groups_could_take_goes_where_every_group_finds_a_place() {
        let m = Meaning::compile(
            &[
                "offer|price".into(),
                "won't be able to offer|can't offer".into(),
                "again|anymore".into(),
            ],
            "en",
        )
        .unwrap();
        assert_eq!(
            said(&m, "I won't be able to offer you this price again."),
            vec![vec!["won t be able to offer", "price", "again"]]
        );
        assert!(said(&m, "I won't be able to offer you more.").is_empty());
    }

    #[test]
    fn one_long_word_heard_close_to_its_groups_is_a_near_miss_never_a_statement() {
        let m = Meaning::compile(
            &[
                "promotion|discount".into(),
                "expires|ends".into(),
                "tonight|today".into(),
            ],
            "en",
        )
        .unwrap();
        let near = |text: &str| {
            let words: Vec<&str> = text.split_whitespace().collect();
            let toks = text::tokens(words.iter().copied(), "en");
            let zeros = vec![0; toks.len()];
            (
                m.find(&toks, &zeros, &zeros).len(),
                m.find_or_near(&toks, &zeros, &zeros)
                    .into_iter()
                    .filter(|h| h.near.is_some())
                    .map(|h| (h.heard, h.near.is_some()))
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            near("The promocion ends tonight"),
            (
                0,
                vec![(
                    vec!["promotion".into(), "ends".into(), "tonight".into()],
                    true
                )]
            )
        );
        // Said word for word: a statement, not a near-miss.
        assert_eq!(near("The promotion ends tonight"), (1, vec![]));
        // Two words heard otherwise, or a short one: nothing.
        assert_eq!(near("The promocion expirez tonight"), (0, vec![]));
        assert_eq!(near("The promotion endz tonite"), (0, vec![]));
    }

    #[test]
    fn a_meaning_is_two_groups_or_more_of_words() {
        assert!(Meaning::compile(&["offer expires today".into()], "en").is_err());
        assert!(Meaning::compile(&["offer|".into(), "today".into()], "en").is_err());
        assert!(Meaning::compile(&["offer".into(), "today".into()], "en").is_ok());
    }
}
