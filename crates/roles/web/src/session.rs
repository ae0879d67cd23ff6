//! Who is looking at a page: the session cookie, resolved by the accounts service, and the
//! cookies a page sets.

use axum::http::HeaderMap;
use streamvault_core::Error;
use streamvault_core::accounts::{Accounts, Authenticated};
use streamvault_http::auth::cookie;
use streamvault_http::{CSRF_COOKIE, SESSION_COOKIE};

/// The signed-in user, if the session cookie names a live session. Only the cookie counts:
/// pages are what browsers load.
pub async fn viewer(accounts: &Accounts, headers: &HeaderMap) -> Result<Option<Authenticated>, Error> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    match accounts.authenticate(&token).await {
        Ok(a) => Ok(Some(a)),
        Err(Error::Unauthenticated(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Behind TLS (the proxy says so) cookies are `Secure`.
fn secure(headers: &HeaderMap) -> &'static str {
    let tls =
        headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("https"));
    if tls { "; Secure" } else { "" }
}

/// The session cookie: HttpOnly (scripts never see the token), SameSite=Lax (sent on top-level
/// navigations from other sites, so links into the site keep you signed in).
pub fn session_cookie(headers: &HeaderMap, token: &str, max_age_secs: u64) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}", secure(headers))
}

pub fn clear_session_cookie(headers: &HeaderMap) -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", secure(headers))
}

pub fn csrf_cookie(headers: &HeaderMap, token: &str) -> String {
    format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{}", secure(headers))
}
