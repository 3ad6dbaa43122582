//! Whisper inference on one channel of 16 kHz mono samples.
//!
//! One [`Engine`] holds one loaded model and is shared by every call a process transcribes
//! (loading costs more than a short call). Each transcription gets its own whisper.cpp state, so
//! an engine can serve several workers at once.

use std::io::Read;
use std::path::Path;
use std::sync::Once;

use crate::speech::{self, SpeechOptions};
use callproof_models::{Segment, Speaker, Word};
use whisper_rs::{
    DtwMode, DtwModelPreset, DtwParameters, FullParams, SamplingStrategy, WhisperContext,
    WhisperContextParameters,
};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot load the Whisper model {path}: {detail}")]
    Load { path: String, detail: String },
    #[error("the model {model} is English-only and cannot transcribe a call in {language:?}; install a multilingual model (`callproof model install base`) and use it")]
    EnglishOnly { model: String, language: String },
    #[error("{0:?} is not a language Whisper knows; use an ISO 639-1 code such as fr or en")]
    Language(String),
    #[error("whisper.cpp failed while transcribing: {0}")]
    Inference(String),
}

/// Receives whisper.cpp's progress through one channel, in percent.
pub type Progress = std::sync::Arc<dyn Fn(i32) + Send + Sync>;

/// Per-transcription settings.
#[derive(Clone)]
pub struct TranscribeOptions {
    /// ISO 639-1 code. Whisper's auto-detection is unreliable on short call audio, so the
    /// language is always given.
    pub language: String,
    pub threads: usize,
    /// Give the model only detected speech (see [`crate::speech`]); on by default.
    pub skip_silence: bool,
    /// Called as transcription of the channel advances (long calls take minutes).
    pub progress: Option<Progress>,
}

static LOG_HOOKS: Once = Once::new();

fn quiet_whisper_logs() {
    // Sends whisper.cpp's chatter to `tracing` instead of stderr.
    LOG_HOOKS.call_once(whisper_rs::install_logging_hooks);
}

/// Loads a model file once to check that whisper.cpp accepts it; says whether it is multilingual.
pub fn probe(path: &Path) -> Result<bool, String> {
    quiet_whisper_logs();
    let ctx = WhisperContext::new_with_params(path, WhisperContextParameters::default())
        .map_err(|e| format!("{e:?} (see the log for whisper.cpp's reason)"))?;
    Ok(ctx.is_multilingual())
}

pub struct Engine {
    ctx: WhisperContext,
    name: String,
    sha256: String,
}

const SAMPLE_RATE: u64 = 16_000;

/// The DTW alignment-head preset of a standard Whisper model, read from the ggml header
/// (n_vocab, n_audio_layer). Word times come from DTW over these heads: whisper.cpp's plain
/// token timestamps are off by seconds after pauses.
fn dtw_preset(path: &Path) -> Option<DtwModelPreset> {
    let mut header = [0u8; 24];
    std::fs::File::open(path)
        .ok()?
        .read_exact(&mut header)
        .ok()?;
    let int =
        |i: usize| i32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let (n_vocab, n_audio_layer) = (int(4), int(20));
    let english = n_vocab == 51864;
    Some(match (n_audio_layer, english) {
        (4, true) => DtwModelPreset::TinyEn,
        (4, false) => DtwModelPreset::Tiny,
        (6, true) => DtwModelPreset::BaseEn,
        (6, false) => DtwModelPreset::Base,
        (12, true) => DtwModelPreset::SmallEn,
        (12, false) => DtwModelPreset::Small,
        (24, true) => DtwModelPreset::MediumEn,
        (24, false) => DtwModelPreset::Medium,
        (32, false) if n_vocab == 51866 => DtwModelPreset::LargeV3,
        (32, false) => DtwModelPreset::LargeV2,
        _ => return None,
    })
}

impl Engine {
    pub fn load(path: &Path, name: &str, sha256: &str) -> Result<Self, EngineError> {
        quiet_whisper_logs();
        let mut params = WhisperContextParameters::default();
        if let Some(model_preset) = dtw_preset(path) {
            params.dtw_parameters(DtwParameters {
                mode: DtwMode::ModelPreset { model_preset },
                ..DtwParameters::default()
            });
        }
        let ctx = WhisperContext::new_with_params(path, params).map_err(|e| EngineError::Load {
            path: path.display().to_string(),
            detail: format!("{e:?}"),
        })?;
        Ok(Self {
            ctx,
            name: name.to_string(),
            sha256: sha256.to_string(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    pub fn is_multilingual(&self) -> bool {
        self.ctx.is_multilingual()
    }

    /// Checks that this model can transcribe `language` before any work starts.
    pub fn check_language(&self, language: &str) -> Result<(), EngineError> {
        if whisper_rs::get_lang_id(language).is_none() {
            return Err(EngineError::Language(language.to_string()));
        }
        if !self.is_multilingual() && language != "en" {
            return Err(EngineError::EnglishOnly {
                model: self.name.clone(),
                language: language.to_string(),
            });
        }
        Ok(())
    }

    /// Transcribes one 16 kHz channel; times are on the channel's clock.
    pub fn transcribe(
        &self,
        samples: &[f32],
        speaker: Speaker,
        channel: u16,
        opts: &TranscribeOptions,
    ) -> Result<Vec<Segment>, EngineError> {
        self.check_language(&opts.language)?;
        if !opts.skip_silence {
            let same = |ms| ms;
            return self.run(
                samples,
                &Clock {
                    start: &same,
                    end: &same,
                },
                speaker,
                channel,
                opts,
            );
        }
        let regions = speech::speech_regions(samples, &SpeechOptions::default());
        if regions.is_empty() {
            return Ok(Vec::new());
        }
        let (joined, map) = speech::join_regions(samples, &regions);
        let clock = Clock {
            start: &|ms| map.to_channel_ms(ms),
            end: &|ms| map.end_to_channel_ms(ms),
        };
        self.run(&joined, &clock, speaker, channel, opts)
    }

    /// Runs whisper.cpp on `samples`; `clock` maps its times to the channel's clock.
    fn run(
        &self,
        samples: &[f32],
        clock: &Clock<'_>,
        speaker: Speaker,
        channel: u16,
        opts: &TranscribeOptions,
    ) -> Result<Vec<Segment>, EngineError> {
        // whisper.cpp rejects input shorter than 100 ms; such a slice holds no words anyway.
        if (samples.len() as u64) < SAMPLE_RATE / 10 {
            return Ok(Vec::new());
        }
        let mut state = self
            .ctx
            .create_state()
            .map_err(|e| EngineError::Inference(format!("{e:?}")))?;
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(opts.threads.max(1) as i32);
        params.set_language(Some(&opts.language));
        params.set_translate(false);
        params.set_token_timestamps(true);
        params.set_print_progress(false);
        if let Some(progress) = opts.progress.clone() {
            params.set_progress_callback_safe(move |p: i32| progress(p));
        }
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        state
            .full(params, samples)
            .map_err(|e| EngineError::Inference(format!("{e:?}")))?;

        let eot = self.ctx.token_eot();
        let mut segments = Vec::new();
        // whisper.cpp's DTW gives each token the time of the attention row that *predicts the
        // next token* (its alignment keeps the no-timestamps row, unlike OpenAI's), so token k's
        // onset is the DTW time of token k-1. Measured on JFK: unshifted onsets were one word
        // late (0.3-0.6 s). The first token of a channel has no predecessor: its segment start.
        let mut prev_dtw: Option<i64> = None;
        for seg in state.as_iter() {
            let text = seg
                .to_str_lossy()
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            let mut words: Vec<Word> = Vec::new();
            let mut current: Option<(Vec<u8>, i64, i64, f32, u32)> = None;
            let mut logprob_sum = 0.0f32;
            let mut logprob_n = 0u32;
            for t in 0..seg.n_tokens() {
                let Some(token) = seg.get_token(t) else {
                    continue;
                };
                let data = token.token_data();
                if data.id >= eot {
                    continue; // special and timestamp tokens
                }
                logprob_sum += data.plog;
                logprob_n += 1;
                let bytes = token.to_bytes().map(<[u8]>::to_vec).unwrap_or_default();
                let starts_word = bytes.first() == Some(&b' ');
                let onset = match prev_dtw {
                    Some(t) if data.t_dtw >= 0 => t.max(seg.start_timestamp().min(data.t0)),
                    _ => data.t0,
                };
                prev_dtw = (data.t_dtw >= 0).then_some(data.t_dtw);
                match current.as_mut() {
                    Some(w) if !starts_word => {
                        // The end is set from the next word's onset below: onsets of trailing
                        // punctuation are unreliable.
                        w.0.extend_from_slice(&bytes);
                        w.3 += data.p;
                        w.4 += 1;
                    }
                    _ => {
                        if let Some(w) = current.take() {
                            push_word(&mut words, w, clock.start);
                        }
                        current = Some((bytes, onset, onset, data.p, 1));
                    }
                }
            }
            if let Some(w) = current.take() {
                push_word(&mut words, w, clock.start);
            }
            // A word lasts until the next one starts; the last one until the segment ends.
            let seg_end = (clock.end)(seg.end_timestamp().max(0) as u64 * 10);
            for i in 0..words.len() {
                let next = words.get(i + 1).map_or(seg_end, |n| n.start_ms);
                words[i].end_ms = next.min(words[i].start_ms + 1500).max(words[i].start_ms);
            }
            let avg_logprob = if logprob_n > 0 {
                logprob_sum / logprob_n as f32
            } else {
                0.0
            };
            let no_speech_prob = seg.no_speech_probability();
            // Whisper's own silence rule: likely no speech and not confident in the text.
            // Whole-segment annotations ("[BLANK_AUDIO]", "(musique)") are not speech.
            let annotation = (text.starts_with('[') && text.ends_with(']'))
                || (text.starts_with('(') && text.ends_with(')'));
            if text.is_empty() || annotation || (no_speech_prob > 0.6 && avg_logprob < -1.0) {
                continue;
            }
            // Word times are finer than segment times (whose edges can fall in the pauses
            // between joined speech regions), so a segment spans its words when it has any.
            let (start_ms, end_ms) = match (words.first(), words.last()) {
                (Some(first), Some(last)) => (first.start_ms, last.end_ms.max(first.start_ms)),
                _ => {
                    let s = (clock.start)(seg.start_timestamp().max(0) as u64 * 10);
                    (
                        s,
                        (clock.end)(seg.end_timestamp().max(0) as u64 * 10).max(s),
                    )
                }
            };
            segments.push(Segment {
                speaker,
                channel,
                start_ms,
                end_ms,
                text,
                avg_logprob,
                no_speech_prob,
                words,
            });
        }
        Ok(segments)
    }
}

/// Maps times of the audio given to whisper.cpp to the channel's clock: onsets and ends map
/// differently across the pauses inserted between speech regions.
struct Clock<'a> {
    start: &'a dyn Fn(u64) -> u64,
    end: &'a dyn Fn(u64) -> u64,
}

fn push_word(
    words: &mut Vec<Word>,
    w: (Vec<u8>, i64, i64, f32, u32),
    to_channel_ms: &dyn Fn(u64) -> u64,
) {
    let text = String::from_utf8_lossy(&w.0).trim().to_string();
    if text.is_empty() {
        return;
    }
    let start_ms = to_channel_ms(w.1.max(0) as u64 * 10);
    let end_ms = to_channel_ms(w.2.max(0) as u64 * 10);
    words.push(Word {
        text,
        start_ms,
        end_ms: end_ms.max(start_ms),
        probability: w.3 / w.4.max(1) as f32,
    });
}
