//! tus 1.0 (<https://tus.io/protocols/resumable-upload>) at `/stream/v1/tus/`: creation,
//! creation-with-upload, creation-defer-length, expiration, checksum (sha1, sha256),
//! termination and concatenation, over [`Uploads`](streamvault_core::uploads::Uploads).

use std::collections::HashMap;
use streamvault_core::ErrorCode;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use streamvault_core::accounts::User;
use streamvault_core::ids::{Id, UploadId};
use streamvault_core::uploads::{ALGORITHMS, Append, Appended, Checksum, NewUpload, parse_metadata};
use streamvault_core::uploads::{Concat, Upload, UploadResult};
use streamvault_core::{Error, Result};
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::schema::Binary;
use streamvault_http::{ApiError, Auth};

use crate::StreamState;
use crate::range::http_date;

pub const BASE: &str = "/stream/v1/tus/";
const VERSION: &str = "1.0.0";
const EXTENSIONS: &str =
    "creation,creation-with-upload,creation-defer-length,expiration,checksum,termination,concatenation";
const PATCH_TYPE: &str = "application/offset+octet-stream";

/// The tus version header every request but `OPTIONS` carries (`OPTIONS` is how a client finds
/// out the version): without the version we speak, 412. An extractor, so that it runs only once
/// the route and method matched (another method is 405).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct Resumable {
    /// The protocol version; anything else is 412.
    #[param(rename = "Tus-Resumable", value_type = String, required = true, pattern = r"^1\.0\.0$")]
    _version: (),
}

impl<S: Send + Sync> FromRequestParts<S> for Resumable {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        if parts.headers.get("tus-resumable").is_some_and(|v| v == VERSION) {
            return Ok(Resumable { _version: () });
        }
        let mut r = (StatusCode::PRECONDITION_FAILED, "Tus-Resumable: 1.0.0 is required\n").into_response();
        r.headers_mut().insert("tus-version", HeaderValue::from_static(VERSION));
        Err(r)
    }
}

/// Every tus response says `Tus-Resumable` and what a browser on another origin may read; a
/// CORS preflight is answered here.
pub async fn protocol(req: Request, next: Next) -> Response {
    let cross_origin = req.headers().contains_key(axum::http::header::ORIGIN);
    let sent_body = streamvault_http::body::carries_body(req.headers());
    if req.method() == axum::http::Method::OPTIONS
        && req.headers().contains_key(axum::http::header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return preflight();
    }
    let mut res = next.run(req).await;
    res.headers_mut().insert("tus-resumable", HeaderValue::from_static(VERSION));
    streamvault_http::body::close_if_refused(sent_body, &mut res);
    if cross_origin {
        // Any origin, without credentials: browsers then send no cookies, so only a bearer
        // token the page holds can authorise an upload from another site.
        res.headers_mut().insert("access-control-allow-origin", HeaderValue::from_static("*"));
    }
    // Browsers (Uppy, tus-js-client) read these from other origins.
    res.headers_mut().insert(
        "access-control-expose-headers",
        HeaderValue::from_static(
            "Location, Upload-Offset, Upload-Length, Upload-Metadata, Upload-Expires, Upload-Concat, \
             Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, Streamvault-File-Id, Streamvault-Video-Id",
        ),
    );
    res
}

/// A browser's CORS preflight for a tus request from another origin (Uppy, tus-js-client on
/// another site).
fn preflight() -> Response {
    let mut h = HeaderMap::new();
    h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    h.insert("access-control-allow-methods", HeaderValue::from_static("POST, GET, HEAD, PATCH, DELETE, OPTIONS"));
    h.insert(
        "access-control-allow-headers",
        HeaderValue::from_static(
            "Authorization, Content-Type, Tus-Resumable, Upload-Length, Upload-Metadata, Upload-Offset, \
             Upload-Defer-Length, Upload-Concat, Upload-Checksum, X-HTTP-Method-Override, X-Requested-With, \
             X-Session-Id",
        ),
    );
    h.insert("access-control-max-age", HeaderValue::from_static("86400"));
    h.insert("tus-resumable", HeaderValue::from_static(VERSION));
    (StatusCode::NO_CONTENT, h).into_response()
}

/// The server's tus capabilities; with `Access-Control-Request-Method`, a CORS preflight.
#[utoipa::path(options, path = "/stream/v1/tus/", operation_id = "tus_options", tag = "tus",
    responses((status = 204, description = "Capabilities", headers(
        ("Tus-Version" = String), ("Tus-Extension" = String), ("Tus-Max-Size" = u64), ("Tus-Checksum-Algorithm" = String)))))]
pub async fn options(State(st): State<StreamState>) -> Response {
    let mut h = HeaderMap::new();
    h.insert("tus-version", HeaderValue::from_static(VERSION));
    h.insert("tus-extension", HeaderValue::from_static(EXTENSIONS));
    h.insert("tus-max-size", HeaderValue::from(st.uploads.max_size()));
    h.insert("tus-checksum-algorithm", HeaderValue::from_static(ALGORITHMS));
    (StatusCode::NO_CONTENT, h).into_response()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Result<Option<&'a str>> {
    match h.get(name) {
        None => Ok(None),
        Some(v) => {
            v.to_str().map(Some).map_err(|_| Error::invalid(ErrorCode::BadHeader, format!("{name} is not text")))
        }
    }
}

fn number(h: &HeaderMap, name: &'static str) -> Result<Option<u64>> {
    header(h, name)?
        .map(|v| {
            // Digits only: no sign, no spaces, no hex.
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::invalid(ErrorCode::BadHeader, format!("{name} must be a non-negative integer")));
            }
            v.parse().map_err(|_| Error::invalid(ErrorCode::BadHeader, format!("{name} is too large")))
        })
        .transpose()
}

/// An id in the upload's metadata (`video_id`, `folder_id`), if given.
fn id_in<T: Id>(meta: &HashMap<String, String>, key: &str) -> Result<Option<T>> {
    match meta.get(key).filter(|v| !v.is_empty()) {
        Some(v) => {
            T::parse(v).map(Some).map_err(|_| Error::invalid(ErrorCode::BadMetadata, format!("{key} is not an id")))
        }
        None => Ok(None),
    }
}

/// The upload id at the end of a tus URL (absolute or a path), for `Upload-Concat: final;…`.
fn id_from_url(url: &str) -> Result<UploadId> {
    let path = url.split_once("://").map_or(url, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    let id = path
        .strip_prefix(BASE)
        .ok_or_else(|| Error::invalid(ErrorCode::BadConcat, format!("{url:?} is not an upload of this server")))?;
    UploadId::parse(id.trim_end_matches('/'))
        .map_err(|_| Error::invalid(ErrorCode::BadConcat, format!("{url:?} is not an upload")))
}

fn header_id(id: impl std::fmt::Display) -> HeaderValue {
    HeaderValue::from_str(&id.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn state_headers(up: &Upload, h: &mut HeaderMap) {
    h.insert("upload-offset", HeaderValue::from(up.offset));
    match up.length {
        Some(l) => h.insert("upload-length", HeaderValue::from(l)),
        None => h.insert("upload-defer-length", HeaderValue::from_static("1")),
    };
    if let Ok(v) = HeaderValue::from_str(&http_date(up.expires_at)) {
        h.insert("upload-expires", v);
    }
    match up.concat {
        Concat::Partial => {
            h.insert("upload-concat", HeaderValue::from_static("partial"));
        }
        Concat::Final => {
            let parts: Vec<String> = up.parts.iter().map(|p| format!("{BASE}{p}")).collect();
            if let Ok(v) = HeaderValue::from_str(&format!("final;{}", parts.join(" "))) {
                h.insert("upload-concat", v);
            }
        }
        Concat::None => {}
    }
    // What the finished upload became, for the client that wants to show or link it.
    match up.result {
        Some(UploadResult::Video(id)) => h.insert("streamvault-video-id", header_id(id)),
        Some(UploadResult::File(id)) => h.insert("streamvault-file-id", header_id(id)),
        None => None,
    };
}

/// The headers of a tus creation.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // documentation only: the handler reads the header map
pub struct Creation {
    /// The upload's length in bytes (or `Upload-Defer-Length: 1`).
    #[param(rename = "Upload-Length", nullable = false, pattern = r"^[0-9]{1,19}$")]
    upload_length: Option<String>,
    /// `1`: the length is sent with a later `PATCH`.
    #[param(rename = "Upload-Defer-Length", nullable = false, pattern = "^1$")]
    upload_defer_length: Option<String>,
    /// Comma-separated `key base64(value)` pairs: `filename`, `video_id` (the upload becomes
    /// that video's original), `folder_id`.
    #[param(rename = "Upload-Metadata", nullable = false)]
    upload_metadata: Option<String>,
    /// `partial`, or `final;<upload URL> <upload URL> ...` to join partial uploads.
    #[param(rename = "Upload-Concat", nullable = false, pattern = r"^(partial|final;.+)$")]
    upload_concat: Option<String>,
    /// `<sha1|sha256> <base64 digest>` of the bytes sent with the creation.
    #[param(
        rename = "Upload-Checksum",
        nullable = false,
        pattern = r"^(sha1 [A-Za-z0-9+/]{26}[AEIMQUYcgkosw048]=|sha256 [A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)$"
    )]
    upload_checksum: Option<String>,
}

/// A new upload (optionally with its first bytes, as `application/offset+octet-stream`), or the
/// join of partial uploads. A known length is held against the caller's quota from here on.
#[utoipa::path(post, path = "/stream/v1/tus/", operation_id = "tus_create", tag = "tus",
    params(Resumable, Creation),
    request_body(content((Binary = "application/offset+octet-stream")), description = "The first bytes (creation-with-upload)"),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", headers(("Location" = String), ("Upload-Offset" = u64), ("Upload-Expires" = String))),
        (status = 400, description = "A bad header, metadata or concatenation", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "A partial upload, video or folder that is not the caller's", body = ErrorBody),
        (status = 409, description = "The video already has its original, or a part is not finished", body = ErrorBody),
        (status = 412, description = "Not `Tus-Resumable: 1.0.0`"),
        (status = 413, description = "Over the size limit or the caller's quota", body = ErrorBody),
        (status = 415, description = "A body that is not `application/offset+octet-stream`", body = ErrorBody),
        (status = 460, description = "The first bytes do not match `Upload-Checksum`", body = ErrorBody),
        (status = 503, description = "Storage is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn create(
    _: Resumable,
    State(st): State<StreamState>,
    Auth(auth): Auth,
    req: Request,
) -> Result<Response, ApiError> {
    let h = req.headers();
    let meta_raw = header(h, "upload-metadata")?.unwrap_or_default().to_owned();
    let meta = parse_metadata(&meta_raw)?;
    let filename = meta.get("filename").cloned().filter(|f| !f.is_empty());
    let video_id = id_in(&meta, "video_id")?;
    let folder_id = id_in(&meta, "folder_id")?;
    let concat = header(h, "upload-concat")?.map(str::to_owned);
    if let Some(c) = concat.as_deref()
        && let Some(list) = c.strip_prefix("final;")
    {
        let parts = list.split_whitespace().map(id_from_url).collect::<Result<Vec<_>>>()?;
        if video_id.is_some() {
            return Err(Error::invalid(ErrorCode::BadMetadata, "a joined upload cannot be a video's source").into());
        }
        let up = st.uploads.concat(&auth.user, &parts, meta_raw, filename, folder_id).await?;
        return Ok(created(&up));
    }
    let partial = match concat.as_deref() {
        None => false,
        Some("partial") => true,
        Some(_) => return Err(Error::invalid(ErrorCode::BadConcat, "Upload-Concat is partial or final;<urls>").into()),
    };
    let length = number(h, "upload-length")?;
    let deferred = match header(h, "upload-defer-length")? {
        None => false,
        Some("1") => true,
        Some(_) => return Err(Error::invalid(ErrorCode::BadHeader, "Upload-Defer-Length must be 1").into()),
    };
    if length.is_some() == deferred {
        return Err(Error::invalid(ErrorCode::BadHeader, "send Upload-Length, or Upload-Defer-Length: 1").into());
    }
    let with_body = h.get(CONTENT_TYPE).is_some_and(|v| v == PATCH_TYPE);
    if !with_body && h.get(CONTENT_TYPE).is_some() && content_length(h) > 0 {
        return Err(Error::UnsupportedMediaType(format!("an upload's bytes are sent as {PATCH_TYPE}")).into());
    }
    let checksum = header(h, "upload-checksum")?.map(Checksum::parse).transpose()?;
    let new = NewUpload { length, metadata: meta_raw, filename, video_id, folder_id, partial };
    let up = st.uploads.create(&auth.user, new).await?;
    if !with_body {
        return Ok(created(&up));
    }
    // creation-with-upload: the body is the first append.
    let up = run_append(&st, auth.user, up.id, Append { offset: 0, length: None, checksum }, req.into_body()).await?;
    Ok(created(&up))
}

fn content_length(h: &HeaderMap) -> u64 {
    h.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn created(up: &Upload) -> Response {
    let mut h = HeaderMap::new();
    state_headers(up, &mut h);
    if let Ok(v) = HeaderValue::from_str(&format!("{BASE}{}", up.id)) {
        h.insert(LOCATION, v);
    }
    (StatusCode::CREATED, h).into_response()
}

/// Where the upload stands.
#[utoipa::path(head, path = "/stream/v1/tus/{id}", operation_id = "tus_head", tag = "tus",
    params(("id" = String, Path, description = "Upload id"), Resumable),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Its state", headers(("Upload-Offset" = u64), ("Upload-Length" = u64), ("Upload-Metadata" = String), ("Upload-Expires" = String))),
        (status = 400, description = "Not an upload id"),
        (status = 401, description = "No valid session"),
        (status = 404, description = "Not one of the caller's uploads"),
        (status = 410, description = "Expired or terminated"),
        (status = 412, description = "Not `Tus-Resumable: 1.0.0`"),
    ))]
pub async fn head(
    _: Resumable,
    State(st): State<StreamState>,
    Auth(auth): Auth,
    Path(id): Path<UploadId>,
) -> Result<Response, ApiError> {
    let up = st.uploads.get(&auth.user, id).await?;
    let mut h = HeaderMap::new();
    state_headers(&up, &mut h);
    if !up.metadata.is_empty()
        && let Ok(v) = HeaderValue::from_str(&up.metadata)
    {
        h.insert("upload-metadata", v);
    }
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok((StatusCode::OK, h).into_response())
}

/// The headers of a tus append.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // documentation only: the handler reads the header map
pub struct Appending {
    /// Where these bytes go: the upload's current offset, else 409.
    #[param(rename = "Upload-Offset", required = true, pattern = r"^[0-9]{1,19}$")]
    upload_offset: String,
    /// The length of an upload created with `Upload-Defer-Length`, once known.
    #[param(rename = "Upload-Length", nullable = false, pattern = r"^[0-9]{1,19}$")]
    upload_length: Option<String>,
    /// `<sha1|sha256> <base64 digest>` of this request's bytes.
    #[param(
        rename = "Upload-Checksum",
        nullable = false,
        pattern = r"^(sha1 [A-Za-z0-9+/]{26}[AEIMQUYcgkosw048]=|sha256 [A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)$"
    )]
    upload_checksum: Option<String>,
}

/// Bytes at `Upload-Offset`. One writer at a time, cluster-wide: a second `PATCH` while one
/// runs is 423, unless the first stalled past its lease (then the newer takes over and the
/// older writes nothing more).
#[utoipa::path(patch, path = "/stream/v1/tus/{id}", operation_id = "tus_patch", tag = "tus",
    params(("id" = String, Path, description = "Upload id"), Resumable, Appending),
    request_body(content((Binary = "application/offset+octet-stream"))),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Appended", headers(("Upload-Offset" = u64), ("Upload-Expires" = String))),
        (status = 400, description = "A bad header, or a body that ended early (`HEAD` tells what was kept)", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "Not one of the caller's uploads", body = ErrorBody),
        (status = 409, description = "`Upload-Offset` is not the upload's offset", body = ErrorBody),
        (status = 410, description = "Expired or terminated", body = ErrorBody),
        (status = 412, description = "Not `Tus-Resumable: 1.0.0`"),
        (status = 413, description = "Past the upload's length, the size limit or the caller's quota", body = ErrorBody),
        (status = 415, description = "Not `application/offset+octet-stream`", body = ErrorBody),
        (status = 423, description = "Another request is writing to this upload", body = ErrorBody),
        (status = 460, description = "The bytes do not match `Upload-Checksum`; none were kept", body = ErrorBody),
        (status = 503, description = "Storage is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn patch(
    _: Resumable,
    State(st): State<StreamState>,
    Auth(auth): Auth,
    Path(id): Path<UploadId>,
    req: Request,
) -> Result<Response, ApiError> {
    let h = req.headers();
    if h.get(CONTENT_TYPE).is_none_or(|v| v != PATCH_TYPE) {
        return Err(Error::UnsupportedMediaType(format!("PATCH bodies are {PATCH_TYPE}")).into());
    }
    let offset =
        number(h, "upload-offset")?.ok_or_else(|| Error::invalid(ErrorCode::BadHeader, "Upload-Offset is required"))?;
    let length = number(h, "upload-length")?;
    let checksum = header(h, "upload-checksum")?.map(Checksum::parse).transpose()?;
    let up = run_append(&st, auth.user, id, Append { offset, length, checksum }, req.into_body()).await?;
    let mut h = HeaderMap::new();
    state_headers(&up, &mut h);
    Ok((StatusCode::NO_CONTENT, h).into_response())
}

/// Runs the append in its own task: if the client goes away, the connection's future is
/// dropped, but the bytes that arrived must still be recorded and the lock released.
async fn run_append(st: &StreamState, user: User, id: UploadId, req: Append, body: Body) -> Result<Upload> {
    let uploads = st.uploads.clone();
    let task = tokio::spawn(async move { uploads.append(&user, id, req, body.into_data_stream()).await });
    match task.await.map_err(Error::internal)?? {
        Appended::Done(up) => Ok(up),
        Appended::Cut(_) => Err(Error::invalid(ErrorCode::BodyCut, "the body ended early; HEAD tells what was kept")),
    }
}

/// Terminates an upload: its bytes and its quota hold go.
#[utoipa::path(delete, path = "/stream/v1/tus/{id}", operation_id = "tus_terminate", tag = "tus",
    params(("id" = String, Path, description = "Upload id"), Resumable),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Terminated"),
        (status = 400, description = "Not an upload id", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "Not one of the caller's uploads", body = ErrorBody),
        (status = 410, description = "Already expired or terminated", body = ErrorBody),
        (status = 412, description = "Not `Tus-Resumable: 1.0.0`"),
        (status = 423, description = "A `PATCH` is writing to it", body = ErrorBody),
    ))]
pub async fn terminate(
    _: Resumable,
    State(st): State<StreamState>,
    Auth(auth): Auth,
    Path(id): Path<UploadId>,
) -> Result<StatusCode, ApiError> {
    st.uploads.terminate(&auth.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamvault_core::ids::Id;

    #[test]
    fn metadata_and_urls() {
        let m = parse_metadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential,note ").unwrap();
        assert_eq!(m["filename"], "world_domination_plan.pdf");
        assert_eq!(m["is_confidential"], "");
        assert_eq!(m["note"], "");
        assert!(parse_metadata("filename !!!").is_err());
        let id = UploadId::new();
        assert_eq!(id_from_url(&format!("http://h:1{BASE}{id}")).unwrap(), id);
        assert_eq!(id_from_url(&format!("{BASE}{id}")).unwrap(), id);
        assert!(id_from_url(&format!("http://h/other/{id}")).is_err());
    }
}

#[cfg(test)]
mod fuzz {
    use axum::http::{HeaderMap, HeaderValue};
    use chrono::DateTime;
    use proptest::prelude::*;
    use streamvault_core::Error;
    use streamvault_core::uploads::{Concat, Upload};
    use uuid::Uuid;

    use super::{BASE, UploadId, created, header, id_from_url, number};

    /// Any value a header can carry: tab, visible ASCII and space, and obs-text (not text).
    fn header_value() -> impl Strategy<Value = HeaderValue> {
        prop::collection::vec(prop_oneof![Just(b'\t'), 0x20u8..=0x7e, 0x80u8..=0xff], 0..48)
            .prop_filter_map("a valid header value", |b| HeaderValue::from_bytes(&b).ok())
    }

    /// What `HeaderValue::to_str` accepts.
    fn is_text(b: &[u8]) -> bool {
        b.iter().all(|&c| c == b'\t' || (0x20..0x7f).contains(&c))
    }

    fn with(name: &'static str, value: Option<&HeaderValue>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = value {
            h.insert(name, v.clone());
        }
        h
    }

    /// A decimal number as tus means it: digits only, within u64 (computed in u128, which
    /// holds any 38 digits).
    /// The model: ASCII digits (leading zeros are fine) whose value fits in u64.
    fn decimal(text: &[u8]) -> Option<u64> {
        if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
            return None;
        }
        text.iter().try_fold(0u64, |n, d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
    }

    fn upload(id: UploadId, parts: Vec<UploadId>) -> Upload {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        Upload {
            id,
            owner_id: Uuid::nil().into(),
            length: Some(0),
            offset: 0,
            metadata: String::new(),
            filename: None,
            video_id: None,
            concat: if parts.is_empty() { Concat::None } else { Concat::Final },
            segments: Vec::new(),
            data_file: None,
            parts,
            result: None,
            hash_state: None,
            expires_at: t,
            created_at: t,
        }
    }

    proptest! {
        /// A header is its exact text, or a 400 when it is not text; never a panic.
        #[test]
        fn header_is_its_text_or_a_bad_header(value in prop::option::of(header_value())) {
            let h = with("upload-metadata", value.as_ref());
            match (header(&h, "upload-metadata"), &value) {
                (Ok(None), None) => {}
                (Ok(Some(s)), Some(v)) => prop_assert!(is_text(v.as_bytes()) && s.as_bytes() == v.as_bytes()),
                (Err(Error::Invalid { code: streamvault_core::ErrorCode::BadHeader, .. }), Some(v)) => prop_assert!(!is_text(v.as_bytes())),
                (other, _) => prop_assert!(false, "{other:?} for {value:?}"),
            }
        }

        /// Upload-Length and Upload-Offset: exactly the non-negative decimals that fit in u64 (no
        /// sign, space, hex or exponent); anything else is a 400.
        #[test]
        fn numbers_are_plain_decimals_that_fit(
            value in prop::option::of(prop_oneof![
                "[0-9]{1,38}",
                "0{0,30}[0-9]{1,20}",
                "[0-9 +\\-xa-fA-F.e_]{0,12}",
                "\\PC{0,12}",
                Just(u64::MAX.to_string()),
                Just("18446744073709551616".to_owned()),
            ].prop_filter_map("a valid header value", |s| HeaderValue::from_bytes(s.as_bytes()).ok())),
        ) {
            let h = with("upload-length", value.as_ref());
            let got = number(&h, "upload-length");
            match &value {
                None => prop_assert!(matches!(got, Ok(None)), "{got:?}"),
                Some(v) => match decimal(v.as_bytes()) {
                    Some(n) => prop_assert!(matches!(got, Ok(Some(m)) if m == n), "{got:?} for {v:?}"),
                    None => prop_assert!(matches!(got, Err(Error::Invalid { .. })), "{got:?} for {v:?}"),
                },
            }
        }

        /// An upload's URL, absolute (any scheme, host and port) or a path, with or without
        /// trailing slashes, in any of the spellings of its id, names that upload.
        #[test]
        fn an_upload_url_names_its_upload(
            bits in any::<u128>(),
            origin in prop::option::of("[a-z][a-z0-9+.\\-]{0,8}://[a-zA-Z0-9.:@\\[\\]\\-]{0,20}"),
            spelling in 0u8..3,
            slashes in 0usize..3,
        ) {
            let id = Uuid::from_u128(bits);
            let text = match spelling {
                0 => id.hyphenated().to_string(),
                1 => id.simple().to_string(),
                _ => id.hyphenated().to_string().to_uppercase(),
            };
            let url = format!("{}{BASE}{text}{}", origin.unwrap_or_default(), "/".repeat(slashes));
            prop_assert_eq!(id_from_url(&url).ok(), Some(id.into()), "{}", url);
        }

        /// An id under any other path is not an upload of this server.
        #[test]
        fn a_url_outside_the_tus_base_is_refused(
            bits in any::<u128>(),
            path in "/[a-z/]{0,20}",
            absolute in any::<bool>(),
        ) {
            let url = format!("{}{path}{}", if absolute { "http://h:1" } else { "" }, Uuid::from_u128(bits));
            prop_assert!(id_from_url(&url).is_err(), "{}", url);
        }

        /// Arbitrary text (multi-byte characters, `://` anywhere, the base with junk after it)
        /// never panics; what is accepted always went through the tus base.
        #[test]
        fn any_concat_url_never_panics(
            url in prop_oneof![
                "\\PC{0,80}",
                ("\\PC{0,12}", "\\PC{0,40}").prop_map(|(a, b)| format!("{a}{BASE}{b}")),
                "(\\PC{0,6}://\\PC{0,6})?/stream/v1/tus/[0-9a-fA-F{}:urn\\-]{0,45}/*",
            ],
        ) {
            if id_from_url(&url).is_ok() {
                prop_assert!(url.contains(BASE), "{}", url);
            }
        }

        /// The URLs this server hands out (Location, and the parts of a final upload in its
        /// Upload-Concat) are read back by `id_from_url` as the same uploads, in order.
        #[test]
        fn concat_and_location_headers_read_back(
            id in any::<u128>(),
            parts in prop::collection::vec(any::<u128>(), 0..5),
        ) {
            let parts: Vec<UploadId> = parts.into_iter().map(|p| Uuid::from_u128(p).into()).collect();
            let res = created(&upload(Uuid::from_u128(id).into(), parts.clone()));
            let location = res.headers().get("location").and_then(|v| v.to_str().ok());
            prop_assert_eq!(location.map(|l| id_from_url(l).ok()), Some(Some(Uuid::from_u128(id).into())));
            let concat = res.headers().get("upload-concat").and_then(|v| v.to_str().ok());
            if parts.is_empty() {
                prop_assert!(concat.is_none());
            } else {
                let list = concat.and_then(|c| c.strip_prefix("final;"));
                let back: Option<Vec<UploadId>> =
                    list.map(|l| l.split_whitespace().filter_map(|u| id_from_url(u).ok()).collect());
                prop_assert_eq!(back, Some(parts));
            }
        }
    }
}
