//! What the recogniser made of a call: words with their times, segments, and search hits.

use super::*;

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
    /// The call's verdict when it has been verified.
    #[serde(default)]
    pub verdict: Option<Verdict>,
    #[serde(default)]
    pub contract_ref: Option<String>,
    pub score: f32,
    pub segments: Vec<SegmentHit>,
}
