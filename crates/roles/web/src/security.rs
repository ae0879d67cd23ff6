//! Response headers every page gets: a strict Content-Security-Policy (no inline script or
//! style, nothing from other origins), no framing, no MIME sniffing, no referrer leaks.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::middleware::Next;
use axum::response::Response;

/// `media-src`/`img-src`/`connect-src` allow `https:` too: with object storage, playback and
/// HLS segments are redirected to presigned bucket URLs, whose origin only the operator knows.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; \
media-src 'self' blob: https:; connect-src 'self' https:; worker-src 'self' blob:; object-src 'none'; \
frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

pub async fn headers(req: Request, next: Next) -> Response {
    with_headers(next.run(req).await)
}

pub fn with_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    res
}
