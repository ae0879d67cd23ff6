//! `/`: the latest or most watched public videos, or a search through them.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use streamvault_core::paging::PageRequest;
use streamvault_core::videos::VideoSort;

use super::{Ctx, PageError, card, encode};
use crate::WebState;
use crate::views::HomePage;

const PER_PAGE: &str = "24";

#[derive(Deserialize, utoipa::IntoParams)]
pub struct HomeQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    #[param(schema_with = streamvault_http::schema::cursor)]
    cursor: Option<String>,
}

/// The home page: the latest or most watched public videos, or a search through them.
#[utoipa::path(get, path = "/", operation_id = "web_home", tag = "web", params(HomeQuery),
    security((), ("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String), (status = 400, description = "A malformed query or cursor", content_type = "text/html", body = String)))]
pub async fn home(State(st): State<WebState>, ctx: Ctx, Query(p): Query<HomeQuery>) -> Result<Response, PageError> {
    let (sort, sort_name) =
        if p.sort == "popular" { (VideoSort::Popular, "popular") } else { (VideoSort::Latest, "latest") };
    let q: String = p.q.trim().chars().take(100).collect();
    let page = PageRequest::parse(Some(PER_PAGE), p.cursor.as_deref())?;
    let found = st.videos.discover(sort, Some(&q), page).await?;
    let now = chrono::Utc::now();
    let next_url = found.next.map(|c| format!("/?q={}&sort={sort_name}&cursor={}", encode(&q), encode(&c.encode())));
    let title = if q.is_empty() { "Home".to_owned() } else { format!("{q} – search") };
    // "Continue watching": the viewer's recent videos they stopped before the end.
    let resume = match (&ctx.viewer, q.is_empty() && p.cursor.is_none()) {
        (Some(auth), true) => st
            .social
            .history(&auth.user, PageRequest::parse(Some("12"), None)?)
            .await?
            .items
            .into_iter()
            .filter(|e| e.position_ms > 0 && e.video.media.duration_ms.is_none_or(|d| e.position_ms * 100 < d * 95))
            .take(6)
            .map(|e| super::social::history_view(e, now))
            .collect(),
        _ => Vec::new(),
    };
    let page = HomePage {
        layout: ctx.layout(title, "home"),
        resume,
        cards: found.items.into_iter().map(|v| card(v, now)).collect(),
        q,
        sort: sort_name.into(),
        next_url,
    };
    Ok(ctx.render(StatusCode::OK, page))
}
