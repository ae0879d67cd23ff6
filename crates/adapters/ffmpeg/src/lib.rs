//! ffmpeg as subprocesses (`tokio::process`, killed on drop, time-limited, at a lower CPU
//! priority): a crashing decoder takes down one job, not the worker, and nothing links C.

mod command;
mod hls;
mod probe;
mod stills;

use std::time::Duration;

use async_trait::async_trait;
use streamvault_core::ports::{HlsSpec, MediaTool, ProbeReport, StillsSpec, Unusable};
use streamvault_core::{Error, Result};
use tokio::sync::watch;

use crate::command::Tool;

/// A probe reads headers, not the whole file; a minute is generous even over HTTP.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Ffmpeg {
    ffprobe: Tool,
    ffmpeg: Tool,
}

impl Ffmpeg {
    /// The ffmpeg tools on the `PATH`, if both run. Encoders run under `nice -n {nice}` (when
    /// `nice` is there) so that playback and uploads on the same machine keep their CPU.
    pub async fn detect(nice: i32) -> Option<Ffmpeg> {
        // Three processes to start: at once, not one after another (start-up waits for them).
        let (has_nice, has_ffprobe, has_ffmpeg) = tokio::join!(
            async { nice != 0 && Tool::runs("nice", &["-n", "0", "true"]).await },
            Tool::runs("ffprobe", &["-version"]),
            Tool::runs("ffmpeg", &["-version"]),
        );
        let niced = has_nice;
        if nice != 0 && !niced {
            tracing::warn!("`nice` is not on the PATH: ffmpeg runs at normal priority");
        }
        let ok = has_ffprobe && has_ffmpeg;
        ok.then(|| Ffmpeg { ffprobe: Tool::new("ffprobe", None), ffmpeg: Tool::new("ffmpeg", niced.then_some(nice)) })
    }
}

#[async_trait]
impl MediaTool for Ffmpeg {
    async fn probe(&self, input: &str) -> Result<std::result::Result<ProbeReport, Unusable>> {
        let args = ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", "--", input];
        tracing::info!(command = %self.ffprobe.display(&args), "probing");
        let out = tokio::time::timeout(PROBE_TIMEOUT, self.ffprobe.output(&args))
            .await
            .map_err(|_| Error::retry_later("ffprobe took too long"))??;
        if !out.status.success() {
            let why = command::last_error(&out.stderr);
            return Ok(Err(Unusable(format!("the file is not a playable video ({why})"))));
        }
        Ok(probe::report(&String::from_utf8_lossy(&out.stdout)))
    }

    async fn stills(&self, spec: &StillsSpec<'_>) -> Result<std::result::Result<(), Unusable>> {
        stills::make(&self.ffmpeg, spec).await
    }

    async fn transcode(
        &self,
        spec: &HlsSpec<'_>,
        progress: &watch::Sender<u8>,
    ) -> Result<std::result::Result<(), Unusable>> {
        hls::transcode(&self.ffmpeg, spec, progress).await
    }
}
