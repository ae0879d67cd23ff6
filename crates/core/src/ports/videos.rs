use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::Result;
use crate::paging::{Page, PageRequest};
use crate::ports::jobs::NewJob;
use crate::ports::{Charge, Referenced};

/// Where a video is in its life. Only `uploaded`, `processing` and `ready` videos are public;
/// the owner sees all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoStatus {
    /// Created, no bytes yet.
    Created,
    Uploaded,
    Processing,
    Ready,
    Failed,
}

impl VideoStatus {
    pub const PUBLIC: [VideoStatus; 3] = [VideoStatus::Uploaded, VideoStatus::Processing, VideoStatus::Ready];

    pub fn as_str(self) -> &'static str {
        match self {
            VideoStatus::Created => "created",
            VideoStatus::Uploaded => "uploaded",
            VideoStatus::Processing => "processing",
            VideoStatus::Ready => "ready",
            VideoStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Created, Self::Uploaded, Self::Processing, Self::Ready, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    pub fn is_public(self) -> bool {
        Self::PUBLIC.contains(&self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Video {
    pub id: Uuid,
    pub author_id: Uuid,
    /// The author's user name, joined in on reads.
    pub author_name: String,
    pub name: String,
    pub description: String,
    pub status: VideoStatus,
    pub views: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The uploaded original, once bytes have arrived.
    pub source: Option<VideoSource>,
    /// What probing the original found (empty until then).
    pub media: VideoMedia,
    /// What processing made from the original.
    pub outputs: VideoOutputs,
}

/// What the media jobs made: the stills and the HLS ladder, served by the stream role under
/// `media/{id}/` in the blob store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VideoOutputs {
    /// How far the transcode is, 0–100.
    pub progress: u8,
    /// `poster.jpg`, `storyboard.jpg` and `storyboard.vtt` are stored.
    pub has_stills: bool,
    /// The HLS renditions, lowest first; empty until the ladder is stored.
    pub renditions: Vec<RenditionInfo>,
}

/// One stored HLS rendition, as its master playlist declares it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RenditionInfo {
    pub width: u32,
    pub height: u32,
    /// Peak bits per second.
    pub bandwidth: u64,
}

/// A video's media facts, from probing its original, and why processing failed if it did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VideoMedia {
    pub duration_ms: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    /// Bits per second, over the whole file.
    pub bitrate: Option<u64>,
    pub failure_reason: Option<String>,
}

impl From<crate::ports::ProbeReport> for VideoMedia {
    fn from(r: crate::ports::ProbeReport) -> Self {
        VideoMedia {
            duration_ms: r.duration_ms,
            width: r.width,
            height: r.height,
            video_codec: r.video_codec,
            audio_codec: r.audio_codec,
            bitrate: r.bitrate,
            failure_reason: None,
        }
    }
}

/// A video's original bytes: a content-addressed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoSource {
    pub sha256: String,
    pub size: u64,
    /// The container's media type, sniffed from its first bytes (e.g. `video/mp4`).
    pub mime: String,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoSort {
    Latest,
    Popular,
}

/// Which of an author's videos a reader may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    PublicOnly,
    All,
}

#[derive(Debug, Clone, Default)]
pub struct VideoPatch {
    pub name: Option<String>,
    pub description: Option<String>,
}

#[async_trait]
pub trait VideoRepo: Send + Sync {
    async fn insert(&self, video: &Video) -> Result<()>;
    /// A video that is not deleted.
    async fn get(&self, id: Uuid) -> Result<Option<Video>>;
    /// An author's videos, newest first.
    async fn list_by_author(&self, author_id: Uuid, visibility: Visibility, page: PageRequest) -> Result<Page<Video>>;
    /// Public videos of everyone, optionally matching `query` (already lower-cased) in the title
    /// or description.
    async fn discover(&self, sort: VideoSort, query: Option<&str>, page: PageRequest) -> Result<Page<Video>>;
    async fn count_public_by_author(&self, author_id: Uuid) -> Result<u64>;
    /// Applies the patch; `None` when the video does not exist (or is deleted).
    async fn update(&self, id: Uuid, patch: &VideoPatch, at: DateTime<Utc>) -> Result<Option<Video>>;
    /// Hides the video and queues `job` in one transaction, so a crash cannot lose the job;
    /// its original stops counting against the author's quota. `false` when there was nothing
    /// to delete.
    async fn soft_delete(&self, id: Uuid, at: DateTime<Utc>, job: &NewJob) -> Result<bool>;
    /// Records the uploaded original and moves the video to `uploaded`, in one transaction with
    /// what it costs (a reference on the blob, the author's quota: `TooLarge` past it) and the
    /// jobs that process it. `Made(false)` when the video is gone or already has an original.
    async fn attach_source(
        &self,
        id: Uuid,
        source: &VideoSource,
        charge: &Charge,
        jobs: &[NewJob],
    ) -> Result<Referenced<bool>>;
    /// Moves a live video from one status to another; `false` if it was not in `from`.
    async fn set_status(&self, id: Uuid, from: VideoStatus, to: VideoStatus) -> Result<bool>;
    /// Records what probing found and the status it leads to, with the jobs that carry on from
    /// there, in one transaction.
    async fn set_media(&self, id: Uuid, status: VideoStatus, media: &VideoMedia, jobs: &[NewJob]) -> Result<bool>;
    /// A `processing` video ends `failed` with the reason (probe facts kept).
    async fn fail_processing(&self, id: Uuid, reason: &str) -> Result<bool>;
    /// Records the transcode's progress (0–100).
    async fn set_progress(&self, id: Uuid, progress: u8) -> Result<()>;
    /// Records whether the stills were made, with the jobs that follow, in one transaction;
    /// `false` if the video is gone.
    async fn set_stills(&self, id: Uuid, made: bool, next: &[NewJob]) -> Result<bool>;
    /// Records the stored HLS ladder and moves a `processing` video to `ready`; `false` if the
    /// video is gone.
    async fn set_renditions(&self, id: Uuid, renditions: &[RenditionInfo]) -> Result<bool>;
    /// Starts a live video's processing over (status `uploaded`, outputs and reason cleared)
    /// and queues `job` in the same transaction; `false` when it is gone or has no original.
    async fn restart_processing(&self, id: Uuid, job: &NewJob) -> Result<bool>;
    /// Live videos with an original but no HLS ladder, `uploaded` or `ready` (processed before
    /// ffmpeg was installed, or by an older version), oldest first.
    async fn unprocessed(&self, limit: u64) -> Result<Vec<Uuid>>;
    /// Adds `n` views (batched by the view counter).
    async fn add_views(&self, id: Uuid, n: u64) -> Result<()>;
    /// For a video that was soft-deleted: removes the row (and its comments) and its blob's
    /// reference for good, and returns the blob its source used. `None` when the video is not deleted (or is gone).
    async fn purge_deleted(&self, id: Uuid) -> Result<Option<Option<String>>>;
}
