//! `callproof`: the command line and the HTTP server.
//!
//! This is the only crate that assembles the others; it owns configuration, presentation
//! (text, JSON, HTTP) and the error edge where library errors become messages for people.

mod access;
mod app;
mod audits;
mod auth;
mod checkpoints;
mod cli;
mod engines;
mod i18n;
mod limits;
mod metrics;
mod probe;
mod quality;
mod retention;
mod rules;
mod server;
mod service;
mod worker;

use std::path::PathBuf;

use callproof_evidence as evidence;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "callproof",
    version,
    about = "Recorded sales calls as searchable, verifiable evidence"
)]
struct Cli {
    /// Data folder (catalog, originals, index).
    #[arg(
        long,
        global = true,
        env = "CALLPROOF_DATA",
        default_value = "callproof-data"
    )]
    data: PathBuf,
    /// The catalog: sqlite://PATH or postgres://user:password@host:port/database (default: the
    /// data folder's SQLite file).
    #[arg(long, global = true, env = "CALLPROOF_CATALOG")]
    catalog: Option<String>,
    /// Where recordings are kept: a folder, file:///PATH or s3://bucket/prefix (credentials from
    /// AWS_* variables or the configuration file; default: the data folder's objects/).
    #[arg(long, global = true, env = "CALLPROOF_OBJECTS")]
    objects: Option<String>,
    /// A TOML file with `catalog`, `objects` and an [s3] table of aws_* settings; flags win.
    #[arg(long, global = true, env = "CALLPROOF_CONFIG")]
    config: Option<PathBuf>,
    /// Installed Whisper model to transcribe with (see `callproof model list`).
    #[arg(long, global = true, env = "CALLPROOF_MODEL", default_value = "base")]
    model: String,
    /// Language of calls whose metadata names none (ISO 639-1).
    #[arg(
        long = "default-language",
        global = true,
        env = "CALLPROOF_LANGUAGE",
        default_value = "fr"
    )]
    default_language: String,
    /// whisper.cpp threads per transcription (default: all cores).
    #[arg(long, global = true, env = "CALLPROOF_THREADS")]
    threads: Option<usize>,
    /// The ed25519 key signing evidence bundles (default: ~/.config/callproof/evidence-ed25519.key,
    /// outside every data folder; CALLPROOF_SIGNING_KEY).
    #[arg(long = "signing-key", global = true)]
    signing_key: Option<PathBuf>,
    /// Decode again, with beam search (and the rule set's vocabulary on the seller's speech),
    /// the speech a failing or doubtful finding depends on (CALLPROOF_SECOND_LISTEN=off to
    /// measure without it).
    #[arg(
        long = "second-listen",
        global = true,
        env = "CALLPROOF_SECOND_LISTEN",
        default_value = "on"
    )]
    second_listen: app::Switch,
    /// Give Whisper the rule set's vocabulary as its prompt on the first pass (on the second
    /// listen it always is), on the seller's speech: rule words heard 65 % instead of 59 % on
    /// the benchmark calls. A customer's channel is never prompted.
    #[arg(
        long = "prompt-first-pass",
        global = true,
        env = "CALLPROOF_PROMPT_FIRST_PASS",
        default_value = "on"
    )]
    prompt_first_pass: app::Switch,
    #[command(flatten)]
    limits: limits::Limits,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install and list Whisper models (shared cache: CALLPROOF_MODELS).
    #[command(subcommand)]
    Model(cli::ModelCommand),
    /// Ingest recordings (files or folders), transcribe and index them.
    Ingest(cli::IngestArgs),
    /// Search transcripts by words, phrases and filters.
    Search(cli::SearchArgs),
    /// List calls, newest first, with their state.
    Calls(cli::CallsArgs),
    /// Show a call's metadata and state.
    Call(cli::CallArgs),
    /// Print a call's transcript.
    Transcript(cli::CallArgs),
    /// Rule sets: check, store, show and list a client's script requirements.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Check a client's archive again with its (new or changed) rule set, without
    /// re-transcribing; reports the calls whose verdict changed.
    Verify(rules::VerifyArgs),
    /// Show a call's verdict and findings with their evidence.
    Findings(rules::FindingsArgs),
    /// API keys (roles, tenants) and the evidence signing key.
    #[command(subcommand)]
    Keys(access::KeysCommand),
    /// Make a signed proof-of-consent bundle for a call, or verify one.
    Evidence(access::EvidenceArgs),
    /// Check or list the hash-chained audit log.
    #[command(subcommand)]
    Audit(access::AuditCommand),
    /// Quality samples: draw (reproducibly), list, show.
    #[command(subcommand)]
    Sample(audits::SampleCommand),
    /// Violation rates per rule, agent, campaign and week.
    Stats(audits::StatsArgs),
    /// CSV export of findings or reviews.
    Export(audits::ExportArgs),
    /// Rebuild the search index from the catalog's transcripts and verifications.
    Reindex,
    /// Serve the HTTP API.
    Serve(server::ServeArgs),
    /// Transcribe queued calls (started by `serve`, or on their own beside it).
    Worker(worker::WorkerArgs),
    /// The work queue: queued, running and dead-lettered jobs.
    Jobs(worker::JobsArgs),
    /// Legal holds: place, release (two different people), list.
    #[command(subcommand)]
    Hold(retention::HoldCommand),
    /// Copy an embedded data folder into PostgreSQL and S3 (--catalog, --objects) without
    /// transcribing anything again.
    Migrate(engines::MigrateArgs),
    /// Retention: delete what is past its period (recordings, then calls), except held calls.
    #[command(subcommand)]
    Retention(retention::RetentionCommand),
    /// Erase every call of a customer (by phone or contract), except held ones.
    Erase(retention::SubjectArgs),
    /// Everything held about a customer (calls, transcripts, findings) as one archive.
    #[command(name = "export-subject")]
    ExportSubject(retention::SubjectArgs),
    /// Decode a recording to its end and print what it holds as JSON (the server runs this as
    /// a child process to check uploads).
    #[command(name = "probe-audio", hide = true)]
    ProbeAudio {
        #[arg(long = "audio-limits")]
        audio_limits: String,
        path: PathBuf,
    },
}

/// One malloc heap for the processes that transcribe, set before any thread starts. glibc
/// gives each thread that allocates its own heap, and whisper.cpp's buffers for a channel (tens
/// of MiB, made again for every channel on whichever blocking thread runs it) stay in the heap
/// of the thread that freed them. The 20 benchmark recordings with base peaked at 645-910 MiB
/// one at a time and 1339 MiB two at once, against 558-579 and 869 MiB with one heap, at the
/// same speed (BENCHMARKS.md, "thirteenth session"). The server keeps glibc's default: its
/// threads allocate for requests.
fn one_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; no thread has been started yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CALLPROOF_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,whisper_rs=off")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if matches!(cli.command, Command::Ingest(_) | Command::Worker(_)) {
        one_heap();
    }
    // The upload check runs alone in its own process: no runtime, no threads, nothing else.
    if let Command::ProbeAudio { audio_limits, path } = &cli.command {
        return probe::run_child(path, audio_limits);
    }
    // `callproof calls | head` must end quietly when the reader goes away, like any Unix tool,
    // instead of panicking on a broken pipe. The server keeps Rust's default (SIGPIPE ignored):
    // a client hanging up must never stop it.
    #[cfg(unix)]
    if !matches!(cli.command, Command::Serve(_)) {
        // SAFETY: restoring the default disposition of SIGPIPE before any thread is started.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let engines = match engines::Engines::resolve(
        cli.catalog.clone(),
        cli.objects.clone(),
        cli.config.clone(),
    ) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let settings = app::Settings {
        engines,
        model: cli.model.clone(),
        default_language: cli.default_language.clone(),
        threads: cli.threads.unwrap_or_else(app::cores),
        signing_key: cli
            .signing_key
            .clone()
            .unwrap_or_else(evidence::default_signing_key_path),
        limits: cli.limits.clone(),
        isolate_decoding: matches!(cli.command, Command::Serve(_)),
        second_listen: cli.second_listen == app::Switch::On,
        prompt_first_pass: cli.prompt_first_pass == app::Switch::On,
    };
    // One runtime for every command: the metastore is async, and the server, its workers and
    // the CLI's own transcriptions share the same way of waiting for it.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let data = cli.data.clone();
    let threads_given = cli.threads.is_some();
    let result = runtime.block_on(async move {
        let data = &data;
        match cli.command {
            Command::Model(cmd) => cli::model(cmd),
            Command::Ingest(mut args) => {
                args.threads_given = threads_given;
                cli::ingest(data, settings, args).await
            }
            Command::Search(args) => cli::search(data, settings, args).await,
            Command::Calls(args) => cli::list_calls(data, settings, args).await,
            Command::Call(args) => cli::show_call(data, settings, args).await,
            Command::Transcript(args) => cli::transcript(data, settings, args).await,
            Command::Rules(cmd) => rules::rules(data, settings, cmd).await,
            Command::Verify(args) => rules::verify(data, settings, args).await,
            Command::Findings(args) => rules::findings(data, settings, args).await,
            Command::Keys(cmd) => access::keys(data, settings, cmd).await,
            Command::Evidence(args) => access::evidence(data, settings, args).await,
            Command::Audit(cmd) => access::audit(data, settings, cmd).await,
            Command::Sample(cmd) => audits::sample(data, settings, cmd).await,
            Command::Stats(args) => audits::stats(data, settings, args).await,
            Command::Export(args) => audits::export(data, settings, args).await,
            Command::Reindex => cli::reindex(data, settings).await,
            Command::Serve(args) => server::serve(data, settings, args).await,
            Command::Worker(args) => worker::run(data, settings, args).await,
            Command::Jobs(args) => worker::list(data, settings, args).await,
            Command::Hold(cmd) => retention::hold(data, settings, cmd).await,
            Command::Migrate(args) => engines::migrate(&settings, args).await,
            Command::Retention(args) => retention::retention(data, settings, args).await,
            Command::Erase(args) => retention::erase(data, settings, args).await,
            Command::ExportSubject(args) => retention::export_subject(data, settings, args).await,
            Command::ProbeAudio { .. } => Ok(std::process::ExitCode::SUCCESS),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
