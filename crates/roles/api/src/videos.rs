//! The seed's video resources under `/user/{name}/videos`, plus discovery and channels.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use streamvault_core::Error;
use streamvault_core::ErrorCode;
use streamvault_core::accounts::username_key;
use streamvault_core::ids::VideoId;
use streamvault_core::paging::{Page, PageRequest};
use streamvault_core::ports::Scope;
use streamvault_core::videos::{Video, VideoPatch, VideoSort};
use streamvault_http::auth::MaybeAuth;
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::urls::VideoUrls;
use streamvault_http::{ApiError, Auth, JsonBody, QueryParams, schema};

use crate::{ApiState, kept};

/// The seed's `display_ctime` format (Go's `Jan 02 2006, 15:04:05`), in UTC.
const DISPLAY_CTIME: &str = "%b %d %Y, %H:%M:%S";

#[derive(Serialize, utoipa::ToSchema)]
pub struct VideoJson {
    id: String,
    author_id: String,
    author: String,
    name: String,
    description: String,
    /// The seed's display time, e.g. `Nov 21 2026, 23:33:53` (UTC).
    display_ctime: String,
    created_at: String,
    updated_at: String,
    /// `created` (no bytes yet), `uploaded`, `processing`, `ready` or `failed`.
    #[schema(value_type = String, example = "ready")]
    status: &'static str,
    views: i64,
    likes: i64,
    dislikes: i64,
    /// From probing the original; null until then.
    duration_ms: Option<u64>,
    width: Option<u32>,
    height: Option<u32>,
    /// Why processing failed (`status: failed`), for the owner.
    failure_reason: Option<String>,
    /// How far processing is, 0–100 (100 once the HLS ladder is stored).
    progress: u8,
    /// The poster (JPEG); null until made.
    thumbnail_url: Option<String>,
    /// WebVTT cues pointing into a sprite of frames, for seek previews; null until made.
    storyboard_url: Option<String>,
    /// The HLS master playlist (adaptive, fMP4); null until transcoded. The original plays at
    /// `/stream/v1/videos/{id}` throughout.
    hls_url: Option<String>,
}

impl From<Video> for VideoJson {
    fn from(v: Video) -> Self {
        let (thumbnail_url, storyboard_url, hls_url) = (v.thumbnail_url(), v.storyboard_url(), v.hls_url());
        VideoJson {
            progress: v.outputs.progress,
            thumbnail_url,
            storyboard_url,
            hls_url,
            id: v.id.to_string(),
            author_id: v.author_id.to_string(),
            author: v.author_name,
            name: v.name,
            description: v.description,
            display_ctime: v.created_at.format(DISPLAY_CTIME).to_string(),
            created_at: v.created_at.to_rfc3339(),
            updated_at: v.updated_at.to_rfc3339(),
            status: v.status.as_str(),
            views: v.views,
            likes: v.likes,
            dislikes: v.dislikes,
            duration_ms: v.media.duration_ms,
            width: v.media.width,
            height: v.media.height,
            failure_reason: v.media.failure_reason,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VideoList {
    videos: Vec<VideoJson>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

impl From<Page<Video>> for VideoList {
    fn from(p: Page<Video>) -> Self {
        VideoList {
            next_cursor: p.next.map(|c| c.encode()),
            videos: p.items.into_iter().map(VideoJson::from).collect(),
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size (default 20).
    #[param(schema_with = schema::limit)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(schema_with = schema::cursor)]
    cursor: Option<String>,
}

impl PageParams {
    pub fn parse(&self) -> Result<PageRequest, Error> {
        PageRequest::parse(self.limit.as_deref(), self.cursor.as_deref())
    }
}

/// The seed's `NewVideo`; its `author_id` is ignored: the author is the session's user.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewVideo {
    /// The title.
    #[schema(schema_with = schema::title, required = true)]
    name: Option<String>,
    #[schema(schema_with = schema::description_or_null)]
    description: Option<String>,
}

/// Creates a video (metadata only; bytes go to the stream role). The author is the session's user.
#[utoipa::path(post, path = "/user/{name}/videos", operation_id = "create_video", tag = "videos", request_body = NewVideo,
    params(("name" = String, Path, description = "User name")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = VideoJson),
        (status = 400, description = "Bad request", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "The path names another user", body = ErrorBody),
    ))]
pub async fn create(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<NewVideo>,
) -> Result<impl IntoResponse, ApiError> {
    crate::accounts::own_name(&auth.user, &name)?;
    let title = body.name.ok_or_else(|| Error::missing("name"))?;
    let video = st.videos.create(&auth.user, &title, body.description.as_deref().unwrap_or("")).await?;
    Ok((StatusCode::CREATED, Json(VideoJson::from(video))))
}

/// A user's videos, newest first. Anyone sees the public ones; the owner sees all.
#[utoipa::path(get, path = "/user/{name}/videos", operation_id = "list_user_videos", tag = "videos",
    params(("name" = String, Path, description = "User name"), PageParams), security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "OK", body = VideoList), (status = 400, description = "Bad request", body = ErrorBody), (status = 404, description = "No such user", body = ErrorBody)))]
pub async fn list(
    State(st): State<ApiState>,
    MaybeAuth(viewer): MaybeAuth,
    headers: HeaderMap,
    Path(name): Path<String>,
    QueryParams(page): QueryParams<PageParams>,
) -> Result<Response, ApiError> {
    let viewer = viewer.map(|a| a.user);
    let page = page.parse()?;
    let (page_key, channel) = (kept::page_key(&page), username_key(&name));
    match viewer.filter(|v| username_key(&v.name) == channel) {
        // The owner's list holds what only they see: kept under a key only they reach.
        Some(owner) => {
            let key = format!("channel-owner:{channel}:{page_key}");
            let build = async { Ok(VideoList::from(st.videos.list_by_author(Some(&owner), &name, page).await?)) };
            kept::serve_own(&st, &headers, key, &[Scope::Videos], build).await
        }
        None => {
            let key = format!("channel:{channel}:{page_key}");
            let (videos, name) = (&st.videos, &name);
            kept::serve(&st, &headers, key, &[Scope::Videos], None, |_| async move {
                Ok(VideoList::from(videos.list_by_author(None, name, page).await?))
            })
            .await
        }
    }
}

/// One video.
#[utoipa::path(get, path = "/user/{name}/videos/{vid}", operation_id = "get_video", tag = "videos",
    params(("name" = String, Path, description = "User name"), ("vid" = String, Path, description = "Video id")), security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "OK", body = VideoJson), (status = 404, description = "Not found", body = ErrorBody)))]
pub async fn get(
    State(st): State<ApiState>,
    MaybeAuth(viewer): MaybeAuth,
    headers: HeaderMap,
    Path((name, vid)): Path<(String, VideoId)>,
) -> Result<Response, ApiError> {
    let viewer = viewer.map(|a| a.user);
    let key = format!("video:{}:{vid}", username_key(&name));
    let (videos, name) = (&st.videos, &name);
    kept::serve(&st, &headers, key, &[Scope::Video(vid)], viewer, |viewer| async move {
        Ok(VideoJson::from(videos.get_by_author(viewer.as_ref(), name, vid).await?))
    })
    .await
}

/// A new title and/or description: at least one of the two.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct PatchVideo {
    #[serde(default, deserialize_with = "crate::files::not_null")]
    #[schema(schema_with = schema::title)]
    name: Option<String>,
    #[serde(default, deserialize_with = "crate::files::not_null")]
    #[schema(schema_with = schema::description)]
    description: Option<String>,
}

/// Changes the title or description; owner only.
#[utoipa::path(patch, path = "/user/{name}/videos/{vid}", operation_id = "update_video", tag = "videos", request_body = PatchVideo,
    params(("name" = String, Path, description = "User name"), ("vid" = String, Path, description = "Video id")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = VideoJson),
        (status = 400, description = "Bad request", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
    ))]
pub async fn update(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path((name, vid)): Path<(String, VideoId)>,
    JsonBody(body): JsonBody<PatchVideo>,
) -> Result<Json<VideoJson>, ApiError> {
    crate::accounts::own_name(&auth.user, &name)?;
    if body.name.is_none() && body.description.is_none() {
        return Err(Error::invalid(ErrorCode::MissingField, "give name, description or both").into());
    }
    let patch = VideoPatch { name: body.name, description: body.description };
    Ok(Json(st.videos.update(&auth.user, &name, vid, patch).await?.into()))
}

/// Deletes a video: gone from every read at once; its bytes are removed later by the worker.
#[utoipa::path(delete, path = "/user/{name}/videos/{vid}", operation_id = "delete_video", tag = "videos",
    params(("name" = String, Path, description = "User name"), ("vid" = String, Path, description = "Video id")), security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
    ))]
pub async fn delete(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path((name, vid)): Path<(String, VideoId)>,
) -> Result<StatusCode, ApiError> {
    crate::accounts::own_name(&auth.user, &name)?;
    st.videos.delete(&auth.user, &name, vid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How discovery orders videos.
#[derive(Deserialize, utoipa::ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DiscoverSort {
    /// Newest first (the default).
    Latest,
    /// Most viewed first.
    Popular,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiscoverParams {
    #[param(inline)]
    sort: Option<DiscoverSort>,
    /// Search in titles and descriptions, ignoring case.
    #[param(schema_with = schema::query)]
    q: Option<String>,
    /// Page size (default 20).
    #[param(schema_with = schema::limit)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page (of the same sort).
    #[param(schema_with = schema::cursor)]
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChannelJson {
    id: String,
    user_name: String,
    created_at: String,
    /// Public, live videos.
    video_count: u64,
    followers: u64,
    /// How many channels this user follows.
    following_count: u64,
    /// The caller follows this channel (false when signed out).
    following: bool,
}

/// Public videos of everyone, for the home page and search.
#[utoipa::path(get, path = "/videos", operation_id = "discover_videos", tag = "videos",
    params(DiscoverParams),
    responses((status = 200, description = "OK", body = VideoList), (status = 400, description = "Bad request", body = ErrorBody)))]
pub async fn discover(
    State(st): State<ApiState>,
    headers: HeaderMap,
    QueryParams(p): QueryParams<DiscoverParams>,
) -> Result<Response, ApiError> {
    let sort = match p.sort {
        None | Some(DiscoverSort::Latest) => VideoSort::Latest,
        Some(DiscoverSort::Popular) => VideoSort::Popular,
    };
    let page = PageRequest::parse(p.limit.as_deref(), p.cursor.as_deref())?;
    let q = p.q.as_deref();
    // The query as given (a key only names the read; a too-long one fails before it is kept).
    let key = format!("discover:{sort:?}:{}:{}", kept::page_key(&page), q.unwrap_or(""));
    let videos = &st.videos;
    kept::serve(&st, &headers, key, &[Scope::Videos], None, |_| async move {
        Ok(VideoList::from(videos.discover(sort, q, page).await?))
    })
    .await
}

/// A user's public channel.
#[utoipa::path(get, path = "/channels/{name}", operation_id = "get_channel", tag = "videos",
    params(("name" = String, Path, description = "User name")), security((), ("session" = []), ("bearer" = [])),
    responses((status = 200, description = "OK", body = ChannelJson), (status = 404, description = "Not found", body = ErrorBody)))]
pub async fn channel(
    State(st): State<ApiState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(name): Path<String>,
) -> Result<Json<ChannelJson>, ApiError> {
    let ch = st.videos.channel(&name).await?;
    let viewer = viewer.map(|a| a.user);
    let (counts, following) = st.social.follow_state(viewer.as_ref(), ch.user.id).await?;
    Ok(Json(ChannelJson {
        followers: counts.followers,
        following_count: counts.following,
        following,
        id: ch.user.id.to_string(),
        user_name: ch.user.name,
        created_at: ch.user.created_at.to_rfc3339(),
        video_count: ch.video_count,
    }))
}
