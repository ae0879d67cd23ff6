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
use axum::routing::get;
use streamvault_core::accounts::Accounts;
use streamvault_core::drive::Drive;
use streamvault_core::videos::Videos;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
    let pages = Router::from(page_routes().with_state(state)).layer(middleware::from_fn(security::headers));
    let mut router = Router::new().merge(pages).route("/assets/{*path}", get(assets::serve));
    if let Some(gw) = gateway {
        router = router.merge(gw.router());
    }
    router
}

/// The pages, registered through utoipa-axum so that none exists without its entry in the
/// OpenAPI document.
fn page_routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(pages::home::home))
        .routes(routes!(pages::watch::watch))
        .routes(routes!(pages::watch::comment))
        .routes(routes!(pages::upload::upload))
        .routes(routes!(pages::channel::channel))
        .routes(routes!(pages::drive::root))
        .routes(routes!(pages::drive::folder))
        .routes(routes!(pages::auth::signup_page, pages::auth::signup))
        .routes(routes!(pages::auth::signin_page, pages::auth::signin))
        .routes(routes!(pages::auth::signout))
        .routes(routes!(pages::settings::settings))
        .routes(routes!(pages::settings::password))
        .routes(routes!(pages::settings::end_others))
}

/// The assets' route is a wildcard (`/assets/{*path}`), which OpenAPI writes as a plain
/// parameter: documented apart from the router.
#[derive(utoipa::OpenApi)]
#[openapi(paths(assets::serve))]
struct AssetsDoc;

/// The role's part of the site's OpenAPI document (the gateway forwards the api and stream
/// roles' routes, documented by them).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = page_routes().into_openapi();
    doc.merge(<AssetsDoc as utoipa::OpenApi>::openapi());
    doc
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
