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
        (name = "drive", description = "Files, folders, instant upload and share links"),
        (name = "admin", description = "Operators: the job queue (bearer `STREAMVAULT_ADMIN_TOKEN`)"),
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

/// `/api/v1/openapi.json` and the API reference page at `/api/docs` (Swagger UI, served from the
/// binary: nothing from a CDN).
pub fn routes(doc: Doc) -> Router {
    Router::from(SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", doc))
}
