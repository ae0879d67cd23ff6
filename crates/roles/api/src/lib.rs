//! The api role: the JSON REST API. The seed's routes are served both under `/api/v1` and at
//! the root, so the seed's own web client works unchanged.
//!
//! Routes are registered through utoipa-axum, so a route cannot exist without its entry in the
//! OpenAPI document (`/api/v1/openapi.json`, rendered at `/api/docs`).

mod accounts;
mod admin;
mod comments;
mod danmaku;
mod files;
mod kept;
mod live;
mod live_socket;
mod me;
mod openapi;
mod seed;
mod social;
mod videos;

use std::sync::Arc;

use axum::Router;
use streamvault_core::accounts::Accounts;
use streamvault_core::drive::{Drive, ShareLinks};
use streamvault_core::live::{Bullets, Live};
use streamvault_core::ports::JobAdmin;
use streamvault_core::reads::ReadCache;
use streamvault_core::social::Social;
use streamvault_core::uploads::Uploads;
use streamvault_core::videos::Videos;
use streamvault_http::HasAccounts;
use streamvault_http::routes::at;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The role's services, shared by every request through [`ApiState`].
pub struct ApiServices {
    pub accounts: Accounts,
    pub videos: Videos,
    pub drive: Drive,
    pub uploads: Uploads,
    pub shares: ShareLinks,
    pub live: Live,
    pub bullets: Bullets,
    /// Ratings, follows, notifications, playlists, history.
    pub social: Social,
    /// Requests waiting for a change of their caller's unread count.
    pub waiters: social::notifications::Waiters,
    /// Finished bodies of the hot reads, with their validators.
    pub reads: ReadCache,
    pub jobs: Arc<dyn JobAdmin>,
    /// The operators' API token; `None` turns that API off.
    pub admin_token: Option<Arc<str>>,
}

/// What handlers take: one shared [`ApiServices`] (see [`streamvault_http::shared`]).
pub type ApiState = streamvault_http::shared::Shared<ApiServices>;

impl HasAccounts for ApiServices {
    fn accounts(&self) -> &Accounts {
        &self.accounts
    }
}

/// The routes the seed defined, as `/api/v1` serves them.
fn seed_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(at("POST", "/user", routes!(accounts::signup)))
        .routes(at("POST, GET, DELETE", "/user/{name}", routes!(accounts::login, accounts::get_user, accounts::logout)))
        .routes(at("POST, GET", "/user/{name}/videos", routes!(videos::create, videos::list)))
        .routes(at(
            "GET, PATCH, DELETE",
            "/user/{name}/videos/{vid}",
            routes!(videos::get, videos::update, videos::delete),
        ))
        .routes(at("GET, POST", "/videos/{vid}/comments", routes!(comments::list, comments::post)))
        .routes(at("DELETE", "/videos/{vid}/comment/{cid}", routes!(comments::delete)))
}

/// The seed's routes at the root, for its own web client: the same, except the lists and the
/// posted comment in the seed's wire format (see `seed`).
fn root_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(at("POST", "/user", routes!(accounts::signup)))
        .routes(at("POST, GET, DELETE", "/user/{name}", routes!(accounts::login, accounts::get_user, accounts::logout)))
        .routes(at("POST, GET", "/user/{name}/videos", routes!(videos::create, seed::list_videos)))
        .routes(at(
            "GET, PATCH, DELETE",
            "/user/{name}/videos/{vid}",
            routes!(videos::get, videos::update, videos::delete),
        ))
        .routes(at("GET, POST", "/videos/{vid}/comments", routes!(seed::list_comments, seed::post_comment)))
        .routes(at("DELETE", "/videos/{vid}/comment/{cid}", routes!(comments::delete)))
}

/// Routes that exist only under `/api/v1`.
fn v1_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(at("GET", "/me", routes!(me::me)))
        .routes(at("GET, DELETE", "/me/sessions", routes!(me::sessions, me::end_other_sessions)))
        .routes(at("DELETE", "/me/sessions/{id}", routes!(me::end_session)))
        .routes(at("GET", "/videos", routes!(videos::discover)))
        .routes(at("GET", "/channels/{name}", routes!(videos::channel)))
        .routes(at("GET, POST", "/videos/{vid}/watching", routes!(live::watching, live::heartbeat)))
        .routes(at("GET", "/videos/{vid}/live", routes!(live_socket::live)))
        .routes(at("GET, POST", "/videos/{vid}/danmaku", routes!(danmaku::segment, danmaku::post)))
        .routes(at("GET", "/videos/{vid}/danmaku/meta", routes!(danmaku::meta)))
        .routes(at("GET", "/videos/{vid}/danmaku/density", routes!(danmaku::density)))
        .routes(at("GET", "/videos/{vid}/danmaku.xml", routes!(danmaku::export)))
        .routes(at(
            "GET, PUT",
            "/me/danmaku/blocked-words",
            routes!(danmaku::blocked_words, danmaku::set_blocked_words),
        ))
        .routes(at("PUT", "/videos/{vid}/danmaku/enabled", routes!(danmaku::switch)))
        .routes(at("DELETE", "/videos/{vid}/danmaku/{id}", routes!(danmaku::delete)))
        .routes(at(
            "GET, PUT, DELETE",
            "/videos/{vid}/like",
            routes!(social::ratings::get, social::ratings::like, social::ratings::unlike),
        ))
        .routes(at(
            "PUT, DELETE",
            "/videos/{vid}/dislike",
            routes!(social::ratings::dislike, social::ratings::undislike),
        ))
        .routes(at(
            "PUT, DELETE",
            "/channels/{name}/follow",
            routes!(social::follows::follow, social::follows::unfollow),
        ))
        .routes(at("GET", "/channels/{name}/playlists", routes!(social::playlists::of_channel)))
        .routes(at("GET", "/me/following", routes!(social::follows::following)))
        .routes(at("GET", "/me/feed", routes!(social::follows::feed)))
        .routes(at("GET", "/me/notifications", routes!(social::notifications::list)))
        .routes(at("GET", "/me/notifications/unread", routes!(social::notifications::unread)))
        .routes(at("POST", "/me/notifications/read", routes!(social::notifications::read_all)))
        .routes(at("POST", "/me/notifications/{id}/read", routes!(social::notifications::read_one)))
        .routes(at(
            "GET, PATCH",
            "/me/notifications/settings",
            routes!(social::notifications::settings, social::notifications::set_settings),
        ))
        .routes(at("GET, POST", "/me/playlists", routes!(social::playlists::mine, social::playlists::create)))
        .routes(at(
            "PATCH, DELETE",
            "/me/playlists/{id}",
            routes!(social::playlists::update, social::playlists::delete),
        ))
        .routes(at(
            "PUT, DELETE",
            "/me/playlists/{id}/items/{vid}",
            routes!(social::playlists::put_item, social::playlists::remove_item),
        ))
        .routes(at("GET", "/playlists/{id}", routes!(social::playlists::get)))
        .routes(at("GET", "/playlists/{id}/items", routes!(social::playlists::items)))
        .routes(at("GET, DELETE", "/me/history", routes!(social::history::list, social::history::clear)))
        .routes(at(
            "GET, PUT, DELETE",
            "/me/history/{vid}",
            routes!(social::history::position, social::history::record, social::history::forget),
        ))
        .routes(at("GET, PUT", "/me/history-paused", routes!(social::history::paused, social::history::pause)))
        .routes(at("GET", "/me/conversations", routes!(social::messages::conversations)))
        .routes(at(
            "GET, POST",
            "/me/conversations/{name}/messages",
            routes!(social::messages::messages, social::messages::send),
        ))
        .routes(at("GET", "/me/blocks", routes!(social::messages::blocks)))
        .routes(at("PUT, DELETE", "/me/blocks/{name}", routes!(social::messages::block, social::messages::unblock)))
        .routes(at("GET", "/files", routes!(files::list)))
        .routes(at("GET, PATCH, DELETE", "/files/{id}", routes!(files::get, files::update, files::delete)))
        .routes(at("POST", "/files/instant", routes!(files::instant)))
        .routes(at("POST", "/files/{id}/share", routes!(files::share)))
        .routes(at("GET, POST", "/folders", routes!(files::folders, files::create_folder)))
        .routes(at("PATCH, DELETE", "/folders/{id}", routes!(files::update_folder, files::delete_folder)))
        .routes(at("GET, DELETE", "/admin/jobs", routes!(admin::list, admin::purge)))
        .routes(at("GET", "/admin/jobs/stats", routes!(admin::stats)))
        .routes(at("GET", "/admin/jobs/{id}", routes!(admin::get)))
        .routes(at("POST", "/admin/jobs/{id}/retry", routes!(admin::retry)))
}

/// The api role's routes, and the site's OpenAPI document at `/api/v1/openapi.json`: this
/// role's routes and `others`, the routes of the other roles (the document describes the whole
/// site whichever roles this process runs).
pub fn router(state: ApiState, others: impl IntoIterator<Item = utoipa::openapi::OpenApi>) -> Router {
    let (v1, doc) = OpenApiRouter::with_openapi(openapi::base())
        .nest("/api/v1", seed_routes().merge(v1_routes()))
        .split_for_parts();
    let (root, seed_doc) = root_routes().split_for_parts();
    let mut doc = openapi::with_seed_aliases(doc, seed_doc);
    for other in others {
        doc.merge(other);
    }
    Router::new()
        .merge(v1)
        .merge(root)
        .with_state(state)
        .merge(openapi::routes(doc))
        .layer(axum::middleware::map_response(private_to_the_caller))
}

/// Answers under `/api/v1/me` are the caller's alone (a session in `X-Session-Id` is a header
/// shared caches do not know to key on): `private, no-store` unless the route said more (the
/// unread count's validator keeps `private, no-cache`).
async fn private_to_the_caller(uri: axum::http::Uri, mut res: axum::response::Response) -> axum::response::Response {
    use axum::http::header::{CACHE_CONTROL, HeaderValue};
    if (uri.path() == "/api/v1/me" || uri.path().starts_with("/api/v1/me/"))
        && !res.headers().contains_key(CACHE_CONTROL)
    {
        res.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    }
    res
}
