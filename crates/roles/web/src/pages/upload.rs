//! `/upload`: the video upload form; the bytes go through tus straight to the stream role.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{Ctx, PageError};
use crate::views::UploadPage;

/// The upload page (tus, resumable, from the browser).
#[utoipa::path(get, path = "/upload", operation_id = "web_upload", tag = "web",
    security(("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to `/signin?next=…`")))]
pub async fn upload(ctx: Ctx) -> Result<Response, PageError> {
    if let Err(to_signin) = ctx.user_or_signin("/upload") {
        return Ok(to_signin.into_response());
    }
    Ok(ctx.render(StatusCode::OK, UploadPage { layout: ctx.layout("Upload a video", "upload") }))
}
