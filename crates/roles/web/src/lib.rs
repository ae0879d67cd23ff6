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
use streamvault_http::routes::at;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use gateway::Gateway;

/// The role's services, shared by every request through [`WebState`].
pub struct WebServices {
    pub accounts: Accounts,
    pub videos: Videos,
    pub drive: Drive,
    /// Follows, playlists, notifications, history (and comments, which notify).
    pub social: streamvault_core::social::Social,
}

/// What handlers take: one shared [`WebServices`] (see [`streamvault_http::shared`]).
pub type WebState = streamvault_http::shared::Shared<WebServices>;

/// The pages and assets. `gateway` (split mode) forwards `/api/` and `/stream/` to the pools
/// it was given; the not-found page covers every other unknown path.
pub fn router(state: WebState, gateway: Option<Gateway>) -> Router {
    let pages = Router::from(
        page_routes()
            // Any page request that may change something carries the form's CSRF token.
            .route_layer(middleware::from_fn_with_state(state.clone(), csrf::require))
            .with_state(state),
    )
    .layer(middleware::from_fn(security::headers));
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
        .routes(at("GET", "/", routes!(pages::home::home)))
        .routes(at("GET", "/watch/{id}", routes!(pages::watch::watch)))
        .routes(at("POST", "/watch/{id}/comments", routes!(pages::watch::comment)))
        .routes(at("GET", "/upload", routes!(pages::upload::upload)))
        .routes(at("GET", "/u/{name}", routes!(pages::channel::channel)))
        .routes(at("GET", "/drive", routes!(pages::drive::root)))
        .routes(at("GET", "/drive/{folder}", routes!(pages::drive::folder)))
        .routes(at("GET, POST", "/signup", routes!(pages::auth::signup_page, pages::auth::signup)))
        .routes(at("GET, POST", "/signin", routes!(pages::auth::signin_page, pages::auth::signin)))
        .routes(at("POST", "/signout", routes!(pages::auth::signout)))
        .routes(at("GET", "/settings", routes!(pages::settings::settings)))
        .routes(at("POST", "/settings/password", routes!(pages::settings::password)))
        .routes(at("POST", "/settings/sessions/end-others", routes!(pages::settings::end_others)))
        .routes(at("GET", "/feed", routes!(pages::social::feed)))
        .routes(at("GET", "/history", routes!(pages::social::history)))
        .routes(at("POST", "/history/clear", routes!(pages::social::clear_history)))
        .routes(at("POST", "/history/pause", routes!(pages::social::pause_history)))
        .routes(at("GET", "/notifications", routes!(pages::social::notifications)))
        .routes(at("POST", "/notifications/read", routes!(pages::social::read_notifications)))
        .routes(at("POST", "/notifications/settings", routes!(pages::social::notification_settings)))
        .routes(at("GET, POST", "/playlists", routes!(pages::social::playlists, pages::social::new_playlist)))
        .routes(at("GET", "/playlists/{id}", routes!(pages::social::playlist)))
        .routes(at("GET", "/messages", routes!(pages::messages::conversations)))
        .routes(at("GET, POST", "/messages/{name}", routes!(pages::messages::thread, pages::messages::send)))
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
