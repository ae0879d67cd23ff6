//! The hot reads served through the read cache ([`streamvault_core::reads`]).
//!
//! Most answers are the same for every caller: the anonymous one is kept, and a signed-in
//! caller gets it too. Only where it is 404 (a video not yet public, which its owner may see)
//! is the caller's own answer built, and not kept.

use std::future::Future;

use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;
use streamvault_core::Error;
use streamvault_core::accounts::User;
use streamvault_core::paging::PageRequest;
use streamvault_core::ports::Scope;
use streamvault_core::reads::Read;
use streamvault_http::ApiError;
use streamvault_http::validated::{Audience, kept};

use crate::ApiState;

const JSON: &str = "application/json";

fn to_json(value: &impl Serialize) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(Error::internal)
}

/// A page request in a key: the same page always spells the same.
pub fn page_key(page: &PageRequest) -> String {
    format!("{}:{}", page.limit, page.after.map(|c| c.encode()).unwrap_or_default())
}

/// The read `key` (depending on `scopes`), built by `build` for nobody in particular, or for
/// `viewer` when that is 404.
pub async fn serve<T, F, Fut>(
    st: &ApiState,
    headers: &HeaderMap,
    key: String,
    scopes: &[Scope],
    viewer: Option<User>,
    build: F,
) -> Result<Response, ApiError>
where
    T: Serialize,
    F: Fn(Option<User>) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let anyone = st.reads.get_or_build(key, scopes, || async { to_json(&build(None).await?) }).await;
    match (anyone, viewer) {
        (Ok(read), _) => Ok(kept(headers, JSON, &read, Audience::Anyone)),
        (Err(Error::NotFound(_)), Some(viewer)) => {
            let body = to_json(&build(Some(viewer)).await?)?;
            Ok(kept(headers, JSON, &Read::built(body), Audience::Caller))
        }
        (Err(e), _) => Err(e.into()),
    }
}

/// As [`serve`], for a read that is the caller's own (kept under `key`, which names the owner).
pub async fn serve_own<T, Fut>(
    st: &ApiState,
    headers: &HeaderMap,
    key: String,
    scopes: &[Scope],
    build: Fut,
) -> Result<Response, ApiError>
where
    T: Serialize,
    Fut: Future<Output = Result<T, Error>>,
{
    let read = st.reads.get_or_build(key, scopes, || async { to_json(&build.await?) }).await?;
    Ok(kept(headers, JSON, &read, Audience::Caller))
}
