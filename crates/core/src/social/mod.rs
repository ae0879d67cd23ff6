//! The social layer: ratings, follows with a feed, notifications, playlists and history.
//! Each part is its own file; they share one service, [`Social`], on the videos service (who
//! may see what) and the social stores.

mod blocks;
mod comments;
mod follows;
mod history;
mod mentions;
mod messages;
mod model;
mod notifications;
mod playlists;
mod ratings;

pub use mentions::{MAX_MENTIONS, mentioned};
pub use model::*;
pub use notifications::NotificationSettings;

use std::sync::Arc;

use crate::ports::{
    BlockRepo, EventBus, FollowRepo, HistoryRepo, LoginThrottle, MessageRepo, NotificationRepo, PlaylistRepo,
    RatingRepo,
};
use crate::videos::Videos;

/// A user's playlists, at most.
pub const MAX_PLAYLISTS: u64 = 200;
/// Videos in one playlist, at most.
pub const MAX_PLAYLIST_ITEMS: u64 = 5000;
pub const MAX_PLAYLIST_NAME: usize = 120;
pub const MAX_PLAYLIST_DESCRIPTION: usize = 1000;
/// How many of a channel's newest videos a new follower's feed starts with.
pub const FEED_BACKFILL: u64 = 50;
/// A private message's length, in characters.
pub const MAX_MESSAGE: usize = 4000;
/// Followers handled per step of the fan-out job.
pub const FAN_OUT_BATCH: u64 = 500;

/// The stores of the social layer.
#[derive(Clone)]
pub struct SocialStores {
    pub ratings: Arc<dyn RatingRepo>,
    pub follows: Arc<dyn FollowRepo>,
    pub notifications: Arc<dyn NotificationRepo>,
    pub playlists: Arc<dyn PlaylistRepo>,
    pub history: Arc<dyn HistoryRepo>,
    pub messages: Arc<dyn MessageRepo>,
    pub blocks: Arc<dyn BlockRepo>,
}

#[derive(Clone)]
pub struct Social {
    videos: Videos,
    stores: SocialStores,
    /// Tells open pages that a notification arrived (a hint; the record is in the database).
    bus: Arc<dyn EventBus>,
    /// Per-user rate limits of what reaches other people (comments, and the notifications
    /// they send), shared by the replicas when the throttle is in Redis.
    throttle: Arc<dyn LoginThrottle>,
    limits: SocialLimits,
}

/// How many comments and messages one user may send, a minute and a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocialLimits {
    pub comments: [crate::ports::Limit; 2],
    pub messages: [crate::ports::Limit; 2],
}

impl SocialLimits {
    /// From counts a minute and a day.
    pub fn per_minute_and_day(comments: (u32, u32), messages: (u32, u32)) -> Self {
        let pair = |(m, d): (u32, u32)| {
            [
                crate::ports::Limit { max: m, window: std::time::Duration::from_secs(60) },
                crate::ports::Limit { max: d, window: std::time::Duration::from_secs(24 * 3600) },
            ]
        };
        Self { comments: pair(comments), messages: pair(messages) }
    }
}

impl Default for SocialLimits {
    /// 30 comments a minute and 1,000 a day; 20 messages a minute and 500 a day.
    fn default() -> Self {
        Self::per_minute_and_day((30, 1000), (20, 500))
    }
}

impl Social {
    pub fn new(
        videos: Videos,
        stores: SocialStores,
        bus: Arc<dyn EventBus>,
        throttle: Arc<dyn LoginThrottle>,
        limits: SocialLimits,
    ) -> Self {
        Self { videos, stores, bus, throttle, limits }
    }

    /// Counts one action of `what` by `user` against `limits` (429 past any of them).
    async fn rate_limit(
        &self,
        what: &str,
        user: crate::ids::UserId,
        limits: &[crate::ports::Limit],
    ) -> crate::Result<()> {
        let keyed: Vec<_> = limits.iter().enumerate().map(|(i, l)| (format!("{what}:{i}:{user}"), *l)).collect();
        self.throttle.attempt_all(&keyed).await
    }
}
