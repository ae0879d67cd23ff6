use async_trait::async_trait;

/// What a probe of a media file found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeReport {
    pub duration_ms: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub bitrate: Option<u64>,
}

/// Why a file is not a video we can use: said to its owner as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unusable(pub String);

/// The media toolkit (ffmpeg): probing today; thumbnails and transcoding with the media issue.
#[async_trait]
pub trait MediaTool: Send + Sync {
    /// Probes `input` (a local path or an http(s) URL). `Ok(Err(_))`: the file is not a usable
    /// video (the reason is for its owner); `Err(_)`: the tool itself failed (retried).
    async fn probe(&self, input: &str) -> crate::Result<Result<ProbeReport, Unusable>>;
}
