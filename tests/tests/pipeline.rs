//! The whole path through the `callproof` binary: real recordings, real Whisper models,
//! a real index. Uses tiny.en for English and base for French.

mod common;

use std::process::Command;

use common::*;

#[test]
fn converted_tiny_en_transcribes_jfk() {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let data = tempfile::tempdir().unwrap();
    let wav = fixture("real/en_jfk_16k_mono.wav");
    let id = ingest_one(
        data.path(),
        "tiny.en",
        &wav,
        &["--client", "acme", "--language", "en"],
    );
    let text = normalise(&transcript_text(data.path(), &id));
    assert!(
        text.contains("ask not what your country can do for you"),
        "{text}"
    );
    assert!(
        text.contains("ask what you can do for your country"),
        "{text}"
    );
}

/// `ingest --jobs 2` transcribes recordings side by side: every one is transcribed once, the
/// results come back in the order given, and the same recording given twice under two names
/// for one client is imported once (the other is reported, not transcribed again beside the
/// first) — but for another client (its sidecar says so) it is that client's call, as one at a
/// time imports it: duplicates are per tenant.
#[test]
fn recordings_ingested_side_by_side_each_come_back_once_in_order() {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let data = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let jfk = fixture("real/en_jfk_16k_mono.wav");
    let copy = folder.path().join("jfk_again.wav");
    std::fs::copy(&jfk, &copy).unwrap();
    let flac = fixture("real/en_jfk_44k1_stereo_24bit.flac");
    let other = folder.path().join("jfk_for_globex.wav");
    std::fs::copy(&jfk, &other).unwrap();
    std::fs::write(
        folder.path().join("jfk_for_globex.json"),
        r#"{"client":"globex"}"#,
    )
    .unwrap();
    let paths = [&jfk, &flac, &copy, &other].map(|p| p.display().to_string());
    let out = callproof(
        data.path(),
        &[
            "--model",
            "tiny.en",
            "ingest",
            &paths[0],
            &paths[1],
            &paths[2],
            &paths[3],
            "--jobs",
            "2",
            "--client",
            "acme",
            "--language",
            "en",
            "--json",
        ],
    );
    // One recording was given twice: the run reports it and fails.
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    let results = results.as_array().unwrap();
    let files: Vec<&str> = results
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, paths.iter().map(String::as_str).collect::<Vec<_>>());
    let indexed = results.iter().filter(|r| r["state"] == "indexed").count();
    assert_eq!(indexed, 3, "{results:#?}");
    assert_eq!(results[3]["state"], "indexed", "{results:#?}");
    let refused: Vec<&serde_json::Value> =
        results.iter().filter(|r| r["state"] != "indexed").collect();
    assert_eq!(refused.len(), 1, "{results:#?}");
    assert_eq!(refused[0]["file"].as_str(), Some(paths[2].as_str()));
    let why = refused[0]["error"].as_str().unwrap_or_default();
    assert!(
        why.contains("same recording") || why.contains("already ingested"),
        "{why}"
    );
    let calls = json(data.path(), &["calls", "--json"]);
    assert_eq!(calls.as_array().unwrap().len(), 3, "{calls:#?}");
    let clients: Vec<&str> = calls
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["metadata"]["client"].as_str())
        .collect();
    assert_eq!(
        clients.iter().filter(|c| **c == "globex").count(),
        1,
        "{calls:#?}"
    );
    let hits = json(data.path(), &["search", "\"fellow Americans\"", "--json"]);
    assert_eq!(hits.as_array().unwrap().len(), 3, "{hits:#?}");
}

#[test]
fn jfk_in_wav_mp3_and_flac_is_found_with_word_times() {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let data = tempfile::tempdir().unwrap();
    let files = [
        "real/en_jfk_16k_mono.wav",
        "real/en_jfk_16k.mp3",
        "real/en_jfk_44k1_stereo_24bit.flac",
    ];
    let paths: Vec<String> = files
        .iter()
        .map(|f| fixture(f).display().to_string())
        .collect();
    let mut args = vec!["--model", "tiny.en", "ingest"];
    args.extend(paths.iter().map(String::as_str));
    args.extend([
        "--client",
        "acme",
        "--language",
        "en",
        "--campaign",
        "inauguration",
    ]);
    ok(data.path(), &args);

    let hits = json(data.path(), &["search", "\"fellow Americans\"", "--json"]);
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 3, "{hits:#?}");
    for h in hits {
        assert_eq!(h["client"], "acme");
        let seg = &h["segments"][0];
        assert!(
            seg["snippet"].as_str().unwrap().contains("<b>fellow</b>"),
            "{seg}"
        );
        // "fellow" is said from about 1.0 s (speech starts at 0.3 s: "And so my fellow…").
        let at = seg["match_ms"].as_u64().unwrap() as i64;
        assert!((at - 1000).abs() <= 1500, "match at {at} ms");
    }
    // Filters narrow the same query.
    let none = json(
        data.path(),
        &["search", "fellow", "--client", "globex", "--json"],
    );
    assert!(none.as_array().unwrap().is_empty());
    let some = json(
        data.path(),
        &["search", "fellow", "--campaign", "inauguration", "--json"],
    );
    assert_eq!(some.as_array().unwrap().len(), 3);

    // A restart (every CLI command is a new process) keeps catalog and index; a duplicate is
    // refused naming the existing call, and adds nothing.
    let calls = json(data.path(), &["calls", "--json"]);
    assert_eq!(calls.as_array().unwrap().len(), 3);
    assert!(calls
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["state"] == "indexed"));
    let again = callproof(
        data.path(),
        &[
            "--model", "tiny.en", "ingest", &paths[1], "--client", "acme",
        ],
    );
    assert!(!again.status.success());
    let msg = String::from_utf8_lossy(&again.stdout).to_string()
        + &String::from_utf8_lossy(&again.stderr);
    let mp3_call = calls
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["original_name"] == "en_jfk_16k.mp3")
        .unwrap();
    assert!(msg.contains("already ingested"), "{msg}");
    assert!(msg.contains(mp3_call["id"].as_str().unwrap()), "{msg}");
    assert_eq!(
        json(data.path(), &["calls", "--json"])
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn stereo_call_attributes_agent_and_customer() {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let data = tempfile::tempdir().unwrap();
    let wav = fixture("real/en_call_auto_repairs_stereo_ulaw8k.wav");
    ok(
        data.path(),
        &[
            "--model",
            "tiny.en",
            "ingest",
            wav.to_str().unwrap(),
            "--client",
            "acme",
            "--language",
            "en",
        ],
    );
    let speakers_of = |q: &str| -> Vec<String> {
        let hits = json(data.path(), &["search", q, "--json"]);
        hits[0]["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["speaker"].as_str().unwrap().to_string())
            .collect()
    };
    // The agent (left) greets for the dealership; the caller (right) reports the warning light.
    assert_eq!(speakers_of("\"thank you for calling\""), vec!["agent"]);
    let light = speakers_of("\"service light\"");
    assert!(
        !light.is_empty() && light.iter().all(|s| s == "customer"),
        "{light:?}"
    );
    let apology = speakers_of("inconvenience");
    assert!(
        !apology.is_empty() && apology.iter().all(|s| s == "agent"),
        "{apology:?}"
    );
    // Filtering by speaker.
    let hits = json(
        data.path(),
        &[
            "search",
            "\"service light\"",
            "--speaker",
            "agent",
            "--json",
        ],
    );
    assert!(hits.as_array().unwrap().is_empty());
}

#[test]
fn french_stereo_call_consent_is_on_the_customer_channel() {
    ensure_model("base");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let data = tempfile::tempdir().unwrap();
    let wav = data.path().join("vente.wav");
    render_call("fr_vente_consentement.txt", &wav);
    ok(
        data.path(),
        &[
            "--model",
            "base",
            "ingest",
            wav.to_str().unwrap(),
            "--client",
            "edc",
            "--language",
            "fr",
            "--started-at",
            "2026-03-02T10:15:00+01:00",
            "--channels",
            "agent,customer",
        ],
    );
    let consent = json(
        data.path(),
        &["search", "\"confirme mon accord\"", "--json"],
    );
    let segs = consent[0]["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 1, "{segs:#?}");
    assert_eq!(segs[0]["speaker"], "customer");
    // Said from 21.5 s according to the rendered script's turn table.
    let turns = std::fs::read_to_string(data.path().join("vente.turns.tsv")).unwrap();
    let said = turns
        .lines()
        .find(|l| l.contains("confirme mon accord"))
        .unwrap();
    let start: i64 = said.split('\t').nth(1).unwrap().parse().unwrap();
    let at = segs[0]["match_ms"].as_i64().unwrap();
    assert!(
        (at - start).abs() <= 1500,
        "consent at {at} ms, said at {start} ms"
    );
    let on_agent = json(
        data.path(),
        &[
            "search",
            "\"confirme mon accord\"",
            "--speaker",
            "agent",
            "--json",
        ],
    );
    assert!(on_agent.as_array().unwrap().is_empty());
    // Date filter in the call's time zone.
    let before = json(
        data.path(),
        &[
            "search",
            "accord",
            "--to",
            "2026-03-02T10:00:00+01:00",
            "--json",
        ],
    );
    assert!(before.as_array().unwrap().is_empty());
}

#[test]
fn bad_recordings_are_refused_and_leave_nothing_behind() {
    ensure_model("tiny.en");
    let data = tempfile::tempdir().unwrap();
    let cases = [
        ("formats/refused_opus.ogg", "Opus"),
        ("formats/refused_gsm.wav", "GSM 6.10"),
        ("formats/refused_truncated.wav", "truncated"),
        ("formats/refused_text.wav", "text file"),
    ];
    for (file, expected) in cases {
        let p = fixture(file);
        let out = callproof(
            data.path(),
            &[
                "--model",
                "tiny.en",
                "ingest",
                p.to_str().unwrap(),
                "--client",
                "acme",
            ],
        );
        assert!(!out.status.success(), "{file} was accepted");
        let msg = String::from_utf8_lossy(&out.stdout);
        assert!(msg.contains(expected), "{file}: {msg}");
    }
    assert!(json(data.path(), &["calls", "--json"])
        .as_array()
        .unwrap()
        .is_empty());
    let objects = data.path().join("objects");
    let stored = walk(&objects);
    assert!(stored.is_empty(), "originals left behind: {stored:?}");
    // Missing client: refused before any work.
    let p = fixture("formats/pcm_s16_16k.wav");
    let out = callproof(
        data.path(),
        &["--model", "tiny.en", "ingest", p.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--client"));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn real_french_aiff_is_transcribed_by_base() {
    ensure_model("base");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let data = tempfile::tempdir().unwrap();
    let aiff = fixture("real/fr_dictee_44k1.aiff");
    // French is the default language.
    let id = ingest_one(data.path(), "base", &aiff, &["--client", "acme"]);
    let text = normalise(&transcript_text(data.path(), &id));
    assert!(text.contains("dictée numéro"), "{text}");
    // tiny.en refuses French rather than inventing English.
    let other = tempfile::tempdir().unwrap();
    let refused = callproof(
        other.path(),
        &[
            "--model",
            "tiny.en",
            "ingest",
            aiff.to_str().unwrap(),
            "--client",
            "acme",
        ],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stdout).contains("English-only"));
    // Refused before anything was stored.
    assert!(json(other.path(), &["calls", "--json"])
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn interrupted_ingest_is_finished_by_running_it_again() {
    ensure_model("base");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let data = tempfile::tempdir().unwrap();
    let wav = data.path().join("vente.wav");
    render_call("fr_vente_consentement.txt", &wav);
    let args = [
        "--data",
        data.path().to_str().unwrap(),
        "--model",
        "base",
        "ingest",
        wav.to_str().unwrap(),
        "--client",
        "edc",
    ];
    let mut first = Command::new(bin())
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Stop it while it transcribes, as a crash or Ctrl-C would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let calls = json(data.path(), &["calls", "--json"]);
        if calls[0]["state"] == "transcribing" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never saw the call transcribing"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    first.kill().unwrap();
    let _ = first.wait();
    assert_eq!(
        json(data.path(), &["calls", "--json"])[0]["state"],
        "transcribing"
    );
    // The same command again finishes that call rather than refusing it as a duplicate.
    let out = ok(
        data.path(),
        &[
            "--model",
            "base",
            "ingest",
            wav.to_str().unwrap(),
            "--client",
            "edc",
        ],
    );
    assert!(out.contains("1 ingested"), "{out}");
    let calls = json(data.path(), &["calls", "--json"]);
    assert_eq!(calls.as_array().unwrap().len(), 1);
    assert_eq!(calls[0]["state"], "indexed");
    let hits = json(
        data.path(),
        &["search", "\"confirme mon accord\"", "--json"],
    );
    assert_eq!(hits.as_array().unwrap().len(), 1);
}

/// Speech a chunk's decoding left without words, or heard too thinly, is decoded again on its
/// own — greedily, never by sampling at rising temperatures: on the real call's customer
/// channel with tiny.en those stretches loop, and sampling each up to temperature 1.0 took 20 s
/// of the first pass's 51 s for words nobody said (BENCHMARKS.md, "twelfth session").
#[test]
fn stretches_decoded_again_on_their_own_are_decoded_greedily() {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let work = tempfile::tempdir().unwrap();
    // The caller's side (right channel) of the real call's first 95 s, 16 kHz.
    let pcm = work.path().join("caller.wav");
    let st = Command::new("sox")
        .arg(fixture("real/en_call_auto_repairs_stereo_ulaw8k.wav"))
        .args(["-r", "16000", "-b", "16", "-e", "signed"])
        .arg(&pcm)
        .args(["remix", "2", "trim", "0", "95"])
        .status()
        .expect("sox (run scripts/setup.sh)");
    assert!(st.success());
    let samples: Vec<f32> = hound::WavReader::open(&pcm)
        .unwrap()
        .samples::<i16>()
        .map(|x| f32::from(x.unwrap()) / 32768.0)
        .collect();
    let model = callproof_transcribe::ModelCache::from_env()
        .get("tiny.en")
        .expect("tiny.en installed");
    let engine =
        callproof_transcribe::Engine::load(&model.path, &model.name, &model.sha256).unwrap();
    let opts = callproof_transcribe::TranscribeOptions::new("en", 2);
    let (segments, decodings) = engine
        .transcribe_counted(&samples, callproof_models::Speaker::Customer, 1, &opts)
        .unwrap();
    assert!(!segments.is_empty());
    assert!(
        decodings.alone.calls > 0,
        "no stretch decoded again: {decodings}"
    );
    assert_eq!(decodings.alone_resampled.calls, 0, "{decodings}");
    // The chunks themselves still fall back to sampling where their decoding is poor, as
    // Whisper and faster-whisper do.
    assert!(decodings.chunks.calls > 0, "{decodings}");
    // The work is counted with the calls: each encodes its stretch and a second more, within
    // Whisper's 30 s window, and decodes at least one token for each word kept.
    let total = decodings.total();
    let calls = f64::from(total.calls);
    assert!(
        total.encoded_s >= calls && total.encoded_s <= 30.0 * calls,
        "{decodings}"
    );
    let words: usize = segments.iter().map(|s| s.words.len()).sum();
    assert!(total.tokens >= words as u64, "{words} words: {decodings}");
}
