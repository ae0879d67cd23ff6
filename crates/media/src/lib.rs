//! ffmpeg as subprocesses (`tokio::process`, killed on drop, time-limited): crash isolation and
//! no C linking (see STACK.md).

use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use streamvault_core::ports::{MediaTool, ProbeReport, Unusable};
use streamvault_core::{Error, Result};
use tokio::process::Command;

/// A probe reads headers, not the whole file; a minute is generous even over HTTP.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Ffmpeg {
    ffprobe: String,
}

impl Ffmpeg {
    /// The ffmpeg tools on the `PATH`, if they run.
    pub async fn detect() -> Option<Ffmpeg> {
        let ok = Command::new("ffprobe")
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .status()
            .await
            .is_ok_and(|s| s.success());
        ok.then(|| Ffmpeg { ffprobe: "ffprobe".into() })
    }
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
}

#[derive(Deserialize)]
struct Format {
    duration: Option<String>,
    bit_rate: Option<String>,
}

/// The report, or why the file is not a usable video.
fn report(json: &str) -> std::result::Result<ProbeReport, Unusable> {
    let p: Probe = serde_json::from_str(json).map_err(|_| Unusable("the file could not be read as media".into()))?;
    let video = p.streams.iter().find(|s| s.codec_type.as_deref() == Some("video"));
    let Some(video) = video else { return Err(Unusable("the file has no video stream".into())) };
    let audio = p.streams.iter().find(|s| s.codec_type.as_deref() == Some("audio"));
    let format = p.format.as_ref();
    let duration_ms = format
        .and_then(|f| f.duration.as_deref())
        .and_then(|d| d.parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d >= 0.0)
        .map(|d| (d * 1000.0).round() as u64);
    Ok(ProbeReport {
        duration_ms,
        width: video.width,
        height: video.height,
        video_codec: video.codec_name.clone(),
        audio_codec: audio.and_then(|a| a.codec_name.clone()),
        bitrate: format.and_then(|f| f.bit_rate.as_deref()).and_then(|b| b.parse().ok()),
    })
}

#[async_trait]
impl MediaTool for Ffmpeg {
    async fn probe(&self, input: &str) -> Result<std::result::Result<ProbeReport, Unusable>> {
        let child = Command::new(&self.ffprobe)
            .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams", "--", input])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::Unavailable(format!("ffprobe: {e}")))?;
        let out = tokio::time::timeout(PROBE_TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| Error::Unavailable("ffprobe took too long".into()))?
            .map_err(|e| Error::Unavailable(format!("ffprobe: {e}")))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            // ffprobe names the input first ("<path>: Invalid data ..."): the owner gets the why.
            let why = err.lines().last().unwrap_or("unreadable").rsplit(": ").next().unwrap_or("unreadable").trim();
            return Ok(Err(Unusable(format!("the file is not a playable video ({why})"))));
        }
        Ok(report(&String::from_utf8_lossy(&out.stdout)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_from_ffprobe_json() {
        let json = r#"{"streams":[{"codec_type":"video","codec_name":"h264","width":640,"height":360},
            {"codec_type":"audio","codec_name":"aac"}],"format":{"duration":"2.021000","bit_rate":"123456"}}"#;
        let r = report(json).unwrap();
        assert_eq!((r.duration_ms, r.width, r.height), (Some(2021), Some(640), Some(360)));
        assert_eq!(
            (r.video_codec.as_deref(), r.audio_codec.as_deref(), r.bitrate),
            (Some("h264"), Some("aac"), Some(123456))
        );
        assert!(report(r#"{"streams":[{"codec_type":"audio","codec_name":"mp3"}],"format":{}}"#).is_err());
        assert!(report("not json").is_err());
    }
}
