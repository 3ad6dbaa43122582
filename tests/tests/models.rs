//! Model installation from every kind of source: a known name stored as q8_0 or bf16, a ggml file,
//! and an http(s) URL (served on loopback), each checksummed and loadable.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn q8_0_conversion_transcribes_jfk() {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let scratch = tempfile::tempdir().unwrap();
    ok(scratch.path(), &["model", "install", "tiny.en", "--q8"]);
    // The same variant by name.
    let again = ok(scratch.path(), &["model", "install", "tiny.en-q8_0"]);
    assert!(again.contains("installed tiny.en-q8_0 (q8_0"), "{again}");
    let list = json(scratch.path(), &["model", "list", "--json"]);
    let (q8, f16) = (listed(&list, "tiny.en-q8_0"), listed(&list, "tiny.en"));
    assert_eq!(q8["weights"], "q8_0");
    // q8_0 stores 34 bytes per 32 weights instead of 64.
    assert!(q8["size_bytes"].as_u64().unwrap() < f16["size_bytes"].as_u64().unwrap() * 7 / 10);
    transcribes_jfk(scratch.path(), &q8);
}

#[test]
fn bf16_conversion_transcribes_jfk() {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let scratch = tempfile::tempdir().unwrap();
    let out = ok(
        scratch.path(),
        &["model", "install", "tiny.en", "--weights", "bf16"],
    );
    assert!(out.contains("installed tiny.en-bf16 (bf16"), "{out}");
    // A name and an option that disagree are refused, not settled silently.
    let clash = callproof(
        scratch.path(),
        &["model", "install", "tiny.en-bf16", "--weights", "q8_0"],
    );
    assert!(!clash.status.success());
    let err = String::from_utf8_lossy(&clash.stderr);
    assert!(err.contains("names bf16 weights"), "{err}");
    let list = json(scratch.path(), &["model", "list", "--json"]);
    let (bf16, f16) = (listed(&list, "tiny.en-bf16"), listed(&list, "tiny.en"));
    assert_eq!(bf16["weights"], "bf16");
    // Two bytes a weight, as f16, but another file.
    assert_eq!(bf16["size_bytes"], f16["size_bytes"]);
    assert_ne!(bf16["sha256"], f16["sha256"]);
    transcribes_jfk(scratch.path(), &bf16);
}

/// The entry `model list --json` gives for `name`.
fn listed(list: &serde_json::Value, name: &str) -> serde_json::Value {
    list.as_array()
        .and_then(|a| a.iter().find(|m| m["name"] == name))
        .unwrap_or_else(|| panic!("{name} not listed: {list}"))
        .clone()
}

/// Ingests JFK's speech with the installed `model` (a `model list` entry): the words come out
/// and the transcript names the model and its checksum.
fn transcribes_jfk(data: &std::path::Path, model: &serde_json::Value) {
    let name = model["name"].as_str().expect("model name");
    let wav = fixture("real/en_jfk_16k_mono.wav");
    let id = ingest_one(data, name, &wav, &["--client", "acme", "--language", "en"]);
    let text = transcript_text(data, &id);
    assert!(
        normalise(&text).contains("ask not what your country can do for you"),
        "{text}"
    );
    let t = json(data, &["transcript", &id, "--json"]);
    assert_eq!(t["model"], name);
    assert_eq!(t["model_sha256"], model["sha256"]);
}

#[test]
fn ggml_file_and_url_sources_install_with_checksums() {
    ensure_model("tiny.en");
    let scratch = tempfile::tempdir().unwrap();
    let list = json(scratch.path(), &["model", "list", "--json"]);
    let tiny = listed(&list, "tiny.en");
    let cache = scratch.path().join("cache");
    let models = |args: &[&str]| {
        Command::new(bin())
            .env("CALLPROOF_MODELS", &cache)
            .args(args)
            .output()
            .unwrap()
    };
    // From a ggml file: copied, same checksum.
    let served = scratch.path().join("www");
    std::fs::create_dir_all(&served).unwrap();
    let file = served.join("ggml-tiny-copy.bin");
    let source = std::path::PathBuf::from(tiny["ct2_dir"].as_str().unwrap())
        .parent()
        .and_then(|p| p.parent())
        .unwrap()
        .join(tiny["file"].as_str().unwrap());
    std::fs::copy(&source, &file).unwrap();
    let out = models(&["model", "install", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = models(&["model", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["name"], "tiny-copy");
    assert_eq!(list[0]["sha256"], tiny["sha256"]);

    // From a URL on loopback.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(&served)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 http.server");
    let url = format!("http://127.0.0.1:{port}/ggml-tiny-copy.bin");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = models(&["model", "install", &url, "--name", "tiny-url"]);
    let missing = models(&[
        "model",
        "install",
        &format!("http://127.0.0.1:{port}/nothing.bin"),
    ]);
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = models(&["model", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_url = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "tiny-url")
        .unwrap();
    assert_eq!(by_url["sha256"], tiny["sha256"]);
    assert_eq!(by_url["source"], url.as_str());
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("downloading"));

    // A file that is not a model is refused and not listed.
    let junk = served.join("notes.bin");
    std::fs::write(&junk, b"not a model at all").unwrap();
    let out = models(&["model", "install", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a ggml Whisper model"));
    let out = models(&["model", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
}
