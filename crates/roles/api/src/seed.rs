//! The seed's wire format at the root, where its unchanged web client depends on it (the
//! `/api/v1` twins keep the paginated JSON): a user's videos and a video's comments as plain
//! lists that are `null` when empty (the seed's Go encoder wrote a nil slice that way, and its
//! page checks for it), newest first and not paginated (its page reads no cursor), and a posted
//! comment answered with the bare text `ok` (its page compares the body to it).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use serde::Serialize;
use streamvault_core::Error;
use streamvault_core::ids::VideoId;
use streamvault_core::paging::{MAX_LIMIT, PageRequest};
use streamvault_http::auth::MaybeAuth;
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::{ApiError, Auth, JsonBody};

use crate::ApiState;
use crate::comments::{CommentJson, NewComment};
use crate::videos::VideoJson;

/// The most items a seed listing returns (the newest ones).
const SEED_LIST_MAX: usize = 1000;

#[derive(Serialize, utoipa::ToSchema)]
pub struct SeedVideoList {
    /// Newest first; `null` when there are none.
    videos: Option<Vec<VideoJson>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SeedCommentList {
    /// Newest first; `null` when there are none.
    comments: Option<Vec<CommentJson>>,
}

fn or_null<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// A user's videos, newest first, at most 1000, `null` when there are none (the seed's format).
/// Anyone sees the public ones; the owner sees all.
#[utoipa::path(get, path = "/user/{name}/videos", operation_id = "seed_list_user_videos", tag = "seed",
    params(("name" = String, Path, description = "User name")), security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "OK", body = SeedVideoList), (status = 404, description = "No such user", body = ErrorBody)))]
pub async fn list_videos(
    State(st): State<ApiState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(name): Path<String>,
) -> Result<Json<SeedVideoList>, ApiError> {
    let viewer = viewer.map(|a| a.user);
    let mut videos = Vec::new();
    let mut page = PageRequest { limit: MAX_LIMIT, after: None };
    loop {
        let got = st.videos.list_by_author(viewer.as_ref(), &name, page).await?;
        videos.extend(got.items.into_iter().map(VideoJson::from));
        match got.next {
            Some(next) if videos.len() < SEED_LIST_MAX => page.after = Some(next),
            _ => break,
        }
    }
    videos.truncate(SEED_LIST_MAX);
    Ok(Json(SeedVideoList { videos: or_null(videos) }))
}

/// A video's comments, newest first, at most 1000, `null` when there are none (the seed's format).
#[utoipa::path(get, path = "/videos/{vid}/comments", operation_id = "seed_list_comments", tag = "seed",
    params(("vid" = String, Path, description = "Video id")), security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "OK", body = SeedCommentList), (status = 404, description = "Unknown or deleted video", body = ErrorBody)))]
pub async fn list_comments(
    State(st): State<ApiState>,
    MaybeAuth(viewer): MaybeAuth,
    vid: Result<Path<VideoId>, ApiError>,
) -> Result<Json<SeedCommentList>, ApiError> {
    let viewer = viewer.map(|a| a.user);
    // A malformed id is a 404, after what the request itself got wrong.
    let Path(vid) = vid?;
    let comments = st.videos.latest_comments(viewer.as_ref(), vid, SEED_LIST_MAX as u64).await?;
    Ok(Json(SeedCommentList { comments: or_null(comments.into_iter().map(CommentJson::from).collect()) }))
}

/// Posts a comment as the session's user; answers `201` with the text `ok` (the seed's format).
#[utoipa::path(post, path = "/videos/{vid}/comments", operation_id = "seed_post_comment", tag = "seed", request_body = NewComment,
    params(("vid" = String, Path, description = "Video id")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = String, content_type = "text/plain", example = "ok"),
        (status = 400, description = "Bad request", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "The video's owner does not take comments from the caller", body = ErrorBody),
        (status = 404, description = "Unknown or deleted video", body = ErrorBody),
        (status = 429, description = "Too many comments (30 a minute, 1000 a day); see Retry-After", body = ErrorBody),
    ))]
pub async fn post_comment(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    vid: Result<Path<VideoId>, ApiError>,
    JsonBody(body): JsonBody<NewComment>,
) -> Result<impl IntoResponse, ApiError> {
    let parent = body.parent();
    let content = body.content.ok_or_else(|| Error::missing("content"))?;
    // A malformed id is a 404, after what the request itself got wrong.
    let Path(vid) = vid?;
    let parent = parent?;
    st.social.post_comment(&auth.user, vid, &content, parent).await?;
    Ok((StatusCode::CREATED, [(CONTENT_TYPE, "text/plain; charset=utf-8")], "ok"))
}
