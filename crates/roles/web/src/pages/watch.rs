//! `/watch/{id}`: the player (HLS once ready, the original until then), the video's facts, and
//! its comments with the form to add one.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use streamvault_core::Error;
use streamvault_core::ids::{Id, VideoId};
use streamvault_core::paging::PageRequest;
use streamvault_http::urls::VideoUrls;

use super::{Ctx, PageError, error, redirect};
use crate::views::{CommentView, WatchPage, WatchVideo};
use crate::{WebState, format};

/// A video's page: the player (HLS when transcoded, the original until then) and comments.
#[utoipa::path(get, path = "/watch/{id}", operation_id = "web_watch", tag = "web",
    params(("id" = String, Path, description = "Video id")),
    security((), ("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String), (status = 404, description = "Not found (the page that says so)", content_type = "text/html", body = String)))]
pub async fn watch(State(st): State<WebState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, PageError> {
    render(&st, &ctx, &id, None, StatusCode::OK).await
}

async fn render(
    st: &WebState,
    ctx: &Ctx,
    id: &str,
    comment_error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let Ok(id) = VideoId::parse(id) else { return Ok(error::for_status(ctx, StatusCode::NOT_FOUND)) };
    let viewer = ctx.viewer.as_ref().map(|a| &a.user);
    let v = match st.videos.get(viewer, id).await {
        Ok(v) if v.source.is_some() => v,
        Ok(_) | Err(Error::NotFound(_)) => return Ok(error::for_status(ctx, StatusCode::NOT_FOUND)),
        Err(e) => return Err(e.into()),
    };
    let comments = st.videos.comments(viewer, id, PageRequest::parse(Some("100"), None)?).await?;
    let now = chrono::Utc::now();
    let video = WatchVideo {
        id: v.id.to_string(),
        mp4_url: format!("/stream/v1/videos/{}", v.id),
        hls_url: v.hls_url(),
        thumbnail_url: v.thumbnail_url(),
        storyboard_url: v.storyboard_url(),
        is_owner: viewer.is_some_and(|u| u.id == v.author_id),
        duration: format::duration(v.media.duration_ms),
        age: format::age(v.created_at, now),
        status: v.status.as_str().to_owned(),
        progress: v.outputs.progress,
        failure_reason: v.media.failure_reason,
        views: v.views,
        author: v.author_name,
        description: v.description,
        title: v.name,
    };
    let comments = comments
        .items
        .into_iter()
        .map(|c| CommentView {
            id: c.id.to_string(),
            author: c.author_name,
            content: c.content,
            age: format::age(c.created_at, now),
        })
        .collect();
    let page = WatchPage { layout: ctx.layout(video.title.clone(), ""), video, comments, comment_error };
    Ok(ctx.render(status, page))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CommentForm {
    /// The form's CSRF token, checked by the layer over every page (`crate::csrf::require`).
    #[serde(default)]
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    content: String,
}

/// Posts a comment and comes back to it (post/redirect/get: a reload does not post twice).
/// Posts a comment from the video's page; back to the page.
#[utoipa::path(post, path = "/watch/{id}/comments", operation_id = "web_comment", tag = "web",
    params(("id" = String, Path, description = "Video id")),
    request_body(content((CommentForm = "application/x-www-form-urlencoded"))),
    security(("web_cookie" = [])),
    responses(
        (status = 303, description = "Posted: back to the video's comments (or, signed out, to `/signin`)"),
        (status = 404, description = "Not found (the page that says so)", content_type = "text/html", body = String),
        (status = 403, description = "The form's CSRF token does not match its cookie", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (`application/x-www-form-urlencoded`)"),
        (status = 422, description = "A form this page cannot read"),
        (status = 429, description = "Too many comments; see Retry-After", content_type = "text/html", body = String),
    ))]
pub async fn comment(
    State(st): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<CommentForm>,
) -> Result<Response, PageError> {
    let here = format!("/watch/{id}");
    let user = match ctx.user_or_signin(&here) {
        Ok(a) => a.user.clone(),
        Err(to_signin) => return Ok(to_signin.into_response()),
    };
    let Ok(video_id) = VideoId::parse(&id) else { return Ok(error::for_status(&ctx, StatusCode::NOT_FOUND)) };
    match st.social.post_comment(&user, video_id, &form.content).await {
        Ok(_) => Ok(redirect(&format!("{here}#comments"))),
        Err(Error::Invalid { message, .. }) => {
            render(&st, &ctx, &id, Some(message), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(Error::NotFound(_)) => Ok(error::for_status(&ctx, StatusCode::NOT_FOUND)),
        Err(e) => Err(e.into()),
    }
}
