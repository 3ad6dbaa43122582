//! Proof-of-consent bundles: one signed ZIP an ordering client can check without us.
//!
//! The bundle holds `manifest.json` (the call, the original's SHA-256, the model, the rule set,
//! the findings, who asked and when, and the SHA-256 of every other file), `manifest.sig` (a
//! detached ed25519 signature of the manifest's exact bytes, hex), the transcript as JSON and as
//! a readable HTML page, WAV excerpts around the consent and each disclosure that was found,
//! and optionally the original recording. Verifying checks the signature against a public key
//! given by the person verifying, then every file against the manifest, and names each file or
//! field that fails. Evidence is never embellished: a call without consent says so plainly.

pub mod checkpoint;

/// The key types of signatures, for callers that hold or check keys.
pub use ed25519_dalek::{SigningKey, VerifyingKey};

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use callproof_models::{Actor, Call, FindingStatus, Outcome, RuleKind, Transcript, Verification};
use chrono::Utc;
use ed25519_dalek::{Signature, Signer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What went wrong making or checking a bundle, or handling the signing key, in words a person
/// can act on.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EvidenceError(String);

pub type Result<T, E = EvidenceError> = std::result::Result<T, E>;

macro_rules! bail {
    ($($t:tt)*) => { return Err(EvidenceError(format!($($t)*))) };
}

/// Adds what was being done to an error, as `anyhow`'s `context` does at the binary's edge.
trait Context<T> {
    fn context(self, what: &str) -> Result<T>;
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: std::fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: &str) -> Result<T> {
        self.map_err(|e| EvidenceError(format!("{what}: {e}")))
    }
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| EvidenceError(format!("{}: {e}", what())))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: &str) -> Result<T> {
        self.ok_or_else(|| EvidenceError(what.to_string()))
    }
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.ok_or_else(|| EvidenceError(what()))
    }
}

macro_rules! from_error {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl From<$t> for EvidenceError {
            fn from(e: $t) -> Self {
                EvidenceError(format!(concat!($what, ": {}"), e))
            }
        }
    )*};
}

from_error! {
    std::io::Error => "reading or writing a file",
    hound::Error => "writing a WAV excerpt",
    zip::result::ZipError => "the bundle's ZIP container",
    serde_json::Error => "the bundle's JSON",
    hex::FromHexError => "hexadecimal text",
}

/// Decoded audio to cut excerpts from: one sample vector per channel, at `sample_rate`.
pub struct Audio<'a> {
    pub channels: &'a [Vec<f32>],
    pub sample_rate: u32,
}

impl Audio<'_> {
    fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
    fn duration_ms(&self) -> u64 {
        if self.sample_rate == 0 {
            return 0;
        }
        self.frames() as u64 * 1000 / self.sample_rate as u64
    }
}

/// Where the signing key lives unless told otherwise: outside every data folder.
pub fn default_signing_key_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CALLPROOF_SIGNING_KEY") {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("callproof").join("evidence-ed25519.key")
}

/// Creates the signing key if it does not exist; returns whether it was created.
pub fn init_signing_key(path: &Path) -> Result<bool> {
    if path.exists() {
        load_signing_key(path)?;
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| EvidenceError(format!("no randomness from the system: {e}")))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create the signing key {}", path.display()))?;
    writeln!(f, "{}", hex::encode(seed))?;
    Ok(true)
}

pub fn load_signing_key(path: &Path) -> Result<SigningKey> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "no evidence signing key at {}: create it with `callproof keys init` (scripts/setup.sh does), or point CALLPROOF_SIGNING_KEY at it",
            path.display()
        )
    })?;
    let bytes = hex::decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .with_context(|| {
            format!(
                "{} is not a callproof signing key (64 hex digits)",
                path.display()
            )
        })?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// A key's fingerprint as people compare it over the phone: the first 16 bytes of the SHA-256
/// of its 32 bytes, in groups of four hex digits ("SHA256:3f2a 9c1b …").
pub fn fingerprint(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.to_bytes());
    let hex = hex::encode(&digest[..16]);
    let groups: Vec<&str> = (0..hex.len()).step_by(4).map(|i| &hex[i..i + 4]).collect();
    format!("SHA256:{}", groups.join(" "))
}

/// A public key given as 64 hex digits, or a file holding them (`callproof keys public`).
pub fn parse_public_key(arg: &str) -> Result<VerifyingKey> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).with_context(|| format!("cannot read {arg}"))?
    } else {
        arg.to_string()
    };
    let hexed = text
        .split_whitespace()
        .find(|w| w.len() == 64 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .with_context(|| format!("{arg:?} holds no ed25519 public key (64 hex digits)"))?;
    let bytes: [u8; 32] = hex::decode(hexed)?
        .try_into()
        .map_err(|_| EvidenceError("the public key must be 32 bytes".into()))?;
    VerifyingKey::from_bytes(&bytes).context("not a valid ed25519 public key")
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// A file of the bundle as the manifest lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// The signed description of a bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub created_at: chrono::DateTime<Utc>,
    pub requested_by: Actor,
    pub call: Call,
    pub original: OriginalInfo,
    pub model: ModelInfo,
    pub ruleset: callproof_models::RuleSetRef,
    pub verdict: callproof_models::Verdict,
    pub verified_at: chrono::DateTime<Utc>,
    /// What the bundle proves about consent, in one sentence, and the finding behind it.
    pub consent: ConsentStatement,
    pub findings: Vec<callproof_models::Finding>,
    pub files: Vec<FileEntry>,
    /// What was removed from the recording and the transcript (card numbers, codes, personal
    /// data): kinds, speakers, times and reasons, and the SHA-256 of the recording as received
    /// and as redacted. The recording in the bundle is the redacted one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction: Option<callproof_models::Redaction>,
    /// The public half of the key that signed it, hex; verify with a key obtained separately.
    pub signing_public_key: String,
    /// The newest review of the call when the bundle was made (a person's decisions on the
    /// findings), if any: `verdict` stays the automatic one, `review.reviewed_verdict` is theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<callproof_models::Review>,
    /// Which verdict this bundle carries, and as of when: a review made after it is not in it.
    #[serde(default)]
    pub carries: Option<Carries>,
}

/// The verdict a bundle carries and where it comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Carries {
    pub verdict: callproof_models::Verdict,
    /// "automatic" (the rules alone) or "review" (the newest review at `as_of`).
    pub source: String,
    pub as_of: chrono::DateTime<Utc>,
    pub statement: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OriginalInfo {
    pub sha256: String,
    pub bytes: u64,
    pub name: Option<String>,
    /// The bundle path of the original when included.
    pub included_as: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsentStatement {
    pub found: bool,
    pub statement: String,
    /// The recording around the consent, or around the span where it was expected when it was
    /// not found: the decisive moment is always in the bundle to be heard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<Excerpt>,
}

/// A stretch of the recording in the bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Excerpt {
    pub path: String,
    pub from_ms: u64,
    pub to_ms: u64,
    /// Why this stretch: "consent found", "consent expected here (searched)", …
    pub why: String,
}

pub const FORMAT: &str = "callproof-evidence/1";
const MARGIN_MS: u64 = 2000;
/// The longest stretch kept when consent was not found and the whole end of the call is where
/// it was expected.
const EXPECTED_MAX_MS: u64 = 90_000;

/// Writes channels `from..to` ms of the decoded recording as 16-bit PCM WAV.
pub fn wav_excerpt(audio: &Audio<'_>, from_ms: u64, to_ms: u64) -> Result<Vec<u8>> {
    let rate = audio.sample_rate as u64;
    let frames = audio.frames() as u64;
    let a = (from_ms * rate / 1000).min(frames) as usize;
    let b = (to_ms * rate / 1000).min(frames) as usize;
    if b <= a {
        bail!(
            "the excerpt {from_ms}-{to_ms} ms is outside the recording ({} ms)",
            audio.duration_ms()
        );
    }
    let spec = hound::WavSpec {
        channels: audio.channels.len().max(1) as u16,
        sample_rate: audio.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::new());
    {
        let mut w = hound::WavWriter::new(&mut out, spec)?;
        for i in a..b {
            for ch in audio.channels {
                let s = ch.get(i).copied().unwrap_or(0.0).clamp(-1.0, 1.0);
                w.write_sample((s * i16::MAX as f32) as i16)?;
            }
        }
        w.finalize()?;
    }
    Ok(out.into_inner())
}

/// Text made safe to place in HTML.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn clock(ms: u64) -> String {
    format!(
        "{:02}:{:02}.{:03}",
        ms / 60_000,
        (ms / 1000) % 60,
        ms % 1000
    )
}

/// The words of the readable page: labels by key (`rule_<id>`, outcomes, verdicts, speakers),
/// falling back to the key itself so that a rule set's own rule ids still read.
pub type Labels = BTreeMap<String, String>;

fn label<'a>(labels: &'a Labels, key: &'a str) -> &'a str {
    labels.get(key).map(String::as_str).unwrap_or(key)
}

fn rule_label<'a>(labels: &'a Labels, rule_id: &'a str) -> &'a str {
    labels
        .get(&format!("rule_{rule_id}"))
        .map(String::as_str)
        .unwrap_or(rule_id)
}

/// `transcript.html`: what a person at the ordering client reads first, in French (the
/// language of the calls and of the people who dispute them): the call's identifiers (customer
/// phone, contract), the verdict it carries and from whom, consent in one sentence with its
/// excerpt, the findings, the review, and the transcript.
fn transcript_html(
    input: &BundleInput<'_>,
    carries: &Carries,
    consent: &ConsentStatement,
) -> String {
    let (call, t, v, l) = (
        input.call,
        input.transcript,
        input.verification,
        input.labels,
    );
    let e = |s: &str| html_escape(s);
    let m = &call.metadata;
    let mut h = String::new();
    h.push_str("<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">");
    h.push_str(&format!(
        "<title>Appel {}</title><style>body{{font-family:sans-serif;max-width:50em;margin:2em auto;color:#111}}\
         .agent{{color:#0b4f8a}}.customer{{color:#7a2e00}}td,th{{vertical-align:top;padding:.2em .5em;text-align:left}}\
         .fail{{color:#a00}}.review{{color:#a60}}.carries{{border-left:6px solid #0b4f8a;padding:.3em .6em;background:#f2f6fb}}</style></head><body>",
        call.id
    ));
    h.push_str(&format!("<h1>Appel {}</h1><table class=\"call\">", call.id));
    let started = m
        .started_at
        .map(|s| s.format("%Y-%m-%d %H:%M:%S (UTC%:z)").to_string());
    let duration = call.audio.as_ref().map(|a| clock(a.duration_ms));
    for (name, value) in [
        ("Téléphone du client", m.customer_phone.as_deref()),
        ("Référence du contrat", m.contract_ref.as_deref()),
        ("Client donneur d'ordre", Some(m.client.as_str())),
        ("Campagne", m.campaign.as_deref()),
        ("Vendeur", m.agent.as_deref()),
        ("Début de l'appel", started.as_deref()),
        ("Durée", duration.as_deref()),
    ] {
        h.push_str(&format!(
            "<tr><th>{name}</th><td>{}</td></tr>",
            e(value.unwrap_or("—"))
        ));
    }
    h.push_str("</table>");
    h.push_str(&format!(
        "<p class=\"carries\" id=\"carries\">{}</p>",
        e(&carries_fr(carries, input.review))
    ));
    h.push_str(&format!(
        "<p>Verdict automatique : <b>{}</b> (règles {} version {}, vérifié le {}). Transcription : {} (SHA-256 {}).</p>",
        e(label(l, v.verdict.as_str())),
        e(&v.ruleset.id),
        v.ruleset.version,
        v.verified_at.format("%Y-%m-%d %H:%M (UTC%:z)"),
        e(&t.model),
        &t.model_sha256,
    ));
    h.push_str(&format!(
        "<h2>Consentement</h2><p id=\"consent\">{}</p>",
        e(&consent_fr(v, l))
    ));
    if let Some(x) = &consent.excerpt {
        h.push_str(&format!(
            "<p>Extrait : <a href=\"{}\">{}</a> ({} → {}) — {}</p>",
            e(&x.path),
            e(&x.path),
            clock(x.from_ms),
            clock(x.to_ms),
            e(&x.why)
        ));
    }
    h.push_str("<h2>Constats</h2><table><tr><th>Règle</th><th>Résultat</th><th>Moment</th><th>Ce qui a été entendu</th></tr>");
    for f in &v.findings {
        let class = match f.status {
            FindingStatus::Pass => "",
            FindingStatus::Review => "review",
            FindingStatus::Fail => "fail",
        };
        let heard = match (&f.matched, f.speaker) {
            (Some(words), Some(sp)) => format!("{} « {} »", label(l, sp.as_str()), words),
            (Some(words), None) => format!("« {words} »"),
            _ => f.detail.clone(),
        };
        h.push_str(&format!(
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(rule_label(l, &f.rule_id)),
            e(label(l, f.outcome.as_str())),
            f.start_ms.map(clock).unwrap_or_default(),
            e(&heard)
        ));
    }
    h.push_str("</table>");
    if let Some((r, who)) = input.review {
        h.push_str(&format!(
            "<h2>Revue humaine</h2><p id=\"review\">Par {}, le {} (version {}) : <b>{}</b> (verdict automatique : {}).</p><ul>",
            e(who),
            r.created_at.format("%Y-%m-%d %H:%M (UTC%:z)"),
            r.version,
            e(label(l, r.reviewed_verdict.as_str())),
            e(label(l, r.automatic_verdict.as_str())),
        ));
        for d in &r.input.decisions {
            let decided = match d.decision {
                callproof_models::Decision::Confirm => "confirmé",
                callproof_models::Decision::Overrule => "infirmé",
            };
            h.push_str(&format!("<li>{} : {decided}", e(rule_label(l, &d.rule_id))));
            if let Some(o) = d.corrected_outcome {
                h.push_str(&format!(" → {}", e(label(l, o.as_str()))));
            }
            if let Some(at) = d.corrected_start_ms {
                h.push_str(&format!(" à {}", clock(at)));
            }
            if let Some(reason) = &d.reason {
                h.push_str(&format!(" — « {} »", e(reason)));
            }
            h.push_str("</li>");
        }
        h.push_str("</ul>");
        if let Some(c) = &r.input.comment {
            h.push_str(&format!("<p>Commentaire : « {} »</p>", e(c)));
        }
    }
    h.push_str("<h2>Transcription</h2><table>");
    for s in &t.segments {
        // Words the script check put in place show what the recogniser heard first.
        let first = s.heard_first.as_deref().map_or(String::new(), |f| {
            format!(
                "<br><small>entendu d'abord : « {} » (l'enregistrement s'accorde aussi bien avec les mots du script)</small>",
                e(f.trim())
            )
        });
        h.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}{first}</td></tr>",
            s.speaker,
            clock(s.start_ms),
            e(label(l, s.speaker.as_str())),
            e(s.text.trim())
        ));
    }
    h.push_str("</table></body></html>\n");
    h
}

/// Which verdict the bundle carries, in French, for the reader of `transcript.html`.
fn carries_fr(c: &Carries, review: Option<(&callproof_models::Review, &str)>) -> String {
    let when = c.as_of.format("%Y-%m-%d %H:%M (UTC%:z)");
    match review {
        Some((r, who)) => format!(
            "Cette preuve porte le verdict de la revue humaine de {who} du {} (version {}), telle qu'elle était le {when} ; une revue postérieure n'y figure pas.",
            r.created_at.format("%Y-%m-%d %H:%M (UTC%:z)"),
            r.version
        ),
        None => format!(
            "Cette preuve porte le verdict automatique : aucune revue humaine n'existait le {when}, date de la preuve ; une revue postérieure n'y figure pas."
        ),
    }
}

/// Consent in one French sentence, from the consent finding.
fn consent_fr(v: &Verification, l: &Labels) -> String {
    match v.findings.iter().find(|f| f.kind == RuleKind::Consent) {
        None => "Les règles qui ont vérifié cet appel ne contiennent pas de règle de consentement : cette preuve n'établit pas le consentement.".into(),
        Some(f) => {
            let said = f
                .matched
                .as_deref()
                .map(|w| {
                    format!(
                        " {} a dit « {w} »{}.",
                        f.speaker.map(|s| label(l, s.as_str())).unwrap_or("quelqu'un"),
                        f.start_ms.map(|s| format!(" à {}", clock(s))).unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            match (f.outcome, f.status) {
                (Outcome::Met, FindingStatus::Pass) => format!("OUI — le consentement du client a été trouvé.{said}"),
                (Outcome::Refused, _) => format!("NON — le client a refusé ou s'est rétracté.{said}"),
                (_, FindingStatus::Review) => format!("À VÉRIFIER — le contrôle automatique n'a pas pu trancher ; une personne doit écouter l'extrait.{said}"),
                (o, _) => format!("NON — aucun consentement valable ({}).{said}", label(l, o.as_str())),
            }
        }
    }
}

/// Where the consent is, or was expected, as a stretch of the recording and why.
fn consent_span(v: &Verification, duration: u64) -> Option<(u64, u64, String)> {
    let f = v.findings.iter().find(|f| f.kind == RuleKind::Consent)?;
    let h = f.hearing.as_ref();
    let (from, to, why) = if let (Some(s), Some(e)) = (f.start_ms, f.end_ms) {
        let why = if f.outcome == Outcome::Met {
            "le consentement trouvé"
        } else {
            "le moment décisif du constat"
        };
        (s.saturating_sub(MARGIN_MS), e + MARGIN_MS, why)
    } else if let Some((s, e)) = h.and_then(|h| h.doubtful) {
        (
            s.saturating_sub(MARGIN_MS),
            e + MARGIN_MS,
            "la parole douteuse où le consentement était attendu",
        )
    } else if let Some((s, e)) = h.and_then(|h| h.searched) {
        // Where it was looked for: its end, where consent is asked, when the span is long.
        (
            s.max(e.saturating_sub(EXPECTED_MAX_MS)),
            e,
            "là où le consentement était attendu",
        )
    } else {
        // Nothing says where: the end of the call, where consent is asked.
        (
            duration.saturating_sub(EXPECTED_MAX_MS),
            duration,
            "la fin de l'appel, où le consentement est demandé",
        )
    };
    let to = to.min(duration);
    (to > from).then(|| (from, to, why.to_string()))
}

fn consent_statement(v: &Verification) -> ConsentStatement {
    let consent = v.findings.iter().find(|f| f.kind == RuleKind::Consent);
    match consent {
        None => ConsentStatement {
            found: false,
            statement: "The rule set that checked this call has no consent rule: this bundle does not establish consent.".into(),
            excerpt: None,
        },
        Some(f) if f.outcome == Outcome::Met && f.status == FindingStatus::Pass => ConsentStatement {
            found: true,
            statement: format!(
                "The customer's consent was found: {} (rule {}).",
                f.detail, f.rule_id
            ),
            excerpt: None,
        },
        Some(f) if f.outcome == Outcome::Met => ConsentStatement {
            found: false,
            statement: format!(
                "Consent is doubtful and was not confirmed by the automatic check: {} A person must listen to the excerpt.",
                f.detail
            ),
            excerpt: None,
        },
        Some(f) => ConsentStatement {
            found: false,
            statement: format!(
                "No valid consent was found ({}): {}",
                f.outcome, f.detail
            ),
            excerpt: None,
        },
    }
}

/// Everything a bundle is made from.
pub struct BundleInput<'a> {
    pub call: &'a Call,
    pub transcript: &'a Transcript,
    pub verification: &'a Verification,
    pub original: &'a [u8],
    pub audio: &'a Audio<'a>,
    pub requested_by: Actor,
    pub include_original: bool,
    /// What was redacted from the call, if anything: the bundle then carries the redacted
    /// recording and says what was removed, where and why (never the data itself).
    pub redaction: Option<&'a callproof_models::Redaction>,
    /// The newest review of the call, with its reviewer's name, if a person reviewed it.
    pub review: Option<(&'a callproof_models::Review, &'a str)>,
    /// The readable page's words (French): rule titles, outcomes, verdicts, speakers.
    pub labels: &'a Labels,
}

/// Builds and signs a bundle; returns the ZIP bytes.
pub fn build(input: &BundleInput<'_>, key: &SigningKey) -> Result<Vec<u8>> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert(
        "transcript.json".into(),
        serde_json::to_vec_pretty(input.transcript)?,
    );
    // Excerpts of what was found: each disclosure, with some context; and the consent moment
    // always, found or not (where it was expected when it was not).
    let duration = input.audio.duration_ms();
    for f in &input.verification.findings {
        let wanted = f.kind == RuleKind::Required && f.outcome == Outcome::Met;
        if let (true, Some(s), Some(e)) = (wanted, f.start_ms, f.end_ms) {
            let from = s.saturating_sub(MARGIN_MS);
            let to = (e + MARGIN_MS).min(duration);
            if let Ok(wav) = wav_excerpt(input.audio, from, to) {
                files.insert(format!("excerpts/{}.wav", f.rule_id), wav);
            }
        }
    }
    let mut consent = consent_statement(input.verification);
    if let Some((from, to, why)) = consent_span(input.verification, duration) {
        if let Ok(wav) = wav_excerpt(input.audio, from, to) {
            let path = "excerpts/consent.wav".to_string();
            files.insert(path.clone(), wav);
            consent.excerpt = Some(Excerpt {
                path,
                from_ms: from,
                to_ms: to,
                why,
            });
        }
    }
    let created_at = Utc::now();
    let carries = match input.review {
        Some((r, who)) => Carries {
            verdict: r.reviewed_verdict,
            source: "review".into(),
            as_of: created_at,
            statement: format!(
                "This bundle carries the verdict of {who}'s review of {} (version {}), as it stood when the bundle was made; a later review is not in it.",
                r.created_at.to_rfc3339(),
                r.version
            ),
        },
        None => Carries {
            verdict: input.verification.verdict,
            source: "automatic".into(),
            as_of: created_at,
            statement: "This bundle carries the automatic verdict: no person had reviewed the call when it was made; a later review is not in it.".into(),
        },
    };
    files.insert(
        "transcript.html".into(),
        transcript_html(input, &carries, &consent).into_bytes(),
    );
    let ext = input
        .call
        .original_name
        .as_deref()
        .and_then(|n| Path::new(n).extension())
        .and_then(|e| e.to_str())
        .unwrap_or("bin")
        .to_ascii_lowercase();
    let original_path = format!("original.{ext}");
    if input.include_original {
        files.insert(original_path.clone(), input.original.to_vec());
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        created_at,
        requested_by: input.requested_by.clone(),
        call: input.call.clone(),
        original: OriginalInfo {
            sha256: sha256_hex(input.original),
            bytes: input.original.len() as u64,
            name: input.call.original_name.clone(),
            included_as: input.include_original.then_some(original_path),
        },
        model: ModelInfo {
            name: input.transcript.model.clone(),
            sha256: input.transcript.model_sha256.clone(),
        },
        ruleset: input.verification.ruleset.clone(),
        verdict: input.verification.verdict,
        verified_at: input.verification.verified_at,
        consent,
        findings: input.verification.findings.clone(),
        redaction: input.redaction.cloned(),
        files: files
            .iter()
            .map(|(p, b)| FileEntry {
                path: p.clone(),
                sha256: sha256_hex(b),
                bytes: b.len() as u64,
            })
            .collect(),
        signing_public_key: hex::encode(key.verifying_key().to_bytes()),
        review: input.review.map(|(r, _)| r.clone()),
        carries: Some(carries),
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    let signature = key.sign(&manifest_bytes);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut put = |name: &str, bytes: &[u8]| -> Result<()> {
        zip.start_file(name, opts)?;
        zip.write_all(bytes)?;
        Ok(())
    };
    put("manifest.json", &manifest_bytes)?;
    put(
        "manifest.sig",
        format!("{}\n", hex::encode(signature.to_bytes())).as_bytes(),
    )?;
    for (p, b) in &files {
        put(p, b)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// What a successful verification found.
#[derive(Debug, Serialize)]
pub struct Verified {
    pub call_id: String,
    pub verdict: callproof_models::Verdict,
    pub consent: ConsentStatement,
    pub files: usize,
    pub original_sha256: String,
    /// Which verdict the bundle carries (bundles made before this field: the automatic one).
    pub carries: Option<Carries>,
}

/// A bundle's files by path, and the problems met reading them.
type BundleFiles = (BTreeMap<String, Vec<u8>>, Vec<String>);

/// Reads every file of a bundle: a ZIP, or a folder it was extracted to.
/// The number of entries the ZIP's end-of-central-directory record announces (None for ZIP64
/// archives or an unreadable record, which the ZIP reader then judges on its own).
fn central_directory_entries(bytes: &[u8]) -> Option<u64> {
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    let from = bytes.len().saturating_sub(22 + 65_535);
    let at = (from..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| bytes[i..i + 4] == EOCD)?;
    let total = u16::from_le_bytes([bytes[at + 10], bytes[at + 11]]);
    (total != u16::MAX).then_some(u64::from(total))
}

fn read_bundle(path: &Path) -> Result<BundleFiles> {
    let mut files = BTreeMap::new();
    let mut problems = Vec::new();
    if path.is_dir() {
        for entry in walk(path)? {
            let rel = entry
                .strip_prefix(path)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            files.insert(rel, std::fs::read(&entry)?);
        }
        return Ok((unwrap_top_folder(files), problems));
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let listed = central_directory_entries(&bytes);
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .with_context(|| format!("{} is not a readable evidence bundle (ZIP)", path.display()))?;
    // The ZIP reader keeps one entry per name; two entries of one name (a forged copy beside
    // the signed one) show only as a count that does not add up. A reader may display either
    // copy, so such a bundle proves nothing.
    if let Some(n) = listed {
        if n != zip.len() as u64 {
            problems.push(format!(
                "the archive lists {n} entries but holds {} distinct names: an entry name appears twice, so another copy than the signed one could be shown",
                zip.len()
            ));
        }
    }
    for i in 0..zip.len() {
        let mut f = match zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("archive entry {i}: unreadable ({e})"));
                continue;
            }
        };
        let name = match f.name() {
            Ok(n) => n.to_string(),
            Err(e) => {
                problems.push(format!("archive entry {i}: unreadable name ({e})"));
                continue;
            }
        };
        // Folder entries ("excerpts/") hold nothing: archivers add them, the signature covers
        // files only.
        if f.is_dir() {
            continue;
        }
        let mut buf = Vec::new();
        match f.read_to_end(&mut buf) {
            Ok(_) => {
                files.insert(name, buf);
            }
            Err(e) => problems.push(format!("{name}: damaged inside the archive ({e})")),
        }
    }
    Ok((unwrap_top_folder(files), problems))
}

/// A bundle extracted and compressed again as a folder ("bundle/manifest.json", …): the one
/// folder around every file is the container's, not the content's.
fn unwrap_top_folder(files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    if files.contains_key("manifest.json") {
        return files;
    }
    let Some(prefix) = files
        .keys()
        .find_map(|k| k.strip_suffix("manifest.json"))
        .filter(|p| p.ends_with('/') && p.matches('/').count() == 1)
        .map(str::to_string)
    else {
        return files;
    };
    if !files.keys().all(|k| k.starts_with(&prefix)) {
        return files;
    }
    files
        .into_iter()
        .map(|(k, v)| (k[prefix.len()..].to_string(), v))
        .collect()
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            out.extend(walk(&p)?);
        } else {
            out.push(p);
        }
    }
    Ok(out)
}

/// Checks a bundle: Ok with what it proves, or every problem found, each naming its file or
/// field.
pub fn verify(
    path: &Path,
    key: &VerifyingKey,
) -> Result<std::result::Result<Verified, Vec<String>>> {
    let (mut files, mut problems) = read_bundle(path)?;
    let Some(manifest_bytes) = files.remove("manifest.json") else {
        problems.push("manifest.json: missing from the bundle".into());
        return Ok(Err(problems));
    };
    let Some(sig_text) = files.remove("manifest.sig") else {
        problems.push("manifest.sig: missing from the bundle".into());
        return Ok(Err(problems));
    };
    let signature = String::from_utf8(sig_text)
        .ok()
        .and_then(|t| hex::decode(t.trim()).ok())
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b));
    let manifest: Option<Manifest> = serde_json::from_slice(&manifest_bytes).ok();
    match signature {
        None => problems.push("manifest.sig: not an ed25519 signature (128 hex digits)".into()),
        Some(sig) => {
            if key.verify_strict(&manifest_bytes, &sig).is_err() {
                let other_key = manifest
                    .as_ref()
                    .is_some_and(|m| m.signing_public_key != hex::encode(key.to_bytes()));
                problems.push(if other_key {
                    "manifest.json: signed by another key than the one given (field signing_public_key differs); this bundle was not made by the holder of your key".into()
                } else {
                    "manifest.json or manifest.sig: the signature does not match the manifest: one of them was altered after signing".into()
                });
            }
        }
    }
    let Some(manifest) = manifest else {
        problems.push("manifest.json: not a callproof evidence manifest (unreadable JSON)".into());
        return Ok(Err(problems));
    };
    if manifest.format != FORMAT {
        problems.push(format!(
            "manifest.json: field format is {:?}, expected {FORMAT:?}",
            manifest.format
        ));
    }
    for entry in &manifest.files {
        match files.remove(&entry.path) {
            None => problems.push(format!(
                "{}: listed in the manifest but missing",
                entry.path
            )),
            Some(b) => {
                if sha256_hex(&b) != entry.sha256 {
                    problems.push(format!(
                        "{}: its SHA-256 differs from the manifest's: the file was altered",
                        entry.path
                    ));
                } else if b.len() as u64 != entry.bytes {
                    problems.push(format!(
                        "{}: its size differs from the manifest's",
                        entry.path
                    ));
                }
            }
        }
    }
    if let Some(p) = &manifest.original.included_as {
        if let Some(e) = manifest.files.iter().find(|f| &f.path == p) {
            if e.sha256 != manifest.original.sha256 {
                problems.push(format!(
                    "manifest.json: field original.sha256 differs from the included {p}"
                ));
            }
        }
    }
    for extra in files.keys() {
        problems.push(format!(
            "{extra}: not listed in the manifest, so not covered by the signature"
        ));
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    Ok(Ok(Verified {
        call_id: manifest.call.id.to_string(),
        verdict: manifest.verdict,
        consent: manifest.consent,
        files: manifest.files.len(),
        original_sha256: manifest.original.sha256,
        carries: manifest.carries,
    }))
}

#[cfg(test)]
mod tests {
    //! A bundle made here and checked here, as an ordering client would: intact, under another
    //! key, and with one byte changed.
    use super::*;
    use callproof_models::{
        AudioInfo, CallId, CallMetadata, CallState, Finding, RuleSetRef, Segment, Speaker, Verdict,
        Word,
    };

    fn inputs() -> (Call, Transcript, Verification, Vec<Vec<f32>>) {
        let id = CallId::new();
        let call = Call {
            id,
            metadata: CallMetadata {
                client: "acme".into(),
                customer_phone: Some("+33612345678".into()),
                ..Default::default()
            },
            sha256: "0".repeat(64),
            original_name: Some("call.wav".into()),
            size_bytes: 4,
            audio: Some(AudioInfo {
                format: "wav/pcm_s16le".into(),
                sample_rate: 8000,
                channels: 1,
                duration_ms: 3000,
            }),
            state: CallState::Indexed,
            received_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let words = ["je", "confirme", "mon", "accord"]
            .iter()
            .enumerate()
            .map(|(i, w)| Word {
                text: w.to_string(),
                start_ms: 1000 + i as u64 * 300,
                end_ms: 1300 + i as u64 * 300,
                probability: 0.9,
            })
            .collect();
        let t = Transcript {
            near_readings: Vec::new(),
            call_id: id,
            model: "base".into(),
            model_sha256: "1".repeat(64),
            language: "fr".into(),
            segments: vec![Segment {
                speaker: Speaker::Customer,
                channel: 0,
                start_ms: 1000,
                end_ms: 2200,
                text: "je confirme mon accord".into(),
                avg_logprob: -0.2,
                no_speech_prob: 0.01,
                words,
                attribution: Default::default(),
                second_listen: false,
                heard_first: None,
                disputed: false,
            }],
        };
        let v = Verification {
            call_id: id,
            ruleset: RuleSetRef {
                id: "fr-demarchage".into(),
                version: 1,
                sha256: "2".repeat(64),
                builtin: true,
            },
            verdict: Verdict::Compliant,
            findings: vec![Finding {
                rule_id: "consent".into(),
                kind: RuleKind::Consent,
                outcome: Outcome::Met,
                status: FindingStatus::Pass,
                speaker: Some(Speaker::Customer),
                start_ms: Some(1300),
                end_ms: Some(2200),
                matched: Some("confirme mon accord".into()),
                phrase: Some("je confirme mon accord".into()),
                score: Some(1.0),
                detail: "the customer consents".into(),
                attribution: None,
                hearing: None,
            }],
            verified_at: Utc::now(),
        };
        let tone = (0..24_000)
            .map(|i| (i as f32 * 0.05).sin() * 0.3)
            .collect::<Vec<f32>>();
        (call, t, v, vec![tone])
    }

    fn bundle(key: &SigningKey) -> Vec<u8> {
        bundle_with(key, |_| {}, None)
    }

    /// A bundle of the test call with its verification edited, and a review if given.
    fn bundle_with(
        key: &SigningKey,
        edit: impl FnOnce(&mut Verification),
        review: Option<(&callproof_models::Review, &str)>,
    ) -> Vec<u8> {
        let (call, t, mut v, channels) = inputs();
        edit(&mut v);
        let labels: Labels = [
            ("rule_consent", "Consentement du client"),
            ("missing", "manquant"),
            ("customer", "Client final"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        build(
            &BundleInput {
                call: &call,
                transcript: &t,
                verification: &v,
                original: b"RIFF",
                audio: &Audio {
                    channels: &channels,
                    sample_rate: 8000,
                },
                requested_by: Actor::local(),
                include_original: true,
                redaction: None,
                review,
                labels: &labels,
            },
            key,
        )
        .expect("the bundle is built")
    }

    fn entry(zip: &[u8], name: &str) -> Vec<u8> {
        let mut a = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
        let mut f = a.by_name(name).unwrap();
        let mut out = Vec::new();
        f.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn a_failed_consent_still_carries_its_moment_the_review_and_a_french_page() {
        let key = SigningKey::from_bytes(&[7; 32]);
        // Consent not found: the bundle holds where it was expected.
        let missing = |v: &mut Verification| {
            let f = &mut v.findings[0];
            f.outcome = Outcome::Missing;
            f.status = FindingStatus::Fail;
            (f.start_ms, f.end_ms, f.matched) = (None, None, None);
            f.hearing = Some(callproof_models::Hearing {
                confidence: 0.9,
                doubtful: None,
                stretches: Vec::new(),
                searched: Some((500, 2900)),
                second_listen: false,
                script_check: false,
            });
            v.verdict = Verdict::Violation;
        };
        let zip = bundle_with(&key, missing, None);
        let m: Manifest = serde_json::from_slice(&entry(&zip, "manifest.json")).unwrap();
        let x = m.consent.excerpt.as_ref().expect("the consent excerpt");
        assert_eq!(
            (x.path.as_str(), x.from_ms, x.to_ms),
            ("excerpts/consent.wav", 500, 2900)
        );
        assert!(entry(&zip, "excerpts/consent.wav").len() > 44 + 2 * 8 * 2000);
        let c = m.carries.as_ref().unwrap();
        assert_eq!(
            (c.source.as_str(), c.verdict),
            ("automatic", Verdict::Violation)
        );
        let page = String::from_utf8(entry(&zip, "transcript.html")).unwrap();
        for want in [
            "lang=\"fr\"",
            "Téléphone du client</th><td>+33612345678",
            "Référence du contrat</th><td>—",
            "Consentement du client</td><td>manquant",
            "NON — aucun consentement valable (manquant)",
            "excerpts/consent.wav",
            "porte le verdict automatique",
        ] {
            assert!(page.contains(want), "{want} not in {page}");
        }
        // A person overruled it: the bundle carries their verdict beside the automatic one.
        let review = callproof_models::Review {
            id: callproof_models::ReviewId::new(),
            call_id: m.call.id,
            reviewer: Actor::local(),
            version: 2,
            input: callproof_models::ReviewInput {
                sample_id: None,
                calibration_id: None,
                decisions: vec![callproof_models::FindingDecision {
                    rule_id: "consent".into(),
                    decision: callproof_models::Decision::Overrule,
                    reason: Some("« oui d'accord » à 0:02".into()),
                    corrected_outcome: Some(Outcome::Met),
                    corrected_start_ms: Some(2000),
                }],
                added: vec![],
                scores: Default::default(),
                comment: None,
                confirm_rest: false,
            },
            automatic_verdict: Verdict::Violation,
            reviewed_verdict: Verdict::Compliant,
            score: None,
            created_at: Utc::now(),
        };
        let zip = bundle_with(&key, missing, Some((&review, "Claire Martin")));
        check(&zip, &key.verifying_key()).expect("a bundle with a review verifies");
        let m: Manifest = serde_json::from_slice(&entry(&zip, "manifest.json")).unwrap();
        assert_eq!(m.verdict, Verdict::Violation, "the automatic verdict stays");
        assert_eq!(
            m.review.as_ref().unwrap().reviewed_verdict,
            Verdict::Compliant
        );
        let c = m.carries.unwrap();
        assert_eq!(
            (c.source.as_str(), c.verdict),
            ("review", Verdict::Compliant)
        );
        let page = String::from_utf8(entry(&zip, "transcript.html")).unwrap();
        assert!(
            page.contains("Revue humaine")
                && page.contains("Par Claire Martin")
                && page.contains("revue humaine de Claire Martin"),
            "{page}"
        );
    }

    fn stored() -> zip::write::SimpleFileOptions {
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored)
    }

    /// The bundle's entries written again into a new archive, each passed through `edit`; the
    /// writer is returned open, so a test can add entries before finishing it.
    fn rezip(
        zip: &[u8],
        mut edit: impl FnMut(&str, &mut Vec<u8>),
    ) -> zip::ZipWriter<Cursor<Vec<u8>>> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        copy_entries(zip, &mut out, "", stored(), &mut edit);
        out
    }

    /// Every entry of `zip` into `out` under `prefix`, each passed through `edit`.
    fn copy_entries(
        zip: &[u8],
        out: &mut zip::ZipWriter<Cursor<Vec<u8>>>,
        prefix: &str,
        options: zip::write::SimpleFileOptions,
        edit: &mut dyn FnMut(&str, &mut Vec<u8>),
    ) {
        let mut src = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
        for i in 0..src.len() {
            let mut f = src.by_index(i).unwrap();
            let name = f.name().unwrap().to_string();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            edit(&name, &mut b);
            out.start_file(format!("{prefix}{name}"), options).unwrap();
            out.write_all(&b).unwrap();
        }
    }

    fn check(zip: &[u8], key: &VerifyingKey) -> std::result::Result<Verified, Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.zip");
        std::fs::write(&path, zip).unwrap();
        verify(&path, key).expect("the bundle is readable")
    }

    #[test]
    fn a_bundle_verifies_only_intact_and_under_its_key() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let zip = bundle(&key);
        let ok = check(&zip, &key.verifying_key()).expect("intact");
        assert_eq!(ok.verdict, Verdict::Compliant);
        assert!(ok.files >= 3, "{}", ok.files);

        let other = SigningKey::from_bytes(&[8; 32]);
        let wrong = check(&zip, &other.verifying_key()).unwrap_err();
        assert!(wrong.iter().any(|p| p.contains("another key")), "{wrong:?}");

        // One byte of the transcript changed, the container rebuilt around it.
        let tampered = rezip(&zip, |name, b| {
            if name == "transcript.json" {
                let at = b.len() / 2;
                b[at] ^= 1;
            }
        })
        .finish()
        .unwrap()
        .into_inner();
        let problems = check(&tampered, &key.verifying_key()).unwrap_err();
        assert!(
            problems.iter().any(|p| p.starts_with("transcript.json")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_bundle_rezipped_by_an_archiver_still_verifies_and_still_refuses_changes() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let zip = bundle(&key);
        // What a desktop "compress" or a mail gateway makes of it: deflated entries, folder
        // entries, all inside one folder named after the archive.
        let rezip_as = |edit: &dyn Fn(&str, &mut Vec<u8>), extra: Option<(&str, &[u8])>| {
            let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
            let deflated = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            out.add_directory("bundle/", deflated).unwrap();
            out.add_directory("bundle/excerpts/", deflated).unwrap();
            copy_entries(&zip, &mut out, "bundle/", deflated, &mut |n, b| edit(n, b));
            if let Some((name, bytes)) = extra {
                out.start_file(format!("bundle/{name}"), deflated).unwrap();
                out.write_all(bytes).unwrap();
            }
            out.finish().unwrap().into_inner()
        };
        let same = rezip_as(&|_, _| {}, None);
        let ok = check(&same, &key.verifying_key()).expect("re-zipped, untouched");
        assert_eq!(ok.verdict, Verdict::Compliant);
        let extra = rezip_as(&|_, _| {}, Some(("excerpts/forged.wav", b"RIFF")));
        let problems = check(&extra, &key.verifying_key()).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("excerpts/forged.wav")),
            "{problems:?}"
        );
        let altered = rezip_as(
            &|name, b| {
                if name == "transcript.html" {
                    b.extend_from_slice(b"<p>added</p>");
                }
            },
            None,
        );
        let problems = check(&altered, &key.verifying_key()).unwrap_err();
        assert!(
            problems.iter().any(|p| p.starts_with("transcript.html")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_second_entry_of_the_same_name_is_refused() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let mut out = rezip(&bundle(&key), |_, _| {});
        // The zip crate refuses to write a duplicate name; a forger's tool does not, so the
        // second entry is written under a same-length name and renamed in the bytes.
        out.start_file("transcript.htmX", stored()).unwrap();
        out.write_all(b"<p>forged</p>").unwrap();
        let mut forged = out.finish().unwrap().into_inner();
        for w in 0..forged.len() - 15 {
            if &forged[w..w + 15] == b"transcript.htmX" {
                forged[w + 14] = b'l';
            }
        }
        let problems = check(&forged, &key.verifying_key()).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("appears twice")),
            "{problems:?}"
        );
    }

    #[test]
    fn excerpts_stay_inside_the_recording() {
        let channels = vec![vec![0.1f32; 8000]];
        let audio = Audio {
            channels: &channels,
            sample_rate: 8000,
        };
        let wav = wav_excerpt(&audio, 250, 750).unwrap();
        // 44-byte header + 0.5 s of 16-bit mono at 8 kHz.
        assert_eq!(wav.len(), 44 + 4000 * 2);
        assert!(wav_excerpt(&audio, 1500, 2000).is_err());
    }
}
