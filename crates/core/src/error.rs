//! One error type for the whole domain. Each variant maps to exactly one HTTP status in the
//! http crate, and carries a stable machine-readable `error_code`.

use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed or a field fails validation (400).
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// No valid credentials were presented (401).
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but not allowed to act on this resource (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The resource does not exist, or is hidden from this caller (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state, e.g. a taken username (409).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Another request holds the resource, e.g. a resumable upload mid-append (423).
    #[error("{0}")]
    Locked(&'static str),
    /// The body does not match the checksum the client sent (tus: 460).
    #[error("{0}")]
    ChecksumMismatch(String),
    /// The resource existed and is gone for good, e.g. an expired upload (410).
    #[error("{0}")]
    Gone(&'static str),
    /// The body is larger than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    /// The body's media type is not one this endpoint takes (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Throttled; the client may retry after the given delay (429).
    #[error("too many attempts, retry in {} s", retry_after.as_secs().max(1))]
    TooManyRequests { retry_after: Duration },
    /// A backend (database, Redis, ...) did not answer (503).
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected backend answer (500). The message is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid { code, message: message.into() }
    }

    /// 400 for a required field that is absent.
    pub fn missing(field: &str) -> Self {
        Error::invalid("missing_field", format!("{field} is required"))
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        Error::Internal(err.to_string())
    }

    /// The stable `error_code` sent to clients.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { code, .. } | Error::Conflict { code, .. } => code,
            Error::Unauthenticated(_) => "unauthenticated",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::Locked(_) => "locked",
            Error::ChecksumMismatch(_) => "checksum_mismatch",
            Error::Gone(_) => "gone",
            Error::TooLarge(_) => "payload_too_large",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::TooManyRequests { .. } => "too_many_requests",
            Error::Unavailable(_) => "backend_unavailable",
            Error::Internal(_) => "internal_error",
        }
    }
}
