//! `/watch/{id}`: the player (HLS once ready, the original until then), the video's facts, and
//! its comments with the form to add one.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use streamvault_core::Error;
use streamvault_core::accounts::User;
use streamvault_core::ids::{CommentId, Id, PlaylistId, VideoId};
use streamvault_core::paging::PageRequest;
use streamvault_http::urls::VideoUrls;

use super::{Ctx, PageError, error, redirect};
use crate::views::{CommentView, ListItem, ListPanel, WatchPage, WatchVideo};
use crate::{WebState, format};

/// A video's page: the player (HLS when transcoded, the original until then) and comments.
#[utoipa::path(get, path = "/watch/{id}", operation_id = "web_watch", tag = "web",
    params(("id" = String, Path, description = "Video id"), WatchQuery),
    security((), ("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String), (status = 404, description = "Not found (the page that says so)", content_type = "text/html", body = String)))]
pub async fn watch(
    State(st): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<WatchQuery>,
) -> Result<Response, PageError> {
    let list = q.list.as_deref().and_then(|l| PlaylistId::parse(l).ok());
    render(&st, &ctx, &id, None, StatusCode::OK, list).await
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct WatchQuery {
    /// Watch it as part of this playlist (the next one plays after it).
    list: Option<String>,
    /// Start at this second (read by the player).
    #[allow(dead_code)]
    t: Option<String>,
}

/// The playlist panel: the list's first videos, this one marked, and the next one's page.
async fn list_panel(st: &WebState, viewer: Option<&User>, list: PlaylistId, current: VideoId) -> Option<ListPanel> {
    let view = st.social.playlist(viewer, list).await.ok()?;
    let items = st.social.playlist_items(viewer, list, PageRequest::parse(Some("100"), None).ok()?).await.ok()?;
    let at = items.items.iter().position(|e| e.video.id == current)?;
    let next = items.items.get(at + 1).map(|e| format!("/watch/{}?list={list}", e.video.id));
    Some(ListPanel {
        id: list.to_string(),
        name: view.playlist.name,
        next,
        items: items
            .items
            .into_iter()
            .map(|e| ListItem { current: e.video.id == current, id: e.video.id.to_string(), title: e.video.name })
            .collect(),
    })
}

async fn render(
    st: &WebState,
    ctx: &Ctx,
    id: &str,
    comment_error: Option<String>,
    status: StatusCode,
    list: Option<PlaylistId>,
) -> Result<Response, PageError> {
    let Ok(id) = VideoId::parse(id) else { return Ok(error::for_status(ctx, StatusCode::NOT_FOUND)) };
    let viewer = ctx.viewer.as_ref().map(|a| &a.user);
    let v = match st.videos.get(viewer, id).await {
        Ok(v) if v.source.is_some() => v,
        Ok(_) | Err(Error::NotFound(_)) => return Ok(error::for_status(ctx, StatusCode::NOT_FOUND)),
        Err(e) => return Err(e.into()),
    };
    let comments = st.videos.comments(viewer, id, PageRequest::parse(Some("100"), None)?).await?;
    let (counts, following) = st.social.follow_state(viewer, v.author_id).await?;
    let list = match list {
        Some(l) => list_panel(st, viewer, l, id).await,
        None => None,
    };
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
        likes: v.likes,
        dislikes: v.dislikes,
        followers: counts.followers,
        following,
        author: v.author_name,
        description: v.description,
        title: v.name,
    };
    // Top-level comments with their replies under them (a reply whose parent is past this
    // page shows on its own).
    let mut threads: Vec<CommentView> = Vec::new();
    for c in comments.items {
        let view = CommentView {
            id: c.id.to_string(),
            author: c.author_name,
            content: c.content,
            age: format::age(c.created_at, now),
            replies: Vec::new(),
        };
        let parent = c.parent_id.map(|p| p.to_string());
        match parent.and_then(|p| threads.iter_mut().find(|t| t.id == p)) {
            Some(thread) => thread.replies.push(view),
            None => threads.push(view),
        }
    }
    let comments = threads;
    let page = WatchPage { layout: ctx.layout(video.title.clone(), ""), video, comments, comment_error, list };
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
    /// The comment this one replies to (empty for a top-level comment).
    #[serde(default)]
    parent_id: String,
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
    let parent = match form.parent_id.as_str() {
        "" => None,
        p => match CommentId::parse(p) {
            Ok(p) => Some(p),
            Err(_) => return Ok(error::for_status(&ctx, StatusCode::NOT_FOUND)),
        },
    };
    match st.social.post_comment(&user, video_id, &form.content, parent).await {
        Ok(_) => Ok(redirect(&format!("{here}#comments"))),
        Err(Error::Invalid { message, .. }) => {
            render(&st, &ctx, &id, Some(message), StatusCode::UNPROCESSABLE_ENTITY, None).await
        }
        Err(Error::NotFound(_)) => Ok(error::for_status(&ctx, StatusCode::NOT_FOUND)),
        Err(e) => Err(e.into()),
    }
}
