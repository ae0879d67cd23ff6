//! CSRF protection for the pages' forms (double submit): a random token in an HttpOnly,
//! SameSite=Strict cookie, echoed by every form in a hidden field (and by the pages' scripts in
//! `X-CSRF-Token`, which the API checks). Another site can make the browser send the cookie,
//! but cannot read the page to learn the token.

use axum::http::HeaderMap;
use streamvault_http::CSRF_COOKIE;
use streamvault_http::auth::{constant_time_eq, cookie};

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
