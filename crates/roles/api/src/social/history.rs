//! The caller's watch history: what they watched and how far, clearable and pausable.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use streamvault_core::ids::VideoId;
use streamvault_core::social::HistoryEntry;
use streamvault_core::{Error, ErrorCode};
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::{ApiError, Auth, JsonBody, QueryParams};
use utoipa::openapi::Object;
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};

use crate::ApiState;
use crate::videos::{PageParams, VideoJson};

/// A moment of a video, in milliseconds (JSON numbers are exact to 2^53).
fn position_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Integer))
        .minimum(Some(0))
        .maximum(Some(streamvault_core::paging::MAX_EXACT))
        .build()
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HistoryItem {
    video: VideoJson,
    /// How far the caller got.
    position_ms: u64,
    watched_at: String,
}

impl From<HistoryEntry> for HistoryItem {
    fn from(e: HistoryEntry) -> Self {
        HistoryItem { video: e.video.into(), position_ms: e.position_ms, watched_at: e.watched_at.to_rfc3339() }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HistoryList {
    /// Most recently watched first.
    items: Vec<HistoryItem>,
    /// Nothing new is recorded while paused.
    paused: bool,
    next_cursor: Option<String>,
}

/// What the caller watched, most recent first.
#[utoipa::path(get, path = "/me/history", operation_id = "watch_history", tag = "social",
    params(PageParams), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = HistoryList),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn list(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    QueryParams(page): QueryParams<PageParams>,
) -> Result<Json<HistoryList>, ApiError> {
    let listed = st.social.history(&auth.user, page.parse()?).await?;
    Ok(Json(HistoryList {
        paused: st.social.history_paused(&auth.user).await?,
        next_cursor: listed.next.map(|c| c.encode()),
        items: listed.items.into_iter().map(HistoryItem::from).collect(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Cleared {
    /// How many videos were forgotten.
    cleared: u64,
}

/// Clears the caller's whole history.
#[utoipa::path(delete, path = "/me/history", operation_id = "clear_history", tag = "social",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Cleared),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn clear(State(st): State<ApiState>, Auth(auth): Auth) -> Result<Json<Cleared>, ApiError> {
    Ok(Json(Cleared { cleared: st.social.clear_history(&auth.user, None).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    /// How far the caller got.
    #[serde(deserialize_with = "streamvault_http::number::present_integer")]
    #[schema(schema_with = position_schema, required = true)]
    position_ms: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Recorded {
    /// False while the history is paused (nothing was kept).
    recorded: bool,
    /// The position kept (never past the video's end).
    position_ms: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Resume {
    /// Where the caller stopped; null when the video is not in their history.
    position_ms: Option<u64>,
}

/// Where the caller stopped in a video, to resume there.
#[utoipa::path(get, path = "/me/history/{vid}", operation_id = "history_position", tag = "social",
    params(("vid" = String, Path, description = "Video id")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Resume),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "A video the caller cannot see", body = ErrorBody),
    ))]
pub async fn position(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(vid): Path<VideoId>,
) -> Result<Json<Resume>, ApiError> {
    st.videos.get(Some(&auth.user), vid).await?;
    Ok(Json(Resume { position_ms: st.social.resume_at(&auth.user, vid).await? }))
}

/// The player says how far the caller got in a video (every few seconds while it plays).
#[utoipa::path(put, path = "/me/history/{vid}", operation_id = "record_history", tag = "social",
    params(("vid" = String, Path, description = "Video id")), request_body = Progress,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Recorded),
        (status = 400, description = "Bad JSON or position", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "A video the caller cannot see", body = ErrorBody),
        (status = 413, description = "A body over the JSON limit", body = ErrorBody),
    ))]
pub async fn record(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    vid: Result<Path<VideoId>, ApiError>,
    JsonBody(body): JsonBody<Progress>,
) -> Result<Json<Recorded>, ApiError> {
    let position_ms = body.position_ms.ok_or_else(|| Error::missing("position_ms"))?;
    if position_ms > streamvault_core::paging::MAX_EXACT as u64 {
        return Err(Error::invalid(ErrorCode::BadPosition, "position_ms must be at most 2^53").into());
    }
    let Path(vid) = vid?;
    let kept = st.social.watched(&auth.user, vid, position_ms).await?;
    Ok(Json(Recorded { recorded: kept.is_some(), position_ms: kept.unwrap_or(position_ms) }))
}

/// Forgets one video of the caller's history.
#[utoipa::path(delete, path = "/me/history/{vid}", operation_id = "forget_history", tag = "social",
    params(("vid" = String, Path, description = "Video id")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Forgotten"),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "Not in the caller's history", body = ErrorBody),
    ))]
pub async fn forget(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(vid): Path<VideoId>,
) -> Result<StatusCode, ApiError> {
    match st.social.clear_history(&auth.user, Some(vid)).await? {
        0 => Err(Error::NotFound("video").into()),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Paused {
    paused: bool,
}

/// Whether the caller's history is paused.
#[utoipa::path(get, path = "/me/history-paused", operation_id = "history_paused", tag = "social",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Paused),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn paused(State(st): State<ApiState>, Auth(auth): Auth) -> Result<Json<Paused>, ApiError> {
    Ok(Json(Paused { paused: st.social.history_paused(&auth.user).await? }))
}

/// Pauses (or resumes) the caller's history: while paused, nothing is recorded.
#[utoipa::path(put, path = "/me/history-paused", operation_id = "pause_history", tag = "social",
    request_body = Paused, security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Paused),
        (status = 400, description = "Bad JSON", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 413, description = "A body over the JSON limit", body = ErrorBody),
    ))]
pub async fn pause(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<Paused>,
) -> Result<Json<Paused>, ApiError> {
    st.social.pause_history(&auth.user, body.paused).await?;
    Ok(Json(Paused { paused: body.paused }))
}
