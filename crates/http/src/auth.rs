use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE, USER_AGENT};
use axum::http::request::Parts;
use streamvault_core::Error;
use streamvault_core::accounts::{Accounts, Authenticated, ClientInfo};

use crate::ApiError;

/// The cookie the web pages keep the session token in (HttpOnly, SameSite).
pub const SESSION_COOKIE: &str = "sv_session";

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
        match state.accounts().authenticate(&token).await {
            Ok(a) => Ok(MaybeAuth(Some(a))),
            Err(Error::Unauthenticated(_)) => Ok(MaybeAuth(None)),
            Err(e) => Err(e.into()),
        }
    }
}

pub fn session_token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("x-session-id").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_owned());
    }
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, rest) = v.trim().split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_owned());
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
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
