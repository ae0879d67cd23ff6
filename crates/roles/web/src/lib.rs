//! The web role: the pages people use, server-rendered from the domain core (askama templates
//! compiled into the binary), the embedded static assets (pinned hls.js and tus-js-client
//! included), and, in split mode, the gateway that forwards `/api/` and `/stream/` to their
//! pools.

mod assets;
mod csrf;
mod format;
pub mod gateway;
mod pages;
mod security;
mod session;
mod views;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use streamvault_core::accounts::Accounts;
use streamvault_core::drive::Drive;
use streamvault_core::videos::Videos;

pub use gateway::Gateway;

#[derive(Clone)]
pub struct WebState {
    pub accounts: Accounts,
    pub videos: Videos,
    pub drive: Drive,
}

/// The pages and assets. `gateway` (split mode) forwards `/api/` and `/stream/` to the pools
/// it was given; the not-found page covers every other unknown path.
pub fn router(state: WebState, gateway: Option<Gateway>) -> Router {
    let pages = Router::new()
        .route("/", get(pages::home::home))
        .route("/watch/{id}", get(pages::watch::watch))
        .route("/watch/{id}/comments", post(pages::watch::comment))
        .route("/upload", get(pages::upload::upload))
        .route("/u/{name}", get(pages::channel::channel))
        .route("/drive", get(pages::drive::root))
        .route("/drive/{folder}", get(pages::drive::folder))
        .route("/signup", get(pages::auth::signup_page).post(pages::auth::signup))
        .route("/signin", get(pages::auth::signin_page).post(pages::auth::signin))
        .route("/signout", post(pages::auth::signout))
        .route("/settings", get(pages::settings::settings))
        .route("/settings/password", post(pages::settings::password))
        .route("/settings/sessions/end-others", post(pages::settings::end_others))
        .with_state(state)
        .layer(middleware::from_fn(security::headers));
    let mut router = Router::new().merge(pages).route("/assets/{*path}", get(assets::serve));
    if let Some(gw) = gateway {
        router = router.merge(gw.router());
    }
    router
}

/// The not-found answer for a process with the web role: the friendly page for a person, the
/// JSON error for API and stream clients.
pub async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = uri.path();
    let machine = path.starts_with("/api/") || path.starts_with("/stream/");
    if machine {
        return streamvault_http::error::not_found().await.into_response();
    }
    security::with_headers(pages::error::page(axum::http::StatusCode::NOT_FOUND))
}
