//! The page handlers: each reads through the domain core and renders one template.

pub mod auth;
pub mod channel;
pub mod drive;
pub mod error;
pub mod home;
pub mod messages;
pub mod settings;
pub mod social;
pub mod upload;
pub mod watch;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use streamvault_core::Error;
use streamvault_core::accounts::Authenticated;
use streamvault_http::client::ClientOrigin;
use streamvault_http::urls::VideoUrls;

use crate::views::{Card, Layout};
use crate::{WebState, csrf, format, session};

/// What every page handler starts from, as an extractor: the signed-in user, the CSRF token
/// its forms carry, and whether the client came over TLS.
pub struct Ctx {
    pub viewer: Option<Authenticated>,
    /// The client came over TLS: its cookies are `Secure`.
    pub tls: bool,
    csrf: String,
    new_csrf: Option<String>,
}

impl FromRequestParts<WebState> for Ctx {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, st: &WebState) -> Result<Ctx, PageError> {
        Ctx::of(parts, st).await
    }
}

impl Ctx {
    pub async fn of(parts: &Parts, st: &WebState) -> Result<Ctx, PageError> {
        let viewer = session::viewer(&st.accounts, &parts.headers).await.map_err(PageError)?;
        let (csrf, new_csrf) = csrf::token(&parts.headers);
        let tls = session::over_tls(parts.extensions.get::<ClientOrigin>(), &parts.headers);
        Ok(Ctx { viewer, tls, csrf, new_csrf })
    }

    pub fn layout(&self, title: impl Into<String>, nav: &'static str) -> Layout {
        Layout {
            title: title.into(),
            user: self.viewer.as_ref().map(|a| a.user.name.clone()),
            csrf: self.csrf.clone(),
            nav,
        }
    }

    /// The signed-in user, or a redirect to the sign-in page that comes back to `here`.
    pub fn user_or_signin(&self, here: &str) -> Result<&Authenticated, ToSignin> {
        self.viewer.as_ref().ok_or_else(|| ToSignin(format!("/signin?next={}", encode(here))))
    }

    pub fn render(&self, status: StatusCode, page: impl Template) -> Response {
        let html = match page.render() {
            Ok(html) => html,
            Err(e) => {
                tracing::error!(error = %e, "template failed to render");
                return (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response();
            }
        };
        let mut res = (status, [(CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
        // Pages name who is signed in and carry their token: never in a shared cache.
        res.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
        if let Some(t) = &self.new_csrf
            && let Ok(v) = HeaderValue::from_str(&session::csrf_cookie(self.tls, t))
        {
            res.headers_mut().append(SET_COOKIE, v);
        }
        res
    }

    /// A form whose token does not match: nothing was done.
    pub fn csrf_failed(&self) -> Response {
        error::render(
            self,
            StatusCode::FORBIDDEN,
            "This form has expired",
            "Nothing was changed. Go back, reload the page and try again.",
        )
    }
}

/// The way to the sign-in page, for a page that needs an account.
pub struct ToSignin(String);

impl IntoResponse for ToSignin {
    fn into_response(self) -> Response {
        redirect(&self.0)
    }
}

/// A failure a page shows as an error page.
pub struct PageError(pub Error);

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let api = streamvault_http::ApiError(self.0).into_response();
        let mut page = crate::security::with_headers(error::page(api.status()));
        // A 429 or 503 page says when to come back, as the API does.
        if let Some(after) = api.headers().get(axum::http::header::RETRY_AFTER) {
            page.headers_mut().insert(axum::http::header::RETRY_AFTER, after.clone());
        }
        page
    }
}

pub fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_owned())]).into_response()
}

/// A query-string value.
pub fn encode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// Where to go after signing in: a path on this site only (no `//host` or `\\host` tricks).
/// Where to send the browser after signing in: `next` if it stays on this site, else `/`.
/// Browsers resolve a `Location` by the WHATWG URL rules (dropping tabs and newlines, reading
/// `\` as `/`, `/%09/host` as `//host`, …), so `next` is resolved by the same rules against a
/// placeholder origin, and only a result on that origin is kept: its path, query and fragment,
/// as the browser would have them.
pub fn safe_next(next: &str) -> String {
    const HOME: &str = "http://streamvault.invalid/";
    let (Ok(base), false) = (url::Url::parse(HOME), next.is_empty()) else { return "/".into() };
    match base.join(next) {
        Ok(u) if u.origin() == base.origin() && u.username().is_empty() && u.password().is_none() => {
            let mut out = u.path().to_owned();
            if let Some(q) = u.query() {
                out.push('?');
                out.push_str(q);
            }
            if let Some(f) = u.fragment() {
                out.push('#');
                out.push_str(f);
            }
            // A path that a browser would read as another origin's (`//host`) never comes out
            // of a join on an origin; refuse it all the same.
            if out.starts_with("//") || out.starts_with("/\\") { "/".into() } else { out }
        }
        _ => "/".into(),
    }
}

pub fn card(v: streamvault_core::videos::Video, now: chrono::DateTime<chrono::Utc>) -> Card {
    Card {
        id: v.id.to_string(),
        thumbnail_url: v.thumbnail_url(),
        duration: format::duration(v.media.duration_ms),
        title: v.name,
        author: v.author_name,
        views: v.views,
        age: format::age(v.created_at, now),
        status: v.status.as_str().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/watch/1?t=2"), "/watch/1?t=2");
        assert_eq!(safe_next("/x?u=http://y"), "/x?u=http://y", "a URL in the query is just text");
        assert_eq!(safe_next("/drive/a b"), "/drive/a%20b");
        assert_eq!(safe_next("/%09/evil.example/x"), "/%09/evil.example/x", "still a path here");
        assert_eq!(safe_next("http:evil.example"), "/evil.example", "same scheme: a relative path to a browser");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example/x",
            "\t//evil.example",
            " //evil.example",
            "/\n/evil.example",
            "javascript:alert(1)",
            "//user@evil.example",
            "",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::safe_next;

    /// Inputs that probe the WHATWG rules: schemes, slashes and backslashes, tabs and newlines
    /// (dropped by browsers), percent escapes, userinfo, dot segments.
    fn next() -> impl Strategy<Value = String> {
        const PIECES: &str = "/|\\|//|\\\\|\t|\n|\r| |%09|%2f|%5c|%2e|..|.|@|:|?|#|http:|https:|HTTP://|javascript:|\
                              data:|//evil.example|evil.example|user:pw@|streamvault.invalid|a.invalid|%|%%|\
                              \u{0}|\u{3000}|\u{ff0f}|ß|x";
        let piece = prop::sample::select(PIECES.split('|').collect::<Vec<_>>());
        prop_oneof!["\\PC{0,40}", "[ -~\t\n\r]{0,40}", prop::collection::vec(piece, 0..10).prop_map(|p| p.concat())]
    }

    proptest! {
        /// Whatever `next` is, the redirect is a path on this site: it starts with one `/`
        /// (never `//` or `/\`), and a browser resolving it on any origin stays on that origin.
        #[test]
        fn safe_next_always_stays_on_this_site(next in next()) {
            let out = safe_next(&next);
            prop_assert!(out.starts_with('/'), "{:?} -> {:?}", next, out);
            prop_assert!(!out.starts_with("//") && !out.starts_with("/\\"), "{:?} -> {:?}", next, out);
            let base = url::Url::parse("http://a.invalid/").map_err(|e| TestCaseError::fail(e.to_string()))?;
            let u = base.join(&out).map_err(|e| TestCaseError::fail(format!("{next:?} -> {out:?}: {e}")))?;
            prop_assert!(
                u.origin() == base.origin() && u.username().is_empty() && u.password().is_none(),
                "{:?} -> {:?} -> {}", next, out, u
            );
        }

        /// An absolute URL on another host, in any scheme, is never followed.
        #[test]
        fn another_hosts_url_is_refused(
            scheme in "[a-zA-Z][a-zA-Z0-9+.\\-]{0,8}",
            slashes in prop::sample::select(vec!["//", "\\\\", "/\\", "\\/", "///"]),
            host in "[a-z]{1,10}\\.example",
            rest in "(/[a-z0-9]{0,6}){0,3}",
        ) {
            let absolute = safe_next(&format!("{scheme}:{slashes}{host}{rest}"));
            prop_assert_eq!(absolute.as_str(), "/");
            let relative = safe_next(&format!("{slashes}{host}{rest}"));
            prop_assert_eq!(relative.as_str(), "/");
        }

        /// A plain path on this site comes back as it was.
        #[test]
        fn a_plain_path_is_kept(path in "(/[a-zA-Z0-9_\\-]{1,8}){1,5}/?", query in "(\\?[a-z0-9=&]{0,12})?") {
            let next = format!("{path}{query}");
            prop_assert_eq!(safe_next(&next), next);
        }
    }
}
