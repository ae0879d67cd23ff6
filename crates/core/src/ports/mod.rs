//! The ports: what the domain needs from the outside world. Each has an embedded default and a
//! scale-out adapter (see DESIGN.md, section 2).

pub mod blobs;
pub mod comments;
pub mod files;
pub mod health;
pub mod jobs;
pub mod media;
pub mod sessions;
pub mod throttle;
pub mod uploads;
pub mod users;
pub mod videos;

pub use blobs::{BlobIndex, BlobStore, ByteStream, blob_key, media_prefix};
pub use comments::{Comment, CommentRepo};
pub use files::{
    Challenge, ChallengeRepo, DriveFile, FileCursor, FileQuery, FileRepo, FileSort, Folder, FolderRepo, SecretStore,
};
pub use health::HealthCheck;
pub use jobs::{
    Claim, JobAdmin, JobInfo, JobOutbox, JobQueue, LeasedJob, NewJob, OutboxJob, PeriodicLease, QueueStats,
};
pub use media::{HlsSpec, MediaTool, ProbeReport, Rendition, StillsSpec, Unusable};
pub use sessions::{Session, SessionStore};
pub use throttle::LoginThrottle;
pub use uploads::{Concat, Upload, UploadRepo};
pub use users::{User, UserRepo};
pub use videos::{
    RenditionInfo, Video, VideoMedia, VideoOutputs, VideoPatch, VideoRepo, VideoSort, VideoSource, VideoStatus,
    Visibility,
};
