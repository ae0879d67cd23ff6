//! Bytes waiting on this node's disk for remote primary storage (the seed's "transfer to OSS"
//! queue). An upload is acknowledged once its bytes are on local disk and recorded as held by
//! this node; the transfer then copies them to object storage and clears the mark. The record in
//! the metadata store is what makes this durable: after a crash the node finds its held blobs
//! again. Transfers run on the node that holds the bytes, not through the shared job queue,
//! because no other node can read them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::{Storage, media_type_of, read_head};
use crate::ports::{BlobState, BlobStore, blob_key};
use crate::{Error, Result};

/// A local file with no blob row is the leftover of a collected blob, or (for milliseconds) a
/// blob collected just before a store wrote it again; only the former is this old.
const ORPHAN_AGE: Duration = Duration::from_secs(60);

/// This node's holding area.
#[derive(Clone)]
pub struct Holding {
    pub(super) store: Arc<dyn BlobStore>,
    dir: PathBuf,
    pub(super) node: String,
    pub(super) wake: Arc<Notify>,
}

impl Holding {
    /// `store` is a local blob store rooted at `dir`; `node` names this node's disk (stable
    /// across restarts).
    pub fn new(store: Arc<dyn BlobStore>, dir: PathBuf, node: String) -> Self {
        Self { store, dir, node, wake: Arc::new(Notify::new()) }
    }
}

/// Where a blob's bytes are to be read from.
pub enum BlobSource {
    Primary,
    /// On this node's disk, not yet transferred.
    Local(Arc<dyn BlobStore>),
    /// On another node's disk: that node serves it until the transfer is done.
    Elsewhere(String),
}

/// Only the node that took an upload has its bytes until they reach object storage (seconds):
/// 503, which a load balancer retries on another replica.
pub fn in_transit(node: &str) -> Error {
    Error::retry_later(format!("the bytes are on node {node} until their transfer to object storage ends"))
}

impl Storage {
    pub async fn source(&self, sha256: &str) -> Result<BlobSource> {
        let Some(h) = &self.holding else { return Ok(BlobSource::Primary) };
        Ok(match self.index.get(sha256).await?.and_then(|r| r.held_by) {
            None => BlobSource::Primary,
            Some(node) if node == h.node => BlobSource::Local(h.store.clone()),
            Some(node) => BlobSource::Elsewhere(node),
        })
    }

    /// Wakes the transfer loop (an upload was just held); `None` without a holding area.
    pub fn transfer_signal(&self) -> Option<Arc<Notify>> {
        self.holding.as_ref().map(|h| h.wake.clone())
    }

    /// Transfers every blob this node holds to the primary store and removes local copies that
    /// are no longer needed. Returns how many blobs were transferred. Idempotent.
    pub async fn transfer_held(&self) -> Result<u64> {
        let Some(h) = &self.holding else { return Ok(0) };
        let dir = h.dir.clone();
        let files = tokio::task::spawn_blocking(move || held_files(&dir)).await.map_err(Error::internal)?;
        let mut moved = 0;
        for (sha, path, age) in files {
            let record = self.index.get(&sha).await?;
            match record.as_ref().and_then(|r| r.held_by.as_deref()) {
                Some(node) if node == h.node && record.as_ref().is_some_and(|r| r.state == BlobState::Live) => {
                    self.transfer_one(h, &sha, &path).await?;
                    moved += 1;
                }
                None if record.is_none() && age < ORPHAN_AGE => {}
                // Transferred, taken over by another node, or collected: the copy goes.
                _ => remove(&path).await,
            }
        }
        Ok(moved)
    }

    async fn transfer_one(&self, h: &Holding, sha256: &str, path: &Path) -> Result<()> {
        let key = blob_key(sha256);
        let size = tokio::fs::metadata(path).await.map_err(|e| Error::unavailable("holding", e))?.len();
        // Object storage serves it with this type (Garage ignores response overrides).
        let mime = media_type_of(&read_head(path).await);
        self.blobs.put_file(&key, path, size, mime).await?;
        if self.index.mark_transferred(sha256, &h.node).await? {
            metrics::counter!("blob_transfers_total").increment(1);
            metrics::counter!("blob_transfer_bytes_total").increment(size);
            tracing::info!(sha256, size, "blob transferred to primary storage");
        } else if self.index.get(sha256).await?.is_none_or(|r| r.state != BlobState::Live) {
            // Collected (or being collected) while in flight: the copy just made must not
            // outlive it. (Taken over by another node: that node's transfer writes the same.)
            self.blobs.delete(&key).await?;
        }
        // Readers that opened the local copy keep reading it; new ones go to the primary.
        remove(path).await;
        Ok(())
    }
}

async fn remove(path: &Path) {
    if let Err(e) = tokio::fs::remove_file(path).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove a held copy");
    }
}

/// `(sha256, path, age)` of every blob file under `dir` (`sha256/ab/cd/<hex>`).
fn held_files(dir: &Path) -> Vec<(String, PathBuf, Duration)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(path);
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                let age = meta.modified().ok().and_then(|t| t.elapsed().ok()).unwrap_or_default();
                out.push((name, path, age));
            }
        }
    }
    out
}
