//! Answers that revalidate: a strong `ETag` from the body's SHA-256, `Cache-Control: no-cache`
//! (a cache keeps it but asks every time), and 304 to an `If-None-Match` that holds it.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// `body` as `content_type`, or 304 when the client holds it already.
pub fn validated(headers: &HeaderMap, content_type: &'static str, body: Vec<u8>) -> Response {
    let digest = hex::encode(&Sha256::digest(&body)[..16]);
    let etag = format!("\"{digest}\"");
    // Weak comparison (RFC 9110 13.1.2): `W/"x"` matches `"x"`.
    let fresh = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag));
    let validators = [
        (ETAG, HeaderValue::from_str(&etag).expect("hex in quotes is a header value")),
        (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, validators).into_response();
    }
    (validators, [(CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response()
}
