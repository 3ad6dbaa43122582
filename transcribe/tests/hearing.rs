//! What the recogniser must never do to evidence: invent words on a line that carries no
//! speech, or lose or double words where a long stretch of speech is cut into chunks.
//!
//! Needs tiny.en in the model cache (`scripts/setup.sh` installs it).

mod common;

use callproof_models::Segment;
use callproof_transcribe::{Engine, TranscribeOptions};
use common::{engine, jfk, plain};

/// Deterministic noise at `dbfs`: white, or brown (integrated white, as line hiss and rumble
/// sound), scaled to the level asked.
fn noise(seconds: usize, dbfs: f32, brown: bool) -> Vec<f32> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut acc = 0.0f32;
    let raw: Vec<f32> = (0..seconds * 16_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let white = (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
            if brown {
                acc = (acc + white * 0.02) * 0.998;
                acc
            } else {
                white
            }
        })
        .collect();
    let rms = (raw.iter().map(|x| x * x).sum::<f32>() / raw.len() as f32).sqrt();
    let gain = 10f32.powf(dbfs / 20.0) / rms.max(1e-9);
    raw.into_iter().map(|x| x * gain).collect()
}

fn transcribe(engine: &Engine, samples: &[f32], skip_silence: bool) -> Vec<Segment> {
    let opts = TranscribeOptions {
        skip_silence,
        ..TranscribeOptions::new("en", 2)
    };
    common::transcribe(engine, samples, &opts)
}

#[test]
fn a_line_of_noise_gives_no_text() {
    let engine = engine();
    for (what, samples) in [
        ("digital silence", vec![0.0f32; 20 * 16_000]),
        ("brown noise at -35 dBFS", noise(20, -35.0, true)),
        ("brown noise at -25 dBFS", noise(20, -25.0, true)),
        ("white noise at -40 dBFS", noise(20, -40.0, false)),
    ] {
        // With speech detection, and with the whole channel forced through Whisper: the text
        // it invents on noise must still be dropped.
        for skip_silence in [true, false] {
            let heard = transcribe(&engine, &samples, skip_silence);
            assert!(
                heard.is_empty(),
                "{what} (speech detection {skip_silence}) gave {:?}",
                heard.iter().map(|s| &s.text).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn speech_over_line_noise_is_kept() {
    let engine = engine();
    let mut samples = noise(14, -40.0, true);
    for (s, j) in samples[16_000..].iter_mut().zip(jfk()) {
        *s += j;
    }
    let text = plain(&transcribe(&engine, &samples, true));
    assert!(text.contains("ask not what your country"), "{text}");
}

#[test]
fn a_chunk_boundary_inside_speech_loses_and_doubles_no_word() {
    let engine = engine();
    let once = jfk();
    // 33 s of speech with no pause long enough to end a region: the channel is cut into chunks
    // inside it.
    let samples: Vec<f32> = once.iter().chain(&once).chain(&once).copied().collect();
    let heard = transcribe(&engine, &samples, true);
    let text = plain(&heard);
    for word in ["country", "ask", "americans", "fellow"] {
        let single = plain(&transcribe(&engine, &once, true))
            .matches(word)
            .count();
        assert_eq!(text.matches(word).count(), 3 * single, "{word} in {text}");
    }
    // Each word once, in time order, and no two segments over the same audio.
    let words: Vec<_> = heard.iter().flat_map(|s| &s.words).collect();
    for pair in words.windows(2) {
        assert!(pair[0].start_ms <= pair[1].start_ms, "{pair:?}");
    }
    for pair in heard.windows(2) {
        assert!(
            pair[0].end_ms <= pair[1].start_ms + 100,
            "overlap: {pair:?}"
        );
    }
}

/// whisper.cpp's DTW aborted the whole process (`WHISPER_ASSERT: filter_width < a->ne[2]`) on
/// a window shorter than 160 ms that decoded to any text: a 2.1 s answer cut at its quietest
/// moment left such a part, and an ingest of sixteen calls died with it. Every short slice of
/// speech is decoded, each to its words or to none, and the process lives.
#[test]
fn a_slice_of_speech_shorter_than_the_alignment_filter_is_decoded_without_aborting() {
    let engine = engine();
    let speech = jfk();
    let opts = TranscribeOptions {
        skip_silence: false,
        ..TranscribeOptions::new("en", 2)
    };
    let mut heard = 0;
    for len_ms in [100usize, 110, 120, 130, 140, 150] {
        for at_ms in (300..10_500).step_by(700) {
            let from = at_ms * 16;
            let slice = &speech[from..from + len_ms * 16];
            let segments = common::transcribe(&engine, slice, &opts);
            heard += segments.iter().map(|s| s.words.len()).sum::<usize>();
            for w in segments.iter().flat_map(|s| &s.words) {
                assert!(
                    w.end_ms <= len_ms as u64 + 50,
                    "{len_ms} ms at {at_ms} ms: {w:?} ends past the slice"
                );
            }
        }
    }
    // Some slices hold a word the model hears: the windows were decoded, not skipped.
    assert!(heard > 0, "no slice decoded to any word");
}
