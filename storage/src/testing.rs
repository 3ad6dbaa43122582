//! A throwaway SeaweedFS (S3) server for tests of every crate: one per test process, started
//! by `scripts/engines/seaweedfs.sh` (stopped by that script once the process is gone), one
//! bucket, and one fresh prefix per test.

use std::path::PathBuf;
use std::sync::OnceLock;

/// A running S3 server: its bucket and the settings a client needs.
pub struct S3Server {
    pub bucket: String,
    /// `AWS_*` settings, in lower case (`aws_endpoint_url`, `aws_access_key_id`, …).
    pub settings: Vec<(String, String)>,
}

impl S3Server {
    /// The settings as environment variables (`AWS_ENDPOINT_URL=…`), for child processes.
    pub fn env(&self) -> Vec<(String, String)> {
        self.settings
            .iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v.clone()))
            .collect()
    }

    /// A URI of a prefix no other test uses.
    pub fn fresh_uri(&self) -> String {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("s3://{}/t{}-{n}", self.bucket, std::process::id())
    }
}

static SERVER: OnceLock<Result<S3Server, String>> = OnceLock::new();

fn engines_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/engines"))
}

/// Four consecutive free loopback ports (and their gRPC ports, +10000), at most 45532.
fn free_base() -> u16 {
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    let seed = std::process::id() as u16;
    for i in 0..2000u16 {
        let base = 20000 + (seed.wrapping_add(i.wrapping_mul(37)) % 25000);
        if (0..4).all(|o| free(base + o) && free(base + o + 10000)) {
            return base;
        }
    }
    panic!("no free loopback ports for SeaweedFS");
}

/// This process's S3 server, started on first use.
pub fn seaweedfs() -> &'static S3Server {
    let server = SERVER.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("callproof-s3-{}", std::process::id()));
        let out = std::process::Command::new("bash")
            .arg(engines_dir().join("seaweedfs.sh"))
            .arg("start")
            .arg(&dir)
            .arg(free_base().to_string())
            .arg("callproof-test")
            .arg(std::process::id().to_string())
            .output()
            .map_err(|e| format!("cannot run scripts/engines/seaweedfs.sh: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "the test SeaweedFS server did not start: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let settings = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        Ok(S3Server {
            bucket: "callproof-test".into(),
            settings,
        })
    });
    match server {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

/// Writes an object as another system would (a telephony platform dropping a recording).
pub async fn put_foreign(uri: &str, settings: &[(String, String)], key: &str, body: Vec<u8>) {
    use object_store::ObjectStoreExt;
    let store = crate::OriginalStore::from_uri_with(uri, settings).expect("an S3 store");
    store
        .backend()
        .put(&object_store::path::Path::from(key), body.into())
        .await
        .expect("the object is written");
}
