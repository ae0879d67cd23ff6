//! Private messages (站内信) and blocks: every route is the caller's own.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use streamvault_core::Error;
use streamvault_core::ids::UserId;
use streamvault_core::social::{Blocked, Conversation, MAX_MESSAGE, Message};
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::{ApiError, Auth, JsonBody, QueryParams, schema};
use utoipa::openapi::Object;

use crate::ApiState;
use crate::videos::PageParams;

fn text_schema() -> Object {
    schema::text_of(MAX_MESSAGE)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MessageJson {
    id: String,
    /// The sender's user name.
    from: String,
    from_id: String,
    to_id: String,
    /// As it was sent.
    text: String,
    created_at: String,
    /// The caller sent it.
    mine: bool,
}

fn message_json(m: Message, caller: UserId) -> MessageJson {
    MessageJson {
        mine: m.sender_id == caller,
        id: m.id.to_string(),
        from: m.sender_name,
        from_id: m.sender_id.to_string(),
        to_id: m.recipient_id.to_string(),
        text: m.body,
        created_at: m.created_at.to_rfc3339(),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConversationJson {
    /// The other user.
    user_name: String,
    user_id: String,
    last_message: MessageJson,
    /// Messages from them the caller has not read.
    unread: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConversationList {
    /// The most recent first.
    conversations: Vec<ConversationJson>,
    /// Unread messages in all.
    unread: u64,
    next_cursor: Option<String>,
}

/// The caller's conversations, the most recent first.
#[utoipa::path(get, path = "/me/conversations", operation_id = "list_conversations", tag = "social",
    params(PageParams), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = ConversationList),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn conversations(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    QueryParams(page): QueryParams<PageParams>,
) -> Result<Json<ConversationList>, ApiError> {
    let me = auth.user.id;
    let listed = st.social.conversations(&auth.user, page.parse()?).await?;
    Ok(Json(ConversationList {
        unread: st.social.unread_messages(&auth.user).await?,
        next_cursor: listed.next.map(|c| c.encode()),
        conversations: listed
            .items
            .into_iter()
            .map(|c: Conversation| ConversationJson {
                user_name: c.peer_name,
                user_id: c.peer_id.to_string(),
                unread: c.unread,
                last_message: message_json(c.last, me),
            })
            .collect(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MessageList {
    /// Newest first.
    messages: Vec<MessageJson>,
    next_cursor: Option<String>,
}

/// The caller's conversation with a user, newest first (the first page marks it read).
#[utoipa::path(get, path = "/me/conversations/{name}/messages", operation_id = "list_messages", tag = "social",
    params(("name" = String, Path, description = "The other user's name"), PageParams),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = MessageList),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn messages(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(name): Path<String>,
    QueryParams(page): QueryParams<PageParams>,
) -> Result<Json<MessageList>, ApiError> {
    let me = auth.user.id;
    let listed = st.social.thread(&auth.user, &name, page.parse()?).await?;
    Ok(Json(MessageList {
        next_cursor: listed.next.map(|c| c.encode()),
        messages: listed.items.into_iter().map(|m| message_json(m, me)).collect(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// 1 to 4000 characters, kept as sent.
    #[serde(default, deserialize_with = "crate::files::not_null")]
    #[schema(schema_with = text_schema, required = true)]
    text: Option<String>,
}

/// Sends a private message (at most 20 a minute and 500 a day).
#[utoipa::path(post, path = "/me/conversations/{name}/messages", operation_id = "send_message", tag = "social",
    params(("name" = String, Path, description = "The recipient's user name")), request_body = NewMessage,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Sent", body = MessageJson),
        (status = 400, description = "Bad JSON or text", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "The recipient does not take messages from the caller", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "The caller themselves (`self_target`)", body = ErrorBody),
        (status = 413, description = "A body over the JSON limit", body = ErrorBody),
        (status = 429, description = "Too many messages; see Retry-After", body = ErrorBody),
    ))]
pub async fn send(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<NewMessage>,
) -> Result<impl IntoResponse, ApiError> {
    let text = body.text.ok_or_else(|| Error::missing("text"))?;
    let m = st.social.send_message(&auth.user, &name, &text).await?;
    Ok((StatusCode::CREATED, Json(message_json(m, auth.user.id))))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BlockedJson {
    user_name: String,
    user_id: String,
    since: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BlockedList {
    blocked: Vec<BlockedJson>,
    next_cursor: Option<String>,
}

/// The users the caller blocked, the latest first.
#[utoipa::path(get, path = "/me/blocks", operation_id = "list_blocks", tag = "social",
    params(PageParams), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = BlockedList),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn blocks(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    QueryParams(page): QueryParams<PageParams>,
) -> Result<Json<BlockedList>, ApiError> {
    let listed = st.social.blocked(&auth.user, page.parse()?).await?;
    Ok(Json(BlockedList {
        next_cursor: listed.next.map(|c| c.encode()),
        blocked: listed
            .items
            .into_iter()
            .map(|b: Blocked| BlockedJson {
                user_name: b.name,
                user_id: b.user_id.to_string(),
                since: b.since.to_rfc3339(),
            })
            .collect(),
    }))
}

/// Blocks a user (idempotent): they can no longer message the caller, comment on their videos
/// or follow them (a follow of theirs ends). They are not told.
#[utoipa::path(put, path = "/me/blocks/{name}", operation_id = "block_user", tag = "social",
    params(("name" = String, Path, description = "User name")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Blocked"),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "The caller themselves (`self_target`)", body = ErrorBody),
    ))]
pub async fn block(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    st.social.block(&auth.user, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unblocks a user (idempotent).
#[utoipa::path(delete, path = "/me/blocks/{name}", operation_id = "unblock_user", tag = "social",
    params(("name" = String, Path, description = "User name")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Not blocked (any more)"),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn unblock(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    st.social.unblock(&auth.user, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
