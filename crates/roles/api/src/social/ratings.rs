//! Likes and dislikes of a video.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use streamvault_core::accounts::User;
use streamvault_core::ids::VideoId;
use streamvault_core::social::{Rating, RatingCounts};
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::{ApiError, Auth};

use crate::ApiState;

/// The caller's rating of a video and its counts.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RatingJson {
    /// `like`, `dislike` or `none`.
    #[schema(value_type = String, example = "like")]
    rating: &'static str,
    /// The caller likes it.
    liked: bool,
    likes: i64,
    dislikes: i64,
}

fn json(rating: Option<Rating>, counts: RatingCounts) -> Json<RatingJson> {
    Json(RatingJson {
        rating: match rating {
            Some(Rating::Like) => "like",
            Some(Rating::Dislike) => "dislike",
            None => "none",
        },
        liked: rating == Some(Rating::Like),
        likes: counts.likes,
        dislikes: counts.dislikes,
    })
}

async fn set(st: &ApiState, user: &User, vid: VideoId, rating: Option<Rating>) -> Result<Json<RatingJson>, ApiError> {
    let counts = st.social.rate(user, vid, rating).await?;
    Ok(json(rating, counts))
}

/// The caller's rating of a video they may see.
#[utoipa::path(get, path = "/videos/{vid}/like", operation_id = "get_rating", tag = "social",
    params(("vid" = String, Path, description = "Video id")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = RatingJson),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "A video the caller cannot see", body = ErrorBody),
    ))]
pub async fn get(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(vid): Path<VideoId>,
) -> Result<Json<RatingJson>, ApiError> {
    let (rating, counts) = st.social.rating(&auth.user, vid).await?;
    Ok(json(rating, counts))
}

/// Likes a video (idempotent; a dislike becomes a like).
#[utoipa::path(put, path = "/videos/{vid}/like", operation_id = "like_video", tag = "social",
    params(("vid" = String, Path, description = "Video id")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The caller's rating and the counts after it", body = RatingJson),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "A video the caller cannot see", body = ErrorBody),
    ))]
pub async fn like(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(vid): Path<VideoId>,
) -> Result<Json<RatingJson>, ApiError> {
    set(&st, &auth.user, vid, Some(Rating::Like)).await
}

/// Takes back the caller's rating of a video, like or dislike (idempotent).
#[utoipa::path(delete, path = "/videos/{vid}/like", operation_id = "unlike_video", tag = "social",
    params(("vid" = String, Path, description = "Video id")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The counts after it", body = RatingJson),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "A video the caller cannot see", body = ErrorBody),
    ))]
pub async fn unlike(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(vid): Path<VideoId>,
) -> Result<Json<RatingJson>, ApiError> {
    set(&st, &auth.user, vid, None).await
}

/// Dislikes a video (idempotent; a like becomes a dislike).
#[utoipa::path(put, path = "/videos/{vid}/dislike", operation_id = "dislike_video", tag = "social",
    params(("vid" = String, Path, description = "Video id")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The caller's rating and the counts after it", body = RatingJson),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "A video the caller cannot see", body = ErrorBody),
    ))]
pub async fn dislike(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(vid): Path<VideoId>,
) -> Result<Json<RatingJson>, ApiError> {
    set(&st, &auth.user, vid, Some(Rating::Dislike)).await
}

/// Takes back the caller's rating of a video (the same as `DELETE …/like`).
#[utoipa::path(delete, path = "/videos/{vid}/dislike", operation_id = "undislike_video", tag = "social",
    params(("vid" = String, Path, description = "Video id")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The counts after it", body = RatingJson),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "A video the caller cannot see", body = ErrorBody),
    ))]
pub async fn undislike(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(vid): Path<VideoId>,
) -> Result<Json<RatingJson>, ApiError> {
    set(&st, &auth.user, vid, None).await
}
