//! Getting recordings in: check what a person supplied, hash, decode, resample.
//!
//! Pure work on bytes and metadata, no storage: the service layer decides what is stored and
//! where, and calls this crate to know whether a recording is acceptable. A recording is
//! decoded completely *before* anything is written, so a truncated, mislabelled or unsupported
//! file is refused with nothing left behind.

pub mod decode;

use callproof_models::{CallMetadata, ClientId};
use sha2::{Digest, Sha256};

pub use decode::{
    decode, decode_window, decode_with, probe_file, resample, resample_to_16k, AudioLimits,
    AudioSummary, DecodeError, DecodedAudio, TARGET_RATE,
};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("invalid metadata: {0}")]
    Metadata(String),
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// SHA-256 of the original bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

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

/// The longest text accepted in a metadata field (campaign, agent, contract reference…): every
/// search answer and export repeats it.
pub const MAX_FIELD_CHARS: usize = 200;

/// Checks what a person supplied before any work is done, within the default field length;
/// the tenant named comes back as a [`ClientId`].
pub fn validate_metadata(m: &CallMetadata) -> Result<ClientId, IngestError> {
    validate_metadata_within(m, MAX_FIELD_CHARS)
}

/// [`validate_metadata`] with `max_field_chars` characters at most per text field.
pub fn validate_metadata_within(
    m: &CallMetadata,
    max_field_chars: usize,
) -> Result<ClientId, IngestError> {
    let client = ClientId::new(m.client.clone()).map_err(|e| {
        IngestError::Metadata(format!(
            "{e}; give it with --client or \"client\" in the JSON metadata"
        ))
    })?;
    for (field, value) in [
        ("campaign", &m.campaign),
        ("agent", &m.agent),
        ("contract_ref", &m.contract_ref),
        ("customer_phone", &m.customer_phone),
        ("customer_timezone", &m.customer_timezone),
    ] {
        if let Some(v) = value {
            let n = v.chars().count();
            if n > max_field_chars {
                return Err(IngestError::Metadata(format!(
                    "{field} is {n} characters long; at most {max_field_chars} are accepted (it is a name or a reference, not a document)"
                )));
            }
        }
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
    Ok(client)
}

/// Whisper-ready audio: each channel resampled to 16 kHz mono.
pub fn channels_16k(audio: &DecodedAudio) -> Result<Vec<Vec<f32>>, DecodeError> {
    audio
        .channels
        .iter()
        .map(|c| resample_to_16k(c, audio.sample_rate))
        .collect()
}

#[cfg(test)]
mod field_tests {
    use super::*;

    #[test]
    fn long_fields_are_refused() {
        let meta = |campaign: String| CallMetadata {
            client: "acme".into(),
            campaign: Some(campaign),
            ..Default::default()
        };
        assert!(validate_metadata(&meta("hiver-2026".into())).is_ok());
        assert!(validate_metadata(&meta("x".repeat(MAX_FIELD_CHARS))).is_ok());
        let err = validate_metadata(&meta("x".repeat(60_000_000)))
            .unwrap_err()
            .to_string();
        assert!(err.contains("campaign is 60000000 characters"), "{err}");
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
