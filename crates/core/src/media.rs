//! Media jobs (ffmpeg behind the [`MediaTool`] port): today the probe that fills in a video's
//! duration, size and codecs, or fails it with a reason its owner can read. The original plays
//! throughout. Without ffmpeg the jobs end at once: videos stay `uploaded` and play as they
//! came (give every worker ffmpeg in a split deployment).

use std::sync::Arc;

use serde::Deserialize;
use uuid::Uuid;

use crate::ports::jobs::kind;
use crate::ports::{LeasedJob, MediaTool, VideoMedia, VideoRepo, VideoStatus};
use crate::storage::Storage;
use crate::{Error, Result};

#[derive(Clone)]
pub struct Media {
    tool: Option<Arc<dyn MediaTool>>,
    videos: Arc<dyn VideoRepo>,
    storage: Storage,
}

#[derive(Deserialize)]
struct VideoJob {
    video_id: Uuid,
}

impl Media {
    pub fn new(tool: Option<Arc<dyn MediaTool>>, videos: Arc<dyn VideoRepo>, storage: Storage) -> Self {
        Self { tool, videos, storage }
    }

    /// Whether this job is one of ours.
    pub fn handles(kind: &str) -> bool {
        kind == kind::PROBE_VIDEO
    }

    pub async fn run(&self, job: &LeasedJob) -> Result<()> {
        let p: VideoJob = serde_json::from_str(&job.payload)
            .map_err(|e| Error::Internal(format!("bad {} payload: {e}", job.kind)))?;
        self.probe(p.video_id).await
    }

    /// Probes the video's original: `uploaded → processing → ready`, or `failed` with the
    /// reason. Idempotent: a deleted video, or one already past `processing`, is left alone.
    pub async fn probe(&self, id: Uuid) -> Result<()> {
        let Some(tool) = &self.tool else {
            // Said once at start; the video stays `uploaded` and plays as it came.
            tracing::debug!(video_id = %id, "no ffprobe: video left unprobed");
            return Ok(());
        };
        let Some(video) = self.videos.get(id).await? else { return Ok(()) };
        let Some(source) = video.source else { return Ok(()) };
        if !matches!(video.status, VideoStatus::Uploaded | VideoStatus::Processing) {
            return Ok(());
        }
        self.videos.set_status(id, VideoStatus::Uploaded, VideoStatus::Processing).await?;
        let input = self.storage.media_input(&source.sha256).await?;
        let (status, media) = match tool.probe(&input).await? {
            Ok(r) => (
                VideoStatus::Ready,
                VideoMedia {
                    duration_ms: r.duration_ms,
                    width: r.width,
                    height: r.height,
                    video_codec: r.video_codec,
                    audio_codec: r.audio_codec,
                    bitrate: r.bitrate,
                    failure_reason: None,
                },
            ),
            Err(unusable) => {
                (VideoStatus::Failed, VideoMedia { failure_reason: Some(unusable.0), ..Default::default() })
            }
        };
        self.videos.set_media(id, status, &media).await?;
        tracing::info!(video_id = %id, status = status.as_str(), "video probed");
        Ok(())
    }
}
