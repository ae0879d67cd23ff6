//! CSRF protection for the pages' forms (double submit): a random token in an HttpOnly,
//! SameSite=Strict cookie, echoed by every form in a hidden field (and by the pages' scripts in
//! `X-CSRF-Token`, which the API checks). Another site can make the browser send the cookie,
//! but cannot read the page to learn the token.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use streamvault_http::CSRF_COOKIE;
use streamvault_http::auth::{constant_time_eq, cookie};

use crate::WebState;
use crate::pages::Ctx;

/// The most a page's form may hold (they carry a few fields, never files).
const FORM_LIMIT: usize = 64 * 1024;

/// The request's token, or a new one to set (`Some` in the second place).
pub fn token(headers: &HeaderMap) -> (String, Option<String>) {
    match cookie(headers, CSRF_COOKIE).filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())) {
        Some(t) => (t, None),
        None => {
            let t = hex::encode(rand::random::<[u8; 32]>());
            (t.clone(), Some(t))
        }
    }
}

/// Whether a form's `csrf` field matches the cookie.
pub fn verify(headers: &HeaderMap, field: &str) -> bool {
    cookie(headers, CSRF_COOKIE).is_some_and(|c| !field.is_empty() && constant_time_eq(c.as_bytes(), field.as_bytes()))
}

/// Every request to the pages that may change something (any method but GET and HEAD) must
/// carry the form's `csrf` field, matching the cookie: checked here, in a layer over every page
/// route, so that no form handler can be written without it. A form that fails it gets the
/// "this form has expired" page, and nothing is done.
pub async fn require(State(st): State<WebState>, req: Request, next: Next) -> Response {
    // Forms are what another site can make a browser send, and a form sends GET or POST; any
    // other method needs a CORS preflight this site never grants. Pages take only GET and POST,
    // so anything but POST goes on to the router (which answers 405 where no route takes it).
    if *req.method() != Method::POST {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(form) = axum::body::to_bytes(body, FORM_LIMIT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "a form is at most 64 KiB\n").into_response();
    };
    let field = url::form_urlencoded::parse(&form).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned());
    if !verify(&parts.headers, field.as_deref().unwrap_or_default()) {
        return match Ctx::of(&parts, &st).await {
            Ok(ctx) => ctx.csrf_failed(),
            Err(e) => e.into_response(),
        };
    }
    next.run(Request::from_parts(parts, Body::from(form))).await
}
