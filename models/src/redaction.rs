//! Redaction: what kind of personal or payment data a stretch of a call holds, a client's
//! policy for it, and the record of what was removed from a call (kept instead of the data).

use std::collections::BTreeSet;

use super::*;

/// What kind of personal or payment data a span holds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    Card,
    Cvv,
    Expiry,
    Iban,
    Email,
    BirthDate,
    SocialSecurity,
}

impl PiiKind {
    pub const ALL: [PiiKind; 7] = [
        PiiKind::Card,
        PiiKind::Cvv,
        PiiKind::Expiry,
        PiiKind::Iban,
        PiiKind::Email,
        PiiKind::BirthDate,
        PiiKind::SocialSecurity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Card => "card",
            PiiKind::Cvv => "cvv",
            PiiKind::Expiry => "expiry",
            PiiKind::Iban => "iban",
            PiiKind::Email => "email",
            PiiKind::BirthDate => "birth_date",
            PiiKind::SocialSecurity => "social_security",
        }
    }

    /// What the redacted text reads instead, in the call's language.
    pub fn label(self, language: &str) -> &'static str {
        let fr = language != "en";
        match self {
            PiiKind::Card => {
                if fr {
                    "[CARTE]"
                } else {
                    "[CARD]"
                }
            }
            PiiKind::Cvv => "[CVV]",
            PiiKind::Expiry => {
                if fr {
                    "[EXPIRATION]"
                } else {
                    "[EXPIRY]"
                }
            }
            PiiKind::Iban => "[IBAN]",
            PiiKind::Email => "[EMAIL]",
            PiiKind::BirthDate => {
                if fr {
                    "[NAISSANCE]"
                } else {
                    "[BIRTH DATE]"
                }
            }
            PiiKind::SocialSecurity => {
                if fr {
                    "[SECU]"
                } else {
                    "[SSN]"
                }
            }
        }
    }

    /// Payment data: no unredacted copy of it may remain anywhere (PCI DSS 3.3.1, 3.5.1).
    pub fn is_payment(self) -> bool {
        matches!(
            self,
            PiiKind::Card | PiiKind::Cvv | PiiKind::Expiry | PiiKind::Iban
        )
    }
}

impl std::str::FromStr for PiiKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PiiKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown redaction type {s:?}; use {}",
                    PiiKind::ALL.map(PiiKind::as_str).join(", ")
                )
            })
    }
}

/// One redaction: what, who said it, and when (the words' times).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactionSpan {
    pub kind: PiiKind,
    pub speaker: Speaker,
    pub channel: u16,
    pub start_ms: u64,
    pub end_ms: u64,
    /// Why: the context word or the checksum that decided it ("payment context: cryptogramme",
    /// "Luhn checksum"). Never the data itself.
    pub reason: String,
}

/// What the audio over a span becomes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactionAudio {
    #[default]
    Silence,
    /// A 1 kHz tone, so that a listener hears that something was removed.
    Tone,
}

/// A client's redaction policy (`[redaction]` in its rule set).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedactionPolicy {
    /// The kinds redacted (default: all).
    pub types: BTreeSet<PiiKind>,
    pub audio: RedactionAudio,
    /// Keep the unredacted original beside the redacted one. Refused for payment data: no
    /// unredacted copy of a card number or code may remain (default: false).
    pub keep_original: bool,
    /// Audio removed before and after each span, for words whose times are a little off.
    pub margin_ms: u64,
}

impl Default for RedactionPolicy {
    fn default() -> Self {
        Self {
            types: PiiKind::ALL.into_iter().collect(),
            audio: RedactionAudio::Silence,
            keep_original: false,
            margin_ms: 250,
        }
    }
}

impl RedactionPolicy {
    /// Whether this policy lets the unredacted original stay, given what was found.
    pub fn keeps_original(&self, spans: &[RedactionSpan]) -> bool {
        self.keep_original && !spans.iter().any(|s| s.kind.is_payment())
    }
}

/// What was removed from a call, kept in the catalog instead of the data: the spans with their
/// kinds and times, and the SHA-256 of the recording before and after, so that evidence can
/// show what was removed and why.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Redaction {
    pub call_id: CallId,
    pub spans: Vec<RedactionSpan>,
    pub audio: RedactionAudio,
    /// SHA-256 of the recording as received.
    pub original_sha256: String,
    /// SHA-256 of the redacted recording that replaced it (none when nothing was found).
    pub redacted_sha256: Option<String>,
    /// Whether the unredacted original was kept (never for payment data).
    pub original_kept: bool,
    pub at: DateTime<Utc>,
}
