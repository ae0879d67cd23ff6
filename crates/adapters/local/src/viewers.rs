//! Viewer counts of a single replica, in memory: one entry per video being watched, gone when
//! its last viewer falls silent (its peak is kept as a number).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use streamvault_core::Result;
use streamvault_core::ids::VideoId;
use streamvault_core::ports::{ViewRun, ViewerRegistry, Watching};

#[derive(Default)]
struct Rooms {
    /// Viewer → last heartbeat, per video watched now.
    watching: HashMap<VideoId, HashMap<String, Instant>>,
    peaks: HashMap<VideoId, u64>,
    beats: u64,
    /// (video, viewer) → a run of heartbeats on its way to a view, or a view counted lately.
    runs: HashMap<(VideoId, String), Run>,
}

enum Run {
    Watching { since: Instant, last: Instant },
    Counted { until: Instant },
}

impl Run {
    fn stale(&self, now: Instant, gap: Duration) -> bool {
        match self {
            Run::Watching { last, .. } => now.duration_since(*last) > gap,
            Run::Counted { until } => now >= *until,
        }
    }
}

impl Rooms {
    fn counts(&mut self, video: VideoId, ttl: Duration) -> Watching {
        let now = Instant::now();
        let n = match self.watching.get_mut(&video) {
            Some(seen) => {
                seen.retain(|_, at| now.duration_since(*at) < ttl);
                let n = seen.len() as u64;
                if n == 0 {
                    self.watching.remove(&video);
                }
                n
            }
            None => 0,
        };
        let peak = self.peaks.entry(video).or_default();
        *peak = (*peak).max(n);
        Watching { now: n, peak: *peak }
    }
}

#[derive(Default)]
pub struct LocalViewers {
    rooms: Mutex<Rooms>,
}

impl LocalViewers {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ViewerRegistry for LocalViewers {
    async fn heartbeat(&self, video: VideoId, viewer: &str, ttl: Duration) -> Result<Watching> {
        let mut rooms = self.rooms.lock().expect("viewers lock");
        rooms.beats += 1;
        if rooms.beats.is_multiple_of(1024) {
            // Now and then, forget viewers of videos nobody has asked about since.
            let now = Instant::now();
            rooms.watching.retain(|_, seen| {
                seen.retain(|_, at| now.duration_since(*at) < ttl);
                !seen.is_empty()
            });
        }
        rooms.watching.entry(video).or_default().insert(viewer.to_owned(), Instant::now());
        Ok(rooms.counts(video, ttl))
    }

    async fn watching(&self, video: VideoId, ttl: Duration) -> Result<Watching> {
        let mut rooms = self.rooms.lock().expect("viewers lock");
        if !rooms.watching.contains_key(&video) && !rooms.peaks.contains_key(&video) {
            return Ok(Watching::default());
        }
        Ok(rooms.counts(video, ttl))
    }

    async fn watched(&self, video: VideoId, viewer: &str, run: ViewRun) -> Result<bool> {
        let mut rooms = self.rooms.lock().expect("viewers lock");
        let now = Instant::now();
        if rooms.runs.len() >= 4096 && rooms.beats.is_multiple_of(256) {
            rooms.runs.retain(|_, r| !r.stale(now, run.gap));
        }
        let entry = rooms.runs.entry((video, viewer.to_owned())).or_insert(Run::Watching { since: now, last: now });
        if entry.stale(now, run.gap) {
            *entry = Run::Watching { since: now, last: now };
        }
        let since = match entry {
            Run::Counted { .. } => return Ok(false),
            Run::Watching { since, .. } => *since,
        };
        if now.duration_since(since) >= run.need {
            *entry = Run::Counted { until: now + run.again };
            return Ok(true);
        }
        *entry = Run::Watching { since, last: now };
        Ok(false)
    }
}
