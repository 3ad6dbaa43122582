//! Speech to text for callproof: Whisper models and whisper.cpp inference.
//!
//! Two jobs live here because they share one artefact, the ggml model file: [`cache`] obtains
//! and converts models into the shared model cache, and [`engine`] runs them on decoded channels.
//! This crate knows nothing of calls in storage, catalogs or indexes: it turns 16 kHz samples
//! into [`callproof_models::Segment`]s.

pub mod cache;
pub mod convert;
pub mod engine;
pub mod score;
pub mod speech;

pub use cache::{InstalledModel, ModelCache, ModelError, ModelSource};
pub use convert::WeightType;
pub use engine::{DecodeCost, Decodings, Engine, EngineError, Progress, TranscribeOptions};
pub use score::{Listening, OwnHearing, ReadingScore, NUMBER_SLOT, REST_SLOT};
