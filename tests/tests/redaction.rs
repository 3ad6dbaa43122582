//! Redaction end to end: calls where a customer reads a test card number (Luhn-valid), its
//! expiry and code, and an IBAN, in French and English, through the real recogniser. After
//! ingestion no digit of them is in the catalog, the index, an export or a bundle; the audio
//! over the spans is silent and the rest unchanged; the original is gone; an order reference
//! said before any payment question (it fails Luhn) is left alone.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// Digit groups of the card (4970 1012 3456 7893, code 737) and the IBAN (FR76 3000 6000 0112
/// 3456 7890 189) that must appear nowhere.
const SECRETS: &[&str] = &["4970", "1012", "3456", "7893", "0112", "7890", "6000"];

fn render(script: &str, out: &Path) {
    let ok = Command::new(root().join("tests/scripts/render-call.sh"))
        .arg(root().join("tests/redaction").join(script))
        .arg(out)
        .status()
        .expect("render-call.sh (needs espeak-ng, mbrola voices and sox: run scripts/setup.sh)")
        .success();
    assert!(ok, "rendering {script} failed");
}

/// RMS amplitude of one channel (1-based) of a WAV between two times, by sox.
fn rms(file: &Path, channel: u32, from_ms: u64, to_ms: u64) -> f64 {
    let out = Command::new("sox")
        .arg(file)
        .arg("-n")
        .args(["remix", &channel.to_string()])
        .args([
            "trim",
            &format!("{:.3}", from_ms as f64 / 1000.0),
            &format!("={:.3}", to_ms as f64 / 1000.0),
        ])
        .arg("stat")
        .output()
        .expect("sox");
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    text.lines()
        .find(|l| l.starts_with("RMS     amplitude"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RMS from sox: {text}"))
}

/// Every text value of every table of the catalog.
fn catalog_text(data: &Path) -> String {
    let db = rusqlite::Connection::open_with_flags(
        data.join("catalog.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut all = String::new();
    for t in tables {
        let mut stmt = db.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for i in 0..n {
                if let Ok(s) = r.get::<_, String>(i) {
                    all.push_str(&readable(&s));
                    all.push('\n');
                }
            }
        }
    }
    all
}

/// The words a person could read in `text`: for JSON, its string values (not the numbers:
/// times and probabilities), without digests, ids and timestamps (which may hold any digits).
fn readable(text: &str) -> String {
    fn leaves(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| leaves(x, out)),
            _ => {}
        }
    }
    let mut plain = String::new();
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => leaves(&v, &mut plain),
        Err(_) => plain.push_str(text),
    }
    plain
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>' || c == '/')
        .filter(|w| {
            let hexish = w.len() >= 16 && w.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
            // RFC 3339 times carry nanoseconds, which may hold any four digits
            // ("05:39:26.613314970+00:00" once failed this test), with "Z" or an offset.
            let time = w.len() >= 20
                && w.as_bytes().get(10) == Some(&b'T')
                && w.chars()
                    .all(|c| c.is_ascii_digit() || "-:.T+Z".contains(c));
            !hexish && !time
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn assert_no_secret(what: &str, text: &str) {
    let text = readable(text);
    for s in SECRETS {
        assert!(!text.contains(s), "{what} holds {s}:\n{text}");
    }
}

#[test]
fn card_data_is_redacted_everywhere_in_french_and_english() {
    ensure_model("tiny.en");
    ensure_model("base");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let keys = tempfile::tempdir().unwrap();
    let sk = keys.path().join("signing.key");
    let sk = sk.to_str().unwrap();
    ok(d, &["--signing-key", sk, "keys", "init"]);
    let work = tempfile::tempdir().unwrap();
    let mut calls = Vec::new();
    for (script, model, lang) in [
        ("fr_paiement_carte.txt", "base", "fr"),
        ("en_card_payment.txt", "tiny.en", "en"),
    ] {
        let wav = work.path().join(script.replace(".txt", ".wav"));
        render(script, &wav);
        let id = ingest_one(d, model, &wav, &["--client", "acme", "--language", lang]);
        calls.push((id, wav));
    }

    for (id, wav) in &calls {
        // What was removed, and why: payment spans on the customer's side, none before the
        // first payment question (the order reference stays).
        let db = rusqlite::Connection::open(d.join("catalog.sqlite")).unwrap();
        let record: String = db
            .query_row(
                "SELECT json FROM redactions WHERE call_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("no redaction recorded for {id}: {e}"));
        let record: serde_json::Value = serde_json::from_str(&record).unwrap();
        let spans = record["spans"].as_array().unwrap();
        assert!(spans.len() >= 3, "{record}");
        let turns = std::fs::read_to_string(wav.with_extension("turns.tsv")).unwrap();
        let question = turns
            .lines()
            .find(|l| l.contains("paiement") || l.contains("payment"))
            .and_then(|l| l.split('\t').nth(1))
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap();
        for s in spans {
            assert!(s["start_ms"].as_u64().unwrap() >= question, "{s}");
            assert_eq!(s["speaker"], "customer", "{s}");
        }
        assert_eq!(record["original_kept"], false);

        // The store holds the redacted recording only; the call points at it.
        let folder = d.join("objects/clients/acme/calls").join(id);
        let names: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, vec!["redacted.wav".to_string()], "{names:?}");
        let redacted = folder.join("redacted.wav");

        // The customer's channel is silent over every span; the agent's side before the first
        // span is what was recorded.
        for s in spans {
            let (a, b) = (
                s["start_ms"].as_u64().unwrap(),
                s["end_ms"].as_u64().unwrap(),
            );
            assert!(rms(&redacted, 2, a, b) < 1e-4, "span {s} is not silent");
        }
        let first = spans[0]["start_ms"].as_u64().unwrap();
        let (before, after) = (
            rms(wav, 1, 0, first - 300),
            rms(&redacted, 1, 0, first - 300),
        );
        assert!(
            before > 0.01 && (before - after).abs() < 1e-3,
            "{before} vs {after}"
        );

        // No digit of the card, code or IBAN in the transcript, the findings, the bundle.
        let transcript = ok(d, &["transcript", id, "--json"]);
        assert_no_secret("the transcript", &transcript);
        assert!(
            transcript.contains("[CARTE]") || transcript.contains("[CARD]"),
            "{transcript}"
        );
        let bundle = work.path().join(format!("{id}.zip"));
        ok(
            d,
            &[
                "--signing-key",
                sk,
                "evidence",
                id,
                "-o",
                bundle.to_str().unwrap(),
                "--include-original",
            ],
        );
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&bundle).unwrap()).unwrap();
        // The bundle says what was removed and carries the redacted recording.
        let manifest: serde_json::Value = {
            let mut f = zip.by_name("manifest.json").unwrap();
            serde_json::from_reader(&mut f).unwrap()
        };
        assert_eq!(manifest["redaction"]["spans"], record["spans"]);
        assert_eq!(
            manifest["original"]["sha256"], record["redacted_sha256"],
            "the recording in the bundle is the redacted one"
        );
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).unwrap();
            let name = f.name().unwrap().to_string();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
            if !name.ends_with(".wav") {
                assert_no_secret(&name, &String::from_utf8_lossy(&bytes));
            }
        }
    }
    assert_no_secret("the catalog", &catalog_text(d));
    let export = ok(d, &["export", "findings", "--client", "acme"]);
    assert_no_secret("the findings export", &export);
    for s in SECRETS {
        let hits = json(d, &["search", s, "--json"]);
        assert_eq!(hits.as_array().map(Vec::len), Some(0), "{s}: {hits}");
    }
}
