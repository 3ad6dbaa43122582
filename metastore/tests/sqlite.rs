//! The conformance suite against the embedded SQLite metastore.

use callproof_metastore::{metastore_test_suite, SqliteMetastore};

fn fresh() -> (tempfile::TempDir, SqliteMetastore) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = SqliteMetastore::open(&dir.path().join("catalog.sqlite")).expect("opens");
    (dir, store)
}

metastore_test_suite!(sqlite, super::fresh());
