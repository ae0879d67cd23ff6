//! The HLS ladder: one ffmpeg run decodes the source once and encodes every rendition, with
//! keyframes forced on segment boundaries so that every rendition switches cleanly.

use std::process::Stdio;

use streamvault_core::ports::{HlsSpec, Unusable};
use streamvault_core::{Error, Result};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::sync::watch;

use crate::command::{Tool, last_error};

/// Audio per rendition: stereo AAC-LC.
const AUDIO_KBPS: u32 = 128;

/// The ffmpeg arguments for `spec` (the benchmark re-runs exactly these by hand).
pub(crate) fn args(spec: &HlsSpec<'_>) -> Vec<String> {
    let n = spec.renditions.len();
    let mut a: Vec<String> = ["-hide_banner", "-v", "error", "-y", "-i", spec.input].map(String::from).to_vec();
    let mut graph = format!("[0:v]split={n}");
    for i in 0..n {
        graph.push_str(&format!("[s{i}]"));
    }
    for (i, r) in spec.renditions.iter().enumerate() {
        // -2 keeps the aspect ratio with an even size (H.264 4:2:0 needs one).
        let scale = if spec.landscape { format!("-2:{}", r.lines) } else { format!("{}:-2", r.lines) };
        graph.push_str(&format!(";[s{i}]scale={scale}[v{i}]"));
    }
    a.extend(["-filter_complex".into(), graph]);
    for i in 0..n {
        a.extend(["-map".into(), format!("[v{i}]")]);
        if spec.has_audio {
            a.extend(["-map".into(), "0:a:0".into()]);
        }
    }
    let gop = spec.segment_secs;
    a.extend(
        ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p", "-sc_threshold", "0"]
            .map(String::from),
    );
    a.extend(["-force_key_frames".into(), format!("expr:gte(t,n_forced*{gop})")]);
    for (i, r) in spec.renditions.iter().enumerate() {
        let k = r.video_kbps;
        a.extend([format!("-b:v:{i}"), format!("{k}k")]);
        a.extend([format!("-maxrate:v:{i}"), format!("{}k", k * 107 / 100)]);
        a.extend([format!("-bufsize:v:{i}"), format!("{}k", k * 3 / 2)]);
    }
    if spec.has_audio {
        a.extend(["-c:a", "aac", "-ac", "2", "-b:a"].map(String::from));
        a.push(format!("{AUDIO_KBPS}k"));
    }
    let map: Vec<String> =
        (0..n).map(|i| if spec.has_audio { format!("v:{i},a:{i}") } else { format!("v:{i}") }).collect();
    let dir = spec.out_dir.display();
    a.extend(
        [
            "-f",
            "hls",
            "-hls_playlist_type",
            "vod",
            "-hls_segment_type",
            "fmp4",
            "-hls_flags",
            "independent_segments",
            "-hls_fmp4_init_filename",
            "init.mp4",
            "-master_pl_name",
            "master.m3u8",
        ]
        .map(String::from),
    );
    a.extend(["-hls_time".into(), gop.to_string()]);
    a.extend(["-hls_segment_filename".into(), format!("{dir}/v%v/seg%05d.m4s")]);
    a.extend(["-var_stream_map".into(), map.join(" ")]);
    a.extend(["-progress", "pipe:1", "-stats_period", "1", "-nostats"].map(String::from));
    a.push(format!("{dir}/v%v/index.m3u8"));
    a
}

pub(crate) async fn transcode(
    ffmpeg: &Tool,
    spec: &HlsSpec<'_>,
    progress: &watch::Sender<u8>,
) -> Result<std::result::Result<(), Unusable>> {
    let args = args(spec);
    tracing::info!(command = %ffmpeg.display(&args), "transcoding");
    let mut child = ffmpeg
        .command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::unavailable("ffmpeg", e))?;
    let mut stderr = child.stderr.take().ok_or_else(|| Error::internal("ffmpeg stderr"))?;
    let errors = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = (&mut stderr).take(64 * 1024).read_to_end(&mut buf).await;
        buf
    });
    // `-progress pipe:1` writes `out_time_us=…` about once a second.
    let stdout = child.stdout.take().ok_or_else(|| Error::internal("ffmpeg stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let (Some(us), Some(total)) = (line.strip_prefix("out_time_us="), spec.duration_ms)
            && let Ok(us) = us.trim().parse::<u64>()
            && total > 0
        {
            let pct = (us / 1000).saturating_mul(100) / total;
            progress.send_replace(u8::try_from(pct.min(99)).unwrap_or(99));
        }
    }
    let status = child.wait().await.map_err(|e| Error::unavailable("ffmpeg", e))?;
    let stderr = errors.await.unwrap_or_default();
    if status.success() {
        Ok(Ok(()))
    } else if status.code().is_none() {
        Err(Error::retry_later("ffmpeg was killed"))
    } else {
        Ok(Err(Unusable(format!("the video could not be transcoded ({})", last_error(&stderr)))))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use streamvault_core::ports::Rendition;

    use super::*;

    #[test]
    fn one_run_for_the_whole_ladder() {
        let ladder = [Rendition { lines: 240, video_kbps: 400 }, Rendition { lines: 720, video_kbps: 2800 }];
        let spec = HlsSpec {
            input: "in.mp4",
            out_dir: Path::new("/w"),
            renditions: &ladder,
            landscape: true,
            has_audio: true,
            duration_ms: Some(1000),
            segment_secs: 4,
        };
        let a = args(&spec).join(" ");
        assert!(a.contains("[0:v]split=2[s0][s1];[s0]scale=-2:240[v0];[s1]scale=-2:720[v1]"), "{a}");
        assert!(a.contains("-map [v0] -map 0:a:0 -map [v1] -map 0:a:0"), "{a}");
        assert!(a.contains("-b:v:1 2800k -maxrate:v:1 2996k -bufsize:v:1 4200k"), "{a}");
        assert!(a.contains("-force_key_frames expr:gte(t,n_forced*4)"), "{a}");
        assert!(a.contains("-var_stream_map v:0,a:0 v:1,a:1"), "{a}");
        assert!(a.ends_with("/w/v%v/index.m3u8"), "{a}");
        let portrait = HlsSpec { landscape: false, has_audio: false, ..spec };
        let a = args(&portrait).join(" ");
        assert!(a.contains("[s0]scale=240:-2[v0]") && a.contains("-var_stream_map v:0 v:1"), "{a}");
        assert!(!a.contains("0:a:0"), "{a}");
    }
}
