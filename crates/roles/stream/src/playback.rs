//! Playback: `GET`/`HEAD /stream/v1/videos/{vid}` and the seed's `GET /videos/{vid}` (the
//! original), and the derived media the worker made of it.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use streamvault_core::Error;
use streamvault_core::ids::parse_id;
use streamvault_core::media;
use streamvault_core::ports::media_prefix;
use streamvault_http::ApiError;
use streamvault_http::Client;
use streamvault_http::auth::{MaybeAuth, SeedAuth};

use crate::serve::{Ask, Representation, Stored, serve_blob, to_bucket};
use crate::{PlaybackMode, StreamState};

pub async fn play(
    st: State<StreamState>,
    MaybeAuth(viewer): MaybeAuth,
    client: Client,
    vid: Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    play_as(st, viewer, client, vid, method, headers).await
}

/// The seed's `GET /videos/{vid}`: its page plays with the `session` cookie (see [`SeedAuth`]),
/// so an owner sees their own video that is not public yet.
pub async fn seed_play(
    st: State<StreamState>,
    SeedAuth(viewer): SeedAuth,
    client: Client,
    vid: Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    play_as(st, viewer, client, vid, method, headers).await
}

async fn play_as(
    State(st): State<StreamState>,
    viewer: Option<streamvault_core::accounts::Authenticated>,
    Client(client): Client,
    Path(vid): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let viewer = viewer.map(|a| a.user);
    let (video, src) = st.videos.playable(viewer.as_ref(), parse_id(&vid, "video")?).await?;
    let rep = Representation {
        stored: Stored::Blob(&src.sha256),
        size: src.size,
        mime: &src.mime,
        last_modified: src.uploaded_at,
        // Public videos may sit in shared caches for a while; others only in the viewer's.
        cache_control: if video.status.is_public() { "public, max-age=3600" } else { "private, max-age=0" },
        disposition: None,
    };
    let served = serve_blob(&st, Ask { method: &method, headers: &headers, client: client.as_ref() }, rep).await?;
    if served.body_from_zero {
        // A play starts at byte 0; later ranges are seeks within the same view.
        st.views.record(video.id);
    }
    Ok(served.response)
}

/// `GET`/`HEAD /stream/v1/videos/{vid}/media/{*name}`: a video's poster, storyboard and HLS
/// playlists and segments, to whoever may play the video. Only names the media jobs write are
/// served; playlists point at their parts with relative URLs, so the same path layout works
/// here and, behind a redirect, in the bucket.
pub async fn media(
    State(st): State<StreamState>,
    MaybeAuth(viewer): MaybeAuth,
    Client(client): Client,
    Path((vid, name)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let viewer = viewer.map(|a| a.user);
    let (video, _) = st.videos.playable(viewer.as_ref(), parse_id(&vid, "video")?).await?;
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
    let served = serve_blob(&st, Ask { method: &method, headers: &headers, client: client.as_ref() }, rep).await?;
    if name == media::HLS_MASTER && method == Method::GET && served.response.status() == StatusCode::OK {
        // An HLS play starts with its master playlist, as an MP4 play with byte 0.
        st.views.record(video.id);
    }
    Ok(served.response)
}
