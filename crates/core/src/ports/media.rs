use std::path::Path;

use async_trait::async_trait;
use tokio::sync::watch;

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

/// One rung of the HLS ladder: H.264 scaled so its short side is `lines`, at `video_kbps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rendition {
    pub lines: u32,
    pub video_kbps: u32,
}

/// What the transcode makes, in `out_dir`: `master.m3u8`, and per rendition `v{i}/index.m3u8`,
/// `v{i}/init_{i}.mp4` and `v{i}/seg{n}.m4s`.
#[derive(Debug, Clone)]
pub struct HlsSpec<'a> {
    pub input: &'a str,
    pub out_dir: &'a Path,
    pub renditions: &'a [Rendition],
    /// Whether the source is wider than tall (the short side is then its height).
    pub landscape: bool,
    pub has_audio: bool,
    /// For progress (0–100); none without a known duration.
    pub duration_ms: Option<u64>,
    pub segment_secs: u32,
}

/// The stills: `poster.jpg`, and `storyboard.jpg` (a grid of `tile_width`×`tile_height` frames,
/// one every `interval_ms`, `columns` wide) with `storyboard.vtt` written by the caller.
#[derive(Debug, Clone)]
pub struct StillsSpec<'a> {
    pub input: &'a str,
    pub out_dir: &'a Path,
    /// Where the poster is looked for (a representative frame near there is picked).
    pub poster_at_ms: u64,
    pub tile_width: u32,
    pub tile_height: u32,
    pub interval_ms: u64,
    pub columns: u32,
    pub rows: u32,
}

/// The media toolkit (ffmpeg). `Ok(Err(_))`: the file is not a usable video (the reason is for
/// its owner); `Err(_)`: the tool itself failed (the job is retried).
#[async_trait]
pub trait MediaTool: Send + Sync {
    /// Probes `input` (a local path or an http(s) URL).
    async fn probe(&self, input: &str) -> crate::Result<Result<ProbeReport, Unusable>>;
    /// Writes the poster and the storyboard sprite.
    async fn stills(&self, spec: &StillsSpec<'_>) -> crate::Result<Result<(), Unusable>>;
    /// Writes the HLS ladder, reporting progress (0–100) as it goes. Dropping the future stops
    /// the encoder.
    async fn transcode(&self, spec: &HlsSpec<'_>, progress: &watch::Sender<u8>) -> crate::Result<Result<(), Unusable>>;
}
