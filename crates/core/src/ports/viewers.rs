//! Who is watching a video now: viewers send heartbeats while their player plays, and a viewer
//! silent for the time-to-live no longer counts. Exact across replicas (one registry), one
//! viewer counted once however many tabs or replicas it reaches.

use std::time::Duration;

use async_trait::async_trait;

use crate::Result;
use crate::ids::VideoId;

/// How many watch a video now, and the most that ever watched it at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Watching {
    pub now: u64,
    pub peak: u64,
}

/// When a run of heartbeats is a view: it lasted `need`, with no two heartbeats further apart
/// than `gap`; the same viewer's next view of the video counts no sooner than `again` after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewRun {
    pub need: Duration,
    pub gap: Duration,
    pub again: Duration,
}

#[async_trait]
pub trait ViewerRegistry: Send + Sync {
    /// `viewer` (a stable key: a user, or an anonymous player) watches `video` now; it counts
    /// until `ttl` passes without another heartbeat. Returns the counts with it.
    async fn heartbeat(&self, video: VideoId, viewer: &str, ttl: Duration) -> Result<Watching>;
    /// The counts, of viewers heard from within `ttl`.
    async fn watching(&self, video: VideoId, ttl: Duration) -> Result<Watching>;
    /// Another heartbeat of `viewer` on `video`: true exactly once when its run of heartbeats
    /// becomes a view (see [`ViewRun`]), however many replicas the heartbeats reach.
    async fn watched(&self, video: VideoId, viewer: &str, run: ViewRun) -> Result<bool>;
}
