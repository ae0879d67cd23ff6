//! Sign up, sign in and sign out with forms; the session lives in an HttpOnly cookie.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use streamvault_core::Error;
use streamvault_core::accounts::Issued;
use streamvault_http::auth::LoginClient;

use super::{Ctx, PageError, redirect, safe_next};
use crate::views::AuthPage;
use crate::{WebState, session};

#[derive(Deserialize, utoipa::IntoParams)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AuthForm {
    /// The form's CSRF token, checked by the layer over every page (`crate::csrf::require`).
    #[serde(default)]
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// The sign-up form; signed in already, straight on to `next`.
#[utoipa::path(get, path = "/signup", operation_id = "web_signup_page", tag = "web", params(NextQuery),
    security((), ("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String), (status = 303, description = "Signed in already: to `next` (a path on this site)")))]
pub async fn signup_page(ctx: Ctx, q: Query<NextQuery>) -> Result<Response, PageError> {
    page(ctx, q, "signup").await
}

/// The sign-in form; signed in already, straight on to `next`.
#[utoipa::path(get, path = "/signin", operation_id = "web_signin_page", tag = "web", params(NextQuery),
    security((), ("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String), (status = 303, description = "Signed in already: to `next` (a path on this site)")))]
pub async fn signin_page(ctx: Ctx, q: Query<NextQuery>) -> Result<Response, PageError> {
    page(ctx, q, "signin").await
}

async fn page(ctx: Ctx, Query(q): Query<NextQuery>, mode: &'static str) -> Result<Response, PageError> {
    let next = safe_next(&q.next);
    if ctx.viewer.is_some() {
        return Ok(redirect(&next));
    }
    Ok(form(&ctx, mode, String::new(), None, next, StatusCode::OK))
}

fn form(
    ctx: &Ctx,
    mode: &'static str,
    username: String,
    error: Option<String>,
    next: String,
    status: StatusCode,
) -> Response {
    let title = if mode == "signup" { "Sign up" } else { "Sign in" };
    ctx.render(status, AuthPage { layout: ctx.layout(title, ""), mode, username, error, next })
}

/// Creates the account and signs in (the session in an HttpOnly cookie).
#[utoipa::path(post, path = "/signup", operation_id = "web_signup", tag = "web",
    request_body(content((AuthForm = "application/x-www-form-urlencoded"))),
    responses(
        (status = 303, description = "Signed up: to `next` (a path on this site), with the session cookie"),
        (status = 409, description = "The name is taken: the form again", content_type = "text/html", body = String),
        (status = 403, description = "The form's CSRF token does not match its cookie", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (`application/x-www-form-urlencoded`)"),
        (status = 422, description = "A form this page cannot read"),
        (status = 429, description = "Too many attempts from this address", content_type = "text/html", body = String),
    ))]
pub async fn signup(
    st: State<WebState>,
    client: LoginClient,
    ctx: Ctx,
    f: Form<AuthForm>,
) -> Result<Response, PageError> {
    submit(st, client, ctx, f, "signup").await
}

/// Signs in (the session in an HttpOnly cookie).
#[utoipa::path(post, path = "/signin", operation_id = "web_signin", tag = "web",
    request_body(content((AuthForm = "application/x-www-form-urlencoded"))),
    responses(
        (status = 303, description = "Signed in: to `next` (a path on this site), with the session cookie"),
        (status = 401, description = "Wrong user name or password: the form again", content_type = "text/html", body = String),
        (status = 403, description = "The form's CSRF token does not match its cookie", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (`application/x-www-form-urlencoded`)"),
        (status = 422, description = "A form this page cannot read"),
        (status = 429, description = "Too many failed attempts (the account or this address); see Retry-After", content_type = "text/html", body = String),
    ))]
pub async fn signin(
    st: State<WebState>,
    client: LoginClient,
    ctx: Ctx,
    f: Form<AuthForm>,
) -> Result<Response, PageError> {
    submit(st, client, ctx, f, "signin").await
}

async fn submit(
    State(st): State<WebState>,
    LoginClient(client): LoginClient,
    ctx: Ctx,
    Form(f): Form<AuthForm>,
    mode: &'static str,
) -> Result<Response, PageError> {
    let next = safe_next(&f.next);
    let name = f.username.trim().to_owned();
    let issued = if mode == "signup" {
        st.accounts.signup(&name, &f.password, client).await
    } else {
        st.accounts.login(&name, &f.password, client).await
    };
    let (status, why) = match issued {
        Ok(issued) => return Ok(signed_in(ctx.tls, &st, &issued, &next)),
        Err(Error::Invalid { message, .. }) => (StatusCode::UNPROCESSABLE_ENTITY, message),
        Err(Error::Conflict { message, .. }) => (StatusCode::CONFLICT, message),
        Err(Error::Unauthenticated(_)) => (StatusCode::UNAUTHORIZED, "Wrong user name or password.".to_owned()),
        Err(Error::TooManyRequests { retry_after }) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed attempts. Try again in {} seconds.", retry_after.as_secs().max(1)),
        ),
        Err(e) => return Err(e.into()),
    };
    Ok(form(&ctx, mode, name, Some(capitalise(&why)), next, status))
}

fn signed_in(tls: bool, st: &WebState, issued: &Issued, next: &str) -> Response {
    let mut res = redirect(next);
    let cookie = session::session_cookie(tls, issued.token.as_str(), st.accounts.session_lifetime().as_secs());
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(SET_COOKIE, v);
    }
    res
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    let first: String = c.next().map(|f| f.to_uppercase().collect()).unwrap_or_default();
    let rest = c.as_str();
    if rest.ends_with('.') { format!("{first}{rest}") } else { format!("{first}{rest}.") }
}

/// A form with nothing but its CSRF token (a button).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: the CSRF layer reads the token
pub struct CsrfForm {
    csrf: String,
}

/// Signs out: the session ends and its cookie is cleared.
#[utoipa::path(post, path = "/signout", operation_id = "web_signout", tag = "web",
    request_body(content((CsrfForm = "application/x-www-form-urlencoded"))),
    security((), ("web_cookie" = [])),
    responses((status = 303, description = "Signed out: to `/`"), (status = 403, description = "The form's CSRF token does not match its cookie", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (`application/x-www-form-urlencoded`)"),
        (status = 422, description = "A form this page cannot read")))]
pub async fn signout(State(st): State<WebState>, ctx: Ctx) -> Result<Response, PageError> {
    if let Some(auth) = &ctx.viewer {
        st.accounts.logout(auth).await?;
    }
    let mut res = redirect("/");
    if let Ok(v) = HeaderValue::from_str(&session::clear_session_cookie(ctx.tls)) {
        res.headers_mut().append(SET_COOKIE, v);
    }
    Ok(res)
}
