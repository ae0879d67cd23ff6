use crate::drive::{Challenge, DriveFile, FileQuery, Folder};
use crate::ids::{FileId, FolderId, UserId};
use async_trait::async_trait;

use crate::Result;
use crate::ports::{Charge, NewJob, Referenced};

/// Makes a drive file's deletion job (the row and bytes go after a grace period).
pub type DeleteJob<'a> = &'a (dyn Fn(&DriveFile) -> NewJob + Send + Sync);

/// A user's folder tree. Every change to it runs in a transaction that first takes the
/// owner's tree lock (`users.drive_rev`), so that checks and changes are one step: two moves
/// cannot make a cycle, and nothing lands in a folder that is being deleted.
#[async_trait]
pub trait FolderRepo: Send + Sync {
    /// Inserts a folder; `NotFound("folder")` when its parent is not (or no longer) the owner's.
    async fn insert(&self, folder: &Folder) -> Result<()>;
    async fn get(&self, id: FolderId) -> Result<Option<Folder>>;
    /// Every folder of the owner (a drive's folder tree is small enough to walk in memory).
    async fn all_of(&self, owner_id: UserId) -> Result<Vec<Folder>>;
    /// Renames and/or moves a folder: `NotFound` for a folder or parent that is not the
    /// owner's, `Conflict("folder_cycle")` for a move into itself or below itself.
    async fn update(&self, owner_id: UserId, id: FolderId, name: &str, parent_id: Option<FolderId>) -> Result<()>;
    /// Deletes a folder and everything below it: the folders go, the files are hidden (soft
    /// delete, their bytes no longer count against the quota) and their deletion jobs are
    /// queued, all in one transaction. Returns how many files were hidden.
    async fn delete_tree(&self, owner_id: UserId, id: FolderId, delete_job: DeleteJob<'_>) -> Result<u64>;
}

#[async_trait]
pub trait FileRepo: Send + Sync {
    /// Records a file in one transaction with what it costs: its blob gains a reference (only
    /// a live blob takes one: `BlobGone` otherwise) and the owner's quota is charged
    /// (`TooLarge` past the limit); `NotFound("folder")` when its folder is gone.
    async fn insert(&self, file: &DriveFile, charge: &Charge) -> Result<Referenced<()>>;
    /// A file that is not deleted.
    async fn get(&self, id: FileId) -> Result<Option<DriveFile>>;
    /// One page of a folder's files, in the query's order.
    async fn list(&self, q: &FileQuery) -> Result<Vec<DriveFile>>;
    /// Renames and/or moves the owner's file; `NotFound("folder")` when the target folder is
    /// not (or no longer) the owner's, `false` when the file is gone.
    async fn update(&self, owner_id: UserId, id: FileId, name: &str, folder_id: Option<FolderId>) -> Result<bool>;
    /// Hides the owner's file (soft delete: its bytes stop counting against the quota) and
    /// queues `job`, which drops its row and bytes later. `false` when there was no such file.
    async fn delete(&self, owner_id: UserId, id: FileId, job: &NewJob) -> Result<bool>;
    /// Removes a deleted file's row for good, and its blob's reference; its blob's sha256 when
    /// it did.
    async fn purge_deleted(&self, id: FileId) -> Result<Option<String>>;
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
