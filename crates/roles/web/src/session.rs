//! Who is looking at a page: the session cookie, resolved by the accounts service, and the
//! cookies a page sets.

use axum::http::HeaderMap;
use cookie::{Cookie, CookieBuilder, SameSite};
use streamvault_core::Error;
use streamvault_core::accounts::{Accounts, Authenticated};
use streamvault_http::auth::cookie;
use streamvault_http::client::ClientOrigin;
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

/// Whether the client reached us over TLS: as the trusted proxies report it (see
/// `streamvault_http::client`), or as any `X-Forwarded-Proto: https` says. A client that claims
/// it falsely only keeps its own cookies off plain HTTP.
pub fn over_tls(origin: Option<&ClientOrigin>, headers: &HeaderMap) -> bool {
    origin.is_some_and(|o| o.scheme == "https")
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// A cookie of ours: site-wide, HttpOnly (scripts never see it), `Secure` over TLS.
fn ours(tls: bool, name: &'static str, value: &str, same_site: SameSite) -> CookieBuilder<'static> {
    Cookie::build((name, value.to_owned())).path("/").http_only(true).same_site(same_site).secure(tls)
}

/// The session cookie: SameSite=Lax (sent on top-level navigations from other sites, so links
/// into the site keep you signed in).
pub fn session_cookie(tls: bool, token: &str, max_age_secs: u64) -> String {
    let max_age = cookie::time::Duration::seconds(i64::try_from(max_age_secs).unwrap_or(i64::MAX));
    ours(tls, SESSION_COOKIE, token, SameSite::Lax).max_age(max_age).build().to_string()
}

pub fn clear_session_cookie(tls: bool) -> String {
    ours(tls, SESSION_COOKIE, "", SameSite::Lax).max_age(cookie::time::Duration::ZERO).build().to_string()
}

/// The CSRF token's cookie: SameSite=Strict, for the session of the browser.
pub fn csrf_cookie(tls: bool, token: &str) -> String {
    ours(tls, CSRF_COOKIE, token, SameSite::Strict).build().to_string()
}
