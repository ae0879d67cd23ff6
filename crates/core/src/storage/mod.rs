//! Bytes coming in: staging with a hard size limit and constant memory, hashing on the fly,
//! container sniffing, and content-addressed storage (stored once however often it is
//! uploaded), referenced and collected without the two ever interleaving.

mod append_file;
mod collect;
mod holding;
mod sniff;
mod staging;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use append_file::AppendFile;
pub use holding::{BlobSource, Holding, in_transit};
pub use sniff::{media_type_of, read_head, sniff_video};
pub use staging::{Staged, Staging};

use crate::ports::{BlobIndex, BlobRecord, BlobState, BlobStore, Referenced, blob_key};
use crate::quota::Reservation;
use crate::{Error, Result};

/// How often a reference is retried when its blob is collected between storing and
/// referencing (each retry stores the bytes again).
const STORE_ATTEMPTS: usize = 4;
/// How long a store waits for a collection of the same content to end before giving up (the
/// collector's lease; a collector that died is taken over once it runs out).
const COLLECT_WAIT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Storage {
    pub blobs: Arc<dyn BlobStore>,
    index: Arc<dyn BlobIndex>,
    staging_dir: PathBuf,
    max_upload: u64,
    /// Set when the primary store is remote: uploads wait here for their transfer.
    holding: Option<Holding>,
}

/// A blob that is stored: its content address and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
    /// False when the content was already stored (deduplicated).
    pub new: bool,
}

impl Storage {
    pub fn new(
        blobs: Arc<dyn BlobStore>,
        index: Arc<dyn BlobIndex>,
        staging_dir: PathBuf,
        max_upload: u64,
        holding: Option<Holding>,
    ) -> Result<Self> {
        std::fs::create_dir_all(&staging_dir)
            .map_err(|e| Error::unavailable(format!("cannot create {}", staging_dir.display()), e))?;
        Ok(Self { blobs, index, staging_dir, max_upload, holding })
    }

    pub fn max_upload(&self) -> u64 {
        self.max_upload
    }

    /// A path in the staging directory for a scratch file named after `name`; the sweep removes
    /// it if its process dies before it does.
    pub fn staging_path(&self, name: &str) -> PathBuf {
        self.staging_dir.join(format!("{name}.part"))
    }

    /// A new staging file for an upload of a video (its first bytes must be a known container),
    /// its bytes held against the quota by `reservation` as they arrive.
    pub async fn stage_video(&self, reservation: Reservation) -> Result<Staging> {
        Staging::create(&self.staging_dir, self.max_upload, true, Some(reservation)).await
    }

    /// A new staging file for a drive file (any content).
    pub async fn stage_file(&self, reservation: Reservation) -> Result<Staging> {
        Staging::create(&self.staging_dir, self.max_upload, false, Some(reservation)).await
    }

    /// A new staging file for bytes already held against the quota (a resumable upload's,
    /// assembled or joined).
    pub async fn stage_held(&self, video: bool) -> Result<Staging> {
        Staging::create(&self.staging_dir, self.max_upload, video, None).await
    }

    /// Removes staging files untouched for `older_than`: uploads whose process died (a clean
    /// error or disconnect removes its own file at once). Returns how many went.
    pub async fn sweep_staging(&self, older_than: Duration) -> Result<u64> {
        let dir = self.staging_dir.clone();
        tokio::task::spawn_blocking(move || {
            let part = |p: &std::path::Path| p.extension().is_some_and(|e| e == "part");
            crate::sweep::sweep(&dir, older_than, part, |p| std::fs::remove_file(p))
                .map_err(|e| Error::unavailable("staging", e))
        })
        .await
        .map_err(Error::internal)?
    }

    /// Stores staged bytes by content, unless the same content is already stored, and records
    /// `reference` to them (a file, a video's original) in the transaction that counts it on
    /// the blob. If the blob is collected between the two (its last other reference went
    /// meanwhile), its bytes are stored again: the staged file is kept until the reference is
    /// made. Bytes this call stored for a reference that then fails are collected again.
    pub async fn store<T, F, Fut>(&self, staged: &Staged, mut reference: F) -> Result<(StoredBlob, T)>
    where
        F: FnMut(StoredBlob) -> Fut,
        Fut: Future<Output = Result<Referenced<T>>>,
    {
        for _ in 0..STORE_ATTEMPTS {
            let blob = self.ensure_stored(staged).await?;
            match reference(blob.clone()).await {
                Ok(Referenced::Made(made)) => return Ok((blob, made)),
                Ok(Referenced::BlobGone) => {
                    tracing::info!(sha256 = blob.sha256, "blob collected while being referenced; storing it again");
                }
                Err(e) => {
                    if blob.new {
                        self.collect_soon(&blob.sha256).await;
                    }
                    return Err(e);
                }
            }
        }
        Err(Error::retry_later("the content was collected while it was being stored; try again"))
    }

    /// Makes sure the staged content is stored where readers look for it.
    async fn ensure_stored(&self, staged: &Staged) -> Result<StoredBlob> {
        let sha256 = &staged.sha256;
        let key = blob_key(sha256);
        let give_up = tokio::time::Instant::now() + COLLECT_WAIT;
        loop {
            let record = self.index.get(sha256).await?;
            match &record {
                Some(r @ BlobRecord { state: BlobState::Live, .. }) if self.is_stored(r, &key).await? => {
                    // Known content: nothing is written.
                    return Ok(StoredBlob { sha256: sha256.clone(), size: staged.size, new: false });
                }
                Some(BlobRecord { state: BlobState::Collecting { until }, .. }) => {
                    // Its bytes are being removed: they may go at any moment, so these are
                    // written only once the collection is over (or taken over, if its
                    // collector died).
                    if *until <= chrono::Utc::now() {
                        self.collect(sha256).await?;
                    } else if tokio::time::Instant::now() >= give_up {
                        return Err(Error::retry_later(format!("blob {sha256} is being collected")));
                    } else {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
                _ => {}
            }
            // Unknown, or known but its bytes are not here (on another node's disk; or a store
            // still writing them): recorded first, with the job that collects it if nothing
            // references it in time, then written.
            let content_type = staged.mime.unwrap_or("application/octet-stream");
            let node = self.holding.as_ref().map(|h| h.node.as_str());
            let collect = collect::job(sha256, collect::ORPHAN_GRACE);
            if !self.index.record(sha256, staged.size, node, &collect).await? {
                continue;
            }
            match &self.holding {
                Some(h) => {
                    h.store.put_file(&key, staged.path(), staged.size, content_type).await?;
                    h.wake.notify_one();
                }
                None => self.blobs.put_file(&key, staged.path(), staged.size, content_type).await?,
            }
            return Ok(StoredBlob { sha256: sha256.clone(), size: staged.size, new: true });
        }
    }

    /// The size of a blob whose bytes are stored (on this node or in the primary store) and
    /// that may be referenced.
    pub async fn stored_size(&self, sha256: &str) -> Result<Option<u64>> {
        match self.index.get(sha256).await? {
            Some(r) if r.state == BlobState::Live && self.is_stored(&r, &blob_key(sha256)).await? => Ok(Some(r.size)),
            _ => Ok(None),
        }
    }

    /// Streams `range` of a stored blob, from wherever it is now.
    pub async fn read(&self, sha256: &str, range: std::ops::Range<u64>) -> Result<crate::ports::ByteStream> {
        self.read_from(&self.source(sha256).await?, sha256, range).await
    }

    /// Streams `range` of a blob from `source` (looked up once by the caller).
    pub async fn read_from(
        &self,
        source: &BlobSource,
        sha256: &str,
        range: std::ops::Range<u64>,
    ) -> Result<crate::ports::ByteStream> {
        let key = blob_key(sha256);
        match source {
            // The transfer may have removed the local copy since the lookup: then the primary
            // store has it.
            BlobSource::Local(store) => match store.read(&key, range.clone()).await {
                Ok(s) => Ok(s),
                Err(_) => self.blobs.read(&key, range).await,
            },
            BlobSource::Primary => self.blobs.read(&key, range).await,
            BlobSource::Elsewhere(node) => Err(in_transit(node)),
        }
    }

    /// Where a media tool can read a blob: its file on this machine, or a presigned URL.
    pub async fn media_input(&self, sha256: &str) -> Result<String> {
        let key = blob_key(sha256);
        let local = match self.source(sha256).await? {
            BlobSource::Local(store) => store.local_path(&key),
            BlobSource::Primary => self.blobs.local_path(&key),
            BlobSource::Elsewhere(node) => return Err(in_transit(&node)),
        };
        if let Some(path) = local.filter(|p| p.exists()) {
            return Ok(path.display().to_string());
        }
        let ttl = Duration::from_secs(3600);
        self.blobs
            .presign_get(&key, ttl, "application/octet-stream", None)
            .await?
            .ok_or_else(|| Error::retry_later(format!("blob {sha256} is not readable by a media tool")))
    }

    /// The media type of a stored blob, from its first bytes.
    pub async fn media_type(&self, sha256: &str, size: u64) -> &'static str {
        let mut head = Vec::new();
        if let Ok(mut s) = self.read(sha256, 0..size.min(8192)).await {
            use futures::StreamExt;
            while let Some(Ok(chunk)) = s.next().await {
                head.extend_from_slice(&chunk);
            }
        }
        media_type_of(&head)
    }

    /// Whether a known blob's bytes are where readers will look for them.
    async fn is_stored(&self, record: &BlobRecord, key: &str) -> Result<bool> {
        match (&self.holding, &record.held_by) {
            (_, None) => self.blobs.exists(key).await,
            (Some(h), Some(node)) if *node == h.node => h.store.exists(key).await,
            // On another node's disk: this node keeps its own copy and takes the blob over.
            _ => Ok(false),
        }
    }
}
