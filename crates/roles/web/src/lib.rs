//! The web role: the pages people use. The full site arrives with the web issue (#8); until
//! then the root page says what is running and where the API and its reference are.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>streamvault</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#1d1d1f}code{background:#f2f2f5;padding:.1rem .3rem;border-radius:4px}</style>
</head><body>
<h1>streamvault</h1>
<p>Your self-hosted video site and cloud drive is running.</p>
<ul>
<li>API reference: <a href="/api/docs/">/api/docs</a> (OpenAPI document at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>)</li>
<li>Sign up with <code>POST /api/v1/user</code>, create a video with <code>POST /api/v1/user/{name}/videos</code>,
upload its bytes to <code>POST /stream/v1/videos/{id}/upload</code> and play it at <code>/stream/v1/videos/{id}</code></li>
<li>Health: <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a></li>
</ul>
<p>The site's pages (home, watch, upload, drive) arrive with the web issue.</p>
</body></html>
"#;

pub fn router() -> Router {
    Router::new().route("/", get(index))
}

async fn index() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'self'; style-src 'self' 'unsafe-inline'"),
        ],
        INDEX,
    )
}
