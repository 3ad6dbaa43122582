//! Every accepted format decodes to the right channels, rate and length; refused files say why.

use std::path::PathBuf;

use callproof_ingest::{channels_16k, decode, decode_window, probe_file, AudioLimits, DecodeError};

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/formats")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_listed_format_decodes() {
    let cases = [
        ("pcm_u8_8k.wav", "wav/pcm_u8", 8000, 1),
        ("pcm_s16_16k.wav", "wav/pcm_s16le", 16000, 1),
        ("pcm_s24_44k.wav", "wav/pcm_s24le", 44100, 1),
        ("pcm_s32_16k.wav", "wav/pcm_s32le", 16000, 1),
        ("float32_16k.wav", "wav/pcm_f32le", 16000, 1),
        ("mulaw_8k.wav", "wav/pcm_mulaw", 8000, 1),
        ("alaw_8k.wav", "wav/pcm_alaw", 8000, 1),
        ("stereo_s16_8k.wav", "wav/pcm_s16le", 8000, 2),
        ("flac_16k.flac", "flac/flac", 16000, 1),
        ("aiff_44k.aiff", "aiff/pcm_s16be", 44100, 1),
        ("mp3_16k.mp3", "mp3/mp3", 16000, 1),
        ("vorbis_16k.ogg", "ogg/vorbis", 16000, 1),
        ("aac_16k.m4a", "mp4/aac", 16000, 1),
    ];
    let mut failures = Vec::new();
    for (file, format, rate, channels) in cases {
        let audio = match decode(&fixture(file)) {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        let ms = audio.duration_ms();
        // The upload check (constant memory, from the file) sees what the full decode sees.
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/formats")
            .join(file);
        match probe_file(&path, &AudioLimits::default()) {
            Ok(p)
                if p.format == audio.format
                    && p.sample_rate == audio.sample_rate
                    && p.channels as usize == audio.channels.len()
                    && p.frames == audio.frames() as u64 => {}
            other => failures.push(format!("{file}: probe says {other:?}")),
        }
        let peak = audio.channels[0].iter().fold(0f32, |m, v| m.max(v.abs()));
        let resampled = channels_16k(&audio).unwrap();
        let len = resampled[0].len() as i64;
        // Every clip is the same 3 s of speech (lossy codecs may add some priming).
        let ok = audio.format == format
            && audio.sample_rate == rate
            && audio.channels.len() == channels
            && (2950..=3150).contains(&ms)
            && peak > 0.1
            && (len - ms as i64 * 16).abs() <= 32;
        if !ok {
            failures.push(format!(
                "{file}: {} {} Hz {} ch {ms} ms peak {peak} → {len} samples at 16 kHz",
                audio.format,
                audio.sample_rate,
                audio.channels.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn refused_files_name_the_problem() {
    let err = decode(&fixture("refused_opus.ogg")).unwrap_err();
    assert!(matches!(err, DecodeError::UnsupportedCodec { .. }), "{err}");
    assert!(err.to_string().contains("Opus"), "{err}");
    assert!(err.to_string().contains("convert"), "{err}");

    let err = decode(&fixture("refused_gsm.wav")).unwrap_err();
    assert!(err.to_string().contains("GSM 6.10"), "{err}");

    let err = decode(&fixture("refused_truncated.wav")).unwrap_err();
    assert!(matches!(err, DecodeError::Damaged(_)), "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");

    let err = decode(&fixture("refused_text.wav")).unwrap_err();
    assert!(err.to_string().contains("not an audio recording"), "{err}");
    assert!(err.to_string().contains("text file"), "{err}");
}

/// A PCM WAV whose header says `rate` Hz and `channels` channels, with `frames` frames of silence.
fn wav(rate: u32, channels: u16, frames: u32) -> Vec<u8> {
    let data = frames * channels as u32 * 2;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&rate.wrapping_mul(channels as u32 * 2).to_le_bytes());
    b.extend_from_slice(&(channels * 2).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    b.resize(b.len() + data as usize, 0);
    b
}

/// Headers no recorder writes are refused before decoding: a "1 Hz" WAV used to be accepted and
/// then ask the resampler for gigabytes, aborting the process.
#[test]
fn impossible_rates_and_channel_counts_are_refused() {
    for rate in [1, 3_999, 192_001, u32::MAX] {
        match decode(&wav(rate, 2, 40)) {
            Err(DecodeError::Limit(m)) => assert!(m.contains("Hz"), "{m}"),
            other => panic!("{rate} Hz: expected a limit, got {other:?}"),
        }
    }
    assert!(decode(&wav(8_000, 26, 40)).is_err());
    // The limits themselves are accepted.
    for rate in [4_000, 8_000, 192_000] {
        assert!(decode(&wav(rate, 2, rate)).is_ok(), "{rate} Hz");
    }
}

/// A decode bomb: a small file of constant FLAC frames claiming hours of 8-channel audio. The
/// header is believed only as far as the limits allow; the probe decodes it in constant memory
/// and stops at the limit instead of holding gigabytes.
#[test]
fn limits_are_settings_and_bound_the_probe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.wav");
    std::fs::write(&path, wav(8_000, 2, 8_000 * 90)).unwrap();
    assert!(probe_file(&path, &AudioLimits::default()).is_ok());
    let strict = AudioLimits {
        max_duration_s: 60,
        ..AudioLimits::default()
    };
    match probe_file(&path, &strict) {
        Err(DecodeError::Limit(m)) => assert!(m.contains("1 min at most"), "{m}"),
        other => panic!("expected the duration limit, got {other:?}"),
    }
    let few = AudioLimits {
        max_samples: 100_000,
        ..AudioLimits::default()
    };
    assert!(matches!(
        probe_file(&path, &few),
        Err(DecodeError::Limit(_))
    ));
    let mono = AudioLimits {
        max_channels: 1,
        ..AudioLimits::default()
    };
    match probe_file(&path, &mono) {
        Err(DecodeError::Limit(m)) => assert!(m.contains("2 channels"), "{m}"),
        other => panic!("expected the channel limit, got {other:?}"),
    }
}

/// An excerpt decodes only its window, sample for sample the same as the full decode's.
#[test]
fn a_window_is_the_same_samples_as_the_full_decode() {
    for file in ["stereo_s16_8k.wav", "flac_16k.flac", "mp3_16k.mp3"] {
        let bytes = fixture(file);
        let full = decode(&bytes).unwrap();
        let w = decode_window(&bytes, &AudioLimits::default(), 1000, 2250).unwrap();
        let r = full.sample_rate as usize;
        assert_eq!(w.channels.len(), full.channels.len(), "{file}");
        for (wc, fc) in w.channels.iter().zip(&full.channels) {
            assert_eq!(wc.as_slice(), &fc[r..r * 9 / 4], "{file}");
        }
        // Past the end: what there is.
        let tail = decode_window(&bytes, &AudioLimits::default(), 2900, 99_000).unwrap();
        assert_eq!(tail.frames(), full.frames() - r * 29 / 10, "{file}");
    }
}
