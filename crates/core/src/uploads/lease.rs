//! The cross-replica lock of an upload: one writer at a time, by a lease in the metadata store
//! that the writer renews while bytes keep coming.
//!
//! A writer whose client stalls stops renewing, and once its lease runs out another writer may
//! take the upload over. The stalled writer must then never write another byte: renewal only
//! succeeds for the holder of an unexpired lease, and before each write the writer checks that
//! it is still well inside the lease it last confirmed (no database trip). A writer that is
//! paused between that check and its write (a stopped process) could still write late, which is
//! why a takeover also moves the upload's bytes to a file the old writer never opened (see
//! `bytes`).

use std::sync::Arc;
use std::time::Duration;

use crate::ids::UploadId;
use tokio::time::Instant;
use uuid::Uuid;

use crate::ports::{Acquired, UploadRepo};
use crate::{Error, Result};

/// How long an append holds an upload's lock, and how often it renews it while bytes arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockTiming {
    pub lease: Duration,
    pub renew_every: Duration,
}

impl LockTiming {
    /// Short, so that a client resuming after a replica died waits seconds, not minutes.
    pub const DEFAULT: LockTiming = LockTiming { lease: Duration::from_secs(8), renew_every: Duration::from_secs(2) };

    /// A lease of `lease`, renewed four times within it.
    pub fn with_lease(lease: Duration) -> LockTiming {
        LockTiming { lease, renew_every: lease / 4 }
    }
}

/// A held lock.
pub(super) struct Lease {
    repo: Arc<dyn UploadRepo>,
    id: UploadId,
    holder: String,
    timing: LockTiming,
    /// When the last successful renewal (or the acquisition) started: the lease runs from no
    /// earlier than this.
    confirmed: Instant,
    pub(super) acquired: Acquired,
}

/// A fresh holder name, unique per request: segments and data files are named after it.
pub(super) fn holder_name(prefix: &str) -> String {
    format!("{prefix}{}", &Uuid::now_v7().simple().to_string()[16..])
}

impl Lease {
    /// Takes the lock, or 423 while another request holds it.
    pub(super) async fn acquire(
        repo: &Arc<dyn UploadRepo>,
        id: UploadId,
        prefix: &str,
        timing: LockTiming,
    ) -> Result<Lease> {
        let holder = holder_name(prefix);
        let started = Instant::now();
        match repo.acquire(id, &holder, timing.lease).await? {
            Some(acquired) => Ok(Lease { repo: repo.clone(), id, holder, timing, confirmed: started, acquired }),
            None => Err(Error::Locked("another request is appending to this upload")),
        }
    }

    pub(super) fn holder(&self) -> &str {
        &self.holder
    }

    /// Renews the lease when a renewal is due; 423 when it was lost (it ran out and may have
    /// been taken over).
    pub(super) async fn keep(&mut self) -> Result<()> {
        if self.confirmed.elapsed() < self.timing.renew_every {
            return Ok(());
        }
        let started = Instant::now();
        if !self.repo.renew(self.id, &self.holder, self.timing.lease).await? {
            return Err(Error::Locked("the upload's lock was lost"));
        }
        self.confirmed = started;
        Ok(())
    }

    /// Whether a write may start now: the lease last confirmed has a quarter of its length
    /// left at least. 423 otherwise (the client stalled, or the database did not answer).
    pub(super) fn check(&self) -> Result<()> {
        check_before(self.write_deadline())
    }

    /// Until when a write may start: while the lease last confirmed has a quarter of its
    /// length left. Handed to the thread that writes, which checks it itself before each write.
    pub(super) fn write_deadline(&self) -> Instant {
        self.confirmed + self.timing.lease - self.timing.lease / 4
    }

    pub(super) async fn release(self) {
        if let Err(e) = self.repo.release(self.id, &self.holder).await {
            tracing::warn!(upload_id = %self.id, error = %e.report(), "upload lock not released; its lease will run out");
        }
    }
}

/// 423 once `deadline` ([`Lease::write_deadline`]) has passed.
pub(super) fn check_before(deadline: Instant) -> Result<()> {
    if Instant::now() < deadline { Ok(()) } else { Err(Error::Locked("the upload's lock ran out")) }
}
