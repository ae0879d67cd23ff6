use axum::extract::{FromRequest, Request};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use streamvault_core::Error;

use crate::ApiError;

/// The largest JSON body the API takes.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

/// A JSON request body. Unlike `axum::Json` it does not insist on a `Content-Type` (the seed's
/// client sends none), and every failure comes back as the usual error body: 400 for malformed
/// JSON or a wrong field, 413 past [`MAX_JSON_BYTES`] (after lingering on the rest of the body,
/// so the client sees the answer).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let mut body = req.into_body().into_data_stream();
        let mut buf = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Error::invalid("bad_body", format!("the request body ended early: {e}")))?;
            if buf.len() + chunk.len() > MAX_JSON_BYTES {
                crate::body::linger(body).await;
                return Err(Error::TooLarge(format!("request body larger than {MAX_JSON_BYTES} bytes")).into());
            }
            buf.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&buf).map(JsonBody).map_err(|e| {
            ApiError(Error::invalid("bad_json", format!("request body is not valid JSON for this call: {e}")))
        })
    }
}
