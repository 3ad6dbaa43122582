//! Original recordings, stored unchanged through `object_store`.
//!
//! The original bytes are evidence: they are written once, under a key that names the tenant and
//! the call, and never rewritten. The local filesystem is the embedded default; the same trait
//! reaches S3-compatible storage at scale.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use callproof_models::CallId;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the object store at {root} cannot be opened: {source}")]
    Open {
        root: String,
        source: object_store::Error,
    },
    #[error("the recording {key} is missing from the object store")]
    NotFound { key: String },
    #[error("object store: {0}")]
    Backend(#[from] object_store::Error),
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

    /// Any `object_store` backend (S3, memory for tests…).
    pub fn with_backend(inner: Arc<dyn ObjectStore>) -> Self {
        Self { inner }
    }

    /// The key of a call's original: tenant first, so per-tenant policies can act on prefixes.
    pub fn key_for(client: &str, id: CallId, extension: &str) -> String {
        format!("clients/{client}/calls/{id}/original.{extension}")
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        self.inner
            .put(&ObjectPath::from(key), PutPayload::from_bytes(bytes))
            .await?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        match self.inner.get(&ObjectPath::from(key)).await {
            Ok(r) => Ok(r.bytes().await?),
            Err(object_store::Error::NotFound { .. }) => {
                Err(StoreError::NotFound { key: key.into() })
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn size(&self, key: &str) -> Result<u64, StoreError> {
        match self.inner.head(&ObjectPath::from(key)).await {
            Ok(m) => Ok(m.size),
            Err(object_store::Error::NotFound { .. }) => {
                Err(StoreError::NotFound { key: key.into() })
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, StoreError> {
        match self.inner.get_range(&ObjectPath::from(key), range).await {
            Ok(b) => Ok(b),
            Err(object_store::Error::NotFound { .. }) => {
                Err(StoreError::NotFound { key: key.into() })
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(&ObjectPath::from(key)).await?;
        Ok(())
    }
}
