//! A call as recorded: who spoke on which channel, what a person said about it, what was
//! found decoding it, where it is in the pipeline.

use super::*;

/// Who speaks on a channel. Stereo call recordings put one party on each channel.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The customer's IANA time zone ("Europe/Paris"), for calling-hours rules; the rule's
    /// own time zone when absent.
    #[serde(default)]
    pub customer_timezone: Option<String>,
}

/// Where a call is in the pipeline.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioInfo {
    /// Container/codec as detected, e.g. "wav/pcm_mulaw".
    pub format: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub duration_ms: u64,
}

/// A call as the catalog knows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
