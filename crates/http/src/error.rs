use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use streamvault_core::{Error, ErrorCode};

/// A domain error on its way out: one status per variant, and the seed's error body
/// `{"error": "...", "error_code": "..."}`.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_code: &'a str,
}

/// The error body every route returns (the seed's format), for the OpenAPI document.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!({"error": "a session is required", "error_code": "unauthenticated"}))]
pub struct ErrorBody {
    /// A human-readable message.
    pub error: String,
    /// A stable machine-readable code, e.g. `unauthenticated`, `not_found`, `username_taken`.
    #[schema(schema_with = error_codes)]
    pub error_code: String,
}

/// Every `error_code` (`streamvault_core::ErrorCode`), as the schema's enumeration.
fn error_codes() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
        .description(Some("A stable machine-readable code; the list only grows."))
        .build()
}

pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Invalid { .. } => StatusCode::BAD_REQUEST,
        Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Conflict { .. } => StatusCode::CONFLICT,
        Error::Locked(_) => StatusCode::LOCKED,
        // tus's "Checksum Mismatch".
        Error::ChecksumMismatch(_) => StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
        Error::Gone(_) => StatusCode::GONE,
        Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = status_of(&e);
        // Logged once, here, with every cause; never sent to the client.
        let message = match &e {
            Error::Internal { .. } => {
                tracing::error!(error = %e.report(), "internal error");
                "internal server error".to_owned()
            }
            Error::Unavailable { .. } => {
                tracing::warn!(error = %e.report(), "backend unavailable");
                "a backend service is unavailable, try again later".to_owned()
            }
            other => other.to_string(),
        };
        let mut res = (status, Json(Body { error: &message, error_code: e.code().as_str() })).into_response();
        match e {
            Error::TooManyRequests { retry_after } => {
                let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
            }
            Error::Unauthenticated(_) => {
                res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::Unavailable { .. } => {
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        res
    }
}

/// For unmatched routes, so that even a 404 has the usual body.
pub async fn not_found() -> ApiError {
    ApiError(Error::NotFound("route"))
}
