//! Detection on transcripts written as people say things, French and English.

use super::*;
use callproof_models::{CallId, Segment, Speaker, Word};

/// A transcript of `(speaker, text)` turns, each word 300 ms, turns 500 ms apart.
fn call(language: &str, turns: &[(Speaker, &str)]) -> Transcript {
    let mut t = 0u64;
    let segments = turns
        .iter()
        .map(|(speaker, text)| {
            let start = t;
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
            let seg = Segment {
                speaker: *speaker,
                channel: if *speaker == Speaker::Agent { 0 } else { 1 },
                start_ms: start,
                end_ms: t,
                text: format!(" {text}"),
                avg_logprob: -0.2,
                no_speech_prob: 0.0,
                words,
                attribution: Default::default(),
                second_listen: false,
                heard_first: None,
                disputed: false,
            };
            t += 500;
            seg
        })
        .collect();
    Transcript {
        near_readings: Vec::new(),
        call_id: CallId::new(),
        model: "test".into(),
        model_sha256: "0".into(),
        language: language.into(),
        segments,
    }
}

use Speaker::{Agent as A, Customer as C};

fn kinds(t: &Transcript) -> Vec<PiiKind> {
    detect(t, &Policy::default())
        .iter()
        .map(|s| s.kind)
        .collect()
}

fn text(t: &Transcript) -> String {
    let r = redact_transcript(t, &detect(t, &Policy::default()));
    r.segments
        .iter()
        .map(|s| s.text.clone())
        .collect::<Vec<_>>()
        .join(" |")
}

fn no_digits_of(t: &Transcript, secret: &str) {
    let out = text(t);
    let digits: String = out.chars().filter(char::is_ascii_digit).collect();
    for chunk in secret.as_bytes().chunks(4) {
        let chunk = std::str::from_utf8(chunk).unwrap();
        if chunk.len() >= 3 {
            assert!(
                !digits.contains(chunk),
                "{chunk} of {secret} survives in {out}"
            );
        }
    }
}

#[test]
fn checksums() {
    assert!(luhn("4111111111111111"));
    assert!(luhn("4970101234567893"));
    assert!(!luhn("4970101234567890"));
    assert!(iban_valid("FR76 3000 6000 0112 3456 7890 189"));
    assert!(iban_valid("GB82WEST12345698765432"));
    assert!(!iban_valid("FR76 3000 6000 0112 3456 7890 188"));
    assert!(nir_valid("185057800608491"));
    assert!(!nir_valid("185057800608490"));
}

#[test]
fn a_card_read_in_groups_in_french_is_redacted_with_its_expiry_and_code() {
    let t = call(
        "fr",
        &[
            (A, "Pour le paiement, quel est votre numéro de carte ?"),
            (
                C,
                "alors quatre mille cent onze, onze cent onze, mille cent onze, mille cent onze",
            ),
            (A, "Et la date d'expiration ?"),
            (C, "douze vingt-sept"),
            (A, "Et le cryptogramme, les trois chiffres au dos ?"),
            (C, "sept trois sept"),
            (A, "Parfait, le montant est de 49 euros par mois."),
        ],
    );
    assert_eq!(
        kinds(&t),
        vec![PiiKind::Card, PiiKind::Expiry, PiiKind::Cvv]
    );
    let out = text(&t);
    assert!(
        out.contains("[CARTE]") && out.contains("[EXPIRATION]") && out.contains("[CVV]"),
        "{out}"
    );
    assert!(
        !out.contains("quatre mille") && !out.contains("sept trois"),
        "{out}"
    );
    // The price is not a card number: it stays, and the rule about it still sees it.
    assert!(out.contains("49 euros"), "{out}");
    let spans = detect(&t, &Policy::default());
    assert!(spans.iter().all(|s| s.speaker == C));
}

#[test]
fn digits_read_one_by_one_or_in_pairs_and_misheard_digits() {
    let t = call(
        "fr",
        &[
            (A, "Votre carte bancaire s'il vous plaît"),
            (
                C,
                "quatre neuf sept zéro un zéro un deux trois quatre cinq six sept huit neuf trois",
            ),
        ],
    );
    assert_eq!(kinds(&t), vec![PiiKind::Card]);
    no_digits_of(&t, "4970101234567893");
    // The recogniser's grouping of a card read in groups: redacted although Luhn fails.
    let t = call(
        "en",
        &[
            (A, "Can I take the long number on the card please"),
            (C, "787-3123-38678-9012-28"),
        ],
    );
    assert_eq!(kinds(&t), vec![PiiKind::Card]);
    no_digits_of(&t, "78731233867890122");
    let t = call(
        "fr",
        &[
            (A, "Votre numéro de carte ?"),
            (C, "quarante-neuf soixante-dix, dix, douze, trente-quatre cinquante-six, soixante-dix-huit quatre-vingt-dix-sept"),
        ],
    );
    assert_eq!(kinds(&t), vec![PiiKind::Card]);
    let out = text(&t);
    assert!(
        !out.contains("soixante") && !out.contains("quatre-vingt"),
        "{out}"
    );
}

#[test]
fn a_word_near_a_number_is_not_a_context_unless_it_is_the_phrase() {
    // "social" alone (here a misheard company name) does not make a card a social security
    // number; the phrase does.
    let t = call(
        "en",
        &[
            (
                A,
                "this is Daniel for my social, could I have the long number on your card",
            ),
            (C, "yes it is 4970 1012 3456 7893"),
        ],
    );
    assert_eq!(kinds(&t), vec![PiiKind::Card]);
    assert!(text(&t).contains("it is [CARD]"), "{}", text(&t));
}

#[test]
fn english_card_code_and_expiry() {
    let t = call(
        "en",
        &[
            (A, "Could I have the card number please?"),
            (
                C,
                "four one one one, one one one one, one one one one, one one one one",
            ),
            (A, "and the expiry date?"),
            (C, "oh nine twenty eight"),
            (A, "and the three digit security code on the back?"),
            (C, "double four one"),
        ],
    );
    assert_eq!(
        kinds(&t),
        vec![PiiKind::Card, PiiKind::Expiry, PiiKind::Cvv]
    );
    let out = text(&t);
    assert!(
        out.contains("[CARD]") && out.contains("[EXPIRY]") && out.contains("[CVV]"),
        "{out}"
    );
}

#[test]
fn outside_a_payment_context_a_checksum_decides() {
    // A 16-digit order reference that fails Luhn stays; a valid card number said anywhere goes.
    let t = call(
        "fr",
        &[(
            A,
            "Votre référence de commande est le 4970 1012 3456 7890, notez-la.",
        )],
    );
    assert!(kinds(&t).is_empty(), "{:?}", detect(&t, &Policy::default()));
    let t = call("fr", &[(C, "Tenez, 4111 1111 1111 1111, voilà.")]);
    assert_eq!(kinds(&t), vec![PiiKind::Card]);
    // Numbers of a contract or a phone are not redacted.
    let t = call(
        "fr",
        &[(
            A,
            "Le délai de rétractation est de quatorze jours, je vous rappelle au 06 12 34 56 78.",
        )],
    );
    assert!(kinds(&t).is_empty(), "{:?}", detect(&t, &Policy::default()));
}

#[test]
fn ibans_emails_birth_dates_and_social_security_numbers() {
    let t = call(
        "fr",
        &[
            (A, "Pour le prélèvement, votre IBAN ?"),
            (C, "FR76 3000 6000 0112 3456 7890 189"),
        ],
    );
    assert_eq!(kinds(&t), vec![PiiKind::Iban]);
    assert!(!text(&t).contains("FR76"), "{}", text(&t));
    // An IBAN with letters after its check digits (GB, NL…) is only caught in a payment
    // context (README, limits of redaction): without one, it stays.
    let t = call("en", &[(C, "it is GB82 WEST 1234 5698 7654 32 thanks")]);
    assert!(kinds(&t).is_empty());
    let t = call(
        "en",
        &[
            (A, "and your IBAN please"),
            (C, "GB82 WEST 1234 5698 7654 32"),
        ],
    );
    assert_eq!(kinds(&t), vec![PiiKind::Iban]);
    let t = call(
        "fr",
        &[(
            C,
            "mon mail c'est jean point dupont arobase gmail point com voilà",
        )],
    );
    assert_eq!(kinds(&t), vec![PiiKind::Email]);
    let out = text(&t);
    assert!(
        !out.contains("dupont") && !out.contains("gmail") && out.contains("[EMAIL]"),
        "{out}"
    );
    let t = call("en", &[(C, "sure it's john.smith@example.org")]);
    assert_eq!(kinds(&t), vec![PiiKind::Email]);
    let t = call(
        "fr",
        &[
            (A, "Votre date de naissance ?"),
            (
                C,
                "je suis né le douze mars mille neuf cent quatre-vingt-cinq",
            ),
        ],
    );
    assert_eq!(kinds(&t), vec![PiiKind::BirthDate]);
    assert!(!text(&t).contains("quatre-vingt"), "{}", text(&t));
    let t = call("en", &[(C, "I was born on March 12th, 1985")]);
    assert_eq!(kinds(&t), vec![PiiKind::BirthDate]);
    assert!(!text(&t).contains("1985"), "{}", text(&t));
    assert!(!text(&t).contains("mars"), "{}", text(&t));
    let t = call(
        "fr",
        &[
            (A, "Votre numéro de sécurité sociale ?"),
            (C, "1 85 05 78 006 084 91"),
        ],
    );
    assert_eq!(kinds(&t), vec![PiiKind::SocialSecurity]);
    let t = call("fr", &[(C, "c'est le 185057800608491")]);
    assert_eq!(kinds(&t), vec![PiiKind::SocialSecurity]);
}

#[test]
fn the_policy_chooses_kinds_and_audio() {
    let t = call(
        "fr",
        &[
            (A, "Votre carte ?"),
            (C, "4111 1111 1111 1111"),
            (C, "mail jean arobase free point fr"),
        ],
    );
    let only_email = Policy {
        types: [PiiKind::Email].into_iter().collect(),
        ..Policy::default()
    };
    assert_eq!(
        detect(&t, &only_email)
            .iter()
            .map(|s| s.kind)
            .collect::<Vec<_>>(),
        vec![PiiKind::Email]
    );
    let spans = detect(&t, &Policy::default());
    // Payment data never lets the unredacted original stay.
    let keep = Policy {
        keep_original: true,
        ..Policy::default()
    };
    assert!(!keep.keeps_original(&spans));
    assert!(keep.keeps_original(&detect(&t, &only_email)));
    // Audio: the spans (with their margin) are silent or a tone; the rest is unchanged.
    let rate = 8000u32;
    let mut ch = vec![vec![0.5f32; rate as usize * 20]; 2];
    let card = spans
        .iter()
        .find(|s| s.kind == PiiKind::Card)
        .unwrap()
        .clone();
    redact_audio(
        &mut ch,
        rate,
        std::slice::from_ref(&card),
        &Policy::default(),
    );
    let at = |ms: u64| (ms * rate as u64 / 1000) as usize;
    for c in &ch {
        assert_eq!(c[at(card.start_ms + 10)], 0.0);
        assert_eq!(c[at(card.end_ms - 10)], 0.0);
        assert_eq!(c[at(card.start_ms.saturating_sub(400))], 0.5);
        assert_eq!(c[at(card.end_ms + 400)], 0.5);
    }
    let mut ch = vec![vec![0.5f32; rate as usize * 20]; 1];
    let tone = Policy {
        audio: AudioMode::Tone,
        ..Policy::default()
    };
    redact_audio(&mut ch, rate, std::slice::from_ref(&card), &tone);
    let window = &ch[0][at(card.start_ms)..at(card.end_ms)];
    let rms = (window.iter().map(|x| x * x).sum::<f32>() / window.len() as f32).sqrt();
    assert!((0.05..0.09).contains(&rms), "tone rms {rms}");
}

#[test]
fn an_answer_the_recogniser_missed_is_still_removed_from_the_audio() {
    // The customer's code was not transcribed at all: the answer window after the agent's
    // question covers it, on the customer's channel, until the agent speaks again.
    let t = call(
        "fr",
        &[
            (
                A,
                "Et le cryptogramme, les trois chiffres au dos de la carte ?",
            ),
            (A, "Pour le prélèvement, votre IBAN ?"),
            (C, "oui un instant"),
            (A, "Merci beaucoup, au revoir."),
        ],
    );
    let w = answer_windows(&t, &Policy::default());
    // The goodbye is still in the payment dialogue: what follows it is removed too.
    assert_eq!(w.len(), 3, "{w:?}");
    assert_eq!(w[0].kind, PiiKind::Cvv);
    assert_eq!(
        (w[0].start_ms, w[0].end_ms),
        (t.segments[0].end_ms, t.segments[1].start_ms)
    );
    assert_eq!(w[0].channel, 1);
    assert_eq!(w[1].kind, PiiKind::Iban);
    assert_eq!(w[1].end_ms, t.segments[3].start_ms);
    // A question that is not about payment opens no window; nor does a mono recording.
    let t = call("fr", &[(A, "Vous êtes bien madame Durand ?"), (C, "oui")]);
    assert!(answer_windows(&t, &Policy::default()).is_empty());
    let mut mono = call("fr", &[(A, "Votre numéro de carte ?"), (C, "un instant")]);
    for s in &mut mono.segments {
        s.speaker = Speaker::Unknown;
        s.channel = 0;
    }
    assert!(answer_windows(&mono, &Policy::default()).is_empty());
}

#[test]
fn misheard_payment_words_and_the_payment_dialogue() {
    assert!(heard_as("crito-gramme", "cryptogramme"));
    assert!(heard_as("expirquant", "expire"));
    assert!(heard_as("cvb", "cvv"));
    assert!(heard_as("d'expiration", "expiration"));
    assert!(!heard_as("rob", "rib"));
    assert!(!heard_as("carré", "crypto"));
    assert!(!heard_as("date", "carte"));
    // Prompts without a payment word, inside the dialogue, open windows too; a turn long after
    // it does not.
    let t = call(
        "en",
        &[
            (A, "Shall we set up the first payment on a debit card?"),
            (C, "sure"),
            (A, "Go ahead whenever you are ready."),
            (C, "side side side side four four"),
            (A, "And the CVB on the reverse?"),
            (A, "Lovely, that is all done, thank you very much for your time today madam, and have a very good afternoon, goodbye now and take care of yourself, see you soon"),
            (A, "Another thing entirely, with many more words to make the call longer than the dialogue lasts, so that this turn comes well after it, which is what we check here now okay, and more words again and again and again to be sure that the time passes well beyond thirty seconds of talk, and then some more words after that to be really sure of it"),
            (A, "And a last turn."),
        ],
    );
    let w = answer_windows(&t, &Policy::default());
    let starts: Vec<u64> = w.iter().map(|s| s.start_ms).collect();
    assert!(starts.contains(&t.segments[2].end_ms), "{w:?}");
    assert!(starts.contains(&t.segments[4].end_ms), "{w:?}");
    assert!(!starts.contains(&t.segments[7].end_ms), "{w:?}");
}

#[test]
fn lone_digits_in_a_payment_answer_are_redacted_other_words_stay() {
    let t = call(
        "fr",
        &[
            (A, "J'ai besoin du numéro inscrit sur votre carte."),
            (C, "3 s'accueille 2, 4 s'accadera voilà DO-09"),
            (A, "Merci."),
        ],
    );
    let w = answer_windows(&t, &Policy::default());
    let r = redact_numbers_in(&t, &w);
    let text = &r.segments[1].text;
    assert!(!text.chars().any(|c| c.is_ascii_digit()), "{text}");
    assert!(
        text.contains("s'accueille") && text.contains("voilà"),
        "{text}"
    );
    // Outside a payment answer, numbers stay.
    assert_eq!(r.segments[0].text, t.segments[0].text);
}

#[test]
fn payment_data_only_in_what_was_first_heard_is_found_and_removed() {
    // A reading of the script replaced the customer's words: the card number is in the first
    // hearing only.
    let mut t = call(
        "fr",
        &[
            (A, "Pouvez-vous me donner votre numéro de carte bancaire ?"),
            (C, "Oui je suis d'accord"),
            (A, "Merci beaucoup."),
        ],
    );
    t.segments[1].heard_first = Some("Oui c'est le 4970 1012 3456 7899".to_string());
    t.segments[1].second_listen = true;
    let policy = Policy::default();
    let spans = detect(&t, &policy);
    assert!(
        spans
            .iter()
            .any(|s| s.kind == PiiKind::Card && s.channel == 1),
        "{spans:?}"
    );
    let windows = answer_windows(&t, &policy);
    let out = redact_numbers_in(&redact_transcript(&t, &spans), &windows);
    let first = out.segments[1].heard_first.as_deref().unwrap();
    assert!(!first.chars().any(|c| c.is_ascii_digit()), "{first}");
    assert!(first.starts_with("Oui c'est le ["), "{first}");
    // The words now put over that audio go too (their times are the first hearing's, spread
    // over the segment: the safe side); the agent's segments are untouched.
    assert!(
        out.segments[1].text.contains('['),
        "{}",
        out.segments[1].text
    );
    assert_eq!(out.segments[0].text, t.segments[0].text);
    assert_eq!(out.segments[0].heard_first, None);
}
