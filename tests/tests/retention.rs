//! Retention, legal holds and erasure through the command line on real calls: what expired
//! disappears from the catalog, the object store, the index and search; a held call survives
//! retention and erasure until a second person releases the hold; after erasure the index holds
//! nothing of the customer and the audit chain still verifies, without the customer in it.

mod common;

use std::path::Path;

use common::*;

fn call_ids(d: &Path) -> Vec<String> {
    json(d, &["calls", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

fn objects(d: &Path, id: &str) -> usize {
    std::fs::read_dir(d.join("objects/clients/acme/calls").join(id))
        .map(|r| r.count())
        .unwrap_or(0)
}

fn hits_for_phone(d: &Path, phone: &str) -> usize {
    json(d, &["search", "", "--phone", phone, "--json"])
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn retention_holds_and_erasure() {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let ingest = |file: &str, started: &str, phone: &str| {
        ingest_one(
            d,
            "tiny.en",
            &fixture(file),
            &[
                "--client",
                "acme",
                "--language",
                "en",
                "--started-at",
                started,
                "--customer-phone",
                phone,
            ],
        )
    };
    // Old (past 12 months), middle (past 6), recent; and an old one that will be held.
    let old = ingest(
        "formats/pcm_s16_16k.wav",
        "2025-06-01T10:00:00+02:00",
        "06 11 11 11 11",
    );
    let middle = ingest(
        "formats/flac_16k.flac",
        "2026-04-01T10:00:00+02:00",
        "06 22 22 22 22",
    );
    let recent = ingest(
        "formats/mp3_16k.mp3",
        "2026-11-01T10:00:00+01:00",
        "06 11 11 11 11",
    );
    let held = ingest(
        "formats/vorbis_16k.ogg",
        "2025-06-02T10:00:00+02:00",
        "06 33 33 33 33",
    );
    let now = "2026-11-29T12:00:00+01:00";
    let hold = json(
        d,
        &[
            "hold",
            "place",
            "--client",
            "acme",
            "--call",
            &held,
            "--reason",
            "litige 2026-117",
            "--by",
            "alice",
        ],
    );
    let hold_id = hold["id"].as_str().unwrap().to_string();

    // A dry run says what would go and deletes nothing.
    let dry = json(d, &["retention", "run", "--dry-run", "--now", now]);
    assert_eq!(dry["calls_deleted"], serde_json::json!([old]), "{dry}");
    assert_eq!(
        dry["recordings_deleted"],
        serde_json::json!([middle]),
        "{dry}"
    );
    assert_eq!(dry["held"], serde_json::json!([held]), "{dry}");
    assert_eq!(call_ids(d).len(), 4);
    assert_eq!(objects(d, &old), 1);

    // The run: the old call is gone everywhere, the middle one keeps its analyses only.
    let run = json(d, &["retention", "run", "--now", now]);
    assert_eq!(run["calls_deleted"], serde_json::json!([old]), "{run}");
    let ids = call_ids(d);
    assert!(!ids.contains(&old) && ids.contains(&middle) && ids.contains(&held));
    assert_eq!(objects(d, &old), 0);
    assert_eq!(objects(d, &middle), 0, "the recording is deleted");
    assert!(
        !transcript_text(d, &middle).is_empty(),
        "the transcript stays"
    );
    assert_eq!(
        hits_for_phone(d, "06 11 11 11 11"),
        1,
        "only the recent call"
    );
    assert_eq!(objects(d, &held), 1, "held");

    // Releasing a hold takes two different people.
    ok(d, &["hold", "release", &hold_id, "--by", "alice"]);
    let again = callproof(d, &["hold", "release", &hold_id, "--by", "alice"]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("second, different person"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        json(d, &["retention", "run", "--now", now])["held"],
        serde_json::json!([held])
    );
    ok(d, &["hold", "release", &hold_id, "--by", "bob"]);
    let run = json(d, &["retention", "run", "--now", now]);
    assert_eq!(run["calls_deleted"], serde_json::json!([held]), "{run}");
    assert!(!call_ids(d).contains(&held));

    // Erasure: a held customer is reported and kept; another is erased from everywhere.
    ok(
        d,
        &[
            "hold",
            "place",
            "--client",
            "acme",
            "--phone",
            "+33622222222",
            "--reason",
            "litige",
            "--by",
            "alice",
        ],
    );
    let erased = json(
        d,
        &["erase", "--client", "acme", "--phone", "06 22 22 22 22"],
    );
    assert_eq!(erased["held"], serde_json::json!([middle]), "{erased}");
    assert_eq!(erased["erased"], serde_json::json!([]), "{erased}");
    let archive = d.join("subject.zip");
    let out = ok(
        d,
        &[
            "export-subject",
            "--client",
            "acme",
            "--phone",
            "06 22 22 22 22",
            "-o",
            archive.to_str().unwrap(),
        ],
    );
    assert!(out.starts_with("1 call written"), "{out}");
    let zip = zip::ZipArchive::new(std::fs::File::open(&archive).unwrap()).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().to_string()).collect();
    assert!(
        names.contains(&format!("{middle}/transcript.json")),
        "{names:?}"
    );
    let erased = json(
        d,
        &["erase", "--client", "acme", "--phone", "06 11 11 11 11"],
    );
    assert_eq!(erased["erased"], serde_json::json!([recent]), "{erased}");
    assert_eq!(hits_for_phone(d, "06 11 11 11 11"), 0);
    assert_eq!(objects(d, &recent), 0);
    assert!(!call_ids(d).contains(&recent));

    // The audit log: intact, says that erasures happened and how many calls, never whose.
    assert!(ok(d, &["audit", "verify"]).contains("intact"));
    let log = ok(d, &["audit", "list", "--action", "erase", "--json"]);
    let entries: serde_json::Value = serde_json::from_str(&log).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 2);
    assert_eq!(entries[1]["outcome"], "erased 1 call; 0 held");
    let all = ok(d, &["audit", "list", "--json"]);
    assert!(
        !all.contains("61111") && !all.contains("11 11"),
        "the audit log names the customer"
    );
    assert!(
        all.contains("place_hold") && all.contains("release_hold") && all.contains("retention_run")
    );
}
