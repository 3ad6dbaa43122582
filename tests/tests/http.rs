//! The HTTP API against a real `callproof serve` on loopback: upload, state, transcript,
//! audio with Range, search, errors, and a restart that loses nothing.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use reqwest::blocking::{multipart, Client};
use reqwest::StatusCode;

type Server = Served;

fn start(data: &Path) -> Server {
    serve(data, &["--model", "tiny.en"])
}

fn upload(c: &Client, s: &Server, file: &Path, meta: &str) -> reqwest::blocking::Response {
    let form = multipart::Form::new()
        .part(
            "audio",
            multipart::Part::bytes(std::fs::read(file).unwrap())
                .file_name(file.file_name().unwrap().to_string_lossy().to_string()),
        )
        .text("metadata", meta.to_string());
    c.post(format!("{}/api/v1/calls", s.base))
        .multipart(form)
        .send()
        .unwrap()
}

fn wait_indexed(c: &Client, s: &Server, id: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let call: serde_json::Value = c
            .get(format!("{}/api/v1/calls/{id}", s.base))
            .send()
            .unwrap()
            .json()
            .unwrap();
        match call["state"].as_str() {
            Some("indexed") => return call,
            Some("failed") => panic!("call failed: {call}"),
            _ if Instant::now() > deadline => panic!("not indexed in time: {call}"),
            _ => std::thread::sleep(Duration::from_millis(300)),
        }
    }
}

#[test]
fn http_api_end_to_end_and_restart() {
    ensure_model("tiny.en");
    ensure_model("speaker");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let data = tempfile::tempdir().unwrap();
    let token = ok(
        data.path(),
        &["keys", "create", "--role", "admin", "--name", "test"],
    );
    let mut auth = reqwest::header::HeaderMap::new();
    auth.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {}", token.trim()).parse().unwrap(),
    );
    let c = Client::builder()
        .timeout(Duration::from_secs(60))
        .default_headers(auth)
        .build()
        .unwrap();
    // Without a key the API answers 401 and says how to get one; health stays open.
    let anonymous = Client::new();
    let wav = fixture("real/en_jfk_16k_mono.wav");
    let original = std::fs::read(&wav).unwrap();
    let id;
    {
        let s = start(data.path());
        let r = anonymous
            .get(format!("{}/api/v1/search?q=x", s.base))
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let err: serde_json::Value = r.json().unwrap();
        assert!(
            err["error"].as_str().unwrap().contains("Authorization"),
            "{err}"
        );
        let health: serde_json::Value = c
            .get(format!("{}/healthz", s.base))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(health["status"], "ok");

        let r = upload(
            &c,
            &s,
            &wav,
            r#"{"client":"acme","language":"en","agent":"a7"}"#,
        );
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let call: serde_json::Value = r.json().unwrap();
        id = call["id"].as_str().unwrap().to_string();
        assert_eq!(location, format!("/api/v1/calls/{id}"));
        let call = wait_indexed(&c, &s, &id);
        assert_eq!(call["metadata"]["agent"], "a7");
        assert_eq!(call["audio"]["duration_ms"], 11000);

        let t: serde_json::Value = c
            .get(format!("{}/api/v1/calls/{id}/transcript", s.base))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let seg = &t["segments"][0];
        // A mono recording of one voice: told by voice, the only speaker is taken as the agent.
        assert_eq!(seg["speaker"], "agent");
        assert_eq!(seg["attribution"]["source"], "diarization");
        // Each word is timed, and a word stays in the pause-bounded turn it was said in:
        // "ask not" comes after a pause, so the first turn ends on "Americans".
        let first_turn = seg["words"].as_array().unwrap();
        assert!(first_turn.len() >= 4, "{seg}");
        let last = first_turn.last().and_then(|w| w["text"].as_str()).unwrap();
        assert_eq!(normalise(last).trim(), "americans", "{seg}");
        let words: usize = t["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["words"].as_array().map_or(0, Vec::len))
            .sum();
        assert!(words > 15, "{t}");
        assert!(normalise(seg["text"].as_str().unwrap()).contains("fellow americans"));

        // The original, unchanged, whole and by range.
        let whole = c
            .get(format!("{}/api/v1/calls/{id}/audio", s.base))
            .send()
            .unwrap();
        assert_eq!(whole.status(), StatusCode::OK);
        assert_eq!(whole.headers()["accept-ranges"], "bytes");
        assert_eq!(whole.headers()["content-type"], "audio/wav");
        assert_eq!(whole.bytes().unwrap().as_ref(), original.as_slice());
        let part = c
            .get(format!("{}/api/v1/calls/{id}/audio", s.base))
            .header("Range", "bytes=100-199")
            .send()
            .unwrap();
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            part.headers()["content-range"].to_str().unwrap(),
            format!("bytes 100-199/{}", original.len())
        );
        assert_eq!(part.bytes().unwrap().as_ref(), &original[100..200]);
        let beyond = c
            .get(format!("{}/api/v1/calls/{id}/audio", s.base))
            .header("Range", format!("bytes={}-", original.len() + 10))
            .send()
            .unwrap();
        assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);

        // Search with filters.
        let hits: serde_json::Value = c
            .get(format!("{}/api/v1/search", s.base))
            .query(&[
                ("q", "\"fellow americans\""),
                ("client", "acme"),
                ("agent", "a7"),
            ])
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(hits["calls"][0]["call_id"], id.as_str());
        assert!(
            hits["calls"][0]["segments"][0]["match_ms"]
                .as_u64()
                .unwrap()
                < 2500
        );
        // An unencoded "+" in the offset is forgiven; the call has no start time, so a date
        // filter excludes it.
        let dated: serde_json::Value = c
            .get(format!(
                "{}/api/v1/search?q=fellow&from=2026-01-01T00:00:00+01:00",
                s.base
            ))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert!(dated["calls"].as_array().unwrap().is_empty(), "{dated}");
        let bad_time = c
            .get(format!("{}/api/v1/search?q=x&from=yesterday", s.base))
            .send()
            .unwrap();
        assert_eq!(bad_time.status(), StatusCode::BAD_REQUEST);
        let bad = c
            .get(format!("{}/api/v1/search?q=x&speaker=boss", s.base))
            .send()
            .unwrap();
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let err: serde_json::Value = bad.json().unwrap();
        assert!(err["error"].as_str().unwrap().contains("speaker"), "{err}");

        // Errors a person understands, as JSON.
        let dup = upload(&c, &s, &wav, r#"{"client":"acme"}"#);
        assert_eq!(dup.status(), StatusCode::CONFLICT);
        let err: serde_json::Value = dup.json().unwrap();
        assert!(err["error"].as_str().unwrap().contains(&id), "{err}");
        let text = upload(
            &c,
            &s,
            &fixture("formats/refused_text.wav"),
            r#"{"client":"acme"}"#,
        );
        assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let french = upload(
            &c,
            &s,
            &fixture("real/fr_dictee_44k1.aiff"),
            r#"{"client":"acme","language":"fr"}"#,
        );
        assert_eq!(french.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let err: serde_json::Value = french.json().unwrap();
        assert!(
            err["error"].as_str().unwrap().contains("English-only"),
            "{err}"
        );
        let no_meta = c
            .post(format!("{}/api/v1/calls", s.base))
            .multipart(
                multipart::Form::new().part("audio", multipart::Part::bytes(original.clone())),
            )
            .send()
            .unwrap();
        assert_eq!(no_meta.status(), StatusCode::BAD_REQUEST);
        let missing = c
            .get(format!(
                "{}/api/v1/calls/01a21c99-0000-7000-8000-000000000000",
                s.base
            ))
            .send()
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let err: serde_json::Value = missing.json().unwrap();
        assert!(err["error"].as_str().unwrap().contains("no call"));
    }
    // Killed mid-upload-queue: a call accepted just before the stop is finished after restart.
    let pending;
    {
        let s = start(data.path());
        let r = upload(
            &c,
            &s,
            &fixture("real/en_jfk_16k.mp3"),
            r#"{"client":"acme","language":"en"}"#,
        );
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let call: serde_json::Value = r.json().unwrap();
        pending = call["id"].as_str().unwrap().to_string();
    }
    let s = start(data.path());
    let call = wait_indexed(&c, &s, &id);
    assert_eq!(call["state"], "indexed");
    wait_indexed(&c, &s, &pending);
    let hits: serde_json::Value = c
        .get(format!("{}/api/v1/search", s.base))
        .query(&[("q", "country")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(hits["calls"].as_array().unwrap().len(), 2, "{hits}");

    // Every call is verified after transcription: English calls with the en-sales pack.
    let findings: serde_json::Value = c
        .get(format!("{}/api/v1/calls/{id}/findings", s.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(findings["ruleset"]["id"], "en-sales", "{findings}");
    assert_eq!(findings["ruleset"]["builtin"], true);
    let verdict = findings["verdict"].as_str().unwrap().to_string();
    assert!(findings["findings"].as_array().unwrap().len() >= 6);
    // Search filters by verdict.
    let hits: serde_json::Value = c
        .get(format!("{}/api/v1/search", s.base))
        .query(&[("q", "country"), ("verdict", verdict.as_str())])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(!hits["calls"].as_array().unwrap().is_empty(), "{hits}");
    let r = c
        .get(format!("{}/api/v1/search?q=x&verdict=guilty", s.base))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Rule sets: none yet, a malformed one is refused with line and field, a valid one stored.
    let rules_url = format!("{}/api/v1/clients/acme/rules", s.base);
    let r = c.get(&rules_url).send().unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c
        .put(&rules_url)
        .body("[ruleset]\nextends = \"en-sales\"\n\n[[rule]]\nid = \"greeting\"\nkind = \"required\"\nsay = \"hello\"\n")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: serde_json::Value = r.json().unwrap();
    assert_eq!(err["line"], 7, "{err}");
    assert_eq!(err["field"], "say", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("sequence"),
        "{err}"
    );
    let r = c
        .put(&rules_url)
        .body("[ruleset]\nextends = \"en-sales\"\ndisable = [\"min_duration\"]\n\n[[rule]]\nid = \"fellow_americans\"\nkind = \"required\"\nspeaker = \"any\"\nsay = [\"my fellow americans\"]\n")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let stored: serde_json::Value = r.json().unwrap();
    assert_eq!(stored["version"], 1, "{stored}");
    let active: serde_json::Value = c.get(&rules_url).send().unwrap().json().unwrap();
    assert!(active["source"]
        .as_str()
        .unwrap()
        .contains("fellow_americans"));
    // Re-checking the archive uses it, without transcribing again.
    let report: serde_json::Value = c
        .post(format!("{}/api/v1/clients/acme/verify", s.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(report["calls"], 2, "{report}");
    assert_eq!(report["rulesets"][0]["id"], "acme");
    let findings: serde_json::Value = c
        .get(format!("{}/api/v1/calls/{id}/findings", s.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let fellow = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "fellow_americans")
        .expect("the client's own rule");
    assert_eq!(fellow["outcome"], "met", "{fellow}");
    assert!(fellow["start_ms"].as_u64().is_some());
    assert!(!findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule_id"] == "min_duration"));
}

/// `/metrics`: Prometheus text for an administrator's key — the queue's depth and the calls
/// by state for the whole catalog, requests by route template, search latency; refused to
/// anyone else.
#[test]
fn metrics_show_the_queue_and_requests_to_administrators_only() {
    ensure_model("tiny.en");
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    ok(
        d,
        &[
            "ingest",
            "--queue-only",
            fixture("real/en_jfk_16k_mono.wav").to_str().unwrap(),
            "--client",
            "acme",
            "--language",
            "en",
        ],
    );
    let admin = ok(d, &["keys", "create", "--role", "admin"]);
    let client = ok(
        d,
        &["keys", "create", "--role", "client", "--client", "acme"],
    );
    let server = serve_with(d, &["--model", "tiny.en"], &["--workers", "0"]);
    let base = &server.base;
    let anonymous = reqwest::blocking::Client::new();
    assert_eq!(
        anonymous
            .get(format!("{base}/metrics"))
            .send()
            .unwrap()
            .status(),
        reqwest::StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        bearer_client(&client)
            .get(format!("{base}/metrics"))
            .send()
            .unwrap()
            .status(),
        reqwest::StatusCode::FORBIDDEN
    );
    // The API's OpenAPI document is public (it describes the API, no data).
    let doc: serde_json::Value = anonymous
        .get(format!("{base}/api/v1/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        doc["paths"]["/api/v1/calls/{id}/findings"]["get"].is_object(),
        "{doc}"
    );
    assert!(
        doc["components"]["schemas"]["Verification"].is_object(),
        "{doc}"
    );
    let c = bearer_client(&admin);
    c.get(format!("{base}/healthz")).send().unwrap();
    c.get(format!("{base}/api/v1/search?q=country"))
        .send()
        .unwrap();
    c.get(format!("{base}/api/v1/calls/nope")).send().unwrap();
    let r = c.get(format!("{base}/metrics")).send().unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = r.text().unwrap();
    for line in [
        "callproof_jobs{kind=\"transcribe\",state=\"queued\"} 1",
        "callproof_jobs{kind=\"transcribe\",state=\"dead\"} 0",
        "callproof_calls{state=\"received\"} 1",
        "callproof_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1",
        "callproof_http_requests_total{route=\"/api/v1/calls/{id}\",method=\"GET\",status=\"404\"} 1",
        "callproof_search_seconds_count 1",
    ] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
    // Labels are route templates, never raw paths.
    assert!(!text.contains("/api/v1/calls/nope"), "{text}");
    assert!(
        text.contains("callproof_transcription_seconds_per_audio_second 0.0"),
        "nothing transcribed yet: {text}"
    );
    // A worker in another process transcribes the call: the speed is read from the catalog.
    ok(d, &["--model", "tiny.en", "worker", "--until-idle"]);
    let text = c
        .get(format!("{base}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
            .parse()
            .unwrap()
    };
    let speed = value("callproof_transcription_seconds_per_audio_second");
    assert!(speed > 0.0 && speed < 20.0, "{speed}");
    let audio = value("callproof_transcribed_audio_seconds_last_hour");
    assert!((10.0..12.0).contains(&audio), "JFK is 11 s: {audio}");
}
