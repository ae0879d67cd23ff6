//! One error type for the whole domain. Each variant maps to exactly one HTTP status in the
//! http crate (`status_of`), and carries a stable machine-readable [`ErrorCode`]. Failures of a
//! backend or a bug keep their cause (`source`), which is logged once, as a chain, where the
//! error ends (the HTTP edge, or the job runner), and never sent to a client.

use std::borrow::Cow;
use std::time::Duration;

pub use crate::error_code::ErrorCode;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Any error, as a cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed or a field fails validation (400).
    #[error("{message}")]
    Invalid { code: ErrorCode, message: String },
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
    Conflict { code: ErrorCode, message: String },
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
    #[error("too many attempts, retry in {} s", (retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)).max(1))]
    TooManyRequests { retry_after: Duration },
    /// A backend (database, Redis, RabbitMQ, object storage, the local disk, ffmpeg) did not
    /// answer, or a transient state that a retry resolves (503 with `Retry-After`).
    #[error("{what}")]
    Unavailable {
        what: Cow<'static, str>,
        #[source]
        source: Option<BoxError>,
    },
    /// A bug or an unexpected backend answer (500). Logged with its cause, never sent.
    #[error("{what}")]
    Internal {
        what: Cow<'static, str>,
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    pub fn invalid(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Invalid { code, message: message.into() }
    }

    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Conflict { code, message: message.into() }
    }

    /// 400 for a required field that is absent.
    pub fn missing(field: &str) -> Self {
        Error::invalid(ErrorCode::MissingField, format!("{field} is required"))
    }

    /// `what` is down, because of `source` (503).
    pub fn unavailable(what: impl Into<Cow<'static, str>>, source: impl Into<BoxError>) -> Self {
        Error::Unavailable { what: what.into(), source: Some(source.into()) }
    }

    /// A transient state a retry resolves, with no error behind it (503).
    pub fn retry_later(what: impl Into<Cow<'static, str>>) -> Self {
        Error::Unavailable { what: what.into(), source: None }
    }

    /// An unexpected failure (500), keeping it as the cause.
    pub fn internal(source: impl Into<BoxError>) -> Self {
        Error::Internal { what: "unexpected failure".into(), source: Some(source.into()) }
    }

    /// An unexpected failure while doing `what` (500).
    pub fn internal_in(what: impl Into<Cow<'static, str>>, source: impl Into<BoxError>) -> Self {
        Error::Internal { what: what.into(), source: Some(source.into()) }
    }

    /// A state that should not exist (500), e.g. a stored value this build cannot read.
    pub fn bug(what: impl Into<Cow<'static, str>>) -> Self {
        Error::Internal { what: what.into(), source: None }
    }

    /// The stable `error_code` sent to clients.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Invalid { code, .. } | Error::Conflict { code, .. } => *code,
            Error::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Locked(_) => ErrorCode::Locked,
            Error::ChecksumMismatch(_) => ErrorCode::ChecksumMismatch,
            Error::Gone(_) => ErrorCode::Gone,
            Error::TooLarge(_) => ErrorCode::PayloadTooLarge,
            Error::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Error::TooManyRequests { .. } => ErrorCode::TooManyRequests,
            Error::Unavailable { .. } => ErrorCode::BackendUnavailable,
            Error::Internal { .. } => ErrorCode::InternalError,
        }
    }

    /// The error and every cause under it, `outer: inner: root`: what the logs and a failed
    /// job's `last_error` show.
    pub fn report(&self) -> String {
        let mut out = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_kept_and_reported_as_a_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full");
        let e = Error::unavailable("staging: write failed", io);
        assert_eq!(e.report(), "staging: write failed: disk full");
        assert_eq!(e.code(), ErrorCode::BackendUnavailable);
        let source = std::error::Error::source(&e).unwrap();
        assert_eq!(source.downcast_ref::<std::io::Error>().unwrap().kind(), std::io::ErrorKind::StorageFull);
        assert_eq!(Error::bug("no such state").report(), "no such state");
        assert_eq!(Error::internal("boom").report(), "unexpected failure: boom");
    }
}
