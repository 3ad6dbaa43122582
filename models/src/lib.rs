//! callproof's domain vocabulary, shared by every crate.
//!
//! These are plain serde types with no I/O so that ingest, transcription, search and the API
//! agree on one meaning of "call", "speaker" or "segment" without depending on each other. One
//! module per area; everything is re-exported here, so `callproof_models::Call` is the path.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

mod access;
mod call;
mod ids;
mod quality;
mod reading;
mod redaction;
mod retention;
mod transcript;
mod verification;

pub use access::*;
pub use call::*;
pub use ids::*;
pub use quality::*;
pub use reading::*;
pub use redaction::*;
pub use retention::*;
pub use transcript::*;
pub use verification::*;

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
    fn verdict_is_the_worst_finding() {
        let f = |status| Finding {
            rule_id: "r".into(),
            kind: RuleKind::Required,
            outcome: Outcome::Met,
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
        };
        use FindingStatus::*;
        assert_eq!(Verdict::of(&[]), Verdict::Compliant);
        assert_eq!(Verdict::of(&[f(Pass), f(Pass)]), Verdict::Compliant);
        assert_eq!(Verdict::of(&[f(Pass), f(Review)]), Verdict::NeedsReview);
        assert_eq!(Verdict::of(&[f(Review), f(Fail)]), Verdict::Violation);
        assert_eq!("needs-review".parse::<Verdict>(), Ok(Verdict::NeedsReview));
        let refusal = Finding {
            kind: RuleKind::Consent,
            outcome: Outcome::Refused,
            ..f(Fail)
        };
        assert_eq!(Verdict::of(&[f(Pass), refusal.clone()]), Verdict::NoSale);
        // A breach in a refused call is still a violation; doubt still needs a person.
        assert_eq!(Verdict::of(&[refusal.clone(), f(Fail)]), Verdict::Violation);
        assert_eq!(Verdict::of(&[refusal, f(Review)]), Verdict::NeedsReview);
        assert_eq!("no-sale".parse::<Verdict>(), Ok(Verdict::NoSale));
    }

    #[test]
    fn client_ids_are_valid_or_do_not_exist() {
        for good in ["acme", "edc-2026", "a.b_c", "X"] {
            assert_eq!(ClientId::new(good).unwrap().as_str(), good);
        }
        for bad in ["", ".hidden", "a/b", "../x", "é", &"x".repeat(65)] {
            assert!(ClientId::new(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<ClientId>("\"../x\"").is_err());
        let s = SampleId::new();
        assert_eq!(s.as_str().parse::<SampleId>().unwrap(), s);
        assert!("nope".parse::<CalibrationId>().is_err());
        assert!(serde_json::from_str::<ReviewId>("\"../x\"").is_err());
        let c: ClientId = serde_json::from_str("\"acme\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"acme\"");
    }

    #[test]
    fn call_state_serialises_with_reason() {
        let s = serde_json::to_string(&CallState::Failed("bad codec".into())).unwrap();
        assert_eq!(s, r#"{"state":"failed","reason":"bad codec"}"#);
    }
}
