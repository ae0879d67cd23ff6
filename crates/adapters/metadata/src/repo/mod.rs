pub(crate) mod blobs;
pub(crate) mod comments;
pub(crate) mod danmaku;
pub(crate) mod files;
pub(crate) mod folders;
pub(crate) mod jobs;
pub(crate) mod periodic;
pub(crate) mod quota;
pub(crate) mod sessions;
pub(crate) mod social;
pub(crate) mod uploads;
pub(crate) mod users;
pub(crate) mod videos;

use chrono::{DateTime, Utc};

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A byte count as stored (`BIGINT`); sizes never come near `i64::MAX`.
pub(crate) fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
