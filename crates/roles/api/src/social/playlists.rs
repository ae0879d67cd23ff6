//! Playlists: the caller's own (with the built-in "Favorites" and "Watch later"), and anyone's
//! public or unlisted ones.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use streamvault_core::ids::{PlaylistId, VideoId};
use streamvault_core::paging::{Page, PageRequest};
use streamvault_core::social::{Playlist, PlaylistEntry, PlaylistPatch, PlaylistVisibility};
use streamvault_core::{Error, ErrorCode};
use streamvault_http::auth::MaybeAuth;
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::{ApiError, Auth, JsonBody, QueryParams, schema};
use utoipa::openapi::Object;
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};

use crate::ApiState;
use crate::videos::{PageParams, VideoJson};

/// Who may see a playlist.
#[derive(Serialize, Deserialize, utoipa::ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// The owner alone.
    Private,
    /// Anyone with its link; not listed on the channel.
    Unlisted,
    /// Anyone, and listed on the channel.
    Public,
}

impl From<Visibility> for PlaylistVisibility {
    fn from(v: Visibility) -> Self {
        match v {
            Visibility::Private => PlaylistVisibility::Private,
            Visibility::Unlisted => PlaylistVisibility::Unlisted,
            Visibility::Public => PlaylistVisibility::Public,
        }
    }
}

impl From<PlaylistVisibility> for Visibility {
    fn from(v: PlaylistVisibility) -> Self {
        match v {
            PlaylistVisibility::Private => Visibility::Private,
            PlaylistVisibility::Unlisted => Visibility::Unlisted,
            PlaylistVisibility::Public => Visibility::Public,
        }
    }
}

fn name_schema() -> Object {
    schema::text_of(streamvault_core::social::MAX_PLAYLIST_NAME)
}

fn description_schema() -> Object {
    schema::optional_text_of(streamvault_core::social::MAX_PLAYLIST_DESCRIPTION)
}

fn position_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Integer))
        .minimum(Some(0))
        .maximum(Some(streamvault_core::social::MAX_PLAYLIST_ITEMS as f64))
        .build()
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlaylistJson {
    id: String,
    owner: String,
    owner_id: String,
    /// `favorites` or `watch_later` for the built-in ones (which cannot be renamed or
    /// deleted); null for the user's own.
    builtin: Option<&'static str>,
    name: String,
    description: String,
    visibility: Visibility,
    created_at: String,
    updated_at: String,
    /// Videos the caller may see in it (on a single playlist's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    video_count: Option<u64>,
    /// Whether it holds the video named by `?video=` (on the caller's list).
    #[serde(skip_serializing_if = "Option::is_none")]
    holds_video: Option<bool>,
}

impl From<Playlist> for PlaylistJson {
    fn from(p: Playlist) -> Self {
        PlaylistJson {
            id: p.id.to_string(),
            owner: p.owner_name,
            owner_id: p.owner_id.to_string(),
            builtin: p.builtin.map(|b| b.as_str()),
            name: p.name,
            description: p.description,
            visibility: p.visibility.into(),
            created_at: p.created_at.to_rfc3339(),
            updated_at: p.updated_at.to_rfc3339(),
            video_count: None,
            holds_video: None,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlaylistList {
    playlists: Vec<PlaylistJson>,
    next_cursor: Option<String>,
}

impl From<Page<Playlist>> for PlaylistList {
    fn from(p: Page<Playlist>) -> Self {
        PlaylistList {
            next_cursor: p.next.map(|c| c.encode()),
            playlists: p.items.into_iter().map(PlaylistJson::from).collect(),
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyListParams {
    /// Say for each playlist whether it holds this video (for "save to playlist").
    #[param(schema_with = schema::id)]
    video: Option<String>,
    #[param(schema_with = schema::limit)]
    limit: Option<String>,
    #[param(schema_with = schema::cursor)]
    cursor: Option<String>,
}

/// The caller's playlists, the built-in ones first.
#[utoipa::path(get, path = "/me/playlists", operation_id = "my_playlists", tag = "social",
    params(MyListParams), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = PlaylistList),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 404, description = "`video` names no video the caller may see", body = ErrorBody),
    ))]
pub async fn mine(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    QueryParams(p): QueryParams<MyListParams>,
) -> Result<Json<PlaylistList>, ApiError> {
    let page = PageRequest::parse(p.limit.as_deref(), p.cursor.as_deref())?;
    let video = p.video.as_deref().map(|v| v.parse::<VideoId>()).transpose()?;
    let holding = match video {
        Some(v) => {
            st.videos.get(Some(&auth.user), v).await?;
            Some(st.social.playlists_holding(&auth.user, v).await?)
        }
        None => None,
    };
    let listed = st.social.my_playlists(&auth.user, page).await?;
    let next_cursor = listed.next.map(|c| c.encode());
    let playlists = listed
        .items
        .into_iter()
        .map(|p| {
            let holds = holding.as_ref().map(|h| h.contains(&p.id));
            PlaylistJson { holds_video: holds, ..PlaylistJson::from(p) }
        })
        .collect();
    Ok(Json(PlaylistList { playlists, next_cursor }))
}

/// A channel's public playlists.
#[utoipa::path(get, path = "/channels/{name}/playlists", operation_id = "channel_playlists", tag = "social",
    params(("name" = String, Path, description = "User name"), PageParams),
    responses(
        (status = 200, description = "OK", body = PlaylistList),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn of_channel(
    State(st): State<ApiState>,
    Path(name): Path<String>,
    QueryParams(page): QueryParams<PageParams>,
) -> Result<Json<PlaylistList>, ApiError> {
    Ok(Json(st.social.channel_playlists(&name, page.parse()?).await?.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlaylist {
    #[serde(default, deserialize_with = "crate::files::not_null")]
    #[schema(schema_with = name_schema, required = true)]
    name: Option<String>,
    #[serde(default, deserialize_with = "crate::files::not_null")]
    #[schema(schema_with = description_schema)]
    description: Option<String>,
    /// `private` unless given.
    #[serde(default, deserialize_with = "crate::files::not_null")]
    #[schema(nullable = false)]
    visibility: Option<Visibility>,
}

/// Makes a playlist (at most 200 per user besides the built-in ones).
#[utoipa::path(post, path = "/me/playlists", operation_id = "create_playlist", tag = "social",
    request_body = NewPlaylist, security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = PlaylistJson),
        (status = 400, description = "Bad JSON or field", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 409, description = "The caller has as many playlists as they may (`limit_reached`)", body = ErrorBody),
        (status = 413, description = "A body over the JSON limit", body = ErrorBody),
    ))]
pub async fn create(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<NewPlaylist>,
) -> Result<impl IntoResponse, ApiError> {
    let name = body.name.ok_or_else(|| Error::missing("name"))?;
    let visibility = body.visibility.unwrap_or(Visibility::Private).into();
    let p = st.social.create_playlist(&auth.user, &name, body.description.as_deref().unwrap_or(""), visibility).await?;
    Ok((StatusCode::CREATED, Json(PlaylistJson { video_count: Some(0), ..PlaylistJson::from(p) })))
}

/// A playlist: public and unlisted ones to anyone, private ones to their owner.
#[utoipa::path(get, path = "/playlists/{id}", operation_id = "get_playlist", tag = "social",
    params(("id" = String, Path, description = "Playlist id")), security((), ("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = PlaylistJson),
        (status = 404, description = "No playlist the caller may see", body = ErrorBody),
    ))]
pub async fn get(
    State(st): State<ApiState>,
    MaybeAuth(auth): MaybeAuth,
    Path(id): Path<PlaylistId>,
) -> Result<Json<PlaylistJson>, ApiError> {
    let viewer = auth.map(|a| a.user);
    let view = st.social.playlist(viewer.as_ref(), id).await?;
    Ok(Json(PlaylistJson { video_count: Some(view.video_count), ..PlaylistJson::from(view.playlist) }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlaylistItemJson {
    video: VideoJson,
    added_at: String,
}

impl From<PlaylistEntry> for PlaylistItemJson {
    fn from(e: PlaylistEntry) -> Self {
        PlaylistItemJson { video: e.video.into(), added_at: e.added_at.to_rfc3339() }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlaylistItems {
    /// In the playlist's order; only the videos the caller may see.
    items: Vec<PlaylistItemJson>,
    next_cursor: Option<String>,
}

/// A playlist's videos in order (those the caller may see: a deleted one leaves no hole).
#[utoipa::path(get, path = "/playlists/{id}/items", operation_id = "playlist_items", tag = "social",
    params(("id" = String, Path, description = "Playlist id"), PageParams), security((), ("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = PlaylistItems),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 404, description = "No playlist the caller may see", body = ErrorBody),
    ))]
pub async fn items(
    State(st): State<ApiState>,
    MaybeAuth(auth): MaybeAuth,
    id: Result<Path<PlaylistId>, ApiError>,
    QueryParams(page): QueryParams<PageParams>,
) -> Result<Json<PlaylistItems>, ApiError> {
    let page = page.parse()?;
    let Path(id) = id?;
    let viewer = auth.map(|a| a.user);
    let listed = st.social.playlist_items(viewer.as_ref(), id, page).await?;
    Ok(Json(PlaylistItems {
        next_cursor: listed.next.map(|c| c.encode()),
        items: listed.items.into_iter().map(PlaylistItemJson::from).collect(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct PatchPlaylist {
    #[serde(default, deserialize_with = "crate::files::not_null")]
    #[schema(schema_with = name_schema)]
    name: Option<String>,
    #[serde(default, deserialize_with = "crate::files::not_null")]
    #[schema(schema_with = description_schema)]
    description: Option<String>,
    #[serde(default, deserialize_with = "crate::files::not_null")]
    #[schema(nullable = false)]
    visibility: Option<Visibility>,
}

/// Renames a playlist, changes its description or who may see it (a built-in one: only who
/// may see it).
#[utoipa::path(patch, path = "/me/playlists/{id}", operation_id = "update_playlist", tag = "social",
    params(("id" = String, Path, description = "Playlist id")), request_body = PatchPlaylist,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = PlaylistJson),
        (status = 400, description = "Bad JSON or field", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Another user's playlist", body = ErrorBody),
        (status = 404, description = "No playlist the caller may see", body = ErrorBody),
        (status = 409, description = "A built-in playlist's name (`builtin_playlist`)", body = ErrorBody),
        (status = 413, description = "A body over the JSON limit", body = ErrorBody),
    ))]
pub async fn update(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    id: Result<Path<PlaylistId>, ApiError>,
    JsonBody(body): JsonBody<PatchPlaylist>,
) -> Result<Json<PlaylistJson>, ApiError> {
    let Path(id) = id?;
    if body.name.is_none() && body.description.is_none() && body.visibility.is_none() {
        return Err(Error::invalid(ErrorCode::MissingField, "give name, description or visibility").into());
    }
    let patch =
        PlaylistPatch { name: body.name, description: body.description, visibility: body.visibility.map(Into::into) };
    Ok(Json(st.social.update_playlist(&auth.user, id, patch).await?.into()))
}

/// Deletes one of the caller's playlists (not a built-in one); the videos stay.
#[utoipa::path(delete, path = "/me/playlists/{id}", operation_id = "delete_playlist", tag = "social",
    params(("id" = String, Path, description = "Playlist id")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Another user's playlist", body = ErrorBody),
        (status = 404, description = "No playlist the caller may see", body = ErrorBody),
        (status = 409, description = "A built-in playlist (`builtin_playlist`)", body = ErrorBody),
    ))]
pub async fn delete(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(id): Path<PlaylistId>,
) -> Result<StatusCode, ApiError> {
    st.social.delete_playlist(&auth.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where to put a video in a playlist.
#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PutItem {
    /// 0-based place among the playlist's videos (at most the item limit, 5000); past the end
    /// puts it last. Without it, a new
    /// video goes last and one already there stays where it is.
    #[serde(default, deserialize_with = "streamvault_http::number::present_integer")]
    #[schema(schema_with = position_schema)]
    position: Option<u64>,
}

/// Puts a video in one of the caller's playlists (idempotent), or moves it.
#[utoipa::path(put, path = "/me/playlists/{id}/items/{vid}", operation_id = "put_playlist_item", tag = "social",
    params(("id" = String, Path, description = "Playlist id"), ("vid" = String, Path, description = "Video id")),
    request_body(content = Option<PutItem>, description = "Optional: where to put it"),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Added"),
        (status = 204, description = "It was there (moved if asked)"),
        (status = 400, description = "Bad JSON or position", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Another user's playlist", body = ErrorBody),
        (status = 404, description = "No playlist or video the caller may see", body = ErrorBody),
        (status = 409, description = "The playlist is full (`limit_reached`)", body = ErrorBody),
        (status = 413, description = "A body over the JSON limit", body = ErrorBody),
    ))]
pub async fn put_item(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    ids: Result<Path<(PlaylistId, VideoId)>, ApiError>,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    // The body is optional: none (or empty) puts the video last.
    let position = match body.trim_ascii() {
        // JSON `null` says nothing either.
        b"" | b"null" => None,
        json => streamvault_http::json::parse::<PutItem>(json)?.position,
    };
    let Path((id, vid)) = ids?;
    let added = st.social.put_item(&auth.user, id, vid, position).await?;
    Ok(if added { StatusCode::CREATED } else { StatusCode::NO_CONTENT })
}

/// Takes a video out of one of the caller's playlists.
#[utoipa::path(delete, path = "/me/playlists/{id}/items/{vid}", operation_id = "remove_playlist_item", tag = "social",
    params(("id" = String, Path, description = "Playlist id"), ("vid" = String, Path, description = "Video id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Another user's playlist", body = ErrorBody),
        (status = 404, description = "No such playlist, or the video is not in it", body = ErrorBody),
    ))]
pub async fn remove_item(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path((id, vid)): Path<(PlaylistId, VideoId)>,
) -> Result<StatusCode, ApiError> {
    st.social.remove_item(&auth.user, id, vid).await?;
    Ok(StatusCode::NO_CONTENT)
}
