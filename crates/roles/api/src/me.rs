//! The caller's own account and sessions.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use streamvault_core::accounts::Session;
use streamvault_core::ids::SessionId;
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::{ApiError, Auth};

use crate::ApiState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    id: String,
    created_at: String,
    last_seen_at: String,
    expires_at: String,
    user_agent: Option<String>,
    /// True for the session that made this request.
    current: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionList {
    sessions: Vec<SessionInfo>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    id: String,
    user_name: String,
    created_at: String,
    /// The id (not the token) of the calling session.
    session_id: String,
    /// Bytes the drive's files and unfinished uploads take.
    usage_bytes: u64,
    /// The drive's limit (`STREAMVAULT_QUOTA_BYTES`); `null` for none.
    quota_bytes: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Ended {
    /// How many sessions ended.
    ended: u64,
}

fn info(s: &Session, current: SessionId) -> SessionInfo {
    SessionInfo {
        id: s.id.to_string(),
        created_at: s.created_at.to_rfc3339(),
        last_seen_at: s.last_seen_at.to_rfc3339(),
        expires_at: s.expires_at.to_rfc3339(),
        user_agent: s.user_agent.clone(),
        current: s.id == current,
    }
}

/// The calling user.
#[utoipa::path(get, path = "/me", operation_id = "me", tag = "accounts",
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, description = "OK", body = Me), (status = 401, description = "No valid session", body = ErrorBody)))]
pub async fn me(State(st): State<ApiState>, Auth(auth): Auth) -> Result<Json<Me>, ApiError> {
    let usage_bytes = st.drive.usage(&auth.user).await?;
    Ok(Json(Me {
        id: auth.user.id.to_string(),
        user_name: auth.user.name,
        created_at: auth.user.created_at.to_rfc3339(),
        session_id: auth.session.id.to_string(),
        usage_bytes,
        quota_bytes: st.drive.quota().limit(),
    }))
}

/// The caller's live sessions, newest first.
#[utoipa::path(get, path = "/me/sessions", operation_id = "list_sessions", tag = "accounts",
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, description = "OK", body = SessionList), (status = 401, description = "No valid session", body = ErrorBody)))]
pub async fn sessions(State(st): State<ApiState>, Auth(auth): Auth) -> Result<Json<SessionList>, ApiError> {
    let list = st.accounts.sessions_of(auth.user.id).await?;
    Ok(Json(SessionList { sessions: list.iter().map(|s| info(s, auth.session.id)).collect() }))
}

/// Ends one of the caller's sessions.
#[utoipa::path(delete, path = "/me/sessions/{id}", operation_id = "end_session", tag = "accounts",
    params(("id" = String, Path, description = "Session id (from the session list)")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "Not one of the caller's sessions", body = ErrorBody),
    ))]
pub async fn end_session(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(id): Path<SessionId>,
) -> Result<StatusCode, ApiError> {
    st.accounts.end_session(auth.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs out every other session ("sign out everywhere else").
#[utoipa::path(delete, path = "/me/sessions", operation_id = "end_other_sessions", tag = "accounts",
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, description = "OK", body = Ended), (status = 401, description = "No valid session", body = ErrorBody)))]
pub async fn end_other_sessions(State(st): State<ApiState>, Auth(auth): Auth) -> Result<Json<Ended>, ApiError> {
    Ok(Json(Ended { ended: st.accounts.end_other_sessions(&auth).await? }))
}
