//! The ports: what the domain needs from the outside world. Each has an embedded default and a
//! scale-out adapter (`docs/architecture.md`, "Ports and adapters"); the things they pass are the
//! domain's own types, defined with their domain (`crate::videos`, `crate::drive`, ...).

pub mod blobs;
pub mod bus;
pub mod comments;
pub mod danmaku;
pub mod files;
pub mod health;
pub mod jobs;
pub mod media;
pub mod quota;
pub mod sessions;
pub mod social;
pub mod stamps;
pub mod throttle;
pub mod uploads;
pub mod users;
pub mod videos;
pub mod viewers;

pub use blobs::{BlobIndex, BlobRecord, BlobState, BlobStore, ByteStream, Referenced, blob_key, media_prefix};
pub use bus::{EventBus, Fanout, Missed, SUBSCRIBER_BACKLOG, Subscription};
pub use comments::CommentRepo;
pub use danmaku::DanmakuRepo;
pub use files::{ChallengeRepo, DeleteJob, FileRepo, FolderRepo, SecretStore};
pub use health::HealthCheck;
pub use jobs::{
    Claim, Job, JobAdmin, JobInfo, JobOutbox, JobQueue, JobState, LeasedJob, NewJob, OutboxJob, PeriodicLease,
    QueueStats,
};
pub use media::{HlsSpec, MediaTool, ProbeReport, Rendition, StillsSpec, Unusable};
pub use quota::{Charge, QuotaLedger};
pub use sessions::SessionStore;
pub use social::{BlockRepo, FollowRepo, HistoryRepo, MessageRepo, NotificationRepo, PlaylistRepo, RatingRepo};
pub use stamps::{Scope, Stamps};
pub use throttle::{Limit, LoginThrottle, ThrottlePolicy};
pub use uploads::{Acquired, AppendRecord, AppendedBytes, UploadRepo};
pub use users::UserRepo;
pub use videos::VideoRepo;
pub use viewers::{ViewRun, ViewerRegistry, Watching};
