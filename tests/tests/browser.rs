//! The web interface in a real browser: Debian's Chromium, headless, driven over the W3C
//! WebDriver protocol by chromedriver, against a server started here on loopback with a real
//! ingested call. Screenshots of each page go to `docs/screenshots/` (linked from the README).
//!
//! The WebDriver client is the few JSON commands these tests need, over the blocking reqwest
//! client the other tests already use.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use reqwest::blocking::Client;
use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Browser {
    http: Client,
    base: String,
    session: String,
    _driver: KillOnDrop,
}

/// Ends the WebDriver session before chromedriver is killed: killing chromedriver alone leaves
/// the headless Chromium it started running after the suite (it did in CI).
impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send();
    }
}

impl Browser {
    fn start(downloads: &std::path::Path) -> Self {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver; scripts/setup.sh installs it)");
        let driver = KillOnDrop(driver);
        let http = Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--autoplay-policy=no-user-gesture-required",
                         "--mute-audio"],
                "prefs": {
                    "download.default_directory": downloads.to_str().unwrap(),
                    "download.prompt_for_download": false
                }
            }
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {r}"))
            .to_string();
        Browser {
            http,
            base,
            session,
            _driver: driver,
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url).json(&body),
        };
        let v: Value = req.send().unwrap().json().unwrap();
        if v["value"].get("error").is_some() {
            panic!("WebDriver {path}: {v}");
        }
        v["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    fn click(&self, el: &str) {
        self.cmd("POST", &format!("/element/{el}/click"), json!({}));
    }

    fn type_into(&self, el: &str, text: &str) {
        self.cmd(
            "POST",
            &format!("/element/{el}/value"),
            json!({ "text": text }),
        );
    }

    fn js(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
    }

    fn url(&self) -> String {
        self.cmd("GET", "/url", Value::Null)
            .as_str()
            .unwrap()
            .to_string()
    }

    fn screenshot(&self, name: &str) {
        let b64 = self.cmd("GET", "/screenshot", Value::Null);
        let png = base64_decode(b64.as_str().unwrap());
        let dir: PathBuf = root().join("docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Polls a script until it returns true.
    fn wait_for(&self, what: &str, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self.js(script) == Value::Bool(true) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let table = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => 0,
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk.iter().take_while(|c| **c != b'=').count();
        let mut v = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            v |= table(*c) << (18 - 6 * i);
        }
        out.push((v >> 16) as u8);
        if n > 2 {
            out.push((v >> 8) as u8);
        }
        if n > 3 {
            out.push(v as u8);
        }
    }
    out
}

#[test]
fn search_play_seek_bundle_and_isolation_in_chromium() {
    ensure_model("base");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let sk = d.join("signing.key");
    let sk = sk.to_str().unwrap();
    ok(d, &["--signing-key", sk, "keys", "init"]);
    // A real French sale, rendered and ingested with base: verified by the French pack.
    let wav = d.join("vente.wav");
    render_call("fr_vente_consentement.txt", &wav);
    let ingested = json(
        d,
        &[
            "--model",
            "base",
            "ingest",
            wav.to_str().unwrap(),
            "--client",
            "acme",
            "--language",
            "fr",
            "--started-at",
            "2026-03-03T10:30:00+01:00",
            "--agent",
            "julie",
            "--json",
        ],
    );
    let id = ingested[0]["call_id"].as_str().unwrap().to_string();
    let acme = ok(
        d,
        &["keys", "create", "--role", "client", "--client", "acme"],
    );
    let globex = ok(
        d,
        &["keys", "create", "--role", "client", "--client", "globex"],
    );
    let qm = ok(
        d,
        &[
            "keys",
            "create",
            "--role",
            "quality_manager",
            "--client",
            "acme",
        ],
    );

    let server = serve(d, &["--signing-key", sk, "--model", "base"]);
    let base = server.base.clone();

    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(downloads.path());
    let sign_in = |key: &str| {
        b.goto(&format!("{base}/ui/login"));
        let field = b.find("#key");
        b.type_into(&field, key.trim());
        b.click(&b.find("form.login button"));
        b.wait_for(
            "the first page",
            "return location.pathname === '/ui/search' || location.pathname === '/ui/calls'",
        );
    };
    b.goto(&format!("{base}/ui/login"));
    b.screenshot("login");
    sign_in(&acme);
    // An ordering client lands on its calls, not on an empty search.
    assert!(b.url().ends_with("/ui/calls"), "{}", b.url());
    b.goto(&format!("{base}/ui/search"));

    // Search, then open the hit: the player starts at the hit's time.
    let q = b.find("#q");
    b.type_into(&q, "\"confirme mon accord\"");
    b.click(&b.find("form.search > button"));
    b.wait_for(
        "results",
        "return document.querySelectorAll('.hit').length > 0",
    );
    b.screenshot("search");
    let link = b.find(".hit .seg-link");
    let hit_ms = b.js("return Number(document.querySelector('.hit .seg-link').dataset.ms)");
    let hit_ms = hit_ms.as_f64().unwrap();
    assert!(hit_ms > 20_000.0, "{hit_ms}");
    b.click(&link);
    b.wait_for(
        "the call page",
        "return !!document.getElementById('player')",
    );
    assert!(
        b.url().contains(&format!("/ui/calls/{id}#t=")),
        "{}",
        b.url()
    );
    b.wait_for(
        "the player at the hit",
        &format!(
            "return Math.abs(document.getElementById('player').currentTime * 1000 - {hit_ms}) < 50"
        ),
    );
    b.screenshot("call");
    // The consent finding is listed with its time.
    let consent = b.js("return document.querySelector('.finding .rule') !== null && [...document.querySelectorAll('.finding')].some(f => f.dataset.rule === 'consent')");
    assert_eq!(consent, Value::Bool(true));
    // Rule names in the page's language, never raw ids.
    let names =
        b.js("return [...document.querySelectorAll('.finding .rule')].map(r => r.textContent)");
    let names: Vec<String> = serde_json::from_value(names).unwrap();
    assert!(
        names.contains(&"Consentement du client".to_string()),
        "{names:?}"
    );
    assert!(
        names.iter().all(|n| !n.contains('_')),
        "raw rule ids: {names:?}"
    );

    // Clicking a later segment moves playback there.
    let last = b.js("var s = document.querySelectorAll('.segment .seg-time'); return Number(s[s.length - 1].dataset.seek)");
    let last = last.as_f64().unwrap();
    assert!(last > hit_ms, "{last} vs {hit_ms}");
    b.click(&b.find(".segment:last-child .seg-time"));
    b.wait_for(
        "playback at the clicked segment",
        &format!("var t = document.getElementById('player').currentTime * 1000; return t >= {last} - 50 && t < {last} + 3000"),
    );
    b.wait_for(
        "the played segment highlighted",
        "return document.querySelector('.segment.playing') === document.querySelector('.segment:last-child') || document.getElementById('player').paused",
    );

    // The level strip, drawn from the recording: visible once loaded; a click plays from there.
    b.wait_for(
        "the level strip",
        "var e = document.getElementById('energy'); return !!e && !e.hidden && e.querySelector('canvas').width > 100",
    );
    b.js("var c = document.querySelector('#energy canvas'); var r = c.getBoundingClientRect(); c.dispatchEvent(new MouseEvent('click', {clientX: r.left + r.width / 2, clientY: r.top + 5, bubbles: true})); return true");
    b.wait_for(
        "playback from the middle of the strip",
        "var p = document.getElementById('player'); var d = Number(document.getElementById('energy').dataset.duration); return Math.abs(p.currentTime * 1000 - d / 2) < 1500",
    );

    // The header argues the case: the consent line, with its moment.
    assert_eq!(
        b.js("return document.getElementById('consent-line') !== null"),
        Value::Bool(true)
    );
    // Keyboard: with a time button focused, space pauses (instead of seeking again) and k
    // plays again.
    let time_button = b.find(".segment:last-child .seg-time");
    b.js("var p = document.getElementById('player'); p.play(); return true");
    b.wait_for(
        "playing",
        "return !document.getElementById('player').paused",
    );
    b.type_into(&time_button, " ");
    b.wait_for(
        "space pauses while a time button has the focus",
        "return document.getElementById('player').paused",
    );
    b.type_into(&time_button, "k");
    b.wait_for(
        "k plays again",
        "return !document.getElementById('player').paused",
    );
    b.js("document.getElementById('player').pause(); return true");
    // "Link to this moment" puts the moment in the address.
    b.click(&b.find("#moment-link"));
    assert!(b.url().contains("#t="), "{}", b.url());
    // At 400 px: nothing wider than the screen, the player a bar, not half the page.
    b.cmd("POST", "/window/rect", json!({"width": 400, "height": 800}));
    b.wait_for("a narrow window", "return window.innerWidth <= 400");
    let narrow = b.js(
        "var w = window.innerWidth; \
         var bar = document.querySelector('.player-bar').getBoundingClientRect(); \
         return [document.documentElement.scrollWidth <= w + 1, bar.height < window.innerHeight / 3]",
    );
    assert_eq!(narrow, json!([true, true]), "layout at 400 px");
    b.screenshot("call-400px");
    b.cmd(
        "POST",
        "/window/rect",
        json!({"width": 1280, "height": 900}),
    );

    // The bundle button downloads a signed bundle that verifies offline.
    b.click(&b.find(".player-bar form button"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let bundle = loop {
        let done: Vec<PathBuf> = std::fs::read_dir(downloads.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "zip"))
            .collect();
        if let Some(p) = done.first() {
            break p.clone();
        }
        assert!(Instant::now() < deadline, "the bundle was not downloaded");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        bundle.to_string_lossy().contains(&id),
        "{}",
        bundle.display()
    );
    let public = ok(d, &["--signing-key", sk, "keys", "public"]);
    let out = ok(
        d,
        &[
            "evidence",
            "verify",
            bundle.to_str().unwrap(),
            "--public-key",
            public.trim(),
        ],
    );
    assert!(out.starts_with("valid"), "{out}");
    assert!(out.contains("consent was found"), "{out}");
    // As a client would: the bundle unpacked and compressed again by an ordinary archiver
    // (deflate, folder entries), then checked with the command and key the page
    // "Vérifier une preuve" gives.
    b.goto(&format!("{base}/ui/verify"));
    let command = b.js("return document.getElementById('verify-command').textContent");
    let command = command.as_str().unwrap().trim().to_string();
    let shown_key = b.js("return document.getElementById('public-key').textContent");
    assert_eq!(shown_key.as_str().unwrap().trim(), public.trim());
    assert!(
        command.starts_with("callproof evidence verify bundle.zip --public-key "),
        "{command}"
    );
    let rezipped = downloads.path().join("rezipped.zip");
    let status = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\n\
             src = zipfile.ZipFile(sys.argv[1])\n\
             with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as out:\n\
             \x20   out.writestr('excerpts/', b'')\n\
             \x20   for n in src.namelist():\n\
             \x20       out.writestr(n, src.read(n))\n",
            bundle.to_str().unwrap(),
            rezipped.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let args: Vec<String> = command
        .split_whitespace()
        .skip(1)
        .map(|a| {
            if a == "bundle.zip" {
                rezipped.to_str().unwrap().to_string()
            } else {
                a.to_string()
            }
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = ok(d, &args);
    assert!(out.starts_with("valid"), "the re-zipped bundle: {out}");
    b.screenshot("verify");
    b.goto(&format!("{base}/ui/calls/{id}"));
    b.wait_for(
        "the call page again",
        "return !!document.getElementById('player')",
    );

    // English on request.
    b.js("document.getElementById('lang-select').value = 'en'; document.getElementById('lang-select').form.submit(); return true");
    b.wait_for("English", "return document.documentElement.lang === 'en'");
    b.screenshot("call-en");

    // The client portal lists the client's calls.
    b.goto(&format!("{base}/ui/calls"));
    b.wait_for(
        "the calls list",
        &format!("return document.body.innerHTML.includes('{id}')"),
    );
    b.screenshot("portal-calls");

    // A quality manager reviews the call: confirms the consent finding.
    b.click(&b.find("header nav form button"));
    b.wait_for("signed out", "return location.pathname === '/ui/login'");
    sign_in(&qm);
    b.goto(&format!("{base}/ui/samples"));
    b.click(&b.find(".sample-form button"));
    b.wait_for(
        "the sample",
        "return location.pathname.startsWith('/ui/samples/')",
    );
    b.screenshot("sample");
    b.click(&b.find("table.list tbody a"));
    b.wait_for(
        "the review form",
        "return !!document.getElementById('submit-review')",
    );
    // Overruling shows the reason, actual outcome and time; a time that is not one is
    // refused, and every choice and the comment are still there.
    b.click(&b.find("fieldset[data-rule='consent'] input[value='overrule']"));
    b.wait_for(
        "the overruling fields",
        "return getComputedStyle(document.querySelector(\"fieldset[data-rule='consent'] .overrule-only\")).display !== 'none'",
    );
    assert_eq!(
        b.js("return getComputedStyle(document.querySelector(\"fieldset[data-rule='identity'] .overrule-only\")).display"),
        Value::String("none".into()),
        "hidden until overruled"
    );
    b.type_into(&b.find("input[name='r_consent']"), "oui à la fin");
    b.type_into(&b.find("input[name='c_consent']"), "bientôt");
    b.js("document.querySelector('select[name=s_politesse]').value = '4'; document.querySelector('textarea[name=comment]').value = 'écouté deux fois'; return true");
    b.click(&b.find("#submit-review"));
    b.wait_for("the refusal", "return !!document.querySelector('.error')");
    b.screenshot("review-error");
    assert_eq!(
        b.js("return [document.querySelector(\"fieldset[data-rule='consent'] input[value='overrule']\").checked, document.querySelector(\"input[name='r_consent']\").value, document.querySelector(\"input[name='c_consent']\").value, document.querySelector('select[name=s_politesse]').value, document.querySelector('textarea[name=comment]').value]"),
        json!([true, "oui à la fin", "bientôt", "4", "écouté deux fois"])
    );
    b.click(&b.find("fieldset[data-rule='consent'] input[value='confirm']"));
    b.js("document.querySelector('select[name=s_politesse]').value = '5'; return true");
    b.screenshot("review");
    b.click(&b.find("#submit-review"));
    b.wait_for(
        "the saved review",
        "return !!document.querySelector('.notice')",
    );
    let reviews = json(d, &["audit", "list", "--action", "submit_review", "--json"]);
    assert_eq!(reviews.as_array().unwrap().len(), 1, "{reviews}");
    let saved = b.js("return document.querySelector('.notice').textContent");
    assert!(saved.as_str().unwrap().contains("version 1"), "{saved}");
    b.goto(&format!("{base}/ui/dashboard?client=acme"));
    b.wait_for(
        "the dashboard",
        "return document.querySelectorAll('table.bars').length === 4",
    );
    b.screenshot("dashboard");

    // Another client's key cannot open this call's page.
    b.click(&b.find("header nav form button"));
    b.wait_for("signed out", "return location.pathname === '/ui/login'");
    sign_in(&globex);
    b.goto(&format!("{base}/ui/calls/{id}"));
    let text = b.js("return document.body.innerText");
    assert!(
        text.as_str().unwrap().contains("No such call")
            || text.as_str().unwrap().contains("introuvable"),
        "{text}"
    );
    assert_eq!(
        b.js("return !!document.getElementById('player')"),
        Value::Bool(false)
    );
}
