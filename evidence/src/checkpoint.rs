//! Signed audit checkpoints: the audit log's head (an entry's number and hash) signed with the
//! evidence key and kept, create-only, in the object store.
//!
//! The audit log's hash chain shows an edit, but someone who can write the catalog can delete
//! entries and recompute every hash after them. A checkpoint made before that still names the
//! old hash of its entry, and forging a new checkpoint needs the signing key, which lives
//! outside the data folder. Rewriting history therefore needs the catalog, the store *and* the
//! key; with an object store that keeps objects for a set time (S3 Object Lock), not even that.

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::{EvidenceError, Result};

pub const CHECKPOINT_FORMAT: &str = "callproof-audit-checkpoint/1";

/// One checkpoint as stored (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub format: String,
    /// The audit entry sealed: its number and its hash.
    pub seq: u64,
    pub hash: String,
    pub at: DateTime<Utc>,
    /// The signer's public key (hex), for reading; verification uses the key the verifier
    /// trusts, never this one.
    pub public_key: String,
    /// ed25519 signature (hex) of [`Checkpoint::signed_text`].
    pub signature: String,
}

impl Checkpoint {
    fn signed_text(seq: u64, hash: &str, at: &DateTime<Utc>) -> String {
        format!(
            "{CHECKPOINT_FORMAT}\n{seq}\n{hash}\n{}",
            at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        )
    }

    /// Seals entry `seq` whose hash is `hash`.
    pub fn sign(seq: u64, hash: &str, key: &SigningKey) -> Self {
        let at = Utc::now();
        let sig = key.sign(Self::signed_text(seq, hash, &at).as_bytes());
        Self {
            format: CHECKPOINT_FORMAT.into(),
            seq,
            hash: hash.into(),
            at,
            public_key: hex::encode(key.verifying_key().to_bytes()),
            signature: hex::encode(sig.to_bytes()),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Reads a stored checkpoint and checks its signature against `trusted`.
    pub fn verified(json: &[u8], trusted: &VerifyingKey) -> Result<Self> {
        let c: Checkpoint = serde_json::from_slice(json)
            .map_err(|e| EvidenceError(format!("not an audit checkpoint: {e}")))?;
        if c.format != CHECKPOINT_FORMAT {
            return Err(EvidenceError(format!(
                "unknown checkpoint format {:?}",
                c.format
            )));
        }
        let sig = hex::decode(&c.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .map(|b| Signature::from_bytes(&b))
            .ok_or_else(|| {
                EvidenceError("the checkpoint's signature is not 64 bytes of hex".into())
            })?;
        trusted
            .verify(Self::signed_text(c.seq, &c.hash, &c.at).as_bytes(), &sig)
            .map_err(|_| {
                EvidenceError(format!(
                    "the checkpoint of entry {} is not signed by the trusted key (forged, altered, or signed by another key)",
                    c.seq
                ))
            })?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_verify_only_intact_and_with_the_trusted_key() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let other = SigningKey::from_bytes(&[8u8; 32]);
        let c = Checkpoint::sign(26, "ab".repeat(32).as_str(), &key);
        let json = c.to_json();
        assert_eq!(
            Checkpoint::verified(&json, &key.verifying_key()).unwrap(),
            c
        );
        assert!(Checkpoint::verified(&json, &other.verifying_key()).is_err());
        let mut edited: Checkpoint = serde_json::from_slice(&json).unwrap();
        edited.hash = "cd".repeat(32);
        assert!(Checkpoint::verified(&edited.to_json(), &key.verifying_key()).is_err());
        edited = c.clone();
        edited.seq = 25;
        assert!(Checkpoint::verified(&edited.to_json(), &key.verifying_key()).is_err());
    }
}
