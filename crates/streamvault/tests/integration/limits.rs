//! Limits that hold on every path: the quota on each way bytes are stored (and under
//! concurrency), login throttling per account and per client address (counted before the
//! password is checked, shared across replicas through Redis), stream slots per client, and
//! the connection timeouts that end stalled clients.

use std::time::Duration;

use futures::channel::mpsc;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, TestDb, per_backend, redis_url, unique_name};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::tus::{PATCH_TYPE, request as tus};
use crate::common::{PWD, TestServer, body, fake_mp4, user};

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

/// Every way of storing bytes for a user counts against one quota, checked as the bytes
/// arrive.
async fn quota_on_every_path(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({"quota_bytes": 1_000_000})).await;
    let name = user();
    let token = srv.signup(&name).await;

    // Simple uploads.
    assert_eq!(srv.post_file(&token, "a", bytes(600_000, 1)).await.status(), StatusCode::CREATED);
    assert_eq!(srv.post_file(&token, "b", bytes(600_000, 2)).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(srv.usage_bytes(&token).await, 600_000, "a refused upload counts nothing");

    // tus with a deferred length: counted while its bytes arrive.
    let res =
        tus(&srv, &token, Method::POST, "/stream/v1/tus/").header("upload-defer-length", "1").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let url = res.headers()["location"].to_str().unwrap().to_owned();
    let patch = |off: u64, data: Vec<u8>| {
        tus(&srv, &token, Method::PATCH, &url)
            .header("upload-offset", off)
            .header("content-type", PATCH_TYPE)
            .body(data)
    };
    assert_eq!(patch(0, bytes(300_000, 3)).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(srv.usage_bytes(&token).await, 900_000, "an unfinished upload's bytes count");
    let over = patch(300_000, bytes(300_000, 4)).send().await.unwrap();
    assert_eq!(over.status(), StatusCode::PAYLOAD_TOO_LARGE, "past the quota mid-upload");
    assert_eq!(srv.usage_bytes(&token).await, 900_000);
    assert_eq!(tus(&srv, &token, Method::DELETE, &url).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(srv.usage_bytes(&token).await, 600_000, "a terminated upload gives its bytes back");

    // tus with a known length: refused at creation.
    let res = tus(&srv, &token, Method::POST, "/stream/v1/tus/").header("upload-length", 500_000).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Concatenation: the parts hold their bytes; the joined file takes them over.
    let mut parts = Vec::new();
    for seed in 0..2u8 {
        let res = tus(&srv, &token, Method::POST, "/stream/v1/tus/")
            .header("upload-length", 150_000)
            .header("upload-concat", "partial")
            .send()
            .await
            .unwrap();
        let part = res.headers()["location"].to_str().unwrap().to_owned();
        let res = tus(&srv, &token, Method::PATCH, &part)
            .header("upload-offset", 0)
            .header("content-type", PATCH_TYPE)
            .body(bytes(150_000, 10 + seed))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        parts.push(part);
    }
    assert_eq!(srv.usage_bytes(&token).await, 900_000);
    let res = tus(&srv, &token, Method::POST, "/stream/v1/tus/")
        .header("upload-concat", format!("final;{}", parts.join(" ")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(srv.usage_bytes(&token).await, 900_000, "joined, the bytes count once");

    // Instant upload of content someone else stored: it counts, and is refused past the quota.
    let other = srv.signup(&user()).await;
    let shared = bytes(200_000, 42);
    assert_eq!(srv.post_file(&other, "s", shared.clone()).await.status(), StatusCode::CREATED);
    let sha = crate::common::sha256_hex(&shared);
    let res = srv
        .authed(Method::POST, "/api/v1/files/instant", &token)
        .json(&json!({"sha256": sha, "size": 200_000, "name": "s"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // A video's original counts too.
    let vid = srv.create_video(&name, &token, "v").await["id"].as_str().unwrap().to_owned();
    let res = srv.upload_raw(&vid, &token, fake_mp4(200_000, 3)).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let files = body(srv.authed(Method::GET, "/api/v1/files", &token).send().await.unwrap()).await;
    let first = files["files"].as_array().unwrap().iter().find(|f| f["size"] == 600_000).unwrap()["id"].clone();
    let res = srv.authed(Method::DELETE, &format!("/api/v1/files/{}", first.as_str().unwrap()), &token).send().await;
    assert_eq!(res.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(srv.usage_bytes(&token).await, 300_000, "a deleted file's bytes no longer count");
    assert_eq!(srv.upload_raw(&vid, &token, fake_mp4(200_000, 3)).await.status(), StatusCode::CREATED);
    assert_eq!(srv.usage_bytes(&token).await, 500_000);
    let res = srv.authed(Method::DELETE, &format!("/api/v1/user/{name}/videos/{vid}"), &token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(srv.usage_bytes(&token).await, 300_000, "so does a deleted video's original");

    // Concurrent uploads cannot take more than the quota between them.
    let racer = srv.signup(&user()).await;
    let tasks: Vec<_> = (0..8u8)
        .map(|i| {
            let req =
                srv.authed(Method::POST, &format!("/stream/v1/files?name=r{i}"), &racer).body(bytes(300_000, 50 + i));
            tokio::spawn(async move { req.send().await.unwrap().status() })
        })
        .collect();
    let mut stored = 0u64;
    for t in tasks {
        let status = t.await.unwrap();
        assert!(matches!(status, StatusCode::CREATED | StatusCode::PAYLOAD_TOO_LARGE), "{status}");
        if status == StatusCode::CREATED {
            stored += 300_000;
        }
    }
    assert_eq!(stored, 900_000, "exactly as many as fit");
    assert_eq!(srv.usage_bytes(&racer).await, 900_000);
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(quota_on_every_path);

async fn login(srv: &TestServer, name: &str, pwd: &str, forwarded_for: Option<&str>) -> StatusCode {
    let mut req = srv.req(Method::POST, &format!("/api/v1/user/{name}")).json(&json!({"user_name": name, "pwd": pwd}));
    if let Some(f) = forwarded_for {
        req = req.header("x-forwarded-for", f);
    }
    req.send().await.unwrap().status()
}

/// A burst of guesses cannot all be checked: at most the limit's worth are verified, and the
/// right password among them only succeeds within that.
async fn burst(srv: &TestServer) {
    let name = user();
    srv.signup(&name).await;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let req = srv
                .req(Method::POST, &format!("/api/v1/user/{name}"))
                .json(&json!({"user_name": name, "pwd": if i == 20 { PWD } else { "wrong password" }}));
            tokio::spawn(async move { req.send().await.unwrap().status() })
        })
        .collect();
    let mut verified = 0;
    let mut signed_in = false;
    for t in tasks {
        let status = t.await.unwrap();
        if status != StatusCode::TOO_MANY_REQUESTS {
            verified += 1;
        }
        signed_in |= status == StatusCode::OK;
    }
    // A success clears the count (see below): a burst that holds the right password may then
    // have up to the limit's worth checked again after it.
    let limit = if signed_in { 10 } else { 5 };
    assert!(verified <= limit, "{verified} of 40 guesses were checked; the limit is {limit}");
    // The right password counted only if it was among the few checked; a success clears the
    // account's failures (as it does anywhere), else the account stays locked.
    if !signed_in {
        assert_eq!(login(srv, &name, PWD, None).await, StatusCode::TOO_MANY_REQUESTS, "locked until the window ends");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_bursts_are_throttled_before_checking() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(&db, json!({"login_max_failures": 5, "login_ip_max_failures": 1000})).await;
    burst(&srv).await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_throttled_per_client_address() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    // Guesses at many accounts from one address: the per-account limit never trips.
    let srv = TestServer::start(&db, json!({"login_max_failures": 5, "login_ip_max_failures": 8})).await;
    let names: Vec<String> = (0..10).map(|_| user()).collect();
    for n in &names {
        srv.signup(n).await;
    }
    for (i, n) in names.iter().enumerate() {
        let status = login(&srv, n, "wrong password", Some(&format!("10.0.0.{i}"))).await;
        let want = if i < 8 { StatusCode::UNAUTHORIZED } else { StatusCode::TOO_MANY_REQUESTS };
        assert_eq!(status, want, "attempt {i}: a client's own X-Forwarded-For is not believed");
    }
    assert_eq!(login(&srv, &names[0], PWD, None).await, StatusCode::TOO_MANY_REQUESTS, "even the right one");
    srv.stop().await;

    // Behind a trusted proxy, the address it reports is the client.
    let srv = TestServer::start(
        &db,
        json!({"login_max_failures": 5, "login_ip_max_failures": 2, "trusted_proxies": "127.0.0.1"}),
    )
    .await;
    for (i, n) in names.iter().enumerate() {
        let from = format!("198.51.100.{i}");
        assert_eq!(login(&srv, n, "wrong password", Some(&from)).await, StatusCode::UNAUTHORIZED);
        assert_eq!(login(&srv, n, "wrong password", Some(&from)).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login(&srv, &names[3], "wrong password", Some("198.51.100.3")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "a third from one reported address"
    );
    // A success gives its address back only its own attempt, not the address's other guesses.
    let fresh = user();
    srv.signup(&fresh).await;
    assert_eq!(login(&srv, &fresh, "wrong password", Some("198.51.100.77")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(login(&srv, &fresh, PWD, Some("198.51.100.77")).await, StatusCode::OK);
    assert_eq!(login(&srv, &names[0], "wrong password", Some("198.51.100.77")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(login(&srv, &names[1], "wrong password", Some("198.51.100.77")).await, StatusCode::TOO_MANY_REQUESTS);
    // The proxy writes X-Forwarded-For and passes a client's own `Forwarded` on: that names
    // nobody, whatever address it claims.
    for (i, n) in names.iter().enumerate() {
        let res = srv
            .req(Method::POST, &format!("/api/v1/user/{n}"))
            .header("x-forwarded-for", "198.51.100.77")
            .header("forwarded", format!("for=203.0.113.{i}"))
            .json(&json!({"user_name": n, "pwd": "wrong password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "a client's Forwarded is not believed");
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_throttling_is_shared_across_replicas() {
    let Some(redis) = redis_url().await else { return };
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let settings = json!({"session_url": format!("{redis}/3"), "login_max_failures": 5, "login_ip_max_failures": 1000});
    let a = TestServer::start(&db, settings.clone()).await;
    let b = TestServer::start(&db, settings).await;
    let name = unique_name("r_");
    a.signup(&name).await;
    for i in 0..5 {
        let srv = if i % 2 == 0 { &a } else { &b };
        assert_eq!(login(srv, &name, "wrong password", None).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login(&b, &name, PWD, None).await, StatusCode::TOO_MANY_REQUESTS, "five failures over two replicas");
    assert_eq!(login(&a, &name, PWD, None).await, StatusCode::TOO_MANY_REQUESTS);
    // A burst split over both replicas is still held to the limit.
    let target = unique_name("r_");
    a.signup(&target).await;
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let srv = if i % 2 == 0 { &a } else { &b };
            let req = srv
                .req(Method::POST, &format!("/api/v1/user/{target}"))
                .json(&json!({"user_name": target, "pwd": "wrong password"}));
            tokio::spawn(async move { req.send().await.unwrap().status() })
        })
        .collect();
    let mut checked = 0;
    for t in tasks {
        if t.await.unwrap() != StatusCode::TOO_MANY_REQUESTS {
            checked += 1;
        }
    }
    assert!(checked <= 5, "{checked} checked");
    a.stop().await;
    b.stop().await;
}

/// Opens a download and never reads it: the socket's buffers fill and the server's writes
/// block.
async fn stalled_download(addr: &str, path: &str, token: &str) -> tokio::net::TcpStream {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let mut s = sock.connect(addr.parse().unwrap()).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nX-Session-Id: {token}\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).await.unwrap();
    assert_eq!(&head[9..12], b"200", "the download started");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_downloads_lose_their_slots() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(&db, json!({"max_streams_per_client": 2, "write_timeout_secs": 2})).await;
    let token = srv.signup(&user()).await;
    let res = srv.post_file(&token, "big.bin", bytes(16 * 1024 * 1024, 9)).await;
    let id = body(res).await["id"].as_str().unwrap().to_owned();
    let addr = srv.url.trim_start_matches("http://").to_owned();
    let path = format!("/stream/v1/files/{id}");
    let a = stalled_download(&addr, &path, &token).await;
    let b = stalled_download(&addr, &path, &token).await;
    let third = srv.authed(Method::GET, &path, &token).header("range", "bytes=0-0").send().await.unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS, "one client holds at most two streams");
    assert!(third.headers().contains_key("retry-after"));
    // The stalled ones end once their writes have made no progress for the write timeout.
    let mut freed = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let res = srv.authed(Method::GET, &path, &token).header("range", "bytes=0-0").send().await.unwrap();
        if res.status() == StatusCode::PARTIAL_CONTENT {
            freed = true;
            break;
        }
    }
    assert!(freed, "the stalled downloads' slots came back");
    drop((a, b));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_heads_and_stalled_bodies_are_cut() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv =
        TestServer::start(&db, json!({"header_timeout_secs": 1, "read_timeout_secs": 1, "upload_lock_secs": 2})).await;
    let addr = srv.url.trim_start_matches("http://").to_owned();
    // Slowloris: a head that never ends.
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server closed a connection whose head did not arrive in time");

    // A tus PATCH whose body stalls: it ends, keeps what arrived, and lets go of the upload.
    let token = srv.signup(&user()).await;
    let res = tus(&srv, &token, Method::POST, "/stream/v1/tus/").header("upload-length", 100_000).send().await.unwrap();
    let url = res.headers()["location"].to_str().unwrap().to_owned();
    let (tx, rx) = mpsc::unbounded::<Result<Vec<u8>, std::io::Error>>();
    tx.unbounded_send(Ok(bytes(10_000, 1))).unwrap();
    let stalled = tus(&srv, &token, Method::PATCH, &url)
        .header("upload-offset", 0)
        .header("content-type", PATCH_TYPE)
        .body(reqwest::Body::wrap_stream(rx))
        .send();
    let ended = tokio::time::timeout(Duration::from_secs(10), stalled).await;
    assert!(ended.is_ok(), "the stalled body was cut by the server");
    drop(tx);
    let head = tus(&srv, &token, Method::HEAD, &url).send().await.unwrap();
    assert_eq!(head.headers()["upload-offset"], "10000", "the bytes that arrived are kept");
    let res = tus(&srv, &token, Method::PATCH, &url)
        .header("upload-offset", 10_000)
        .header("content-type", PATCH_TYPE)
        .body(bytes(90_000, 2))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "and the upload goes on at once");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_details_are_for_operators() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let token = "t".repeat(40);
    let srv = TestServer::start(&db, json!({"admin_token": token})).await;
    let public = body(srv.req(Method::GET, "/readyz").send().await.unwrap()).await;
    assert_eq!(public, json!({"status": "ready"}), "no backend names or paths for the public");
    let res = srv.req(Method::GET, "/readyz").bearer_auth("wrong-token-wrong-token-wrong-token").send().await.unwrap();
    assert_eq!(body(res).await, json!({"status": "ready"}));
    let op = body(srv.req(Method::GET, "/readyz").bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(op["checks"]["database"], "ok", "{op}");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_request_cannot_pass_as_a_header_one() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(&db, json!({})).await;
    let name = user();
    let token = srv.signup(&name).await;
    // A session header that is not text, and the session cookie: the cookie must not be used
    // without the CSRF token.
    let res = srv
        .req(Method::POST, &format!("/api/v1/user/{name}/videos"))
        .header("x-session-id", reqwest::header::HeaderValue::from_bytes(b"\xff\xfe").unwrap())
        .header("cookie", format!("sv_session={token}"))
        .json(&json!({"name": "forged"}))
        .send()
        .await
        .unwrap();
    assert!(matches!(res.status(), StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN), "{}", res.status());
    let list =
        body(srv.authed(Method::GET, &format!("/api/v1/user/{name}/videos"), &token).send().await.unwrap()).await;
    assert_eq!(list["videos"], Value::Array(vec![]), "nothing was created");
    srv.stop().await;
}
