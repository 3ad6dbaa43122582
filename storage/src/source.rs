//! Recordings that another system dropped in a bucket (a telephony platform's S3 export), read
//! for import. Unlike [`OriginalStore`](crate::OriginalStore), nothing here is callproof's:
//! keys are the other system's, objects are only listed and downloaded, never written.

use std::path::Path;
use std::sync::Arc;

use futures::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWriteExt;

use crate::StoreError;

/// A bucket prefix to import from.
pub struct SourceBucket {
    inner: Arc<dyn ObjectStore>,
    uri: String,
}

impl SourceBucket {
    /// Opens `s3://bucket/prefix` with the same settings as the object store (`AWS_*`
    /// variables, then `settings`).
    pub fn open(uri: &str, settings: &[(String, String)]) -> Result<Self, StoreError> {
        if !uri.starts_with("s3://") {
            return Err(StoreError::UnsupportedUri(uri.to_string()));
        }
        let store = crate::OriginalStore::from_uri_with(uri, settings)?;
        Ok(Self {
            inner: store.backend(),
            uri: uri.trim_end_matches('/').to_string(),
        })
    }

    /// Every object under the prefix, with its size, in key order (keys relative to it).
    pub async fn list(&self) -> Result<Vec<(String, u64)>, StoreError> {
        use futures::TryStreamExt;
        let listed: Vec<_> =
            self.inner
                .list(None)
                .try_collect()
                .await
                .map_err(|e| StoreError::Open {
                    root: self.uri.clone(),
                    source: e,
                })?;
        let mut out: Vec<(String, u64)> = listed
            .into_iter()
            .map(|m| (m.location.to_string(), m.size))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Downloads one object to `dest`, streamed (a recording never sits in memory whole).
    pub async fn download(&self, key: &str, dest: &Path) -> Result<(), StoreError> {
        let io = |e: std::io::Error| {
            StoreError::Backend(object_store::Error::Generic {
                store: "download",
                source: format!("{}: {e}", dest.display()).into(),
            })
        };
        let got = match self.inner.get(&ObjectPath::from(key)).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StoreError::NotFound {
                    key: format!("{}/{key}", self.uri),
                })
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
        }
        let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
        let mut stream = got.into_stream();
        while let Some(chunk) = stream.next().await {
            file.write_all(&chunk?).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        Ok(())
    }
}
