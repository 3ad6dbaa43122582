//! Prometheus metrics at `/metrics` (OpenMetrics text, `prometheus-client`): what the people who
//! run callproof watch. Request counts by route template and status and the search latency
//! histogram are kept in this process; calls by state and the work queue's depth are read from
//! the catalog at each scrape, so every serving node reports the whole deployment's queue.
//!
//! Labels are bounded: a route is its template (`/api/v1/calls/{id}`), never the raw path, and
//! nothing names a tenant, a call or a person.

use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    state: String,
}

struct Metrics {
    requests: Family<RequestLabels, Counter>,
    search_seconds: Histogram,
    calls: Family<StateLabels, Gauge>,
    jobs: Family<JobLabels, Gauge>,
    transcription_speed: Gauge<f64, AtomicU64>,
    transcribed_audio: Gauge<f64, AtomicU64>,
    registry: Registry,
}

fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(|| {
        let mut registry = Registry::with_prefix("callproof");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route template, method and status",
            requests.clone(),
        );
        // 1 ms to ~4 s: searches answer in tens of milliseconds at 10 M segments.
        let search_seconds = Histogram::new(
            prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 13),
        );
        registry.register(
            "search_seconds",
            "Time to answer a search (index query, grouping, snippets)",
            search_seconds.clone(),
        );
        let calls = Family::<StateLabels, Gauge>::default();
        registry.register(
            "calls",
            "Calls in the catalog by state (the whole deployment)",
            calls.clone(),
        );
        let jobs = Family::<JobLabels, Gauge>::default();
        registry.register(
            "jobs",
            "Jobs by kind and state: queued is the queue's depth, dead the dead letters",
            jobs.clone(),
        );
        // Read from the catalog's done jobs, so that workers in other processes count too.
        let transcription_speed = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "transcription_seconds_per_audio_second",
            "Seconds of transcription work per second of audio over the last hour (under 1: faster than real time; 0 when nothing was transcribed)",
            transcription_speed.clone(),
        );
        let transcribed_audio = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "transcribed_audio_seconds_last_hour",
            "Seconds of audio transcribed over the last hour",
            transcribed_audio.clone(),
        );
        Metrics {
            requests,
            search_seconds,
            calls,
            jobs,
            transcription_speed,
            transcribed_audio,
            registry,
        }
    })
}

/// Counts one answered request.
pub fn request(route: &str, method: &str, status: u16) {
    metrics()
        .requests
        .get_or_create(&RequestLabels {
            route: route.to_string(),
            method: method.to_string(),
            status,
        })
        .inc();
}

/// Records how long a search took.
pub fn search(took: Duration) {
    metrics().search_seconds.observe(took.as_secs_f64());
}

/// The metrics as OpenMetrics text, with the catalog's counts as they are now.
pub fn render(ops: &crate::service::Operations) -> Result<String, std::fmt::Error> {
    let m = metrics();
    // Every known state is reported, 0 included, so that a state that empties shows 0
    // rather than its last value.
    for state in ["received", "transcribing", "indexed", "failed"] {
        let n = ops
            .calls
            .iter()
            .find(|(s, _)| s == state)
            .map_or(0, |(_, n)| *n);
        m.calls
            .get_or_create(&StateLabels {
                state: state.into(),
            })
            .set(n as i64);
    }
    use callproof_metastore::{JobKind, JobState};
    for kind in [JobKind::Transcribe, JobKind::Index] {
        for state in [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Dead,
        ] {
            let n = ops
                .jobs
                .iter()
                .find(|(k, s, _)| *k == kind && *s == state)
                .map_or(0, |(_, _, n)| *n);
            m.jobs
                .get_or_create(&JobLabels {
                    kind: kind.as_str().into(),
                    state: state.as_str().into(),
                })
                .set(n as i64);
        }
    }
    let work = &ops.transcription_last_hour;
    m.transcription_speed
        .set(work.seconds_per_audio_second().unwrap_or(0.0));
    m.transcribed_audio.set(work.audio_ms as f64 / 1000.0);
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &m.registry)?;
    Ok(out)
}
