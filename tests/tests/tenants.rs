//! Disputes and proof of consent against a real server: tenant isolation on every endpoint,
//! revoked keys, look-up by phone and contract, audio excerpts, signed evidence bundles checked
//! byte by byte, and the hash-chained audit log.

mod common;

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use reqwest::blocking::{multipart, Client};
use reqwest::StatusCode;

struct Env {
    data: tempfile::TempDir,
    signing_key: PathBuf,
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(bin())
            .arg("--data")
            .arg(self.data.path())
            .arg("--signing-key")
            .arg(&self.signing_key)
            .args(args)
            .output()
            .expect("run callproof")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "callproof {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    fn key(&self, role: &str, clients: &[&str]) -> String {
        let mut args = vec!["keys", "create", "--role", role];
        for c in clients {
            args.extend(["--client", c]);
        }
        self.ok(&args).trim().to_string()
    }
}

type Server = Served;

fn start(env: &Env) -> Server {
    serve(
        env.data.path(),
        &[
            "--signing-key",
            env.signing_key.to_str().unwrap(),
            "--model",
            "tiny.en",
        ],
    )
}

fn client(token: &str) -> Client {
    bearer_client(token)
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

fn wait_indexed(c: &Client, s: &Server, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let call: serde_json::Value = c
            .get(format!("{}/api/v1/calls/{id}", s.base))
            .send()
            .unwrap()
            .json()
            .unwrap();
        match call["state"].as_str() {
            Some("indexed") => return,
            Some("failed") => panic!("call failed: {call}"),
            _ if Instant::now() > deadline => panic!("not indexed in time: {call}"),
            _ => std::thread::sleep(Duration::from_millis(300)),
        }
    }
}

/// The same ZIP with one byte of one entry flipped.
fn flip_one_byte(bundle: &[u8], victim: &str) -> Vec<u8> {
    let mut src = zip::ZipArchive::new(Cursor::new(bundle)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..src.len() {
        let mut f = src.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        if name == victim {
            let at = b.len() / 2;
            b[at] ^= 0x01;
        }
        out.start_file(name, opts).unwrap();
        out.write_all(&b).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn entries(bundle: &[u8]) -> Vec<String> {
    let mut z = zip::ZipArchive::new(Cursor::new(bundle)).unwrap();
    (0..z.len())
        .map(|i| z.by_index(i).unwrap().name().unwrap().to_string())
        .collect()
}

#[test]
fn tenants_evidence_and_audit() {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let keys = tempfile::tempdir().unwrap();
    let env = Env {
        data: tempfile::tempdir().unwrap(),
        signing_key: keys.path().join("signing.key"),
    };
    env.ok(&["keys", "init"]);
    let public_key = env.ok(&["keys", "public"]).trim().to_string();
    let admin = client(&env.key("admin", &[]));
    let token_a = env.key("client", &["acme"]);
    let a = client(&token_a);
    let b = client(&env.key("client", &["globex"]));
    let agent = client(&env.key("agent", &["acme"]));
    let qm = client(&env.key("quality_manager", &["acme"]));
    let s = start(&env);

    // Uploads: staff for their clients only; a client key uploads nothing.
    let meta_a = r#"{"client":"acme","language":"en","customer_phone":"06 12 34 56 78","contract_ref":"ACME-1","started_at":"2026-03-03T10:30:00+01:00"}"#;
    let r = upload(&agent, &s, &fixture("real/en_jfk_16k_mono.wav"), meta_a);
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let id_a = r.json::<serde_json::Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let meta_b = r#"{"client":"globex","language":"en","customer_phone":"+33 6 11 22 33 44","contract_ref":"GLX-9"}"#;
    assert_eq!(
        upload(&agent, &s, &fixture("real/en_jfk_16k.mp3"), meta_b).status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        upload(&b, &s, &fixture("real/en_jfk_16k.mp3"), meta_b).status(),
        StatusCode::FORBIDDEN
    );
    let r = upload(&admin, &s, &fixture("real/en_jfk_16k.mp3"), meta_b);
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let id_b = r.json::<serde_json::Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_indexed(&admin, &s, &id_a);
    wait_indexed(&admin, &s, &id_b);

    // Key A on tenant B's call answers exactly like a call that does not exist.
    let nobody = "01900000-0000-7000-8000-000000000000";
    let probe = |c: &Client, id: &str| -> Vec<(u16, String)> {
        let get = |path: String| {
            let r = c.get(format!("{}{path}", s.base)).send().unwrap();
            let status = r.status().as_u16();
            (status, r.text().unwrap().replace(id, "ID"))
        };
        vec![
            get(format!("/api/v1/calls/{id}")),
            get(format!("/api/v1/calls/{id}/transcript")),
            get(format!("/api/v1/calls/{id}/findings")),
            get(format!("/api/v1/calls/{id}/audio")),
            get(format!("/api/v1/calls/{id}/audio?from_ms=0&to_ms=1000")),
            {
                let r = c
                    .post(format!("{}/api/v1/calls/{id}/evidence", s.base))
                    .send()
                    .unwrap();
                let status = r.status().as_u16();
                (status, r.text().unwrap().replace(id, "ID"))
            },
        ]
    };
    let foreign = probe(&a, &id_b);
    assert_eq!(foreign, probe(&a, nobody));
    assert!(foreign.iter().all(|(st, _)| *st == 404), "{foreign:?}");
    // …and its own calls are there.
    assert!(probe(&a, &id_a).iter().all(|(st, _)| *st == 200));
    assert_eq!(probe(&b, &id_a), probe(&b, nobody));

    // Search hits of other tenants never come back, whatever the filters ask.
    let search = |c: &Client, params: &[(&str, &str)]| -> Vec<String> {
        let v: serde_json::Value = c
            .get(format!("{}/api/v1/search", s.base))
            .query(params)
            .send()
            .unwrap()
            .json()
            .unwrap();
        v["calls"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"))
            .iter()
            .map(|h| h["call_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(search(&admin, &[("q", "country")]).len(), 2);
    assert_eq!(search(&a, &[("q", "country")]), vec![id_a.clone()]);
    assert!(search(&a, &[("q", "country"), ("client", "globex")]).is_empty());
    assert!(search(&a, &[("q", "client:globex")]).is_empty());
    assert_eq!(search(&b, &[("q", "")]), vec![id_b.clone()]);
    // Dispute look-up: the phone however written, the contract reference, with words.
    for phone in ["+33612345678", "06 12 34 56 78", "0033 6 12 34 56 78"] {
        assert_eq!(
            search(&admin, &[("phone", phone)]),
            vec![id_a.clone()],
            "{phone}"
        );
    }
    assert_eq!(
        search(&admin, &[("q", "country"), ("contract_ref", "GLX-9")]),
        vec![id_b.clone()]
    );
    assert!(search(&a, &[("contract_ref", "GLX-9")]).is_empty());

    // A call id however spelled is recorded in its canonical form.
    let shouting = id_a.to_uppercase();
    let r = a
        .get(format!("{}/api/v1/calls/{shouting}", s.base))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // A duplicate is a duplicate within its tenant only: tenant B may hold the same recording,
    // and a refusal never names another tenant's call.
    let r = upload(&admin, &s, &fixture("real/en_jfk_16k_mono.wav"), meta_b);
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{}", r.text().unwrap());
    let r = upload(&admin, &s, &fixture("real/en_jfk_16k_mono.wav"), meta_b);
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let text = r.text().unwrap();
    assert!(!text.contains(&id_a), "{text}");
    let r = upload(&agent, &s, &fixture("real/en_jfk_16k_mono.wav"), meta_a);
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().unwrap().contains(&id_a));
    // /healthz needs no key, so it says nothing about any tenant's data.
    let health: serde_json::Value = Client::new()
        .get(format!("{}/healthz", s.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert!(health.get("indexed_segments").is_none(), "{health}");

    // Rule sets and the audit log: scoped and role-checked.
    let rules = "[ruleset]\nextends = \"en-sales\"\n";
    let put = |c: &Client, client: &str| {
        c.put(format!("{}/api/v1/clients/{client}/rules", s.base))
            .body(rules)
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(put(&a, "globex"), StatusCode::NOT_FOUND);
    assert_eq!(put(&a, "acme"), StatusCode::FORBIDDEN);
    assert_eq!(put(&agent, "acme"), StatusCode::FORBIDDEN);
    assert_eq!(put(&qm, "globex"), StatusCode::NOT_FOUND);
    assert_eq!(put(&qm, "acme"), StatusCode::OK);
    let status =
        |c: &Client, path: &str| c.get(format!("{}{path}", s.base)).send().unwrap().status();
    assert_eq!(
        status(&a, "/api/v1/clients/globex/rules"),
        StatusCode::NOT_FOUND
    );
    assert_eq!(status(&a, "/api/v1/clients/acme/rules"), StatusCode::OK);
    assert_eq!(status(&a, "/api/v1/audit"), StatusCode::FORBIDDEN);
    assert_eq!(status(&qm, "/api/v1/audit"), StatusCode::FORBIDDEN);

    // An excerpt is just the asked part of the recording, as WAV (16 kHz mono 16-bit: 2 s).
    let wav = admin
        .get(format!(
            "{}/api/v1/calls/{id_a}/audio?from_ms=1000&to_ms=3000",
            s.base
        ))
        .send()
        .unwrap();
    assert_eq!(wav.status(), StatusCode::OK);
    assert_eq!(wav.headers()["content-type"], "audio/wav");
    let wav = wav.bytes().unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(wav.len(), 44 + 2 * 16_000 * 2);

    // Evidence: a client asks for its own call's bundle and checks it with the public key.
    let bundle = a
        .post(format!(
            "{}/api/v1/calls/{id_a}/evidence?include_original=true",
            s.base
        ))
        .send()
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
    let bundle = bundle.bytes().unwrap().to_vec();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.zip");
    std::fs::write(&path, &bundle).unwrap();
    let verify = |p: &Path, key: &str| {
        env.run(&[
            "evidence",
            "verify",
            p.to_str().unwrap(),
            "--public-key",
            key,
        ])
    };
    // The client gets the key from the service, not from inside the bundle.
    let published: serde_json::Value = a
        .get(format!("{}/api/v1/evidence/public-key", s.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(published["public_key"], public_key.as_str(), "{published}");
    assert_eq!(published["algorithm"], "ed25519");
    assert!(published["fingerprint"]
        .as_str()
        .unwrap()
        .starts_with("SHA256:"));
    assert!(published["command"]
        .as_str()
        .unwrap()
        .ends_with(&format!("--public-key {public_key}")));
    let out = verify(&path, published["public_key"].as_str().unwrap());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    assert!(text.starts_with("valid"), "{text}");
    // JFK consents to nothing: the bundle says so plainly.
    assert!(text.contains("No valid consent was found"), "{text}");
    let names = entries(&bundle);
    for must in [
        "manifest.json",
        "manifest.sig",
        "transcript.json",
        "transcript.html",
        "original.wav",
        // No consent, yet the moment it was expected is in the bundle to be heard.
        "excerpts/consent.wav",
    ] {
        assert!(
            names.iter().any(|n| n == must),
            "{must} missing from {names:?}"
        );
    }
    let manifest: serde_json::Value = {
        let mut z = zip::ZipArchive::new(Cursor::new(&bundle)).unwrap();
        let mut m = String::new();
        z.by_name("manifest.json")
            .unwrap()
            .read_to_string(&mut m)
            .unwrap();
        serde_json::from_str(&m).unwrap()
    };
    let original = std::fs::read(fixture("real/en_jfk_16k_mono.wav")).unwrap();
    assert_eq!(manifest["original"]["sha256"], sha256_hex(&original));
    assert_eq!(manifest["ruleset"]["id"], "en-sales");
    assert_eq!(manifest["requested_by"]["tenant"], "acme");
    assert_eq!(manifest["consent"]["found"], false);
    assert!(!manifest["model"]["sha256"].as_str().unwrap().is_empty());
    // One byte flipped in any file, the manifest included, is caught and named.
    for victim in &names {
        let p = dir.path().join("tampered.zip");
        std::fs::write(&p, flip_one_byte(&bundle, victim)).unwrap();
        let out = verify(&p, &public_key);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(!out.status.success(), "{victim}: {text}");
        assert!(text.contains(victim.as_str()), "{victim} not named: {text}");
    }
    // A bundle checked with another key is refused.
    let other = Env {
        data: tempfile::tempdir().unwrap(),
        signing_key: keys.path().join("other.key"),
    };
    other.ok(&["keys", "init"]);
    let other_public = other.ok(&["keys", "public"]).trim().to_string();
    let out = verify(&path, &other_public);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("another key"));

    // Re-packed by ordinary archivers — Python's zipfile (deflate, folder entries), `zip -r`
    // of the extracted folder, 7-Zip — the signed content is judged, not the container; a file
    // added on the way is still refused.
    let x = dir.path().join("x");
    let sh = |script: &str| {
        let st = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(dir.path())
            .status()
            .unwrap();
        assert!(
            st.success(),
            "{script} (zip, unzip and 7z come from scripts/setup.sh)"
        );
    };
    sh("mkdir -p x/bundle && unzip -q bundle.zip -d x/bundle");
    sh("python3 -c \"import os, zipfile\nwith zipfile.ZipFile('py.zip', 'w', zipfile.ZIP_DEFLATED) as z:\n    for d, dirs, files in os.walk('x/bundle'):\n        rel = os.path.relpath(d, 'x/bundle')\n        if rel != '.': z.write(d, rel + '/')\n        for f in files: z.write(os.path.join(d, f), os.path.normpath(os.path.join(rel, f)))\"");
    sh("cd x && zip -qr ../zipr.zip bundle");
    sh("cd x/bundle && 7z a -tzip -bso0 -bsp0 ../../7z.zip .");
    for repacked in ["py.zip", "zipr.zip", "7z.zip"] {
        let out = verify(&dir.path().join(repacked), &public_key);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{repacked}: {text}");
        assert!(text.starts_with("valid"), "{repacked}: {text}");
    }
    std::fs::write(x.join("bundle/note.txt"), "added").unwrap();
    sh("cd x && zip -qr ../added.zip bundle");
    let out = verify(&dir.path().join("added.zip"), &public_key);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!out.status.success() && text.contains("note.txt"), "{text}");

    // A revoked key gets 401.
    let id_of_a = token_a.split('_').nth(1).unwrap().to_string();
    env.ok(&["keys", "revoke", &id_of_a]);
    let r = a
        .get(format!("{}/api/v1/calls/{id_a}", s.base))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().unwrap().contains("revoked"));

    // The audit log: every read and change recorded, the chain intact, tampering caught.
    let log: serde_json::Value = admin
        .get(format!("{}/api/v1/audit", s.base))
        .query(&[("key_id", id_of_a.as_str())])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let log = log["entries"].as_array().unwrap();
    let refused = log
        .iter()
        .find(|e| e["target"] == id_b.as_str() && e["action"] == "read_transcript")
        .expect("the refused read is recorded");
    assert_eq!(refused["outcome"], "not_found");
    assert_eq!(refused["actor"]["tenant"], "acme");
    // Search results show transcript text, the call's metadata the customer's phone: both are
    // reads of that call, recorded under its canonical id.
    for action in ["search", "read_call"] {
        assert!(
            log.iter().any(|e| e["action"] == action
                && e["target"] == id_a.as_str()
                && e["outcome"] == "ok"),
            "no {action} of {id_a} in {log:?}"
        );
    }
    assert!(!log.iter().any(|e| e["target"] == shouting.as_str()));
    assert!(log
        .iter()
        .any(|e| e["action"] == "create_evidence" && e["outcome"] == "ok"));
    drop(s);
    assert!(env.ok(&["audit", "verify"]).contains("intact"));
    let seq = refused["seq"].as_u64().unwrap();
    let db = rusqlite::Connection::open(env.data.path().join("catalog.sqlite")).unwrap();
    db.execute("UPDATE audit SET outcome = 'ok' WHERE seq = ?1", [seq])
        .unwrap();
    let out = env.run(&["audit", "verify"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!out.status.success(), "{text}");
    assert!(text.contains(&format!("entry {seq}")), "{text}");
}

fn sha256_hex(b: &[u8]) -> String {
    let out = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(b)?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// With write access to the catalog, deleting entries and recomputing the whole chain (and its
/// head file) used to leave `audit verify` saying "intact". A signed checkpoint in the object
/// store, made before, still names the old hash of its entry.
#[test]
fn rewriting_the_audit_log_is_caught_by_signed_checkpoints() {
    let keys = tempfile::tempdir().unwrap();
    let env = Env {
        data: tempfile::tempdir().unwrap(),
        signing_key: keys.path().join("signing.key"),
    };
    env.ok(&["keys", "init"]);
    for _ in 0..24 {
        env.key("agent", &["acme"]);
    }
    let sealed = env.ok(&["audit", "checkpoint"]);
    assert!(sealed.contains("sealed at entry 24"), "{sealed}");
    for _ in 0..24 {
        env.key("agent", &["acme"]);
    }
    let out = env.ok(&["audit", "verify"]);
    assert!(
        out.contains("48 entries") && out.contains("1 signed checkpoints agree"),
        "{out}"
    );

    // Delete 26 of the 48 entries and recompute every number, hash and the head file.
    let db = rusqlite::Connection::open(env.data.path().join("catalog.sqlite")).unwrap();
    db.execute("DELETE FROM audit WHERE seq % 2 = 0 OR seq > 44", [])
        .unwrap();
    type Row = (
        i64,
        String,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        String,
    );
    let rows: Vec<Row> = db
        .prepare(
            "SELECT seq, at, key_id, role, tenant, action, target, outcome FROM audit ORDER BY seq",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 22);
    let mut prev = "0".repeat(64);
    for (i, (old, at, key, role, tenant, action, target, outcome)) in rows.iter().enumerate() {
        let seq = i + 1;
        let line = format!(
            "{seq}\x1f{at}\x1f{key}\x1f{role}\x1f{}\x1f{action}\x1f{}\x1f{outcome}\x1f{prev}",
            tenant.as_deref().unwrap_or(""),
            target.as_deref().unwrap_or("")
        );
        let hash = sha256_hex(line.as_bytes());
        db.execute(
            "UPDATE audit SET seq = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            rusqlite::params![seq as i64, prev, hash, old],
        )
        .unwrap();
        prev = hash;
    }
    drop(db);
    std::fs::write(
        env.data.path().join("catalog.sqlite.audit-head"),
        format!("22 {prev}\n"),
    )
    .unwrap();
    // The chain alone is consistent again: only the checkpoint tells.
    let out = env.run(&["audit", "verify"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("TAMPERED at entry 24") && text.contains("entries were deleted"),
        "{text}"
    );
    // A checkpoint cannot be forged without the signing key: one signed by another key is
    // refused.
    let other = tempfile::tempdir().unwrap();
    let forger = Env {
        data: tempfile::tempdir().unwrap(),
        signing_key: other.path().join("other.key"),
    };
    forger.ok(&["keys", "init"]);
    let public = env.ok(&["keys", "public"]);
    let out = forger.run(&["audit", "verify", "--public-key", public.trim()]);
    assert!(out.status.success(), "no checkpoint there yet");
    forger.key("agent", &["acme"]);
    forger.ok(&["audit", "checkpoint"]);
    let out = forger.run(&["audit", "verify", "--public-key", public.trim()]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        !out.status.success() && text.contains("not signed by the trusted key"),
        "{text}"
    );
}
