//! The work queue's throughput: jobs claimed (and completed) per second by 1, 2 and 4
//! concurrent workers, on an empty queue (idle polling) and with 100,000 queued jobs, for the
//! PostgreSQL engine and the embedded SQLite one in the same run. PostgreSQL runs on a
//! throwaway cluster on this machine (`scripts/engines/postgres.sh`), so the figures include
//! loopback round trips but no network.
//!
//! `cargo run -p callproof-metastore --example queue` (results: BENCHMARKS.md, "Work queue").

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use callproof_metastore::{JobKind, Metastore, PostgresMetastore, SqliteMetastore};

const QUEUED: usize = 100_000;
const WINDOW: Duration = Duration::from_secs(4);

async fn seed_postgres(m: &PostgresMetastore) {
    let pool = m.pool();
    sqlx::query(
        "INSERT INTO calls (id, sha256, client, metadata, size_bytes, object_key, state,
            received_at, updated_at)
         SELECT '01900000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'), 's' || g, 'acme', '{\"client\":\"acme\"}', 1, 'k', 'received', now(), now()
         FROM generate_series(1, $1) g",
    )
    .bind(QUEUED as i64)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO jobs (call_id, kind, state, max_attempts, created_at, updated_at)
         SELECT '01900000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'), 'transcribe', 'queued', 3, now(), now() FROM generate_series(1, $1) g",
    )
    .bind(QUEUED as i64)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}

/// Call ids as callproof makes them (UUID v7 shape), numbered.
fn id(g: usize) -> String {
    format!("01900000-0000-7000-8000-{g:012x}")
}

fn seed_sqlite(path: &std::path::Path) {
    let mut c = rusqlite::Connection::open(path).unwrap();
    let tx = c.transaction().unwrap();
    for g in 1..=QUEUED {
        tx.execute(
            "INSERT INTO calls (id, sha256, client, metadata, size_bytes, object_key, state,
                received_at, updated_at)
             VALUES (?1, ?2, 'acme', '{\"client\":\"acme\"}', 1, 'k', 'received',
                '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            rusqlite::params![id(g), format!("s{g}")],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO jobs (call_id, kind, state, max_attempts, created_at, updated_at)
             VALUES (?1, 'transcribe', 'queued', 3, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [id(g)],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

/// Claims (and, when one is handed out, completes) for `WINDOW` with `workers` concurrent
/// workers; returns (attempts per second, jobs handed out per second).
async fn run(m: Arc<dyn Metastore>, workers: usize) -> (f64, f64) {
    let attempts = Arc::new(AtomicU64::new(0));
    let claimed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let (m, attempts, claimed) = (m.clone(), attempts.clone(), claimed.clone());
            tokio::spawn(async move {
                let owner = format!("bench-{w}");
                while started.elapsed() < WINDOW {
                    let job = m
                        .claim(JobKind::Transcribe, &owner, Duration::from_secs(60), None)
                        .await
                        .unwrap();
                    attempts.fetch_add(1, Ordering::Relaxed);
                    if let Some(job) = job {
                        m.complete(job.id, &owner, None).await.unwrap();
                        claimed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let s = started.elapsed().as_secs_f64();
    (
        attempts.load(Ordering::Relaxed) as f64 / s,
        claimed.load(Ordering::Relaxed) as f64 / s,
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!("| engine | queue | workers | claim attempts/s | jobs claimed+completed/s |");
        println!("|---|---|---|---|---|");
        for workers in [1, 2, 4] {
            // Empty queue.
            let url = callproof_metastore::testing::fresh_postgres_database().await;
            let pg: Arc<dyn Metastore> = Arc::new(PostgresMetastore::connect(&url).await.unwrap());
            let (a, _) = run(pg, workers).await;
            println!("| PostgreSQL | empty | {workers} | {a:.0} | – |");
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("catalog.sqlite");
            let lite: Arc<dyn Metastore> = Arc::new(SqliteMetastore::open(&path).unwrap());
            let (a, _) = run(lite, workers).await;
            println!("| SQLite | empty | {workers} | {a:.0} | – |");
            // 100,000 queued.
            let url = callproof_metastore::testing::fresh_postgres_database().await;
            let pgm = PostgresMetastore::connect(&url).await.unwrap();
            seed_postgres(&pgm).await;
            let (a, c) = run(Arc::new(pgm), workers).await;
            println!("| PostgreSQL | 100,000 queued | {workers} | {a:.0} | {c:.0} |");
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("catalog.sqlite");
            drop(SqliteMetastore::open(&path).unwrap());
            seed_sqlite(&path);
            let lite: Arc<dyn Metastore> = Arc::new(SqliteMetastore::open(&path).unwrap());
            let (a, c) = run(lite, workers).await;
            println!("| SQLite | 100,000 queued | {workers} | {a:.0} | {c:.0} |");
        }
    });
}
