use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE, USER_AGENT};
use axum::http::request::Parts;
use streamvault_core::Error;
use streamvault_core::accounts::{Accounts, Authenticated, ClientInfo};

use crate::ApiError;
use crate::client::ClientOrigin;

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
        let cred = credential(&parts.headers)?.ok_or(Error::Unauthenticated("a session is required"))?;
        check_csrf(parts, &cred)?;
        Ok(Auth(state.accounts().authenticate(&cred.token).await?))
    }
}

/// The caller if a valid session came with the request, else `None`; never rejects for a
/// missing session, but still fails with 503 when the session store is down.
pub struct MaybeAuth(pub Option<Authenticated>);

impl<S: HasAccounts + Send + Sync> FromRequestParts<S> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(cred) = credential(&parts.headers)? else { return Ok(MaybeAuth(None)) };
        check_csrf(parts, &cred)?;
        match state.accounts().authenticate(&cred.token).await {
            Ok(a) => Ok(MaybeAuth(Some(a))),
            Err(Error::Unauthenticated(_)) => Ok(MaybeAuth(None)),
            Err(e) => Err(e.into()),
        }
    }
}

/// The cookie the seed's page script keeps the session token in (set without `HttpOnly` or
/// `SameSite`, beside a `username` cookie).
pub const SEED_SESSION_COOKIE: &str = "session";

/// The caller of one of the seed's own byte routes (`POST /upload/{vid}`, `GET /videos/{vid}`):
/// as [`Auth`] and [`MaybeAuth`], and also by the seed's `session` cookie, which its page sends
/// with no header and no CSRF token. Accepted on those routes only; an unsafe request that
/// carries it from a page of another origin (`Origin` is not this host) is refused, and modern
/// browsers do not attach a cookie without `SameSite` to cross-site POSTs anyway (Lax by
/// default). See the README, "The seed's web client".
pub struct SeedAuth(pub Option<Authenticated>);

impl<S: HasAccounts + Send + Sync> FromRequestParts<S> for SeedAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let cred = match credential(&parts.headers)? {
            Some(c) => {
                check_csrf(parts, &c)?;
                c.token
            }
            None => match cookie(&parts.headers, SEED_SESSION_COOKIE).filter(|t| !t.is_empty()) {
                Some(token) => {
                    if !parts.method.is_safe() && !same_origin(&parts.headers) {
                        return Err(
                            Error::Forbidden("the seed's session cookie only counts from this site's pages").into()
                        );
                    }
                    token
                }
                None => return Ok(SeedAuth(None)),
            },
        };
        match state.accounts().authenticate(&cred).await {
            Ok(a) => Ok(SeedAuth(Some(a))),
            Err(Error::Unauthenticated(_)) => Ok(SeedAuth(None)),
            Err(e) => Err(e.into()),
        }
    }
}

/// No `Origin`, or one whose host is the request's `Host` (the seed's Go proxy keeps the
/// browser's `Host`, `host:8080`, and the browser sends `Origin: http://host:8080`).
pub fn same_origin(h: &HeaderMap) -> bool {
    let Some(origin) = h.get(axum::http::header::ORIGIN) else { return true };
    let host = h.get(axum::http::header::HOST).and_then(|v| v.to_str().ok());
    let origin_host =
        origin.to_str().ok().and_then(|o| o.split_once("://")).map(|(_, rest)| rest.trim_end_matches('/'));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// A browser sends cookies with any request to us, whoever's page made it: a request that
/// changes something and is authenticated by the session cookie must also carry the CSRF
/// token. Tokens in headers (`X-Session-Id`, bearer) cannot be forged that way. What counts is
/// the credential the request is authenticated with, not which headers are present.
fn check_csrf(parts: &Parts, cred: &Credential) -> Result<(), Error> {
    if cred.source != Source::Cookie || parts.method.is_safe() {
        return Ok(());
    }
    let h = &parts.headers;
    let sent = h.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    match cookie(h, CSRF_COOKIE) {
        Some(expected) if !sent.is_empty() && constant_time_eq(sent.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(Error::Forbidden("a request authenticated by cookie needs the page's X-CSRF-Token")),
    }
}

/// Where a session token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `X-Session-Id` (the seed's header).
    Header,
    /// `Authorization: Bearer`.
    Bearer,
    /// The web pages' session cookie.
    Cookie,
}

/// The session token a request presents, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub token: String,
    pub source: Source,
}

/// The request's credential: `X-Session-Id`, else `Authorization: Bearer`, else the session
/// cookie; `None` without any. A header that is present but unreadable (not text, another
/// scheme) is a bad credential (401), never a reason to fall through to the cookie.
pub fn credential(headers: &HeaderMap) -> Result<Option<Credential>, Error> {
    const BAD: Error = Error::Unauthenticated("the session header is malformed");
    if let Some(v) = headers.get("x-session-id") {
        let token = v.to_str().map_err(|_| BAD)?.trim().to_owned();
        return Ok(Some(Credential { token, source: Source::Header }));
    }
    if let Some(v) = headers.get(AUTHORIZATION) {
        let v = v.to_str().map_err(|_| BAD)?.trim();
        let (scheme, rest) = v.split_once(' ').ok_or(BAD)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(BAD);
        }
        return Ok(Some(Credential { token: rest.trim().to_owned(), source: Source::Bearer }));
    }
    Ok(cookie(headers, SESSION_COOKIE).map(|token| Credential { token, source: Source::Cookie }))
}

/// Equal bytes, compared in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// The value of cookie `name` (the first, over every `Cookie` header line; RFC 6265 pairs as
/// the `cookie` crate reads them, without percent-decoding).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// What a login records about the client (its user agent), and the address it is throttled by.
pub struct LoginClient(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for LoginClient {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(LoginClient(client_info(&parts.headers, parts.extensions.get::<ClientOrigin>())))
    }
}

/// What a login records about the client.
pub fn client_info(headers: &HeaderMap, origin: Option<&ClientOrigin>) -> ClientInfo {
    let user_agent = headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    ClientInfo { user_agent, address: origin.map(ClientOrigin::key) }
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

    fn token(pairs: &[(&'static str, &str)]) -> Option<(String, Source)> {
        credential(&headers(pairs)).unwrap().map(|c| (c.token, c.source))
    }

    #[test]
    fn reads_each_token_source() {
        assert_eq!(token(&[("x-session-id", "a")]), Some(("a".into(), Source::Header)));
        assert_eq!(token(&[("authorization", "Bearer b")]), Some(("b".into(), Source::Bearer)));
        assert_eq!(token(&[("cookie", "x=1; sv_session=c; y=2")]), Some(("c".into(), Source::Cookie)));
        assert_eq!(token(&[("x-user-name", "admin")]), None);
        assert_eq!(token(&[]), None);
        assert!(credential(&headers(&[("authorization", "Basic xyz"), ("cookie", "sv_session=c")])).is_err());
    }

    #[test]
    fn an_unreadable_header_never_falls_through_to_the_cookie() {
        let mut h = headers(&[("cookie", "sv_session=c")]);
        h.insert("x-session-id", axum::http::HeaderValue::from_bytes(b"\xff\xfe").unwrap());
        assert!(credential(&h).is_err(), "a cookie-authenticated request must not pass as a header one");
    }
}

#[cfg(test)]
mod fuzz {
    use axum::http::header::{AUTHORIZATION, COOKIE};
    use axum::http::{HeaderMap, HeaderValue};
    use proptest::prelude::*;

    use super::{SESSION_COOKIE, Source, cookie, credential};

    /// Any value a header can carry: tab, visible ASCII and space, and obs-text (not text).
    fn header_value(max: usize) -> impl Strategy<Value = HeaderValue> {
        prop::collection::vec(prop_oneof![Just(b'\t'), 0x20u8..=0x7e, 0x80u8..=0xff], 0..max)
            .prop_filter_map("a valid header value", |b| HeaderValue::from_bytes(&b).ok())
    }

    fn text_value(pattern: &'static str) -> impl Strategy<Value = HeaderValue> {
        pattern.prop_filter_map("a valid header value", |s| HeaderValue::from_str(&s).ok())
    }

    /// The text of a value as `HeaderValue::to_str` reads it, trimmed as a token is.
    fn text(v: &HeaderValue) -> Option<&str> {
        let b = v.as_bytes();
        let ok = b.iter().all(|&c| c == b'\t' || (0x20..0x7f).contains(&c));
        ok.then(|| std::str::from_utf8(b).ok()).flatten().map(|s| s.trim_matches([' ', '\t']))
    }

    /// RFC 6265 cookie-name (a token) and cookie-value (cookie-octets; `=` included).
    const NAME: &str = "[A-Za-z0-9!#$%&'*+.^_`|~\\-]{1,10}";
    const VALUE: &str = "[\\x21\\x23-\\x2B\\x2D-\\x3A\\x3C-\\x5B\\x5D-\\x7E]{0,12}";

    proptest! {
        /// A Cookie header as browsers write it (`a=1; b=2`, possibly over several header lines):
        /// `cookie` is the first value of that name, or nothing.
        #[test]
        fn cookie_is_the_first_value_of_that_name(
            pairs in prop::collection::vec((prop_oneof![NAME, Just(SESSION_COOKIE.to_owned())], VALUE), 0..8),
            lines in 1usize..4,
            pick in any::<prop::sample::Index>(),
            other in NAME,
            use_pick in any::<bool>(),
        ) {
            let name = if use_pick && !pairs.is_empty() { pairs[pick.index(pairs.len())].0.clone() } else { other };
            let mut h = HeaderMap::new();
            let per_line = pairs.len().div_ceil(lines).max(1);
            for chunk in pairs.chunks(per_line) {
                let line: Vec<String> = chunk.iter().map(|(n, v)| format!("{n}={v}")).collect();
                let value = HeaderValue::from_str(&line.join("; ")).map_err(|e| TestCaseError::fail(e.to_string()))?;
                h.append(COOKIE, value);
            }
            let expected = pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
            prop_assert_eq!(cookie(&h, &name), expected, "{:?}", h);
        }

        /// Arbitrary Cookie bytes never panic, and a value found is trimmed and holds no `;`.
        #[test]
        fn any_cookie_header_never_panics(
            lines in prop::collection::vec(prop_oneof![header_value(60), text_value("([ -~]{0,6}[=;]){0,8}")], 0..3),
            name in prop_oneof![Just(SESSION_COOKIE.to_owned()), NAME, "\\PC{0,6}"],
        ) {
            let mut h = HeaderMap::new();
            for line in lines {
                h.append(COOKIE, line);
            }
            if let Some(v) = cookie(&h, &name) {
                prop_assert!(v.trim() == v && !v.contains(';'), "{:?}", v);
            }
        }

        /// `X-Session-Id`, else `Authorization: Bearer`, else the session cookie. A header that is
        /// present but unreadable (not text, another scheme, no token separator) is an error, never
        /// a fall-through to the next source; the source reported is the header actually read.
        #[test]
        fn credential_reads_the_first_present_source(
            session_id in prop::option::of(prop_oneof![header_value(40), text_value("[ \t]{0,2}[ -~]{0,20}")]),
            authorization in prop::option::of(prop_oneof![
                header_value(40),
                text_value("[ \t]{0,2}(Bearer|bearer|BEARER|Basic|Token|Bearerx)[ \t]{0,2}[ -~]{0,20}"),
            ]),
            cookies in prop::option::of(prop_oneof![
                text_value("(sv_session=[!-:<-~]{0,10}; )?[a-z]{1,4}=[a-z0-9]{0,4}(; sv_session=[a-z]{0,4})?"),
                header_value(40),
            ]),
        ) {
            let mut h = HeaderMap::new();
            if let Some(v) = &session_id {
                h.insert("x-session-id", v.clone());
            }
            if let Some(v) = &authorization {
                h.insert(AUTHORIZATION, v.clone());
            }
            if let Some(v) = &cookies {
                h.insert(COOKIE, v.clone());
            }
            let got = credential(&h).map(|c| c.map(|c| (c.token, c.source)));
            if let Some(v) = &session_id {
                match text(v) {
                    Some(t) => prop_assert_eq!(got.ok(), Some(Some((t.to_owned(), Source::Header)))),
                    None => prop_assert!(got.is_err(), "{got:?} for an unreadable X-Session-Id"),
                }
            } else if let Some(v) = &authorization {
                // `Bearer`, any case, one space, then the token (trimmed).
                let bearer = text(v).and_then(|t| {
                    let (scheme, rest) = (t.get(..7)?, t.get(7..)?);
                    scheme.eq_ignore_ascii_case("bearer ").then(|| rest.trim_matches([' ', '\t']).to_owned())
                });
                match bearer {
                    Some(token) => prop_assert_eq!(got.ok(), Some(Some((token, Source::Bearer)))),
                    None => prop_assert!(got.is_err(), "{got:?} for Authorization {v:?}"),
                }
            } else {
                let expected = cookie(&h, SESSION_COOKIE).map(|t| (t, Source::Cookie));
                prop_assert_eq!(got.ok(), Some(expected));
            }
        }
    }
}
