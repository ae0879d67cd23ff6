//! Live events over a WebSocket (`/api/v1/videos/{vid}/live`): bullet comments reach every
//! viewer with the viewer count, on every backend, across replicas behind a balancer, through a
//! replica's `kill -9` and a cut to Redis; and the abuse cases: no handshake, another site's
//! page, other users' videos, too many connections, bad messages, a client that stops reading.

use std::process::{Child, Command};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, TcpProxy, TestDb, per_backend, redis_url};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::common::poll::poll;
use crate::common::serve::spawn_serve;
use crate::common::{TestServer, api_signup, api_video, body, expect_error, fake_mp4, user};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a live connection to `vid` at `base` (http://…), with extra request headers.
async fn open(base: &str, vid: &str, headers: &[(&str, &str)]) -> Result<Ws, tungstenite::Error> {
    let url = format!("{}/api/v1/videos/{vid}/live", base.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().unwrap();
    for (k, v) in headers {
        let name = reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap();
        req.headers_mut().insert(name, v.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws)
}

/// The status a refused handshake got.
async fn refused(base: &str, vid: &str, headers: &[(&str, &str)]) -> StatusCode {
    match open(base, vid, headers).await {
        Err(tungstenite::Error::Http(res)) => StatusCode::from_u16(res.status().as_u16()).unwrap(),
        Err(e) => panic!("the handshake failed otherwise: {e}"),
        Ok(_) => panic!("the handshake was accepted"),
    }
}

/// The next JSON message, skipping pings; panics after 10 s or on a close.
async fn next(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a message within 10 s");
        match msg.expect("the connection is open").expect("a frame") {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Close(c) => panic!("closed: {c:?}"),
            _ => continue,
        }
    }
}

/// The next message of `kind` (`watching` ticks may come between).
async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let m = next(ws).await;
        if m["type"] == kind {
            return m;
        }
    }
}

/// How the server ended the connection: the close code, or `None` for a cut without one.
async fn closed(ws: &mut Ws) -> Option<CloseCode> {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), ws.next()).await.expect("closed within 20 s") {
            Some(Ok(Message::Close(c))) => return c.map(|c| c.code),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

async fn heartbeat(ws: &mut Ws) -> Value {
    ws.send(Message::text(r#"{"type":"heartbeat"}"#)).await.unwrap();
    next_of(ws, "watching").await["watching"].clone()
}

async fn post(base: &str, vid: &str, token: &str, text: &str) -> (StatusCode, Value) {
    let res = streamvault_testkit::http_client()
        .post(format!("{base}/api/v1/videos/{vid}/danmaku"))
        .header("x-session-id", token)
        .json(&json!({"t_ms": 0, "text": text}))
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, body(res).await)
}

/// A user's token and a video of theirs, playable (its original uploaded).
async fn playable(srv: &TestServer) -> (String, String, String) {
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "live").await["id"].as_str().unwrap().to_owned();
    assert_eq!(srv.upload_raw(&vid, &token, fake_mp4(64 * 1024, 11)).await.status(), StatusCode::CREATED);
    (name, token, vid)
}

async fn events_reach_viewers(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({"live_max_per_client": 3, "live_max_connections": 6})).await;
    let (owner_name, owner, vid) = playable(&srv).await;

    // An anonymous viewer: hello with the counts, a heartbeat counts it.
    let mut v1 = open(&srv.url, &vid, &[]).await.unwrap();
    let hello = next(&mut v1).await;
    assert_eq!(hello, json!({"type": "hello", "watching": {"now": 0, "peak": 0}}));
    assert_eq!(heartbeat(&mut v1).await, json!({"now": 1, "peak": 1}));
    // A signed-in viewer (token in a header, as a non-browser client sends it).
    let viewer = srv.signup(&user()).await;
    let mut v2 = open(&srv.url, &vid, &[("x-session-id", &viewer)]).await.unwrap();
    next_of(&mut v2, "hello").await;
    assert_eq!(heartbeat(&mut v2).await["now"], 2);
    // Unknown message types are ignored (newer players may send more), and so is a heartbeat
    // sooner than 5 s after the last (sent at once here): v2's next message is the next event,
    // not an answer.
    v2.send(Message::text(r#"{"type":"something-new"}"#)).await.unwrap();
    v2.send(Message::text(r#"{"type":"heartbeat"}"#)).await.unwrap();

    // A post reaches both, with the count of viewers.
    let poster = srv.signup(&user()).await;
    let (st, posted) = post(&srv.url, &vid, &poster, "hello from the live test").await;
    assert_eq!(st, StatusCode::CREATED, "{posted}");
    // (A `watching` tick comes 15 s after a connection opens, and not after a beat.)
    let m = next(&mut v2).await;
    assert_eq!((m["type"].as_str(), &m["danmaku"]), (Some("danmaku"), &posted), "{m}");
    for m in [next_of(&mut v1, "danmaku").await, m] {
        assert_eq!(m["danmaku"], posted, "the bullet comment as the API returned it");
        assert_eq!(m["watching"]["now"], 2);
    }
    // A held-back one (the owner's blocked word) reaches nobody; the next one does.
    let res = srv
        .authed(Method::PUT, "/api/v1/me/danmaku/blocked-words", &owner)
        .json(&json!({"words": ["Spoiler"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let other = srv.signup(&user()).await;
    assert_eq!(post(&srv.url, &vid, &other, "a big SPOILER").await.0, StatusCode::CREATED);
    let third = srv.signup(&user()).await;
    let (_, fine) = post(&srv.url, &vid, &third, "nothing to hide").await;
    assert_eq!(next_of(&mut v1, "danmaku").await["danmaku"], fine, "the held one never came");

    // Not a handshake: a JSON 400. No such video, or one the caller cannot play: 404.
    let res = srv.req(Method::GET, &format!("/api/v1/videos/{vid}/live")).send().await.unwrap();
    expect_error(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(refused(&srv.url, &uuid::Uuid::now_v7().to_string(), &[]).await, StatusCode::NOT_FOUND);
    assert_eq!(refused(&srv.url, "not-an-id", &[]).await, StatusCode::NOT_FOUND);
    // A failed video still plays for its owner only.
    let failed = srv.create_video(&owner_name, &owner, "failed").await["id"].as_str().unwrap().to_owned();
    assert_eq!(srv.upload_raw(&failed, &owner, fake_mp4(64 * 1024, 12)).await.status(), StatusCode::CREATED);
    srv.set_video(&db, &failed, "failed", 0).await;
    assert_eq!(refused(&srv.url, &failed, &[("x-session-id", &viewer)]).await, StatusCode::NOT_FOUND);
    assert_eq!(refused(&srv.url, &failed, &[]).await, StatusCode::NOT_FOUND);
    let mut own = open(&srv.url, &failed, &[("x-session-id", &owner)]).await.unwrap();
    next_of(&mut own, "hello").await;
    drop(own);
    assert!(poll(100, Duration::from_millis(50), || async { srv.app().live.connections() == 2 }).await);
    // The session cookie sent by another site's page: refused (it could read what comes back).
    let cookie = format!("sv_session={viewer}");
    let host = srv.url.trim_start_matches("http://").to_owned();
    let evil = [("cookie", cookie.as_str()), ("origin", "https://evil.example")];
    assert_eq!(refused(&srv.url, &vid, &evil).await, StatusCode::FORBIDDEN);
    let own_origin = format!("http://{host}");
    let mut v3 = open(&srv.url, &vid, &[("cookie", &cookie), ("origin", &own_origin)]).await.unwrap();
    next_of(&mut v3, "hello").await;

    // Seats: three per client (anonymous by address), six per replica.
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(open(&srv.url, &vid, &[]).await.unwrap());
    }
    assert_eq!(refused(&srv.url, &vid, &[]).await, StatusCode::TOO_MANY_REQUESTS, "a fourth from one address");
    held.push(open(&srv.url, &vid, &[("x-session-id", &poster)]).await.unwrap());
    assert_eq!(srv.app().live.connections(), 6);
    assert_eq!(refused(&srv.url, &vid, &[("x-session-id", &other)]).await, StatusCode::SERVICE_UNAVAILABLE);

    // Bad messages end the connection with the matching close code.
    let mut bin = held.pop().unwrap();
    bin.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(closed(&mut bin).await, Some(CloseCode::Unsupported));
    let mut junk = held.pop().unwrap();
    junk.send(Message::text("not json")).await.unwrap();
    assert_eq!(closed(&mut junk).await, Some(CloseCode::Invalid));
    let mut big = held.pop().unwrap();
    let _ = big.send(Message::text("x".repeat(64 * 1024))).await;
    assert_ne!(closed(&mut big).await, Some(CloseCode::Normal), "an oversized message ends it");
    let fourth = srv.signup(&user()).await;
    let (_, later) = post(&srv.url, &vid, &fourth, "after the flood").await;
    let m = next_of(&mut v1, "danmaku").await;
    assert_eq!((m["type"].as_str(), &m["danmaku"]), (Some("danmaku"), &later), "{m}");
    assert_eq!(m["watching"]["now"], 2, "v1 and v2 beat; v3 opened but never played");
    // Another site's page gets no connection, with or without a cookie, and sends no
    // heartbeats: its visitors would count as watching.
    assert_eq!(refused(&srv.url, &vid, &[("origin", "https://evil.example")]).await, StatusCode::FORBIDDEN);
    let res = srv
        .req(Method::POST, &format!("/api/v1/videos/{vid}/watching"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Seats come back when connections end.
    drop((v1, v2, v3, bin, junk, big));
    assert!(poll(100, Duration::from_millis(100), || async { srv.app().live.connections() == 0 }).await);
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(events_reach_viewers);

/// Accounts cost nothing: the connections from one address count together, signed in or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_take_a_replica() {
    let Some(db) = TestDb::create(Backend::Sqlite).await else { return };
    let srv = TestServer::start(&db, json!({"live_max_per_client": 2, "live_max_per_address": 3})).await;
    let (_, _, vid) = playable(&srv).await;
    let (a, b, c) = (srv.signup(&user()).await, srv.signup(&user()).await, srv.signup(&user()).await);
    let mut held = Vec::new();
    for t in [&a, &a, &b] {
        held.push(open(&srv.url, &vid, &[("x-session-id", t)]).await.unwrap());
    }
    assert_eq!(
        refused(&srv.url, &vid, &[("x-session-id", &c)]).await,
        StatusCode::TOO_MANY_REQUESTS,
        "a third account"
    );
    assert_eq!(refused(&srv.url, &vid, &[]).await, StatusCode::TOO_MANY_REQUESTS, "anonymous from the same address");
    held.pop();
    assert!(poll(100, Duration::from_millis(50), || async { srv.app().live.connections() == 2 }).await);
    held.push(open(&srv.url, &vid, &[("x-session-id", &c)]).await.unwrap());
    drop(held);
    srv.stop().await;
    db.drop_db().await;
}

/// Every 15 s a live connection checks again that its session lives and its video plays: a
/// logout elsewhere, or the video's deletion, closes it (1008).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_connection_ends_with_its_session_or_its_video() {
    let Some(db) = TestDb::create(Backend::Sqlite).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (name, owner, vid) = playable(&srv).await;
    let viewer_name = user();
    let viewer = srv.signup(&viewer_name).await;
    let mut signed = open(&srv.url, &vid, &[("x-session-id", &viewer)]).await.unwrap();
    let mut anon = open(&srv.url, &vid, &[]).await.unwrap();
    next_of(&mut signed, "hello").await;
    next_of(&mut anon, "hello").await;
    let res = srv.authed(Method::DELETE, &format!("/api/v1/user/{viewer_name}"), &viewer).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(closed(&mut signed).await, Some(CloseCode::Policy), "the session ended");
    let res = srv.authed(Method::DELETE, &format!("/api/v1/user/{name}/videos/{vid}"), &owner).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(closed(&mut anon).await, Some(CloseCode::Policy), "the video is gone");
    srv.stop().await;
    db.drop_db().await;
}

/// A viewer that stops reading is dropped: nothing queues for it beyond its socket's buffers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_that_stops_reading_is_dropped() {
    let Some(db) = TestDb::create(Backend::Sqlite).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (_, _, vid) = playable(&srv).await;
    let mut stalled = open(&srv.url, &vid, &[]).await.unwrap();
    next_of(&mut stalled, "hello").await;
    assert_eq!(srv.app().live.connections(), 1);
    // 64 MiB of events (each smaller than the socket's own buffer), far past what the socket
    // buffers of loopback hold.
    let topic = streamvault_core::live::topic(vid.parse::<streamvault_core::ids::VideoId>().unwrap());
    let event = bytes::Bytes::from(format!(r#"{{"type":"test","pad":"{}"}}"#, "x".repeat(8 * 1024)));
    for _ in 0..8192 {
        srv.app().bus.publish(&topic, event.clone()).await.unwrap();
        tokio::task::yield_now().await;
    }
    let dropped = poll(300, Duration::from_millis(100), || async { srv.app().live.connections() == 0 }).await;
    assert!(dropped, "the stalled viewer still holds its seat");
    drop(stalled);
    srv.stop().await;
    db.drop_db().await;
}

/// A replica that stops tells its live connections to go (1012), so players reconnect to
/// another replica at once instead of holding a socket nobody serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_replica_sends_its_viewers_elsewhere() {
    let Some(db) = TestDb::create(Backend::Sqlite).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (_, _, vid) = playable(&srv).await;
    let mut viewer = open(&srv.url, &vid, &[]).await.unwrap();
    next_of(&mut viewer, "hello").await;
    let stopping = tokio::spawn(srv.stop());
    assert_eq!(closed(&mut viewer).await, Some(CloseCode::Restart));
    stopping.await.unwrap();
    db.drop_db().await;
}

/// A replica's connection to Redis is cut and comes back: the live connection stays open and
/// gets the bullet comments posted on the other replica after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_connections_outlast_a_cut_to_redis() {
    let (Some(db), Some(redis)) = (TestDb::create(Backend::Postgres).await, redis_url().await) else { return };
    let target = redis.trim_start_matches("redis://").trim_end_matches('/').to_owned();
    let proxy = TcpProxy::start(&target).await;
    let a = TestServer::start(&db, json!({"bus_url": format!("redis://{}", proxy.addr)})).await;
    let b = TestServer::start(&db, json!({"bus_url": redis})).await;
    let (_, _, vid) = playable(&a).await;
    let mut viewer = open(&a.url, &vid, &[]).await.unwrap();
    next_of(&mut viewer, "hello").await;
    let poster = b.signup(&user()).await;
    let (_, first) = post(&b.url, &vid, &poster, "before the cut").await;
    assert_eq!(next_of(&mut viewer, "danmaku").await["danmaku"], first);

    proxy.cut();
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.restore().await;
    assert!(arrives_again(&b, &vid, &mut viewer).await, "no bullet comment arrived after Redis came back");
    a.stop().await;
    b.stop().await;
    db.drop_db().await;
}

/// A Redis server of this test's own on `port` (nothing kept on disk), to kill and restart
/// without touching the shared one; `None` without `redis-server` outside CI.
fn private_redis(port: u16) -> Option<Child> {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn();
    match child {
        Ok(c) => Some(c),
        Err(e) => {
            assert!(!streamvault_testkit::in_ci(), "redis-server is required under CI: {e}");
            None
        }
    }
}

async fn wait_for_port(port: u16) {
    let up = poll(100, Duration::from_millis(50), || async { TcpStream::connect(("127.0.0.1", port)).await.is_ok() });
    assert!(up.await, "redis-server came up on {port}");
}

/// The Redis both replicas share is killed and started again under a live connection: the
/// connection stays open, and bullet comments posted on the other replica reach it again once
/// the replicas have reconnected and resubscribed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_connections_outlast_a_redis_restart() {
    let Some(db) = TestDb::create(Backend::Postgres).await else { return };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let Some(mut redis) = private_redis(port) else { return };
    wait_for_port(port).await;
    let url = format!("redis://127.0.0.1:{port}");
    let a = TestServer::start(&db, json!({"bus_url": url})).await;
    let b = TestServer::start(&db, json!({"bus_url": url})).await;
    let (_, _, vid) = playable(&a).await;
    let mut viewer = open(&a.url, &vid, &[]).await.unwrap();
    next_of(&mut viewer, "hello").await;
    let poster = b.signup(&user()).await;
    let (_, first) = post(&b.url, &vid, &poster, "before the restart").await;
    assert_eq!(next_of(&mut viewer, "danmaku").await["danmaku"], first);

    redis.kill().unwrap();
    redis.wait().unwrap();
    let mut redis = private_redis(port).unwrap();
    wait_for_port(port).await;
    assert!(arrives_again(&b, &vid, &mut viewer).await, "no bullet comment arrived after Redis restarted");
    a.stop().await;
    b.stop().await;
    redis.kill().unwrap();
    redis.wait().unwrap();
    db.drop_db().await;
}

/// Posts through `b` (a new sender each time: one may post every 3 s) until one reaches the
/// viewer, which must stay open meanwhile; whether one did within ten tries.
async fn arrives_again(b: &TestServer, vid: &str, viewer: &mut Ws) -> bool {
    for i in 0..10 {
        let poster = b.signup(&user()).await;
        let (st, d) = post(&b.url, vid, &poster, &format!("again {i}")).await;
        assert_eq!(st, StatusCode::CREATED, "{d}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, viewer.next()).await {
            match msg.expect("the live connection stays open") {
                Message::Text(t) => {
                    let m: Value = serde_json::from_str(&t).unwrap();
                    if m["type"] == "danmaku" && m["danmaku"]["id"] == d["id"] {
                        return true;
                    }
                }
                Message::Close(c) => panic!("closed meanwhile: {c:?}"),
                _ => {}
            }
        }
    }
    false
}

fn replica(db_url: &str, redis: &str, dir: &std::path::Path) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamvault"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .env("STREAMVAULT_DATABASE_URL", db_url)
        .env("STREAMVAULT_BUS_URL", redis)
        .env("STREAMVAULT_WATCHING_TTL_SECS", "3")
        .env("STREAMVAULT_ROLES", "api,stream")
        .env("STREAMVAULT_LOG", "warn")
        .current_dir(dir);
    spawn_serve(&mut cmd)
}

/// Two api replicas (processes) on PostgreSQL and Redis behind a round-robin balancer: viewers
/// on either get what is posted through any; a replica killed with `kill -9` loses no bullet
/// comment, its viewers reconnect to the other and catch up, and those it counted expire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_behind_a_balancer_survive_kill_9() {
    let (Some(db), Some(redis)) = (TestDb::create(Backend::Postgres).await, redis_url().await) else { return };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // One process makes the schema first; the other starts on it.
    let (mut a, url_a) = replica(&db.url, &redis, dir_a.path());
    let (mut b, url_b) = replica(&db.url, &redis, dir_b.path());
    let host = |u: &str| u.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let (ha, hb) = (host(&url_a), host(&url_b));
    let lb = TcpProxy::balance(&[&ha, &hb]).await;
    let base = format!("http://{}", lb.addr);
    let http = streamvault_testkit::http_client();
    let name = user();
    let owner = api_signup(&http, &url_a, &name).await;
    let vid = api_video(&http, &url_a, &owner, &name, "behind a balancer").await;
    let res = http
        .post(format!("{url_a}/stream/v1/videos/{vid}/upload"))
        .header("x-session-id", &owner)
        .header("content-type", "application/octet-stream")
        .body(fake_mp4(64 * 1024, 13))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    // Through the balancer: the first connection lands on A, the second on B.
    let (t1, t2) = (api_signup(&http, &url_a, &user()).await, api_signup(&http, &url_b, &user()).await);
    let mut on_a = open(&base, &vid, &[("x-session-id", &t1)]).await.unwrap();
    let mut on_b = open(&base, &vid, &[("x-session-id", &t2)]).await.unwrap();
    next_of(&mut on_a, "hello").await;
    next_of(&mut on_b, "hello").await;
    heartbeat(&mut on_a).await;
    assert_eq!(heartbeat(&mut on_b).await["now"], 2, "one count across replicas");
    for u in [&url_a, &url_b] {
        let w = body(http.get(format!("{u}/api/v1/videos/{vid}/watching")).send().await.unwrap()).await;
        assert_eq!(w["now"], 2, "{u}");
    }
    // Posted through one replica, seen by the viewers of both.
    let mut posted = Vec::new();
    for (i, u) in [&url_a, &url_b].into_iter().enumerate() {
        let poster = api_signup(&http, u, &user()).await;
        let (st, d) = post(u, &vid, &poster, &format!("through replica {i}")).await;
        assert_eq!(st, StatusCode::CREATED, "{d}");
        assert_eq!(next_of(&mut on_a, "danmaku").await["danmaku"], d);
        assert_eq!(next_of(&mut on_b, "danmaku").await["danmaku"], d);
        posted.push(d["id"].clone());
    }
    // A viewer only A counted, that will not come back.
    let t4 = api_signup(&http, &url_a, &user()).await;
    // t1 and t2 beat again first (over HTTP), so that the sign-ups and posts above, however
    // slow, have not outlasted their 3 s.
    for t in [&t1, &t2] {
        let res = http.post(format!("{base}/api/v1/videos/{vid}/watching")).header("x-session-id", t).send().await;
        assert!(res.unwrap().status().is_success());
    }
    let mut gone = open(&url_a, &vid, &[("x-session-id", &t4)]).await.unwrap();
    next_of(&mut gone, "hello").await;
    assert_eq!(heartbeat(&mut gone).await["now"], 3);
    // Posted on A just before it dies: stored, so not lost.
    let last = api_signup(&http, &url_a, &user()).await;
    let (_, d) = post(&url_a, &vid, &last, "just before kill -9").await;
    posted.push(d["id"].clone());

    a.kill().unwrap();
    a.wait().unwrap();
    assert_eq!(closed(&mut on_a).await, None, "A's viewer loses its connection");
    drop(gone);
    // It reconnects through the balancer (A is passed over) and catches up from the segment.
    let mut again = open(&base, &vid, &[("x-session-id", &t1)]).await.unwrap();
    next_of(&mut again, "hello").await;
    let seg = body(http.get(format!("{base}/api/v1/videos/{vid}/danmaku?segment=0")).send().await.unwrap()).await;
    let ids: Vec<Value> = seg["danmaku"].as_array().unwrap().iter().map(|d| d["id"].clone()).collect();
    for id in &posted {
        assert!(ids.contains(id), "{id} lost: {ids:?}");
    }
    // The viewers that go on beating stay; the one A counted expires (time-to-live 3 s here).
    // (Heartbeats over HTTP: a live connection counts one per 5 s at most.)
    let mut now = Value::Null;
    for _ in 0..40 {
        for t in [&t1, &t2] {
            let res = http.post(format!("{base}/api/v1/videos/{vid}/watching")).header("x-session-id", t).send().await;
            now = body(res.unwrap()).await["now"].clone();
        }
        if now == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(now, 2, "t1 (reconnected) and t2 go on; t4 expired");
    b.kill().unwrap();
    b.wait().unwrap();
    db.drop_db().await;
}
