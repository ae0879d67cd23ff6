//! `/settings`: change the password; see the active sessions and sign out everywhere else.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use streamvault_core::Error;

use super::auth::CsrfForm;
use super::{Ctx, PageError, redirect};
use crate::views::{SessionView, SettingsPage};
use crate::{WebState, format};

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// The account's settings: password, sessions.
#[utoipa::path(get, path = "/settings", operation_id = "web_settings", tag = "web", params(Done),
    security(("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to `/signin?next=…`")))]
pub async fn settings(State(st): State<WebState>, ctx: Ctx, Query(d): Query<Done>) -> Result<Response, PageError> {
    let message = match d.done.as_str() {
        "password" => Some("Your password was changed. Every other session was signed out.".to_owned()),
        "sessions" => Some("Every other session was signed out.".to_owned()),
        _ => None,
    };
    page(&st, &ctx, message, None, StatusCode::OK).await
}

async fn page(
    st: &WebState,
    ctx: &Ctx,
    message: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let auth = match ctx.user_or_signin("/settings") {
        Ok(a) => a,
        Err(to_signin) => return Ok(to_signin.into_response()),
    };
    let now = chrono::Utc::now();
    let sessions = st
        .accounts
        .sessions_of(auth.user.id)
        .await?
        .into_iter()
        .map(|s| SessionView {
            client: client_name(s.user_agent.as_deref()),
            created_age: format::age(s.created_at, now),
            last_seen_age: format::age(s.last_seen_at, now),
            current: s.id == auth.session.id,
        })
        .collect();
    Ok(ctx.render(status, SettingsPage { layout: ctx.layout("Settings", "settings"), sessions, message, error }))
}

/// "Chrome on Linux", from a User-Agent; the raw string is noise to most people.
fn client_name(ua: Option<&str>) -> String {
    let Some(ua) = ua.filter(|u| !u.is_empty()) else { return "Unknown client".into() };
    let browser =
        [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl")]
            .iter()
            .find(|(needle, _)| ua.contains(needle))
            .map(|(_, name)| *name);
    let os = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match (browser, os) {
        (Some(b), Some(o)) => format!("{b} on {o}"),
        (Some(b), None) => b.to_owned(),
        _ => ua.chars().take(60).collect(),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordForm {
    /// The form's CSRF token, checked by the layer over every page (`crate::csrf::require`).
    #[serde(default)]
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// Changes the password; every other session ends.
#[utoipa::path(post, path = "/settings/password", operation_id = "web_password", tag = "web",
    request_body(content((PasswordForm = "application/x-www-form-urlencoded"))),
    security(("web_cookie" = [])),
    responses(
        (status = 303, description = "Changed (or, signed out, to `/signin`)"),
        (status = 401, description = "The current password is wrong: the page again", content_type = "text/html", body = String),
        (status = 403, description = "The form's CSRF token does not match its cookie", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (`application/x-www-form-urlencoded`)"),
        (status = 422, description = "A form this page cannot read"),
    ))]
pub async fn password(
    State(st): State<WebState>,
    ctx: Ctx,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let Some(auth) = &ctx.viewer else { return Ok(redirect("/signin?next=%2Fsettings")) };
    let (status, why) = match st.accounts.change_password(auth, &f.current_password, &f.new_password).await {
        Ok(()) => return Ok(redirect("/settings?done=password")),
        Err(Error::Forbidden(_)) => (StatusCode::FORBIDDEN, "The current password is wrong.".to_owned()),
        Err(Error::Invalid { message, .. }) => (StatusCode::UNPROCESSABLE_ENTITY, message),
        Err(Error::TooManyRequests { retry_after }) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed attempts. Try again in {} seconds.", retry_after.as_secs().max(1)),
        ),
        Err(e) => return Err(e.into()),
    };
    page(&st, &ctx, None, Some(why), status).await
}

/// Signs out every other session.
#[utoipa::path(post, path = "/settings/sessions/end-others", operation_id = "web_end_others", tag = "web",
    request_body(content((CsrfForm = "application/x-www-form-urlencoded"))),
    security(("web_cookie" = [])),
    responses((status = 303, description = "Done (or, signed out, to `/signin`)"), (status = 403, description = "The form's CSRF token does not match its cookie", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (`application/x-www-form-urlencoded`)"),
        (status = 422, description = "A form this page cannot read")))]
pub async fn end_others(State(st): State<WebState>, ctx: Ctx) -> Result<Response, PageError> {
    let Some(auth) = &ctx.viewer else { return Ok(redirect("/signin?next=%2Fsettings")) };
    st.accounts.end_other_sessions(auth).await?;
    Ok(redirect("/settings?done=sessions"))
}

#[cfg(test)]
mod tests {
    use super::client_name;

    #[test]
    fn names_common_clients() {
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
        assert_eq!(client_name(Some(chrome)), "Chrome on Linux");
        assert_eq!(client_name(Some("curl/8.5.0")), "curl");
        assert_eq!(client_name(None), "Unknown client");
    }
}
