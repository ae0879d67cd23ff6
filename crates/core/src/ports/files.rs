use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::Result;
use crate::ports::{Charge, NewJob, Referenced};

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

/// Makes a drive file's deletion job (the row and bytes go after a grace period).
pub type DeleteJob<'a> = &'a (dyn Fn(&DriveFile) -> NewJob + Send + Sync);

/// A user's folder tree. Every change to it runs in a transaction that first takes the
/// owner's tree lock (`users.drive_rev`), so that checks and changes are one step: two moves
/// cannot make a cycle, and nothing lands in a folder that is being deleted.
#[async_trait]
pub trait FolderRepo: Send + Sync {
    /// Inserts a folder; `NotFound("folder")` when its parent is not (or no longer) the owner's.
    async fn insert(&self, folder: &Folder) -> Result<()>;
    async fn get(&self, id: Uuid) -> Result<Option<Folder>>;
    /// Every folder of the owner (a drive's folder tree is small enough to walk in memory).
    async fn all_of(&self, owner_id: Uuid) -> Result<Vec<Folder>>;
    /// Renames and/or moves a folder: `NotFound` for a folder or parent that is not the
    /// owner's, `Conflict("folder_cycle")` for a move into itself or below itself.
    async fn update(&self, owner_id: Uuid, id: Uuid, name: &str, parent_id: Option<Uuid>) -> Result<()>;
    /// Deletes a folder and everything below it: the folders go, the files are hidden (soft
    /// delete, their bytes no longer count against the quota) and their deletion jobs are
    /// queued, all in one transaction. Returns how many files were hidden.
    async fn delete_tree(&self, owner_id: Uuid, id: Uuid, delete_job: DeleteJob<'_>) -> Result<u64>;
}

#[async_trait]
pub trait FileRepo: Send + Sync {
    /// Records a file in one transaction with what it costs: its blob gains a reference (only
    /// a live blob takes one: `BlobGone` otherwise) and the owner's quota is charged
    /// (`TooLarge` past the limit); `NotFound("folder")` when its folder is gone.
    async fn insert(&self, file: &DriveFile, charge: &Charge) -> Result<Referenced<()>>;
    /// A file that is not deleted.
    async fn get(&self, id: Uuid) -> Result<Option<DriveFile>>;
    /// One page of a folder's files, in the query's order.
    async fn list(&self, q: &FileQuery) -> Result<Vec<DriveFile>>;
    /// Renames and/or moves the owner's file; `NotFound("folder")` when the target folder is
    /// not (or no longer) the owner's, `false` when the file is gone.
    async fn update(&self, owner_id: Uuid, id: Uuid, name: &str, folder_id: Option<Uuid>) -> Result<bool>;
    /// Hides the owner's file (soft delete: its bytes stop counting against the quota) and
    /// queues `job`, which drops its row and bytes later. `false` when there was no such file.
    async fn delete(&self, owner_id: Uuid, id: Uuid, job: &NewJob) -> Result<bool>;
    /// Removes a deleted file's row for good, and its blob's reference; its blob's sha256 when
    /// it did.
    async fn purge_deleted(&self, id: Uuid) -> Result<Option<String>>;
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
