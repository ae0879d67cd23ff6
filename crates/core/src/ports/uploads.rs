use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ids::UploadId;
use crate::uploads::{Segment, Upload, UploadResult};

use crate::Result;

/// How a writer came to hold an upload's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquired {
    /// Nobody held it, or the last holder let it go: it closed everything it wrote with.
    Free,
    /// The last holder's lease ran out while it held the lock: it may still be alive (stalled)
    /// with its file open, so nothing it could still write to may be used any more.
    TakenOver,
}

/// Where an append's bytes are (the byte strategy of the upload's blob store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendedBytes {
    /// Object storage: the segment holding `[from, to)`.
    Segment(Segment),
    /// Local store: the file they were appended to (a new one after a takeover).
    File(String),
}

/// What an append recorded, atomically and only by the lock's current holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRecord {
    pub id: UploadId,
    pub holder: String,
    /// The offset the append started at (the upload's offset when it began).
    pub from: u64,
    pub to: u64,
    /// `None` for an empty append to object storage (no segment).
    pub bytes: Option<AppendedBytes>,
    /// The length, when the upload deferred it and this append told it.
    pub length: Option<u64>,
    pub hash_state: Option<String>,
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait UploadRepo: Send + Sync {
    async fn insert(&self, upload: &Upload) -> Result<()>;
    async fn get(&self, id: UploadId) -> Result<Option<Upload>>;
    /// Takes the upload's lock for `holder` for `lease`, when it is free or its holder's lease
    /// ran out. This is what makes appends exclusive across replicas.
    async fn acquire(&self, id: UploadId, holder: &str, lease: Duration) -> Result<Option<Acquired>>;
    /// Extends `holder`'s lease, only while `holder` still holds the lock and its lease has
    /// not run out: a writer that lost it can never get it back by renewing.
    async fn renew(&self, id: UploadId, holder: &str, lease: Duration) -> Result<bool>;
    async fn release(&self, id: UploadId, holder: &str) -> Result<()>;
    /// Records an append; `false` when `holder` no longer holds the lock or the offset is no
    /// longer `from`.
    async fn record(&self, append: &AppendRecord) -> Result<bool>;
    /// Records what the finished upload became.
    async fn finish(&self, id: UploadId, result: UploadResult) -> Result<()>;
    async fn delete(&self, id: UploadId) -> Result<bool>;
    /// Uploads whose expiry has passed.
    async fn expired(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<Upload>>;
}
