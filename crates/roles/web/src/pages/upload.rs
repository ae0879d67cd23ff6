//! `/upload`: the video upload form; the bytes go through tus straight to the stream role.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{Ctx, PageError};
use crate::WebState;
use crate::views::UploadPage;

pub async fn upload(State(st): State<WebState>, headers: HeaderMap) -> Result<Response, PageError> {
    let ctx = Ctx::load(&st, headers).await?;
    if let Err(to_signin) = ctx.user_or_signin("/upload") {
        return Ok(to_signin.into_response());
    }
    Ok(ctx.render(StatusCode::OK, UploadPage { layout: ctx.layout("Upload a video", "upload") }))
}
