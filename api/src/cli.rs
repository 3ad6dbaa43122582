//! The command-line commands: model management, ingest, search and inspection.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::app::IngestError;
use anyhow::{bail, Context, Result};
use callproof_metastore::JobKind;
use callproof_models::{
    CallHit, CallId, CallMetadata, CallState, ChannelRoles, Speaker, Transcript, Verdict,
};
use callproof_search::SearchRequest;
use callproof_transcribe::{ModelCache, ModelSource, WeightType};
use chrono::{DateTime, FixedOffset};
use clap::{Args, Subcommand};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::app::{App, Settings};
use crate::service::Caller;

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Install a model: a known Whisper name (tiny.en, base), a CTranslate2 folder, a ggml file
    /// or an http(s) URL to one; or `speaker`, the voice encoder that tells speakers apart on
    /// mono recordings.
    Install {
        source: String,
        /// Name in the cache (default: derived from the source).
        #[arg(long)]
        name: Option<String>,
        /// How converted weights are stored: f16 (as the source; the default), bf16 (same
        /// word error rate, 1.07-1.2x faster on CPUs with AVX-512 BF16, verdicts a little
        /// behind f16's; see BENCHMARKS.md) or q8_0 (half the size). The default name gets
        /// the suffix (base-bf16, base-q8_0); naming the variant ("base-bf16") chooses it too.
        #[arg(long, value_enum, conflicts_with = "q8")]
        weights: Option<Weights>,
        /// Shorthand for --weights q8_0.
        #[arg(long)]
        q8: bool,
    },
    /// List installed models.
    List {
        #[arg(long)]
        json: bool,
    },
}

/// `--weights` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Weights {
    F16,
    Bf16,
    #[value(name = "q8_0")]
    Q8_0,
}

impl From<Weights> for WeightType {
    fn from(w: Weights) -> Self {
        match w {
            Weights::F16 => WeightType::F16,
            Weights::Bf16 => WeightType::Bf16,
            Weights::Q8_0 => WeightType::Q8_0,
        }
    }
}

/// The spinner long steps (model installs, migrations) show their steps on.
pub fn spinner() -> Result<ProgressBar> {
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(ProgressStyle::with_template(
        "{spinner} {elapsed:>4} {msg}",
    )?);
    spinner.enable_steady_tick(Duration::from_millis(120));
    Ok(spinner)
}

/// The speaker model's manifest in the model cache (not `.json`: that suffix is for Whisper models).
const SPEAKER_MANIFEST: &str = "speaker-ge2e.manifest";

/// `callproof model install speaker`: the pinned resemblyzer wheel fetched with pip, its GE2E
/// encoder converted to safetensors, loaded once to prove it, and described in a manifest.
fn install_speaker(cache: &ModelCache) -> Result<()> {
    let spinner = spinner()?;
    let started = Instant::now();
    let w = &callproof_diarize::WHEEL;
    let wheel = callproof_transcribe::cache::Wheel {
        package: w.package,
        version: w.version,
        file: w.file,
        sha256: w.sha256,
    };
    let path = cache.fetch_wheel(&wheel, &|msg: &str| spinner.set_message(msg.to_string()))?;
    spinner.set_message("converting the speaker encoder (GE2E) to safetensors");
    let out = crate::app::speaker_model_path();
    let c = callproof_diarize::convert_wheel(&path, &out)?;
    spinner.set_message("loading it once");
    callproof_diarize::SpeakerModel::load(&out)?;
    spinner.finish_and_clear();
    let size = std::fs::metadata(&out)?.len();
    let manifest = serde_json::json!({
        "name": "speaker",
        "file": callproof_diarize::MODEL_FILE,
        "sha256": c.sha256,
        "size_bytes": size,
        "parameters": c.parameters,
        "source": format!("{}=={} ({}), resemblyzer/pretrained.pt", w.package, w.version, w.file),
        "source_checksums": [
            {"file": w.file, "sha256": w.sha256},
            {"file": "resemblyzer/pretrained.pt", "sha256": c.source_sha256},
        ],
        "installed_at": chrono::Utc::now(),
    });
    std::fs::write(
        cache.dir().join(SPEAKER_MANIFEST),
        serde_json::to_vec_pretty(&manifest)?,
    )?;
    println!(
        "installed speaker (GE2E speaker encoder, {} parameters, {} MB) in {:.1} s\n  file   {}\n  sha256 {}\n  from   {} sha256 {}",
        c.parameters,
        size / 1_000_000,
        started.elapsed().as_secs_f64(),
        out.display(),
        c.sha256,
        w.file,
        w.sha256
    );
    Ok(())
}

pub fn model(cmd: ModelCommand) -> Result<ExitCode> {
    let cache = ModelCache::from_env();
    match cmd {
        ModelCommand::Install { source, .. } if source == "speaker" => install_speaker(&cache)?,
        ModelCommand::Install {
            source,
            name,
            weights,
            q8,
        } => {
            let src = ModelSource::parse(&source)?;
            // "base-q8_0" names the quantised variant of a known model, "base-bf16" its bf16 one.
            let named = match src {
                ModelSource::Known(_) => WeightType::split_name(&source).1,
                _ => None,
            };
            let asked = weights
                .map(WeightType::from)
                .or(q8.then_some(WeightType::Q8_0));
            let weights = match (asked, named) {
                (Some(a), Some(n)) if a != n => bail!(
                    "{source} names {} weights but the options ask for {}: give one of them",
                    n.label(),
                    a.label()
                ),
                (a, n) => a.or(n).unwrap_or(WeightType::F16),
            };
            let spinner = spinner()?;
            let started = Instant::now();
            let m = cache.install(&src, name.as_deref(), weights, &|msg: &str| {
                spinner.set_message(msg.to_string())
            })?;
            spinner.finish_and_clear();
            println!(
                "installed {} ({}, {} MB, {}) in {:.1} s\n  file   {}\n  sha256 {}",
                m.name,
                m.weights,
                m.size_bytes / 1_000_000,
                if m.multilingual {
                    "multilingual"
                } else {
                    "English only"
                },
                started.elapsed().as_secs_f64(),
                m.path.display(),
                m.sha256
            );
            for c in &m.source_checksums {
                println!("  from   {} sha256 {}", c.file, c.sha256);
            }
        }
        ModelCommand::List { json } => {
            let models = cache.list()?;
            let speaker = std::fs::read(cache.dir().join(SPEAKER_MANIFEST))
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .filter(|_| crate::app::speaker_model_path().exists());
            if json {
                let mut all = serde_json::to_value(&models)?;
                if let (Some(list), Some(sp)) = (all.as_array_mut(), speaker.clone()) {
                    list.push(sp);
                }
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else if models.is_empty() {
                println!(
                    "no models in {}; install one with `callproof model install base` (French) or `tiny.en`",
                    cache.dir().display()
                );
            } else {
                println!("models in {}", cache.dir().display());
                for m in models {
                    println!(
                        "  {:<14} {:>5} MB  {:<6} {:<12}  sha256 {}",
                        m.name,
                        m.size_bytes / 1_000_000,
                        m.weights,
                        if m.multilingual {
                            "multilingual"
                        } else {
                            "English"
                        },
                        &m.sha256[..16.min(m.sha256.len())]
                    );
                }
            }
            match speaker {
                Some(sp) if !json => println!(
                    "  {:<14} {:>5} MB  {:<6} {:<12}  sha256 {}",
                    "speaker",
                    sp["size_bytes"].as_u64().unwrap_or(0) / 1_000_000,
                    "f32",
                    "voices",
                    sp["sha256"].as_str().unwrap_or("").get(..16).unwrap_or("")
                ),
                None if !json => println!(
                    "  (no speaker model: mono recordings keep unknown speakers; `callproof model install speaker`)"
                ),
                _ => {}
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Call metadata given as flags; a JSON sidecar next to a file takes precedence field by field.
#[derive(Args, Clone, Default)]
pub struct MetadataArgs {
    /// Ordering client (tenant) the call belongs to.
    #[arg(long)]
    pub client: Option<String>,
    #[arg(long)]
    pub campaign: Option<String>,
    #[arg(long)]
    pub agent: Option<String>,
    #[arg(long = "customer-phone")]
    pub customer_phone: Option<String>,
    /// Contract reference.
    #[arg(long)]
    pub contract: Option<String>,
    /// Call start time, RFC 3339 with its offset (2026-03-02T10:15:00+01:00).
    #[arg(long = "started-at")]
    pub started_at: Option<DateTime<FixedOffset>>,
    /// Language of the call (ISO 639-1).
    #[arg(long)]
    pub language: Option<String>,
    /// Channel roles in order, e.g. agent,customer (the default) or customer,agent.
    #[arg(long)]
    pub channels: Option<ChannelRoles>,
}

impl MetadataArgs {
    /// Fills what the sidecar left out with the flags.
    fn merge_into(&self, mut m: CallMetadata) -> CallMetadata {
        if m.client.is_empty() {
            m.client = self.client.clone().unwrap_or_default();
        }
        m.campaign = m.campaign.or_else(|| self.campaign.clone());
        m.agent = m.agent.or_else(|| self.agent.clone());
        m.customer_phone = m.customer_phone.or_else(|| self.customer_phone.clone());
        m.contract_ref = m.contract_ref.or_else(|| self.contract.clone());
        m.started_at = m.started_at.or(self.started_at);
        m.language = m.language.or_else(|| self.language.clone());
        m.channels = m.channels.or_else(|| self.channels.clone());
        m
    }
}

#[derive(Args)]
pub struct IngestArgs {
    /// Recordings, folders searched recursively, or s3://bucket/prefix/ (what a telephony
    /// platform dropped there; already imported recordings are skipped). `call.json` next to
    /// `call.wav` gives its metadata.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub meta: MetadataArgs,
    /// Print one JSON result per recording.
    #[arg(long)]
    pub json: bool,
    /// Store and queue the recordings only: `callproof worker` processes (here or on other
    /// machines) transcribe them, and a server's indexer indexes them.
    #[arg(long = "queue-only")]
    pub queue_only: bool,
    /// Recordings transcribed at once (default: one per core, at most four, each with the
    /// cores shared out as `--threads`, when there are at least four recordings for each; one
    /// when `--threads` is given).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
    /// Whether `--threads` (or `CALLPROOF_THREADS`) was given: then each recording gets that
    /// many threads and, unless `--jobs` says otherwise, one recording is transcribed at a time.
    #[arg(skip)]
    pub threads_given: bool,
}

/// Most recordings transcribed at once by default: each holds a Whisper state in memory
/// (base: peak 659 MiB for two at once against 524–609 MiB for one).
const MAX_DEFAULT_JOBS: usize = 4;

/// Recordings each job has at least before `ingest` transcribes side by side by default.
const RECORDINGS_PER_JOB: usize = 4;

const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "mp3", "flac", "ogg", "oga", "m4a", "mp4", "aac", "aif", "aiff", "aifc", "opus",
    "gsm",
];

fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
                    .with_context(|| format!("cannot read folder {}", dir.display()))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .collect();
                entries.sort();
                for e in entries {
                    if e.is_dir() {
                        stack.push(e);
                    } else if e.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                        AUDIO_EXTENSIONS.contains(&x.to_ascii_lowercase().as_str())
                    }) {
                        out.push(e);
                    }
                }
            }
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!("{} does not exist", p.display());
        }
    }
    Ok(out)
}

/// A new folder under `parent` for one run's downloads.
fn tempfile_in(parent: &Path) -> Result<PathBuf> {
    let dir = parent.join(format!("import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

fn sidecar(file: &Path) -> Result<CallMetadata> {
    let json = file.with_extension("json");
    if !json.exists() {
        return Ok(CallMetadata::default());
    }
    let bytes = std::fs::read(&json).with_context(|| format!("cannot read {}", json.display()))?;
    serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is not valid call metadata (fields: client, campaign, agent, customer_phone, \
             contract_ref, started_at, language, channels)",
            json.display()
        )
    })
}

#[derive(Serialize)]
struct IngestResult {
    file: String,
    call_id: Option<CallId>,
    state: String,
    duration_ms: Option<u64>,
    segments: Option<usize>,
    verdict: Option<Verdict>,
    /// Rules broken or needing review.
    flagged: Vec<String>,
    error: Option<String>,
}

/// Downloads the recordings under an S3 prefix, each with its `.json` sidecar when there is
/// one, into `dest` (keys kept as relative paths, so sidecars stay beside their recordings).
async fn fetch_bucket(uri: &str, settings: &Settings, dest: &Path) -> Result<Vec<PathBuf>> {
    let bucket = callproof_storage::SourceBucket::open(uri, &settings.engines.s3)?;
    let listed = bucket.list().await.with_context(|| {
        format!("cannot list {uri}; check the bucket, AWS_ENDPOINT_URL and the credentials")
    })?;
    let keys: std::collections::BTreeSet<&str> = listed.iter().map(|(k, _)| k.as_str()).collect();
    let mut files = Vec::new();
    for (key, _) in &listed {
        let is_audio = Path::new(key)
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| AUDIO_EXTENSIONS.contains(&x.to_ascii_lowercase().as_str()));
        // Keys become paths under `dest`: a key that would climb out of it is not imported.
        if !is_audio
            || key
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
        {
            continue;
        }
        let local = dest.join(key);
        bucket.download(key, &local).await?;
        let side = Path::new(key).with_extension("json");
        if let Some(side) = side.to_str().filter(|s| keys.contains(s)) {
            bucket.download(side, &dest.join(side)).await?;
        }
        files.push(local);
    }
    Ok(files)
}

pub async fn ingest(data: &Path, settings: Settings, args: IngestArgs) -> Result<ExitCode> {
    let (buckets, local): (Vec<&PathBuf>, Vec<&PathBuf>) = args
        .paths
        .iter()
        .partition(|p| p.to_string_lossy().starts_with("s3://"));
    let local: Vec<PathBuf> = local.into_iter().cloned().collect();
    let mut files = collect_files(&local)?;
    // Recordings from buckets are downloaded into the data folder for the run; already
    // imported ones are recognised by their content (SHA-256) and skipped.
    let staging = tempfile_in(&data.join("tmp"))?;
    let from_buckets = !buckets.is_empty();
    let mut labels = std::collections::HashMap::new();
    for uri in buckets {
        let uri = uri.to_string_lossy();
        let dest = staging.join(format!("bucket{}", files.len()));
        for f in fetch_bucket(&uri, &settings, &dest).await? {
            if let Ok(key) = f.strip_prefix(&dest) {
                labels.insert(
                    f.clone(),
                    format!("{}/{}", uri.trim_end_matches('/'), key.display()),
                );
            }
            files.push(f);
        }
    }
    if files.is_empty() {
        bail!(
            "no recordings found in the given paths (looked for {})",
            AUDIO_EXTENSIONS.join(", ")
        );
    }
    // Several recordings at once, each transcribed with fewer threads: whisper.cpp's threads
    // wait for each other at every layer, so two single-threaded transcriptions on two cores
    // do more work than one with two threads (BENCHMARKS.md, "Transcription throughput").
    let cores = settings.threads.max(1);
    let jobs = match args.jobs {
        Some(jobs) => usize::from(jobs),
        None if args.threads_given || args.queue_only => 1,
        // Side by side only with a few recordings for each: the last one transcribes alone on
        // its share of the cores (4 calls: 29.1 s side by side against 25.7 s one at a time).
        None => cores
            .min(MAX_DEFAULT_JOBS)
            .min(files.len() / RECORDINGS_PER_JOB),
    }
    .clamp(1, files.len().max(1));
    let mut settings = settings;
    if !args.threads_given {
        settings.threads = (cores / jobs).max(1);
    }
    if !args.queue_only {
        if let Some(why) = crate::app::oversubscription(jobs, settings.threads, crate::app::cores())
        {
            tracing::warn!("{why}");
        }
    }
    let app = Arc::new(App::open(data, settings).await?);
    // Fail before the first file if the model is missing, not once per file (the workers
    // that transcribe queued calls check their own).
    if !args.queue_only {
        app.engine()?;
    }
    // Calls a stopped ingest (Ctrl-C, a crash) was working on are taken back at once.
    crate::worker::recover_orphans(&app).await?;
    app.remove_unfinished_uploads().await?;
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}",
    )?);
    bar.enable_steady_tick(Duration::from_millis(200));
    // The same recording twice for one client in one run is imported once; the other is
    // reported (as one at a time reports it a duplicate).
    let seen: std::sync::Mutex<HashMap<(String, String), String>> =
        std::sync::Mutex::new(HashMap::new());
    let one = |index: usize| {
        let (bar, seen, labels, args, app) = (&bar, &seen, &labels, &args, &app);
        let file = &files[index];
        async move {
            let name = labels
                .get(file)
                .cloned()
                .unwrap_or_else(|| file.display().to_string());
            bar.set_message(format!("{name}: decoding"));
            let outcome = async {
                let meta = args.meta.merge_into(sidecar(file)?);
                let upload = crate::app::UploadFile::hash(file)
                    .await
                    .with_context(|| format!("cannot read {name}"))?;
                // Duplicates are per tenant: another client may hold the same recording.
                if jobs > 1 {
                    let key = (meta.client.clone(), upload.sha256.clone());
                    let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(first) = seen.get(&key) {
                        bail!("the same recording as {first}, imported once in this run");
                    }
                    seen.insert(key, name.clone());
                }
                let original = file.file_name().map(|n| n.to_string_lossy().to_string());
                let check = |m: &CallMetadata| app.check_language(m).map_err(|e| format!("{e:#}"));
                let ingest = app.ingest(upload, original.as_deref(), meta, &check);
                let call = match ingest.await {
                    Ok(ingested) => ingested.call,
                    // The same recording whose processing was interrupted (or failed): finish it
                    // instead of refusing it, so re-running an ingest loses nothing.
                    Err(IngestError::Duplicate { existing }) => {
                        match app
                            .catalog
                            .get_in(existing, &callproof_models::Scope::All)
                            .await?
                        {
                            Some(call) if call.state != CallState::Indexed => {
                                bar.set_message(format!(
                                    "{name}: resuming unfinished call {existing}"
                                ));
                                let has_transcript = app
                                    .catalog
                                    .transcript_in(existing, &callproof_models::Scope::All)
                                    .await?
                                    .is_some();
                                let kind = if has_transcript && call.state != CallState::Received {
                                    JobKind::Index
                                } else {
                                    JobKind::Transcribe
                                };
                                app.catalog.enqueue(existing, kind).await?;
                                call
                            }
                            _ => return Err(IngestError::Duplicate { existing }.into()),
                        }
                    }
                    Err(e) => return Err(e.into()),
                };
                if args.queue_only {
                    return Ok(IngestResult {
                        file: name.clone(),
                        call_id: Some(call.id),
                        state: "queued".into(),
                        duration_ms: call.audio.as_ref().map(|a| a.duration_ms),
                        segments: None,
                        verdict: None,
                        flagged: Vec::new(),
                        error: None,
                    });
                }
                let (report, file_name) = (bar.clone(), name.clone());
                app.process_now(
                    call.id,
                    Arc::new(move |stage: &str| {
                        report.set_message(format!("{file_name}: {stage}"))
                    }),
                )
                .await?;
                let call = app
                    .catalog
                    .get_in(call.id, &callproof_models::Scope::All)
                    .await?
                    .with_context(|| format!("call {} vanished", call.id))?;
                if call.state != CallState::Indexed {
                    bail!(
                    "call {} is {} (a worker of a running server may hold it; `callproof call {}` shows its state)",
                    call.id,
                    call.state.name(),
                    call.id
                );
                }
                let t = app
                    .catalog
                    .transcript_in(call.id, &callproof_models::Scope::All)
                    .await?
                    .with_context(|| format!("call {} has no transcript", call.id))?;
                let verification = app
                    .catalog
                    .verification_in(call.id, &callproof_models::Scope::All)
                    .await?;
                Ok(IngestResult {
                    file: name.clone(),
                    call_id: Some(call.id),
                    state: "indexed".into(),
                    duration_ms: call.audio.as_ref().map(|a| a.duration_ms),
                    segments: Some(t.segments.len()),
                    verdict: verification.as_ref().map(|v| v.verdict),
                    flagged: verification
                        .as_ref()
                        .map(|v| v.flagged_rules().map(str::to_string).collect())
                        .unwrap_or_default(),
                    error: None,
                })
            };
            let outcome: Result<IngestResult> = outcome.await;
            let r = outcome.unwrap_or_else(|e| {
                let call_id = match e.downcast_ref::<IngestError>() {
                    Some(IngestError::Duplicate { existing }) => Some(*existing),
                    _ => None,
                };
                IngestResult {
                    file: name.clone(),
                    call_id,
                    state: if call_id.is_some() {
                        "duplicate".into()
                    } else {
                        "failed".into()
                    },
                    duration_ms: None,
                    segments: None,
                    verdict: None,
                    flagged: Vec::new(),
                    error: Some(format!("{e:#}")),
                }
            });
            if !args.json {
                let line = match (&r.error, r.call_id) {
                    (None, Some(id)) if r.state == "queued" => format!(
                        "queued   {id}  {name}  ({:.1} s of audio)",
                        r.duration_ms.unwrap_or(0) as f64 / 1000.0
                    ),
                    (Some(_), Some(id)) if from_buckets => {
                        format!("skipped  {id}  {name}  (already imported)")
                    }
                    (None, Some(id)) => format!(
                        "indexed  {id}  {name}  ({:.1} s of audio, {} segments){}",
                        r.duration_ms.unwrap_or(0) as f64 / 1000.0,
                        r.segments.unwrap_or(0),
                        r.verdict
                            .map(|v| if r.flagged.is_empty() {
                                format!("  verdict {v}")
                            } else {
                                format!("  verdict {v} ({})", r.flagged.join(", "))
                            })
                            .unwrap_or_default()
                    ),
                    (Some(err), _) => format!("FAILED   {name}: {err}"),
                    _ => String::new(),
                };
                bar.suspend(|| println!("{line}"));
            }
            bar.inc(1);
            (index, r)
        }
    };
    let mut results: Vec<(usize, IngestResult)> = futures::stream::iter(0..files.len())
        .map(one)
        .buffer_unordered(jobs)
        .collect()
        .await;
    results.sort_by_key(|(index, _)| *index);
    let results: Vec<IngestResult> = results.into_iter().map(|(_, r)| r).collect();
    bar.finish_and_clear();
    let _ = std::fs::remove_dir_all(&staging);
    let failed = results
        .iter()
        .filter(|r| r.error.is_some() && !(from_buckets && r.state == "duplicate"))
        .count();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        let skipped = results
            .iter()
            .filter(|r| from_buckets && r.state == "duplicate")
            .count();
        let done = if args.queue_only {
            "queued"
        } else {
            "ingested"
        };
        if skipped > 0 {
            println!(
                "{} {done}, {skipped} skipped (already imported), {failed} failed",
                results.len() - failed - skipped
            );
        } else {
            println!("{} {done}, {failed} failed", results.len() - failed);
        }
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Args)]
pub struct SearchArgs {
    /// Words, "exact phrases", AND, OR, NOT, -word. Empty: filters only.
    #[arg(default_value = "")]
    pub query: String,
    #[arg(long)]
    pub client: Option<String>,
    #[arg(long)]
    pub campaign: Option<String>,
    #[arg(long)]
    pub agent: Option<String>,
    /// agent, customer or unknown.
    #[arg(long)]
    pub speaker: Option<Speaker>,
    /// Calls started at or after (RFC 3339).
    #[arg(long)]
    pub from: Option<DateTime<FixedOffset>>,
    /// Calls started before (RFC 3339).
    #[arg(long)]
    pub to: Option<DateTime<FixedOffset>>,
    /// Maximum number of calls.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Let words match one edit away (recognition misspellings).
    #[arg(long)]
    pub fuzzy: bool,
    /// Only calls with this verdict: compliant, violation or needs_review.
    #[arg(long)]
    pub verdict: Option<Verdict>,
    /// Only calls where this rule is broken or needs review (a rule id: withdrawal_14d).
    #[arg(long)]
    pub rule: Option<String>,
    /// The customer's phone, written any way ("06 12 34 56 78", "+33612345678").
    #[arg(long)]
    pub phone: Option<String>,
    /// The contract reference given at ingestion.
    #[arg(long = "contract-ref")]
    pub contract_ref: Option<String>,
    #[arg(long)]
    pub json: bool,
}

/// "1 call", "2 calls": a count with its noun, singular or plural as English wants.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// mm:ss.mmm, how people read positions in a recording.
pub fn clock(ms: u64) -> String {
    format!(
        "{:02}:{:02}.{:03}",
        ms / 60_000,
        (ms / 1000) % 60,
        ms % 1000
    )
}

fn print_hits(hits: &[CallHit]) {
    if hits.is_empty() {
        println!("no matching calls");
        return;
    }
    for h in hits {
        println!(
            "call {}  client {}{}{}{}",
            h.call_id,
            h.client,
            h.campaign
                .as_deref()
                .map(|c| format!("  campaign {c}"))
                .unwrap_or_default(),
            h.agent
                .as_deref()
                .map(|a| format!("  agent {a}"))
                .unwrap_or_default(),
            h.started_at
                .map(|t| format!("  started {}", t.to_rfc3339()))
                .unwrap_or_default(),
        );
        if let Some(v) = h.verdict {
            println!("  verdict {v}");
        }
        for s in &h.segments {
            let snippet = s.snippet.replace("<b>", "**").replace("</b>", "**");
            println!(
                "  {} {:<8} {}",
                clock(s.match_ms),
                s.speaker.as_str(),
                unescape(&snippet)
            );
        }
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

pub async fn search(data: &Path, settings: Settings, a: SearchArgs) -> Result<ExitCode> {
    let app = App::open(data, settings).await?;
    let hits = app
        .search(
            &callproof_models::Actor::local(),
            &SearchRequest {
                query: a.query,
                client: a.client,
                campaign: a.campaign,
                agent: a.agent,
                speaker: a.speaker,
                from: a.from,
                to: a.to,
                limit: Some(a.limit),
                fuzzy: a.fuzzy,
                verdict: a.verdict,
                rule: a.rule,
                customer_phone: a
                    .phone
                    .as_deref()
                    .map(callproof_ingest::normalise_phone)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--phone: {e}"))?,
                contract_ref: a.contract_ref,
                // The command line works on a data folder the operator can read anyway.
                tenants: None,
            },
        )
        .await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&hits)?);
    } else {
        print_hits(&hits);
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct CallsArgs {
    /// Maximum number of calls.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
}

pub async fn list_calls(data: &Path, settings: Settings, a: CallsArgs) -> Result<ExitCode> {
    let app = App::open(data, settings).await?;
    let calls = app.catalog.list(a.limit).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&calls)?);
        return Ok(ExitCode::SUCCESS);
    }
    if calls.is_empty() {
        println!("no calls in {}", data.display());
    }
    for c in calls {
        println!(
            "{}  {:<12} {:<10} {:>7.1} s  {}",
            c.id,
            c.state.name(),
            c.metadata.client,
            c.audio
                .as_ref()
                .map_or(0.0, |a| a.duration_ms as f64 / 1000.0),
            c.original_name.as_deref().unwrap_or("-")
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct CallArgs {
    pub id: CallId,
    #[arg(long)]
    pub json: bool,
}

pub async fn show_call(data: &Path, settings: Settings, a: CallArgs) -> Result<ExitCode> {
    let app = App::open(data, settings).await?;
    let call = app.read_call(&Caller::local(), a.id).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&call)?);
    } else {
        println!("call      {}", call.id);
        println!(
            "state     {}",
            match &call.state {
                callproof_models::CallState::Failed(r) => format!("failed: {r}"),
                s => s.name().to_string(),
            }
        );
        println!("client    {}", call.metadata.client);
        println!("file      {}", call.original_name.as_deref().unwrap_or("-"));
        println!("sha256    {}", call.sha256);
        if let Some(a) = &call.audio {
            println!(
                "audio     {} {} Hz {} ch {:.1} s",
                a.format,
                a.sample_rate,
                a.channels,
                a.duration_ms as f64 / 1000.0
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_transcript(t: &Transcript) {
    println!("model {} · language {}", t.model, t.language);
    for s in &t.segments {
        println!(
            "[{} → {}] {:<8} {}",
            clock(s.start_ms),
            clock(s.end_ms),
            s.speaker_label(),
            s.text
        );
    }
}

pub async fn transcript(data: &Path, settings: Settings, a: CallArgs) -> Result<ExitCode> {
    let app = App::open(data, settings).await?;
    let t = app.read_transcript(&Caller::local(), a.id).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&t)?);
    } else {
        print_transcript(&t);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn reindex(data: &Path, settings: Settings) -> Result<ExitCode> {
    let app = App::open(data, settings).await?;
    let bar = ProgressBar::new(0);
    let n = app
        .rebuild_index(&|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .await?;
    bar.finish_and_clear();
    println!(
        "re-indexed {} ({} segments)",
        count(n, "call", "calls"),
        app.index.segment_count()
    );
    Ok(ExitCode::SUCCESS)
}
