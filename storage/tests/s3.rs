//! The object store on a real S3 implementation (SeaweedFS, started by the test): originals
//! are create-only there too, prefixes keep deployments apart, and a wrong credential is
//! reported at the start check, not at the first upload.

use bytes::Bytes;
use callproof_models::CallId;
use callproof_storage::testing::seaweedfs;
use callproof_storage::{ObjectKey, OriginalStore, StoreError};

fn store() -> OriginalStore {
    let s3 = seaweedfs();
    OriginalStore::from_uri_with(&s3.fresh_uri(), &s3.settings).expect("an S3 store")
}

#[tokio::test]
async fn originals_are_create_only_on_s3() {
    let store = store();
    store
        .check()
        .await
        .expect("the store answers and may be written");
    let k = ObjectKey::original("acme", CallId::new(), "wav").unwrap();
    store.put(&k, Bytes::from_static(b"one")).await.unwrap();
    let again = store.put(&k, Bytes::from_static(b"two")).await;
    assert!(matches!(again, Err(StoreError::Exists { .. })), "{again:?}");
    assert_eq!(store.get(&k).await.unwrap().as_ref(), b"one");
    assert_eq!(store.size(&k).await.unwrap(), 3);
    assert_eq!(store.get_range(&k, 1..3).await.unwrap().as_ref(), b"ne");
    let listed = store.list("clients/acme/").await.unwrap();
    assert_eq!(listed, vec![(k.as_str().to_string(), 3)]);
    assert!(store.discard(&k).await.unwrap());
    assert!(matches!(
        store.get(&k).await,
        Err(StoreError::NotFound { .. })
    ));
}

#[tokio::test]
async fn two_prefixes_do_not_see_each_other() {
    let (a, b) = (store(), store());
    let k = ObjectKey::original("acme", CallId::new(), "wav").unwrap();
    a.put(&k, Bytes::from_static(b"a")).await.unwrap();
    assert!(matches!(b.get(&k).await, Err(StoreError::NotFound { .. })));
    b.put(&k, Bytes::from_static(b"b")).await.unwrap();
    assert_eq!(a.get(&k).await.unwrap().as_ref(), b"a");
}

#[tokio::test]
async fn a_wrong_secret_fails_the_start_check() {
    let s3 = seaweedfs();
    let mut settings = s3.settings.clone();
    for (k, v) in &mut settings {
        if k == "aws_secret_access_key" {
            *v = "not-the-secret".into();
        }
    }
    let store = OriginalStore::from_uri_with(&s3.fresh_uri(), &settings).unwrap();
    let err = store.check().await.expect_err("refused");
    assert!(!err.to_string().contains("not-the-secret"), "{err}");
}

#[test]
fn unknown_settings_and_bad_uris_are_refused() {
    let err = OriginalStore::from_uri_with("s3://b/p", &[("aws_colour".into(), "x".into())])
        .err()
        .unwrap();
    assert!(err.to_string().contains("unknown S3 setting"), "{err}");
    assert!(OriginalStore::from_uri("s3:///p").is_err());
    assert!(OriginalStore::from_uri("s3://b/../p").is_err());
    assert!(OriginalStore::from_uri("gs://b/p").is_err());
}
