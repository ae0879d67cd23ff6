//! Viewer counts of a single replica, in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use streamvault_core::Result;
use streamvault_core::ids::VideoId;
use streamvault_core::ports::{ViewerRegistry, Watching};

#[derive(Default)]
struct Room {
    seen: HashMap<String, Instant>,
    peak: u64,
}

impl Room {
    fn counts(&mut self, ttl: Duration) -> Watching {
        let now = Instant::now();
        self.seen.retain(|_, at| now.duration_since(*at) < ttl);
        let n = self.seen.len() as u64;
        self.peak = self.peak.max(n);
        Watching { now: n, peak: self.peak }
    }
}

#[derive(Default)]
pub struct LocalViewers {
    rooms: Mutex<HashMap<VideoId, Room>>,
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
        let room = rooms.entry(video).or_default();
        room.seen.insert(viewer.to_owned(), Instant::now());
        Ok(room.counts(ttl))
    }

    async fn watching(&self, video: VideoId, ttl: Duration) -> Result<Watching> {
        let mut rooms = self.rooms.lock().expect("viewers lock");
        Ok(rooms.get_mut(&video).map(|r| r.counts(ttl)).unwrap_or_default())
    }
}
