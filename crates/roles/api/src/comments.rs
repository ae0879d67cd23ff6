//! The seed's comment resources under `/videos/{vid}`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use streamvault_core::Error;
use streamvault_core::ids::{CommentId, VideoId};
use streamvault_core::ports::Scope;
use streamvault_core::videos::Comment;
use streamvault_http::auth::MaybeAuth;
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::{ApiError, Auth, JsonBody, QueryParams, schema};

use crate::videos::PageParams;
use crate::{ApiState, kept};

#[derive(Serialize, utoipa::ToSchema)]
pub struct CommentJson {
    id: String,
    video_id: String,
    author: String,
    author_id: String,
    content: String,
    created_at: String,
    /// The top-level comment this one replies to; null for a top-level comment.
    parent_id: Option<String>,
}

impl From<Comment> for CommentJson {
    fn from(c: Comment) -> Self {
        CommentJson {
            id: c.id.to_string(),
            video_id: c.video_id.to_string(),
            author: c.author_name,
            author_id: c.author_id.to_string(),
            content: c.content,
            created_at: c.created_at.to_rfc3339(),
            parent_id: c.parent_id.map(|p| p.to_string()),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CommentList {
    comments: Vec<CommentJson>,
    next_cursor: Option<String>,
}

/// A video's comments, oldest first.
#[utoipa::path(get, path = "/videos/{vid}/comments", operation_id = "list_comments", tag = "comments",
    params(("vid" = String, Path, description = "Video id"), PageParams), security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "OK", body = CommentList), (status = 400, description = "Bad request", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody)))]
pub async fn list(
    State(st): State<ApiState>,
    MaybeAuth(viewer): MaybeAuth,
    headers: HeaderMap,
    vid: Result<Path<VideoId>, ApiError>,
    QueryParams(page): QueryParams<PageParams>,
) -> Result<Response, ApiError> {
    let viewer = viewer.map(|a| a.user);
    // A malformed id is a 404, after what the request itself got wrong.
    let Path(vid) = vid?;
    let page = page.parse()?;
    let key = format!("comments:{vid}:{}", kept::page_key(&page));
    let videos = &st.videos;
    kept::serve(&st, &headers, key, &[Scope::Video(vid), Scope::Comments(vid)], viewer, |viewer| async move {
        let page = videos.comments(viewer.as_ref(), vid, page).await?;
        Ok(CommentList {
            next_cursor: page.next.map(|c| c.encode()),
            comments: page.items.into_iter().map(CommentJson::from).collect(),
        })
    })
    .await
}

/// The seed's `NewComment`; its `author_id` is ignored: the author is the session's user.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewComment {
    #[schema(schema_with = schema::comment, required = true)]
    pub(crate) content: Option<String>,
    /// Reply to this comment of the same video (a reply to a reply answers its top-level
    /// comment). `@name` in the text notifies that user.
    #[serde(default, deserialize_with = "crate::files::not_null")]
    #[schema(schema_with = schema::id)]
    pub(crate) parent_id: Option<String>,
}

impl NewComment {
    /// The comment it answers: an id that is not one names no comment (404).
    pub(crate) fn parent(&self) -> Result<Option<CommentId>, Error> {
        self.parent_id.as_deref().map(|p| p.parse::<CommentId>()).transpose()
    }
}

/// Posts a comment as the session's user.
#[utoipa::path(post, path = "/videos/{vid}/comments", operation_id = "post_comment", tag = "comments", request_body = NewComment,
    params(("vid" = String, Path, description = "Video id")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = CommentJson),
        (status = 400, description = "Bad request", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "The video's owner does not take comments from the caller", body = ErrorBody),
        (status = 404, description = "Unknown or deleted video, or no such comment to reply to", body = ErrorBody),
        (status = 429, description = "Too many comments (30 a minute, 1000 a day); see Retry-After", body = ErrorBody),
    ))]
pub async fn post(
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
    let comment = st.social.post_comment(&auth.user, vid, &content, parent).await?;
    Ok((StatusCode::CREATED, Json(CommentJson::from(comment))))
}

/// Deletes a comment (the seed's singular path): its author or the video's owner may.
#[utoipa::path(delete, path = "/videos/{vid}/comment/{cid}", operation_id = "delete_comment", tag = "comments",
    params(("vid" = String, Path, description = "Video id"), ("cid" = String, Path, description = "Comment id")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
    ))]
pub async fn delete(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path((vid, cid)): Path<(VideoId, CommentId)>,
) -> Result<StatusCode, ApiError> {
    st.videos.delete_comment(&auth.user, vid, cid).await?;
    Ok(StatusCode::NO_CONTENT)
}
