use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

use crate::Result;
use crate::ports::NewJob;

/// Bytes of a blob, streamed.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// Content-addressed blob storage. Keys come from [`blob_key`], never from user input.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// True for object storage (S3, OSS), where playback may redirect to a presigned URL.
    fn is_remote(&self) -> bool;
    async fn exists(&self, key: &str) -> Result<bool>;
    /// The blob's size; `None` when there is no such blob.
    async fn size(&self, key: &str) -> Result<Option<u64>>;
    /// Stores the file at `path` (a finished staging file of `size` bytes) under `key`, with
    /// the media type object storage should serve it with. The file at `path` stays where it
    /// is (on a local store the blob becomes a second link to it, so nothing is copied): the
    /// caller removes it, and keeps it until the blob is referenced, in case the blob was
    /// collected meanwhile and must be stored again. The caller guarantees that nothing writes
    /// to it any more.
    async fn put_file(&self, key: &str, path: &Path, size: u64, content_type: &str) -> Result<()>;
    /// Streams `range` of the blob.
    async fn read(&self, key: &str, range: Range<u64>) -> Result<ByteStream>;
    /// A time-limited URL that serves the blob directly (with the given response headers), or
    /// `None` when the store cannot make one (a local directory).
    async fn presign_get(
        &self,
        key: &str,
        ttl: Duration,
        content_type: &str,
        disposition: Option<&str>,
    ) -> Result<Option<String>>;
    async fn delete(&self, key: &str) -> Result<()>;
    /// Deletes every blob whose key starts with `prefix` (a "directory" ending in `/`); nothing
    /// there is not an error.
    async fn delete_prefix(&self, prefix: &str) -> Result<()>;
    /// Where the blob `key` lives on this machine's file system, for stores that are a local
    /// directory (resumable uploads append there in place); `None` for object storage.
    fn local_path(&self, _key: &str) -> Option<std::path::PathBuf> {
        None
    }
}

/// Where a video's derived media (poster, storyboard, HLS renditions) live: one prefix per
/// video, so that deleting the video removes them all, whatever an interrupted run left.
pub fn media_prefix(video_id: crate::ids::VideoId) -> String {
    format!("media/{}/", video_id.uuid().simple())
}

/// A blob's row in the metadata store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRecord {
    pub size: u64,
    /// The node whose local disk holds the bytes until they reach remote primary storage;
    /// `None` when they are in the primary store.
    pub held_by: Option<String>,
    /// Files and videos (deleted or not) pointing at it.
    pub refs: u64,
    pub state: BlobState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobState {
    /// Stored, and new references may be made to it.
    Live,
    /// Unreferenced, and a collector is removing its bytes; it holds the blob until `until`.
    Collecting { until: DateTime<Utc> },
}

/// Which blobs exist, in the metadata store: the source of truth for deduplication, and the
/// row a new reference and a collection of the same content serialise on (a reference is
/// counted in `refs` in the transaction that makes it, and only a `Live` blob takes one).
#[async_trait]
pub trait BlobIndex: Send + Sync {
    async fn get(&self, sha256: &str) -> Result<Option<BlobRecord>>;
    /// Records a blob whose bytes are about to be written (held on `held_by`'s disk, or in
    /// the primary store), and in the same transaction queues `collect`, which removes it again
    /// unless something references it by then: bytes stored for a request that then failed, or
    /// whose process died, are never left without a way out. A known, live blob keeps its
    /// references (`held_by` takes it over for that node). `false` while it is being collected.
    async fn record(&self, sha256: &str, size: u64, held_by: Option<&str>, collect: &NewJob) -> Result<bool>;
    /// The blob reached the primary store: `false` if it is no longer held by `node` (another
    /// node took it over, or it was collected meanwhile).
    async fn mark_transferred(&self, sha256: &str, node: &str) -> Result<bool>;
    /// Starts collecting the blob if nothing references it: marks it `Collecting` until
    /// `until` (or takes over a collection whose collector ran out of time). The blob as it
    /// was when that succeeded; `None` when it is referenced, gone, or being collected.
    async fn begin_collect(&self, sha256: &str, until: DateTime<Utc>) -> Result<Option<BlobRecord>>;
    /// The bytes of a blob being collected are gone: the row goes.
    async fn end_collect(&self, sha256: &str) -> Result<()>;
}

/// The outcome of recording a reference to a blob (a file, a video's original).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Referenced<T> {
    Made(T),
    /// The blob was collected (or is being collected) since it was found: its bytes must be
    /// stored again before it can be referenced.
    BlobGone,
}

/// The object key of the blob with this SHA-256: fanned out by its first bytes, so that no
/// directory (or listing prefix) grows without bound.
pub fn blob_key(sha256_hex: &str) -> String {
    format!("sha256/{}/{}/{sha256_hex}", &sha256_hex[..2], &sha256_hex[2..4])
}
