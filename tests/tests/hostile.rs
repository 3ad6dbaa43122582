//! Hostile input, table-driven: each request a stranger (or a careless client) could send,
//! with the answer it must get. For every one: the status, the gist of the JSON error, that the
//! server still answers afterwards, and that nothing was left behind (no call row, no object,
//! no partial upload).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use reqwest::blocking::{multipart, Client, RequestBuilder};
use reqwest::StatusCode;

/// A PCM WAV whose header says `rate` Hz and `channels` channels; `frames` frames of a quiet
/// tone; `data_len` overrides the data chunk's declared length.
fn wav(rate: u32, channels: u16, frames: u32, data_len: Option<u32>) -> Vec<u8> {
    let bytes = frames as usize * channels as usize * 2;
    let mut w = Vec::new();
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + bytes as u32).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&channels.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&rate.wrapping_mul(channels as u32 * 2).to_le_bytes());
    w.extend_from_slice(&(channels * 2).to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.unwrap_or(bytes as u32).to_le_bytes());
    for i in 0..frames as usize * channels as usize {
        let v = ((i as f32 * 0.05).sin() * 3000.0) as i16;
        w.extend_from_slice(&v.to_le_bytes());
    }
    w
}

/// Sends `head` (and `body`) as they are over a fresh connection and reads the answer: for
/// requests an HTTP client library will not send (a URI over 64 KB, a body announced but
/// never sent). Returns the status and the body.
fn raw(base: &str, head: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    s.write_all(head.as_bytes())?;
    let _ = s.write_all(body);
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// A FLAC file of constant (silent) frames, 8 channels at 96 kHz, whose header no longer says
/// how long it is: a decode bomb that only decoding reveals. A few hundred kilobytes that
/// decode to hundreds of millions of samples.
fn flac_bomb(dir: &Path) -> Vec<u8> {
    let path = dir.join("bomb.flac");
    let ok = Command::new("sox")
        .args(["-D", "-n", "-r", "96000", "-c", "8", "-b", "16"])
        .arg(&path)
        .args(["trim", "0", "600"])
        .status()
        .expect("sox (scripts/setup.sh installs it)")
        .success();
    assert!(ok, "sox could not make the FLAC");
    let mut b = std::fs::read(&path).unwrap();
    assert_eq!(&b[..4], b"fLaC");
    assert!(b.len() < 1_000_000, "{} bytes", b.len());
    // STREAMINFO's 36-bit total sample count (bytes 21..26 of the file) set to "unknown".
    b[21] &= 0xF0;
    b[22..26].fill(0);
    b
}

struct Probe<'a> {
    base: &'a str,
    admin: &'a Client,
    data: &'a Path,
}

impl Probe<'_> {
    fn url(&self, p: &str) -> String {
        format!("{}{p}", self.base)
    }

    fn upload_parts(&self, c: &Client, parts: Vec<(&str, multipart::Part)>) -> RequestBuilder {
        let mut form = multipart::Form::new();
        for (name, part) in parts {
            form = form.part(name.to_string(), part);
        }
        c.post(self.url("/api/v1/calls")).multipart(form)
    }

    fn upload(&self, audio: Vec<u8>, meta: &[u8]) -> RequestBuilder {
        self.upload_parts(
            self.admin,
            vec![
                (
                    "audio",
                    multipart::Part::bytes(audio).file_name("call.wav".to_string()),
                ),
                ("metadata", multipart::Part::bytes(meta.to_vec())),
            ],
        )
    }

    /// Calls in the catalog, files in the object store, partial uploads.
    fn leftovers(&self) -> (i64, usize, usize) {
        let db = rusqlite::Connection::open_with_flags(
            self.data.join("catalog.sqlite"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let calls: i64 = db
            .query_row("SELECT COUNT(*) FROM calls", [], |r| r.get(0))
            .unwrap();
        let files = |dir: &Path| -> usize {
            fn walk(d: &Path, n: &mut usize) {
                if let Ok(entries) = std::fs::read_dir(d) {
                    for e in entries.flatten() {
                        if e.path().is_dir() {
                            walk(&e.path(), n);
                        } else {
                            *n += 1;
                        }
                    }
                }
            }
            let mut n = 0;
            walk(dir, &mut n);
            n
        };
        (
            calls,
            files(&self.data.join("objects").join("clients")),
            files(&self.data.join("tmp").join("uploads")),
        )
    }
}

/// What a case sent got back: through the HTTP client, or raw.
enum Sent {
    Http(reqwest::Result<reqwest::blocking::Response>),
    Raw(std::io::Result<(u16, String)>),
}

/// A request made with the HTTP client, as a case.
fn b<'a>(f: impl Fn() -> RequestBuilder + 'a) -> Box<dyn Fn() -> Sent + 'a> {
    Box::new(move || Sent::Http(f().timeout(Duration::from_secs(120)).send()))
}

/// A name, the request, the status expected and the gist of the JSON error ("-": the answer
/// comes from the HTTP layer below callproof and is not JSON).
type Case<'a> = (&'static str, Box<dyn Fn() -> Sent + 'a>, u16, &'static str);

#[test]
fn hostile_requests_are_refused_and_leave_nothing() {
    ensure_model("tiny.en");
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let key = |role: &str, client: Option<&str>| {
        let mut args = vec!["keys", "create", "--role", role];
        if let Some(c) = client {
            args.extend(["--client", c]);
        }
        ok(d, &args).trim().to_string()
    };
    let admin = bearer_client(&key("admin", None));
    let client_key = bearer_client(&key("client", Some("acme")));
    let agent_globex = bearer_client(&key("agent", Some("globex")));
    // Small limits, so that the bombs are quick to prove; no worker, so that nothing but the
    // requests themselves runs.
    let server = serve(
        d,
        &[
            "--model",
            "tiny.en",
            "--max-upload-mb",
            "2",
            "--max-decoded-samples",
            "20000000",
        ],
    );
    let p = Probe {
        base: &server.base,
        admin: &admin,
        data: d,
    };
    // One real call, for the requests that need one.
    let good = std::fs::read(fixture("formats/pcm_s16_16k.wav")).unwrap();
    let r = p
        .upload(good.clone(), br#"{"client":"acme","language":"en"}"#)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let id = r.json::<serde_json::Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let work = tempfile::tempdir().unwrap();
    let bomb = flac_bomb(work.path());
    let bomb_header = {
        // The same file with its length left in the header: refused before decoding.
        let mut b = bomb.clone();
        let total: u64 = 96_000 * 600;
        b[21] = (b[21] & 0xF0) | ((total >> 32) as u8 & 0x0F);
        b[22..26].copy_from_slice(&(total as u32).to_be_bytes());
        b
    };
    let tiny = b"RIFF\0\0\0\0WAVE".repeat(64);
    let meta = br#"{"client":"acme","language":"en"}"#.as_slice();
    let up = |audio: Vec<u8>| {
        let p = &p;
        b(move || p.upload(audio.clone(), meta))
    };
    let up_meta = |m: Vec<u8>| {
        let (p, good) = (&p, good.clone());
        b(move || p.upload(good.clone(), &m))
    };
    let get = |path: String| {
        let p = &p;
        b(move || p.admin.get(p.url(&path)))
    };
    let search = |q: String| {
        let p = &p;
        b(move || {
            p.admin
                .get(p.url("/api/v1/search"))
                .query(&[("q", q.as_str())])
        })
    };
    let ranged = |range: &'static str| {
        let (p, id) = (&p, id.clone());
        b(move || {
            p.admin
                .get(p.url(&format!("/api/v1/calls/{id}/audio")))
                .header("range", range)
        })
    };
    let nested = |n: usize| format!("{}accord{}", "(".repeat(n), ")".repeat(n));
    let admin_token = key("admin", None);
    // An upload announcing more than the limit, whose body is never sent: the answer comes
    // from the headers alone.
    let raw_upload = |length: usize| {
        let (base, token) = (server.base.clone(), admin_token.clone());
        Box::new(move || {
            Sent::Raw(raw(
                &base,
                &format!(
                    "POST /api/v1/calls HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
                ),
                b"",
            ))
        }) as Box<dyn Fn() -> Sent>
    };
    let long_query = {
        let (base, token) = (server.base.clone(), admin_token.clone());
        Box::new(move || {
            Sent::Raw(raw(
                &base,
                &format!(
                    "GET /api/v1/search?q={} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
                    "mot+".repeat(25_000)
                ),
                b"",
            ))
        }) as Box<dyn Fn() -> Sent>
    };

    let cases: Vec<Case> = vec![
        // Recordings whose headers no recorder writes.
        ("1 Hz WAV", up(wav(1, 2, 40, None)), 422, "1 Hz"),
        (
            "1 Hz WAV, 400 KB",
            up(wav(1, 1, 200_000, None)),
            422,
            "1 Hz",
        ),
        (
            "4294967295 Hz WAV",
            up(wav(u32::MAX, 1, 40, None)),
            422,
            "Hz",
        ),
        (
            "3999 Hz WAV",
            up(wav(3_999, 1, 4_000, None)),
            422,
            "3999 Hz",
        ),
        (
            "26 channels",
            up(wav(8000, 26, 400, None)),
            422,
            "26 channels",
        ),
        ("9 channels", up(wav(8000, 9, 400, None)), 422, "9 channels"),
        (
            "0-length data chunk",
            up(wav(8000, 1, 0, None)),
            422,
            "no audio",
        ),
        (
            "data chunk claims more than the file holds",
            up(wav(8000, 1, 800, Some(8000 * 2 * 60))),
            422,
            "damaged",
        ),
        (
            "data chunk claims 5 h",
            up(wav(8000, 1, 800, Some(8000 * 2 * 3600 * 5))),
            422,
            "damaged",
        ),
        (
            "FLAC header claims 10 min of 8 channels at 96 kHz",
            up(bomb_header.clone()),
            422,
            "longer than",
        ),
        ("FLAC decode bomb", up(bomb.clone()), 422, "longer than"),
        (
            "FLAC cut after 200 bytes",
            up(bomb[..200].to_vec()),
            422,
            "shorter than",
        ),
        (
            "a tenth of a second",
            up(wav(8000, 2, 800, None)),
            422,
            "shorter than",
        ),
        (
            "wrong magic",
            up(b"RIFX\0\0\0\0WAVEfmt junk junk junk".to_vec()),
            415,
            "not an audio",
        ),
        (
            "a text file",
            up(b"Bonjour, ceci n'est pas un son.\n".repeat(20)),
            415,
            "text file",
        ),
        (
            "random bytes",
            up((0..4096u32).map(|i| (i * 7919 % 251) as u8).collect()),
            415,
            "not an audio",
        ),
        ("empty file", up(Vec::new()), 415, "only 0 bytes"),
        (
            "AMR",
            up(b"#!AMR\n\x3c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec()),
            415,
            "AMR",
        ),
        (
            "over the upload limit (announced)",
            raw_upload(3_000_000),
            413,
            "at most 2 MB",
        ),
        // Metadata.
        (
            "metadata as a JSON array",
            up_meta(br#"["acme","fr"]"#.to_vec()),
            400,
            "JSON object",
        ),
        (
            "metadata not JSON",
            up_meta(b"{client: acme".to_vec()),
            400,
            "not valid JSON",
        ),
        (
            "metadata in Latin-1",
            up_meta(b"{\"client\":\"acme\",\"agent\":\"Fran\xe7ois\"}".to_vec()),
            400,
            "UTF-8",
        ),
        (
            "metadata of 66 KB",
            up_meta(
                format!(r#"{{"client":"acme","campaign":"{}"}}"#, "x".repeat(66_000)).into_bytes(),
            ),
            413,
            "metadata part",
        ),
        (
            "a 201-character field",
            up_meta(
                format!(
                    r#"{{"client":"acme","language":"en","agent":"{}"}}"#,
                    "a".repeat(201)
                )
                .into_bytes(),
            ),
            400,
            "at most 200",
        ),
        (
            "no client",
            up_meta(br#"{"language":"en"}"#.to_vec()),
            400,
            "client",
        ),
        (
            "client with a path",
            up_meta(br#"{"client":"../globex","language":"en"}"#.to_vec()),
            400,
            "invalid metadata",
        ),
        (
            "phone that is not one",
            up_meta(br#"{"client":"acme","language":"en","customer_phone":"call me"}"#.to_vec()),
            400,
            "phone",
        ),
        (
            "language not ISO 639-1",
            up_meta(br#"{"client":"acme","language":"french"}"#.to_vec()),
            400,
            "ISO 639-1",
        ),
        (
            "unknown time zone",
            up_meta(
                br#"{"client":"acme","language":"en","customer_timezone":"Mars/Base"}"#.to_vec(),
            ),
            400,
            "IANA",
        ),
        (
            "start time not a time",
            up_meta(br#"{"client":"acme","language":"en","started_at":"yesterday"}"#.to_vec()),
            400,
            "metadata",
        ),
        // Multipart bodies.
        (
            "no audio part",
            b(|| {
                p.upload_parts(
                    p.admin,
                    vec![("metadata", multipart::Part::bytes(meta.to_vec()))],
                )
            }),
            400,
            "audio",
        ),
        (
            "no metadata part",
            b(|| {
                p.upload_parts(
                    p.admin,
                    vec![("audio", multipart::Part::bytes(good.clone()))],
                )
            }),
            400,
            "metadata",
        ),
        (
            "an unexpected part",
            b(|| {
                p.upload_parts(
                    p.admin,
                    vec![("script", multipart::Part::bytes(b"x".to_vec()))],
                )
            }),
            400,
            "unexpected part",
        ),
        (
            "two audio parts",
            b(|| {
                p.upload_parts(
                    p.admin,
                    vec![
                        ("audio", multipart::Part::bytes(tiny.clone())),
                        ("audio", multipart::Part::bytes(tiny.clone())),
                    ],
                )
            }),
            400,
            "two",
        ),
        (
            "not multipart",
            b(|| {
                p.admin
                    .post(p.url("/api/v1/calls"))
                    .json(&serde_json::json!({"client": "acme"}))
            }),
            400,
            "multipart",
        ),
        // Who may upload: refused before the body is read.
        (
            "a client key uploads",
            b(|| {
                p.upload_parts(
                    &client_key,
                    vec![
                        ("metadata", multipart::Part::bytes(meta.to_vec())),
                        ("audio", multipart::Part::bytes(tiny.clone())),
                    ],
                )
            }),
            403,
            "may not add calls",
        ),
        (
            "an agent uploads for another client",
            b(|| {
                p.upload_parts(
                    &agent_globex,
                    vec![
                        ("metadata", multipart::Part::bytes(meta.to_vec())),
                        ("audio", multipart::Part::bytes(tiny.clone())),
                    ],
                )
            }),
            403,
            "may not add calls",
        ),
        // Searches.
        (
            "2,500 nested parentheses",
            search(nested(2500)),
            400,
            "characters long",
        ),
        (
            "40 nested parentheses",
            search(nested(40)),
            400,
            "nest 40 deep",
        ),
        (
            "a 60 KB query",
            search("mot ".repeat(15_000)),
            400,
            "characters long",
        ),
        // Past what HTTP's URI type holds (64 KB): the HTTP layer answers, before callproof.
        ("a 100 KB query", long_query, 414, "-"),
        ("client:*", search("client:*".into()), 400, "exists"),
        (
            "a regular expression",
            search("text_fr:/.*a.*b.*c/".into()),
            400,
            "regular expressions",
        ),
        ("a set", search("IN [accord refus]".into()), 400, "sets"),
        ("a range", search("text_fr:[a TO z]".into()), 400, "ranges"),
        (
            "an unknown field",
            search("password:x".into()),
            400,
            "password",
        ),
        (
            "a huge fuzzy term",
            get(format!("/api/v1/search?fuzzy=true&q={}", "r".repeat(900))),
            200,
            "",
        ),
        (
            "a start that is not a time",
            get("/api/v1/search?from=yesterday".into()),
            400,
            "RFC 3339",
        ),
        (
            "a negative limit",
            get("/api/v1/search?q=x&limit=-1".into()),
            400,
            "limit",
        ),
        // Audio ranges and excerpts.
        (
            "Range not a range",
            ranged("bytes=abc"),
            416,
            "not a byte range",
        ),
        (
            "Range past the end",
            ranged("bytes=999999999-"),
            416,
            "outside",
        ),
        ("Range backwards", ranged("bytes=50-10"), 416, "outside"),
        (
            "excerpt backwards",
            get(format!("/api/v1/calls/{id}/audio?from_ms=2000&to_ms=1000")),
            416,
            "empty",
        ),
        (
            "excerpt past the end",
            get(format!("/api/v1/calls/{id}/audio?from_ms=99999999")),
            416,
            "outside",
        ),
        (
            "excerpt bound not a number",
            get(format!("/api/v1/calls/{id}/audio?from_ms=NaN")),
            400,
            "from_ms",
        ),
        // Names and routes.
        (
            "traversal in a call id",
            get("/api/v1/calls/..%2F..%2Fcatalog.sqlite".into()),
            404,
            "no call",
        ),
        (
            "traversal in a client name",
            get("/api/v1/clients/..%2Fglobex/rules".into()),
            404,
            "no client",
        ),
        (
            "an unknown route",
            get("/api/v1/admin".into()),
            404,
            "no such endpoint",
        ),
        (
            "a wrong method",
            b(|| p.admin.delete(p.url("/api/v1/search"))),
            405,
            "not allowed",
        ),
        (
            "evidence flag not a boolean",
            b(|| {
                p.admin.post(p.url(&format!(
                    "/api/v1/calls/{id}/evidence?include_original=maybe"
                )))
            }),
            400,
            "include_original",
        ),
        (
            "a sample request that is not JSON",
            b(|| {
                p.admin
                    .post(p.url("/api/v1/samples"))
                    .header("content-type", "application/json")
                    .body("{nope")
            }),
            400,
            "",
        ),
        (
            "a rule set that is not TOML",
            b(|| {
                p.admin
                    .put(p.url("/api/v1/clients/acme/rules"))
                    .body("[ruleset\nclient=")
            }),
            422,
            "",
        ),
        (
            "a key that is not one",
            b(|| {
                Client::new()
                    .get(p.url("/api/v1/search?q=x"))
                    .bearer_auth("cp_x_y")
            }),
            401,
            "not valid",
        ),
        (
            "a cross-site form with a cookie",
            b(|| {
                Client::new()
                    .post(p.url(&format!("/ui/calls/{id}/evidence")))
                    .header("origin", "http://evil.example")
                    .header("cookie", "cp_session=cps_x")
            }),
            403,
            "cross-site",
        ),
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());

    let before = p.leftovers();
    let mut failures = Vec::new();
    for (name, request, status, gist) in &cases {
        let (got, json, body) = match request() {
            Sent::Http(Ok(r)) => {
                let json = r
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("application/json"));
                (r.status().as_u16(), json, r.text().unwrap_or_default())
            }
            Sent::Raw(Ok((status, body))) => {
                let json = serde_json::from_str::<serde_json::Value>(&body).is_ok();
                (status, json, body)
            }
            Sent::Http(Err(e)) => {
                failures.push(format!("{name}: no answer: {e}"));
                continue;
            }
            Sent::Raw(Err(e)) => {
                failures.push(format!("{name}: no answer: {e}"));
                continue;
            }
        };
        let error = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_lowercase));
        let body: String = body.chars().take(300).collect();
        if got != *status {
            failures.push(format!("{name}: status {got}, expected {status}: {body}"));
        } else if got >= 400 && *gist != "-" {
            match error {
                Some(e) if json && e.contains(&gist.to_lowercase()) => {}
                _ => failures.push(format!(
                    "{name}: the error does not say {gist:?} as JSON: {body}"
                )),
            }
        }
        // Still up, and nothing left behind.
        match admin.get(p.url("/healthz")).send() {
            Ok(h) if h.status() == StatusCode::OK => {}
            other => {
                failures.push(format!("{name}: the server no longer answers: {other:?}"));
                break;
            }
        }
        let after = p.leftovers();
        if after != before {
            failures.push(format!(
                "{name}: left (calls, objects, partial uploads) {after:?}, was {before:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A `callproof serve` with `env` set, its log kept.
fn start_logged(
    d: &Path,
    env: &[(&str, &str)],
) -> (KillOnDrop, String, std::sync::Arc<std::sync::Mutex<String>>) {
    use std::io::{BufRead, BufReader};
    let mut cmd = Command::new(bin());
    cmd.arg("--data")
        .arg(d)
        .args([
            "--model",
            "tiny.en",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "0",
        ])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start callproof serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let server = KillOnDrop(child);
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let base = loop {
        let line = lines.next().expect("server exited").expect("server output");
        log.lock().unwrap().push_str(&(line.clone() + "\n"));
        if let Some(url) = line.strip_prefix("callproof listening on ") {
            break url.trim().to_string();
        }
    };
    let sink = log.clone();
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            let mut g = sink.lock().unwrap_or_else(|p| p.into_inner());
            g.push_str(&l);
            g.push('\n');
        }
    });
    (server, base, log)
}

/// kill -9 while an upload arrives, and again between storing the recording and cataloguing
/// it: the next start removes what each left (and says so), and nothing else is lost.
#[test]
fn uploads_killed_half_way_leave_nothing_after_the_next_start() {
    ensure_model("tiny.en");
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let token = ok(d, &["keys", "create", "--role", "admin"])
        .trim()
        .to_string();
    let admin = bearer_client(&token);
    let probe = Probe {
        base: "",
        admin: &admin,
        data: d,
    };
    let audio = std::fs::read(fixture("real/en_jfk_16k_mono.wav")).unwrap();
    assert!(audio.len() > 300_000);

    // 1. Killed while the body arrives: a partial upload file is left in tmp/uploads.
    let (server, base, _) = start_logged(d, &[]);
    let mut body = Vec::new();
    body.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"client\":\"acme\",\"language\":\"en\"}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"slow.wav\"\r\nContent-Type: audio/wav\r\n\r\n");
    body.extend_from_slice(&audio);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    let mut conn = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    {
        use std::io::Write;
        write!(
            conn,
            "POST /api/v1/calls HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        conn.write_all(&body[..body.len() / 2]).unwrap();
        conn.flush().unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while probe.leftovers().2 == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no partial upload appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server); // SIGKILL
    drop(conn);
    assert_eq!(probe.leftovers(), (0, 0, 1), "the partial upload is there");

    // 2. Killed between storing and cataloguing (the crash drill aborts there): the next start
    // removes the partial upload of step 1; this one leaves a stored object no row references.
    let (server, base, log) = start_logged(d, &[("CALLPROOF_CRASH_DRILL", "upload:drill.wav")]);
    assert!(
        log.lock()
            .unwrap()
            .contains("a partial upload whose process is gone"),
        "{}",
        log.lock().unwrap()
    );
    let form = multipart::Form::new()
        .part(
            "audio",
            multipart::Part::bytes(audio.clone()).file_name("drill.wav".to_string()),
        )
        .text("metadata", r#"{"client":"acme","language":"en"}"#);
    let r = admin
        .post(format!("{base}/api/v1/calls"))
        .multipart(form)
        .send();
    assert!(r.is_err(), "the server aborted: {r:?}");
    drop(server);
    assert_eq!(
        probe.leftovers(),
        (0, 1, 1),
        "the stored, uncatalogued object and the file it came from"
    );

    // 3. A normal start: the object is removed and the log says which; the same recording is
    // then accepted as new.
    let (_server, base, log) = start_logged(d, &[]);
    let text = log.lock().unwrap().clone();
    assert!(
        text.contains("removed clients/acme/calls/") && text.contains("interrupted"),
        "{text}"
    );
    assert_eq!(probe.leftovers(), (0, 0, 0));
    let form = multipart::Form::new()
        .part(
            "audio",
            multipart::Part::bytes(audio).file_name("drill.wav".to_string()),
        )
        .text("metadata", r#"{"client":"acme","language":"en"}"#);
    let r = admin
        .post(format!("{base}/api/v1/calls"))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(probe.leftovers(), (1, 1, 0));
}

/// Uploads past --max-concurrent-uploads are answered 503 with Retry-After at once, without
/// reading their bodies; when the slot frees, the next upload goes through.
#[test]
fn uploads_past_the_concurrency_limit_are_told_to_retry() {
    ensure_model("tiny.en");
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let token = ok(d, &["keys", "create", "--role", "admin"])
        .trim()
        .to_string();
    let admin = bearer_client(&token);
    let server = serve(d, &["--model", "tiny.en", "--max-concurrent-uploads", "1"]);
    let audio = std::fs::read(fixture("formats/pcm_s16_16k.wav")).unwrap();
    // One upload holds the only slot: its body arrives slowly (half of it, then nothing).
    let mut slow = std::net::TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    {
        use std::io::Write;
        let body_len = 400_000;
        write!(
            slow,
            "POST /api/v1/calls HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {body_len}\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"a.wav\"\r\n\r\n"
        )
        .unwrap();
        slow.write_all(&vec![0u8; 100_000]).unwrap();
        slow.flush().unwrap();
    }
    // The server takes the slot before it creates the partial file: once the file is there,
    // the slot is held (sending the next upload earlier races the server's reading of this one).
    let uploads = d.join("tmp").join("uploads");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::fs::read_dir(&uploads).map_or(0, |e| e.count()) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow upload never reached the server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let upload = |bytes: Vec<u8>| {
        let form = multipart::Form::new()
            .part(
                "audio",
                multipart::Part::bytes(bytes).file_name("b.wav".to_string()),
            )
            .text("metadata", r#"{"client":"acme","language":"en"}"#);
        admin
            .post(format!("{}/api/v1/calls", server.base))
            .multipart(form)
            .send()
            .unwrap()
    };
    // Refused before its body is read (a small one, so that it is all sent by then).
    let r = upload(b"RIFF".repeat(100));
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "5");
    let err: serde_json::Value = r.json().unwrap();
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("--max-concurrent-uploads"),
        "{err}"
    );
    // The slow one gives up; its slot and its partial file are freed.
    drop(slow);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let r = upload(audio.clone());
        if r.status() == StatusCode::ACCEPTED {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            r.text().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let partials = std::fs::read_dir(&uploads).unwrap().count();
    assert_eq!(partials, 0);
}
