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

use crate::engine::{audio_ctx, find_loop, plain, window_of, Engine, EngineError, SAMPLE_RATE};
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
    /// False where scoring stopped once the text had fallen further behind the model's own
    /// hearing than [`Listening::score`] was told to follow it: `logprob` is then what it had
    /// reached by that token, more than its whole could be (every token adds a log-probability
    /// of at most 0), and `words` and `tokens` cover as far as it got. False too where the
    /// rest of a reading, heard freely ([`REST_SLOT`]), never came to an end: a decoder that
    /// loops ("1 euros sur 1,5 euros sur 1,5 euros sur…") adds tokens at almost no cost, and
    /// such a reading outscored the model's own hearing of the stretch by 16 nats.
    pub complete: bool,
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

pub use callproof_models::{NUMBER_SLOT, REST_SLOT};

/// Tokens the rest of a reading takes at most.
const MAX_REST_TOKENS: usize = 120;

/// Digit tokens a number slot takes at most.
const MAX_NUMBER_TOKENS: usize = 4;

/// The model's own hearing of a stretch, from which the readings are made.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnHearing<'a> {
    pub text: &'a str,
    /// For each word of `text` (split at spaces), the log-probability of the likeliest number
    /// beginning in its place: where a number may have been said.
    pub number_here: Vec<f32>,
    /// For each word, how far (nats, at most 0) that number falls behind the likeliest token
    /// there: what a reading that puts a number in that place loses at that token against the
    /// hearing left free, before anything it could gain after.
    pub number_behind: Vec<f32>,
}

/// The tokens a reading's slots may draw on: digits beginning a word and digits going on (a
/// number slot), and every text token (the free rest).
struct SlotTokens {
    word_start: Vec<i32>,
    inner: Vec<i32>,
    /// Every text token (the rest of a reading takes any).
    text: Vec<i32>,
}

impl SlotTokens {
    fn of(ctx: &whisper_rs::WhisperContext, eot: i32) -> Self {
        let mut out = SlotTokens {
            word_start: Vec::new(),
            inner: Vec::new(),
            text: (0..eot).collect(),
        };
        for t in 0..eot {
            let Ok(bytes) = ctx.token_to_bytes(t) else {
                continue;
            };
            let all_digits = |b: &[u8]| !b.is_empty() && b.iter().all(u8::is_ascii_digit);
            match bytes.strip_prefix(b" ") {
                Some(rest) if all_digits(rest) => out.word_start.push(t),
                None if all_digits(bytes) => out.inner.push(t),
                _ => {}
            }
        }
        out
    }
}

/// A reading as the decoder takes it: words, or a number for the model to choose.
enum Piece {
    Tokens(Vec<i32>),
    Number,
    /// The rest as the model hears it (greedy), given what came before.
    Rest,
}

/// Log-probabilities over the vocabulary from one step's logits.
struct LogSoftmax<'a> {
    logits: &'a [f32],
    shift: f32,
}

impl<'a> LogSoftmax<'a> {
    fn new(logits: &'a [f32]) -> Self {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f32 = logits.iter().map(|l| (l - max).exp()).sum();
        LogSoftmax {
            logits,
            shift: max + sum.ln(),
        }
    }

    fn at(&self, token: i32) -> f32 {
        usize::try_from(token)
            .ok()
            .and_then(|t| self.logits.get(t))
            .map_or(f32::NEG_INFINITY, |l| l - self.shift)
    }

    /// The log-probability of the likeliest token.
    fn max(&self) -> f32 {
        self.logits
            .iter()
            .copied()
            .fold(f32::NEG_INFINITY, f32::max)
            - self.shift
    }

    /// The likeliest of `tokens` (-1 and minus infinity when there are none).
    fn best(&self, tokens: &[i32]) -> (i32, f32) {
        tokens
            .iter()
            .map(|&t| (t, self.at(t)))
            .fold(
                (-1, f32::NEG_INFINITY),
                |a, b| if b.1 > a.1 { b } else { a },
            )
    }
}

/// The decoder over one encoded stretch, fed one token at a time: whisper.cpp keeps the logits
/// of a batch's last token only, and `get_logits` reads the first row. Sequences sharing a
/// beginning share its decoding.
struct Decoder {
    state: whisper_rs::WhisperState,
    threads: usize,
    /// The sequence (prefix included) whose keys and values the state holds; its logits are
    /// those after the last token.
    fed: Vec<i32>,
}

impl Decoder {
    /// The logits of the token after `seq` (never empty: it starts with the prefix).
    fn logits_after(&mut self, seq: &[i32]) -> Result<&[f32], EngineError> {
        let common = self.fed.iter().zip(seq).take_while(|(a, b)| a == b).count();
        let start = if common == seq.len() && common == self.fed.len() {
            seq.len()
        } else {
            common.min(seq.len().saturating_sub(1))
        };
        for i in start..seq.len() {
            self.state
                .decode(&seq[i..=i], i, self.threads)
                .map_err(|e| err("decoder", e))?;
        }
        self.fed = seq.to_vec();
        self.state.get_logits().map_err(|e| err("logits", e))
    }
}

/// A whisper.cpp failure while scoring, saying at which step.
fn err(what: &str, e: whisper_rs::WhisperError) -> EngineError {
    EngineError::Inference(format!("scoring a reading ({what}): {e:?}"))
}

/// One stretch of a channel, encoded once, with the model's own hearing of it: texts are scored
/// against it one after another, as the caller decides what is worth scoring next (a number
/// reading's baseline only where a reading at its place was not given up).
pub struct Listening<'c> {
    ctx: &'c whisper_rs::WhisperContext,
    decoder: Decoder,
    prefix: Vec<i32>,
    eot: i32,
    slots: SlotTokens,
    own: Option<ReadingScore>,
    own_text: String,
    number_here: Vec<f32>,
    number_behind: Vec<f32>,
}

impl Listening<'_> {
    /// The model's own hearing's score (None unless it listened first).
    pub fn own(&self) -> Option<&ReadingScore> {
        self.own.as_ref()
    }

    /// The model's own hearing, from which readings are made.
    pub fn hearing(&self) -> OwnHearing<'_> {
        OwnHearing {
            text: &self.own_text,
            number_here: self.number_here.clone(),
            number_behind: self.number_behind.clone(),
        }
    }

    /// Scores `text` as the transcript of the stretch (a reading may hold [`NUMBER_SLOT`] and
    /// end in [`REST_SLOT`]). With `give_up_behind`, scoring stops once the text's tokens so
    /// far are less likely than the own hearing's whole by more than that (nats): no token
    /// after can bring it back, and a reading that far behind is refused anyway. Most readings
    /// are of words that were not said there, and each was weighed to the end of its window (a
    /// 29 s window, 130 tokens, for a phrasing read in at its start).
    pub fn score(
        &mut self,
        text: &str,
        give_up_behind: Option<f32>,
    ) -> Result<ReadingScore, EngineError> {
        let floor = self
            .own
            .as_ref()
            .zip(give_up_behind)
            .map(|(own, behind)| own.logprob - behind);
        self.score_text(text, None, floor, None)
    }

    /// As [`Listening::score`], for a reading that counts only where it is also at least as
    /// likely a token, on average, as `mean_at_least`: scoring stops as soon as its tokens so
    /// far fall under either bound, which no token after can undo (each adds a log-probability
    /// of at most 0, and a text without slots has as many tokens as it was written with).
    /// Readings over words heard with confidence are nearly all refused, and were scored
    /// until they fell the whole margin behind.
    pub fn score_as_likely(
        &mut self,
        text: &str,
        give_up_behind: f32,
        mean_at_least: f32,
    ) -> Result<ReadingScore, EngineError> {
        let floor = self.own.as_ref().map(|own| own.logprob - give_up_behind);
        self.score_text(text, None, floor, Some(mean_at_least))
    }

    /// `floor`: the log-probability under which scoring stops; `mean_at_least`: a mean
    /// log-probability a token under which, over a text of words only, scoring stops too;
    /// `number_here` gathers, at each word's first token, the likeliest number there and how
    /// far behind the likeliest token.
    fn score_text(
        &mut self,
        text: &str,
        number_here: Option<&mut Vec<(f32, f32)>>,
        floor: Option<f32>,
        mean_at_least: Option<f32>,
    ) -> Result<ReadingScore, EngineError> {
        let clean: String = text.chars().filter(|c| *c != '\0').collect();
        let mut pieces: Vec<Piece> = Vec::new();
        let (clean, rest) = match clean.split_once(REST_SLOT) {
            Some((head, _)) => (head.to_string(), true),
            None => (clean, false),
        };
        for (i, part) in clean.split(NUMBER_SLOT).enumerate() {
            if i > 0 {
                pieces.push(Piece::Number);
            }
            let part = part.trim();
            if !part.is_empty() {
                let tokens = self
                    .ctx
                    .tokenize(&format!(" {part}"), 1024)
                    .map_err(|e| err("tokens", e))?;
                pieces.push(Piece::Tokens(tokens));
            }
        }
        pieces.push(if rest {
            Piece::Rest
        } else {
            Piece::Tokens(vec![self.eot])
        });
        // A text of words only has as many tokens as it was written with (its end included):
        // its mean falls under `mean_at_least` once its sum falls under that many times it. A
        // hundredth of a nat of slack keeps rounding from refusing a reading exactly at par.
        let floor = match mean_at_least {
            Some(m) if pieces.iter().all(|p| matches!(p, Piece::Tokens(_))) => {
                let written: usize = pieces
                    .iter()
                    .map(|p| match p {
                        Piece::Tokens(t) => t.len(),
                        _ => 0,
                    })
                    .sum();
                let by_mean = m * written as f32 - 0.01;
                Some(floor.map_or(by_mean, |f| f.max(by_mean)))
            }
            _ => floor,
        };
        let mut number_here = number_here;
        let mut seq = self.prefix.clone();
        let mut lps: Vec<f32> = Vec::new();
        // The log-probability so far, against the floor.
        let mut sum = 0.0f32;
        let fallen = |sum: f32| floor.is_some_and(|f| sum < f);
        let mut complete = true;
        'pieces: for (k, piece) in pieces.iter().enumerate() {
            if fallen(sum) {
                complete = false;
                break 'pieces;
            }
            match piece {
                Piece::Tokens(tokens) => {
                    for &t in tokens {
                        let lp = LogSoftmax::new(self.decoder.logits_after(&seq)?);
                        if let Some(here) = number_here.as_deref_mut() {
                            if t < self.eot
                                && self.ctx.token_to_bytes(t).ok().and_then(|b| b.first())
                                    == Some(&b' ')
                            {
                                let number = lp.best(&self.slots.word_start).1;
                                here.push((number, number - lp.best(&self.slots.text).1));
                            }
                        }
                        lps.push(lp.at(t));
                        sum += lp.at(t);
                        seq.push(t);
                        if fallen(sum) {
                            complete = false;
                            break 'pieces;
                        }
                    }
                }
                Piece::Rest => {
                    // Up to the end of the transcript, which is scored too; a rest that does
                    // not end within MAX_REST_TOKENS is no hearing of the stretch.
                    complete = false;
                    for _ in 0..MAX_REST_TOKENS {
                        let lp = LogSoftmax::new(self.decoder.logits_after(&seq)?);
                        let (best, best_lp) = lp.best(&self.slots.text);
                        let end = lp.at(self.eot);
                        if best < 0 || end >= best_lp {
                            lps.push(end);
                            sum += end;
                            seq.push(self.eot);
                            complete = true;
                            break;
                        }
                        lps.push(best_lp);
                        sum += best_lp;
                        seq.push(best);
                        if fallen(sum) {
                            complete = false;
                            break 'pieces;
                        }
                    }
                }
                Piece::Number => {
                    // The digits the model finds most likely here, for as long as it finds
                    // another digit likelier than the words that follow the number.
                    let next = match pieces.get(k + 1) {
                        Some(Piece::Tokens(t)) => t.first().copied().unwrap_or(self.eot),
                        _ => self.eot,
                    };
                    for n in 0..MAX_NUMBER_TOKENS {
                        let lp = LogSoftmax::new(self.decoder.logits_after(&seq)?);
                        let allowed = if n == 0 {
                            &self.slots.word_start
                        } else {
                            &self.slots.inner
                        };
                        let (best, best_lp) = lp.best(allowed);
                        // A digit goes on a number only where the model would write one
                        // anyway ("100" then " and", not "100000").
                        if best < 0 || (n > 0 && (best_lp < lp.max() || lp.at(next) >= best_lp)) {
                            break;
                        }
                        lps.push(best_lp);
                        sum += best_lp;
                        seq.push(best);
                    }
                }
            }
        }
        let tokens = &seq[self.prefix.len()..];
        // Bytes, not text: a token may hold half of an accented letter.
        let mut words: Vec<(Vec<u8>, f32, u32)> = Vec::new();
        let mut bytes: Vec<u8> = Vec::new();
        for (&t, &lp) in tokens.iter().zip(&lps) {
            if t >= self.eot {
                continue;
            }
            let piece = self.ctx.token_to_bytes(t).unwrap_or_default();
            bytes.extend_from_slice(piece);
            match words.last_mut() {
                Some(w) if piece.first() != Some(&b' ') => {
                    w.0.extend_from_slice(piece);
                    w.1 += lp.exp();
                    w.2 += 1;
                }
                _ => words.push((piece.to_vec(), lp.exp(), 1)),
            }
        }
        Ok(ReadingScore {
            text: if rest || clean.contains(NUMBER_SLOT) {
                String::from_utf8_lossy(&bytes).trim().to_string()
            } else {
                clean.trim().to_string()
            },
            logprob: sum,
            tokens: lps.len(),
            complete,
            words: words
                .into_iter()
                .map(|(w, p, n)| (String::from_utf8_lossy(&w).trim().to_string(), p / n as f32))
                .filter(|w| !w.0.is_empty())
                .collect(),
        })
    }
}

/// `text` with each loop cut to one turn ("Yes, consent. Yes, consent. …" up to the token
/// limit, for a customer's "Yes, I accept"): the model's own hearing of a stretch is what
/// readings are made from and weighed against, and a loop is the decoder's, not the
/// speaker's (see `engine::find_loop`). Scored whole, every reading of a looped stretch
/// carried the loop: 14 readings of one 1.2 s answer took 42 s, and none could be read as
/// what was said.
fn one_turn(text: &str) -> String {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    loop {
        let plain_words: Vec<String> = words.iter().map(|w| plain(w)).collect();
        let Some((start, n, end)) = find_loop(&plain_words) else {
            break;
        };
        words.drain(start + n..end);
    }
    words.join(" ")
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

    /// What the model hears in `samples[from_ms..to_ms]` by itself (see [`Engine::listen`]),
    /// with its score, and the scores of the texts `readings` makes from that hearing.
    /// Comparing a reading against the model's own best, on the same audio, tells how much the
    /// audio speaks against it. A reading may hold [`NUMBER_SLOT`]: the model fills it with the
    /// digits it finds likeliest there, and the score's `text` shows them.
    pub fn weigh_readings(
        &self,
        samples: &[f32],
        window: (u64, u64),
        language: &str,
        threads: usize,
        listen_first: bool,
        readings: &dyn Fn(&OwnHearing<'_>) -> Vec<String>,
    ) -> Result<(Option<ReadingScore>, Vec<ReadingScore>), EngineError> {
        let mut listening = self.listen(samples, window, language, threads, listen_first)?;
        let texts = readings(&listening.hearing());
        let out = texts
            .iter()
            .map(|t| listening.score(t, None))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((listening.own, out))
    }

    /// Encodes `samples[from_ms..to_ms]` (at most [`MAX_SCORED_MS`]) for texts to be scored
    /// against it and, with `listen_first`, hears it first: greedy decoding, no prompt, the
    /// stretch alone, as the first pass decodes — or without timestamps where that hearing is
    /// likelier as the readings are scored.
    pub fn listen(
        &self,
        samples: &[f32],
        (from_ms, to_ms): (u64, u64),
        language: &str,
        threads: usize,
        listen_first: bool,
    ) -> Result<Listening<'_>, EngineError> {
        self.check_language(language)?;
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
        let clip = window_of(clip);
        params.set_audio_ctx(audio_ctx(clip.len()));
        // No fallback to sampling on garbled speech: a sampled hearing is a poor measure to
        // weigh readings against, and any reading would look good beside it.
        params.set_temperature_inc(0.0);
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
            .full(params, &clip)
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
        let own_text = own_text.map(|t| one_turn(&t));
        let lang = whisper_rs::get_lang_id(language)
            .ok_or_else(|| EngineError::Language(language.to_string()))?;
        let mut prefix = vec![ctx.token_sot()];
        if ctx.is_multilingual() {
            prefix.push(ctx.token_lang(lang));
            prefix.push(ctx.token_transcribe());
        }
        prefix.push(ctx.token_not());
        let eot = ctx.token_eot();
        let slots = SlotTokens::of(ctx, eot);
        let mut listening = Listening {
            ctx,
            decoder: Decoder {
                state,
                threads,
                fed: Vec::new(),
            },
            prefix,
            eot,
            slots,
            own: None,
            own_text: String::new(),
            number_here: Vec::new(),
            number_behind: Vec::new(),
        };
        let mut number_here: Vec<(f32, f32)> = Vec::new();
        let mut own_score = match &own_text {
            Some(text) => Some(listening.score_text(text, Some(&mut number_here), None, None)?),
            None => None,
        };
        // The first pass decodes with timestamps; the readings are scored without them, where
        // the same greedy decoding may hear the stretch otherwise and far likelier (by up to 70
        // nats on codec-degraded speech). Weighed against the poorer hearing, a reading of
        // words nobody said there looked better than the model's own ("de la part de" read
        // into a price at +10.5): the hearing readings are made from and weighed against is
        // the likelier of the two under the decoding that scores them.
        //
        // A decoding that stops early is likelier only for holding fewer words (a closing
        // "je note que vous êtes d'accord" left out): the free hearing counts only where it
        // holds about as many words as the first.
        if let Some((first, words)) = own_score
            .as_ref()
            .map(|s| (s.logprob, s.text.split_whitespace().count()))
        {
            let mut free = listening.score_text(REST_SLOT, None, None, None)?;
            free.text = one_turn(&free.text);
            let covers = free.text.split_whitespace().count() * 10 >= words * 9;
            if free.logprob > first && covers && !free.text.trim().is_empty() {
                let mut here = Vec::new();
                // Scored again as text (its tokens as the text splits), as readings are.
                let rescored = listening.score_text(&free.text, Some(&mut here), None, None)?;
                if rescored.logprob > first {
                    own_score = Some(rescored);
                    number_here = here;
                }
            }
        }
        let own_text = match (&own_score, own_text) {
            (Some(s), Some(_)) => s.text.clone(),
            (_, text) => text.unwrap_or_default(),
        };
        number_here.resize(
            own_text.split_whitespace().count(),
            (f32::NEG_INFINITY, f32::NEG_INFINITY),
        );
        let (number_here, number_behind) = number_here.into_iter().unzip();
        listening.own = own_score;
        listening.own_text = own_text;
        listening.number_here = number_here;
        listening.number_behind = number_behind;
        Ok(listening)
    }
}

#[cfg(test)]
mod tests {
    use super::one_turn;

    #[test]
    fn a_looped_own_hearing_keeps_one_turn() {
        let looped = "Yes, consent. ".repeat(30);
        assert_eq!(one_turn(&looped), "Yes, consent.");
        // A loop after other words keeps those words and one turn; words said twice are
        // speech, not a loop.
        assert_eq!(
            one_turn("I'll take it. Okay okay okay okay okay"),
            "I'll take it. Okay"
        );
        assert_eq!(one_turn("Yes, yes, I agree."), "Yes, yes, I agree.");
    }
}
