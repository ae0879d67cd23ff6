use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE, USER_AGENT};
use axum::http::request::Parts;
use streamvault_core::Error;
use streamvault_core::accounts::{Accounts, Authenticated, ClientInfo};

use crate::ApiError;

/// The cookie the web pages keep the session token in (HttpOnly, SameSite).
pub const SESSION_COOKIE: &str = "sv_session";
/// The web pages' CSRF token (double submit): a random value in this cookie, repeated in a
/// form field or the `X-CSRF-Token` header by pages from our origin, which alone can read it
/// from the page.
pub const CSRF_COOKIE: &str = "sv_csrf";

/// Router state that can authenticate a caller.
pub trait HasAccounts {
    fn accounts(&self) -> &Accounts;
}

/// The authenticated caller; rejects with 401 when no valid session token came with the request.
///
/// The token is read from `X-Session-Id` (the seed's header), `Authorization: Bearer`, or the
/// session cookie, in that order. Nothing else identifies a caller: a client-sent
/// `X-User-Name` (which the seed trusted) is never read.
pub struct Auth(pub Authenticated);

impl<S: HasAccounts + Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = session_token(&parts.headers).ok_or(Error::Unauthenticated("a session is required"))?;
        check_csrf(parts)?;
        Ok(Auth(state.accounts().authenticate(&token).await?))
    }
}

/// The caller if a valid session came with the request, else `None`; never rejects for a
/// missing session, but still fails with 503 when the session store is down.
pub struct MaybeAuth(pub Option<Authenticated>);

impl<S: HasAccounts + Send + Sync> FromRequestParts<S> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(token) = session_token(&parts.headers) else { return Ok(MaybeAuth(None)) };
        check_csrf(parts)?;
        match state.accounts().authenticate(&token).await {
            Ok(a) => Ok(MaybeAuth(Some(a))),
            Err(Error::Unauthenticated(_)) => Ok(MaybeAuth(None)),
            Err(e) => Err(e.into()),
        }
    }
}

/// A browser sends cookies with any request to us, whoever's page made it: a request that
/// changes something and is authenticated by the session cookie alone must also carry the
/// CSRF token. Tokens in headers (`X-Session-Id`, bearer) cannot be forged that way.
fn check_csrf(parts: &Parts) -> Result<(), Error> {
    let h = &parts.headers;
    let by_cookie_only = h.get("x-session-id").is_none() && h.get(AUTHORIZATION).is_none();
    if !by_cookie_only || parts.method.is_safe() {
        return Ok(());
    }
    let sent = h.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    match cookie(h, CSRF_COOKIE) {
        Some(expected) if !sent.is_empty() && constant_time_eq(sent.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(Error::Forbidden("a request authenticated by cookie needs the page's X-CSRF-Token")),
    }
}

/// Equal bytes, compared in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim().to_owned())
}

pub fn session_token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("x-session-id").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_owned());
    }
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, rest) = v.trim().split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_owned());
    }
    cookie(headers, SESSION_COOKIE)
}

/// What a login records about the client.
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let user_agent = parts.headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(Client(ClientInfo { user_agent }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn reads_each_token_source() {
        assert_eq!(session_token(&headers(&[("x-session-id", "a")])).as_deref(), Some("a"));
        assert_eq!(session_token(&headers(&[("authorization", "Bearer b")])).as_deref(), Some("b"));
        assert_eq!(session_token(&headers(&[("authorization", "Basic xyz")])), None);
        assert_eq!(session_token(&headers(&[("cookie", "x=1; sv_session=c; y=2")])).as_deref(), Some("c"));
        assert_eq!(session_token(&headers(&[("x-user-name", "admin")])), None);
        assert_eq!(session_token(&headers(&[])), None);
    }
}
