//! Where artifacts' bytes are kept: a local directory or an S3-compatible
//! bucket, behind one interface. Content is stored once under its sha256,
//! however many incidents attach it.
//!
//! An upload is first spooled to a local file while its hash and size are
//! counted, never held whole in memory; only a complete upload within the
//! limit reaches the store. A spool file that is dropped (a failed or
//! cancelled upload) is removed with it.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream::BoxStream};
use object_store::{
    ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart, aws::AmazonS3Builder,
    local::LocalFileSystem, path::Path as StorePath,
};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::detect::PREFIX_BYTES;
use crate::config::{S3Config, StorageConfig};

/// Files up to this size are stored in one request, larger ones in parts.
const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts of one upload sent at once.
const PARTS_IN_FLIGHT: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the file is larger than the {limit}-byte upload limit")]
    TooLarge { limit: u64 },
    #[error("the artifact store failed: {0}")]
    Store(#[from] object_store::Error),
    #[error("the artifact store's spool failed: {0}")]
    Spool(#[from] std::io::Error),
}

/// The artifact store.
#[derive(Clone)]
pub struct ArtifactStore {
    inner: Arc<dyn ObjectStore>,
    spool_dir: PathBuf,
    description: String,
}

impl std::fmt::Debug for ArtifactStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl ArtifactStore {
    /// The store `config` names, with spool files under `spool_dir`.
    pub fn open(config: &StorageConfig, spool_dir: &Path) -> Result<ArtifactStore, StoreError> {
        std::fs::create_dir_all(spool_dir)?;
        let (inner, description): (Arc<dyn ObjectStore>, String) = match config {
            StorageConfig::Local { dir } => {
                std::fs::create_dir_all(dir)?;
                (Arc::new(LocalFileSystem::new_with_prefix(dir)?), format!("the directory {}", dir.display()))
            }
            StorageConfig::S3(s3) => (Arc::new(s3_store(s3)?), format!("the S3 bucket {}", s3.bucket)),
        };
        Ok(ArtifactStore { inner, spool_dir: spool_dir.to_owned(), description })
    }

    /// Starts spooling an upload of at most `limit` bytes.
    pub async fn spool(&self, limit: u64) -> Result<Spool, StoreError> {
        let path = self.spool_dir.join(format!("upload-{}", uuid::Uuid::new_v4()));
        let file = tokio::fs::File::create(&path).await?;
        Ok(Spool {
            file,
            guard: SpoolFile(path),
            hasher: Sha256::new(),
            size: 0,
            limit,
            prefix: Vec::with_capacity(PREFIX_BYTES),
        })
    }

    /// Keeps a spooled upload under its hash, unless the same content is
    /// kept already.
    pub async fn keep(&self, spooled: &Spooled) -> Result<(), StoreError> {
        let location = blob_path(&spooled.sha256);
        if self.inner.head(&location).await.is_ok() {
            return Ok(());
        }
        let mut file = tokio::fs::File::open(&spooled.guard.0).await?;
        if spooled.size <= PART_BYTES as u64 {
            let mut bytes = Vec::with_capacity(spooled.size as usize);
            file.read_to_end(&mut bytes).await?;
            self.inner.put(&location, PutPayload::from(bytes)).await?;
            return Ok(());
        }
        let mut upload =
            WriteMultipart::new_with_chunk_size(self.inner.put_multipart(&location).await?, PART_BYTES);
        let mut chunk = vec![0u8; 1024 * 1024];
        loop {
            let read = file.read(&mut chunk).await?;
            if read == 0 {
                break;
            }
            if let Err(err) = upload.wait_for_capacity(PARTS_IN_FLIGHT).await {
                upload.abort().await.ok();
                return Err(err.into());
            }
            upload.write(&chunk[..read]);
        }
        upload.finish().await?;
        Ok(())
    }

    /// The content kept under `sha256`, as a stream of chunks, with its size.
    pub async fn read_stream(
        &self,
        sha256: &str,
    ) -> Result<(u64, BoxStream<'static, Result<Bytes, StoreError>>), StoreError> {
        let got = self.inner.get(&blob_path(sha256)).await?;
        let size = got.meta.size;
        Ok((size, got.into_stream().map_err(StoreError::from).boxed()))
    }

    /// The content kept under `sha256`, whole; more than `limit` bytes is
    /// refused before any is read.
    pub async fn read(&self, sha256: &str, limit: u64) -> Result<Vec<u8>, StoreError> {
        let (size, mut stream) = self.read_stream(sha256).await?;
        if size > limit {
            return Err(StoreError::TooLarge { limit });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk?);
            if bytes.len() as u64 > limit {
                return Err(StoreError::TooLarge { limit });
            }
        }
        Ok(bytes)
    }

    pub async fn contains(&self, sha256: &str) -> Result<bool, StoreError> {
        match self.inner.head(&blob_path(sha256)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// Removes the content kept under `sha256`; gone already is fine.
    pub async fn remove(&self, sha256: &str) -> Result<(), StoreError> {
        match self.inner.delete(&blob_path(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Removes spool files left by a process that stopped mid-upload.
    pub async fn clear_spool(&self) -> Result<usize, StoreError> {
        let mut removed = 0;
        let mut entries = tokio::fs::read_dir(&self.spool_dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            if entry.file_name().to_string_lossy().starts_with("upload-") {
                tokio::fs::remove_file(entry.path()).await.ok();
                removed += 1;
            }
        }
        Ok(removed)
    }
}

fn s3_store(config: &S3Config) -> Result<object_store::aws::AmazonS3, object_store::Error> {
    crate::install_tls_provider();
    // A store that stops answering must not hold an upload or a download
    // open for ever.
    let options = ClientOptions::new()
        .with_timeout(config.timeout)
        .with_connect_timeout(std::time::Duration::from_secs(5))
        .with_allow_http(config.endpoint.as_deref().is_some_and(|e| e.starts_with("http://")));
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&config.bucket)
        .with_region(&config.region)
        .with_client_options(options);
    if let Some(endpoint) = &config.endpoint {
        // Path-style addressing: S3-compatible stores rarely serve bucket subdomains.
        builder = builder.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
    }
    if let Some(key) = &config.access_key_id {
        builder = builder.with_access_key_id(key);
    }
    if let Some(secret) = &config.secret_access_key {
        builder = builder.with_secret_access_key(secret.expose_secret());
    }
    builder.build()
}

/// Where the content with hash `sha256` is kept: `blobs/ab/abcdef…`.
fn blob_path(sha256: &str) -> StorePath {
    StorePath::from(format!("blobs/{}/{sha256}", &sha256[..2.min(sha256.len())]))
}

/// A spool file, removed when dropped.
#[derive(Debug)]
struct SpoolFile(PathBuf);

impl Drop for SpoolFile {
    fn drop(&mut self) {
        // A quick unlink; a file left by a crash is cleared at the next start.
        let _ = std::fs::remove_file(&self.0);
    }
}

/// An upload being spooled.
pub struct Spool {
    file: tokio::fs::File,
    guard: SpoolFile,
    hasher: Sha256,
    size: u64,
    limit: u64,
    prefix: Vec<u8>,
}

impl Spool {
    /// Adds the next chunk; past the limit the upload is refused (and its
    /// spool file goes when the spool is dropped).
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(StoreError::TooLarge { limit: self.limit });
        }
        if self.prefix.len() < PREFIX_BYTES {
            let take = (PREFIX_BYTES - self.prefix.len()).min(chunk.len());
            self.prefix.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(())
    }

    /// The upload, complete.
    pub async fn finish(mut self) -> Result<Spooled, StoreError> {
        self.file.flush().await?;
        self.file.sync_data().await?;
        let sha256 = hex(&self.hasher.finalize());
        Ok(Spooled { guard: self.guard, sha256, size: self.size, prefix: self.prefix })
    }
}

/// A complete upload in its spool file, with its hash, its size and its
/// first bytes (for telling its format).
#[derive(Debug)]
pub struct Spooled {
    guard: SpoolFile,
    pub sha256: String,
    pub size: u64,
    pub prefix: Vec<u8>,
}

impl Spooled {
    /// The spool file, for analysing a small upload before the upload
    /// answers; it lives as long as this.
    pub fn path(&self) -> &Path {
        &self.guard.0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(root: &Path) -> ArtifactStore {
        let config = StorageConfig::Local { dir: root.join("artifacts") };
        ArtifactStore::open(&config, &root.join("spool")).unwrap()
    }

    fn temp_root() -> PathBuf {
        let root = std::env::temp_dir().join(format!("debrief-store-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&root).unwrap();
        root
    }

    fn spool_files(root: &Path) -> usize {
        std::fs::read_dir(root.join("spool")).unwrap().count()
    }

    #[tokio::test]
    async fn content_is_kept_once_under_its_hash_and_read_back_exactly() {
        let root = temp_root();
        let store = local(&root);
        let content: Vec<u8> = (0..3 * 1024 * 1024 + 17).map(|i| (i * 7 % 251) as u8).collect();
        let mut spool = store.spool(10 * 1024 * 1024).await.unwrap();
        for chunk in content.chunks(64 * 1024 + 3) {
            spool.write(chunk).await.unwrap();
        }
        let spooled = spool.finish().await.unwrap();
        let expected = hex(&Sha256::digest(&content));

        store.keep(&spooled).await.unwrap();
        store.keep(&spooled).await.unwrap();

        assert_eq!(spooled.sha256, expected);
        assert_eq!(spooled.size, content.len() as u64);
        assert_eq!(spooled.prefix, content[..PREFIX_BYTES]);
        assert_eq!(store.read(&expected, u64::MAX).await.unwrap(), content);
        assert!(store.contains(&expected).await.unwrap());
        let blobs = root.join("artifacts/blobs").join(&expected[..2]);
        assert_eq!(std::fs::read_dir(blobs).unwrap().count(), 1, "stored once");
        drop(spooled);
        assert_eq!(spool_files(&root), 0, "the spool file goes with the upload");
        store.remove(&expected).await.unwrap();
        store.remove(&expected).await.unwrap();
        assert!(!store.contains(&expected).await.unwrap());
        std::fs::remove_dir_all(root).ok();
    }

    #[tokio::test]
    async fn an_upload_past_the_limit_is_refused_and_leaves_no_file() {
        let root = temp_root();
        let store = local(&root);
        let mut spool = store.spool(1000).await.unwrap();
        spool.write(&[1; 600]).await.unwrap();
        let refused = spool.write(&[2; 600]).await;
        assert!(matches!(refused, Err(StoreError::TooLarge { limit: 1000 })), "{refused:?}");
        drop(spool);
        assert_eq!(spool_files(&root), 0);
        std::fs::remove_dir_all(root).ok();
    }

    #[tokio::test]
    async fn a_cancelled_upload_leaves_no_file_and_a_crash_is_cleared_at_start() {
        let root = temp_root();
        let store = local(&root);
        let mut spool = store.spool(1 << 20).await.unwrap();
        spool.write(b"half an upload").await.unwrap();
        drop(spool);
        assert_eq!(spool_files(&root), 0);
        std::fs::write(root.join("spool/upload-left-by-a-crash"), b"x").unwrap();
        assert_eq!(store.clear_spool().await.unwrap(), 1);
        assert_eq!(spool_files(&root), 0);
        std::fs::remove_dir_all(root).ok();
    }

    #[tokio::test]
    async fn reading_more_than_the_limit_is_refused_before_reading() {
        let root = temp_root();
        let store = local(&root);
        let mut spool = store.spool(1 << 20).await.unwrap();
        spool.write(&[7; 5000]).await.unwrap();
        let spooled = spool.finish().await.unwrap();
        store.keep(&spooled).await.unwrap();
        let read = store.read(&spooled.sha256, 4999).await;
        assert!(matches!(read, Err(StoreError::TooLarge { limit: 4999 })), "{read:?}");
        assert!(matches!(store.read(&"0".repeat(64), 10).await, Err(StoreError::Store(_))));
        std::fs::remove_dir_all(root).ok();
    }
}
