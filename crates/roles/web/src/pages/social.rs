//! The social pages: `/feed`, `/history`, `/notifications`, `/playlists` and
//! `/playlists/{id}`. Likes, follows and saving to a playlist are buttons on the watch and
//! channel pages that call the API (`assets/js/social.js`).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use streamvault_core::Error;
use streamvault_core::ids::{Id, PlaylistId};
use streamvault_core::paging::PageRequest;
use streamvault_core::social::{HistoryEntry, Notification, NotificationKind, Playlist, PlaylistVisibility};

use super::{Ctx, PageError, card, encode, error, redirect};
use crate::views::{
    FeedPage, HistoryPage, HistoryView, NotificationView, NotificationsPage, PlaylistPage, PlaylistRow, PlaylistsPage,
};
use crate::{WebState, format};

const PER_PAGE: &str = "24";

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    #[param(schema_with = streamvault_http::schema::cursor)]
    cursor: Option<String>,
}

fn page(p: &PageQuery) -> Result<PageRequest, Error> {
    PageRequest::parse(Some(PER_PAGE), p.cursor.as_deref())
}

fn next(path: &str, cursor: Option<streamvault_core::paging::Cursor>) -> Option<String> {
    cursor.map(|c| format!("{path}?cursor={}", encode(&c.encode())))
}

/// The newest videos of the channels the viewer follows.
#[utoipa::path(get, path = "/feed", operation_id = "web_feed", tag = "web", params(PageQuery),
    security((), ("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 303, description = "Signed out: to `/signin`"),
        (status = 400, description = "A malformed cursor", content_type = "text/html", body = String)))]
pub async fn feed(State(st): State<WebState>, ctx: Ctx, Query(p): Query<PageQuery>) -> Result<Response, PageError> {
    let user = match ctx.user_or_signin("/feed") {
        Ok(a) => a.user.clone(),
        Err(to) => return Ok(to.into_response()),
    };
    let found = st.social.feed(&user, page(&p)?).await?;
    let now = chrono::Utc::now();
    let page = FeedPage {
        layout: ctx.layout("Subscriptions", "feed"),
        next_url: next("/feed", found.next),
        cards: found.items.into_iter().map(|v| card(v, now)).collect(),
    };
    Ok(ctx.render(StatusCode::OK, page))
}

pub(crate) fn history_view(e: HistoryEntry, now: chrono::DateTime<chrono::Utc>) -> HistoryView {
    let percent = match e.video.media.duration_ms {
        Some(d) if d > 0 => u8::try_from((e.position_ms.min(d) * 100 / d).min(100)).unwrap_or(100),
        _ => 0,
    };
    HistoryView {
        position: format::duration(Some(e.position_ms)),
        percent,
        watched_age: format::age(e.watched_at, now),
        resume_url: format!("/watch/{}?t={}", e.video.id, e.position_ms / 1000),
        card: card(e.video, now),
    }
}

/// What the viewer watched, most recent first.
#[utoipa::path(get, path = "/history", operation_id = "web_history", tag = "web", params(PageQuery),
    security((), ("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 303, description = "Signed out: to `/signin`"),
        (status = 400, description = "A malformed cursor", content_type = "text/html", body = String)))]
pub async fn history(State(st): State<WebState>, ctx: Ctx, Query(p): Query<PageQuery>) -> Result<Response, PageError> {
    let user = match ctx.user_or_signin("/history") {
        Ok(a) => a.user.clone(),
        Err(to) => return Ok(to.into_response()),
    };
    let found = st.social.history(&user, page(&p)?).await?;
    let paused = st.social.history_paused(&user).await?;
    let now = chrono::Utc::now();
    let page = HistoryPage {
        layout: ctx.layout("History", "history"),
        paused,
        next_url: next("/history", found.next),
        items: found.items.into_iter().map(|e| history_view(e, now)).collect(),
    };
    Ok(ctx.render(StatusCode::OK, page))
}

/// Clears the viewer's history.
#[utoipa::path(post, path = "/history/clear", operation_id = "web_history_clear", tag = "web",
    request_body(content((super::auth::CsrfForm = "application/x-www-form-urlencoded"))),
    security(("web_cookie" = [])),
    responses((status = 303, description = "Cleared: back to `/history` (or, signed out, to `/signin`)"),
        (status = 403, description = "The form's CSRF token does not match its cookie", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (`application/x-www-form-urlencoded`)"),
        (status = 422, description = "A form this page cannot read")))]
pub async fn clear_history(State(st): State<WebState>, ctx: Ctx) -> Result<Response, PageError> {
    let Some(auth) = &ctx.viewer else { return Ok(redirect("/signin?next=%2Fhistory")) };
    st.social.clear_history(&auth.user, None).await?;
    Ok(redirect("/history"))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PauseForm {
    /// The form's CSRF token, checked by the layer over every page (`crate::csrf::require`).
    #[serde(default)]
    #[allow(dead_code)]
    csrf: String,
    /// `true` to pause, anything else to resume.
    #[serde(default)]
    paused: String,
}

/// Pauses or resumes the viewer's history.
#[utoipa::path(post, path = "/history/pause", operation_id = "web_history_pause", tag = "web",
    request_body(content((PauseForm = "application/x-www-form-urlencoded"))),
    security(("web_cookie" = [])),
    responses((status = 303, description = "Done: back to `/history` (or, signed out, to `/signin`)"),
        (status = 403, description = "The form's CSRF token does not match its cookie", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (`application/x-www-form-urlencoded`)"),
        (status = 422, description = "A form this page cannot read")))]
pub async fn pause_history(
    State(st): State<WebState>,
    ctx: Ctx,
    Form(f): Form<PauseForm>,
) -> Result<Response, PageError> {
    let Some(auth) = &ctx.viewer else { return Ok(redirect("/signin?next=%2Fhistory")) };
    st.social.pause_history(&auth.user, f.paused == "true").await?;
    Ok(redirect("/history"))
}

fn notification_view(n: Notification, now: chrono::DateTime<chrono::Utc>) -> NotificationView {
    let video = n.video_name.clone().unwrap_or_default();
    let (what, link) = match (n.kind, n.video_id) {
        (NotificationKind::NewVideo, Some(v)) => (format!("published “{video}”"), format!("/watch/{v}")),
        (NotificationKind::Comment, Some(v)) => (format!("commented on “{video}”"), format!("/watch/{v}#comments")),
        (NotificationKind::Reply, Some(v)) => (format!("replied to you on “{video}”"), format!("/watch/{v}#comments")),
        (NotificationKind::Mention, Some(v)) => (format!("mentioned you on “{video}”"), format!("/watch/{v}#comments")),
        (NotificationKind::Message, _) => {
            ("sent you a message".to_owned(), format!("/messages/{}", encode(&n.actor_name)))
        }
        (NotificationKind::NewFollower, _) | (_, None) => {
            ("followed you".to_owned(), format!("/u/{}", encode(&n.actor_name)))
        }
    };
    NotificationView { actor: n.actor_name, what, link, age: format::age(n.created_at, now), read: n.read }
}

/// The viewer's notifications, newest first.
#[utoipa::path(get, path = "/notifications", operation_id = "web_notifications", tag = "web", params(PageQuery),
    security((), ("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 303, description = "Signed out: to `/signin`"),
        (status = 400, description = "A malformed cursor", content_type = "text/html", body = String)))]
pub async fn notifications(
    State(st): State<WebState>,
    ctx: Ctx,
    Query(p): Query<PageQuery>,
) -> Result<Response, PageError> {
    let user = match ctx.user_or_signin("/notifications") {
        Ok(a) => a.user.clone(),
        Err(to) => return Ok(to.into_response()),
    };
    let found = st.social.notifications(&user, false, page(&p)?).await?;
    let unread = st.social.unread_notifications(&user).await?;
    let settings = st.social.notification_settings(&user).await?;
    let now = chrono::Utc::now();
    let page = NotificationsPage {
        settings: settings.kinds.into_iter().map(|(k, on)| (k.as_str(), kind_label(k), on)).collect(),
        layout: ctx.layout("Notifications", ""),
        unread,
        next_url: next("/notifications", found.next),
        items: found.items.into_iter().map(|n| notification_view(n, now)).collect(),
    };
    Ok(ctx.render(StatusCode::OK, page))
}

fn kind_label(k: NotificationKind) -> &'static str {
    match k {
        NotificationKind::NewVideo => "New videos from channels I follow",
        NotificationKind::Comment => "Comments on my videos",
        NotificationKind::Reply => "Replies to my comments",
        NotificationKind::Mention => "Mentions of me (@name)",
        NotificationKind::NewFollower => "New followers",
        NotificationKind::Message => "Private messages",
    }
}

/// The notification settings form: a kind is on when its box is ticked.
#[utoipa::path(post, path = "/notifications/settings", operation_id = "web_notification_settings", tag = "web",
    request_body(content((super::auth::CsrfForm = "application/x-www-form-urlencoded"))),
    security(("web_cookie" = [])),
    responses((status = 303, description = "Saved: back to `/notifications` (or, signed out, to `/signin`)"),
        (status = 403, description = "The form's CSRF token does not match its cookie", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (`application/x-www-form-urlencoded`)"),
        (status = 422, description = "A form this page cannot read")))]
pub async fn notification_settings(
    State(st): State<WebState>,
    ctx: Ctx,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let Some(auth) = &ctx.viewer else { return Ok(redirect("/signin?next=%2Fnotifications")) };
    let changes: Vec<_> =
        NotificationKind::ALL.into_iter().map(|k| (k, f.iter().any(|(name, _)| name == k.as_str()))).collect();
    st.social.set_notification_settings(&auth.user, &changes).await?;
    Ok(redirect("/notifications"))
}

/// Marks every notification of the viewer read.
#[utoipa::path(post, path = "/notifications/read", operation_id = "web_notifications_read", tag = "web",
    request_body(content((super::auth::CsrfForm = "application/x-www-form-urlencoded"))),
    security(("web_cookie" = [])),
    responses((status = 303, description = "Done: back to `/notifications` (or, signed out, to `/signin`)"),
        (status = 403, description = "The form's CSRF token does not match its cookie", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (`application/x-www-form-urlencoded`)"),
        (status = 422, description = "A form this page cannot read")))]
pub async fn read_notifications(State(st): State<WebState>, ctx: Ctx) -> Result<Response, PageError> {
    let Some(auth) = &ctx.viewer else { return Ok(redirect("/signin?next=%2Fnotifications")) };
    st.social.mark_read(&auth.user, None).await?;
    Ok(redirect("/notifications"))
}

pub(crate) fn playlist_row(p: Playlist) -> PlaylistRow {
    PlaylistRow { id: p.id.to_string(), name: p.name, builtin: p.builtin.is_some(), visibility: p.visibility.as_str() }
}

async fn playlists_page(
    st: &WebState,
    ctx: &Ctx,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let Some(auth) = &ctx.viewer else { return Ok(redirect("/signin?next=%2Fplaylists")) };
    let mine = st.social.my_playlists(&auth.user, PageRequest::parse(Some("100"), None)?).await?;
    let page = PlaylistsPage {
        layout: ctx.layout("Playlists", "playlists"),
        playlists: mine.items.into_iter().map(playlist_row).collect(),
        error,
    };
    Ok(ctx.render(status, page))
}

/// The viewer's playlists, with a form to make one.
#[utoipa::path(get, path = "/playlists", operation_id = "web_playlists", tag = "web",
    security((), ("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 303, description = "Signed out: to `/signin`")))]
pub async fn playlists(State(st): State<WebState>, ctx: Ctx) -> Result<Response, PageError> {
    playlists_page(&st, &ctx, None, StatusCode::OK).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewPlaylistForm {
    /// The form's CSRF token, checked by the layer over every page (`crate::csrf::require`).
    #[serde(default)]
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    name: String,
    /// `private`, `unlisted` or `public`.
    #[serde(default)]
    visibility: String,
}

/// Makes a playlist.
#[utoipa::path(post, path = "/playlists", operation_id = "web_new_playlist", tag = "web",
    request_body(content((NewPlaylistForm = "application/x-www-form-urlencoded"))),
    security(("web_cookie" = [])),
    responses((status = 303, description = "Made: to its page (or, signed out, to `/signin`)"),
        (status = 403, description = "The form's CSRF token does not match its cookie", content_type = "text/html", body = String),
        (status = 409, description = "Too many playlists: the page again", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (`application/x-www-form-urlencoded`)"),
        (status = 422, description = "A bad name: the page again", content_type = "text/html", body = String)))]
pub async fn new_playlist(
    State(st): State<WebState>,
    ctx: Ctx,
    Form(f): Form<NewPlaylistForm>,
) -> Result<Response, PageError> {
    let Some(auth) = &ctx.viewer else { return Ok(redirect("/signin?next=%2Fplaylists")) };
    let visibility = PlaylistVisibility::parse(&f.visibility).unwrap_or(PlaylistVisibility::Private);
    match st.social.create_playlist(&auth.user, &f.name, "", visibility).await {
        Ok(p) => Ok(redirect(&format!("/playlists/{}", p.id))),
        Err(Error::Invalid { message, .. }) => {
            playlists_page(&st, &ctx, Some(message), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(Error::Conflict { message, .. }) => playlists_page(&st, &ctx, Some(message), StatusCode::CONFLICT).await,
        Err(e) => Err(e.into()),
    }
}

/// A playlist the viewer may see, its videos in order, with "Play all".
#[utoipa::path(get, path = "/playlists/{id}", operation_id = "web_playlist", tag = "web",
    params(("id" = String, Path, description = "Playlist id"), PageQuery),
    security((), ("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 400, description = "A malformed cursor", content_type = "text/html", body = String),
        (status = 404, description = "Not found (the page that says so)", content_type = "text/html", body = String)))]
pub async fn playlist(
    State(st): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(p): Query<PageQuery>,
) -> Result<Response, PageError> {
    let Ok(id) = PlaylistId::parse(&id) else { return Ok(error::for_status(&ctx, StatusCode::NOT_FOUND)) };
    let page_req = page(&p)?;
    let viewer = ctx.viewer.as_ref().map(|a| &a.user);
    let view = match st.social.playlist(viewer, id).await {
        Ok(v) => v,
        Err(Error::NotFound(_)) => return Ok(error::for_status(&ctx, StatusCode::NOT_FOUND)),
        Err(e) => return Err(e.into()),
    };
    let items = st.social.playlist_items(viewer, id, page_req).await?;
    let now = chrono::Utc::now();
    let pl = view.playlist;
    let first = items.items.first().map(|e| format!("/watch/{}?list={}", e.video.id, pl.id));
    let page = PlaylistPage {
        layout: ctx.layout(pl.name.clone(), "playlists"),
        id: pl.id.to_string(),
        is_owner: viewer.is_some_and(|u| u.id == pl.owner_id),
        owner: pl.owner_name,
        description: pl.description,
        visibility: pl.visibility.as_str(),
        video_count: view.video_count,
        name: pl.name,
        play_all: first,
        next_url: next(&format!("/playlists/{id}"), items.next),
        cards: items.items.into_iter().map(|e| card(e.video, now)).collect(),
    };
    Ok(ctx.render(StatusCode::OK, page))
}
