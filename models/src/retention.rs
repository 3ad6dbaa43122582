//! Keeping only what the law allows: how long a client's calls are kept, and the legal holds
//! that keep a disputed call past every rule until two people release it.

use super::*;

/// How long a client's data is kept, counted from the call's start (or its arrival when the
/// start is unknown). CNIL: call recordings at most 6 months, the documents analysing them
/// (transcripts, findings, reviews) at most 1 year.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionPolicy {
    /// Days a recording is kept (default 183: six months).
    pub recordings_days: u32,
    /// Days a call's transcript, findings and reviews are kept; the call goes with them
    /// (default 365).
    pub analyses_days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            recordings_days: 183,
            analyses_days: 365,
        }
    }
}

/// What a hold covers: one call, or every call of a customer or a contract.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldTarget {
    Call(CallId),
    CustomerPhone(String),
    ContractRef(String),
}

impl HoldTarget {
    /// Whether this hold covers `call`.
    pub fn covers(&self, call: &Call) -> bool {
        match self {
            HoldTarget::Call(id) => *id == call.id,
            HoldTarget::CustomerPhone(p) => call.metadata.customer_phone.as_deref() == Some(p),
            HoldTarget::ContractRef(c) => call.metadata.contract_ref.as_deref() == Some(c),
        }
    }
}

/// A legal hold: nothing it covers is deleted, by retention or by an erasure request, until it
/// is released — which takes two different people: one asks, another confirms.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    pub id: String,
    pub client: String,
    pub target: HoldTarget,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: DateTime<Utc>,
    pub release_requested_by: Option<String>,
    pub release_requested_at: Option<DateTime<Utc>>,
    pub released_by: Option<String>,
    pub released_at: Option<DateTime<Utc>>,
}

impl LegalHold {
    pub fn is_active(&self) -> bool {
        self.released_at.is_none()
    }
}
