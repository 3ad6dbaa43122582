//! The assembled application: one data folder's metastore, object store and index, plus the
//! Whisper engine, and the pipeline that moves a call from received to indexed.
//!
//! Work is a queue in the metastore: ingesting a call queues its transcription in the same
//! write; a worker (a `callproof worker` process started by `serve`, or the CLI itself for the
//! calls it ingests) claims it, transcribes and verifies ([`App::run_transcription`]), which
//! queues the index job that the one indexer runs ([`App::run_indexing`]). A call is handled
//! the same way whichever door it came in by.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use callproof_ingest::{DecodeError, DecodedAudio};
use callproof_metastore::prelude::*;
use callproof_metastore::{Job, JobKind, MetastoreError, NewCall, StoredRuleSet};
use callproof_models::{
    Actor, Attribution, AttributionSource, AudioInfo, Call, CallId, CallMetadata, CallState,
    ChannelRoles, ClientId, Finding, FindingStatus, NearReading, Outcome, RuleKind, RuleSetRef,
    Scope, Segment, Speaker, Transcript, Verdict, Verification,
};
use callproof_storage::{ObjectKey, OriginalStore, StoreError};
use std::collections::{BTreeMap, HashMap};

use callproof_evidence as evidence;
use callproof_search::{SearchError, SearchIndex};
use callproof_transcribe::{Engine, ModelCache, TranscribeOptions};
use callproof_verify::{self as verify, CallFacts, RuleBook, RuleSetError};
use serde::Serialize;

/// What re-verifying a client's archive changed.
#[derive(Debug, Serialize)]
pub struct ReverifyReport {
    pub client: String,
    /// The rule sets used (several when the client has none and its calls use the built-in
    /// packs of different languages).
    pub rulesets: Vec<RuleSetRef>,
    /// Calls checked (every call of the client with a transcript).
    pub calls: usize,
    /// Calls whose verdict changed.
    pub changed: Vec<VerdictChange>,
    /// Calls per verdict after the run.
    pub verdicts: BTreeMap<Verdict, usize>,
    /// True when nothing was stored (a dry run).
    pub dry_run: bool,
}

#[derive(Debug, Serialize)]
pub struct VerdictChange {
    pub call_id: CallId,
    pub original_name: Option<String>,
    /// None when the call had never been verified.
    pub before: Option<Verdict>,
    pub after: Verdict,
    /// Rules broken or needing review after the run.
    pub flagged: Vec<String>,
}

/// Why a rule set was not stored.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error(transparent)]
    Invalid(#[from] RuleSetError),
    #[error("this rule set names client {named:?} but is being stored for {client:?}; fix `client` in [ruleset] or store it for the client it names")]
    WrongClient { named: String, client: String },
    #[error(transparent)]
    Catalog(#[from] MetastoreError),
}

/// Why a recording was not accepted. Nothing is left behind in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("invalid metadata: {0}")]
    Metadata(String),
    #[error("this recording was already ingested as call {existing}; nothing was added")]
    Duplicate { existing: CallId },
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Catalog(MetastoreError),
    /// The caller's own check refused the call (e.g. a language the model cannot transcribe).
    #[error("{0}")]
    Rejected(String),
    /// Larger than the upload limit.
    #[error("{0}")]
    TooLarge(String),
}

impl From<MetastoreError> for IngestError {
    fn from(e: MetastoreError) -> Self {
        match e {
            MetastoreError::Duplicate { existing } => IngestError::Duplicate { existing },
            other => IngestError::Catalog(other),
        }
    }
}

impl From<callproof_ingest::IngestError> for IngestError {
    fn from(e: callproof_ingest::IngestError) -> Self {
        match e {
            callproof_ingest::IngestError::Metadata(m) => IngestError::Metadata(m),
            callproof_ingest::IngestError::Decode(d) => IngestError::Decode(d),
        }
    }
}

/// Writes channels of f32 samples as a 16-bit PCM WAV.
fn write_wav(path: &Path, channels: &[Vec<f32>], rate: u32) -> Result<()> {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let frames = channels.first().map_or(0, Vec::len);
    for i in 0..frames {
        for c in channels {
            let v = c.get(i).copied().unwrap_or(0.0).clamp(-1.0, 1.0);
            w.write_sample((v * i16::MAX as f32) as i16)?;
        }
    }
    w.finalize()?;
    Ok(())
}

fn too_large(size: u64, limits: &crate::limits::Limits) -> IngestError {
    IngestError::TooLarge(format!(
        "the recording is {} MB and at most {} MB are accepted (--max-upload-mb): split the call or compress it (FLAC, or MP3 for speech)",
        size.div_ceil(1_000_000),
        limits.max_upload_mb
    ))
}

/// A last check by the caller, run once the recording is known to be valid and new, before
/// anything is stored.
pub type Precheck<'a> = &'a (dyn Fn(&CallMetadata) -> Result<(), String> + Send + Sync);

/// A call that has been accepted and queued for transcription.
pub struct Ingested {
    pub call: Call,
}

/// How long a claimed job stays a worker's without a heartbeat. Heartbeats come every quarter
/// of it, so only a worker that is gone (killed, machine lost) lets it run out.
pub const LEASE: Duration = Duration::from_secs(120);

/// Receives a description of the stage a call is in ("transcribing channel 1/2 (agent) 40%").
pub type StageProgress = Arc<dyn Fn(&str) + Send + Sync>;

/// Settings that do not belong to one call.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the catalog and the recordings are (the data folder's by default).
    pub engines: crate::engines::Engines,
    /// Installed model used for transcription.
    pub model: String,
    /// Language of calls whose metadata gives none.
    pub default_language: String,
    /// whisper.cpp threads per transcription.
    pub threads: usize,
    /// The ed25519 key that signs evidence bundles (kept outside data folders).
    pub signing_key: std::path::PathBuf,
    /// What one caller may send or cost.
    pub limits: crate::limits::Limits,
    /// Check uploaded recordings in a child process (`callproof probe-audio`) with its memory
    /// capped, so that a decoder fault takes only the child down: set by `serve`.
    pub isolate_decoding: bool,
    /// Decode again, with beam search and the vocabulary prompt, the speech that a failing or
    /// doubtful finding depends on (see [`App::second_listen`]).
    pub second_listen: bool,
    /// The vocabulary prompt on the first pass as well.
    pub prompt_first_pass: bool,
}

/// An on/off setting, as the command line and environment spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

/// A recording file to ingest, already hashed (while it was received or read).
pub struct UploadFile<'a> {
    pub path: &'a Path,
    pub size: u64,
    pub sha256: String,
}

impl<'a> UploadFile<'a> {
    /// Hashes a file that is already on disk (the CLI's recordings), reading it in chunks.
    pub async fn hash(path: &'a Path) -> std::io::Result<UploadFile<'a>> {
        use sha2::{Digest, Sha256};
        use tokio::io::AsyncReadExt;
        let mut f = tokio::fs::File::open(path).await?;
        let (mut hasher, mut size, mut buf) = (Sha256::new(), 0u64, vec![0u8; 1 << 16]);
        loop {
            let n = f.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        Ok(UploadFile {
            path,
            size,
            sha256: hex::encode(hasher.finalize()),
        })
    }
}

/// The system's word lists for a language (Debian's `wfrench`, `wamerican`, `wbritish`), read
/// once per process; none for a language without one, or where the packages are not installed
/// (said once in the log: verification then does without telling made-up words).
fn lexicon(language: &str) -> Option<verify::Lexicon> {
    static READ: OnceLock<Mutex<HashMap<String, Option<verify::Lexicon>>>> = OnceLock::new();
    let mut read = READ
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    read.entry(language.to_string())
        .or_insert_with(|| {
            let files: &[&str] = match language {
                "fr" => &["/usr/share/dict/french"],
                "en" => &[
                    "/usr/share/dict/american-english",
                    "/usr/share/dict/british-english",
                ],
                _ => &[],
            };
            let lists: Vec<String> = files
                .iter()
                .filter_map(|f| std::fs::read(f).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .collect();
            let lexicon = verify::Lexicon::from_lists(lists.iter().map(String::as_str));
            if lexicon.is_empty() {
                tracing::warn!(
                    language,
                    "no word list for this language ({}): install wfrench / wamerican to let verification tell words the recogniser made up",
                    files.join(", ")
                );
                None
            } else {
                Some(lexicon)
            }
        })
        .clone()
}

pub struct App {
    pub catalog: Arc<dyn Metastore>,
    pub store: OriginalStore,
    pub index: SearchIndex,
    pub settings: Settings,
    engine: OnceLock<Arc<Engine>>,
    engine_load: Mutex<()>,
    /// The speaker encoder for mono recordings, if installed (`callproof model install speaker`).
    speaker_model: OnceLock<Option<Arc<callproof_diarize::SpeakerModel>>>,
    /// One tantivy writer per index: workers of one process take turns.
    index_lock: Mutex<()>,
    /// Uploads being received, and heavy reads (bundles, excerpts) being made: each bounded by
    /// its limit, the rest answered "busy".
    pub uploads: Arc<tokio::sync::Semaphore>,
    heavy: Arc<tokio::sync::Semaphore>,
    /// Where uploads are written while they arrive (inside the data folder, so that a local
    /// store links them into place).
    pub upload_dir: std::path::PathBuf,
}

impl App {
    pub async fn open(data: &Path, settings: Settings) -> Result<Self> {
        std::fs::create_dir_all(data)
            .with_context(|| format!("cannot create the data folder {}", data.display()))?;
        let catalog = settings.engines.open_catalog(data).await?;
        let store = settings.engines.open_store(data).await?;
        let index_dir = data.join("index");
        // The index is derived data: one built by an older version is rebuilt, not refused.
        let (mut index, rebuild) = match SearchIndex::open(&index_dir) {
            Err(SearchError::Outdated { .. }) => {
                std::fs::remove_dir_all(&index_dir).with_context(|| {
                    format!("cannot remove the outdated index {}", index_dir.display())
                })?;
                (SearchIndex::open(&index_dir)?, true)
            }
            other => (other?, false),
        };
        // An index folder that was removed (or a new node's) starts empty: it is rebuilt from
        // the catalog, then follows the change log from there.
        let empty = !rebuild && index.segment_count() == 0 && index.followed()? == 0;
        index.set_query_limits(settings.limits.query());
        let upload_dir = data.join("tmp").join("uploads");
        std::fs::create_dir_all(&upload_dir)
            .with_context(|| format!("cannot create {}", upload_dir.display()))?;
        let app = Self {
            catalog,
            store,
            index,
            uploads: Arc::new(tokio::sync::Semaphore::new(
                settings.limits.max_concurrent_uploads.max(1),
            )),
            heavy: Arc::new(tokio::sync::Semaphore::new(
                settings.limits.max_concurrent_heavy.max(1),
            )),
            settings,
            engine: OnceLock::new(),
            engine_load: Mutex::new(()),
            speaker_model: OnceLock::new(),
            index_lock: Mutex::new(()),
            upload_dir,
        };
        if rebuild {
            let n = app.rebuild_index(&|_, _| {}).await?;
            eprintln!("the search index was built by an older callproof: rebuilt it from the catalog ({n} calls)");
        } else if empty && !app.catalog.in_state("indexed").await?.is_empty() {
            // Best effort: another process may hold the index writer; the change log's
            // follower (in `serve`) or `callproof reindex` completes it then.
            match app.rebuild_index(&|_, _| {}).await {
                Ok(n) => eprintln!("the search index was empty: rebuilt it from the catalog ({n} calls)"),
                Err(e) => eprintln!("warning: the search index is empty and could not be rebuilt now ({e:#}); `callproof reindex` rebuilds it"),
            }
        }
        Ok(app)
    }

    /// Re-indexes every indexed call from the catalog (transcript and verification) in one
    /// commit. `progress(done, total)` is called after each call.
    pub async fn rebuild_index(&self, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<usize> {
        // Read first: a change made while the calls are read is applied again by the follower.
        let upto = self.catalog.last_index_change().await?;
        let calls = self.catalog.in_state("indexed").await?;
        // The bulk writer holds tantivy's own index lock for the whole rebuild: other writers
        // (the indexer) wait for it and retry.
        let mut bulk = self
            .index
            .bulk(self.settings.threads.clamp(1, 4), 256 << 20)?;
        for (i, call) in calls.iter().enumerate() {
            if let Some(t) = self.catalog.transcript_in(call.id, &Scope::All).await? {
                // Calls transcribed before verification existed are verified now.
                let v = match self.catalog.verification_in(call.id, &Scope::All).await? {
                    Some(v) => v,
                    None => self.verify_call(call, &t, None).await?,
                };
                tokio::task::block_in_place(|| bulk.replace_call(&t, &call.metadata, Some(&v)))?;
            }
            progress(i + 1, calls.len());
        }
        tokio::task::block_in_place(|| bulk.commit_followed(&self.index, upto))?;
        Ok(calls.len())
    }

    /// Brings this node's index up to the catalog's change log: the calls indexed, re-verified
    /// or removed anywhere (by another serving node, a worker elsewhere, the CLI) since this
    /// index last followed it. Documents and position go in one commit. Returns the number of
    /// calls changed.
    pub async fn follow_index(&self) -> Result<usize> {
        let from = self.index.followed()?;
        let changes = self.catalog.index_changes(from, 500).await?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            return Ok(0);
        };
        // Only each call's newest change matters.
        let mut latest: BTreeMap<CallId, bool> = BTreeMap::new();
        for c in &changes {
            latest.insert(c.call_id, c.removed);
        }
        let mut docs = Vec::with_capacity(latest.len());
        for (id, removed) in latest {
            let call = match removed {
                true => None,
                false => self.catalog.get_in(id, &Scope::All).await?,
            };
            let t = match &call {
                Some(_) => self.catalog.transcript_in(id, &Scope::All).await?,
                None => None,
            };
            let v = match &t {
                Some(_) => self.catalog.verification_in(id, &Scope::All).await?,
                None => None,
            };
            docs.push((id, call.zip(t), v));
        }
        let n = docs.len();
        tokio::task::block_in_place(|| -> Result<()> {
            let _guard = self.index_lock.lock().unwrap_or_else(|p| p.into_inner());
            let mut bulk = self.index.bulk(1, 64 << 20)?;
            for (id, found, v) in &docs {
                match found {
                    Some((call, t)) => bulk.replace_call(t, &call.metadata, v.as_ref())?,
                    // Erased, or gone before its change was read: its documents go.
                    None => bulk.remove_call(*id),
                }
            }
            bulk.commit_followed(&self.index, last)?;
            Ok(())
        })?;
        Ok(n)
    }

    /// The rules a client's calls are checked against: its active stored rule set, or the
    /// built-in pack for the call's language when it has none. A call in another language
    /// than the stored rule set's is checked with that language's pack and the client's
    /// vocabulary, scorecard, redaction and retention (`RuleBook::for_language`); the
    /// verification still names the client's rule set version, whose words reached the
    /// recogniser.
    pub async fn rules_for(&self, client: &str, language: &str) -> Result<(RuleBook, RuleSetRef)> {
        match self.catalog.ruleset(client, None).await? {
            Some(stored) => {
                let book = RuleBook::parse(&stored.source).with_context(|| {
                    format!(
                        "client {client}'s stored rule set version {} no longer parses",
                        stored.version
                    )
                })?;
                let book = Self::read_for(&book, language)?;
                Ok((
                    book,
                    RuleSetRef {
                        id: client.to_string(),
                        version: stored.version,
                        sha256: stored.sha256,
                        builtin: false,
                    },
                ))
            }
            None => {
                let name = verify::default_pack(language);
                let book = Self::read_for(&RuleBook::pack(name)?, language)?;
                let r = RuleSetRef {
                    id: name.to_string(),
                    version: book.version.unwrap_or(1),
                    sha256: book.sha256.clone(),
                    builtin: true,
                };
                Ok((book, r))
            }
        }
    }

    /// `book` (a client's stored rule set, or one given to try) read for a call in `language`
    /// (`RuleBook::for_language`), with the words of that language where the system lists
    /// them.
    fn read_for(book: &RuleBook, language: &str) -> Result<RuleBook> {
        let mut book = book.for_language(language)?;
        book.lexicon = lexicon(language);
        Ok(book)
    }

    /// Validates a rule set and stores it as the client's active one.
    pub async fn store_rules(
        &self,
        client: &ClientId,
        source: &str,
    ) -> std::result::Result<(StoredRuleSet, RuleBook), RulesError> {
        let book = RuleBook::parse(source)?;
        if let Some(named) = &book.client {
            if named != client.as_str() {
                return Err(RulesError::WrongClient {
                    named: named.clone(),
                    client: client.to_string(),
                });
            }
        }
        let stored = self
            .catalog
            .put_ruleset(client, book.version, &book.sha256, source)
            .await?;
        Ok((stored, book))
    }

    /// Checks every transcribed call of a client again with `rules` (the client's active rule
    /// set by default), without transcribing anything, and reports the verdicts that changed.
    /// A dry run stores nothing.
    pub async fn reverify_client(
        &self,
        client: &str,
        rules: Option<(RuleBook, RuleSetRef)>,
        dry_run: bool,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<ReverifyReport> {
        let calls = self.catalog.transcribed_calls(client).await?;
        let mut report = ReverifyReport {
            client: client.to_string(),
            rulesets: Vec::new(),
            calls: calls.len(),
            changed: Vec::new(),
            verdicts: BTreeMap::new(),
            dry_run,
        };
        let mut per_language: BTreeMap<String, (RuleBook, RuleSetRef)> = BTreeMap::new();
        let mut updated = Vec::new();
        for (i, call) in calls.iter().enumerate() {
            let Some(t) = self.catalog.transcript_in(call.id, &Scope::All).await? else {
                continue;
            };
            if !per_language.contains_key(&t.language) {
                // A rule set given to try is read as a stored one would be: for each call in
                // the language the call was spoken in.
                let r = match &rules {
                    Some((book, r)) => (Self::read_for(book, &t.language)?, r.clone()),
                    None => self.rules_for(client, &t.language).await?,
                };
                per_language.insert(t.language.clone(), r);
            }
            let rules = &per_language[&t.language];
            if !report.rulesets.contains(&rules.1) {
                report.rulesets.push(rules.1.clone());
            }
            let before = self
                .catalog
                .verification_in(call.id, &Scope::All)
                .await?
                .map(|v| v.verdict);
            let (book, r) = rules;
            let v = verify::verify(
                book,
                r,
                &t,
                &CallFacts {
                    call_id: call.id,
                    metadata: &call.metadata,
                    duration_ms: call.audio.as_ref().map(|a| a.duration_ms),
                },
            );
            *report.verdicts.entry(v.verdict).or_default() += 1;
            if before != Some(v.verdict) {
                report.changed.push(VerdictChange {
                    call_id: call.id,
                    original_name: call.original_name.clone(),
                    before,
                    after: v.verdict,
                    flagged: v.flagged_rules().map(str::to_string).collect(),
                });
            }
            if !dry_run {
                self.catalog.put_verification(&v).await?;
                updated.push((call.clone(), t, v));
            }
            progress(i + 1, calls.len());
        }
        if !updated.is_empty() {
            let _guard = self.index_lock.lock().unwrap_or_else(|p| p.into_inner());
            let mut bulk = self
                .index
                .bulk(self.settings.threads.clamp(1, 4), 128 << 20)?;
            for (call, t, v) in &updated {
                if call.state == CallState::Indexed {
                    bulk.replace_call(t, &call.metadata, Some(v))?;
                }
            }
            bulk.commit(&self.index)?;
            drop(_guard);
            // Other serving nodes re-index these calls from the change log.
            for (call, _, _) in &updated {
                if call.state == CallState::Indexed {
                    self.catalog.index_changed(call.id).await?;
                }
            }
        }
        Ok(report)
    }

    /// Records an access in the audit log. A log that cannot be written is an error: an
    /// access that cannot be recorded must not happen.
    pub async fn audit(
        &self,
        actor: &Actor,
        action: crate::service::AuditAction,
        target: Option<&str>,
        outcome: &str,
    ) -> Result<()> {
        self.catalog
            .audit(actor, action.as_str(), target, outcome)
            .await
            .context("the audit log cannot be written")?;
        Ok(())
    }

    /// Runs a search for `actor` and records, per call in the answer, that its transcript
    /// text was shown: a search result is a read like any other.
    pub async fn search(
        &self,
        actor: &Actor,
        req: &callproof_search::SearchRequest,
    ) -> Result<Vec<callproof_models::CallHit>> {
        // tantivy answers synchronously: off the runtime's async workers.
        let started = Instant::now();
        let hits = tokio::task::block_in_place(|| self.index.search(req))?;
        crate::metrics::search(started.elapsed());
        for hit in &hits {
            self.audit(
                actor,
                crate::service::AuditAction::Search,
                Some(&hit.call_id.to_string()),
                "ok",
            )
            .await?;
        }
        Ok(hits)
    }

    /// A signed proof-of-consent bundle (ZIP) for a call `scope` may see; None when it may not
    /// (or the call does not exist). Recorded in the audit log either way.
    pub async fn evidence(
        &self,
        id: CallId,
        scope: &Scope,
        actor: &Actor,
        include_original: bool,
    ) -> Result<Option<Vec<u8>>> {
        let target = id.to_string();
        let Some(call) = self.catalog.get_in(id, scope).await? else {
            self.audit(
                actor,
                crate::service::AuditAction::CreateEvidence,
                Some(&target),
                "not_found",
            )
            .await?;
            return Ok(None);
        };
        let (Some(t), Some(v)) = (
            self.catalog.transcript_in(id, &Scope::All).await?,
            self.catalog.verification_in(id, &Scope::All).await?,
        ) else {
            self.audit(
                actor,
                crate::service::AuditAction::CreateEvidence,
                Some(&target),
                "not_ready",
            )
            .await?;
            return Err(crate::service::ServiceError::NotReady(format!(
                "call {id} is not transcribed and verified yet (state: {}); evidence can be made once it is",
                call.state.name()
            ))
            .into());
        };
        // Decoding the whole recording is the heavy part: it waits for a slot, or says busy.
        let _slot = self.heavy_slot()?;
        let key = self.original_key(id, scope).await?;
        let original = self.store.get(&key).await?;
        let decoded = {
            let (bytes, limits) = (original.clone(), self.settings.limits.audio());
            tokio::task::spawn_blocking(move || callproof_ingest::decode_with(&bytes, &limits))
                .await??
        };
        let signing = evidence::load_signing_key(&self.settings.signing_key)?;
        let redaction = self.catalog.redaction_in(id, scope).await?;
        // The newest review the asker may see (calibration answers stay hidden until all are
        // in), with its reviewer's name: the bundle carries a person's verdict beside the rules'.
        let reviews = self
            .visible_to(&self.catalog.reviews(id).await?, actor)
            .await?;
        let review = reviews
            .into_iter()
            .max_by_key(|r| (r.created_at, r.version));
        // The readable page speaks French: the interface's words and the rules' French titles.
        let mut labels = crate::i18n::words("fr").clone();
        if let Ok((book, _)) = self.rules_for(&call.metadata.client, &t.language).await {
            for r in &book.rules {
                labels.insert(format!("rule_{}", r.id), r.title_in("fr").to_string());
            }
        }
        let reviewer = match &review {
            Some(r) => self
                .catalog
                .key(&r.reviewer.key_id)
                .await?
                .map(|(k, _)| k.name)
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| format!("la clé {}", r.reviewer.key_id)),
            None => String::new(),
        };
        let zip = evidence::build(
            &evidence::BundleInput {
                call: &call,
                transcript: &t,
                verification: &v,
                original: &original,
                audio: &evidence::Audio {
                    channels: &decoded.channels,
                    sample_rate: decoded.sample_rate,
                },
                requested_by: actor.clone(),
                include_original,
                redaction: redaction.as_ref(),
                review: review.as_ref().map(|r| (r, reviewer.as_str())),
                labels: &labels,
            },
            &signing,
        )?;
        self.audit(
            actor,
            crate::service::AuditAction::CreateEvidence,
            Some(&target),
            "ok",
        )
        .await?;
        Ok(Some(zip))
    }

    /// How loud each channel of a call's stored recording is along the call, in `steps` steps,
    /// for a call `scope` may see (the redacted recording where it was redacted).
    pub async fn energy(
        &self,
        id: CallId,
        scope: &Scope,
        steps: usize,
    ) -> Result<Option<callproof_quality::EnergyProfile>> {
        if self.catalog.get_in(id, scope).await?.is_none() {
            return Ok(None);
        }
        let key = self.original_key(id, scope).await?;
        // Decoding is the heavy part: it waits for a slot, or says busy.
        let _slot = self.heavy_slot()?;
        let original = self.store.get(&key).await?;
        let limits = self.settings.limits.audio();
        let profile = tokio::task::spawn_blocking(move || -> Result<_> {
            let audio = callproof_ingest::decode_with(&original, &limits)?;
            Ok(callproof_quality::energy_profile(
                &audio.channels,
                audio.sample_rate,
                steps,
            ))
        })
        .await??;
        Ok(Some(profile))
    }

    /// An excerpt of a call's recording as WAV, for a call `scope` may see.
    pub async fn audio_excerpt(
        &self,
        id: CallId,
        scope: &Scope,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Option<Vec<u8>>> {
        if self.catalog.get_in(id, scope).await?.is_none() {
            return Ok(None);
        }
        let _slot = self.heavy_slot()?;
        let key = self.original_key(id, scope).await?;
        let original = self.store.get(&key).await?;
        let limits = self.settings.limits.audio();
        let wav = tokio::task::spawn_blocking(move || -> Result<Vec<u8>> {
            // Only the window is kept: an excerpt of a long call costs the excerpt's memory.
            let audio = callproof_ingest::decode_window(&original, &limits, from_ms, to_ms)?;
            Ok(evidence::wav_excerpt(
                &evidence::Audio {
                    channels: &audio.channels,
                    sample_rate: audio.sample_rate,
                },
                0,
                to_ms.saturating_sub(from_ms),
            )?)
        })
        .await??;
        Ok(Some(wav))
    }

    /// Checks a transcribed call against `rules` (its client's by default) and stores the result.
    pub async fn verify_call(
        &self,
        call: &Call,
        t: &Transcript,
        rules: Option<&(RuleBook, RuleSetRef)>,
    ) -> Result<Verification> {
        let owned;
        let (book, r) = match rules {
            Some(r) => r,
            None => {
                owned = self.rules_for(&call.metadata.client, &t.language).await?;
                &owned
            }
        };
        let v = verify::verify(
            book,
            r,
            t,
            &CallFacts {
                call_id: call.id,
                metadata: &call.metadata,
                duration_ms: call.audio.as_ref().map(|a| a.duration_ms),
            },
        );
        self.catalog.put_verification(&v).await?;
        Ok(v)
    }

    /// The Whisper engine, loaded on first use and shared afterwards.
    pub fn engine(&self) -> Result<Arc<Engine>> {
        if let Some(e) = self.engine.get() {
            return Ok(e.clone());
        }
        let _guard = self.engine_load.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = self.engine.get() {
            return Ok(e.clone());
        }
        let cache = ModelCache::from_env();
        let model = cache.get(&self.settings.model)?;
        let engine = Arc::new(Engine::load(&model.path, &model.name, &model.sha256)?);
        let _ = self.engine.set(engine.clone());
        Ok(engine)
    }

    /// The speaker encoder that tells voices apart on a mono recording, loaded on first use;
    /// `None` when it is not installed (mono calls then keep "unknown" speakers, and every
    /// finding that depends on who spoke is for a person to confirm).
    pub fn speaker_model(&self) -> Result<Option<Arc<callproof_diarize::SpeakerModel>>> {
        if let Some(m) = self.speaker_model.get() {
            return Ok(m.clone());
        }
        let path = speaker_model_path();
        let model = if path.exists() {
            Some(Arc::new(callproof_diarize::SpeakerModel::load(&path)?))
        } else {
            tracing::warn!(
                "no speaker model in {}: mono recordings keep unknown speakers; install it with `callproof model install speaker`",
                path.display()
            );
            None
        };
        Ok(self.speaker_model.get_or_init(|| model).clone())
    }

    /// The language a call will be transcribed in.
    pub fn language_of(&self, meta: &CallMetadata) -> String {
        meta.language
            .clone()
            .unwrap_or_else(|| self.settings.default_language.clone())
    }

    /// Refuses, before anything is stored, a call the loaded model cannot transcribe.
    pub fn check_language(&self, meta: &CallMetadata) -> Result<()> {
        Ok(self.engine()?.check_language(&self.language_of(meta))?)
    }

    /// The object key of a call's original, read under `scope` and checked to lie under the
    /// call's tenant.
    pub async fn original_key(&self, id: CallId, scope: &Scope) -> Result<ObjectKey> {
        let call = self
            .catalog
            .get_in(id, scope)
            .await?
            .with_context(|| format!("no call {id}"))?;
        let key = self
            .catalog
            .object_key_in(id, scope)
            .await?
            .context("the call has no stored original")?;
        if key.is_empty() {
            return Err(crate::service::ServiceError::NotFound(format!(
                "the recording of call {id} was deleted at the end of its retention period; its transcript and findings are kept longer"
            ))
            .into());
        }
        Ok(ObjectKey::stored(&key, &call.metadata.client)?)
    }

    /// Accepts a recording: checks its metadata, that it is new, and that it decodes within
    /// the limits (without keeping its samples), then stores the file and catalogues the call,
    /// which queues its transcription. Nothing is left behind when it is refused; an upload
    /// killed between storing and cataloguing is removed at the next start
    /// ([`App::remove_unfinished_uploads`]).
    pub async fn ingest(
        &self,
        file: UploadFile<'_>,
        original_name: Option<&str>,
        metadata: CallMetadata,
        precheck: Precheck<'_>,
    ) -> Result<Ingested, IngestError> {
        let limits = &self.settings.limits;
        let mut metadata = metadata;
        if let Some(p) = &metadata.customer_phone {
            if p.chars().count() > limits.max_field_chars {
                return Err(IngestError::Metadata(format!(
                    "customer_phone is longer than {} characters: it is not a phone number",
                    limits.max_field_chars
                )));
            }
            metadata.customer_phone = Some(
                callproof_ingest::normalise_phone(p)
                    .map_err(|e| IngestError::Metadata(format!("customer_phone: {e}")))?,
            );
        }
        callproof_ingest::validate_metadata_within(&metadata, limits.max_field_chars)?;
        if file.size > limits.max_upload_bytes() {
            return Err(too_large(file.size, limits));
        }
        if let Some(existing) = self
            .catalog
            .find_by_sha256(&metadata.client, &file.sha256)
            .await?
        {
            return Err(IngestError::Duplicate { existing });
        }
        // Decoded completely before anything is written, in constant memory: a file that does
        // not decode, or decodes past the limits, leaves nothing behind.
        let audio = self.probe(file.path).await?;
        precheck(&metadata).map_err(IngestError::Rejected)?;
        let id = CallId::new();
        let extension = audio.format.split('/').next().unwrap_or("bin").to_string();
        let key = ObjectKey::original(&metadata.client, id, &extension)?;
        let info = AudioInfo {
            format: audio.format.clone(),
            sample_rate: audio.sample_rate,
            channels: audio.channels,
            duration_ms: audio.duration_ms(),
        };
        self.catalog
            .begin_object(key.as_str(), &crate::worker::this_process("upload"))
            .await?;
        let stored = async {
            self.store.put_file(&key, file.path).await?;
            upload_crash_drill(original_name);
            let new = NewCall {
                id,
                metadata: &metadata,
                sha256: &file.sha256,
                original_name,
                size_bytes: file.size,
                object_key: key.as_str(),
                audio: &info,
            };
            self.catalog.insert(&new).await?;
            Ok::<_, IngestError>(())
        }
        .await;
        if let Err(e) = stored {
            let _ = self.store.discard(&key).await;
            let _ = self.catalog.end_object(key.as_str()).await;
            return Err(e);
        }
        self.catalog.end_object(key.as_str()).await?;
        let call = self.catalog.get_in(id, &Scope::All).await?.ok_or_else(|| {
            IngestError::Catalog(MetastoreError::Unavailable(
                "the call vanished right after insertion".into(),
            ))
        })?;
        Ok(Ingested { call })
    }

    /// Decodes a recording file to the end without keeping its samples. Under `serve` it runs
    /// in a child process whose memory is capped: whatever a hostile file does to a decoder,
    /// the server stays up.
    async fn probe(&self, path: &Path) -> Result<callproof_ingest::AudioSummary, DecodeError> {
        let limits = self.settings.limits.audio();
        if !self.settings.isolate_decoding {
            let path = path.to_path_buf();
            return tokio::task::spawn_blocking(move || {
                callproof_ingest::probe_file(&path, &limits)
            })
            .await
            .map_err(|e| DecodeError::Damaged(format!("the decoder crashed: {e}")))?;
        }
        crate::probe::in_child(path, &limits).await
    }

    /// Removes what uploads killed half-way left behind: objects stored but never catalogued
    /// (their processes are gone) and the files they were receiving. Says so in the log.
    pub async fn remove_unfinished_uploads(&self) -> Result<usize> {
        let mut removed = 0;
        for (key, owner) in self.catalog.pending_objects().await? {
            if !crate::worker::owner_is_gone(&owner) {
                continue;
            }
            // A pending key was made by ObjectKey::original; it is read back under its tenant.
            let client = key.split('/').nth(1).unwrap_or_default();
            match ObjectKey::stored(&key, client) {
                Ok(k) => {
                    if self.store.discard(&k).await? {
                        removed += 1;
                        eprintln!("removed {key}: its upload was interrupted ({owner} is gone) before the call was catalogued");
                    }
                }
                Err(e) => {
                    eprintln!("pending object {key:?} is not an original's key ({e}); left alone")
                }
            }
            self.catalog.end_object(&key).await?;
        }
        if let Ok(entries) = std::fs::read_dir(&self.upload_dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                let pid = name.split('-').next().and_then(|p| p.parse::<u32>().ok());
                let gone =
                    pid.is_none_or(|p| !std::path::Path::new(&format!("/proc/{p}")).exists());
                if gone && std::fs::remove_file(e.path()).is_ok() {
                    removed += 1;
                    eprintln!(
                        "removed {}: a partial upload whose process is gone",
                        e.path().display()
                    );
                }
            }
        }
        Ok(removed)
    }

    /// A place in the heavy-work queue (bundles, excerpts), or "busy" at once.
    pub fn heavy_slot(
        &self,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, crate::service::ServiceError> {
        self.heavy.clone().try_acquire_owned().map_err(|_| {
            crate::service::ServiceError::Busy(format!(
                "{} evidence bundles or audio excerpts are being made already (the limit, --max-concurrent-heavy); retry in a few seconds",
                self.settings.limits.max_concurrent_heavy
            ))
        })
    }

    /// Applies the client's redaction policy to a freshly transcribed call: finds card
    /// numbers, codes, IBANs… in the transcript; when there are any, writes the recording with
    /// those spans silenced (or toned) as the call's new original, removes the unredacted one
    /// (unless the policy keeps it and nothing found is payment data), and records what was
    /// removed. Returns the transcript with the spans' words replaced by their labels.
    pub async fn redact_call(
        &self,
        call: &Call,
        t: Transcript,
        audio: DecodedAudio,
    ) -> Result<Transcript> {
        let (book, _) = self.rules_for(&call.metadata.client, &t.language).await?;
        let policy = book.redaction;
        let found = callproof_redact::detect(&t, &policy);
        // The customer's answers to payment questions lose every number they hold in the text,
        // and all of their audio, heard or not.
        let windows = callproof_redact::answer_windows(&t, &policy);
        let redacted = callproof_redact::redact_numbers_in(
            &callproof_redact::redact_transcript(&t, &found),
            &windows,
        );
        let mut spans = found;
        spans.extend(windows);
        spans.sort_by_key(|s| (s.start_ms, s.end_ms));
        if spans.is_empty() {
            return Ok(t);
        }
        let (path, sha256, size) = {
            let (spans, policy) = (spans.clone(), policy.clone());
            let dir = self.upload_dir.clone();
            let id = call.id;
            tokio::task::spawn_blocking(move || -> Result<_> {
                let mut channels = audio.channels;
                callproof_redact::redact_audio(&mut channels, audio.sample_rate, &spans, &policy);
                let path = dir.join(format!("{}-{id}-redacted.wav", std::process::id()));
                write_wav(&path, &channels, audio.sample_rate)?;
                let bytes = std::fs::read(&path)?;
                Ok((
                    path,
                    callproof_ingest::sha256_hex(&bytes),
                    bytes.len() as u64,
                ))
            })
            .await??
        };
        let old_key = self.original_key(call.id, &Scope::All).await?;
        let key = ObjectKey::redacted(&call.metadata.client, call.id)?;
        let result = async {
            if old_key != key {
                self.catalog
                    .begin_object(key.as_str(), &crate::worker::this_process("redact"))
                    .await?;
                // A retried job finds its own redacted file from a run that died here.
                let _ = self.store.discard(&key).await;
                self.store.put_file(&key, &path).await?;
                self.catalog
                    .replace_original(call.id, key.as_str(), "wav/pcm_s16le", size)
                    .await?;
                self.catalog.end_object(key.as_str()).await?;
            }
            let kept = policy.keeps_original(&spans);
            if !kept && old_key != key {
                self.store.discard(&old_key).await?;
            }
            self.catalog
                .put_redaction(&callproof_models::Redaction {
                    call_id: call.id,
                    spans,
                    audio: policy.audio,
                    original_sha256: call.sha256.clone(),
                    redacted_sha256: Some(sha256),
                    original_kept: kept,
                    at: chrono::Utc::now(),
                })
                .await?;
            Ok::<_, anyhow::Error>(())
        }
        .await;
        let _ = std::fs::remove_file(&path);
        result?;
        Ok(redacted)
    }

    /// Decodes a call's stored original again.
    pub async fn load_audio(&self, call: &Call) -> Result<DecodedAudio> {
        let key = self.original_key(call.id, &Scope::All).await?;
        let bytes = self.store.get(&key).await?;
        let limits = self.settings.limits.audio();
        Ok(
            tokio::task::spawn_blocking(move || callproof_ingest::decode_with(&bytes, &limits))
                .await
                .map_err(|e| DecodeError::Damaged(format!("decoder crashed: {e}")))??,
        )
    }

    /// Runs `work` while renewing `job`'s lease every quarter of it, so that a long
    /// transcription keeps its job and only a dead worker loses it.
    async fn holding<T>(&self, job: &Job, owner: &str, work: impl Future<Output = T>) -> T {
        let renew = async {
            let mut tick = tokio::time::interval(LEASE / 4);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = self.catalog.heartbeat(job.id, owner, LEASE).await {
                    tracing::warn!(job = job.id, "lease not renewed: {e}");
                }
            }
        };
        tokio::select! {
            out = work => out,
            never = renew => never,
        }
    }

    /// Runs a claimed transcription job: decode, transcribe, verify, store; then the job is
    /// done and the call's index job queued, in one write. A failure is recorded on the job:
    /// retried while attempts remain, at once dead for a recording that cannot be decoded.
    pub async fn run_transcription(
        self: &Arc<Self>,
        job: &Job,
        owner: &str,
        progress: StageProgress,
    ) -> Result<Transcript> {
        let result = self
            .holding(job, owner, async {
                let call = self
                    .catalog
                    .get_in(job.call_id, &Scope::All)
                    .await?
                    .with_context(|| format!("call {} vanished", job.call_id))?;
                crash_drill(&call);
                let audio = self.load_audio(&call).await?;
                // The rule set tells, on a mono recording, which voice is the seller's.
                let script = self
                    .rules_for(&call.metadata.client, &self.language_of(&call.metadata))
                    .await
                    .ok()
                    .map(|(book, _)| book);
                // Whisper is CPU-bound for minutes: on a blocking thread, not the runtime's.
                let (app, c, report) = (self.clone(), call.clone(), progress.clone());
                let (t, audio) = tokio::task::spawn_blocking(move || {
                    app.transcribe_call(&c, &audio, script.as_ref(), report)
                        .map(|t| (t, audio))
                })
                .await
                .context("the transcription stopped unexpectedly")??;
                // Card numbers, codes and other personal data leave the transcript and the
                // recording before anything is stored or indexed.
                progress("redacting");
                let t = self.redact_call(&call, t, audio).await?;
                self.catalog.put_transcript(&t).await?;
                progress("verifying");
                self.verify_call(&call, &t, None).await?;
                Ok::<_, anyhow::Error>(t)
            })
            .await;
        match result {
            Ok(t) => {
                if !self
                    .catalog
                    .complete(job.id, owner, Some(JobKind::Index))
                    .await?
                {
                    anyhow::bail!(
                        "call {} was taken over by another worker while this one transcribed it",
                        job.call_id
                    );
                }
                Ok(t)
            }
            Err(e) => {
                // A file that does not decode will not decode next time either.
                let retry = e.downcast_ref::<DecodeError>().is_none();
                self.catalog
                    .fail(job.id, owner, &format!("{e:#}"), retry)
                    .await?;
                Err(e)
            }
        }
    }

    /// Runs a claimed index job: the call's transcript and verification into the index, then
    /// the call is `indexed`.
    pub async fn run_indexing(&self, job: &Job, owner: &str) -> Result<()> {
        let result = async {
            let call = self
                .catalog
                .get_in(job.call_id, &Scope::All)
                .await?
                .with_context(|| format!("call {} vanished", job.call_id))?;
            let t = self
                .catalog
                .transcript_in(call.id, &Scope::All)
                .await?
                .with_context(|| format!("call {} has no transcript to index", call.id))?;
            let v = self.catalog.verification_in(call.id, &Scope::All).await?;
            // tantivy's writer blocks (and may wait for another process's lock).
            tokio::task::block_in_place(|| self.index_transcript(&t, &call, v.as_ref()))
        }
        .await;
        match result {
            Ok(()) => {
                self.catalog.complete(job.id, owner, None).await?;
                Ok(())
            }
            Err(e) => {
                self.catalog
                    .fail(job.id, owner, &format!("{e:#}"), true)
                    .await?;
                Err(e)
            }
        }
    }

    /// Transcribes, verifies and indexes one call now, in this process (the CLI's way): its
    /// queued jobs are claimed here so that no running worker does the same work.
    pub async fn process_now(
        self: &Arc<Self>,
        id: CallId,
        progress: StageProgress,
    ) -> Result<Option<Transcript>> {
        let owner = crate::worker::this_process("cli");
        let mut transcript = None;
        if let Some(job) = self
            .catalog
            .claim(JobKind::Transcribe, &owner, LEASE, Some(id))
            .await?
        {
            transcript = Some(
                self.run_transcription(&job, &owner, progress.clone())
                    .await?,
            );
        }
        if let Some(job) = self
            .catalog
            .claim(JobKind::Index, &owner, LEASE, Some(id))
            .await?
        {
            progress("indexing");
            self.run_indexing(&job, &owner).await?;
        }
        Ok(transcript)
    }

    /// Transcribes a decoded call, one channel after the other (blocking: Whisper). Storing
    /// and verifying it, the call's state and its queue entries are the job's business
    /// ([`App::run_transcription`]).
    pub fn transcribe_call(
        &self,
        call: &Call,
        audio: &DecodedAudio,
        script: Option<&RuleBook>,
        progress: StageProgress,
    ) -> Result<Transcript> {
        let language = self.language_of(&call.metadata);
        let engine = self.engine()?;
        engine.check_language(&language)?;
        progress("resampling");
        let channels = callproof_ingest::channels_16k(audio)?;
        let roles = call.metadata.channels.clone().unwrap_or_default();
        let mut opts = TranscribeOptions::new(&language, self.settings.threads);
        // Channels one after the other, each with all threads: measured on 617 s of calls with
        // base, side by side (a thread each) was 7 % slower and needed twice the memory.
        let n = channels.len();
        let mut segments = Vec::new();
        let mut decodings = callproof_transcribe::Decodings::default();
        let started = std::time::Instant::now();
        for (i, samples) in channels.iter().enumerate() {
            let speaker = ChannelRoles::speaker_for(&roles, i, n);
            opts.prompt = script
                .filter(|_| self.settings.prompt_first_pass)
                .and_then(|b| b.prompt_for(speaker));
            let stage = format!("transcribing channel {}/{} ({speaker})", i + 1, n);
            progress(&stage);
            let report = progress.clone();
            opts.progress = Some(Arc::new(move |pct: i32| report(&format!("{stage} {pct}%"))));
            // A channel that carries several voices (a mono recording, or a channel whose
            // role is "unknown"): the voices say who spoke, and each voice is transcribed on
            // its own, as a stereo channel is.
            match (speaker, self.speaker_model()?) {
                (Speaker::Unknown, Some(model)) => {
                    progress(&format!("telling voices apart on channel {}/{n}", i + 1));
                    let d = callproof_diarize::diarize(
                        &model,
                        samples,
                        &callproof_diarize::DiarizeOptions::default(),
                    );
                    let tracks = callproof_diarize::voice_tracks(samples, &d, 200);
                    let mut voiced = Vec::new();
                    for (k, track) in tracks.iter().enumerate() {
                        let stage = format!(
                            "transcribing channel {}/{n}, voice {}/{}",
                            i + 1,
                            k + 1,
                            tracks.len()
                        );
                        progress(&stage);
                        let report = progress.clone();
                        opts.progress =
                            Some(Arc::new(move |pct: i32| report(&format!("{stage} {pct}%"))));
                        let (heard, cost) =
                            engine.transcribe_counted(track, speaker, i as u16, &opts)?;
                        decodings.add(&cost);
                        voiced.extend(callproof_diarize::attribute_track(heard, &d, k));
                    }
                    segments.extend(assign_roles(voiced, script, call.id, &language));
                }
                _ => {
                    let (heard, cost) =
                        engine.transcribe_counted(samples, speaker, i as u16, &opts)?;
                    decodings.add(&cost);
                    segments.extend(heard);
                }
            }
        }
        segments.sort_by_key(|s| (s.start_ms, s.channel));
        // Beside the second listen's and the script check's own lines: where a call's time went.
        tracing::info!(
            call = %call.id,
            channels = n,
            audio_s = channels.first().map_or(0, Vec::len) as f64 / 16_000.0,
            seconds = started.elapsed().as_secs_f64(),
            %decodings,
            "first pass"
        );
        let mut transcript = Transcript {
            near_readings: Vec::new(),
            call_id: call.id,
            model: engine.name().to_string(),
            model_sha256: engine.sha256().to_string(),
            language,
            segments,
        };
        if let (true, Some(book)) = (self.settings.second_listen, script) {
            self.second_listen(&engine, call, &channels, book, &mut transcript, &progress)?;
        }
        // Whatever hearings met in it, one voice says one thing at a time: evidence never shows
        // the same speech twice, nor two segments of one speaker over the same audio.
        let dropped = transcript.untangle();
        if dropped > 0 {
            tracing::debug!(call = %call.id, dropped, "words heard twice dropped");
        }
        Ok(transcript)
    }

    /// The second listen: the call is checked against its rule set as heard, and where a
    /// finding is unclear — an item not found, a doubtful match, consent stated only by the
    /// agent — the speech it depends on is decoded again with beam search (5 beams) and the
    /// rule set's vocabulary as prompt. Those segments replace the first pass's; the stored
    /// verification is made from the result, and each finding says whether its words came from
    /// the second listen. Calls heard clearly and complete pay nothing. Channel recordings
    /// only: on a mono call the voices' tracks would each need decoding again.
    fn second_listen(
        &self,
        engine: &Engine,
        call: &Call,
        channels: &[Vec<f32>],
        book: &RuleBook,
        t: &mut Transcript,
        progress: &StageProgress,
    ) -> Result<()> {
        if t.segments
            .iter()
            .any(|s| s.attribution.source != AttributionSource::Channel)
        {
            return Ok(());
        }
        let provisional = provisional("first-pass");
        let facts = CallFacts {
            call_id: call.id,
            metadata: &call.metadata,
            duration_ms: call.audio.as_ref().map(|a| a.duration_ms),
        };
        let first = verify::verify(book, &provisional, t, &facts);
        let spans = verify::second_listen_spans(book, &first);
        if spans.is_empty() {
            return Ok(());
        }
        tracing::debug!(call = %call.id, ?spans, "second listen spans");
        let started = Instant::now();
        let first_pass = t.segments.clone();
        let mut opts = TranscribeOptions::new(&t.language, self.settings.threads);
        opts.beam_size = 5;
        // The beams' own best, doubtful or not: a sample drawn at a high temperature is no
        // closer listening, and it costs one decoding per temperature step.
        opts.fallback = false;
        let mut decoded_ms = 0u64;
        let mut beam: Vec<(u16, Vec<Segment>)> = Vec::new();
        for (ch, samples) in channels.iter().enumerate() {
            let Some((speaker, wanted)) = wanted_on(t, &spans, ch as u16) else {
                continue;
            };
            progress(&format!("second listen, channel {} ({speaker})", ch + 1));
            opts.only_ms = Some(wanted);
            opts.prompt = book.prompt_for(speaker);
            let mut heard = engine.transcribe(samples, speaker, ch as u16, &opts)?;
            for s in &heard {
                tracing::debug!(call = %call.id, channel = ch, start_ms = s.start_ms,
                    end_ms = s.end_ms, text = %s.text, "second listen heard");
            }
            if heard.is_empty() {
                continue;
            }
            beam.push((ch as u16, heard.clone()));
            agree_with_first_pass(&mut heard, &t.segments, ch as u16);
            decoded_ms += heard.iter().map(|s| s.end_ms - s.start_ms).sum::<u64>();
            // The new decoding replaces the first pass's words it heard again, word by word:
            // a first-pass segment may reach past the new ones (see `Segment::outside`).
            t.replace_heard(ch as u16, heard);
        }
        // A second decoding is not always a better one: where it lost words a finding was met
        // on ("on behalf of" became "on the half"), the first pass's segments come back.
        let second = verify::verify(book, &provisional, t, &facts);
        // Findings met on the first pass and not on the second lost their words. An assent met
        // on a loose match was heard again with the speech around it: all of that second
        // hearing goes, on the customer's side, not only its words over the match. Where the
        // second listen heard no agreement at all, the loose assent is also disputed: its words
        // come back marked as heard otherwise, so that the consent goes to a person.
        let mut lost: Vec<(Option<Speaker>, u64, u64)> = Vec::new();
        let mut disputed: Vec<(u64, u64)> = Vec::new();
        for (a, b) in first.findings.iter().zip(&second.findings) {
            let (Some(s), Some(e)) = (a.start_ms, a.end_ms) else {
                continue;
            };
            if a.status != FindingStatus::Pass || b.status == FindingStatus::Pass {
                continue;
            }
            if verify::loose_assent(a) {
                let around = verify::SECOND_LISTEN_AROUND_MS;
                lost.push((a.speaker, s.saturating_sub(around), e + around));
                if !verify::heard_agreeing(b) {
                    disputed.push((s, e));
                }
            } else {
                lost.push((None, s, e));
            }
        }
        if !lost.is_empty() {
            tracing::debug!(call = %call.id, ?lost, ?disputed,
                "second listen undone where it lost words a finding was met on");
        }
        t.give_back_first_pass(&first_pass, &lost, &disputed);
        let (tried, kept) =
            self.listen_at_other_paces(engine, (call, &facts), channels, book, &beam, t)?;
        let conversation_started = Instant::now();
        let (conversation_tried, conversation_kept) =
            self.listen_in_conversation(engine, (call, &facts), channels, book, t)?;
        tracing::info!(
            call = %call.id,
            spans = spans.len(),
            paced_tried = tried,
            paced_kept = kept,
            conversation_tried,
            conversation_kept,
            conversation_s = conversation_started.elapsed().as_secs_f64(),
            speech_s = decoded_ms as f64 / 1000.0,
            seconds = started.elapsed().as_secs_f64(),
            "second listen"
        );
        self.script_check(engine, (call, &facts), channels, book, t, progress)
    }

    /// The second listen at other paces ([`PACES`]): where a finding still needs review after
    /// the second listen, the speech its doubt rests on is heard again slowed down and sped
    /// up, with the same beams and prompt, and a stretch heard surer there
    /// ([`surer_stretches`]) stands where it only clears findings ([`only_clears`]): it may
    /// clear what the first hearings garbled ("The alarm system gusts for the PAN's demand"
    /// heard slowed down as "costs 40 pounds per month"), never accuse, never take away a
    /// forbidden phrase or a refusal. Surer is not always right: sped up, "a 14-day
    /// cancellation period" was heard, surer, as "a 14-week installation period". A stretch no
    /// pace heard surer stands where the hearing at each pace, on its own, clears the same
    /// finding ([`cleared_at_each`]). Says how many stretches were tried and how many stand.
    fn listen_at_other_paces(
        &self,
        engine: &Engine,
        (call, facts): (&Call, &CallFacts<'_>),
        channels: &[Vec<f32>],
        book: &RuleBook,
        beam: &[(u16, Vec<Segment>)],
        t: &mut Transcript,
    ) -> Result<(usize, usize)> {
        let provisional = provisional("second-listen");
        let mut now = verify::verify(book, &provisional, t, facts);
        let spans = verify::second_listen_spans(book, &in_review(&now));
        if spans.is_empty() {
            return Ok((0, 0));
        }
        let mut opts = TranscribeOptions::new(&t.language, self.settings.threads);
        opts.beam_size = 5;
        opts.fallback = false;
        let mut surer: Vec<(u16, Vec<Segment>)> = Vec::new();
        let mut at_each: Vec<(u16, Vec<Vec<Segment>>)> = Vec::new();
        for (ch, samples) in channels.iter().enumerate() {
            let ch = ch as u16;
            let Some((speaker, wanted)) = wanted_on(t, &spans, ch) else {
                continue;
            };
            opts.only_ms = Some(wanted);
            opts.prompt = book.prompt_for(speaker);
            let mut paced = Vec::new();
            for rate in PACES {
                let heard = paced_hearing(engine, samples, (speaker, ch), &opts, rate)?;
                for s in &heard {
                    tracing::debug!(call = %call.id, channel = ch, rate, start_ms = s.start_ms,
                        end_ms = s.end_ms, text = %s.text, "second listen heard at another pace");
                }
                paced.push(heard);
            }
            // Compared with the second listen's own hearing as it came out (before a word heard
            // the same by the first pass took the higher of the two probabilities), where it
            // heard this channel; weighed the same way once chosen.
            let ours: Vec<Segment> = match beam.iter().find(|(c, _)| *c == ch) {
                Some((_, heard)) => heard.clone(),
                None => t
                    .segments
                    .iter()
                    .filter(|s| s.channel == ch)
                    .cloned()
                    .collect(),
            };
            // Both ways of choosing look at the same stretches of the paced hearings.
            let stretches = overlapping(paced);
            for mut hearings in stretches_heard_at_each(&ours, &stretches, PACES.len()) {
                for stretch in &mut hearings {
                    agree_with_first_pass(stretch, &t.segments, ch);
                }
                at_each.push((ch, hearings));
            }
            for mut stretch in surer_stretches(&ours, &stretches) {
                agree_with_first_pass(&mut stretch, &t.segments, ch);
                surer.push((ch, stretch));
            }
        }
        let tried = surer.len();
        let mut kept = 0;
        for (ch, stretch) in surer {
            let mut with = t.clone();
            with.replace_heard(ch, stretch.clone());
            let then = verify::verify(book, &provisional, &with, facts);
            let clears = only_clears(&now.findings, &then.findings);
            tracing::debug!(call = %call.id, channel = ch, kept = clears,
                text = %stretch.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" "),
                "second listen: heard surer at another pace");
            if clears {
                *t = with;
                now = then;
                kept += 1;
            }
        }
        // A stretch no pace heard surer, where each pace's hearing clears the same finding
        // ("112 repars" heard "coupe 120 euros par heure" slowed down and "à 1000 coups 120
        // euros par an" sped up): two hearings of other sounds found the item there.
        let tried = tried + at_each.len();
        for (ch, hearings) in at_each {
            let tries: Vec<(Transcript, Verification)> = hearings
                .iter()
                .map(|stretch| {
                    let mut with = t.clone();
                    with.replace_heard(ch, stretch.clone());
                    let then = verify::verify(book, &provisional, &with, facts);
                    (with, then)
                })
                .collect();
            let thens: Vec<&[Finding]> = tries.iter().map(|(_, v)| v.findings.as_slice()).collect();
            let clears = cleared_at_each(&now.findings, &thens);
            let text: Vec<String> = hearings
                .iter()
                .map(|h| {
                    h.iter()
                        .map(|s| s.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            tracing::debug!(call = %call.id, channel = ch, kept = clears, text = %text.join(" | "),
                "second listen: heard at each other pace");
            if clears {
                // The surer of the hearings stands.
                let best = (0..hearings.len())
                    .max_by(|&a, &b| {
                        mean_probability(&hearings[a]).total_cmp(&mean_probability(&hearings[b]))
                    })
                    .unwrap_or(0);
                if let Some((with, then)) = tries.into_iter().nth(best) {
                    *t = with;
                    now = then;
                    kept += 1;
                }
            }
        }
        Ok((tried, kept))
    }

    /// Last in the second listen, on a stereo call: the speech that findings still need
    /// reviewed for, after the paces, heard in the whole conversation
    /// ([`conversation_hearing`]: both channels mixed, with the 20 s before and 5 s after), once
    /// for both channels. A stretch of a channel heard surer there than what now stands is kept
    /// where it clears a finding and changes no other for the worse: heard with the question
    /// before it, a reply garbled on its own channel ("Nous sommes là.") can come out as said
    /// ("Oui, ça me va."). Decoded only over what the paces left in review, so that a call they
    /// cleared pays nothing more. Says how many stretches were tried and how many stand.
    fn listen_in_conversation(
        &self,
        engine: &Engine,
        (call, facts): (&Call, &CallFacts<'_>),
        channels: &[Vec<f32>],
        book: &RuleBook,
        t: &mut Transcript,
    ) -> Result<(usize, usize)> {
        if channels.len() != 2 {
            return Ok((0, 0));
        }
        let provisional = provisional("second-listen");
        let mut now = verify::verify(book, &provisional, t, facts);
        let spans = verify::second_listen_spans(book, &in_review(&now));
        let wanted: Vec<Wanted> = (0..channels.len() as u16)
            .filter_map(|ch| wanted_on(t, &spans, ch).map(|(speaker, w)| (ch, speaker, w)))
            .collect();
        if wanted.is_empty() {
            return Ok((0, 0));
        }
        let (mixed, turns) = conversation_of(channels);
        let heard =
            conversation_hearing(engine, &mixed, &wanted, &t.language, self.settings.threads)?;
        for s in &heard {
            tracing::debug!(call = %call.id, start_ms = s.start_ms, end_ms = s.end_ms,
                text = %s.text, "second listen heard in the conversation");
        }
        let (mut tried, mut kept) = (0, 0);
        for (ch, speaker, w) in &wanted {
            let ch = *ch;
            let theirs = words_of_channel(heard.clone(), &turns, (*speaker, ch), w);
            let ours: Vec<Segment> = t
                .segments
                .iter()
                .filter(|s| s.channel == ch)
                .cloned()
                .collect();
            for mut stretch in surer_stretches(&ours, &overlapping(vec![theirs])) {
                tried += 1;
                agree_with_first_pass(&mut stretch, &t.segments, ch);
                let mut with = t.clone();
                with.replace_heard(ch, stretch.clone());
                let then = verify::verify(book, &provisional, &with, facts);
                let clears = cleared_at_each(&now.findings, &[then.findings.as_slice()]);
                tracing::debug!(call = %call.id, channel = ch, kept = clears,
                    text = %stretch.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" "),
                    "second listen: heard surer in the conversation");
                if clears {
                    *t = with;
                    now = then;
                    kept += 1;
                }
            }
        }
        Ok((tried, kept))
    }

    /// The script check, after the second listen: where a finding still needs review because
    /// the words it rests on were garbled, the model hears those segments again by itself (no
    /// prompt: only the audio speaks) and scores, by forced decoding, that hearing against the
    /// same hearing with each of the rule's phrasings in place of the words most like it. A
    /// reading the recording supports about as well ([`SCRIPT_READING_MARGIN`]), or nearly so
    /// ([`NEAR_READING_FLOOR`]) at this pace and at both others, replaces the garbled words in
    /// the transcript, what was first heard kept beside it. It can only clear
    /// a finding: forbidden phrases are never read in.
    fn script_check(
        &self,
        engine: &Engine,
        (call, facts): (&Call, &CallFacts<'_>),
        channels: &[Vec<f32>],
        book: &RuleBook,
        t: &mut Transcript,
        progress: &StageProgress,
    ) -> Result<()> {
        let provisional = provisional("script-check");
        let v = verify::verify(book, &provisional, t, facts);
        let readings = verify::script_readings(book, t, &v);
        let numbers = verify::number_places(book, t, &v);
        if readings.is_empty() && numbers.is_empty() {
            return Ok(());
        }
        progress("script check");
        let started = Instant::now();
        // Items found missing with confidence: an accusation, which a reading the recording
        // nearly supports ([`NEAR_READING_FLOOR`]) holds back.
        let accusing: Vec<&str> = v
            .findings
            .iter()
            .filter(|f| {
                f.status == FindingStatus::Fail
                    && f.outcome == Outcome::Missing
                    && f.start_ms.is_none()
            })
            .map(|f| f.rule_id.as_str())
            .collect();
        let mut near: Vec<NearReading> = Vec::new();
        // Readings of one stretch share its audio and the recogniser's own reading.
        let mut groups: Vec<Vec<&verify::ScriptReading>> = Vec::new();
        for r in &readings {
            match groups.iter_mut().find(|g| {
                g[0].channel == r.channel && g[0].window == r.window && g[0].heard == r.heard
            }) {
                // Two places of one stretch can give the same reading: scored once. The same
                // phrasing at two places is two readings ("par e-mail" for "par mois" and for
                // "par pmeine" in one sentence): only one of them is what was said.
                Some(g) if g.iter().any(|o| o.script == r.script) => {}
                Some(g) => g.push(r),
                None => groups.push(vec![r]),
            }
        }
        // Each stretch heard once and its readings weighed; the readings are put in place only
        // once every stretch has been weighed, each rule's best first, wherever it was made: in
        // stretch order, a reading past the margin ("par mail" over the agent's closing
        // "parfait", 8.8 nats below) cleared the item before the stretch that held it word for
        // word ("par courrier", heard so by the model alone) was reached.
        // Only the last stretch heard stays encoded (each whisper.cpp state holds its buffers,
        // a hundred MiB and more: all of them kept took 761 → 1111 MiB on unseen 2); one
        // needed again is encoded again ([`Listened`]).
        let mut heard: Vec<HeardStretch<'_>> = Vec::new();
        let mut listened: Option<Listened<'_>> = None;
        // (stretch, reading made at the place, phrasing, gap, made at the reading's own place)
        // for each phrasing weighed; a phrasing the model's own hearing holds word for word
        // weighs nothing against it.
        let mut weighed: Vec<(usize, &verify::ScriptReading, String, f32, bool)> = Vec::new();
        let mut rules: Vec<&str> = Vec::new();
        for group in groups {
            let first = group[0];
            let Some(samples) = channels.get(first.channel as usize) else {
                continue;
            };
            let window = (first.window.0.saturating_sub(200), first.window.1 + 200);
            // The model's own hearing of the stretch, alone and without prompt, against the
            // same hearing with each phrasing where the transcript heard something like it
            // (and whether the reading was made at that place).
            listened = None;
            let mut listening =
                engine.listen(samples, window, &t.language, self.settings.threads, true)?;
            let Some(own) = listening.own().cloned() else {
                continue;
            };
            let (texts, at_place): (Vec<String>, Vec<bool>) = group
                .iter()
                .map(|r| verify::substitute_at(&own.text, r))
                .unzip();
            // Scored far enough to tell: a reading is given up once it falls further below
            // than a reading the recording does not rule out ([`NEAR_READING_FLOOR`]): one
            // that falls past the margin, but not that far, may still stand where it is heard
            // so at the other paces too. A reading that may only hold an accusation back counts
            // only within the margin and at least as likely a token as the own hearing: it is
            // given up at either.
            let scores = texts
                .iter()
                .zip(&group)
                .map(|(text, r)| {
                    if r.hold_back_only {
                        listening.score_as_likely(text, SCRIPT_READING_MARGIN, own.mean())
                    } else {
                        listening.score(text, Some(NEAR_READING_FLOOR))
                    }
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let at = heard.len();
            for ((r, s), &placed) in group.iter().zip(&scores).zip(&at_place) {
                let gap = s.logprob - own.logprob;
                tracing::debug!(
                    call = %call.id,
                    rule = %r.rule_id,
                    phrase = %r.phrase,
                    gap,
                    mean_gap = s.mean() - own.mean(),
                    own_tokens = own.tokens,
                    tokens = s.tokens,
                    complete = s.complete,
                    own = %own.text,
                    reading = %s.text,
                    heard = %r.heard,
                    own_words = %word_probs(&own.words),
                    words = %word_probs(&s.words),
                    "script reading"
                );
                // Over words heard with confidence, the recording must support the phrasing
                // about as well as what was heard ([`SCRIPT_READING_MARGIN`]), not merely leave
                // room for it ("je m'appelle" in place of a confident "je vous appelle" came
                // 6.5 nats below, on a call where no name was given), and token for token at
                // least as well: a likelihood favours fewer tokens, and "has been recorded" in
                // place of a garbled "Northern Houghton's offenders" came 0.6 nats above in all
                // but 0.24 below a token, on a call that never said it was recorded. ("au nom
                // de" for "honnante de": 12.4 above, 0.34 a token.)
                let supported = if r.hold_back_only {
                    s.complete && gap >= -SCRIPT_READING_MARGIN && s.mean() >= own.mean()
                } else {
                    gap >= -NEAR_READING_FLOOR
                };
                if accusing.contains(&r.rule_id.as_str()) && supported {
                    near.push(NearReading {
                        rule_id: r.rule_id.clone(),
                        phrasing: r.phrase.clone(),
                        speaker: speaker_at(t, r.channel, r.replaced),
                        channel: r.channel,
                        start_ms: r.replaced.0,
                        end_ms: r.replaced.1,
                        nats_below: -gap.min(0.0),
                    });
                }
                // Read over words heard with confidence: it may hold an accusation back
                // (above), never put the item in place.
                if r.hold_back_only {
                    continue;
                }
                weighed.push((at, *r, r.phrase.clone(), gap, placed));
                if !rules.contains(&r.rule_id.as_str()) {
                    rules.push(r.rule_id.as_str());
                }
            }
            let mut group_rules: Vec<&str> = group
                .iter()
                .filter(|r| !r.hold_back_only)
                .map(|r| r.rule_id.as_str())
                .collect();
            group_rules.sort_unstable();
            group_rules.dedup();
            for rule in group_rules {
                let Some(r) = group
                    .iter()
                    .find(|r| r.rule_id == rule && !r.hold_back_only)
                else {
                    continue;
                };
                for phrase in verify::phrasings_heard(book, rule, &own.text) {
                    tracing::debug!(call = %call.id, rule, %phrase, own = %own.text,
                        "script reading: heard by the model alone");
                    weighed.push((at, *r, phrase, 0.0, false));
                }
            }
            listened = Some(Listened {
                at: heard.len(),
                listening,
                paced: None,
            });
            heard.push(HeardStretch {
                own,
                samples,
                window,
            });
        }
        // For each rule, the best reading within the margin that takes no other finding's
        // words, put at the transcript's words it was made for (a phrasing the model's own
        // hearing holds, or a reading made where the letters came closest: where that
        // hearing has it, else at the place the reading was made for).
        //
        // A reading past the margin but within [`NEAR_READING_FLOOR`] stands only where the
        // model, hearing the stretch at each other pace ([`PACES`]), finds it within that
        // floor of its own hearing there too: the recording is heard three ways, and each
        // must leave room for the script's words. On the four labelled sets, the one
        // reading of an item not said within the floor fell 10.1 nats below at one pace;
        // the six of garbled items said that stood stayed within 9.7 at both (BENCHMARKS.md,
        // "Readings heard at each pace").
        let mut accepted = 0;
        for rule in rules {
            let mut fitting: Vec<&(usize, &verify::ScriptReading, String, f32, bool)> = weighed
                .iter()
                .filter(|w| w.1.rule_id == rule && w.3 >= -NEAR_READING_FLOOR)
                .collect();
            // The likeliest first; at equal gaps (phrasings the model's own hearing holds),
            // the stretch heard first.
            fitting.sort_by(|a, b| b.3.total_cmp(&a.3).then(a.0.cmp(&b.0)));
            for (at, r, phrase, gap, placed) in fitting {
                let stretch = &heard[*at];
                if listened.as_ref().is_some_and(|l| l.at != *at) {
                    // Freed before the next is encoded: one state at a time.
                    listened = None;
                }
                let here = match &mut listened {
                    Some(l) if l.at == *at => l,
                    _ => listened.insert(Listened {
                        at: *at,
                        listening: engine.listen(
                            stretch.samples,
                            stretch.window,
                            &t.language,
                            self.settings.threads,
                            false,
                        )?,
                        paced: None,
                    }),
                };
                if *gap < -SCRIPT_READING_MARGIN {
                    let listenings = match &mut here.paced {
                        Some(p) => p,
                        None => here.paced.insert(paced_listenings(
                            engine,
                            stretch.samples,
                            stretch.window,
                            &t.language,
                            self.settings.threads,
                        )?),
                    };
                    let gaps = paced_gaps(listenings, r)?;
                    let each = heard_so_at_each_pace(&gaps);
                    tracing::debug!(call = %call.id, rule, %phrase, gap, ?gaps, each,
                        "script reading past the margin, heard at the other paces");
                    if !each {
                        continue;
                    }
                }
                // A reading made at the transcript's place goes there; another where the
                // model's own hearing has the phrasing.
                let reading = if *placed {
                    Some((*r).clone())
                } else {
                    verify::own_reading(t, rule, (r.channel, r.window), &stretch.own.text, phrase)
                        .or_else(|| (r.phrase == *phrase).then(|| (*r).clone()))
                };
                let Some(reading) = reading else {
                    continue;
                };
                // The words put in place get the probability the model gave the
                // phrasing's words in its reading.
                let probs: Vec<f32> = here
                    .listening
                    .score(&reading.script, None)?
                    .words
                    .iter()
                    .map(|w| w.1)
                    .collect();
                if verify::apply_clearing(book, facts, t, &reading, &probs) {
                    accepted += 1;
                    break;
                }
                tracing::debug!(call = %call.id, rule, %phrase,
                    "script reading left out: it clears nothing, or another finding would lose its words");
            }
        }
        let (number_tried, number_accepted) =
            self.read_numbers(engine, (call, facts), channels, (book, &numbers), t)?;
        accepted += number_accepted;
        // The nearest reading of each item, kept with the transcript: verification holds the
        // accusation back where the item is still missing (`NearReading`).
        let before = t.near_readings.len();
        keep_nearest(t, near);
        for n in &t.near_readings[before..] {
            tracing::debug!(call = %call.id, rule = %n.rule_id, phrasing = %n.phrasing,
                nats_below = n.nats_below, "script check: a reading nearly supported");
        }
        t.segments.sort_by_key(|s| (s.start_ms, s.channel));
        tracing::info!(
            call = %call.id,
            readings = readings.len(),
            number_readings = number_tried,
            accepted,
            seconds = started.elapsed().as_secs_f64(),
            "script check"
        );
        Ok(())
    }

    /// The script check's number readings: for each place a required item with a number (a
    /// price) was expected but not found, the model's own hearing with each phrasing ("{number}
    /// euros") where a number is likeliest to begin, the number and what follows its own, each
    /// weighed against the same hearing free from that place. A reading within
    /// [`SCRIPT_READING_MARGIN`] is put in place. Returns the readings tried and put in place.
    fn read_numbers(
        &self,
        engine: &Engine,
        (call, facts): (&Call, &CallFacts<'_>),
        channels: &[Vec<f32>],
        (book, numbers): (&RuleBook, &[verify::NumberPlace]),
        t: &mut Transcript,
    ) -> Result<(usize, usize)> {
        let (mut number_tried, mut accepted) = (0, 0);
        // Places of several rules in one window (a price and a withdrawal period expected in
        // the same least-confident stretch) share the model's hearing of it: one decoding and
        // one scoring for all their phrasings, instead of one per rule (a 4-minute call
        // decoded each of its three windows twice).
        let mut windows: Vec<Vec<&verify::NumberPlace>> = Vec::new();
        for place in numbers {
            match windows
                .iter_mut()
                .find(|w| w[0].channel == place.channel && w[0].window == place.window)
            {
                Some(w) => w.push(place),
                None => windows.push(vec![place]),
            }
        }
        for places in windows {
            let first = places[0];
            let Some(samples) = channels.get(first.channel as usize) else {
                continue;
            };
            let window = (first.window.0.saturating_sub(200), first.window.1 + 200);
            let mut listening =
                engine.listen(samples, window, &t.language, self.settings.threads, true)?;
            let Some(own) = listening.own().cloned() else {
                continue;
            };
            // The readings made, each with its place among `places`, and how likely the model
            // found a number beginning where it was made (and how far behind the likeliest
            // token there).
            let (made, here): (Vec<_>, Vec<(f32, f32)>) = {
                let hearing = listening.hearing();
                // How surely the model heard each word of its hearing (none where its words
                // and the text's do not line up).
                let heard: Vec<f32> = if own.words.len() == hearing.text.split_whitespace().count()
                {
                    own.words.iter().map(|w| w.1).collect()
                } else {
                    Vec::new()
                };
                let made: Vec<(usize, verify::NumberText)> = places
                    .iter()
                    .enumerate()
                    .flat_map(|(i, place)| {
                        verify::number_readings(
                            hearing.text,
                            (&hearing.number_here, &hearing.number_behind, &heard),
                            &place.phrases,
                            SCRIPT_READING_MARGIN,
                        )
                        .into_iter()
                        .map(move |n| (i, n))
                    })
                    .collect();
                let here = made
                    .iter()
                    .map(|(_, n)| {
                        let k = n.words.1.checked_sub(1);
                        let at = |v: &[f32]| {
                            k.and_then(|k| v.get(k))
                                .copied()
                                .unwrap_or(f32::NEG_INFINITY)
                        };
                        (at(&hearing.number_here), at(&hearing.number_behind))
                    })
                    .collect();
                (made, here)
            };
            number_tried += made.len();
            let scores = made
                .iter()
                .map(|(_, n)| listening.score(&n.text, Some(SCRIPT_READING_MARGIN)))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            // Each reading weighed against the model's own hearing up to the same place and
            // then, as the reading, free: the two differ by the phrasing only (a free rest may
            // score better than the first hearing's words). One baseline per place, shared by
            // the phrasings read there, and scored only where a reading there was not given up:
            // one that was is refused whatever its baseline.
            let mut baselines: Vec<(String, callproof_transcribe::ReadingScore)> = Vec::new();
            let mut free_of: Vec<Option<usize>> = Vec::with_capacity(made.len());
            for ((_, n), s) in made.iter().zip(&scores) {
                if !s.complete {
                    free_of.push(None);
                    continue;
                }
                let base = verify::number_baseline(&own.text, n);
                match baselines.iter().position(|(b, _)| *b == base) {
                    Some(i) => free_of.push(Some(i)),
                    None => {
                        let scored = listening.score(&base, Some(SCRIPT_READING_MARGIN))?;
                        free_of.push(Some(baselines.len()));
                        baselines.push((base, scored));
                    }
                }
            }
            for (i, place) in places.iter().enumerate() {
                let best = made
                    .iter()
                    .zip(&scores)
                    .zip(&free_of)
                    .zip(&here)
                    .filter(|((((at, _), _), _), _)| *at == i)
                    .filter_map(|((((_, n), s), free), &here)| {
                        let free = free.and_then(|b| baselines.get(b)).map(|(_, f)| f.logprob);
                        let gap = s.logprob - free.map_or(own.logprob, |f| own.logprob.max(f));
                        // A reading that leaves the rest of the stretch unheard is no reading
                        // of it, however likely; nor one whose rest never ended (a loop).
                        let whole = s.complete && verify::hears_it_all(&own.text, &s.text);
                        tracing::debug!(
                            call = %call.id,
                            rule = %place.rule_id,
                            phrase = %n.phrase,
                            gap,
                            whole,
                            number_here = here.0,
                            number_behind = here.1,
                            own = %own.text,
                            free_gap = free.map(|f| f - own.logprob),
                            complete = s.complete,
                            reading = %s.text,
                            "number reading"
                        );
                        whole.then_some((n, s, gap))
                    })
                    .max_by(|a, b| a.2.total_cmp(&b.2));
                let Some((n, s, gap)) = best else { continue };
                if gap < -SCRIPT_READING_MARGIN {
                    continue;
                }
                let Some(r) = verify::number_reading(t, place, &own.text, n, &s.text) else {
                    tracing::debug!(call = %call.id, rule = %place.rule_id, reading = %s.text,
                        "number reading: no words of the transcript like those it replaced");
                    continue;
                };
                // The words put in place get the probability the model gave them in the
                // reading it accepted (the number's own, often low, stays visible).
                let put = r.phrase.split_whitespace().count();
                let mut probs = vec![0.0; r.script.split_whitespace().count()];
                if s.words.len() == s.text.split_whitespace().count() {
                    for (k, w) in s.words.iter().skip(n.words.0).take(put).enumerate() {
                        if let Some(p) = probs.get_mut(r.words.0 + k) {
                            *p = w.1;
                        }
                    }
                }
                if verify::apply_clearing(book, facts, t, &r, &probs) {
                    accepted += 1;
                }
            }
        }
        Ok((number_tried, accepted))
    }

    /// Indexes a transcript, waiting if another process holds the index writer.
    pub fn index_transcript(
        &self,
        t: &Transcript,
        call: &Call,
        verification: Option<&Verification>,
    ) -> Result<()> {
        self.write_index(|index| index.index_call(t, &call.metadata, verification))
    }

    /// Runs `write` with the search index's writer to itself: one writer at a time in this
    /// process, and a wait of up to a minute while another process holds it (a worker
    /// indexing a call, a node following the change log). An erasure once failed with "the
    /// search index is in use" because it did not wait.
    pub(crate) fn write_index<T>(
        &self,
        write: impl Fn(&SearchIndex) -> std::result::Result<T, SearchError>,
    ) -> Result<T> {
        let _guard = self.index_lock.lock().unwrap_or_else(|p| p.into_inner());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match write(&self.index) {
                Err(SearchError::Locked) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(250));
                }
                other => return Ok(other?),
            }
        }
    }
}

/// The rule set a verification made between two stages of transcription is marked with (it is
/// never stored: only the verification of the finished transcript is): `stage` names the stage.
fn provisional(stage: &str) -> RuleSetRef {
    RuleSetRef {
        id: stage.into(),
        version: 0,
        sha256: String::new(),
        builtin: true,
    }
}

/// `v` with only its findings that need review: what is still in doubt, to hear again.
fn in_review(v: &Verification) -> Verification {
    Verification {
        findings: v
            .findings
            .iter()
            .filter(|f| f.status == FindingStatus::Review)
            .cloned()
            .collect(),
        ..v.clone()
    }
}

/// Who speaks on `channel` and the stretches of `spans` (ms) that are theirs to hear again;
/// `None` for a channel without speech or with nothing to hear again.
fn wanted_on(
    t: &Transcript,
    spans: &[(Speaker, u64, u64)],
    channel: u16,
) -> Option<(Speaker, Vec<(u64, u64)>)> {
    let speaker = t.segments.iter().find(|s| s.channel == channel)?.speaker;
    let wanted: Vec<(u64, u64)> = spans
        .iter()
        .filter(|(who, _, _)| *who == speaker || *who == Speaker::Unknown)
        .map(|&(_, s, e)| (s, e))
        .collect();
    (!wanted.is_empty()).then_some((speaker, wanted))
}

/// Rates (Hz) at which the second listen also reads a channel's 16 kHz samples, each read back
/// at 16 kHz: the same speech 10 % slower and 10 % faster (and lower and higher). Whisper's
/// mishearings depend on the exact sound: slowed down, "vos procrets d'y automobiles" was heard
/// "votre crédit automobile".
const PACES: [u32; 2] = [17_600, 14_400];

/// The speech of `opts.only_ms` heard again at another pace (`rate`, see [`PACES`]), its times
/// brought back to the channel's clock.
fn paced_hearing(
    engine: &Engine,
    samples: &[f32],
    (speaker, channel): (Speaker, u16),
    opts: &TranscribeOptions,
    rate: u32,
) -> Result<Vec<Segment>> {
    let paced = callproof_ingest::resample(samples, callproof_ingest::TARGET_RATE, rate)?;
    let there = |ms: u64| at_pace(ms, rate);
    let mut opts = opts.clone();
    opts.only_ms = opts.only_ms.map(|spans| {
        spans
            .into_iter()
            .map(|(s, e)| (there(s), there(e)))
            .collect()
    });
    let mut heard = engine.transcribe(&paced, speaker, channel, &opts)?;
    on_channel_clock(&mut heard, rate);
    Ok(heard)
}

/// Where a time on the channel's clock falls in the channel resampled to `rate` and read at
/// 16 kHz.
fn at_pace(ms: u64, rate: u32) -> u64 {
    ms * u64::from(rate) / u64::from(callproof_ingest::TARGET_RATE)
}

/// A stereo call as one conversation: its channels mixed into one track (each brought to the
/// same loudness first, so that a quiet customer line is not lost under the agent's), and who
/// speaks when, read from the channels' own levels: a 10 ms frame is a channel's where that
/// channel is at least [`OWN_FRAME_DB`] above its background and louder, over its own
/// background, than the other by as much.
fn conversation_of(channels: &[Vec<f32>]) -> (Vec<f32>, callproof_diarize::Diarization) {
    let len = channels.iter().map(Vec::len).max().unwrap_or(0);
    let mut mixed = vec![0f32; len];
    for samples in channels {
        let mut peaks: Vec<f32> = samples.iter().step_by(8).map(|x| x.abs()).collect();
        peaks.sort_by(f32::total_cmp);
        let peak = peaks
            .get(peaks.len().saturating_sub(1) * 995 / 1000)
            .copied()
            .unwrap_or(0.0);
        let gain = if peak > 0.0 {
            (0.5 / peak).min(10.0)
        } else {
            0.0
        };
        for (m, x) in mixed.iter_mut().zip(samples) {
            *m += x * gain / channels.len() as f32;
        }
    }
    let louder: Vec<Vec<f32>> = channels
        .iter()
        .map(
            |samples| match callproof_transcribe::speech::Loudness::of(samples) {
                Some(l) => l.levels.iter().map(|v| v - l.floor).collect(),
                None => Vec::new(),
            },
        )
        .collect();
    // Loudness frames are 20 ms, diarization frames 10 ms.
    let frames = len.div_ceil(160);
    let owner = |t: usize| -> Option<(usize, f32)> {
        let at: Vec<f32> = louder
            .iter()
            .map(|l| l.get(t / 2).copied().unwrap_or(0.0))
            .collect();
        let (k, best) = at.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
        let other = at
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != k)
            .map(|(_, v)| *v)
            .fold(f32::MIN, f32::max);
        // The other's level counts from its background up: ahead of it is above one's own.
        (*best - other.max(0.0) >= OWN_FRAME_DB).then_some((k, 1.0))
    };
    let d = callproof_diarize::Diarization {
        speakers: channels.len(),
        turns: Vec::new(),
        frames: (0..frames).map(owner).collect(),
        closest_speakers: 0.0,
    };
    (mixed, d)
}

/// How far (dB) above its background, and above the other channel, a channel must be in a
/// frame for the speech there to be its own.
const OWN_FRAME_DB: f32 = 10.0;

/// How much of the conversation around a stretch is heard with it: the question before an
/// answer, and what follows it, let the recogniser hear a short reply as a reply.
const CONVERSATION_BEFORE_MS: u64 = 20_000;
const CONVERSATION_AFTER_MS: u64 = 5_000;

/// The same for the agent's own words: the agent's sentence is context enough (the agent does
/// not answer the customer in a word or two), and the 25 s a stretch took made the
/// conversation's hearing about a first pass of each call it reached, for the agent's
/// stretches nearly always in vain (2 kept of 23 heard surer over twelve sets).
const AGENT_CONTEXT_BEFORE_MS: u64 = 5_000;
const AGENT_CONTEXT_AFTER_MS: u64 = 2_000;

/// A channel, who speaks on it, and the stretches of it (ms) to hear again ([`wanted_on`]).
type Wanted = (u16, Speaker, Vec<(u64, u64)>);

/// The stretches of the conversation to hear for what the channels of `wanted` need heard
/// again: each with the [`CONVERSATION_BEFORE_MS`] before it and [`CONVERSATION_AFTER_MS`]
/// after (the agent's with [`AGENT_CONTEXT_BEFORE_MS`] and [`AGENT_CONTEXT_AFTER_MS`]),
/// whichever channel wants it, those that meet made one, in order.
fn conversation_windows(wanted: &[Wanted]) -> Vec<(u64, u64)> {
    let mut windows: Vec<(u64, u64)> = wanted
        .iter()
        .flat_map(|(_, speaker, w)| {
            let (before, after) = if *speaker == Speaker::Agent {
                (AGENT_CONTEXT_BEFORE_MS, AGENT_CONTEXT_AFTER_MS)
            } else {
                (CONVERSATION_BEFORE_MS, CONVERSATION_AFTER_MS)
            };
            w.iter()
                .map(move |&(s, e)| (s.saturating_sub(before), e + after))
        })
        .collect();
    windows.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (s, e) in windows {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// The conversation `mixed` ([`conversation_of`]) heard over the stretches each channel of
/// `wanted` needs heard again, with the speech around them ([`conversation_windows`]), in one
/// decoding for both channels: where both want a stretch, the same speech is not decoded twice.
/// Greedy and without a prompt, as the first pass (a prompt of the agent's words put its kind
/// of text in the customer's mouth). Its pauses are kept as a customer's where the customer's
/// replies are among what is wanted (their short answers keep their silences, see `JoinPause`).
fn conversation_hearing(
    engine: &Engine,
    mixed: &[f32],
    wanted: &[Wanted],
    language: &str,
    threads: usize,
) -> Result<Vec<Segment>> {
    let speaker = if wanted.iter().any(|(_, s, _)| *s == Speaker::Customer) {
        Speaker::Customer
    } else {
        wanted.first().map_or(Speaker::Unknown, |(_, s, _)| *s)
    };
    let mut opts = TranscribeOptions::new(language, threads);
    opts.only_ms = Some(conversation_windows(wanted));
    Ok(engine.transcribe(mixed, speaker, 0, &opts)?)
}

/// The words of the conversation's hearing `heard` that `turns` give wholly to `channel`, as
/// that channel's segments (cut where a word is not its own), kept where they overlap `wanted`.
fn words_of_channel(
    heard: Vec<Segment>,
    turns: &callproof_diarize::Diarization,
    (speaker, channel): (Speaker, u16),
    wanted: &[(u64, u64)],
) -> Vec<Segment> {
    let mut out = Vec::new();
    for seg in heard {
        let mut run: Vec<callproof_models::Word> = Vec::new();
        let mut flush = |run: &mut Vec<callproof_models::Word>| {
            if let (Some(first), Some(last)) = (run.first(), run.last()) {
                out.push(Segment {
                    speaker,
                    channel,
                    start_ms: first.start_ms,
                    end_ms: last.end_ms,
                    text: run
                        .iter()
                        .map(|w| w.text.trim())
                        .collect::<Vec<_>>()
                        .join(" "),
                    avg_logprob: seg.avg_logprob,
                    no_speech_prob: seg.no_speech_prob,
                    words: std::mem::take(run),
                    attribution: Attribution::CHANNEL,
                    second_listen: true,
                    heard_first: None,
                    disputed: false,
                });
            }
        };
        for w in &seg.words {
            let own = turns
                .speaker_of(w.start_ms, w.end_ms.max(w.start_ms + 10))
                .is_some_and(|(k, c)| k == usize::from(channel) && c >= OWN_WORD_SHARE);
            if own {
                run.push(w.clone());
            } else {
                flush(&mut run);
            }
        }
        flush(&mut run);
    }
    out.retain(|s| wanted.iter().any(|&(a, b)| s.start_ms < b && a < s.end_ms));
    out
}

/// The share of a word's speech frames its channel must hold for the word to be that
/// channel's in the conversation's hearing (a word in silence, placed by the nearest speech,
/// counts half: it is nobody's).
const OWN_WORD_SHARE: f32 = 0.9;

/// Brings the times of segments heard on a channel resampled to `rate` (and read at 16 kHz)
/// back to the channel's own clock.
fn on_channel_clock(heard: &mut [Segment], rate: u32) {
    let back = |ms: u64| ms * u64::from(callproof_ingest::TARGET_RATE) / u64::from(rate);
    for s in heard {
        s.start_ms = back(s.start_ms);
        s.end_ms = back(s.end_ms);
        for w in &mut s.words {
            w.start_ms = back(w.start_ms);
            w.end_ms = back(w.end_ms);
        }
    }
}

/// The segments of several hearings of the same speech, each with the index of its hearing, in
/// stretches: segments that overlap in time, whichever hearing they come from, make one.
fn overlapping(hearings: Vec<Vec<Segment>>) -> Vec<Vec<(usize, Segment)>> {
    let mut all: Vec<(usize, Segment)> = Vec::new();
    for (i, hearing) in hearings.into_iter().enumerate() {
        all.extend(hearing.into_iter().map(|s| (i, s)));
    }
    all.sort_by_key(|(_, s)| (s.start_ms, s.end_ms));
    let mut stretches: Vec<Vec<(usize, Segment)>> = Vec::new();
    let mut end = 0;
    for (from, s) in all {
        match stretches.last_mut() {
            Some(last) if s.start_ms < end => {
                end = end.max(s.end_ms);
                last.push((from, s));
            }
            _ => {
                end = s.end_ms;
                stretches.push(vec![(from, s)]);
            }
        }
    }
    stretches
}

/// The mean probability of the words of `heard`; 0 without words.
fn mean_probability(heard: &[Segment]) -> f32 {
    let p: Vec<f32> = heard
        .iter()
        .flat_map(|s| s.words.iter().map(|w| w.probability))
        .collect();
    p.iter().sum::<f32>() / p.len().max(1) as f32
}

/// Stretch by stretch (`stretches`, as [`overlapping`] makes them of `hearings` hearings), each
/// hearing's segments there, where every one of them heard words there and so did `ours`.
fn stretches_heard_at_each(
    ours: &[Segment],
    stretches: &[Vec<(usize, Segment)>],
    hearings: usize,
) -> Vec<Vec<Vec<Segment>>> {
    stretches
        .iter()
        .filter_map(|stretch| {
            let lo = stretch.iter().map(|(_, s)| s.start_ms).min()?;
            let hi = stretch.iter().map(|(_, s)| s.end_ms).max()?;
            let heard_by_us = ours
                .iter()
                .flat_map(|s| &s.words)
                .any(|w| w.start_ms < hi && lo < w.end_ms);
            let each_heard: Vec<Vec<Segment>> = (0..hearings)
                .map(|i| {
                    stretch
                        .iter()
                        .filter(|(f, _)| *f == i)
                        .map(|(_, s)| s.clone())
                        .collect()
                })
                .collect();
            let each = each_heard
                .iter()
                .all(|h: &Vec<Segment>| h.iter().any(|s| !s.words.is_empty()));
            (heard_by_us && each && hearings > 1).then_some(each_heard)
        })
        .collect()
}

/// Whether each of `thens` clears findings of `now` and only that ([`only_clears`]), and one
/// finding at least is cleared by every one of them.
fn cleared_at_each(now: &[Finding], thens: &[&[Finding]]) -> bool {
    !thens.is_empty()
        && thens.iter().all(|then| only_clears(now, then))
        && (0..now.len()).any(|i| {
            now[i].status != FindingStatus::Pass
                && thens
                    .iter()
                    .all(|then| then.get(i).is_some_and(|f| f.status == FindingStatus::Pass))
        })
}

/// Where other hearings of the same speech were surer than `ours`: stretch by stretch
/// (`stretches`, as [`overlapping`] makes them of the other hearings), the segments of the hearing
/// whose words were heard with the highest mean probability, against the words of `ours` over
/// the same time, where that is not `ours`. A hearing with fewer than three quarters of
/// `ours`'s words there is no surer (it may have left the hard words out); a stretch where
/// `ours` heard nothing is left alone.
fn surer_stretches(ours: &[Segment], stretches: &[Vec<(usize, Segment)>]) -> Vec<Vec<Segment>> {
    let mean = |probs: Vec<f32>| {
        (
            probs.len(),
            probs.iter().sum::<f32>() / probs.len().max(1) as f32,
        )
    };
    let mut surer = Vec::new();
    for stretch in stretches {
        let hearings: Vec<usize> = {
            let mut h: Vec<usize> = stretch.iter().map(|(f, _)| *f).collect();
            h.dedup();
            h.sort_unstable();
            h.dedup();
            h
        };
        let best = hearings
            .into_iter()
            .filter_map(|from| {
                let segs: Vec<&Segment> = stretch
                    .iter()
                    .filter(|(f, _)| *f == from)
                    .map(|(_, s)| s)
                    .collect();
                let within = |w: &callproof_models::Word| {
                    let mid = (w.start_ms + w.end_ms) / 2;
                    segs.iter().any(|s| s.start_ms <= mid && mid < s.end_ms)
                };
                let (n, before) = mean(
                    ours.iter()
                        .flat_map(|s| &s.words)
                        .filter(|w| within(w))
                        .map(|w| w.probability)
                        .collect(),
                );
                let (m, now) = mean(
                    segs.iter()
                        .flat_map(|s| s.words.iter().map(|w| w.probability))
                        .collect(),
                );
                (n > 0 && m * 4 >= n * 3 && now > before).then_some((from, now - before))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((from, _)) = best {
            surer.push(
                stretch
                    .iter()
                    .filter(|(f, _)| *f == from)
                    .map(|(_, s)| s.clone())
                    .collect(),
            );
        }
    }
    surer
}

/// Whether `then` only clears findings of `now`: each finding the same or now a pass, a
/// forbidden phrase's finding unchanged, every refusal kept. A hearing that is surer is not
/// always right, so it may not accuse, nor add a doubt to an accusation: a violation turned
/// "needs review" by words heard at another pace (a customer's "Je ne sais pas" then followed
/// by a stray "F.") is no verdict a person can rely on either.
fn only_clears(now: &[Finding], then: &[Finding]) -> bool {
    now.len() == then.len()
        && now.iter().zip(then).all(|(a, b)| {
            a.rule_id == b.rule_id
                && if a.kind == RuleKind::Forbidden {
                    b.status == a.status
                } else if a.outcome == Outcome::Refused {
                    b.outcome == Outcome::Refused
                } else {
                    b.status == a.status || b.status == FindingStatus::Pass
                }
        })
}

/// Two decodings that hear the same word at the same moment — greedy without a prompt, then
/// five beams with the vocabulary — agree on it: the second listen's word (in `heard`) keeps
/// the surer of their two probabilities. Their agreement is no proof of a word both were unsure
/// of: one model heard it twice. Raising such words to the doubt threshold made "I'm a
/// resident in" (0.19, then again), a garbled "I'm representing", an absent disclosure and a
/// compliant call a violation (BENCHMARKS.md, "Two hearings of one model are not proof").
fn agree_with_first_pass(heard: &mut [Segment], first: &[Segment], channel: u16) {
    let plain = |w: &str| -> String {
        w.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    for w in heard.iter_mut().flat_map(|s| s.words.iter_mut()) {
        let agreed = first
            .iter()
            .filter(|o| o.channel == channel)
            .flat_map(|o| &o.words)
            .filter(|o| o.start_ms.abs_diff(w.start_ms) <= 400 && plain(&o.text) == plain(&w.text))
            .map(|o| o.probability)
            .reduce(f32::max);
        if let Some(p) = agreed {
            w.probability = w.probability.max(p);
        }
    }
}

/// Words with the probability the model gave each ("par:0.91 mail:0.12"), for the debug log.
fn word_probs(words: &[(String, f32)]) -> String {
    words
        .iter()
        .map(|(w, p)| format!("{w}:{p:.2}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How much less likely (natural log, whole reading) the script's words may be than the
/// model's own hearing of the same stretch for the script check to accept them. Measured on the
/// harder labelled set (BENCHMARKS.md, "The script check"): readings of what was said scored
/// from +3.8 down to −7.8; readings of what was not said at that place, −8.5 and below. The
/// check clears findings, so its margin keeps well away from what was not said.
const SCRIPT_READING_MARGIN: f32 = 5.0;

/// How much less likely than the model's own hearing a reading of an item found missing with
/// confidence may be for the absence not to be an accusation (a [`NearReading`]): the recording
/// does not rule the item out. Measured on the four labelled sets (BENCHMARKS.md, "Readings
/// that hold an accusation back"): readings of items said and garbled scored down to −9.3 nats
/// within this floor, 7 of 34 between the margin and it; readings of items not said, −10.6 and
/// below. The same floor bounds a reading past the margin that may still stand where the other
/// paces hear it so (see `script_check`): what the recording does not rule out, heard three
/// ways.
const NEAR_READING_FLOOR: f32 = 10.0;

/// A stretch the script check heard, kept until every stretch's readings have been weighed:
/// the model's own hearing of it, and where it lies to be encoded again.
struct HeardStretch<'s> {
    own: callproof_transcribe::ReadingScore,
    samples: &'s [f32],
    window: (u64, u64),
}

/// The one stretch kept encoded (`at`, among the stretches heard), to score the reading put in
/// place, with its hearing at the other paces once a reading past the margin needs them.
struct Listened<'e> {
    at: usize,
    listening: callproof_transcribe::Listening<'e>,
    paced: Option<Vec<PacedListening<'e>>>,
}

/// The model's own hearing of a stretch at another pace ([`PACES`]), readings to be scored
/// against.
struct PacedListening<'e> {
    listening: callproof_transcribe::Listening<'e>,
    own: callproof_transcribe::ReadingScore,
}

/// The stretch `window` of `samples` heard at each other pace, alone, as the script check
/// hears it at the channel's own (a pace whose hearing is empty is left out).
fn paced_listenings<'e>(
    engine: &'e Engine,
    samples: &[f32],
    window: (u64, u64),
    language: &str,
    threads: usize,
) -> Result<Vec<PacedListening<'e>>> {
    let mut out = Vec::new();
    for rate in PACES {
        let paced = callproof_ingest::resample(samples, callproof_ingest::TARGET_RATE, rate)?;
        let there = |ms: u64| at_pace(ms, rate);
        let listening = engine.listen(
            &paced,
            (there(window.0), there(window.1)),
            language,
            threads,
            true,
        )?;
        if let Some(own) = listening.own().cloned() {
            out.push(PacedListening { listening, own });
        }
    }
    Ok(out)
}

/// Whether a reading past the margin is heard at every other pace ([`PACES`]) within
/// [`NEAR_READING_FLOOR`] of the model's own hearing there (`gaps`, one per pace heard).
fn heard_so_at_each_pace(gaps: &[f32]) -> bool {
    gaps.len() == PACES.len() && gaps.iter().all(|g| *g >= -NEAR_READING_FLOOR)
}

/// How much less likely than the model's own hearing at each pace the reading `r` is there
/// (its phrasing put in that hearing as [`verify::substitute_at`] puts it), followed no further
/// than [`NEAR_READING_FLOOR`].
fn paced_gaps(paced: &mut [PacedListening<'_>], r: &verify::ScriptReading) -> Result<Vec<f32>> {
    paced
        .iter_mut()
        .map(|p| {
            let (text, _) = verify::substitute_at(&p.own.text, r);
            let score = p.listening.score(&text, Some(NEAR_READING_FLOOR))?;
            Ok(score.logprob - p.own.logprob)
        })
        .collect()
}

/// Keeps in `t`, of the readings `near`, the nearest of each rule `t` holds none of yet: one is
/// enough to hold an accusation back, and the nearest is where a person listens first.
fn keep_nearest(t: &mut Transcript, mut near: Vec<NearReading>) {
    near.sort_by(|a, b| a.nats_below.total_cmp(&b.nats_below));
    for n in near {
        if !t.near_readings.iter().any(|o| o.rule_id == n.rule_id) {
            t.near_readings.push(n);
        }
    }
}

/// The speaker of `channel`'s speech over `span` (ms): the first segment's that overlaps it.
fn speaker_at(t: &Transcript, channel: u16, (a, b): (u64, u64)) -> Speaker {
    t.segments
        .iter()
        .find(|s| s.channel == channel && s.start_ms < b.max(a + 1) && a < s.end_ms)
        .map_or(Speaker::Unknown, |s| s.speaker)
}

/// Where `callproof model install speaker` puts the speaker encoder.
pub fn speaker_model_path() -> PathBuf {
    ModelCache::from_env()
        .dir()
        .join(callproof_diarize::MODEL_FILE)
}

/// Gives diarized voices their roles. The agent is the voice that carries the seller's script
/// (the rule set's agent phrasings: identity, disclosures), the first voice to speak when none
/// does or there is no rule set; the customer is the voice that speaks most among the others;
/// any further voice (a supervisor, a third party) stays "unknown".
fn assign_roles(
    voiced: Vec<(Option<usize>, Segment)>,
    script: Option<&RuleBook>,
    call_id: CallId,
    language: &str,
) -> Vec<Segment> {
    let voices = voiced
        .iter()
        .filter_map(|(v, _)| *v)
        .max()
        .map_or(0, |m| m + 1);
    let as_agent = |agent: usize| -> Transcript {
        Transcript {
            near_readings: Vec::new(),
            call_id,
            model: String::new(),
            model_sha256: String::new(),
            language: language.to_string(),
            segments: voiced
                .iter()
                .map(|(v, s)| {
                    let mut s = s.clone();
                    s.speaker = if *v == Some(agent) {
                        Speaker::Agent
                    } else {
                        Speaker::Customer
                    };
                    s
                })
                .collect(),
        }
    };
    let first = voiced
        .iter()
        .filter_map(|(v, s)| v.map(|v| (s.start_ms, v)))
        .min()
        .map(|(_, v)| v);
    let agent = match script {
        Some(book) if voices > 1 => {
            let scores: Vec<usize> = (0..voices)
                .map(|v| verify::script_score(book, &as_agent(v)))
                .collect();
            let best = scores.iter().copied().max().unwrap_or(0);
            // On a tie the first voice to speak, the seller's usual place on an outbound call.
            match first {
                Some(f) if scores.get(f) == Some(&best) => Some(f),
                _ => scores.iter().position(|s| *s == best),
            }
        }
        _ => first,
    };
    let mut speech = vec![0u64; voices];
    for (v, s) in &voiced {
        if let Some(v) = v {
            speech[*v] += s.end_ms.saturating_sub(s.start_ms);
        }
    }
    let customer = (0..voices)
        .filter(|v| Some(*v) != agent)
        .max_by_key(|v| speech[*v]);
    voiced
        .into_iter()
        .map(|(v, mut s)| {
            s.speaker = match v {
                Some(v) if Some(v) == agent => Speaker::Agent,
                Some(v) if Some(v) == customer => Speaker::Customer,
                _ => Speaker::Unknown,
            };
            s
        })
        .collect()
}

/// A fault-injection drill for tests and operators: a worker aborts on purpose, as a crash in
/// a decoder or in whisper.cpp would, when it takes up a call whose original file name is
/// `CALLPROOF_CRASH_DRILL`. It shows that such a call is retried, then dead-lettered, while the
/// server keeps answering. Unset (the default), it does nothing.
/// The same drill for an upload: with `CALLPROOF_CRASH_DRILL=upload:<file name>` the process
/// aborts after storing that recording and before cataloguing it, the moment a kill -9 leaves
/// an object nothing references. The next start removes it.
fn upload_crash_drill(original_name: Option<&str>) {
    if let (Ok(drill), Some(name)) = (std::env::var("CALLPROOF_CRASH_DRILL"), original_name) {
        if drill.strip_prefix("upload:") == Some(name) {
            eprintln!("crash drill: aborting after storing {name}, before cataloguing it");
            std::process::abort();
        }
    }
}

fn crash_drill(call: &Call) {
    if let (Ok(name), Some(original)) = (
        std::env::var("CALLPROOF_CRASH_DRILL"),
        call.original_name.as_deref(),
    ) {
        if !name.is_empty() && name == original {
            eprintln!("crash drill: aborting on call {}", call.id);
            std::process::abort();
        }
    }
}

/// Why `transcriptions` at once with `threads` whisper.cpp threads each are too many for this
/// machine's `cores`, if they are. whisper.cpp's threads spin at every layer's barrier instead
/// of sleeping, so more threads than cores starve each other: two ingests of JFK's 11 s at
/// once with 2 threads each on 2 cores took 13.7 s each, against 1.4 s alone and 1.7 s each
/// at once with 1 thread.
pub fn oversubscription(transcriptions: usize, threads: usize, cores: usize) -> Option<String> {
    let wanted = transcriptions * threads;
    (wanted > cores).then(|| {
        format!(
            "{transcriptions} transcriptions at once × {threads} threads = {wanted} threads on \
             {cores} cores: whisper.cpp's threads then wait on each other and every \
             transcription runs several times slower (about 10× measured); lower the \
             transcriptions at once (--workers, --jobs) or --threads so that their product is \
             at most {cores}"
        )
    })
}

/// The cores this process may use (2 when the system does not say).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One near reading per rule, the nearest, and a rule already held keeps its reading; the
    /// speaker is the one whose channel holds the words read over.
    #[test]
    fn the_nearest_reading_of_each_rule_is_kept_with_its_speaker() {
        let said = |speaker, channel, start_ms, end_ms| Segment {
            speaker,
            channel,
            end_ms,
            ..seg(start_ms, "…")
        };
        let mut t = Transcript {
            call_id: CallId::new(),
            model: "base".into(),
            model_sha256: String::new(),
            language: "fr".into(),
            segments: vec![
                said(Speaker::Agent, 0, 0, 10_000),
                said(Speaker::Customer, 1, 9_000, 12_000),
            ],
            near_readings: Vec::new(),
        };
        assert_eq!(speaker_at(&t, 1, (9_500, 10_000)), Speaker::Customer);
        assert_eq!(speaker_at(&t, 0, (9_500, 10_000)), Speaker::Agent);
        assert_eq!(speaker_at(&t, 0, (20_000, 21_000)), Speaker::Unknown);
        let near = |rule_id: &str, phrasing: &str, nats_below| NearReading {
            rule_id: rule_id.into(),
            phrasing: phrasing.into(),
            speaker: Speaker::Agent,
            channel: 0,
            start_ms: 1_000,
            end_ms: 2_000,
            nats_below,
        };
        keep_nearest(
            &mut t,
            vec![
                near("written_confirmation", "par mail", 9.3),
                near("bloctel", "bloctel", 3.0),
                near("written_confirmation", "par courrier", 8.4),
            ],
        );
        let kept = |t: &Transcript| {
            t.near_readings
                .iter()
                .map(|n| (n.rule_id.clone(), n.phrasing.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kept(&t),
            [
                ("bloctel".to_string(), "bloctel".to_string()),
                ("written_confirmation".into(), "par courrier".into())
            ]
        );
        keep_nearest(&mut t, vec![near("bloctel", "liste bloctel", 1.0)]);
        assert_eq!(kept(&t).len(), 2);
        assert_eq!(t.near_readings[0].phrasing, "bloctel");
    }

    #[test]
    fn more_whisper_threads_than_cores_is_said_with_what_to_lower() {
        assert_eq!(oversubscription(1, 2, 2), None);
        assert_eq!(oversubscription(2, 1, 2), None);
        assert_eq!(
            oversubscription(0, 8, 2),
            None,
            "no workers beside the server"
        );
        let why = oversubscription(2, 2, 2).expect("4 threads on 2 cores");
        assert!(why.contains("4 threads on 2 cores"), "{why}");
        assert!(
            why.contains("--threads") && why.contains("--workers"),
            "{why}"
        );
    }

    fn seg(start_ms: u64, text: &str) -> Segment {
        let words = text
            .split_whitespace()
            .enumerate()
            .map(|(i, w)| callproof_models::Word {
                text: w.to_string(),
                start_ms: start_ms + 300 * i as u64,
                end_ms: start_ms + 300 * (i as u64 + 1),
                probability: 0.9,
            })
            .collect::<Vec<_>>();
        Segment {
            speaker: Speaker::Unknown,
            channel: 0,
            start_ms,
            end_ms: words.last().map_or(start_ms, |w| w.end_ms),
            text: text.into(),
            avg_logprob: -0.2,
            no_speech_prob: 0.0,
            words,
            attribution: callproof_models::Attribution::diarization(0.9),
            second_listen: false,
            heard_first: None,
            disputed: false,
        }
    }

    /// `seg` with every word heard at probability `p`.
    fn heard(start_ms: u64, text: &str, p: f32) -> Segment {
        let mut s = seg(start_ms, text);
        for w in &mut s.words {
            w.probability = p;
        }
        s
    }

    #[test]
    fn a_stretch_heard_surer_at_another_pace_is_offered_and_only_then() {
        let ours = vec![
            heard(1_000, "The alarm system gusts for the PAN's demand.", 0.6),
            heard(9_000, "Okay, I'll take it", 0.5),
        ];
        // The answer heard slowed down as one word over the time of four.
        let mut okay = heard(9_000, "Okay,", 0.9);
        okay.end_ms = 10_200;
        okay.words[0].end_ms = 10_200;
        let slowed = vec![
            heard(1_100, "The alarm system costs 40 pounds per month.", 0.8),
            okay,
        ];
        let sped = vec![heard(1_000, "The alarm system costs forty pounds.", 0.7)];
        let surer = surer_stretches(&ours, &overlapping(vec![slowed, sped]));
        // The surest hearing of the price; not the answer heard with half its words.
        assert_eq!(surer.len(), 1, "{surer:?}");
        assert_eq!(surer[0].len(), 1);
        assert_eq!(
            surer[0][0].text,
            "The alarm system costs 40 pounds per month."
        );
        // Less sure, or where the second listen heard nothing: nothing offered.
        let unsure = vec![heard(
            1_000,
            "The alarm system goes for the pants demand.",
            0.5,
        )];
        assert!(surer_stretches(&ours, &overlapping(vec![unsure])).is_empty());
        let elsewhere = vec![heard(20_000, "Goodbye then.", 0.99)];
        assert!(surer_stretches(&ours, &overlapping(vec![elsewhere])).is_empty());
    }

    #[test]
    fn a_stereo_call_heard_as_one_conversation_keeps_who_spoke_from_the_channels() {
        // The agent speaks 0-1 s on channel 0; the customer answers 1.5-2.1 s on channel 1,
        // 18 dB quieter, over a faint hiss on both lines.
        let rate = 16_000usize;
        let tone = |i: usize, amp: f32| amp * (i as f32 * 0.07).sin();
        let hiss = |i: usize| 0.000_3 * ((i * 7919 % 1000) as f32 / 500.0 - 1.0);
        let agent: Vec<f32> = (0..3 * rate)
            .map(|i| hiss(i) + if i < rate { tone(i, 0.5) } else { 0.0 })
            .collect();
        let customer: Vec<f32> = (0..3 * rate)
            .map(|i| {
                hiss(i + 3)
                    + if (24_000..33_600).contains(&i) {
                        tone(i, 0.063)
                    } else {
                        0.0
                    }
            })
            .collect();
        let (mixed, turns) = conversation_of(&[agent, customer]);
        assert_eq!(mixed.len(), 3 * rate);
        assert_eq!(turns.speaker_of(200, 800).map(|w| w.0), Some(0));
        assert_eq!(turns.speaker_of(1_600, 2_000).map(|w| w.0), Some(1));
        // Each voice brought to the same loudness in the mix: the quiet line is not lost.
        let peak = |a: usize, b: usize| mixed[a..b].iter().fold(0f32, |m, x| m.max(x.abs()));
        let (loud, quiet) = (peak(0, rate), peak(24_000, 33_600));
        assert!(quiet > loud * 0.5, "agent {loud}, customer {quiet}");
        // Between the turns nobody holds the line: a word there is nobody's.
        assert!(turns.frames[120..145].iter().all(Option::is_none));
    }

    #[test]
    fn the_conversation_is_heard_once_over_what_both_channels_want() {
        // The agent's sentence at 40-46 s and the customer's reply at 50-51 s are heard in one
        // window (the reply's 20 s before reach back over the sentence and its own 5 s); a
        // reply at 120 s in a window of its own; the agent's words at 5-8 s with the agent's
        // shorter context, and the start of the call is not gone past.
        let wanted = vec![
            (0, Speaker::Agent, vec![(40_000, 46_000), (5_000, 8_000)]),
            (
                1,
                Speaker::Customer,
                vec![(50_000, 51_000), (120_000, 121_000)],
            ),
        ];
        assert_eq!(
            conversation_windows(&wanted),
            vec![(0, 10_000), (30_000, 56_000), (100_000, 126_000)]
        );
        assert!(conversation_windows(&[]).is_empty());
    }

    #[test]
    fn the_conversation_s_words_go_only_to_the_channel_that_held_them() {
        // Frames: the agent (channel 0) speaks 0-1 s, the customer (1) 1.5-2.5 s.
        let turns = callproof_diarize::Diarization {
            speakers: 2,
            turns: Vec::new(),
            frames: (0..300)
                .map(|t| match t {
                    0..100 => Some((0, 1.0)),
                    150..250 => Some((1, 1.0)),
                    _ => None,
                })
                .collect(),
            closest_speakers: 0.0,
        };
        let word = |text: &str, start_ms: u64, end_ms: u64| callproof_models::Word {
            text: text.into(),
            start_ms,
            end_ms,
            probability: 0.9,
        };
        let mut s = seg(200, "d'accord ? Oui, ça me va. Merci");
        s.end_ms = 2_900;
        s.words = vec![
            word("d'accord", 200, 900),
            // Timed over the end of one turn and the start of the other: nobody's.
            word("?", 800, 1_700),
            word("Oui,", 1_700, 1_800),
            word("ça", 1_800, 1_950),
            word("me", 1_950, 2_100),
            word("va.", 2_100, 2_400),
            // In the silence after the reply.
            word("Merci", 2_600, 2_900),
        ];
        let theirs = words_of_channel(
            vec![s.clone()],
            &turns,
            (Speaker::Customer, 1),
            &[(1_400, 2_500)],
        );
        assert_eq!(theirs.len(), 1, "{theirs:?}");
        assert_eq!(theirs[0].text, "Oui, ça me va.");
        assert_eq!((theirs[0].start_ms, theirs[0].end_ms), (1_700, 2_400));
        assert_eq!(
            (theirs[0].speaker, theirs[0].channel),
            (Speaker::Customer, 1)
        );
        let agents = words_of_channel(vec![s.clone()], &turns, (Speaker::Agent, 0), &[(0, 1_000)]);
        assert_eq!(agents.len(), 1);
        assert_eq!(agents[0].text, "d'accord");
        // Outside the stretches asked for, nothing.
        assert!(
            words_of_channel(vec![s], &turns, (Speaker::Customer, 1), &[(5_000, 6_000)]).is_empty()
        );
    }

    #[test]
    fn a_hearing_at_another_pace_is_brought_back_to_the_channel_clock() {
        // Slowed down 10 %: 17.6 kHz read at 16 kHz, so 1.1 s there is 1 s on the channel.
        let mut s = vec![seg(1_100, "bonjour madame")];
        on_channel_clock(&mut s, 17_600);
        assert_eq!((s[0].start_ms, s[0].end_ms), (1_000, 1_545));
        assert_eq!(
            (s[0].words[1].start_ms, s[0].words[1].end_ms),
            (1_272, 1_545)
        );
    }

    fn finding(rule: &str, kind: RuleKind, outcome: Outcome, status: FindingStatus) -> Finding {
        Finding {
            rule_id: rule.into(),
            kind,
            outcome,
            status,
            speaker: None,
            start_ms: None,
            end_ms: None,
            matched: None,
            phrase: None,
            score: None,
            detail: String::new(),
            attribution: None,
            hearing: None,
        }
    }

    #[test]
    fn a_reading_past_the_margin_stands_only_if_every_other_pace_hears_it_so() {
        // Garbled items said (`hen_broadband_ok`'s "calling for", `wen_insurance_ok`'s).
        assert!(heard_so_at_each_pace(&[-8.59, -6.69]));
        assert!(heard_so_at_each_pace(&[-4.97, -6.31]));
        // An item not said, within the floor at one pace and just past it at the other
        // (`ufr_assurance_definitif`'s "une fois signée" over "vous n'avez rien à signer").
        assert!(!heard_so_at_each_pace(&[-3.53, -10.09]));
        // A pace whose hearing was empty settles nothing.
        assert!(!heard_so_at_each_pace(&[-3.0]));
        assert!(!heard_so_at_each_pace(&[]));
    }

    #[test]
    fn a_hearing_at_another_pace_may_clear_a_finding_and_nothing_else() {
        use FindingStatus::{Fail, Pass, Review};
        let price = |o, s| finding("price", RuleKind::Required, o, s);
        let pressure = |o, s| finding("no_pressure", RuleKind::Forbidden, o, s);
        let consent = |o, s| finding("consent", RuleKind::Consent, o, s);
        let now = vec![
            price(Outcome::Missing, Review),
            pressure(Outcome::ForbiddenSaid, Fail),
            consent(Outcome::Refused, Fail),
        ];
        // The price heard: cleared.
        let cleared = vec![price(Outcome::Met, Pass), now[1].clone(), now[2].clone()];
        assert!(only_clears(&now, &cleared));
        assert!(only_clears(&now, &now));
        // Never an accusation where there was a doubt.
        let accused = vec![
            price(Outcome::Missing, Fail),
            now[1].clone(),
            now[2].clone(),
        ];
        assert!(!only_clears(&now, &accused));
        // Never a forbidden phrase taken away, nor a refusal.
        let unsaid = vec![now[0].clone(), pressure(Outcome::Met, Pass), now[2].clone()];
        assert!(!only_clears(&now, &unsaid));
        let agreed = vec![now[0].clone(), now[1].clone(), consent(Outcome::Met, Pass)];
        assert!(!only_clears(&now, &agreed));
        // Nor a doubt added to an accusation.
        let failing = vec![price(Outcome::Missing, Fail)];
        assert!(!only_clears(&failing, &[price(Outcome::Missing, Review)]));
    }

    #[test]
    fn each_pace_s_hearing_of_a_stretch_is_offered_where_each_heard_it() {
        let ours = vec![heard(
            21_900,
            "Le contrat d'un proté annuel, 112 repars.",
            0.7,
        )];
        let slowed = vec![
            heard(
                21_960,
                "Le contrat d'un proté annuel coupe 120 euros par heure.",
                0.6,
            ),
            heard(37_000, "Parfait.", 0.9),
        ];
        let sped = vec![heard(
            21_766,
            "Le contrat nous proté à 1000 coups 120 euros par an.",
            0.5,
        )];
        let each = stretches_heard_at_each(&ours, &overlapping(vec![slowed, sped]), 2);
        // The price, heard at both paces; not the answer, heard at one pace only (and where
        // the second listen heard nothing).
        assert_eq!(each.len(), 1, "{each:?}");
        assert_eq!(each[0].len(), 2);
        assert!(each[0][0][0].text.contains("coupe 120 euros"));
        assert!(each[0][1][0].text.contains("coups 120 euros"));
        let elsewhere = vec![heard(5_000, "Bonjour.", 0.9)];
        let both = overlapping(vec![
            vec![heard(21_960, "120 euros", 0.6)],
            vec![heard(21_900, "120 euros", 0.6)],
        ]);
        assert!(stretches_heard_at_each(&elsewhere, &both, 2).is_empty());
    }

    #[test]
    fn a_finding_is_cleared_at_each_pace_only_where_every_hearing_clears_it() {
        use FindingStatus::{Fail, Pass, Review};
        let price = |o, s| finding("price", RuleKind::Required, o, s);
        let consent = |o, s| finding("consent", RuleKind::Consent, o, s);
        let now = vec![
            price(Outcome::Missing, Review),
            consent(Outcome::Missing, Review),
        ];
        let price_met = vec![price(Outcome::Met, Pass), now[1].clone()];
        let consent_met = vec![now[0].clone(), consent(Outcome::Met, Pass)];
        let both_met = vec![price(Outcome::Met, Pass), consent(Outcome::Met, Pass)];
        // Both hearings heard the price: cleared.
        assert!(cleared_at_each(&now, &[&price_met, &both_met]));
        // One heard the price, the other the assent: no finding cleared by both.
        assert!(!cleared_at_each(&now, &[&price_met, &consent_met]));
        // One hearing only, of two, clears: nothing.
        assert!(!cleared_at_each(&now, &[&price_met, &now]));
        // A hearing that also accuses: nothing, however the other hears it.
        let accusing = vec![price(Outcome::Met, Pass), consent(Outcome::Missing, Fail)];
        assert!(!cleared_at_each(&now, &[&price_met, &accusing]));
        assert!(!cleared_at_each(&now, &[]));
    }

    #[test]
    fn a_word_heard_twice_keeps_the_surer_hearing_and_stays_doubtful_if_both_were_unsure() {
        let mut first = seg(1_000, "and I'm a resident in Pulse");
        first.words[3].probability = 0.19;
        first.words[1].probability = 0.6;
        let mut heard = vec![seg(1_100, "and I'm a resident in Pulse")];
        heard[0].words[3].probability = 0.3;
        heard[0].words[1].probability = 0.4;
        heard[0].words[5].probability = 0.2;
        // The same words on another channel agree with nothing.
        let mut other = seg(1_000, "Pulse Pulse Pulse Pulse Pulse Pulse");
        other.channel = 1;
        agree_with_first_pass(&mut heard, &[first, other], 0);
        let probs: Vec<f32> = heard[0].words.iter().map(|w| w.probability).collect();
        // "resident": 0.19 then 0.3, still doubtful; "I'm": the first pass was surer; "Pulse"
        // was heard 0.9 by the first pass at the same moment.
        assert_eq!(probs[3], 0.3);
        assert!(probs[3] < Segment::DOUBTFUL_WORD_BELOW);
        assert_eq!(probs[1], 0.6);
        assert_eq!(probs[5], 0.9);
        // A word heard at another moment is not the same hearing.
        let mut late = vec![seg(5_000, "resident")];
        late[0].words[0].probability = 0.1;
        agree_with_first_pass(&mut late, &[seg(1_000, "and I'm a resident")], 0);
        assert_eq!(late[0].words[0].probability, 0.1);
    }

    #[test]
    fn the_voice_that_carries_the_script_is_the_agent_even_when_it_speaks_second() {
        let book = RuleBook::pack("fr-demarchage").unwrap();
        let voiced = vec![
            (Some(0), seg(0, "Allô ? Oui ?")),
            (Some(1), seg(2_000, "Bonjour, je suis Julie Martin de la société Isosell, je vous appelle de la part d'Électricité du Centre.")),
            (Some(1), seg(9_000, "Vous disposez d'un délai de rétractation de quatorze jours.")),
            (Some(0), seg(14_000, "D'accord.")),
            (Some(2), seg(16_000, "Bonjour, ici le superviseur.")),
        ];
        let out = assign_roles(voiced, Some(&book), CallId::new(), "fr");
        let roles: Vec<Speaker> = out.iter().map(|s| s.speaker).collect();
        assert_eq!(
            roles,
            [
                Speaker::Customer,
                Speaker::Agent,
                Speaker::Agent,
                Speaker::Customer,
                Speaker::Unknown
            ]
        );
        // Without a rule set, the first voice to speak is taken as the agent.
        let out = assign_roles(vec![(Some(0), seg(0, "Allô ?"))], None, CallId::new(), "fr");
        assert_eq!(out[0].speaker, Speaker::Agent);
    }
}
