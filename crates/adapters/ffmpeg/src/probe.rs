//! Reading `ffprobe -of json`.

use serde::Deserialize;
use streamvault_core::ports::{ProbeReport, Unusable};

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
pub(crate) fn report(json: &str) -> std::result::Result<ProbeReport, Unusable> {
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
