//! Background jobs: what is enqueued, and the queue the worker leases them from.

use std::time::Duration;

use crate::ids::{FileId, JobId, VideoId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// What a job does, with what: stored as its kind (the serde tag) and a JSON payload, parsed
/// once when a worker takes it ([`LeasedJob::job`]), as pict-rs's queue does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum Job {
    /// Drop a deleted video's references and, when nothing else needs them, its bytes
    /// (the seed's `video_del_rec`). `sha256` is the video's blob when it was deleted: collected
    /// even if an earlier run already removed the row and then failed.
    DeleteVideo { video_id: VideoId, sha256: Option<String> },
    /// Drop a deleted drive file's row and, when nothing else needs them, its bytes.
    DeleteFile { file_id: FileId, sha256: String },
    /// Remove a blob's bytes if nothing references it (queued with every stored blob, so bytes
    /// whose request failed or died are collected too).
    CollectBlob { sha256: String },
    /// Probe a video's original (ffprobe): duration, size, codecs; or fail it with a reason.
    ProbeVideo { video_id: VideoId },
    /// A video's poster and storyboard sprite.
    VideoStills { video_id: VideoId },
    /// A video's HLS ladder; the video is `ready` once it is stored.
    TranscodeVideo { video_id: VideoId },
    /// Put a newly public video in its channel's followers' feeds and notify them, in
    /// batches (idempotent: a batch done twice adds nothing).
    FanOutVideo { video_id: VideoId },
}

impl Job {
    /// Every kind, as stored.
    pub const KINDS: [&'static str; 7] = [
        "delete_video",
        "delete_file",
        "collect_blob",
        "probe_video",
        "video_stills",
        "transcode_video",
        "fan_out_video",
    ];

    /// The kind, as stored (and as a metrics label).
    pub fn kind(&self) -> &'static str {
        match self {
            Job::DeleteVideo { .. } => Self::KINDS[0],
            Job::DeleteFile { .. } => Self::KINDS[1],
            Job::CollectBlob { .. } => Self::KINDS[2],
            Job::ProbeVideo { .. } => Self::KINDS[3],
            Job::VideoStills { .. } => Self::KINDS[4],
            Job::TranscodeVideo { .. } => Self::KINDS[5],
            Job::FanOutVideo { .. } => Self::KINDS[6],
        }
    }

    /// The payload, as stored: the fields as a JSON object.
    pub fn payload(&self) -> String {
        let mut tagged = serde_json::to_value(self).expect("a job serializes");
        tagged["payload"].take().to_string()
    }

    /// From its stored kind and payload.
    pub fn parse(kind: &str, payload: &str) -> std::result::Result<Job, serde_json::Error> {
        let payload: serde_json::Value = serde_json::from_str(payload)?;
        serde_json::from_value(serde_json::json!({ "kind": kind, "payload": payload }))
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub job: Job,
    pub run_at: DateTime<Utc>,
    /// At most one pending job per key.
    pub dedup_key: Option<String>,
}

impl NewJob {
    /// Due now, at most one pending per kind and `subject`.
    pub fn once(job: Job, subject: impl std::fmt::Display) -> Self {
        let dedup_key = Some(format!("{}:{subject}", job.kind()));
        Self { job, run_at: Utc::now(), dedup_key }
    }
}

/// A job a worker holds until its lease runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeasedJob {
    pub id: JobId,
    /// As stored; [`LeasedJob::job`] parses them.
    pub kind: String,
    pub payload: String,
    /// This run's number, from 1.
    pub attempt: u32,
    pub max_attempts: u32,
    pub worker: String,
}

impl LeasedJob {
    /// What to do: a kind or payload this build does not know fails (and is dead-lettered).
    pub fn job(&self) -> std::result::Result<Job, serde_json::Error> {
        Job::parse(&self.kind, &self.payload)
    }
}

/// The job-queue port: at-least-once delivery with leases. A job whose worker dies is leased
/// again when its lease runs out, so handlers must be idempotent.
#[async_trait]
pub trait JobQueue: Send + Sync {
    async fn enqueue(&self, job: &NewJob) -> Result<()>;
    /// The oldest due job (queued and due, or running with an expired lease), now leased to
    /// `worker` for `lease`; `None` when nothing is due.
    async fn lease(&self, worker: &str, lease: Duration) -> Result<Option<LeasedJob>>;
    /// Extends a running job's lease (a heartbeat while it runs); `false` if the lease was lost.
    async fn extend(&self, job: &LeasedJob, lease: Duration) -> Result<bool>;
    /// Marks the job done, if `job`'s lease is still the current one.
    async fn complete(&self, job: &LeasedJob) -> Result<()>;
    /// Records a failure: the job runs again at `retry_at`, or goes to the dead-letter list
    /// (`None`).
    async fn fail(&self, job: &LeasedJob, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()>;
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for its time (or for a worker).
    Queued,
    /// Being handed to the message broker by a relay.
    Relaying,
    /// In the message broker, waiting for a worker.
    Sent,
    /// A worker holds it (until its lease runs out).
    Running,
    Done,
    /// Out of attempts: in the dead-letter list for an operator.
    Dead,
}

impl JobState {
    pub const ALL: [JobState; 6] =
        [JobState::Queued, JobState::Relaying, JobState::Sent, JobState::Running, JobState::Done, JobState::Dead];

    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Relaying => "relaying",
            JobState::Sent => "sent",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Finished: `done` or `dead` (what may be purged).
    pub fn is_finished(self) -> bool {
        matches!(self, JobState::Done | JobState::Dead)
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A job as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobInfo {
    pub id: JobId,
    pub kind: String,
    pub state: JobState,
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
    async fn list(&self, state: Option<JobState>, limit: u64) -> Result<Vec<JobInfo>>;
    async fn get(&self, id: JobId) -> Result<Option<JobInfo>>;
    /// Makes a dead, queued or sent (broker) job due now, with a fresh set of attempts; `false`
    /// if there is no such job in those states.
    async fn retry(&self, id: JobId) -> Result<bool>;
    /// Deletes finished jobs (`done` or `dead`: any other state deletes nothing); returns how
    /// many.
    async fn purge(&self, state: JobState) -> Result<u64>;
    async fn stats(&self) -> Result<QueueStats>;
}

/// A job handed from the outbox (the `jobs` table) to a message broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxJob {
    pub id: JobId,
    pub run_at: DateTime<Utc>,
}

/// What a worker gets when it claims a delivered job in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Ours to run.
    Won(LeasedJob),
    /// Not to run before then: another worker holds it (a redelivery while the first run is
    /// alive), or its retry is not due (a copy whose ack was lost).
    Busy(DateTime<Utc>),
    /// Finished, dead-lettered or purged: the message is stale.
    Gone,
}

/// The record side of a broker-backed queue: jobs are written to the outbox in the same
/// transaction as the change that caused them, relayed to the broker, and claimed here by the
/// worker that receives them, so that two workers never run one job at once even if the broker
/// delivers it twice.
#[async_trait]
pub trait JobOutbox: Send + Sync {
    /// Up to `limit` due jobs not yet handed to the broker, reserved for `relay` for `lease`.
    async fn take_for_relay(&self, relay: &str, lease: Duration, limit: u64) -> Result<Vec<OutboxJob>>;
    /// The broker confirmed the job.
    async fn mark_sent(&self, id: JobId) -> Result<()>;
    /// Leases a delivered job to `worker`.
    async fn claim(&self, id: JobId, worker: &str, lease: Duration) -> Result<Claim>;
    /// Records a failed run whose retry the broker will deliver at `retry_at`.
    async fn retry_later(&self, job: &LeasedJob, error: &str, retry_at: DateTime<Utc>) -> Result<()>;
}

/// Cluster-wide leases for periodic tasks: in each period exactly one worker replica runs a
/// task.
#[async_trait]
pub trait PeriodicLease: Send + Sync {
    /// `true` if `holder` now holds `task` for `period` (no one held it, or the last lease ran
    /// out).
    async fn try_acquire(&self, task: &str, holder: &str, period: Duration) -> Result<bool>;
}
