//! A chunk whose text reaches the token limit is decoded again in parts, so no words are lost.
//! Real speech needs 28 s at about 5 words a second to reach the real limit; a lower limit on a
//! real recording takes the same path. The limit stays above 32 tokens, where whisper.cpp starts
//! checking a decoding for repetition loops, as it does at the real limit.
//!
//! Needs tiny.en in the model cache (`scripts/setup.sh` installs it).

mod common;

use callproof_transcribe::TranscribeOptions;
use common::{engine, jfk, plain as words};

/// JFK's 11 s twice, one second apart: 54 tokens.
fn jfk_twice() -> Vec<f32> {
    let once = jfk();
    let mut twice = once.clone();
    twice.extend(std::iter::repeat_n(0.0, 16_000));
    twice.extend(once);
    twice
}

fn transcribe(
    engine: &callproof_transcribe::Engine,
    samples: &[f32],
    max_chunk_tokens: usize,
) -> Vec<callproof_models::Segment> {
    let opts = TranscribeOptions {
        max_chunk_tokens,
        ..TranscribeOptions::new("en", 2)
    };
    common::transcribe(engine, samples, &opts)
}

#[test]
fn chunks_reaching_the_token_limit_are_decoded_again_in_parts() {
    let engine = engine();
    let samples = jfk_twice();
    let said = |text: &str| {
        text.matches(
            "ask not what your country can do for you ask what you can do for your country",
        )
        .count()
    };
    let normal = words(&transcribe(
        &engine,
        &samples,
        callproof_transcribe::engine::MAX_CHUNK_TOKENS,
    ));
    assert_eq!(said(&normal), 2, "{normal}");
    // With a limit of 40 the first decoding stops in the second sentence and the chunk is
    // decoded again in two parts; without that, the end of the second sentence would be lost.
    let limited = transcribe(&engine, &samples, 40);
    let text = words(&limited);
    assert_eq!(said(&text), 2, "{text}");
    // Word times stay on the recording's clock: the last "country" is said near the end.
    let last = limited.iter().flat_map(|s| &s.words).last().expect("words");
    assert!((21_000..23_000).contains(&last.start_ms), "{last:?}");
}

/// A 3 s clip of JFK ("And so my fellow Americans", cut before "ask not"): greedy decoding
/// loops on it, and so does every sampled decoding up to temperature 1.0. The decoding kept is
/// the likeliest, its loop cut to one turn; whisper.cpp's own fallback kept the last sample,
/// and the transcript read "And so, my fellow American." then "And so my fellow America and
/// local American laughs", words nobody said.
#[test]
fn when_every_temperature_loops_the_likeliest_decoding_is_kept_not_the_last_sample() {
    let engine = engine();
    let clip: Vec<f32> = jfk().into_iter().take(3 * 16_000).collect();
    let segments = common::transcribe(&engine, &clip, &TranscribeOptions::new("en", 2));
    let text = words(&segments);
    assert_eq!(text, "and so my fellow americans", "{segments:?}");
}
