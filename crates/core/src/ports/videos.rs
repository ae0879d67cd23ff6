use crate::ids::{UserId, VideoId};
use crate::videos::{RenditionInfo, Video, VideoMedia, VideoPatch, VideoSort, VideoSource, VideoStatus, Visibility};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;
use crate::paging::{Page, PageRequest};
use crate::ports::jobs::NewJob;
use crate::ports::{Charge, Referenced};

#[async_trait]
pub trait VideoRepo: Send + Sync {
    async fn insert(&self, video: &Video) -> Result<()>;
    /// A video that is not deleted.
    async fn get(&self, id: VideoId) -> Result<Option<Video>>;
    /// As [`get`](Self::get), for reads that answer a viewer (may see and play it): a kept row
    /// may answer when one is kept ([`crate::reads::StampedVideoRepo`]). Never for decisions
    /// that write (ownership, jobs): those read the row itself.
    async fn get_for_read(&self, id: VideoId) -> Result<Option<Video>> {
        self.get(id).await
    }
    /// An author's videos, newest first.
    async fn list_by_author(&self, author_id: UserId, visibility: Visibility, page: PageRequest)
    -> Result<Page<Video>>;
    /// Public videos of everyone, optionally matching `query` (already lower-cased) in the title
    /// or description.
    async fn discover(&self, sort: VideoSort, query: Option<&str>, page: PageRequest) -> Result<Page<Video>>;
    async fn count_public_by_author(&self, author_id: UserId) -> Result<u64>;
    /// Applies the patch; `None` when the video does not exist (or is deleted).
    async fn update(&self, id: VideoId, patch: &VideoPatch, at: DateTime<Utc>) -> Result<Option<Video>>;
    /// Hides the video and queues `job` in one transaction, so a crash cannot lose the job;
    /// its original stops counting against the author's quota. `false` when there was nothing
    /// to delete.
    async fn soft_delete(&self, id: VideoId, at: DateTime<Utc>, job: &NewJob) -> Result<bool>;
    /// Records the uploaded original and moves the video to `uploaded`, in one transaction with
    /// what it costs (a reference on the blob, the author's quota: `TooLarge` past it) and the
    /// jobs that process it. `Made(false)` when the video is gone or already has an original.
    async fn attach_source(
        &self,
        id: VideoId,
        source: &VideoSource,
        charge: &Charge,
        jobs: &[NewJob],
    ) -> Result<Referenced<bool>>;
    /// Moves a live video from one status to another; `false` if it was not in `from`.
    async fn set_status(&self, id: VideoId, from: VideoStatus, to: VideoStatus) -> Result<bool>;
    /// Records what probing found and the status it leads to, with the jobs that carry on from
    /// there, in one transaction.
    async fn set_media(&self, id: VideoId, status: VideoStatus, media: &VideoMedia, jobs: &[NewJob]) -> Result<bool>;
    /// A `processing` video ends `failed` with the reason (probe facts kept).
    async fn fail_processing(&self, id: VideoId, reason: &str) -> Result<bool>;
    /// Records the transcode's progress (0–100).
    async fn set_progress(&self, id: VideoId, progress: u8) -> Result<()>;
    /// Records whether the stills were made, with the jobs that follow, in one transaction;
    /// `false` if the video is gone.
    async fn set_stills(&self, id: VideoId, made: bool, next: &[NewJob]) -> Result<bool>;
    /// Records the stored HLS ladder and moves a `processing` video to `ready`; `false` if the
    /// video is gone.
    async fn set_renditions(&self, id: VideoId, renditions: &[RenditionInfo]) -> Result<bool>;
    /// Starts a live video's processing over (status `uploaded`, outputs and reason cleared)
    /// and queues `job` in the same transaction; `false` when it is gone or has no original.
    async fn restart_processing(&self, id: VideoId, job: &NewJob) -> Result<bool>;
    /// Live videos with an original but no HLS ladder, `uploaded` or `ready` (processed before
    /// ffmpeg was installed, or by an older version), oldest first.
    async fn unprocessed(&self, limit: u64) -> Result<Vec<VideoId>>;
    /// Adds `n` views (batched by the view counter).
    async fn add_views(&self, id: VideoId, n: u64) -> Result<()>;
    /// For a video that was soft-deleted: removes the row (and its comments) and its blob's
    /// reference for good, and returns the blob its source used. `None` when the video is not deleted (or is gone).
    async fn purge_deleted(&self, id: VideoId) -> Result<Option<Option<String>>>;
}
