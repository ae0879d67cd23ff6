//! The cloud drive: a user's own files, each a name on a content-addressed blob. Files are
//! private: another user's file id is simply not found.

use std::sync::Arc;

use uuid::Uuid;

use crate::paging::{Page, PageRequest};
use crate::ports::{DriveFile, FileRepo, User};
use crate::storage::StoredBlob;
use crate::{Error, Result, ids};

pub const MAX_NAME: usize = 255;

#[derive(Clone)]
pub struct Drive {
    files: Arc<dyn FileRepo>,
}

/// A file name: 1 to 255 characters, no `/`, no NUL, not `.` or `..`. It is only ever a label:
/// storage keys come from content hashes.
pub fn validate_name(name: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid("bad_name", format!("file name {why}")));
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

impl Drive {
    pub fn new(files: Arc<dyn FileRepo>) -> Self {
        Self { files }
    }

    /// Records a stored blob as a file named `name` in `owner`'s drive.
    pub async fn add(&self, owner: &User, name: &str, blob: &StoredBlob, mime: &str) -> Result<DriveFile> {
        validate_name(name)?;
        let now = crate::accounts::now_ms();
        let file = DriveFile {
            id: ids::new_id(),
            owner_id: owner.id,
            folder_id: None,
            name: name.to_owned(),
            sha256: blob.sha256.clone(),
            size: blob.size,
            mime: mime.to_owned(),
            created_at: now,
            updated_at: now,
        };
        self.files.insert(&file).await?;
        Ok(file)
    }

    /// The owner's file; anyone else's id is not found.
    pub async fn get(&self, owner: &User, id: Uuid) -> Result<DriveFile> {
        match self.files.get(id).await? {
            Some(f) if f.owner_id == owner.id => Ok(f),
            _ => Err(Error::NotFound("file")),
        }
    }

    /// Bytes the owner's files take.
    pub async fn usage(&self, owner: &User) -> Result<u64> {
        self.files.usage(owner.id).await
    }

    pub async fn list(&self, owner: &User, page: PageRequest) -> Result<Page<DriveFile>> {
        self.files.list_by_owner(owner.id, page).await
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
