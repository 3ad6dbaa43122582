//! callproof's domain vocabulary, shared by every crate.
//!
//! These are plain serde types with no I/O so that ingest, transcription, search and the API
//! agree on one meaning of "call", "speaker" or "segment" without depending on each other. One
//! module per area; everything is re-exported here, so `callproof_models::Call` is the path.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

mod access;
mod call;
mod ids;
mod quality;
mod reading;
mod redaction;
mod retention;
mod transcript;
mod verification;

pub use access::*;
pub use call::*;
pub use ids::*;
pub use quality::*;
pub use reading::*;
pub use redaction::*;
pub use retention::*;
pub use transcript::*;
pub use verification::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_roles_default_left_agent_right_customer() {
        let roles = ChannelRoles::default();
        assert_eq!(roles.speaker_for(0, 2), Speaker::Agent);
        assert_eq!(roles.speaker_for(1, 2), Speaker::Customer);
        assert_eq!(roles.speaker_for(0, 1), Speaker::Unknown);
        let swapped: ChannelRoles = "customer,agent".parse().unwrap();
        assert_eq!(swapped.speaker_for(0, 2), Speaker::Customer);
        assert!("agent,boss".parse::<ChannelRoles>().is_err());
    }

    #[test]
    fn metadata_sidecar_rejects_unknown_fields() {
        let ok: CallMetadata = serde_json::from_str(
            r#"{"client":"acme","started_at":"2026-03-02T10:15:00+01:00","channels":["agent","customer"]}"#,
        )
        .unwrap();
        assert_eq!(ok.started_at.unwrap().offset().local_minus_utc(), 3600);
        let err = serde_json::from_str::<CallMetadata>(r#"{"client":"a","custmer_phone":"1"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("custmer_phone"));
    }

    /// A segment of the words given, each 400 ms long from `at`.
    fn said(channel: u16, at: u64, text: &str) -> Segment {
        let words: Vec<Word> = text
            .split_whitespace()
            .enumerate()
            .map(|(i, w)| Word {
                text: w.into(),
                start_ms: at + 400 * i as u64,
                end_ms: at + 400 * (i as u64 + 1),
                probability: 0.9,
            })
            .collect();
        Segment {
            speaker: Speaker::Agent,
            channel,
            start_ms: at,
            end_ms: words.last().map_or(at, |w| w.end_ms),
            text: text.into(),
            avg_logprob: -0.3,
            no_speech_prob: 0.0,
            words,
            attribution: Default::default(),
            second_listen: false,
            heard_first: None,
            disputed: false,
        }
    }

    #[test]
    fn a_second_decoding_replaces_only_the_words_it_heard_again() {
        // The first pass heard the introduction and the notice in one segment (0-3.2 s); the
        // second decoding of the region heard only the notice (1.6-3.2 s).
        let mut t = Transcript {
            near_readings: Vec::new(),
            call_id: CallId::new(),
            model: "base".into(),
            model_sha256: String::new(),
            language: "en".into(),
            segments: vec![
                said(0, 0, "I'm Chris from Netlink, the call is recorded."),
                said(1, 1_000, "Hello."),
                said(0, 5_000, "The deal costs thirty pounds."),
            ],
        };
        let mut again = said(0, 1_600, "the call is recorded.");
        again.second_listen = true;
        t.replace_heard(0, vec![again]);
        let texts: Vec<(u16, &str, bool)> = t
            .segments
            .iter()
            .map(|s| (s.channel, s.text.as_str(), s.second_listen))
            .collect();
        assert_eq!(
            texts,
            [
                (0, "I'm Chris from Netlink,", false),
                (1, "Hello.", false),
                (0, "the call is recorded.", true),
                (0, "The deal costs thirty pounds.", false),
            ]
        );
        // The part kept spans its own words only.
        assert_eq!((t.segments[0].start_ms, t.segments[0].end_ms), (0, 1_600));
        // Words on both sides of a second hearing stay, as two segments; a segment without
        // word times that overlaps it goes whole.
        let whole = said(0, 0, "one two three four five");
        let parts = whole.outside(&[(800, 1_600)]);
        let texts: Vec<&str> = parts.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["one two", "five"]);
        // A word the second hearing starts inside of, for more than a third of it, was heard
        // again; one it only touches was not.
        let texts =
            |parts: Vec<Segment>| -> Vec<String> { parts.into_iter().map(|s| s.text).collect() };
        assert_eq!(texts(whole.outside(&[(1_030, 3_000)])), ["one two"]);
        assert_eq!(texts(whole.outside(&[(1_180, 3_000)])), ["one two three"]);
        let mut bare = said(0, 0, "one two");
        bare.words.clear();
        assert!(bare.outside(&[(700, 900)]).is_empty());
        assert_eq!(bare.outside(&[(900, 1_000)]).len(), 1);
    }

    #[test]
    fn a_second_hearing_undone_gives_back_what_held_the_lost_words_only() {
        // The first pass heard the price garbled (13.4-16.2 s) and the confirmation by mail
        // (16.2-20.6 s); the second listen heard both again in one segment, the price better,
        // and lost the confirmation ("par Corée").
        let intro = said(0, 0, "Bonjour, Céline Perrin de la société Vocalink.");
        let price = said(0, 13_400, "Notre frère de gaz côte trappe moi.");
        let later = said(
            0,
            16_200,
            "vous avez quatorze jours, le contrat vous sera envoyé par courrier.",
        );
        let mut again = said(
            0,
            13_400,
            "Notre offre coûte trente-cinq euros par mois, vous avez quatorze jours, le contrat vous sera envoyé par Corée.",
        );
        again.second_listen = true;
        let undone = |first_pass: &[Segment], lost: &[(Option<Speaker>, u64, u64)]| {
            let mut t = french(vec![intro.clone(), again.clone()]);
            t.give_back_first_pass(first_pass, lost, &[(19_800, 20_600)]);
            t.segments
                .into_iter()
                .map(|s| (s.text, s.second_listen, s.disputed))
                .collect::<Vec<_>>()
        };
        let first_pass = vec![intro.clone(), price.clone(), later.clone()];
        let lost_mail = (None, 19_800, 20_600);
        // The segment that held the lost words comes back; the second hearing of the price,
        // which lost nothing, stays. (Before: both hearings of the price were gone.)
        assert_eq!(
            undone(&first_pass, &[lost_mail]),
            [
                (intro.text.clone(), false, false),
                (
                    "Notre offre coûte trente-cinq euros par mois,".into(),
                    true,
                    false
                ),
                (later.text.clone(), false, true),
            ]
        );
        // Where the first pass heard nothing, the second hearing's words stay as well.
        let unheard = vec![intro.clone(), later.clone()];
        assert_eq!(undone(&unheard, &[lost_mail]).len(), 3);
        // All of a speaker's second hearing over a loose assent goes, and every first-pass
        // segment it had taken the place of comes back.
        assert_eq!(
            undone(&first_pass, &[(Some(Speaker::Agent), 19_800, 20_600)]),
            [
                (intro.text.clone(), false, false),
                (price.text.clone(), false, false),
                (later.text.clone(), false, true),
            ]
        );
        // Nothing lost, nothing undone.
        assert_eq!(undone(&first_pass, &[]).len(), 2);
    }

    /// A segment of words at the times given, heard with that mean log-probability.
    fn timed(words: &[(&str, u64, u64)], second_listen: bool, avg_logprob: f32) -> Segment {
        let words: Vec<Word> = words
            .iter()
            .map(|&(text, start_ms, end_ms)| Word {
                text: text.into(),
                start_ms,
                end_ms,
                probability: 0.9,
            })
            .collect();
        let mut s = said(0, 0, "");
        s.start_ms = words[0].start_ms;
        s.end_ms = words.iter().map(|w| w.end_ms).max().unwrap_or(0);
        s.text = words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        s.words = words;
        s.second_listen = second_listen;
        s.avg_logprob = avg_logprob;
        s
    }

    /// A French transcript of `segments` by base.
    fn french(segments: Vec<Segment>) -> Transcript {
        Transcript {
            near_readings: Vec::new(),
            call_id: CallId::new(),
            model: "base".into(),
            model_sha256: String::new(),
            language: "fr".into(),
            segments,
        }
    }

    fn untangled(segments: Vec<Segment>) -> (Vec<(String, u64, u64)>, usize) {
        let mut t = french(segments);
        let dropped = t.untangle();
        for (i, a) in t.segments.iter().enumerate() {
            for b in &t.segments[i + 1..] {
                if a.channel == b.channel && a.speaker == b.speaker {
                    assert!(
                        a.end_ms <= b.start_ms || b.end_ms <= a.start_ms,
                        "{a:?} overlaps {b:?}"
                    );
                }
            }
        }
        let texts = t
            .segments
            .into_iter()
            .map(|s| (s.text, s.start_ms, s.end_ms))
            .collect();
        (texts, dropped)
    }

    #[test]
    fn words_a_hearing_opens_with_again_in_no_time_are_kept_once() {
        // Two hearings of a second listen meeting at 20.303 s (AMR-NB, base): the later one
        // opens with the earlier one's last four words, three of them at one instant.
        let (texts, dropped) = untangled(vec![
            timed(
                &[
                    ("9", 19_194, 19_412),
                    ("ans,", 19_412, 19_921),
                    ("de", 19_921, 19_921),
                    ("compris,", 19_921, 20_303),
                ],
                true,
                -0.6,
            ),
            timed(
                &[
                    ("9", 20_303, 20_303),
                    ("ans,", 20_303, 20_303),
                    ("de", 20_303, 20_303),
                    ("compris,", 20_303, 20_630),
                    ("vont", 20_630, 20_921),
                    ("marcher", 20_921, 21_503),
                    ("conclux.", 21_503, 22_172),
                ],
                true,
                -0.4,
            ),
        ]);
        assert_eq!(
            texts,
            [
                ("9 ans, de compris,".into(), 19_194, 20_303),
                ("vont marcher conclux.".into(), 20_630, 22_172)
            ]
        );
        assert_eq!(dropped, 4);
        // One word at an instant at the end of a hearing, then again in its own time: the
        // timeless copy goes.
        let (texts, dropped) = untangled(vec![
            timed(
                &[
                    ("Come,", 15_221, 15_740),
                    ("Danook,", 15_740, 16_049),
                    ("possibly.", 16_049, 16_049),
                ],
                true,
                -0.6,
            ),
            timed(&[("possibly.", 16_270, 16_710)], true, -0.3),
        ]);
        assert_eq!(
            texts,
            [
                ("Come, Danook,".into(), 15_221, 16_049),
                ("possibly.".into(), 16_270, 16_710)
            ]
        );
        assert_eq!(dropped, 1);
        // Said again in its own time: speech, kept.
        let (texts, dropped) = untangled(vec![
            timed(&[("c'est", 0, 200), ("bon,", 200, 500)], false, -0.3),
            timed(&[("c'est", 600, 800), ("bon.", 800, 1_100)], false, -0.3),
        ]);
        assert_eq!(texts.len(), 2);
        assert_eq!(dropped, 0);
        let (texts, dropped) = untangled(vec![
            timed(&[("Non.", 0, 300)], false, -0.3),
            timed(&[("Non.", 500, 800)], false, -0.3),
        ]);
        assert_eq!(texts.len(), 2);
        assert_eq!(dropped, 0);
    }

    #[test]
    fn speech_written_twice_where_two_hearings_meet_is_kept_once() {
        // The first pass's "Nous" (15.78-16.10 s) left beside the second listen's sentence
        // from 16.00 s: the same word twice.
        let (texts, dropped) = untangled(vec![
            timed(&[("Nous", 15_780, 16_100)], false, -0.48),
            timed(
                &[
                    ("Nous", 16_000, 16_110),
                    ("vous", 16_110, 16_250),
                    ("proposons", 16_250, 16_670),
                ],
                true,
                -0.35,
            ),
        ]);
        assert_eq!(texts, [("Nous vous proposons".into(), 16_000, 16_670)]);
        assert_eq!(dropped, 1);
        // A word the surer hearing did not have stays, held to its edge.
        let (texts, dropped) = untangled(vec![
            timed(&[("C'est", 22_166, 22_522)], false, -0.38),
            timed(
                &[("Sevient", 22_416, 22_906), ("l'accès.", 22_906, 23_750)],
                true,
                -0.87,
            ),
        ]);
        assert_eq!(
            texts,
            [
                ("C'est".into(), 22_166, 22_416),
                ("Sevient l'accès.".into(), 22_416, 23_750)
            ]
        );
        assert_eq!(dropped, 0);
        // A decoding that ran past its stretch squeezed six words into its last instant, over
        // the next segment's speech: the less sure hearing loses them.
        let (texts, dropped) = untangled(vec![
            timed(
                &[
                    ("The", 8_360, 8_450),
                    ("alarm", 8_450, 8_650),
                    ("system", 8_650, 8_650),
                    ("gusts", 8_650, 8_650),
                    ("for", 8_650, 8_650),
                    ("the", 8_650, 8_650),
                    ("PAN's", 8_650, 8_650),
                    ("demand.", 8_650, 8_650),
                ],
                true,
                -0.81,
            ),
            timed(
                &[
                    ("system", 8_620, 9_200),
                    ("costs", 9_200, 9_638),
                    ("40", 9_638, 9_813),
                ],
                true,
                -0.27,
            ),
        ]);
        assert_eq!(
            texts,
            [
                ("The alarm".into(), 8_360, 8_620),
                ("system costs 40".into(), 8_620, 9_813)
            ]
        );
        assert_eq!(dropped, 6);
    }

    #[test]
    fn untangling_keeps_every_word_outside_the_overlap_and_voices_that_talk_over_each_other() {
        // A less sure hearing reaching across a surer one on both sides keeps both sides.
        let (texts, dropped) = untangled(vec![
            timed(
                &[("one", 0, 400), ("two", 400, 800), ("four", 2_100, 2_500)],
                false,
                -0.9,
            ),
            timed(&[("three", 900, 2_000)], true, -0.2),
        ]);
        assert_eq!(
            texts,
            [
                ("one two".into(), 0, 800),
                ("three".into(), 900, 2_000),
                ("four".into(), 2_100, 2_500)
            ]
        );
        assert_eq!(dropped, 0);
        // A word said again later, away from the edge, is speech, not a repeat.
        let (texts, _) = untangled(vec![
            timed(&[("oui", 0, 300), ("euh", 1_500, 2_100)], false, -0.9),
            timed(
                &[("oui", 2_050, 2_400), ("d'accord", 2_400, 2_900)],
                true,
                -0.2,
            ),
        ]);
        assert_eq!(
            texts,
            [
                ("oui euh".into(), 0, 2_050),
                ("oui d'accord".into(), 2_050, 2_900)
            ]
        );
        // On a mono recording, two speakers told apart by voice may overlap: left as they are.
        let mut customer = timed(&[("oui", 1_000, 1_400)], false, -0.3);
        customer.speaker = Speaker::Customer;
        let (texts, dropped) = untangled(vec![
            timed(
                &[("vous", 800, 1_200), ("confirmez", 1_200, 1_800)],
                false,
                -0.3,
            ),
            customer,
        ]);
        assert_eq!(texts.len(), 2);
        assert_eq!(dropped, 0);
    }

    #[test]
    fn verdict_is_the_worst_finding() {
        let f = |status| Finding {
            rule_id: "r".into(),
            kind: RuleKind::Required,
            outcome: Outcome::Met,
            status,
            speaker: None,
            start_ms: None,
            end_ms: None,
            matched: None,
            phrase: None,
            score: None,
            detail: String::new(),
            attribution: None,
            hearing: None,
        };
        use FindingStatus::*;
        assert_eq!(Verdict::of(&[]), Verdict::Compliant);
        assert_eq!(Verdict::of(&[f(Pass), f(Pass)]), Verdict::Compliant);
        assert_eq!(Verdict::of(&[f(Pass), f(Review)]), Verdict::NeedsReview);
        assert_eq!(Verdict::of(&[f(Review), f(Fail)]), Verdict::Violation);
        assert_eq!("needs-review".parse::<Verdict>(), Ok(Verdict::NeedsReview));
        let refusal = Finding {
            kind: RuleKind::Consent,
            outcome: Outcome::Refused,
            ..f(Fail)
        };
        assert_eq!(Verdict::of(&[f(Pass), refusal.clone()]), Verdict::NoSale);
        // A breach in a refused call is still a violation; doubt still needs a person.
        assert_eq!(Verdict::of(&[refusal.clone(), f(Fail)]), Verdict::Violation);
        assert_eq!(Verdict::of(&[refusal, f(Review)]), Verdict::NeedsReview);
        assert_eq!("no-sale".parse::<Verdict>(), Ok(Verdict::NoSale));
    }

    #[test]
    fn client_ids_are_valid_or_do_not_exist() {
        for good in ["acme", "edc-2026", "a.b_c", "X"] {
            assert_eq!(ClientId::new(good).unwrap().as_str(), good);
        }
        for bad in ["", ".hidden", "a/b", "../x", "é", &"x".repeat(65)] {
            assert!(ClientId::new(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<ClientId>("\"../x\"").is_err());
        let s = SampleId::new();
        assert_eq!(s.as_str().parse::<SampleId>().unwrap(), s);
        assert!("nope".parse::<CalibrationId>().is_err());
        assert!(serde_json::from_str::<ReviewId>("\"../x\"").is_err());
        let c: ClientId = serde_json::from_str("\"acme\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"acme\"");
    }

    #[test]
    fn call_state_serialises_with_reason() {
        let s = serde_json::to_string(&CallState::Failed("bad codec".into())).unwrap();
        assert_eq!(s, r#"{"state":"failed","reason":"bad codec"}"#);
    }
}
