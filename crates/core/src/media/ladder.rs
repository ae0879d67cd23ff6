//! What to make of a video: the HLS ladder for its size, what a master playlist declares, and
//! the storyboard's grid.

use crate::ports::Rendition;
use crate::videos::RenditionInfo;

/// The rungs (short side in lines, H.264 kbps), about what the large sites serve.
const RUNGS: [(u32, u32); 7] =
    [(240, 400), (360, 800), (480, 1400), (720, 2800), (1080, 5000), (1440, 9000), (2160, 16000)];

/// The renditions for a `width`×`height` source: every rung up to its short side, never above
/// it; a source smaller than the lowest rung gets one rendition at its own size.
pub fn ladder(width: u32, height: u32) -> Vec<Rendition> {
    let short = width.min(height);
    let mut out: Vec<Rendition> = RUNGS
        .iter()
        .filter(|(lines, _)| *lines <= short)
        .map(|&(lines, video_kbps)| Rendition { lines, video_kbps })
        .collect();
    if out.is_empty() {
        // Even (4:2:0), and at least 2 lines.
        out.push(Rendition { lines: (short & !1).max(2), video_kbps: RUNGS[0].1 });
    }
    out
}

/// The renditions a master playlist declares (`BANDWIDTH`, `RESOLUTION`), in its order.
pub fn master_renditions(master: &str) -> Vec<RenditionInfo> {
    master
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-STREAM-INF:"))
        .filter_map(|attrs| {
            let attr =
                |name: &str| attrs.split(',').find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')));
            let bandwidth = attr("BANDWIDTH")?.parse().ok()?;
            let (w, h) = attr("RESOLUTION")?.split_once('x')?;
            Some(RenditionInfo { width: w.parse().ok()?, height: h.parse().ok()?, bandwidth })
        })
        .collect()
}

/// The storyboard sprite's grid: at most 100 tiles 160 pixels wide, one every
/// `interval_ms` (at least a second), 10 to a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storyboard {
    pub duration_ms: u64,
    pub tile_width: u32,
    pub tile_height: u32,
    pub interval_ms: u64,
    pub columns: u32,
    pub rows: u32,
}

impl Storyboard {
    pub fn for_video(duration_ms: u64, width: u32, height: u32) -> Self {
        const TILE_WIDTH: u32 = 160;
        let tile_height = ((u64::from(TILE_WIDTH) * u64::from(height) / u64::from(width.max(1))) as u32 & !1).max(2);
        let interval_ms = duration_ms.div_ceil(100).max(1000);
        let tiles = u32::try_from(duration_ms.div_ceil(interval_ms).max(1)).unwrap_or(100);
        let columns = tiles.min(10);
        Storyboard {
            duration_ms,
            tile_width: TILE_WIDTH,
            tile_height,
            interval_ms,
            columns,
            rows: tiles.div_ceil(columns),
        }
    }

    /// The WebVTT index players read for seek previews: one cue per tile, pointing into the
    /// sprite with a media fragment (`sprite#xywh=x,y,w,h`).
    pub fn vtt(&self, sprite: &str) -> String {
        let mut out = String::from("WEBVTT\n");
        let tiles = u64::from(self.columns * self.rows);
        for i in 0..tiles {
            let start = i * self.interval_ms;
            if start >= self.duration_ms.max(1) {
                break;
            }
            let end = ((i + 1) * self.interval_ms).min(self.duration_ms.max(1));
            let (col, row) = (i % u64::from(self.columns), i / u64::from(self.columns));
            let (x, y) = (col * u64::from(self.tile_width), row * u64::from(self.tile_height));
            out.push_str(&format!(
                "\n{} --> {}\n{sprite}#xywh={x},{y},{},{}\n",
                timestamp(start),
                timestamp(end),
                self.tile_width,
                self.tile_height
            ));
        }
        out
    }
}

/// A WebVTT timestamp.
fn timestamp(ms: u64) -> String {
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(w: u32, h: u32) -> Vec<u32> {
        ladder(w, h).iter().map(|r| r.lines).collect()
    }

    #[test]
    fn ladder_never_above_the_source() {
        assert_eq!(lines(1920, 1080), [240, 360, 480, 720, 1080]);
        assert_eq!(lines(1280, 720), [240, 360, 480, 720]);
        assert_eq!(lines(1000, 500), [240, 360, 480]);
        assert_eq!(lines(1080, 1920), [240, 360, 480, 720, 1080], "portrait: by the short side");
        assert_eq!(lines(3840, 2160).last(), Some(&2160));
        assert_eq!(lines(64, 64), [64]);
        assert_eq!(lines(177, 99), [98], "even, below the lowest rung");
    }

    #[test]
    fn reads_what_the_master_playlist_declares() {
        let m = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=580800,RESOLUTION=426x240,CODECS=\"avc1.640015,mp4a.40.2\"\nv0/index.m3u8\n\n#EXT-X-STREAM-INF:BANDWIDTH=1020800,RESOLUTION=640x360,CODECS=\"avc1.64001e,mp4a.40.2\"\nv1/index.m3u8\n";
        let r = master_renditions(m);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].width, r[0].height, r[0].bandwidth), (426, 240, 580_800));
        assert_eq!((r[1].width, r[1].height), (640, 360));
    }

    #[test]
    fn storyboard_grid_and_cues() {
        let b = Storyboard::for_video(10_000, 1280, 720);
        assert_eq!((b.tile_width, b.tile_height, b.interval_ms, b.columns, b.rows), (160, 90, 1000, 10, 1));
        let long = Storyboard::for_video(3_600_000, 1920, 1080);
        assert_eq!((long.interval_ms, long.columns, long.rows), (36_000, 10, 10));
        let one = Storyboard::for_video(40, 64, 64);
        assert_eq!((one.columns, one.rows, one.tile_height), (1, 1, 160));
        let vtt = Storyboard::for_video(2_500, 1280, 720).vtt("s.jpg");
        assert_eq!(
            vtt,
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\ns.jpg#xywh=0,0,160,90\n\n00:00:01.000 --> 00:00:02.000\ns.jpg#xywh=160,0,160,90\n\n00:00:02.000 --> 00:00:02.500\ns.jpg#xywh=320,0,160,90\n"
        );
    }
}
