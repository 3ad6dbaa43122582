//! Checking an uploaded recording in a child process, so that the server survives any file.
//!
//! An upload is decoded to its end before it is accepted (a damaged or hostile file must be
//! refused, not stored). Decoders are large C-like state machines fed by strangers: the check
//! runs in `callproof probe-audio`, a child with its address space and CPU time capped, that
//! prints its answer as JSON. A decoder that aborts, overflows its stack or asks for gigabytes
//! kills only the child, and the upload is refused as damaged.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use callproof_ingest::{AudioLimits, AudioSummary, DecodeError};

/// Address space of the child: the probe keeps one packet at a time, so 1 GiB is generous.
const CHILD_MEMORY_BYTES: u64 = 1 << 30;
/// CPU seconds of the child: a four-hour MP3 decodes in well under a minute.
const CHILD_CPU_SECONDS: u64 = 300;

/// Decodes `path` in a child process within `limits`.
pub async fn in_child(path: &Path, limits: &AudioLimits) -> Result<AudioSummary, DecodeError> {
    let fault = |what: String| {
        DecodeError::Damaged(format!(
            "checking the recording {what}; the file is damaged or not a recording callproof can read"
        ))
    };
    let exe = std::env::current_exe().map_err(|e| fault(format!("could not start ({e})")))?;
    let limits_json =
        serde_json::to_string(limits).map_err(|e| fault(format!("could not start ({e})")))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("probe-audio")
        .arg("--audio-limits")
        .arg(limits_json)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    #[cfg(target_os = "linux")]
    // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            let cap = |resource, value: u64| {
                let lim = libc::rlimit {
                    rlim_cur: value as libc::rlim_t,
                    rlim_max: value as libc::rlim_t,
                };
                if libc::setrlimit(resource, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            };
            cap(libc::RLIMIT_AS, CHILD_MEMORY_BYTES)?;
            cap(libc::RLIMIT_CPU, CHILD_CPU_SECONDS)?;
            cap(libc::RLIMIT_CORE, 0)?;
            Ok(())
        });
    }
    // Started from a runtime thread, the child would be killed (and a sound upload refused as
    // damaged) if that thread left the runtime while it ran: one blocking thread starts the
    // child and waits for it, so it lives as long as the child.
    crate::worker::ends_with_its_thread(&mut cmd);
    let abandoned = Arc::new(AtomicBool::new(false));
    let _abandon_on_drop = AbandonOnDrop(abandoned.clone());
    let deadline = Duration::from_secs(CHILD_CPU_SECONDS + 30);
    let out = tokio::task::spawn_blocking(move || run_and_wait(cmd, deadline, &abandoned))
        .await
        .map_err(|e| fault(format!("failed ({e})")))?
        .map_err(|e| match e {
            Waited::TooLong => fault(format!("took longer than {CHILD_CPU_SECONDS} s")),
            Waited::Failed(e) => fault(format!("failed ({e})")),
            Waited::NotStarted(e) => fault(format!("could not start ({e})")),
        })?;
    match serde_json::from_slice::<Result<AudioSummary, DecodeError>>(&out.stdout) {
        Ok(answer) => answer,
        Err(_) => Err(fault(format!(
            "stopped the decoder ({})",
            crate::worker::describe_exit(&out.status)
        ))),
    }
}

/// Why a child gave no answer.
enum Waited {
    NotStarted(std::io::Error),
    Failed(std::io::Error),
    TooLong,
}

/// Set when the request that waits for the child is dropped (the client went away): the child
/// is stopped rather than left to run to its CPU limit.
struct AbandonOnDrop(Arc<AtomicBool>);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Starts `cmd` and waits for it on this thread, reading its output meanwhile (a full pipe
/// would stall it); kills it past `deadline` or once `abandoned` is set. Blocking.
fn run_and_wait(
    mut cmd: std::process::Command,
    deadline: Duration,
    abandoned: &AtomicBool,
) -> Result<std::process::Output, Waited> {
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(Waited::NotStarted)?;
    let mut stdout = child.stdout.take();
    std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let mut buf = Vec::new();
            if let Some(out) = stdout.as_mut() {
                // A read error leaves what was read: the answer is then unparsable, and the
                // exit status says why.
                let _ = out.read_to_end(&mut buf);
            }
            buf
        });
        let status = loop {
            let why = match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if started.elapsed() > deadline => Waited::TooLong,
                Ok(None) if abandoned.load(Ordering::Relaxed) => Waited::TooLong,
                Ok(None) => {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                Err(e) => Waited::Failed(e),
            };
            // Not yet reaped, so the pid is still this child's: killing it is safe, and ends
            // its output, which the reader waits for.
            let _ = child.kill();
            let _ = child.wait();
            break Err(why);
        };
        let stdout = reader.join().unwrap_or_default();
        status.map(|status| std::process::Output {
            status,
            stdout,
            stderr: Vec::new(),
        })
    })
}

/// `callproof probe-audio`: the child's side. Prints the answer as JSON on stdout.
pub fn run_child(path: &Path, limits_json: &str) -> ExitCode {
    let answer = serde_json::from_str::<AudioLimits>(limits_json)
        .map_err(|e| DecodeError::Damaged(format!("bad limits given to the probe: {e}")))
        .and_then(|limits| callproof_ingest::probe_file(path, &limits));
    match serde_json::to_string(&answer) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(_) => ExitCode::FAILURE,
    }
}
