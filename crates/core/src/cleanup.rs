//! The jobs that give space back: a deleted video's row goes for good, and a blob goes once no
//! video or file points at it. Every step is idempotent: a job may run more than once.

use std::sync::Arc;

use serde::Deserialize;
use uuid::Uuid;

use crate::ports::jobs::kind;
use crate::ports::{FileRepo, LeasedJob, VideoRepo, media_prefix};
use crate::storage::Storage;
use crate::{Error, Result};

#[derive(Clone)]
pub struct Cleanup {
    videos: Arc<dyn VideoRepo>,
    files: Arc<dyn FileRepo>,
    storage: Storage,
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

#[derive(Deserialize)]
struct CollectBlob {
    sha256: String,
}

impl Cleanup {
    pub fn new(videos: Arc<dyn VideoRepo>, files: Arc<dyn FileRepo>, storage: Storage) -> Self {
        Self { videos, files, storage }
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
                self.storage.collect(&p.sha256).await.map(|_| ())
            }
            kind::COLLECT_BLOB => {
                let p: CollectBlob = serde_json::from_str(&job.payload)
                    .map_err(|e| Error::Internal(format!("bad {} payload: {e}", job.kind)))?;
                self.storage.collect(&p.sha256).await.map(|_| ())
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
            self.storage.blobs.delete_prefix(&media_prefix(id)).await?;
        }
        let purged = self.videos.purge_deleted(id).await?;
        let sha = purged.flatten().or_else(|| sha256.map(str::to_owned));
        if let Some(sha) = sha {
            self.storage.collect(&sha).await?;
        }
        Ok(())
    }
}
