//! Live resources of a video: who is watching it now.

use std::net::{IpAddr, Ipv4Addr};

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use streamvault_core::ids::VideoId;
use streamvault_core::live::Viewer;
use streamvault_core::ports::Watching;
use streamvault_http::auth::MaybeAuth;
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::{ApiError, Client};

use crate::ApiState;

/// Viewers of a video.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WatchingJson {
    /// Viewers whose player sent a heartbeat in the last 45 s (each user once, each anonymous
    /// address once), over every replica.
    now: u64,
    /// The most that watched at once so far.
    peak: u64,
}

impl From<Watching> for WatchingJson {
    fn from(w: Watching) -> Self {
        WatchingJson { now: w.now, peak: w.peak }
    }
}

/// A heartbeat from a player that is playing the video: the viewer counts for the next 45 s.
/// Players send one every 15 s. Signed-in viewers count once however many tabs or replicas
/// they reach; anonymous ones once per address.
#[utoipa::path(post, path = "/videos/{vid}/watching", operation_id = "watching_heartbeat", tag = "live",
    security((), ("session" = []), ("bearer" = [])),
    params(("vid" = String, Path, description = "Video id")),
    responses(
        (status = 200, description = "Counted; the counts with this viewer", body = WatchingJson),
        (status = 403, description = "Sent from another site's page (`Origin`)", body = ErrorBody),
        (status = 404, description = "Unknown, deleted, not uploaded yet, or another user's unpublished video", body = ErrorBody),
        (status = 503, description = "The viewer registry is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn heartbeat(
    State(st): State<ApiState>,
    MaybeAuth(auth): MaybeAuth,
    Client(client): Client,
    Path(vid): Path<VideoId>,
    headers: axum::http::HeaderMap,
) -> Result<Json<WatchingJson>, ApiError> {
    // Another site's page could make each of its visitors count as watching this video.
    if !streamvault_http::auth::same_origin(&headers) {
        return Err(streamvault_core::Error::Forbidden("heartbeats only come from this site's pages").into());
    }
    let addr = client.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.addr);
    let viewer = match &auth {
        Some(a) => Viewer::User(&a.user),
        None => Viewer::Anonymous(addr),
    };
    Ok(Json(st.live.heartbeat(viewer, vid).await?.into()))
}

/// How many watch the video now, and the most at once so far.
#[utoipa::path(get, path = "/videos/{vid}/watching", operation_id = "watching", tag = "live",
    security((), ("session" = []), ("bearer" = [])),
    params(("vid" = String, Path, description = "Video id")),
    responses(
        (status = 200, description = "OK", body = WatchingJson),
        (status = 404, description = "Unknown, deleted, not uploaded yet, or another user's unpublished video", body = ErrorBody),
        (status = 503, description = "The viewer registry is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn watching(
    State(st): State<ApiState>,
    MaybeAuth(auth): MaybeAuth,
    Path(vid): Path<VideoId>,
) -> Result<Json<WatchingJson>, ApiError> {
    let user = auth.map(|a| a.user);
    Ok(Json(st.live.watching(user.as_ref(), vid).await?.into()))
}
