//! Measuring diarization against the truth: the diarization error rate (missed speech, false
//! alarm and speaker confusion over reference speech, with a collar around every reference
//! boundary) as NIST's md-eval scores it, on 10 ms frames.
//!
//! The truth comes free from stereo recordings: mixed down to mono they are the test, and each
//! channel's energy says who spoke when ([`reference_from_channels`]).

/// Per 10 ms frame, the set of reference speakers talking, as a bit mask.
pub type Reference = Vec<u8>;

/// Who talks on each channel of a stereo call, from its energy: a frame is speech when it is
/// within 40 dB of the channel's loud frames and 15 dB above its floor; pauses under 0.3 s are
/// bridged and bursts under 0.1 s dropped. Channel `i` is speaker `i`.
pub fn reference_from_channels(channels: &[Vec<f32>], rate: usize) -> Reference {
    let hop = rate / 100;
    let n = channels.iter().map(|c| c.len() / hop).max().unwrap_or(0);
    let mut out = vec![0u8; n];
    for (i, ch) in channels.iter().enumerate().take(8) {
        let db: Vec<f32> = ch
            .chunks(hop)
            .map(|f| {
                let e = f.iter().map(|x| x * x).sum::<f32>() / f.len().max(1) as f32;
                10.0 * e.max(1e-12).log10()
            })
            .collect();
        let mut sorted = db.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let pct = |p: f32| sorted[((sorted.len() - 1) as f32 * p) as usize];
        if sorted.is_empty() {
            continue;
        }
        let threshold = (pct(0.95) - 40.0).max(pct(0.05) + 15.0);
        let mask: Vec<bool> = db.iter().map(|d| *d > threshold).collect();
        for (s, e) in crate::cluster::runs(&mask, 30, 10) {
            for f in out.iter_mut().take(e).skip(s) {
                *f |= 1 << i;
            }
        }
    }
    out
}

/// The parts of a diarization error rate, in milliseconds of scored time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DerReport {
    pub reference_ms: u64,
    pub missed_ms: u64,
    pub false_alarm_ms: u64,
    pub confusion_ms: u64,
    /// The reference speaker each hypothesis speaker was mapped to (best overall overlap).
    pub mapping: [Option<u8>; 8],
}

impl DerReport {
    pub fn der(&self) -> f64 {
        if self.reference_ms == 0 {
            return 0.0;
        }
        (self.missed_ms + self.false_alarm_ms + self.confusion_ms) as f64 / self.reference_ms as f64
    }
}

/// Scores hypothesis labels (speaker per 10 ms frame, `None` = no speech) against the
/// reference, frames within `collar_ms` of a reference boundary not scored. Hypothesis
/// speakers are mapped one-to-one to reference speakers to maximise agreement.
pub fn score(reference: &[u8], hypothesis: &[Option<usize>], collar_ms: u64) -> DerReport {
    let n = reference.len().max(hypothesis.len());
    let at = |t: usize| reference.get(t).copied().unwrap_or(0);
    let hyp = |t: usize| hypothesis.get(t).copied().flatten();
    let collar = (collar_ms / 10) as usize;
    let mut scored = vec![true; n];
    for t in 1..n {
        if at(t) != at(t - 1) {
            for s in scored
                .iter_mut()
                .take((t + collar).min(n))
                .skip(t.saturating_sub(collar))
            {
                *s = false;
            }
        }
    }
    let hyp_speakers = (0..n).filter_map(hyp).max().map_or(0, |m| m + 1).min(8);
    // Overlap counts: hypothesis speaker h with reference speaker r.
    let mut overlap = [[0u64; 8]; 8];
    for t in (0..n).filter(|t| scored[*t]) {
        if let Some(h) = hyp(t).filter(|h| *h < 8) {
            for (r, row) in overlap[h].iter_mut().enumerate() {
                if at(t) & (1 << r) != 0 {
                    *row += 1;
                }
            }
        }
    }
    let mapping = best_mapping(&overlap, hyp_speakers);
    let mut report = DerReport {
        mapping,
        ..Default::default()
    };
    for t in (0..n).filter(|t| scored[*t]) {
        let r = at(t);
        let n_ref = r.count_ones() as u64;
        let h = hyp(t);
        let n_hyp = u64::from(h.is_some());
        let correct = match h.and_then(|h| mapping.get(h).copied().flatten()) {
            Some(m) if r & (1 << m) != 0 => 1,
            _ => 0,
        };
        report.reference_ms += n_ref * 10;
        report.missed_ms += n_ref.saturating_sub(n_hyp) * 10;
        report.false_alarm_ms += n_hyp.saturating_sub(n_ref) * 10;
        report.confusion_ms += (n_ref.min(n_hyp) - correct) * 10;
    }
    report
}

/// Exhaustive search over one-to-one mappings (at most 8 × 8, in practice 2–4 speakers).
fn best_mapping(overlap: &[[u64; 8]; 8], hyp_speakers: usize) -> [Option<u8>; 8] {
    fn go(
        h: usize,
        n: usize,
        used: u8,
        overlap: &[[u64; 8]; 8],
        cur: &mut [Option<u8>; 8],
        best: &mut (u64, [Option<u8>; 8]),
        sum: u64,
    ) {
        if h == n {
            if sum > best.0 || best.1.iter().all(Option::is_none) {
                *best = (sum, *cur);
            }
            return;
        }
        cur[h] = None;
        go(h + 1, n, used, overlap, cur, best, sum);
        for r in 0..8u8 {
            if used & (1 << r) == 0 && overlap[h][r as usize] > 0 {
                cur[h] = Some(r);
                go(
                    h + 1,
                    n,
                    used | (1 << r),
                    overlap,
                    cur,
                    best,
                    sum + overlap[h][r as usize],
                );
                cur[h] = None;
            }
        }
    }
    let mut best = (0, [None; 8]);
    go(0, hyp_speakers, 0, overlap, &mut [None; 8], &mut best, 0);
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_swapped_labels_score_zero() {
        // Speaker 0 then speaker 1, hypothesis numbers them the other way round.
        let reference: Vec<u8> = [vec![1u8; 100], vec![0u8; 50], vec![2u8; 100]].concat();
        let hyp: Vec<Option<usize>> =
            [vec![Some(1); 100], vec![None; 50], vec![Some(0); 100]].concat();
        let r = score(&reference, &hyp, 250);
        assert_eq!(r.der(), 0.0, "{r:?}");
        assert_eq!(r.mapping[0], Some(1));
    }

    #[test]
    fn misses_false_alarms_and_confusion_are_counted() {
        let reference: Vec<u8> = [vec![1u8; 200], vec![2u8; 200]].concat();
        // The second speaker's first half is given to the first speaker; nothing else wrong.
        let hyp: Vec<Option<usize>> = [vec![Some(0); 300], vec![Some(1); 100]].concat();
        let r = score(&reference, &hyp, 0);
        assert_eq!(r.confusion_ms, 1000);
        assert_eq!(r.missed_ms + r.false_alarm_ms, 0);
        assert!((r.der() - 0.25).abs() < 1e-9);
        let silent: Vec<Option<usize>> = vec![None; 400];
        assert_eq!(score(&reference, &silent, 0).missed_ms, 4000);
    }

    #[test]
    fn channel_energy_gives_who_spoke_when() {
        let tone = |on: bool| -> Vec<f32> {
            (0..8000)
                .map(|i| {
                    if on {
                        (i as f32 * 0.3).sin() * 0.3
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        let left = [tone(true), tone(false)].concat();
        let right = [tone(false), tone(true)].concat();
        let r = reference_from_channels(&[left, right], 8000);
        assert_eq!(r.len(), 200);
        assert_eq!(r[50], 1);
        assert_eq!(r[150], 2);
    }
}
