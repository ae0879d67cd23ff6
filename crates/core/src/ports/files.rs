use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::Result;

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

/// A folder in a user's drive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub id: Uuid,
    pub owner_id: Uuid,
    /// `None` at the top of the drive.
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The order of a file listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileSort {
    Name,
    /// Newest first when descending; ids are time-ordered, so this is the id.
    Date,
    Size,
}

/// Where a listing page starts: after the row with this sort key and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCursor {
    pub id: Uuid,
    pub name: Option<String>,
    pub size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileQuery {
    pub owner_id: Uuid,
    /// `None`: the top of the drive.
    pub folder_id: Option<Uuid>,
    pub sort: FileSort,
    pub descending: bool,
    /// Rows to fetch (a page's limit plus one, to know whether there is more).
    pub fetch: u64,
    pub after: Option<FileCursor>,
}

#[async_trait]
pub trait FolderRepo: Send + Sync {
    async fn insert(&self, folder: &Folder) -> Result<()>;
    async fn get(&self, id: Uuid) -> Result<Option<Folder>>;
    /// Every folder of the owner (a drive's folder tree is small enough to walk in memory).
    async fn all_of(&self, owner_id: Uuid) -> Result<Vec<Folder>>;
    async fn update(&self, id: Uuid, name: &str, parent_id: Option<Uuid>) -> Result<bool>;
}

#[async_trait]
pub trait FileRepo: Send + Sync {
    async fn insert(&self, file: &DriveFile) -> Result<()>;
    /// A file that is not deleted.
    async fn get(&self, id: Uuid) -> Result<Option<DriveFile>>;
    /// Bytes the owner's files take (not deleted), for the quota.
    async fn usage(&self, owner_id: Uuid) -> Result<u64>;
    /// One page of a folder's files, in the query's order.
    async fn list(&self, q: &FileQuery) -> Result<Vec<DriveFile>>;
    async fn update(&self, id: Uuid, name: &str, folder_id: Option<Uuid>) -> Result<bool>;
    /// In one transaction: hides the files (soft delete), removes the folders, and queues the
    /// jobs that drop the files' rows and bytes later. Returns how many files were hidden.
    async fn delete(
        &self,
        owner_id: Uuid,
        files: &[Uuid],
        folders: &[Uuid],
        jobs: &[crate::ports::NewJob],
    ) -> Result<u64>;
    /// Removes a deleted file's row for good; its blob's sha256 when it did.
    async fn purge_deleted(&self, id: Uuid) -> Result<Option<String>>;
    /// Every file (not deleted) in the given folders.
    async fn in_folders(&self, owner_id: Uuid, folders: &[Uuid]) -> Result<Vec<DriveFile>>;
}

/// An instant-upload challenge: prove you hold the bytes by hashing a range of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Hex; also the challenge's key.
    pub nonce: String,
    pub owner_id: Uuid,
    pub sha256: String,
    pub size: u64,
    pub offset: u64,
    pub length: u64,
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait ChallengeRepo: Send + Sync {
    async fn insert(&self, c: &Challenge) -> Result<()>;
    /// Removes and returns the challenge: each is answered at most once.
    async fn take(&self, nonce: &str) -> Result<Option<Challenge>>;
}

/// Secrets every replica shares (the key that signs share links), kept in the metadata store.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The secret called `name`; `fresh` becomes it when there is none yet (the first replica
    /// to ask wins, the others read its value).
    async fn get_or_create(&self, name: &str, fresh: &str) -> Result<String>;
}
