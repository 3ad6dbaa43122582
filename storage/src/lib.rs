//! Original recordings, stored unchanged through `object_store`, and the layout of their keys.
//!
//! The original bytes are evidence: they are written once (create-only: an existing object is
//! never replaced), under a key that names the tenant and the call, and never rewritten. This
//! crate alone knows the key layout: an [`ObjectKey`] is only made here, so a key that reaches
//! the store always lies under its call's tenant. The store is chosen by URI (`file://…`, the
//! embedded default); the same trait reaches S3-compatible storage at scale.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use callproof_models::CallId;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the object store at {root} cannot be opened: {source}")]
    Open {
        root: String,
        source: object_store::Error,
    },
    #[error("the recording {key} is missing from the object store")]
    NotFound { key: String },
    #[error("the object {key} already exists; originals are never replaced")]
    Exists { key: String },
    #[error("{0}")]
    InvalidKey(String),
    #[error("unsupported object store {0:?}: give a folder path or file:///absolute/path")]
    UnsupportedUri(String),
    #[error("object store: {0}")]
    Backend(#[from] object_store::Error),
}

/// Where an object lives in the store. Only this crate builds one: from a call's tenant and
/// id, or by checking a stored key against the call it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// The key of a call's original: tenant first, so that per-tenant policies (retention,
    /// erasure, buckets per tenant) can act on prefixes.
    pub fn original(client: &str, id: CallId, extension: &str) -> Result<Self, StoreError> {
        let safe = |s: &str| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !safe(client) || !safe(extension) {
            return Err(StoreError::InvalidKey(format!(
                "client {client:?} or extension {extension:?} cannot be part of an object key"
            )));
        }
        Ok(Self(format!(
            "{}{id}/original.{extension}",
            Self::call_prefix(client)
        )))
    }

    /// A key read back from the catalog, accepted only if it lies under `client`'s calls: a
    /// row pointing into another tenant's objects is refused rather than served.
    pub fn stored(key: &str, client: &str) -> Result<Self, StoreError> {
        let prefix = Self::call_prefix(client);
        match key.strip_prefix(&prefix) {
            Some(rest) if !rest.split('/').any(|p| p.is_empty() || p == "..") => {
                Ok(Self(key.to_string()))
            }
            _ => Err(StoreError::InvalidKey(format!(
                "the stored object key {key:?} is not under client {client}'s calls"
            ))),
        }
    }

    fn call_prefix(client: &str) -> String {
        format!("clients/{client}/calls/")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone)]
pub struct OriginalStore {
    inner: Arc<dyn ObjectStore>,
}

impl OriginalStore {
    /// A store rooted at a local folder (created if missing).
    pub fn local(root: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(root).map_err(|e| StoreError::Open {
            root: root.display().to_string(),
            source: object_store::Error::Generic {
                store: "LocalFileSystem",
                source: Box::new(e),
            },
        })?;
        let fs = LocalFileSystem::new_with_prefix(root).map_err(|source| StoreError::Open {
            root: root.display().to_string(),
            source,
        })?;
        Ok(Self {
            inner: Arc::new(fs),
        })
    }

    /// A store named by URI: a plain folder path or `file:///absolute/path` (created if
    /// missing).
    pub fn from_uri(uri: &str) -> Result<Self, StoreError> {
        match uri.strip_prefix("file://") {
            Some(path) if path.starts_with('/') => Self::local(Path::new(path)),
            Some(_) => Err(StoreError::UnsupportedUri(uri.to_string())),
            None if uri.contains("://") => Err(StoreError::UnsupportedUri(uri.to_string())),
            None => Self::local(Path::new(uri)),
        }
    }

    /// Any `object_store` backend (S3, memory for tests…).
    pub fn with_backend(inner: Arc<dyn ObjectStore>) -> Self {
        Self { inner }
    }

    /// Writes a new object; refuses to replace one. The local backend writes a temporary file
    /// and links it into place, so a reader never sees half an object.
    pub async fn put(&self, key: &ObjectKey, bytes: Bytes) -> Result<(), StoreError> {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .inner
            .put_opts(
                &ObjectPath::from(key.as_str()),
                PutPayload::from_bytes(bytes),
                opts,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(object_store::Error::AlreadyExists { .. }) => Err(StoreError::Exists {
                key: key.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get(&self, key: &ObjectKey) -> Result<Bytes, StoreError> {
        match self.inner.get(&ObjectPath::from(key.as_str())).await {
            Ok(r) => Ok(r.bytes().await?),
            Err(object_store::Error::NotFound { .. }) => Err(StoreError::NotFound {
                key: key.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn size(&self, key: &ObjectKey) -> Result<u64, StoreError> {
        match self.inner.head(&ObjectPath::from(key.as_str())).await {
            Ok(m) => Ok(m.size),
            Err(object_store::Error::NotFound { .. }) => Err(StoreError::NotFound {
                key: key.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_range(&self, key: &ObjectKey, range: Range<u64>) -> Result<Bytes, StoreError> {
        match self
            .inner
            .get_range(&ObjectPath::from(key.as_str()), range)
            .await
        {
            Ok(b) => Ok(b),
            Err(object_store::Error::NotFound { .. }) => Err(StoreError::NotFound {
                key: key.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        self.inner.delete(&ObjectPath::from(key.as_str())).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_under_their_tenant() {
        let id = CallId::new();
        let k = ObjectKey::original("acme", id, "wav").unwrap();
        assert_eq!(k.as_str(), format!("clients/acme/calls/{id}/original.wav"));
        assert!(ObjectKey::stored(k.as_str(), "acme").is_ok());
        assert!(ObjectKey::stored(k.as_str(), "acm").is_err());
        assert!(ObjectKey::stored(k.as_str(), "globex").is_err());
        assert!(ObjectKey::stored("clients/acme/calls/../../globex/x", "acme").is_err());
        assert!(ObjectKey::original("../x", id, "wav").is_err());
        assert!(ObjectKey::original("acme", id, "wav/../x").is_err());
    }

    #[tokio::test]
    async fn originals_are_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let uri = format!("file://{}", dir.path().display());
        let store = OriginalStore::from_uri(&uri).unwrap();
        let k = ObjectKey::original("acme", CallId::new(), "wav").unwrap();
        store.put(&k, Bytes::from_static(b"one")).await.unwrap();
        let again = store.put(&k, Bytes::from_static(b"two")).await;
        assert!(matches!(again, Err(StoreError::Exists { .. })), "{again:?}");
        assert_eq!(store.get(&k).await.unwrap().as_ref(), b"one");
        assert_eq!(store.size(&k).await.unwrap(), 3);
        store.delete(&k).await.unwrap();
        assert!(matches!(
            store.get(&k).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(OriginalStore::from_uri("s3://bucket").is_err());
    }
}
