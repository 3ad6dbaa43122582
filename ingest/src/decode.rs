//! Decoding recordings into separate channels of f32 samples, then 16 kHz for Whisper.
//!
//! Channels are kept apart because call recorders put the agent on one and the customer on the
//! other: mixing them would lose who said what. Formats symphonia cannot decode are refused here,
//! before anything is stored, with the codec named and a way out.

use std::io::Cursor;

use rubato::{FftFixedIn, Resampler};
use symphonia::core::codecs::audio::well_known::*;
use symphonia::core::codecs::audio::{AudioCodecId, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

/// Sample rate Whisper expects.
pub const TARGET_RATE: u32 = 16_000;

#[derive(Debug, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum DecodeError {
    #[error("this is not an audio recording ({0}); callproof accepts WAV, MP3, FLAC, Ogg Vorbis, AAC/M4A and AIFF")]
    NotAudio(String),
    #[error("{codec} audio cannot be decoded by callproof; convert the recording to WAV (PCM, µ-law or A-law) or FLAC first, for example `ffmpeg -i in -c:a pcm_s16le out.wav` or `sox in out.flac`")]
    UnsupportedCodec { codec: String },
    #[error("the recording is truncated or damaged: {0}; upload the complete file again")]
    Damaged(String),
    #[error("the recording holds no audio samples")]
    Empty,
    #[error("resampling the audio failed: {0}")]
    Resample(String),
    /// The recording is outside what callproof accepts (see the `MAX_*`/`MIN_*` limits).
    #[error("{0}")]
    Limit(String),
}

/// What a recording may be, checked before and while it is decoded. The defaults are the
/// `MIN_*`/`MAX_*` constants; the binary lets an operator change each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AudioLimits {
    pub min_sample_rate: u32,
    pub max_sample_rate: u32,
    pub max_channels: usize,
    pub max_duration_s: u64,
    pub max_samples: u64,
    pub min_duration_ms: u64,
}

/// Sample rates a telephone or studio recorder produces: 4 kHz to 192 kHz. A header outside
/// them is a damaged or hostile file (a "1 Hz" WAV asks the resampler for gigabytes).
pub const MIN_SAMPLE_RATE: u32 = 4_000;
pub const MAX_SAMPLE_RATE: u32 = 192_000;
/// Channels accepted: 1 (mixed) and 2 (agent and customer) are the norm; up to 8 for recorders
/// that keep a conference's legs apart.
pub const MAX_CHANNELS: usize = 8;
/// The shortest recording accepted: a second. Shorter is a fragment (a file cut after its
/// first packets, a header with nothing behind it), never a call.
pub const MIN_DURATION_MS: u64 = 1000;
/// The longest recording accepted: four hours.
pub const MAX_DURATION_S: u64 = 4 * 3600;
/// Decoded samples (all channels) accepted per recording, checked while decoding: 2 GB of f32,
/// whatever the header says (a few kilobytes of constant FLAC frames can claim billions).
pub const MAX_SAMPLES: u64 = 500_000_000;

impl Default for AudioLimits {
    fn default() -> Self {
        Self {
            min_sample_rate: MIN_SAMPLE_RATE,
            max_sample_rate: MAX_SAMPLE_RATE,
            max_channels: MAX_CHANNELS,
            max_duration_s: MAX_DURATION_S,
            max_samples: MAX_SAMPLES,
            min_duration_ms: MIN_DURATION_MS,
        }
    }
}

impl AudioLimits {
    fn check_rate(&self, rate: u32) -> Result<(), DecodeError> {
        if (self.min_sample_rate..=self.max_sample_rate).contains(&rate) {
            Ok(())
        } else {
            Err(DecodeError::Limit(format!(
                "the recording says it is sampled at {rate} Hz; callproof accepts {} to {} Hz, so the file is damaged or not a call recording: export it again from the recorder",
                self.min_sample_rate, self.max_sample_rate
            )))
        }
    }

    fn check_channels(&self, n: usize) -> Result<(), DecodeError> {
        if (1..=self.max_channels).contains(&n) {
            Ok(())
        } else {
            Err(DecodeError::Limit(format!(
                "the recording has {n} channels; callproof accepts 1 to {} (one per party): mix or split it first",
                self.max_channels
            )))
        }
    }

    fn too_long(&self, frames: u64, rate: u32, channels: usize) -> Option<DecodeError> {
        let samples = frames.saturating_mul(channels.max(1) as u64);
        if frames > self.max_duration_s.saturating_mul(rate as u64) || samples > self.max_samples {
            Some(DecodeError::Limit(format!(
                "the recording is longer than callproof accepts ({} min at most, and {} samples over all channels): split it into calls",
                self.max_duration_s / 60,
                self.max_samples
            )))
        } else {
            None
        }
    }
}

/// A decoded recording: one sample vector per channel at the original rate.
#[derive(Debug, Clone)]
pub struct DecodedAudio {
    /// "container/codec", e.g. "wav/pcm_mulaw".
    pub format: String,
    pub sample_rate: u32,
    pub channels: Vec<Vec<f32>>,
}

impl DecodedAudio {
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
    pub fn duration_ms(&self) -> u64 {
        if self.sample_rate == 0 {
            return 0;
        }
        self.frames() as u64 * 1000 / self.sample_rate as u64
    }
}

/// What the first bytes say the file is, before symphonia is asked.
fn sniff(bytes: &[u8]) -> Result<&'static str, DecodeError> {
    let starts = |m: &[u8]| bytes.starts_with(m);
    if bytes.len() < 12 {
        return Err(DecodeError::NotAudio(format!("only {} bytes", bytes.len())));
    }
    if starts(b"RIFF") && &bytes[8..12] == b"WAVE" {
        return wav_format_tag(bytes).map(|_| "wav");
    }
    if starts(b"fLaC") {
        return Ok("flac");
    }
    if starts(b"OggS") {
        let head = &bytes[..bytes.len().min(512)];
        if head.windows(8).any(|w| w == b"OpusHead") {
            return Err(DecodeError::UnsupportedCodec {
                codec: "Opus (in Ogg)".into(),
            });
        }
        if head.windows(8).any(|w| w == b"Speex   ") {
            return Err(DecodeError::UnsupportedCodec {
                codec: "Speex (in Ogg)".into(),
            });
        }
        return Ok("ogg");
    }
    if starts(b"FORM") && (&bytes[8..12] == b"AIFF" || &bytes[8..12] == b"AIFC") {
        return Ok("aiff");
    }
    if &bytes[4..8] == b"ftyp" {
        return Ok("mp4");
    }
    if starts(b"ID3") || (bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
        // MPEG audio frame sync, or ADTS AAC (layer bits 00).
        return Ok(if bytes[0] == 0xFF && bytes[1] & 0x06 == 0 {
            "aac"
        } else {
            "mp3"
        });
    }
    if starts(b"#!AMR") {
        return Err(DecodeError::UnsupportedCodec {
            codec: "AMR".into(),
        });
    }
    if starts(b"\x1a\x45\xdf\xa3") {
        return Ok("mkv");
    }
    // Text (UTF-8, no control characters) is the commonest mislabelled upload.
    let head = &bytes[..bytes.len().min(256)];
    let printable = match std::str::from_utf8(head) {
        Ok(s) => s.chars().all(|c| !c.is_control() || c.is_whitespace()),
        // The cut may split a multi-byte character.
        Err(e) => e.valid_up_to() + 4 >= head.len() && e.valid_up_to() > 0,
    };
    Err(DecodeError::NotAudio(if printable {
        "it looks like a text file".into()
    } else {
        "unknown file signature".into()
    }))
}

/// Reads the WAV `fmt ` chunk's format tag, to name codecs symphonia does not know.
fn wav_format_tag(bytes: &[u8]) -> Result<u16, DecodeError> {
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        if id == b"fmt " && pos + 10 <= bytes.len() {
            let tag = u16::from_le_bytes([bytes[pos + 8], bytes[pos + 9]]);
            let name = match tag {
                0x0031 => Some("GSM 6.10"),
                0x0002 => None, // MS ADPCM: symphonia decodes it
                0x0011 => None, // IMA ADPCM: likewise
                0x0040 | 0x0064 | 0x0065 => Some("G.721/G.726 ADPCM"),
                0x0022 | 0x0042 => Some("G.723"),
                0x0050 | 0x0055 => None, // MPEG in WAV: left to symphonia
                _ => None,
            };
            return match name {
                Some(codec) => Err(DecodeError::UnsupportedCodec {
                    codec: format!("{codec} (WAV format tag {tag:#06x})"),
                }),
                None => Ok(tag),
            };
        }
        pos = pos.saturating_add(8 + len + (len & 1));
    }
    Err(DecodeError::Damaged(
        "the WAV file has no format chunk".into(),
    ))
}

fn codec_name(id: AudioCodecId) -> String {
    let known = [
        (CODEC_ID_PCM_S8, "pcm_s8"),
        (CODEC_ID_PCM_U8, "pcm_u8"),
        (CODEC_ID_PCM_S16LE, "pcm_s16le"),
        (CODEC_ID_PCM_S16BE, "pcm_s16be"),
        (CODEC_ID_PCM_S24LE, "pcm_s24le"),
        (CODEC_ID_PCM_S24BE, "pcm_s24be"),
        (CODEC_ID_PCM_S32LE, "pcm_s32le"),
        (CODEC_ID_PCM_S32BE, "pcm_s32be"),
        (CODEC_ID_PCM_F32LE, "pcm_f32le"),
        (CODEC_ID_PCM_F32BE, "pcm_f32be"),
        (CODEC_ID_PCM_F64LE, "pcm_f64le"),
        (CODEC_ID_PCM_ALAW, "pcm_alaw"),
        (CODEC_ID_PCM_MULAW, "pcm_mulaw"),
        (CODEC_ID_ADPCM_MS, "adpcm_ms"),
        (CODEC_ID_ADPCM_IMA_WAV, "adpcm_ima"),
        (CODEC_ID_ADPCM_G722, "G.722"),
        (CODEC_ID_ADPCM_G726, "G.726"),
        (CODEC_ID_VORBIS, "vorbis"),
        (CODEC_ID_OPUS, "Opus"),
        (CODEC_ID_SPEEX, "Speex"),
        (CODEC_ID_MP1, "mp1"),
        (CODEC_ID_MP2, "mp2"),
        (CODEC_ID_MP3, "mp3"),
        (CODEC_ID_AAC, "aac"),
        (CODEC_ID_AC3, "AC-3"),
        (CODEC_ID_FLAC, "flac"),
        (CODEC_ID_ALAC, "alac"),
    ];
    known
        .iter()
        .find(|(k, _)| *k == id)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| format!("codec {id}"))
}

/// Decodes a whole recording held in memory, within the default [`AudioLimits`].
pub fn decode(bytes: &[u8]) -> Result<DecodedAudio, DecodeError> {
    decode_with(bytes, &AudioLimits::default())
}

/// Decodes a whole recording held in memory, within `limits`.
pub fn decode_with(bytes: &[u8], limits: &AudioLimits) -> Result<DecodedAudio, DecodeError> {
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let source = Box::new(Cursor::new(bytes.to_vec()));
    let summary = run(source, bytes, limits, &mut |_, plane: &[Vec<f32>]| {
        if channels.is_empty() {
            channels = vec![Vec::new(); plane.len()];
        }
        for (dst, src) in channels.iter_mut().zip(plane) {
            dst.extend_from_slice(src);
        }
    })?;
    Ok(DecodedAudio {
        format: summary.format,
        sample_rate: summary.sample_rate,
        channels,
    })
}

/// Decodes a recording held in memory but keeps only the frames from `from_ms` to `to_ms`:
/// an excerpt of a four-hour call costs the excerpt's memory, not the call's.
pub fn decode_window(
    bytes: &[u8],
    limits: &AudioLimits,
    from_ms: u64,
    to_ms: u64,
) -> Result<DecodedAudio, DecodeError> {
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let mut seen = 0u64;
    let source = Box::new(Cursor::new(bytes.to_vec()));
    let summary = run(
        source,
        bytes,
        limits,
        &mut |rate: u32, plane: &[Vec<f32>]| {
            if channels.is_empty() {
                channels = vec![Vec::new(); plane.len()];
            }
            let n = plane.first().map_or(0, Vec::len) as u64;
            let (from, to) = (from_ms * rate as u64 / 1000, to_ms * rate as u64 / 1000);
            let (a, b) = (from.clamp(seen, seen + n), to.clamp(seen, seen + n));
            for (dst, src) in channels.iter_mut().zip(plane) {
                dst.extend_from_slice(&src[(a - seen) as usize..(b - seen) as usize]);
            }
            seen += n;
        },
    )?;
    Ok(DecodedAudio {
        format: summary.format,
        sample_rate: summary.sample_rate,
        channels,
    })
}

/// What a recording is, learnt by decoding all of it without keeping its samples.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AudioSummary {
    /// "container/codec", e.g. "wav/pcm_mulaw".
    pub format: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub frames: u64,
}

impl AudioSummary {
    pub fn duration_ms(&self) -> u64 {
        self.frames * 1000 / self.sample_rate.max(1) as u64
    }
}

/// Decodes a recording file from start to end in constant memory (one packet at a time) and
/// says what it holds: the check an upload passes before it is stored. A decode bomb costs
/// time, bounded by `limits`, never memory.
pub fn probe_file(
    path: &std::path::Path,
    limits: &AudioLimits,
) -> Result<AudioSummary, DecodeError> {
    use std::io::Read;
    let open = |p: &std::path::Path| {
        std::fs::File::open(p)
            .map_err(|e| DecodeError::Damaged(format!("cannot read the recording: {e}")))
    };
    let mut head = Vec::with_capacity(64 << 10);
    open(path)?
        .take(64 << 10)
        .read_to_end(&mut head)
        .map_err(|e| DecodeError::Damaged(format!("cannot read the recording: {e}")))?;
    run(Box::new(open(path)?), &head, limits, &mut |_, _| {})
}

/// The one decoding loop, with a decoder that panics on a hostile file answered as a damaged
/// file rather than unwinding into the caller.
fn run(
    source: Box<dyn symphonia::core::io::MediaSource>,
    head: &[u8],
    limits: &AudioLimits,
    sink: &mut dyn FnMut(u32, &[Vec<f32>]),
) -> Result<AudioSummary, DecodeError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_loop(source, head, limits, sink)
    }))
    .unwrap_or_else(|_| {
        Err(DecodeError::Damaged(
            "the decoder failed on this file".into(),
        ))
    })
}

/// Checks the header against `limits`, then hands each decoded packet (one vector per
/// channel) to `sink`, checking the decoded length as it grows.
fn decode_loop(
    source: Box<dyn symphonia::core::io::MediaSource>,
    head: &[u8],
    limits: &AudioLimits,
    sink: &mut dyn FnMut(u32, &[Vec<f32>]),
) -> Result<AudioSummary, DecodeError> {
    let container = sniff(head)?;
    let mss = MediaSourceStream::new(source, MediaSourceStreamOptions::default());
    let mut hint = Hint::new();
    hint.with_extension(container);
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymError::Unsupported(what) => DecodeError::UnsupportedCodec {
                codec: format!("{container} ({what})"),
            },
            SymError::IoError(e) => DecodeError::Damaged(format!("{container} header: {e}")),
            other => DecodeError::Damaged(format!("{container}: {other}")),
        })?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| DecodeError::NotAudio(format!("the {container} file has no audio track")))?;
    let track_id = track.id;
    let expected_frames = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| DecodeError::NotAudio(format!("the {container} track is not audio")))?
        .clone();
    let codec = codec_name(params.codec);
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|_| DecodeError::UnsupportedCodec {
            codec: format!("{codec} (in {container})"),
        })?;

    // What the header says is checked before anything is decoded.
    if let Some(rate) = params.sample_rate {
        limits.check_rate(rate)?;
        if let Some(n) = params.channels.as_ref().map(|c| c.count()) {
            limits.check_channels(n)?;
            if let Some(e) = expected_frames.and_then(|f| limits.too_long(f, rate, n)) {
                return Err(e);
            }
        }
    }
    let mut sample_rate = params.sample_rate.unwrap_or(0);
    let mut plane: Vec<Vec<f32>> = Vec::new();
    let (mut channels, mut frames) = (0usize, 0u64);
    let mut decode_errors = 0usize;
    let mut packets = 0usize;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(DecodeError::Damaged(format!(
                    "the {container} stream ends in the middle of a packet"
                )))
            }
            Err(e) => return Err(DecodeError::Damaged(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        packets += 1;
        match decoder.decode(&packet) {
            Ok(buf) => {
                sample_rate = buf.spec().rate();
                limits.check_rate(sample_rate)?;
                buf.copy_to_vecs_planar::<f32>(&mut plane);
                if channels == 0 {
                    limits.check_channels(plane.len())?;
                    channels = plane.len();
                } else if plane.len() != channels {
                    return Err(DecodeError::Damaged(format!(
                        "the channel count changes from {channels} to {} in the middle of the recording",
                        plane.len()
                    )));
                }
                // Checked as it grows: the header may lie about the length.
                frames += plane.first().map_or(0, Vec::len) as u64;
                if let Some(e) = limits.too_long(frames, sample_rate, channels) {
                    return Err(e);
                }
                sink(sample_rate, &plane);
            }
            // A damaged frame in a long lossy stream is skipped, as players do.
            Err(SymError::DecodeError(_)) => decode_errors += 1,
            Err(e) => return Err(DecodeError::Damaged(e.to_string())),
        }
    }
    if decode_errors > 0 && decode_errors * 10 > packets {
        return Err(DecodeError::Damaged(format!(
            "{decode_errors} of {packets} packets could not be decoded"
        )));
    }
    if frames == 0 || sample_rate == 0 {
        return Err(DecodeError::Empty);
    }
    if let Some(expected) = expected_frames {
        // The header promises more audio than the file holds: it was cut short.
        if frames + (sample_rate as u64 / 10) < expected {
            return Err(DecodeError::Damaged(format!(
                "the header announces {:.1} s of audio but only {:.1} s is present",
                expected as f64 / sample_rate as f64,
                frames as f64 / sample_rate as f64
            )));
        }
    }
    let ms = frames * 1000 / sample_rate as u64;
    if ms < limits.min_duration_ms {
        return Err(DecodeError::Limit(format!(
            "the recording lasts {ms} ms, shorter than the {} ms a call takes at least: it is a fragment of a file; upload the whole recording",
            limits.min_duration_ms
        )));
    }
    Ok(AudioSummary {
        format: format!("{container}/{codec}"),
        sample_rate,
        channels: channels as u16,
        frames,
    })
}

/// Resamples one channel to 16 kHz with rubato's FFT resampler.
pub fn resample_to_16k(samples: &[f32], from_rate: u32) -> Result<Vec<f32>, DecodeError> {
    resample(samples, from_rate, TARGET_RATE)
}

/// Resamples one channel from `from_rate` to `to_rate` (Hz) with rubato's FFT resampler, sample
/// 0 out at the time of sample 0 in. Read back at the old rate, the result is the same speech
/// slower or faster (the second listen hears a doubtful stretch at other paces).
pub fn resample(samples: &[f32], from_rate: u32, to_rate: u32) -> Result<Vec<f32>, DecodeError> {
    if from_rate == to_rate {
        return Ok(samples.to_vec());
    }
    const CHUNK: usize = 1024;
    let mut rs = FftFixedIn::<f32>::new(from_rate as usize, to_rate as usize, CHUNK, 2, 1)
        .map_err(|e| DecodeError::Resample(e.to_string()))?;
    let delay = rs.output_delay();
    let expected = (samples.len() as u64 * to_rate as u64 / from_rate as u64) as usize;
    let mut out = Vec::with_capacity(expected + delay + CHUNK);
    let mut pos = 0;
    while pos + CHUNK <= samples.len() {
        let o = rs
            .process(&[&samples[pos..pos + CHUNK]], None)
            .map_err(|e| DecodeError::Resample(e.to_string()))?;
        out.extend_from_slice(&o[0]);
        pos += CHUNK;
    }
    // Flush the tail and the filter delay with partial chunks of silence. A recording whose
    // length is a whole number of chunks has no tail: rubato refuses an empty input buffer
    // ("Insufficient buffer size 0"), and None is its way of saying "nothing more".
    let tail = &samples[pos..];
    let o = if tail.is_empty() {
        rs.process_partial::<&[f32]>(None, None)
    } else {
        rs.process_partial(Some(&[tail]), None)
    }
    .map_err(|e| DecodeError::Resample(e.to_string()))?;
    out.extend_from_slice(&o[0]);
    while out.len() < expected + delay {
        let o = rs
            .process_partial::<&[f32]>(None, None)
            .map_err(|e| DecodeError::Resample(e.to_string()))?;
        if o[0].is_empty() {
            break;
        }
        out.extend_from_slice(&o[0]);
    }
    // Drop the filter delay so sample 0 out is sample 0 in: word times stay exact.
    let end = (delay + expected).min(out.len());
    Ok(out[delay.min(end)..end].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_text_and_unknown_files() {
        let err = decode(b"hello, this is not audio at all, just some text\n").unwrap_err();
        assert!(err.to_string().contains("text file"), "{err}");
        let err = decode(&[0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]).unwrap_err();
        assert!(matches!(err, DecodeError::NotAudio(_)));
    }

    #[test]
    fn a_recording_of_whole_resampler_chunks_resamples() {
        // 28.8 s at 8 kHz is 225 chunks of 1024 samples exactly: such a call failed to ingest.
        for len in [1024, 8 * 1024, 230_400] {
            let s: Vec<f32> = (0..len).map(|i| ((i as f32) * 0.05).sin() * 0.5).collect();
            let out = resample_to_16k(&s, 8000).expect("resamples");
            assert_eq!(out.len(), len * 2);
            // The signal itself came through, not silence.
            let rms = (out.iter().map(|x| x * x).sum::<f32>() / out.len() as f32).sqrt();
            assert!(rms > 0.3, "rms {rms}");
        }
    }

    #[test]
    fn resampling_keeps_length_and_timing() {
        // A click at 1.0 s at 8 kHz must stay at 1.0 s at 16 kHz.
        let mut s = vec![0.0f32; 16_000];
        s[8000] = 1.0;
        let out = resample_to_16k(&s, 8000).unwrap();
        assert_eq!(out.len(), 32_000);
        let peak = out
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .map(|(i, _)| i)
            .unwrap();
        assert!((peak as i64 - 16_000).abs() <= 2, "peak at {peak}");
    }
}
