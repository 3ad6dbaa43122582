//! Commands around script verification: rule sets (`rules`), re-running them over the archive
//! (`verify`) and a call's findings (`findings`).
//!
//! Kept apart from `cli.rs` because these are the quality manager's commands, with their own
//! presentation: rule listings, verdict changes and evidence with times.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use callproof_models::ClientId;
use callproof_models::{CallId, FindingStatus, RuleSetRef, Verification};
use callproof_verify::{RuleBook, PACKS};
use clap::{Args, Subcommand};
use indicatif::ProgressBar;

use crate::app::{App, RulesError, Settings};
use crate::cli::clock;

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Validate a rule set file and list the rules it resolves to (with its pack); stores nothing.
    Check { file: PathBuf },
    /// Validate a rule set file and store it as the client's active rule set.
    Put {
        #[arg(long)]
        client: ClientId,
        file: PathBuf,
    },
    /// Print a client's rule set (active or given version), or a built-in pack.
    Show {
        #[arg(long, required_unless_present = "pack")]
        client: Option<String>,
        #[arg(long)]
        version: Option<u32>,
        /// A built-in pack: fr-demarchage, en-sales.
        #[arg(long, conflicts_with = "client")]
        pack: Option<String>,
    },
    /// List a client's stored rule set versions.
    List {
        #[arg(long)]
        client: String,
    },
    /// Per rule, how often reviewers confirmed, overruled or added it: its precision in the field.
    Report {
        #[arg(long)]
        client: String,
        #[arg(long)]
        json: bool,
    },
}

fn read(file: &Path) -> Result<String> {
    std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the rule set file {}", file.display()))
}

fn describe(book: &RuleBook) {
    println!(
        "language {} · review below {:.2} · absent below {:.2}{}",
        book.language,
        book.review_below,
        book.absent_below,
        book.extends
            .as_deref()
            .map(|p| format!(" · extends {p}"))
            .unwrap_or_default()
    );
    for r in &book.rules {
        println!(
            "  {:<26} {:<14} {}",
            r.id,
            format!("{:?}", r.kind).to_lowercase(),
            r.description.as_deref().unwrap_or("")
        );
    }
}

pub async fn rules(data: &Path, settings: Settings, cmd: RulesCommand) -> Result<ExitCode> {
    match cmd {
        RulesCommand::Check { file } => {
            let source = read(&file)?;
            let book = RuleBook::parse(&source)
                .with_context(|| format!("{} is not a valid rule set", file.display()))?;
            println!("{}: valid, {} rules", file.display(), book.rules.len());
            describe(&book);
        }
        RulesCommand::Put { client, file } => {
            let source = read(&file)?;
            let app = App::open(data, settings).await?;
            let (stored, book) = app
                .store_rules(&client, &source)
                .await
                .map_err(|e| match e {
                    RulesError::Invalid(e) => {
                        anyhow::anyhow!("{} is not a valid rule set: {e}", file.display())
                    }
                    other => other.into(),
                })?;
            app.audit(
                &callproof_models::Actor::local(),
                crate::service::AuditAction::PutRules,
                Some(&client),
                &format!("ok version {}", stored.version),
            )
            .await?;
            println!(
                "stored rule set version {} for client {} ({} rules, sha256 {})",
                stored.version,
                stored.client,
                book.rules.len(),
                &stored.sha256[..12]
            );
            println!(
                "new calls are checked with it; run `callproof verify --client {client}` to re-check the archive"
            );
        }
        RulesCommand::Show {
            client,
            version,
            pack,
        } => {
            if let Some(p) = pack {
                match PACKS.iter().find(|(n, _)| *n == p) {
                    Some((_, src)) => print!("{src}"),
                    None => bail!(
                        "there is no built-in pack {p:?}; packs: {}",
                        PACKS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ),
                }
                return Ok(ExitCode::SUCCESS);
            }
            let client = client.unwrap_or_default();
            let app = App::open(data, settings).await?;
            match app.catalog.ruleset(&client, version).await? {
                Some(r) => print!("{}", r.source),
                None if version.is_some() => {
                    bail!("client {client} has no rule set version {}", version.unwrap_or(0))
                }
                None => bail!(
                    "client {client} has no rule set: its calls are checked with the built-in pack for their language (`callproof rules show --pack fr-demarchage`); store one with `callproof rules put --client {client} FILE`"
                ),
            }
        }
        RulesCommand::Report { client, json } => {
            return crate::audits::rules_report(data, settings, &client, json).await;
        }
        RulesCommand::List { client } => {
            let app = App::open(data, settings).await?;
            let versions = app.catalog.ruleset_versions(&client).await?;
            if versions.is_empty() {
                println!("client {client} has no rule set (built-in packs apply)");
            }
            let active = versions.last().map(|v| v.version);
            for v in &versions {
                println!(
                    "version {:<4} {}  sha256 {}{}",
                    v.version,
                    v.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    &v.sha256[..12],
                    if Some(v.version) == active {
                        "  (active)"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The client whose archive is checked again.
    #[arg(long)]
    pub client: ClientId,
    /// A new or changed rule set: validated and stored as the client's active one first
    /// (with --dry-run: only used for this run).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Report what would change without storing anything.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long)]
    pub json: bool,
}

pub async fn verify(data: &Path, settings: Settings, a: VerifyArgs) -> Result<ExitCode> {
    let app = App::open(data, settings).await?;
    let rules = match &a.rules {
        None => None,
        Some(file) => {
            let source = read(file)?;
            if a.dry_run {
                let book = RuleBook::parse(&source)
                    .with_context(|| format!("{} is not a valid rule set", file.display()))?;
                let r = RuleSetRef {
                    id: a.client.to_string(),
                    version: book.version.unwrap_or(0),
                    sha256: book.sha256.clone(),
                    builtin: false,
                };
                Some((book, r))
            } else {
                let (stored, book) =
                    app.store_rules(&a.client, &source)
                        .await
                        .map_err(|e| match e {
                            RulesError::Invalid(e) => {
                                anyhow::anyhow!("{} is not a valid rule set: {e}", file.display())
                            }
                            other => other.into(),
                        })?;
                app.audit(
                    &callproof_models::Actor::local(),
                    crate::service::AuditAction::PutRules,
                    Some(&a.client),
                    &format!("ok version {}", stored.version),
                )
                .await?;
                let r = RuleSetRef {
                    id: a.client.to_string(),
                    version: stored.version,
                    sha256: stored.sha256,
                    builtin: false,
                };
                Some((book, r))
            }
        }
    };
    let bar = if a.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    let report = app
        .reverify_client(&a.client, rules, a.dry_run, &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .await?;
    bar.finish_and_clear();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    if report.calls == 0 {
        println!("client {} has no transcribed calls", a.client);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} {} calls of client {} with {}",
        if a.dry_run { "would check" } else { "checked" },
        report.calls,
        a.client,
        report
            .rulesets
            .iter()
            .map(|r| format!(
                "{} version {}{}",
                r.id,
                r.version,
                if r.builtin { " (built-in pack)" } else { "" }
            ))
            .collect::<Vec<_>>()
            .join(" and ")
    );
    for c in &report.changed {
        println!(
            "  {}  {:<28} {} → {}{}",
            c.call_id,
            c.original_name.as_deref().unwrap_or("-"),
            c.before.map_or("unverified".to_string(), |v| v.to_string()),
            c.after,
            if c.flagged.is_empty() {
                String::new()
            } else {
                format!("  ({})", c.flagged.join(", "))
            }
        );
    }
    println!(
        "{} verdict{} changed; now: {}",
        report.changed.len(),
        if report.changed.len() == 1 { "" } else { "s" },
        report
            .verdicts
            .iter()
            .map(|(v, n)| format!("{v} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct FindingsArgs {
    pub id: CallId,
    /// Also list the rules that passed, with their evidence.
    #[arg(long)]
    pub all: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn print_verification(v: &Verification, all: bool) {
    let r = &v.ruleset;
    println!(
        "verdict {}  (rule set {} version {}{})",
        v.verdict,
        r.id,
        r.version,
        if r.builtin { ", built-in pack" } else { "" }
    );
    for f in &v.findings {
        if !all && f.status == FindingStatus::Pass {
            continue;
        }
        let mark = match f.status {
            FindingStatus::Pass => "ok    ",
            FindingStatus::Review => "REVIEW",
            FindingStatus::Fail => "FAIL  ",
        };
        let at = match (f.start_ms, f.speaker) {
            (Some(ms), Some(s)) => format!("{} {:<8} ", clock(ms), s.as_str()),
            _ => String::new(),
        };
        println!(
            "  {mark} {:<24} {:<14} {at}{}",
            f.rule_id,
            f.outcome.as_str(),
            f.detail
        );
    }
}

pub async fn findings(data: &Path, settings: Settings, a: FindingsArgs) -> Result<ExitCode> {
    let app = App::open(data, settings).await?;
    let v = app
        .read_findings(&crate::service::Caller::local(), a.id)
        .await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_verification(&v, a.all);
    }
    Ok(ExitCode::SUCCESS)
}
