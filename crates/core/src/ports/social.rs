//! The social layer's stores: ratings, follows and feeds, notifications, playlists, history.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;
use crate::ids::{NotificationId, PlaylistId, UserId, VideoId};
use crate::paging::{Page, PageRequest};
use crate::social::{
    Blocked, Conversation, FollowCounts, Followed, HistoryEntry, Message, NewNotification, Notification,
    NotificationKind, Placed, Playlist, PlaylistEntry, PlaylistPatch, Rating, RatingCounts,
};
use crate::videos::Video;

#[async_trait]
pub trait RatingRepo: Send + Sync {
    /// Sets `user`'s rating of the live video (`None` takes it back) and the video's counts,
    /// in one transaction; the counts after it. `None` when the video is gone.
    async fn rate(
        &self,
        video: VideoId,
        user: UserId,
        rating: Option<Rating>,
        at: DateTime<Utc>,
    ) -> Result<Option<RatingCounts>>;
    async fn rating_of(&self, video: VideoId, user: UserId) -> Result<Option<Rating>>;
}

#[async_trait]
pub trait FollowRepo: Send + Sync {
    /// `true` when the follow is new; then the follower's feed gets the followee's newest
    /// `backfill` public videos in the same transaction. `Forbidden` when `followee` blocked
    /// `follower` (checked in the same transaction, which takes turns with a block).
    async fn follow(&self, follower: UserId, followee: UserId, at: DateTime<Utc>, backfill: u64) -> Result<bool>;
    /// `true` when there was a follow; the followee's videos leave the follower's feed.
    async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<bool>;
    async fn is_following(&self, follower: UserId, followee: UserId) -> Result<bool>;
    async fn counts(&self, user: UserId) -> Result<FollowCounts>;
    /// Whom `user` follows, newest follow first.
    async fn following(&self, user: UserId, page: PageRequest) -> Result<Page<Followed>>;
    /// Up to `limit` followers of `followee` after `after`, in id order (the fan-out's walk).
    async fn followers_after(&self, followee: UserId, after: Option<UserId>, limit: u64) -> Result<Vec<UserId>>;
    /// Puts `video` (by `author`) in the feeds of `users`; a second time is a no-op.
    async fn add_to_feeds(&self, video: VideoId, author: UserId, users: &[UserId]) -> Result<()>;
    /// `user`'s feed: the public, live videos in it, newest first.
    async fn feed(&self, user: UserId, page: PageRequest) -> Result<Page<Video>>;
}

#[async_trait]
pub trait NotificationRepo: Send + Sync {
    /// Stores the notifications; one already stored (same recipient, kind and subject) is
    /// left as it is. How many are new.
    async fn insert(&self, notes: &[NewNotification]) -> Result<u64>;
    /// `user`'s notifications, newest first (those about a deleted video left out).
    async fn list(&self, user: UserId, unread_only: bool, page: PageRequest) -> Result<Page<Notification>>;
    async fn unread(&self, user: UserId) -> Result<u64>;
    /// Marks one (or, with `None`, every) unread notification of `user` read; how many.
    async fn mark_read(&self, user: UserId, id: Option<NotificationId>, at: DateTime<Utc>) -> Result<u64>;
    /// The kinds `user` changed from the default (on), with their setting.
    async fn settings(&self, user: UserId) -> Result<Vec<(NotificationKind, bool)>>;
    async fn set_setting(&self, user: UserId, kind: NotificationKind, enabled: bool) -> Result<()>;
    /// Those of `users` who turned `kind` off.
    async fn muted(&self, kind: NotificationKind, users: &[UserId]) -> Result<Vec<UserId>>;
}

#[async_trait]
pub trait PlaylistRepo: Send + Sync {
    /// Makes `owner`'s built-in playlists if they are not there yet.
    async fn ensure_builtins(&self, owner: UserId, at: DateTime<Utc>) -> Result<()>;
    /// Stores a new playlist unless `owner` already has `max` playlists (`false`).
    async fn create(&self, playlist: &Playlist, max: u64) -> Result<bool>;
    async fn get(&self, id: PlaylistId) -> Result<Option<Playlist>>;
    /// `owner`'s playlists, oldest first (the built-in ones lead); `public_only` for others.
    async fn list(&self, owner: UserId, public_only: bool, page: PageRequest) -> Result<Page<Playlist>>;
    async fn update(&self, id: PlaylistId, patch: &PlaylistPatch, at: DateTime<Utc>) -> Result<Option<Playlist>>;
    async fn delete(&self, id: PlaylistId) -> Result<bool>;
    /// Puts `video` in the playlist: at the end when new and no `position`, else at `position`
    /// (0-based, among the items its owner sees). At most `max` items.
    async fn put_item(
        &self,
        id: PlaylistId,
        video: VideoId,
        position: Option<u64>,
        at: DateTime<Utc>,
        max: u64,
    ) -> Result<Placed>;
    async fn remove_item(&self, id: PlaylistId, video: VideoId) -> Result<bool>;
    /// The playlist's videos that `viewer` may see, in order.
    async fn items(&self, id: PlaylistId, viewer: Option<UserId>, page: PageRequest) -> Result<Page<PlaylistEntry>>;
    /// How many of its videos `viewer` may see.
    async fn count_items(&self, id: PlaylistId, viewer: Option<UserId>) -> Result<u64>;
    /// Which of `owner`'s playlists hold `video`.
    async fn holding(&self, owner: UserId, video: VideoId) -> Result<Vec<PlaylistId>>;
}

#[async_trait]
pub trait HistoryRepo: Send + Sync {
    /// Records that `user` watched `video` up to `position_ms`, unless their history is
    /// paused (`false`).
    async fn record(&self, user: UserId, video: VideoId, position_ms: u64, at: DateTime<Utc>) -> Result<bool>;
    /// What `user` watched, most recent first (videos they may still see).
    async fn list(&self, user: UserId, page: PageRequest) -> Result<Page<HistoryEntry>>;
    async fn position(&self, user: UserId, video: VideoId) -> Result<Option<u64>>;
    /// Forgets one video, or all of them; how many.
    async fn clear(&self, user: UserId, video: Option<VideoId>) -> Result<u64>;
    async fn set_paused(&self, user: UserId, paused: bool) -> Result<()>;
    async fn paused(&self, user: UserId) -> Result<bool>;
}

#[async_trait]
pub trait MessageRepo: Send + Sync {
    /// Stores the message and moves both users' conversation rows (the last message; the
    /// recipient's unread count), in one transaction.
    async fn send(&self, message: &Message) -> Result<()>;
    /// The messages between `user` and `peer`, newest first.
    async fn thread(&self, user: UserId, peer: UserId, page: PageRequest) -> Result<Page<Message>>;
    /// `user`'s conversations, the most recent first.
    async fn conversations(&self, user: UserId, page: PageRequest) -> Result<Page<Conversation>>;
    /// `user` has read their conversation with `peer`.
    async fn mark_read(&self, user: UserId, peer: UserId) -> Result<()>;
    /// Messages `user` has not read, in all their conversations.
    async fn unread(&self, user: UserId) -> Result<u64>;
}

#[async_trait]
pub trait BlockRepo: Send + Sync {
    /// `blocker` blocks `blocked` (`true` when new); a follow of `blocked` on `blocker` ends
    /// with it, in the same transaction.
    async fn block(&self, blocker: UserId, blocked: UserId, at: DateTime<Utc>) -> Result<bool>;
    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<bool>;
    async fn is_blocked(&self, blocker: UserId, blocked: UserId) -> Result<bool>;
    /// Whom `blocker` blocked, the latest first.
    async fn blocked(&self, blocker: UserId, page: PageRequest) -> Result<Page<Blocked>>;
}
