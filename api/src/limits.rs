//! What one caller may send or cost, in one place: every limit with its default and the
//! option (and environment variable) that changes it.
//!
//! Each limit is checked before the work it protects: the upload size before the body is read
//! (and again while it streams to disk), the headers of a recording before it is decoded, the
//! decoded length while it is decoded, a query's length and nesting before it is parsed. A
//! refusal is a 4xx answer that names the limit and what to do. README "Limits" lists them.

use callproof_ingest::AudioLimits;
use callproof_search::QueryLimits;
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct Limits {
    /// Largest recording accepted by an upload, in MB (checked from Content-Length before the
    /// body is read, and while it streams to disk).
    #[arg(
        long = "max-upload-mb",
        global = true,
        env = "CALLPROOF_MAX_UPLOAD_MB",
        default_value_t = 512
    )]
    pub max_upload_mb: u64,
    /// Uploads received at the same time; more are answered 503 with Retry-After.
    #[arg(
        long = "max-concurrent-uploads",
        global = true,
        env = "CALLPROOF_MAX_CONCURRENT_UPLOADS",
        default_value_t = 4
    )]
    pub max_concurrent_uploads: usize,
    /// Evidence bundles and audio excerpts made at the same time (each decodes a recording);
    /// more are answered 503 with Retry-After.
    #[arg(
        long = "max-concurrent-heavy",
        global = true,
        env = "CALLPROOF_MAX_CONCURRENT_HEAVY",
        default_value_t = 2
    )]
    pub max_concurrent_heavy: usize,
    /// Shortest recording accepted, in milliseconds (shorter is a fragment, not a call).
    #[arg(long = "min-duration-ms", global = true, env = "CALLPROOF_MIN_DURATION_MS", default_value_t = callproof_ingest::decode::MIN_DURATION_MS)]
    pub min_duration_ms: u64,
    /// Longest recording accepted, in minutes.
    #[arg(
        long = "max-duration-min",
        global = true,
        env = "CALLPROOF_MAX_DURATION_MIN",
        default_value_t = 240
    )]
    pub max_duration_min: u64,
    /// Most channels accepted (1 mixed or 2 agent/customer are the norm; more for recorders
    /// that keep a conference's legs apart).
    #[arg(long = "max-channels", global = true, env = "CALLPROOF_MAX_CHANNELS", default_value_t = callproof_ingest::decode::MAX_CHANNELS)]
    pub max_channels: usize,
    /// Lowest sample rate accepted, in Hz.
    #[arg(long = "min-sample-rate", global = true, env = "CALLPROOF_MIN_SAMPLE_RATE", default_value_t = callproof_ingest::decode::MIN_SAMPLE_RATE)]
    pub min_sample_rate: u32,
    /// Highest sample rate accepted, in Hz.
    #[arg(long = "max-sample-rate", global = true, env = "CALLPROOF_MAX_SAMPLE_RATE", default_value_t = callproof_ingest::decode::MAX_SAMPLE_RATE)]
    pub max_sample_rate: u32,
    /// Decoded samples (all channels together) accepted per recording, counted while decoding:
    /// a few kilobytes of constant FLAC frames can claim billions.
    #[arg(long = "max-decoded-samples", global = true, env = "CALLPROOF_MAX_DECODED_SAMPLES", default_value_t = callproof_ingest::decode::MAX_SAMPLES)]
    pub max_decoded_samples: u64,
    /// Longest text in a metadata field (campaign, agent, contract reference…), in characters.
    #[arg(long = "max-field-chars", global = true, env = "CALLPROOF_MAX_FIELD_CHARS", default_value_t = callproof_ingest::MAX_FIELD_CHARS)]
    pub max_field_chars: usize,
    /// Longest search query, in characters.
    #[arg(long = "max-query-chars", global = true, env = "CALLPROOF_MAX_QUERY_CHARS", default_value_t = callproof_search::MAX_QUERY_CHARS)]
    pub max_query_chars: usize,
    /// Deepest nesting of parentheses in a search query.
    #[arg(long = "max-query-depth", global = true, env = "CALLPROOF_MAX_QUERY_DEPTH", default_value_t = callproof_search::MAX_QUERY_DEPTH)]
    pub max_query_depth: usize,
}

/// The metadata part of an upload is a small JSON object: 64 KB is far above any real one.
pub const MAX_METADATA_BYTES: usize = 64 << 10;

impl Default for Limits {
    fn default() -> Self {
        let audio = AudioLimits::default();
        let query = QueryLimits::default();
        Self {
            max_upload_mb: 512,
            max_concurrent_uploads: 4,
            max_concurrent_heavy: 2,
            min_duration_ms: audio.min_duration_ms,
            max_duration_min: audio.max_duration_s / 60,
            max_channels: audio.max_channels,
            min_sample_rate: audio.min_sample_rate,
            max_sample_rate: audio.max_sample_rate,
            max_decoded_samples: audio.max_samples,
            max_field_chars: callproof_ingest::MAX_FIELD_CHARS,
            max_query_chars: query.max_chars,
            max_query_depth: query.max_depth,
        }
    }
}

impl Limits {
    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_mb.saturating_mul(1_000_000)
    }

    pub fn audio(&self) -> AudioLimits {
        AudioLimits {
            min_sample_rate: self.min_sample_rate,
            max_sample_rate: self.max_sample_rate,
            max_channels: self.max_channels,
            max_duration_s: self.max_duration_min.saturating_mul(60),
            max_samples: self.max_decoded_samples,
            min_duration_ms: self.min_duration_ms,
        }
    }

    pub fn query(&self) -> QueryLimits {
        QueryLimits {
            max_chars: self.max_query_chars,
            max_depth: self.max_query_depth,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        limits: Limits,
    }

    /// The defaults of the options are the defaults of the libraries: one set of numbers.
    #[test]
    fn option_defaults_are_the_library_defaults() {
        let parsed = Cli::parse_from(["callproof"]).limits;
        assert_eq!(parsed.audio(), AudioLimits::default());
        assert_eq!(parsed.query(), QueryLimits::default());
        assert_eq!(
            parsed.max_upload_bytes(),
            Limits::default().max_upload_bytes()
        );
        let set = Cli::parse_from([
            "callproof",
            "--max-duration-min",
            "30",
            "--max-channels",
            "2",
        ]);
        assert_eq!(set.limits.audio().max_duration_s, 1800);
        assert_eq!(set.limits.audio().max_channels, 2);
    }
}
