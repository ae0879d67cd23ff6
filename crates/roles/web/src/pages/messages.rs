//! `/messages`: the viewer's conversations; `/messages/{name}`: one of them, with the form to
//! write. Nothing here is anyone else's to see.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use streamvault_core::Error;
use streamvault_core::paging::PageRequest;

use super::{Ctx, PageError, encode, error, redirect};
use crate::views::{ConversationRow, ConversationsPage, MessageView, ThreadPage};
use crate::{WebState, format};

/// The viewer's conversations, the most recent first.
#[utoipa::path(get, path = "/messages", operation_id = "web_messages", tag = "web",
    security((), ("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 303, description = "Signed out: to `/signin`")))]
pub async fn conversations(State(st): State<WebState>, ctx: Ctx) -> Result<Response, PageError> {
    let user = match ctx.user_or_signin("/messages") {
        Ok(a) => a.user.clone(),
        Err(to) => return Ok(to.into_response()),
    };
    let listed = st.social.conversations(&user, PageRequest::parse(Some("100"), None)?).await?;
    let now = chrono::Utc::now();
    let page = ConversationsPage {
        layout: ctx.layout("Messages", "messages"),
        conversations: listed
            .items
            .into_iter()
            .map(|c| ConversationRow {
                preview: c.last.body.chars().take(80).collect(),
                mine: c.last.sender_id == user.id,
                age: format::age(c.last.created_at, now),
                unread: c.unread,
                name: c.peer_name,
            })
            .collect(),
    };
    Ok(ctx.render(StatusCode::OK, page))
}

async fn thread_page(
    st: &WebState,
    ctx: &Ctx,
    name: &str,
    error_text: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let here = format!("/messages/{}", encode(name));
    let user = match ctx.user_or_signin(&here) {
        Ok(a) => a.user.clone(),
        Err(to) => return Ok(to.into_response()),
    };
    let peer = match st.videos.find_user(name).await {
        Ok(p) => p,
        Err(Error::NotFound(_)) => return Ok(error::for_status(ctx, StatusCode::NOT_FOUND)),
        Err(e) => return Err(e.into()),
    };
    let listed = st.social.thread(&user, &peer.name, PageRequest::parse(Some("50"), None)?).await?;
    let now = chrono::Utc::now();
    // Shown oldest first, as a conversation reads.
    let mut messages: Vec<_> = listed
        .items
        .into_iter()
        .map(|m| MessageView {
            mine: m.sender_id == user.id,
            from: m.sender_name,
            text: m.body,
            age: format::age(m.created_at, now),
        })
        .collect();
    messages.reverse();
    let page = ThreadPage {
        layout: ctx.layout(format!("Messages with {}", peer.name), "messages"),
        peer: peer.name,
        messages,
        error: error_text,
    };
    Ok(ctx.render(status, page))
}

/// The viewer's conversation with a user.
#[utoipa::path(get, path = "/messages/{name}", operation_id = "web_thread", tag = "web",
    params(("name" = String, Path, description = "The other user's name")),
    security((), ("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 303, description = "Signed out: to `/signin`"),
        (status = 404, description = "Not found (the page that says so)", content_type = "text/html", body = String)))]
pub async fn thread(State(st): State<WebState>, ctx: Ctx, Path(name): Path<String>) -> Result<Response, PageError> {
    thread_page(&st, &ctx, &name, None, StatusCode::OK).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MessageForm {
    /// The form's CSRF token, checked by the layer over every page (`crate::csrf::require`).
    #[serde(default)]
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    text: String,
}

/// Sends a message from the conversation's page; back to it.
#[utoipa::path(post, path = "/messages/{name}", operation_id = "web_send_message", tag = "web",
    params(("name" = String, Path, description = "The recipient's user name")),
    request_body(content((MessageForm = "application/x-www-form-urlencoded"))),
    security(("web_cookie" = [])),
    responses((status = 303, description = "Sent: back to the conversation (or, signed out, to `/signin`)"),
        (status = 403, description = "A CSRF token that does not match, or a recipient who does not take messages from the viewer", content_type = "text/html", body = String),
        (status = 404, description = "Not found (the page that says so)", content_type = "text/html", body = String),
        (status = 409, description = "To oneself: the page again", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (`application/x-www-form-urlencoded`)"),
        (status = 422, description = "A bad message: the page again", content_type = "text/html", body = String),
        (status = 429, description = "Too many messages; see Retry-After", content_type = "text/html", body = String)))]
pub async fn send(
    State(st): State<WebState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Form(f): Form<MessageForm>,
) -> Result<Response, PageError> {
    let here = format!("/messages/{}", encode(&name));
    let user = match ctx.user_or_signin(&here) {
        Ok(a) => a.user.clone(),
        Err(to) => return Ok(to.into_response()),
    };
    match st.social.send_message(&user, &name, &f.text).await {
        Ok(_) => Ok(redirect(&format!("{here}#compose"))),
        Err(Error::Invalid { message, .. }) => {
            thread_page(&st, &ctx, &name, Some(message), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(Error::Conflict { message, .. }) => {
            thread_page(&st, &ctx, &name, Some(message), StatusCode::CONFLICT).await
        }
        Err(Error::NotFound(_)) => Ok(error::for_status(&ctx, StatusCode::NOT_FOUND)),
        Err(e) => Err(e.into()),
    }
}
