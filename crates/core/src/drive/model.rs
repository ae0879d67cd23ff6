//! What a drive is made of: files, folders, listings and instant-upload challenges.

use chrono::{DateTime, Utc};

use crate::ids::{FileId, FolderId, UserId};

/// A file in a user's drive: a name and a reference to a content-addressed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveFile {
    pub id: FileId,
    pub owner_id: UserId,
    pub folder_id: Option<FolderId>,
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
    pub id: FolderId,
    pub owner_id: UserId,
    /// `None` at the top of the drive.
    pub parent_id: Option<FolderId>,
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
    pub id: FileId,
    pub name: Option<String>,
    pub size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileQuery {
    pub owner_id: UserId,
    /// `None`: the top of the drive.
    pub folder_id: Option<FolderId>,
    pub sort: FileSort,
    pub descending: bool,
    /// Rows to fetch (a page's limit plus one, to know whether there is more).
    pub fetch: u64,
    pub after: Option<FileCursor>,
}

/// An instant-upload challenge: prove you hold the bytes by hashing a range of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Hex; also the challenge's key.
    pub nonce: String,
    pub owner_id: UserId,
    pub sha256: String,
    pub size: u64,
    pub offset: u64,
    pub length: u64,
    pub expires_at: DateTime<Utc>,
}
