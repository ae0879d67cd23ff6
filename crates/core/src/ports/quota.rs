use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ids::UserId;

use crate::Result;

/// How the bytes of a new reference (a file, a video's original) are paid for, in the
/// transaction that records it: the holds the upload took while its bytes arrived are let go,
/// and the difference to the stored size is charged, within `limit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Charge {
    pub holds: Vec<Uuid>,
    /// The user's quota; `None` for no limit.
    pub limit: Option<u64>,
}

impl Charge {
    pub fn fresh(limit: Option<u64>) -> Self {
        Self { holds: Vec::new(), limit }
    }
}

/// The quota counter of each user (`used_bytes`: files, video originals, and the holds of
/// uploads in flight), moved by atomic conditional updates, so that concurrent uploads cannot
/// take more than the quota between them.
#[async_trait]
pub trait QuotaLedger: Send + Sync {
    /// Raises hold `hold` of `owner` (creating it) to at least `bytes`, charging the
    /// difference if it fits in `limit`; `false` when it does not. A hold with `expires_at` is
    /// let go by [`QuotaLedger::reap_expired`] once that passes (its request died); it moves on
    /// with every reservation. One without expiry belongs to a resumable upload and is let go
    /// with it.
    async fn reserve(
        &self,
        hold: Uuid,
        owner: UserId,
        bytes: u64,
        limit: Option<u64>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<bool>;
    /// Sets hold `hold` of `owner` to exactly `bytes`, charging or giving back the difference
    /// without a limit: for bytes that are already stored (a resumable upload's recorded
    /// offset), not for bytes about to arrive. Zero lets it go. A hold that is not there (let
    /// go meanwhile) is left alone: settling never creates one.
    async fn settle(&self, hold: Uuid, owner: UserId, bytes: u64) -> Result<()>;
    /// Lets a hold go: its bytes no longer count. Unknown holds are fine.
    async fn release(&self, hold: Uuid) -> Result<()>;
    /// Lets go every hold whose expiry has passed; returns how many.
    async fn reap_expired(&self, now: DateTime<Utc>) -> Result<u64>;
    /// The bytes counted against `owner`.
    async fn used(&self, owner: UserId) -> Result<u64>;
}
