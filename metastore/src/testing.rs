//! Throwaway PostgreSQL databases for tests of every crate: one cluster per test process,
//! started by `scripts/engines/postgres.sh` (stopped by that script once the process is gone),
//! and one fresh database per test. `CALLPROOF_TEST_POSTGRES` (a server URL whose user may
//! create databases) points the tests at a server that already runs instead.

use std::path::PathBuf;
use std::sync::OnceLock;

static SERVER: OnceLock<Result<String, String>> = OnceLock::new();

/// The repository's `scripts/engines` folder.
pub fn engines_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/engines"))
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The URL of this process's PostgreSQL server (its `postgres` database), started on first use.
pub fn postgres_server() -> &'static str {
    let server = SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("CALLPROOF_TEST_POSTGRES") {
            return Ok(url);
        }
        let dir = std::env::temp_dir().join(format!("callproof-pg-{}", std::process::id()));
        let out = std::process::Command::new("bash")
            .arg(engines_dir().join("postgres.sh"))
            .arg("start")
            .arg(&dir)
            .arg(free_port().to_string())
            .arg(std::process::id().to_string())
            .output()
            .map_err(|e| format!("cannot run scripts/engines/postgres.sh: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "the test PostgreSQL server did not start: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    match server {
        Ok(url) => url,
        Err(e) => panic!("{e}"),
    }
}

/// A new, empty database on the test server; its URL.
pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let server = postgres_server();
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(server)
        .await
        .expect("connects to the test PostgreSQL server");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("creates a test database");
    let base = server.rsplit_once('/').map_or(server, |(b, _)| b);
    format!("{base}/{name}")
}
