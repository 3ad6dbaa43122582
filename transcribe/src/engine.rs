//! Whisper inference on one channel of 16 kHz mono samples.
//!
//! One [`Engine`] holds one loaded model and is shared by every call a process transcribes
//! (loading costs more than a short call). Each transcription gets its own whisper.cpp state, so
//! an engine can serve several workers at once.

use std::io::Read;
use std::path::Path;
use std::sync::Once;

use crate::speech::{self, Chunk, SpeechOptions};
use callproof_models::{syllables, Segment, Speaker, Word};
use whisper_rs::{
    DtwMode, DtwModelPreset, DtwParameters, FullParams, SamplingStrategy, WhisperContext,
    WhisperContextParameters, WhisperState,
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
    /// Tokens a chunk may decode to before it is decoded again in shorter pieces; normally
    /// [`MAX_CHUNK_TOKENS`].
    pub max_chunk_tokens: usize,
    /// Beams of the decoder's search: 1 is greedy decoding (the first pass); 5 is the second
    /// listen's, several times the decoding cost.
    pub beam_size: usize,
    /// Words the call is likely to hold (the client's brands, legal terms), given to Whisper as
    /// the text that came before ("initial prompt"): it then writes "Bloctel", not "blockchain".
    pub prompt: Option<String>,
    /// Only the speech overlapping these stretches of the channel (milliseconds) is decoded:
    /// the second listen goes back to the few places a finding depends on.
    pub only_ms: Option<Vec<(u64, u64)>>,
    /// Whether a decoding Whisper finds poor (mean log-probability under -1, or repetitive) is
    /// decoded again by sampling at rising temperatures, as Whisper and faster-whisper do by
    /// default: on for the first pass. Off, the decoding's own words are kept, with their low
    /// probabilities: the second listen's beam search on a garbled 0.56 s took 7 s, sampling
    /// up to temperature 1.0, to end with the random words of the last sample.
    pub fallback: bool,
}

impl TranscribeOptions {
    /// Greedy decoding of every stretch of speech, no prompt: the first pass.
    pub fn new(language: &str, threads: usize) -> Self {
        Self {
            language: language.to_string(),
            threads,
            skip_silence: true,
            progress: None,
            max_chunk_tokens: MAX_CHUNK_TOKENS,
            beam_size: 1,
            prompt: None,
            only_ms: None,
            fallback: true,
        }
    }
}

/// Tokens of prompt Whisper is given at most: prompts are known to make it repeat them, and
/// every prompt token costs decoding time.
const MAX_PROMPT_TOKENS: usize = 64;

/// Tokens one chunk may decode to before it is cut in two and each half decoded again. Whisper
/// decodes at most 220 tokens in one window (half its text context, less 4); past that,
/// whisper.cpp drops the tokens after the last timestamp and decodes the rest of the chunk in a
/// second window — the path where words go missing and where its DTW can abort the process.
/// 28 s of very fast speech (a legal notice read at 5 words a second) can come close.
pub const MAX_CHUNK_TOKENS: usize = 200;

/// Tokens a second of audio can hold, timestamps included, well above any speaker's: a legal
/// notice read at 5 words a second is about 9 (French words average under 2 tokens). A
/// decoding that goes past it is a loop ("and so my fellow Americans" again and again from a
/// 3 s clip): stopping it there, rather than at [`MAX_CHUNK_TOKENS`], spares most of the
/// decoding, and each of the fallback decodings Whisper then tries (six in all, each up to the
/// limit: a 3 s clip took 19 s with tiny.en).
const MAX_TOKENS_PER_S: usize = 15;

/// The fewest tokens a chunk may decode to: above 32, where whisper.cpp starts checking a
/// decoding for repetition, so that a loop is still seen as one and decoded again.
const MIN_CHUNK_TOKENS: usize = 40;

/// Tokens a chunk of this length may decode to before its decoding counts as a loop.
fn token_budget(chunk_ms: usize) -> usize {
    (chunk_ms * MAX_TOKENS_PER_S / 1000).max(MIN_CHUNK_TOKENS)
}

/// Chunks shorter than this are not cut again when they reach the token limit: so many tokens
/// in so little audio is a repetition loop, which halving would only repeat.
const MIN_SPLIT_MS: usize = 4_000;

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

pub(crate) const SAMPLE_RATE: u64 = 16_000;

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

    pub(crate) fn context(&self) -> &WhisperContext {
        &self.ctx
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
    ///
    /// The channel's speech is packed into chunks of at most [`speech::MAX_CHUNK_MS`] and each
    /// chunk is decoded in one window whose encoder context is cut to the chunk's length
    /// (whisper.cpp `audio_ctx`): the encoder otherwise always processes 30 s, padding included,
    /// which on call audio (short turns, half silence) was most of the work.
    pub fn transcribe(
        &self,
        samples: &[f32],
        speaker: Speaker,
        channel: u16,
        opts: &TranscribeOptions,
    ) -> Result<Vec<Segment>, EngineError> {
        self.transcribe_counted(samples, speaker, channel, opts)
            .map(|(segments, _)| segments)
    }

    /// [`Engine::transcribe`], also saying which decodings it ran and what they took.
    pub fn transcribe_counted(
        &self,
        samples: &[f32],
        speaker: Speaker,
        channel: u16,
        opts: &TranscribeOptions,
    ) -> Result<(Vec<Segment>, Decodings), EngineError> {
        self.check_language(&opts.language)?;
        let loudness = speech::Loudness::of(samples);
        let mut regions = if opts.skip_silence {
            let speech_opts = SpeechOptions::default();
            let found = speech::speech_regions(samples, &speech_opts);
            match &loudness {
                Some(l) => l.trim(&found, &speech_opts),
                None => found,
            }
        } else if samples.is_empty() {
            Vec::new()
        } else {
            vec![(0, samples.len())]
        };
        if let Some(only) = &opts.only_ms {
            let ms = |sample: usize| sample as u64 * 1000 / SAMPLE_RATE;
            regions.retain(|&(s, e)| only.iter().any(|&(a, b)| ms(s) < b && a < ms(e)));
        }
        let prompt = match opts.prompt.as_deref().map(str::trim) {
            Some(p) if !p.is_empty() => {
                let clean: String = p.chars().filter(|c| *c != '\0').collect();
                let mut tokens = self
                    .ctx
                    .tokenize(&format!(" {clean}"), 4 * MAX_PROMPT_TOKENS)
                    .map_err(|e| EngineError::Inference(format!("prompt: {e:?}")))?;
                tokens.truncate(MAX_PROMPT_TOKENS);
                tokens
            }
            _ => Vec::new(),
        };
        let chunks =
            speech::pack_chunks(samples, &regions, speech::MAX_CHUNK_MS, join_pause(speaker));
        for c in &chunks {
            tracing::debug!(
                channel,
                regions = ?c.regions.iter().map(|(s, e)| (s / 16, e / 16)).collect::<Vec<_>>(),
                "chunk (ms)"
            );
        }
        let total: usize = chunks.iter().map(|c| c.samples.len()).sum();
        let mut state = self
            .ctx
            .create_state()
            .map_err(|e| EngineError::Inference(format!("{e:?}")))?;
        let mut segments = Vec::new();
        let mut decodings = Decodings::default();
        let mut done = 0;
        for chunk in &chunks {
            if let Some(progress) = &opts.progress {
                progress((done * 100 / total.max(1)) as i32);
            }
            let first = self.run_chunk(
                &mut state,
                samples,
                chunk,
                (speaker, channel),
                opts,
                &prompt,
            )?;
            decodings.add(&first.decodings);
            let mut heard = first.segments;
            if !prompt.is_empty() && first.looped {
                // A prompt can send Whisper into a loop (checked over the chunk's whole words: a
                // loop of one short sentence comes out as many segments): decode this chunk
                // again without it. Without a prompt, a loop keeps one turn (see
                // `collapse_loops`).
                tracing::debug!("prompted decoding looped: decoded again without the prompt");
                let again =
                    self.run_chunk(&mut state, samples, chunk, (speaker, channel), opts, &[])?;
                decodings.add(&again.decodings);
                heard = again.segments;
            }
            // Whisper can end a window before its last speech, with a prompt more often (a
            // call's last 26 s of agent speech came back as its first sentence only): the
            // regions it left without a word are decoded again on their own, without prompt,
            // so no words are lost. Only those: decoding the whole chunk again without prompt
            // first, as before, cost one more decoding of all of it wherever the regions left
            // were line noise (every chunk of a real call's agent channel: 7 s of the 50 s its
            // first pass took).
            let unheard = unheard_regions(chunk, &heard);
            if !unheard.is_empty() {
                tracing::debug!(
                    regions = unheard.len(),
                    "speech left without words: decoded again on its own"
                );
                let (found, cost) =
                    self.decode_alone(&mut state, samples, &unheard, (speaker, channel), opts)?;
                decodings.add(&cost);
                heard.extend(found);
            }
            // Whisper, its window cut to the chunk, can end a region's sentence early and give
            // its last word the time of the words it left out ("Votre accord au téléphone
            // suffit, c'est" for "…, c'est définitif, inutile d'attendre": the one part of a
            // call that was forbidden). No gap shows; the pace does: a region heard at fewer
            // syllables a second than anyone speaks is decoded again on its own, and the
            // fuller hearing kept.
            // Its last word, too, can take the time of the words it left out, where the
            // sentence was cut off unfinished: that region is decoded again on its own as well.
            for &(s, e) in &chunk.regions {
                let pace = thin_pace(&heard, (s, e));
                let Some(before) = pace
                    .map(|(_, said)| said)
                    .or_else(|| cut_off_at_end(&heard, (s, e)))
                else {
                    continue;
                };
                // Cut off, the region was heard at a speaking pace up to its last words: only
                // the words after them are taken, where the second hearing has those two too.
                let splice = if pace.is_some() {
                    Splice::Fuller
                } else {
                    Splice::TailOnly
                };
                let pace = pace.map(|(pace, _)| pace);
                let (again, cost) =
                    self.decode_alone(&mut state, samples, &[(s, e)], (speaker, channel), opts)?;
                decodings.add(&cost);
                let after = region_syllables(&again, (s, e));
                tracing::debug!(
                    channel,
                    region_ms = ?(s / 16, e / 16),
                    pace,
                    before,
                    after,
                    "region heard thinly or cut off: decoded again on its own"
                );
                if after > before {
                    let (first, others): (Vec<Segment>, Vec<Segment>) =
                        heard.into_iter().partition(|seg| in_region(seg, (s, e)));
                    heard = others;
                    heard.extend(fuller(first, again, splice));
                }
            }
            heard.sort_by_key(|seg| seg.start_ms);
            segments.extend(heard);
            done += chunk.samples.len();
        }
        if let Some(progress) = &opts.progress {
            progress(100);
        }
        let segments = match &loudness {
            Some(l) => drop_line_noise(l, segments),
            None => segments,
        };
        tracing::debug!(channel, %decodings, "decodings");
        let mut segments = drop_repeats(segments);
        // Last: earlier, the words left would leave their time "unheard" and decoded again on
        // its own (see `unheard_regions`), and a repeat of them in its own time would no longer
        // be one for `drop_repeats` ("The alarm system gusts for the PAN's demand." squeezed
        // into 8.65 s, then again from 8.65 s to 11.2 s: the second kept, it stood in for the
        // first pass's "costs 40 pounds per month").
        if opts.only_ms.is_some() {
            drop_written_past_speech(&mut segments);
        }
        Ok((segments, decodings))
    }

    /// Decodes stretches of speech on their own, without prompt: speech a decoding of its chunk
    /// left without words, or heard too thinly.
    ///
    /// Greedily, without the sampling fallback: these stretches are mostly short turns and line
    /// noise, where the greedy decoding loops and every temperature up to 1.0 is tried, each a
    /// whisper.cpp call that re-encodes and decodes to the token limit. On the real 4-minute
    /// call with tiny.en that was 46 of the first pass's 104 calls and 20 of its 51 s, for
    /// sampled words faster-whisper's hearing of the call did not have (the customer's side
    /// 302 words instead of 329, closer to it: 26.7 % against 31.8 %). A loop left is cut to
    /// one turn, barely heard (see `collapse_loops`), and kept only where it fills speech the
    /// chunk's decoding left empty or heard fuller (BENCHMARKS.md, "twelfth session").
    fn decode_alone(
        &self,
        state: &mut WhisperState,
        samples: &[f32],
        regions: &[(usize, usize)],
        who: (Speaker, u16),
        opts: &TranscribeOptions,
    ) -> Result<(Vec<Segment>, Decodings), EngineError> {
        let opts = &TranscribeOptions {
            fallback: false,
            ..opts.clone()
        };
        let mut out = Vec::new();
        let mut decodings = Decodings::default();
        for part in speech::pack_chunks(samples, regions, speech::MAX_CHUNK_MS, join_pause(who.0)) {
            let d = self.run_chunk(state, samples, &part, who, opts, &[])?;
            decodings.add(&d.decodings);
            out.extend(d.segments);
        }
        Ok((out, decodings.made_alone()))
    }

    /// Decodes one chunk in a single window and splits its words into segments, one per
    /// sentence within each speech region. A chunk whose text reaches the token limit is cut
    /// in two (at pauses, else at its quietest moments) and each part decoded on its own.
    fn run_chunk(
        &self,
        state: &mut WhisperState,
        samples: &[f32],
        chunk: &Chunk,
        (speaker, channel): (Speaker, u16),
        opts: &TranscribeOptions,
        prompt: &[i32],
    ) -> Result<Decoded, EngineError> {
        // whisper.cpp rejects input shorter than 100 ms; such a slice holds no words anyway.
        if (chunk.samples.len() as u64) < SAMPLE_RATE / 10 {
            return Ok(Decoded::default());
        }
        // Stop before whisper.cpp's own per-window limit, to cut the chunk instead, and before
        // more tokens than the chunk's audio can hold: past that the decoder is looping.
        let chunk_ms = chunk.samples.len() * 1000 / SAMPLE_RATE as usize;
        let limit = opts
            .max_chunk_tokens
            .clamp(1, MAX_CHUNK_TOKENS)
            .min(token_budget(chunk_ms));
        let temperatures: &[f32] = if opts.fallback {
            &FALLBACK_TEMPERATURES
        } else {
            &[0.0]
        };
        let mut tried: Vec<Attempt> = Vec::new();
        for (k, &temperature) in temperatures.iter().enumerate() {
            let attempt = self.attempt(state, chunk, opts, prompt, limit, temperature)?;
            if k == 0 && attempt.tokens > limit && chunk_ms >= MIN_SPLIT_MS {
                let parts =
                    speech::pack_chunks(samples, &chunk.regions, chunk_ms.div_ceil(2), chunk.pause);
                if parts.len() > 1 {
                    tracing::debug!(
                        tokens = attempt.tokens,
                        chunk_ms,
                        "token limit reached: chunk decoded again in {} parts",
                        parts.len()
                    );
                    let mut all = Decoded::default();
                    all.decodings.chunks.add(attempt.cost());
                    for part in &parts {
                        let d =
                            self.run_chunk(state, samples, part, (speaker, channel), opts, prompt)?;
                        all.segments.extend(d.segments);
                        all.looped |= d.looped;
                        all.decodings.add(&d.decodings);
                    }
                    return Ok(all);
                }
            }
            let good = attempt.good(limit);
            tried.push(attempt);
            if good {
                break;
            }
        }
        let mut decodings = Decodings::default();
        for a in &tried {
            if a.temperature > 0.0 {
                decodings.chunks_resampled.add(a.cost());
            } else {
                decodings.chunks.add(a.cost());
            }
        }
        if tried.len() > 1 {
            let tried: Vec<_> = tried
                .iter()
                .map(|a| (a.temperature, a.avg_logprob(), a.repetitive(limit)))
                .collect();
            tracing::debug!(chunk_ms, ?tried, "decoding fell back to sampling");
        }
        let Attempt {
            mut words,
            no_speech_prob,
            ..
        } = Attempt::best(tried, limit);
        for w in &mut words {
            w.drop_broken_bytes();
        }
        if LATIN_SCRIPT.contains(&opts.language.as_str()) {
            for w in &mut words {
                w.drop_foreign_letters();
            }
        }
        let looped = collapse_loops(&mut words);
        let mut segments = segments_of(words, chunk, speaker, channel, no_speech_prob);
        let second = opts.beam_size > 1 || !prompt.is_empty();
        for s in &mut segments {
            s.second_listen = second && opts.only_ms.is_some();
        }
        Ok(Decoded {
            segments,
            looped,
            decodings,
        })
    }

    /// One decoding of a chunk at one temperature (0: greedy, or the beams of the second
    /// listen), read into words with their probabilities and DTW onsets.
    fn attempt(
        &self,
        state: &mut WhisperState,
        chunk: &Chunk,
        opts: &TranscribeOptions,
        prompt: &[i32],
        limit: usize,
        temperature: f32,
    ) -> Result<Attempt, EngineError> {
        let mut params = if opts.beam_size > 1 && temperature == 0.0 {
            FullParams::new(SamplingStrategy::BeamSearch {
                beam_size: opts.beam_size.min(8) as i32,
                patience: -1.0,
            })
        } else {
            FullParams::new(SamplingStrategy::Greedy { best_of: 1 })
        };
        if !prompt.is_empty() {
            params.set_tokens(prompt);
        }
        params.set_n_threads(opts.threads.max(1) as i32);
        // Each temperature is one call, so that every decoding can be weighed (see
        // [`Attempt::best`]): whisper.cpp's own fallback keeps its last, most random sample.
        params.set_temperature(temperature);
        params.set_temperature_inc(0.0);
        params.set_language(Some(&opts.language));
        params.set_translate(false);
        params.set_token_timestamps(true);
        // One window per chunk: the chunk fits in it, and whisper.cpp's DTW aborts the process
        // when a second window starts fewer than 160 ms before the end of a shortened context.
        params.set_single_segment(true);
        let window = window_of(&chunk.samples);
        let ctx = audio_ctx(window.len());
        params.set_audio_ctx(ctx);
        params.set_max_tokens(limit as i32);
        // Timestamp tokens stay on (no `set_no_timestamps`) although segments are cut from the
        // words: decoding without them saved no measurable time and tiny.en then heard worse
        // (26.8 % word error rate instead of 23.2 % on the English benchmark calls; base
        // 19.2 % instead of 19.5 %).
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        let started = std::time::Instant::now();
        state
            .full(params, &window)
            .map_err(|e| EngineError::Inference(format!("{e:?}")))?;

        let to_channel = |ms: i64| chunk.map.to_channel_ms(ms.max(0) as u64 * 10);
        let eot = self.ctx.token_eot();
        let mut attempt = Attempt {
            temperature,
            seconds: started.elapsed().as_secs_f64(),
            encoded_s: f64::from(ctx) / POSITIONS_PER_S as f64,
            ..Attempt::default()
        };
        // whisper.cpp's DTW gives each token the time of the attention row that *predicts the
        // next token* (its alignment keeps the no-timestamps row, unlike OpenAI's), so token k's
        // onset is the DTW time of token k-1. Measured on JFK: unshifted onsets were one word
        // late (0.3-0.6 s). The first token of a chunk has no predecessor: its own start.
        let mut prev_dtw: Option<i64> = None;
        for seg in state.as_iter() {
            attempt.no_speech_prob = attempt.no_speech_prob.max(seg.no_speech_probability());
            for t in 0..seg.n_tokens() {
                let Some(token) = seg.get_token(t) else {
                    continue;
                };
                let data = token.token_data();
                attempt.tokens += 1;
                attempt.logprob_sum += f64::from(data.plog);
                attempt.ids.push(data.id);
                if data.id >= eot {
                    continue; // special and timestamp tokens
                }
                let bytes = token.to_bytes().map(<[u8]>::to_vec).unwrap_or_default();
                let onset = match prev_dtw {
                    Some(t) if data.t_dtw >= 0 => t.max(seg.start_timestamp().min(data.t0)),
                    _ => data.t0,
                };
                // The first word of a turn took the time of the turn before's last token, and
                // was put in that turn ("Oui, c'est" / "moins cher que mon abonnement actuel"
                // for "Oui." / "C'est moins cher…"); the last word of a turn, by its own time
                // (the next token's), can look as if it ended in the next one. Where the two
                // times fall in different turns, Whisper's own timestamp for the token decides
                // (see `TimeMap::onset_within`). Punctuation ends the word before it.
                let onset = if data.t_dtw >= 0 && bytes.iter().any(u8::is_ascii_alphanumeric) {
                    let joined = |t: i64| t.max(0) as u64 * 10;
                    let at =
                        chunk
                            .map
                            .onset_within(joined(onset), joined(data.t_dtw), joined(data.t0));
                    (at / 10) as i64
                } else {
                    onset
                };
                prev_dtw = (data.t_dtw >= 0).then_some(data.t_dtw);
                take_token(
                    &mut attempt.words,
                    bytes,
                    to_channel(onset),
                    data.p,
                    data.plog,
                );
            }
        }
        fold_marks(&mut attempt.words);
        Ok(attempt)
    }
}

/// Adds a decoded token to the words: a new word where it begins with a space, else the end
/// of the word before it.
fn take_token(words: &mut Vec<DecodedWord>, bytes: Vec<u8>, start_ms: u64, p: f32, plog: f32) {
    match words.last_mut() {
        // The end is set from the next word's onset: onsets of trailing punctuation are
        // unreliable.
        Some(w) if bytes.first() != Some(&b' ') => w.add(&bytes, p, plog),
        _ => words.push(DecodedWord {
            bytes,
            start_ms,
            p_sum: p,
            logprob_sum: plog,
            tokens: 1,
        }),
    }
}

/// Marks opening what follows them ("- Nous", "« Oui »").
const OPENING_MARKS: &[char] = &['-', '–', '—', '«', '(', '[', '"', '“', '¿', '¡'];

/// French sets "?" and "!" apart with a space, and Whisper opens a turn with "-": a mark
/// written as a word of its own is no word anybody said, and its probability says nothing of
/// what was heard: a "-" at 0.05 opening a turn made the place of a missing price doubtful, a
/// "!" at 0.18 followed a customer's "d'accord". An opening mark goes with the word after it,
/// any other with the word before it, as written, without weighing on how surely that word was
/// heard; one with no such word is dropped. A mark that begins a word ("$" then "20") is part
/// of it and stays.
fn fold_marks(words: &mut Vec<DecodedWord>) {
    let is_mark = |w: &DecodedWord| {
        !String::from_utf8_lossy(&w.bytes)
            .chars()
            .any(char::is_alphanumeric)
    };
    let mut out: Vec<DecodedWord> = Vec::with_capacity(words.len());
    // An opening mark waiting for its word, and when it was written: Whisper writes it as
    // the speech begins, and the word after it takes that time ("-" at 14.25 s, "Nous" at
    // 14.56 s: without it, the turn's first 300 ms looked unheard and were heard again).
    let mut opening: Option<(Vec<u8>, u64)> = None;
    for mut w in words.drain(..) {
        if !is_mark(&w) {
            if let Some((mut bytes, at)) = opening.take() {
                bytes.extend_from_slice(&w.bytes);
                w.bytes = bytes;
                w.start_ms = w.start_ms.min(at);
            }
            out.push(w);
            continue;
        }
        let text = String::from_utf8_lossy(&w.bytes).trim().to_string();
        if text.chars().all(|c| OPENING_MARKS.contains(&c)) {
            let (bytes, _) = opening.get_or_insert_with(|| (Vec::new(), w.start_ms));
            bytes.extend_from_slice(&w.bytes);
        } else if let Some(before) = out.last_mut() {
            before.bytes.extend_from_slice(&w.bytes);
        }
    }
    *words = out;
}

/// The silence a speaker's turns are joined with (see [`speech::JoinPause`]): the customer's
/// short answers keep theirs; the agent's regions, and a mono recording's (whose turns nobody
/// has measured apart), are joined 300 ms apart.
fn join_pause(speaker: Speaker) -> speech::JoinPause {
    match speaker {
        Speaker::Customer => speech::JoinPause::NATURAL,
        Speaker::Agent | Speaker::Unknown => speech::JoinPause::SHORT,
    }
}

/// Stretches of speech in which a decoding placed no word: where Whisper ended its window early.
/// A whole region of at least a second without a word, or, inside a region that has words, a
/// stretch of at least [`UNHEARD_MS`] before its first word, between two words or after its
/// last — a prompted decoding once ended a sentence early and left the next one, in the same
/// region, without a word ("Un récapitulatif écrit vous sera envoyé…", 3.8 s, lost).
fn unheard_regions(chunk: &Chunk, heard: &[Segment]) -> Vec<(usize, usize)> {
    let ms = |sample: usize| sample as u64 * 1000 / SAMPLE_RATE;
    let sample = |ms: u64| (ms * SAMPLE_RATE / 1000) as usize;
    let mut words: Vec<(u64, u64)> = heard
        .iter()
        .flat_map(|seg| &seg.words)
        .map(|w| (w.start_ms, w.end_ms.max(w.start_ms)))
        .collect();
    words.sort_unstable();
    let mut out = Vec::new();
    for &(s, e) in chunk.regions.iter().filter(|&&(s, e)| ms(e - s) >= 1_000) {
        let inside: Vec<(u64, u64)> = words
            .iter()
            .filter(|w| w.0 + 250 >= ms(s) && w.0 < ms(e))
            .copied()
            .collect();
        if inside.is_empty() {
            out.push((s, e));
            continue;
        }
        // From the region's start, each word's end, to the next word's start or the region's end.
        let mut from = ms(s);
        for &(ws, we) in inside.iter().chain(std::iter::once(&(ms(e), ms(e)))) {
            if ws >= from + UNHEARD_MS {
                out.push((sample(from).max(s), sample(ws).min(e)));
            }
            from = from.max(we);
        }
    }
    out
}

/// Speech without a word for this long, inside a region that has words, is speech a decoding
/// left out (word times are rough: a few hundred milliseconds off at a sentence's end).
const UNHEARD_MS: u64 = 1_500;

/// Whether a segment lies in a region of speech (channel samples): segments are cut at
/// regions, so its start tells.
fn in_region(seg: &Segment, (s, e): (usize, usize)) -> bool {
    let ms = |sample: usize| sample as u64 * 1000 / SAMPLE_RATE;
    seg.start_ms + 250 >= ms(s) && seg.start_ms < ms(e)
}

/// Syllables of the words decoded in a region of speech.
fn region_syllables(heard: &[Segment], region: (usize, usize)) -> u64 {
    heard
        .iter()
        .filter(|seg| in_region(seg, region))
        .flat_map(|seg| &seg.words)
        .map(|w| syllables(&w.text))
        .sum()
}

/// The pace (syllables a second) a region of at least [`THIN_REGION_MS`] was heard at, when
/// it is under [`THIN_SYLLABLES_PER_S`]: words of it were left out. Returned with the
/// syllables heard. None for a region heard at a speaking pace, or too short to tell, or
/// without a word (see [`unheard_regions`]).
fn thin_pace(heard: &[Segment], (s, e): (usize, usize)) -> Option<(f64, u64)> {
    let ms = (e.saturating_sub(s) as u64 * 1000 / SAMPLE_RATE).max(1);
    let said = region_syllables(heard, (s, e));
    let pace = said as f64 * 1000.0 / ms as f64;
    (ms >= THIN_REGION_MS && said > 0 && pace < THIN_SYLLABLES_PER_S).then_some((pace, said))
}

/// Whether a region's hearing was cut off before the region's end, with the syllables heard
/// in it: its last word, without the mark that closes a sentence or a clause, runs to the
/// region's end over more time than its syllables take ("…alors c'est maintenant qu'il faut",
/// "faut" over 0.87 s at 0.50, for "…qu'il faut dire oui."; decoded on its own, the region
/// came out with its last words). A finished turn ends on a mark, and its last word's time
/// is the breath after it.
fn cut_off_at_end(heard: &[Segment], (s, e): (usize, usize)) -> Option<u64> {
    let end_ms = e as u64 * 1000 / SAMPLE_RATE;
    let words: Vec<&Word> = heard
        .iter()
        .filter(|seg| in_region(seg, (s, e)))
        .flat_map(|seg| &seg.words)
        .collect();
    // One word is a short answer, not a sentence left unfinished ("Bonjour" over the breath
    // after it).
    if words.len() < 2 {
        return None;
    }
    let last = words.iter().max_by_key(|w| w.end_ms)?;
    let text = last.text.trim();
    let took = last.end_ms.saturating_sub(last.start_ms);
    let stretched = took > CUT_WORD_MS + CUT_MS_PER_SYLLABLE * syllables(text);
    let open = !text.ends_with(['.', '?', '!', '…', ',', ';', ':']);
    let at_end = last.end_ms + CUT_AT_END_MS >= end_ms;
    (stretched && open && at_end).then(|| region_syllables(heard, (s, e)))
}

/// What [`fuller`] may take of a region's second hearing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Splice {
    /// The words after the first hearing's last two, or its last one; or all of it, where the
    /// first heard less than half as much (a region heard thinly).
    Fuller,
    /// Only the words after the first hearing's last two words (a region cut off at its end,
    /// heard at a speaking pace up to there): decoded alone, a short region's hearing may be
    /// words nobody said ("Je vends le métier." for a customer's "Bonjour").
    TailOnly,
}

/// A word takes at most this, plus [`CUT_MS_PER_SYLLABLE`] a syllable, when nothing was left
/// out after it (a syllable runs 150 to 250 ms).
const CUT_WORD_MS: u64 = 300;
const CUT_MS_PER_SYLLABLE: u64 = 200;

/// How near the region's end a last word must end to have taken what followed it.
const CUT_AT_END_MS: u64 = 250;

/// The fuller of two hearings of one region, the second having more syllables: the first
/// with the words the second heard after the first's last words (the region alone has less
/// context around its first words, which the first hearing had: "Votre accord au téléphone
/// suffit, c'est" and "Vous trac your phone, Sophie, c'est définitif, inutile d'attendre" make
/// "Votre accord au téléphone suffit, c'est définitif, inutile d'attendre"); the second where
/// the first heard less than half as much; else the first.
fn fuller(mut first: Vec<Segment>, again: Vec<Segment>, splice: Splice) -> Vec<Segment> {
    first.sort_by_key(|s| s.start_ms);
    let first_words: Vec<&Word> = first.iter().flat_map(|s| &s.words).collect();
    let again_words: Vec<&Word> = again.iter().flat_map(|s| &s.words).collect();
    let same = |a: &Word, b: &Word| plain(&a.text) == plain(&b.text);
    // Where the second hearing has the first's last two words, or else its last word, near
    // the same time (word times are rough at a window's end; a phrase said twice, "your
    // country… your country", must not anchor at its first saying), with words after them.
    let tail_from = first_words.last().and_then(|last| {
        let near = |j: usize| again_words[j - 1].start_ms.abs_diff(last.start_ms) <= SPLICE_MS;
        let before_last = first_words.len().checked_sub(2).map(|i| first_words[i]);
        let two = (2..again_words.len()).rev().find(|&j| {
            before_last.is_some_and(|b| same(again_words[j - 2], b))
                && same(again_words[j - 1], last)
                && near(j)
        });
        two.or_else(|| {
            if splice == Splice::TailOnly {
                return None;
            }
            (1..again_words.len())
                .rev()
                .find(|&j| same(again_words[j - 1], last) && near(j))
        })
    });
    let Some(from) = tail_from else {
        if splice == Splice::TailOnly {
            return first;
        }
        // No tail to add: the second hearing replaces the first only where the first heard
        // next to nothing; otherwise more words are not better words ("No, I don't think
        // it's thank you" is no better a hearing of "No, I don't want it, thank you" than
        // "No, I don't thank you").
        let (a, b) = (words_syllables(&first_words), words_syllables(&again_words));
        return if b >= 2 * a { again } else { first };
    };
    // The anchor as the second hearing timed it: the first stretched it over what it left out.
    let anchor = (again_words[from - 1].start_ms, again_words[from - 1].end_ms);
    let mut out = first;
    let mut k = 0;
    for mut seg in again {
        let n = seg.words.len();
        let skip = from.saturating_sub(k).min(n);
        k += n;
        if skip == n {
            continue;
        }
        seg.words.drain(..skip);
        if skip > 0 {
            seg.text = seg
                .words
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
        }
        let Some(start) = seg.words.first().map(|w| w.start_ms) else {
            continue;
        };
        seg.start_ms = start;
        // The first hearing's last word stretched over the words it left out: it takes the
        // second hearing's time, and ends where the words it left out begin.
        if let Some(last) = out.last_mut() {
            let words = last.words.len();
            if let Some(w) = last.words.last_mut() {
                if words > 1 || anchor.0 >= last.start_ms {
                    w.start_ms = w.start_ms.min(anchor.0.max(last.start_ms));
                }
                w.end_ms = w.end_ms.min(anchor.1).min(start).max(w.start_ms);
                last.end_ms = w.end_ms;
            }
        }
        out.push(seg);
    }
    out
}

fn words_syllables(words: &[&Word]) -> u64 {
    words.iter().map(|w| syllables(&w.text)).sum()
}

/// How far apart two hearings may place the same word and still be taken for one.
const SPLICE_MS: u64 = 1_500;

/// Regions shorter than this are not judged by their pace: a short answer ("Oui.") with the
/// breath around it is slow.
const THIN_REGION_MS: u64 = 2_000;

/// Syllables a second under which a region's hearing left words out. Speech runs at 4 to 7
/// (the slowest calls here, 135 words a minute, at about 4); a region holds a little silence
/// at its edges. A region heard at 2.7 had lost its last three words.
const THIN_SYLLABLES_PER_S: f64 = 3.0;

/// Lower-case letters and digits of a text, words separated by one space: what "the same
/// words" means when looking for repeats.
pub(crate) fn plain(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a decoding looped, in a list of words (compared as [`plain`] text): the first run of
/// one to six words said again and again in a row (a word four times, a longer run three
/// times), with the words that go on repeating it after. Returns the loop's first word, the
/// run's length and the end (exclusive) of the repetition. A loop is the decoder's, not the
/// speaker's: "I and I and I and I and I and I and I." fills 0.9 s of a customer's hesitation,
/// "Gun. Gun. Gun. Gun. Gun." a customer's "Hmm" under a prompt.
pub(crate) fn find_loop(words: &[String]) -> Option<(usize, usize, usize)> {
    for i in 0..words.len() {
        for n in 1..=6 {
            let times = if n == 1 { 4 } else { 3 };
            if i + times * n > words.len() {
                break;
            }
            if (1..times).all(|k| words[i..i + n] == words[i + k * n..i + (k + 1) * n]) {
                let mut end = i + times * n;
                while end < words.len() && words[end] == words[i + (end - i) % n] {
                    end += 1;
                }
                return Some((i, n, end));
            }
        }
    }
    None
}

/// Keeps one turn of each loop in a decoding's words and drops the rest: evidence never shows
/// words nobody said. The turn kept counts as barely heard (the decoder was lost there, and a
/// finding must not rest on it). Returns whether a loop was found.
fn collapse_loops(words: &mut Vec<DecodedWord>) -> bool {
    let mut found = false;
    loop {
        let plain_words: Vec<String> = words
            .iter()
            .map(|w| plain(&String::from_utf8_lossy(&w.bytes)))
            .collect();
        let Some((start, n, end)) = find_loop(&plain_words) else {
            return found;
        };
        found = true;
        tracing::debug!(
            kept = %plain_words[start..start + n].join(" "),
            dropped = end - start - n,
            "decoding looped: one turn kept"
        );
        for w in &mut words[start..start + n] {
            w.p_sum = w.p_sum.min(LOOP_WORD_P * w.tokens as f32);
        }
        words.drain(start + n..end);
    }
}

/// Probability given to the words of a loop's one kept turn: under any doubt threshold.
const LOOP_WORD_P: f32 = 0.1;

/// Drops segments that say again what the segment before them on the channel said, or that
/// sit inside its time and repeat part of it. Whisper sometimes decodes a sentence twice in one
/// window ("Je vous remercie…" at 34.4 s and again at 35.9 s); evidence must never show words
/// twice. A short answer said twice ("Oui. Oui.") is speech, not a repeat: only texts of three
/// words or more, or overlapping in time, are compared.
fn drop_repeats(mut segments: Vec<Segment>) -> Vec<Segment> {
    segments.sort_by_key(|s| s.start_ms);
    let mut kept: Vec<Segment> = Vec::with_capacity(segments.len());
    for s in segments {
        let b = plain(&s.text);
        if b.is_empty() {
            continue;
        }
        // Over the same audio: overlapping, or placed at the same instant.
        let same_audio = |p: &Segment| p.start_ms == s.start_ms || (s.start_ms + 100 < p.end_ms);
        let recent = kept
            .iter()
            .rev()
            .take_while(|p| p.end_ms + 3_000 > s.start_ms || p.start_ms == s.start_ms);
        let mut repeat = false;
        for p in recent {
            let a = plain(&p.text);
            if a == b && (b.split(' ').count() >= 3 || same_audio(p)) {
                repeat = true;
                break;
            }
        }
        if repeat {
            tracing::debug!(text = %s.text, "repeated segment dropped");
            continue;
        }
        if let Some(prev) = kept.last_mut() {
            let a = plain(&prev.text);
            if same_audio(prev) && (a.contains(&b) || b.contains(&a)) {
                // Two decodings of the same speech: keep the fuller one.
                if b.len() > a.len() {
                    *prev = s;
                }
                continue;
            }
        }
        kept.push(s);
    }
    kept
}

/// How far (dB) a segment's loudest frames must stand above the channel's floor to be speech.
const SPEECH_OVER_FLOOR_DB: f32 = 8.0;

/// Drops text decoded from line noise: a segment whose audio is no louder than the channel's
/// background (its quietest tenth, at least -70 dBFS) was invented by the model ("I'm going to
/// go ahead." on a silent customer line, "(musique)" on hiss).
fn drop_line_noise(loudness: &speech::Loudness, segments: Vec<Segment>) -> Vec<Segment> {
    let (levels, floor) = (&loudness.levels, loudness.floor);
    let frame_ms = (speech::LEVEL_FRAME as u64 * 1000) / SAMPLE_RATE;
    segments
        .into_iter()
        .filter(|s| {
            let at = |ms: u64| ((ms / frame_ms) as usize).min(levels.len());
            let (a, b) = (
                at(s.start_ms),
                at(s.end_ms.max(s.start_ms + frame_ms)).max(at(s.start_ms) + 1),
            );
            let mut frames: Vec<f32> = levels[a.min(levels.len())..b.min(levels.len())].to_vec();
            frames.sort_by(f32::total_cmp);
            let loud = frames
                .get(frames.len() * 9 / 10)
                .copied()
                .unwrap_or(f32::MIN);
            let speech = loud - floor >= SPEECH_OVER_FLOOR_DB;
            if !speech {
                tracing::debug!(text = %s.text, loud, floor, "text on line noise dropped");
            }
            speech
        })
        .collect()
}

/// Encoder context (in 20 ms positions) for `samples` of 16 kHz audio: the audio plus one second
/// of the padding Whisper was trained to see after speech, at most a full window. The padding
/// matters: on the benchmark calls (base q8_0, 14 s chunks) word error rate was 25.4 % without
/// it, 21.1 % with one second and 20.3 % with five.
/// The fewest samples a decoding window is given (200 ms). whisper.cpp's DTW aborts the whole
/// process (`WHISPER_ASSERT: filter_width < a->ne[2]`) when a window of fewer than 16 frames
/// (160 ms) decodes to any text: its median filter is 7 audio positions wide. A part cut from a
/// long region at its quietest moment can be that short (a customer's 2.1 s answer cut at 2.07
/// s left 100-150 ms), and so can a stretch read again.
pub(crate) const MIN_WINDOW_SAMPLES: usize = SAMPLE_RATE as usize / 5;

/// `samples`, followed by silence up to [`MIN_WINDOW_SAMPLES`] where they are shorter: the
/// window whisper.cpp decodes is then long enough for its DTW, and the silence adds nothing
/// to hear. Times in the window are unchanged.
pub(crate) fn window_of(samples: &[f32]) -> std::borrow::Cow<'_, [f32]> {
    if samples.len() >= MIN_WINDOW_SAMPLES {
        return std::borrow::Cow::Borrowed(samples);
    }
    let mut padded = samples.to_vec();
    padded.resize(MIN_WINDOW_SAMPLES, 0.0);
    std::borrow::Cow::Owned(padded)
}

pub(crate) fn audio_ctx(samples: usize) -> i32 {
    let positions = samples.div_ceil(SAMPLE_RATE as usize / POSITIONS_PER_S);
    (positions + POSITIONS_PER_S).min(1500) as i32
}

/// Encoder positions a second of audio takes (20 ms each).
const POSITIONS_PER_S: usize = 50;

/// One decoding of a chunk: its segments, and whether its words looped (one turn of each
/// loop kept).
#[derive(Default)]
struct Decoded {
    segments: Vec<Segment>,
    looped: bool,
    decodings: Decodings,
}

/// Calls to whisper.cpp of one kind, the seconds they took and the work they did: the
/// encoder's cost grows with the audio context it runs over, the decoder's with the tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DecodeCost {
    pub calls: u32,
    pub seconds: f64,
    /// Seconds of audio context encoded (the chunk and its margin, see [`audio_ctx`]).
    pub encoded_s: f64,
    /// Tokens decoded, timestamps included.
    pub tokens: u64,
}

impl DecodeCost {
    fn add(&mut self, other: DecodeCost) {
        self.calls += other.calls;
        self.seconds += other.seconds;
        self.encoded_s += other.encoded_s;
        self.tokens += other.tokens;
    }
}

/// The whisper.cpp decodings a transcription ran, by why they ran: where a first pass's time
/// goes (each call encodes its stretch and decodes it).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Decodings {
    /// Each chunk's decoding (greedy, or the second listen's beams), and each part's where a
    /// chunk was cut at the token limit.
    pub chunks: DecodeCost,
    /// A chunk decoded again by sampling at a higher temperature: its decoding was poor or
    /// looped.
    pub chunks_resampled: DecodeCost,
    /// Stretches decoded on their own: speech a chunk's decoding left without words, or heard
    /// too thinly.
    pub alone: DecodeCost,
    /// Such a stretch decoded again by sampling (never: see `Engine::decode_alone`).
    pub alone_resampled: DecodeCost,
}

impl Decodings {
    /// Adds `other`'s calls to these.
    pub fn add(&mut self, other: &Decodings) {
        self.chunks.add(other.chunks);
        self.chunks_resampled.add(other.chunks_resampled);
        self.alone.add(other.alone);
        self.alone_resampled.add(other.alone_resampled);
    }

    /// All the calls, and their seconds.
    pub fn total(&self) -> DecodeCost {
        let mut t = self.chunks;
        t.add(self.chunks_resampled);
        t.add(self.alone);
        t.add(self.alone_resampled);
        t
    }

    /// The same calls, made to decode stretches on their own.
    fn made_alone(self) -> Decodings {
        let mut alone = self.alone;
        alone.add(self.chunks);
        let mut resampled = self.alone_resampled;
        resampled.add(self.chunks_resampled);
        Decodings {
            alone,
            alone_resampled: resampled,
            ..Decodings::default()
        }
    }
}

impl std::fmt::Display for Decodings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = |d: DecodeCost| {
            format!(
                "{} ({:.1} s; {:.0} s encoded, {} tokens)",
                d.calls, d.seconds, d.encoded_s, d.tokens
            )
        };
        write!(
            f,
            "chunks {}, resampled {}, alone {}, alone resampled {}",
            c(self.chunks),
            c(self.chunks_resampled),
            c(self.alone),
            c(self.alone_resampled)
        )
    }
}

/// Temperatures a chunk is decoded at, one after the other until a decoding is good (see
/// [`Attempt::good`]): Whisper's and faster-whisper's defaults.
const FALLBACK_TEMPERATURES: [f32; 6] = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];

/// Mean log-probability per token under which a decoding is poor: Whisper's default.
const LOGPROB_THOLD: f64 = -1.0;

/// No-speech probability above which a poor decoding is taken as silence rather than decoded
/// again: Whisper's default.
const NO_SPEECH_THOLD: f32 = 0.6;

/// Entropy of the last 32 tokens' ids under which a decoding of more than 32 tokens repeats
/// itself: whisper.cpp's default and measure.
const ENTROPY_THOLD: f64 = 2.4;

/// One decoding of a chunk at one temperature, before it is cut into segments.
#[derive(Default)]
struct Attempt {
    /// Wall time of the whisper.cpp call (encoder and decoder).
    seconds: f64,
    /// Seconds of audio context the encoder ran over.
    encoded_s: f64,
    temperature: f32,
    words: Vec<DecodedWord>,
    no_speech_prob: f32,
    /// Tokens decoded, timestamps and special tokens included (as whisper.cpp counts them).
    tokens: usize,
    logprob_sum: f64,
    ids: Vec<i32>,
}

impl Attempt {
    /// This decoding as one call.
    fn cost(&self) -> DecodeCost {
        DecodeCost {
            calls: 1,
            seconds: self.seconds,
            encoded_s: self.encoded_s,
            tokens: self.tokens as u64,
        }
    }

    fn avg_logprob(&self) -> f64 {
        self.logprob_sum / self.tokens.max(1) as f64
    }

    /// Whether the decoding repeats itself: it ran to the chunk's token budget (more tokens
    /// than its audio can hold), or its last 32 tokens are a few ids over and over.
    fn repetitive(&self, limit: usize) -> bool {
        if self.tokens > limit {
            return true;
        }
        if self.ids.len() <= 32 {
            return false;
        }
        let last = &self.ids[self.ids.len() - 32..];
        let mut counts = std::collections::HashMap::new();
        for id in last {
            *counts.entry(id).or_insert(0u32) += 1;
        }
        let entropy: f64 = counts
            .values()
            .map(|&c| {
                let p = f64::from(c) / 32.0;
                -p * p.ln()
            })
            .sum();
        entropy < ENTROPY_THOLD
    }

    /// Whether the decoding needs no other temperature: not repetitive, and likely enough or
    /// likely silence (Whisper's rule).
    fn good(&self, limit: usize) -> bool {
        !self.repetitive(limit)
            && (self.avg_logprob() >= LOGPROB_THOLD || self.no_speech_prob > NO_SPEECH_THOLD)
    }

    /// The decoding kept: the good one; when none was good, the likeliest of those that do not
    /// repeat themselves, else the likeliest of all — faster-whisper's rule. whisper.cpp keeps
    /// the last, sampled at temperature 1.0: a 3 s clip of JFK came out as "And so, my fellow
    /// American." followed by "And so my fellow America and local American laughs", words
    /// nobody said, where the greedy decoding's loop cut to one turn holds what was said.
    fn best(mut tried: Vec<Attempt>, limit: usize) -> Attempt {
        if tried.last().is_some_and(|a| a.good(limit)) {
            return tried.pop().unwrap_or_default();
        }
        let likeliest = |a: &Attempt, b: &Attempt| a.avg_logprob().total_cmp(&b.avg_logprob());
        let (plain, repetitive): (Vec<Attempt>, Vec<Attempt>) =
            tried.into_iter().partition(|a| !a.repetitive(limit));
        let pool = if plain.is_empty() { repetitive } else { plain };
        pool.into_iter().max_by(likeliest).unwrap_or_default()
    }
}

/// A word as decoded, before its end is known.
struct DecodedWord {
    bytes: Vec<u8>,
    start_ms: u64,
    p_sum: f32,
    logprob_sum: f32,
    tokens: u32,
}

impl DecodedWord {
    fn add(&mut self, bytes: &[u8], p: f32, logprob: f32) {
        self.bytes.extend_from_slice(bytes);
        self.p_sum += p;
        self.logprob_sum += logprob;
        self.tokens += 1;
    }

    /// A character whose bytes Whisper's tokens split, when the decoding ended between them (at
    /// the token limit, in a loop), was never written whole: "Schl\u{FFFD}" must not reach the
    /// evidence.
    fn drop_broken_bytes(&mut self) {
        self.drop_unsaid(
            |c| c == char::REPLACEMENT_CHARACTER,
            "bytes of a character cut in two dropped",
        );
    }

    /// In a language written in Latin letters, a letter of another script was not said: Whisper
    /// slips one in where it hears poorly ("Let's have a CO有 coins." on an English call).
    fn drop_foreign_letters(&mut self) {
        self.drop_unsaid(foreign_letter, "letters of another script dropped");
    }

    /// Drops the characters nobody said; the word that held one counts as barely heard.
    fn drop_unsaid(&mut self, unsaid: impl Fn(char) -> bool, why: &str) {
        let text = String::from_utf8_lossy(&self.bytes).to_string();
        if !text.chars().any(&unsaid) {
            return;
        }
        let kept: String = text.chars().filter(|c| !unsaid(*c)).collect();
        tracing::debug!(word = %text, kept = %kept, "{why}");
        self.bytes = kept.into_bytes();
        self.p_sum = self.p_sum.min(0.1 * self.tokens as f32);
    }
}

/// Languages written in Latin letters, where a letter of another script is an invention.
const LATIN_SCRIPT: &[&str] = &[
    "en", "fr", "de", "es", "it", "pt", "nl", "ca", "ro", "pl", "cs", "sk", "sl", "hr", "bs", "sv",
    "da", "no", "nn", "fi", "et", "lv", "lt", "hu", "tr", "id", "ms", "vi", "tl", "sw", "af", "eu",
    "gl", "cy", "ga", "is", "mt", "sq", "br", "lb", "oc", "la", "haw", "mi", "yo", "so", "uz",
    "az", "tk", "jw", "su", "ht", "ln", "sn", "ha", "fo",
];

/// A letter outside the Latin blocks (ASCII, Latin-1, Latin Extended A/B and Additional).
/// Digits, punctuation and symbols (€, %) are not letters and stay.
fn foreign_letter(c: char) -> bool {
    c.is_alphabetic()
        && !matches!(c as u32, 0x00..=0x024F | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF)
}

/// A decoded word with its time, the speech region it falls in and its decoding scores.
struct TimedWord {
    word: Word,
    /// Index in the chunk's regions: segments never span two regions.
    region: usize,
    logprob_sum: f32,
    tokens: u32,
}

/// Less time than anyone takes to say a word (ms, on average over a run of words).
const SQUEEZED_WORD_MS: u64 = 60;

/// Drops a run of two words or more that a decoding wrote again right after itself in less
/// than [`SQUEEZED_WORD_MS`] a word: the decoder went on writing where the speech had ended
/// ("Je me suis d'accord, je me suis d'accord." with the repeat's four words in 40 ms at the
/// end of a customer's "je ne sais pas trop", AMR-NB). The repeat's last word may run on to
/// the end of the speech ("Absolutely bookering, absolutely bookering." from a second listen,
/// the repeat's first word and its last starting at one instant): where every word of the
/// repeat but its last starts in no time, it is squeezed all the same. Evidence never shows
/// words twice; a repeat said in its own time is speech and stays.
fn drop_squeezed_repeats(words: &mut Vec<TimedWord>) {
    let mut plain_words: Vec<String> = words.iter().map(|w| plain(&w.word.text)).collect();
    let mut i = 0;
    while i < words.len() {
        let squeezed = (2..=(words.len() - i) / 2).find(|&n| {
            let again = &words[i + n..i + 2 * n];
            let (first, last) = (&again[0].word, &again[n - 1].word);
            plain_words[i..i + n] == plain_words[i + n..i + 2 * n]
                && (last.end_ms.saturating_sub(first.start_ms) < n as u64 * SQUEEZED_WORD_MS
                    || last.start_ms.saturating_sub(first.start_ms)
                        < (n as u64 - 1) * SQUEEZED_WORD_MS)
        });
        match squeezed {
            Some(n) => {
                tracing::debug!(
                    dropped = %words[i + n..i + 2 * n].iter().map(|w| w.word.text.as_str()).collect::<Vec<_>>().join(" "),
                    "words written again in no time dropped"
                );
                words.drain(i + n..i + 2 * n);
                plain_words.drain(i + n..i + 2 * n);
            }
            None => i += 1,
        }
    }
}

/// Drops, from the segments of a decoding of chosen spans (`only_ms`: the second listen), the
/// words at a segment's end that take no time at all, two or more: the decoder wrote them where
/// the speech it was given had ended ("9 ans, de compris, vont marcher conclux." then "vont
/// marcher conclut." at one instant, over a customer's "Bon, marché conclu" that the first pass
/// heard in its own time as "vont marcher au club"). The first pass keeps its words for that
/// time; with these, evidence would show them twice. A segment left without words goes. Run
/// on a channel's segments once every decoding and repeat is settled.
fn drop_written_past_speech(segments: &mut Vec<Segment>) {
    for s in segments.iter_mut() {
        let timeless = s
            .words
            .iter()
            .rev()
            .take_while(|w| w.end_ms <= w.start_ms)
            .count();
        if timeless < 2 {
            continue;
        }
        let kept = s.words.len() - timeless;
        tracing::debug!(
            dropped = %s.words[kept..].iter().map(|w| w.text.trim()).collect::<Vec<_>>().join(" "),
            "words written past the speech dropped"
        );
        s.words.truncate(kept);
        s.fit_to_words();
    }
    segments.retain(|s| !s.words.is_empty());
}

/// Splits a chunk's words into segments: a new one starts with each speech region and after
/// each sentence. A word lasts until the next one starts, at most 1.5 s and not past the end of
/// its region.
fn segments_of(
    decoded: Vec<DecodedWord>,
    chunk: &Chunk,
    speaker: Speaker,
    channel: u16,
    no_speech_prob: f32,
) -> Vec<Segment> {
    let ms = |sample: usize| (sample as u64 * 1000) / SAMPLE_RATE;
    // The region a time falls in, or the next one when it falls between two.
    let region_of = |t: u64| {
        chunk
            .regions
            .iter()
            .position(|&(_, e)| t < ms(e))
            .unwrap_or(chunk.regions.len().saturating_sub(1))
    };
    let mut words: Vec<TimedWord> = Vec::new();
    for w in decoded {
        let text = String::from_utf8_lossy(&w.bytes).trim().to_string();
        if text.is_empty() {
            continue;
        }
        let region = region_of(w.start_ms);
        let word = Word {
            text,
            start_ms: w.start_ms,
            end_ms: w.start_ms,
            probability: w.p_sum / w.tokens.max(1) as f32,
        };
        words.push(TimedWord {
            word,
            region,
            logprob_sum: w.logprob_sum,
            tokens: w.tokens,
        });
    }
    for i in 0..words.len() {
        let region_end = chunk.regions.get(words[i].region).map_or(0, |r| ms(r.1));
        let next = words.get(i + 1).map_or(region_end, |n| n.word.start_ms);
        let start = words[i].word.start_ms;
        words[i].word.end_ms = next.min(region_end).min(start + 1500).max(start);
    }
    drop_squeezed_repeats(&mut words);

    let mut groups: Vec<Vec<TimedWord>> = Vec::new();
    for w in words {
        let split = match groups.last().and_then(|g| g.last()) {
            Some(prev) => prev.region != w.region || ends_sentence(&prev.word.text),
            None => true,
        };
        if split {
            groups.push(Vec::new());
        }
        if let Some(group) = groups.last_mut() {
            group.push(w);
        }
    }
    groups
        .into_iter()
        .filter_map(|group| {
            let text = group
                .iter()
                .map(|w| w.word.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let (logprob, tokens) = group
                .iter()
                .fold((0.0, 0), |(l, n), w| (l + w.logprob_sum, n + w.tokens));
            let avg_logprob = if tokens > 0 {
                logprob / tokens as f32
            } else {
                0.0
            };
            // Whisper's own silence rule: likely no speech and not confident in the text.
            // Whole-segment annotations ("[BLANK_AUDIO]", "(musique)") are not speech.
            let annotation = (text.starts_with('[') && text.ends_with(']'))
                || (text.starts_with('(') && text.ends_with(')'));
            if annotation || (no_speech_prob > 0.6 && avg_logprob < -1.0) {
                tracing::debug!(%text, no_speech_prob, avg_logprob, "segment taken for no speech");
                return None;
            }
            let words: Vec<Word> = group.into_iter().map(|w| w.word).collect();
            let start_ms = words.first()?.start_ms;
            let end_ms = words.last()?.end_ms.max(start_ms);
            Some(Segment {
                speaker,
                channel,
                start_ms,
                end_ms,
                text,
                avg_logprob,
                no_speech_prob,
                words,
                attribution: Default::default(),
                second_listen: false,
                heard_first: None,
                disputed: false,
            })
        })
        .collect()
}

/// Whether a word closes a sentence ("accord.", "vraiment ?", "d'accord…").
fn ends_sentence(word: &str) -> bool {
    word.ends_with(['.', '?', '!', '…'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start_ms: u64, end_ms: u64, text: &str) -> Segment {
        Segment {
            speaker: Speaker::Agent,
            channel: 0,
            start_ms,
            end_ms,
            text: text.into(),
            avg_logprob: -0.2,
            no_speech_prob: 0.0,
            words: Vec::new(),
            attribution: Default::default(),
            second_listen: false,
            heard_first: None,
            disputed: false,
        }
    }

    fn texts(segments: &[Segment]) -> Vec<(u64, &str)> {
        segments
            .iter()
            .map(|s| (s.start_ms, s.text.as_str()))
            .collect()
    }

    #[test]
    fn a_sentence_decoded_twice_is_kept_once() {
        let kept = drop_repeats(vec![
            seg(34_400, 35_800, "Je vous remercie excellent-tourner."),
            seg(35_900, 37_300, "Je vous remercie excellent tourner."),
            seg(40_000, 41_000, "Au revoir."),
        ]);
        assert_eq!(
            texts(&kept),
            [
                (34_400, "Je vous remercie excellent-tourner."),
                (40_000, "Au revoir.")
            ]
        );
    }

    #[test]
    fn two_decodings_of_the_same_audio_keep_the_fuller_one() {
        let kept = drop_repeats(vec![
            seg(17_300, 17_900, "ahead."),
            seg(17_300, 19_000, "I'm going to go ahead."),
        ]);
        assert_eq!(texts(&kept), [(17_300, "I'm going to go ahead.")]);
        // Words placed at one instant (broken timing) are the same audio too.
        let kept = drop_repeats(vec![
            seg(7_130, 7_130, "Oui."),
            seg(7_130, 7_130, "D'accord."),
            seg(7_130, 7_130, "Oui."),
        ]);
        assert_eq!(texts(&kept), [(7_130, "Oui."), (7_130, "D'accord.")]);
    }

    #[test]
    fn a_short_answer_said_twice_is_speech() {
        let kept = drop_repeats(vec![seg(1_000, 1_400, "Oui."), seg(2_500, 2_900, "Oui.")]);
        assert_eq!(kept.len(), 2);
    }

    /// A decoded word as the tests need it: its bytes, probabilities summed over its tokens.
    fn word(bytes: Vec<u8>, p_sum: f32, tokens: u32) -> DecodedWord {
        DecodedWord {
            bytes,
            start_ms: 0,
            p_sum,
            logprob_sum: -0.1,
            tokens,
        }
    }

    #[test]
    fn a_mark_written_apart_is_no_word() {
        let mut words = Vec::new();
        // "- Nous installons." then "Vous vendez ?" and "$20 !", as Whisper's tokens come.
        for (bytes, p) in [
            (" -", 0.05),
            (" Nous", 0.7),
            (" install", 0.6),
            ("ons", 0.8),
            (".", 0.9),
            (" vendez", 0.6),
            (" ?", 0.2),
            (" -", 0.1),
            (" Oui", 0.9),
            (" is", 0.9),
            (" $", 0.8),
            ("20", 0.6),
            (" !", 0.2),
        ] {
            let at = words.len() as u64 * 100;
            take_token(&mut words, bytes.as_bytes().to_vec(), at, p, p.ln());
        }
        fold_marks(&mut words);
        // "- Nous" begins when the mark was written.
        assert_eq!(words[0].start_ms, 0);
        assert_eq!(said(&words), "- Nous installons. vendez ? - Oui is $20 !");
        // A mark weighs nothing on the word it is written with; the word's own pieces do,
        // and a sign that begins a word ("$20") is part of it.
        let p = |i: usize| words[i].p_sum / words[i].tokens as f32;
        assert!((p(0) - 0.7).abs() < 1e-6, "{}", p(0));
        assert!((p(1) - 2.3 / 3.0).abs() < 1e-6, "{}", p(1));
        assert!((p(2) - 0.6).abs() < 1e-6, "{}", p(2));
        assert!((p(3) - 0.9).abs() < 1e-6, "{}", p(3));
        assert!((p(5) - 0.7).abs() < 1e-6, "{}", p(5));
        assert_eq!(words.len(), 6);
    }

    #[test]
    fn letters_of_another_script_are_not_words_of_a_french_or_english_call() {
        let mut w = word("CO有".as_bytes().to_vec(), 1.8, 2);
        w.drop_foreign_letters();
        assert_eq!(w.bytes, b"CO");
        assert!(w.p_sum / w.tokens as f32 <= 0.1);
        for said in ["rétractation", "Œuvre", "ÇA", "12€", "naïve", "l'été"] {
            let mut w = word(said.as_bytes().to_vec(), 0.9, 1);
            w.drop_foreign_letters();
            assert_eq!((w.bytes.as_slice(), w.p_sum), (said.as_bytes(), 0.9));
        }
    }

    #[test]
    fn a_short_chunk_may_decode_to_what_its_audio_can_hold_not_to_the_window_limit() {
        // A 3 s clip stopped at 200 tokens: its loop (and each of the fallback decodings
        // after it) ran to 200; now to 45, above the 32 whisper.cpp needs to see a loop.
        assert_eq!(token_budget(3_000), 45);
        assert_eq!(token_budget(500), 40);
        // The fastest speech (a notice at 5 words a second, under 2 tokens a word, plus a
        // timestamp pair per sentence) fits in every chunk's budget...
        for ms in [1_000, 2_000, 4_000, 10_000, 20_000] {
            assert!(token_budget(ms) >= ms * 5 * 2 / 1_000 + 4, "{ms} ms");
        }
        // ...and a full chunk keeps the window's own limit.
        assert!(token_budget(speech::MAX_CHUNK_MS) >= MAX_CHUNK_TOKENS);
    }

    /// A decoding at `temperature` of `ids` tokens (a loop when few distinct ids repeat),
    /// with the given mean log-probability.
    fn attempt(temperature: f32, ids: Vec<i32>, avg_logprob: f64) -> Attempt {
        Attempt {
            temperature,
            tokens: ids.len(),
            logprob_sum: avg_logprob * ids.len() as f64,
            ids,
            ..Attempt::default()
        }
    }

    #[test]
    fn a_poor_or_repeating_decoding_is_tried_again_and_the_likeliest_kept() {
        let varied: Vec<i32> = (0..40).collect();
        let looped: Vec<i32> = (0..40).map(|i| i % 4).collect();
        let limit = 100;
        assert!(attempt(0.0, varied.clone(), -0.3).good(limit));
        assert!(!attempt(0.0, varied.clone(), -1.2).good(limit), "poor");
        assert!(!attempt(0.0, looped.clone(), -0.1).good(limit), "loop");
        assert!(
            attempt(0.0, varied.clone(), -0.3).repetitive(30),
            "past the chunk's token budget"
        );
        // A good decoding at the last temperature tried is kept, however likely the others.
        let tried = vec![
            attempt(0.0, looped.clone(), -0.1),
            attempt(0.2, varied.clone(), -0.6),
        ];
        assert_eq!(Attempt::best(tried, limit).temperature, 0.2);
        // None good: the likeliest that does not repeat itself, not the last.
        let tried = vec![
            attempt(0.0, looped.clone(), -0.1),
            attempt(0.2, varied.clone(), -1.1),
            attempt(0.4, varied.clone(), -1.5),
        ];
        assert_eq!(Attempt::best(tried, limit).temperature, 0.2);
        // All repeat themselves: the likeliest, whose loop is then cut to one turn.
        let tried = vec![
            attempt(0.0, looped.clone(), -0.2),
            attempt(1.0, looped, -0.9),
        ];
        assert_eq!(Attempt::best(tried, limit).temperature, 0.0);
    }

    #[test]
    fn a_character_cut_between_tokens_is_not_written() {
        // "Schlö" with the second byte of "ö" never decoded.
        let mut bytes = "Schlö".as_bytes().to_vec();
        bytes.pop();
        let mut w = word(bytes, 1.6, 2);
        w.drop_broken_bytes();
        assert_eq!(w.bytes, b"Schl");
        assert!(w.p_sum / w.tokens as f32 <= 0.1);
        let mut whole = word("rétractation".as_bytes().to_vec(), 2.7, 3);
        whole.drop_broken_bytes();
        assert_eq!(
            (whole.bytes.as_slice(), whole.p_sum),
            ("rétractation".as_bytes(), 2.7)
        );
    }

    /// Whether a decoded text is a loop (see [`find_loop`]).
    fn repeats(text: &str) -> bool {
        let words: Vec<String> = plain(text).split(' ').map(str::to_string).collect();
        find_loop(&words).is_some()
    }

    #[test]
    fn loops_are_recognised() {
        assert!(repeats(
            "Bloctel, rétractation, Bloctel, rétractation, Bloctel, rétractation"
        ));
        assert!(repeats("oui oui oui oui oui oui"));
        // One word looping across sentences (each its own segment): the chunk's whole text.
        assert!(repeats("Gun. Gun. Gun. Gun. Gun."));
        assert!(!repeats("Oui. Oui. Oui."));
        assert!(!repeats(
            "Vous pouvez vous inscrire sur Bloctel, la liste Bloctel."
        ));
    }

    fn decoded(text: &str) -> Vec<DecodedWord> {
        text.split(' ')
            .enumerate()
            .map(|(i, w)| DecodedWord {
                bytes: format!(" {w}").into_bytes(),
                start_ms: i as u64 * 100,
                p_sum: 0.9,
                logprob_sum: -0.1,
                tokens: 1,
            })
            .collect()
    }

    fn said(words: &[DecodedWord]) -> String {
        words
            .iter()
            .map(|w| String::from_utf8_lossy(&w.bytes).trim().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_loop_keeps_one_turn_barely_heard_and_the_words_around_it() {
        // An unprompted decoding of a customer's hesitation (the demo's real call, tiny.en).
        let mut words = decoded("and then I and I and I and I and I and I and I. the light");
        assert!(collapse_loops(&mut words));
        assert_eq!(said(&words), "and then I and the light");
        assert_eq!(words[2].start_ms, 200);
        assert!(words[2].p_sum < Segment::DOUBTFUL_WORD_BELOW);
        assert!(words[3].p_sum < Segment::DOUBTFUL_WORD_BELOW);
        assert!(words[4].p_sum > Segment::DOUBTFUL_WORD_BELOW);

        let mut words = decoded("Gun. Gun. Gun. Gun. Gun.");
        assert!(collapse_loops(&mut words));
        assert_eq!(said(&words), "Gun.");

        // Speech that says a word again is left as it is.
        for text in [
            "Oui. Oui. Oui.",
            "Vous pouvez vous inscrire sur Bloctel, la liste Bloctel.",
            "very very good",
        ] {
            let mut words = decoded(text);
            assert!(!collapse_loops(&mut words), "{text}");
            assert_eq!(said(&words), text);
        }
    }

    fn timed(words: &[(&str, u64, u64)]) -> Vec<TimedWord> {
        words
            .iter()
            .map(|&(text, start_ms, end_ms)| TimedWord {
                word: Word {
                    text: text.into(),
                    start_ms,
                    end_ms,
                    probability: 0.7,
                },
                region: 0,
                logprob_sum: -0.5,
                tokens: 1,
            })
            .collect()
    }

    #[test]
    fn words_written_again_in_no_time_are_dropped() {
        // As decoded from a customer's "Euh, je ne sais pas trop." (AMR-NB, base).
        let mut words = timed(&[
            ("Je", 23_320, 23_730),
            ("me", 23_730, 23_890),
            ("suis", 23_890, 24_130),
            ("d'accord,", 24_130, 24_630),
            ("je", 24_630, 24_630),
            ("me", 24_630, 24_630),
            ("suis", 24_630, 24_630),
            ("d'accord.", 24_630, 24_670),
        ]);
        drop_squeezed_repeats(&mut words);
        let text: Vec<&str> = words.iter().map(|w| w.word.text.as_str()).collect();
        assert_eq!(text, ["Je", "me", "suis", "d'accord,"]);

        // Said twice, each time in its own time: speech.
        let said = [
            ("c'est", 0, 200),
            ("bon,", 200, 500),
            ("c'est", 500, 700),
            ("bon.", 700, 1_000),
        ];
        let mut words = timed(&said);
        drop_squeezed_repeats(&mut words);
        assert_eq!(words.len(), 4);
        // One word again at a segment's end (its time cut short) is left to the speaker.
        let mut words = timed(&[("Oui,", 0, 300), ("oui.", 300, 310)]);
        drop_squeezed_repeats(&mut words);
        assert_eq!(words.len(), 2);
        // The repeat's last word running on to the end of the speech (a second listen of
        // "Absolutely, book it in", GSM): its other words start in no time.
        let mut words = timed(&[
            ("Absolutely", 15_028, 15_717),
            ("bookering,", 15_717, 15_717),
            ("absolutely", 15_717, 15_717),
            ("bookering.", 15_717, 16_944),
        ]);
        drop_squeezed_repeats(&mut words);
        let text: Vec<&str> = words.iter().map(|w| w.word.text.as_str()).collect();
        assert_eq!(text, ["Absolutely", "bookering,"]);
    }

    #[test]
    fn words_a_second_listen_wrote_past_the_speech_are_dropped() {
        let words = |s: &mut Segment, w: &[(&str, u64, u64)]| {
            s.words = w
                .iter()
                .map(|&(text, start_ms, end_ms)| callproof_models::Word {
                    text: format!(" {text}"),
                    start_ms,
                    end_ms,
                    probability: 0.8,
                })
                .collect();
        };
        let mut a = seg(19_194, 20_303, "9 ans, de compris, vont marcher conclux.");
        words(
            &mut a,
            &[
                ("9", 19_194, 19_412),
                ("ans,", 19_412, 19_921),
                ("de", 19_921, 19_921),
                ("compris,", 19_921, 20_303),
                ("vont", 20_303, 20_303),
                ("marcher", 20_303, 20_303),
                ("conclux.", 20_303, 20_303),
            ],
        );
        let mut b = seg(20_334, 20_334, "vont marcher conclut.");
        words(
            &mut b,
            &[
                ("vont", 20_334, 20_334),
                ("marcher", 20_334, 20_334),
                ("conclut.", 20_334, 20_334),
            ],
        );
        // One word at an instant is a word: a boundary cut its time short.
        let mut c = seg(20_902, 20_902, "money");
        words(&mut c, &[("money", 20_902, 20_902)]);
        let mut segments = vec![a, b, c];
        drop_written_past_speech(&mut segments);
        let texts: Vec<&str> = segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["9 ans, de compris,", "money"]);
        assert_eq!(segments[0].end_ms, 20_303);
    }

    fn worded(start_ms: u64, words: &[(u64, u64)]) -> Segment {
        let mut s = seg(start_ms, words.last().map_or(start_ms, |w| w.1), "mots");
        s.words = words
            .iter()
            .map(|&(a, b)| callproof_models::Word {
                text: " mot".into(),
                start_ms: a,
                end_ms: b,
                probability: 0.9,
            })
            .collect();
        s
    }

    /// A segment of timed words: (text, start, end).
    fn spoken(words: &[(&str, u64, u64)]) -> Segment {
        let text = words.iter().map(|w| w.0).collect::<Vec<_>>().join(" ");
        let mut s = seg(words[0].1, words[words.len() - 1].2, &text);
        s.words = words
            .iter()
            .map(|&(t, a, b)| callproof_models::Word {
                text: t.into(),
                start_ms: a,
                end_ms: b,
                probability: 0.9,
            })
            .collect();
        s
    }

    #[test]
    fn a_region_heard_slower_than_anyone_speaks_left_words_out() {
        let sample = |ms: u64| (ms * SAMPLE_RATE / 1000) as usize;
        let region = (sample(28_694), sample(33_090));
        // "Votre accord au téléphone suffit, c'est" for 4.4 s of speech: 12 syllables.
        let thin = spoken(&[
            ("Votre", 28_772, 29_232),
            ("accord", 29_232, 29_432),
            ("au", 29_432, 29_692),
            ("téléphone", 29_692, 29_972),
            ("suffit,", 29_972, 31_472),
            ("c'est", 31_832, 33_090),
        ]);
        assert!(thin_pace(std::slice::from_ref(&thin), region).is_some());
        // The whole sentence, 19 syllables: a speaking pace.
        let mut whole = thin.clone();
        whole.words.push(callproof_models::Word {
            text: "définitif, inutile d'attendre.".into(),
            start_ms: 32_000,
            end_ms: 33_090,
            probability: 0.9,
        });
        assert!(thin_pace(&[whole], region).is_none());
        // A short answer with breath around it is not judged by its pace.
        let answer = spoken(&[("Oui.", 9_200, 9_600)]);
        assert!(thin_pace(&[answer], (sample(9_000), sample(10_500))).is_none());
    }

    #[test]
    fn a_region_whose_last_word_took_the_time_of_the_words_after_it_was_cut_off() {
        let sample = |ms: u64| (ms * SAMPLE_RATE / 1000) as usize;
        let region = (sample(20_918), sample(25_590));
        // "…alors c'est maintenant qu'il faut" for "…qu'il faut dire oui.", "faut" over 0.87 s.
        let cut = spoken(&[
            ("alors", 23_756, 23_936),
            ("c'est", 23_936, 24_156),
            ("maintenant", 24_156, 24_476),
            ("qu'il", 24_476, 24_716),
            ("faut", 24_716, 25_590),
        ]);
        assert!(cut_off_at_end(std::slice::from_ref(&cut), region).is_some());
        // A finished sentence ends on its mark: its last word's time is the breath after it.
        let mut closed = cut.clone();
        closed.words[4].text = "faut.".into();
        assert!(cut_off_at_end(&[closed], region).is_none());
        // A last word in its own time left nothing out.
        let mut timed = cut.clone();
        timed.words[4].end_ms = 24_980;
        assert!(cut_off_at_end(&[timed], (sample(20_918), sample(25_000))).is_none());
        // One word is a short answer, not a sentence left unfinished.
        let answer = spoken(&[("Bonjour", 6_900, 7_900)]);
        assert!(cut_off_at_end(&[answer], (sample(6_800), sample(7_900))).is_none());

        // Decoded alone, the region adds the words after the first hearing's last two…
        let alone = spoken(&[
            ("alors", 23_700, 23_900),
            ("c'est", 23_900, 24_100),
            ("maintenant", 24_100, 24_450),
            ("qu'il", 24_450, 24_700),
            ("faut", 24_700, 24_878),
            ("des", 24_878, 25_100),
            ("ruies.", 25_100, 25_590),
        ]);
        let kept = fuller(vec![cut.clone()], vec![alone], Splice::TailOnly);
        let text: Vec<&str> = kept.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(text, ["alors c'est maintenant qu'il faut", "des ruies."]);
        assert_eq!(kept[0].end_ms, 24_878);
        // …and nothing where it does not have them: a short region heard alone may be words
        // nobody said.
        let other = spoken(&[
            ("Je", 23_700, 24_000),
            ("vends", 24_000, 24_600),
            ("le", 24_600, 24_800),
            ("métier.", 24_800, 25_590),
        ]);
        assert_eq!(
            fuller(vec![cut.clone()], vec![other], Splice::TailOnly),
            vec![cut]
        );
    }

    #[test]
    fn words_a_hearing_left_out_are_taken_from_the_region_heard_alone() {
        let first = spoken(&[
            ("Votre", 28_772, 29_232),
            ("accord", 29_232, 29_432),
            ("suffit,", 29_972, 31_472),
            ("c'est", 31_832, 33_090),
        ]);
        let alone = spoken(&[
            ("Vous", 28_944, 29_074),
            ("trac", 29_074, 29_434),
            ("your", 29_434, 29_574),
            ("phone,", 29_574, 30_714),
            ("c'est", 30_954, 31_094),
            ("définitif,", 31_094, 31_934),
            ("inutile", 31_934, 32_394),
            ("d'attendre.", 32_394, 33_090),
        ]);
        let kept = fuller(vec![first.clone()], vec![alone.clone()], Splice::Fuller);
        let text: Vec<&str> = kept.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            text,
            [
                "Votre accord suffit, c'est",
                "définitif, inutile d'attendre."
            ]
        );
        // Each word once, in order, segments not overlapping; the word the first hearing
        // stretched over what it left out takes the time the second gave it.
        assert_eq!(kept[0].words[3].start_ms, 30_954);
        assert!(kept[0].end_ms <= kept[1].start_ms, "{kept:#?}");
        // Nothing the two hearings share: the second where the first heard next to nothing…
        let other = spoken(&[("Bonjour", 28_800, 29_500), ("madame.", 29_500, 30_000)]);
        let kept = fuller(vec![other], vec![alone.clone()], Splice::Fuller);
        assert_eq!(kept, vec![alone]);
        // …else the first: more words are not better words.
        let first = spoken(&[
            ("No,", 16_788, 17_000),
            ("I", 17_000, 17_200),
            ("don't", 17_200, 17_900),
            ("thank", 17_900, 18_500),
            ("you.", 18_500, 19_550),
        ]);
        let again = spoken(&[
            ("No,", 16_788, 17_000),
            ("I", 17_000, 17_200),
            ("don't", 17_200, 17_600),
            ("think", 17_600, 17_900),
            ("it's", 17_900, 18_200),
            ("thank", 18_200, 18_600),
            ("you.", 18_600, 19_550),
        ]);
        assert_eq!(
            fuller(vec![first.clone()], vec![again], Splice::Fuller),
            vec![first]
        );
        // A phrase said twice anchors where the first hearing ended, not at its first saying:
        // the second hearing adds nothing after "your country." and the first stays.
        let first = spoken(&[
            ("your", 5_710, 6_050),
            ("country", 6_050, 6_370),
            ("can", 6_370, 6_750),
            ("do", 6_750, 7_010),
            ("for", 7_010, 7_250),
            ("you,", 7_250, 8_330),
            ("ask", 8_330, 8_670),
            ("your", 9_930, 10_230),
            ("country.", 10_230, 11_000),
        ]);
        let again = spoken(&[
            ("Your", 5_700, 6_050),
            ("country", 6_050, 6_370),
            ("can", 6_370, 6_750),
            ("do", 6_750, 7_010),
            ("for", 7_010, 7_250),
            ("you,", 7_250, 8_330),
            ("ask", 8_330, 8_670),
            ("what", 8_670, 8_970),
            ("you", 8_970, 9_290),
            ("your", 9_930, 10_230),
            ("country.", 10_230, 11_000),
        ]);
        assert_eq!(
            fuller(vec![first.clone()], vec![again], Splice::Fuller),
            vec![first]
        );
    }

    #[test]
    fn speech_a_decoding_left_without_words_is_found_inside_a_region_too() {
        let samples = vec![0f32; 40 * SAMPLE_RATE as usize];
        let at = |ms: u64| (ms * SAMPLE_RATE / 1000) as usize;
        let chunk = speech::pack_chunks(
            &samples,
            &[
                (at(0), at(10_000)),
                (at(12_000), at(32_000)),
                (at(34_000), at(36_000)),
            ],
            60_000,
            speech::JoinPause::SHORT,
        )
        .remove(0);
        let heard = [
            // The first region heard to its end, with pauses under UNHEARD_MS between words.
            worded(250, &[(250, 4_000), (4_900, 9_800)]),
            // The second heard to 28.2 s: the sentence after it was left out.
            worded(12_250, &[(12_250, 20_000), (20_100, 28_172)]),
        ];
        assert_eq!(
            unheard_regions(&chunk, &heard),
            [(at(28_172), at(32_000)), (at(34_000), at(36_000))]
        );
        // Heard in full: nothing to decode again.
        let full = [
            heard[0].clone(),
            worded(12_250, &[(12_250, 20_000), (20_100, 31_700)]),
            worded(34_250, &[(34_250, 35_700)]),
        ];
        assert!(unheard_regions(&chunk, &full).is_empty());
        // A stretch without words between two words is speech left out as well.
        let gap = [
            heard[0].clone(),
            worded(12_250, &[(12_250, 14_000), (18_000, 31_700)]),
            full[2].clone(),
        ];
        assert_eq!(unheard_regions(&chunk, &gap), [(at(14_000), at(18_000))]);
    }
}
