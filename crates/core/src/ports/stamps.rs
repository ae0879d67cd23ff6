//! Stamps: a version for each thing reads are built from, changed by every write to it. A read
//! kept with the stamps it was built under is still right while they have not changed (the
//! read cache, [`crate::reads`]). Shared by every replica, so a write on one replica is seen by
//! the next read on any other: the read asks for the stamps after the write changed them.

use async_trait::async_trait;

use crate::Result;
use crate::ids::VideoId;

/// What a read depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every listing of videos (home, search, channels): any change to any video.
    Videos,
    /// One video's row: its metadata, status, counters, whether it exists.
    Video(VideoId),
    /// One video's comments.
    Comments(VideoId),
}

impl Scope {
    /// A stable name, for keys in a shared store.
    pub fn key(&self) -> String {
        match self {
            Scope::Videos => "videos".to_owned(),
            Scope::Video(id) => format!("v:{id}"),
            Scope::Comments(id) => format!("c:{id}"),
        }
    }
}

#[async_trait]
pub trait Stamps: Send + Sync {
    /// The current stamp of each scope, in order. Two calls return equal stamps for a scope
    /// only if no [`bump`](Self::bump) of it finished in between.
    async fn current(&self, scopes: &[Scope]) -> Result<Vec<u64>>;
    /// Changes the stamp of each scope; called after the write it stands for is committed.
    async fn bump(&self, scopes: &[Scope]) -> Result<()>;
}
