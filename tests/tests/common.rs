//! Helpers shared by the end-to-end tests: the `callproof` binary, models, fixtures.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::Mutex;

/// Transcription uses every core; tests that run Whisper take turns.
pub static WHISPER: Mutex<()> = Mutex::new(());

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("tests/fixtures").join(rel)
}

/// The `callproof` binary of this build (`cargo build --bin callproof` makes it).
pub fn bin() -> PathBuf {
    if let Some(p) = std::env::var_os("CALLPROOF_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/callproof
    let p = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("callproof"))
        .expect("target folder");
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --bin callproof` before the tests (the README's test command does)",
        p.display()
    );
    p
}

pub fn callproof(data: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .expect("run callproof")
}

/// Runs callproof and returns stdout, failing the test with stderr if it failed.
pub fn ok(data: &Path, args: &[&str]) -> String {
    let out = callproof(data, args);
    assert!(
        out.status.success(),
        "callproof {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

pub fn json(data: &Path, args: &[&str]) -> serde_json::Value {
    let out = ok(data, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

static INSTALL: Mutex<()> = Mutex::new(());

/// Installs a known model into the shared cache unless it is there already.
pub fn ensure_model(name: &str) {
    let _g = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    let scratch = tempfile::tempdir().unwrap();
    let list = json(scratch.path(), &["model", "list", "--json"]);
    let installed = list
        .as_array()
        .is_some_and(|a| a.iter().any(|m| m["name"] == name));
    if !installed {
        ok(scratch.path(), &["model", "install", name]);
    }
}

/// Ingests one recording with `model` (plus extra flags) and returns its call id.
pub fn ingest_one(data: &Path, model: &str, file: &Path, extra: &[&str]) -> String {
    let mut args = vec!["--model", model, "ingest", file.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let out = json(data, &args);
    out[0]["call_id"].as_str().expect("a call id").to_string()
}

/// A call's transcript text, segments joined by spaces.
pub fn transcript_text(data: &Path, id: &str) -> String {
    let t = json(data, &["transcript", id, "--json"]);
    t["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Renders a call script of `tests/calls` to a stereo WAV (and its `.turns.tsv`) at `out`.
pub fn render_call(script: &str, out: &Path) {
    let status = Command::new(root().join("tests/scripts/render-call.sh"))
        .arg(root().join("tests/calls").join(script))
        .arg(out)
        .status()
        .expect("render-call.sh (needs espeak-ng, mbrola voices and sox: run scripts/setup.sh)");
    assert!(status.success(), "rendering {script} failed");
}

/// Lower-case words without punctuation, for comparing transcripts.
pub fn normalise(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A child process killed when dropped, so a failing test leaves nothing running.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `callproof serve` on a free loopback port; stopped when dropped.
pub struct Served {
    _child: KillOnDrop,
    pub base: String,
}

/// Starts `callproof --data DATA ARGS... serve --listen 127.0.0.1:0` and waits until it
/// listens. `args` are the global options (model, signing key).
pub fn serve(data: &Path, args: &[&str]) -> Served {
    serve_with(data, args, &[])
}

/// [`serve`] with options of `serve` itself (`--workers 0`…) after the command.
pub fn serve_with(data: &Path, args: &[&str], serve_args: &[&str]) -> Served {
    let mut cmd = Command::new(bin());
    cmd.arg("--data").arg(data).args(args);
    serve_command(cmd, serve_args)
}

/// Starts `CMD serve --listen 127.0.0.1:0 SERVE_ARGS…` (a command with its global options and
/// environment already set) and waits until it listens.
pub fn serve_command(mut cmd: Command, serve_args: &[&str]) -> Served {
    use std::io::{BufRead, BufReader};
    let mut child = cmd
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(serve_args)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start callproof serve");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let child = KillOnDrop(child);
    let base = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .expect("server output");
        if let Some(url) = line.strip_prefix("callproof listening on ") {
            break url.trim().to_string();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Served {
        _child: child,
        base,
    }
}

impl Served {
    /// Stops the server at once (SIGKILL), as a lost machine would.
    pub fn kill(&mut self) {
        let _ = self._child.0.kill();
        let _ = self._child.0.wait();
    }
}

/// An HTTP client that sends `Authorization: Bearer <token>`.
pub fn bearer_client(token: &str) -> reqwest::blocking::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {}", token.trim()).parse().expect("header"),
    );
    reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .default_headers(h)
        .build()
        .expect("client")
}
