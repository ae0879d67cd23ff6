//! Path parameters, parsed once at the edge into typed ids (`Path<VideoId>`,
//! `Path<(VideoId, CommentId)>`): a segment that is not an id of its kind names nothing, so it
//! is a 404 for that kind ("no such video"), as an id that names nothing is.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use streamvault_core::Error;
use streamvault_core::ErrorCode;
use streamvault_core::ids::NoSuch;

use crate::ApiError;

pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => {
                let text = e.body_text();
                Err(ApiError(match NoSuch::parse(&text) {
                    Some(what) => Error::NotFound(what),
                    None => Error::invalid(ErrorCode::BadPath, text),
                }))
            }
        }
    }
}
