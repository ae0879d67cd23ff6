//! The metadata-store port: one sea-orm code path over SQLite (the embedded default),
//! MySQL/MariaDB and PostgreSQL, with versioned migrations in Rust.

mod connect;
mod entity;
mod error;
pub mod migration;
mod repo;

pub use connect::MetadataStore;
pub use repo::blobs::SqlBlobIndex;
pub use repo::comments::SqlCommentRepo;
pub use repo::danmaku::SqlDanmakuRepo;
pub use repo::files::SqlFileRepo;
pub use repo::folders::{SqlChallengeRepo, SqlFolderRepo, SqlSecretStore};
pub use repo::jobs::SqlJobQueue;
pub use repo::periodic::SqlPeriodicLease;
pub use repo::quota::SqlQuotaLedger;
pub use repo::sessions::SqlSessionStore;
pub use repo::social::blocks::SqlBlockRepo;
pub use repo::social::follows::SqlFollowRepo;
pub use repo::social::history::SqlHistoryRepo;
pub use repo::social::messages::SqlMessageRepo;
pub use repo::social::notifications::SqlNotificationRepo;
pub use repo::social::playlists::SqlPlaylistRepo;
pub use repo::social::ratings::SqlRatingRepo;
pub use repo::uploads::SqlUploadRepo;
pub use repo::users::SqlUserRepo;
pub use repo::videos::SqlVideoRepo;
