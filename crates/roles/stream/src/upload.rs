//! Uploads of a video's original: the seed's `POST /upload/{vid}` (multipart field `file`) and
//! `POST /stream/v1/videos/{vid}/upload` (multipart, or the raw bytes as the body).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use streamvault_core::ErrorCode;

use axum::Json;
use axum::body::{Body, BodyDataStream, Bytes};
use axum::extract::multipart::Multipart;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use serde::Serialize;
use streamvault_core::Error;
use streamvault_core::ids::VideoId;
use streamvault_core::storage::Staging;
use streamvault_http::auth::SeedAuth;
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::schema::Binary;
use streamvault_http::{ApiError, Auth};

use crate::StreamState;

/// The video, and what was stored for it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = UploadedVideo)]
pub struct Uploaded {
    id: String,
    /// The video's state after the upload (`processing` while its media is made).
    #[schema(value_type = String)]
    status: &'static str,
    sha256: String,
    size: u64,
    mime: String,
    /// True when the same bytes were already stored, so nothing new was written.
    deduplicated: bool,
}

/// A multipart upload: the bytes in field `file` (other fields are ignored).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: the body is streamed, not deserialized
pub struct FilePart {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The seed's route: multipart only, the bytes in field `file`; the seed's page sends its
/// session only as the `session` cookie (see [`SeedAuth`]).
#[utoipa::path(post, path = "/upload/{vid}", operation_id = "seed_upload_video", tag = "seed",
    params(("vid" = String, Path, description = "Video id")),
    request_body(content((FilePart = "multipart/form-data"))),
    security(("session" = []), ("bearer" = []), ("seed_cookie" = [])),
    responses(
        (status = 201, description = "Stored; the video's media is being made", body = Uploaded),
        (status = 400, description = "A bad id, a broken multipart body, no field `file`, no bytes, or a body that ended early", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "The `session` cookie from another site (its `Origin` is not this one)", body = ErrorBody),
        (status = 404, description = "Not one of the caller's videos", body = ErrorBody),
        (status = 409, description = "The video already has its original", body = ErrorBody),
        (status = 413, description = "Over the size limit or the caller's quota", body = ErrorBody),
        (status = 415, description = "Not multipart/form-data, or not a video container this server takes", body = ErrorBody),
        (status = 503, description = "Storage is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn seed(
    st: State<StreamState>,
    auth: Result<SeedAuth, ApiError>,
    vid: Result<Path<VideoId>, ApiError>,
    req: Request,
) -> Response {
    guarded(req, |req| async move {
        let Some(auth) = auth?.0 else { return Err(Error::Unauthenticated("a session is required").into()) };
        if !is_multipart(&req) {
            return Err(Error::UnsupportedMediaType(
                "send multipart/form-data with the video in field \"file\"".into(),
            )
            .into());
        }
        receive(st, Auth(auth), vid?, req).await
    })
    .await
}

/// Uploads a video's original, once: multipart (field `file`) or the raw bytes. The bytes
/// count against the caller's quota as they arrive.
#[utoipa::path(post, path = "/stream/v1/videos/{vid}/upload", operation_id = "upload_video", tag = "stream",
    params(("vid" = String, Path, description = "Video id")),
    request_body(content((Binary = "application/octet-stream"), (FilePart = "multipart/form-data"))),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Stored; the video's media is being made", body = Uploaded),
        (status = 400, description = "A bad id, a broken multipart body, no field `file`, no bytes, or a body that ended early", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "Not one of the caller's videos", body = ErrorBody),
        (status = 409, description = "The video already has its original", body = ErrorBody),
        (status = 413, description = "Over the size limit or the caller's quota", body = ErrorBody),
        (status = 415, description = "Not a video container this server takes", body = ErrorBody),
        (status = 503, description = "Storage is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn upload(
    st: State<StreamState>,
    auth: Result<Auth, ApiError>,
    vid: Result<Path<VideoId>, ApiError>,
    req: Request,
) -> Response {
    guarded(req, |req| async move { receive(st, auth?, vid?, req).await }).await
}

/// Runs `f` on the request; when it fails before the body was read to its end, the rest of the
/// body is lingered on (see `streamvault_http::body`), so that a client still sending sees the
/// error (401, 413, 415, ...) rather than a reset connection.
pub(crate) async fn guarded<F, Fut>(req: Request, f: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response, ApiError>>,
{
    let (parts, body) = req.into_parts();
    let shared = SharedBody(Arc::new(Mutex::new(body.into_data_stream())));
    let req = Request::from_parts(parts, Body::from_stream(shared.clone()));
    match f(req).await {
        Ok(res) => res,
        Err(e) => {
            streamvault_http::body::linger(shared).await;
            e.into_response()
        }
    }
}

/// The request body, readable by the handler and, after it gave up, by [`guarded`].
#[derive(Clone)]
struct SharedBody(Arc<Mutex<BodyDataStream>>);

impl Stream for SharedBody {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        Pin::new(&mut *inner).poll_next(cx)
    }
}

async fn receive(
    State(st): State<StreamState>,
    Auth(auth): Auth,
    Path(vid): Path<VideoId>,
    req: Request,
) -> Result<Response, ApiError> {
    let id = vid;
    // Ownership and state first, so a refused upload costs no bytes.
    st.videos.upload_target(&auth.user, id).await?;
    let max = st.storage.max_upload();
    let reservation = st.drive.quota().reservation(auth.user.id, max);
    let mut staging = st.storage.stage_video(reservation).await?;
    if let Some(n) = expected_length(&req) {
        staging.expect(n).await?;
    }
    read_body(req, &mut staging).await?;
    let mut staged = staging.finish().await?;
    let mime = staged.mime.unwrap_or("application/octet-stream");
    let charge = st.drive.quota().charge(staged.holds());
    let (stored, video) = st.videos.store_source(id, &mut staged, &charge).await?;
    tracing::info!(video_id = %id, size = stored.size, deduplicated = !stored.new, "video uploaded");
    let body = Uploaded {
        id: video.id.to_string(),
        status: video.status.as_str(),
        sha256: stored.sha256,
        size: stored.size,
        mime: mime.to_owned(),
        deduplicated: !stored.new,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// A declared `Content-Length` is checked against the limits before any byte is read (a
/// multipart body is a little longer than its file: up to 64 KiB of it is let through here,
/// and the file itself is checked as it arrives).
pub(crate) fn expected_length(req: &Request) -> Option<u64> {
    let declared = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if is_multipart(req) => Some(n.saturating_sub(64 * 1024)),
        other => other,
    }
}

/// Reads the upload into `staging`: multipart field `file` (returning its file name), or the
/// raw body.
pub(crate) async fn read_body(req: Request, staging: &mut Staging) -> Result<Option<String>, Error> {
    if !is_multipart(&req) {
        let mut body = req.into_body().into_data_stream();
        while let Some(chunk) = body.next().await {
            staging.write(&chunk.map_err(client_gone)?).await?;
        }
        return Ok(None);
    }
    let bad = |e: axum::extract::multipart::MultipartError| Error::invalid(ErrorCode::BadMultipart, e.body_text());
    let mut multipart =
        Multipart::from_request(req, &()).await.map_err(|e| Error::invalid(ErrorCode::BadMultipart, e.body_text()))?;
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().map(str::to_owned);
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            staging.write(&chunk).await?;
        }
        return Ok(name);
    }
    Err(Error::invalid(ErrorCode::MissingField, "the multipart body has no field \"file\""))
}

fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// The body stopped before its end: the client went away or sent broken framing.
fn client_gone(e: axum::Error) -> Error {
    Error::invalid(ErrorCode::IncompleteBody, format!("the request body ended early: {e}"))
}

#[cfg(test)]
mod fuzz {
    use std::ops::Range;
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;

    use axum::body::Body;
    use axum::extract::Request;
    use chrono::{DateTime, Utc};
    use proptest::prelude::*;
    use streamvault_core::ports::{BlobIndex, BlobRecord, BlobStore, ByteStream, NewJob};
    use streamvault_core::storage::Storage;
    use streamvault_core::{Error, Result};

    use super::read_body;

    /// A `Storage` needs a blob store and an index; staging (all `read_body` touches) uses neither.
    struct Unused;

    fn unused<T>() -> Result<T> {
        Err(Error::internal("staging does not use the blob store"))
    }

    #[async_trait::async_trait]
    impl BlobStore for Unused {
        fn is_remote(&self) -> bool {
            false
        }
        async fn exists(&self, _: &str) -> Result<bool> {
            unused()
        }
        async fn size(&self, _: &str) -> Result<Option<u64>> {
            unused()
        }
        async fn put_file(&self, _: &str, _: &Path, _: u64, _: &str) -> Result<()> {
            unused()
        }
        async fn read(&self, _: &str, _: Range<u64>) -> Result<ByteStream> {
            unused()
        }
        async fn presign_get(&self, _: &str, _: Duration, _: &str, _: Option<&str>) -> Result<Option<String>> {
            unused()
        }
        async fn delete(&self, _: &str) -> Result<()> {
            unused()
        }
        async fn delete_prefix(&self, _: &str) -> Result<()> {
            unused()
        }
    }

    #[async_trait::async_trait]
    impl BlobIndex for Unused {
        async fn get(&self, _: &str) -> Result<Option<BlobRecord>> {
            unused()
        }
        async fn record(&self, _: &str, _: u64, _: Option<&str>, _: &NewJob) -> Result<bool> {
            unused()
        }
        async fn mark_transferred(&self, _: &str, _: &str) -> Result<bool> {
            unused()
        }
        async fn begin_collect(&self, _: &str, _: DateTime<Utc>) -> Result<Option<BlobRecord>> {
            unused()
        }
        async fn end_collect(&self, _: &str) -> Result<()> {
            unused()
        }
    }

    fn fail(e: impl std::fmt::Display) -> TestCaseError {
        TestCaseError::fail(e.to_string())
    }

    /// What `read_body` answered, and the bytes it staged when it succeeded.
    type Outcome = (Result<Option<String>>, Option<Vec<u8>>);

    /// Runs `read_body` on a fresh staging file, with the body arriving in chunks cut at
    /// arbitrary points (so that delimiters straddle reads). A hang is a failure too.
    fn read(content_type: Option<&str>, body: &[u8], cuts: &[prop::sample::Index]) -> Result<Outcome, TestCaseError> {
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(body.len() + 1)).collect();
        at.extend([0, body.len()]);
        at.sort_unstable();
        let chunks: Vec<std::io::Result<Vec<u8>>> = at.windows(2).map(|w| Ok(body[w[0]..w[1]].to_vec())).collect();
        let mut builder = Request::builder().method("POST").uri("/upload/x");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        let req = builder.body(Body::from_stream(futures::stream::iter(chunks))).map_err(fail)?;
        let dir = tempfile::tempdir().map_err(fail)?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(fail)?;
        rt.block_on(async {
            let storage = Storage::new(Arc::new(Unused), Arc::new(Unused), dir.path().join("staging"), 1 << 20, None)
                .map_err(fail)?;
            let mut staging = storage.stage_held(false).await.map_err(fail)?;
            let got = tokio::time::timeout(Duration::from_secs(20), read_body(req, &mut staging))
                .await
                .map_err(|_| fail("read_body hung"))?;
            if got.is_err() {
                return Ok::<Outcome, TestCaseError>((got, None));
            }
            let staged = staging.allow_empty().finish().await.map_err(fail)?;
            let bytes = std::fs::read(staged.path()).map_err(fail)?;
            Ok::<Outcome, TestCaseError>((got, Some(bytes)))
        })
    }

    /// One part of a multipart body.
    #[derive(Debug, Clone)]
    struct Part {
        /// `name="…"` in Content-Disposition, if there.
        name: Option<&'static str>,
        filename: Option<String>,
        disposition: &'static str,
        /// Other part headers (Content-Type, X-…), with arbitrary values.
        headers: Vec<(String, String)>,
        data: Vec<u8>,
    }

    fn part() -> impl Strategy<Value = Part> {
        (
            prop::sample::select(vec![Some("file"), Some("File"), Some("files"), Some("other"), Some(""), None]),
            prop::option::of("[A-Za-z0-9._ \\-]{0,20}"),
            prop::sample::select(vec!["Content-Disposition", "content-disposition", "CONTENT-DISPOSITION"]),
            prop::collection::vec(
                prop_oneof![
                    ("X-[A-Za-z]{1,8}", "[ -~]{0,20}"),
                    "[ -~]{0,30}".prop_map(|v| ("Content-Type".to_owned(), v)),
                ],
                0..3,
            ),
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..600),
                // Bytes that look like the framing: CR, LF, dashes.
                prop::collection::vec(prop::sample::select(vec![b'\r', b'\n', b'-', b'a', b'0']), 0..200),
            ],
        )
            .prop_map(|(name, filename, disposition, headers, data)| Part {
                name,
                filename,
                disposition,
                headers,
                data,
            })
    }

    fn boundary() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_\\-]{1,40}"
    }

    /// The body a browser sends for these parts.
    fn multipart(boundary: &str, parts: &[Part]) -> Vec<u8> {
        let mut body = Vec::new();
        for p in parts {
            let mut disposition = format!("{}: form-data", p.disposition);
            if let Some(name) = p.name {
                disposition.push_str(&format!("; name=\"{name}\""));
            }
            if let Some(f) = &p.filename {
                disposition.push_str(&format!("; filename=\"{f}\""));
            }
            body.extend_from_slice(format!("--{boundary}\r\n{disposition}\r\n").as_bytes());
            for (k, v) in &p.headers {
                body.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
            }
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(&p.data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        body
    }

    /// The content of a part never holds its body's delimiter (a client picks the boundary so).
    fn framed(boundary: &str, parts: &[Part]) -> bool {
        let delimiter = format!("\r\n--{boundary}");
        parts.iter().all(|p| !p.data.windows(delimiter.len()).any(|w| w == delimiter.as_bytes()))
    }

    /// The first part named `file`: its file name and content.
    fn model(parts: &[Part]) -> Option<(Option<String>, Vec<u8>)> {
        parts.iter().find(|p| p.name == Some("file")).map(|p| (p.filename.clone(), p.data.clone()))
    }

    proptest! {
        /// A well-formed body, however chunked: the first field named `file` is staged byte for
        /// byte and its file name returned; without one, a 400 `missing_field`.
        #[test]
        fn multipart_reads_the_first_file_field(
            boundary in boundary(),
            parts in prop::collection::vec(part(), 0..4),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            prop_assume!(framed(&boundary, &parts));
            let body = multipart(&boundary, &parts);
            let content_type = format!("multipart/form-data; boundary={boundary}");
            let (got, staged) = read(Some(content_type.as_str()), &body, &cuts)?;
            match (got, model(&parts)) {
                (Ok(name), Some((filename, data))) => {
                    prop_assert_eq!(name, filename);
                    prop_assert_eq!(staged, Some(data));
                }
                (Err(Error::Invalid { code: streamvault_core::ErrorCode::MissingField, .. }), None) => {}
                (got, expected) => prop_assert!(false, "{got:?}, expected {expected:?}"),
            }
        }

        /// A body cut short anywhere is refused with a 400, unless the whole `file` field had
        /// already arrived: a partial file is never taken for the whole.
        #[test]
        fn a_truncated_multipart_body_never_stages_a_partial_file(
            boundary in boundary(),
            parts in prop::collection::vec(part(), 1..4),
            cut in any::<prop::sample::Index>(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        ) {
            prop_assume!(framed(&boundary, &parts));
            let body = multipart(&boundary, &parts);
            let body = &body[..cut.index(body.len())];
            let content_type = format!("multipart/form-data; boundary={boundary}");
            let (got, staged) = read(Some(content_type.as_str()), body, &cuts)?;
            match got {
                Ok(name) => {
                    let expected = model(&parts);
                    prop_assert_eq!(Some((name, staged.unwrap_or_default())), expected);
                }
                Err(e) => prop_assert!(matches!(e, Error::Invalid { .. }), "{e:?}"),
            }
        }

        /// Arbitrary bodies under arbitrary Content-Types (boundaries with odd characters,
        /// quoted, missing; other types) never panic or hang. A body that is not multipart is
        /// staged as it is; a multipart one stages at most the bytes sent.
        #[test]
        fn any_body_under_any_content_type_never_panics(
            content_type in prop_oneof![
                "[A-Za-z0-9'()+_,\\-./:=? ]{0,20}".prop_map(|b| Some(format!("multipart/form-data; boundary={b}"))),
                "[ -~]{0,20}".prop_map(|b| Some(format!("Multipart/Form-Data; boundary=\"{b}\""))),
                Just(Some("multipart/form-data".to_owned())),
                Just(Some("multipart/mixed; boundary=x".to_owned())),
                Just(Some("application/octet-stream".to_owned())),
                Just(None),
                prop::option::of("[ -~]{0,40}"),
            ],
            body in prop_oneof![
                prop::collection::vec(any::<u8>(), 0..400),
                (
                    boundary(),
                    prop::collection::vec(part(), 0..3),
                    prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
                )
                    .prop_map(|(b, parts, flips)| {
                        // A well-formed body with some bytes overwritten.
                        let mut body = multipart(&b, &parts);
                        for (at, byte) in flips {
                            let i = at.index(body.len());
                            body[i] = byte;
                        }
                        body
                    }),
            ],
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        ) {
            let (got, staged) = read(content_type.as_deref(), &body, &cuts)?;
            // What the route takes for multipart: the type, in any case, with any parameters.
            let as_multipart =
                content_type.as_deref().is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
            match got {
                Ok(name) if !as_multipart => {
                    prop_assert_eq!(name, None);
                    prop_assert_eq!(staged, Some(body));
                }
                Ok(_) => prop_assert!(staged.is_some_and(|s| s.len() <= body.len())),
                Err(e) => prop_assert!(as_multipart && matches!(e, Error::Invalid { .. }), "{e:?}"),
            }
        }
    }
}
