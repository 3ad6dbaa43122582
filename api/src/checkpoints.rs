//! Sealing the audit log: signed checkpoints written to the object store, and the check of the
//! log against them (`callproof audit verify`).
//!
//! `serve` seals the log's head every `--audit-checkpoint-minutes`; `callproof audit checkpoint`
//! seals it at once. See `callproof_evidence::checkpoint` for why a signature outside the
//! catalog is what makes rewriting the log detectable.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use callproof_evidence::checkpoint::Checkpoint;
use callproof_evidence::VerifyingKey;
use callproof_metastore::AuditBreak;
use callproof_storage::StoreError;

use crate::app::App;

/// What checking the audit log found.
#[derive(Debug, serde::Serialize)]
pub struct AuditCheck {
    /// Entries in the log, when its chain holds.
    pub entries: u64,
    /// Signed checkpoints found in the object store and checked.
    pub checkpoints: usize,
    /// The newest entry a checkpoint seals.
    pub last_sealed: Option<u64>,
    /// Where the log fails, if it does: the chain itself, or a checkpoint it no longer matches.
    pub broken: Option<AuditBreak>,
}

impl App {
    /// Seals the newest audit entry unless `sealed` (the last entry already sealed) is it.
    /// Returns the entry sealed now.
    pub async fn write_checkpoint(&self, sealed: Option<u64>) -> Result<Option<u64>> {
        let Some(last) = self.catalog.audit_last().await? else {
            return Ok(None);
        };
        if sealed == Some(last.seq) {
            return Ok(None);
        }
        let key = callproof_evidence::load_signing_key(&self.settings.signing_key)?;
        let c = Checkpoint::sign(last.seq, &last.hash, &key);
        match self
            .store
            .put_checkpoint(last.seq, c.to_json().into())
            .await
        {
            // Another node sealed the same entry: it is sealed.
            Ok(()) | Err(StoreError::Exists { .. }) => Ok(Some(last.seq)),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks the hash chain, then every signed checkpoint against `trusted` and against the
    /// entry it seals.
    pub async fn check_audit(&self, trusted: Option<&VerifyingKey>) -> Result<AuditCheck> {
        let entries = match self.catalog.verify_audit().await? {
            Ok(n) => n,
            Err(b) => {
                return Ok(AuditCheck {
                    entries: 0,
                    checkpoints: 0,
                    last_sealed: None,
                    broken: Some(b),
                })
            }
        };
        let stored = self.store.checkpoints().await?;
        let mut check = AuditCheck {
            entries,
            checkpoints: 0,
            last_sealed: None,
            broken: None,
        };
        let Some(trusted) = trusted else {
            if !stored.is_empty() {
                anyhow::bail!(
                    "{} signed checkpoints cannot be checked without the evidence key's public half: give --public-key (from `callproof keys public`) or the signing key",
                    stored.len()
                );
            }
            return Ok(check);
        };
        for (seq, body) in stored {
            let brk = |reason: String| Some(AuditBreak { seq, reason });
            let c = match Checkpoint::verified(&body, trusted) {
                Ok(c) if c.seq == seq => c,
                Ok(c) => {
                    check.broken = brk(format!(
                        "the checkpoint stored as entry {seq} seals entry {} (renamed)",
                        c.seq
                    ));
                    break;
                }
                Err(e) => {
                    check.broken = brk(e.to_string());
                    break;
                }
            };
            check.checkpoints += 1;
            let at = c.at.format("%Y-%m-%d %H:%M:%S UTC");
            match self.catalog.audit_entry(seq).await? {
                None => {
                    check.broken = brk(format!(
                        "a checkpoint signed {at} sealed {seq} entries, but the log now holds {entries}: entries were deleted and the chain recomputed"
                    ));
                    break;
                }
                Some(e) if e.hash != c.hash => {
                    check.broken = brk(format!(
                        "entry {seq} no longer has the hash its checkpoint signed {at} sealed: the log before it was rewritten"
                    ));
                    break;
                }
                Some(_) => check.last_sealed = Some(seq),
            }
        }
        Ok(check)
    }
}

/// Seals the audit log every `every`, while the server runs. A missing signing key is said
/// once, not at every turn.
pub async fn checkpointer(app: Arc<App>, every: Duration) {
    let mut sealed = None;
    let mut warned = false;
    loop {
        match app.write_checkpoint(sealed).await {
            Ok(Some(seq)) => sealed = Some(seq),
            Ok(None) => {}
            Err(e) if !warned => {
                tracing::warn!("the audit log cannot be sealed: {e:#}");
                eprintln!(
                    "warning: the audit log cannot be sealed with a signed checkpoint: {e:#}"
                );
                warned = true;
            }
            Err(_) => {}
        }
        tokio::time::sleep(every).await;
    }
}
