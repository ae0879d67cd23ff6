//! A video's live events over a WebSocket: bullet comments as they are posted on any replica,
//! with the count of viewers now; the player's heartbeats go up the same socket.
//!
//! WebSocket rather than Server-Sent Events: the player talks back (a heartbeat every 15 s)
//! on the connection it already has instead of a request each time, and a browser holds many
//! WebSockets to one host where it holds only six HTTP/1.1 connections (SSE would take one of
//! them per open tab). What a reconnecting SSE client gets from `Last-Event-ID`, the player
//! gets from the segment API: events are hints, the segments are the record.
//!
//! Server → client, one JSON object per text message:
//! `{"type":"hello","watching":{"now","peak"}}` on connect;
//! `{"type":"danmaku","danmaku":{…},"watching":{…}}` for each bullet comment posted;
//! `{"type":"watching","watching":{…}}` every 15 s (or in answer to a heartbeat).
//! Client → server: `{"type":"heartbeat"}` while the player plays; other types are ignored.
//! `{"type":"removed","id"}` when a bullet comment is taken back or hidden.
//! A client that falls behind is closed with 1013 (try again later): it reconnects and
//! catches up from the segments. Nothing is buffered for it beyond the socket's own buffers.
//! Every 15 s the session the connection opened with and the video are checked again: a
//! session that ended or a video that is gone closes it with 1008.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::Response;
use futures::SinkExt;
use serde::Deserialize;
use streamvault_core::accounts::Accounts;
use streamvault_core::ids::VideoId;
use streamvault_core::live::{Room, Viewer};
use streamvault_core::ports::{Missed, Watching};
use streamvault_core::{Error, ErrorCode};
use streamvault_http::auth::{MaybeAuth, credential, same_origin};
use streamvault_http::error::ErrorBody;
use streamvault_http::path::Path;
use streamvault_http::{ApiError, Client};

use crate::ApiState;

/// The most a client's message may be: heartbeats are a few bytes.
const MAX_CLIENT_MESSAGE: usize = 1024;
/// Socket buffers per connection (tungstenite's default is 128 KiB each way: 5,000 viewers
/// would hold over a gigabyte).
const BUFFER: usize = 8 * 1024;
/// Bytes queued for a client that does not read before it counts as stalled.
const MAX_QUEUED: usize = 64 * 1024;
/// A message the client has not taken within this long ends the connection.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Events to one viewer are written at most this often (several to a write when they come
/// faster), and at most this many to a write.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
const MAX_BATCH: usize = 64;
/// Heartbeats closer together than this on one connection are not counted.
const MIN_BEAT: Duration = Duration::from_secs(5);
/// The viewer count is refreshed, and the session and the video checked again, this often (the players' heartbeat period).
const TICK: Duration = Duration::from_secs(15);
/// A client silent this long (no message, no pong) is gone.
const IDLE: Duration = Duration::from_secs(75);
const PING_EVERY: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
struct ClientMessage {
    #[serde(rename = "type")]
    kind: String,
}

/// Live events of a video over a WebSocket (see the module documentation for the messages).
#[utoipa::path(get, path = "/videos/{vid}/live", operation_id = "live", tag = "live",
    security((), ("session" = []), ("bearer" = [])),
    params(("vid" = String, Path, description = "Video id")),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket handshake", body = ErrorBody),
        (status = 403, description = "Opened from another site's page (`Origin`)", body = ErrorBody),
        (status = 404, description = "A video the caller cannot play", body = ErrorBody),
        (status = 429, description = "This user or address holds its share of live connections; see Retry-After", body = ErrorBody),
        (status = 503, description = "This replica holds all the live connections it takes, or a backend is down; see Retry-After", body = ErrorBody),
    ))]
pub async fn live(
    State(st): State<ApiState>,
    MaybeAuth(auth): MaybeAuth,
    Client(client): Client,
    Path(vid): Path<VideoId>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|e| {
        Error::invalid(ErrorCode::BadHeader, format!("a WebSocket handshake is expected here: {}", e.body_text()))
    })?;
    // A page of another site could open a WebSocket to us with the viewer's cookie and read
    // what comes back, or make each of its visitors count as watching: browsers say whose page
    // it is (`Origin`), and only ours may. Other clients send no `Origin`.
    if !same_origin(&headers) {
        return Err(Error::Forbidden("a live connection only opens from this site's pages").into());
    }
    let addr = client.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.addr);
    let viewer = match &auth {
        Some(a) => Viewer::User(&a.user),
        None => Viewer::Anonymous(addr),
    };
    let room = st.live.join(viewer, addr, vid).await?;
    // The session is checked again as the connection goes on: one that ends closes it.
    let token = match auth {
        Some(_) => credential(&headers)?.map(|c| c.token),
        None => None,
    };
    let accounts = st.accounts.clone();
    Ok(upgrade
        .read_buffer_size(BUFFER)
        .write_buffer_size(BUFFER)
        .max_write_buffer_size(MAX_QUEUED)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| serve(socket, room, Recheck { accounts, token })))
}

fn watching(kind: &str, w: Watching) -> Message {
    Message::Text(serde_json::json!({ "type": kind, "watching": w }).to_string().into())
}

/// Why a connection ended, as its close frame says.
fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }))
}

/// Writes `batch` with one flush (one write on the socket when it fits its buffer).
async fn send_all(socket: &mut WebSocket, batch: Vec<Message>) -> bool {
    let write = async {
        for msg in batch {
            socket.feed(msg).await?;
        }
        socket.flush().await
    };
    matches!(tokio::time::timeout(SEND_TIMEOUT, write).await, Ok(Ok(())))
}

fn text(json: bytes::Bytes) -> Option<Message> {
    Utf8Bytes::try_from(json).ok().map(Message::Text)
}

/// Events that came within [`FLUSH_EVERY`] of the last write join `first` in the next one, so
/// a busy video costs each viewer a few writes a second rather than one per event (the writes,
/// not the events, are what the CPU goes to: see BENCHMARKS.md). A quiet video's event goes
/// out at once.
async fn gather(room: &mut Room, first: Message, last_write: tokio::time::Instant) -> Result<Vec<Message>, Missed> {
    let mut batch = vec![first];
    let until = last_write + FLUSH_EVERY;
    while batch.len() < MAX_BATCH {
        match tokio::time::timeout_at(until, room.next()).await {
            Ok(Ok(json)) => batch.extend(text(json)),
            Ok(Err(missed)) => return Err(missed),
            Err(_) => break,
        }
    }
    Ok(batch)
}

/// What is checked again every [`TICK`]: the session the connection opened with.
struct Recheck {
    accounts: Accounts,
    token: Option<String>,
}

impl Recheck {
    /// Why the connection must end now, if it must.
    async fn reason(&self, room: &Room) -> Option<&'static str> {
        if let Some(token) = &self.token
            && matches!(self.accounts.authenticate(token).await, Err(Error::Unauthenticated(_)))
        {
            return Some("the session ended");
        }
        matches!(room.still_playable().await, Err(Error::NotFound(_))).then_some("the video is gone")
    }
}

async fn serve(mut socket: WebSocket, mut room: Room, recheck: Recheck) {
    let video = room.video();
    let hello = room.watching().await.unwrap_or_default();
    if !send_all(&mut socket, vec![watching("hello", hello)]).await {
        return;
    }
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + TICK, TICK);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    let mut heard = tokio::time::Instant::now();
    let mut beat_since_tick = false;
    let mut last_beat: Option<tokio::time::Instant> = None;
    let stopping = room.stopping();
    tokio::pin!(stopping);
    let mut last_write = tokio::time::Instant::now();
    let lagged = |n: u64| {
        tracing::debug!(video_id = %video, missed = n, "live client fell behind; closed");
        Some(close(close_code::AGAIN, "fell behind; reconnect and read the segments"))
    };
    let ending = loop {
        let out = tokio::select! {
            event = room.next() => match event.map(text) {
                Ok(Some(first)) => match gather(&mut room, first, last_write).await {
                    Ok(batch) => batch,
                    Err(Missed::Lagged(n)) => break lagged(n),
                    Err(Missed::Closed) => break Some(close(close_code::RESTART, "the server is restarting")),
                },
                Ok(None) => continue,
                Err(Missed::Lagged(n)) => break lagged(n),
                Err(Missed::Closed) => break Some(close(close_code::RESTART, "the server is restarting")),
            },
            _ = &mut stopping => break Some(close(close_code::RESTART, "the server is restarting; reconnect")),
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    heard = tokio::time::Instant::now();
                    match serde_json::from_str::<ClientMessage>(&text) {
                        // A player beats every 15 s: closer ones are not counted (nor sent on
                        // to the registry, which every replica shares).
                        Ok(m) if m.kind == "heartbeat" && last_beat.is_some_and(|t| t.elapsed() < MIN_BEAT) => continue,
                        Ok(m) if m.kind == "heartbeat" => match room.heartbeat().await {
                            Ok(w) => {
                                beat_since_tick = true;
                                last_beat = Some(tokio::time::Instant::now());
                                vec![watching("watching", w)]
                            }
                            Err(e) => {
                                tracing::warn!(video_id = %video, error = %e.report(), "live heartbeat not counted");
                                continue;
                            }
                        },
                        Ok(_) => continue,
                        Err(_) => break Some(close(close_code::INVALID, "messages are JSON objects with a type")),
                    }
                }
                Some(Ok(Message::Binary(_))) => break Some(close(close_code::UNSUPPORTED, "text messages only")),
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Ok(_)) => {
                    // Ping (tungstenite answers it) or pong.
                    heard = tokio::time::Instant::now();
                    continue;
                }
                Some(Err(_)) => break None,
            },
            _ = tick.tick() => {
                if heard.elapsed() > IDLE {
                    break Some(close(close_code::AWAY, "no word from the client"));
                }
                if let Some(why) = recheck.reason(&room).await {
                    break Some(close(close_code::POLICY, why));
                }
                if std::mem::take(&mut beat_since_tick) {
                    continue;
                }
                match room.watching().await {
                    Ok(w) => vec![watching("watching", w)],
                    Err(_) => continue,
                }
            }
            _ = ping.tick() => vec![Message::Ping(Default::default())],
        };
        if !send_all(&mut socket, out).await {
            break None;
        }
        last_write = tokio::time::Instant::now();
    };
    if let Some(frame) = ending {
        let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(frame)).await;
    }
}
