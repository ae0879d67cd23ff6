//! The OpenAPI document: its header, security schemes, the seed's root aliases, and the routes
//! that serve it (`/api/v1/openapi.json` and the Swagger UI reference at `/api/docs`).

use axum::Router;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Doc, Tag};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "streamvault API",
        description = "The JSON API of streamvault. Every route is under `/api/v1`; the seed's routes \
(tag `seed`) are also served at the root for the original web client. Errors are \
`{\"error\": \"...\", \"error_code\": \"...\"}`. Lists are paginated with `limit` and the opaque \
`next_cursor` of the previous page.",
        license(name = "AGPL-3.0-or-later")
    ),
    tags(
        (name = "accounts", description = "Sign-up, login, sessions"),
        (name = "videos", description = "Videos, discovery and channels"),
        (name = "comments", description = "Comments on videos"),
        (name = "live", description = "Who is watching a video now, across replicas"),
        (name = "drive", description = "Files, folders, instant upload and share links"),
        (name = "admin", description = "Operators: the job queue (bearer `STREAMVAULT_ADMIN_TOKEN`)"),
        (name = "stream", description = "The stream role: bytes in and out (uploads, playback, media, downloads, share links), \
with RFC 9110 ranges and conditional requests"),
        (name = "tus", description = "Resumable uploads, tus 1.0 (creation, creation-with-upload, creation-defer-length, \
expiration, checksum, termination, concatenation)"),
        (name = "operations", description = "Probes and metrics"),
        (name = "web", description = "The web role: server-rendered pages and their forms (HTML; the session in an \
HttpOnly cookie, every form carrying a CSRF token that matches its SameSite=Strict cookie)"),
    )
)]
struct Base;

pub fn base() -> Doc {
    let mut doc = Base::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-Session-Id",
            "The session_id returned by sign-up or login (the seed's header)",
        ))),
    );
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("The session_id")).build(),
        ),
    );
    components.add_security_scheme(
        "seed_cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            "session",
            "The seed's page sends the session_id only as this cookie; accepted on the seed's upload and playback \
routes alone, from its own origin (see the README: no SameSite, no CSRF token)",
        ))),
    );
    components.add_security_scheme(
        "web_cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            streamvault_http::SESSION_COOKIE,
            "The pages' session: an HttpOnly, SameSite=Lax cookie set by signing in on `/signin`",
        ))),
    );
    components.add_security_scheme(
        "admin",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("The operators' token, STREAMVAULT_ADMIN_TOKEN"))
                .build(),
        ),
    );
    doc
}

/// Adds the seed's root paths as aliases of their `/api/v1` twins: same operations, with
/// `seed_`-prefixed operation ids (they must be unique) and the `seed` tag.
pub fn with_seed_aliases(mut doc: Doc, mut seed: Doc) -> Doc {
    for (_, item) in seed.paths.paths.iter_mut() {
        for op in operations(item) {
            op.operation_id =
                op.operation_id.take().map(|id| if id.starts_with("seed_") { id } else { format!("seed_{id}") });
            op.tags = Some(vec!["seed".into()]);
        }
    }
    doc.paths.paths.extend(seed.paths.paths);
    // The root's own shapes (the seed's lists).
    if let Some(c) = seed.components {
        doc.components.get_or_insert_with(Default::default).schemas.extend(c.schemas);
    }
    doc.tags.get_or_insert_with(Vec::new).push(Tag::new("seed"));
    doc
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.options, &mut item.head, &mut item.patch]
        .into_iter()
        .filter_map(|o| o.as_mut())
}

/// What utoipa has no attribute for: (JSON pointer into the document, key, JSON value).
const REFINEMENTS: &[(&str, &str, &str)] = &[
    // A proof answers a challenge: the two come together or not at all.
    ("/components/schemas/InstantBody", "dependentRequired", r#"{"nonce": ["proof"], "proof": ["nonce"]}"#),
    // A tus creation may carry the first bytes (creation-with-upload), or none.
    ("/paths/~1stream~1v1~1tus~1/post/requestBody", "required", "false"),
];

fn refine(doc: &Doc) -> serde_json::Value {
    let mut json = serde_json::to_value(doc).unwrap_or_default();
    for (pointer, key, value) in REFINEMENTS {
        if let Some(obj) = json.pointer_mut(pointer).and_then(|s| s.as_object_mut())
            && let Ok(value) = serde_json::from_str(value)
        {
            obj.insert((*key).to_owned(), value);
        }
    }
    json
}

/// `/api/v1/openapi.json` and the API reference page at `/api/docs` (Swagger UI, served from the
/// binary: nothing from a CDN).
pub fn routes(doc: Doc) -> Router {
    Router::from(SwaggerUi::new("/api/docs").external_url_unchecked("/api/v1/openapi.json", refine(&doc)))
}
