//! Bytes coming in: staging with a hard size limit and constant memory, hashing on the fly,
//! container sniffing, and content-addressed commit to the blob store (stored once however
//! often it is uploaded).

mod sniff;
mod staging;

use std::path::PathBuf;
use std::sync::Arc;

pub use sniff::sniff_video;
pub use staging::{Staged, Staging};

use crate::ports::{BlobIndex, BlobStore, blob_key};
use crate::{Error, Result};

#[derive(Clone)]
pub struct Storage {
    pub blobs: Arc<dyn BlobStore>,
    index: Arc<dyn BlobIndex>,
    staging_dir: PathBuf,
    max_upload: u64,
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
    ) -> Result<Self> {
        std::fs::create_dir_all(&staging_dir)
            .map_err(|e| Error::Unavailable(format!("cannot create {}: {e}", staging_dir.display())))?;
        Ok(Self { blobs, index, staging_dir, max_upload })
    }

    pub fn max_upload(&self) -> u64 {
        self.max_upload
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
            let mut removed = 0;
            let entries = std::fs::read_dir(&dir).map_err(|e| Error::Unavailable(format!("staging: {e}")))?;
            for entry in entries.flatten() {
                let path = entry.path();
                let stale = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age >= older_than);
                if stale && path.extension().is_some_and(|e| e == "part") && std::fs::remove_file(&path).is_ok() {
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
        .map_err(Error::internal)?
    }

    /// Moves staged bytes into the blob store, unless the same content is already there.
    pub async fn commit(&self, staged: Staged) -> Result<StoredBlob> {
        let content_type = staged.mime.unwrap_or("application/octet-stream");
        let sha256 = staged.sha256.clone();
        let size = staged.size;
        if self.index.find(&sha256).await?.is_some() && self.blobs.exists(&blob_key(&sha256)).await? {
            // Known content: the staging copy goes (on drop) and nothing is written.
            return Ok(StoredBlob { sha256, size, new: false });
        }
        self.blobs.put_file(&blob_key(&sha256), staged.path(), size, content_type).await?;
        staged.consumed();
        self.index.record(&sha256, size).await?;
        Ok(StoredBlob { sha256, size, new: true })
    }
}
