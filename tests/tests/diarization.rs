//! Mono recordings: voices told apart, roles given from the script, verdicts as on stereo.
//!
//! The truth comes free from stereo test calls: mixed down to mono they are the test, each
//! channel's energy says who spoke when. Measured here: the diarization error rate over the
//! labelled set and the real stereo call (goal ≤ 10 %, 250 ms collar), a mono call end to end
//! (roles, attribution, verdict equal to the stereo original's), a stereo call unchanged, and
//! a one-speaker and a silent recording.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use callproof_diarize::{der, diarize, DiarizeOptions, SpeakerModel};
use common::*;

fn sox(args: &[&str]) {
    let st = Command::new("sox")
        .args(args)
        .status()
        .expect("sox (run scripts/setup.sh)");
    assert!(st.success(), "sox {args:?}");
}

/// A recording as 16 kHz channels, through sox (which reads µ-law) and hound.
fn channels_16k(wav: &Path, work: &Path) -> Vec<Vec<f32>> {
    let pcm = work.join("pcm16k.wav");
    sox(&[
        wav.to_str().unwrap(),
        "-r",
        "16000",
        "-b",
        "16",
        "-e",
        "signed",
        pcm.to_str().unwrap(),
    ]);
    let mut r = hound::WavReader::open(&pcm).unwrap();
    let ch = r.spec().channels as usize;
    let s: Vec<f32> = r
        .samples::<i16>()
        .map(|x| x.unwrap() as f32 / 32768.0)
        .collect();
    (0..ch)
        .map(|c| s.iter().skip(c).step_by(ch).copied().collect())
        .collect()
}

/// The converted encoder's SHA-256: the conversion is pinned and reproducible.
const SPEAKER_SHA256: &str = "5dcd9cbf686daae9e1edcebb9d4d382e4595494080bc437b8ed955b0fa387543";

fn speaker_model() -> SpeakerModel {
    ensure_model("speaker");
    let path = callproof_transcribe::ModelCache::from_env()
        .dir()
        .join(callproof_diarize::MODEL_FILE);
    let model = SpeakerModel::load(&path).expect("the installed speaker model loads");
    assert_eq!(model.sha256(), SPEAKER_SHA256);
    model
}

/// One script of `tests/calls`, rendered to stereo µ-law in `dir`.
fn render_call(name: &str, dir: &Path) -> PathBuf {
    let out = dir.join(format!("{name}.wav"));
    let st = Command::new(root().join("tests/scripts/render-call.sh"))
        .arg(root().join(format!("tests/calls/{name}.txt")))
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "render-call.sh {name}");
    out
}

fn render_set(out: &Path) -> Vec<PathBuf> {
    let st = Command::new(root().join("tests/scripts/render-set.sh"))
        .arg(out)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let mut wavs: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    wavs.sort();
    wavs
}

#[test]
fn mono_mixes_of_stereo_calls_are_told_apart() {
    let model = speaker_model();
    let work = tempfile::tempdir().unwrap();
    let mut calls = render_set(&work.path().join("set"));
    assert_eq!(calls.len(), 19);
    calls.push(fixture("real/en_call_auto_repairs_stereo_ulaw8k.wav"));
    let mut total = der::DerReport::default();
    let mut worst = (0.0, String::new());
    for wav in &calls {
        let ch = channels_16k(wav, work.path());
        let n = ch[0].len();
        let mono: Vec<f32> = (0..n).map(|i| ch[0][i] + ch[1][i]).collect();
        let reference = der::reference_from_channels(&ch, 16_000);
        let d = diarize(&model, &mono, &DiarizeOptions::default());
        let hyp: Vec<Option<usize>> = d.frames.iter().map(|f| f.map(|x| x.0)).collect();
        let r = der::score(&reference, &hyp, 250);
        let name = wav.file_stem().unwrap().to_string_lossy().to_string();
        println!(
            "{name}: {} speakers, DER {:.1} %",
            d.speakers,
            100.0 * r.der()
        );
        if r.der() > worst.0 {
            worst = (r.der(), name.clone());
        }
        // Two parties found wherever the customer speaks a full sentence or more.
        if d.speech_ms().len() < 2 {
            let customer_ms: u64 = reference.iter().filter(|m| **m & 2 != 0).count() as u64 * 10;
            assert!(
                customer_ms < 2_000,
                "{name}: one voice found, the customer spoke {customer_ms} ms"
            );
        }
        total.reference_ms += r.reference_ms;
        total.missed_ms += r.missed_ms;
        total.false_alarm_ms += r.false_alarm_ms;
        total.confusion_ms += r.confusion_ms;
    }
    println!(
        "overall DER {:.1} %, worst {:.1} % ({})",
        100.0 * total.der(),
        100.0 * worst.0,
        worst.1
    );
    assert!(total.der() <= 0.10, "DER {:.3}", total.der());
    assert!(worst.0 <= 0.30, "{} DER {:.3}", worst.1, worst.0);
}

#[test]
fn one_voice_and_silence_are_not_split() {
    let model = speaker_model();
    let work = tempfile::tempdir().unwrap();
    // The agent's channel alone: one voice.
    let wav = render_call("fr_energie_rappel", work.path());
    let ch = channels_16k(&wav, work.path());
    let d = diarize(&model, &ch[0], &DiarizeOptions::default());
    assert_eq!(d.speakers, 1, "closest {:.2}", d.closest_speakers);
    // Silence and line noise: no speaker at all.
    let quiet: Vec<f32> = (0..16_000 * 5)
        .map(|i| ((i * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.0005)
        .collect();
    let d = diarize(&model, &quiet, &DiarizeOptions::default());
    assert_eq!((d.speakers, d.turns.len()), (0, 0));
}

/// Ingests `wav` with `base` and returns (transcript, findings) as JSON.
fn ingest(data: &Path, wav: &Path) -> (serde_json::Value, serde_json::Value) {
    let id = ingest_one(
        data,
        "base",
        wav,
        &[
            "--client",
            "isosell",
            "--started-at",
            "2026-03-03T10:30:00+01:00",
        ],
    );
    (
        json(data, &["transcript", &id, "--json"]),
        json(data, &["findings", &id, "--json"]),
    )
}

#[test]
fn a_mono_call_gets_its_roles_and_the_stereo_verdict() {
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    ensure_model("base");
    speaker_model();
    let work = tempfile::tempdir().unwrap();
    let stereo = render_call("fr_vente_consentement", work.path());
    // The channels mixed down (1,2), and the agent's alone (1), as mono µ-law.
    let mono_of = |name: &str, remix: &str| {
        let out = work.path().join(name);
        sox(&[
            stereo.to_str().unwrap(),
            "-c",
            "1",
            "-e",
            "u-law",
            out.to_str().unwrap(),
            "remix",
            remix,
        ]);
        out
    };
    let mono = mono_of("fr_vente_consentement_mono.wav", "1,2");
    let agent_only = mono_of("agent_only.wav", "1");

    let data = work.path().join("data");
    let (ts, fs) = ingest(&data, &stereo);
    let (tm, fm) = ingest(&data, &mono);
    // Stereo: the channels say who spoke, as before.
    for s in ts["segments"].as_array().unwrap() {
        assert_eq!(s["attribution"]["source"], "channel", "{s}");
    }
    // Mono: both roles found by voice, each segment with its confidence, the seller's words
    // given to the agent and the assent to the customer.
    let segs = tm["segments"].as_array().unwrap();
    let who = |needle: &str| {
        segs.iter()
            .find(|s| s["text"].as_str().unwrap().to_lowercase().contains(needle))
            .map(|s| s["speaker"].as_str().unwrap().to_string())
    };
    for s in segs {
        assert_eq!(s["attribution"]["source"], "diarization", "{s}");
        assert!(
            s["attribution"]["confidence"].as_f64().unwrap() > 0.0,
            "{s}"
        );
    }
    assert_eq!(who("julie martin").as_deref(), Some("agent"), "{tm}");
    assert_eq!(who("je confirme").as_deref(), Some("customer"), "{tm}");
    assert_eq!(who("je vous écoute").as_deref(), Some("customer"), "{tm}");
    assert_eq!(fm["verdict"], fs["verdict"], "mono {fm}\nstereo {fs}");
    assert_eq!(fm["verdict"], "compliant");
    let consent = fm["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "consent")
        .unwrap();
    assert_eq!(consent["attribution"]["source"], "diarization", "{consent}");
    // People read who spoke and how it was told.
    let text = ok(&data, &["transcript", tm["call_id"].as_str().unwrap()]);
    assert!(text.contains("customer (by voice"), "{text}");

    // One voice alone: nobody is invented to assent.
    let (t1, f1) = ingest(&data, &agent_only);
    let speakers: std::collections::BTreeSet<&str> = t1["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["speaker"].as_str().unwrap())
        .collect();
    assert_eq!(speakers, ["agent"].into(), "{t1}");
    assert_ne!(f1["verdict"], "compliant", "{f1}");
}
