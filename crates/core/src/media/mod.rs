//! Media jobs (ffmpeg behind the [`MediaTool`] port). A video's original plays throughout:
//!
//! 1. `probe_video`: duration, size and codecs, or `failed` with a reason its owner can read;
//!    a usable video goes `processing` and, in the same transaction, gets the next job.
//! 2. `video_stills`: a poster and a storyboard sprite (with its WebVTT index) for seek
//!    previews, then (made or not) the next job.
//! 3. `transcode_video`: the HLS ladder, with progress; the video is `ready` once it is stored.
//!
//! Outputs go to the blob store under [`media_prefix`]. ffmpeg runs at most `concurrency` at a
//! time per worker, within a time limit; a video deleted meanwhile stops its encoder. Without
//! ffmpeg the jobs end at once: videos stay `uploaded` and play as they came.

mod ladder;
mod work_dir;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::ids::VideoId;
use futures::future::{BoxFuture, FutureExt, Shared};
pub use ladder::{Storyboard, ladder, master_renditions};
use tokio::sync::{Semaphore, watch};

use self::work_dir::WorkDir;
use crate::ports::{HlsSpec, Job, MediaTool, NewJob, StillsSpec, Unusable, VideoRepo, media_prefix};
use crate::storage::Storage;
use crate::videos::{Video, VideoMedia, VideoStatus};
use crate::{Error, Result};

/// Segment length: about 4 s, the usual trade between start-up time and request count.
pub const SEGMENT_SECS: u32 = 4;
/// How often a running transcode reports progress and looks for its video's deletion.
const CHECK_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct MediaLimits {
    /// ffmpeg runs at once in this process.
    pub concurrency: usize,
    /// A transcode still running after this ends the video `failed`.
    pub time_limit: Duration,
}

/// ffmpeg, once looked for: `None` when this worker has none.
pub type Detected = Option<Arc<dyn MediaTool>>;

#[derive(Clone)]
pub struct Media {
    /// Looking for ffmpeg takes longer than the rest of start-up (100 ms on some machines), so
    /// it goes on while the process serves; the first job waits for it.
    tool: Shared<BoxFuture<'static, Detected>>,
    videos: Arc<dyn VideoRepo>,
    storage: Storage,
    work: PathBuf,
    slots: Arc<Semaphore>,
    time_limit: Duration,
}

/// A follow-up job for a video, at most one pending of each kind.
fn video_job(job: Job, id: VideoId) -> NewJob {
    NewJob::once(job, id)
}

impl Media {
    pub fn new(
        tool: Detected,
        videos: Arc<dyn VideoRepo>,
        storage: Storage,
        work: PathBuf,
        limits: MediaLimits,
    ) -> Self {
        Self::detecting(futures::future::ready(tool), videos, storage, work, limits)
    }

    /// Like [`Media::new`], with ffmpeg still being looked for.
    pub fn detecting(
        tool: impl Future<Output = Detected> + Send + 'static,
        videos: Arc<dyn VideoRepo>,
        storage: Storage,
        work: PathBuf,
        limits: MediaLimits,
    ) -> Self {
        let slots = Arc::new(Semaphore::new(limits.concurrency.max(1)));
        Self { tool: tool.boxed().shared(), videos, storage, work, slots, time_limit: limits.time_limit }
    }

    /// ffmpeg, once it has been looked for.
    pub async fn detected(&self) -> Detected {
        self.tool.clone().await
    }

    /// Removes scratch directories that no job can still be using: older than the time limit
    /// (and a margin). They are left by a worker killed mid-job whose job ran again on another
    /// node. Returns how many went.
    pub async fn sweep_work(&self) -> Result<u64> {
        work_dir::sweep(self.work.clone(), self.time_limit + Duration::from_secs(600)).await
    }

    /// The job that starts a video's processing once its original is attached.
    pub fn first_job(id: VideoId) -> NewJob {
        video_job(Job::ProbeVideo { video_id: id }, id)
    }

    /// ffmpeg, if this worker has it. Without it (said once at start) a video stays `uploaded`
    /// and plays as it came: its jobs end at once.
    async fn tool(&self, id: VideoId) -> Detected {
        let tool = self.detected().await;
        if tool.is_none() {
            tracing::debug!(video_id = %id, "no ffmpeg: video left unprocessed");
        }
        tool
    }

    /// Step 1 ([`Job::ProbeVideo`]).
    pub async fn probe(&self, id: VideoId) -> Result<()> {
        let Some(tool) = self.tool(id).await else { return Ok(()) };
        self.probe_with(tool.as_ref(), id).await
    }

    /// Step 2 ([`Job::VideoStills`]).
    pub async fn stills(&self, id: VideoId) -> Result<()> {
        let Some(tool) = self.tool(id).await else { return Ok(()) };
        self.stills_with(tool.as_ref(), id).await
    }

    /// Step 3 ([`Job::TranscodeVideo`]).
    pub async fn transcode(&self, id: VideoId) -> Result<()> {
        let Some(tool) = self.tool(id).await else { return Ok(()) };
        self.transcode_with(tool.as_ref(), id).await
    }

    /// `uploaded → processing` with the probe's facts and the next jobs, or `failed` with the
    /// reason. Idempotent: a deleted video, or one past `processing`, is left alone.
    async fn probe_with(&self, tool: &dyn MediaTool, id: VideoId) -> Result<()> {
        let Some(video) = self.videos.get(id).await? else { return Ok(()) };
        let Some(source) = video.source else { return Ok(()) };
        if !matches!(video.status, VideoStatus::Uploaded | VideoStatus::Processing) {
            return Ok(());
        }
        self.videos.set_status(id, VideoStatus::Uploaded, VideoStatus::Processing).await?;
        let input = self.storage.media_input(&source.sha256).await?;
        match verdict(&input, tool.probe(&input).await?)? {
            Ok(r) => {
                let media = VideoMedia::from(r);
                // Stills first (seconds), then the ladder: a `ready` video has its poster.
                let next = [video_job(Job::VideoStills { video_id: id }, id)];
                self.videos.set_media(id, VideoStatus::Processing, &media, &next).await?;
                tracing::info!(video_id = %id, "video probed");
            }
            Err(unusable) => {
                let media = VideoMedia { failure_reason: Some(unusable.0), ..Default::default() };
                self.videos.set_media(id, VideoStatus::Failed, &media, &[]).await?;
                tracing::info!(video_id = %id, "video is not usable");
            }
        }
        Ok(())
    }

    /// The poster and the storyboard. A video whose stills cannot be made keeps playing
    /// without them (the transcode decides whether it is usable).
    async fn stills_with(&self, tool: &dyn MediaTool, id: VideoId) -> Result<()> {
        let Some((video, input)) = self.processable(id).await? else { return Ok(()) };
        let duration = video.media.duration_ms.unwrap_or(0);
        let (w, h) = (video.media.width.unwrap_or(16).max(1), video.media.height.unwrap_or(9).max(1));
        let board = Storyboard::for_video(duration, w, h);
        let dir = WorkDir::fresh(&self.work, &format!("{}-stills", id.uuid().simple())).await?;
        let spec = StillsSpec {
            input: &input,
            out_dir: dir.path(),
            poster_at_ms: duration / 10,
            tile_width: board.tile_width,
            tile_height: board.tile_height,
            interval_ms: board.interval_ms,
            columns: board.columns,
            rows: board.rows,
        };
        let made = {
            let _slot = self.slots.acquire().await.map_err(Error::internal)?;
            match tokio::time::timeout(self.time_limit, tool.stills(&spec)).await {
                Ok(made) => verdict(&input, made?)?,
                // Stills are a nicety: out of time, the video goes on without them.
                Err(_) => {
                    Err(Unusable(format!("the stills took longer than the limit of {} s", self.time_limit.as_secs())))
                }
            }
        };
        let next = [video_job(Job::TranscodeVideo { video_id: id }, id)];
        if let Err(why) = made {
            tracing::warn!(video_id = %id, reason = %why, "no stills for this video");
            self.videos.set_stills(id, false, &next).await?;
            return Ok(());
        }
        tokio::fs::write(dir.path().join("storyboard.vtt"), board.vtt("storyboard.jpg"))
            .await
            .map_err(|e| Error::unavailable("media work dir", e))?;
        self.store_under(id, &dir, "", &[POSTER, "storyboard.jpg", STORYBOARD_VTT]).await?;
        if !self.videos.set_stills(id, true, &next).await? {
            self.storage.blobs.delete_prefix(&media_prefix(id)).await?;
        }
        tracing::info!(video_id = %id, "stills stored");
        Ok(())
    }

    /// The HLS ladder; the video ends `ready`, or `failed` when ffmpeg cannot transcode it.
    async fn transcode_with(&self, tool: &dyn MediaTool, id: VideoId) -> Result<()> {
        let Some((video, input)) = self.processable(id).await? else { return Ok(()) };
        let (Some(w), Some(h)) = (video.media.width, video.media.height) else {
            self.videos.fail_processing(id, "the video has no frame size").await?;
            return Ok(());
        };
        let renditions = ladder(w, h);
        let _slot = self.slots.acquire().await.map_err(Error::internal)?;
        // A run that died (kill -9) left its files: start over in a fresh directory.
        let dir = WorkDir::fresh(&self.work, &format!("{}-hls", id.uuid().simple())).await?;
        let spec = HlsSpec {
            input: &input,
            out_dir: dir.path(),
            renditions: &renditions,
            landscape: w >= h,
            has_audio: video.media.audio_codec.is_some(),
            duration_ms: video.media.duration_ms,
            segment_secs: SEGMENT_SECS,
        };
        let (tx, mut rx) = watch::channel(0u8);
        let mut work = Box::pin(tool.transcode(&spec, &tx));
        let deadline = tokio::time::sleep(self.time_limit);
        tokio::pin!(deadline);
        let mut check = tokio::time::interval(CHECK_EVERY);
        check.tick().await;
        let outcome = loop {
            tokio::select! {
                r = &mut work => break Some(verdict(&input, r?)?),
                _ = &mut deadline => break None,
                _ = check.tick() => {
                    // Returning drops `work`, which kills ffmpeg.
                    if !self.still_wanted(id).await {
                        tracing::info!(video_id = %id, "video deleted: transcode stopped");
                        return Ok(());
                    }
                    if rx.has_changed().unwrap_or(false) {
                        let p = *rx.borrow_and_update();
                        if let Err(e) = self.videos.set_progress(id, p).await {
                            tracing::debug!(video_id = %id, error = %e.report(), "progress not recorded");
                        }
                    }
                }
            }
        };
        // Out of time: the encoder goes now (dropping its future kills it), before the verdict.
        drop(work);
        let why = match outcome {
            None => format!("transcoding took longer than the limit of {} s", self.time_limit.as_secs()),
            Some(Err(unusable)) => unusable.0,
            Some(Ok(())) => {
                let master = tokio::fs::read_to_string(dir.path().join("master.m3u8"))
                    .await
                    .map_err(|e| Error::unavailable("transcode wrote no master playlist", e))?;
                let files = dir.files().await?;
                // The master playlist last: nothing points at a part before it is stored.
                let mut names: Vec<&str> = files.iter().map(String::as_str).filter(|n| *n != "master.m3u8").collect();
                names.push("master.m3u8");
                self.store_under(id, &dir, "hls/", &names).await?;
                if !self.videos.set_renditions(id, &master_renditions(&master)).await? {
                    self.storage.blobs.delete_prefix(&media_prefix(id)).await?;
                }
                tracing::info!(video_id = %id, renditions = renditions.len(), "video transcoded");
                return Ok(());
            }
        };
        tracing::warn!(video_id = %id, reason = %why, "video failed to transcode");
        self.videos.fail_processing(id, &why).await?;
        Ok(())
    }

    /// The video, if it is still `processing`, and where ffmpeg reads its original.
    async fn processable(&self, id: VideoId) -> Result<Option<(Video, String)>> {
        let Some(video) = self.videos.get(id).await? else { return Ok(None) };
        let Some(source) = &video.source else { return Ok(None) };
        if video.status != VideoStatus::Processing {
            return Ok(None);
        }
        let input = self.storage.media_input(&source.sha256).await?;
        Ok(Some((video, input)))
    }

    /// False once the video is deleted (or no longer processing); a failed lookup keeps going.
    async fn still_wanted(&self, id: VideoId) -> bool {
        match self.videos.get(id).await {
            Ok(Some(v)) => v.status == VideoStatus::Processing,
            Ok(None) => false,
            Err(_) => true,
        }
    }

    async fn store_under(&self, id: VideoId, dir: &WorkDir, under: &str, names: &[&str]) -> Result<()> {
        let prefix = media_prefix(id);
        for name in names {
            let path = dir.path().join(name);
            let size = tokio::fs::metadata(&path)
                .await
                .map_err(|e| Error::unavailable(format!("media output {name}"), e))?
                .len();
            self.storage.blobs.put_file(&format!("{prefix}{under}{name}"), &path, size, content_type(name)).await?;
        }
        Ok(())
    }
}

/// What a tool's "unusable" verdict on `input` is worth. With remote primary storage an upload
/// waits on the receiving node's disk until it is transferred, then that copy goes: a tool that
/// was handed the local path fails for that reason, not because the video is unusable. That is
/// an error (the job is retried, and reads from the bucket then), not a verdict on the video.
fn verdict<T>(input: &str, result: std::result::Result<T, Unusable>) -> Result<std::result::Result<T, Unusable>> {
    let vanished = !input.contains("://") && !std::path::Path::new(input).exists();
    match result {
        Err(_) if vanished => {
            Err(Error::retry_later("the original moved to primary storage while it was read; will retry"))
        }
        r => Ok(r),
    }
}

/// Derived file names, under the video's [`media_prefix`].
pub const POSTER: &str = "poster.jpg";
pub const STORYBOARD_VTT: &str = "storyboard.vtt";
pub const HLS_MASTER: &str = "hls/master.m3u8";

/// Whether `name` is one a media job writes: `poster.jpg`, `storyboard.{jpg,vtt}`, and under
/// `hls/` the master playlist and `v{i}/` rendition files. Anything else (`..`, absolute paths,
/// other names) is not served.
pub fn is_media_name(name: &str) -> bool {
    if matches!(name, POSTER | STORYBOARD_VTT | "storyboard.jpg" | HLS_MASTER) {
        return true;
    }
    let Some(rest) = name.strip_prefix("hls/v") else { return false };
    let Some((n, file)) = rest.split_once('/') else { return false };
    let digits = |s: &str| !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit());
    digits(n)
        && (file == "index.m3u8"
            // ffmpeg numbers the init segment only when there is more than one rendition.
            || file == "init.mp4"
            || file.strip_prefix("init_").and_then(|f| f.strip_suffix(".mp4")).is_some_and(digits)
            || file.strip_prefix("seg").and_then(|f| f.strip_suffix(".m4s")).is_some_and(digits))
}

/// The media type a derived file is served with.
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "m3u8" => "application/vnd.apple.mpegurl",
        "m4s" => "video/iso.segment",
        "mp4" => "video/mp4",
        "jpg" => "image/jpeg",
        "vtt" => "text/vtt; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_jobs_write_is_served() {
        for ok in [
            "poster.jpg",
            "storyboard.vtt",
            "hls/master.m3u8",
            "hls/v0/index.m3u8",
            "hls/v3/init_3.mp4",
            "hls/v10/seg00042.m4s",
        ] {
            assert!(is_media_name(ok), "{ok}");
        }
        for bad in [
            "",
            "hls/../poster.jpg",
            "../x",
            "/etc/passwd",
            "hls/v0/../../x",
            "hls/v/index.m3u8",
            "hls/v0/seg.m4s",
            "hls/vx/index.m3u8",
            "hls/v0/index.m3u8/x",
            "poster.jpg/",
        ] {
            assert!(!is_media_name(bad), "{bad}");
        }
    }
}
