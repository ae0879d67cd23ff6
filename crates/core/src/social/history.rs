//! Watch history: what a user watched and how far, clearable and pausable.

use super::{HistoryEntry, Social};
use crate::Result;
use crate::accounts::{User, now_ms};
use crate::ids::VideoId;
use crate::paging::{Page, PageRequest};

impl Social {
    /// The player says how far `user` got in a video they may see: the position kept (never
    /// past the end, when the end is known), or `None` when their history is paused.
    pub async fn watched(&self, user: &User, video: VideoId, position_ms: u64) -> Result<Option<u64>> {
        let v = self.videos.get(Some(user), video).await?;
        let position_ms = v.media.duration_ms.map_or(position_ms, |d| position_ms.min(d));
        Ok(self.stores.history.record(user.id, video, position_ms, now_ms()).await?.then_some(position_ms))
    }

    pub async fn history(&self, user: &User, page: PageRequest) -> Result<Page<HistoryEntry>> {
        self.stores.history.list(user.id, page).await
    }

    /// Where `user` stopped in the video, to resume there.
    pub async fn resume_at(&self, user: &User, video: VideoId) -> Result<Option<u64>> {
        self.stores.history.position(user.id, video).await
    }

    pub async fn clear_history(&self, user: &User, video: Option<VideoId>) -> Result<u64> {
        self.stores.history.clear(user.id, video).await
    }

    pub async fn pause_history(&self, user: &User, paused: bool) -> Result<()> {
        self.stores.history.set_paused(user.id, paused).await
    }

    pub async fn history_paused(&self, user: &User) -> Result<bool> {
        self.stores.history.paused(user.id).await
    }
}
