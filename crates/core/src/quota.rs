//! The per-user storage quota. One counter per user (`users.used_bytes`) holds the bytes of
//! their files, their videos' originals, and what uploads in flight hold; every path that
//! stores bytes for a user moves it, and it is only ever raised by an atomic conditional
//! update (`… WHERE used_bytes + n <= quota`), so concurrent uploads cannot take more than the
//! quota between them. Bytes in flight are held before they are written, a step at a time, and
//! the hold becomes the file (or video) in the transaction that records it.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use crate::ids::{UploadId, UserId};

use crate::ports::{Charge, QuotaLedger};
use crate::{Error, Result};

/// Bytes in flight are held this much at a time: one conditional update per step.
pub const STEP: u64 = 8 * 1024 * 1024;
/// A hold of a request in flight (not a resumable upload) runs out this long after its last
/// step, in case its process died; the reaper then lets it go.
const HOLD_LEASE: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct Quota {
    ledger: Arc<dyn QuotaLedger>,
    limit: Option<u64>,
}

impl Quota {
    pub fn new(ledger: Arc<dyn QuotaLedger>, limit: Option<u64>) -> Self {
        Self { ledger, limit }
    }

    /// The per-user limit; `None` for no limit.
    pub fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// Bytes counted against `owner`.
    pub async fn used(&self, owner: UserId) -> Result<u64> {
        self.ledger.used(owner).await
    }

    /// How a reference paid for by `holds` is charged.
    pub fn charge(&self, holds: Vec<Uuid>) -> Charge {
        Charge { holds, limit: self.limit }
    }

    /// Makes hold `hold` at least `total` bytes (no expiry: a resumable upload's, let go with
    /// it). 413 past the quota.
    pub async fn hold_upload(&self, upload: UploadId, owner: UserId, total: u64) -> Result<()> {
        if self.ledger.reserve(upload.uuid(), owner, total, self.limit, None).await? {
            Ok(())
        } else {
            Err(self.over(owner).await)
        }
    }

    /// Sets a resumable upload's hold to the bytes it has stored (see [`QuotaLedger::settle`]).
    pub async fn settle_upload(&self, upload: UploadId, owner: UserId, stored: u64) -> Result<()> {
        self.ledger.settle(upload.uuid(), owner, stored).await
    }

    pub async fn release(&self, hold: Uuid) -> Result<()> {
        self.ledger.release(hold).await
    }

    pub async fn reap_expired(&self) -> Result<u64> {
        self.ledger.reap_expired(Utc::now()).await
    }

    /// A reservation for one request's bytes as they arrive (a simple upload), let go when
    /// dropped unless it was charged. Without a limit it holds nothing: the stored size is
    /// charged when the file is recorded.
    /// `ceiling` is the most the upload can be (the size limit).
    pub fn reservation(&self, owner: UserId, ceiling: u64) -> Reservation {
        let hold = crate::ids::new_id();
        Reservation { quota: self.clone(), owner, hold, expiring: true, held: 0, ceiling, settled: false }
    }

    /// The reservation of a resumable upload, whose hold (named after it) outlives requests;
    /// `ceiling` is its length, or the size limit while that is not known.
    pub fn upload_reservation(&self, upload: UploadId, owner: UserId, ceiling: u64) -> Reservation {
        Reservation {
            quota: self.clone(),
            owner,
            hold: upload.uuid(),
            expiring: false,
            held: 0,
            ceiling,
            settled: true,
        }
    }

    async fn over(&self, owner: UserId) -> Error {
        let used = self.ledger.used(owner).await.unwrap_or(0);
        let limit = self.limit.unwrap_or(0);
        Error::TooLarge(format!("the upload does not fit in the quota: {used} of {limit} bytes are used"))
    }
}

/// Bytes held for an upload while they arrive.
pub struct Reservation {
    quota: Quota,
    owner: UserId,
    hold: Uuid,
    /// A request's hold expires (its process may die); a resumable upload's does not.
    expiring: bool,
    /// What this reservation knows to be held.
    held: u64,
    /// Never held beyond this.
    ceiling: u64,
    /// Nothing to let go on drop: charged into a file, or owned by a resumable upload.
    settled: bool,
}

impl Reservation {
    pub fn hold(&self) -> Uuid {
        self.hold
    }

    /// The request says how long it is (`Content-Length`): that is held at once, exactly, so
    /// an upload that cannot fit is refused before its bytes, and concurrent ones cannot each
    /// hold part of the room and all fail.
    pub async fn expect(&mut self, length: u64) -> Result<()> {
        self.ceiling = length;
        self.cover(length).await
    }

    /// Makes sure `total` bytes are held before they are written: a step ahead while there is
    /// room, exactly `total` near the limit, 413 past it.
    pub async fn cover(&mut self, total: u64) -> Result<()> {
        if self.quota.limit.is_none() || total <= self.held {
            return Ok(());
        }
        let expires = self.expiring.then(|| Utc::now() + HOLD_LEASE);
        let ahead = (total.saturating_add(STEP - 1) / STEP * STEP).min(self.ceiling.max(total));
        let ledger = &self.quota.ledger;
        for want in [ahead, total] {
            if ledger.reserve(self.hold, self.owner, want, self.quota.limit, expires).await? {
                self.held = want;
                return Ok(());
            }
        }
        Err(self.quota.over(self.owner).await)
    }

    /// The hold became what it paid for (in the transaction that recorded it).
    pub fn settle(mut self) {
        self.settled = true;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.settled || self.quota.limit.is_none() {
            return;
        }
        let (quota, hold) = (self.quota.clone(), self.hold);
        // A failed release is left to the reaper (the hold expires).
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = quota.release(hold).await {
                    tracing::warn!(%hold, error = %e.report(), "quota hold not released; it expires");
                }
            });
        }
    }
}
