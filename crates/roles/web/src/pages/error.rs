//! Friendly error pages: what happened, in words, and where to go from here.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::Ctx;
use crate::views::{ErrorPage, Layout};

fn words(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        404 => (
            "Page not found",
            "The page you asked for is not here. It may have been deleted, or the link may be wrong.",
        ),
        403 => ("Not allowed", "You cannot do that with this account."),
        401 => ("Please sign in", "Sign in to see this page."),
        429 => ("Slow down", "Too many tries in a short time. Wait a little and try again."),
        503 => ("Temporarily unavailable", "A service behind this site is not answering. Try again in a minute."),
        s if s < 500 => ("Something is wrong with that request", "Check the address or the form and try again."),
        _ => ("Something went wrong", "It is not you, it is us. Try again in a minute."),
    }
}

/// An error page for a request whose viewer is not known (or not looked up).
pub fn page(status: StatusCode) -> Response {
    let (heading, message) = words(status);
    let page = ErrorPage {
        layout: Layout { title: heading.into(), user: None, csrf: String::new(), nav: "" },
        status: status.as_u16(),
        heading: heading.into(),
        message: message.into(),
    };
    match askama::Template::render(&page) {
        Ok(html) => (status, [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(_) => (status, heading).into_response(),
    }
}

/// An error page in the viewer's own layout.
pub fn render(ctx: &Ctx, status: StatusCode, heading: &str, message: &str) -> Response {
    let page = ErrorPage {
        layout: ctx.layout(heading, ""),
        status: status.as_u16(),
        heading: heading.into(),
        message: message.into(),
    };
    ctx.render(status, page)
}

/// The friendly page for `status`, in the viewer's layout.
pub fn for_status(ctx: &Ctx, status: StatusCode) -> Response {
    let (heading, message) = words(status);
    render(ctx, status, heading, message)
}
