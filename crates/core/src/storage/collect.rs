//! Collection of unreferenced blobs. The blob's row is what a new reference and a collection
//! serialise on: a reference is counted (`refs + 1`) only on a `live` row, in the transaction
//! that makes it, and a collection first turns a `live` row with no references into
//! `collecting` (one conditional update), then removes the bytes, then the row. So either the
//! reference is counted first (and the collection does not start), or the collection started
//! first (and the reference is refused: its maker stores the bytes again once the collection is
//! over). Every stored blob comes with a delayed collection job, so bytes stored for a request
//! that failed or died are not kept for nobody.

use std::time::Duration;

use chrono::Utc;

use super::Storage;
use crate::ports::{Job, NewJob, blob_key};
use crate::{Error, Result};

/// A blob nothing references this long after it was stored is collected.
pub(super) const ORPHAN_GRACE: Duration = Duration::from_secs(3600);
/// A collector holds a blob this long; one that died is taken over afterwards.
const COLLECT_LEASE: Duration = Duration::from_secs(30);

/// The job that collects `sha256` after `delay` if nothing references it then.
pub(super) fn job(sha256: &str, delay: Duration) -> NewJob {
    NewJob {
        job: Job::CollectBlob { sha256: sha256.to_owned() },
        run_at: Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default(),
        dedup_key: None,
    }
}

impl Storage {
    /// Removes the blob's bytes and then its row, if nothing references it. Idempotent;
    /// `true` when it collected it.
    pub async fn collect(&self, sha256: &str) -> Result<bool> {
        let until = Utc::now() + chrono::Duration::from_std(COLLECT_LEASE).map_err(Error::internal)?;
        let Some(record) = self.index.begin_collect(sha256, until).await? else { return Ok(false) };
        let key = blob_key(sha256);
        self.blobs.delete(&key).await?;
        if let Some(h) = &self.holding
            && record.held_by.as_deref() == Some(h.node.as_str())
        {
            h.store.delete(&key).await?;
        }
        // A copy held on another node's disk goes with that node's next transfer round, which
        // finds no row for it.
        self.index.end_collect(sha256).await?;
        tracing::info!(sha256, "blob collected");
        Ok(true)
    }

    /// Collects a blob this call just stored for a reference that failed, unless something
    /// else referenced it meanwhile. If that fails too, the job queued with the blob does it.
    pub(super) async fn collect_soon(&self, sha256: &str) {
        if let Err(e) = self.collect(sha256).await {
            tracing::warn!(sha256, error = %e.report(), "unreferenced blob not collected yet; its job will do it");
        }
    }
}
