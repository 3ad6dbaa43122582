//! Weighs texts against a stretch of a recording, as the script check does: the model's own
//! hearing of the stretch, then each text's log-probability as its transcript and how far it
//! falls behind that hearing. A measuring tool for choosing the script check's margins (see
//! BENCHMARKS.md), not part of the service.
//!
//! ```text
//! cargo run --release -p callproof-transcribe --example weigh -- \
//!     MODEL.bin CHANNEL.wav FROM_MS TO_MS LANGUAGE "text one" "text two" ...
//! ```
//! `CHANNEL.wav`: one channel, 16 kHz (`sox call.wav -r 16000 -c 1 ch.wav remix 1`).

use callproof_transcribe::engine::Engine;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 6 {
        eprintln!("usage: weigh MODEL.bin CHANNEL.wav FROM_MS TO_MS LANGUAGE TEXT...");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weigh: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::load(std::path::Path::new(&args[0]), "weigh", "")?;
    let mut reader = hound::WavReader::open(&args[1])?;
    let spec = reader.spec();
    if spec.sample_rate != 16_000 || spec.channels != 1 {
        return Err(format!(
            "{}: {} Hz, {} channels; give one channel at 16 kHz",
            args[1], spec.sample_rate, spec.channels
        )
        .into());
    }
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = (1i64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|s| s as f32 / scale))
                .collect::<Result<_, _>>()?
        }
    };
    let window = (args[2].parse::<u64>()?, args[3].parse::<u64>()?);
    let language = &args[4];
    let mut listening = engine.listen(&samples, window, language, 2, true)?;
    let own = listening.own().cloned().ok_or("no own hearing")?;
    println!(
        "own\t{:.2}\t{:.2}\t{}\t{:?}",
        own.logprob,
        own.mean(),
        own.text,
        own.words
    );
    for text in &args[5..] {
        let s = listening.score(text, None)?;
        println!(
            "gap {:.2}\tmean {:.2}\t{}\t{:?}",
            s.logprob - own.logprob,
            s.mean(),
            s.text,
            s.words
        );
    }
    Ok(())
}
