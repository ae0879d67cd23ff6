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

#[async_trait]
pub trait ViewerRegistry: Send + Sync {
    /// `viewer` (a stable key: a user, or an anonymous player) watches `video` now; it counts
    /// until `ttl` passes without another heartbeat. Returns the counts with it.
    async fn heartbeat(&self, video: VideoId, viewer: &str, ttl: Duration) -> Result<Watching>;
    /// The counts, of viewers heard from within `ttl`.
    async fn watching(&self, video: VideoId, ttl: Duration) -> Result<Watching>;
}
