//! `/drive` and `/drive/{folder}`: a folder's subfolders and files, with the quota bar; the
//! changes themselves go through the API and tus from the page's script.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use streamvault_core::Error;
use streamvault_core::drive::FileSort;
use streamvault_core::ids::{FolderId, Id};

use super::{Ctx, PageError, encode, error};
use crate::views::{Crumb, DrivePage, FileView, FolderView};
use crate::{WebState, format};

/// Folders nest at most this deep on the breadcrumb (the API refuses cycles).

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DriveQuery {
    #[param(schema_with = streamvault_http::schema::cursor)]
    cursor: Option<String>,
}

/// The top of the caller's drive.
#[utoipa::path(get, path = "/drive", operation_id = "web_drive", tag = "web", params(DriveQuery),
    security(("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to `/signin?next=…`"), (status = 400, description = "A malformed query or cursor", content_type = "text/html", body = String)))]
pub async fn root(st: State<WebState>, ctx: Ctx, q: Query<DriveQuery>) -> Result<Response, PageError> {
    show(st, ctx, None, q).await
}

/// One of the caller's folders.
#[utoipa::path(get, path = "/drive/{folder}", operation_id = "web_drive_folder", tag = "web",
    params(("folder" = String, Path, description = "Folder id"), DriveQuery),
    security(("web_cookie" = [])),
    responses((status = 200, description = "The page", content_type = "text/html", body = String), (status = 303, description = "Not signed in: to `/signin?next=…`"), (status = 400, description = "A malformed query or cursor", content_type = "text/html", body = String), (status = 404, description = "Not found (the page that says so)", content_type = "text/html", body = String)))]
pub async fn folder(
    st: State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    q: Query<DriveQuery>,
) -> Result<Response, PageError> {
    show(st, ctx, Some(id), q).await
}

async fn show(
    State(st): State<WebState>,
    ctx: Ctx,
    folder: Option<String>,
    Query(q): Query<DriveQuery>,
) -> Result<Response, PageError> {
    let here = folder.as_deref().map_or("/drive".to_owned(), |f| format!("/drive/{f}"));
    let auth = match ctx.user_or_signin(&here) {
        Ok(a) => a,
        Err(to_signin) => return Ok(to_signin.into_response()),
    };
    let user = &auth.user;
    let folder_id = match folder.as_deref().map(FolderId::parse).transpose() {
        Ok(f) => f,
        Err(_) => return Ok(error::for_status(&ctx, StatusCode::NOT_FOUND)),
    };
    // Someone else's folder is not found, as in the API.
    let listing = match st.drive.list_folder(user, folder_id, FileSort::Name, false, 200, q.cursor.as_deref()).await {
        Ok(l) => l,
        Err(Error::NotFound(_)) => return Ok(error::for_status(&ctx, StatusCode::NOT_FOUND)),
        Err(e) => return Err(e.into()),
    };
    let crumbs = match folder_id {
        Some(id) => st.drive.ancestry(user, id).await?,
        None => Vec::new(),
    };
    let crumbs: Vec<Crumb> = crumbs.into_iter().map(|f| Crumb { id: f.id.to_string(), name: f.name }).collect();
    let folders = st
        .drive
        .folders_in(user, folder_id)
        .await?
        .into_iter()
        .map(|f| FolderView { id: f.id.to_string(), name: f.name })
        .collect();
    let now = chrono::Utc::now();
    let files = listing
        .files
        .into_iter()
        .map(|f| FileView {
            id: f.id.to_string(),
            download_url: format!("/stream/v1/files/{}", f.id),
            size_h: format::size(f.size),
            modified_age: format::age(f.updated_at, now),
            size: f.size,
            mime: f.mime,
            name: f.name,
        })
        .collect();
    let usage = st.drive.usage(user).await?;
    let quota = st.drive.quota().limit();
    let title = crumbs.last().map_or("My drive".to_owned(), |c| c.name.clone());
    let page = DrivePage {
        layout: ctx.layout(title, "drive"),
        folder_id: folder_id.map(|f| f.to_string()).unwrap_or_default(),
        crumbs,
        folders,
        files,
        usage_bytes: usage,
        quota_bytes: quota,
        usage_h: format::size(usage),
        quota_h: quota.map(format::size).unwrap_or_default(),
        next_url: listing.next_cursor.map(|c| format!("{here}?cursor={}", encode(&c))),
    };
    Ok(ctx.render(StatusCode::OK, page))
}
