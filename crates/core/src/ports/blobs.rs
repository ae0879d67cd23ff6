use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

use crate::Result;

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
    /// the media type object storage should serve it with. The file may be moved, not copied.
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
pub fn media_prefix(video_id: uuid::Uuid) -> String {
    format!("media/{}/", video_id.simple())
}

/// Which blobs exist, in the metadata store: the source of truth for deduplication.
#[async_trait]
pub trait BlobIndex: Send + Sync {
    /// Records a stored blob; recording one that is already known is not an error.
    async fn record(&self, sha256: &str, size: u64) -> Result<()>;
    /// The size of a known blob.
    async fn find(&self, sha256: &str) -> Result<Option<u64>>;
    /// The node whose local disk holds the blob until it reaches remote primary storage;
    /// `None` when it is in the primary store (or unknown).
    async fn holder(&self, sha256: &str) -> Result<Option<String>>;
    /// Records a blob as held on `node`'s disk (a known blob is taken over by `node`).
    async fn record_held(&self, sha256: &str, size: u64, node: &str) -> Result<()>;
    /// The blob reached the primary store: `false` if it is no longer held by `node` (another
    /// node took it over, or it was collected meanwhile).
    async fn mark_transferred(&self, sha256: &str, node: &str) -> Result<bool>;
    /// How many videos and files (deleted or not) still point at the blob.
    async fn references(&self, sha256: &str) -> Result<u64>;
    /// Forgets the blob, only if nothing references it; `true` if it was forgotten.
    async fn forget_if_unreferenced(&self, sha256: &str) -> Result<bool>;
}

/// The object key of the blob with this SHA-256: fanned out by its first bytes, so that no
/// directory (or listing prefix) grows without bound.
pub fn blob_key(sha256_hex: &str) -> String {
    format!("sha256/{}/{}/{sha256_hex}", &sha256_hex[..2], &sha256_hex[2..4])
}
