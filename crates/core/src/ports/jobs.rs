//! Background jobs: what is enqueued, and the queue the worker leases them from.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::Result;

/// Job kinds, as stored.
pub mod kind {
    /// Drop a deleted video's references and, when nothing else needs them, its bytes
    /// (the seed's `video_del_rec`).
    pub const DELETE_VIDEO: &str = "delete_video";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: &'static str,
    /// JSON.
    pub payload: String,
    pub run_at: DateTime<Utc>,
    /// At most one pending job per key.
    pub dedup_key: Option<String>,
}

/// A job a worker holds until its lease runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeasedJob {
    pub id: Uuid,
    pub kind: String,
    pub payload: String,
    /// This run's number, from 1.
    pub attempt: u32,
    pub max_attempts: u32,
    pub worker: String,
}

/// The job-queue port: at-least-once delivery with leases. A job whose worker dies is leased
/// again when its lease runs out, so handlers must be idempotent.
#[async_trait]
pub trait JobQueue: Send + Sync {
    async fn enqueue(&self, job: &NewJob) -> Result<()>;
    /// The oldest due job (queued and due, or running with an expired lease), now leased to
    /// `worker` for `lease`; `None` when nothing is due.
    async fn lease(&self, worker: &str, lease: Duration) -> Result<Option<LeasedJob>>;
    /// Marks the job done, if `job`'s lease is still the current one.
    async fn complete(&self, job: &LeasedJob) -> Result<()>;
    /// Records a failure: the job runs again at `retry_at`, or goes to the dead-letter list
    /// (`None`).
    async fn fail(&self, job: &LeasedJob, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()>;
}

/// A job as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobInfo {
    pub id: Uuid,
    pub kind: String,
    pub state: String,
    pub payload: String,
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_at: DateTime<Utc>,
    pub leased_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Counts for the queue's metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub queued: u64,
    pub running: u64,
    pub dead: u64,
    /// How long the oldest due job has waited, in seconds.
    pub oldest_due_secs: u64,
}

/// What operators do with jobs (`streamvault jobs …`).
#[async_trait]
pub trait JobAdmin: Send + Sync {
    /// Newest first, optionally of one state.
    async fn list(&self, state: Option<&str>, limit: u64) -> Result<Vec<JobInfo>>;
    async fn get(&self, id: Uuid) -> Result<Option<JobInfo>>;
    /// Makes a dead or queued job due now, with a fresh set of attempts; `false` if there is no
    /// such job in those states.
    async fn retry(&self, id: Uuid) -> Result<bool>;
    /// Deletes finished jobs (`done` or `dead`); returns how many.
    async fn purge(&self, state: &str) -> Result<u64>;
    async fn stats(&self) -> Result<QueueStats>;
}

/// Cluster-wide leases for periodic tasks: in each period exactly one worker replica runs a
/// task.
#[async_trait]
pub trait PeriodicLease: Send + Sync {
    /// `true` if `holder` now holds `task` for `period` (no one held it, or the last lease ran
    /// out).
    async fn try_acquire(&self, task: &str, holder: &str, period: Duration) -> Result<bool>;
}
