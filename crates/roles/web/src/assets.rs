//! Static assets, embedded in the binary: nothing is read from disk or fetched from a CDN.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;
use streamvault_http::schema::Binary;

/// The vendoring scripts and npm manifests stay in the repository, out of the binary.
#[derive(Embed)]
#[folder = "assets/"]
#[exclude = "vendor/package.json"]
#[exclude = "vendor/package-lock.json"]
#[exclude = "vendor/update.sh"]
#[exclude = "*/.gitignore"]
#[exclude = "*/node_modules/*"]
struct Assets;

/// The site's scripts, styles and images, embedded in the binary.
#[utoipa::path(get, path = "/assets/{path}", operation_id = "web_asset", tag = "web",
    params(("path" = String, Path, description = "The asset's path")),
    responses(
        (status = 200, description = "The asset", content_type = "*/*", body = Binary),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 404, description = "No such asset", content_type = "text/plain", body = String),
    ))]
pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(file) = Assets::get(&path) else {
        return (StatusCode::NOT_FOUND, [(CONTENT_TYPE, "text/plain; charset=utf-8")], "no such asset").into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    // URLs carry no fingerprint: cache an hour, then revalidate with the tag.
    let common = [(ETAG, etag.clone()), (CACHE_CONTROL, "public, max-age=3600".to_owned())];
    if headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let mime = file.metadata.mimetype().to_owned();
    let mime =
        if mime.starts_with("text/") || mime.ends_with("javascript") { format!("{mime}; charset=utf-8") } else { mime };
    (common, [(CONTENT_TYPE, mime), (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned())], file.data).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ships_the_pinned_libraries_and_their_licences_not_the_tooling() {
        for path in [
            "vendor/hls.min.js",
            "vendor/tus.min.js",
            "vendor/hls.js.LICENSE",
            "vendor/tus-js-client.LICENSE",
            "css/site.css",
            "js/watch.js",
            "js/danmaku.js",
            "js/social.js",
        ] {
            assert!(Assets::get(path).is_some(), "{path} embedded");
        }
        for path in ["vendor/package.json", "vendor/update.sh"] {
            assert!(Assets::get(path).is_none(), "{path} left out");
        }
    }
}
