//! The cloud drive's JSON API: files and folders, instant upload with proof, and share links.
//! The bytes themselves go through the stream role (tus, downloads).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Deserializer, Serialize};
use streamvault_core::Error;
use streamvault_core::ErrorCode;
use streamvault_core::drive::{Change, Instant, InstantChallenge, InstantRequest, MAX_TTL_SECS};
use streamvault_core::drive::{FileSort, Folder};
use streamvault_core::ids::{FileId, FolderId, Id};
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::resources::FileJson;
use streamvault_http::{ApiError, Auth, Client, JsonBody, QueryParams, schema};

use crate::ApiState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct FileList {
    files: Vec<FileJson>,
    next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FolderJson {
    id: String,
    name: String,
    parent_id: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<Folder> for FolderJson {
    fn from(f: Folder) -> Self {
        FolderJson {
            id: f.id.to_string(),
            name: f.name,
            parent_id: f.parent_id.map(|i| i.to_string()),
            created_at: f.created_at.to_rfc3339(),
            updated_at: f.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FolderList {
    folders: Vec<FolderJson>,
}

/// How a file listing is sorted.
#[derive(Deserialize, utoipa::ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    Name,
    Date,
    Size,
}

#[derive(Deserialize, utoipa::ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Asc,
    Desc,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The folder to list; the top of the drive when absent.
    #[param(schema_with = schema::id)]
    folder_id: Option<String>,
    /// `date` by default.
    #[param(inline)]
    sort: Option<SortKey>,
    /// By default names and sizes ascend, dates descend (newest first).
    #[param(inline)]
    order: Option<Order>,
    /// Page size, default 20.
    #[param(schema_with = schema::limit)]
    limit: Option<String>,
    /// `next_cursor` of the previous page (of the same order).
    #[param(schema_with = schema::cursor)]
    cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FolderQuery {
    /// The parent folder; the top of the drive when absent.
    #[param(schema_with = schema::id)]
    parent_id: Option<String>,
}

/// `null` and absent differ here: `null` moves to the top of the drive.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A field that may be left out but not `null`.
pub(crate) fn not_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A rename and/or a move: at least one of the two.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct FilePatch {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(schema_with = schema::file_name)]
    name: Option<String>,
    /// A folder id, or `null` for the top of the drive.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = schema::nullable_id)]
    folder_id: Option<Option<String>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewFolder {
    #[schema(schema_with = schema::file_name, required = true)]
    name: Option<String>,
    /// The parent folder; the top of the drive when absent or `null`.
    #[schema(schema_with = schema::nullable_id)]
    parent_id: Option<String>,
}

/// A rename and/or a move: at least one of the two.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct FolderPatch {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(schema_with = schema::file_name)]
    name: Option<String>,
    /// A folder id, or `null` for the top of the drive.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = schema::nullable_id)]
    parent_id: Option<Option<String>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct InstantBody {
    #[schema(schema_with = schema::sha256, required = true)]
    sha256: Option<String>,
    #[serde(default, deserialize_with = "streamvault_http::number::integer")]
    #[schema(value_type = u64, required = true)]
    size: Option<u64>,
    #[schema(schema_with = schema::file_name, required = true)]
    name: Option<String>,
    /// The folder the file goes to; the top of the drive when absent or `null`.
    #[schema(schema_with = schema::nullable_id)]
    folder_id: Option<String>,
    /// With `proof`: the challenge being answered (hex). Without both, the answer is a challenge.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(value_type = String, pattern = r"^[0-9a-fA-F]*$")]
    nonce: Option<String>,
    /// With `nonce`: hex SHA-256 of the nonce's bytes followed by the challenged range of the
    /// content.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(value_type = String)]
    proof: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChallengeJson {
    offset: u64,
    length: u64,
    nonce: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChallengeBody {
    challenge: ChallengeJson,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ShareBody {
    /// How long the link works, 60 s to 30 days; default one day.
    #[serde(default, deserialize_with = "streamvault_http::number::integer")]
    #[schema(value_type = Option<u64>, minimum = 60, maximum = 2592000)]
    expires_in_secs: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ShareLink {
    /// The absolute link, from the request's host.
    url: String,
    /// The same, as a path on this site.
    path: String,
    expires_at: String,
}

/// A folder named by id; anything that is not one of the caller's folders is not found.
fn folder_ref(raw: Option<&str>) -> Result<Option<FolderId>, Error> {
    raw.map(FolderId::parse).transpose()
}

fn sort_of(q: &ListQuery) -> (FileSort, bool) {
    let sort = match q.sort.unwrap_or(SortKey::Date) {
        SortKey::Name => FileSort::Name,
        SortKey::Date => FileSort::Date,
        SortKey::Size => FileSort::Size,
    };
    let descending = match q.order {
        None => sort == FileSort::Date,
        Some(Order::Asc) => false,
        Some(Order::Desc) => true,
    };
    (sort, descending)
}

const UNAUTH: &str = "No valid session";

/// The caller's files in one folder, paginated.
#[utoipa::path(get, path = "/files", operation_id = "list_files", tag = "drive", params(ListQuery),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = FileList),
        (status = 400, description = "Bad sort, order, limit or cursor", body = ErrorBody),
        (status = 401, description = UNAUTH, body = ErrorBody),
        (status = 404, description = "No such folder", body = ErrorBody),
    ))]
pub async fn list(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<FileList>, ApiError> {
    let (sort, descending) = sort_of(&q);
    let page = streamvault_core::paging::PageRequest::parse(q.limit.as_deref(), None)?;
    let folder = folder_ref(q.folder_id.as_deref())?;
    let l = st.drive.list_folder(&auth.user, folder, sort, descending, page.limit, q.cursor.as_deref()).await?;
    Ok(Json(FileList { files: l.files.into_iter().map(FileJson::from).collect(), next_cursor: l.next_cursor }))
}

/// One of the caller's files.
#[utoipa::path(get, path = "/files/{id}", operation_id = "get_file", tag = "drive",
    params(("id" = String, Path, description = "File id")), security(("session" = []), ("bearer" = [])),
    responses((status = 200, description = "OK", body = FileJson), (status = 401, description = UNAUTH, body = ErrorBody),
        (status = 404, description = "Not one of the caller's files", body = ErrorBody)))]
pub async fn get(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(id): Path<FileId>,
) -> Result<Json<FileJson>, ApiError> {
    Ok(Json(st.drive.get(&auth.user, id).await?.into()))
}

/// Renames and/or moves a file.
#[utoipa::path(patch, path = "/files/{id}", operation_id = "update_file", tag = "drive",
    params(("id" = String, Path, description = "File id")), request_body = FilePatch, security(("session" = []), ("bearer" = [])),
    responses((status = 200, description = "OK", body = FileJson), (status = 400, description = "Bad name", body = ErrorBody),
        (status = 401, description = UNAUTH, body = ErrorBody), (status = 404, description = "No such file or folder", body = ErrorBody)))]
pub async fn update(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    id: Result<Path<FileId>, ApiError>,
    JsonBody(p): JsonBody<FilePatch>,
) -> Result<Json<FileJson>, ApiError> {
    if p.name.is_none() && p.folder_id.is_none() {
        return Err(Error::invalid(ErrorCode::MissingField, "give name, folder_id or both").into());
    }
    let folder_id = match p.folder_id {
        None => None,
        Some(f) => Some(folder_ref(f.as_deref())?),
    };
    // A malformed id is a 404, after what the request itself got wrong.
    let Path(id) = id?;
    let f = st.drive.change_file(&auth.user, id, Change { name: p.name, folder_id }).await?;
    Ok(Json(f.into()))
}

/// Deletes a file: gone at once, its bytes later through the worker.
#[utoipa::path(delete, path = "/files/{id}", operation_id = "delete_file", tag = "drive",
    params(("id" = String, Path, description = "File id")), security(("session" = []), ("bearer" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, description = UNAUTH, body = ErrorBody),
        (status = 404, description = "Not one of the caller's files", body = ErrorBody)))]
pub async fn delete(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(id): Path<FileId>,
) -> Result<StatusCode, ApiError> {
    st.drive.delete_file(&auth.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Instant upload: adds a file whose content the server already has, once the caller proves
/// it has the bytes too.
#[utoipa::path(post, path = "/files/instant", operation_id = "instant_upload", tag = "drive",
    request_body = InstantBody, security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "A challenge to answer", body = ChallengeBody),
        (status = 201, description = "The new file", body = FileJson),
        (status = 400, description = "Missing or malformed field", body = ErrorBody),
        (status = 401, description = UNAUTH, body = ErrorBody),
        (status = 403, description = "Wrong, stale or reused proof", body = ErrorBody),
        (status = 404, description = "Unknown content: upload it normally", body = ErrorBody),
        (status = 413, description = "Over the quota", body = ErrorBody),
    ))]
pub async fn instant(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    JsonBody(b): JsonBody<InstantBody>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let sha256 = b.sha256.ok_or_else(|| Error::missing("sha256"))?;
    let size = b.size.ok_or_else(|| Error::missing("size"))?;
    let name = b.name.ok_or_else(|| Error::missing("name"))?;
    let req = InstantRequest {
        sha256,
        size,
        name,
        folder_id: folder_ref(b.folder_id.as_deref())?,
        nonce: b.nonce,
        proof: b.proof,
    };
    Ok(match st.drive.instant(&auth.user, req).await? {
        Instant::Challenge(InstantChallenge { offset, length, nonce }) => {
            (StatusCode::OK, Json(ChallengeBody { challenge: ChallengeJson { offset, length, nonce } })).into_response()
        }
        Instant::Created(f) => (StatusCode::CREATED, Json(FileJson::from(f))).into_response(),
    })
}

/// A signed, expiring link that downloads the file without a session.
#[utoipa::path(post, path = "/files/{id}/share", operation_id = "share_file", tag = "drive",
    params(("id" = String, Path, description = "File id")), request_body = ShareBody, security(("session" = []), ("bearer" = [])),
    responses((status = 201, description = "The link", body = ShareLink), (status = 400, description = "Bad expiry", body = ErrorBody),
        (status = 401, description = UNAUTH, body = ErrorBody), (status = 404, description = "Not one of the caller's files", body = ErrorBody)))]
pub async fn share(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    id: Result<Path<FileId>, ApiError>,
    Client(client): Client,
    headers: HeaderMap,
    JsonBody(b): JsonBody<ShareBody>,
) -> Result<(StatusCode, Json<ShareLink>), ApiError> {
    // A malformed id is a 404, after what the request itself got wrong.
    let Path(id) = id?;
    let f = st.drive.get(&auth.user, id).await?;
    let ttl = b.expires_in_secs.unwrap_or(24 * 3600);
    if !(60..=MAX_TTL_SECS).contains(&ttl) {
        return Err(Error::invalid(ErrorCode::BadExpiry, format!("expires_in_secs is 60 to {MAX_TTL_SECS}")).into());
    }
    let expires = chrono::Utc::now() + chrono::Duration::seconds(i64::try_from(ttl).unwrap_or(0));
    let path = streamvault_http::urls::shared(&st.shares.sign(f.id, expires));
    // The origin the client reached us at (through trusted proxies: the public one).
    let base = client.and_then(|c| c.base_url()).unwrap_or_else(|| {
        let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        format!("http://{host}")
    });
    let link = ShareLink { url: format!("{base}{path}"), path, expires_at: expires.to_rfc3339() };
    Ok((StatusCode::CREATED, Json(link)))
}

/// The folders directly inside a folder (or at the top), by name.
#[utoipa::path(get, path = "/folders", operation_id = "list_folders", tag = "drive", params(FolderQuery),
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, description = "OK", body = FolderList), (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = UNAUTH, body = ErrorBody), (status = 404, description = "No such folder", body = ErrorBody)))]
pub async fn folders(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    QueryParams(q): QueryParams<FolderQuery>,
) -> Result<Json<FolderList>, ApiError> {
    let list = st.drive.folders_in(&auth.user, folder_ref(q.parent_id.as_deref())?).await?;
    Ok(Json(FolderList { folders: list.into_iter().map(FolderJson::from).collect() }))
}

/// Creates a folder.
#[utoipa::path(post, path = "/folders", operation_id = "create_folder", tag = "drive", request_body = NewFolder,
    security(("session" = []), ("bearer" = [])),
    responses((status = 201, description = "Created", body = FolderJson), (status = 400, description = "Bad name", body = ErrorBody),
        (status = 401, description = UNAUTH, body = ErrorBody), (status = 404, description = "No such parent", body = ErrorBody)))]
pub async fn create_folder(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    JsonBody(b): JsonBody<NewFolder>,
) -> Result<(StatusCode, Json<FolderJson>), ApiError> {
    let name = b.name.ok_or_else(|| Error::missing("name"))?;
    let f = st.drive.create_folder(&auth.user, &name, folder_ref(b.parent_id.as_deref())?).await?;
    Ok((StatusCode::CREATED, Json(f.into())))
}

/// Renames and/or moves a folder.
#[utoipa::path(patch, path = "/folders/{id}", operation_id = "update_folder", tag = "drive",
    params(("id" = String, Path, description = "Folder id")), request_body = FolderPatch, security(("session" = []), ("bearer" = [])),
    responses((status = 200, description = "OK", body = FolderJson), (status = 400, description = "Bad name", body = ErrorBody),
        (status = 401, description = UNAUTH, body = ErrorBody), (status = 404, description = "No such folder", body = ErrorBody),
        (status = 409, description = "Into itself or below itself", body = ErrorBody)))]
pub async fn update_folder(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    id: Result<Path<FolderId>, ApiError>,
    JsonBody(p): JsonBody<FolderPatch>,
) -> Result<Json<FolderJson>, ApiError> {
    if p.name.is_none() && p.parent_id.is_none() {
        return Err(Error::invalid(ErrorCode::MissingField, "give name, parent_id or both").into());
    }
    let parent = match p.parent_id {
        None => None,
        Some(f) => Some(folder_ref(f.as_deref())?),
    };
    // A malformed id is a 404, after what the request itself got wrong.
    let Path(id) = id?;
    let f = st.drive.change_folder(&auth.user, id, Change { name: p.name, folder_id: parent }).await?;
    Ok(Json(f.into()))
}

/// Deletes a folder with everything in it.
#[utoipa::path(delete, path = "/folders/{id}", operation_id = "delete_folder", tag = "drive",
    params(("id" = String, Path, description = "Folder id")), security(("session" = []), ("bearer" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, description = UNAUTH, body = ErrorBody),
        (status = 404, description = "No such folder", body = ErrorBody)))]
pub async fn delete_folder(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(id): Path<FolderId>,
) -> Result<StatusCode, ApiError> {
    st.drive.delete_folder(&auth.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
