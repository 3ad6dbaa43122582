//! Diarization error rate on stereo calls mixed down to mono (BENCHMARKS.md, "Mono recordings").
//!
//!   cargo run --release -p callproof-diarize --example der -- MODEL.safetensors CALL.wav...
//!
//! Each CALL.wav is 16 kHz 16-bit PCM stereo (agent left, customer right: `sox IN -r 16000
//! -b 16 -e signed OUT`); the truth is each channel's energy, the test its mono mix.

use std::time::Instant;

use callproof_diarize::{der, diarize, DiarizeOptions, SpeakerModel};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: der MODEL.safetensors CALL.wav...");
        std::process::exit(2);
    }
    let model = SpeakerModel::load(args[0].as_ref()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let opts = DiarizeOptions::default();
    let (mut total, mut audio_s, mut spent) = (der::DerReport::default(), 0.0, 0.0);
    println!("call\tspeakers\tDER %\tmissed %\tfalse alarm %\tconfusion %\tclosest\tseconds");
    for path in &args[1..] {
        let mut r = hound::WavReader::open(path).expect("a 16 kHz PCM WAV");
        let spec = r.spec();
        assert_eq!(spec.sample_rate, 16_000, "{path}: resample to 16 kHz first");
        let ch = spec.channels as usize;
        let s: Vec<f32> = r
            .samples::<i16>()
            .map(|x| x.unwrap_or(0) as f32 / 32768.0)
            .collect();
        let channels: Vec<Vec<f32>> = (0..ch)
            .map(|c| s.iter().skip(c).step_by(ch).copied().collect())
            .collect();
        let n = channels[0].len();
        let mono: Vec<f32> = (0..n)
            .map(|i| channels.iter().map(|c| c[i]).sum::<f32>())
            .collect();
        let reference = der::reference_from_channels(&channels, 16_000);
        let t = Instant::now();
        let d = diarize(&model, &mono, &opts);
        let el = t.elapsed().as_secs_f64();
        let hyp: Vec<Option<usize>> = d.frames.iter().map(|f| f.map(|x| x.0)).collect();
        let rep = der::score(&reference, &hyp, 250);
        let pct = |x: u64| 100.0 * x as f64 / rep.reference_ms.max(1) as f64;
        println!(
            "{}\t{}\t{:.1}\t{:.1}\t{:.1}\t{:.1}\t{:.2}\t{:.2}",
            std::path::Path::new(path)
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy(),
            d.speakers,
            100.0 * rep.der(),
            pct(rep.missed_ms),
            pct(rep.false_alarm_ms),
            pct(rep.confusion_ms),
            d.closest_speakers,
            el
        );
        total.reference_ms += rep.reference_ms;
        total.missed_ms += rep.missed_ms;
        total.false_alarm_ms += rep.false_alarm_ms;
        total.confusion_ms += rep.confusion_ms;
        audio_s += n as f64 / 16_000.0;
        spent += el;
    }
    let pct = |x: u64| 100.0 * x as f64 / total.reference_ms.max(1) as f64;
    println!(
        "ALL\t\t{:.1}\t{:.1}\t{:.1}\t{:.1}\t\t{:.3} s per audio second",
        100.0 * total.der(),
        pct(total.missed_ms),
        pct(total.false_alarm_ms),
        pct(total.confusion_ms),
        spent / audio_s.max(1e-9)
    );
}
