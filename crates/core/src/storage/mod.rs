//! Bytes coming in: staging with a hard size limit and constant memory, hashing on the fly,
//! container sniffing, and content-addressed commit to the blob store (stored once however
//! often it is uploaded).

mod holding;
mod sniff;
mod staging;

use std::path::PathBuf;
use std::sync::Arc;

pub use holding::{BlobSource, Holding, in_transit};
pub use sniff::{media_type_of, read_head, sniff_video};
pub use staging::{Staged, Staging};

use crate::ports::{BlobIndex, BlobStore, blob_key};
use crate::{Error, Result};

#[derive(Clone)]
pub struct Storage {
    pub blobs: Arc<dyn BlobStore>,
    index: Arc<dyn BlobIndex>,
    staging_dir: PathBuf,
    max_upload: u64,
    /// Set when the primary store is remote: uploads wait here for their transfer.
    holding: Option<Holding>,
}

/// A blob that is stored: its content address and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
    /// False when the content was already stored (deduplicated).
    pub new: bool,
}

impl Storage {
    pub fn new(
        blobs: Arc<dyn BlobStore>,
        index: Arc<dyn BlobIndex>,
        staging_dir: PathBuf,
        max_upload: u64,
        holding: Option<Holding>,
    ) -> Result<Self> {
        std::fs::create_dir_all(&staging_dir)
            .map_err(|e| Error::Unavailable(format!("cannot create {}: {e}", staging_dir.display())))?;
        Ok(Self { blobs, index, staging_dir, max_upload, holding })
    }

    pub fn max_upload(&self) -> u64 {
        self.max_upload
    }

    /// A path in the staging directory for a scratch file named after `name`; the sweep removes
    /// it if its process dies before it does.
    pub fn staging_path(&self, name: &str) -> PathBuf {
        self.staging_dir.join(format!("{name}.part"))
    }

    /// A new staging file for an upload of a video (its first bytes must be a known container).
    pub async fn stage_video(&self) -> Result<Staging> {
        Staging::create(&self.staging_dir, self.max_upload, true).await
    }

    /// A new staging file for a drive file (any content).
    pub async fn stage_file(&self) -> Result<Staging> {
        Staging::create(&self.staging_dir, self.max_upload, false).await
    }

    /// Removes staging files untouched for `older_than`: uploads whose process died (a clean
    /// error or disconnect removes its own file at once). Returns how many went.
    pub async fn sweep_staging(&self, older_than: std::time::Duration) -> Result<u64> {
        let dir = self.staging_dir.clone();
        tokio::task::spawn_blocking(move || {
            let part = |p: &std::path::Path| p.extension().is_some_and(|e| e == "part");
            crate::sweep::sweep(&dir, older_than, part, |p| std::fs::remove_file(p))
                .map_err(|e| Error::Unavailable(format!("staging: {e}")))
        })
        .await
        .map_err(Error::internal)?
    }

    /// Moves staged bytes into the blob store (or, when that is remote, into this node's
    /// holding area for the transfer), unless the same content is already there.
    pub async fn commit(&self, staged: Staged) -> Result<StoredBlob> {
        let content_type = staged.mime.unwrap_or("application/octet-stream");
        let sha256 = staged.sha256.clone();
        let size = staged.size;
        let key = blob_key(&sha256);
        if self.index.find(&sha256).await?.is_some() && self.is_stored(&sha256, &key).await? {
            // Known content: the staging copy goes (on drop) and nothing is written.
            return Ok(StoredBlob { sha256, size, new: false });
        }
        match &self.holding {
            Some(h) => {
                h.store.put_file(&key, staged.path(), size, content_type).await?;
                staged.consumed();
                self.index.record_held(&sha256, size, &h.node).await?;
                h.wake.notify_one();
            }
            None => {
                self.blobs.put_file(&key, staged.path(), size, content_type).await?;
                staged.consumed();
                self.index.record(&sha256, size).await?;
            }
        }
        Ok(StoredBlob { sha256, size, new: true })
    }

    /// The size of a blob whose bytes are stored (on this node or in the primary store).
    pub async fn stored_size(&self, sha256: &str) -> Result<Option<u64>> {
        let Some(size) = self.index.find(sha256).await? else { return Ok(None) };
        Ok(self.is_stored(sha256, &blob_key(sha256)).await?.then_some(size))
    }

    /// Streams `range` of a stored blob, from wherever it is now.
    pub async fn read(&self, sha256: &str, range: std::ops::Range<u64>) -> Result<crate::ports::ByteStream> {
        self.read_from(&self.source(sha256).await?, sha256, range).await
    }

    /// Streams `range` of a blob from `source` (looked up once by the caller).
    pub async fn read_from(
        &self,
        source: &BlobSource,
        sha256: &str,
        range: std::ops::Range<u64>,
    ) -> Result<crate::ports::ByteStream> {
        let key = blob_key(sha256);
        match source {
            // The transfer may have removed the local copy since the lookup: then the primary
            // store has it.
            BlobSource::Local(store) => match store.read(&key, range.clone()).await {
                Ok(s) => Ok(s),
                Err(_) => self.blobs.read(&key, range).await,
            },
            BlobSource::Primary => self.blobs.read(&key, range).await,
            BlobSource::Elsewhere(node) => Err(in_transit(node)),
        }
    }

    /// Where a media tool can read a blob: its file on this machine, or a presigned URL.
    pub async fn media_input(&self, sha256: &str) -> Result<String> {
        let key = blob_key(sha256);
        let local = match self.source(sha256).await? {
            BlobSource::Local(store) => store.local_path(&key),
            BlobSource::Primary => self.blobs.local_path(&key),
            BlobSource::Elsewhere(node) => return Err(in_transit(&node)),
        };
        if let Some(path) = local.filter(|p| p.exists()) {
            return Ok(path.display().to_string());
        }
        let ttl = std::time::Duration::from_secs(3600);
        self.blobs
            .presign_get(&key, ttl, "application/octet-stream", None)
            .await?
            .ok_or_else(|| Error::Unavailable(format!("blob {sha256} is not readable by a media tool")))
    }

    /// The media type of a stored blob, from its first bytes.
    pub async fn media_type(&self, sha256: &str, size: u64) -> &'static str {
        let mut head = Vec::new();
        if let Ok(mut s) = self.read(sha256, 0..size.min(8192)).await {
            use futures::StreamExt;
            while let Some(Ok(chunk)) = s.next().await {
                head.extend_from_slice(&chunk);
            }
        }
        media_type_of(&head)
    }

    /// Whether a known blob's bytes are where readers will look for them.
    async fn is_stored(&self, sha256: &str, key: &str) -> Result<bool> {
        match (&self.holding, self.index.holder(sha256).await?) {
            (_, None) => self.blobs.exists(key).await,
            (Some(h), Some(node)) if node == h.node => h.store.exists(key).await,
            // On another node's disk: this node keeps its own copy and takes the blob over.
            _ => Ok(false),
        }
    }
}
