//! `/u/{name}`: a user's channel, their public videos newest first (all of them for the owner).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use streamvault_core::Error;
use streamvault_core::paging::PageRequest;

use super::{Ctx, PageError, card, encode, error};
use crate::WebState;
use crate::views::ChannelPage;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ChannelQuery {
    #[param(schema_with = streamvault_http::schema::cursor)]
    cursor: Option<String>,
}

/// A user's channel: their public videos.
#[utoipa::path(get, path = "/u/{name}", operation_id = "web_channel", tag = "web",
    params(("name" = String, Path, description = "User name"), ChannelQuery),
    security((), ("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String), (status = 400, description = "A malformed query or cursor", content_type = "text/html", body = String), (status = 404, description = "Not found (the page that says so)", content_type = "text/html", body = String)))]
pub async fn channel(
    State(st): State<WebState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Query(p): Query<ChannelQuery>,
) -> Result<Response, PageError> {
    let channel = match st.videos.channel(&name).await {
        Ok(c) => c,
        Err(Error::NotFound(_)) => return Ok(error::for_status(&ctx, StatusCode::NOT_FOUND)),
        Err(e) => return Err(e.into()),
    };
    let viewer = ctx.viewer.as_ref().map(|a| &a.user);
    let page = PageRequest::parse(Some("24"), p.cursor.as_deref())?;
    let videos = st.videos.list_by_author(viewer, &channel.user.name, page).await?;
    let (counts, following) = st.social.follow_state(viewer, channel.user.id).await?;
    let playlists = st.social.channel_playlists(&channel.user.name, PageRequest::parse(Some("24"), None)?).await?;
    let now = chrono::Utc::now();
    let is_self = viewer.is_some_and(|u| u.id == channel.user.id);
    let name = channel.user.name;
    let next_url = videos.next.map(|c| format!("/u/{}?cursor={}", encode(&name), encode(&c.encode())));
    let page = ChannelPage {
        layout: ctx.layout(name.clone(), ""),
        cards: videos.items.into_iter().map(|v| card(v, now)).collect(),
        video_count: channel.video_count,
        followers: counts.followers,
        following,
        is_self,
        playlists: playlists.items.into_iter().map(super::social::playlist_row).collect(),
        name,
        next_url,
    };
    Ok(ctx.render(StatusCode::OK, page))
}
