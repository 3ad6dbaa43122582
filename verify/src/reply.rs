//! What a customer's reply to the offer says by its shape, where no phrasing of the rule set
//! is in it.
//!
//! A rule set lists the assents and refusals its client expects ("je souscris", "no thank
//! you"); customers answer in their own words ("Bon, d'accord, on y va", "Yes, please" to
//! "Shall I set that up?", "Non, ce n'est pas pour moi", "Oui, je vois"). Left to the
//! phrasings, every such call needs a person, and an agent who records an agreement the
//! customer never gave ("Oui, je vois", then "je note votre accord") is never accused. A reply
//! is read here from closed classes of words of the language — yes and no, politeness, and
//! the verbs that acknowledge, put a decision off or take the offer — never from a client's
//! phrasings, and only where every word of it was heard with confidence: a reply garbled is
//! for a person to hear. What is not plainly one thing is [`Reply::Unclear`].

use callproof_models::Segment;

use crate::{
    affirmative, bare, hypothetical, says_no_at, WordAt, CLAUSE_ENDS, HESITATION, NO_OBJECTION,
};

/// What a reply says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reply {
    /// Opens with a yes and takes the offer in its own words ("D'accord, je le prends",
    /// "Sure, that sounds great"), or is a bare yes to the agent's question ("Oui, s'il vous
    /// plaît" to "Est-ce que je vous inscris ?").
    Agrees,
    /// Says no, with no yes to open it ("Non, ce n'est pas pour moi, merci"), or declines in a
    /// word that needs no "no" ("I'll pass, thanks", "je vais laisser passer").
    Declines,
    /// Puts the decision off ("Oui, je comprends, mais je vais y réfléchir", "let me think
    /// about it"): no sale is made.
    PutsOff,
    /// A yes that only says the customer heard ("Oui, je vois", "Yes, I see", "Oui, je sais").
    Acknowledges,
    /// Says the customer does not know, with no yes and no word that takes the offer ("Je ne
    /// sais pas, c'est un peu cher", "I'm not sure, to be honest"): no assent, and no refusal
    /// either.
    Unsure,
    /// Anything else: a bare yes nobody asked for (a customer says "D'accord" to every
    /// disclosure), a question, a "but", a word heard with doubt, words of no class here.
    Unclear,
}

impl Reply {
    /// How a finding says what the reply was.
    pub(crate) fn what(self) -> &'static str {
        match self {
            Reply::Agrees => "an assent",
            Reply::Declines => "a refusal",
            Reply::PutsOff => "the decision put off",
            Reply::Acknowledges => "heard, not agreed",
            Reply::Unsure => "unsure",
            Reply::Unclear => "unclear",
        }
    }
}

/// Words that only say the listener heard or knows ("je vois", "I see").
const ACKNOWLEDGE: &[&str] = &[
    "vois",
    "voit",
    "sais",
    "connais",
    "comprends",
    "compris",
    "note",
    "noté",
    "entends",
    "écoute",
    "see",
    "know",
    "understand",
    "understood",
    "noted",
    "hear",
    "listening",
    "got",
];

/// Words that put a decision off ("je vais y réfléchir", "rappelez-moi", "let me think about
/// it", "I need to talk it over").
const PUT_OFF: &[&str] = &[
    "réfléchir",
    "réfléchis",
    "réfléchirai",
    "réfléchisse",
    "réflexion",
    "penser",
    "penserai",
    "rappeler",
    "rappelez",
    "tard",
    "parler",
    "parle",
    "discuter",
    "discute",
    "attendre",
    "think",
    "thinking",
    "consider",
    "later",
    // "Can you call me back next month?", as "rappelez-moi".
    "back",
    "talk",
    "discuss",
    "sleep",
    "wait",
];

/// Words that decline without a "no" ("I'll pass, thanks", "I'd rather decline", "je refuse").
const DECLINE: &[&str] = &["pass", "decline", "refuse"];

/// Words before "passer" or "tomber" that make them a refusal ("je vais laisser passer", "je
/// laisse tomber"): "passer" alone is also how an order is placed ("passer commande").
const LET: &[&str] = &["laisser", "laisse", "laisserai", "laisserais"];

/// Whether the reply `words[from..to]` declines in a word that needs no "no" ([`DECLINE`],
/// "laisser passer", "laisser tomber", "I'll leave it").
fn declines(words: &[WordAt<'_>], (from, to): (usize, usize)) -> bool {
    let all: Vec<String> = words[from..to].iter().flat_map(|w| parts(w.text)).collect();
    all.iter().enumerate().any(|(i, p)| {
        DECLINE.contains(&p.as_str())
            || (matches!(p.as_str(), "passer" | "tomber")
                && i > 0
                && LET.contains(&all[i - 1].as_str()))
            || (p == "leave" && all.get(i + 1).is_some_and(|n| n == "it"))
    })
}

/// Idioms by which a customer takes the offer, with no yes and no verb of [`TAKE`] needed
/// ("Banco", "Vendu, je prends", "Ça roule", "C'est parti", "You've got yourself a deal", "I'm
/// sold", "Count me in", "Sounds like a plan"): the closed class of the languages' set phrases
/// of assent, each written as its sub-words ([`parts`]). One that opens with `^` is that idiom
/// only as the reply's opening word ("Deal, put me down", not "a good deal"); one that ends with
/// `$` only where a clause ends ("I'm in.", not "I'm in a meeting").
const TAKES_IN_AN_IDIOM: &[&str] = &[
    // French
    "banco",
    "^vendu",
    "c est vendu",
    "c est parti",
    "ça roule",
    "ca roule",
    "chiche",
    "marché conclu",
    "affaire conclue",
    "tope là",
    "topez là",
    "je me lance",
    "on fonce",
    "je fonce",
    "ça me tente",
    "vous m avez convaincu",
    "vous m avez convaincue",
    "c est ok pour moi",
    "ok pour moi",
    "je suis des vôtres",
    // English
    "^deal",
    "it s a deal",
    "that s a deal",
    "got a deal",
    "got yourself a deal",
    "we have a deal",
    "^sold",
    "i m sold",
    "count me in",
    "i m in$",
    "we re in$",
    "i m game",
    "i m up for it",
    "i m on board",
    "sounds like a plan",
    "go for it",
    "give it a go",
    "give it a try",
    "give it a shot",
    "go on then",
    "you ve convinced me",
    "you convinced me",
    "talked me into it",
    "you ve sold me",
    "i m all for it",
];

/// Idioms by which a customer declines without a "no" ("Sans façon", "je vais passer mon tour",
/// "I'll give it a miss", "I'll sit this one out"), written as [`TAKES_IN_AN_IDIOM`]: a refusal
/// unless the reply also holds a yes or a word that may take the offer.
const DECLINES_IN_AN_IDIOM: &[&str] = &[
    // French
    "sans façon",
    "sans facon",
    "passer mon tour",
    "passe mon tour",
    "je passe$",
    "très peu pour moi",
    "je m abstiens",
    "m abstenir",
    "m en passer",
    "m en passerai",
    "je m en passe",
    // "Merci, ça ira": alone, "ça ira" may also say "that will do".
    "merci ça ira$",
    "ça ira merci",
    "hors de question",
    "je décline",
    // English
    "give it a miss",
    "sit this one out",
    "count me out",
    "i m good$",
    "i m all set$",
    "i ll skip it",
    "i ll skip",
    "i ll give it a miss",
];

/// Words by which a customer dodges: neither yes nor no ("Peut-être, on verra", "Maybe, we'll
/// see", "Perhaps"), written as [`TAKES_IN_AN_IDIOM`]. A reply of a dodge, with no yes and no
/// word that may take the offer, is [`Reply::Unsure`]: no assent, and no refusal either.
const DODGES: &[&str] = &[
    // French
    "peut être",
    "on verra",
    "je verrai",
    "on va voir",
    "faut voir",
    "à voir",
    // English
    "maybe",
    "perhaps",
    "possibly",
    "we ll see",
    "i ll see",
    "we shall see",
];

/// Phrases that open a turn and say nothing of what was decided ("You know what, …", "Vous
/// savez quoi, …", "To be honest, …"), written as [`TAKES_IN_AN_IDIOM`].
const SAY_NOTHING: &[&str] = &[
    "you know what",
    "vous savez quoi",
    "tu sais quoi",
    "to be honest",
    "à vrai dire",
];

/// Words that make a reply a condition ("I'd give it a go if it were cheaper", "banco si vous
/// baissez le prix"): an idiom in it takes or declines nothing for certain.
const CONDITION: &[&str] = &["if", "unless", "si", "provided"];

/// The words of `words[from..to]` that say an idiom of `class` ([`TAKES_IN_AN_IDIOM`],
/// [`DECLINES_IN_AN_IDIOM`], [`DODGES`], [`SAY_NOTHING`]), each marked in the returned
/// vector (one flag a word of the reply); none where the reply is a condition ([`CONDITION`]).
/// `opening`: the reply's opening word ([`opening_word`]), where an idiom written with `^`
/// must start.
fn idiom_words(
    words: &[WordAt<'_>],
    (from, to): (usize, usize),
    opening: usize,
    class: &[&str],
) -> Vec<bool> {
    let mut said = vec![false; to - from];
    // Each sub-word with its word, and whether it is its word's last.
    let subs: Vec<(usize, String, bool)> = (from..to)
        .flat_map(|i| {
            let p = parts(words[i].text);
            let n = p.len();
            p.into_iter()
                .enumerate()
                .map(move |(k, p)| (i, p, k + 1 == n))
        })
        .collect();
    if subs.iter().any(|(_, p, _)| CONDITION.contains(&p.as_str())) {
        return said;
    }
    let ends_a_clause = |i: usize| i + 1 == to || words[i].text.trim().ends_with(CLAUSE_ENDS);
    for idiom in class {
        let at_opening = idiom.starts_with('^');
        let at_end = idiom.ends_with('$');
        let want: Vec<&str> = idiom.trim_matches(['^', '$']).split(' ').collect();
        for s in 0..subs.len() {
            let Some(seen) = subs.get(s..s + want.len()) else {
                break;
            };
            if seen.iter().zip(&want).any(|((_, p, _), w)| p != w) {
                continue;
            }
            let (first, last) = (seen[0].0, seen[want.len() - 1].0);
            let starts_its_word = s == 0 || subs[s - 1].0 != first;
            if at_opening && !(first == opening && starts_its_word) {
                continue;
            }
            if at_end && !(seen[want.len() - 1].2 && ends_a_clause(last)) {
                continue;
            }
            for flag in &mut said[first - from..=last - from] {
                *flag = true;
            }
        }
    }
    said
}

/// Words that, after "trop" or "too", say the offer costs more than the customer will pay
/// ("c'est beaucoup trop cher pour moi", "that's too much for me", "far too expensive").
const DEAR: &[&str] = &[
    "cher",
    "chère",
    "chers",
    "chères",
    "coûteux",
    "coûteuse",
    "onéreux",
    "expensive",
    "much",
    "dear",
    "pricey",
    "steep",
];

/// Whether a reply, as its sub-words `all`, says the offer is too dear: "trop" or "too" with
/// a word of [`DEAR`] right after it, or one word between ("trop cher", "too much", "too
/// expensive"; not "un peu cher", a doubt, nor "so much" of "thank you so much").
fn too_dear(all: &[String]) -> bool {
    all.iter().enumerate().any(|(i, p)| {
        matches!(p.as_str(), "trop" | "too")
            && all[i + 1..(i + 3).min(all.len())]
                .iter()
                .any(|n| DEAR.contains(&n.as_str()))
    })
}

/// Words that, said with a "no", make it a doubt rather than a refusal ("I don't know", "je
/// ne suis pas sûr").
const UNSURE: &[&str] = &[
    "sais", "sait", "sûr", "sûre", "certain", "certaine", "know", "sure",
];

/// Words that make what follows them a reservation ("oui, mais…").
const BUT: &[&str] = &[
    "mais",
    "cependant",
    "pourtant",
    "sauf",
    "but",
    "however",
    "though",
    "although",
    "except",
];

/// Words that take the offer, said after a yes ("je le prends", "allez-y", "envoyez-moi le
/// contrat", "let's do it", "put me down for it", "that works for me").
const TAKE: &[&str] = &[
    // French
    "prends",
    "prend",
    "prendre",
    "veux",
    "voudrais",
    "allez",
    "allons",
    "va",
    "fait",
    "faites",
    "faisons",
    "marche",
    "convient",
    "envoyez",
    "envoyer",
    "inscrivez",
    "inscrire",
    "signe",
    "signer",
    "signerai",
    "souscris",
    "souscrire",
    "valide",
    "validez",
    "lancez",
    "partant",
    "partante",
    "preneur",
    "preneuse",
    "accepte",
    "aller",
    // English
    "take",
    "go",
    "let",
    "do",
    "sign",
    "put",
    "want",
    "like",
    "love",
    "works",
    "suits",
    "send",
    "set",
    "book",
    "switch",
    "join",
    "proceed",
    "deal",
    "happy",
    "accept",
];

/// Words that say nothing of what was decided: pronouns, articles, auxiliaries, politeness,
/// closings and the words that open a turn ("bon", "well").
const FILLER: &[&str] = &[
    // French
    "je",
    "j",
    "me",
    "m",
    "moi",
    "vous",
    "tu",
    "te",
    "t",
    "on",
    "nous",
    "ça",
    "ca",
    "c",
    "cela",
    "le",
    "la",
    "l",
    "les",
    "de",
    "du",
    "d",
    "des",
    "un",
    "une",
    "y",
    "en",
    "est",
    // "je suis partante", as "I am".
    "suis",
    "s",
    "il",
    "pour",
    "comme",
    "bien",
    "merci",
    // "Merci de votre temps", "je vous souhaite une bonne journée", "thank you for your
    // time": courtesies. Not "wish": "Yes, I wish I could" declines.
    "temps",
    "souhaite",
    "plaît",
    "plait",
    "bonjour",
    "bonsoir",
    "revoir",
    "au",
    "monsieur",
    "madame",
    "bon",
    "alors",
    "ben",
    "voilà",
    "voila",
    "eh",
    "contrat",
    "offre",
    "bonne",
    "journée",
    "soirée",
    "mon",
    "ma",
    "mes",
    "ton",
    "ta",
    "tes",
    "son",
    "sa",
    "ses",
    "votre",
    "vos",
    "notre",
    "nos",
    "pouvez",
    "peux",
    "peut",
    // English
    "i",
    "my",
    "you",
    "we",
    "us",
    "it",
    "that",
    "this",
    "the",
    "a",
    "an",
    "to",
    "for",
    "is",
    "am",
    "are",
    "be",
    "been",
    "ll",
    "ve",
    "re",
    "will",
    "would",
    "then",
    "so",
    "well",
    "please",
    "thanks",
    "thank",
    "time",
    "hello",
    "hi",
    "goodbye",
    "bye",
    "sir",
    "madam",
    "down",
    "up",
    "with",
    "ahead",
    "very",
    "much",
    "have",
    "nice",
    "good",
    "day",
    "morning",
    "afternoon",
    "evening",
    "your",
    "our",
    "his",
    "her",
    "their",
    "can",
    "could",
    // "Put me down for one", "I'll take one".
    "one",
];

/// A word's sub-words, lower case, for the classes above: "allez-y" is "allez" and "y",
/// "j'accepte" is "j" and "accepte", "let's" is "let" and "s".
fn parts(word: &str) -> Vec<String> {
    bare(word)
        .replace('’', "'")
        .split(['\'', '-'])
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// How many words from word `i` of `words[..to]` (one to three) say a yes
/// ([`crate::AFFIRMATIVE`]: "oui", "très bien", "tout à fait"), if they do.
fn yes_at(words: &[WordAt<'_>], i: usize, to: usize) -> Option<usize> {
    affirmative(&words[i..to])
}

/// Whether a clause of `words[from..to]` opens with a yes ([`crate::AFFIRMATIVE`]), the reply's
/// first or one after a mark ("Non… enfin si, d'accord", "Je ne sais pas, bon, d'accord"): a
/// yes inside a clause says something else ("I'm not really sure", "No, I'm fine with what I
/// have").
pub(crate) fn a_clause_opens_with_yes(words: &[WordAt<'_>], (from, to): (usize, usize)) -> bool {
    (from..to).any(|i| {
        let opens = i == from
            || words[i - 1]
                .text
                .trim()
                .ends_with([',', '.', '!', '?', '…', ';']);
        opens && yes_at(words, i, to).is_some()
    })
}

/// The customer's replies among `words` (their stream, in order): the words between two
/// things the agent said (`agent`, the agent's words in order), as index ranges `[from, to)`.
pub(crate) fn replies(words: &[WordAt<'_>], agent: &[WordAt<'_>]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    for i in 1..=words.len() {
        let split = i == words.len()
            || agent
                .iter()
                .any(|a| a.start_ms >= words[i - 1].end_ms && a.start_ms < words[i].start_ms);
        if split {
            out.push((from, i));
            from = i;
        }
    }
    out
}

/// Whether what the agent said last before `at_ms` ends with a question ("Shall I set that
/// up for you today?").
pub(crate) fn asked(agent: &[WordAt<'_>], at_ms: u64) -> bool {
    agent
        .iter()
        .rev()
        .find(|a| a.start_ms < at_ms)
        .is_some_and(|a| a.text.trim().ends_with('?'))
}

/// Whether the reply `words[from..to]` says anything beyond politeness and closings ("Au
/// revoir", "Merci"): a reply that does is what the customer decided.
pub(crate) fn says_something(words: &[WordAt<'_>], (from, to): (usize, usize)) -> bool {
    words[from..to]
        .iter()
        .flat_map(|w| parts(w.text))
        .any(|p| !FILLER.contains(&p.as_str()) && !HESITATION.contains(&p.as_str()))
        // "I'm good, thanks": words that say nothing, save together.
        || idiom_words(
            words,
            (from, to),
            opening_word(words, (from, to)),
            DECLINES_IN_AN_IDIOM,
        )
        .contains(&true)
}

/// Whether the agent, answering a customer who declined (`words[from..to]`, the agent's words
/// until the customer speaks again), opens with a yes and goes on past the courtesies ("Great,
/// I've signed you up then", where "Très bien, au revoir madame" takes leave and "Entendu, je
/// vous rappelle mardi" offers the time asked for): a sale may have been recorded in words no
/// rule set holds. An opening word heard with doubt may be that yes garbled ("So it's through
/// it, I've signed you up then", "So" at 0.14 and "through" at 0.08, for "Great, I've signed
/// you up then").
pub(crate) fn carries_on(words: &[WordAt<'_>], (from, to): (usize, usize)) -> bool {
    let k = opening_word(words, (from, to));
    if k == to {
        return false;
    }
    let yes = yes_at(words, k, to);
    let doubtful = |i: usize| words[i].prob < Segment::DOUBTFUL_WORD_BELOW;
    let n = match yes {
        Some(n) => n,
        // The opening word itself may be the yes; or one of the words before it.
        None if doubtful(k) => 1,
        None if (from..k).any(doubtful) => 0,
        None => return false,
    };
    // "Entendu, je vous rappelle mardi" takes the decision put off as it was said; "Certainly,
    // I'll remove your number today" and "Entendu, je vous envoie notre brochure" answer the
    // refusal with what it asked for ([`RECORDS_NO_SALE`]).
    says_something(words, (k + n, to))
        && !offers_time(&words[k + n..to])
        && !any_word_of(&words[k + n..to], RECORDS_NO_SALE)
}

/// The first word of `words[from..to]` past those that say nothing ("Bon,", "Well,", "Euh"),
/// or `to`. A yes that opens with such a word is a yes all the same: the "Ça" of "Ça marche,
/// on fait comme ça" opens the reply, it is not skipped.
fn opening_word(words: &[WordAt<'_>], (from, to): (usize, usize)) -> usize {
    (from..to)
        .find(|&k| {
            yes_at(words, k, to).is_some()
                || !(parts(words[k].text)
                    .iter()
                    .all(|p| FILLER.contains(&p.as_str()) || HESITATION.contains(&p.as_str()))
                    || k == from && opens_a_turn(words[k].text))
        })
        .unwrap_or(to)
}

/// Words that take leave ("au revoir", "goodbye").
const FAREWELL: &[&str] = &["revoir", "adieu", "bientôt", "goodbye", "bye"];

/// Whether the reply `words[from..to]` takes leave ("Entendu, au revoir"): it closes the
/// call, it does not answer the offer.
pub(crate) fn takes_leave(words: &[WordAt<'_>], (from, to): (usize, usize)) -> bool {
    any_word_of(&words[from..to], FAREWELL)
}

/// Whether any of `words` (any sub-word of it) is one of `class`.
fn any_word_of<'w, 'a: 'w>(
    words: impl IntoIterator<Item = &'w WordAt<'a>>,
    class: &[&str],
) -> bool {
    words
        .into_iter()
        .flat_map(|w| parts(w.text))
        .any(|p| class.contains(&p.as_str()))
}

/// Words by which an agent offers the customer time or a later call ("je vous laisse
/// réfléchir", "je vous rappelle demain", "I'll call you back later"): of [`PUT_OFF`], those an
/// agent says to put the decision off, not "attendre" or "wait", which an agent also says to
/// hurry one ("inutile d'attendre").
const OFFERS_TIME: &[&str] = &[
    "réfléchir",
    "réfléchissez",
    "réflexion",
    "rappeler",
    "rappelle",
    "rappellerai",
    "rappellerons",
    // "Je vous laisse en discuter", "I'll let you talk it over".
    "discuter",
    "parler",
    "think",
    "later",
    "talk",
    "discuss",
];

/// Whether the agent's `words` offer the customer time or a later call ([`OFFERS_TIME`]).
pub(crate) fn offers_time<'w, 'a: 'w>(words: impl IntoIterator<Item = &'w WordAt<'a>>) -> bool {
    any_word_of(words, OFFERS_TIME)
}

/// Whether a word says nothing of what was decided ([`FILLER`], hesitations).
pub(crate) fn says_nothing(word: &str) -> bool {
    let p = parts(word);
    !p.is_empty()
        && p.iter()
            .all(|p| FILLER.contains(&p.as_str()) || HESITATION.contains(&p.as_str()))
}

/// Words no sentence ends on (conjunctions, "the", "my"): a reply whose last word is one was
/// cut off, or its end misheard ("No need, I accept" came out "No need except.", heard with
/// confidence): what it says is for a person. Not words that may end one in a language
/// ("si" of "mais si", "ou" read for "où", "car" in English, "un" of "j'en prends un").
const NEVER_LAST: &[&str] = &[
    "but", "mais", "except", "sauf", "and", "or", "if", "et", "because", "parce", "the", "an",
    "my", "your", "mon", "ma", "votre",
];

/// What the reply `words[from..to]` says; `asked`: it answers a question of the agent's.
pub(crate) fn read(words: &[WordAt<'_>], (from, to): (usize, usize), asked: bool) -> Reply {
    let reply = &words[from..to];
    let doubtful: Vec<&WordAt<'_>> = reply
        .iter()
        .filter(|w| w.prob < Segment::DOUBTFUL_WORD_BELOW)
        .collect();
    // A word heard with doubt may be anything, a "pas" or a "mais", unless what was heard is
    // a word that says nothing ("au" of "au revoir" at 0.19, "mon" of "à mon mari" at 0.18):
    // such a word leaves a refusal or a decision put off as plain as it was, never a yes ("je
    // [ne] le prends [pas]").
    if reply.is_empty() || doubtful.iter().any(|w| !says_nothing(w.text)) {
        return Reply::Unclear;
    }
    if reply
        .last()
        .is_some_and(|w| NEVER_LAST.contains(&bare(w.text).as_str()))
    {
        return Reply::Unclear;
    }
    match read_heard(words, (from, to), asked) {
        Reply::Agrees | Reply::Acknowledges if !doubtful.is_empty() => Reply::Unclear,
        Reply::Unclear if doubtful.is_empty() && ends_taking_it(words, (from, to), asked) => {
            Reply::Agrees
        }
        kind => kind,
    }
}

/// Whether a reply that says other things first ends on taking the offer: its last clauses,
/// read alone, agree and hold a word that takes it ("allez, je prends", "so yes please",
/// "go on"), and the words before them neither say no, nor put the decision off, nor doubt,
/// object, ask, set a condition or decline ("Une seconde, ma fille est là. Ma fille me dit
/// que c'est bien, allez, je prends"; "Hold on, my son's here. He says it's a good deal, so
/// yes please"). A customer often speaks of something else, or of whoever they asked, before
/// they decide; read whole, such a reply was for a person, its other words being of no class.
/// A bare yes at the end ("I'm at work right now, okay.") takes nothing: it may answer the
/// words before it.
fn ends_taking_it(words: &[WordAt<'_>], (from, to): (usize, usize), asked: bool) -> bool {
    let before_says_nothing_against = |c: usize| {
        let all: Vec<String> = words[from..c].iter().flat_map(|w| parts(w.text)).collect();
        let has = |class: &[&str]| all.iter().any(|p| class.contains(&p.as_str()));
        let idiom = |class: &[&str]| idiom_words(words, (from, c), from, class).contains(&true);
        !(from..c).any(|i| says_no_at(words, i))
            && ![PUT_OFF, BUT, UNSURE, CONDITION, DECLINE]
                .into_iter()
                .any(has)
            && !words[from..c].iter().any(|w| w.text.trim().ends_with('?'))
            && !too_dear(&all)
            && !idiom(DODGES)
            && !idiom(DECLINES_IN_AN_IDIOM)
    };
    let takes_it = |c: usize| {
        let all: Vec<String> = words[c..to].iter().flat_map(|w| parts(w.text)).collect();
        all.iter()
            .any(|p| TAKE.contains(&p.as_str()) || matches!(p.as_str(), "please" | "plaît"))
            || idiom_words(
                words,
                (c, to),
                opening_word(words, (c, to)),
                TAKES_IN_AN_IDIOM,
            )
            .contains(&true)
    };
    (from + 1..to)
        .filter(|&c| words[c - 1].text.trim().ends_with(CLAUSE_ENDS))
        .any(|c| {
            before_says_nothing_against(c)
                && takes_it(c)
                && read_heard(words, (c, to), asked) == Reply::Agrees
        })
}

/// [`read`], every word that decides it heard with confidence.
fn read_heard(words: &[WordAt<'_>], (from, to): (usize, usize), asked: bool) -> Reply {
    let reply = &words[from..to];
    // Where the reply opens, past "bon", "well", "euh": a yes, if it is one.
    let k = opening_word(words, (from, to));
    let opening = (k < to).then(|| yes_at(words, k, to)).flatten();
    let all: Vec<String> = reply.iter().flat_map(|w| parts(w.text)).collect();
    let has = |class: &[&str]| all.iter().any(|p| class.contains(&p.as_str()));
    let no_at = |i: usize| says_no_at(words, i) && !hypothetical(words, i, i);
    // The words of idioms: of assent, of refusal, of a dodge, and those that say nothing.
    let taken_in_idiom = idiom_words(words, (from, to), k, TAKES_IN_AN_IDIOM);
    let idiom_takes = taken_in_idiom.contains(&true);
    let says_nothing_in_idiom = idiom_words(words, (from, to), k, SAY_NOTHING);
    // A word of [`TAKE`] outside the words `except` flags.
    let take_outside = |except: &[bool]| {
        (from..to).any(|i| {
            !except[i - from]
                && parts(words[i].text)
                    .iter()
                    .any(|p| TAKE.contains(&p.as_str()))
        })
    };
    if (from..to).any(no_at) {
        // A "no" declines unless the reply also opens with a yes, is unsure ("I don't know",
        // "je ne sais pas trop": a doubt, not a refusal, and not an assent) or takes the offer
        // in a word no "no" is next to ("ce n'est pas cher, je le prends"; in "je ne veux pas"
        // the "no" is).
        // Any word that may take it counts, not only those that take it alone: "Non, pas de
        // souci, envoyez-le-moi" is for a person, not a refusal; so is "we had new windows
        // put in, so we don't need them".
        // "Take me off your list" takes the customer off, not the offer.
        let off = |i: usize| {
            words[i + 1..(i + 3).min(to)]
                .iter()
                .any(|w| parts(w.text).iter().any(|p| p == "off"))
        };
        let takes = (from..to).any(|i| {
            (taken_in_idiom[i - from]
                || parts(words[i].text)
                    .iter()
                    .any(|p| TAKE.contains(&p.as_str())))
                && !off(i)
                && !(i.saturating_sub(2).max(from)..(i + 3).min(to)).any(no_at)
        });
        return if opening.is_some() || takes {
            Reply::Unclear
        } else if has(UNSURE) && !a_clause_opens_with_yes(words, (from, to)) {
            // "Je ne sais pas… bon, d'accord" ends on a yes: unclear, not unsure.
            Reply::Unsure
        } else if has(UNSURE) {
            Reply::Unclear
        } else {
            Reply::Declines
        };
    }
    // Before the question: "Could you call me back next week?" puts off too.
    if has(PUT_OFF) {
        return Reply::PutsOff;
    }
    // A refusal in a word that needs no "no"; after a yes ("Yes, but I'll pass on the
    // extras") it is for a person.
    // Or in an idiom ("Sans façon, merci", "I'll give it a miss"), with no word that may
    // take the offer beside it.
    let declined = idiom_words(words, (from, to), k, DECLINES_IN_AN_IDIOM);
    let declined_in_idiom = declined.contains(&true) && !idiom_takes && !take_outside(&declined);
    if declines(words, (from, to)) || declined_in_idiom {
        return if opening.is_some() {
            Reply::Unclear
        } else {
            Reply::Declines
        };
    }
    if reply.iter().any(|w| w.text.trim().ends_with('?')) {
        return Reply::Unclear;
    }
    if has(BUT) {
        return Reply::Unclear;
    }
    // "C'est beaucoup trop cher pour moi, merci", "That's too much for me": a refusal said by
    // its reason, with no "no". With a yes or a word that may take the offer ("Trop cher…
    // bon, allez, je prends", "too expensive, I'd like something cheaper") it is for a person.
    if too_dear(&all) {
        return if opening.is_some() || has(TAKE) {
            Reply::Unclear
        } else {
            Reply::Declines
        };
    }
    // A dodge ("Peut-être, on verra", "Maybe, we'll see"), with no yes and nothing that may
    // take the offer: neither an assent nor a refusal.
    let dodged = idiom_words(words, (from, to), k, DODGES);
    if dodged.contains(&true)
        && !idiom_takes
        && !take_outside(&dodged)
        && !(from..to).any(|i| yes_at(words, i, to).is_some())
    {
        return Reply::Unsure;
    }
    // What the reply says past its yes and the words that say nothing; a yes said later
    // ("Go on then, yes", "Allez, c'est bon pour moi") is one all the same, a second yes
    // ("Oui, d'accord") no more than the first.
    let mut yes = opening.is_some();
    let mut rest: Vec<String> = Vec::new();
    let mut i = k + opening.unwrap_or(0);
    while i < to {
        if let Some(m) = yes_at(words, i, to) {
            yes = true;
            i += m;
            continue;
        }
        // An idiom of assent is one all the same; words that say nothing, nothing.
        if taken_in_idiom[i - from] || says_nothing_in_idiom[i - from] {
            i += 1;
            continue;
        }
        // A "no" left here waves an objection away ("pas de souci"; a "no" that says no was
        // read above), and says nothing of what was decided.
        rest.extend(parts(words[i].text).into_iter().filter(|p| {
            !FILLER.contains(&p.as_str())
                && !HESITATION.contains(&p.as_str())
                && !NO_OBJECTION.contains(&p.as_str())
                && !crate::negative(p)
        }));
        i += 1;
    }
    if rest.is_empty() {
        return if asked && yes || idiom_takes {
            Reply::Agrees
        } else {
            Reply::Unclear
        };
    }
    // Every word left acknowledges, or every word takes the offer: a word of neither ("Yes,
    // I've read the switch to the new terrace", heard with confidence for "Yes, I agree to
    // switch") leaves the reply unclear.
    let take_or_like = |p: &String| TAKE.contains(&p.as_str()) || LIKING.contains(&p.as_str());
    // An idiom of assent, and every other word takes the offer or likes it ("Vendu, je
    // prends", "Sounds like a plan, let's go for it").
    if idiom_takes && rest.iter().all(take_or_like) {
        return Reply::Agrees;
    }
    if yes && rest.iter().all(|p| ACKNOWLEDGE.contains(&p.as_str())) {
        return Reply::Acknowledges;
    }
    // Or every word takes the offer, some perhaps only saying it is liked ("Oui, c'est
    // intéressant, je prends"): liking alone takes nothing. Without a yes, only an answer
    // to the offer whose words take it on their own ("Ça me convient, on peut y aller",
    // "I'll take it"), not those that also say other things ("ça va", "I have to go").
    let takes = rest.iter().any(|p| TAKE.contains(&p.as_str())) && rest.iter().all(take_or_like);
    let takes_alone =
        asked && (rest.iter().any(|p| TAKES_ALONE.contains(&p.as_str())) || goes_there(&all));
    if takes && (yes || takes_alone) {
        return Reply::Agrees;
    }
    Reply::Unclear
}

/// Of [`TAKE`], the words that take the offer with no yes to open the reply ("je prends",
/// "ça me convient", "I'll take it", "I'll sign"): verbs that say nothing else than taking
/// it, where "ça va", "allez", "I have to go", "let me see" say other things.
const TAKES_ALONE: &[&str] = &[
    // French
    "prends",
    "prendre",
    "souscris",
    "souscrire",
    "signe",
    "signer",
    "signerai",
    "inscrivez",
    "inscrire",
    "valide",
    "validez",
    "accepte",
    "convient",
    "partant",
    "partante",
    "preneur",
    "preneuse",
    // English
    "take",
    "sign",
    "accept",
    "join",
    "proceed",
];

/// Forms of "aller" that, with "y" next to them, say "let's go ahead" ("on y va", "allons-y",
/// "allez-y", "on peut y aller").
const GO: &[&str] = &["va", "vais", "allons", "allez", "aller", "vas"];

/// Whether the sub-words `all` hold "y" next to a form of "aller" ([`GO`]), or "go ahead".
fn goes_there(all: &[String]) -> bool {
    all.windows(2)
        .any(|w| match (w[0].as_str(), w[1].as_str()) {
            ("y", g) | (g, "y") => GO.contains(&g),
            ("go", "ahead") => true,
            _ => false,
        })
}

/// Words that open a turn without answering anything, followed by a comma ("Écoutez, ça
/// me convient", "Look, I'm not interested", "Right, go ahead"), lower case.
const OPENS_A_TURN: &[&str] = &["écoutez", "tenez", "dites", "look", "listen", "right"];

/// Whether `word` is one of [`OPENS_A_TURN`] with its comma.
fn opens_a_turn(word: &str) -> bool {
    word.trim().ends_with(',') && OPENS_A_TURN.contains(&bare(word).as_str())
}

/// Words that say the offer is liked without taking it ("c'est intéressant", "sounds
/// reasonable"), lower case, without their punctuation; the yes of [`crate::AFFIRMATIVE`]
/// ("super", "great", "lovely") is read before them.
const LIKING: &[&str] = &[
    // French
    "intéressant",
    "intéressante",
    "raisonnable",
    "correct",
    "honnête",
    "sympa",
    "chouette",
    "top",
    // English
    "interesting",
    "reasonable",
    "fair",
    "nice",
    "good",
    "sounds",
];

/// Words by which an agent records a sale, said after a subject in the first person ("je
/// valide votre commande", "je vous inscris", "j'enregistre votre abonnement", "I've
/// registered your order", "I'll book that in", "we've enrolled you"): the closed class of
/// the language's verbs of recording an order, where no rule set's phrasing is. Verbs that
/// record a sale only with a particle ("sign up", "set up", "put through") are
/// [`RECORDS_WITH`].
const RECORDS: &[&str] = &[
    // French
    "valide",
    "validé",
    "validée",
    "validons",
    "enregistre",
    "enregistré",
    "enregistrée",
    "enregistrons",
    "inscris",
    "inscrit",
    "inscrite",
    "inscrivons",
    "abonne",
    "abonné",
    "abonnée",
    "souscris",
    "souscrit",
    "active",
    "activé",
    "activée",
    "lance",
    "lancé",
    "lancée",
    // English
    "register",
    "registered",
    "book",
    "booked",
    "process",
    "processed",
    "enrol",
    "enroll",
    "enrolled",
    "activate",
    "activated",
    "ordered",
    "placed",
    "started",
    "sorted",
    "switched",
];

/// Verbs that record a sale with the particle or the order after them, up to
/// [`PARTICLE_WITHIN`] sub-words on ("I'll sign you up", "I've set your account up", "I'll put that through", "je vous mets
/// tout en place"; "I'll confirm the order", "je transmets votre commande"). Confirming or
/// passing on is a sale recorded only when what is confirmed or passed on is the order: "je
/// vous confirme que vous avez quatorze jours" records nothing.
const RECORDS_WITH: &[(&str, &str)] = &[
    ("sign", "up"),
    ("signed", "up"),
    ("set", "up"),
    ("put", "through"),
    ("lock", "in"),
    ("locked", "in"),
    ("confirm", "order"),
    ("confirmed", "order"),
    ("confirm", "booking"),
    ("confirmed", "booking"),
    ("confirm", "subscription"),
    ("confirmed", "subscription"),
    ("mets", "place"),
    ("mis", "place"),
    ("confirme", "commande"),
    ("confirmé", "commande"),
    ("confirme", "abonnement"),
    ("confirmé", "abonnement"),
    ("confirme", "souscription"),
    ("confirmé", "souscription"),
    ("transmets", "commande"),
    ("transmis", "commande"),
    ("passe", "commande"),
    ("passé", "commande"),
];

/// Sub-words from a verb of [`RECORDS_WITH`] to its particle or order at most: "je vous mets
/// tout ça en place" ("tout", "ça", "en", "place"), "I've set your new account up".
const PARTICLE_WITHIN: usize = 4;

/// Subjects in the first person: the agent speaking of what they do ("je", "j'", "I", "we",
/// "nous"). Not "on", which English says as a preposition.
const FIRST_PERSON: &[&str] = &["je", "j", "i", "we", "nous"];

/// Words that make a recording statement about something else than a sale: a call back, a
/// brochure, a list to be taken off, a request ("je vous inscris sur notre liste
/// d'opposition", "I'll book you a call back", "j'enregistre votre demande").
const RECORDS_NO_SALE: &[&str] = &[
    // French
    "rappel",
    "rappeler",
    "rappelle",
    "appel",
    "brochure",
    "documentation",
    "information",
    "informations",
    "liste",
    "opposition",
    "bloctel",
    "demande",
    "rendez",
    "supprime",
    "retire",
    // English ("brochure", "information" as in French)
    "call",
    "info",
    "details",
    "list",
    "request",
    "appointment",
    "remove",
    "removed",
    "delete",
    "deleted",
];

/// Whether the agent's `words` are about something else than a sale: a time or a later call
/// offered ([`OFFERS_TIME`]), or a call back, a brochure, a list, a request
/// ([`RECORDS_NO_SALE`]).
pub(crate) fn about_something_else(words: &[WordAt<'_>]) -> bool {
    any_word_of(words, OFFERS_TIME) || any_word_of(words, RECORDS_NO_SALE)
}

/// Sub-words from a recording verb back to its subject at most: "I'll get you registered"
/// ("i", "ll", "get", "you", "registered").
const SUBJECT_WITHIN: usize = 4;

/// Where the agent's words `words[from..to]` record a sale in their own words: a sentence
/// with a subject in the first person ([`FIRST_PERSON`]) and, at most [`SUBJECT_WITHIN`]
/// sub-words on, a verb that records an order ([`RECORDS`], [`RECORDS_WITH`]); every word from
/// the subject to the verb heard with confidence; not a question or a condition, not saying
/// no, and about nothing but the sale ([`RECORDS_NO_SALE`], or a time or a later call offered,
/// [`OFFERS_TIME`]). Returns the sentence's first word and the verb's word.
pub(crate) fn records_sale(
    words: &[WordAt<'_>],
    (from, to): (usize, usize),
) -> Option<(usize, usize)> {
    let mut start = from;
    while start < to {
        let end = (start..to)
            .find(|&i| words[i].text.trim().ends_with(crate::SENTENCE_ENDS))
            .map_or(to, |i| i + 1);
        if let Some(verb) = records_in_sentence(words, (start, end)) {
            return Some((start, verb));
        }
        start = end;
    }
    None
}

/// [`records_sale`] over one sentence `words[from..to]`: the verb's word, if it records one.
fn records_in_sentence(words: &[WordAt<'_>], (from, to): (usize, usize)) -> Option<usize> {
    let sentence = &words[from..to];
    let question = sentence
        .last()
        .is_some_and(|w| w.text.trim().ends_with('?'));
    let conditional = any_word_of(sentence, &["si", "if", "when", "once", "quand", "lorsque"]);
    let says_no = (from..to).any(|i| says_no_at(words, i));
    // The agent's words for time offered, not the customer's for putting off: "back" of "call
    // me back" is also "I'll book it back in", and "call" is in [`RECORDS_NO_SALE`].
    let elsewhere = about_something_else(sentence);
    if question || conditional || says_no || elsewhere {
        return None;
    }
    // Each sub-word with the word it is part of.
    let subs: Vec<(usize, String)> = (from..to)
        .flat_map(|i| parts(words[i].text).into_iter().map(move |p| (i, p)))
        .collect();
    for (k, (i, p)) in subs.iter().enumerate() {
        let alone = RECORDS.contains(&p.as_str());
        let with = RECORDS_WITH.iter().any(|(verb, particle)| {
            verb == p
                && subs[k + 1..]
                    .iter()
                    .take(PARTICLE_WITHIN)
                    .any(|(_, n)| n == particle)
        });
        if !(alone || with) {
            continue;
        }
        let Some(subject) = subs[k.saturating_sub(SUBJECT_WITHIN)..k]
            .iter()
            .rev()
            .find(|(_, s)| FIRST_PERSON.contains(&s.as_str()))
            .map(|(j, _)| *j)
        else {
            continue;
        };
        if (subject..=*i).all(|j| words[j].prob >= Segment::DOUBTFUL_WORD_BELOW) {
            return Some(*i);
        }
    }
    None
}
