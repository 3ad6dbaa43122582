//! The work queue against a real server: a recording that crashes its worker process is
//! retried, then dead-lettered with its reason, while the server keeps answering and other
//! calls go through.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use reqwest::blocking::multipart;
use reqwest::StatusCode;

#[test]
fn a_call_that_kills_its_worker_is_dead_lettered_and_the_server_lives() {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let token = ok(d, &["keys", "create", "--role", "admin"])
        .trim()
        .to_string();
    // The crash drill makes a worker abort (SIGABRT) on the call whose file is boom.wav, as a
    // crash inside a decoder or whisper.cpp would.
    let mut child = Command::new(bin())
        .arg("--data")
        .arg(d)
        .args(["--model", "tiny.en", "serve", "--listen", "127.0.0.1:0"])
        .env("CALLPROOF_CRASH_DRILL", "boom.wav")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start callproof serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let server = KillOnDrop(child);
    let base = loop {
        let line = lines.next().expect("server exited").expect("server output");
        if let Some(url) = line.strip_prefix("callproof listening on ") {
            break url.trim().to_string();
        }
    };
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            let mut g = sink.lock().unwrap_or_else(|p| p.into_inner());
            g.push_str(&l);
            g.push('\n');
        }
    });
    let c = bearer_client(&token);
    let upload = |name: &str, file: &str| -> String {
        let form = multipart::Form::new()
            .part(
                "audio",
                multipart::Part::bytes(std::fs::read(fixture(file)).unwrap())
                    .file_name(name.to_string()),
            )
            .text("metadata", r#"{"client":"acme","language":"en"}"#);
        let r = c
            .post(format!("{base}/api/v1/calls"))
            .multipart(form)
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        r.json::<serde_json::Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let boom = upload("boom.wav", "real/en_jfk_16k_mono.wav");
    let fine = upload("fine.mp3", "real/en_jfk_16k.mp3");
    let state = |id: &str| -> serde_json::Value {
        c.get(format!("{base}/api/v1/calls/{id}"))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(240);
    let (boom_call, fine_call) = loop {
        let (b, f) = (state(&boom), state(&fine));
        let done =
            |v: &serde_json::Value| matches!(v["state"].as_str(), Some("failed" | "indexed"));
        if done(&b) && done(&f) {
            break (b, f);
        }
        assert!(
            Instant::now() < deadline,
            "not settled in time: {b}\n{f}\n{}",
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(fine_call["state"], "indexed", "{fine_call}");
    assert_eq!(boom_call["state"], "failed", "{boom_call}");
    let reason = boom_call["reason"].as_str().unwrap_or_default().to_string();
    assert!(
        reason.contains("3 attempts") && reason.contains("SIGABRT"),
        "{reason}"
    );
    // The server answered throughout and still does.
    let health = reqwest::blocking::get(format!("{base}/healthz")).unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    // Three workers died, each on the drill call; the queue shows it dead-lettered.
    let stderr = log.lock().unwrap().clone();
    assert_eq!(stderr.matches("killed by signal 6").count(), 3, "{stderr}");
    drop(server);
    let dead = json(d, &["jobs", "--state", "dead", "--json"]);
    let dead = dead.as_array().unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["call_id"], boom.as_str());
    assert_eq!(dead[0]["attempts"], 3);
    assert!(json(d, &["jobs", "--state", "running", "--json"])
        .as_array()
        .unwrap()
        .is_empty());
}
