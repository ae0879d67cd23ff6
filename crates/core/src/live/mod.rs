//! Live: who is watching a video now, across replicas, and bullet comments flying over it.
//! Counts live behind the [`ViewerRegistry`] port (in process, or a Redis sorted set per video
//! shared by every replica); a viewer counts while its player sends heartbeats.

mod danmaku;
pub mod line;
mod model;
pub mod seats;

pub use danmaku::{
    Bullets, DENSITY_BUCKETS, Density, Exported, MAX_BLOCKED_WORDS, MAX_CHARS, MAX_WORD_CHARS, Meta, PER_SEGMENT, Post,
    SEGMENT_MS, Shown, topic,
};
pub use model::{Danmaku, Mode, Size};

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use self::seats::{Seat, Seats};
use crate::Result;
use crate::accounts::User;
use crate::ids::VideoId;
use crate::ports::{EventBus, Missed, Subscription, ViewRun, ViewerRegistry, Watching};
use crate::videos::{Videos, ViewCounter};

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

    pub fn key(&self) -> String {
        match self {
            Viewer::User(u) => format!("u:{}", u.id),
            Viewer::Anonymous(ip) => format!("a:{}", address(*ip)),
        }
    }
}

/// A client address as a key: an IPv6 client may hold a whole /64, so it counts once.
fn address(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(ip) => {
            let s = ip.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        IpAddr::V4(ip) => ip.to_string(),
    }
}

/// How a run of heartbeats becomes a view: 30 s of watching (or half a shorter video), and
/// the same viewer's next view of a video no sooner than six hours later.
pub const VIEW_AFTER: Duration = Duration::from_secs(30);
pub const VIEW_AGAIN: Duration = Duration::from_secs(6 * 3600);
/// Heartbeats come on the player's clock: a run a second short of its length still counts.
const VIEW_SLACK: Duration = Duration::from_secs(1);

/// How live connections are bounded.
#[derive(Debug, Clone, Copy)]
pub struct LiveSettings {
    /// A viewer silent this long no longer counts.
    pub ttl: Duration,
    /// Open live connections per replica, and per client.
    pub max_connections: usize,
    pub max_per_client: usize,
    /// Open live connections from one address, signed in or not (accounts cost nothing).
    pub max_per_address: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self { ttl: WATCHING_TTL, max_connections: 20_000, max_per_client: 16, max_per_address: 256 }
    }
}

#[derive(Clone)]
pub struct Live {
    videos: Videos,
    viewers: Arc<dyn ViewerRegistry>,
    bus: Arc<dyn EventBus>,
    views: ViewCounter,
    seats: Seats,
    per_client: usize,
    per_address: usize,
    ttl: Duration,
    /// Set when the replica stops: its live connections are told to reconnect elsewhere.
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Live {
    pub fn new(
        videos: Videos,
        viewers: Arc<dyn ViewerRegistry>,
        bus: Arc<dyn EventBus>,
        views: ViewCounter,
        settings: LiveSettings,
    ) -> Self {
        Self {
            videos,
            viewers,
            bus,
            views,
            seats: Seats::new(settings.max_connections),
            per_client: settings.max_per_client,
            per_address: settings.max_per_address,
            ttl: settings.ttl,
            stopping: Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    /// The replica is stopping: every live connection ends (and its player reconnects, to
    /// another replica behind the balancer).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// `viewer` is watching `video` now: it counts for the next [`WATCHING_TTL`]. Only a video
    /// this viewer may play can be watched (404 otherwise, as for playback).
    pub async fn heartbeat(&self, viewer: Viewer<'_>, video: VideoId) -> Result<Watching> {
        let (v, _) = self.videos.playable(viewer.user(), video).await?;
        self.beat(video, &viewer.key(), v.media.duration_ms).await
    }

    /// Counts the viewer, and counts a view when its heartbeats have made one.
    async fn beat(&self, video: VideoId, key: &str, duration_ms: Option<u64>) -> Result<Watching> {
        let watching = self.viewers.heartbeat(video, key, self.ttl).await?;
        // Half a shorter video is a view; a heartbeat at its start already is of a tiny one.
        let need = duration_ms.map_or(VIEW_AFTER, |d| VIEW_AFTER.min(Duration::from_millis(d / 2)));
        let run = ViewRun { need: need.saturating_sub(VIEW_SLACK), gap: self.ttl, again: VIEW_AGAIN };
        if self.viewers.watched(video, key, run).await? {
            self.views.record(video);
        }
        Ok(watching)
    }

    /// How many watch `video` now, and the most at once so far.
    pub async fn watching(&self, viewer: Option<&User>, video: VideoId) -> Result<Watching> {
        self.videos.playable(viewer, video).await?;
        self.viewers.watching(video, self.ttl).await
    }

    /// Joins the live events of a video the viewer may play, from address `from`, taking one
    /// of the replica's seats for live connections (429 past the viewer's or the address's
    /// share, 503 when none is left).
    pub async fn join(&self, viewer: Viewer<'_>, from: IpAddr, video: VideoId) -> Result<Room> {
        let (v, _) = self.videos.playable(viewer.user(), video).await?;
        let key = viewer.key();
        let seat = self
            .seats
            .take(&[(key.clone(), self.per_client), (format!("addr:{}", address(from)), self.per_address)])?;
        let events = self.bus.subscribe(&topic(video));
        let stopping = self.stopping.subscribe();
        Ok(Room {
            live: self.clone(),
            video,
            key,
            viewer: viewer.user().cloned(),
            duration_ms: v.media.duration_ms,
            events,
            stopping,
            _seat: seat,
        })
    }

    /// Sends `event` (a JSON object) to the video's live viewers on every replica, with the
    /// count of viewers now. A hint, not the record: a viewer that misses it catches up.
    pub(crate) async fn announce(&self, video: VideoId, mut event: serde_json::Value) {
        match self.viewers.watching(video, self.ttl).await {
            Ok(w) => event["watching"] = serde_json::json!(w),
            Err(e) => tracing::warn!(video_id = %video, error = %e.report(), "viewer count left out of an event"),
        }
        if let Err(e) = self.bus.publish(&topic(video), Bytes::from(event.to_string())).await {
            tracing::warn!(video_id = %video, error = %e.report(), "live event not announced");
        }
    }

    /// Live connections open on this replica.
    pub fn connections(&self) -> usize {
        self.seats.taken()
    }
}

/// One viewer's place in a video's live events: the events from every replica, and its
/// heartbeats, without a trip to the database for each.
pub struct Room {
    live: Live,
    video: VideoId,
    key: String,
    viewer: Option<User>,
    duration_ms: Option<u64>,
    events: Subscription,
    stopping: tokio::sync::watch::Receiver<bool>,
    _seat: Seat,
}

impl Room {
    pub fn video(&self) -> VideoId {
        self.video
    }

    /// The next event (JSON), or what this viewer missed.
    pub async fn next(&mut self) -> std::result::Result<Bytes, Missed> {
        self.events.recv().await
    }

    /// Resolves when the replica stops.
    pub fn stopping(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.stopping.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    }

    /// The viewer's player is playing: as [`Live::heartbeat`].
    pub async fn heartbeat(&self) -> Result<Watching> {
        self.live.beat(self.video, &self.key, self.duration_ms).await
    }

    pub async fn watching(&self) -> Result<Watching> {
        self.live.viewers.watching(self.video, self.live.ttl).await
    }

    /// Whether the viewer may still play the video (it may have been deleted, or unpublished,
    /// since the connection opened): 404 when not.
    pub async fn still_playable(&self) -> Result<()> {
        self.live.videos.playable(self.viewer.as_ref(), self.video).await.map(|_| ())
    }
}
