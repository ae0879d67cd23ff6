//! Following channels, and the subscription feed.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use streamvault_core::social::{FollowCounts, Followed};
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::{ApiError, Auth, QueryParams};

use crate::ApiState;
use crate::videos::{PageParams, VideoList};

/// A channel's follow counts, and whether the caller follows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FollowState {
    /// The caller follows the channel.
    following: bool,
    followers: u64,
    /// How many channels this channel follows.
    following_count: u64,
}

fn state((counts, following): (FollowCounts, bool)) -> Json<FollowState> {
    Json(FollowState { following, followers: counts.followers, following_count: counts.following })
}

/// Follows a channel (idempotent). Its new videos come to the caller's feed and, unless turned
/// off, as notifications.
#[utoipa::path(put, path = "/channels/{name}/follow", operation_id = "follow_channel", tag = "social",
    params(("name" = String, Path, description = "User name")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The counts after it", body = FollowState),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "The channel does not take follows from the caller", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "The caller's own channel (`self_target`)", body = ErrorBody),
    ))]
pub async fn follow(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(name): Path<String>,
) -> Result<Json<FollowState>, ApiError> {
    Ok(state(st.social.follow(&auth.user, &name).await?))
}

/// Stops following a channel (idempotent); its videos leave the caller's feed.
#[utoipa::path(delete, path = "/channels/{name}/follow", operation_id = "unfollow_channel", tag = "social",
    params(("name" = String, Path, description = "User name")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The counts after it", body = FollowState),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn unfollow(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(name): Path<String>,
) -> Result<Json<FollowState>, ApiError> {
    Ok(state(st.social.unfollow(&auth.user, &name).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FollowedJson {
    id: String,
    user_name: String,
    /// When the caller followed it.
    since: String,
}

impl From<Followed> for FollowedJson {
    fn from(f: Followed) -> Self {
        FollowedJson { id: f.user_id.to_string(), user_name: f.name, since: f.since.to_rfc3339() }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FollowingList {
    channels: Vec<FollowedJson>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// The channels the caller follows, newest follow first.
#[utoipa::path(get, path = "/me/following", operation_id = "list_following", tag = "social",
    params(PageParams), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = FollowingList),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn following(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    QueryParams(page): QueryParams<PageParams>,
) -> Result<Json<FollowingList>, ApiError> {
    let page = st.social.following(&auth.user, page.parse()?).await?;
    Ok(Json(FollowingList {
        next_cursor: page.next.map(|c| c.encode()),
        channels: page.items.into_iter().map(FollowedJson::from).collect(),
    }))
}

/// The caller's subscription feed: the newest public videos of the channels they follow.
#[utoipa::path(get, path = "/me/feed", operation_id = "feed", tag = "social",
    params(PageParams), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = VideoList),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn feed(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    QueryParams(page): QueryParams<PageParams>,
) -> Result<Json<VideoList>, ApiError> {
    Ok(Json(VideoList::from(st.social.feed(&auth.user, page.parse()?).await?)))
}
