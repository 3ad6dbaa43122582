//! Workers: the processes that transcribe, the supervisor that keeps them running, and the one
//! indexer.
//!
//! Transcription runs untrusted recordings through decoders and whisper.cpp, which can abort
//! the whole process (an allocation it cannot make, a bug in C++): it runs in `callproof
//! worker` processes, never in the HTTP server. `serve` supervises its workers: when one dies,
//! the jobs it held are given back with the reason (`release_owner`), so that the next attempt
//! happens at once and a job that keeps killing its worker is dead-lettered after its last
//! attempt; then a fresh worker starts. Workers started separately (other machines, systemd)
//! lose their jobs when their lease runs out instead. Index writes need tantivy's single
//! writer, so they are jobs of their own, drained by the indexer inside `serve`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use callproof_metastore::JobKind;
use clap::Args;

use crate::app::{App, Settings, LEASE};

/// How long an idle worker waits before looking at the queue again.
const IDLE: Duration = Duration::from_millis(500);

#[derive(Args)]
pub struct WorkerArgs {
    /// Stop once the queue is empty instead of waiting for more work.
    #[arg(long)]
    pub until_idle: bool,
}

/// The name a worker process holds its jobs under: role, machine and process id, so that a
/// process on this machine that is gone can be told apart from one that is alive.
pub fn owner_of(pid: u32) -> String {
    format!("worker:{}:{pid}", machine())
}

/// The owner name of this process in `role` ("worker", "cli", "indexer").
pub fn this_process(role: &str) -> String {
    format!("{role}:{}:{}", machine(), std::process::id())
}

/// Gives back the jobs held by processes of this machine that no longer exist (a server or
/// CLI stopped in the middle of a call), instead of waiting for their leases to run out.
pub async fn recover_orphans(app: &App) -> Result<()> {
    let mut owners = std::collections::BTreeSet::new();
    for job in app
        .catalog
        .jobs(Some(callproof_metastore::JobState::Running), 10_000)
        .await?
    {
        let Some(owner) = job.owner else { continue };
        if owner_is_gone(&owner) {
            owners.insert(owner);
        }
    }
    for owner in owners {
        for j in app
            .catalog
            .release_owner(&owner, "the process working on it was gone at start-up")
            .await?
        {
            eprintln!(
                "call {}: taken back from {owner}, which is gone; job now {}",
                j.call_id,
                j.state.as_str()
            );
        }
    }
    Ok(())
}

/// Whether `owner` ("role:machine:pid") is a process of this machine that no longer exists.
/// Owners on other machines are never judged gone from here: their leases tell.
pub fn owner_is_gone(owner: &str) -> bool {
    let mut parts = owner.rsplitn(3, ':');
    let (Some(pid), Some(host)) = (parts.next(), parts.next()) else {
        return false;
    };
    host == machine()
        && pid
            .parse::<u32>()
            .is_ok_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists())
}

/// This machine, as job owners name it: its machine id (unique even where containers share a
/// host name), else its host name. Colons are left out: owners are split on them.
fn machine() -> String {
    ["/etc/machine-id", "/proc/sys/kernel/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().replace(':', "-"))
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// `callproof worker`: claims transcription jobs one after the other until stopped.
pub async fn run(data: &std::path::Path, settings: Settings, args: WorkerArgs) -> Result<ExitCode> {
    let app = Arc::new(App::open(data, settings).await?);
    app.engine()?;
    let owner = owner_of(std::process::id());
    recover_orphans(&app).await?;
    // A stop between jobs is clean; one during a job leaves the job to its lease.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    #[cfg(unix)]
    for kind in [
        tokio::signal::unix::SignalKind::terminate(),
        tokio::signal::unix::SignalKind::interrupt(),
    ] {
        if let Ok(mut signal) = tokio::signal::unix::signal(kind) {
            let flag = stop.clone();
            tokio::spawn(async move {
                signal.recv().await;
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
            });
        }
    }
    eprintln!("callproof worker {owner} ready");
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let Some(job) = app
            .catalog
            .claim(JobKind::Transcribe, &owner, LEASE, None)
            .await?
        else {
            if args.until_idle {
                break;
            }
            tokio::time::sleep(IDLE).await;
            continue;
        };
        let id = job.call_id;
        match app
            .run_transcription(&job, &owner, Arc::new(|_: &str| {}))
            .await
        {
            Ok(_) => tracing::info!(%id, "call transcribed"),
            Err(e) => tracing::warn!(%id, "call not transcribed: {e:#}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Makes the child `cmd` starts end when the thread that starts it ends (the kernel's
/// parent-death signal, SIGKILL, on Linux): a child the server starts must not outlive it,
/// even a server killed with SIGKILL, when no destructor runs. The signal follows the
/// *thread*, not the process: the thread that starts such a child must live as long as the
/// child (a thread of its own that waits for it), never a runtime thread, which can end.
pub(crate) fn ends_with_its_thread(cmd: &mut std::process::Command) {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Keeps worker process `slot` running: starts it, and when it exits, gives its jobs back with
/// the reason and starts another (after a pause that grows while workers keep dying).
pub async fn supervise(slot: usize, app: Arc<App>, data: PathBuf) {
    let settings = app.settings.clone();
    let mut backoff = Duration::from_millis(200);
    loop {
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => {
                tracing::error!("cannot find the callproof binary to start workers: {e}");
                return;
            }
        };
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("--data")
            .arg(&data)
            .arg("--model")
            .arg(&settings.model)
            .arg("--default-language")
            .arg(&settings.default_language)
            .arg("--threads")
            .arg(settings.threads.to_string())
            .arg("--signing-key")
            .arg(&settings.signing_key)
            .arg("worker")
            .stdin(std::process::Stdio::null());
        // A worker must not outlive its server, even one killed with SIGKILL.
        ends_with_its_thread(&mut cmd);
        settings.engines.pass_to(&mut cmd);
        // Started from a runtime thread, a worker was killed moments after it was ready when
        // that thread left the runtime (`block_in_place` hands a thread's place to another,
        // and an idle thread ends). A thread of its own starts the worker and waits for it,
        // so it lives exactly as long as the worker; the server ending still ends it.
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (ended_tx, ended_rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name(format!("worker-{slot}"))
            .spawn(move || match cmd.spawn() {
                Ok(mut child) => {
                    let _ = started_tx.send(Ok(child.id()));
                    let _ = ended_tx.send(child.wait());
                }
                Err(e) => {
                    let _ = started_tx.send(Err(e));
                }
            });
        let pid = match spawned {
            Ok(_) => match started_rx.await {
                Ok(Ok(pid)) => pid,
                Ok(Err(e)) => {
                    tracing::error!("worker {slot} cannot start: {e}");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
                Err(_) => {
                    tracing::error!("worker {slot} cannot start: its thread ended");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
            },
            Err(e) => {
                tracing::error!("worker {slot} cannot start: no thread to wait for it: {e}");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        let started = std::time::Instant::now();
        let status = match ended_rx.await {
            Ok(s) => s,
            Err(_) => Err(std::io::Error::other("its waiting thread ended")),
        };
        let reason = match &status {
            Ok(s) => describe_exit(s),
            Err(e) => format!("its exit could not be read: {e}"),
        };
        eprintln!("worker {slot} (pid {pid}) stopped: {reason}");
        let owner = owner_of(pid);
        let why = format!("the worker transcribing it stopped: {reason}");
        let catalog = app.catalog.clone();
        match tokio::spawn(async move { catalog.release_owner(&owner, &why).await }).await {
            Ok(Ok(jobs)) => {
                for j in jobs {
                    eprintln!(
                        "call {}: attempt {}/{} ended with its worker; job now {}",
                        j.call_id,
                        j.attempts,
                        j.max_attempts,
                        j.state.as_str()
                    );
                }
            }
            Ok(Err(e)) => tracing::error!("the jobs of worker {pid} were not released: {e}"),
            Err(e) => tracing::error!("the jobs of worker {pid} were not released: {e}"),
        }
        // A worker that ran a while before dying is restarted at once; one that dies at start
        // (missing model, broken install) is not restarted in a tight loop.
        if started.elapsed() > Duration::from_secs(30) {
            backoff = Duration::from_millis(200);
        } else {
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
        tokio::time::sleep(backoff).await;
    }
}

pub fn describe_exit(status: &std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            let name = match sig {
                libc::SIGABRT => "SIGABRT",
                libc::SIGKILL => "SIGKILL",
                libc::SIGSEGV => "SIGSEGV",
                libc::SIGBUS => "SIGBUS",
                libc::SIGTERM => "SIGTERM",
                libc::SIGILL => "SIGILL",
                _ => "",
            };
            return format!(
                "killed by signal {sig} ({name}; a crash or the system's memory limit)"
            );
        }
    }
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => "ended".into(),
    }
}

/// Drains index jobs: the only tantivy writer of this server.
pub async fn indexer(app: Arc<App>) {
    let owner = this_process("indexer");
    let mut followed_at = std::time::Instant::now();
    loop {
        // What other nodes indexed or removed reaches this node's index within a second.
        if followed_at.elapsed() >= Duration::from_millis(500) {
            followed_at = std::time::Instant::now();
            if let Err(e) = app.follow_index().await {
                tracing::warn!("the index cannot follow the catalog's changes: {e:#}");
            }
        }
        let a = app.clone();
        let o = owner.clone();
        let ran = tokio::spawn(async move {
            let Some(job) = a.catalog.claim(JobKind::Index, &o, LEASE, None).await? else {
                return Ok(false);
            };
            let id = job.call_id;
            match a.run_indexing(&job, &o).await {
                Ok(()) => tracing::info!(%id, "call indexed"),
                Err(e) => tracing::warn!(%id, "call not indexed: {e:#}"),
            }
            Ok::<_, anyhow::Error>(true)
        })
        .await;
        match ran {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => tokio::time::sleep(Duration::from_millis(250)).await,
            Ok(Err(e)) => {
                tracing::warn!("the indexer cannot read the queue: {e:#}");
                tokio::time::sleep(IDLE).await;
            }
            Err(e) => {
                tracing::error!("the indexer crashed: {e}");
                tokio::time::sleep(IDLE).await;
            }
        }
    }
}

#[derive(Args)]
pub struct JobsArgs {
    /// Only jobs in this state: queued, running, done or dead.
    #[arg(long)]
    pub state: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
}

/// `callproof jobs`: the work queue, for the people who run callproof (queue depth, what is
/// running where, what was dead-lettered and why).
pub async fn list(data: &std::path::Path, settings: Settings, a: JobsArgs) -> Result<ExitCode> {
    use callproof_metastore::JobState;
    let state = match a.state.as_deref() {
        None => None,
        Some("queued") => Some(JobState::Queued),
        Some("running") => Some(JobState::Running),
        Some("done") => Some(JobState::Done),
        Some("dead") => Some(JobState::Dead),
        Some(other) => {
            anyhow::bail!("unknown job state {other:?}: give queued, running, done or dead")
        }
    };
    let app = App::open(data, settings).await?;
    let jobs = app.catalog.jobs(state, a.limit).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&jobs)?);
        return Ok(ExitCode::SUCCESS);
    }
    if jobs.is_empty() {
        println!("no jobs");
    }
    for j in jobs {
        println!(
            "{:>6}  {:<10} {:<8} {}  attempt {}/{}{}{}",
            j.id,
            j.kind.as_str(),
            j.state.as_str(),
            j.call_id,
            j.attempts,
            j.max_attempts,
            j.owner
                .map(|o| format!("  held by {o}"))
                .unwrap_or_default(),
            j.last_error
                .map(|e| format!("\n        last error: {e}"))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
