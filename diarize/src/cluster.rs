//! Who spoke when: speech regions, one embedding per short window, clustering into speakers,
//! and a speaker with a confidence for every 10 ms of speech.

use crate::encoder::EMBEDDING;
use crate::mel::{self, HOP, N_MELS};
use crate::SpeakerModel;

/// Tuning of diarization. The defaults were measured on the mono mixes of the stereo test
/// calls (BENCHMARKS.md, "Mono recordings").
#[derive(Debug, Clone)]
pub struct DiarizeOptions {
    /// Most speakers looked for (two parties, plus a supervisor or a third party).
    pub max_speakers: usize,
    /// A second speaker is accepted when its voice is less similar than this (cosine of
    /// centroids) to the first, however little it speaks: a customer may say only "non merci".
    /// Measured: two voices 0.65–0.80 (synthetic calls), 0.74–0.75 (real calls); one voice
    /// split in two 0.84–0.92.
    pub second_speaker_below: f32,
    /// A third or further speaker must be less similar than this to every other one, and speak
    /// at least `min_speaker_ms`.
    pub more_speakers_below: f32,
    /// In milliseconds.
    pub min_speaker_ms: u64,
    /// Window length and step, in 10 ms frames.
    pub window: usize,
    pub step: usize,
    /// A turn shorter than this inside one stretch of speech is merged into its neighbour.
    pub min_turn_ms: u64,
}

impl Default for DiarizeOptions {
    fn default() -> Self {
        Self {
            max_speakers: 4,
            second_speaker_below: 0.82,
            more_speakers_below: 0.82,
            min_speaker_ms: 4_000,
            window: 150,
            step: 50,
            min_turn_ms: 400,
        }
    }
}

/// One stretch of one speaker.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub start_ms: u64,
    pub end_ms: u64,
    /// Speakers are numbered in order of first speech: 0 spoke first.
    pub speaker: usize,
    /// 0..1: how much closer this stretch's voice is to its speaker than to any other.
    pub confidence: f32,
}

/// The result: turns in time order, and the per-frame labels they came from.
#[derive(Debug, Clone, Default)]
pub struct Diarization {
    pub speakers: usize,
    pub turns: Vec<Turn>,
    /// Per 10 ms frame: the speaker and confidence, or `None` outside speech.
    pub frames: Vec<Option<(usize, f32)>>,
    /// Cosine similarity between the two most alike speakers (1 when fewer than two).
    pub closest_speakers: f32,
}

impl Diarization {
    /// The speaker who holds most of `[start_ms, end_ms)`, with the mean confidence over that
    /// speaker's frames there. A span in silence takes the nearest speech within 500 ms.
    pub fn speaker_of(&self, start_ms: u64, end_ms: u64) -> Option<(usize, f32)> {
        let n = self.frames.len();
        if n == 0 {
            return None;
        }
        let a = ((start_ms / 10) as usize).min(n - 1);
        let b = ((end_ms.max(start_ms + 10) / 10) as usize).clamp(a + 1, n);
        let mut count = vec![(0usize, 0f32); self.speakers.max(1)];
        for (s, c) in self.frames[a..b].iter().flatten() {
            if let Some(slot) = count.get_mut(*s) {
                slot.0 += 1;
                slot.1 += c;
            }
        }
        let best = count
            .iter()
            .enumerate()
            .filter(|(_, c)| c.0 > 0)
            .max_by_key(|(_, c)| c.0);
        if let Some((s, (k, sum))) = best {
            let total: usize = count.iter().map(|c| c.0).sum();
            // A word shared between two speakers' frames is itself doubtful.
            let share = *k as f32 / total as f32;
            return Some((s, sum / *k as f32 * share));
        }
        for d in 1..=50usize {
            for i in [a.checked_sub(d), Some(b - 1 + d)].into_iter().flatten() {
                if let Some(Some((s, c))) = self.frames.get(i) {
                    return Some((*s, c * 0.5));
                }
            }
        }
        None
    }

    /// Total speech per speaker, in milliseconds.
    pub fn speech_ms(&self) -> Vec<u64> {
        let mut out = vec![0u64; self.speakers];
        for t in &self.turns {
            out[t.speaker] += t.end_ms - t.start_ms;
        }
        out
    }
}

/// Speech frames (10 ms) of a 16 kHz signal, by earshot's voice-activity detector.
pub fn speech_frames(samples: &[f32]) -> Vec<bool> {
    const FRAME: usize = 256;
    let mut detector = earshot::Detector::default();
    let mut scores = Vec::with_capacity(samples.len() / FRAME + 1);
    let mut frame = [0f32; FRAME];
    for chunk in samples.chunks(FRAME) {
        for (dst, src) in frame.iter_mut().zip(chunk) {
            *dst = src.clamp(-1.0, 1.0);
        }
        frame[chunk.len()..].fill(0.0);
        scores.push(detector.predict_f32(&frame));
    }
    let n = samples.len() / HOP + 1;
    (0..n)
        .map(|t| {
            let centre = t * HOP + HOP / 2;
            scores.get(centre / FRAME).is_some_and(|s| *s >= 0.5)
        })
        .collect()
}

/// Runs of `true` as frame ranges, pauses shorter than `join` frames bridged and runs shorter
/// than `min` frames dropped.
pub fn runs(mask: &[bool], join: usize, min: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut t = 0;
    while t < mask.len() {
        if !mask[t] {
            t += 1;
            continue;
        }
        let s = t;
        while t < mask.len() && mask[t] {
            t += 1;
        }
        match out.last_mut() {
            Some(last) if s - last.1 < join => last.1 = t,
            _ => out.push((s, t)),
        }
    }
    out.retain(|(s, e)| e - s >= min);
    out
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalise(v: &mut [f32]) {
    let n = dot(v, v).sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Spherical k-means from the given centroids, each point weighted.
fn kmeans(
    points: &[[f32; EMBEDDING]],
    weights: &[f32],
    mut centroids: Vec<Vec<f32>>,
) -> (Vec<Vec<f32>>, Vec<usize>) {
    let mut labels = vec![0usize; points.len()];
    for _ in 0..30 {
        let mut changed = false;
        for (i, p) in points.iter().enumerate() {
            let best = (0..centroids.len())
                .max_by(|a, b| dot(p, &centroids[*a]).total_cmp(&dot(p, &centroids[*b])))
                .unwrap_or(0);
            if labels[i] != best {
                labels[i] = best;
                changed = true;
            }
        }
        for (k, c) in centroids.iter_mut().enumerate() {
            let mut sum = vec![0f32; EMBEDDING];
            let mut any = false;
            for (i, p) in points.iter().enumerate().filter(|(i, _)| labels[*i] == k) {
                any = true;
                for (s, x) in sum.iter_mut().zip(p) {
                    *s += x * weights[i];
                }
            }
            if any {
                normalise(&mut sum);
                *c = sum;
            }
        }
        if !changed {
            break;
        }
    }
    (centroids, labels)
}

/// Diarizes a 16 kHz mono signal.
pub fn diarize(model: &SpeakerModel, samples: &[f32], opts: &DiarizeOptions) -> Diarization {
    let speech = speech_frames(samples);
    // Pauses under 0.2 s stay inside a stretch; bursts under 0.15 s are clicks.
    let regions = runs(&speech, 20, 15);
    if regions.is_empty() {
        return Diarization {
            frames: vec![None; speech.len()],
            closest_speakers: 1.0,
            ..Default::default()
        };
    }
    let mel = mel::mel_frames(samples).frames;
    // Windows over each stretch: the whole stretch when short, else overlapping windows.
    let mut windows: Vec<(usize, usize)> = Vec::new();
    for &(s, e) in &regions {
        let e = e.min(mel.len());
        if e <= s {
            continue;
        }
        if e - s <= opts.window + opts.step {
            windows.push((s, e));
            continue;
        }
        let mut a = s;
        loop {
            let b = (a + opts.window).min(e);
            windows.push((b.saturating_sub(opts.window).max(s), b));
            if b >= e {
                break;
            }
            a += opts.step;
        }
    }
    let embeddings = embed_windows(model, samples, &mel, &windows);
    let weights: Vec<f32> = windows.iter().map(|(s, e)| (e - s) as f32).collect();

    // One speaker, then more while a new one is clearly another voice that speaks enough.
    let mut centroids = {
        let mut c = vec![0f32; EMBEDDING];
        for (p, w) in embeddings.iter().zip(&weights) {
            for (s, x) in c.iter_mut().zip(p) {
                *s += x * w;
            }
        }
        normalise(&mut c);
        vec![c]
    };
    while centroids.len() < opts.max_speakers {
        // Seeds for the next speaker: the windows least like any speaker found so far (the
        // single least alike is often an odd window, not a voice), each tried, the split that
        // fits the windows best kept.
        let best_sim = |i: usize| {
            centroids
                .iter()
                .map(|c| dot(&embeddings[i], c))
                .fold(f32::MIN, f32::max)
        };
        let mut order: Vec<usize> = (0..embeddings.len()).collect();
        order.sort_by(|a, b| best_sim(*a).total_cmp(&best_sim(*b)));
        let mut best: Option<(f32, Vec<Vec<f32>>, Vec<usize>)> = None;
        for &seed in order.iter().take(8) {
            let mut init = centroids.clone();
            init.push(embeddings[seed].to_vec());
            let (c, l) = kmeans(&embeddings, &weights, init);
            let fit: f32 = l
                .iter()
                .enumerate()
                .map(|(i, k)| weights[i] * dot(&embeddings[i], &c[*k]))
                .sum();
            if best.as_ref().is_none_or(|b| fit > b.0) {
                best = Some((fit, c, l));
            }
        }
        let Some((_, c, l)) = best else {
            break;
        };
        let k = c.len();
        let mut speech_ms = vec![0u64; k];
        for (i, lab) in l.iter().enumerate() {
            speech_ms[*lab] += weights[i] as u64 * 10;
        }
        let closest = closest_pair(&c);
        let enough = speech_ms.iter().all(|ms| *ms >= opts.min_speaker_ms);
        let accept = if k == 2 {
            closest < opts.second_speaker_below
        } else {
            enough && closest < opts.more_speakers_below
        };
        if accept {
            centroids = c;
        } else {
            break;
        }
    }
    let closest = closest_pair(&centroids);
    let k = centroids.len();

    // Every speech frame: mean similarity of the windows covering it to each speaker.
    let n = speech.len();
    let mut score = vec![0f32; n * k];
    let mut cover = vec![0u32; n];
    for ((s, e), emb) in windows.iter().zip(&embeddings) {
        let sims: Vec<f32> = centroids.iter().map(|c| dot(emb, c)).collect();
        for t in *s..(*e).min(n) {
            cover[t] += 1;
            for j in 0..k {
                score[t * k + j] += sims[j];
            }
        }
    }
    let mut frames: Vec<Option<(usize, f32)>> = vec![None; n];
    for &(s, e) in &regions {
        for t in s..e.min(n) {
            if cover[t] == 0 {
                continue;
            }
            let row: Vec<f32> = score[t * k..(t + 1) * k]
                .iter()
                .map(|x| x / cover[t] as f32)
                .collect();
            frames[t] = Some(best_of(&row));
        }
        smooth(&mut frames[s..e.min(n)], (opts.min_turn_ms / 10) as usize);
    }
    // Number speakers by first speech.
    let mut order: Vec<usize> = Vec::new();
    for (s, _) in frames.iter().flatten() {
        if !order.contains(s) {
            order.push(*s);
        }
    }
    for f in frames.iter_mut().flatten() {
        f.0 = order.iter().position(|x| *x == f.0).unwrap_or(f.0);
    }
    let speakers = order.len();
    let turns = turns_of(&frames);
    Diarization {
        speakers,
        turns,
        frames,
        closest_speakers: if speakers < 2 { 1.0 } else { closest },
    }
}

/// The best speaker of a row of similarities, with a confidence: sure when the voice is
/// clearly closer (by 0.2 in cosine similarity) to its speaker than to any other, and clearly
/// like its speaker at all (0.85 or more). The second test matters most when only one voice was
/// found: a short answer by a second voice too brief to be told apart is unlike the first.
fn best_of(row: &[f32]) -> (usize, f32) {
    let mut idx: Vec<usize> = (0..row.len()).collect();
    idx.sort_by(|a, b| row[*b].total_cmp(&row[*a]));
    let margin = match idx.as_slice() {
        [a, b, ..] => row[*a] - row[*b],
        _ => 1.0,
    };
    let likeness = (row[idx[0]] - 0.7) / 0.15;
    (idx[0], (margin / 0.2).min(likeness).clamp(0.0, 1.0))
}

fn closest_pair(c: &[Vec<f32>]) -> f32 {
    let mut best = f32::MIN;
    for i in 0..c.len() {
        for j in i + 1..c.len() {
            best = best.max(dot(&c[i], &c[j]));
        }
    }
    if best == f32::MIN {
        1.0
    } else {
        best
    }
}

/// Merges runs shorter than `min` frames into a neighbour, shortest first, so that a speaker
/// change inside one stretch of speech needs evidence that lasts.
fn smooth(frames: &mut [Option<(usize, f32)>], min: usize) {
    loop {
        let mut runs: Vec<(usize, usize, usize)> = Vec::new();
        for (t, f) in frames.iter().enumerate() {
            let Some((s, _)) = f else { continue };
            match runs.last_mut() {
                Some(last) if last.2 == *s && last.1 == t => last.1 = t + 1,
                _ => runs.push((t, t + 1, *s)),
            }
        }
        if runs.len() < 2 {
            return;
        }
        let Some((i, r)) = runs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.1 - r.0 < min)
            .min_by_key(|(_, r)| r.1 - r.0)
        else {
            return;
        };
        let into = match (i.checked_sub(1).map(|j| runs[j]), runs.get(i + 1)) {
            (Some(l), Some(n)) => {
                if l.1 - l.0 >= n.1 - n.0 {
                    l.2
                } else {
                    n.2
                }
            }
            (Some(l), None) => l.2,
            (None, Some(n)) => n.2,
            (None, None) => return,
        };
        for f in frames[r.0..r.1].iter_mut().flatten() {
            // The frame was closer to another voice: it stays doubtful.
            *f = (into, f.1.min(0.5) * 0.5);
        }
    }
}

fn turns_of(frames: &[Option<(usize, f32)>]) -> Vec<Turn> {
    let mut out: Vec<(Turn, u32)> = Vec::new();
    for (t, f) in frames.iter().enumerate() {
        let Some((s, c)) = f else { continue };
        let ms = t as u64 * 10;
        match out.last_mut() {
            Some((last, n)) if last.speaker == *s && last.end_ms == ms => {
                last.end_ms = ms + 10;
                last.confidence += c;
                *n += 1;
            }
            _ => out.push((
                Turn {
                    start_ms: ms,
                    end_ms: ms + 10,
                    speaker: *s,
                    confidence: *c,
                },
                1,
            )),
        }
    }
    out.into_iter()
        .map(|(mut t, n)| {
            t.confidence /= n as f32;
            t
        })
        .collect()
}

/// Embeds each window, its level normalised to −30 dBFS first (the encoder sees power, not
/// log power, so a quiet line would otherwise sound like another voice).
fn embed_windows(
    model: &SpeakerModel,
    samples: &[f32],
    mel: &[[f32; N_MELS]],
    windows: &[(usize, usize)],
) -> Vec<[f32; EMBEDDING]> {
    let target = 10f32.powf(-30.0 / 20.0);
    let scaled: Vec<Vec<[f32; N_MELS]>> = windows
        .iter()
        .map(|&(s, e)| {
            let a = (s * HOP).min(samples.len());
            let b = (e * HOP).min(samples.len());
            let part = &samples[a..b];
            let rms = if part.is_empty() {
                0.0
            } else {
                (part.iter().map(|x| x * x).sum::<f32>() / part.len() as f32).sqrt()
            };
            let gain = (target / rms.max(1e-4)).powi(2);
            mel[s..e]
                .iter()
                .map(|f| {
                    let mut g = *f;
                    g.iter_mut().for_each(|x| *x *= gain);
                    g
                })
                .collect()
        })
        .collect();
    let mut out = vec![[0f32; EMBEDDING]; windows.len()];
    // Same-length windows in batches, so each LSTM step is one matrix product.
    let mut by_len: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (i, w) in scaled.iter().enumerate() {
        by_len.entry(w.len()).or_default().push(i);
    }
    for idx in by_len.values() {
        for batch in idx.chunks(64) {
            let refs: Vec<&[[f32; N_MELS]]> = batch.iter().map(|i| scaled[*i].as_slice()).collect();
            for (i, e) in batch.iter().zip(model.encoder.embed_batch(&refs)) {
                out[*i] = e;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_bridge_short_pauses_and_drop_clicks() {
        let mut m = vec![false; 100];
        m[10..30].fill(true);
        m[33..50].fill(true); // 3-frame pause: bridged
        m[70..72].fill(true); // click: dropped
        assert_eq!(runs(&m, 5, 5), vec![(10, 50)]);
    }

    #[test]
    fn a_short_run_joins_its_longer_neighbour() {
        let mut f: Vec<Option<(usize, f32)>> = vec![Some((0, 1.0)); 100];
        for x in &mut f[40..45] {
            *x = Some((1, 0.9));
        }
        smooth(&mut f, 20);
        assert!(f.iter().all(|x| x.unwrap().0 == 0));
        assert!(f[42].unwrap().1 < 0.5, "a merged frame stays doubtful");
    }

    #[test]
    fn the_majority_speaker_of_a_span() {
        let mut d = Diarization {
            speakers: 2,
            frames: vec![None; 200],
            ..Default::default()
        };
        for t in 10..40 {
            d.frames[t] = Some((0, 1.0));
        }
        for t in 40..60 {
            d.frames[t] = Some((1, 0.8));
        }
        assert_eq!(d.speaker_of(100, 350), Some((0, 1.0)));
        let (s, c) = d.speaker_of(420, 590).unwrap();
        assert_eq!(s, 1);
        assert!((c - 0.8).abs() < 1e-6);
        // Mostly speaker 0, but shared: less sure.
        let (s, c) = d.speaker_of(200, 450).unwrap();
        assert_eq!(s, 0);
        assert!(c < 0.9);
        // In silence just after speech: the nearest speaker, doubtful.
        assert_eq!(d.speaker_of(610, 640).map(|x| x.0), Some(1));
        assert_eq!(d.speaker_of(1300, 1400), None);
    }
}
