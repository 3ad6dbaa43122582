//! The Slaney-style mel filterbank that whisper.cpp reads from the ggml file.
//!
//! OpenAI's Whisper ships `mel_filters.npz`, made by `librosa.filters.mel(sr=16000, n_fft=400,
//! n_mels=80)` (Slaney mel scale, Slaney area normalisation). CTranslate2 files do not carry it, so
//! the converter recomputes it exactly as librosa does, in f64, then narrows to f32.

fn hz_to_mel(hz: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = (6.4f64).ln() / 27.0;
    if hz >= MIN_LOG_HZ {
        min_log_mel + (hz / MIN_LOG_HZ).ln() / logstep
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = (6.4f64).ln() / 27.0;
    if mel >= min_log_mel {
        MIN_LOG_HZ * (logstep * (mel - min_log_mel)).exp()
    } else {
        F_SP * mel
    }
}

/// Returns `n_mels` rows of `n_fft / 2 + 1` weights, row-major.
pub fn slaney_filterbank(sample_rate: u32, n_fft: usize, n_mels: usize) -> Vec<f32> {
    let n_freqs = n_fft / 2 + 1;
    let sr = sample_rate as f64;
    let fft_freqs: Vec<f64> = (0..n_freqs)
        .map(|i| i as f64 * (sr / 2.0) / (n_freqs - 1) as f64)
        .collect();
    let (mel_min, mel_max) = (hz_to_mel(0.0), hz_to_mel(sr / 2.0));
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(mel_min + (mel_max - mel_min) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut out = Vec::with_capacity(n_mels * n_freqs);
    for m in 0..n_mels {
        let (lo, mid, hi) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
        let enorm = 2.0 / (hi - lo);
        for f in &fft_freqs {
            let lower = (f - lo) / (mid - lo);
            let upper = (hi - f) / (hi - mid);
            out.push((lower.min(upper).max(0.0) * enorm) as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compares with OpenAI Whisper's own `mel_80.npy`, value by value.
    #[test]
    fn matches_openai_whisper_filterbank() {
        let npy = include_bytes!("../../testdata/openai_whisper_mel_80.npy");
        let header_len = u16::from_le_bytes([npy[8], npy[9]]) as usize;
        let reference: Vec<f32> = npy[10 + header_len..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let fb = slaney_filterbank(16000, 400, 80);
        assert_eq!(fb.len(), reference.len());
        let worst = fb
            .iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-6, "largest difference {worst}");
    }
}
