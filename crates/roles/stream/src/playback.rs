//! Playback: `GET`/`HEAD /stream/v1/videos/{vid}` and the seed's `GET /videos/{vid}` (the
//! original), and the derived media the worker made of it.

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::response::Response;
use streamvault_core::Error;
use streamvault_core::ids::VideoId;
use streamvault_core::media;
use streamvault_core::ports::media_prefix;
use streamvault_http::auth::{MaybeAuth, SeedAuth};
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::schema::Binary;
use streamvault_http::{ApiError, Client};

use crate::serve::{Ask, Conditional, Representation, Stored, serve_blob, to_bucket};
use crate::{PlaybackMode, StreamState};

/// Plays a video's original: ranges, conditional requests, and (object storage in `redirect`
/// mode) a redirect to a presigned URL. Public videos to anyone, the others to their owner. A
/// play from byte 0 counts a view.
#[utoipa::path(get, path = "/stream/v1/videos/{vid}", operation_id = "play_video", tag = "stream",
    params(("vid" = String, Path, description = "Video id"), Conditional),
    security((), ("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The whole original", content_type = "video/*", body = Binary, headers(("ETag" = String), ("Accept-Ranges" = String))),
        (status = 206, description = "The requested range", content_type = "video/*", body = Binary, headers(("Content-Range" = String))),
        (status = 302, description = "Object storage, `redirect` mode: a presigned URL (`Location`)"),
        (status = 304, description = "Not modified"),
        (status = 404, description = "Unknown, deleted, not uploaded yet, or another user's unpublished video", body = ErrorBody),
        (status = 416, description = "The range lies outside the file", headers(("Content-Range" = String))),
        (status = 429, description = "Every stream slot (of this replica, or of this client) is taken; see Retry-After", body = ErrorBody),
        (status = 503, description = "The bytes are on another replica's disk (in transfer), or storage is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn play(
    st: State<StreamState>,
    MaybeAuth(viewer): MaybeAuth,
    client: Client,
    vid: Path<VideoId>,
    req: Request,
) -> Result<Response, ApiError> {
    play_as(st, viewer, client, vid, &req.into_parts().0).await
}

/// The seed's `GET /videos/{vid}`: as `GET /stream/v1/videos/{vid}`, and its page plays with
/// the `session` cookie (see [`SeedAuth`]), so an owner sees their own video that is not public
/// yet.
#[utoipa::path(get, path = "/videos/{vid}", operation_id = "seed_play_video", tag = "seed",
    params(("vid" = String, Path, description = "Video id"), Conditional),
    security((), ("session" = []), ("bearer" = []), ("seed_cookie" = [])),
    responses(
        (status = 200, description = "The whole original", content_type = "video/*", body = Binary, headers(("ETag" = String), ("Accept-Ranges" = String))),
        (status = 206, description = "The requested range", content_type = "video/*", body = Binary, headers(("Content-Range" = String))),
        (status = 302, description = "Object storage, `redirect` mode: a presigned URL (`Location`)"),
        (status = 304, description = "Not modified"),
        (status = 404, description = "Unknown, deleted, not uploaded yet, or another user's unpublished video", body = ErrorBody),
        (status = 416, description = "The range lies outside the file", headers(("Content-Range" = String))),
        (status = 429, description = "Every stream slot is taken; see Retry-After", body = ErrorBody),
        (status = 503, description = "Storage is down, or the bytes are in transfer; see Retry-After", body = ErrorBody),
    ))]
pub async fn seed_play(
    st: State<StreamState>,
    SeedAuth(viewer): SeedAuth,
    client: Client,
    vid: Path<VideoId>,
    req: Request,
) -> Result<Response, ApiError> {
    play_as(st, viewer, client, vid, &req.into_parts().0).await
}

async fn play_as(
    State(st): State<StreamState>,
    viewer: Option<streamvault_core::accounts::Authenticated>,
    Client(client): Client,
    Path(vid): Path<VideoId>,
    // The request's own method and headers, moved rather than copied as the `HeaderMap`
    // extractor would.
    req: &Parts,
) -> Result<Response, ApiError> {
    let viewer = viewer.map(|a| a.user);
    let (video, src) = st.videos.playable(viewer.as_ref(), vid).await?;
    let rep = Representation {
        stored: Stored::Blob(&src.sha256),
        size: src.size,
        mime: &src.mime,
        last_modified: src.uploaded_at,
        // Public videos may sit in shared caches for a while; others only in the viewer's.
        cache_control: if video.status.is_public() { "public, max-age=3600" } else { "private, max-age=0" },
        disposition: None,
    };
    // Views are counted from the player's heartbeats (`Live`), not from requests for bytes.
    serve_blob(&st, Ask { method: &req.method, headers: &req.headers, client: client.as_ref() }, rep).await
}

/// A video's poster (`poster.jpg`) and storyboard (`storyboard.jpg`, indexed by
/// `storyboard.vtt`), to whoever may play the video; 404 until made.
#[utoipa::path(get, path = "/stream/v1/videos/{vid}/media/{file}", operation_id = "video_still", tag = "stream",
    params(("vid" = String, Path, description = "Video id"), ("file" = inline(Still), Path, description = "Which still"), Conditional),
    security((), ("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The file", content((Binary = "image/jpeg"), (String = "text/vtt"))),
        (status = 206, description = "The requested range", content((Binary = "image/jpeg"), (String = "text/vtt"))),
        (status = 302, description = "Object storage, `redirect` mode: a presigned URL (images only)"),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such video for this caller, or not made yet", body = ErrorBody),
        (status = 416, description = "The range lies outside the file"),
        (status = 429, description = "Every stream slot is taken", body = ErrorBody),
        (status = 503, description = "Storage is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn still(
    st: State<StreamState>,
    viewer: MaybeAuth,
    client: Client,
    Path((vid, file)): Path<(VideoId, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    media(st, viewer, client, vid, file, &req.into_parts().0).await
}

/// A video's HLS master playlist (adaptive, fMP4), to whoever may play the video; 404 until
/// transcoded. Fetching it whole counts a view.
#[utoipa::path(get, path = "/stream/v1/videos/{vid}/media/hls/master.m3u8", operation_id = "hls_master", tag = "stream",
    params(("vid" = String, Path, description = "Video id"), Conditional),
    security((), ("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The playlist", content_type = "application/vnd.apple.mpegurl", body = String),
        (status = 206, description = "The requested range", content_type = "application/vnd.apple.mpegurl", body = String),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such video for this caller, or not transcoded yet", body = ErrorBody),
        (status = 416, description = "The range lies outside the file"),
        (status = 429, description = "Every stream slot is taken", body = ErrorBody),
        (status = 503, description = "Storage is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn hls_master(
    st: State<StreamState>,
    viewer: MaybeAuth,
    client: Client,
    Path(vid): Path<VideoId>,
    req: Request,
) -> Result<Response, ApiError> {
    media(st, viewer, client, vid, media::HLS_MASTER.to_owned(), &req.into_parts().0).await
}

/// One rendition's parts: its playlist (`index.m3u8`), its init segment (`init_<i>.mp4`) and
/// its media segments (`seg<n>.m4s`), as the master playlist names them.
#[utoipa::path(get, path = "/stream/v1/videos/{vid}/media/hls/{rendition}/{file}", operation_id = "hls_part", tag = "stream",
    params(("vid" = String, Path, description = "Video id"),
        ("rendition" = String, Path, description = "`v<i>`, a rendition of the ladder", pattern = r"^v[0-9]+$"),
        ("file" = String, Path, description = "A part of it", pattern = r"^(index\.m3u8|init_[0-9]+\.mp4|seg[0-9]+\.m4s)$"),
        Conditional),
    security((), ("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The part", content((String = "application/vnd.apple.mpegurl"), (Binary = "video/mp4"), (Binary = "video/iso.segment"))),
        (status = 206, description = "The requested range", content((String = "application/vnd.apple.mpegurl"), (Binary = "video/mp4"), (Binary = "video/iso.segment"))),
        (status = 302, description = "Object storage, `redirect` mode: a presigned URL (segments only)"),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such video for this caller, not transcoded yet, or no such part", body = ErrorBody),
        (status = 416, description = "The range lies outside the file"),
        (status = 429, description = "Every stream slot is taken", body = ErrorBody),
        (status = 503, description = "Storage is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn hls_part(
    st: State<StreamState>,
    viewer: MaybeAuth,
    client: Client,
    Path((vid, rendition, file)): Path<(VideoId, String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    media(st, viewer, client, vid, format!("hls/{rendition}/{file}"), &req.into_parts().0).await
}

/// Which still image of a video.
#[derive(utoipa::ToSchema)]
#[schema(as = Still)]
#[allow(dead_code)] // documentation only: the path segment is matched against the media names
enum Still {
    #[schema(rename = "poster.jpg")]
    Poster,
    #[schema(rename = "storyboard.jpg")]
    Storyboard,
    #[schema(rename = "storyboard.vtt")]
    StoryboardIndex,
}

/// A video's poster, storyboard and HLS playlists and segments (`name`, as under the video's
/// media prefix), to whoever may play the video. Only names the media jobs write are served;
/// playlists point at their parts with relative URLs, so the same path layout works here and,
/// behind a redirect, in the bucket.
#[allow(clippy::too_many_arguments)]
async fn media(
    State(st): State<StreamState>,
    MaybeAuth(viewer): MaybeAuth,
    Client(client): Client,
    vid: VideoId,
    name: String,
    req: &Parts,
) -> Result<Response, ApiError> {
    let viewer = viewer.map(|a| a.user);
    let (video, _) = st.videos.playable(viewer.as_ref(), vid).await?;
    let made = if name.starts_with("hls/") { !video.outputs.renditions.is_empty() } else { video.outputs.has_stills };
    if !media::is_media_name(&name) || !made {
        return Err(ApiError(Error::NotFound("media file")));
    }
    let key = format!("{}{name}", media_prefix(video.id));
    let mime = media::content_type(&name);
    let cache_control = if video.status.is_public() { "public, max-age=86400" } else { "private, max-age=0" };
    // Playlists and the storyboard index name their parts by relative URL: after a redirect a
    // player would resolve those against the bucket's URL, without a signature. So they (small
    // text) pass through here, and the parts they name are redirected.
    let names_parts = name.ends_with(".m3u8") || name.ends_with(".vtt");
    if st.blobs.is_remote() && st.playback == PlaybackMode::Redirect && !names_parts {
        // Straight to the bucket, as for originals: segments do not pass through this replica.
        if let Some(response) = to_bucket(&st, &key, mime, None).await? {
            return Ok(response);
        }
    }
    let size = st.blobs.size(&key).await?.ok_or(ApiError(Error::NotFound("media file")))?;
    // Outputs are rewritten only by a new run of their job, which also moves `updated_at`.
    let etag = format!("\"m{}-{size}\"", video.updated_at.timestamp_millis());
    let rep = Representation {
        stored: Stored::Derived { key, etag },
        size,
        mime,
        last_modified: video.updated_at,
        cache_control,
        disposition: None,
    };
    serve_blob(&st, Ask { method: &req.method, headers: &req.headers, client: client.as_ref() }, rep).await
}
