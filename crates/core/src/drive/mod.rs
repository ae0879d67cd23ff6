//! The cloud drive: a user's own files, each a name on a content-addressed blob. Files are
//! private: another user's file id is simply not found.

mod instant;
mod model;
mod share;
pub mod tree;

use crate::ErrorCode;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::ids::{FileId, FolderId};

pub use instant::{Challenge as InstantChallenge, Instant, InstantRequest};
pub use model::*;
pub use share::{MAX_TTL_SECS, ShareLinks, SignedLink};

use crate::accounts::User;
use crate::ports::{ChallengeRepo, Charge, FileRepo, FolderRepo, Job, NewJob, Referenced};
use crate::quota::Quota;
use crate::storage::{Staged, Storage, StoredBlob};
use crate::{Error, Result, ids};

pub const MAX_NAME: usize = 255;

/// A file or folder name: 1 to 255 characters, no `/`, no NUL, not `.` or `..`. It is only
/// ever a label: storage keys come from content hashes.
pub fn validate_name(name: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid(ErrorCode::BadName, format!("the name {why}")));
    if name.trim().is_empty() {
        return bad("must not be empty");
    }
    if name.chars().count() > MAX_NAME {
        return bad("must be at most 255 characters");
    }
    if name.contains(['/', '\0']) || name == "." || name == ".." {
        return bad("must not contain '/' or NUL, or be '.' or '..'");
    }
    Ok(())
}

#[derive(Clone)]
pub struct Drive {
    files: Arc<dyn FileRepo>,
    folders: Arc<dyn FolderRepo>,
    challenges: Arc<dyn ChallengeRepo>,
    storage: Storage,
    quota: Quota,
    /// How long a deleted file's bytes are kept before the worker may collect them.
    delete_grace: Duration,
}

/// A rename and/or move; `folder_id: Some(None)` moves to the top of the drive.
#[derive(Debug, Default, Clone)]
pub struct Change {
    pub name: Option<String>,
    pub folder_id: Option<Option<FolderId>>,
}

/// Where a new file goes: its name and folder (`None`: the top of the drive).
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    pub name: &'a str,
    pub folder: Option<FolderId>,
    /// When the folder is gone meanwhile (deleted while the upload ran), the file goes to the
    /// top instead of failing.
    pub fall_back: bool,
}

/// A listing: one page of a folder's files.
#[derive(Debug, Clone)]
pub struct Listing {
    pub files: Vec<DriveFile>,
    pub next_cursor: Option<String>,
}

impl Drive {
    pub fn new(
        files: Arc<dyn FileRepo>,
        folders: Arc<dyn FolderRepo>,
        challenges: Arc<dyn ChallengeRepo>,
        storage: Storage,
        quota: Quota,
        delete_grace: Duration,
    ) -> Self {
        Self { files, folders, challenges, storage, quota, delete_grace }
    }

    pub fn quota(&self) -> &Quota {
        &self.quota
    }

    /// Stores staged bytes (by content) as a file in `owner`'s drive, where `place` says. The
    /// bytes are charged to the owner's quota, and the staged file's holds (and
    /// `extra_holds`) let go, in the same transaction.
    pub async fn store(
        &self,
        owner: &User,
        place: Placement<'_>,
        staged: &mut Staged,
        mime: &str,
        extra_holds: &[Uuid],
    ) -> Result<(StoredBlob, DriveFile)> {
        let Placement { name, folder, fall_back } = place;
        validate_name(name)?;
        let mut holds = staged.holds();
        holds.extend_from_slice(extra_holds);
        let charge = &self.quota.charge(holds);
        let stored = self
            .storage
            .store(staged, |blob| async move {
                match self.record(owner, name, folder, &blob, mime, charge).await {
                    Err(Error::NotFound("folder")) if fall_back && folder.is_some() => {
                        self.record(owner, name, None, &blob, mime, charge).await
                    }
                    other => other,
                }
            })
            .await?;
        staged.charged();
        Ok(stored)
    }

    /// Records a stored blob as a file (its reference and its charge: see [`FileRepo::insert`]).
    async fn record(
        &self,
        owner: &User,
        name: &str,
        folder_id: Option<FolderId>,
        blob: &StoredBlob,
        mime: &str,
        charge: &Charge,
    ) -> Result<Referenced<DriveFile>> {
        let now = crate::accounts::now_ms();
        let file = DriveFile {
            id: ids::new_id().into(),
            owner_id: owner.id,
            folder_id,
            name: name.to_owned(),
            sha256: blob.sha256.clone(),
            size: blob.size,
            mime: mime.to_owned(),
            created_at: now,
            updated_at: now,
        };
        Ok(match self.files.insert(&file, charge).await? {
            Referenced::Made(()) => Referenced::Made(file),
            Referenced::BlobGone => Referenced::BlobGone,
        })
    }

    /// The owner's file; anyone else's id is not found.
    pub async fn get(&self, owner: &User, id: FileId) -> Result<DriveFile> {
        match self.files.get(id).await? {
            Some(f) if f.owner_id == owner.id => Ok(f),
            _ => Err(Error::NotFound("file")),
        }
    }

    /// A file by id alone, for signed share links (the signature stands in for the owner).
    pub async fn get_shared(&self, id: FileId) -> Result<DriveFile> {
        self.files.get(id).await?.ok_or(Error::NotFound("file"))
    }

    /// Bytes counted against the owner's quota: files, video originals, uploads in flight.
    pub async fn usage(&self, owner: &User) -> Result<u64> {
        self.quota.used(owner.id).await
    }

    /// One page of a folder's files (`None`: the top of the drive) in the given order.
    pub async fn list_folder(
        &self,
        owner: &User,
        folder_id: Option<FolderId>,
        sort: FileSort,
        descending: bool,
        limit: u64,
        cursor: Option<&str>,
    ) -> Result<Listing> {
        if let Some(f) = folder_id {
            self.folder(owner, f).await?;
        }
        let after = cursor.filter(|c| !c.is_empty()).map(|c| decode_cursor(c, sort)).transpose()?;
        let q = FileQuery { owner_id: owner.id, folder_id, sort, descending, fetch: limit + 1, after };
        let mut files = self.files.list(&q).await?;
        let more = files.len() as u64 > limit;
        files.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next_cursor = if more { files.last().map(|f| encode_cursor(f, sort)) } else { None };
        Ok(Listing { files, next_cursor })
    }

    /// Renames and/or moves a file.
    pub async fn change_file(&self, owner: &User, id: FileId, change: Change) -> Result<DriveFile> {
        let f = self.get(owner, id).await?;
        let name = change.name.unwrap_or(f.name);
        validate_name(&name)?;
        let folder_id = change.folder_id.unwrap_or(f.folder_id);
        if !self.files.update(owner.id, id, &name, folder_id).await? {
            return Err(Error::NotFound("file"));
        }
        self.get(owner, id).await
    }

    /// Deletes a file: gone from every read at once, its bytes later (after the grace period,
    /// and only when nothing else uses them).
    pub async fn delete_file(&self, owner: &User, id: FileId) -> Result<()> {
        let f = self.get(owner, id).await?;
        if !self.files.delete(owner.id, f.id, &self.delete_job(&f)).await? {
            return Err(Error::NotFound("file"));
        }
        Ok(())
    }

    fn delete_job(&self, f: &DriveFile) -> NewJob {
        let job = NewJob::once(Job::DeleteFile { file_id: f.id, sha256: f.sha256.clone() }, f.id);
        NewJob { run_at: job.run_at + chrono::Duration::from_std(self.delete_grace).unwrap_or_default(), ..job }
    }

    /// The owner's folder; anyone else's is not found.
    pub async fn folder(&self, owner: &User, id: FolderId) -> Result<Folder> {
        match self.folders.get(id).await? {
            Some(f) if f.owner_id == owner.id => Ok(f),
            _ => Err(Error::NotFound("folder")),
        }
    }

    /// The folders directly in `parent` (`None`: the top), by name.
    pub async fn folders_in(&self, owner: &User, parent: Option<FolderId>) -> Result<Vec<Folder>> {
        if let Some(p) = parent {
            self.folder(owner, p).await?;
        }
        let mut out: Vec<Folder> =
            self.folders.all_of(owner.id).await?.into_iter().filter(|f| f.parent_id == parent).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// The folders from the top of the drive down to `id`.
    pub async fn ancestry(&self, owner: &User, id: FolderId) -> Result<Vec<Folder>> {
        Ok(tree::ancestry(&self.folders.all_of(owner.id).await?, id))
    }

    pub async fn create_folder(&self, owner: &User, name: &str, parent: Option<FolderId>) -> Result<Folder> {
        validate_name(name)?;
        let now = crate::accounts::now_ms();
        let f = Folder {
            id: ids::new_id().into(),
            owner_id: owner.id,
            parent_id: parent,
            name: name.to_owned(),
            created_at: now,
            updated_at: now,
        };
        self.folders.insert(&f).await?;
        Ok(f)
    }

    /// Renames and/or moves a folder; never into itself or below itself (checked and done in
    /// one step, see [`FolderRepo`]).
    pub async fn change_folder(&self, owner: &User, id: FolderId, change: Change) -> Result<Folder> {
        let f = self.folder(owner, id).await?;
        let name = change.name.unwrap_or(f.name);
        validate_name(&name)?;
        let parent = change.folder_id.unwrap_or(f.parent_id);
        self.folders.update(owner.id, id, &name, parent).await?;
        self.folder(owner, id).await
    }

    /// Deletes a folder with everything below it: files as [`Drive::delete_file`] does.
    pub async fn delete_folder(&self, owner: &User, id: FolderId) -> Result<u64> {
        self.folder(owner, id).await?;
        self.folders.delete_tree(owner.id, id, &|f| self.delete_job(f)).await
    }
}

fn encode_cursor(f: &DriveFile, sort: FileSort) -> String {
    let raw = match sort {
        FileSort::Name => format!("n:{}:{}", f.id.uuid().simple(), f.name),
        FileSort::Size => format!("s:{}:{}", f.id.uuid().simple(), f.size),
        FileSort::Date => format!("d:{}:", f.id.uuid().simple()),
    };
    URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(c: &str, sort: FileSort) -> Result<FileCursor> {
    let bad = || Error::invalid(ErrorCode::BadCursor, "cursor is not one this server issued for this order");
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?).map_err(|_| bad())?;
    let mut parts = raw.splitn(3, ':');
    let (tag, id, key) = (parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?);
    let id = Uuid::try_parse(id).map_err(|_| bad())?.into();
    match (sort, tag) {
        (FileSort::Name, "n") => Ok(FileCursor { id, name: Some(key.to_owned()), size: None }),
        (FileSort::Size, "s") => Ok(FileCursor { id, name: None, size: Some(key.parse().map_err(|_| bad())?) }),
        (FileSort::Date, "d") => Ok(FileCursor { id, name: None, size: None }),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::validate_name;

    #[test]
    fn names() {
        for ok in ["a", "report 2026.pdf", "ünïcödé 🎬.mkv", ".hidden", "..."] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "  ", "a/b", "../etc/passwd", ".", "..", "a\0b", &"x".repeat(256)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }
}
