//! Property tests: whatever bytes arrive, decoding answers (a recording or an error) within
//! the limits, and never panics or takes more than the limits allow. CI runs a few hundred
//! cases (PROPTEST_CASES sets more: the hour-long run by hand is in the README).

use callproof_ingest::{decode_with, probe_file, AudioLimits};
use proptest::prelude::*;

/// A WAV header with random fields (rate, channels, format tag, chunk sizes) and random data.
fn wav_like() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u16>(),
        any::<u16>(),
        any::<u32>(),
        any::<u16>(),
        any::<u32>(),
        prop::collection::vec(any::<u8>(), 0..4096),
    )
        .prop_map(|(tag, channels, rate, bits, data_len, data)| {
            let mut w = Vec::new();
            w.extend_from_slice(b"RIFF");
            w.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
            w.extend_from_slice(b"WAVEfmt ");
            w.extend_from_slice(&16u32.to_le_bytes());
            w.extend_from_slice(&(tag % 8).to_le_bytes());
            w.extend_from_slice(&(channels % 40).to_le_bytes());
            w.extend_from_slice(&rate.to_le_bytes());
            w.extend_from_slice(&rate.wrapping_mul(4).to_le_bytes());
            w.extend_from_slice(&(channels % 40 * 2).to_le_bytes());
            w.extend_from_slice(&(bits % 40).to_le_bytes());
            w.extend_from_slice(b"data");
            w.extend_from_slice(&data_len.to_le_bytes());
            w.extend_from_slice(&data);
            w
        })
}

/// A real recording of every container with random bytes overwritten.
fn damaged_fixture() -> impl Strategy<Value = Vec<u8>> {
    let names = [
        "pcm_s16_16k.wav",
        "mulaw_8k.wav",
        "flac_16k.flac",
        "mp3_16k.mp3",
        "vorbis_16k.ogg",
        "aac_16k.m4a",
        "aiff_44k.aiff",
    ];
    (
        0..names.len(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24),
        any::<prop::sample::Index>(),
    )
        .prop_map(move |(n, edits, cut)| {
            let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/fixtures/formats")
                .join(names[n]);
            let mut b = std::fs::read(path).unwrap_or_default();
            for (at, v) in edits {
                if !b.is_empty() {
                    let i = at.index(b.len().min(4096));
                    b[i] = v;
                }
            }
            // Sometimes cut short too.
            if !b.is_empty() && cut.index(4) == 0 {
                let len = cut.index(b.len());
                b.truncate(len);
            }
            b
        })
}

fn limits() -> AudioLimits {
    AudioLimits {
        max_samples: 2_000_000,
        ..AudioLimits::default()
    }
}

fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let l = limits();
    if let Ok(audio) = decode_with(bytes, &l) {
        prop_assert!((l.min_sample_rate..=l.max_sample_rate).contains(&audio.sample_rate));
        prop_assert!((1..=l.max_channels).contains(&audio.channels.len()));
        let samples = audio.frames() as u64 * audio.channels.len() as u64;
        prop_assert!(samples <= l.max_samples, "{samples} samples");
        prop_assert!(audio.duration_ms() >= l.min_duration_ms);
    }
    Ok(())
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..8192)) {
        check(&bytes)?;
    }

    #[test]
    fn random_wav_headers_stay_within_the_limits(bytes in wav_like()) {
        check(&bytes)?;
    }

    #[test]
    fn damaged_recordings_stay_within_the_limits(bytes in damaged_fixture()) {
        check(&bytes)?;
        // The upload check from a file agrees with the full decode on accepting it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, &bytes).unwrap();
        prop_assert_eq!(
            probe_file(&path, &limits()).is_ok(),
            decode_with(&bytes, &limits()).is_ok()
        );
    }
}
