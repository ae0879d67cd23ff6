//! Drive files: `POST /stream/v1/files` uploads one, `GET`/`HEAD /stream/v1/files/{id}`
//! downloads it (ranges and all) with an RFC 6266 `Content-Disposition`.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use streamvault_core::Error;
use streamvault_core::drive::DriveFile;
use streamvault_core::drive::{Placement, validate_name};
use streamvault_core::ids::FileId;
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::resources::FileJson;
use streamvault_http::schema::Binary;
use streamvault_http::{ApiError, Auth, Client, QueryParams, schema};

use crate::StreamState;
use crate::serve::{Ask, Conditional, Representation, Stored, serve_blob};
use crate::upload::{FilePart, expected_length, guarded, read_body};

/// The stored file, and whether its bytes were already there.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = UploadedFile)]
pub struct Uploaded {
    #[serde(flatten)]
    file: FileJson,
    /// True when the same bytes were already stored, so nothing new was written.
    deduplicated: bool,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's name; with a multipart body, its part's file name when absent. A raw body
    /// without it is 400.
    #[param(schema_with = schema::file_name)]
    name: Option<String>,
}

/// Uploads a drive file to the top of the caller's drive: the raw bytes, or a multipart body.
/// Bytes are stored once per content, and count against the caller's quota as they arrive.
#[utoipa::path(post, path = "/stream/v1/files", operation_id = "upload_file", tag = "stream", params(UploadParams),
    request_body(content((Binary = "application/octet-stream"), (FilePart = "multipart/form-data"))),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Stored", body = Uploaded),
        (status = 400, description = "No name, a bad name, a broken multipart body, or a body that ended early", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 413, description = "Over the size limit or the caller's quota", body = ErrorBody),
        (status = 503, description = "Storage is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn upload(
    st: State<StreamState>,
    auth: Result<Auth, ApiError>,
    params: Result<QueryParams<UploadParams>, ApiError>,
    req: Request,
) -> Response {
    guarded(req, |req| async move { receive(st, auth?, params?.0, req).await }).await
}

async fn receive(
    State(st): State<StreamState>,
    Auth(auth): Auth,
    params: UploadParams,
    req: Request,
) -> Result<Response, ApiError> {
    if let Some(name) = &params.name {
        validate_name(name)?;
    }
    let reservation = st.drive.quota().reservation(auth.user.id, st.storage.max_upload());
    let mut staging = st.storage.stage_file(reservation).await?;
    if let Some(n) = expected_length(&req) {
        staging.expect(n).await?;
    }
    let part_name = read_body(req, &mut staging).await?;
    let name = params.name.or(part_name).ok_or_else(|| Error::missing("name"))?;
    validate_name(&name)?;
    let mut staged = staging.finish().await?;
    let mime = staged
        .mime
        .map(str::to_owned)
        .or_else(|| mime_guess::from_path(&name).first_raw().map(str::to_owned))
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let place = Placement { name: &name, folder: None, fall_back: false };
    let (stored, file) = st.drive.store(&auth.user, place, &mut staged, &mime, &[]).await?;
    Ok((StatusCode::CREATED, Json(Uploaded { file: file.into(), deduplicated: !stored.new })).into_response())
}

/// Downloads one of the caller's files (ranges and all), with an RFC 6266
/// `Content-Disposition`; anyone else's is not found.
#[utoipa::path(get, path = "/stream/v1/files/{id}", operation_id = "download_file", tag = "stream",
    params(("id" = String, Path, description = "File id"), Conditional),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The file", content_type = "*/*", body = Binary, headers(("Content-Disposition" = String), ("ETag" = String))),
        (status = 206, description = "The requested range", content_type = "*/*", body = Binary, headers(("Content-Range" = String))),
        (status = 302, description = "Object storage, `redirect` mode: a presigned URL"),
        (status = 304, description = "Not modified"),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "Not one of the caller's files", body = ErrorBody),
        (status = 416, description = "The range lies outside the file"),
        (status = 429, description = "Every stream slot is taken; see Retry-After", body = ErrorBody),
        (status = 503, description = "Storage is down, or the bytes are in transfer; see Retry-After", body = ErrorBody),
    ))]
pub async fn download(
    State(st): State<StreamState>,
    Auth(auth): Auth,
    Client(client): Client,
    Path(id): Path<FileId>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let file = st.drive.get(&auth.user, id).await?;
    serve_blob(&st, Ask { method: &method, headers: &headers, client: client.as_ref() }, as_download(&file)).await
}

/// A drive file as an attachment, never cached by shared caches.
fn as_download(file: &DriveFile) -> Representation<'_> {
    Representation {
        stored: Stored::Blob(&file.sha256),
        size: file.size,
        mime: &file.mime,
        last_modified: file.updated_at,
        cache_control: "private, max-age=0",
        disposition: Some(attachment(&file.name)),
    }
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SharedQuery {
    /// When the link stops working (Unix seconds), as signed.
    #[param(required = true)]
    expires: Option<i64>,
    /// The link's signature (hex HMAC-SHA256).
    #[param(required = true, pattern = r"^[0-9a-fA-F]*$")]
    sig: Option<String>,
}

/// A share link (`POST /api/v1/files/{id}/share` makes them): the file, with no session.
#[utoipa::path(get, path = "/stream/v1/shared/{id}", operation_id = "shared_file", tag = "stream",
    params(("id" = String, Path, description = "File id"), SharedQuery, Conditional),
    responses(
        (status = 200, description = "The file", content_type = "*/*", body = Binary, headers(("Content-Disposition" = String), ("ETag" = String))),
        (status = 206, description = "The requested range", content_type = "*/*", body = Binary, headers(("Content-Range" = String))),
        (status = 302, description = "Object storage, `redirect` mode: a presigned URL"),
        (status = 304, description = "Not modified"),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 403, description = "A signature this server did not make (or none)", body = ErrorBody),
        (status = 404, description = "The file was deleted", body = ErrorBody),
        (status = 410, description = "The link expired", body = ErrorBody),
        (status = 416, description = "The range lies outside the file"),
        (status = 429, description = "Every stream slot is taken; see Retry-After", body = ErrorBody),
        (status = 503, description = "Storage is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn shared(
    State(st): State<StreamState>,
    Client(client): Client,
    id: Result<Path<FileId>, ApiError>,
    QueryParams(q): QueryParams<SharedQuery>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // A malformed id is a 404, after what the request itself got wrong.
    let Path(id) = id?;
    let (Some(expires), Some(sig)) = (q.expires, q.sig) else {
        return Err(streamvault_core::Error::Forbidden("the link is not signed").into());
    };
    st.shares.verify(id, expires, &sig)?;
    let file = st.drive.get_shared(id).await?;
    serve_blob(&st, Ask { method: &method, headers: &headers, client: client.as_ref() }, as_download(&file)).await
}

/// RFC 5987 `attr-char`: everything else is percent-encoded in `filename*`.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `Content-Disposition: attachment` per RFC 6266: an ASCII `filename` for old clients and the
/// exact UTF-8 name in `filename*`.
pub fn attachment(name: &str) -> String {
    let fallback: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{}", utf8_percent_encode(name, ATTR_CHAR))
}

#[cfg(test)]
mod tests {
    use super::attachment;

    #[test]
    fn content_disposition() {
        assert_eq!(attachment("report.pdf"), "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
        assert_eq!(
            attachment("naïve \"quote\" 🎬.mp4"),
            "attachment; filename=\"na_ve _quote_ _.mp4\"; filename*=UTF-8''na%C3%AFve%20%22quote%22%20%F0%9F%8E%AC.mp4"
        );
        assert_eq!(attachment("a\r\nb;c"), "attachment; filename=\"a__b;c\"; filename*=UTF-8''a%0D%0Ab%3Bc");
    }
}
