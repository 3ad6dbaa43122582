//! Finding speech in a channel before Whisper sees it.
//!
//! Each channel of a two-party call is silent about half of the time. Fed silence, Whisper
//! invents text ("(C'est un peu tard)" repeated) and its timestamps drift. So speech regions are
//! found with earshot's neural voice-activity detector, only those regions are given to the
//! model (packed into [`Chunk`]s of joined regions with short pauses between them), and every
//! time is mapped back to the channel's clock through each chunk's [`TimeMap`].

/// earshot works on 16 ms frames at 16 kHz.
const FRAME: usize = 256;
const RATE: usize = 16_000;

/// Tuning of speech detection, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct SpeechOptions {
    /// Frame score at or above which a frame is speech.
    pub threshold: f32,
    /// Shorter bursts are ignored (clicks, breaths).
    pub min_speech_ms: usize,
    /// Pauses shorter than this stay inside one region.
    pub min_silence_ms: usize,
    /// Audio kept on each side of a region, so word onsets and endings are not clipped.
    pub pad_ms: usize,
}

impl Default for SpeechOptions {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            min_speech_ms: 200,
            min_silence_ms: 600,
            pad_ms: 250,
        }
    }
}

/// Speech regions of a 16 kHz channel, as sample ranges, sorted and disjoint.
pub fn speech_regions(samples: &[f32], opts: &SpeechOptions) -> Vec<(usize, usize)> {
    let mut detector = earshot::Detector::default();
    let ms = |v: usize| v * RATE / 1000;
    let mut raw: Vec<(usize, usize)> = Vec::new();
    let mut frame = [0f32; FRAME];
    for (i, chunk) in samples.chunks(FRAME).enumerate() {
        // Resampling can overshoot full scale slightly; the detector requires [-1, 1].
        for (dst, src) in frame.iter_mut().zip(chunk) {
            *dst = src.clamp(-1.0, 1.0);
        }
        frame[chunk.len()..].fill(0.0);
        if detector.predict_f32(&frame) >= opts.threshold {
            let (s, e) = (i * FRAME, i * FRAME + chunk.len());
            match raw.last_mut() {
                Some(last) if last.1 == s => last.1 = e,
                _ => raw.push((s, e)),
            }
        }
    }
    // Join regions separated by short pauses, then drop bursts too short to be words.
    let mut joined: Vec<(usize, usize)> = Vec::new();
    for r in raw {
        match joined.last_mut() {
            Some(last) if r.0 - last.1 < ms(opts.min_silence_ms) => last.1 = r.1,
            _ => joined.push(r),
        }
    }
    let pad = ms(opts.pad_ms);
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (s, e) in joined {
        if e - s < ms(opts.min_speech_ms) {
            continue;
        }
        let (s, e) = (s.saturating_sub(pad), (e + pad).min(samples.len()));
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = e,
            _ => out.push((s, e)),
        }
    }
    out
}

/// Samples per frame of [`Loudness`]: 20 ms.
pub const LEVEL_FRAME: usize = RATE / 50;

/// Level (dB) above the channel's background at which a frame is loud enough to be speech.
const LOUD_OVER_FLOOR_DB: f32 = 6.0;

/// A channel's loudness in the speech band, measured once and used twice: to trim speech
/// regions before Whisper hears them ([`Loudness::trim`]) and to drop text it decoded from
/// line noise afterwards.
pub struct Loudness {
    /// The level of each 20 ms frame in dBFS. The signal is pre-emphasised first
    /// (y = x[n] - 0.97 x[n-1]): line rumble and brown noise carry their power below the
    /// 300-3400 Hz a telephone voice uses, and would otherwise look as loud as it.
    pub levels: Vec<f32>,
    /// The channel's background: its quietest tenth of frames, at least -70 dBFS (digital
    /// silence would make any click look like speech).
    pub floor: f32,
    samples: usize,
}

impl Loudness {
    /// `None` for an empty channel.
    pub fn of(samples: &[f32]) -> Option<Self> {
        let mut prev = 0.0f32;
        let emphasised: Vec<f32> = samples
            .iter()
            .map(|&x| {
                let y = x - 0.97 * prev;
                prev = x;
                y
            })
            .collect();
        let levels: Vec<f32> = emphasised
            .chunks(LEVEL_FRAME)
            .map(|frame| {
                let power = frame.iter().map(|x| x * x).sum::<f32>() / frame.len().max(1) as f32;
                10.0 * power.max(1e-12).log10()
            })
            .collect();
        let mut sorted = levels.clone();
        sorted.sort_by(f32::total_cmp);
        let floor = sorted.get(sorted.len() / 10)?.max(-70.0);
        Some(Self {
            levels,
            floor,
            samples: samples.len(),
        })
    }

    /// Trims speech regions to their loud parts. The neural detector takes brown noise and
    /// line hiss for speech: a customer's channel came out as one 7 s region holding a single
    /// "Bonjour" at its end, and Whisper, given 6 s of noise before the word, invented the rest
    /// of the customer's answers there. Within each region, only stretches louder than the
    /// channel's background by [`LOUD_OVER_FLOOR_DB`] are kept, joined and padded as regions
    /// are. A region with no such stretch (a quiet voice on a noisy line, where loudness tells
    /// nothing) is kept whole: the recogniser's own no-speech judgement decides there.
    pub fn trim(&self, regions: &[(usize, usize)], opts: &SpeechOptions) -> Vec<(usize, usize)> {
        const F: usize = LEVEL_FRAME;
        let levels = &self.levels;
        let ms = |v: usize| v * RATE / 1000;
        let mut out: Vec<(usize, usize)> = Vec::new();
        for &(start, end) in regions {
            let (first, last) = (start / F, end.div_ceil(F).min(levels.len()));
            let mut runs: Vec<(usize, usize)> = Vec::new();
            for (i, level) in levels[first.min(last)..last].iter().enumerate() {
                if *level < self.floor + LOUD_OVER_FLOOR_DB {
                    continue;
                }
                let (s, e) = ((first + i) * F, ((first + i + 1) * F).min(self.samples));
                match runs.last_mut() {
                    Some(last) if s - last.1 < ms(opts.min_silence_ms) => last.1 = e,
                    _ => runs.push((s, e)),
                }
            }
            runs.retain(|(s, e)| e - s >= ms(opts.min_speech_ms) / 2);
            if runs.is_empty() {
                out.push((start, end));
                continue;
            }
            for (s, e) in runs {
                let pad = ms(opts.pad_ms);
                let (s, e) = (s.saturating_sub(pad).max(start), (e + pad).min(end));
                match out.last_mut() {
                    Some(last) if s <= last.1 => last.1 = last.1.max(e),
                    _ => out.push((s, e)),
                }
            }
        }
        out
    }
}

/// Maps times in the joined speech stream back to the original channel.
#[derive(Debug, Clone)]
pub struct TimeMap {
    /// (start in joined stream, start in channel, length), in samples.
    spans: Vec<(usize, usize, usize)>,
}

impl TimeMap {
    /// Milliseconds in the joined stream → milliseconds in the channel.
    pub fn to_channel_ms(&self, joined_ms: u64) -> u64 {
        let t = joined_ms as usize * RATE / 1000;
        // The span containing t, or the next one if t falls in an inserted pause.
        let span = self
            .spans
            .iter()
            .find(|(js, _, len)| t < js + len)
            .or(self.spans.last());
        match span {
            Some(&(js, cs, len)) => {
                let within = t.saturating_sub(js).min(len);
                ((cs + within) * 1000 / RATE) as u64
            }
            None => joined_ms,
        }
    }
}

impl TimeMap {
    /// Which joined region a time (ms, joined stream) falls in: the next one when it falls in
    /// an inserted pause.
    fn span_index(&self, joined_ms: u64) -> usize {
        let t = joined_ms as usize * RATE / 1000;
        self.spans
            .iter()
            .position(|(js, _, len)| t < js + len)
            .unwrap_or(self.spans.len().saturating_sub(1))
    }

    /// A word's onset (ms, joined stream), given its end (`end_ms`, the time Whisper's
    /// alignment gives the token after it) and Whisper's own timestamp for it (`stamp_ms`):
    /// where onset and end fall in different regions, the word begins in the region of the
    /// stamp, at that region's start if that is later than the onset. Each of the three alone
    /// misplaced words across turns on the benchmark calls: the onset put a turn's first word
    /// in the turn before, the end put a turn's last word in the turn after.
    pub fn onset_within(&self, onset_ms: u64, end_ms: u64, stamp_ms: u64) -> u64 {
        let (a, b) = (self.span_index(onset_ms), self.span_index(end_ms));
        let c = self.span_index(stamp_ms).min(b);
        match self.spans.get(c) {
            Some(&(js, _, _)) if a < b && a < c => (js * 1000 / RATE) as u64,
            _ => onset_ms,
        }
    }
}

/// The silence put between two joined regions, so words of separate turns do not run
/// together: the real silence between them, held between `min_ms` and `max_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinPause {
    min_ms: usize,
    max_ms: usize,
}

impl JoinPause {
    /// 300 ms whatever the real silence. An agent's regions are mostly one long turn cut at
    /// breaths: on the 43 benchmark calls a longer pause there raised the agent's word error
    /// rate (22.3 % to 22.7 %) and the time the ingest took (by a quarter).
    pub const SHORT: JoinPause = JoinPause {
        min_ms: 300,
        max_ms: 300,
    };
    /// The real silence, from 300 ms up to 1 s. A customer's regions are short answers with
    /// the agent's speech between them; run together 300 ms apart, Whisper read "Hi." and the
    /// next answer as one sentence and garbled both (customer word error rate on calls nobody
    /// tuned on: 39.4 % with 300 ms, 27.3 % with the real silence; 16.2 % and 14.0 % on a
    /// second such set).
    pub const NATURAL: JoinPause = JoinPause {
        min_ms: 300,
        max_ms: 1000,
    };

    /// Samples of silence between two regions `gap` samples apart in the channel.
    fn samples(self, gap: usize) -> usize {
        gap.clamp(self.min_ms * RATE / 1000, self.max_ms * RATE / 1000)
    }
}

/// Joins the speech regions of `samples` into one stream, with its time map.
fn join_regions(
    samples: &[f32],
    regions: &[(usize, usize)],
    pause: JoinPause,
) -> (Vec<f32>, TimeMap) {
    let gaps = |i: usize| -> usize {
        match i {
            0 => 0,
            _ => pause.samples(regions[i].0.saturating_sub(regions[i - 1].1)),
        }
    };
    let total: usize = (0..regions.len())
        .map(|i| regions[i].1 - regions[i].0 + gaps(i))
        .sum();
    let mut joined = Vec::with_capacity(total);
    let mut spans = Vec::with_capacity(regions.len());
    for (i, &(s, e)) in regions.iter().enumerate() {
        joined.extend(std::iter::repeat_n(0.0, gaps(i)));
        spans.push((joined.len(), s, e - s));
        joined.extend_from_slice(&samples[s..e]);
    }
    (joined, TimeMap { spans })
}

/// Longest stretch of audio given to Whisper at once, in milliseconds: one 30 s window less a
/// margin, so each chunk is decoded in a single window encoded at its own length. Shorter chunks
/// are cheaper (attention grows with the square of the length) but Whisper hears worse with less
/// context: on the benchmark calls (base q8_0, 2 threads) 14 s chunks took about 15 % less time
/// than 28 s ones at 21.1 % word error rate instead of 19.2 %; 20 and 24 s ones were no faster
/// than 28 s within this machine's noise. Evidence needs the words more than the seconds.
pub const MAX_CHUNK_MS: usize = 28_000;

/// A piece of a channel's speech given to Whisper in one go.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// The speech regions of the piece, joined with the pauses of `pause`.
    pub samples: Vec<f32>,
    /// Maps times in `samples` back to the channel.
    pub map: TimeMap,
    /// The regions it holds, as sample ranges of the channel.
    pub regions: Vec<(usize, usize)>,
    /// The pause its regions were joined with, to pack them again the same way.
    pub pause: JoinPause,
}

/// Packs speech regions into chunks of at most `max_ms` (pauses between regions included), in
/// order. A region longer than that is cut at its quietest moment first (see
/// [`split_long_region`]), so no chunk needs a second decoding window.
pub fn pack_chunks(
    samples: &[f32],
    regions: &[(usize, usize)],
    max_ms: usize,
    pause: JoinPause,
) -> Vec<Chunk> {
    let max = max_ms * RATE / 1000;
    let pieces: Vec<(usize, usize)> = regions
        .iter()
        .flat_map(|&r| split_long_region(samples, r, max))
        .collect();
    let mut groups: Vec<Vec<(usize, usize)>> = Vec::new();
    let mut len = 0;
    for piece in pieces {
        let piece_len = piece.1 - piece.0;
        let joined_len = groups
            .last()
            .and_then(|group| group.last())
            .map(|last| len + pause.samples(piece.0.saturating_sub(last.1)) + piece_len)
            .filter(|&n| n <= max);
        match (joined_len, groups.last_mut()) {
            (Some(n), Some(group)) => {
                group.push(piece);
                len = n;
            }
            _ => {
                groups.push(vec![piece]);
                len = piece_len;
            }
        }
    }
    groups
        .into_iter()
        .map(|regions| {
            let (samples, map) = join_regions(samples, &regions, pause);
            Chunk {
                samples,
                map,
                regions,
                pause,
            }
        })
        .collect()
}

/// Cuts a region longer than `max` samples into pieces of at most `max`, each cut at the
/// quietest 100 ms in the second half of the allowed length, where a pause between words is
/// most likely; cutting blindly at `max` would split a word between two chunks.
fn split_long_region(
    samples: &[f32],
    (start, end): (usize, usize),
    max: usize,
) -> Vec<(usize, usize)> {
    let window = RATE / 10;
    let hop = RATE / 50;
    let mut pieces = Vec::new();
    let mut s = start;
    while end - s > max {
        let (lo, hi) = (s + max / 2, s + max - window);
        let energy = |at: usize| samples[at..at + window].iter().map(|x| x * x).sum::<f32>();
        let quietest = (lo..=hi)
            .step_by(hop)
            .min_by(|&a, &b| energy(a).total_cmp(&energy(b)))
            .unwrap_or(hi);
        let cut = quietest + window / 2;
        pieces.push((s, cut));
        s = cut;
    }
    pieces.push((s, end));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overshooting_samples_are_accepted() {
        let loud: Vec<f32> = (0..RATE)
            .map(|i| if i % 2 == 0 { 1.2 } else { -1.3 })
            .collect();
        let _ = speech_regions(&loud, &SpeechOptions::default());
    }

    #[test]
    fn silence_has_no_speech() {
        let silence = vec![0.0f32; RATE * 5];
        assert!(speech_regions(&silence, &SpeechOptions::default()).is_empty());
    }

    #[test]
    fn regions_are_packed_into_chunks_of_at_most_the_limit() {
        let samples = vec![0.0f32; RATE * 120];
        let regions = [
            (RATE, 11 * RATE),
            (12 * RATE, 20 * RATE),
            (21 * RATE, 31 * RATE),
            (40 * RATE, 41 * RATE),
        ];
        let chunks = pack_chunks(&samples, &regions, 20_000, JoinPause::SHORT);
        let held: Vec<Vec<(usize, usize)>> = chunks.iter().map(|c| c.regions.clone()).collect();
        // 10 s + 0.3 s + 8 s fits in 20 s; the third region would not.
        assert_eq!(
            held,
            vec![vec![regions[0], regions[1]], vec![regions[2], regions[3]],]
        );
        assert_eq!(chunks[0].samples.len(), 18 * RATE + 300 * RATE / 1000);
        assert_eq!(chunks[1].map.to_channel_ms(10_500), 40_200);
    }

    #[test]
    fn long_regions_are_cut_at_their_quietest_moment() {
        // 40 s of tone with a 200 ms pause at 17 s.
        let mut samples: Vec<f32> = (0..RATE * 40)
            .map(|i| (i as f32 * 0.05).sin() * 0.5)
            .collect();
        samples[17 * RATE..17 * RATE + RATE / 5].fill(0.0);
        let chunks = pack_chunks(&samples, &[(0, samples.len())], 28_000, JoinPause::SHORT);
        assert_eq!(chunks.len(), 2);
        let cut = chunks[0].regions[0].1;
        assert!(
            (17 * RATE..17 * RATE + RATE / 5).contains(&cut),
            "cut at {cut}"
        );
        assert_eq!(chunks[1].regions, vec![(cut, samples.len())]);
        assert!(chunks.iter().all(|c| c.samples.len() <= 28 * RATE));
    }

    #[test]
    fn regions_are_trimmed_to_speech_louder_than_the_line() {
        // Hiss at -45 dBFS all along, a "word" at -20 dBFS from 6 to 7 s: a detector region
        // covering 0.5-7.5 s keeps only the word, padded.
        let mut state = 1u32;
        let mut samples: Vec<f32> = (0..RATE * 10)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((state >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.02
            })
            .collect();
        for (i, s) in samples[6 * RATE..7 * RATE].iter_mut().enumerate() {
            *s += (i as f32 * 0.4).sin() * 0.14; // 1 kHz, in the speech band
        }
        let opts = SpeechOptions::default();
        let trimmed = Loudness::of(&samples)
            .unwrap()
            .trim(&[(RATE / 2, 7 * RATE + RATE / 2)], &opts);
        assert_eq!(trimmed.len(), 1, "{trimmed:?}");
        let (s, e) = trimmed[0];
        assert!((5 * RATE + RATE / 2..6 * RATE).contains(&s), "{s}");
        assert!((7 * RATE..=7 * RATE + RATE / 2).contains(&e), "{e}");
        // No contrast at all: the region stays whole.
        let flat = vec![0.01f32; RATE * 4];
        assert_eq!(
            Loudness::of(&flat).unwrap().trim(&[(0, 3 * RATE)], &opts),
            vec![(0, 3 * RATE)]
        );
    }

    #[test]
    fn time_map_restores_channel_times() {
        let samples = vec![0.0f32; RATE * 20];
        // Speech at 2–4 s and 10–11 s.
        let regions = [(2 * RATE, 4 * RATE), (10 * RATE, 11 * RATE)];
        let (joined, map) = join_regions(&samples, &regions, JoinPause::SHORT);
        assert_eq!(joined.len(), 3 * RATE + 300 * RATE / 1000);
        assert_eq!(map.to_channel_ms(0), 2000);
        assert_eq!(map.to_channel_ms(1500), 3500);
        // Inside the inserted pause: snapped to the next region's start.
        assert_eq!(map.to_channel_ms(2100), 10_000);
        assert_eq!(map.to_channel_ms(2300 + 500), 10_500);
    }

    #[test]
    fn a_word_across_two_turns_goes_where_its_timestamp_puts_it() {
        let samples = vec![0.0f32; RATE * 20];
        // Two turns, joined: 0–2000 ms and, after the 300 ms pause, 2300–3300 ms.
        let regions = [(2 * RATE, 4 * RATE), (10 * RATE, 11 * RATE)];
        let (_, map) = join_regions(&samples, &regions, JoinPause::SHORT);
        // Onset at the end of the first turn, end and stamp in the second: the second turn's
        // first word, from that turn's start.
        assert_eq!(map.onset_within(1900, 2600, 2500), 2300);
        assert_eq!(
            map.to_channel_ms(map.onset_within(1900, 2600, 2500)),
            10_000
        );
        // A stamp in the pause counts for the turn after it.
        assert_eq!(map.onset_within(1900, 2600, 2100), 2300);
        // The stamp in the first turn: its last word, whose end ran over.
        assert_eq!(map.onset_within(1700, 2600, 1750), 1700);
        // Onset and end in one turn, or an onset in the pause: kept.
        assert_eq!(map.onset_within(500, 900, 2500), 500);
        assert_eq!(map.onset_within(2100, 2600, 2500), 2100);
        // An end before its onset never moves the onset.
        assert_eq!(map.onset_within(2400, 1900, 1900), 2400);
    }

    #[test]
    fn turns_far_apart_are_joined_with_their_own_silence_up_to_a_second() {
        let samples = vec![0.0f32; RATE * 30];
        // Turns at 1-2 s, 2.5-3 s (500 ms later) and 10-11 s (7 s later).
        let regions = [
            (RATE, 2 * RATE),
            (5 * RATE / 2, 3 * RATE),
            (10 * RATE, 11 * RATE),
        ];
        let (joined, map) = join_regions(&samples, &regions, JoinPause::NATURAL);
        // 1 s + 500 ms + 0.5 s + 1 s (held at a second) + 1 s.
        assert_eq!(joined.len(), 4 * RATE);
        assert_eq!(map.to_channel_ms(1_600), 2_600);
        assert_eq!(map.to_channel_ms(3_500), 10_500);
        // Inside a pause: the next turn's start.
        assert_eq!(map.to_channel_ms(2_400), 10_000);
        // Packing counts the same pauses: 2.5 s of speech and 1.5 s of silence fit in 4.5 s,
        // not in 3.9 s.
        let chunks = pack_chunks(&samples, &regions, 4_500, JoinPause::NATURAL);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].samples.len(), 4 * RATE);
        assert_eq!(chunks[0].pause, JoinPause::NATURAL);
        let chunks = pack_chunks(&samples, &regions, 3_900, JoinPause::NATURAL);
        assert_eq!(chunks.len(), 2);
        // Pieces of one region cut for length are joined with the shortest pause.
        let (joined, _) =
            join_regions(&samples, &[(0, RATE), (RATE, 2 * RATE)], JoinPause::NATURAL);
        assert_eq!(joined.len(), 2 * RATE + 300 * RATE / 1000);
    }
}
