//! Keeping only what the law allows: retention (recordings 6 months, analyses 12 months by
//! default, per client in its rule set), legal holds released by two different people, erasure
//! and access requests of a customer.
//!
//! Deleting a call removes it everywhere it lives: the object store (its recording), the
//! catalog (the call, transcript, findings, redaction record, reviews, jobs: one cascade), the
//! search index. Nothing under an active hold is deleted, by retention or by erasure; holds,
//! releases, runs and erasures are audited, but not the erased data (the audit log says that an
//! erasure happened, by whom and how many calls, never whose).

use std::collections::BTreeMap;

use anyhow::Result;
use callproof_models::{Call, CallId, ClientId, HoldTarget, LegalHold, Scope};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::app::App;
use crate::cli::count;
use crate::service::{allow, AuditAction, Caller, Permission, ServiceError};

/// What a retention run deleted (or, dry, would delete).
#[derive(Debug, Default, Serialize)]
pub struct RetentionReport {
    pub dry_run: bool,
    /// Calls whose recording expired: the recording is deleted, the analyses stay.
    pub recordings_deleted: Vec<CallId>,
    /// Calls whose analyses expired: deleted everywhere.
    pub calls_deleted: Vec<CallId>,
    /// Calls past a retention period but under a legal hold: kept.
    pub held: Vec<CallId>,
}

/// What an erasure request did.
#[derive(Debug, Serialize)]
pub struct ErasureReport {
    pub erased: Vec<CallId>,
    /// Calls of the customer under a legal hold: kept, and named here.
    pub held: Vec<CallId>,
}

/// Who acts on a hold: the caller's key id, or the name the operator gave at the command line
/// (the two-person rule needs people, not "the operator").
fn person(caller: &Caller, named: Option<&str>) -> Result<String, ServiceError> {
    match (caller.api_key(), named) {
        (Some(k), _) => Ok(k.id.clone()),
        (None, Some(n)) if !n.trim().is_empty() => Ok(format!("local:{}", n.trim())),
        (None, _) => Err(ServiceError::Invalid(
            "say who you are with --by NAME: holds are placed and released by named people".into(),
        )),
    }
}

impl App {
    /// Places a legal hold on a call or on every call of a customer phone or a contract.
    pub async fn place_hold(
        &self,
        caller: &Caller,
        by: Option<&str>,
        client: &ClientId,
        target: HoldTarget,
        reason: &str,
    ) -> Result<LegalHold> {
        allow(caller, Permission::Compliance(client))?;
        let who = person(caller, by)?;
        if reason.trim().is_empty() {
            return Err(ServiceError::Invalid(
                "a hold needs its reason (the dispute, the case number)".into(),
            )
            .into());
        }
        let target = match target {
            HoldTarget::CustomerPhone(p) => HoldTarget::CustomerPhone(
                callproof_ingest::normalise_phone(&p).map_err(ServiceError::Invalid)?,
            ),
            HoldTarget::Call(id) => {
                let scope = Scope::Clients(vec![client.to_string()]);
                if self.catalog.get_in(id, &scope).await?.is_none() {
                    return Err(ServiceError::NotFound(format!("no call {id}")).into());
                }
                HoldTarget::Call(id)
            }
            other => other,
        };
        let hold = LegalHold {
            id: uuid::Uuid::now_v7().to_string(),
            client: client.to_string(),
            target,
            reason: reason.trim().to_string(),
            placed_by: who,
            placed_at: Utc::now(),
            release_requested_by: None,
            release_requested_at: None,
            released_by: None,
            released_at: None,
        };
        self.catalog.put_hold(&hold).await?;
        self.record(caller, AuditAction::PlaceHold, Some(&hold.id), "ok")
            .await?;
        Ok(hold)
    }

    /// Asks for a hold's release, or confirms a release another person asked for: a hold ends
    /// only when two different people have agreed.
    pub async fn release_hold(
        &self,
        caller: &Caller,
        by: Option<&str>,
        id: &str,
    ) -> Result<LegalHold> {
        let who = person(caller, by)?;
        let mut hold = self
            .catalog
            .hold(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no legal hold {id}")))?;
        let client = crate::service::client_named(&hold.client)?;
        allow(caller, Permission::Compliance(&client))?;
        if !hold.is_active() {
            return Err(
                ServiceError::Conflict(format!("the hold {id} is already released")).into(),
            );
        }
        let outcome = match &hold.release_requested_by {
            None => {
                hold.release_requested_by = Some(who);
                hold.release_requested_at = Some(Utc::now());
                "release_requested"
            }
            Some(first) if *first == who => {
                return Err(ServiceError::Conflict(format!(
                    "{who} already asked for this hold's release: a second, different person must confirm it"
                ))
                .into())
            }
            Some(_) => {
                hold.released_by = Some(who);
                hold.released_at = Some(Utc::now());
                "released"
            }
        };
        self.catalog.put_hold(&hold).await?;
        self.record(caller, AuditAction::ReleaseHold, Some(id), outcome)
            .await?;
        Ok(hold)
    }

    /// The holds `caller` may see.
    pub async fn list_holds(&self, caller: &Caller, active_only: bool) -> Result<Vec<LegalHold>> {
        let all = self.catalog.holds(None, active_only).await?;
        Ok(all
            .into_iter()
            .filter(|h| {
                crate::service::client_named(&h.client)
                    .is_ok_and(|c| allow(caller, Permission::Compliance(&c)).is_ok())
            })
            .collect())
    }

    /// Whether an active hold covers `call`.
    async fn held(&self, call: &Call, holds: &[LegalHold]) -> bool {
        holds
            .iter()
            .any(|h| h.client == call.metadata.client && h.target.covers(call))
    }

    /// Deletes a call everywhere it lives: its recording (and a kept original), the search
    /// index, then the catalog (the call and everything that refers to it).
    async fn delete_everywhere(&self, call: &Call) -> Result<()> {
        if let Ok(key) = self.original_key(call.id, &Scope::All).await {
            self.store.discard(&key).await?;
        }
        if let Ok(original) = callproof_storage::ObjectKey::original(
            &call.metadata.client,
            call.id,
            call.audio
                .as_ref()
                .and_then(|a| a.format.split('/').next())
                .unwrap_or("wav"),
        ) {
            // An unredacted original kept by policy beside the redacted one.
            let _ = self.store.discard(&original).await;
        }
        let id = call.id;
        tokio::task::block_in_place(|| self.write_index(|index| index.remove_call(id)))?;
        self.catalog.delete(call.id).await?;
        Ok(())
    }

    /// Applies every client's retention periods at `now`: recordings past theirs are deleted,
    /// calls past their analyses' period are deleted everywhere; held calls are kept.
    pub async fn retention_run(
        &self,
        caller: &Caller,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<RetentionReport> {
        allow(caller, Permission::ReadAuditLog)
            .map_err(|_| ServiceError::Forbidden("only administrators run retention".into()))?;
        let holds = self.catalog.holds(None, true).await?;
        let mut report = RetentionReport {
            dry_run,
            ..Default::default()
        };
        let mut policies = BTreeMap::new();
        for call in self.catalog.list(usize::MAX >> 1).await? {
            let lang = call
                .metadata
                .language
                .clone()
                .unwrap_or_else(|| "fr".into());
            let key = (call.metadata.client.clone(), lang.clone());
            if !policies.contains_key(&key) {
                let (book, _) = self.rules_for(&call.metadata.client, &lang).await?;
                policies.insert(key.clone(), book.retention);
            }
            let policy = &policies[&key];
            let from = call
                .metadata
                .started_at
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(call.received_at);
            let age_days = (now - from).num_days();
            let analyses_expired = age_days >= policy.analyses_days as i64;
            let has_recording = self
                .catalog
                .object_key_in(call.id, &Scope::All)
                .await?
                .is_some_and(|k| !k.is_empty());
            let recording_expired = has_recording && age_days >= policy.recordings_days as i64;
            if !analyses_expired && !recording_expired {
                continue;
            }
            if self.held(&call, &holds).await {
                report.held.push(call.id);
                continue;
            }
            if analyses_expired {
                if !dry_run {
                    self.delete_everywhere(&call).await?;
                }
                report.calls_deleted.push(call.id);
            } else {
                if !dry_run {
                    let key = self.original_key(call.id, &Scope::All).await?;
                    self.store.discard(&key).await?;
                    self.catalog
                        .replace_original(call.id, "", "deleted", 0)
                        .await?;
                }
                report.recordings_deleted.push(call.id);
            }
        }
        if !dry_run {
            self.record(
                caller,
                AuditAction::RetentionRun,
                None,
                &format!(
                    "deleted {} and {}; {} held",
                    count(report.recordings_deleted.len(), "recording", "recordings"),
                    count(report.calls_deleted.len(), "call", "calls"),
                    report.held.len()
                ),
            )
            .await?;
        }
        Ok(report)
    }

    /// The calls of a client's customer, by phone number (any writing) or contract reference.
    async fn calls_of_subject(
        &self,
        client: &ClientId,
        phone: Option<&str>,
        contract: Option<&str>,
    ) -> Result<Vec<Call>> {
        let phone = phone
            .map(callproof_ingest::normalise_phone)
            .transpose()
            .map_err(ServiceError::Invalid)?;
        if phone.is_none() && contract.is_none() {
            return Err(
                ServiceError::Invalid("name the customer: --phone or --contract".into()).into(),
            );
        }
        let scope = Scope::Clients(vec![client.to_string()]);
        Ok(self
            .catalog
            .list_in(&scope, usize::MAX >> 1)
            .await?
            .into_iter()
            .filter(|c| {
                phone
                    .as_deref()
                    .is_none_or(|p| c.metadata.customer_phone.as_deref() == Some(p))
                    && contract.is_none_or(|k| c.metadata.contract_ref.as_deref() == Some(k))
            })
            .collect())
    }

    /// An erasure request: every call of the customer is deleted everywhere, except those under
    /// a hold, which are reported. The audit log records that it happened and how many calls,
    /// never the customer.
    pub async fn erase_subject(
        &self,
        caller: &Caller,
        client: &ClientId,
        phone: Option<&str>,
        contract: Option<&str>,
    ) -> Result<ErasureReport> {
        allow(caller, Permission::Compliance(client))?;
        let holds = self.catalog.holds(Some(client), true).await?;
        let mut report = ErasureReport {
            erased: Vec::new(),
            held: Vec::new(),
        };
        for call in self.calls_of_subject(client, phone, contract).await? {
            if self.held(&call, &holds).await {
                report.held.push(call.id);
            } else {
                self.delete_everywhere(&call).await?;
                report.erased.push(call.id);
            }
        }
        self.record(
            caller,
            AuditAction::Erase,
            Some(client.as_str()),
            &format!(
                "erased {}; {} held",
                count(report.erased.len(), "call", "calls"),
                report.held.len()
            ),
        )
        .await?;
        Ok(report)
    }

    /// An access request: everything held about a customer (calls, transcripts, findings,
    /// redaction records) as one ZIP of JSON files.
    pub async fn export_subject(
        &self,
        caller: &Caller,
        client: &ClientId,
        phone: Option<&str>,
        contract: Option<&str>,
    ) -> Result<(usize, Vec<u8>)> {
        use std::io::Write;
        allow(caller, Permission::Compliance(client))?;
        let calls = self.calls_of_subject(client, phone, contract).await?;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        let mut put = |name: String, value: &dyn erased::Json| -> Result<()> {
            zip.start_file(name, opts)?;
            zip.write_all(&value.json()?)?;
            Ok(())
        };
        for call in &calls {
            let dir = call.id.to_string();
            put(format!("{dir}/call.json"), call)?;
            if let Some(t) = self.catalog.transcript_in(call.id, &Scope::All).await? {
                put(format!("{dir}/transcript.json"), &t)?;
            }
            if let Some(v) = self.catalog.verification_in(call.id, &Scope::All).await? {
                put(format!("{dir}/findings.json"), &v)?;
            }
            if let Some(r) = self.catalog.redaction_in(call.id, &Scope::All).await? {
                put(format!("{dir}/redaction.json"), &r)?;
            }
            let reviews = self.catalog.reviews(call.id).await?;
            if !reviews.is_empty() {
                put(format!("{dir}/reviews.json"), &reviews)?;
            }
        }
        let bytes = zip.finish()?.into_inner();
        self.record(
            caller,
            AuditAction::ExportSubject,
            Some(client.as_str()),
            &format!("exported {}", count(calls.len(), "call", "calls")),
        )
        .await?;
        Ok((calls.len(), bytes))
    }
}

/// Serialising values of different types through one closure.
mod erased {
    pub trait Json {
        fn json(&self) -> anyhow::Result<Vec<u8>>;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> anyhow::Result<Vec<u8>> {
            Ok(serde_json::to_vec_pretty(self)?)
        }
    }
}

/// Runs retention once a day while `serve` runs (first an hour after start).
pub async fn janitor(app: std::sync::Arc<App>) {
    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    loop {
        match app.retention_run(&Caller::local(), Utc::now(), false).await {
            Ok(r) if !r.recordings_deleted.is_empty() || !r.calls_deleted.is_empty() => {
                eprintln!(
                    "retention: deleted {} and {}; {} held",
                    count(r.recordings_deleted.len(), "recording", "recordings"),
                    count(r.calls_deleted.len(), "call", "calls"),
                    r.held.len()
                )
            }
            Ok(_) => {}
            Err(e) => eprintln!("retention run failed: {e:#}"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(24 * 3600)).await;
    }
}

/// `callproof hold …`
#[derive(clap::Subcommand)]
pub enum HoldCommand {
    /// Place a legal hold on a call, or on every call of a customer phone or a contract.
    Place {
        #[arg(long)]
        client: String,
        #[arg(long, conflicts_with_all = ["phone", "contract"])]
        call: Option<CallId>,
        #[arg(long, conflicts_with = "contract")]
        phone: Option<String>,
        #[arg(long)]
        contract: Option<String>,
        /// Why (the dispute, the case number).
        #[arg(long)]
        reason: String,
        /// Who places it.
        #[arg(long)]
        by: String,
    },
    /// Ask for a hold's release, or confirm one another person asked for.
    Release {
        id: String,
        /// Who asks or confirms: a different person from the one who asked.
        #[arg(long)]
        by: String,
    },
    /// List holds (active ones unless --all).
    List {
        #[arg(long)]
        all: bool,
    },
}

/// `callproof retention …`
#[derive(clap::Subcommand)]
pub enum RetentionCommand {
    /// Delete what is past its retention period (recordings, then calls), except held calls;
    /// says what it deleted.
    Run(RetentionArgs),
}

#[derive(clap::Args)]
pub struct RetentionArgs {
    /// Show what would be deleted, delete nothing.
    #[arg(long)]
    dry_run: bool,
    /// The date to apply the periods at (default: now), RFC 3339.
    #[arg(long)]
    now: Option<DateTime<chrono::FixedOffset>>,
}

#[derive(clap::Args)]
pub struct SubjectArgs {
    #[arg(long)]
    client: String,
    /// The customer's phone number, in any writing.
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    contract: Option<String>,
    /// Where to write the archive (export-subject).
    #[arg(short = 'o', long)]
    out: Option<std::path::PathBuf>,
}

fn client_arg(name: &str) -> Result<ClientId> {
    ClientId::new(name.to_string()).map_err(|e| anyhow::anyhow!("--client: {e}"))
}

pub async fn hold(
    data: &std::path::Path,
    settings: crate::app::Settings,
    cmd: HoldCommand,
) -> Result<std::process::ExitCode> {
    let app = App::open(data, settings).await?;
    let caller = Caller::local();
    match cmd {
        HoldCommand::Place {
            client,
            call,
            phone,
            contract,
            reason,
            by,
        } => {
            let target = match (call, phone, contract) {
                (Some(c), _, _) => HoldTarget::Call(c),
                (_, Some(p), _) => HoldTarget::CustomerPhone(p),
                (_, _, Some(k)) => HoldTarget::ContractRef(k),
                _ => anyhow::bail!("what to hold: --call, --phone or --contract"),
            };
            let h = app
                .place_hold(&caller, Some(&by), &client_arg(&client)?, target, &reason)
                .await?;
            println!("{}", serde_json::to_string_pretty(&h)?);
        }
        HoldCommand::Release { id, by } => {
            let h = app.release_hold(&caller, Some(&by), &id).await?;
            if h.is_active() {
                println!(
                    "release of hold {id} asked by {by}; a second, different person confirms it with `callproof hold release {id} --by NAME`"
                );
            } else {
                println!(
                    "hold {id} released (asked by {}, confirmed by {by})",
                    h.release_requested_by.unwrap_or_default()
                );
            }
        }
        HoldCommand::List { all } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&app.list_holds(&caller, !all).await?)?
            );
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

pub async fn retention(
    data: &std::path::Path,
    settings: crate::app::Settings,
    cmd: RetentionCommand,
) -> Result<std::process::ExitCode> {
    let RetentionCommand::Run(args) = cmd;
    let app = App::open(data, settings).await?;
    let now = args.now.map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    let r = app
        .retention_run(&Caller::local(), now, args.dry_run)
        .await?;
    println!("{}", serde_json::to_string_pretty(&r)?);
    Ok(std::process::ExitCode::SUCCESS)
}

pub async fn erase(
    data: &std::path::Path,
    settings: crate::app::Settings,
    args: SubjectArgs,
) -> Result<std::process::ExitCode> {
    let app = App::open(data, settings).await?;
    let r = app
        .erase_subject(
            &Caller::local(),
            &client_arg(&args.client)?,
            args.phone.as_deref(),
            args.contract.as_deref(),
        )
        .await?;
    println!("{}", serde_json::to_string_pretty(&r)?);
    Ok(std::process::ExitCode::SUCCESS)
}

pub async fn export_subject(
    data: &std::path::Path,
    settings: crate::app::Settings,
    args: SubjectArgs,
) -> Result<std::process::ExitCode> {
    let app = App::open(data, settings).await?;
    let out = args
        .out
        .ok_or_else(|| anyhow::anyhow!("where to write the archive: -o FILE.zip"))?;
    let (n, zip) = app
        .export_subject(
            &Caller::local(),
            &client_arg(&args.client)?,
            args.phone.as_deref(),
            args.contract.as_deref(),
        )
        .await?;
    std::fs::write(&out, zip)?;
    println!("{} written to {}", count(n, "call", "calls"), out.display());
    Ok(std::process::ExitCode::SUCCESS)
}
