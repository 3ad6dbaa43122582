//! Several machines' worth of processes on real engines: PostgreSQL (a throwaway cluster) and
//! SeaweedFS (S3), two `serve` nodes each with its own index, three `worker` processes. Calls
//! are uploaded through both nodes; one worker is killed with SIGKILL in the middle of a
//! transcription and one serve node is killed once; both are restarted. Every call must then
//! be indexed exactly once, found on both nodes, nothing left claimed; a customer erased
//! through one node must disappear from both; and the catalog and the bucket must agree. The
//! same drill runs on the embedded default (SQLite + folder).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use reqwest::blocking::multipart;
use reqwest::StatusCode;

const CALLS: usize = 30;

/// The engines every process of the drill is pointed at, as environment variables.
struct Engines {
    env: Vec<(String, String)>,
}

impl Engines {
    fn command(&self, data: &Path) -> Command {
        let mut c = Command::new(bin());
        c.arg("--data").arg(data).args(["--model", "tiny.en"]);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    fn ok(&self, data: &Path, args: &[&str]) -> String {
        let out = self
            .command(data)
            .args(args)
            .output()
            .expect("run callproof");
        assert!(
            out.status.success(),
            "callproof {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }
}

/// A `serve` node without its own workers (they run apart, as on other machines).
fn start_node(e: &Engines, data: &Path) -> Served {
    serve_command(e.command(data), &["--workers", "0"])
}

fn start_worker(e: &Engines, data: &Path) -> KillOnDrop {
    KillOnDrop(
        e.command(data)
            .args(["--threads", "1", "worker"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start callproof worker"),
    )
}

/// `CALLS` different recordings: one real speech file, each copy with its own gain and lead-in
/// (so that none is a duplicate of another).
fn recordings(dir: &Path) -> Vec<PathBuf> {
    let mut reader = hound::WavReader::open(fixture("real/en_jfk_16k_mono.wav")).unwrap();
    let spec = reader.spec();
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    (0..CALLS)
        .map(|i| {
            let path = dir.join(format!("call{i:02}.wav"));
            let mut w = hound::WavWriter::create(&path, spec).unwrap();
            for _ in 0..(i * 160) {
                w.write_sample(0i16).unwrap();
            }
            let gain = 1.0 - i as f32 * 0.01;
            for s in &samples {
                w.write_sample((*s as f32 * gain) as i16).unwrap();
            }
            w.finalize().unwrap();
            path
        })
        .collect()
}

fn upload(
    c: &reqwest::blocking::Client,
    base: &str,
    file: &Path,
    contract: &str,
) -> Result<String, String> {
    let form = multipart::Form::new()
        .part(
            "audio",
            multipart::Part::bytes(std::fs::read(file).unwrap())
                .file_name(file.file_name().unwrap().to_string_lossy().to_string()),
        )
        .text(
            "metadata",
            format!(r#"{{"client":"acme","language":"en","contract_ref":"{contract}"}}"#),
        );
    let r = c
        .post(format!("{base}/api/v1/calls"))
        .multipart(form)
        .send()
        .map_err(|e| e.to_string())?;
    if r.status() != StatusCode::ACCEPTED {
        return Err(format!("{}", r.status()));
    }
    Ok(r.json::<serde_json::Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string())
}

fn jobs(e: &Engines, data: &Path) -> Vec<serde_json::Value> {
    let out = e.ok(data, &["jobs", "--json", "--limit", "1000"]);
    serde_json::from_str::<Vec<serde_json::Value>>(&out).unwrap()
}

/// The calls a node's search finds for words every recording contains, with the start times
/// of their matching segments (a document indexed twice would show its segment twice).
fn found(c: &reqwest::blocking::Client, base: &str) -> BTreeMap<String, Vec<u64>> {
    let r: serde_json::Value = c
        .get(format!("{base}/api/v1/search?q=country&limit=200"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    r["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["call_id"].as_str().unwrap().to_string(),
                h["segments"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["start_ms"].as_u64().unwrap())
                    .collect(),
            )
        })
        .collect()
}

/// Runs the drill with `nodes` serve nodes and `workers` worker processes. Each process has
/// its own data folder (as on its own machine) unless `shared` names the one data folder they
/// all use (the embedded default: catalog and recordings inside it).
fn drill(
    e: &Engines,
    nodes: usize,
    workers: usize,
    shared: Option<&Path>,
    objects: &dyn Fn() -> Vec<String>,
) {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let scratch = tempfile::tempdir().unwrap();
    let machine = |name: String| -> PathBuf {
        let d = shared.map_or_else(|| scratch.path().join(name), Path::to_path_buf);
        std::fs::create_dir_all(&d).unwrap();
        d
    };
    let dirs: Vec<PathBuf> = (0..nodes + workers)
        .map(|i| machine(format!("machine{i}")))
        .collect();
    // The operator's commands (keys, jobs, calls) run from a machine of their own.
    let cli = machine("operator".into());
    let token = e
        .ok(&cli, &["keys", "create", "--role", "admin"])
        .trim()
        .to_string();
    let c = bearer_client(&token);
    let files = recordings(scratch.path());
    let mut serving: Vec<Served> = (0..nodes).map(|i| start_node(e, &dirs[i])).collect();
    let mut running: Vec<KillOnDrop> = (0..workers)
        .map(|i| start_worker(e, &dirs[nodes + i]))
        .collect();

    let mut ids = Vec::new();
    let mut killed_node = false;
    for (i, f) in files.iter().enumerate() {
        let node = i % nodes;
        // One serve node dies (SIGKILL) a third of the way, and comes back at two thirds.
        if nodes > 1 && i == CALLS / 3 {
            serving[1].kill();
            killed_node = true;
        }
        if killed_node && i == 2 * CALLS / 3 {
            serving[1] = start_node(e, &dirs[1]);
            killed_node = false;
        }
        let via = if killed_node && node == 1 { 0 } else { node };
        let contract = format!("C-{i}");
        ids.push(
            upload(&c, &serving[via].base, f, &contract)
                .unwrap_or_else(|e| panic!("upload {i}: {e}")),
        );
    }

    // One worker dies (SIGKILL) while it holds a transcription, and is started again.
    let victim = running[0].0.id();
    let owner_suffix = format!(":{victim}");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let holds = jobs(e, &cli).iter().any(|j| {
            j["state"] == "running"
                && j["kind"] == "transcribe"
                && j["owner"]
                    .as_str()
                    .is_some_and(|o| o.ends_with(&owner_suffix))
        });
        if holds {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "worker {victim} never claimed a job"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    running[0].0.kill().unwrap();
    running[0].0.wait().unwrap();
    running[0] = start_worker(e, &dirs[nodes]);

    // Every call indexed.
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let states: Vec<String> = ids
            .iter()
            .map(|id| {
                let v: serde_json::Value = c
                    .get(format!("{}/api/v1/calls/{id}", serving[0].base))
                    .send()
                    .unwrap()
                    .json()
                    .unwrap();
                v["state"].as_str().unwrap_or("?").to_string()
            })
            .collect();
        if states.iter().all(|s| s == "indexed") {
            break;
        }
        assert!(
            !states.iter().any(|s| s == "failed"),
            "a call failed: {states:?}"
        );
        assert!(Instant::now() < deadline, "not all indexed: {states:?}");
        std::thread::sleep(Duration::from_millis(500));
    }

    // Found on every node, each call once with each segment once.
    let want: BTreeSet<String> = ids.iter().cloned().collect();
    for node in &serving {
        let deadline = Instant::now() + Duration::from_secs(30);
        let hits = loop {
            let hits = found(&c, &node.base);
            if hits.keys().cloned().collect::<BTreeSet<_>>() == want || Instant::now() > deadline {
                break hits;
            }
            std::thread::sleep(Duration::from_millis(250));
        };
        assert_eq!(
            hits.keys().cloned().collect::<BTreeSet<_>>(),
            want,
            "node {} does not find every call",
            node.base
        );
        for (id, starts) in &hits {
            let distinct: BTreeSet<_> = starts.iter().collect();
            assert_eq!(
                distinct.len(),
                starts.len(),
                "{id} is indexed twice on {}",
                node.base
            );
        }
    }

    // Exactly once: one transcription and one index job done per call, nothing claimed.
    let all = jobs(e, &cli);
    assert!(
        all.iter()
            .all(|j| j["state"] != "running" && j["state"] != "queued"),
        "{all:?}"
    );
    for id in &ids {
        for kind in ["transcribe", "index"] {
            let done = all
                .iter()
                .filter(|j| {
                    j["call_id"] == id.as_str() && j["kind"] == kind && j["state"] == "done"
                })
                .count();
            assert_eq!(done, 1, "call {id}: {done} {kind} jobs done");
        }
        let t: serde_json::Value = c
            .get(format!(
                "{}/api/v1/calls/{id}/transcript",
                serving[1 % nodes].base
            ))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert!(
            normalise(&t.to_string()).contains("country"),
            "call {id}: {t}"
        );
    }
    // An attempt was lost with the killed worker, and retried.
    assert!(
        all.iter()
            .any(|j| j["kind"] == "transcribe" && j["attempts"].as_u64() == Some(2)),
        "no job was retried after the worker was killed"
    );

    // A customer's erasure through one node removes their call from every node's index, the
    // catalog and the store.
    let erased = c
        .post(format!("{}/api/v1/erasures", serving[0].base))
        .json(&serde_json::json!({"client": "acme", "contract_ref": "C-0"}))
        .send()
        .unwrap();
    assert_eq!(erased.status(), StatusCode::OK, "{:?}", erased.text());
    let want: BTreeSet<String> = ids[1..].iter().cloned().collect();
    for node in &serving {
        let deadline = Instant::now() + Duration::from_secs(30);
        while found(&c, &node.base).contains_key(&ids[0]) {
            assert!(
                Instant::now() < deadline,
                "the erased call is still found on {}",
                node.base
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    // The catalog and the store agree: one original per call, no orphan, nothing pending.
    let calls: serde_json::Value =
        serde_json::from_str(&e.ok(&cli, &["calls", "--json", "--limit", "1000"])).unwrap();
    let keys: BTreeSet<String> = calls
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys, want);
    let stored = objects();
    let originals: BTreeSet<String> = stored
        .iter()
        .filter(|k| k.starts_with("clients/"))
        .map(|k| k.split('/').nth(3).unwrap_or("").to_string())
        .collect();
    assert_eq!(originals, want, "objects: {stored:?}");
    assert_eq!(
        stored.iter().filter(|k| k.starts_with("clients/")).count(),
        CALLS - 1,
        "one object per call: {stored:?}"
    );
    drop(running);
    drop(serving);
}

#[test]
fn postgres_and_s3_with_two_nodes_and_three_workers_survive_kill_9() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let catalog = rt.block_on(callproof_metastore::testing::fresh_postgres_database());
    let s3 = callproof_storage::testing::seaweedfs();
    let objects = s3.fresh_uri();
    let mut env = s3.env();
    env.push(("CALLPROOF_CATALOG".into(), catalog));
    env.push(("CALLPROOF_OBJECTS".into(), objects.clone()));
    let e = Engines { env };
    let list = || {
        let store =
            callproof_storage::OriginalStore::from_uri_with(&objects, &s3.settings).unwrap();
        rt.block_on(store.list(""))
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    };
    drill(&e, 2, 3, None, &list);
}

#[test]
fn the_embedded_default_survives_kill_9_too() {
    let data = tempfile::tempdir().unwrap();
    let objects = data.path().join("objects");
    let list = || {
        let mut out = Vec::new();
        let mut stack = vec![objects.clone()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(
                        p.strip_prefix(&objects)
                            .unwrap()
                            .to_string_lossy()
                            .to_string(),
                    );
                }
            }
        }
        out
    };
    drill(&Engines { env: Vec::new() }, 1, 1, Some(data.path()), &list);
}

/// The S3 server's settings plus a fresh PostgreSQL database, as the environment of every
/// process of a deployment on several machines.
fn shared_engines(rt: &tokio::runtime::Runtime) -> (Engines, String) {
    let catalog = rt.block_on(callproof_metastore::testing::fresh_postgres_database());
    let s3 = callproof_storage::testing::seaweedfs();
    let objects = s3.fresh_uri();
    let mut env = s3.env();
    env.push(("CALLPROOF_CATALOG".into(), catalog));
    env.push(("CALLPROOF_OBJECTS".into(), objects.clone()));
    (Engines { env }, objects)
}

/// `callproof ingest s3://…` imports what a telephony platform dropped in a bucket, with the
/// metadata of its `.json` sidecars, and skips what it already imported when run again.
#[test]
fn recordings_dropped_in_a_bucket_are_imported_once() {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s3 = callproof_storage::testing::seaweedfs();
    let source = s3.fresh_uri();
    let scratch = tempfile::tempdir().unwrap();
    let files = recordings(scratch.path());
    for (i, f) in files.iter().take(3).enumerate() {
        let key = format!("2026/03/02/call{i}.wav");
        rt.block_on(callproof_storage::testing::put_foreign(
            &source,
            &s3.settings,
            &key,
            std::fs::read(f).unwrap(),
        ));
        if i < 2 {
            let side = format!(
                r#"{{"client":"acme","campaign":"spring","agent":"a{i}","language":"en"}}"#
            );
            rt.block_on(callproof_storage::testing::put_foreign(
                &source,
                &s3.settings,
                &key.replace(".wav", ".json"),
                side.into_bytes(),
            ));
        }
    }
    // Not a recording: ignored.
    rt.block_on(callproof_storage::testing::put_foreign(
        &source,
        &s3.settings,
        "README.txt",
        b"exported by the PBX".to_vec(),
    ));
    let e = Engines { env: s3.env() };
    let data = scratch.path().join("data");
    let uri = format!("{source}/");
    let out = e.ok(
        &data,
        &[
            "ingest",
            &uri,
            "--client",
            "globex",
            "--language",
            "en",
            "--json",
        ],
    );
    let results: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(results.len(), 3, "{out}");
    assert!(results.iter().all(|r| r["state"] == "indexed"), "{out}");
    assert!(
        results[0]["file"].as_str().unwrap().starts_with(&source),
        "results name the object: {out}"
    );
    let calls: Vec<serde_json::Value> =
        serde_json::from_str(&e.ok(&data, &["calls", "--json"])).unwrap();
    let mut clients: Vec<&str> = calls
        .iter()
        .map(|c| c["metadata"]["client"].as_str().unwrap())
        .collect();
    clients.sort();
    assert_eq!(
        clients,
        vec!["acme", "acme", "globex"],
        "sidecars first, flags fill the rest"
    );
    // Again: nothing new, nothing failed.
    let again = e
        .command(&data)
        .args(["ingest", &uri, "--client", "globex", "--language", "en"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(text.contains("0 ingested, 3 skipped"), "{text}");
    let calls: Vec<serde_json::Value> =
        serde_json::from_str(&e.ok(&data, &["calls", "--json"])).unwrap();
    assert_eq!(calls.len(), 3);
}

/// `callproof migrate` copies an embedded data folder into PostgreSQL + S3 without
/// transcribing again: same calls, transcripts and keys, the audit chain still verifies, a new
/// node's index is built from the catalog, and running it again copies nothing twice.
#[test]
fn an_embedded_data_folder_migrates_into_postgres_and_s3() {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let old = scratch.path().join("old");
    let files = recordings(scratch.path());
    let embedded = Engines { env: Vec::new() };
    for f in files.iter().take(2) {
        embedded.ok(
            &old,
            &[
                "ingest",
                f.to_str().unwrap(),
                "--client",
                "acme",
                "--language",
                "en",
            ],
        );
    }
    let token = embedded
        .ok(&old, &["keys", "create", "--role", "admin"])
        .trim()
        .to_string();
    let before: Vec<serde_json::Value> =
        serde_json::from_str(&embedded.ok(&old, &["calls", "--json"])).unwrap();
    let id = before[0]["id"].as_str().unwrap().to_string();
    let transcript = embedded.ok(&old, &["transcript", &id, "--json"]);

    let (shared, _) = shared_engines(&rt);
    let node = scratch.path().join("node");
    let out = shared.ok(&node, &["migrate", "--from", old.to_str().unwrap()]);
    assert!(out.contains("chain verified"), "{out}");
    assert!(out.contains("recordings: 2 copied"), "{out}");
    let after: Vec<serde_json::Value> =
        serde_json::from_str(&shared.ok(&node, &["calls", "--json"])).unwrap();
    assert_eq!(
        before.iter().map(|c| &c["id"]).collect::<Vec<_>>(),
        after.iter().map(|c| &c["id"]).collect::<Vec<_>>()
    );
    assert_eq!(shared.ok(&node, &["transcript", &id, "--json"]), transcript);
    let found: Vec<serde_json::Value> =
        serde_json::from_str(&shared.ok(&node, &["search", "country", "--json"])).unwrap();
    assert_eq!(
        found.len(),
        2,
        "the new node's index is built from the catalog"
    );
    shared.ok(&node, &["audit", "verify"]);
    // The key made before the move works against the shared catalog, and the recording plays.
    let served = start_node(&shared, &node);
    let audio = bearer_client(&token)
        .get(format!("{}/api/v1/calls/{id}/audio", served.base))
        .send()
        .unwrap();
    assert_eq!(audio.status(), StatusCode::OK);
    drop(served);
    let again = shared.ok(&node, &["migrate", "--from", old.to_str().unwrap()]);
    assert!(
        again.contains("recordings: 0 copied, 2 already there"),
        "{again}"
    );
    assert!(
        again.contains("calls            0 copied, 2 already there"),
        "{again}"
    );
}
