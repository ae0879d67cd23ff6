use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::Result;
use crate::paging::{Page, PageRequest};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: Uuid,
    pub video_id: Uuid,
    pub author_id: Uuid,
    /// The author's user name, joined in on reads.
    pub author_name: String,
    pub content: String,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait CommentRepo: Send + Sync {
    async fn insert(&self, comment: &Comment) -> Result<()>;
    async fn get(&self, id: Uuid) -> Result<Option<Comment>>;
    /// A video's comments, oldest first.
    async fn list(&self, video_id: Uuid, page: PageRequest) -> Result<Page<Comment>>;
    /// A video's newest `limit` comments, newest first (the seed's order).
    async fn latest(&self, video_id: Uuid, limit: u64) -> Result<Vec<Comment>>;
    async fn delete(&self, id: Uuid) -> Result<bool>;
}
