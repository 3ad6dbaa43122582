//! Rule evaluation on hand-made transcripts: each outcome, and the evidence it carries.

use super::*;
use callproof_models::{Segment, Word};
use chrono::DateTime;

/// A transcript from (speaker, start ms, text) turns; each word lasts 300 ms.
pub(crate) fn transcript(turns: &[(Speaker, u64, &str)]) -> Transcript {
    let segments = turns
        .iter()
        .map(|(speaker, start, text)| {
            let mut t = *start;
            let words: Vec<Word> = text
                .split_whitespace()
                .map(|w| {
                    t += 300;
                    Word {
                        text: format!(" {w}"),
                        start_ms: t - 300,
                        end_ms: t,
                        probability: 0.9,
                    }
                })
                .collect();
            Segment {
                speaker: *speaker,
                channel: if *speaker == Speaker::Customer { 1 } else { 0 },
                start_ms: *start,
                end_ms: t,
                text: text.to_string(),
                avg_logprob: -0.2,
                no_speech_prob: 0.0,
                words,
                attribution: Default::default(),
                second_listen: false,
                heard_first: None,
                disputed: false,
            }
        })
        .collect();
    Transcript {
        near_readings: Vec::new(),
        call_id: CallId::new(),
        model: "test".into(),
        model_sha256: "0".into(),
        language: "fr".into(),
        segments,
    }
}

pub(crate) fn meta(started: &str) -> CallMetadata {
    CallMetadata {
        client: "acme".into(),
        started_at: Some(DateTime::parse_from_rfc3339(started).unwrap()),
        ..Default::default()
    }
}

pub(crate) fn run(book: &RuleBook, t: &Transcript, m: &CallMetadata) -> Verification {
    let r = RuleSetRef {
        id: "test".into(),
        version: 1,
        sha256: book.sha256.clone(),
        builtin: false,
    };
    verify(
        book,
        &r,
        t,
        &CallFacts {
            call_id: t.call_id,
            metadata: m,
            duration_ms: Some(60_000),
        },
    )
}

pub(crate) fn finding<'a>(v: &'a Verification, id: &str) -> &'a Finding {
    v.findings
        .iter()
        .find(|f| f.rule_id == id)
        .unwrap_or_else(|| panic!("no finding {id}"))
}

use Speaker::{Agent as A, Customer as C};

const OPENING: &str = "Bonjour madame, Julie Martin de la société Isosell, je vous appelle de la part d'Électricité du Centre pour une offre commerciale.";
const BLOCTEL: &str = "Vous pouvez vous inscrire sur la liste d'opposition au démarchage Bloctel.";
const OFFER: &str = "Notre offre coûte trente-neuf euros par mois.";
const WITHDRAWAL: &str = "Vous disposez d'un délai de rétractation de quatorze jours.";
const WRITTEN: &str =
    "Vous recevrez l'offre par courrier et vous ne serez engagée qu'après l'avoir signée.";

pub(crate) fn compliant() -> Vec<(Speaker, u64, &'static str)> {
    vec![
        (A, 0, OPENING),
        (C, 8_000, "Bonjour, je vous écoute."),
        (A, 10_000, BLOCTEL),
        (A, 15_000, OFFER),
        (A, 19_000, WITHDRAWAL),
        (A, 23_000, WRITTEN),
        (A, 30_000, "Acceptez-vous cette offre ?"),
        (C, 32_000, "Oui, je confirme mon accord."),
    ]
}

#[test]
fn compliant_call_keeps_its_evidence() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let v = run(
        &book,
        &transcript(&compliant()),
        &meta("2026-03-03T10:30:00+01:00"),
    );
    for f in &v.findings {
        assert_eq!(f.status, FindingStatus::Pass, "{f:?}");
    }
    assert_eq!(v.verdict, Verdict::Compliant);
    let c = finding(&v, "consent");
    assert_eq!(c.speaker, Some(C));
    // The evidence is the matched words ("Oui," is not part of the phrasing).
    assert_eq!(c.start_ms, Some(32_300));
    assert_eq!(c.matched.as_deref(), Some("je confirme mon accord."));
    assert_eq!(c.score, Some(1.0));
    let w = finding(&v, "withdrawal_14d");
    // From "délai", the phrasing's optional first word.
    assert_eq!((w.speaker, w.start_ms), (Some(A), Some(19_000 + 3 * 300)));
    assert!(w.matched.as_deref().unwrap().contains("quatorze"));
}

/// "Julie Martin de chez Isosell": the company after the seller's name, as "de la société".
#[test]
fn the_company_after_the_name_identifies_the_seller() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let mut turns = compliant();
    turns[0] = (
        A,
        0,
        "Bonjour madame, Julie Martin de chez Isosell, je vous appelle de la part d'Électricité du Centre pour une offre commerciale.",
    );
    let v = run(
        &book,
        &transcript(&turns),
        &meta("2026-03-03T10:30:00+01:00"),
    );
    assert_eq!(finding(&v, "identity").status, FindingStatus::Pass);
    assert_eq!(v.verdict, Verdict::Compliant);
}

#[test]
fn missing_items_forbidden_claims_and_order() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    // No withdrawal period, and a claim that the contract is final.
    let mut turns = compliant();
    turns.retain(|t| t.2 != WITHDRAWAL);
    turns.push((A, 40_000, "Le contrat est définitif, pas besoin de signer."));
    let v = run(&book, &transcript(&turns), &m);
    assert_eq!(finding(&v, "withdrawal_14d").outcome, Outcome::Missing);
    let f = finding(&v, "final_on_phone");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::ForbiddenSaid, FindingStatus::Fail)
    );
    assert_eq!(f.start_ms, Some(40_000));
    // The missing dependency is reported once: consent itself still counts.
    assert_eq!(finding(&v, "consent").outcome, Outcome::Met);
    assert_eq!(v.verdict, Verdict::Violation);

    // Assent before the price is not consent.
    let mut turns = compliant();
    turns.retain(|t| t.0 != C || !t.2.contains("accord"));
    turns.push((C, 12_500, "Oui j'accepte."));
    let v = run(&book, &transcript(&turns), &m);
    let f = finding(&v, "consent");
    assert_eq!(f.outcome, Outcome::OutOfWindow, "{f:?}");
    assert!(f.detail.contains("before price"), "{}", f.detail);

    // Bloctel said too late.
    let mut turns = compliant();
    turns.retain(|t| t.2 != BLOCTEL);
    turns.push((A, 100_000, BLOCTEL));
    let v = run(&book, &transcript(&turns), &m);
    assert_eq!(finding(&v, "bloctel").outcome, Outcome::OutOfWindow);
}

/// "le contrat est arrivé" is "le contrat est conclu" with its last word lost: the matcher
/// puts it in the doubtful band. Heard with confidence, it is not said; where the words there
/// are doubtful, or the turn ends after "est", a person listens.
#[test]
fn a_forbidden_phrase_heard_only_in_part_is_cleared_only_where_the_rest_was_heard_otherwise() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let said = "Le contrat est arrivé chez vous par courrier pour signature.";
    let mut turns = compliant();
    turns.push((A, 40_000, said));
    let t = transcript(&turns);
    let f = finding(&run(&book, &t, &m), "final_on_phone").clone();
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Met, FindingStatus::Pass),
        "{f:?}"
    );
    assert!(f.detail.contains("only part of"), "{}", f.detail);

    // The words after "est" garbled: they may be "conclu".
    let mut doubtful = t.clone();
    let last = doubtful.segments.len() - 1;
    for w in &mut doubtful.segments[last].words[3..5] {
        w.probability = 0.4;
    }
    let f = finding(&run(&book, &doubtful, &m), "final_on_phone").clone();
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::ForbiddenSaid, FindingStatus::Review),
        "{f:?}"
    );

    // The turn ends on "est": the recogniser may have dropped the rest.
    let mut turns = compliant();
    turns.push((A, 40_000, "Donc le contrat est"));
    let f = finding(&run(&book, &transcript(&turns), &m), "final_on_phone").clone();
    assert_eq!(f.status, FindingStatus::Review, "{f:?}");

    // Said in full, heard with confidence: forbidden.
    let mut turns = compliant();
    turns.push((A, 40_000, "Le contrat est conclu aujourd'hui."));
    let f = finding(&run(&book, &transcript(&turns), &m), "final_on_phone").clone();
    assert_eq!(f.status, FindingStatus::Fail, "{f:?}");
}

/// The French compliant call with the agent's `said` added at 40 s, verified with the French
/// pack.
fn french_with(said: &str) -> Verification {
    let mut turns = compliant();
    turns.push((A, 40_000, said));
    run(
        &RuleBook::pack("fr-demarchage").unwrap(),
        &transcript(&turns),
        &meta("2026-03-03T10:30:00+01:00"),
    )
}

/// The final_on_phone finding of the French compliant call with the agent's `said` added.
fn final_on_phone_after(said: &str) -> Finding {
    finding(&french_with(said), "final_on_phone").clone()
}

/// The no_pressure finding of the English sale with the agent's `said` added at 20 s.
fn no_pressure_after(said: &str) -> Finding {
    let mut t = english_sale();
    t.segments
        .push(transcript(&[(A, 20_000, said)]).segments[0].clone());
    let en = RuleBook::pack("en-sales").unwrap();
    finding(
        &run(&en, &t, &meta("2026-03-03T10:30:00+01:00")),
        "no_pressure",
    )
    .clone()
}

/// The no_pressure finding of the English sale with the agent's `said` added at 20 s, each word
/// of `doubtful` heard at its probability.
fn no_pressure_heard(said: &str, doubtful: &[(&str, f32)]) -> Finding {
    let mut t = english_sale();
    let mut s = transcript(&[(A, 20_000, said)]).segments[0].clone();
    for w in &mut s.words {
        if let Some(d) = doubtful.iter().find(|d| w.text.trim() == d.0) {
            w.probability = d.1;
        }
    }
    t.segments.push(s);
    let en = RuleBook::pack("en-sales").unwrap();
    finding(
        &run(&en, &t, &meta("2026-03-03T10:30:00+01:00")),
        "no_pressure",
    )
    .clone()
}

/// A forbidden statement whose every part but one was heard word for word, that one lost in a
/// word heard with doubt, may have been said: for a person to hear, never an accusation, and
/// never where the rest was heard with doubt too or the word was heard well enough.
#[test]
fn a_forbidden_statement_with_a_part_lost_in_doubt_is_for_review() {
    let said = "This prize is just for people who sign up during this call.";
    let f = no_pressure_heard(said, &[("prize", 0.29)]);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::ForbiddenSaid, FindingStatus::Review),
        "{f:?}"
    );
    // Heard with some confidence, the word is what was said: no statement.
    let f = no_pressure_heard(said, &[("prize", 0.45)]);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Met, FindingStatus::Pass),
        "{f:?}"
    );
    // Another part of it heard with doubt as well: too little was heard to hold it said.
    let f = no_pressure_heard(said, &[("prize", 0.29), ("call.", 0.4)]);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Met, FindingStatus::Pass),
        "{f:?}"
    );
    // Said and heard: the accusation.
    let f = no_pressure_heard(
        "This price is just for people who sign up during this call.",
        &[],
    );
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::ForbiddenSaid, FindingStatus::Fail),
        "{f:?}"
    );
}

/// What an honest agent says to take pressure off is the forbidden statement's words under a
/// "no": "You don't have to decide right now" holds "decide right now" word for word, "Rien
/// n'est définitif" "c'est définitif" but its first word. Neither is the statement; said
/// after a comma, a "no" denies nothing of it, and a phrasing that holds a "no" of its own
/// ("rien à signer") is the statement whatever came before.
#[test]
fn a_forbidden_statement_said_under_a_no_is_not_said() {
    for said in [
        "You don't have to decide right now, of course.",
        "There's no need to decide right now, take your time.",
        "You do not need to decide now.",
    ] {
        let f = no_pressure_after(said);
        assert_eq!(
            (f.outcome, f.status),
            (Outcome::Met, FindingStatus::Pass),
            "{said}: {f:?}"
        );
        assert!(f.detail.contains("denies"), "{said}: {}", f.detail);
    }
    // A phrasing cut short where the sentence was heard to end: "now", the word the statement
    // turns on, was never said.
    let f = no_pressure_after("Take all the time you need to decide.");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Met, FindingStatus::Pass),
        "{f:?}"
    );
    assert!(f.detail.contains("only part of"), "{}", f.detail);
    for said in [
        "You need to decide right now.",
        "Don't worry, you need to decide now and it's done.",
    ] {
        let f = no_pressure_after(said);
        assert_eq!(
            (f.outcome, f.status),
            (Outcome::ForbiddenSaid, FindingStatus::Fail),
            "{said}: {f:?}"
        );
    }

    let f = final_on_phone_after("Rien n'est définitif tant que vous n'avez pas signé le contrat.");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Met, FindingStatus::Pass),
        "{f:?}"
    );
    for said in [
        "Ne vous inquiétez pas, c'est définitif.",
        "Vous n'aurez rien à signer.",
        "Il n'y a pas besoin de signer.",
    ] {
        let f = final_on_phone_after(said);
        assert_eq!(
            (f.outcome, f.status),
            (Outcome::ForbiddenSaid, FindingStatus::Fail),
            "{said}: {f:?}"
        );
    }
}

/// A forbidden statement in words none of its phrasings holds is read by what it means: the
/// packs' `means` groups, one word of each in one clause. The honest words close to it are not:
/// under a "no", or put after the signature.
#[test]
fn a_forbidden_statement_in_other_words_is_read_by_what_it_means() {
    let v = french_with(
        "Votre accord au téléphone vaut signature, le contrat est donc déjà en vigueur.",
    );
    let f = finding(&v, "final_on_phone");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::ForbiddenSaid, FindingStatus::Fail),
        "{f:?}"
    );
    assert!(f.detail.contains("accord"), "{}", f.detail);
    for said in [
        "Votre commande sera définitive après signature du contrat.",
        "Le contrat n'est pas définitif.",
        "Votre commande est bien enregistrée.",
        "Nous avons conclu un accord avec Énergie Verte.",
        "Je m'engage à vous rappeler tout de suite.",
        // "ne … que" with its "que" after the statement's words: they are said only under
        // what follows, the signature.
        "Le contrat n'est définitif qu'après votre signature.",
        "Ce n'est définitif que si vous signez le contrat.",
        "Vous n'êtes engagé qu'à partir de votre signature.",
    ] {
        let f = final_on_phone_after(said);
        assert_eq!(
            (f.outcome, f.status),
            (Outcome::Met, FindingStatus::Pass),
            "{said}: {f:?}"
        );
    }
    // Close to the phrasing "votre engagement est immédiat" (0.71): for a person to hear,
    // never an accusation; no meaning reads the noun.
    let f = final_on_phone_after("Vous pouvez mettre fin à votre engagement immédiatement.");
    assert_ne!(f.status, FindingStatus::Fail, "{f:?}");

    // The pack's phrasing "le contrat est définitif" without its "est": another statement,
    // perhaps; for a person, never an accusation.
    let f = final_on_phone_after("Vous recevrez le contrat définitif par courrier.");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::ForbiddenSaid, FindingStatus::Review),
        "{f:?}"
    );
    assert!(f.detail.contains("not every word"), "{}", f.detail);

    for said in [
        "I can't hold this price for you after today.",
        "You'll have to make up your mind on this call.",
    ] {
        let f = no_pressure_after(said);
        assert_eq!(
            (f.outcome, f.status),
            (Outcome::ForbiddenSaid, FindingStatus::Fail),
            "{said}: {f:?}"
        );
    }
    for said in [
        "The offer is valid until the end of the month, so there's no rush.",
        "There's no need to make up your mind today.",
        "Would the price go up tomorrow?",
        "The price now increases only once a year.",
        "You should get a decision today.",
    ] {
        let f = no_pressure_after(said);
        assert_eq!(
            (f.outcome, f.status),
            (Outcome::Met, FindingStatus::Pass),
            "{said}: {f:?}"
        );
    }
}

/// A forbidden statement heard inside garbled speech may be a misheard name: "Ella Stone from
/// Phonepath" came out "the last chance for a phone path", its own words sure. With two words
/// of doubt around it in its sentence, it goes to a person; one is not enough, nor are doubtful
/// words in the sentence before.
#[test]
fn a_forbidden_statement_heard_among_garbled_words_goes_to_a_person() {
    let en = RuleBook::pack("en-sales").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let said =
        "Good morning, this is the last chance for a phone path, calling on behalf of Greenway.";
    let with_doubt = |doubtful: &[&str]| {
        let mut t = english_sale();
        let mut seg = transcript(&[(A, 20_000, said)]).segments[0].clone();
        for w in &mut seg.words {
            if doubtful.contains(&w.text.trim()) {
                w.probability = 0.3;
            }
        }
        t.segments.push(seg);
        finding(&run(&en, &t, &m), "no_pressure").clone()
    };
    let f = with_doubt(&["the", "a", "phone"]);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::ForbiddenSaid, FindingStatus::Review),
        "{f:?}"
    );
    assert!(f.detail.contains("without confidence"), "{}", f.detail);
    for doubtful in [&["a"][..], &["Good", "morning,"][..], &[][..]] {
        let f = with_doubt(doubtful);
        assert_eq!(
            (f.outcome, f.status),
            (Outcome::ForbiddenSaid, FindingStatus::Fail),
            "{doubtful:?}: {f:?}"
        );
    }
    // Garbled words in the clause before: the statement's own clause was heard.
    let mut t = english_sale();
    let mut seg = transcript(&[(A, 20_000, "You trac your phone, Sophie, decide right now.")])
        .segments[0]
        .clone();
    for w in &mut seg.words[..4] {
        w.probability = 0.3;
    }
    t.segments.push(seg);
    let f = finding(&run(&en, &t, &m), "no_pressure").clone();
    assert_eq!(f.status, FindingStatus::Fail, "{f:?}");
}

#[test]
fn consent_by_the_agent_refusals_and_withdrawals() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let base: Vec<_> = compliant().into_iter().filter(|t| t.0 == A).collect();

    let mut turns = base.clone();
    turns.push((
        A,
        40_000,
        "Je note que vous confirmez votre accord pour la mutuelle.",
    ));
    let f = finding(&run(&book, &transcript(&turns), &m), "consent").clone();
    assert_eq!(
        (f.outcome, f.speaker),
        (Outcome::WrongSpeaker, Some(A)),
        "{f:?}"
    );

    let mut turns = base.clone();
    turns.push((C, 40_000, "Non merci, je ne suis pas intéressée."));
    let f = finding(&run(&book, &transcript(&turns), &m), "consent").clone();
    assert_eq!((f.outcome, f.speaker), (Outcome::Refused, Some(C)), "{f:?}");

    // "je ne suis pas d'accord" contains "suis d'accord": it is a refusal, not an assent.
    let mut turns = base.clone();
    turns.push((C, 40_000, "Je ne suis pas d'accord."));
    let f = finding(&run(&book, &transcript(&turns), &m), "consent").clone();
    assert_eq!(f.outcome, Outcome::Refused, "{f:?}");

    let mut turns = base.clone();
    turns.push((C, 40_000, "Oui j'accepte."));
    turns.push((C, 45_000, "Finalement non, je ne veux pas."));
    let f = finding(&run(&book, &transcript(&turns), &m), "consent").clone();
    assert_eq!(
        (f.outcome, f.start_ms),
        (Outcome::Refused, Some(45_000)),
        "{f:?}"
    );

    let turns = base;
    let f = finding(&run(&book, &transcript(&turns), &m), "consent").clone();
    assert_eq!(f.outcome, Outcome::Missing, "{f:?}");
}

#[test]
fn misheard_words_score_lower_and_heard_as_rescues_them() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let mut turns = compliant();
    for t in &mut turns {
        if t.2 == BLOCTEL {
            t.2 = "Vous pouvez vous inscrire sur la liste l'octèle.";
        }
    }
    let v = run(&book, &transcript(&turns), &m);
    let f = finding(&v, "bloctel");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Met, FindingStatus::Pass),
        "{f:?}"
    );
    assert_eq!(f.phrase.as_deref(), Some("l'octèle"));

    // A doubtful match is neither a pass nor a fail.
    let src = r#"
[ruleset]
language = "fr"
[[rule]]
id = "green"
kind = "required"
say = ["électricité verte certifiée"]
"#;
    let book = RuleBook::parse(src).unwrap();
    // One word of three lost: doubtful.
    let t = transcript(&[(A, 0, "une électricité verte et locale")]);
    let v = run(&book, &t, &m);
    let f = finding(&v, "green");
    assert_eq!(f.status, FindingStatus::Review, "{f:?}");
    assert_eq!(v.verdict, Verdict::NeedsReview);
}

#[test]
fn calling_hours_in_the_customers_time_zone() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let t = transcript(&compliant());
    let hours = |started: &str, tz: Option<&str>| {
        let mut m = meta(started);
        m.customer_timezone = tz.map(str::to_string);
        finding(&run(&book, &t, &m), "calling_hours").clone()
    };
    assert_eq!(
        hours("2026-03-03T10:30:00+01:00", None).outcome,
        Outcome::Met
    );
    // 13:30 is the lunch break.
    assert_eq!(
        hours("2026-03-03T13:30:00+01:00", None).outcome,
        Outcome::OutsideHours
    );
    // Saturday.
    assert_eq!(
        hours("2026-03-07T11:00:00+01:00", None).outcome,
        Outcome::OutsideHours
    );
    // Ascension 2026 (Easter + 39 days), a Thursday.
    let f = hours("2026-05-14T11:00:00+02:00", None);
    assert_eq!(f.outcome, Outcome::OutsideHours);
    assert!(f.detail.contains("Ascension"), "{}", f.detail);
    // 11:00 in Paris is 06:00 in Martinique: too early for that customer.
    let f = hours("2026-03-03T11:00:00+01:00", Some("America/Martinique"));
    assert_eq!(f.outcome, Outcome::OutsideHours, "{}", f.detail);
    // No start time: cannot be checked, a person must look.
    let mut m = meta("2026-03-03T10:30:00+01:00");
    m.started_at = None;
    let f = finding(&run(&book, &t, &m), "calling_hours").clone();
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::NotCheckable, FindingStatus::Review)
    );
}

/// A compliant English sale on two channels.
fn english_sale() -> Transcript {
    let mut t = transcript(&[
        (A, 0, "Hello, my name is Sarah from Isosell, calling on behalf of Bright Energy. This call is recorded."),
        (A, 9_000, "The price is forty five pounds per month, and you have a fourteen day cancellation period."),
        (C, 16_000, "Yes, I agree to switch."),
    ]);
    t.language = "en".into();
    t
}

/// The consent finding of an English call whose seller has given every disclosure, then the
/// turns `after` (from 16 s).
/// The consent of the compliant French call whose agent closes the offer with `question` and
/// whose customer answers `answer`.
fn french_consent(question: &str, answer: &str) -> (Outcome, FindingStatus) {
    let mut turns = compliant();
    turns[6] = (A, 30_000, question);
    turns[7] = (C, 32_000, answer);
    let fr = RuleBook::pack("fr-demarchage").unwrap();
    let f = finding(
        &run(&fr, &transcript(&turns), &meta("2026-03-03T10:30:00+01:00")),
        "consent",
    )
    .clone();
    (f.outcome, f.status)
}

fn english_consent(after: &[(Speaker, u64, &str)]) -> (Outcome, FindingStatus) {
    let mut turns = vec![
        (A, 0, "Hello, my name is Sarah from Isosell, calling on behalf of Bright Energy. This call is recorded."),
        (A, 9_000, "The price is forty five pounds per month, and you have a fourteen day cancellation period."),
    ];
    turns.extend_from_slice(after);
    let mut t = transcript(&turns);
    t.language = "en".into();
    let en = RuleBook::pack("en-sales").unwrap();
    let f = finding(&run(&en, &t, &meta("2026-03-03T10:30:00+01:00")), "consent").clone();
    (f.outcome, f.status)
}

/// The consent of the English call whose customer answers `answer` to the agent's last word
/// on the offer.
fn english_answer_to_the_offer(answer: &str) -> (Outcome, FindingStatus) {
    english_consent(&[
        (A, 14_000, "That's everything about our offer."),
        (C, 17_000, answer),
    ])
}

#[test]
fn english_pack_and_mono_recordings() {
    let book = RuleBook::pack("en-sales").unwrap();
    let m = meta("2026-03-03T10:30:00+00:00");
    let mut t = english_sale();
    let v = run(&book, &t, &m);
    assert_eq!(v.verdict, Verdict::Compliant, "{:#?}", v.findings);
    // The same words on a mono recording: nobody can tell who assented.
    for s in &mut t.segments {
        s.speaker = Speaker::Unknown;
    }
    let v = run(&book, &t, &m);
    assert_eq!(finding(&v, "consent").status, FindingStatus::Review);
    assert_eq!(v.verdict, Verdict::NeedsReview);
}

#[test]
fn diarized_speakers_decide_only_when_the_voices_were_told_apart_surely() {
    let book = RuleBook::pack("en-sales").unwrap();
    let m = meta("2026-03-03T10:30:00+00:00");
    let mut t = english_sale();
    // A mono recording whose voices were told apart with confidence: verdicts as on stereo,
    // and each finding says how its speaker was told.
    for s in &mut t.segments {
        s.attribution = Attribution::diarization(0.9);
    }
    let v = run(&book, &t, &m);
    assert_eq!(v.verdict, Verdict::Compliant, "{:#?}", v.findings);
    let consent = finding(&v, "consent");
    assert_eq!(
        consent.attribution.map(|a| a.source),
        Some(AttributionSource::Diarization)
    );
    // The customer's assent attributed with doubt: consent is for a person to confirm.
    t.segments[2].attribution = Attribution::diarization(0.3);
    let v = run(&book, &t, &m);
    let consent = finding(&v, "consent");
    assert_eq!(consent.status, FindingStatus::Review, "{consent:?}");
    assert!(consent.detail.contains("uncertain"), "{}", consent.detail);
    assert_eq!(v.verdict, Verdict::NeedsReview);
    // A rule anyone may satisfy does not depend on who spoke.
    assert_eq!(finding(&v, "min_duration").status, FindingStatus::Pass);
}

#[test]
fn the_script_score_finds_the_voice_that_sells() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let seller = "Bonjour, je suis Julie Martin de la société Isosell, je vous appelle de la part d'Électricité du Centre. Vous disposez d'un délai de rétractation de quatorze jours.";
    let customer = "Bonjour. Oui, je vous écoute. D'accord.";
    let t = transcript(&[(A, 0, seller), (C, 12_000, customer)]);
    let swapped = transcript(&[(C, 0, seller), (A, 12_000, customer)]);
    assert!(script_score(&book, &t) >= 2, "{}", script_score(&book, &t));
    assert_eq!(script_score(&book, &swapped), 0);
}

/// Makes the segment starting at `start` sound like garbled speech: low word probabilities.
fn garble(t: &mut Transcript, start: u64) {
    let s = t
        .segments
        .iter_mut()
        .find(|s| s.start_ms == start)
        .expect("segment");
    s.avg_logprob = -0.9;
    for w in &mut s.words {
        w.probability = 0.3;
    }
}

#[test]
fn an_item_missing_where_speech_was_garbled_is_for_review_with_its_span() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let mut turns = compliant();
    // Bloctel said, but heard as nonsense.
    turns[2] = (
        A,
        10_000,
        "Vous pouvez vous inscrire sur la liste qui te permet de poser.",
    );
    let m = meta("2026-03-03T10:30:00+01:00");

    // Heard with confidence: the absence is an accusation.
    let v = run(&book, &transcript(&turns), &m);
    let f = finding(&v, "bloctel");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Fail)
    );
    let h = f.hearing.as_ref().expect("hearing");
    assert!(h.doubtful.is_none() && h.confidence > 0.8, "{h:?}");
    // Searched between the item met before (on_behalf/commercial) and the one after (price),
    // to the end of the price's sentence: disclosures are said in one sentence in any order,
    // and the speech searched is what the second listen and the script check read again.
    let (lo, hi) = h.searched.expect("searched");
    let price_sentence_end = transcript(&turns)
        .segments
        .iter()
        .find(|s| s.start_ms == 15_000)
        .map(|s| s.end_ms);
    assert!(lo < 10_000 && Some(hi) == price_sentence_end, "{lo}-{hi}");
    assert_eq!(v.verdict, Verdict::Violation);

    // Heard without confidence: a person listens there.
    let mut t = transcript(&turns);
    garble(&mut t, 10_000);
    let v = run(&book, &t, &m);
    let f = finding(&v, "bloctel");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Review)
    );
    assert_eq!(
        f.hearing.as_ref().and_then(|h| h.doubtful.map(|d| d.0)),
        Some(10_000)
    );
    assert!(f.detail.contains("0:10"), "{}", f.detail);
    assert_eq!(v.verdict, Verdict::NeedsReview);

    // Garbled speech elsewhere in the call does not excuse a missing item.
    let mut t = transcript(&turns);
    garble(&mut t, 30_000);
    let v = run(&book, &t, &m);
    assert_eq!(finding(&v, "bloctel").status, FindingStatus::Fail);
}

#[test]
fn an_accusation_resting_on_barely_heard_words_is_for_review() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let mut turns = compliant();
    turns.push((A, 36_000, "Le contrat est définitif."));
    let m = meta("2026-03-03T10:30:00+01:00");
    let v = run(&book, &transcript(&turns), &m);
    assert_eq!(finding(&v, "final_on_phone").status, FindingStatus::Fail);
    let mut t = transcript(&turns);
    garble(&mut t, 36_000);
    let v = run(&book, &t, &m);
    let f = finding(&v, "final_on_phone");
    assert_eq!(f.status, FindingStatus::Review, "{f:?}");
    assert!(f.detail.contains("without confidence"), "{}", f.detail);
}

#[test]
fn a_refusal_is_no_sale_and_a_missing_disclosure_in_it_is_still_a_violation() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let mut turns = compliant();
    turns[7] = (C, 32_000, "Non merci, je ne suis pas intéressé.");
    let v = run(&book, &transcript(&turns), &m);
    assert!(finding(&v, "consent").is_refusal());
    assert_eq!(v.verdict, Verdict::NoSale);
    turns.remove(2); // no Bloctel
    let v = run(&book, &transcript(&turns), &m);
    assert_eq!(finding(&v, "bloctel").status, FindingStatus::Fail);
    assert_eq!(v.verdict, Verdict::Violation);
}

/// The consent finding of `turns` checked with `book`: its outcome, its status and the call's
/// verdict, and its detail.
fn consent_of(
    book: &RuleBook,
    m: &CallMetadata,
    turns: &[(Speaker, u64, &str)],
) -> ((Outcome, FindingStatus, Verdict), String) {
    let v = run(book, &transcript(turns), m);
    let f = finding(&v, "consent").clone();
    ((f.outcome, f.status, v.verdict), f.detail)
}

/// Customers answer in their own words. A reply heard with confidence says plainly what was
/// decided when it opens with a yes and takes the offer ("Bon, d'accord, on y va"), is a bare
/// yes to the agent's question ("Oui, s'il vous plaît" to "Acceptez-vous cette offre ?"), or
/// only acknowledges ("Oui, je vois": no assent, and an agent who then records one is accused).
/// Anything else is for a person.
#[test]
fn a_reply_in_the_customers_own_words_decides_what_it_plainly_says() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let consent = |turns: &[(Speaker, u64, &str)]| consent_of(&book, &m, turns);
    let agreed = (Outcome::Met, FindingStatus::Pass, Verdict::Compliant);
    let to_hear = (
        Outcome::Missing,
        FindingStatus::Review,
        Verdict::NeedsReview,
    );
    let mut turns = compliant();
    for said in [
        "Bon, d'accord, on y va.",
        "D'accord, je le prends.",
        "Oui, envoyez-moi le contrat, je le signerai.",
        "Oui, pas de souci, vous pouvez me l'envoyer.",
        "Oui, s'il vous plaît.",
        // An answer may open with any word of assent, not only a yes.
        "Pourquoi pas, je le prends.",
        "Génial, envoyez-moi le contrat.",
        "Entendu, je suis partante.",
    ] {
        turns[7] = (C, 32_000, said);
        let (got, detail) = consent(&turns);
        assert_eq!(got, agreed, "{said}: {detail}");
        assert!(detail.contains("own words"), "{detail}");
    }
    // A bare yes nobody asked for is what customers say to every disclosure; said as their
    // last word once the offer is complete, it answers the offer ("Oui, d'accord" to "Voilà
    // pour notre offre", "Ça marche, on fait comme ça"), unless it takes leave ("Entendu, au
    // revoir") or something else follows it.
    turns[6] = (A, 30_000, "Voilà pour notre offre.");
    for said in [
        "Oui, s'il vous plaît.",
        "Bon, d'accord.",
        "Ça marche, on fait comme ça.",
    ] {
        turns[7] = (C, 32_000, said);
        let (got, detail) = consent(&turns);
        assert_eq!(got, agreed, "{said}: {detail}");
        assert!(detail.contains("last word"), "{detail}");
    }
    turns[7] = (C, 32_000, "Entendu, au revoir.");
    assert_eq!(consent(&turns).0, to_hear);
    // Nor where the agent put the decision off since: the yes agrees to be called back.
    turns[6] = (
        A,
        30_000,
        "Je vous laisse réfléchir, je vous rappelle demain.",
    );
    turns[7] = (C, 32_000, "D'accord.");
    assert_eq!(consent(&turns).0, to_hear);
    turns[6] = (A, 30_000, "Voilà pour notre offre.");
    turns[7] = (C, 32_000, "D'accord.");
    turns.push((A, 34_000, "Vous recevrez aussi un catalogue."));
    turns.push((C, 36_000, "Ah, je ne sais pas trop."));
    assert_eq!(consent(&turns).0, to_hear);
    turns.truncate(8);
    // A yes and a word that takes nothing ("c'est cher"), or a word heard with doubt, or a
    // "but": for a person.
    for said in [
        "Oui, c'est cher.",
        "D'accord, mais je prends.",
        "Oui, je le prend, euh, quand ?",
    ] {
        turns[7] = (C, 32_000, said);
        assert_eq!(consent(&turns).0, to_hear, "{said}");
    }
    // The reply at the end of a compliant call, the words at `doubtful` heard with doubt.
    let heard_with_doubt = |said: &'static str, doubtful: &[usize]| {
        let mut turns = compliant();
        turns[7] = (C, 32_000, said);
        let mut t = transcript(&turns);
        for &i in doubtful {
            t.segments[7].words[i].probability = 0.19;
        }
        let f = finding(&run(&book, &t, &m), "consent").clone();
        (f.outcome, f.status)
    };
    let reviewed = (Outcome::Missing, FindingStatus::Review);
    assert_eq!(heard_with_doubt("D'accord, je le prends.", &[3]), reviewed);
    // A word that says nothing heard with doubt ("le") could still hide a "pas": no yes rests
    // on it. A refusal stays as plain as it was ("au" of "au revoir" at 0.19).
    assert_eq!(heard_with_doubt("D'accord, je le prends.", &[2]), reviewed);
    assert_eq!(
        heard_with_doubt("Non, ça ne m'intéresse pas du tout, au revoir.", &[7]),
        (Outcome::Refused, FindingStatus::Fail)
    );
    // A yes that only acknowledges proves no assent: the agent recording one is the violation.
    let mut turns = compliant();
    turns[6] = (A, 30_000, "Voilà pour notre offre.");
    turns[7] = (C, 32_000, "Oui, je vois.");
    turns.push((A, 35_000, "Parfait, je note votre accord. Au revoir."));
    let (got, detail) = consent(&turns);
    assert_eq!(
        got,
        (
            Outcome::WrongSpeaker,
            FindingStatus::Fail,
            Verdict::Violation
        ),
        "{detail}"
    );
    // A yes, then the decision put off: no sale.
    let mut turns = compliant();
    turns[7] = (C, 32_000, "D'accord, je le prends.");
    turns.push((A, 35_000, "Très bien."));
    turns.push((C, 37_000, "Enfin non, je vais réfléchir."));
    assert_eq!(
        consent(&turns).0,
        (Outcome::Refused, FindingStatus::Fail, Verdict::NoSale)
    );
    // On a mono recording nobody can tell whose yes it was.
    let mut t = transcript(&{
        let mut turns = compliant();
        turns[7] = (C, 32_000, "Bon, d'accord, on y va.");
        turns
    });
    for s in &mut t.segments {
        s.speaker = Speaker::Unknown;
    }
    let f = finding(&run(&book, &t, &m), "consent").clone();
    assert_ne!(f.status, FindingStatus::Pass, "{f:?}");
}

#[test]
fn an_answer_that_says_no_in_other_words_is_no_sale() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let consent = |turns: &[(Speaker, u64, &str)]| consent_of(&book, &m, turns);
    let mut turns = compliant();
    // A refusal in words the pack does not hold, heard clearly: not the agent's fault, and no
    // sale.
    turns[7] = (C, 32_000, "Merci, mais je préfère ne pas donner suite.");
    let no_sale = (Outcome::Refused, FindingStatus::Fail, Verdict::NoSale);
    let (said, detail) = consent(&turns);
    assert_eq!(said, no_sale, "{detail}");
    assert!(detail.contains("ne pas donner suite"), "{detail}");
    assert!(detail.contains("declined in their own words"), "{detail}");
    // The agent recording an agreement after it is still the violation it was.
    turns.push((A, 36_000, "Très bien, je note votre accord."));
    let claimed = (
        Outcome::WrongSpeaker,
        FindingStatus::Fail,
        Verdict::Violation,
    );
    assert_eq!(consent(&turns).0, claimed);
    // Refused word for word, then recorded as agreed by the agent: a violation, not a call
    // without a sale.
    let mut refused = compliant();
    refused[7] = (C, 32_000, "Non merci, je ne suis pas intéressé.");
    refused.push((A, 36_000, "Très bien, je note votre accord. Bonne journée."));
    assert_eq!(consent(&refused).0, claimed);
    // The agent asking for the agreement claims none.
    refused[8] = (A, 36_000, "Vous acceptez l'offre ?");
    assert_eq!(consent(&refused).0 .2, Verdict::NoSale);
    // A question is no refusal: "et si je ne suis pas satisfaite ?" refuses nothing. Nor does
    // it agree: a person listens to whether a sale was made, nobody is accused on it.
    turns.pop();
    turns[7] = (C, 32_000, "Et si je ne suis pas satisfaite ?");
    let undecided = (
        Outcome::Missing,
        FindingStatus::Review,
        Verdict::NeedsReview,
    );
    let (said, detail) = consent(&turns);
    assert_eq!(said, undecided, "{detail}");
    assert!(detail.contains("whether a sale was made"), "{detail}");
    // Nor is a "no" said before the offer was complete ("je ne savais pas" to the Bloctel
    // notice); and a hesitation answers nothing: the assent is missing.
    let mut turns = compliant();
    turns[1] = (C, 8_000, "Ah non, je ne savais pas.");
    turns[7] = (C, 32_000, "Hum.");
    let missing = (Outcome::Missing, FindingStatus::Fail, Verdict::Violation);
    assert_eq!(consent(&turns).0, missing);
    // A decision put off, heard clearly, in words no pack holds: no sale is made.
    turns[7] = (C, 32_000, "Laissez-moi y réfléchir, je vous rappellerai.");
    let (said, detail) = consent(&turns);
    assert_eq!(said, no_sale, "{detail}");
    assert!(detail.contains("Laissez-moi y réfléchir"), "{detail}");
    assert!(detail.contains("put the decision off"), "{detail}");
    // Unsure is no plain refusal: "je ne sais pas trop" is a doubt, for a person.
    turns[7] = (C, 32_000, "Je ne sais pas trop.");
    let (said, detail) = consent(&turns);
    let refused_for_review = (
        Outcome::Refused,
        FindingStatus::Review,
        Verdict::NeedsReview,
    );
    assert_eq!(said, refused_for_review, "{detail}");
    // A refusal garbled is for a person, however clearly it opens: "Non" heard, the rest with
    // doubt.
    let mut t = transcript(&{
        let mut turns = compliant();
        turns[7] = (C, 32_000, "Non, ce n'est pas pour moua.");
        turns
    });
    for w in &mut t.segments[7].words {
        if w.text.contains("moua") {
            w.probability = 0.2;
        }
    }
    let f = finding(&run(&book, &t, &m), "consent").clone();
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Refused, FindingStatus::Review),
        "{f:?}"
    );
    // "Pourquoi pas" and "pas de problème" say no to no objection: not a refusal. "Pourquoi
    // pas" is an assent of its own.
    turns[7] = (C, 32_000, "Pourquoi pas, envoyez-moi le contrat.");
    assert_eq!(
        consent(&turns).0,
        (Outcome::Met, FindingStatus::Pass, Verdict::Compliant)
    );
    turns[7] = (C, 32_000, "Pas de problème, envoyez-moi le contrat.");
    assert_eq!(consent(&turns).0, undecided);
    // A refusal that needs no "no" ("laisser passer"); "passer" alone is also how an order
    // is placed.
    turns[7] = (
        C,
        32_000,
        "C'est cher, je crois que je vais laisser passer.",
    );
    let (said, detail) = consent(&turns);
    assert_eq!(said, no_sale, "{detail}");
    assert!(detail.contains("declined in their own words"), "{detail}");
    turns[7] = (C, 32_000, "Je vais passer commande.");
    assert_ne!(consent(&turns).0, no_sale);
    turns[7] = (C, 32_000, "Je dois d'abord en discuter avec mon mari.");
    assert_eq!(consent(&turns).0, no_sale);
    // English: "That's not for me."
    let consent = english_consent;
    let refused = (Outcome::Refused, FindingStatus::Fail);
    assert_eq!(
        consent(&[(C, 16_000, "That's not for me, thank you.")]),
        refused
    );
    // A call back asked for puts the decision off; the agent's "after you sign up" (a clause
    // of time) records no agreement.
    assert_eq!(
        consent(&[(C, 16_000, "Can you call me back next week?")]),
        refused
    );
    assert_eq!(
        consent(&[
            (
                A,
                12_000,
                "You can cancel within fourteen days after you sign up."
            ),
            (C, 16_000, "I'll think about it.")
        ]),
        refused
    );
    // Declined without a "no"; with a yes before it, for a person.
    assert_eq!(
        consent(&[(C, 16_000, "I'll pass on this one, thank you.")]),
        refused
    );
    assert_eq!(
        consent(&[(C, 16_000, "Okay, I'll pass on this one.")]).1,
        FindingStatus::Review
    );
    // Agreed in words of assent other than a yes.
    for yes in ["Lovely, book it for me please.", "Sure, sounds great."] {
        assert_eq!(
            consent(&[
                (A, 14_000, "Shall I set that up for you?"),
                (C, 16_000, yes)
            ]),
            (Outcome::Met, FindingStatus::Pass),
            "{yes}"
        );
    }
    // The agent noting the refusal records no agreement ("I will put you down" is one of the
    // pack's claims of agreement, the rest of the sentence says no).
    let pass = (C, 16_000, "No thanks, I'll pass.");
    assert_eq!(
        consent(&[
            pass,
            (
                A,
                19_000,
                "No problem, I will put you down as not interested. Goodbye."
            )
        ]),
        refused
    );
    // Recording an agreement is still a claim of it.
    assert_eq!(
        consent(&[
            pass,
            (
                A,
                19_000,
                "Lovely, I will put you down as agreeing then. Goodbye."
            )
        ])
        .0,
        Outcome::WrongSpeaker
    );
}

/// The agent's answer to a customer who declined or put the decision off in their own words:
/// a yes that goes on may record a sale no rule set's words hold, for a person to hear; one
/// that takes leave or offers the time asked for records none.
#[test]
fn an_agent_who_answers_a_refusal_with_a_yes_and_goes_on_is_heard_by_a_person() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let consent = |turns: &[(Speaker, u64, &str)]| consent_of(&book, &m, turns).0;
    let mut turns = compliant();
    turns[7] = (C, 32_000, "Laissez-moi y réfléchir, rappelez-moi jeudi.");
    let no_sale = (Outcome::Refused, FindingStatus::Fail, Verdict::NoSale);
    assert_eq!(consent(&turns), no_sale);
    turns.push((A, 36_000, "Très bien, on avance alors, c'est parti."));
    assert_eq!(
        consent(&turns),
        (
            Outcome::Refused,
            FindingStatus::Review,
            Verdict::NeedsReview
        )
    );
    // A sale recorded in the agent's own words is the violation itself (see
    // `an_agent_who_records_a_sale_in_their_own_words_after_no_assent_is_the_violation`).
    turns[8] = (A, 36_000, "Très bien, je lance la commande tout de suite.");
    assert_eq!(
        consent(&turns),
        (
            Outcome::WrongSpeaker,
            FindingStatus::Fail,
            Verdict::Violation
        )
    );
    for closing in [
        "Très bien, au revoir madame.",
        "Parfait, merci de votre temps, au revoir.",
        "Entendu madame, je vous rappelle jeudi.",
    ] {
        turns[8] = (A, 36_000, closing);
        assert_eq!(consent(&turns), no_sale, "{closing}");
    }
    // An opening heard with doubt may be that yes, garbled.
    turns[7] = (C, 32_000, "Non, ce n'est pas pour moi.");
    turns[8] = (A, 36_000, "Bon, alors c'est parti, on avance.");
    assert_eq!(consent(&turns), no_sale);
    let mut t = transcript(&turns);
    t.segments[8].words[0].probability = 0.2;
    let f = finding(&run(&book, &t, &m), "consent").clone();
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Refused, FindingStatus::Review)
    );
    assert!(
        f.detail.contains("whether a sale was recorded"),
        "{}",
        f.detail
    );
    // "Bon, alors je lance la commande" after that refusal records the sale itself.
    turns[8] = (A, 36_000, "Bon, alors je lance la commande.");
    assert_eq!(
        consent(&turns),
        (
            Outcome::WrongSpeaker,
            FindingStatus::Fail,
            Verdict::Violation
        )
    );
    // A refusal heard only close to a phrasing ("je ne fais pas d'accord" for "je ne sais pas
    // encore"), then the agent goes on with a yes: for a person; a courtesy closes it.
    turns[7] = (C, 32_000, "Je vais voir, je ne fais pas d'accord.");
    turns[8] = (A, 36_000, "Parfait, je lance la commande.");
    assert_eq!(
        consent(&turns),
        (
            Outcome::Refused,
            FindingStatus::Review,
            Verdict::NeedsReview
        )
    );
    turns[8] = (A, 36_000, "Très bien, je vous souhaite une bonne journée.");
    assert_eq!(consent(&turns), no_sale);
}

#[test]
fn a_refusal_heard_loosely_then_a_yes_goes_to_a_person_and_one_said_word_for_word_stands() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let mut turns = compliant();
    // "C'est intéressant" heard with a "pas" it did not have, then the customer subscribes in
    // words the recogniser garbled: a sale may have been made.
    turns[6] = (C, 30_000, "C'est pas intéressant.");
    turns[7] = (C, 32_000, "Alors oui, je suis scrie.");
    let v = run(&book, &transcript(&turns), &m);
    let f = finding(&v, "consent");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Refused, FindingStatus::Review),
        "{f:?}"
    );
    assert_eq!(v.verdict, Verdict::NeedsReview);
    assert!(f.detail.contains("0:32"), "{}", f.detail);
    // Said word for word, the refusal stands whatever the yes answers ("Are you sure?").
    turns[6] = (C, 30_000, "Non merci, ça ne m'intéresse pas.");
    turns[7] = (C, 32_000, "Oui, j'en suis sûr.");
    let v = run(&book, &transcript(&turns), &m);
    assert_eq!(v.verdict, Verdict::NoSale, "{:?}", finding(&v, "consent"));
    // A yes before the refusal changes nothing either.
    turns[6] = (C, 30_000, "Oui, je vois.");
    turns[7] = (C, 32_000, "C'est pas intéressant.");
    let v = run(&book, &transcript(&turns), &m);
    assert_eq!(v.verdict, Verdict::NoSale, "{:?}", finding(&v, "consent"));
    // Refused only close to a phrasing ("je ne fais pas d'accord", heard for "je ne sais pas
    // encore"), then the agent records an agreement: a misheard answer or a sale the customer
    // declined, for a person to tell; not a call without a sale.
    turns[7] = (C, 32_000, "Je vais voir, je ne fais pas d'accord.");
    turns.push((
        A,
        35_000,
        "Parfait, je note votre accord et je lance la commande.",
    ));
    let v = run(&book, &transcript(&turns), &m);
    let f = finding(&v, "consent");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Refused, FindingStatus::Review),
        "{f:?}"
    );
    assert!(f.detail.contains("agent stated agreement"), "{}", f.detail);
    // Said word for word, the refusal then the agent's claim is the violation.
    turns[7] = (C, 32_000, "Non merci, ça ne m'intéresse pas.");
    let v = run(&book, &transcript(&turns), &m);
    assert_eq!(
        v.verdict,
        Verdict::Violation,
        "{:?}",
        finding(&v, "consent")
    );
}

#[test]
fn second_listen_goes_only_where_a_finding_is_unclear() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let v = run(&book, &transcript(&compliant()), &m);
    assert_eq!(v.verdict, Verdict::Compliant);
    assert!(second_listen_spans(&book, &v).is_empty());
    let mut turns = compliant();
    turns[2] = (
        A,
        10_000,
        "Vous pouvez vous inscrire sur la liste qui te permet de poser.",
    );
    let v = run(&book, &transcript(&turns), &m);
    let spans = second_listen_spans(&book, &v);
    assert_eq!(spans.len(), 1, "{spans:?}");
    let (who, lo, hi) = spans[0];
    assert_eq!(who, A);
    assert!(lo <= 10_000 && hi >= 13_000, "{lo}-{hi}");
}

/// A customer's assent met only on words like an assent phrasing is what the sale rests on, and
/// the recogniser can make such words up ("Je me suis d'accord." for "Euh, je ne sais pas
/// trop"): it is heard again, and where the second hearing does not hear it, a person listens.
#[test]
fn a_loosely_heard_assent_is_heard_again_and_a_disagreement_goes_to_a_person() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let mut turns = compliant();
    turns[7] = (C, 32_000, "Je me suis d'accord.");
    let mut t = transcript(&turns);
    let v = run(&book, &t, &m);
    let f = finding(&v, "consent");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Met, FindingStatus::Pass),
        "{f:?}"
    );
    assert!(f.score.is_some_and(|s| s < 1.0), "{f:?}");
    assert_eq!(v.verdict, Verdict::Compliant);
    let spans = second_listen_spans(&book, &v);
    assert!(
        spans
            .iter()
            .any(|&(who, lo, hi)| who == C && lo <= 32_000 && hi >= 33_200),
        "{spans:?}"
    );
    assert!(heard_agreeing(f));
    // What a second listen may hear there: an answer that opens as agreement still has the
    // customer agree; one that does not, disputes the first hearing.
    for (again, agreeing) in [
        ("Oui, je s'ouvris.", true),
        ("Ah, je ne sais pas trop.", false),
    ] {
        let mut other = turns.clone();
        other[7] = (C, 32_000, again);
        let v = run(&book, &transcript(&other), &m);
        assert_eq!(heard_agreeing(finding(&v, "consent")), agreeing, "{again}");
    }
    // Heard otherwise by the second listen: the first hearing stands, for a person to confirm.
    t.segments
        .iter_mut()
        .filter(|s| s.start_ms == 32_000)
        .for_each(|s| s.disputed = true);
    let v = run(&book, &t, &m);
    let f = finding(&v, "consent");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Met, FindingStatus::Review),
        "{f:?}"
    );
    assert!(f.detail.contains("second listen"), "{}", f.detail);
    assert_eq!(v.verdict, Verdict::NeedsReview);
    // Another stretch heard otherwise leaves the consent alone; an assent matched word for
    // word is not heard again.
    for s in t.segments.iter_mut() {
        s.disputed = s.start_ms == 8_000;
    }
    assert_eq!(run(&book, &t, &m).verdict, Verdict::Compliant);
    let v = run(&book, &transcript(&compliant()), &m);
    assert!(second_listen_spans(&book, &v).is_empty());
}

/// On a call off the script, the doubtful words where an item was expected lay minutes apart,
/// and the second listen decoded all the speech between them again: it goes to the doubtful
/// words' own stretches, while the finding still names the whole span to listen to.
#[test]
fn second_listen_hears_the_doubtful_stretches_not_the_clear_speech_between() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let mut turns = compliant();
    turns[2] = (
        A,
        10_000,
        "Vous pouvez vous inscrire gratuitement sur la liste nationale qui te permet de poser.",
    );
    let mut t = transcript(&turns);
    let s = t
        .segments
        .iter_mut()
        .find(|s| s.start_ms == 10_000)
        .expect("segment");
    // Four words garbled, six heard clearly (1.8 s), four garbled.
    for (i, w) in s.words.iter_mut().enumerate() {
        if !(4..10).contains(&i) {
            w.probability = 0.3;
        }
    }
    let v = run(&book, &t, &m);
    let f = finding(&v, "bloctel");
    assert_eq!(f.status, FindingStatus::Review, "{f:?}");
    let h = f.hearing.as_ref().expect("hearing");
    assert_eq!(h.doubtful, Some((10_000, 14_200)));
    assert_eq!(h.stretches, [(10_000, 11_200), (13_000, 14_200)]);
    let spans = second_listen_spans(&book, &v);
    assert_eq!(spans, [(A, 10_000, 11_200), (A, 13_000, 14_200)]);
}

#[test]
fn doubtful_words_close_together_are_one_stretch() {
    let words = [
        (0, 300, "a"),
        (300, 600, "a"),
        (1_500, 1_800, "b"),
        (2_900, 3_000, "c"),
    ];
    assert_eq!(crate::stretches_of(&words), [(0, 1_800), (2_900, 3_000)]);
    assert!(crate::stretches_of(&[]).is_empty());
}

#[test]
fn vocabulary_reaches_the_prompt() {
    let book = RuleBook::parse(
        "[ruleset]\nclient = \"acme\"\nextends = \"fr-demarchage\"\nvocabulary = [\"Isosell\", \"kilowattheure\"]\n",
    )
    .unwrap();
    let prompt = book.prompt();
    for w in ["Bloctel", "Isosell", "kilowattheure", "rétractation"] {
        assert!(prompt.contains(w), "{prompt}");
    }
    let err = RuleBook::parse("[ruleset]\nextends = \"fr-demarchage\"\nvocabulary = [\"\"]\n")
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("vocabulary"), "{err}");
}

#[test]
fn a_call_in_another_language_than_the_rule_set_gets_its_own_pack_and_the_client_s_names() {
    let src = "[ruleset]\nclient = \"acme\"\nextends = \"fr-demarchage\"\nvocabulary = [\"Isosell\", \"Bloctel\"]\n\n[retention]\nrecordings_days = 30\nanalyses_days = 90\n\n[[scorecard]]\ncriterion = \"courtesy\"\n\n[[rule]]\nid = \"gdpr\"\nkind = \"required\"\nsay = [\"vos données personnelles\"]\n";
    let book = RuleBook::parse(src).unwrap();
    assert_eq!(book.for_language("fr").unwrap(), book);
    let en = book.for_language("en").unwrap();
    let pack = RuleBook::pack("en-sales").unwrap();
    // English rules: the French phrasings (and the client's French rule) are not looked for.
    assert_eq!(en.language, "en");
    assert_eq!(en.rules, pack.rules);
    assert!(en.rules.iter().all(|r| r.id != "gdpr"));
    // What is not a matter of language stays the client's.
    assert_eq!(en.retention, book.retention);
    assert_eq!(en.retention.recordings_days, 30);
    assert_eq!(en.scorecard, book.scorecard);
    assert_eq!(en.redaction, book.redaction);
    assert_eq!(en.client.as_deref(), Some("acme"));
    // The client's names reach the recogniser; the French pack's words do not.
    let prompt = en.prompt();
    assert!(prompt.contains("Isosell"), "{prompt}");
    assert!(!prompt.contains("rétractation"), "{prompt}");
    assert!(book.prompt().contains("rétractation"));
}

#[test]
fn rules_carry_their_titles_in_both_languages() {
    let pack = RuleBook::pack("fr-demarchage").unwrap();
    let consent = pack.rules.iter().find(|r| r.id == "consent").unwrap();
    assert_eq!(consent.title_in("fr"), "Consentement du client");
    assert_eq!(consent.title_in("en"), "Customer's consent");
    // Every pack rule is named in both languages.
    for pack in ["fr-demarchage", "en-sales"] {
        for r in &RuleBook::pack(pack).unwrap().rules {
            assert!(
                r.title.contains_key("fr") && r.title.contains_key("en"),
                "{pack} {}",
                r.id
            );
        }
    }
    // A client's own rule: its title, the other language's, then its description, then its id.
    let src = "[ruleset]\nclient = \"acme\"\nextends = \"fr-demarchage\"\n\n[[rule]]\nid = \"gdpr\"\nkind = \"required\"\ntitle = { fr = \"Mention RGPD\" }\nsay = [\"vos données personnelles\"]\n\n[[rule]]\nid = \"cgv\"\nkind = \"required\"\ndescription = \"Conditions générales citées\"\nsay = [\"conditions générales\"]\n";
    let book = RuleBook::parse(src).unwrap();
    let rule = |id: &str| book.rules.iter().find(|r| r.id == id).unwrap().clone();
    assert_eq!(rule("gdpr").title_in("en"), "Mention RGPD");
    assert_eq!(rule("cgv").title_in("fr"), "Conditions générales citées");
    let err = RuleBook::parse(&src.replace("{ fr = ", "{ de = ")).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("title"), "{err}");
}

#[test]
fn calling_someone_is_not_saying_ones_name() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let mut turns = compliant();
    turns[0] = (
        A,
        0,
        "Bonjour madame, je vous appelle de la part d'Électricité du Centre pour une offre commerciale.",
    );
    let v = run(&book, &transcript(&turns), &m);
    assert_eq!(finding(&v, "identity").outcome, Outcome::Missing);
    turns[0] = (A, 0, "Bonjour madame, je m'appelle Julie Martin, je vous appelle de la part d'Électricité du Centre pour une offre commerciale.");
    let v = run(&book, &transcript(&turns), &m);
    assert_eq!(finding(&v, "identity").status, FindingStatus::Pass);
}

#[test]
fn asking_about_changing_ones_mind_is_no_refusal() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let mut turns = compliant();
    // The assent misheard beyond matching; the customer's question must not become a refusal.
    turns[7] = (C, 32_000, "Bon, je me dis.");
    turns.insert(5, (C, 22_000, "Et si je change d'avis ?"));
    let v = run(&book, &transcript(&turns), &m);
    let f = finding(&v, "consent");
    assert_ne!(f.outcome, Outcome::Refused, "{f:?}");
    turns[5] = (C, 22_000, "Non, je change d'avis.");
    let v = run(&book, &transcript(&turns), &m);
    assert_eq!(finding(&v, "consent").outcome, Outcome::Refused);
}

#[test]
fn a_yes_whose_words_were_garbled_is_for_review_not_an_accusation() {
    let book = RuleBook::pack("en-sales").unwrap();
    let m = meta("2026-03-03T10:30:00+00:00");
    let turns = vec![
        (A, 0, "Good morning, my name is Sarah from Isosell, calling on behalf of Bright Energy. This call is being recorded."),
        (A, 9_000, "The price is forty five pounds per month."),
        (A, 13_000, "You have a fourteen day cancellation period."),
        (A, 17_000, "Would you like to switch today?"),
        (C, 20_000, "Yes, I've read the switch to the new terrace."),
    ];
    let mut t = transcript(&turns);
    t.language = "en".into();
    let v = run(&book, &t, &m);
    let f = finding(&v, "consent");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Review),
        "{f:?}"
    );
    assert_eq!(f.start_ms, Some(20_000));
    // A "yes" before the offer was complete says nothing about it.
    let mut early = turns.clone();
    early[4] = (C, 5_000, "Yes, go on.");
    let mut t = transcript(&early);
    t.language = "en".into();
    let v = run(&book, &t, &m);
    assert_eq!(finding(&v, "consent").status, FindingStatus::Fail);

    // Agreement opens with other words too, in either language ("Très bien, je s'esprit" for
    // "Très bien, je souscris", GSM and noise): a person listens to what was agreed. An answer
    // that opens otherwise, heard clearly, neither agrees nor declines in the pack's words: a
    // person listens to whether a sale was made; nobody is accused on the pack's vocabulary.
    let (agreed, undecided, declined) = (
        "listen to what was agreed",
        "listen to whether a sale was made",
        "listen to whether they declined",
    );
    for (answer, listen) in [
        ("Alright, I've read the switch to the new terrace.", agreed),
        ("Sounds good, I've read the switch.", agreed),
        ("Très bien, je s'esprit.", agreed),
        ("Bien sûr, je s'esprit.", agreed),
        ("C'est très bien, je gamin.", agreed),
        ("Ah, yes, I've read the switch.", agreed),
        ("Hmm, I've read the switch.", undecided),
        ("Let me see, okay, I've read the switch.", undecided),
        // A "no" heard clearly: a refusal in other words, or a doubt.
        ("I don't know, okay, I've read the switch.", declined),
        ("Bien, je s'esprit.", undecided),
    ] {
        let mut other = turns.clone();
        other[4] = (C, 20_000, answer);
        let mut t = transcript(&other);
        t.language = "en".into();
        let v = run(&book, &t, &m);
        let f = finding(&v, "consent");
        assert_eq!(f.status, FindingStatus::Review, "{answer}");
        assert!(f.detail.ends_with(listen), "{answer}: {}", f.detail);
    }
}

#[test]
fn a_doubtful_word_too_short_to_hold_the_item_does_not_hide_it() {
    let book = RuleBook::pack("en-sales").unwrap();
    let turns = [
        (
            A,
            0,
            "Good afternoon, my name is Laura Hughes from Isosell, calling on behalf of Warm Home Services.",
        ),
        (C, 6_000, "Good afternoon."),
        (A, 8_000, "It costs twelve pounds per month."),
    ];
    let m = meta("2026-03-03T10:30:00+01:00");
    let notice = |t: &Transcript| {
        let v = run(&book, t, &m);
        let f = finding(&v, "recorded_notice");
        (f.outcome, f.status)
    };
    let word = |t: &mut Transcript, text: &str| -> usize {
        t.segments[0]
            .words
            .iter()
            .position(|w| w.text.trim() == text)
            .expect("word")
    };
    // "Warm" (300 ms) heard with doubt: "being recorded", the shortest way to say the notice,
    // takes longer than that even said fast. Not said, heard with confidence: a violation.
    let mut t = transcript(&turns);
    let i = word(&mut t, "Warm");
    t.segments[0].words[i].probability = 0.2;
    assert_eq!(notice(&t), (Outcome::Missing, FindingStatus::Fail));
    // Two doubtful words one after the other (600 ms) could be it garbled: a person listens.
    t.segments[0].words[i + 1].probability = 0.2;
    assert_eq!(notice(&t), (Outcome::Missing, FindingStatus::Review));
    // A long word a broken decoding placed at one instant counts by its syllables.
    let mut t = transcript(&turns);
    let w = &mut t.segments[0].words[i + 1];
    (w.text, w.end_ms, w.probability) = (" Homeservicesincluded".into(), w.start_ms, 0.2);
    assert_eq!(notice(&t), (Outcome::Missing, FindingStatus::Review));
}

/// "par courrier" heard "par coin et", every word with confidence: the written confirmation
/// is missing, an accusation. Where the script check found the recording nearly supports "par
/// courrier" there (a `NearReading`), the absence is for a person to check; not so for a
/// reading of another rule, of a phrasing the rule set no longer has, or elsewhere.
#[test]
fn a_reading_the_recording_nearly_supports_holds_an_accusation_back() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let mut turns = compliant();
    turns[5] = (
        A,
        23_000,
        "Vous aurez l'offre par coin et vous ne serez engagée qu'après l'avoir signée.",
    );
    let mut t = transcript(&turns);
    let written = |t: &Transcript| finding(&run(&book, t, &m), "written_confirmation").clone();
    let f = written(&t);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Fail)
    );
    let near = |rule_id: &str, phrasing: &str, start_ms: u64| NearReading {
        rule_id: rule_id.into(),
        phrasing: phrasing.into(),
        speaker: A,
        channel: 0,
        start_ms,
        end_ms: start_ms + 900,
        nats_below: 8.4,
    };
    for other in [
        near("bloctel", "par courrier", 24_000),
        near("written_confirmation", "par pigeon voyageur", 24_000),
        // Before the offer was made: not where the item was looked for.
        near("written_confirmation", "par courrier", 1_000),
    ] {
        t.near_readings = vec![other];
        assert_eq!(written(&t).status, FindingStatus::Fail);
    }
    t.near_readings = vec![near("written_confirmation", "par courrier", 24_000)];
    let f = written(&t);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Review)
    );
    assert!(
        f.detail.contains("\"par courrier\" at 0:24"),
        "{}",
        f.detail
    );
    assert!(f.detail.contains("8.4 nats"), "{}", f.detail);
    assert_eq!(
        f.hearing.as_ref().and_then(|h| h.doubtful),
        Some((24_000, 24_900))
    );
    assert_eq!(run(&book, &t, &m).verdict, Verdict::NeedsReview);
}

/// "Non, ça ne m'intéresse pas, merci" heard "Nous, ça nous m'intéressera, merci", every word
/// but the first with confidence: no assent and no refusal found. The answer opens on a word
/// heard with doubt, where "oui" or "non" is said: the missing assent is for a person to hear,
/// never an accusation. Heard surely, the same words are no assent.
#[test]
fn an_answer_opening_on_a_word_heard_with_doubt_holds_a_missing_assent_back() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let mut turns = compliant();
    turns[7] = (C, 32_000, "Nous, ça nous m'intéressera, merci.");
    let mut t = transcript(&turns);
    let consent = |t: &Transcript| finding(&run(&book, t, &m), "consent").clone();
    // Heard surely, the answer neither agrees nor declines in the pack's words: for a person,
    // with nothing heard in doubt to point at.
    let f = consent(&t);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Review),
        "{f:#?}"
    );
    assert_eq!(f.hearing.as_ref().and_then(|h| h.doubtful), None);
    // The opening word at 0.49, the others heard surely.
    let seg = t
        .segments
        .iter_mut()
        .find(|s| s.start_ms == 32_000)
        .unwrap();
    seg.words[0].probability = 0.49;
    let f = consent(&t);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Review),
        "{f:#?}"
    );
    assert_eq!(
        f.hearing.as_ref().and_then(|h| h.doubtful),
        Some((32_000, 32_300))
    );
    assert_eq!(run(&book, &t, &m).verdict, Verdict::NeedsReview);
    // A word heard with doubt inside the answer, not opening it, hides no "oui" or "non".
    let seg = t
        .segments
        .iter_mut()
        .find(|s| s.start_ms == 32_000)
        .unwrap();
    seg.words[0].probability = 0.9;
    seg.words[2].probability = 0.49;
    assert_eq!(consent(&t).hearing.and_then(|h| h.doubtful), None);
}

/// "Hum, je ne sais pas trop" heard "Vomme, je ne sais pas trop", "Vomme" with doubt, then
/// the agent: "Je note votre accord". Whatever the first word was, a yes there would not make
/// the rest an assent: the agent stated an agreement the customer never gave, a violation.
/// Where the rest could be one ("Vomme, je le prends" for "Oui, je le prends"), or another
/// word of it was heard with doubt, the customer's assent may be what was misheard.
#[test]
fn an_opening_word_in_doubt_hides_no_assent_the_rest_of_the_answer_rules_out() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let with_answer = |answer: &'static str, doubtful: &[usize]| {
        let mut turns = compliant();
        turns[7] = (C, 32_000, answer);
        turns.push((A, 36_000, "Très bien, je note votre accord. Bonne journée."));
        let mut t = transcript(&turns);
        let seg = t
            .segments
            .iter_mut()
            .find(|s| s.start_ms == 32_000)
            .unwrap();
        for &k in doubtful {
            seg.words[k].probability = 0.3;
        }
        finding(&run(&book, &t, &m), "consent").clone()
    };
    let f = with_answer("Vomme, je ne sais pas trop.", &[0]);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::WrongSpeaker, FindingStatus::Fail),
        "{f:#?}"
    );
    for (answer, doubtful) in [
        ("Vomme, je le prends.", &[0][..]),
        ("Vomme, je ne sais pas trop.", &[0, 3][..]),
    ] {
        let f = with_answer(answer, doubtful);
        assert_eq!(f.status, FindingStatus::Review, "{answer}: {f:#?}");
    }
}

/// The script check reads phrasings as the recogniser writes them ("inscrire sur la liste
/// Bloctel", the vocabulary's capital): such a near reading is still one of the rule's
/// phrasings, and holds the accusation back.
#[test]
fn a_near_reading_in_the_recognisers_spelling_holds_an_accusation_back() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let mut turns = compliant();
    turns[2] = (
        A,
        10_000,
        "Vous pouvez vous inscrire gratuitement sur la liste du boulanger du quartier.",
    );
    let mut t = transcript(&turns);
    let bloctel = |t: &Transcript| finding(&run(&book, t, &m), "bloctel").clone();
    assert_eq!(
        bloctel(&t).status,
        FindingStatus::Fail,
        "{:#?}",
        bloctel(&t)
    );
    t.near_readings = vec![NearReading {
        rule_id: "bloctel".into(),
        phrasing: crate::readings::written(&book, "bloctel"),
        speaker: A,
        channel: 0,
        start_ms: 12_000,
        end_ms: 13_000,
        nats_below: 7.5,
    }];
    assert_eq!(t.near_readings[0].phrasing, "Bloctel");
    let f = bloctel(&t);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Review),
        "{f:#?}"
    );
}

/// A disclosure heard clearly but for one word is not missing for certain: the doubtful word
/// with the disclosure's own words on either side could be all of it ("délai de rétractation
/// de [quatorze] jours"), wherever it was said, and a name a neighbour's phrasing took in may
/// be the item's words garbled.
#[test]
fn a_disclosure_with_one_word_barely_heard_is_doubtful_wherever_it_was_said() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let withdrawal = |t: &Transcript| {
        let v = run(&book, t, &m);
        let f = finding(&v, "withdrawal_14d").clone();
        (f.outcome, f.status, f.hearing)
    };
    let lose = |t: &mut Transcript, seg: usize, text: &str, p: f32| {
        let w = t.segments[seg]
            .words
            .iter_mut()
            .find(|w| w.text.trim() == text)
            .expect("word");
        (w.text, w.probability) = (" catorzo".into(), p);
    };
    // In the pack's order (after the price, before the confirmation): "quatorze" lost.
    let mut t = transcript(&compliant());
    lose(&mut t, 4, "quatorze", 0.2);
    let (outcome, status, hearing) = withdrawal(&t);
    assert_eq!((outcome, status), (Outcome::Missing, FindingStatus::Review));
    // The stretch to listen to holds the disclosure's words around the lost one.
    let (from, to) = hearing.and_then(|h| h.doubtful).expect("a doubtful span");
    assert!(
        from <= 19_000 + 300 * 3 && to >= 19_000 + 300 * 7,
        "{from}-{to}"
    );
    // Another number heard clearly is a violation: the withdrawal period is not 14 days.
    let mut clear = transcript(&compliant());
    lose(&mut clear, 4, "quatorze", 0.9);
    clear.segments[4]
        .words
        .iter_mut()
        .find(|w| w.text == " catorzo")
        .expect("word")
        .text = " sept".into();
    let (outcome, status, _) = withdrawal(&clear);
    assert_eq!((outcome, status), (Outcome::Missing, FindingStatus::Fail));
    // A word that is no number in its place, however sure the recogniser was of it: the
    // period was spoken of ("délai", "rétractation", "jours") and its number lost, for a
    // person to hear.
    let mut garbled = transcript(&compliant());
    lose(&mut garbled, 4, "quatorze", 0.9);
    let (outcome, status, _) = withdrawal(&garbled);
    assert_eq!((outcome, status), (Outcome::Missing, FindingStatus::Review));
    // Said last, after the confirmation: out of the pack's order, still found doubtful.
    let mut turns = compliant();
    let said = turns.remove(4);
    turns.insert(5, (A, 27_000, said.2));
    turns[4].1 = 19_000;
    let mut t = transcript(&turns);
    lose(&mut t, 5, "quatorze", 0.2);
    assert_eq!(withdrawal(&t).1, FindingStatus::Review);
}

/// "de la part de [box-fauté], pour une offre": the article "une" is a word of "une fois
/// signé" and normalises to the number 1, but says nothing of the binding item; a garbled name
/// in the opening is no place where that item was said.
#[test]
fn an_article_beside_a_garbled_name_is_no_sign_of_a_missing_item() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let binding = |t: &Transcript| {
        let v = run(&book, t, &m);
        let f = finding(&v, "binding_after_signature").clone();
        (f.outcome, f.status)
    };
    let mut turns = compliant();
    turns[5].2 = "Vous recevrez l'offre par courrier.";
    let mut t = transcript(&turns);
    assert_eq!(binding(&t), (Outcome::Missing, FindingStatus::Fail));
    let w = t.segments[0]
        .words
        .iter_mut()
        .find(|w| w.text.trim() == "Centre")
        .expect("word");
    (w.text, w.probability) = (" Santré".into(), 0.45);
    assert_eq!(binding(&t), (Outcome::Missing, FindingStatus::Fail));
}

/// "I'm Ryan Cole, [calling] from Isosell for Fit Club": the identity's `{name}` took the
/// barely heard word, which may be the "calling" of "calling for".
#[test]
fn a_word_taken_into_a_neighbours_name_can_still_be_the_missing_item() {
    let book = RuleBook::pack("en-sales").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let turns = vec![
        (
            A,
            0,
            "Hello, I'm Ryan Cole, calling from Isosell for Fit Club. This call is being recorded.",
        ),
        (C, 6_000, "Hi there."),
    ];
    let on_behalf = |t: &Transcript| {
        let v = run(&book, t, &m);
        let f = finding(&v, "on_behalf");
        (f.outcome, f.status)
    };
    let t = transcript(&turns);
    assert_eq!(on_behalf(&t), (Outcome::Met, FindingStatus::Pass));
    let mut t = transcript(&turns);
    let w = &mut t.segments[0].words[4];
    assert_eq!(w.text.trim(), "calling");
    (w.text, w.probability) = (" Gordon".into(), 0.2);
    assert_eq!(on_behalf(&t), (Outcome::Missing, FindingStatus::Review));
    // Heard clearly as another word, "for Fit Club" alone says on nobody's behalf.
    t.segments[0].words[4].probability = 0.9;
    assert_eq!(on_behalf(&t), (Outcome::Missing, FindingStatus::Fail));
}

/// The compliant French call with the agent's turn `i` said as `text`, at its time.
fn compliant_saying(i: usize, text: &'static str) -> Transcript {
    let mut turns = compliant();
    turns[i].2 = text;
    transcript(&turns)
}

/// A lexicon of every word of the compliant French call, and `extra`.
fn words_of_compliant_and(extra: &[&str]) -> crate::Lexicon {
    let mut words: Vec<String> = compliant()
        .iter()
        .flat_map(|(_, _, text)| text.split(|c: char| !c.is_alphanumeric()))
        .map(str::to_lowercase)
        .collect();
    words.extend(extra.iter().map(|w| w.to_string()));
    crate::Lexicon::from_lists([words.join("\n").as_str()])
}

#[test]
fn made_up_words_where_an_item_was_expected_make_its_absence_doubtful() {
    let mut book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let garbled = |offer: &'static str| compliant_saying(3, offer);
    // The words of the language: every word of the template call, and the real ones of the
    // garbled price sentence.
    let lexicon = words_of_compliant_and(&["la", "de", "coup", "sans", "acteur", "retardant"]);
    let price = |book: &RuleBook, t: &Transcript| {
        let v = run(book, t, &m);
        let f = finding(&v, "price");
        (f.outcome, f.status)
    };
    // "L'adhésion au club coûte cent vingt euros" spelled as sounds, every word at 0.9.
    let t = garbled("La desions culo de coup sans l'acteur retardant.");
    // Without the words of the language: nothing says the recogniser was guessing.
    assert_eq!(price(&book, &t), (Outcome::Missing, FindingStatus::Fail));
    book.lexicon = Some(lexicon);
    assert_eq!(price(&book, &t), (Outcome::Missing, FindingStatus::Review));
    let v = run(&book, &t, &m);
    let h = finding(&v, "price").hearing.clone().expect("hearing");
    let (s, e) = h.doubtful.expect("doubtful span");
    assert!((15_000..=17_000).contains(&s) && e <= 17_500, "{s}-{e}");
    // One word that is no word (a name, a brand spelled otherwise) hides nothing.
    let t = garbled("La desions de coup sans l'acteur retardant.");
    assert_eq!(price(&book, &t), (Outcome::Missing, FindingStatus::Fail));
    // Unless it follows a number where a price was expected: the unit is what was garbled
    // ("est à 120 reparences" for "est à cent vingt euros par an"; after "coûte", the number
    // is a price whatever its unit was heard as).
    let t = garbled("Notre offre est à 120 reparences.");
    assert_eq!(price(&book, &t), (Outcome::Missing, FindingStatus::Review));
    let v = run(&book, &t, &m);
    assert!(finding(&v, "price").detail.contains("120 reparences"));
    // A number followed by a word of the language, heard with confidence, is no garbled
    // price.
    let mut t = garbled("Notre offre est à 120 sans acteur.");
    assert_eq!(price(&book, &t), (Outcome::Missing, FindingStatus::Fail));
    // Heard with doubt, that word may be the unit garbled, whether or not the language has
    // it ("qui 120 reparons" at 0.42 for "cent vingt euros par an"), with or without the
    // words of the language to tell.
    let doubtful_sans = |t: &mut Transcript| {
        let w = t
            .segments
            .iter_mut()
            .flat_map(|s| s.words.iter_mut())
            .find(|w| w.text.trim() == "sans")
            .expect("the word");
        w.probability = 0.42;
    };
    doubtful_sans(&mut t);
    assert_eq!(price(&book, &t), (Outcome::Missing, FindingStatus::Review));
    book.lexicon = None;
    assert_eq!(price(&book, &t), (Outcome::Missing, FindingStatus::Review));
    // Not after a number: one doubtful word hides no price (after "coûte", where the amount
    // belongs, it may: "coûte {number}" is a phrasing of its own).
    let mut t = garbled("Notre offre est sans acteur.");
    doubtful_sans(&mut t);
    assert_eq!(price(&book, &t), (Outcome::Missing, FindingStatus::Fail));
}

/// A customer's "je ne sais pas trop" decoded (AMR-NB) as "Je me suis d'accord, je me suis
/// d'accord.", the repeat written into 40 ms at the end of the segment: the call was called
/// compliant. A consent is a sale's proof: one whose words were barely heard, or written in
/// less time than anyone takes to say them, is for a person to hear.
#[test]
fn a_consent_barely_heard_or_said_in_no_time_is_for_review() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let mut turns = compliant();
    turns[7] = (C, 32_000, "Je me suis d'accord, je me suis d'accord.");
    // Heard with confidence, each word in its time: the consent stands.
    let v = run(&book, &transcript(&turns), &m);
    assert_eq!(finding(&v, "consent").status, FindingStatus::Pass);

    // The repeat squeezed into 40 ms.
    let mut t = transcript(&turns);
    let end = t.segments[7].words[3].end_ms;
    for w in &mut t.segments[7].words[4..] {
        (w.start_ms, w.end_ms) = (end, end + 40);
    }
    t.segments[7].end_ms = end + 40;
    let v = run(&book, &t, &m);
    let f = finding(&v, "consent");
    assert_eq!((f.outcome, f.status), (Outcome::Met, FindingStatus::Review));
    assert!(f.detail.contains("less than anyone takes"), "{}", f.detail);

    // Said in its time, but barely heard.
    let mut t = transcript(&turns);
    for w in &mut t.segments[7].words {
        w.probability = 0.31;
    }
    let v = run(&book, &t, &m);
    let f = finding(&v, "consent");
    assert_eq!((f.outcome, f.status), (Outcome::Met, FindingStatus::Review));
    assert!(
        f.detail.contains("not recognised with confidence"),
        "{}",
        f.detail
    );
    // The verdict waits for a person; nobody is accused.
    assert_eq!(v.verdict, Verdict::NeedsReview);

    // An answer that opens with a "yes" heard with confidence says yes, whatever the words
    // after it ("Yes, I've agreed the switch", "agreed" at 0.19).
    let mut yes = turns.clone();
    yes[7] = (C, 32_000, "Oui, je me suis d'accord.");
    let mut t = transcript(&yes);
    for w in &mut t.segments[7].words[1..] {
        w.probability = 0.19;
    }
    let v = run(&book, &t, &m);
    assert_eq!(finding(&v, "consent").status, FindingStatus::Pass);
    // Not when the "yes" itself was barely heard.
    t.segments[7].words[0].probability = 0.3;
    let v = run(&book, &t, &m);
    assert_eq!(finding(&v, "consent").status, FindingStatus::Review);

    // One word under 0.5, none barely heard ("I agree" with "agree" at 0.39): it stands.
    let mut t = transcript(&turns);
    t.segments[7].words[3].probability = 0.39;
    t.segments[7].words[7].probability = 0.39;
    let v = run(&book, &t, &m);
    assert_eq!(finding(&v, "consent").status, FindingStatus::Pass);
}

#[test]
fn an_amount_written_with_its_thousands_apart_is_quoted_whole() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let mut turns = compliant();
    turns[3] = (A, 15_000, "Nos panneaux coûtent 8 000 euros posés.");
    let v = run(
        &book,
        &transcript(&turns),
        &meta("2026-03-03T10:30:00+01:00"),
    );
    let price = finding(&v, "price");
    assert_eq!(price.status, FindingStatus::Pass, "{price:?}");
    // The evidence names the amount said, not its last three digits.
    assert!(
        price
            .matched
            .as_deref()
            .is_some_and(|m| m.contains("8 000")),
        "{price:?}"
    );
}

#[test]
fn a_number_heard_with_doubt_is_named_in_the_evidence() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let mut t = transcript(&compliant());
    let price = |t: &Transcript| finding(&run(&book, t, &m), "price").clone();
    assert!(
        !price(&t).detail.contains("heard with doubt"),
        "{}",
        price(&t).detail
    );
    // The price was stated; which amount, the recogniser was not sure of.
    for w in &mut t.segments[3].words {
        if w.text.trim() == "trente-neuf" {
            w.text = " 39".into();
            w.probability = 0.3;
        }
    }
    t.segments[3].text = t.segments[3].text.replace("trente-neuf", "39");
    let f = price(&t);
    assert_eq!(f.status, FindingStatus::Pass, "{f:?}");
    assert!(
        f.detail
            .contains("the number \"39\" was heard with doubt (probability 0.30)"),
        "{}",
        f.detail
    );
}

/// "À signer" tells the customer their signature is what binds them; inside what the rule set
/// forbids ("vous n'avez rien à signer") the same words tell them the opposite, and disclose
/// nothing.
#[test]
fn a_disclosure_inside_a_forbidden_statement_discloses_nothing() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    // The call with `written` said where the written offer is, and its binding finding.
    let with = |written: &'static str| {
        let mut turns = compliant();
        turns[5] = (A, 23_000, written);
        let v = run(&book, &transcript(&turns), &m);
        let f = finding(&v, "binding_after_signature").clone();
        (v, f)
    };
    let (v, f) = with("Le contrat vous sera envoyé par courrier, à signer.");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Met, FindingStatus::Pass),
        "{f:?}"
    );
    assert_eq!(v.verdict, Verdict::Compliant);
    let (v, f) = with("Le contrat vous sera envoyé par courrier, vous n'avez rien à signer.");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Fail),
        "{f:?}"
    );
    assert_eq!(finding(&v, "final_on_phone").status, FindingStatus::Fail);
}

/// The compliant French call verified with its written-confirmation sentence (which holds the
/// binding clause) said as `written`.
fn written_as(written: &str) -> Verification {
    let mut turns = compliant();
    turns[5] = (A, 23_000, written);
    run(
        &RuleBook::pack("fr-demarchage").unwrap(),
        &transcript(&turns),
        &meta("2026-03-03T10:30:00+01:00"),
    )
}

/// "que vous devrez signer avant tout engagement" heard, with confidence, "que vous devrez finir
/// avant tout engagement": no phrasing of the binding clause is there, but two of its own words
/// ("avant", and "engagement" as "engagé") are, where it was expected. The agent spoke of it;
/// whether in words the rule set lacks or with a word misheard, only a person can tell. One
/// such word is no sign ("je vous appelle" is not "je m'appelle"), and nothing said of it is
/// an accusation.
#[test]
fn an_item_spoken_of_in_other_words_is_for_review_not_an_accusation() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let with = written_as;
    let binding = |v: &Verification| {
        let f = finding(v, "binding_after_signature");
        (f.outcome, f.status, f.detail.clone())
    };
    let v =
        with("Vous recevrez l'offre par courrier, que vous devrez finir avant tout engagement.");
    let (outcome, status, detail) = binding(&v);
    assert_eq!(
        (outcome, status),
        (Outcome::Missing, FindingStatus::Review),
        "{detail}"
    );
    assert!(detail.contains("\"avant\", \"engagement\""), "{detail}");
    let h = finding(&v, "binding_after_signature")
        .hearing
        .clone()
        .unwrap();
    assert_eq!(h.doubtful, Some((23_000, 23_000 + 12 * 300)));
    assert!(h.stretches.is_empty(), "no doubtful words to hear again");
    // One word of it only: no sign it was spoken of.
    let v = with("Vous recevrez l'offre par courrier, à lire avant la livraison.");
    assert_eq!(binding(&v).1, FindingStatus::Fail, "{}", binding(&v).2);
    // Not spoken of at all: the accusation stands.
    let v = with("Vous recevrez l'offre par courrier.");
    assert_eq!(binding(&v).1, FindingStatus::Fail);
    // "appelle" is a word of "je m'appelle", and "je vous appelle" says nothing of who calls.
    let mut turns = compliant();
    turns[0] = (
        A,
        0,
        "Bonjour madame, je vous appelle de la part d'Électricité du Centre pour une offre commerciale.",
    );
    let v = run(&book, &transcript(&turns), &m);
    let f = finding(&v, "identity");
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Fail),
        "{}",
        f.detail
    );
}

/// "Julien Petit de chez Vendicall" heard "j'ai un petit de cheveux n'école": "cheveux" at 0.36
/// is long enough to have been "de chez" garbled, but one word heard with doubt is a stray
/// word; "un" at 0.44, two words before it, is too short (180 ms) to have been any of it. Two
/// words heard with doubt close together in one sentence are garbled speech, whose other words
/// came out sure: the missing identity is for a person. Far apart, or only one, they are not.
#[test]
fn a_doubtful_word_with_another_close_by_makes_garbled_speech() {
    let book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let opening = "Bonjour madame, j'ai un petit de cheveux n'école, je vous appelle pour le compte de Toiture Plus pour une proposition commerciale.";
    let identity = |t: &Transcript| {
        let v = run(&book, t, &m);
        let f = finding(&v, "identity");
        (f.outcome, f.status)
    };
    let at = |t: &Transcript, text: &str| {
        t.segments[0]
            .words
            .iter()
            .position(|w| w.text.trim() == text)
            .expect("word")
    };
    let mut turns = compliant();
    turns[0] = (A, 0, opening);
    let base = transcript(&turns);
    let (un, cheveux) = (at(&base, "un"), at(&base, "cheveux"));
    // One word heard with doubt, not barely: a stray word; the identity is missing.
    let mut t = base.clone();
    t.segments[0].words[cheveux].probability = 0.36;
    assert_eq!(identity(&t), (Outcome::Missing, FindingStatus::Fail));
    // With a short one close by, heard with doubt too: garbled speech.
    let w = &mut t.segments[0].words[un];
    (w.probability, w.end_ms) = (0.44, w.start_ms + 180);
    assert_eq!(identity(&t), (Outcome::Missing, FindingStatus::Review));
    // The short one more than a second before the long one ("un" ends 1 020 ms before
    // "n'école" begins): two stray words.
    let mut t = base.clone();
    t.segments[0].words[at(&base, "n'école,")].probability = 0.36;
    let w = &mut t.segments[0].words[un];
    (w.probability, w.end_ms) = (0.44, w.start_ms + 180);
    assert_eq!(identity(&t), (Outcome::Missing, FindingStatus::Fail));
}

/// A word of agreement said not ("I'm not sure", "not great", "pas d'accord") opens no yes:
/// the customer who answered "I'm not sure", then heard the agent put them down for the offer,
/// never agreed, and the agent recorded an agreement that was not given. Before, "sure" two
/// words into the answer read as an opening yes and sent the call to a person "to listen to
/// what was agreed".
#[test]
fn a_word_of_agreement_said_not_opens_no_yes() {
    let m = meta("2026-03-03T10:30:00+01:00");
    let consent = english_consent;
    let claimed = (Outcome::WrongSpeaker, FindingStatus::Fail);
    for answer in ["I'm not sure.", "Hmm, not sure.", "Well, not great."] {
        assert_eq!(
            consent(&[
                (C, 16_000, answer),
                (A, 18_000, "Perfect, I'll put you down for it then."),
            ]),
            claimed,
            "{answer}"
        );
    }
    // Said as agreement, the same words still open a yes: "Sure, why not" is no violation.
    assert_ne!(
        consent(&[
            (C, 16_000, "Sure, why not."),
            (A, 18_000, "Perfect, I will put you down for it then."),
        ]),
        claimed
    );
    // French: "pas" before the word of agreement.
    let fr = RuleBook::pack("fr-demarchage").unwrap();
    let mut turns = compliant();
    turns[7] = (C, 32_000, "Euh, pas très bien.");
    turns.push((A, 34_000, "Je note votre accord, merci madame."));
    let f = finding(&run(&fr, &transcript(&turns), &m), "consent").clone();
    assert_eq!((f.outcome, f.status), claimed, "{f:?}");
}

/// A yes, a word of liking and a word that takes the offer agree ("Oui, c'est intéressant, je
/// prends", "Yes, sounds reasonable, sign me up"): the liking is said of the offer the customer
/// takes. Liking alone takes nothing ("Oui, c'est intéressant", even to "Ça vous intéresse ?"),
/// nor does it with words of no class ("Yes, interesting, send me a brochure").
#[test]
fn a_yes_with_a_word_of_liking_and_one_that_takes_the_offer_agrees() {
    let consent = |answer: &str, question: &str| french_consent(question, answer);
    let agreed = (Outcome::Met, FindingStatus::Pass);
    let told = "Le contrat vous sera envoyé.";
    assert_eq!(consent("Oui, c'est intéressant, je prends.", told), agreed);
    assert_eq!(consent("Oui, c'est raisonnable, allez-y.", told), agreed);
    assert_ne!(consent("Oui, c'est intéressant.", told), agreed);
    assert_ne!(
        consent("Oui, c'est intéressant.", "Ça vous intéresse ?"),
        agreed
    );
    assert_ne!(
        consent("Oui, c'est intéressant, envoyez-moi une brochure.", told),
        agreed
    );
    let consent = |answer: &'static str| english_consent(&[(C, 16_000, answer)]);
    assert_eq!(consent("Yes, sounds reasonable, sign me up."), agreed);
    assert_ne!(consent("Yes, interesting, send me a brochure."), agreed);
}

#[test]
fn a_reply_that_takes_the_offer_is_read_with_its_yes_anywhere_or_in_words_that_take_it_alone() {
    let consent = |answer: &str| french_consent("Est-ce que cela vous convient ?", answer);
    let agreed = (Outcome::Met, FindingStatus::Pass);
    // A yes of three words, a yes said after the words that take the offer, a turn opened
    // with a word that answers nothing.
    assert_eq!(consent("Oui, ça me convient tout à fait."), agreed);
    assert_eq!(consent("Allez, c'est bon pour moi."), agreed);
    assert_eq!(consent("Écoutez, ça me convient, on peut y aller."), agreed);
    assert_eq!(consent("Je suis preneuse."), agreed);
    assert_eq!(consent("Eh bien, on y va."), agreed);
    // Words that also say other things take nothing without a yes; a yes later does not
    // make an acknowledgement or a reservation an assent.
    assert_ne!(consent("Ça va aller, merci."), agreed);
    assert_ne!(consent("Écoutez, je vois, oui."), agreed);
    assert_ne!(consent("Je prends, mais pas tout de suite."), agreed);
    // A "no" and, further on, a word that may take the offer: for a person, not a refusal.
    assert_eq!(
        consent("Non, pas de souci, envoyez-le-moi."),
        (Outcome::Refused, FindingStatus::Review)
    );
    // "Laisser tomber" declines.
    assert_eq!(
        consent("C'est beaucoup trop cher, je vais laisser tomber.").0,
        Outcome::Refused
    );
    // So does the reason alone, with no "no"; with a word that may take the offer, or a
    // price that is only "un peu cher", it is for a person.
    assert_eq!(
        consent("C'est beaucoup trop cher pour moi, merci."),
        (Outcome::Refused, FindingStatus::Fail)
    );
    assert_ne!(
        consent("C'est trop cher, mais bon, allez, je prends.").0,
        Outcome::Refused
    );
    assert_ne!(consent("C'est un peu cher, merci.").0, Outcome::Refused);
    let consent = |answer: &'static str| {
        english_consent(&[
            (A, 14_000, "Would you like to go ahead?"),
            (C, 16_000, answer),
        ])
    };
    assert_eq!(consent("Go on then, yes."), agreed);
    assert_eq!(consent("Okay, I'll take it."), agreed);
    assert_eq!(consent("I'll take it."), agreed);
    assert_eq!(consent("Definitely, sign me up."), agreed);
    assert_eq!(consent("Right, go ahead then."), agreed);
    assert_eq!(consent("Yes please, that would be great."), agreed);
    assert_ne!(consent("I have to go."), agreed);
    assert_ne!(consent("Right, let me see."), agreed);
    let declined = (Outcome::Refused, FindingStatus::Fail);
    assert_eq!(
        consent("That's far too expensive, I'll leave it, thanks."),
        declined
    );
    assert_eq!(consent("That's too much for me, thanks."), declined);
    assert_ne!(consent("Thank you so much."), declined);
    assert_ne!(consent("Too expensive? No, I'll take it."), declined);
    // Said over the offer's last word ("period." from 13.5 s to 13.8 s), the reply answers
    // it all the same.
    assert_eq!(
        english_consent(&[
            (C, 13_100, "I'd"),
            (
                C,
                13_600,
                "rather think it over first, thanks. Maybe another time."
            ),
        ]),
        declined
    );
}

#[test]
fn a_refusal_then_a_claim_heard_with_doubt_proves_no_sale_until_someone_listens() {
    let m = meta("2026-03-03T10:30:00+01:00");
    let fr = RuleBook::pack("fr-demarchage").unwrap();
    // "Je note votre accord" heard "Je n'en peux votre accord", "peux" at `prob`.
    let consent = |refusal: &'static str, prob: f32| {
        let mut turns = compliant();
        turns[7] = (C, 32_000, refusal);
        turns.push((A, 36_000, "Je n'en peux votre accord, madame. Au revoir."));
        let mut t = transcript(&turns);
        for w in t.segments.iter_mut().flat_map(|s| s.words.iter_mut()) {
            if w.text.trim() == "peux" {
                w.probability = prob;
            }
        }
        let f = finding(&run(&fr, &t, &m), "consent").clone();
        (f.outcome, f.status)
    };
    // A refusal the rule set holds, and one in the customer's own words.
    for refusal in [
        "Non merci, ça ne m'intéresse pas.",
        "Non, ce n'est pas pour moi.",
    ] {
        assert_eq!(
            consent(refusal, 0.28),
            (Outcome::Refused, FindingStatus::Review),
            "{refusal}"
        );
        // The same words heard with confidence are no claim: the refusal stands.
        assert_eq!(
            consent(refusal, 0.9),
            (Outcome::Refused, FindingStatus::Fail),
            "{refusal}"
        );
    }
}

/// The consent of the compliant French call when the customer answers "Qu'en pensez-vous ?"
/// with `answer` and the agent then says `closing`.
fn french_closing(answer: &str, closing: &str) -> (Outcome, FindingStatus) {
    let mut turns = compliant();
    turns[6] = (A, 30_000, "Qu'en pensez-vous ?");
    turns[7] = (C, 32_000, answer);
    turns.push((A, 36_000, closing));
    let fr = RuleBook::pack("fr-demarchage").unwrap();
    let f = finding(
        &run(&fr, &transcript(&turns), &meta("2026-03-03T10:30:00+01:00")),
        "consent",
    )
    .clone();
    (f.outcome, f.status)
}

/// The consent of the English call when the customer answers "What do you think?" with
/// `answer` and the agent then says `closing`.
fn english_closing(answer: &str, closing: &str) -> (Outcome, FindingStatus) {
    english_consent(&[
        (A, 14_000, "What do you think?"),
        (C, 16_000, answer),
        (A, 19_000, closing),
    ])
}

#[test]
fn an_agent_who_records_a_sale_in_their_own_words_after_no_assent_is_the_violation() {
    let french = french_closing;
    let violation = (Outcome::WrongSpeaker, FindingStatus::Fail);
    // Unsure, put off, declined, then a sale recorded in words no rule set holds.
    for (answer, closing) in [
        (
            "Je ne sais pas, c'est un peu cher.",
            "Très bien, je valide votre commande.",
        ),
        (
            "Rappelez-moi plutôt la semaine prochaine.",
            "Parfait, je vous inscris dès aujourd'hui.",
        ),
        (
            "Non, ça ne m'intéresse pas.",
            "Bien, j'enregistre votre abonnement.",
        ),
    ] {
        assert_eq!(french(answer, closing), violation, "{answer} / {closing}");
    }
    // A yes after the "no" or the doubt may have turned it: no accusation.
    for answer in ["Non, enfin si, d'accord.", "Je ne sais pas, bon, d'accord."] {
        assert_ne!(
            french(answer, "Parfait, j'enregistre votre commande.").0,
            Outcome::WrongSpeaker,
            "{answer}"
        );
    }
    // The same words after a clear yes record the customer's own assent.
    assert_eq!(
        french("Oui, je le prends.", "Parfait, je valide votre commande."),
        (Outcome::Met, FindingStatus::Pass)
    );
    // Words that record something else than a sale, or say no, or ask: no accusation.
    for closing in [
        "Entendu, je vous envoie notre brochure.",
        "Je comprends, je note que vous ne souhaitez pas donner suite.",
        "Très bien, je vous inscris sur notre liste d'opposition.",
        "J'enregistre votre demande de rappel pour lundi.",
        "Voulez-vous que je valide votre commande ?",
        "Si vous le souhaitez, je vous inscris.",
    ] {
        assert_ne!(
            french("Non merci, pas pour l'instant.", closing).1,
            FindingStatus::Pass,
            "{closing}"
        );
        assert_ne!(
            french("Non merci, pas pour l'instant.", closing).0,
            Outcome::WrongSpeaker,
            "{closing}"
        );
    }
    let english = english_closing;
    for (answer, closing) in [
        (
            "I'm not sure, to be honest.",
            "No problem, I'll book that in for you now.",
        ),
        (
            "No, I don't think so.",
            "Lovely, I've registered your order.",
        ),
        (
            "I'd like to think about it first.",
            "Smashing, I'll set up your account today.",
        ),
        ("Yes, I see.", "Great, we've signed you up."),
        // A yes word inside a clause is no yes.
        (
            "Maybe I'm not really sure.",
            "Brilliant, I'll get that started for you.",
        ),
        (
            "No, I'm fine with what I have.",
            "Great, I've switched you over.",
        ),
    ] {
        assert_eq!(english(answer, closing), violation, "{answer} / {closing}");
    }
    // "Take me off your list" declines; "I'll book it back in" records.
    assert_eq!(
        english(
            "No thanks, please take me off your list.",
            "Certainly, goodbye."
        ),
        (Outcome::Refused, FindingStatus::Fail)
    );
    // What the refusal asked for, given with a yes, records no sale.
    assert_eq!(
        english(
            "No thanks, please take me off your list.",
            "Certainly, I'll remove your number today."
        ),
        (Outcome::Refused, FindingStatus::Fail)
    );
    assert_eq!(
        english(
            "I'm not sure.",
            "No problem, I'll book it back in for you now."
        ),
        violation
    );
    assert_eq!(
        english("Yes, let's do it.", "Great, I'll book that in for you."),
        (Outcome::Met, FindingStatus::Pass)
    );
    for closing in [
        "Of course, I'll make a note to call you then.",
        "Certainly, I'll remove your number today.",
        "I'll book you a call back next week.",
        "I'll send you the contract to sign.",
    ] {
        assert_ne!(
            english("Not today, call me next month.", closing).0,
            Outcome::WrongSpeaker,
            "{closing}"
        );
    }
    // A word of the record heard with doubt: for a person, never an accusation.
    let mut turns = compliant();
    turns[6] = (A, 30_000, "Qu'en pensez-vous ?");
    turns[7] = (C, 32_000, "Je ne sais pas, c'est un peu cher.");
    turns.push((A, 36_000, "Très bien, j'enregistre votre commande."));
    let mut t = transcript(&turns);
    let closing = t.segments.last_mut().unwrap();
    closing.words[2].probability = 0.3;
    let fr = RuleBook::pack("fr-demarchage").unwrap();
    let v = run(&fr, &t, &meta("2026-03-03T10:30:00+01:00"));
    assert_ne!(finding(&v, "consent").outcome, Outcome::WrongSpeaker);
}

/// Confirming or passing on the order, or setting it in place, records the sale as any verb
/// of recording does; confirming anything else records nothing.
#[test]
fn an_agent_who_confirms_or_passes_on_the_order_records_a_sale() {
    let violation = (Outcome::WrongSpeaker, FindingStatus::Fail);
    for (answer, closing) in [
        (
            "Je ne sais pas trop.",
            "Bon, je confirme votre commande alors.",
        ),
        (
            "Non, ce n'est pas pour moi.",
            "Très bien, j'ai transmis votre commande au service client.",
        ),
        (
            "Euh, je ne suis pas certaine.",
            "Parfait, je vous mets tout ça en place.",
        ),
        ("Je vais y réfléchir.", "Entendu, je passe la commande."),
        // Reassurance is no "no".
        (
            "Hum, je ne sais pas.",
            "Ne vous inquiétez pas, je transmets votre commande à l'installateur.",
        ),
    ] {
        assert_eq!(
            french_closing(answer, closing),
            violation,
            "{answer} / {closing}"
        );
    }
    let english = english_closing;
    for (answer, closing) in [
        (
            "I'm not sure about that.",
            "Right, I've confirmed your order.",
        ),
        ("Maybe later.", "No problem, I'll lock that in for you."),
        (
            "No, I don't think so.",
            "Lovely, I'll confirm the booking now.",
        ),
    ] {
        assert_eq!(english(answer, closing), violation, "{answer} / {closing}");
    }
    // Confirmed, but not the order: no sale recorded.
    for closing in [
        "Je vous confirme que vous avez quatorze jours pour changer d'avis.",
        "Je vous confirme l'envoi de notre brochure.",
    ] {
        assert_ne!(
            french_closing("Je ne sais pas trop.", closing).0,
            Outcome::WrongSpeaker,
            "{closing}"
        );
    }
    for closing in [
        "I can confirm the price is fixed for a year.",
        "I'll confirm your details by email.",
    ] {
        assert_ne!(
            english("I'm not sure about that.", closing).0,
            Outcome::WrongSpeaker,
            "{closing}"
        );
    }
}

/// A disclosure's words said right after a "no" may deny it: "vous n'aurez rien à signer",
/// heard "vous n'aurez pas n'assigné" (too garbled for the forbidden statement to be found),
/// passed the binding clause of a call that denied it. Such a match is for a person; a "no"
/// the phrasing holds, or an amount after a misheard "pas", is not.
#[test]
fn a_disclosure_heard_right_after_a_no_is_for_a_person_not_a_pass() {
    let binding = |written: &str| {
        let f = finding(&written_as(written), "binding_after_signature").clone();
        (f.outcome, f.status)
    };
    assert_eq!(
        binding("Vous recevrez l'offre par courrier, mais vous n'aurez pas à signer, tout se règle par téléphone."),
        (Outcome::Met, FindingStatus::Review)
    );
    assert_eq!(
        binding("Vous recevrez l'offre par courrier, sans signature de votre part."),
        (Outcome::Met, FindingStatus::Review)
    );
    // Stated, with a "no" of its own or before another word.
    let stated = (Outcome::Met, FindingStatus::Pass);
    assert_eq!(binding(WRITTEN), stated);
    assert_eq!(
        binding("Vous recevrez l'offre par courrier, et rien ne vous engage tant que vous n'avez pas signé."),
        stated
    );
    assert_eq!(
        binding(
            "Vous recevrez l'offre par courrier, vous ne serez pas engagée avant votre signature."
        ),
        stated
    );
}

/// An agent who agrees to what the customer asked instead of the sale ("C'est d'accord, je
/// vous rappelle lundi" to "Rappelez-moi la semaine prochaine") records no agreement to it:
/// the pack's words of assent in the agent's mouth were a claim, and the call a violation.
#[test]
fn an_agent_who_agrees_to_call_back_records_no_sale() {
    let consent = french_closing;
    for closing in [
        "C'est d'accord, je vous rappelle lundi.",
        "C'est d'accord. Je vous rappellerai lundi.",
        "Je note votre accord pour un rappel lundi.",
    ] {
        assert_eq!(
            consent("Rappelez-moi la semaine prochaine.", closing),
            (Outcome::Refused, FindingStatus::Fail),
            "{closing}"
        );
    }
    // Agreeing with the customer is no claim of the sale.
    assert_eq!(
        consent(
            "Non merci, c'est trop cher pour moi.",
            "Je suis d'accord avec vous, c'est une somme. Bonne journée."
        ),
        (Outcome::Refused, FindingStatus::Fail)
    );
    // A claim of the sale itself stands.
    assert_eq!(
        consent(
            "Rappelez-moi la semaine prochaine.",
            "Je note votre accord, madame."
        ),
        (Outcome::WrongSpeaker, FindingStatus::Fail)
    );
}

/// What an honest agent says of signing, of the contract's term and of the customer's time
/// comes close to what the packs forbid, phrasings and meanings alike: it accuses no one.
/// Put after the signature ("une fois signé", "quand vous l'aurez signé"), giving the term
/// ("conclu pour une durée de douze mois"), offered as a choice ("you can decide right now or
/// take a few days"), under a "no". The statements themselves still fail.
#[test]
fn honest_words_close_to_a_forbidden_statement_accuse_no_one() {
    for said in [
        "Le contrat vous sera envoyé par courrier, il ne deviendra définitif qu'après votre signature.",
        "La commande sera ferme une fois le contrat signé.",
        "C'est définitif seulement après signature.",
        "Le contrat est conclu après votre signature.",
        "Le contrat est conclu pour une durée de douze mois.",
        "Vous êtes engagée seulement après avoir signé.",
        "Une fois signé, le contrat est définitif.",
        "Le contrat sera conclu quand vous l'aurez signé.",
        "Le prix est ferme et définitif pour un an.",
        "Votre accord suffit pour que je vous envoie le contrat.",
    ] {
        let f = final_on_phone_after(said);
        assert_ne!(f.status, FindingStatus::Fail, "{said}: {f:?}");
    }
    for said in [
        "You can decide right now or take a few days, it's up to you.",
        "If you'd like, you can decide now, or call us back.",
        "This offer doesn't expire today, take your time.",
        "The offer expires at the end of the year.",
        "This is not a last chance offer.",
        "The price goes up only after the first year.",
        "You have to decide whether the cover suits you.",
        "We need to know today if the engineer can come.",
    ] {
        let f = no_pressure_after(said);
        assert_ne!(f.status, FindingStatus::Fail, "{said}: {f:?}");
    }
    for said in [
        "Le contrat est conclu, vous n'avez rien à signer.",
        "Vous êtes engagé dès maintenant, la signature n'est qu'une formalité.",
    ] {
        let f = final_on_phone_after(said);
        assert_eq!(f.status, FindingStatus::Fail, "{said}: {f:?}");
    }
    let f = no_pressure_after("You need to decide right now.");
    assert_eq!(f.status, FindingStatus::Fail, "{f:?}");
}

/// The no_pressure finding of the French compliant call with the agent's `said` added.
fn french_pressure_after(said: &str) -> Finding {
    finding(&french_with(said), "no_pressure").clone()
}

/// The no_pressure finding of the call of `language` ("fr" or "en") with the agent's `said`.
fn pressure_in(language: &str, said: &str) -> Finding {
    if language == "fr" {
        french_pressure_after(said)
    } else {
        no_pressure_after(said)
    }
}

/// Pressure comes in as many words as agents have, in French too (the French pack forbids it
/// since an offer falsely said to last a very short time is a misleading practice): an offer
/// that ends tonight, a decision required before the call ends, an offer never to be made
/// again. Words about time that press nothing — the customer's own contract ending, an offer
/// that stays open, a deadline denied — accuse no one.
#[test]
fn pressure_in_other_words_is_read_in_either_language_and_honest_time_words_are_not() {
    let cases: [(&str, &[&str], bool); 4] = [
        (
            "en",
            &[
                "I won't be able to offer you this discount again.",
                "This promotion closes at midnight.",
                "It's now or never for this deal.",
                "You'll need to give me your answer before we hang up.",
                "The discount will be gone once we hang up.",
                "I can only guarantee this price if you say yes today.",
                "We can only hold this discount until we hang up.",
                "This rate is reserved for customers who sign up tonight.",
            ],
            true,
        ),
        (
            "en",
            &[
                "Your current deal ends tomorrow, so I'm calling to renew it.",
                "Your existing rate goes up next month, which is why I'm calling.",
                "The offer will still be open tomorrow.",
                "This price doesn't end tonight.",
                "You won't get any more calls from us after this call.",
                "The engineer won't be available tomorrow.",
            ],
            false,
        ),
        (
            "fr",
            &[
                "Cette remise expire ce soir.",
                "Le tarif augmente demain.",
                "Vous devez vous décider maintenant.",
                "Une offre comme ça, vous ne la retrouverez plus après notre appel.",
                "C'est maintenant ou jamais.",
                "Je ne peux vous garantir ce prix que si vous acceptez aujourd'hui.",
                "Cette remise n'est maintenue que jusqu'à la fin de l'appel.",
                "Ce tarif est réservé aux clients qui signent ce soir.",
            ],
            true,
        ),
        (
            "fr",
            &[
                "Votre tarif actuel augmente demain, c'est pour cela que je vous appelle.",
                "L'offre ne s'arrête pas ce soir.",
                "Cette offre reste valable jusqu'à la fin du mois.",
                "Vous n'êtes pas obligé de décider aujourd'hui.",
                "Vous ne serez plus appelé après cet appel.",
                "Vous recevrez le contrat ce soir.",
            ],
            false,
        ),
    ];
    for (language, sentences, forbidden) in cases {
        for said in sentences {
            let f = pressure_in(language, said);
            assert_eq!(f.status == FindingStatus::Fail, forbidden, "{said}: {f:?}");
        }
    }
    // One long word heard close to its group's: for a person, never an accusation.
    let f = no_pressure_after("This promocion closes at midnight.");
    assert_eq!(f.status, FindingStatus::Review, "{f:?}");
}

/// What sellers say of time, of the offer and of the call, honestly — a deadline that is no
/// deadline, the customer's old contract, a delivery date, the end of the call — is no
/// pressure, in either language, nor a clause of time or a pronoun read with the clause it
/// belongs to, nor an honest "only" ("Il n'y a que vous qui décidez", "you only pay twelve
/// pounds a month from today", "Today I'm only calling to tell you about our offer").
#[test]
fn honest_words_about_time_press_no_one() {
    let en = [
        "Our current offer ends on the thirty-first of next month.",
        "The price will be the same tomorrow and next week.",
        "You'll get the contract by email today.",
        "If the price goes up tomorrow, we'll let you know in writing.",
        "The installer can come today or tomorrow, whichever suits you.",
        "This rate is fixed and never goes up.",
        "Your price is locked in from today for two years.",
        "I can't offer you a lower price than this one, I'm afraid.",
        "We won't be able to offer you a visit before Monday.",
        "The offer is open to everyone, today and every day.",
        "After this call you'll receive a text message with the details.",
        "Your old tariff ends tonight at midnight.",
        "The discount applies from today for the first year.",
        "You should receive the welcome pack tomorrow.",
        "Once we finish this call, I'll send you the offer by email.",
        "You don't need to decide anything on this call.",
        "The promotion runs until the end of the year.",
        "Prices in the market go up every winter, but ours is fixed.",
        "There's no last chance here, the offer stays open.",
        "I need to confirm your address now.",
        "After today, you'll receive the contract by email.",
        "If you'd rather wait, the offer will still stand next week.",
        "Two engineers are free this week, and they can come tomorrow.",
        "I need your answer to a few security questions now.",
        "Only you can decide, and there's no rush at all.",
        "The price only changes once a year, in January.",
        "We'll only call you back if you ask us to.",
        "You're only bound once you sign the contract we email you today.",
        "You only pay twelve pounds a month from today.",
        "The price is only thirty pounds a month from now on.",
        "Today I'm only calling to tell you about our offer.",
        "It's the only offer we have today, and it stays open all year.",
        "This offer is only for new customers, and you can decide next month.",
        "I can only send you the offer tomorrow.",
        "The offer only covers what we install today.",
        "I can only email you the offer tonight, our system is down.",
        "The price only includes the visit we book today.",
    ];
    let fr = [
        "Notre offre actuelle se termine le trente et un du mois prochain.",
        "Vous recevrez le contrat par courrier demain.",
        "Si le prix augmente demain, vous serez prévenu par écrit.",
        "Le technicien peut passer aujourd'hui ou demain, comme vous voulez.",
        "Ce tarif est fixe et n'augmente jamais.",
        "Votre prix est bloqué à partir d'aujourd'hui pour deux ans.",
        "Je ne peux pas vous proposer un prix plus bas que celui-ci.",
        "Après cet appel, vous recevrez un SMS avec le détail de l'offre.",
        "Votre ancien tarif se termine ce soir à minuit.",
        "La remise s'applique dès aujourd'hui pour la première année.",
        "Vous devez recevoir le colis de bienvenue demain.",
        "Une fois l'appel terminé, je vous envoie l'offre par e-mail.",
        "Vous n'avez rien à décider pendant l'appel.",
        "La promotion court jusqu'à la fin de l'année.",
        "Il faut que je confirme votre adresse maintenant.",
        "Les prix de l'énergie augmentent chaque hiver, mais le nôtre est fixe.",
        "Vous pouvez décider maintenant ou plus tard.",
        "Il faut signer le contrat que vous recevrez aujourd'hui.",
        "Vous devez dire oui au technicien demain pour qu'il entre.",
        "Vous ne serez plus démarché après cet appel.",
        "Après aujourd'hui, vous recevrez le contrat par courrier.",
        "Si vous préférez attendre, l'offre reste valable tout le mois.",
        "Nos conseillères sont disponibles, elles vous rappelleront demain.",
        "Je n'ai pas besoin de votre décision aujourd'hui.",
        "Il n'y a que vous qui décidez, rien ne presse.",
        "Le prix ne change qu'une fois par an, en janvier.",
        "Je ne vous rappellerai que si vous le souhaitez.",
        "Vous ne serez engagé qu'après signature du contrat envoyé aujourd'hui.",
        "Vous ne payez que vingt-neuf euros par mois à partir d'aujourd'hui.",
        "Je ne vous appelle aujourd'hui que pour vous présenter notre offre.",
        "Cette offre n'est réservée qu'aux nouveaux clients, vous pouvez décider le mois prochain.",
        "Le prix n'augmente pas aujourd'hui, il ne change qu'en janvier.",
        "Je ne pourrai vous envoyer l'offre que demain.",
        "Ce n'est pas seulement le prix qui compte aujourd'hui, c'est le service.",
        "Notre offre ne comprend que ce que nous installons aujourd'hui.",
        "Je ne peux vous envoyer l'offre que par courrier, je la poste ce soir.",
        "Le prix ne couvre que la visite prévue aujourd'hui.",
    ];
    for (language, said) in en
        .iter()
        .map(|s| ("en", s))
        .chain(fr.iter().map(|s| ("fr", s)))
    {
        let f = pressure_in(language, said);
        assert_eq!(f.status, FindingStatus::Pass, "{said}: {f:?}");
    }
}

/// "Vous recevrez le contrat par e-mail pour le signer" heard "… pour l'ocinier." with
/// confidence: one word of no language hides nothing in general (a name, a brand spelled
/// otherwise), but this one sounds like the binding notice's own "signer" — the notice
/// misheard, for a person to hear, not a violation. A real word, or a made-up one that sounds
/// like none of the notice's words, leaves the notice missing.
#[test]
fn a_made_up_word_that_sounds_like_the_items_own_makes_its_absence_doubtful() {
    let mut book = RuleBook::pack("fr-demarchage").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let heard = |notice: &'static str| compliant_saying(5, notice);
    let binding = |book: &RuleBook, t: &Transcript| {
        let v = run(book, t, &m);
        let f = finding(&v, "binding_after_signature");
        (f.outcome, f.status)
    };
    let misheard = heard("Vous recevrez le contrat par courrier pour l'ocinier.");
    assert_eq!(
        binding(&book, &misheard),
        (Outcome::Missing, FindingStatus::Fail)
    );
    book.lexicon = Some(words_of_compliant_and(&["le", "contrat", "pour", "cinéma"]));
    assert_eq!(
        binding(&book, &misheard),
        (Outcome::Missing, FindingStatus::Review)
    );
    for other in [
        "Vous recevrez le contrat par courrier pour le cinéma.",
        "Vous recevrez le contrat par courrier pour l'obravote.",
    ] {
        assert_eq!(
            binding(&book, &heard(other)),
            (Outcome::Missing, FindingStatus::Fail),
            "{other}"
        );
    }
}

/// One number is one quantity: "fourteen" in "comes with a fourteen day cancellation period"
/// is the period's, and no price however close "comes with a fourteen" is to "costs
/// {number}" (it made a call with no price at all "probably said", in the twenty-first
/// unseen set). A number of its own so placed is still a price to listen to.
#[test]
fn a_number_another_item_was_stated_with_is_no_price() {
    let price = |offer: &'static str| {
        let turns = vec![
            (A, 0, "Good evening, I'm Sam Turner from Callbridge, calling on behalf of Peak Mobile. This call is being recorded."),
            (C, 7_000, "Good evening."),
            (A, 8_500, offer),
            (C, 13_000, "How much will it cost me?"),
            (A, 15_000, "It's very affordable, it'll all be in the email."),
            (C, 18_500, "Okay, go on then."),
            (A, 21_000, "Thank you, goodbye."),
        ];
        let mut t = transcript(&turns);
        t.language = "en".into();
        let en = RuleBook::pack("en-sales").unwrap();
        let v = run(&en, &t, &meta("2026-03-03T10:30:00+01:00"));
        let f = finding(&v, "price");
        (f.outcome, f.status)
    };
    assert_eq!(
        price("Our unlimited mobile plan comes with a fourteen day cancellation period."),
        (Outcome::Missing, FindingStatus::Fail)
    );
    assert_eq!(
        price("Our plan comes to nineteen a month, with a fourteen day cancellation period."),
        (Outcome::Met, FindingStatus::Review)
    );
}

/// A reply that ends on a word no sentence ends on was cut off or misheard at its end: "No
/// need, I accept" came out "No need except." with confidence, and was read as a refusal of
/// a sale the customer made. It is for a person; said whole, each is what it says.
#[test]
fn a_reply_cut_off_on_a_conjunction_is_for_a_person() {
    let consent = |answer: &'static str| {
        english_consent(&[
            (
                A,
                14_000,
                "The offer will still stand next week if you'd rather wait.",
            ),
            (C, 17_000, answer),
        ])
    };
    assert_eq!(
        consent("No need, I accept."),
        (Outcome::Met, FindingStatus::Pass)
    );
    assert_eq!(consent("No need except.").1, FindingStatus::Review);
    assert_eq!(
        consent("No, thanks, I'm not interested."),
        (Outcome::Refused, FindingStatus::Fail)
    );
    let consent = |answer: &str| french_consent("Le contrat vous sera envoyé.", answer);
    assert_eq!(
        consent("Non, ce n'est pas pour moi, mais").1,
        FindingStatus::Review
    );
    assert_eq!(
        consent("Non, ce n'est pas pour moi, merci."),
        (Outcome::Refused, FindingStatus::Fail)
    );
}

/// The customer asking about an item ("Je vais recevoir un contrat à signer ?") did not say it
/// in the agent's stead: the binding clause is missing, not said by the wrong party (the
/// twenty-first unseen set). Said as a statement, it is the customer's words all the same.
#[test]
fn a_question_of_the_other_party_is_no_item_said_by_the_wrong_one() {
    let binding = |customer: &'static str| {
        let mut turns = compliant();
        turns[5] = (A, 23_000, "Vous recevrez un récapitulatif par courrier.");
        turns.insert(6, (C, 27_000, customer));
        let v = run(
            &RuleBook::pack("fr-demarchage").unwrap(),
            &transcript(&turns),
            &meta("2026-03-03T10:30:00+01:00"),
        );
        finding(&v, "binding_after_signature").outcome
    };
    assert_eq!(
        binding("D'accord. Je vais recevoir un contrat à signer ?"),
        Outcome::Missing
    );
    assert_eq!(
        binding("D'accord, je vais recevoir un contrat à signer."),
        Outcome::WrongSpeaker
    );
}

/// Customers take, decline or dodge the offer in the set phrases of their language ("Banco",
/// "You've got yourself a deal", "Sans façon", "I'll give it a miss", "Maybe, we'll see"),
/// read as the reply each is (the twenty-second unseen set); not where the phrase says
/// something else ("I'm in a meeting", "I'm good with that"), is a condition ("Banco si vous
/// baissez le prix") or has a yes beside it ("Oui, ça ira très bien").
#[test]
fn an_idiom_takes_declines_or_dodges_the_offer() {
    let agreed = (Outcome::Met, FindingStatus::Pass);
    let refused = (Outcome::Refused, FindingStatus::Fail);
    let to_hear = (Outcome::Missing, FindingStatus::Review);
    let en = english_answer_to_the_offer;
    for said in [
        "You know what, you've got yourself a deal.",
        "Deal, put me down for one.",
        "I'm sold.",
        "Count me in.",
        "Sounds like a plan, let's go for it.",
        "Sure, why not, I'm in.",
    ] {
        assert_eq!(en(said), agreed, "{said}");
    }
    for said in [
        "I'll give it a miss, thanks.",
        "I'll sit this one out.",
        "I'm good, thanks.",
    ] {
        assert_eq!(en(said), refused, "{said}");
    }
    for said in [
        "I'm in a meeting right now.",
        "That's a good deal, I suppose.",
        "I'd give it a go if it were cheaper.",
        "I'm good with that, what happens next?",
        "Maybe, we'll see.",
    ] {
        assert_eq!(en(said), to_hear, "{said}");
    }
    // A dodge is no assent: the agent who records a sale after it is the violation.
    assert_eq!(
        english_consent(&[
            (A, 14_000, "That's everything about our offer."),
            (C, 17_000, "Maybe, we'll see."),
            (A, 20_000, "Great, I've signed you up. Goodbye."),
        ]),
        (Outcome::WrongSpeaker, FindingStatus::Fail)
    );
    let fr = |answer: &str| french_consent("Voilà pour notre offre.", answer);
    for said in [
        "Bon ben, banco, on fait comme ça.",
        "Vendu, je prends.",
        "Ça roule, je signe.",
        "Allez, c'est parti, envoyez-moi ça.",
    ] {
        assert_eq!(fr(said), agreed, "{said}");
    }
    for said in ["Sans façon, merci, ça ira.", "Je vais passer mon tour."] {
        assert_eq!(fr(said), refused, "{said}");
    }
    for said in [
        "Banco si vous baissez le prix.",
        "Oui, ça ira très bien.",
        "Hum, peut-être, on verra.",
    ] {
        assert_ne!(fr(said), agreed, "{said}");
        assert_ne!(fr(said), refused, "{said}");
    }
}

/// Spoken French drops the "ne" of "ne … que" ("il est valable que ce soir") and sets the
/// subject apart before its clause ("Ce prix, il …"): the offer restricted to tonight is
/// pressure all the same. "Just for" restricts as "only" does, and the call itself is a time
/// that leaves no room. Not a "que" after a verb ("je valide que …") nor a sentence of its own
/// before the pronoun.
#[test]
fn pressure_in_spoken_forms_is_read_by_what_it_means() {
    let pressure = |f: &Finding| (f.outcome, f.status);
    let forbidden = (Outcome::ForbiddenSaid, FindingStatus::Fail);
    let fr = |said: &str| finding(&french_with(said), "no_pressure").clone();
    assert_eq!(
        pressure(&fr(
            "Ce prix, il est valable que ce soir, après c'est plus possible."
        )),
        forbidden
    );
    assert_eq!(
        pressure(&fr("Cette offre est disponible que jusqu'à ce soir.")),
        forbidden
    );
    for said in [
        "Je valide que votre offre est bien enregistrée ce soir.",
        "Le prix est fixé, il sera le même ce soir.",
        "Ce prix est valable, que vous signiez ce soir ou dans un mois.",
    ] {
        assert_eq!(fr(said).status, FindingStatus::Pass, "{said}");
    }
    assert_eq!(
        pressure(&no_pressure_after(
            "This price is just for people who sign up during this call."
        )),
        forbidden
    );
    assert_eq!(
        no_pressure_after("This call is just for the price, nothing else.").status,
        FindingStatus::Pass
    );
}

/// A required item said in other words than its phrasings, in words of the kinds its
/// `means` lists ("le contrat que nous vous enverrons" for a written confirmation), is not
/// missing: it goes to a person, who confirms it, never to an accusation. Under a "no" it is
/// not said.
#[test]
fn a_required_item_in_other_words_is_for_a_person_not_missing() {
    let written = |said: &'static str| {
        let mut turns = compliant();
        turns[5] = (A, 23_000, said);
        let v = run(
            &RuleBook::pack("fr-demarchage").unwrap(),
            &transcript(&turns),
            &meta("2026-03-03T10:30:00+01:00"),
        );
        let f = finding(&v, "written_confirmation").clone();
        (f.outcome, f.status)
    };
    assert_eq!(
        written("Vous ne serez engagée qu'à la signature du contrat que nous vous enverrons."),
        (Outcome::Met, FindingStatus::Review)
    );
    assert_eq!(
        written(
            "Vous recevrez l'offre chez vous, et vous ne serez engagée qu'après l'avoir signée."
        ),
        (Outcome::Met, FindingStatus::Review)
    );
    assert_eq!(
        written(
            "Vous ne recevrez aucun contrat, et vous ne serez engagée qu'après votre signature."
        ),
        (Outcome::Missing, FindingStatus::Fail)
    );
    assert_eq!(
        written("Vous serez engagée à la signature, tout simplement."),
        (Outcome::Missing, FindingStatus::Fail)
    );
}

/// What the agent says before any of the offer was made states no agreement to it: "I'll only
/// take a minute" in the greeting is close to "I take that as a yes", and made a refusal a
/// consent stated by the agent alone (the twenty-third unseen set). Said after the offer, the
/// same claim is the agent's.
#[test]
fn an_agents_words_before_the_offer_state_no_agreement_to_it() {
    let en = RuleBook::pack("en-sales").unwrap();
    let consent = |turns: &[(Speaker, u64, &str)]| {
        let mut t = transcript(turns);
        t.language = "en".into();
        let f = finding(&run(&en, &t, &meta("2026-03-03T10:30:00+01:00")), "consent").clone();
        (f.outcome, f.status)
    };
    let greeting = (
        A,
        0,
        "Hello, my name is Sarah from Isosell, calling on behalf of Bright Energy. This call is recorded, and I'll only take a minute.",
    );
    let offer = (
        A,
        9_000,
        "The price is forty five pounds per month, and you have a fourteen day cancellation period.",
    );
    assert_eq!(
        consent(&[greeting, offer, (C, 16_000, "Count me out, thanks.")]),
        (Outcome::Refused, FindingStatus::Fail)
    );
    assert_eq!(
        consent(&[
            greeting,
            offer,
            (C, 16_000, "Count me out, thanks."),
            (A, 19_000, "I take that as a yes. Goodbye."),
        ]),
        (Outcome::WrongSpeaker, FindingStatus::Fail)
    );
}

/// The same disclosure in another form a listener reads as the same: a withdrawal period in
/// weeks ("deux semaines", "a fortnight") is its days, an amount Whisper wrote with its cents
/// and no currency ("coûte 19,90 par mois") a price. The number of another item is no price
/// even so ("quatorze jours par mois" is no amount), and a week that counts nothing ("cette
/// semaine") no period.
#[test]
fn a_disclosure_in_another_form_is_the_disclosure() {
    let fr = RuleBook::pack("fr-demarchage").unwrap();
    let en = RuleBook::pack("en-sales").unwrap();
    let m = meta("2026-03-03T10:30:00+01:00");
    let french = |offer: &'static str, withdrawal: &'static str| {
        let mut turns = compliant();
        turns[3] = (A, 15_000, offer);
        turns[4] = (A, 19_000, withdrawal);
        run(&fr, &transcript(&turns), &m)
    };
    let v = french(
        OFFER,
        "Vous avez deux semaines pour vous rétracter, sans frais.",
    );
    assert_eq!(finding(&v, "withdrawal_14d").status, FindingStatus::Pass);
    let v = french(OFFER, "Vous pouvez vous rétracter cette semaine.");
    assert_ne!(finding(&v, "withdrawal_14d").status, FindingStatus::Pass);
    for offer in [
        "Notre abonnement coûte 19,90 par mois.",
        "Notre abonnement est à 19,90 par mois.",
        "Nos panneaux coûtent 6 000.",
    ] {
        let v = french(offer, WITHDRAWAL);
        assert_eq!(finding(&v, "price").status, FindingStatus::Pass, "{offer}");
    }
    // How often is no amount ("deux fois" is close enough to "{number} par mois" for a person
    // to listen, not to pass).
    for offer in [
        "Notre technicien passe deux fois par an.",
        "Nous passons une fois par mois.",
    ] {
        let v = french(offer, WITHDRAWAL);
        assert_ne!(finding(&v, "price").status, FindingStatus::Pass, "{offer}");
    }
    let v = french("Notre offre vous intéresse ?", WITHDRAWAL);
    assert_eq!(finding(&v, "price").status, FindingStatus::Fail);

    let english = |period: &'static str| {
        let mut t = english_sale();
        t.segments[1] = transcript(&[(A, 9_000, period)]).segments[0].clone();
        run(&en, &t, &m)
    };
    let v = english("Our boiler cover costs fifteen pounds a month, and you have a fortnight to cancel, free of charge.");
    assert_eq!(
        finding(&v, "cancellation_period").status,
        FindingStatus::Pass
    );
    let v =
        english("Our boiler cover costs fifteen pounds a month, and you have two weeks to cancel.");
    assert_eq!(
        finding(&v, "cancellation_period").status,
        FindingStatus::Pass
    );
}

/// Advice to decide at once presses as an order to does: "best say yes now", "you'd better
/// decide today", « vous feriez mieux de vous décider aujourd'hui »; the advice to take one's
/// time does not.
#[test]
fn advice_to_decide_at_once_is_pressure() {
    for said in [
        "Between you and me, this price won't last, so best say yes now.",
        "You'd better decide today.",
    ] {
        assert_eq!(
            no_pressure_after(said).status,
            FindingStatus::Fail,
            "{said}"
        );
    }
    for said in [
        "You'd better take your time and talk it over.",
        "It's best not to decide right now, read the contract first.",
    ] {
        assert_eq!(
            no_pressure_after(said).status,
            FindingStatus::Pass,
            "{said}"
        );
    }
    for said in [
        "Vous feriez mieux de vous décider aujourd'hui.",
        "Mieux vaut dire oui maintenant, croyez-moi.",
    ] {
        let v = french_with(said);
        assert_eq!(
            finding(&v, "no_pressure").status,
            FindingStatus::Fail,
            "{said}"
        );
    }
    let v = french_with("Il vaut mieux prendre le temps de lire le contrat.");
    assert_eq!(finding(&v, "no_pressure").status, FindingStatus::Pass);
}

/// A customer who speaks of something else, or of whoever they asked, before deciding: the
/// reply ends on taking the offer, and nothing before it says no, puts it off, doubts,
/// objects, asks or sets a condition. A bare yes at the end takes nothing; anything against
/// it before leaves the reply for a person (the negatives hold no phrasing of the packs,
/// which would take the offer whatever came before: "go ahead").
#[test]
fn a_reply_that_ends_on_taking_the_offer_takes_it() {
    let agreed = (Outcome::Met, FindingStatus::Pass);
    let en = english_answer_to_the_offer;
    let fr = |answer: &'static str| french_consent("Ça vous convient ?", answer);
    for said in [
        "Hold on, my son's here. He says it's a good deal, so yes please.",
        "Just a second, my wife is here. She likes it, so we'll take it.",
    ] {
        assert_eq!(en(said), agreed, "{said}");
    }
    for said in [
        "Une seconde, ma fille est là. Ma fille me dit que c'est bien, allez, je prends.",
        "Attendez, je demande à mon mari. Bon, il est d'accord, on le prend.",
    ] {
        assert_eq!(fr(said), agreed, "{said}");
    }
    for said in [
        "I'm at work right now, okay.",
        "My wife isn't here, but we're happy with it.",
        "If there's no contract, we're happy with it.",
        "Is there a contract? Okay, we're happy with it.",
        "I'll have to talk to my wife, we're happy with it.",
        "I'm not sure, my son says it's fine, we're happy with it.",
    ] {
        assert_ne!(en(said), agreed, "{said}");
    }
    for said in [
        "Mon mari n'est pas là, mais allez-y.",
        "C'est trop cher, allez, je prends.",
        "C'est sans engagement ? Bon, allez-y.",
        "Je dois en parler à mon mari, allez.",
    ] {
        assert_ne!(fr(said), agreed, "{said}");
    }
}

/// The finding of `rule` in the French compliant call changed by `change`, each word of `heard`
/// at its probability.
fn french_heard(
    change: impl Fn(&mut Vec<(Speaker, u64, &'static str)>),
    heard: &[(&str, f32)],
    rule: &str,
) -> Finding {
    let mut turns = compliant();
    change(&mut turns);
    let mut t = transcript(&turns);
    for w in t.segments.iter_mut().flat_map(|s| &mut s.words) {
        if let Some(h) = heard.iter().find(|h| w.text.trim() == h.0) {
            w.probability = h.1;
        }
    }
    let fr = RuleBook::pack("fr-demarchage").unwrap();
    finding(&run(&fr, &t, &meta("2026-03-03T10:30:00+01:00")), rule).clone()
}

/// The written confirmation of the French compliant call whose withdrawal notice, then binding
/// notice, then confirmation are said in one sentence as `said`.
fn written_confirmation_in(said: &'static str, heard: &[(&str, f32)]) -> Finding {
    let change = |turns: &mut Vec<(Speaker, u64, &'static str)>| {
        turns[4] = (A, 19_000, said);
        turns.remove(5);
    };
    french_heard(change, heard, "written_confirmation")
}

/// The price of the French compliant call whose offer is said without one and whose
/// withdrawal notice is said as `said`.
fn price_in(said: &'static str, heard: &[(&str, f32)]) -> Finding {
    let change = |turns: &mut Vec<(Speaker, u64, &'static str)>| {
        turns[3] = (A, 15_000, "Notre offre est une box internet.");
        turns[4] = (A, 19_000, said);
    };
    french_heard(change, heard, "price")
}

/// A disclosure said last in the sentence of the next one ("…vous ne serez engagée qu'à la
/// signature du contrat que nous vous enverrons") was not said "missing" where the rest of that
/// sentence was barely heard ("…que nos envérones", 0.31): that word may be it.
#[test]
fn a_word_barely_heard_after_the_next_item_in_its_sentence_makes_the_item_doubtful() {
    let said = "avec quatorze jours de rétractation, et vous ne serez engagée qu'à la signature du contrat que nos envérones";
    let f = written_confirmation_in(said, &[("envérones", 0.31)]);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Review),
        "{f:?}"
    );
    assert!(f.detail.contains("envérones"), "{}", f.detail);
    // Heard with some confidence, the word is what was said: the item is missing.
    let f = written_confirmation_in(said, &[("envérones", 0.45)]);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Fail),
        "{f:?}"
    );
    // Nor one another item was found on ("par e-mail" is the written confirmation), nor one
    // heard with some confidence.
    let said = "Vous avez quatorze jours de rétractation, et vous recevrez le contrat par e-mail.";
    let f = price_in(said, &[("e-mail.", 0.2)]);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Fail),
        "{f:?}"
    );
    let said =
        "Vous avez quatorze jours de rétractation, et vous recevrez le contrat sous huitaine.";
    let f = price_in(said, &[("huitaine.", 0.45)]);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Fail),
        "{f:?}"
    );
    let f = price_in(said, &[("huitaine.", 0.2)]);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Review),
        "{f:?}"
    );
    // A word barely heard in another sentence after it says nothing of it.
    let said = "avec quatorze jours de rétractation, et vous ne serez engagée qu'à la signature. Merci pour votre envérones";
    let f = written_confirmation_in(said, &[("envérones", 0.31)]);
    assert_eq!(
        (f.outcome, f.status),
        (Outcome::Missing, FindingStatus::Fail),
        "{f:?}"
    );
}
