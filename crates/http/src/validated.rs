//! Answers that revalidate: a strong `ETag` from the body's SHA-256, `Cache-Control: no-cache`
//! (a cache keeps it but asks every time), and 304 to an `If-None-Match` that holds it.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use streamvault_core::reads::{Read, etag_of};

/// Who may keep an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The same for every caller: any cache may keep it (and must revalidate).
    Anyone,
    /// Built for the signed-in caller: only their browser may keep it.
    Caller,
}

/// `body` as `content_type`, or 304 when the client holds it already.
pub fn validated(headers: &HeaderMap, content_type: &'static str, body: Vec<u8>) -> Response {
    let etag = etag_of(&body);
    respond(headers, content_type, Bytes::from(body), &etag, Audience::Anyone)
}

/// A kept (or just built) read, or 304 when the client holds it already. The answer depends on
/// the session the request carries, so caches are told to keep one per credential.
pub fn kept(headers: &HeaderMap, content_type: &'static str, read: &Read, audience: Audience) -> Response {
    let mut response = respond(headers, content_type, read.body.clone(), &read.etag, audience);
    response.headers_mut().insert(VARY, HeaderValue::from_static("Cookie, X-Session-Id, Authorization"));
    response
}

/// The client holds `etag` already: its `If-None-Match` names it (or `*`). Weak comparison
/// (RFC 9110 13.1.2): `W/"x"` matches `"x"`.
pub fn holds(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag))
}

fn respond(headers: &HeaderMap, content_type: &'static str, body: Bytes, etag: &str, audience: Audience) -> Response {
    let fresh = holds(headers, etag);
    let validators = [
        (ETAG, HeaderValue::from_str(etag).expect("hex in quotes is a header value")),
        (
            CACHE_CONTROL,
            HeaderValue::from_static(match audience {
                Audience::Anyone => "no-cache",
                Audience::Caller => "private, no-cache",
            }),
        ),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, validators).into_response();
    }
    (validators, [(CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response()
}
