//! The caller's notifications: the list, the unread count (which a page long-polls with its
//! validator: the answer waits for the event bus to say something arrived), marking read, and
//! the per-kind settings.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use streamvault_core::accounts::User;
use streamvault_core::ids::{NotificationId, UserId};
use streamvault_core::live::seats::{Seat, Seats};
use streamvault_core::paging::{PageRequest, parse_whole};
use streamvault_core::reads::Read;
use streamvault_core::social::{Notification, NotificationKind, NotificationSettings};
use streamvault_core::{Error, ErrorCode};
use streamvault_http::auth::LoginClient;
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::validated::{Audience, holds, kept};
use streamvault_http::{ApiError, Auth, JsonBody, QueryParams, schema};
use utoipa::openapi::Object;
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};

use crate::ApiState;

/// The longest a client may ask the unread count to wait for a change.
pub const MAX_WAIT_SECS: u64 = 30;
/// Waiting requests per user, per client address (whatever the account), and in all, per
/// replica; past them an answer comes at once (the page asks again a moment later).
const WAITERS_PER_USER: usize = 8;
const WAITERS_PER_ADDRESS: usize = 64;
const WAITERS: usize = 10_000;

/// Who is waiting for a change of their unread count on this replica: seats as the live
/// connections hold them.
#[derive(Clone)]
pub struct Waiters(Seats);

impl Default for Waiters {
    fn default() -> Self {
        Self(Seats::new(WAITERS))
    }
}

impl Waiters {
    /// A seat for one wait, or `None` when the user, the address or the replica is full.
    fn take(&self, user: UserId, address: Option<String>) -> Option<Seat> {
        let mut holders = vec![(format!("user:{user}"), WAITERS_PER_USER)];
        holders.extend(address.map(|a| (format!("address:{a}"), WAITERS_PER_ADDRESS)));
        self.0.take(&holders).ok()
    }
}

fn wait_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Integer))
        .minimum(Some(0))
        .maximum(Some(MAX_WAIT_SECS as f64))
        .build()
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NotificationJson {
    id: String,
    /// `new_video`, `comment`, `reply`, `mention`, `new_follower` or `message`.
    #[schema(value_type = String, example = "new_video")]
    kind: &'static str,
    /// Who did it.
    actor: String,
    actor_id: String,
    video_id: Option<String>,
    video_name: Option<String>,
    /// The video's channel, for its link.
    video_author: Option<String>,
    comment_id: Option<String>,
    created_at: String,
    read: bool,
}

impl From<Notification> for NotificationJson {
    fn from(n: Notification) -> Self {
        NotificationJson {
            id: n.id.to_string(),
            kind: n.kind.as_str(),
            actor: n.actor_name,
            actor_id: n.actor_id.to_string(),
            video_id: n.video_id.map(|v| v.to_string()),
            video_name: n.video_name,
            video_author: n.video_author,
            comment_id: n.comment_id.map(|c| c.to_string()),
            created_at: n.created_at.to_rfc3339(),
            read: n.read,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NotificationList {
    notifications: Vec<NotificationJson>,
    /// Unread notifications in all.
    unread: u64,
    next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only the unread ones.
    unread: Option<bool>,
    #[param(schema_with = schema::limit)]
    limit: Option<String>,
    #[param(schema_with = schema::cursor)]
    cursor: Option<String>,
}

/// The caller's notifications, newest first, with the unread count.
#[utoipa::path(get, path = "/me/notifications", operation_id = "list_notifications", tag = "social",
    params(ListParams), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = NotificationList),
        (status = 400, description = "Bad query, limit or cursor", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn list(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    QueryParams(p): QueryParams<ListParams>,
) -> Result<Json<NotificationList>, ApiError> {
    let page = PageRequest::parse(p.limit.as_deref(), p.cursor.as_deref())?;
    let listed = st.social.notifications(&auth.user, p.unread.unwrap_or(false), page).await?;
    let unread = st.social.unread_notifications(&auth.user).await?;
    Ok(Json(NotificationList {
        unread,
        next_cursor: listed.next.map(|c| c.encode()),
        notifications: listed.items.into_iter().map(NotificationJson::from).collect(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Unread {
    unread: u64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnreadParams {
    /// With `If-None-Match` holding the current answer: wait up to this many seconds for it to
    /// change (a long poll; default 0, at once).
    #[param(schema_with = wait_schema)]
    wait: Option<String>,
}

async fn unread_read(st: &ApiState, user: &User) -> Result<Read, Error> {
    let body =
        serde_json::to_vec(&Unread { unread: st.social.unread_notifications(user).await? }).map_err(Error::internal)?;
    Ok(Read::built(body))
}

/// The caller's unread count, with a validator. A page keeps it live by asking again with
/// `If-None-Match` and `wait`: the answer comes when a notification arrives (from any replica,
/// through the event bus), or as 304 when `wait` runs out.
#[utoipa::path(get, path = "/me/notifications/unread", operation_id = "unread_notifications", tag = "social",
    params(UnreadParams, ("If-None-Match" = Option<String>, Header, description = "The ETag of the answer the client holds")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Unread, headers(("ETag" = String))),
        (status = 304, description = "Not modified (within `wait`)"),
        (status = 400, description = "Bad `wait`", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn unread(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    LoginClient(client): LoginClient,
    headers: HeaderMap,
    QueryParams(p): QueryParams<UnreadParams>,
) -> Result<Response, ApiError> {
    let wait = match p.wait.as_deref() {
        None => 0,
        Some(w) => parse_whole(w).filter(|w| *w <= MAX_WAIT_SECS).ok_or_else(|| {
            Error::invalid(ErrorCode::BadQuery, format!("wait must be a number of seconds from 0 to {MAX_WAIT_SECS}"))
        })?,
    };
    // Listening before counting: a notification between the two is not missed.
    let mut hints = st.social.notification_hints(&auth.user);
    let mut read = unread_read(&st, &auth.user).await?;
    if wait > 0
        && holds(&headers, &read.etag)
        && let Some(_seat) = st.waiters.take(auth.user.id, client.address)
    {
        let _ = tokio::time::timeout(Duration::from_secs(wait), hints.recv()).await;
        read = unread_read(&st, &auth.user).await?;
    }
    Ok(kept(&headers, "application/json", &read, Audience::Caller))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Marked {
    /// How many were unread.
    marked: u64,
}

/// Marks every notification of the caller read.
#[utoipa::path(post, path = "/me/notifications/read", operation_id = "read_all_notifications", tag = "social",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Marked),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn read_all(State(st): State<ApiState>, Auth(auth): Auth) -> Result<Json<Marked>, ApiError> {
    Ok(Json(Marked { marked: st.social.mark_read(&auth.user, None).await? }))
}

/// Marks one of the caller's notifications read (idempotent).
#[utoipa::path(post, path = "/me/notifications/{id}/read", operation_id = "read_notification", tag = "social",
    params(("id" = String, Path, description = "Notification id")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Marked),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "Not one of the caller's notifications", body = ErrorBody),
    ))]
pub async fn read_one(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(id): Path<NotificationId>,
) -> Result<Json<Marked>, ApiError> {
    Ok(Json(Marked { marked: st.social.mark_read(&auth.user, Some(id)).await? }))
}

/// Which kinds of notification the caller gets (every kind is on until turned off).
#[derive(Serialize, Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// A followed channel published a video.
    #[serde(skip_serializing_if = "Option::is_none")]
    new_video: Option<bool>,
    /// A comment on the caller's video.
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<bool>,
    /// A reply to the caller's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<bool>,
    /// The caller named in a comment (`@name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    mention: Option<bool>,
    /// A new follower.
    #[serde(skip_serializing_if = "Option::is_none")]
    new_follower: Option<bool>,
    /// A private message.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<bool>,
}

impl Settings {
    fn slot(&mut self, kind: NotificationKind) -> &mut Option<bool> {
        match kind {
            NotificationKind::NewVideo => &mut self.new_video,
            NotificationKind::Comment => &mut self.comment,
            NotificationKind::Reply => &mut self.reply,
            NotificationKind::Mention => &mut self.mention,
            NotificationKind::NewFollower => &mut self.new_follower,
            NotificationKind::Message => &mut self.message,
        }
    }
}

impl From<NotificationSettings> for Settings {
    fn from(s: NotificationSettings) -> Self {
        let mut out = Settings::default();
        for (kind, on) in s.kinds {
            *out.slot(kind) = Some(on);
        }
        out
    }
}

/// The caller's notification settings, every kind.
#[utoipa::path(get, path = "/me/notifications/settings", operation_id = "notification_settings", tag = "social",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Settings),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn settings(State(st): State<ApiState>, Auth(auth): Auth) -> Result<Json<Settings>, ApiError> {
    Ok(Json(st.social.notification_settings(&auth.user).await?.into()))
}

/// Turns kinds of notification on or off (the kinds not named keep their setting).
#[utoipa::path(patch, path = "/me/notifications/settings", operation_id = "set_notification_settings", tag = "social",
    request_body = Settings, security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Every kind's setting after the change", body = Settings),
        (status = 400, description = "Bad JSON (an unknown kind, a value not a boolean)", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 413, description = "A body over the JSON limit", body = ErrorBody),
    ))]
pub async fn set_settings(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    JsonBody(mut body): JsonBody<Settings>,
) -> Result<Json<Settings>, ApiError> {
    let changes: Vec<_> = NotificationKind::ALL.into_iter().filter_map(|k| body.slot(k).map(|on| (k, on))).collect();
    Ok(Json(st.social.set_notification_settings(&auth.user, &changes).await?.into()))
}

#[cfg(test)]
mod tests {
    use streamvault_core::ids::Id;

    use super::*;

    #[test]
    fn seats_are_capped_per_user_and_per_address_and_given_back() {
        let w = Waiters::default();
        let user = UserId::new();
        let mine: Vec<_> = (0..WAITERS_PER_USER).map(|_| w.take(user, Some("a".into())).unwrap()).collect();
        assert!(w.take(user, Some("b".into())).is_none(), "per user");
        drop(mine);
        assert!(w.take(user, None).is_some(), "given back");
        let others: Vec<_> =
            (0..WAITERS_PER_ADDRESS).map(|_| w.take(UserId::new(), Some("a".into())).unwrap()).collect();
        assert!(w.take(UserId::new(), Some("a".into())).is_none(), "per address, whatever the account");
        assert!(w.take(UserId::new(), Some("c".into())).is_some());
        drop(others);
        assert!(w.take(UserId::new(), Some("a".into())).is_some());
        assert_eq!(w.0.taken(), 0);
    }
}
