use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::Result;
use crate::paging::{Page, PageRequest};

/// A file in a user's drive: a name and a reference to a content-addressed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveFile {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub folder_id: Option<Uuid>,
    pub name: String,
    pub sha256: String,
    pub size: u64,
    pub mime: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait FileRepo: Send + Sync {
    async fn insert(&self, file: &DriveFile) -> Result<()>;
    /// A file that is not deleted.
    async fn get(&self, id: Uuid) -> Result<Option<DriveFile>>;
    /// Bytes the owner's files take (not deleted), for the quota.
    async fn usage(&self, owner_id: Uuid) -> Result<u64>;
    /// An owner's files, newest first.
    async fn list_by_owner(&self, owner_id: Uuid, page: PageRequest) -> Result<Page<DriveFile>>;
}
