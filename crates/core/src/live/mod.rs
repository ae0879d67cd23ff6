//! Live: who is watching a video now, across replicas (and, next, bullet comments over it).
//! Counts live behind the [`ViewerRegistry`] port (in process, or a Redis sorted set per video
//! shared by every replica); a viewer counts while its player sends heartbeats.

mod danmaku;
mod model;

pub use danmaku::{Bullets, MAX_CHARS, Meta, PER_SEGMENT, Post, SEGMENT_MS, Shown, topic};
pub use model::{Danmaku, Mode, Size};

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::Result;
use crate::accounts::User;
use crate::ids::VideoId;
use crate::ports::{ViewerRegistry, Watching};
use crate::videos::Videos;

/// A viewer silent this long no longer counts (three missed heartbeats of 15 s).
pub const WATCHING_TTL: Duration = Duration::from_secs(45);

/// Who a heartbeat comes from. A signed-in user counts once however many tabs and replicas it
/// reaches; an anonymous player counts by its address (as the trusted proxies report it), so
/// that no client can count more than once by making up names.
#[derive(Debug, Clone, Copy)]
pub enum Viewer<'a> {
    User(&'a User),
    Anonymous(IpAddr),
}

impl Viewer<'_> {
    fn user(&self) -> Option<&User> {
        match self {
            Viewer::User(u) => Some(u),
            Viewer::Anonymous(_) => None,
        }
    }

    fn key(&self) -> String {
        match self {
            Viewer::User(u) => format!("u:{}", u.id),
            // An IPv6 client may hold a whole /64: it counts once.
            Viewer::Anonymous(IpAddr::V6(ip)) => {
                let s = ip.segments();
                format!("a:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            Viewer::Anonymous(ip) => format!("a:{ip}"),
        }
    }
}

#[derive(Clone)]
pub struct Live {
    videos: Videos,
    viewers: Arc<dyn ViewerRegistry>,
    ttl: Duration,
}

impl Live {
    pub fn new(videos: Videos, viewers: Arc<dyn ViewerRegistry>) -> Self {
        Self { videos, viewers, ttl: WATCHING_TTL }
    }

    /// `viewer` is watching `video` now: it counts for the next [`WATCHING_TTL`]. Only a video
    /// this viewer may play can be watched (404 otherwise, as for playback).
    pub async fn heartbeat(&self, viewer: Viewer<'_>, video: VideoId) -> Result<Watching> {
        self.videos.playable(viewer.user(), video).await?;
        self.viewers.heartbeat(video, &viewer.key(), self.ttl).await
    }

    /// How many watch `video` now, and the most at once so far.
    pub async fn watching(&self, viewer: Option<&User>, video: VideoId) -> Result<Watching> {
        self.videos.playable(viewer, video).await?;
        self.viewers.watching(video, self.ttl).await
    }
}
