//! What the videos domain is made of: videos, what processing made of them, and comments.

use chrono::{DateTime, Utc};

use crate::ids::{CommentId, UserId, VideoId};

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
    pub id: VideoId,
    pub author_id: UserId,
    /// The author's user name, joined in on reads.
    pub author_name: String,
    pub name: String,
    pub description: String,
    pub status: VideoStatus,
    pub views: i64,
    /// Ratings, counted in the rating's own transaction.
    pub likes: i64,
    pub dislikes: i64,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: CommentId,
    pub video_id: VideoId,
    pub author_id: UserId,
    /// The author's user name, joined in on reads.
    pub author_name: String,
    pub content: String,
    pub created_at: DateTime<Utc>,
    /// The top-level comment this one replies to (one level of replies).
    pub parent_id: Option<CommentId>,
}
