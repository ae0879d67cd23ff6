//! Request bodies that are refused part-way.
//!
//! HTTP/1.1 has no way to refuse a body politely: if the server answers and closes while the
//! client is still sending, the client usually sees a reset instead of the answer. So a
//! refused body is read and dropped for a little while before the answer goes out; a larger or
//! slower one is cut off.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use futures::{Stream, StreamExt};

/// At most this much of a refused body is read and dropped.
const LINGER_BYTES: usize = 16 * 1024 * 1024;
/// For at most this long.
const LINGER_TIME: Duration = Duration::from_secs(2);

pub async fn linger<S, E>(mut rest: S)
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let drain = async {
        let mut seen = 0usize;
        while let Some(Ok(chunk)) = rest.next().await {
            seen += chunk.len();
            if seen > LINGER_BYTES {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIME, drain).await;
}

/// Whether a request with these headers sends a body.
pub fn carries_body(headers: &HeaderMap) -> bool {
    headers.contains_key(TRANSFER_ENCODING) || headers.get(CONTENT_LENGTH).is_some_and(|v| v != "0")
}

/// An error answer to a request that sent a body: the body may be partly unread, and then the
/// connection ends after the answer. Said aloud (`Connection: close`), so that the client does
/// not send its next request on it and meet a reset.
pub fn close_if_refused(sent_body: bool, res: &mut Response) {
    if sent_body && (res.status().is_client_error() || res.status().is_server_error()) {
        res.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    }
}
