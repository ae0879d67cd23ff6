//! Bullet comments (弹幕) of a video: read by segment of video time, posted by viewers,
//! taken back by their author or hidden by the video's owner, turned off per video.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use streamvault_core::Error;
use streamvault_core::ids::{DanmakuId, VideoId};
use streamvault_core::live::{Exported, MAX_BLOCKED_WORDS, MAX_WORD_CHARS, Meta, PER_SEGMENT, Post, SEGMENT_MS, Shown};
use streamvault_http::auth::MaybeAuth;
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::validated::validated;
use streamvault_http::{ApiError, Auth, JsonBody, QueryParams};

use crate::ApiState;

/// One bullet comment as viewers see it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DanmakuJson {
    id: String,
    /// The moment of the video, in milliseconds.
    t_ms: u64,
    #[schema(example = "scroll")]
    mode: String,
    /// 24-bit RGB.
    color: u32,
    #[schema(example = "normal")]
    size: String,
    text: String,
    /// The sender, as a pseudonym that is the same within this video and says nothing else.
    sender: String,
}

impl From<Shown> for DanmakuJson {
    fn from(s: Shown) -> Self {
        DanmakuJson {
            id: s.id.to_string(),
            t_ms: s.t_ms,
            mode: s.mode.to_owned(),
            color: s.color,
            size: s.size.to_owned(),
            text: s.text,
            sender: s.sender,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DanmakuSegment {
    /// Ordered by `t_ms`; when a segment holds more than 3000, the most recent.
    danmaku: Vec<DanmakuJson>,
    segment: u64,
    segment_ms: u64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SegmentQuery {
    /// Which six minutes of the video: `[segment·segment_ms, (segment+1)·segment_ms)` (default 0).
    #[param(minimum = 0)]
    segment: Option<i64>,
}

/// One segment of a video's bullet comments. The `ETag` changes when the segment does.
#[utoipa::path(get, path = "/videos/{vid}/danmaku", operation_id = "list_danmaku", tag = "live",
    security((), ("session" = []), ("bearer" = [])),
    params(("vid" = String, Path, description = "Video id"), SegmentQuery,
        ("If-None-Match" = Option<String>, Header, description = "The segment's ETag from an earlier answer")),
    responses(
        (status = 200, description = "OK", body = DanmakuSegment, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 400, description = "A bad segment number", body = ErrorBody),
        (status = 404, description = "A video the caller cannot play", body = ErrorBody),
        (status = 503, description = "The database is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn segment(
    State(st): State<ApiState>,
    MaybeAuth(auth): MaybeAuth,
    Path(vid): Path<VideoId>,
    QueryParams(q): QueryParams<SegmentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = auth.map(|a| a.user);
    let n = u64::try_from(q.segment.unwrap_or(0))
        .map_err(|_| Error::invalid(streamvault_core::ErrorCode::BadQuery, "segment is 0 or more"))?;
    let list = st.bullets.segment(user.as_ref(), vid, n).await?;
    let body =
        DanmakuSegment { danmaku: list.into_iter().map(Into::into).collect(), segment: n, segment_ms: SEGMENT_MS };
    // Revalidated every time: a post changes the segment.
    Ok(validated(&headers, "application/json", serde_json::to_vec(&body).map_err(Error::internal)?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DanmakuMeta {
    /// Whether the owner left bullet comments on.
    enabled: bool,
    /// Visible bullet comments.
    count: u64,
    segment_ms: u64,
    /// Segments the video spans.
    segments: u64,
}

impl From<Meta> for DanmakuMeta {
    fn from(m: Meta) -> Self {
        DanmakuMeta { enabled: m.enabled, count: m.count, segment_ms: m.segment_ms, segments: m.segments }
    }
}

/// A video's bullet comments at a glance: on or off, how many, how the segments fall.
#[utoipa::path(get, path = "/videos/{vid}/danmaku/meta", operation_id = "danmaku_meta", tag = "live",
    security((), ("session" = []), ("bearer" = [])),
    params(("vid" = String, Path, description = "Video id")),
    responses(
        (status = 200, description = "OK", body = DanmakuMeta),
        (status = 404, description = "A video the caller cannot play", body = ErrorBody),
        (status = 503, description = "The database is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn meta(
    State(st): State<ApiState>,
    MaybeAuth(auth): MaybeAuth,
    Path(vid): Path<VideoId>,
) -> Result<Json<DanmakuMeta>, ApiError> {
    let user = auth.map(|a| a.user);
    Ok(Json(st.bullets.meta(user.as_ref(), vid).await?.into()))
}

/// Characters a bullet comment (or a blocked word) may hold: none of those that draw nothing or
/// break the line or its direction, and at least one that is not a space (the rest of the rule,
/// on combining marks and characters beyond the BMP, no JSON Schema pattern states).
fn one_line_pattern() -> String {
    let class: String = streamvault_core::live::line::UNSEEN_BMP
        .iter()
        .map(|&(a, b)| if a == b { format!("\\u{a:04X}") } else { format!("\\u{a:04X}-\\u{b:04X}") })
        .collect();
    format!("^[^{class}]*[^\\s{class}][^{class}]*$")
}

fn one_line(max: usize) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(one_line_pattern()))
        .build()
}

fn text_schema() -> utoipa::openapi::Object {
    one_line(streamvault_core::live::MAX_CHARS)
}

fn words_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(one_line(MAX_WORD_CHARS))
        .max_items(Some(MAX_BLOCKED_WORDS))
        .build()
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PostDanmaku {
    /// The moment of the video, in milliseconds (within its length, and at most 24 hours).
    #[schema(maximum = 86400000)]
    t_ms: u64,
    /// `scroll` (default), `top` or `bottom`.
    #[schema(pattern = "^(scroll|top|bottom)$")]
    mode: Option<String>,
    /// 24-bit RGB (default white, 16777215).
    #[schema(maximum = 16777215)]
    color: Option<u32>,
    /// `small`, `normal` (default) or `large`.
    #[schema(pattern = "^(small|normal|large)$")]
    size: Option<String>,
    /// 1 to 100 characters on one visible line, kept as sent: not only spaces, and no control,
    /// zero-width, direction or separator characters.
    #[schema(schema_with = text_schema)]
    text: String,
}

/// Posts a bullet comment at a moment of the video; every viewer on every replica gets it.
#[utoipa::path(post, path = "/videos/{vid}/danmaku", operation_id = "post_danmaku", tag = "live",
    security(("session" = []), ("bearer" = [])),
    params(("vid" = String, Path, description = "Video id")),
    request_body = PostDanmaku,
    responses(
        (status = 201, description = "Posted", body = DanmakuJson),
        (status = 400, description = "Text outside 1..100 characters or with control characters, a moment outside the video, an unknown mode or size, a colour out of range, bad JSON", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "The owner turned bullet comments off for this video", body = ErrorBody),
        (status = 404, description = "A video the caller cannot play", body = ErrorBody),
        (status = 413, description = "A body over the JSON limit", body = ErrorBody),
        (status = 429, description = "One bullet comment per 3 s, and 1000 a day; see Retry-After", body = ErrorBody),
        (status = 503, description = "The database is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn post(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(vid): Path<VideoId>,
    JsonBody(b): JsonBody<PostDanmaku>,
) -> Result<(StatusCode, Json<DanmakuJson>), ApiError> {
    let p = Post { t_ms: b.t_ms, mode: b.mode, color: b.color, size: b.size, text: b.text };
    Ok((StatusCode::CREATED, Json(st.bullets.post(&auth.user, vid, p).await?.into())))
}

/// Takes a bullet comment back (its author, within two minutes) or hides it (the video's owner).
#[utoipa::path(delete, path = "/videos/{vid}/danmaku/{id}", operation_id = "delete_danmaku", tag = "live",
    security(("session" = []), ("bearer" = [])),
    params(("vid" = String, Path, description = "Video id"), ("id" = String, Path, description = "Bullet comment id")),
    responses(
        (status = 204, description = "Gone (taken back) or hidden (by the owner)"),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Neither its author within two minutes nor the video's owner", body = ErrorBody),
        (status = 404, description = "No such bullet comment on a video the caller can play", body = ErrorBody),
        (status = 503, description = "The database is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn delete(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path((vid, id)): Path<(VideoId, DanmakuId)>,
) -> Result<StatusCode, ApiError> {
    st.bullets.remove(&auth.user, vid, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DanmakuSwitch {
    enabled: bool,
}

/// The video's owner turns bullet comments on or off (what was posted stays).
#[utoipa::path(put, path = "/videos/{vid}/danmaku/enabled", operation_id = "switch_danmaku", tag = "live",
    security(("session" = []), ("bearer" = [])),
    params(("vid" = String, Path, description = "Video id")),
    request_body = DanmakuSwitch,
    responses(
        (status = 200, description = "The new state", body = DanmakuMeta),
        (status = 400, description = "Bad JSON", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Not the video's owner", body = ErrorBody),
        (status = 404, description = "A video the caller cannot play", body = ErrorBody),
        (status = 413, description = "A body over the JSON limit", body = ErrorBody),
        (status = 503, description = "The database is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn switch(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    Path(vid): Path<VideoId>,
    JsonBody(b): JsonBody<DanmakuSwitch>,
) -> Result<Json<DanmakuMeta>, ApiError> {
    Ok(Json(st.bullets.set_enabled(&auth.user, vid, b.enabled).await?.into()))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DanmakuDensity {
    /// Video time per bucket.
    bucket_ms: u64,
    /// Visible bullet comments per bucket, from the start of the video.
    counts: Vec<u64>,
}

/// Where bullet comments cluster over the video (the strip above a player's progress bar).
#[utoipa::path(get, path = "/videos/{vid}/danmaku/density", operation_id = "danmaku_density", tag = "live",
    security((), ("session" = []), ("bearer" = [])),
    params(("vid" = String, Path, description = "Video id"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag from an earlier answer")),
    responses(
        (status = 200, description = "OK", body = DanmakuDensity, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, description = "A video the caller cannot play", body = ErrorBody),
        (status = 503, description = "The database is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn density(
    State(st): State<ApiState>,
    MaybeAuth(auth): MaybeAuth,
    Path(vid): Path<VideoId>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = auth.map(|a| a.user);
    let d = st.bullets.density(user.as_ref(), vid).await?;
    let body = DanmakuDensity { bucket_ms: d.bucket_ms, counts: d.counts };
    Ok(validated(&headers, "application/json", serde_json::to_vec(&body).map_err(Error::internal)?))
}

/// One `<d>` of bilibili's format: `p` is time in seconds, mode, font size, colour, time
/// posted (Unix seconds), pool (0, the normal one), the sender's hash, the id.
fn bilibili_d(out: &mut String, e: &Exported) {
    use std::fmt::Write;
    let d = &e.danmaku;
    let _ = writeln!(
        out,
        "  <d p=\"{}.{:03},{},{},{},{},0,{},{}\">{}</d>",
        d.t_ms / 1000,
        d.t_ms % 1000,
        d.mode.bilibili(),
        d.size.bilibili(),
        d.color,
        d.created_at.timestamp(),
        e.sender,
        d.id,
        quick_xml::escape::escape(d.text.as_str()),
    );
}

/// Every visible bullet comment of the video in bilibili's XML format, which existing players
/// and tools read (`<i><d p="time,mode,size,color,ctime,pool,sender,id">text</d>…</i>`).
#[utoipa::path(get, path = "/videos/{vid}/danmaku.xml", operation_id = "export_danmaku", tag = "live",
    security((), ("session" = []), ("bearer" = [])),
    params(("vid" = String, Path, description = "Video id"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag from an earlier answer")),
    responses(
        (status = 200, description = "OK", content_type = "application/xml", body = String, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, description = "A video the caller cannot play", body = ErrorBody),
        (status = 503, description = "The database is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn export(
    State(st): State<ApiState>,
    MaybeAuth(auth): MaybeAuth,
    Path(vid): Path<VideoId>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = auth.map(|a| a.user);
    let list = st.bullets.export(user.as_ref(), vid).await?;
    let mut xml = String::with_capacity(128 + list.len() * 96);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<i>\n");
    xml.push_str(&format!("  <chatid>{vid}</chatid>\n  <maxlimit>{PER_SEGMENT}</maxlimit>\n  <source>k-v</source>\n"));
    for e in &list {
        bilibili_d(&mut xml, e);
    }
    xml.push_str("</i>\n");
    Ok(validated(&headers, "application/xml; charset=utf-8", xml.into_bytes()))
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct BlockedWords {
    /// Bullet comments on the user's videos that contain one of these (in any case) are held
    /// back: stored, but shown to nobody. Each 1 to 30 characters on one line; at most 200.
    #[schema(schema_with = words_schema)]
    words: Vec<String>,
}

/// The words held back from bullet comments on the caller's videos.
#[utoipa::path(get, path = "/me/danmaku/blocked-words", operation_id = "blocked_words", tag = "live",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = BlockedWords),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 503, description = "The database is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn blocked_words(State(st): State<ApiState>, Auth(auth): Auth) -> Result<Json<BlockedWords>, ApiError> {
    Ok(Json(BlockedWords { words: st.bullets.blocked_words(&auth.user).await? }))
}

/// Replaces the caller's blocked words (bullet comments posted before stay as they are).
#[utoipa::path(put, path = "/me/danmaku/blocked-words", operation_id = "set_blocked_words", tag = "live",
    security(("session" = []), ("bearer" = [])),
    request_body = BlockedWords,
    responses(
        (status = 200, description = "The list as kept (trimmed, each word once)", body = BlockedWords),
        (status = 400, description = "A word outside 1..30 characters or with control characters, more than 200, bad JSON", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 413, description = "A body over the JSON limit", body = ErrorBody),
        (status = 503, description = "The database is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn set_blocked_words(
    State(st): State<ApiState>,
    Auth(auth): Auth,
    JsonBody(b): JsonBody<BlockedWords>,
) -> Result<Json<BlockedWords>, ApiError> {
    Ok(Json(BlockedWords { words: st.bullets.set_blocked_words(&auth.user, b.words).await? }))
}
