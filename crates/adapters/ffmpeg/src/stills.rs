//! The poster (a representative frame) and the storyboard sprite (a grid of small frames for
//! seek previews).

use std::time::Duration;

use streamvault_core::ports::{StillsSpec, Unusable};
use streamvault_core::{Error, Result};

use crate::command::{Tool, last_error};

/// Stills decode a few seconds of video (the sprite: one frame per tile, but it reads the file).
const STILLS_TIMEOUT: Duration = Duration::from_secs(30 * 60);

pub(crate) async fn make(ffmpeg: &Tool, spec: &StillsSpec<'_>) -> Result<std::result::Result<(), Unusable>> {
    let poster = spec.out_dir.join("poster.jpg");
    let poster_path = poster.display().to_string();
    // The `thumbnail` filter picks the frame most like its neighbours' average out of a batch:
    // not a black fade or a flash. Seeking past a short file's end writes nothing: then from 0.
    for at_ms in [spec.poster_at_ms, 0] {
        let at = format!("{:.3}", at_ms as f64 / 1000.0);
        let args = [
            "-hide_banner",
            "-v",
            "error",
            "-y",
            "-ss",
            &at,
            "-i",
            spec.input,
            "-vf",
            r"thumbnail=60,scale=-2:min(720\,ih)",
            "-frames:v",
            "1",
            "-q:v",
            "3",
            &poster_path,
        ];
        if let Err(why) = run(ffmpeg, &args).await? {
            return Ok(Err(why));
        }
        if tokio::fs::try_exists(&poster).await.unwrap_or(false) {
            break;
        }
    }
    if !tokio::fs::try_exists(&poster).await.unwrap_or(false) {
        return Ok(Err(Unusable("no frame could be decoded for a poster".into())));
    }

    let sprite = spec.out_dir.join("storyboard.jpg").display().to_string();
    // `select` (not `fps`) so that even a one-frame video gives its first tile.
    let filter = format!(
        r"select='isnan(prev_selected_t)+gte(t-prev_selected_t\,{:.3})',scale={}:{},setsar=1,tile={}x{}",
        spec.interval_ms as f64 / 1000.0,
        spec.tile_width,
        spec.tile_height,
        spec.columns,
        spec.rows
    );
    let args = [
        "-hide_banner",
        "-v",
        "error",
        "-y",
        "-i",
        spec.input,
        "-vf",
        &filter,
        "-fps_mode",
        "vfr",
        "-frames:v",
        "1",
        "-q:v",
        "4",
        &sprite,
    ];
    run(ffmpeg, &args).await
}

async fn run(ffmpeg: &Tool, args: &[&str]) -> Result<std::result::Result<(), Unusable>> {
    tracing::info!(command = %ffmpeg.display(args), "making stills");
    let out = tokio::time::timeout(STILLS_TIMEOUT, ffmpeg.output(args))
        .await
        .map_err(|_| Error::retry_later("ffmpeg took too long for the stills"))??;
    if out.status.success() {
        Ok(Ok(()))
    } else if out.status.code().is_none() {
        Err(Error::retry_later("ffmpeg was killed"))
    } else {
        Ok(Err(Unusable(format!("no stills could be made ({})", last_error(&out.stderr)))))
    }
}
