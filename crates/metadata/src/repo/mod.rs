pub(crate) mod blobs;
pub(crate) mod comments;
pub(crate) mod files;
pub(crate) mod folders;
pub(crate) mod jobs;
pub(crate) mod periodic;
pub(crate) mod sessions;
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
