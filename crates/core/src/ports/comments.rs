use crate::ids::{CommentId, UserId, VideoId};
use crate::videos::Comment;
use async_trait::async_trait;

use crate::Result;
use crate::paging::{Page, PageRequest};

#[async_trait]
pub trait CommentRepo: Send + Sync {
    async fn insert(&self, comment: &Comment) -> Result<()>;
    async fn get(&self, id: CommentId) -> Result<Option<Comment>>;
    /// A video's comments, oldest first.
    async fn list(&self, video_id: VideoId, page: PageRequest) -> Result<Page<Comment>>;
    /// As [`list`](Self::list), in the same query as the check that `viewer` may see the video
    /// (not deleted, and public or theirs): a page with comments proves it. An empty page
    /// proves nothing (no comments, or no such video to see).
    async fn list_if_visible(
        &self,
        video_id: VideoId,
        viewer: Option<UserId>,
        page: PageRequest,
    ) -> Result<Page<Comment>>;
    /// A video's newest `limit` comments, newest first (the seed's order).
    async fn latest(&self, video_id: VideoId, limit: u64) -> Result<Vec<Comment>>;
    /// Deletes the comment `id` of `video_id` (the video names what changed, for the read
    /// cache's stamps); `false` when there was none.
    async fn delete(&self, video_id: VideoId, id: CommentId) -> Result<bool>;
}
