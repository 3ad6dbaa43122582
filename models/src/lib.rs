//! callproof's domain vocabulary, shared by every crate.
//!
//! These are plain serde types with no I/O so that ingest, transcription, search and the API
//! agree on one meaning of "call", "speaker" or "segment" without depending on each other.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

/// A call's identifier: a UUIDv7, so identifiers sort by ingestion time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(pub uuid::Uuid);

impl CallId {
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }
}

impl Default for CallId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for CallId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s.trim())
            .map(Self)
            .map_err(|_| format!("{s:?} is not a call id (call ids are UUIDs)"))
    }
}

/// Who speaks on a channel. Stereo call recordings put one party on each channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Agent,
    Customer,
    /// A mono recording mixes both parties: no attribution is possible.
    Unknown,
}

impl Speaker {
    pub fn as_str(self) -> &'static str {
        match self {
            Speaker::Agent => "agent",
            Speaker::Customer => "customer",
            Speaker::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Speaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Speaker {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "agent" => Ok(Speaker::Agent),
            "customer" | "client" | "caller" => Ok(Speaker::Customer),
            "unknown" => Ok(Speaker::Unknown),
            other => Err(format!(
                "unknown speaker {other:?}: use agent, customer or unknown"
            )),
        }
    }
}

/// Channel roles in channel order; the default is left = agent, right = customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelRoles(pub Vec<Speaker>);

impl ChannelRoles {
    /// The speaker of channel `index` in a recording of `channels` channels.
    pub fn speaker_for(&self, index: usize, channels: usize) -> Speaker {
        if channels < 2 {
            return Speaker::Unknown;
        }
        match self.0.get(index) {
            Some(s) => *s,
            None if self.0.is_empty() && index == 0 => Speaker::Agent,
            None if self.0.is_empty() && index == 1 => Speaker::Customer,
            None => Speaker::Unknown,
        }
    }
}

impl Default for ChannelRoles {
    fn default() -> Self {
        Self(vec![Speaker::Agent, Speaker::Customer])
    }
}

impl FromStr for ChannelRoles {
    type Err = String;
    /// Parses `agent,customer`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .map(Speaker::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

/// What the person submitting a recording tells us about it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallMetadata {
    /// The ordering client (tenant) the call belongs to.
    pub client: String,
    #[serde(default)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub customer_phone: Option<String>,
    #[serde(default)]
    pub contract_ref: Option<String>,
    /// When the call started, with the time zone it was made in.
    #[serde(default)]
    pub started_at: Option<DateTime<FixedOffset>>,
    /// ISO 639-1 language of the call ("fr", "en"); the configured default when absent.
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub channels: Option<ChannelRoles>,
}

/// Where a call is in the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "state", content = "reason")]
pub enum CallState {
    Received,
    Transcribing,
    Indexed,
    /// The pipeline stopped; the reason says what went wrong and what to do.
    Failed(String),
}

impl CallState {
    pub fn name(&self) -> &'static str {
        match self {
            CallState::Received => "received",
            CallState::Transcribing => "transcribing",
            CallState::Indexed => "indexed",
            CallState::Failed(_) => "failed",
        }
    }
}

/// Technical facts about the stored recording, found by decoding it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioInfo {
    /// Container/codec as detected, e.g. "wav/pcm_mulaw".
    pub format: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub duration_ms: u64,
}

/// A call as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub id: CallId,
    pub metadata: CallMetadata,
    /// SHA-256 of the original bytes, hex.
    pub sha256: String,
    pub original_name: Option<String>,
    pub size_bytes: u64,
    pub audio: Option<AudioInfo>,
    #[serde(flatten)]
    pub state: CallState,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A word with its time, as the recogniser placed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// Mean token probability, 0..1.
    pub probability: f32,
}

/// A stretch of speech by one speaker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub speaker: Speaker,
    /// Channel index in the original recording.
    pub channel: u16,
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    /// Mean log-probability of the segment's tokens (Whisper's confidence).
    pub avg_logprob: f32,
    pub no_speech_prob: f32,
    pub words: Vec<Word>,
}

/// The transcript of a whole call: every channel's segments, merged in time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub call_id: CallId,
    /// Name and SHA-256 of the Whisper model that produced it.
    pub model: String,
    pub model_sha256: String,
    pub language: String,
    pub segments: Vec<Segment>,
}

/// One matching segment inside a search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentHit {
    pub speaker: Speaker,
    pub start_ms: u64,
    pub end_ms: u64,
    /// Where to start playing: the first matched word, or the segment start.
    pub match_ms: u64,
    pub text: String,
    /// The text with matches wrapped in `<b>…</b>`, HTML-escaped.
    pub snippet: String,
    pub score: f32,
}

/// A call that matched a search, with its matching segments in time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallHit {
    pub call_id: CallId,
    pub client: String,
    pub campaign: Option<String>,
    pub agent: Option<String>,
    pub started_at: Option<DateTime<FixedOffset>>,
    pub score: f32,
    pub segments: Vec<SegmentHit>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_roles_default_left_agent_right_customer() {
        let roles = ChannelRoles::default();
        assert_eq!(roles.speaker_for(0, 2), Speaker::Agent);
        assert_eq!(roles.speaker_for(1, 2), Speaker::Customer);
        assert_eq!(roles.speaker_for(0, 1), Speaker::Unknown);
        let swapped: ChannelRoles = "customer,agent".parse().unwrap();
        assert_eq!(swapped.speaker_for(0, 2), Speaker::Customer);
        assert!("agent,boss".parse::<ChannelRoles>().is_err());
    }

    #[test]
    fn metadata_sidecar_rejects_unknown_fields() {
        let ok: CallMetadata = serde_json::from_str(
            r#"{"client":"acme","started_at":"2026-03-02T10:15:00+01:00","channels":["agent","customer"]}"#,
        )
        .unwrap();
        assert_eq!(ok.started_at.unwrap().offset().local_minus_utc(), 3600);
        let err = serde_json::from_str::<CallMetadata>(r#"{"client":"a","custmer_phone":"1"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("custmer_phone"));
    }

    #[test]
    fn call_state_serialises_with_reason() {
        let s = serde_json::to_string(&CallState::Failed("bad codec".into())).unwrap();
        assert_eq!(s, r#"{"state":"failed","reason":"bad codec"}"#);
    }
}
