//! The speaker encoder's input: 40-band mel power spectrogram frames.
//!
//! The GE2E encoder was trained on librosa's `melspectrogram` at 16 kHz (25 ms Hann window,
//! 10 ms step, Slaney mel scale and area normalisation, power, not log), so this reproduces
//! exactly that; a log-mel or HTK filterbank would feed the network numbers it never saw.

use realfft::RealFftPlanner;

pub const RATE: usize = 16_000;
pub const N_FFT: usize = 400;
pub const HOP: usize = 160;
pub const N_MELS: usize = 40;

// The Slaney mel scale: linear below 1 kHz (3 mels per 200 Hz), then 27 mels per factor 6.4.
const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn logstep() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(f: f64) -> f64 {
    if f >= MIN_LOG_HZ {
        MIN_LOG_MEL + (f / MIN_LOG_HZ).ln() / logstep()
    } else {
        f / F_SP
    }
}

fn mel_to_hz(m: f64) -> f64 {
    if m >= MIN_LOG_MEL {
        MIN_LOG_HZ * (logstep() * (m - MIN_LOG_MEL)).exp()
    } else {
        F_SP * m
    }
}

/// librosa.filters.mel(sr=16000, n_fft=400, n_mels=40), row-major 40 × 201.
pub fn filterbank() -> Vec<f32> {
    let bins = N_FFT / 2 + 1;
    let fft_freqs: Vec<f64> = (0..bins)
        .map(|i| i as f64 * (RATE as f64 / 2.0) / (bins - 1) as f64)
        .collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(RATE as f64 / 2.0));
    let mel_f: Vec<f64> = (0..N_MELS + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (N_MELS + 1) as f64))
        .collect();
    let mut w = vec![0f32; N_MELS * bins];
    for m in 0..N_MELS {
        let (f0, f1, f2) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
        let enorm = 2.0 / (f2 - f0);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let lower = (f - f0) / (f1 - f0);
            let upper = (f2 - f) / (f2 - f1);
            w[m * bins + k] = (lower.min(upper).max(0.0) * enorm) as f32;
        }
    }
    w
}

/// Mel frames of `samples` (16 kHz), one per 10 ms: frame `t` is centred on sample `t * 160`,
/// the signal reflected at its edges as librosa's `center=True` does.
pub struct MelFrames {
    pub frames: Vec<[f32; N_MELS]>,
}

pub fn mel_frames(samples: &[f32]) -> MelFrames {
    let n = samples.len();
    let count = n / HOP + 1;
    let pad = N_FFT / 2;
    let at = |i: isize| -> f32 {
        // Reflect padding (no edge repeat); a signal shorter than the pad is zero-extended.
        let len = n as isize;
        if len == 0 {
            return 0.0;
        }
        let mut j = i;
        if j < 0 {
            j = -j;
        }
        if j >= len {
            j = 2 * (len - 1) - j;
        }
        if (0..len).contains(&j) {
            samples[j as usize]
        } else {
            0.0
        }
    };
    let window: Vec<f32> = (0..N_FFT)
        .map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64).cos()) as f32)
        .collect();
    let fb = filterbank();
    let bins = N_FFT / 2 + 1;
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(N_FFT);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut power = vec![0f32; bins];
    let mut frames = Vec::with_capacity(count);
    for t in 0..count {
        let start = (t * HOP) as isize - pad as isize;
        for (k, x) in input.iter_mut().enumerate() {
            *x = at(start + k as isize) * window[k];
        }
        // The buffers have the planned lengths, so processing cannot fail.
        if fft.process(&mut input, &mut spectrum).is_err() {
            frames.push([0.0; N_MELS]);
            continue;
        }
        for (p, c) in power.iter_mut().zip(&spectrum) {
            *p = c.norm_sqr();
        }
        let mut frame = [0f32; N_MELS];
        for (m, out) in frame.iter_mut().enumerate() {
            let row = &fb[m * bins..(m + 1) * bins];
            *out = row.iter().zip(&power).map(|(a, b)| a * b).sum();
        }
        frames.push(frame);
    }
    MelFrames { frames }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_matches_librosa() {
        // Linear to 1 kHz (15 mels), then 27 mels per factor 6.4.
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-9);
        assert!((mel_to_hz(42.0) - 6400.0).abs() < 1e-6);
        assert!((mel_to_hz(hz_to_mel(5123.0)) - 5123.0).abs() < 1e-6);
    }

    #[test]
    fn a_tone_lands_in_its_band() {
        let tone: Vec<f32> = (0..RATE)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / RATE as f32).sin() * 0.1)
            .collect();
        let mel = mel_frames(&tone);
        assert_eq!(mel.frames.len(), RATE / HOP + 1);
        let f = mel.frames[50];
        let best = (0..N_MELS).max_by(|a, b| f[*a].total_cmp(&f[*b])).unwrap();
        // 440 Hz is 6.6 on the Slaney scale: around band 5 of 40 over 0–8 kHz.
        assert!((4..=6).contains(&best), "band {best}");
    }
}
