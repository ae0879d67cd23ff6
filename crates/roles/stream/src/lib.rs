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
use axum::routing::{get, options, post};
use streamvault_core::accounts::Accounts;
use streamvault_core::drive::{Drive, ShareLinks};
use streamvault_core::ports::BlobStore;
use streamvault_core::storage::Storage;
use streamvault_core::uploads::Uploads;
use streamvault_core::videos::{Videos, ViewCounter};
use streamvault_http::HasAccounts;

pub use limiter::StreamLimiter;

/// How a blob in object storage is played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybackMode {
    /// 302 to a presigned URL: the bytes do not pass through this replica.
    Redirect,
    /// Streamed through this replica, ranges passed on.
    Proxy,
}

#[derive(Clone)]
pub struct StreamState {
    pub accounts: Accounts,
    pub videos: Videos,
    pub storage: Storage,
    pub blobs: Arc<dyn BlobStore>,
    pub limiter: StreamLimiter,
    pub playback: PlaybackMode,
    pub views: ViewCounter,
    pub drive: Drive,
    pub uploads: Uploads,
    pub shares: ShareLinks,
}

impl HasAccounts for StreamState {
    fn accounts(&self) -> &Accounts {
        &self.accounts
    }
}

pub fn router(state: StreamState) -> Router {
    // Uploads stream to staging with their own limit, checked while reading.
    let uploads = Router::new()
        .route("/upload/{vid}", post(upload::seed))
        .route("/stream/v1/videos/{vid}/upload", post(upload::upload))
        .route("/stream/v1/files", post(files::upload))
        .layer(DefaultBodyLimit::disable());
    let tus = Router::new()
        .route("/stream/v1/tus/", options(tus::options).post(tus::create))
        .route("/stream/v1/tus", options(tus::options).post(tus::create))
        .route("/stream/v1/tus/{id}", options(tus::options).head(tus::head).patch(tus::patch).delete(tus::terminate))
        .layer(axum::middleware::from_fn(tus::protocol))
        .layer(DefaultBodyLimit::disable());
    Router::new()
        .route("/videos/{vid}", get(playback::seed_play))
        .route("/stream/v1/videos/{vid}", get(playback::play))
        .route("/stream/v1/videos/{vid}/media/{*name}", get(playback::media))
        .route("/stream/v1/files/{id}", get(files::download))
        .route("/stream/v1/shared/{id}", get(files::shared))
        .merge(uploads)
        .merge(tus)
        .with_state(state)
}
