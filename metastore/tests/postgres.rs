//! The conformance suite against the PostgreSQL metastore, on a throwaway cluster started by
//! `scripts/engines/postgres.sh` (one per test process, one database per test), plus what only
//! a shared catalog has to prove: several processes claiming, appending and migrating at once.

use callproof_metastore::testing::fresh_postgres_database;
use callproof_metastore::{metastore_test_suite, PostgresMetastore};

async fn fresh() -> ((), PostgresMetastore) {
    let url = fresh_postgres_database().await;
    let store = PostgresMetastore::connect(&url).await.expect("connects");
    ((), store)
}

metastore_test_suite!(postgres, super::fresh().await);

/// Tampering through the database behind the catalog's back is found by `verify_audit`:
/// an edited entry, a removed one, and the newest ones removed (caught by the head row).
#[tokio::test]
async fn audit_tampering_in_the_database_is_detected() {
    use callproof_metastore::Access;
    use callproof_models::Actor;
    let (_, m) = fresh().await;
    for i in 0..5 {
        m.audit(&Actor::local(), "read_call", Some(&format!("c{i}")), "ok")
            .await
            .unwrap();
    }
    let db = m.pool();
    sqlx::query("UPDATE audit SET outcome = 'denied' WHERE seq = 3")
        .execute(db)
        .await
        .unwrap();
    let brk = m.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(brk.seq, 3, "{brk:?}");
    assert!(brk.reason.contains("edited"), "{brk:?}");
    sqlx::query("UPDATE audit SET outcome = 'ok' WHERE seq = 3")
        .execute(db)
        .await
        .unwrap();
    assert_eq!(m.verify_audit().await.unwrap(), Ok(5));
    sqlx::query("DELETE FROM audit WHERE seq = 5")
        .execute(db)
        .await
        .unwrap();
    let brk = m.verify_audit().await.unwrap().unwrap_err();
    assert!(
        brk.reason.contains("newest entries were deleted"),
        "{brk:?}"
    );
    sqlx::query("DELETE FROM audit WHERE seq = 2")
        .execute(db)
        .await
        .unwrap();
    let brk = m.verify_audit().await.unwrap().unwrap_err();
    assert!(brk.reason.contains("missing"), "{brk:?}");
}

/// Nodes starting together on an empty database apply each migration once.
#[tokio::test]
async fn nodes_starting_together_migrate_once() {
    let url = fresh_postgres_database().await;
    let opened =
        futures_util::future::join_all((0..4).map(|_| PostgresMetastore::connect(&url))).await;
    for o in &opened {
        assert!(o.is_ok(), "{:?}", o.as_ref().err());
    }
    let m = opened.into_iter().next().unwrap().unwrap();
    let versions: Vec<i32> =
        sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
            .fetch_all(m.pool())
            .await
            .unwrap();
    assert_eq!(versions, vec![1, 2, 3]);
}

/// A catalog that cannot be reached says which one and what to check, without its password.
#[tokio::test]
async fn an_unreachable_catalog_is_named_without_its_password() {
    let port = callproof_metastore::testing::free_port();
    let err = PostgresMetastore::connect(&format!("postgres://cp:s3cret@127.0.0.1:{port}/x"))
        .await
        .err()
        .expect("nothing listens there");
    let msg = err.to_string();
    assert!(
        msg.contains("cannot be reached") && msg.contains("127.0.0.1"),
        "{msg}"
    );
    assert!(!msg.contains("s3cret"), "{msg}");
}
