//! The assembled application: one data folder's catalog, object store and index, plus the
//! Whisper engine, and the pipeline that moves a call from received to indexed.
//!
//! Both the CLI and the HTTP server drive calls through [`App::process`], so a call is handled
//! the same way whichever door it came in by.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use callproof_ingest::{Catalog, DecodedAudio, Ingestor, OriginalStore};
use callproof_models::{Call, CallMetadata, CallState, ChannelRoles, Transcript};
use callproof_search::{SearchError, SearchIndex};
use callproof_transcribe::{Engine, ModelCache, TranscribeOptions};

/// Receives a description of the stage a call is in ("transcribing channel 1/2 (agent) 40%").
pub type StageProgress = Arc<dyn Fn(&str) + Send + Sync>;

/// Settings that do not belong to one call.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Installed model used for transcription.
    pub model: String,
    /// Language of calls whose metadata gives none.
    pub default_language: String,
    /// whisper.cpp threads per transcription.
    pub threads: usize,
}

pub struct App {
    pub catalog: Arc<Catalog>,
    pub ingestor: Ingestor,
    pub index: SearchIndex,
    pub settings: Settings,
    engine: OnceLock<Arc<Engine>>,
    engine_load: Mutex<()>,
    /// One tantivy writer per index: workers of one process take turns.
    index_lock: Mutex<()>,
}

impl App {
    pub fn open(data: &Path, settings: Settings) -> Result<Self> {
        std::fs::create_dir_all(data)
            .with_context(|| format!("cannot create the data folder {}", data.display()))?;
        let catalog = Arc::new(Catalog::open(&data.join("catalog.sqlite"))?);
        let store = OriginalStore::local(&data.join("objects"))?;
        let index = SearchIndex::open(&data.join("index"))?;
        Ok(Self {
            ingestor: Ingestor {
                catalog: catalog.clone(),
                store,
            },
            catalog,
            index,
            settings,
            engine: OnceLock::new(),
            engine_load: Mutex::new(()),
            index_lock: Mutex::new(()),
        })
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

    /// Transcribes and indexes one ingested call, recording each state change. On failure the
    /// call is marked failed with the reason, and the error is returned too.
    pub fn process(
        &self,
        call: &Call,
        audio: &DecodedAudio,
        progress: StageProgress,
    ) -> Result<Transcript> {
        let result = self.try_process(call, audio, progress);
        if let Err(e) = &result {
            let reason = format!("{e:#}");
            let _ = self.catalog.set_state(call.id, &CallState::Failed(reason));
        }
        result
    }

    fn try_process(
        &self,
        call: &Call,
        audio: &DecodedAudio,
        progress: StageProgress,
    ) -> Result<Transcript> {
        let language = self.language_of(&call.metadata);
        let engine = self.engine()?;
        engine.check_language(&language)?;
        self.catalog.set_state(call.id, &CallState::Transcribing)?;
        progress("resampling");
        let channels = callproof_ingest::channels_16k(audio)?;
        let roles = call.metadata.channels.clone().unwrap_or_default();
        let mut opts = TranscribeOptions {
            language: language.clone(),
            threads: self.settings.threads,
            skip_silence: true,
            progress: None,
        };
        // Channels one after the other, each with all threads: measured on 617 s of calls with
        // base, side by side (a thread each) was 7 % slower and needed twice the memory.
        let n = channels.len();
        let mut segments = Vec::new();
        for (i, samples) in channels.iter().enumerate() {
            let speaker = ChannelRoles::speaker_for(&roles, i, n);
            let stage = format!("transcribing channel {}/{} ({speaker})", i + 1, n);
            progress(&stage);
            let report = progress.clone();
            opts.progress = Some(Arc::new(move |pct: i32| report(&format!("{stage} {pct}%"))));
            segments.extend(engine.transcribe(samples, speaker, i as u16, &opts)?);
        }
        segments.sort_by_key(|s| (s.start_ms, s.channel));
        let transcript = Transcript {
            call_id: call.id,
            model: engine.name().to_string(),
            model_sha256: engine.sha256().to_string(),
            language,
            segments,
        };
        self.catalog.put_transcript(&transcript)?;
        progress("indexing");
        self.index_transcript(&transcript, call)?;
        self.catalog.set_state(call.id, &CallState::Indexed)?;
        Ok(transcript)
    }

    /// Indexes a transcript, waiting if another process holds the index writer.
    pub fn index_transcript(&self, t: &Transcript, call: &Call) -> Result<()> {
        let _guard = self.index_lock.lock().unwrap_or_else(|p| p.into_inner());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.index.index_call(t, &call.metadata) {
                Err(SearchError::Locked) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(250));
                }
                other => return Ok(other?),
            }
        }
    }
}
