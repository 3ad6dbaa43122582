//! Checking an uploaded recording in a child process, so that the server survives any file.
//!
//! An upload is decoded to its end before it is accepted (a damaged or hostile file must be
//! refused, not stored). Decoders are large C-like state machines fed by strangers: the check
//! runs in `callproof probe-audio`, a child with its address space and CPU time capped, that
//! prints its answer as JSON. A decoder that aborts, overflows its stack or asks for gigabytes
//! kills only the child, and the upload is refused as damaged.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

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
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("probe-audio")
        .arg("--audio-limits")
        .arg(limits_json)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    #[cfg(target_os = "linux")]
    // SAFETY: setrlimit and prctl are async-signal-safe and touch no memory of the parent.
    unsafe {
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
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| fault(format!("could not start ({e})")))?;
    let out = tokio::time::timeout(
        Duration::from_secs(CHILD_CPU_SECONDS + 30),
        child.wait_with_output(),
    )
    .await
    .map_err(|_| fault(format!("took longer than {CHILD_CPU_SECONDS} s")))?
    .map_err(|e| fault(format!("failed ({e})")))?;
    match serde_json::from_slice::<Result<AudioSummary, DecodeError>>(&out.stdout) {
        Ok(answer) => answer,
        Err(_) => Err(fault(format!(
            "stopped the decoder ({})",
            crate::worker::describe_exit(&out.status)
        ))),
    }
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
