//! The stream role: bytes in and out. Uploads of a video's original, playback with ranges and
//! conditional requests (or a redirect to presigned object-storage URLs), and the limiter on
//! concurrent streams.

mod files;
mod limiter;
mod playback;
pub mod range;
mod serve;
mod tus;
mod upload;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::options;
use streamvault_core::accounts::Accounts;
use streamvault_core::drive::{Drive, ShareLinks};
use streamvault_core::ports::BlobStore;
use streamvault_core::storage::Storage;
use streamvault_core::uploads::Uploads;
use streamvault_core::videos::Videos;
use streamvault_http::HasAccounts;
use streamvault_http::routes::at;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use limiter::StreamLimiter;

/// How a blob in object storage is played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybackMode {
    /// 302 to a presigned URL: the bytes do not pass through this replica.
    Redirect,
    /// Streamed through this replica, ranges passed on.
    Proxy,
}

/// The role's services, shared by every request through [`StreamState`].
pub struct StreamServices {
    pub accounts: Accounts,
    pub videos: Videos,
    pub storage: Storage,
    pub blobs: Arc<dyn BlobStore>,
    pub limiter: StreamLimiter,
    pub playback: PlaybackMode,
    pub drive: Drive,
    pub uploads: Uploads,
    pub shares: ShareLinks,
}

/// What handlers take: one shared [`StreamServices`] (see [`streamvault_http::shared`]).
pub type StreamState = streamvault_http::shared::Shared<StreamServices>;

impl HasAccounts for StreamServices {
    fn accounts(&self) -> &Accounts {
        &self.accounts
    }
}

/// The role's routes, registered through utoipa-axum so that none exists without its entry in
/// the OpenAPI document.
fn routes() -> OpenApiRouter<StreamState> {
    // Uploads stream to staging with their own limit, checked while reading.
    let uploads = OpenApiRouter::new()
        .routes(at("POST", "/upload/{vid}", routes!(upload::seed)))
        .routes(at("POST", "/stream/v1/videos/{vid}/upload", routes!(upload::upload)))
        .routes(at("POST", "/stream/v1/files", routes!(files::upload)))
        .layer(DefaultBodyLimit::disable());
    let tus = OpenApiRouter::new()
        .routes(at("OPTIONS, POST", "/stream/v1/tus/", routes!(tus::options, tus::create)))
        .routes(at("HEAD, PATCH, DELETE", "/stream/v1/tus/{id}", routes!(tus::head, tus::patch, tus::terminate)))
        // tus clients given the endpoint without its slash.
        .route("/stream/v1/tus", options(tus::options).post(tus::create))
        .route("/stream/v1/tus/{id}", options(tus::options))
        .layer(axum::middleware::from_fn(tus::protocol))
        .layer(DefaultBodyLimit::disable());
    OpenApiRouter::new()
        .routes(at("GET", "/videos/{vid}", routes!(playback::seed_play)))
        .routes(at("GET", "/stream/v1/videos/{vid}", routes!(playback::play)))
        .routes(at("GET", "/stream/v1/videos/{vid}/media/{file}", routes!(playback::still)))
        .routes(at("GET", "/stream/v1/videos/{vid}/media/hls/master.m3u8", routes!(playback::hls_master)))
        .routes(at("GET", "/stream/v1/videos/{vid}/media/hls/{rendition}/{file}", routes!(playback::hls_part)))
        .routes(at("GET", "/stream/v1/files/{id}", routes!(files::download)))
        .routes(at("GET", "/stream/v1/shared/{id}", routes!(files::shared)))
        .merge(uploads)
        .merge(tus)
}

pub fn router(state: StreamState) -> Router {
    routes().with_state(state).into()
}

/// The role's part of the site's OpenAPI document (its tags and security schemes are the api
/// role's, which serves the document).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}
