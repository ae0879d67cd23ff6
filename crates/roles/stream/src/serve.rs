//! Serving a blob's bytes: validators, conditional and range requests, the redirect to object
//! storage, and the stream slot held by the body. Videos and drive files both go through here.

use std::time::Duration;

use axum::body::Body;
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    LAST_MODIFIED, LOCATION, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use streamvault_core::Error;
use streamvault_core::ports::blob_key;
use streamvault_core::storage::{BlobSource, in_transit};
use streamvault_http::{ApiError, ClientOrigin};

use crate::limiter::Held;
use crate::range::{Plan, Validators, http_date, plan};
use crate::{PlaybackMode, StreamState};

/// How long a presigned URL for object storage stays valid.
const PRESIGN_TTL: Duration = Duration::from_secs(3600);

/// Where the bytes are.
pub enum Stored<'a> {
    /// A content-addressed blob (an original or a drive file), by its SHA-256; it may still be
    /// held on the disk of the node that took the upload.
    Blob(&'a str),
    /// A derived file in primary storage (a video's poster or HLS parts), by key, with the
    /// entity tag to serve it under.
    Derived { key: String, etag: String },
}

/// What is being served.
pub struct Representation<'a> {
    pub stored: Stored<'a>,
    pub size: u64,
    pub mime: &'a str,
    pub last_modified: DateTime<Utc>,
    pub cache_control: &'static str,
    /// `Content-Disposition`, for downloads.
    pub disposition: Option<String>,
}

/// The request headers every byte route reads (RFC 9110 ranges and conditional requests), for
/// the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // documentation only: `plan` reads them from the header map
pub struct Conditional {
    /// One range (`bytes=<first>-<last>`, `bytes=<first>-`, `bytes=-<suffix>`) gets 206; several
    /// ranges, or a header this server cannot read, get the whole file (200); a range outside
    /// the file gets 416.
    #[param(rename = "Range", nullable = false)]
    range: Option<String>,
    /// Serve the range only if the file is still this one (an entity tag or the exact date),
    /// else the whole file.
    #[param(rename = "If-Range", nullable = false)]
    if_range: Option<String>,
    /// 304 when the file's entity tag is among these (or `*`).
    #[param(rename = "If-None-Match", nullable = false)]
    if_none_match: Option<String>,
    /// 304 when the file has not changed since (without `If-None-Match`).
    #[param(rename = "If-Modified-Since", nullable = false)]
    if_modified_since: Option<String>,
}

/// What a request to serve bytes says: its method, headers, and the client it comes from.
pub struct Ask<'a> {
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
    pub client: Option<&'a ClientOrigin>,
}

pub async fn serve_blob(st: &StreamState, ask: Ask<'_>, rep: Representation<'_>) -> Result<Response, ApiError> {
    let Ask { method, headers, client } = ask;
    let etag = match &rep.stored {
        Stored::Blob(sha256) => format!("\"{sha256}\""),
        Stored::Derived { etag, .. } => etag.clone(),
    };
    let decision = plan(headers, rep.size, &Validators { etag: &etag, last_modified: rep.last_modified });

    // Owned strings and static values become header values without a copy.
    let mut res = Response::builder()
        .header(ETAG, etag)
        .header(LAST_MODIFIED, http_date(rep.last_modified))
        .header(ACCEPT_RANGES, HeaderValue::from_static("bytes"))
        .header(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"))
        .header(CACHE_CONTROL, HeaderValue::from_static(rep.cache_control));
    if let Some(d) = &rep.disposition {
        res = res.header(CONTENT_DISPOSITION, d);
    }

    let range = match decision {
        Plan::NotModified => return res.status(StatusCode::NOT_MODIFIED).body(Body::empty()).map_err(internal),
        Plan::Unsatisfiable => {
            return res
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(CONTENT_RANGE, format!("bytes */{}", rep.size))
                .body(Body::empty())
                .map_err(internal);
        }
        Plan::Full => 0..rep.size,
        Plan::Partial(r) => {
            res = res
                .status(StatusCode::PARTIAL_CONTENT)
                .header(CONTENT_RANGE, format!("bytes {}-{}/{}", r.start, r.end - 1, rep.size));
            r
        }
    };
    let (key, source) = match &rep.stored {
        Stored::Blob(sha256) => (blob_key(sha256), st.storage.source(sha256).await?),
        Stored::Derived { key, .. } => (key.clone(), BlobSource::Primary),
    };
    if let BlobSource::Elsewhere(node) = &source {
        return Err(ApiError(in_transit(node)));
    }

    // Derived files: their handler decided (playlists must not be redirected).
    let redirectable = matches!(rep.stored, Stored::Blob(_)) && matches!(source, BlobSource::Primary);
    if redirectable && st.blobs.is_remote() && st.playback == PlaybackMode::Redirect {
        // The seed's OSS redirect: the client fetches (with its Range) from object storage.
        if let Some(response) = to_bucket(st, &key, rep.mime, rep.disposition.as_deref()).await? {
            return Ok(response);
        }
    }

    res = res.header(CONTENT_TYPE, rep.mime).header(CONTENT_LENGTH, range.end - range.start);
    if method == Method::HEAD {
        return res.body(Body::empty()).map_err(internal);
    }
    let slot = st.limiter.try_acquire(client.map(ClientOrigin::limit_addr))?;
    let mut stream = match &rep.stored {
        Stored::Blob(sha256) => st.storage.read_from(&source, sha256, range.clone()).await?,
        Stored::Derived { key, .. } => st.blobs.read(key, range.clone()).await?,
    };
    // The first bytes are read before the answer goes out: a store that cannot give them
    // (object storage down, for a proxied read) is a clean 503 with Retry-After, not a 200
    // whose body breaks off.
    let first = match stream.next().await {
        Some(Ok(chunk)) => Some(chunk),
        Some(Err(e)) => return Err(ApiError(Error::unavailable("reading the blob", e))),
        None => None,
    };
    let stream = futures::stream::iter(first.map(Ok)).chain(stream).boxed();
    let response = res.body(Body::from_stream(Held::new(stream, slot))).map_err(internal)?;
    Ok(response)
}

/// A redirect to a presigned URL of `key` in object storage, served with these headers; `None`
/// when the store cannot presign.
pub async fn to_bucket(
    st: &StreamState,
    key: &str,
    mime: &str,
    disposition: Option<&str>,
) -> Result<Option<Response>, ApiError> {
    let Some(url) = st.blobs.presign_get(key, PRESIGN_TTL, mime, disposition).await? else { return Ok(None) };
    let response = Response::builder()
        .status(StatusCode::FOUND)
        .header(LOCATION, url)
        .header(CACHE_CONTROL, "private, no-store")
        .body(Body::empty())
        .map_err(internal)?;
    Ok(Some(response))
}

fn internal(e: axum::http::Error) -> ApiError {
    ApiError(streamvault_core::Error::internal(e))
}
