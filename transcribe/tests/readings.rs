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

/// What the JFK clip says.
const SAID: &str = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";
/// The same with its fourth word not said: a reading the audio speaks against early.
const YELLOW: &str = "And so my yellow Americans, ask not what your country can do for you, ask what you can do for your country.";

#[test]
fn the_words_said_fit_the_audio_and_one_word_changed_does_not() {
    let engine = engine();
    let samples = jfk();
    let said = SAID;
    let changed = "And so my fellow Americans, ask not what your company can do for you, ask what you can do for your country.";
    let (own, scores) = engine
        .weigh_readings(&samples, (0, 11_000), "en", 2, true, &|own| {
            assert!(
                own.text
                    .to_lowercase()
                    .contains("ask not what your country"),
                "{own:?}"
            );
            assert_eq!(own.number_here.len(), own.text.split_whitespace().count());
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

#[test]
fn a_reading_past_the_margin_is_given_up_and_one_within_it_is_scored_whole() {
    let engine = engine();
    let samples = jfk();
    let said = SAID;
    // The word not said comes early: the rest of the reading is not worth scoring.
    let changed = YELLOW;
    let mut listening = engine
        .listen(&samples, (0, 11_000), "en", 2, true)
        .expect("the model's own hearing");
    let own = listening.own().cloned().expect("the model's own hearing");
    let mut score =
        |text: &str, give_up: Option<f32>| listening.score(text, give_up).expect("scoring");
    let whole = [score(said, None), score(changed, None)];
    let cut = [score(said, Some(5.0)), score(changed, Some(5.0))];
    // Within the margin: scored to its end, as without giving up.
    assert!(whole[0].complete && cut[0].complete, "{cut:?}");
    assert!(
        (whole[0].logprob - cut[0].logprob).abs() < 0.01,
        "{cut:?} vs {whole:?}"
    );
    // Past it: stopped short, at a score already past the margin and no lower than its whole.
    assert!(whole[1].complete && !cut[1].complete, "{cut:?}");
    assert!(cut[1].tokens < whole[1].tokens, "{cut:?} vs {whole:?}");
    assert!(cut[1].logprob < own.logprob - 5.0, "{cut:?} vs {own:?}");
    assert!(cut[1].logprob >= whole[1].logprob, "{cut:?} vs {whole:?}");
}

#[test]
fn a_reading_less_likely_a_token_than_the_own_hearing_is_given_up_early_and_one_as_likely_is_not() {
    let engine = engine();
    let samples = jfk();
    let said = SAID;
    let changed = YELLOW;
    let mut listening = engine
        .listen(&samples, (0, 11_000), "en", 2, true)
        .expect("the model's own hearing");
    let own = listening.own().cloned().expect("the model's own hearing");
    let whole = listening.score(changed, None).expect("scoring");
    let margin = listening.score(changed, Some(5.0)).expect("scoring");
    let likely = listening
        .score_as_likely(changed, 5.0, own.mean())
        .expect("scoring");
    // Wherever the whole reading is less likely a token than the own hearing, it is given up,
    // and no later than at the margin alone: at a score no lower than its whole.
    assert!(whole.mean() < own.mean(), "{whole:?} vs {own:?}");
    assert!(!likely.complete, "{likely:?}");
    assert!(likely.tokens <= margin.tokens, "{likely:?} vs {margin:?}");
    assert!(likely.logprob >= whole.logprob, "{likely:?} vs {whole:?}");
    assert!(likely.mean() < own.mean(), "{likely:?} vs {own:?}");
    // A reading that is the own hearing is as likely a token as itself: scored whole, alike.
    let same = listening
        .score_as_likely(&own.text, 5.0, own.mean())
        .expect("scoring");
    assert!(same.complete, "{same:?}");
    assert!(
        (same.logprob - own.logprob).abs() < 0.01,
        "{same:?} vs {own:?}"
    );
    // The words said score whole wherever they are at least as likely a token as the own
    // hearing, and are given up where they are not: either way the decision is the whole's.
    let said_whole = listening.score(said, None).expect("scoring");
    let said_likely = listening
        .score_as_likely(said, 5.0, own.mean())
        .expect("scoring");
    assert_eq!(
        said_likely.complete,
        said_whole.mean() >= own.mean() - 0.01 / said_whole.tokens as f32
            && said_whole.logprob >= own.logprob - 5.0,
        "{said_likely:?} vs {said_whole:?} vs {own:?}"
    );
}

/// `text` spoken by espeak-ng (en-us), 16 kHz mono.
fn spoken(text: &str) -> Vec<f32> {
    let dir = std::env::temp_dir().join(format!("callproof-readings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (raw, wav) = (dir.join("raw.wav"), dir.join("16k.wav"));
    let ok = |c: &mut std::process::Command| c.status().is_ok_and(|s| s.success());
    assert!(
        ok(std::process::Command::new("espeak-ng")
            .args(["-v", "en-us", "-s", "150", "-w"])
            .arg(&raw)
            .arg(text)),
        "espeak-ng (scripts/setup.sh installs it)"
    );
    assert!(ok(std::process::Command::new("sox")
        .arg(&raw)
        .args(["-r", "16000", "-c", "1", "-b", "16"])
        .arg(&wav)));
    let mut reader = hound::WavReader::open(&wav).expect("the rendered speech");
    let samples = reader
        .samples::<i16>()
        .map(|s| f32::from(s.expect("16-bit samples")) / 32768.0)
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    samples
}

#[test]
fn a_number_slot_takes_the_number_said_and_costs_much_where_none_was() {
    use callproof_transcribe::{NUMBER_SLOT, REST_SLOT};
    let engine = engine();
    let samples = spoken("The membership costs one hundred twenty euros a year.");
    let ms = samples.len() as u64 * 1000 / 16_000;
    let reading = format!("The membership costs {NUMBER_SLOT} euros {REST_SLOT}");
    let (own, scores) = engine
        .weigh_readings(&samples, (0, ms), "en", 2, true, &|own| {
            // Where a number begins is likeliest at the number said.
            let words: Vec<&str> = own.text.split_whitespace().collect();
            let likeliest = (0..words.len())
                .max_by(|&a, &b| own.number_here[a].total_cmp(&own.number_here[b]))
                .expect("words");
            assert!(
                words[likeliest].starts_with(|c: char| c.is_ascii_digit()),
                "{own:?}"
            );
            vec![reading.clone()]
        })
        .expect("scoring");
    let own = own.expect("the model's own hearing");
    let read = &scores[0];
    assert!(read.text.contains("costs 120 euros"), "{read:?} vs {own:?}");
    assert!(read.logprob - own.logprob > -3.0, "{read:?} vs {own:?}");
    // Its rest, heard freely, came to the end of the transcript: a reading of the whole
    // stretch (a rest that never ends, a decoder looping, is not).
    assert!(read.complete, "{read:?}");

    // JFK said no amount: a price read into his words costs far more than the margin.
    let samples = jfk();
    let (own, scores) = engine
        .weigh_readings(&samples, (0, 11_000), "en", 2, true, &|_| {
            vec![format!(
                "And so my fellow Americans, ask not {NUMBER_SLOT} euros {REST_SLOT}"
            )]
        })
        .expect("scoring");
    let own = own.expect("the model's own hearing");
    assert!(
        scores[0].logprob < own.logprob - 10.0,
        "{:?} vs {own:?}",
        scores[0]
    );
}

#[test]
fn the_hearing_readings_are_weighed_against_is_the_likelier_one() {
    use callproof_transcribe::REST_SLOT;
    let engine = engine();
    // JFK under loud noise (a fixed pseudo-random sequence): the first pass's kind of hearing
    // (with timestamps) and the free one the readings are scored in need not agree.
    let mut seed: u32 = 7;
    let samples: Vec<f32> = jfk()
        .iter()
        .map(|s| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            s + (seed >> 8) as f32 / (1u32 << 24) as f32 * 0.6 - 0.3
        })
        .collect();
    for window in [(0, 11_000), (3_000, 9_000)] {
        let (own, scores) = engine
            .weigh_readings(&samples, window, "en", 2, true, &|own| {
                assert_eq!(own.number_here.len(), own.text.split_whitespace().count());
                vec![REST_SLOT.to_string()]
            })
            .expect("scoring");
        let own = own.expect("the model's own hearing");
        // A reading weighed against a hearing poorer than the model's free one would look
        // better than it is (a free hearing that stopped early is likelier only for holding
        // fewer words, and does not count).
        let words = |t: &str| t.split_whitespace().count();
        assert!(
            own.logprob >= scores[0].logprob - 0.01
                || words(&scores[0].text) * 10 < words(&own.text) * 9,
            "{own:?} vs the free hearing {:?}",
            scores[0]
        );
    }
}
