//! Commands for who may see what and what can be proven: API keys (`keys`), the evidence
//! signing key, proof-of-consent bundles (`evidence`) and the audit log (`audit`).
//!
//! The command line acts as the local operator (`local-cli`, an administrator): whoever can
//! run it on a data folder can read the folder anyway. Its key changes and evidence are still
//! written to the audit log, so the log tells the whole story.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use callproof_metastore::AuditFilter;
use callproof_models::{Actor, CallId, Role, Scope};
use chrono::{DateTime, FixedOffset, Utc};
use clap::{Args, Subcommand};

use crate::app::{App, Settings};
use crate::auth;
use callproof_evidence as evidence;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create an API key. The key is printed once: give it to its holder; only its hash is kept.
    Create {
        /// admin, quality_manager, agent or client.
        #[arg(long)]
        role: Role,
        /// The client (tenant) the key is limited to; repeat for staff assigned to several.
        #[arg(long = "client")]
        clients: Vec<callproof_models::ClientId>,
        /// Who holds it ("ADV Lyon", "Électricité du Centre portal").
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List API keys (never their secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API key: requests with it are refused (401) from now on.
    Revoke { id: String },
    /// Create the evidence signing key (ed25519) if it does not exist yet.
    Init,
    /// Print the evidence signing key's public half, for clients to check bundles with.
    Public,
}

pub async fn keys(data: &Path, settings: Settings, cmd: KeysCommand) -> Result<ExitCode> {
    match cmd {
        KeysCommand::Init => {
            let path = &settings.signing_key;
            if evidence::init_signing_key(path)? {
                println!("created the evidence signing key {}", path.display());
            } else {
                println!("the evidence signing key {} already exists", path.display());
            }
            let key = evidence::load_signing_key(path)?;
            println!(
                "public key: {}",
                hex::encode(key.verifying_key().to_bytes())
            );
        }
        KeysCommand::Public => {
            let key = evidence::load_signing_key(&settings.signing_key)?;
            println!("{}", hex::encode(key.verifying_key().to_bytes()));
        }
        KeysCommand::Create {
            role,
            clients,
            name,
            json,
        } => {
            let app = App::open(data, settings).await?;
            let (key, token) = auth::create_key(&*app.catalog, &name, role, &clients).await?;
            app.audit(
                &Actor::local(),
                crate::service::AuditAction::CreateKey,
                Some(&key.id),
                "ok",
            )
            .await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "key": key, "token": token })
                    )?
                );
            } else {
                println!("{token}");
                eprintln!(
                    "created key {} ({}{}); this is the only time it is shown",
                    key.id,
                    key.role,
                    if key.clients.is_empty() {
                        String::new()
                    } else {
                        format!(" for {}", key.clients.join(", "))
                    }
                );
            }
        }
        KeysCommand::List { json } => {
            let app = App::open(data, settings).await?;
            let keys = app.catalog.keys().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&keys)?);
                return Ok(ExitCode::SUCCESS);
            }
            if keys.is_empty() {
                println!("no API keys: create one with `callproof keys create --role admin`");
            }
            for k in keys {
                println!(
                    "{}  {:<16} {:<24} {:<28} {}",
                    k.id,
                    k.role.as_str(),
                    k.clients.join(","),
                    k.name,
                    match k.revoked_at {
                        Some(t) => format!("revoked {}", t.format("%Y-%m-%d %H:%M")),
                        None => format!("created {}", k.created_at.format("%Y-%m-%d %H:%M")),
                    }
                );
            }
        }
        KeysCommand::Revoke { id } => {
            let app = App::open(data, settings).await?;
            let key = app.catalog.revoke_key(&id).await?;
            app.audit(
                &Actor::local(),
                crate::service::AuditAction::RevokeKey,
                Some(&key.id),
                "ok",
            )
            .await?;
            println!("revoked key {} ({})", key.id, key.role);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct EvidenceArgs {
    #[command(subcommand)]
    pub verify: Option<EvidenceCommand>,
    /// The call to make a bundle for.
    pub id: Option<CallId>,
    /// Where to write the bundle (default: evidence-<call id>.zip).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Put the full original recording in the bundle too.
    #[arg(long)]
    pub include_original: bool,
}

#[derive(Subcommand)]
pub enum EvidenceCommand {
    /// Check a bundle (ZIP or extracted folder) against a public key.
    Verify {
        bundle: PathBuf,
        /// The signer's public key: 64 hex digits or a file holding them (`callproof keys public`).
        #[arg(long = "public-key")]
        public_key: String,
        #[arg(long)]
        json: bool,
    },
}

pub async fn evidence(data: &Path, settings: Settings, a: EvidenceArgs) -> Result<ExitCode> {
    if let Some(EvidenceCommand::Verify {
        bundle,
        public_key,
        json,
    }) = a.verify
    {
        let key = evidence::parse_public_key(&public_key)?;
        return match evidence::verify(&bundle, &key)? {
            Ok(v) => {
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(
                            &serde_json::json!({"valid": true, "bundle": v})
                        )?
                    );
                } else {
                    println!(
                        "valid: call {}, verdict {}, {} files intact, original SHA-256 {}",
                        v.call_id, v.verdict, v.files, v.original_sha256
                    );
                    println!("{}", v.consent.statement);
                    if let Some(c) = &v.carries {
                        println!("{}", c.statement);
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(problems) => {
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(
                            &serde_json::json!({"valid": false, "problems": problems})
                        )?
                    );
                } else {
                    println!("INVALID: {}", bundle.display());
                    for p in &problems {
                        println!("  {p}");
                    }
                }
                Ok(ExitCode::FAILURE)
            }
        };
    }
    let Some(id) = a.id else {
        bail!("give a call id (`callproof evidence CALL_ID`) or `callproof evidence verify BUNDLE --public-key KEY`");
    };
    let app = App::open(data, settings).await?;
    let zip = app
        .evidence(id, &Scope::All, &Actor::local(), a.include_original)
        .await?
        .with_context(|| format!("no call {id} in {}", data.display()))?;
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from(format!("evidence-{id}.zip")));
    std::fs::write(&out, &zip).with_context(|| format!("cannot write {}", out.display()))?;
    println!("wrote {} ({} bytes)", out.display(), zip.len());
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain and every signed checkpoint in the object store;
    /// names the first entry that was edited or removed.
    Verify {
        /// The evidence key's public half to check checkpoints with (64 hex digits or a file);
        /// default: the public half of the signing key.
        #[arg(long = "public-key")]
        public_key: Option<String>,
    },
    /// Seal the audit log's newest entry now with a signed checkpoint (`serve` does it every
    /// --audit-checkpoint-minutes).
    Checkpoint,
    /// List audit entries, oldest first.
    List {
        #[arg(long)]
        key_id: Option<String>,
        #[arg(long)]
        action: Option<String>,
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        target: Option<String>,
        #[arg(long)]
        from: Option<DateTime<FixedOffset>>,
        #[arg(long)]
        to: Option<DateTime<FixedOffset>>,
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

pub async fn audit(data: &Path, settings: Settings, cmd: AuditCommand) -> Result<ExitCode> {
    let app = App::open(data, settings).await?;
    match cmd {
        AuditCommand::Verify { public_key } => {
            let trusted = match public_key {
                Some(k) => Some(evidence::parse_public_key(&k)?),
                None => evidence::load_signing_key(&app.settings.signing_key)
                    .ok()
                    .map(|k| k.verifying_key()),
            };
            let check = app.check_audit(trusted.as_ref()).await?;
            match check.broken {
                None => {
                    let sealed = match check.last_sealed {
                        Some(s) => format!(
                            "{} signed checkpoints agree (newest seals entry {s})",
                            check.checkpoints
                        ),
                        None => "no signed checkpoint yet (`callproof audit checkpoint`)".into(),
                    };
                    println!(
                        "audit log intact: {} entries, hash chain verified; {sealed}",
                        check.entries
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(b) => {
                    println!("audit log TAMPERED at entry {}: {}", b.seq, b.reason);
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AuditCommand::Checkpoint => match app.write_checkpoint(None).await? {
            Some(seq) => {
                println!("audit log sealed at entry {seq} (signed checkpoint in the object store)");
                Ok(ExitCode::SUCCESS)
            }
            None => {
                println!("the audit log is empty: nothing to seal");
                Ok(ExitCode::SUCCESS)
            }
        },
        AuditCommand::List {
            key_id,
            action,
            tenant,
            target,
            from,
            to,
            limit,
            json,
        } => {
            let entries = app
                .catalog
                .audit_entries(&AuditFilter {
                    key_id,
                    action,
                    tenant,
                    target,
                    from: from.map(|t| t.with_timezone(&Utc)),
                    to: to.map(|t| t.with_timezone(&Utc)),
                    limit: Some(limit),
                })
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
            } else {
                for e in entries {
                    println!(
                        "{:>6}  {}  {:<10} {:<16} {:<16} {:<40} {}",
                        e.seq,
                        e.at.format("%Y-%m-%d %H:%M:%S"),
                        e.actor.key_id,
                        e.actor.role.as_str(),
                        e.action,
                        e.target.unwrap_or_default(),
                        e.outcome
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
