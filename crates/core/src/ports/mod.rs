//! The ports: what the domain needs from the outside world. Each has an embedded default and a
//! scale-out adapter (see DESIGN.md, section 2).

pub mod blobs;
pub mod comments;
pub mod files;
pub mod health;
pub mod jobs;
pub mod media;
pub mod quota;
pub mod sessions;
pub mod throttle;
pub mod uploads;
pub mod users;
pub mod videos;

pub use blobs::{BlobIndex, BlobRecord, BlobState, BlobStore, ByteStream, Referenced, blob_key, media_prefix};
pub use comments::{Comment, CommentRepo};
pub use files::{
    Challenge, ChallengeRepo, DeleteJob, DriveFile, FileCursor, FileQuery, FileRepo, FileSort, Folder, FolderRepo,
    SecretStore,
};
pub use health::HealthCheck;
pub use jobs::{
    Claim, JobAdmin, JobInfo, JobOutbox, JobQueue, JobState, LeasedJob, NewJob, OutboxJob, PeriodicLease, QueueStats,
};
pub use media::{HlsSpec, MediaTool, ProbeReport, Rendition, StillsSpec, Unusable};
pub use quota::{Charge, QuotaLedger};
pub use sessions::{Session, SessionStore};
pub use throttle::{Limit, LoginThrottle, ThrottlePolicy};
pub use uploads::{Acquired, AppendRecord, Concat, Segment, Upload, UploadRepo, UploadResult, upload_prefix};
pub use users::{User, UserRepo};
pub use videos::{
    RenditionInfo, Video, VideoMedia, VideoOutputs, VideoPatch, VideoRepo, VideoSort, VideoSource, VideoStatus,
    Visibility,
};
