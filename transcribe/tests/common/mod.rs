//! What the transcription tests share: the tiny.en engine, the JFK recording, and a transcript's
//! words as plain lower-case text.

use callproof_models::{Segment, Speaker};
use callproof_transcribe::{Engine, ModelCache, TranscribeOptions};

/// tiny.en from the model cache (`scripts/setup.sh` installs it).
pub fn engine() -> Engine {
    let model = ModelCache::from_env().get("tiny.en").expect(
        "tiny.en is not installed: run scripts/setup.sh (or `callproof model install tiny.en`)",
    );
    Engine::load(&model.path, &model.name, &model.sha256).expect("model loads")
}

/// JFK's 11 s ("And so my fellow Americans…"), 16 kHz mono.
pub fn jfk() -> Vec<f32> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/real/en_jfk_16k_mono.wav"
    );
    let mut reader = hound::WavReader::open(path).expect("the JFK fixture");
    assert_eq!(reader.spec().sample_rate, 16_000);
    reader
        .samples::<i16>()
        .map(|s| f32::from(s.expect("16-bit samples")) / 32768.0)
        .collect()
}

/// Transcribes English samples with `opts` (2 threads unless they say otherwise).
pub fn transcribe(engine: &Engine, samples: &[f32], opts: &TranscribeOptions) -> Vec<Segment> {
    engine
        .transcribe(samples, Speaker::Customer, 1, opts)
        .expect("transcription")
}

/// The words of segments, lower case, letters and digits only, one space apart.
pub fn plain(segments: &[Segment]) -> String {
    segments
        .iter()
        .flat_map(|s| &s.words)
        .map(|w| {
            w.text
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}
