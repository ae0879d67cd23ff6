//! The jobs that give space back: a deleted video's row goes for good, and a blob goes once no
//! video or file points at it. Every step is idempotent: a job may run more than once.

use std::sync::Arc;

use serde::Deserialize;
use uuid::Uuid;

use crate::ports::jobs::kind;
use crate::ports::{BlobIndex, BlobStore, FileRepo, LeasedJob, VideoRepo, blob_key, media_prefix};
use crate::{Error, Result};

#[derive(Clone)]
pub struct Cleanup {
    videos: Arc<dyn VideoRepo>,
    files: Arc<dyn FileRepo>,
    index: Arc<dyn BlobIndex>,
    blobs: Arc<dyn BlobStore>,
}

#[derive(Deserialize)]
struct DeleteVideo {
    video_id: Uuid,
    /// The video's blob when it was deleted: collected even if an earlier run already removed
    /// the row and then failed.
    sha256: Option<String>,
}

#[derive(Deserialize)]
struct DeleteFile {
    file_id: Uuid,
    sha256: String,
}

impl Cleanup {
    pub fn new(
        videos: Arc<dyn VideoRepo>,
        files: Arc<dyn FileRepo>,
        index: Arc<dyn BlobIndex>,
        blobs: Arc<dyn BlobStore>,
    ) -> Self {
        Self { videos, files, index, blobs }
    }

    /// Runs one leased job.
    pub async fn run(&self, job: &LeasedJob) -> Result<()> {
        match job.kind.as_str() {
            kind::DELETE_VIDEO => {
                let p: DeleteVideo = serde_json::from_str(&job.payload)
                    .map_err(|e| Error::Internal(format!("bad {} payload: {e}", job.kind)))?;
                self.delete_video(p.video_id, p.sha256.as_deref()).await
            }
            kind::DELETE_FILE => {
                let p: DeleteFile = serde_json::from_str(&job.payload)
                    .map_err(|e| Error::Internal(format!("bad {} payload: {e}", job.kind)))?;
                self.files.purge_deleted(p.file_id).await?;
                self.collect_blob(&p.sha256).await.map(|_| ())
            }
            other => Err(Error::Internal(format!("no handler for job kind {other:?}"))),
        }
    }

    /// The seed's `video_del_rec`: re-checks at run time that the video is still deleted, removes
    /// it and its comments, then its blob if nothing else needs it.
    pub async fn delete_video(&self, id: Uuid, sha256: Option<&str>) -> Result<()> {
        // Derived media first (a retry after a failure here finds them again); `get` sees live
        // videos only, and a live video's media stay.
        if self.videos.get(id).await?.is_none() {
            self.blobs.delete_prefix(&media_prefix(id)).await?;
        }
        let purged = self.videos.purge_deleted(id).await?;
        let sha = purged.flatten().or_else(|| sha256.map(str::to_owned));
        if let Some(sha) = sha {
            self.collect_blob(&sha).await?;
        }
        Ok(())
    }

    /// Removes the blob's bytes, then its index row, when no video or file references it. The
    /// bytes go first: an index row without bytes is healed by the next upload of the content
    /// (it checks both), bytes without a row would leak.
    pub async fn collect_blob(&self, sha256: &str) -> Result<bool> {
        if self.index.references(sha256).await? > 0 {
            return Ok(false);
        }
        self.blobs.delete(&blob_key(sha256)).await?;
        self.index.forget_if_unreferenced(sha256).await?;
        tracing::info!(sha256, "blob collected");
        Ok(true)
    }
}
