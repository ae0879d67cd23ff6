//! The jobs that give space back: a deleted video's row goes for good, and a blob goes once no
//! video or file points at it. Every step is idempotent: a job may run more than once.

use std::sync::Arc;

use crate::ids::{FileId, VideoId};

use crate::Result;
#[allow(unused_imports)] // for the docs
use crate::ports::Job;
use crate::ports::{FileRepo, VideoRepo, media_prefix};
use crate::storage::Storage;

#[derive(Clone)]
pub struct Cleanup {
    videos: Arc<dyn VideoRepo>,
    files: Arc<dyn FileRepo>,
    storage: Storage,
}

impl Cleanup {
    pub fn new(videos: Arc<dyn VideoRepo>, files: Arc<dyn FileRepo>, storage: Storage) -> Self {
        Self { videos, files, storage }
    }

    /// [`Job::DeleteFile`]: the row, then the bytes if nothing else needs them.
    pub async fn delete_file(&self, id: FileId, sha256: &str) -> Result<()> {
        self.files.purge_deleted(id).await?;
        self.collect(sha256).await
    }

    /// [`Job::CollectBlob`].
    pub async fn collect(&self, sha256: &str) -> Result<()> {
        self.storage.collect(sha256).await.map(|_| ())
    }

    /// The seed's `video_del_rec`: re-checks at run time that the video is still deleted, removes
    /// it and its comments, then its blob if nothing else needs it.
    pub async fn delete_video(&self, id: VideoId, sha256: Option<&str>) -> Result<()> {
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
