//! Forced decoding: how well a given text fits a stretch of audio, against what the model hears
//! there by itself. The script check rests on it (a reading of the script the audio supports
//! about as well as the model's own hearing clears a doubtful finding), so it must tell words
//! that were said from words that were not.
//!
//! Needs tiny.en in the model cache (`scripts/setup.sh` installs it).

// Each test file uses part of what the tests share.
#[allow(dead_code)]
mod common;

use common::{engine, jfk};

#[test]
fn the_words_said_fit_the_audio_and_one_word_changed_does_not() {
    let engine = engine();
    let samples = jfk();
    let said = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";
    let changed = "And so my fellow Americans, ask not what your company can do for you, ask what you can do for your country.";
    let (own, scores) = engine
        .weigh_readings(&samples, (0, 11_000), "en", 2, true, &|own: &str| {
            assert!(
                own.to_lowercase().contains("ask not what your country"),
                "{own}"
            );
            vec![said.to_string(), changed.to_string()]
        })
        .expect("scoring");
    let own = own.expect("the model's own hearing");
    let (said, changed) = (&scores[0], &scores[1]);
    // What was said is (about) what the model hears by itself.
    assert!(said.logprob - own.logprob > -3.0, "{said:?} vs {own:?}");
    // One word that was not said costs far more than the script check's margin (5).
    assert!(
        changed.logprob < said.logprob - 8.0,
        "{changed:?} vs {said:?}"
    );
    // Word by word: "company" is the word the audio speaks against.
    let p = |s: &callproof_transcribe::ReadingScore, w: &str| {
        s.words
            .iter()
            .find(|(t, _)| t.trim_matches(|c: char| !c.is_alphanumeric()) == w)
            .map(|(_, p)| *p)
            .unwrap_or_else(|| panic!("{w} in {:?}", s.words))
    };
    assert!(
        p(changed, "company") < 0.1 && p(said, "fellow") > 0.5,
        "{changed:?}"
    );
    assert_eq!(said.words.len(), said.text.split_whitespace().count());

    // The same scores without the model's own hearing, and with nothing in reach refused.
    let again = engine
        .score_readings(&samples, (0, 11_000), "en", &[said.text.as_str()], 2)
        .expect("scoring");
    assert!((again[0].logprob - said.logprob).abs() < 0.01);
    assert!(engine
        .score_readings(&samples, (20_000, 30_000), "en", &["x"], 2)
        .is_err());
}
