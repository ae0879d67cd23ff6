//! Uploads of a video's original: the seed's `POST /upload/{vid}` (multipart field `file`) and
//! `POST /stream/v1/videos/{vid}/upload` (multipart, or the raw bytes as the body).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::Json;
use axum::body::{Body, BodyDataStream, Bytes};
use axum::extract::multipart::Multipart;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use serde::Serialize;
use streamvault_core::Error;
use streamvault_core::ids::parse_id;
use streamvault_core::storage::Staging;
use streamvault_http::auth::SeedAuth;
use streamvault_http::{ApiError, Auth};

use crate::StreamState;

#[derive(Serialize)]
pub struct Uploaded {
    id: String,
    status: &'static str,
    sha256: String,
    size: u64,
    mime: String,
    /// True when the same bytes were already stored, so nothing new was written.
    deduplicated: bool,
}

/// The seed's route: multipart only, the bytes in field `file`; the seed's page sends its
/// session only as the `session` cookie (see [`SeedAuth`]).
pub async fn seed(
    st: State<StreamState>,
    auth: Result<SeedAuth, ApiError>,
    vid: Path<String>,
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
        receive(st, Auth(auth), vid, req).await
    })
    .await
}

/// Multipart (field `file`) or the raw bytes.
pub async fn upload(st: State<StreamState>, auth: Result<Auth, ApiError>, vid: Path<String>, req: Request) -> Response {
    guarded(req, |req| async move { receive(st, auth?, vid, req).await }).await
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
    Path(vid): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let id = parse_id(&vid, "video")?;
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
    let bad = |e: axum::extract::multipart::MultipartError| Error::invalid("bad_multipart", e.body_text());
    let mut multipart =
        Multipart::from_request(req, &()).await.map_err(|e| Error::invalid("bad_multipart", e.body_text()))?;
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
    Err(Error::invalid("missing_field", "the multipart body has no field \"file\""))
}

fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// The body stopped before its end: the client went away or sent broken framing.
fn client_gone(e: axum::Error) -> Error {
    Error::invalid("incomplete_body", format!("the request body ended early: {e}"))
}
