//! How loud each channel is along the call, in a few hundred steps: the strip a person scans
//! to see where someone spoke, shouted or went quiet, drawn from the recording itself rather
//! than from what the recogniser made of it (a missed turn still shows).

use serde::Serialize;

/// Levels of one channel: one value per step, 0 (−60 dBFS or quieter) to 100 (full scale).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnergyProfile {
    /// Milliseconds each step covers.
    pub step_ms: f64,
    pub channels: Vec<Vec<u8>>,
}

/// Below this a step is drawn empty: line noise and silence.
const FLOOR_DB: f64 = -60.0;

/// The RMS level of `channels` (sampled at `rate`) in `steps` equal steps, in dBFS mapped
/// linearly onto 0..=100 from −60 dBFS to 0 dBFS.
pub fn energy_profile(channels: &[Vec<f32>], rate: u32, steps: usize) -> EnergyProfile {
    let frames = channels.iter().map(Vec::len).max().unwrap_or(0);
    let steps = steps.clamp(1, frames.max(1));
    let levels = channels
        .iter()
        .map(|samples| {
            (0..steps)
                .map(|i| {
                    let (a, b) = (
                        i * frames / steps,
                        ((i + 1) * frames / steps).max(i * frames / steps + 1),
                    );
                    let part = &samples[a.min(samples.len())..b.min(samples.len())];
                    if part.is_empty() {
                        return 0;
                    }
                    let mean_square = part
                        .iter()
                        .map(|s| f64::from(*s) * f64::from(*s))
                        .sum::<f64>()
                        / part.len() as f64;
                    let db = 10.0 * mean_square.max(1e-12).log10();
                    ((db - FLOOR_DB) / -FLOOR_DB * 100.0)
                        .clamp(0.0, 100.0)
                        .round() as u8
                })
                .collect()
        })
        .collect();
    EnergyProfile {
        step_ms: if rate == 0 {
            0.0
        } else {
            frames as f64 * 1000.0 / f64::from(rate) / steps as f64
        },
        channels: levels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_shows_where_it_is_and_how_loud() {
        // One second at 8 kHz: silence, then a full-scale square wave, on one channel; the
        // other channel a −20 dBFS square wave throughout.
        let rate = 8000;
        let mut a = vec![0.0f32; 4000];
        a.extend((0..4000).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }));
        let b: Vec<f32> = (0..8000)
            .map(|i| if i % 2 == 0 { 0.1 } else { -0.1 })
            .collect();
        let p = energy_profile(&[a, b], rate, 10);
        assert_eq!(p.step_ms, 100.0);
        assert_eq!(p.channels[0], vec![0, 0, 0, 0, 0, 100, 100, 100, 100, 100]);
        // −20 dBFS is two thirds of the way from −60 to 0.
        assert!(
            p.channels[1].iter().all(|&l| l == 67),
            "{:?}",
            p.channels[1]
        );
    }

    #[test]
    fn more_steps_than_samples_and_empty_audio_are_fine() {
        let p = energy_profile(&[vec![0.5; 3]], 8000, 600);
        assert_eq!(p.channels[0].len(), 3);
        let p = energy_profile(&[], 8000, 600);
        assert!(p.channels.is_empty());
    }
}
