//! Drive files: `POST /stream/v1/files` uploads one, `GET`/`HEAD /stream/v1/files/{id}`
//! downloads it (ranges and all) with an RFC 6266 `Content-Disposition`.

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use streamvault_core::Error;
use streamvault_core::drive::{Placement, validate_name};
use streamvault_core::ids::parse_id;
use streamvault_core::ports::DriveFile;
use streamvault_http::resources::FileJson;
use streamvault_http::{ApiError, Auth, Client};

use crate::StreamState;
use crate::serve::{Ask, Representation, Stored, serve_blob};
use crate::upload::{expected_length, guarded, read_body};

/// The stored file, and whether its bytes were already there.
#[derive(Serialize)]
pub struct Uploaded {
    #[serde(flatten)]
    file: FileJson,
    /// True when the same bytes were already stored, so nothing new was written.
    deduplicated: bool,
}

#[derive(Deserialize)]
pub struct UploadParams {
    name: Option<String>,
}

/// `POST /stream/v1/files?name=…` with the raw bytes, or multipart field `file` (its file name
/// is used when `name` is not given).
pub async fn upload(
    st: State<StreamState>,
    auth: Result<Auth, ApiError>,
    Query(params): Query<UploadParams>,
    req: Request,
) -> Response {
    guarded(req, |req| async move { receive(st, auth?, params, req).await }).await
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

/// `GET`/`HEAD /stream/v1/files/{id}`: the owner's file; anyone else's is not found.
pub async fn download(
    State(st): State<StreamState>,
    Auth(auth): Auth,
    Client(client): Client,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let file = st.drive.get(&auth.user, parse_id(&id, "file")?).await?;
    Ok(serve_blob(&st, Ask { method: &method, headers: &headers, client: client.as_ref() }, as_download(&file))
        .await?
        .response)
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

#[derive(serde::Deserialize)]
pub struct SharedQuery {
    expires: Option<i64>,
    sig: Option<String>,
}

/// `GET`/`HEAD /stream/v1/shared/{id}?expires=&sig=`: a share link, no session needed. 403 for
/// a signature this server did not make, 410 once expired, 404 once the file is deleted.
pub async fn shared(
    State(st): State<StreamState>,
    Client(client): Client,
    Path(id): Path<String>,
    streamvault_http::QueryParams(q): streamvault_http::QueryParams<SharedQuery>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "file")?;
    let (Some(expires), Some(sig)) = (q.expires, q.sig) else {
        return Err(streamvault_core::Error::Forbidden("the link is not signed").into());
    };
    st.shares.verify(id, expires, &sig)?;
    let file = st.drive.get_shared(id).await?;
    Ok(serve_blob(&st, Ask { method: &method, headers: &headers, client: client.as_ref() }, as_download(&file))
        .await?
        .response)
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
