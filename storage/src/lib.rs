//! Original recordings, stored unchanged through `object_store`, and the layout of their keys.
//!
//! The original bytes are evidence: they are written once (create-only: an existing object is
//! never replaced), under a key that names the tenant and the call, and never rewritten. This
//! crate alone knows the key layout: an [`ObjectKey`] is only made here, so a key that reaches
//! the store always lies under its call's tenant. The store is chosen by URI (`file://…`, the
//! embedded default); the same trait reaches S3-compatible storage at scale.

use std::ops::Range;
use std::path::{Path, PathBuf};
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
    #[error("unsupported object store {0:?}: give a folder path, file:///absolute/path or s3://bucket/prefix")]
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

    /// The key of a call's redacted recording, which replaces its original (a WAV: the
    /// redacted samples are written anew).
    pub fn redacted(client: &str, id: CallId) -> Result<Self, StoreError> {
        let original = Self::original(client, id, "wav")?;
        Ok(Self(original.0.replace("/original.wav", "/redacted.wav")))
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

    /// The key of a signed audit checkpoint: numbered by the audit entry it seals, zero-padded
    /// so that keys list in order.
    pub fn audit_checkpoint(seq: u64) -> Self {
        Self(format!("{CHECKPOINTS}{seq:020}.json"))
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

/// Where signed audit checkpoints live in the store.
const CHECKPOINTS: &str = "audit/checkpoints/";

#[derive(Clone)]
pub struct OriginalStore {
    inner: Arc<dyn ObjectStore>,
    /// The folder of a local store: files are linked into it without passing through memory,
    /// and the leftovers of a write killed half-way are found beside their object.
    local_root: Option<PathBuf>,
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
            local_root: Some(root.to_path_buf()),
        })
    }

    /// A store named by URI: a plain folder path or `file:///absolute/path` (created if
    /// missing), or `s3://bucket/prefix` — any S3-compatible store, configured by the usual
    /// `AWS_*` variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    /// `AWS_ENDPOINT_URL` for a store other than Amazon's, `AWS_ALLOW_HTTP=true` for one on
    /// plain HTTP). Writes are create-only there too: conditional puts (`If-None-Match: *`).
    pub fn from_uri(uri: &str) -> Result<Self, StoreError> {
        Self::from_uri_with(uri, &[])
    }

    /// [`from_uri`](Self::from_uri), with S3 settings (`aws_access_key_id`, `aws_endpoint`, …:
    /// the `AWS_*` names in lower case) that take precedence over the environment: from a
    /// configuration file.
    pub fn from_uri_with(uri: &str, s3_settings: &[(String, String)]) -> Result<Self, StoreError> {
        if let Some(rest) = uri.strip_prefix("s3://") {
            return Self::s3(uri, rest, s3_settings);
        }
        match uri.strip_prefix("file://") {
            Some(path) if path.starts_with('/') => Self::local(Path::new(path)),
            Some(_) => Err(StoreError::UnsupportedUri(uri.to_string())),
            None if uri.contains("://") => Err(StoreError::UnsupportedUri(uri.to_string())),
            None => Self::local(Path::new(uri)),
        }
    }

    fn s3(uri: &str, rest: &str, settings: &[(String, String)]) -> Result<Self, StoreError> {
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, S3ConditionalPut};
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        if bucket.is_empty() || prefix.split('/').any(|p| p == "." || p == "..") {
            return Err(StoreError::UnsupportedUri(uri.to_string()));
        }
        // The HTTP client's TLS uses the process's rustls crypto: ring, as the catalog's
        // PostgreSQL connections do. Installing it when one is already there changes nothing.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env();
        for (key, value) in settings {
            let key: AmazonS3ConfigKey = key.to_ascii_lowercase().parse().map_err(|_| {
                StoreError::InvalidKey(format!(
                    "unknown S3 setting {key:?}: use the AWS_* variable names (aws_endpoint, aws_region, aws_access_key_id, …)"
                ))
            })?;
            builder = builder.with_config(key, value);
        }
        let s3 = builder
            .with_bucket_name(bucket)
            .with_conditional_put(S3ConditionalPut::ETagMatch)
            .build()
            .map_err(|source| StoreError::Open {
                root: uri.to_string(),
                source,
            })?;
        let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
        };
        Ok(Self {
            inner,
            local_root: None,
        })
    }

    /// Checks that the store answers and may be written: a marker object is written (create
    /// only), read back and removed. Run at start so that a wrong bucket, endpoint or
    /// credential is reported before the first upload is accepted.
    pub async fn check(&self) -> Result<(), StoreError> {
        let key = ObjectKey(format!(
            "callproof/write-check/{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        self.put(&key, Bytes::from_static(b"ok")).await?;
        let back = self.get(&key).await?;
        self.delete(&key).await?;
        if back.as_ref() != b"ok" {
            return Err(StoreError::InvalidKey(
                "the object store returned other bytes than were written".into(),
            ));
        }
        Ok(())
    }

    /// Copies every object of this store into `target` under the same key, create-only:
    /// an object already there with the same size is counted as present (a copy run again),
    /// one with another size is an error (never overwritten). Leftovers of writes killed
    /// half-way (local names with `#`) are not copied. Returns (copied, present).
    pub async fn copy_all_into(
        &self,
        target: &OriginalStore,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(u64, u64), StoreError> {
        let (mut copied, mut present) = (0, 0);
        for (key, size) in self.list("").await? {
            if key.contains('#') {
                continue;
            }
            let path = ObjectPath::from(key.as_str());
            let body = self.inner.get(&path).await?.bytes().await?;
            let opts = PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            };
            match target
                .inner
                .put_opts(&path, PutPayload::from_bytes(body), opts)
                .await
            {
                Ok(_) => copied += 1,
                Err(object_store::Error::AlreadyExists { .. }) => {
                    let there = target.inner.head(&path).await?.size;
                    if there != size {
                        return Err(StoreError::Exists { key });
                    }
                    present += 1;
                }
                Err(e) => return Err(e.into()),
            }
            progress(copied + present);
        }
        Ok((copied, present))
    }

    /// Every object under `prefix` with its size, in key order.
    pub async fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>, StoreError> {
        use futures::TryStreamExt;
        let prefix = ObjectPath::from(prefix);
        let listed: Vec<_> = self.inner.list(Some(&prefix)).try_collect().await?;
        let mut out: Vec<(String, u64)> = listed
            .into_iter()
            .map(|m| (m.location.to_string(), m.size))
            .collect();
        out.sort();
        Ok(out)
    }

    /// The backend, for a reader of foreign objects ([`SourceBucket`]).
    pub(crate) fn backend(&self) -> Arc<dyn ObjectStore> {
        self.inner.clone()
    }

    /// Any `object_store` backend (S3, memory for tests…).
    pub fn with_backend(inner: Arc<dyn ObjectStore>) -> Self {
        Self {
            inner,
            local_root: None,
        }
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

    /// Stores the file at `path` as a new object; refuses to replace one. A local store links
    /// the file into place (or copies it beside its place first, then links), so a large
    /// upload never passes through memory and a reader never sees half an object.
    pub async fn put_file(&self, key: &ObjectKey, path: &Path) -> Result<(), StoreError> {
        let Some(root) = &self.local_root else {
            // Other backends take the bytes; multipart uploads come with them.
            let bytes = tokio::fs::read(path).await.map_err(|e| io_error(path, e))?;
            return self.put(key, bytes.into()).await;
        };
        let dest = root.join(key.as_str());
        let (src, dest) = (path.to_path_buf(), dest.clone());
        let exists = || StoreError::Exists {
            key: key.to_string(),
        };
        let linked = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            match std::fs::hard_link(&src, &dest) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                    // Another file system: copy beside the destination, then link.
                    let staging = staging_path(&dest, "copy");
                    std::fs::copy(&src, &staging)?;
                    std::fs::File::open(&staging)?.sync_all()?;
                    let linked = std::fs::hard_link(&staging, &dest);
                    let _ = std::fs::remove_file(&staging);
                    linked
                }
                other => other,
            }
        })
        .await
        .map_err(|e| io_error(path, std::io::Error::other(e)))?;
        match linked {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(exists()),
            Err(e) => Err(io_error(path, e)),
        }
    }

    /// Removes an object and, in a local store, what a write of it killed half-way left beside
    /// it. Removing what is not there is not an error. Returns whether anything was removed.
    pub async fn discard(&self, key: &ObjectKey) -> Result<bool, StoreError> {
        let Some(root) = &self.local_root else {
            return match self.inner.delete(&ObjectPath::from(key.as_str())).await {
                Ok(()) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(e.into()),
            };
        };
        let dest = root.join(key.as_str());
        let mut removed = false;
        if dest.exists() {
            std::fs::remove_file(&dest).map_err(|e| io_error(&dest, e))?;
            removed = true;
        }
        let (Some(dir), Some(name)) = (dest.parent(), dest.file_name()) else {
            return Ok(removed);
        };
        let prefix = format!("{}#", name.to_string_lossy());
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    std::fs::remove_file(e.path()).map_err(|err| io_error(&e.path(), err))?;
                    removed = true;
                }
            }
        }
        // The call's folder goes too when nothing else is in it.
        let _ = std::fs::remove_dir(dir);
        Ok(removed)
    }

    /// Writes a signed audit checkpoint; create-only, like originals.
    pub async fn put_checkpoint(&self, seq: u64, body: Bytes) -> Result<(), StoreError> {
        self.put(&ObjectKey::audit_checkpoint(seq), body).await
    }

    /// Every audit checkpoint, in order of the entry it seals.
    pub async fn checkpoints(&self) -> Result<Vec<(u64, Bytes)>, StoreError> {
        use futures::TryStreamExt;
        let prefix = ObjectPath::from(CHECKPOINTS);
        let listed: Vec<_> = self.inner.list(Some(&prefix)).try_collect().await?;
        let mut out = Vec::new();
        for meta in listed {
            let name = meta.location.filename().unwrap_or_default();
            let Some(seq) = name
                .strip_suffix(".json")
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let body = self.inner.get(&meta.location).await?.bytes().await?;
            out.push((seq, body));
        }
        out.sort_by_key(|(seq, _)| *seq);
        Ok(out)
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

/// A name beside `dest` for a file being written, which `discard` recognises.
fn staging_path(dest: &Path, what: &str) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(format!("#{what}-{}", std::process::id()));
    PathBuf::from(name)
}

fn io_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Backend(object_store::Error::Generic {
        store: "LocalFileSystem",
        source: format!("{}: {e}", path.display()).into(),
    })
}

mod source;
#[doc(hidden)]
pub mod testing;

pub use source::SourceBucket;

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
        assert!(OriginalStore::from_uri("gs://bucket").is_err());
    }

    #[tokio::test]
    async fn files_are_linked_in_create_only_and_discarded_with_their_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let store = OriginalStore::local(&dir.path().join("objects")).unwrap();
        let upload = dir.path().join("upload.part");
        std::fs::write(&upload, b"recording").unwrap();
        let k = ObjectKey::original("acme", CallId::new(), "wav").unwrap();
        store.put_file(&k, &upload).await.unwrap();
        assert_eq!(store.get(&k).await.unwrap().as_ref(), b"recording");
        let again = store.put_file(&k, &upload).await;
        assert!(matches!(again, Err(StoreError::Exists { .. })), "{again:?}");
        // What a write killed half-way leaves beside the object is removed with it.
        let dest = dir.path().join("objects").join(k.as_str());
        let partial = PathBuf::from(format!("{}#1", dest.display()));
        std::fs::write(&partial, b"half").unwrap();
        assert!(store.discard(&k).await.unwrap());
        assert!(!dest.exists() && !partial.exists());
        assert!(!store.discard(&k).await.unwrap(), "nothing left to remove");
        assert!(
            !dest.parent().unwrap().exists(),
            "the empty call folder goes too"
        );
    }

    #[tokio::test]
    async fn checkpoints_are_listed_in_order_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = OriginalStore::local(dir.path()).unwrap();
        for seq in [12u64, 3, 100] {
            store
                .put_checkpoint(seq, Bytes::from(seq.to_string()))
                .await
                .unwrap();
        }
        assert!(store
            .put_checkpoint(3, Bytes::from_static(b"x"))
            .await
            .is_err());
        let seqs: Vec<u64> = store
            .checkpoints()
            .await
            .unwrap()
            .iter()
            .map(|c| c.0)
            .collect();
        assert_eq!(seqs, vec![3, 12, 100]);
    }
}
