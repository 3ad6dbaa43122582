//! Getting recordings into callproof: validate, hash, decode, store, record.
//!
//! Ingestion is all-or-nothing: a recording is decoded completely *before* anything is written,
//! so a truncated, mislabelled or unsupported file leaves no half-made call behind; the original
//! is stored before the catalog row exists, and removed again if the row cannot be written.

pub mod catalog;
pub mod decode;
pub mod store;

use bytes::Bytes;
use callproof_models::{AudioInfo, Call, CallId, CallMetadata};
use sha2::{Digest, Sha256};

pub use catalog::{Catalog, CatalogError, StoredRuleSet};
pub use decode::{decode, resample_to_16k, DecodeError, DecodedAudio, TARGET_RATE};
pub use store::{OriginalStore, StoreError};

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
    Catalog(CatalogError),
    /// The caller's own check refused the call (e.g. a language the model cannot transcribe).
    #[error("{0}")]
    Rejected(String),
}

/// A last check by the caller, run once the recording is known to be valid and new, before
/// anything is stored.
pub type Precheck<'a> = &'a (dyn Fn(&CallMetadata) -> Result<(), String> + Send + Sync);

impl From<CatalogError> for IngestError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Duplicate { existing } => IngestError::Duplicate { existing },
            other => IngestError::Catalog(other),
        }
    }
}

/// SHA-256 of the original bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks what a person supplied before any work is done.
/// A customer phone number in E.164 ("+33612345678"), whatever way it was written: "06 12 34
/// 56 78", "+33 6 12 34 56 78", "0033 6…" (national numbers are read as French).
pub fn normalise_phone(input: &str) -> Result<String, String> {
    let number = phonenumber::parse(Some(phonenumber::country::Id::FR), input.trim())
        .map_err(|e| format!("{input:?} is not a phone number ({e})"))?;
    if !phonenumber::is_valid(&number) {
        return Err(format!(
            "{input:?} is not a valid phone number; write it with its country code (+33 6 12 34 56 78) or as a French national number (06 12 34 56 78)"
        ));
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

pub fn validate_metadata(m: &CallMetadata) -> Result<(), IngestError> {
    let ok_client = !m.client.is_empty()
        && m.client.len() <= 64
        && m.client
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !m.client.starts_with('.');
    if !ok_client {
        return Err(IngestError::Metadata(format!(
            "client {:?} must be 1 to 64 letters, digits, '-', '_' or '.' (it names the tenant); \
             give it with --client or \"client\" in the JSON metadata",
            m.client
        )));
    }
    if let Some(tz) = &m.customer_timezone {
        if tz.parse::<chrono_tz::Tz>().is_err() {
            return Err(IngestError::Metadata(format!(
                "customer_timezone {tz:?} is not an IANA time zone such as \"Europe/Paris\" or \"America/Martinique\""
            )));
        }
    }
    if let Some(lang) = &m.language {
        if !(2..=3).contains(&lang.len()) || !lang.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(IngestError::Metadata(format!(
                "language {lang:?} must be an ISO 639-1 code such as fr or en"
            )));
        }
    }
    Ok(())
}

/// Whisper-ready audio: each channel resampled to 16 kHz mono.
pub fn channels_16k(audio: &DecodedAudio) -> Result<Vec<Vec<f32>>, DecodeError> {
    audio
        .channels
        .iter()
        .map(|c| resample_to_16k(c, audio.sample_rate))
        .collect()
}

/// A call that has been accepted, with its decoded audio ready for transcription.
pub struct Ingested {
    pub call: Call,
    pub audio: DecodedAudio,
}

/// Ingestion over one catalog and one object store.
pub struct Ingestor {
    pub catalog: std::sync::Arc<Catalog>,
    pub store: OriginalStore,
}

impl Ingestor {
    /// Accepts one recording. On any error nothing is left in the store or the catalog.
    pub async fn ingest(
        &self,
        bytes: Bytes,
        original_name: Option<&str>,
        metadata: CallMetadata,
        precheck: Precheck<'_>,
    ) -> Result<Ingested, IngestError> {
        let mut metadata = metadata;
        if let Some(p) = &metadata.customer_phone {
            metadata.customer_phone = Some(
                normalise_phone(p)
                    .map_err(|e| IngestError::Metadata(format!("customer_phone: {e}")))?,
            );
        }
        validate_metadata(&metadata)?;
        let sha256 = sha256_hex(&bytes);
        if let Some(existing) = self.catalog.find_by_sha256(&sha256)? {
            return Err(IngestError::Duplicate { existing });
        }
        let audio = {
            let b = bytes.clone();
            tokio::task::spawn_blocking(move || decode(&b))
                .await
                .map_err(|e| DecodeError::Damaged(format!("decoder crashed: {e}")))??
        };
        precheck(&metadata).map_err(IngestError::Rejected)?;
        let id = CallId::new();
        let extension = audio.format.split('/').next().unwrap_or("bin").to_string();
        let key = OriginalStore::key_for(&metadata.client, id, &extension);
        let info = AudioInfo {
            format: audio.format.clone(),
            sample_rate: audio.sample_rate,
            channels: audio.channels.len() as u16,
            duration_ms: audio.duration_ms(),
        };
        self.store.put(&key, bytes.clone()).await?;
        let new = catalog::NewCall {
            id,
            metadata: &metadata,
            sha256: &sha256,
            original_name,
            size_bytes: bytes.len() as u64,
            object_key: &key,
            audio: &info,
        };
        if let Err(e) = self.catalog.insert(&new) {
            let _ = self.store.delete(&key).await;
            return Err(e.into());
        }
        let call = self.catalog.get(id)?.ok_or_else(|| {
            IngestError::Metadata("the call vanished right after insertion".into())
        })?;
        Ok(Ingested { call, audio })
    }

    /// Decodes a stored original again (to resume a call interrupted by a restart).
    pub async fn load_audio(&self, id: CallId) -> Result<DecodedAudio, IngestError> {
        let key = self
            .catalog
            .object_key(id)?
            .ok_or_else(|| StoreError::NotFound {
                key: format!("call {id}"),
            })?;
        let bytes = self.store.get(&key).await?;
        Ok(tokio::task::spawn_blocking(move || decode(&bytes))
            .await
            .map_err(|e| DecodeError::Damaged(format!("decoder crashed: {e}")))??)
    }
}

#[cfg(test)]
mod phone_tests {
    use super::normalise_phone;

    #[test]
    fn phones_become_e164() {
        for input in [
            "06 12 34 56 78",
            "0612345678",
            "+33612345678",
            "+33 6 12 34 56 78",
            "0033 6 12 34 56 78",
            "06.12.34.56.78",
        ] {
            assert_eq!(
                normalise_phone(input).as_deref(),
                Ok("+33612345678"),
                "{input}"
            );
        }
        assert_eq!(
            normalise_phone("+44 20 7946 0958").as_deref(),
            Ok("+442079460958")
        );
        assert!(normalise_phone("12").is_err());
        assert!(normalise_phone("not a number").is_err());
    }
}
