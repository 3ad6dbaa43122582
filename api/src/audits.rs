//! The quality manager's commands: samples, statistics, the rules' field report and CSV
//! exports. The computations are in `quality.rs`; this is their command-line presentation.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use callproof_models::{Actor, SampleParams, Scope, StratumKey, Verdict};
use chrono::{DateTime, FixedOffset, Utc};
use clap::{Args, Subcommand};

use crate::app::{App, Settings};
use crate::quality;

#[derive(Subcommand)]
pub enum SampleCommand {
    /// Draw a reproducible sample of a client's verified calls and store it.
    Create(CreateSample),
    /// List stored samples.
    List,
    /// Show a stored sample's calls and how many have been reviewed.
    Show { id: callproof_models::SampleId },
}

#[derive(Args)]
pub struct CreateSample {
    #[arg(long)]
    pub client: String,
    /// Calls started at or after (RFC 3339).
    #[arg(long)]
    pub from: Option<DateTime<FixedOffset>>,
    /// Calls started before (RFC 3339).
    #[arg(long)]
    pub to: Option<DateTime<FixedOffset>>,
    /// Strata: agent, campaign, or agent,campaign.
    #[arg(long, value_delimiter = ',')]
    pub by: Vec<String>,
    /// Calls per stratum…
    #[arg(long)]
    pub per: Option<u32>,
    /// …or a percentage of each stratum (rounded up).
    #[arg(long)]
    pub percent: Option<f64>,
    /// At least this many per stratum.
    #[arg(long, default_value_t = 0)]
    pub min_per: u32,
    /// Only these verdicts: violation, needs_review, compliant (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<Verdict>,
    /// How much likelier violations and needs-review calls are drawn (1 = not weighted).
    #[arg(long, default_value_t = 1.0)]
    pub weight: f64,
    /// The same parameters and seed draw the same calls.
    #[arg(long)]
    pub seed: u64,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub async fn sample(data: &Path, settings: Settings, cmd: SampleCommand) -> Result<ExitCode> {
    let app = App::open(data, settings).await?;
    match cmd {
        SampleCommand::Create(a) => {
            let strata =
                a.by.iter()
                    .map(|s| match s.as_str() {
                        "agent" => Ok(StratumKey::Agent),
                        "campaign" => Ok(StratumKey::Campaign),
                        other => bail!("--by {other:?}: use agent, campaign or agent,campaign"),
                    })
                    .collect::<Result<Vec<_>>>()?;
            let params = SampleParams {
                client: a.client,
                from: a.from,
                to: a.to,
                strata,
                per_stratum: a.per,
                percent: a.percent,
                min_per_stratum: a.min_per,
                only: a.only,
                violation_weight: a.weight,
                seed: a.seed,
                name: a.name,
            };
            let s = app.create_sample(params, &Actor::local()).await?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&s)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("sample {} ({} calls)", s.id, s.calls.len());
            for st in &s.strata {
                println!("  {:<40} {} of {}", st.stratum, st.drawn, st.population);
            }
            for c in &s.calls {
                println!("  {}  {:<13} {}", c.call_id, c.verdict.as_str(), c.stratum);
            }
        }
        SampleCommand::List => {
            for s in app.catalog.samples(&Scope::All).await? {
                println!(
                    "{}  {}  client {:<20} seed {:<8} {} calls{}",
                    s.id,
                    s.created_at.format("%Y-%m-%d %H:%M"),
                    s.params.client,
                    s.params.seed,
                    s.calls.len(),
                    s.params
                        .name
                        .as_deref()
                        .map(|n| format!("  {n}"))
                        .unwrap_or_default()
                );
            }
        }
        SampleCommand::Show { id } => {
            let Some(s) = app.catalog.sample(&id).await? else {
                bail!("no sample {id}; `callproof sample list` shows them");
            };
            println!("{}", serde_json::to_string_pretty(&s.params)?);
            for c in &s.calls {
                let reviews = app.catalog.reviews(c.call_id).await?;
                let latest = quality::latest_reviews(&reviews);
                println!(
                    "  {}  {:<13} {:<36} {}",
                    c.call_id,
                    c.verdict.as_str(),
                    c.stratum,
                    match latest.last() {
                        Some(r) => format!("reviewed: {}", r.reviewed_verdict),
                        None => "not reviewed".into(),
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct StatsArgs {
    #[arg(long)]
    pub client: String,
    #[arg(long)]
    pub from: Option<DateTime<FixedOffset>>,
    #[arg(long)]
    pub to: Option<DateTime<FixedOffset>>,
    #[arg(long)]
    pub json: bool,
}

fn utc(t: Option<DateTime<FixedOffset>>) -> Option<DateTime<Utc>> {
    t.map(|t| t.with_timezone(&Utc))
}

pub async fn stats(data: &Path, settings: Settings, a: StatsArgs) -> Result<ExitCode> {
    let app = App::open(data, settings).await?;
    let calls = app
        .catalog
        .verified_calls(&a.client, utc(a.from), utc(a.to))
        .await?;
    let reviews = app.catalog.client_reviews(&a.client).await?;
    let s = quality::stats(&calls, &reviews);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} verified calls ({} after a review): {}",
        s.calls,
        s.reviewed,
        s.verdicts
            .iter()
            .map(|(v, n)| format!("{v} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (title, rates) in [
        ("rule (calls where it failed)", &s.per_rule),
        ("agent (calls with a violation)", &s.per_agent),
        ("campaign", &s.per_campaign),
        ("week", &s.per_week),
    ] {
        println!("per {title}:");
        for r in rates {
            println!(
                "  {:<28} {:>5.1} %  ({} of {})",
                r.key,
                r.rate * 100.0,
                r.violations,
                r.calls
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct ExportArgs {
    /// findings or reviews.
    pub what: String,
    #[arg(long)]
    pub client: String,
    #[arg(long)]
    pub from: Option<DateTime<FixedOffset>>,
    #[arg(long)]
    pub to: Option<DateTime<FixedOffset>>,
}

pub async fn export(data: &Path, settings: Settings, a: ExportArgs) -> Result<ExitCode> {
    let app = App::open(data, settings).await?;
    let csv = match a.what.as_str() {
        "findings" => quality::findings_csv(
            &app.catalog
                .verified_calls(&a.client, utc(a.from), utc(a.to))
                .await?,
        )?,
        "reviews" => {
            quality::reviews_csv(&app.exportable_reviews(&a.client, &Actor::local()).await?)?
        }
        other => bail!("export {other:?}: use findings or reviews"),
    };
    app.audit(
        &Actor::local(),
        if a.what == "findings" {
            crate::service::AuditAction::ExportFindings
        } else {
            crate::service::AuditAction::ExportReviews
        },
        Some(&a.client),
        "ok",
    )
    .await?;
    print!("{csv}");
    Ok(ExitCode::SUCCESS)
}

/// `callproof rules report --client X`: how reviewers judged each rule.
pub async fn rules_report(
    data: &Path,
    settings: Settings,
    client: &str,
    json: bool,
) -> Result<ExitCode> {
    let app = App::open(data, settings).await?;
    let report = app.rules_field_report(client).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    if report.is_empty() {
        println!("no reviews of client {client}'s calls yet");
    }
    println!(
        "{:<26} {:>9} {:>9} {:>7} {:>10}",
        "rule", "confirmed", "overruled", "missed", "precision"
    );
    for r in report {
        println!(
            "{:<26} {:>9} {:>9} {:>7} {:>10}",
            r.rule_id,
            r.confirmed,
            r.overruled,
            r.missed,
            r.precision
                .map(|p| format!("{:.2}", p))
                .unwrap_or_else(|| "-".into())
        );
    }
    Ok(ExitCode::SUCCESS)
}
