//! How well a given text fits a stretch of audio: Whisper's log-probability of that text as the
//! transcript, by forced decoding.
//!
//! Decoding answers "what is most likely said here"; a verdict often needs the other question,
//! "could *this* have been said here". A disclosure read on a codec-degraded line comes back as
//! "l'appétulatif écrit" where the script says "récapitulatif écrit": the text alone cannot tell
//! a garbled disclosure from another sentence, but the model can say how much less likely the
//! script's words are than its own reading of the same audio. The service compares the two
//! (see `callproof_verify::script_readings`) and only ever uses the answer to clear a doubt,
//! never to accuse.

use crate::engine::{audio_ctx, Engine, EngineError, SAMPLE_RATE};
use whisper_rs::{FullParams, SamplingStrategy};

/// One text scored against the audio.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingScore {
    /// The text scored.
    pub text: String,
    /// Sum of the natural-log probabilities of the text's tokens and of the end of the
    /// transcript after them.
    pub logprob: f32,
    /// Tokens scored (the text's, plus the end of the transcript).
    pub tokens: usize,
    /// Each word of the text (split at spaces, as Whisper's tokens start words) with the mean
    /// probability (0..1) of its tokens.
    pub words: Vec<(String, f32)>,
}

impl ReadingScore {
    /// Mean log-probability per token: comparable between texts of different lengths.
    pub fn mean(&self) -> f32 {
        self.logprob / self.tokens.max(1) as f32
    }
}

/// Tokens the model's own hearing of a stretch may take (a loop stops there).
const MAX_OWN_TOKENS: usize = 200;

/// Audio scored at most, in milliseconds: one Whisper window, less a margin.
pub const MAX_SCORED_MS: u64 = 29_000;

fn log_softmax_at(logits: &[f32], token: usize) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|l| (l - max).exp()).sum();
    logits
        .get(token)
        .map_or(f32::NEG_INFINITY, |l| l - max - sum.ln())
}

impl Engine {
    /// Scores each of `texts` as the transcript of `samples[from_ms..to_ms]` (16 kHz, the
    /// channel's clock; at most [`MAX_SCORED_MS`]): the audio is encoded once and each text
    /// decoded token by token under the model, without prompt, so that only the audio and the
    /// language speak for it. Texts sharing a beginning share its decoding.
    pub fn score_readings(
        &self,
        samples: &[f32],
        window: (u64, u64),
        language: &str,
        texts: &[&str],
        threads: usize,
    ) -> Result<Vec<ReadingScore>, EngineError> {
        let owned: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
        let (_, scores) =
            self.weigh_readings(samples, window, language, threads, false, &|_| {
                owned.clone()
            })?;
        Ok(scores)
    }

    /// What the model hears in `samples[from_ms..to_ms]` by itself (greedy decoding as the first
    /// pass decodes: no prompt, the stretch alone), with its score, and the
    /// scores of the texts `readings` makes from that hearing. Comparing a reading against the
    /// model's own best, on the same audio, tells how much the audio speaks against it.
    pub fn weigh_readings(
        &self,
        samples: &[f32],
        (from_ms, to_ms): (u64, u64),
        language: &str,
        threads: usize,
        listen_first: bool,
        readings: &dyn Fn(&str) -> Vec<String>,
    ) -> Result<(Option<ReadingScore>, Vec<ReadingScore>), EngineError> {
        self.check_language(language)?;
        let err = |what: &str, e: whisper_rs::WhisperError| {
            EngineError::Inference(format!("scoring a reading ({what}): {e:?}"))
        };
        let at = |ms: u64| ((ms * SAMPLE_RATE / 1000) as usize).min(samples.len());
        let to_ms = to_ms.min(from_ms + MAX_SCORED_MS);
        let clip = &samples[at(from_ms)..at(to_ms).max(at(from_ms))];
        if (clip.len() as u64) < SAMPLE_RATE / 10 {
            return Err(EngineError::Inference(format!(
                "scoring a reading: {from_ms}-{to_ms} ms holds less than 100 ms of audio"
            )));
        }
        let ctx = self.context();
        let mut state = ctx.create_state().map_err(|e| err("state", e))?;
        let threads = threads.max(1);
        // The model's own hearing, decoded as the first pass decodes a chunk (greedy, the
        // stretch alone in a window cut to its length plus a second): this also leaves the
        // stretch encoded in `state`, in the same window, for the readings to be scored against.
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(threads as i32);
        params.set_language(Some(language));
        params.set_translate(false);
        params.set_no_context(true);
        params.set_single_segment(true);
        params.set_audio_ctx(audio_ctx(clip.len()));
        params.set_max_tokens(if listen_first {
            MAX_OWN_TOKENS as i32
        } else {
            1
        });
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        state
            .full(params, clip)
            .map_err(|e| err("own hearing", e))?;
        let own_text: Option<String> = listen_first.then(|| {
            state
                .as_iter()
                .map(|seg| {
                    seg.to_str_lossy()
                        .map(|t| t.to_string())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(" ")
                .trim()
                .to_string()
        });
        let lang = whisper_rs::get_lang_id(language)
            .ok_or_else(|| EngineError::Language(language.to_string()))?;
        let mut prefix = vec![ctx.token_sot()];
        if ctx.is_multilingual() {
            prefix.push(ctx.token_lang(lang));
            prefix.push(ctx.token_transcribe());
        }
        prefix.push(ctx.token_not());
        let eot = ctx.token_eot();
        // One token at a time: whisper.cpp keeps the logits of a batch's last token only, and
        // `get_logits` reads the first row.
        let feed_prefix = |state: &mut whisper_rs::WhisperState| -> Result<(), EngineError> {
            for (i, t) in prefix.iter().enumerate() {
                state
                    .decode(std::slice::from_ref(t), i, threads)
                    .map_err(|e| err("decoder", e))?;
            }
            Ok(())
        };

        let mut texts: Vec<String> = own_text.iter().cloned().collect();
        texts.extend(readings(own_text.as_deref().unwrap_or("")));

        let mut out = Vec::with_capacity(texts.len());
        // The sequence whose keys and values the state holds, and the log-probability of each
        // of its tokens given the ones before.
        let mut held: Vec<i32> = Vec::new();
        let mut held_lp: Vec<f32> = Vec::new();
        for text in &texts {
            let clean: String = text.chars().filter(|c| *c != '\0').collect();
            let mut tokens = ctx
                .tokenize(&format!(" {}", clean.trim()), 1024)
                .map_err(|e| err("tokens", e))?;
            tokens.push(eot);
            let shared = held.iter().zip(&tokens).take_while(|(a, b)| a == b).count();
            let mut lps: Vec<f32> = held_lp[..shared].to_vec();
            // The logits for token `shared` come from decoding the token before it (or the
            // prefix, for the first).
            for i in shared..tokens.len() {
                if i == 0 {
                    feed_prefix(&mut state)?;
                } else {
                    state
                        .decode(&tokens[i - 1..i], prefix.len() + i - 1, threads)
                        .map_err(|e| err("decoder", e))?;
                }
                let logits = state.get_logits().map_err(|e| err("logits", e))?;
                lps.push(log_softmax_at(logits, tokens[i] as usize));
            }
            // What the state holds now: the tokens decoded, up to the last one fed.
            held = tokens[..tokens.len() - 1].to_vec();
            held_lp = lps.clone();

            // Bytes, not text: a token may hold half of an accented letter.
            let mut words: Vec<(Vec<u8>, f32, u32)> = Vec::new();
            for (&t, &lp) in tokens.iter().zip(&lps) {
                if t >= eot {
                    continue;
                }
                let piece = ctx.token_to_bytes(t).unwrap_or_default();
                match words.last_mut() {
                    Some(w) if piece.first() != Some(&b' ') => {
                        w.0.extend_from_slice(piece);
                        w.1 += lp.exp();
                        w.2 += 1;
                    }
                    _ => words.push((piece.to_vec(), lp.exp(), 1)),
                }
            }
            out.push(ReadingScore {
                text: clean.trim().to_string(),
                logprob: lps.iter().sum(),
                tokens: lps.len(),
                words: words
                    .into_iter()
                    .map(|(w, p, n)| (String::from_utf8_lossy(&w).trim().to_string(), p / n as f32))
                    .filter(|w| !w.0.is_empty())
                    .collect(),
            });
        }
        let own_score = if own_text.is_some() && !out.is_empty() {
            Some(out.remove(0))
        } else {
            None
        };
        Ok((own_score, out))
    }
}
