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
//! The French "ne … que" is no "no" but "only" ([`read_restrictions`]): "ce tarif n'est garanti
//! que jusqu'à ce soir" says the price holds until tonight and no longer. A group written after
//! `>` must be said after the groups before it ("I can only hold this price if you agree
//! today", not "Today I'm only calling about the price"), and "only" said of an amount or as an
//! adjective ("only thirty pounds", "the only price") restricts no time.
//! (One put after the signature, "votre commande sera définitive après signature", is left out
//! by the verification, for phrasings and meanings alike: `Eval::put_after_signing`.)

use callproof_models::Segment;

use crate::matcher::{is_negation, word_sim};
use crate::text::{self, Tok};
use crate::BARELY_HEARD;

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

/// Words that open a subject said before its clause and taken up there by a pronoun ("Ce
/// prix, il est valable que ce soir", "This offer, it ends tonight"): determiners, normalised.
const DETERMINERS: &[&str] = &[
    "ce", "cet", "cette", "ces", "notre", "nos", "votre", "vos", "le", "la", "les", "l", "this",
    "that", "these", "those", "our", "your", "the",
];

/// Pronouns that take up a subject said before the clause ([`DETERMINERS`]), normalised:
/// "il" and "it" too, which after a subject set apart stand for it.
const RESUMPTIVE: &[&str] = &["il", "elle", "ils", "elles", "c", "ca", "it", "they"];

/// Tokens a subject set apart before its clause has at most ("Cette remise exceptionnelle,
/// elle …").
const SUBJECT_APART_MAX: usize = 3;

/// Verbs that make a clause a sentence of its own, not a subject set apart ("The price is
/// fixed, it ends today": the "it" may be anything), normalised.
const COPULAS: &[&str] = &[
    "is", "s", "are", "was", "were", "be", "will", "est", "sont", "etait", "sera", "seront",
];

/// Words that may come before a clause's pronoun ("and they'll be gone"), normalised.
const CONJUNCTIONS: &[&str] = &["and", "so", "but", "et", "donc", "mais", "alors"];

/// Words that restrict what follows them to it alone ("only today", "seulement ce soir"),
/// normalised; the French "ne … que" is read as "seulement" ([`read_restrictions`]).
const ONLY: &[&str] = &["only", "seulement", "uniquement"];

/// What a restrictive "ne" is read as: no negation, and no word a transcript holds.
const RESTRICTIVE_NE: &str = "ne-que";

/// What the "que" of a restrictive "ne … que" is read as: one of [`ONLY`].
const RESTRICTIVE_QUE: &str = "seulement";

/// What ends a French "ne …" before any "que" makes it "only": "ne … pas que" is "not only",
/// "ne … jamais", "ne … rien", "ne … aucun" say no. ("ne … plus que" is still "only": "il ne
/// reste plus que deux places".)
const NOT_ONLY: &[&str] = &[
    "pas", "jamais", "rien", "aucun", "aucune", "personne", "guere", "point", "nul", "nulle",
];

/// Words after which a "que" with no "ne" before it is the "only" of spoken French, which
/// drops its "ne" ("il est valable que ce soir", "c'est disponible que jusqu'à demain"),
/// normalised: predicates no "que" clause follows otherwise. Not "valide" nor "garanti":
/// "je valide que …", "il est garanti que …" say "that".
const SPOKEN_ONLY_AFTER: &[&str] = &[
    "valable",
    "valables",
    "disponible",
    "disponibles",
    "dure",
    "durera",
];

/// Tokens a French "ne" looks ahead for its "que".
const NE_QUE_REACH: usize = 10;

/// Words that open what "only" restricts as a limit or a condition ("only until tonight",
/// "only if you say yes today", "que jusqu'à ce soir", "que si vous acceptez aujourd'hui",
/// "que d'ici ce soir"), normalised.
const LIMITS: &[&str] = &[
    "if", "unless", "until", "till", "before", "by", "for", "si", "jusqu", "jusque", "avant",
    "pour", "ici",
];

/// Tokens from "only" within which a time is what it restricts, without a word of [`LIMITS`]
/// ("only today", "que ce soir", "qu'à minuit").
const ONLY_REACH: usize = 3;

/// Words before "only" that make it an adjective ("the only price we have"), normalised.
const ONLY_AS_ADJECTIVE: &[&str] = &["the", "la", "le", "les"];

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

/// `toks` as a meaning reads them: a French "ne" whose clause says "que" (or "qu'") within
/// [`NE_QUE_REACH`] tokens, and no [`NOT_ONLY`] word before it, is the restrictive "ne … que",
/// "only": the "ne" becomes [`RESTRICTIVE_NE`] (no negation) and the "que" "seulement". "Ce
/// tarif n'est garanti que jusqu'à ce soir" is read "ce tarif est garanti seulement jusqu'à ce
/// soir"; "je ne pense pas que …" keeps its "no". `clause[i]` numbers token `i`'s clause;
/// without it (a phrasing of the rule file) the tokens are one clause.
pub(crate) fn read_restrictions(toks: &[Tok], clause: Option<&[usize]>) -> Vec<Tok> {
    let mut out = toks.to_vec();
    let same_clause = |a: usize, b: usize| clause.is_none_or(|c| c.get(a) == c.get(b));
    for i in 0..toks.len() {
        if !matches!(toks[i].norm.as_str(), "ne" | "n") {
            continue;
        }
        let ahead =
            (i + 1..toks.len().min(i + 1 + NE_QUE_REACH)).take_while(|&j| same_clause(i, j));
        for j in ahead {
            let t = toks[j].norm.as_str();
            if NOT_ONLY.contains(&t) || matches!(t, "ne" | "n") {
                break;
            }
            if matches!(t, "que" | "qu") {
                out[i].norm = RESTRICTIVE_NE.to_string();
                out[j].norm = RESTRICTIVE_QUE.to_string();
                break;
            }
        }
    }
    // The "ne" dropped, as spoken French does: "valable que ce soir" ([`SPOKEN_ONLY_AFTER`]).
    for j in 1..toks.len() {
        let spoken = matches!(out[j].norm.as_str(), "que" | "qu")
            && SPOKEN_ONLY_AFTER.contains(&toks[j - 1].norm.as_str())
            && same_clause(j - 1, j);
        if spoken {
            out[j].norm = RESTRICTIVE_QUE.to_string();
        }
    }
    out
}

/// Whether token `i` of `toks` (as [`read_restrictions`] reads them) says no to what ends at
/// token `end`: a negation, or a restrictive "ne" whose "que" comes at `end` or after. "Ce
/// n'est définitif qu'après signature" puts "définitif" under a condition said after it: the
/// words before the "que" are not said unconditionally; with its "que" inside ("ce prix n'est
/// garanti que ce soir") the restriction is part of what was said.
pub(crate) fn says_no_before(toks: &[Tok], i: usize, end: usize) -> bool {
    let Some(t) = toks.get(i) else {
        return false;
    };
    if t.norm == RESTRICTIVE_NE {
        return !(i + 1..end.min(toks.len())).any(|j| toks[j].norm == RESTRICTIVE_QUE);
    }
    is_negation(&t.norm)
}

/// Whether "only" at token `only` restricts the time said at token `at`: the time right after
/// it (within [`ONLY_REACH`] tokens), or a limit or a condition between them ([`LIMITS`]).
/// "The offer only covers what we install today" restricts what is covered, not the offer's
/// time.
fn restricts_the_time(toks: &[Tok], only: usize, at: usize) -> bool {
    at <= only + ONLY_REACH
        || toks
            .get(only + 1..at)
            .is_some_and(|between| between.iter().any(|t| LIMITS.contains(&t.norm.as_str())))
}

/// Whether "only" at token `at` restricts no time: said of an amount ("only thirty pounds",
/// "que de trente euros": a number within two tokens after it) or as an adjective ("the only
/// price").
fn restricts_no_time(toks: &[Tok], at: usize) -> bool {
    let number = |i: usize| {
        toks.get(i)
            .is_some_and(|t| !t.norm.is_empty() && t.norm.chars().all(|c| c.is_ascii_digit()))
    };
    let adjective = at
        .checked_sub(1)
        .and_then(|i| toks.get(i))
        .is_some_and(|t| ONLY_AS_ADJECTIVE.contains(&t.norm.as_str()));
    number(at + 1) || number(at + 2) || adjective
}

/// Whether the clause of tokens `before..from` is a subject set apart and the clause from
/// `from` takes it up with a pronoun ("Ce prix, il est valable que ce soir"): a few tokens
/// opened by a determiner ([`DETERMINERS`], [`SUBJECT_APART_MAX`]) and no verb of
/// [`COPULAS`], then one of [`RESUMPTIVE`].
fn subject_apart(toks: &[Tok], before: usize, from: usize) -> bool {
    let is = |i: usize, words: &[&str]| {
        toks.get(i)
            .is_some_and(|t| words.contains(&t.norm.as_str()))
    };
    from - before <= SUBJECT_APART_MAX
        && is(before, DETERMINERS)
        && !(before..from).any(|i| is(i, COPULAS))
        && is(from, RESUMPTIVE)
}

/// One statement a rule forbids, by kinds of words said together.
#[derive(Debug, Clone, PartialEq)]
pub struct Meaning {
    /// As written in the rule file, for evidence: its groups joined by " + ".
    pub source: String,
    /// Each group's alternatives, each as normalised tokens.
    groups: Vec<Vec<Vec<String>>>,
    /// Whether each group must be said after every group before it (written after `>`).
    after: Vec<bool>,
}

/// A group placed in a clause: its first token, its end, the alternative heard, and whether it
/// was lost in a word heard with doubt ([`Meaning::lost_at`]).
type Placed<'m> = (usize, usize, &'m [String], bool);

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
        let mut after = Vec::with_capacity(groups.len());
        for (k, g) in groups.iter().enumerate() {
            let ordered = g.trim_start().strip_prefix('>');
            if ordered.is_some() && k == 0 {
                return Err(format!(
                    "the first group \"{g}\" cannot be said after the groups before it: it has none; remove its '>'"
                ));
            }
            after.push(ordered.is_some());
            let g = ordered.unwrap_or(g);
            let mut alternatives = Vec::new();
            for alt in g.split('|') {
                let toks: Vec<String> =
                    read_restrictions(&text::tokens(alt.split_whitespace(), language), None)
                        .into_iter()
                        .map(|t| t.norm)
                        .collect();
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
            after,
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
        self.hits(toks, clause, sentence, false, None)
    }

    /// Where the meaning was said, as [`Self::find`], and where it was said with one word heard
    /// only close to its group's (a similarity of [`NEAR_WORD`] or more, a word of
    /// [`NEAR_WORD_LETTERS`] letters or more: "cette traduction n'existe plus" for "cette
    /// réduction"), in clauses said word for word nowhere: those hits have `near`. A near-miss
    /// never accuses: it is for a person to hear.
    ///
    /// With `heard` (each token's least word probability), a meaning of three groups or more
    /// is also near where one group stands on a single word heard with doubt and every other
    /// group was heard word for word ([`Self::lost_at`]): "Ce tarif n'est garantique à ce
    /// soir", "à" at 0.43 where "que jusqu'" was said; "This prize is just for people who sign
    /// up during this call", "prize" at 0.29. The statement may have been said and garbled;
    /// the recording, not the rule set, decides, and a person hears it.
    pub fn find_or_near(
        &self,
        toks: &[Tok],
        clause: &[usize],
        sentence: &[usize],
        heard: Option<&[f32]>,
    ) -> Vec<MeaningHit> {
        self.hits(toks, clause, sentence, true, heard)
    }

    /// Whether a group may stand on token `at` of the clause `from..to`, lost in a word heard
    /// with doubt (`heard`: each token's least word probability): under
    /// [`Segment::DOUBTFUL_WORD_BELOW`], and either barely heard ([`BARELY_HEARD`]) or with
    /// another word of the clause heard with doubt — garbled speech, as a missing item's place
    /// is judged doubtful. Only in a meaning of three groups or more, so that two groups are
    /// always heard word for word ("now" and any doubtful word is no statement).
    fn lost_at(&self, heard: &[f32], at: usize, from: usize, to: usize) -> bool {
        let doubtful = |i: usize| {
            heard
                .get(i)
                .is_some_and(|&p| p < Segment::DOUBTFUL_WORD_BELOW)
        };
        self.groups.len() >= 3
            && doubtful(at)
            && (heard.get(at).is_some_and(|&p| p < BARELY_HEARD)
                || (from..to).any(|i| i != at && doubtful(i)))
    }

    fn hits(
        &self,
        toks: &[Tok],
        clause: &[usize],
        sentence: &[usize],
        near: bool,
        heard: Option<&[f32]>,
    ) -> Vec<MeaningHit> {
        let toks = &read_restrictions(toks, Some(clause));
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
                    } else if opens(from, PRONOUNS) || subject_apart(toks, before, from) {
                        reads.push((before, before));
                    }
                }
            }
            let modes: &[bool] = if near { &[false, true] } else { &[false] };
            let hit = modes.iter().find_map(|&near| {
                reads.iter().find_map(|&(start, deny_from)| {
                    self.in_clause(toks, start, deny_from, to, near, heard)
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
        heard: Option<&[f32]>,
    ) -> Option<MeaningHit> {
        // (first token, end, the alternative heard) of each group.
        let mut taken: Vec<Placed<'_>> = Vec::new();
        // `Some(None)`: one near-miss may be read, none yet; `None`: word for word only.
        let mut near_word: Option<Option<f32>> = near.then_some(None);
        let lost = heard.filter(|_| near);
        if !self.place(0, toks, (from, to), &mut taken, &mut near_word, lost) {
            return None;
        }
        let start = taken.iter().map(|t| t.0).min()?;
        let end = taken.iter().map(|t| t.1).max()?;
        let own = |i: usize| taken.iter().any(|&(s, e, _, _)| s <= i && i < e);
        let denied = (start.saturating_sub(DENIAL_REACH).max(deny_from)..end)
            .filter(|&i| !own(i))
            .any(|i| says_no_before(toks, i, end) || DENY_ALSO.contains(&toks[i].norm.as_str()));
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
        (from, to): (usize, usize),
        taken: &mut Vec<Placed<'m>>,
        near: &mut Option<Option<f32>>,
        lost: Option<&[f32]>,
    ) -> bool {
        let Some(alternatives) = self.groups.get(g) else {
            // A group lost in a word heard with doubt is read only beside the others heard
            // with confidence: "Your policy ends (0.48) next month and we can offer you a new at
            // $320 per (0.33) year" has two of its three groups in doubt.
            return !taken.iter().any(|t| t.3)
                || lost.is_some_and(|heard| {
                    taken.iter().filter(|t| !t.3).all(|t| {
                        (t.0..t.1).all(|i| {
                            heard
                                .get(i)
                                .is_some_and(|&p| p >= Segment::DOUBTFUL_WORD_BELOW)
                        })
                    })
                });
        };
        // A group written after `>` starts after every group placed before it, and restricted
        // by an "only" before it, is what the "only" restricts.
        let ordered = self.after.get(g).copied().unwrap_or(false);
        let earliest = if ordered {
            taken.iter().map(|t| t.1).max().unwrap_or(from)
        } else {
            from
        };
        let only_at = taken
            .iter()
            .find(|t| t.2.len() == 1 && ONLY.contains(&t.2[0].as_str()))
            .map(|t| t.0);
        for at in earliest..to {
            // Each alternative word for word (or with a near-miss); then, where a near-miss may
            // still be read, the group lost in the one word heard with doubt at `at`.
            let lost_here = matches!(near, Some(None))
                && lost.is_some_and(|heard| self.lost_at(heard, at, from, to));
            let tries = alternatives
                .iter()
                .map(|alt| (alt, at + alt.len(), false))
                .chain(
                    alternatives
                        .first()
                        .filter(|_| lost_here)
                        .map(|alt| (alt, at + 1, true)),
                );
            for (alt, end, in_doubt) in tries {
                if end > to
                    || taken.iter().any(|&(s, e, _, _)| s < end && at < e)
                    || the_customers_own(toks, from, at, end)
                    || (alt.len() == 1
                        && ONLY.contains(&alt[0].as_str())
                        && restricts_no_time(toks, at))
                    || (ordered && only_at.is_some_and(|o| !restricts_the_time(toks, o, at)))
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
                    // Lost in a word heard with doubt: how close that word is, for the record.
                    _ if in_doubt => Some(sims.iter().copied().fold(0.0, f32::max)),
                    ([], _) => None,
                    ([k], Some(None))
                        if sims[*k] >= NEAR_WORD
                            && alt[*k].chars().count() >= NEAR_WORD_LETTERS =>
                    {
                        Some(sims[*k])
                    }
                    _ => continue,
                };
                taken.push((at, end, alt.as_slice(), in_doubt));
                if this_near.is_some() {
                    *near = Some(this_near);
                }
                if self.place(g + 1, toks, (from, to), taken, near, lost) {
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

    /// `text`'s tokens, all in one clause and one sentence (the clause numbers beside them).
    fn one_clause(text: &str, language: &str) -> (Vec<Tok>, Vec<usize>) {
        let toks = text::tokens(text.split_whitespace(), language);
        let zeros = vec![0; toks.len()];
        (toks, zeros)
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
            let (toks, zeros) = one_clause(text, "en");
            (
                m.find(&toks, &zeros, &zeros).len(),
                m.find_or_near(&toks, &zeros, &zeros, None)
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
    fn a_group_lost_in_words_heard_with_doubt_is_a_near_miss_never_a_statement() {
        let m = Meaning::compile(
            &[
                "offre|prix|tarif".into(),
                "expire|sera partie".into(),
                "ce soir|demain".into(),
            ],
            "fr",
        )
        .unwrap();
        // Each token heard at `p` but those whose text is in `doubtful`, heard at their own.
        let lost = |text: &str, doubtful: &[(&str, f32)]| {
            let (toks, zeros) = one_clause(text, "fr");
            let heard: Vec<f32> = toks
                .iter()
                .map(|t| doubtful.iter().find(|d| d.0 == t.norm).map_or(0.9, |d| d.1))
                .collect();
            (
                m.find(&toks, &zeros, &zeros).len(),
                m.find_or_near(&toks, &zeros, &zeros, Some(&heard))
                    .into_iter()
                    .filter(|h| h.near.is_some())
                    .count(),
            )
        };
        // "à ce tarif" garbled into "saparif", with another word of the clause doubtful.
        assert_eq!(
            lost(
                "il ne me reste que saparif elle sera partie ce soir",
                &[("saparif", 0.45), ("reste", 0.44)]
            ),
            (0, 1)
        );
        // Barely heard, alone: the same.
        assert_eq!(
            lost("ce sarif sera partie ce soir", &[("sarif", 0.2)]),
            (0, 1)
        );
        // One doubtful word that is not barely heard, alone in the clause: speech heard.
        assert_eq!(
            lost("ce sarif sera partie ce soir", &[("sarif", 0.45)]),
            (0, 0)
        );
        // Two groups lost: nothing.
        assert_eq!(
            lost(
                "ce sarif sera pati ce soir",
                &[("sarif", 0.2), ("pati", 0.2)]
            ),
            (0, 0)
        );
        // Another group heard with doubt too: nothing.
        assert_eq!(
            lost(
                "ce sarif sera partie ce soir",
                &[("sarif", 0.2), ("partie", 0.45)]
            ),
            (0, 0)
        );
        // Heard with confidence: no group is lost anywhere.
        assert_eq!(
            lost("il ne me reste que saparif elle sera partie ce soir", &[]),
            (0, 0)
        );
        // Without the probabilities, no group is read as lost.
        let (toks, zeros) = one_clause("ce sarif sera partie ce soir", "fr");
        assert!(m
            .find_or_near(&toks, &zeros, &zeros, None)
            .iter()
            .all(|h| h.near.is_none()));
    }

    #[test]
    fn a_meaning_of_two_groups_is_never_read_with_one_lost() {
        let m = Meaning::compile(&["need a decision".into(), "now|today".into()], "en").unwrap();
        let (toks, zeros) = one_clause("we need a dishon now", "en");
        let heard: Vec<f32> = toks
            .iter()
            .map(|t| if t.norm == "dishon" { 0.1 } else { 0.9 })
            .collect();
        assert!(m
            .find_or_near(&toks, &zeros, &zeros, Some(&heard))
            .is_empty());
    }

    #[test]
    fn a_restriction_to_a_near_time_is_read_and_ne_que_is_only_not_no() {
        let fr = Meaning::compile(
            &[
                "prix|tarif|remise".into(),
                "seulement|uniquement".into(),
                "> aujourd'hui|ce soir|maintenant".into(),
            ],
            "fr",
        )
        .unwrap();
        let said_fr = |text: &str| {
            let (toks, zeros) = one_clause(text, "fr");
            fr.find(&toks, &zeros, &zeros)
                .into_iter()
                .map(|h| h.heard)
                .collect::<Vec<_>>()
        };
        // "ne … que" is "only": its "ne" denies nothing.
        assert_eq!(
            said_fr("Ce tarif n'est garanti que jusqu'à ce soir"),
            vec![vec!["tarif", "seulement", "ce soir"]]
        );
        assert_eq!(
            said_fr("Je ne peux maintenir cette remise que si vous dites oui maintenant"),
            vec![vec!["remise", "seulement", "maintenant"]]
        );
        // "ne … pas que" and "ne … jamais" still say no; a "que" alone is no restriction.
        assert!(said_fr("Ce tarif n'est pas garanti que ce soir").is_empty());
        assert!(said_fr("Le prix ne change jamais, ni ce soir ni demain").is_empty());
        assert!(said_fr("Le prix que vous payez aujourd'hui").is_empty());
        // The time said before the restriction is not the restriction's.
        assert!(said_fr("Aujourd'hui je ne vous appelle que pour le prix").is_empty());
        // A restriction of an amount restricts no time.
        assert!(said_fr("Vous ne payez ce prix que de 30 euros dès aujourd'hui").is_empty());
        let en = Meaning::compile(
            &[
                "offer|price".into(),
                "only".into(),
                "> today|hang up".into(),
            ],
            "en",
        )
        .unwrap();
        assert_eq!(
            said(&en, "I can only guarantee this price if you say yes today."),
            vec![vec!["only", "price", "today"]]
        );
        assert_eq!(
            said(
                &en,
                "Only customers who agree before we hang up get this price."
            ),
            Vec::<Vec<String>>::new(),
            "the time must come after every group before it, the offer too"
        );
        assert!(said(&en, "Today I'm only calling about the offer.").is_empty());
        assert!(said(&en, "The price is only thirty pounds from today.").is_empty());
        assert!(said(&en, "It's the only offer we have today.").is_empty());
        // What "only" restricts is what follows it, up to the time: here what is covered.
        assert!(said(&en, "The offer only covers what we install today.").is_empty());
        assert_eq!(
            said(&en, "This offer is only good for today."),
            vec![vec!["offer", "only", "today"]]
        );
        // The group's own restriction, written "ne … que" in the rule file, reads the same.
        let own = Meaning::compile(
            &["offre".into(), "n'est valable que".into(), "ce soir".into()],
            "fr",
        )
        .unwrap();
        let (toks, zeros) = one_clause("L'offre n'est valable que ce soir", "fr");
        assert_eq!(own.find(&toks, &zeros, &zeros).len(), 1);
        assert!(Meaning::compile(&["> offre".into(), "ce soir".into()], "fr").is_err());
    }

    #[test]
    fn a_meaning_is_two_groups_or_more_of_words() {
        assert!(Meaning::compile(&["offer expires today".into()], "en").is_err());
        assert!(Meaning::compile(&["offer|".into(), "today".into()], "en").is_err());
        assert!(Meaning::compile(&["offer".into(), "today".into()], "en").is_ok());
    }
}
