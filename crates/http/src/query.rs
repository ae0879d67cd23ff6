use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use streamvault_core::Error;
use streamvault_core::ErrorCode;

use crate::ApiError;

/// Query-string parameters, rejecting with the usual error body instead of axum's plain text.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // serde_urlencoded replaces bytes that are not UTF-8 (`name=%ff` would be stored as
        // U+FFFD): refuse them instead.
        if let Some(q) = parts.uri.query()
            && q.split('&').any(|pair| percent_encoding::percent_decode_str(pair).decode_utf8().is_err())
        {
            return Err(ApiError(Error::invalid(ErrorCode::BadQuery, "the query string is not UTF-8")));
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| QueryParams(v))
            .map_err(|e| ApiError(Error::invalid(ErrorCode::BadQuery, e.body_text())))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    #[derive(serde::Deserialize)]
    struct Q {
        name: Option<String>,
    }

    async fn parse(uri: &str) -> Result<Option<String>, ApiError> {
        let (mut parts, ()) = Request::builder().uri(uri).body(()).unwrap().into_parts();
        QueryParams::<Q>::from_request_parts(&mut parts, &()).await.map(|q| q.0.name)
    }

    #[tokio::test]
    async fn bytes_that_are_not_utf8_are_refused_not_replaced() {
        assert_eq!(parse("/x?name=caf%C3%A9").await.unwrap().as_deref(), Some("café"));
        assert_eq!(parse("/x?name=a+b").await.unwrap().as_deref(), Some("a b"));
        assert!(parse("/x?name=%ff").await.is_err());
        assert!(parse("/x?other=%C3&name=x").await.is_err());
    }
}
