//! Bullet comments in the metadata store.

use async_trait::async_trait;

use crate::Result;
use crate::ids::{DanmakuId, UserId, VideoId};
use crate::live::Danmaku;

#[async_trait]
pub trait DanmakuRepo: Send + Sync {
    async fn insert(&self, d: &Danmaku) -> Result<()>;
    async fn get(&self, id: DanmakuId) -> Result<Option<Danmaku>>;
    /// The visible ones at moments in `[from_ms, to_ms)`: when there are more than `limit`,
    /// the most recent win. Ordered by moment (then id).
    async fn segment(&self, video: VideoId, from_ms: u64, to_ms: u64, limit: u64) -> Result<Vec<Danmaku>>;
    /// How many are visible.
    async fn count(&self, video: VideoId) -> Result<u64>;
    /// Gone for good; `false` when there was none.
    async fn delete(&self, id: DanmakuId) -> Result<bool>;
    async fn hide(&self, id: DanmakuId) -> Result<bool>;
    /// Whether the video's owner left bullet comments on.
    async fn enabled(&self, video: VideoId) -> Result<bool>;
    async fn set_enabled(&self, video: VideoId, on: bool) -> Result<()>;
    /// How many visible ones fall in each `bucket_ms` of the video from its start: pairs of
    /// (bucket's first moment, count), in order, empty buckets left out.
    async fn density(&self, video: VideoId, bucket_ms: u64) -> Result<Vec<(u64, u64)>>;
    /// The words an owner holds back from bullet comments on their videos.
    async fn blocked_words(&self, owner: UserId) -> Result<Vec<String>>;
    /// Replaces the owner's list at once.
    async fn set_blocked_words(&self, owner: UserId, words: &[String]) -> Result<()>;
}
