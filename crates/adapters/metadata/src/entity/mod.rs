//! sea-orm entities. Times are stored as UTC milliseconds in BIGINT columns: one type that
//! behaves the same on all three databases and does not end in 2038.

pub(crate) mod blob;
pub(crate) mod challenge;
pub(crate) mod comment;
pub(crate) mod danmaku;
pub(crate) mod danmaku_filter;
pub(crate) mod file;
pub(crate) mod folder;
pub(crate) mod job;
pub(crate) mod periodic_lease;
pub(crate) mod quota_hold;
pub(crate) mod secret;
pub(crate) mod session;
pub(crate) mod social;
pub(crate) mod upload;
pub(crate) mod user;
pub(crate) mod video;
