//! The stream role over real HTTP: uploads (raw and the seed's multipart), every playback edge
//! case byte for byte, deduplication, and the stream limiter.

use std::time::Duration;

use crate::common::{TestServer, body, expect_error, fake_mp4, files_under, sha256_hex, user};
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::json;
use streamvault_testkit::{Backend, TestDb, per_backend};

async fn upload_then_play_every_range(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "ranged").await["id"].as_str().unwrap().to_owned();
    // Past the 4 MiB frames mapped ranges are sent in, and each of them by `sendfile`.
    let data = fake_mp4(5 * 1024 * 1024 + 17, 1);

    let res = srv.upload_raw(&vid, &token, data.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let up = body(res).await;
    assert_eq!(up["sha256"], sha256_hex(&data));
    assert_eq!(up["size"], data.len());
    assert_eq!(up["mime"], "video/mp4");
    assert!(["uploaded", "processing"].contains(&up["status"].as_str().unwrap_or_default()), "{up}");
    assert_eq!(up["deduplicated"], false);
    let v = body(srv.req(Method::GET, &format!("/user/{name}/videos/{vid}")).send().await.unwrap()).await;
    // Public once the bytes are in; the probe job may already have moved it on.
    assert!(["uploaded", "processing", "ready"].contains(&v["status"].as_str().unwrap_or_default()), "{v}");

    let url = format!("/stream/v1/videos/{vid}");
    let etag = format!("\"{}\"", sha256_hex(&data));
    for path in [url.clone(), format!("/videos/{vid}")] {
        let res = srv.req(Method::GET, &path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers().clone();
        assert_eq!(h["accept-ranges"], "bytes");
        assert_eq!(h["etag"], etag.as_str());
        assert_eq!(h["content-type"], "video/mp4");
        assert_eq!(h["content-length"], data.len().to_string().as_str());
        assert!(h.contains_key("last-modified") && h.contains_key("cache-control"));
        assert_eq!(res.bytes().await.unwrap().as_ref(), &data[..], "{path} byte-exact");
    }
    let res = srv.req(Method::HEAD, &url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-length"], data.len().to_string().as_str());
    assert!(res.bytes().await.unwrap().is_empty());

    // Random single ranges, all three forms, checked byte for byte.
    let size = data.len() as u64;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..60 {
        let a = rng.random_range(0..size);
        let b = rng.random_range(a..size);
        let (header, start, end) = match rng.random_range(0..3) {
            0 => (format!("bytes={a}-{b}"), a, b + 1),
            1 => (format!("bytes={a}-"), a, size),
            _ => {
                let n = rng.random_range(1..=size);
                (format!("bytes=-{n}"), size - n, size)
            }
        };
        let res = srv.req(Method::GET, &url).header("range", &header).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "{header}");
        assert_eq!(res.headers()["content-range"], format!("bytes {start}-{}/{size}", end - 1).as_str());
        assert_eq!(res.bytes().await.unwrap().as_ref(), &data[start as usize..end as usize], "{header}");
    }

    // Edge cases.
    let get = |h: Vec<(&'static str, String)>| {
        let mut req = srv.req(Method::GET, &url);
        for (k, v) in h {
            req = req.header(k, v);
        }
        req.send()
    };
    for unsatisfiable in
        [format!("bytes={size}-"), format!("bytes={}-{}", size + 5, size + 9), "bytes=-0".into(), "bytes=9-3".into()]
    {
        let res = get(vec![("range", unsatisfiable.clone())]).await.unwrap();
        assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{unsatisfiable}");
        assert_eq!(res.headers()["content-range"], format!("bytes */{size}").as_str());
    }
    let res = get(vec![("range", format!("bytes=-{}", size * 2))]).await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "a suffix longer than the file is all of it");
    assert_eq!(res.bytes().await.unwrap().len() as u64, size);
    let res = get(vec![("range", "bytes=garbage".into())]).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "a malformed Range is ignored");
    // Every body is read to its end: an unread 5 MiB answer (shadowing does not drop it) holds
    // its connection with the server blocked in a write, and the stop below waits for it.
    assert_eq!(res.bytes().await.unwrap().len() as u64, size);
    let res = get(vec![("range", "bytes=0-1,5-9".into())]).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "several ranges: the whole file");
    assert_eq!(res.bytes().await.unwrap().len() as u64, size);
    let res = get(vec![("range", "bytes=10-19".into()), ("if-range", etag.clone())]).await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &data[10..20]);
    let res = get(vec![("range", "bytes=10-19".into()), ("if-range", "\"stale\"".into())]).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "a stale If-Range gets the whole new representation");
    assert_eq!(res.bytes().await.unwrap().len() as u64, size);
    let lm = srv.req(Method::HEAD, &url).send().await.unwrap().headers()["last-modified"].to_str().unwrap().to_owned();
    let res = get(vec![("range", "bytes=10-19".into()), ("if-range", lm.clone())]).await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &data[10..20]);
    let res = get(vec![("if-none-match", etag.clone())]).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = get(vec![("if-modified-since", lm)]).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // Fetching bytes is not a view (views come from the player's heartbeats, tests/live.rs):
    // after the batch had time to be written, none.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let v = body(srv.req(Method::GET, &format!("/user/{name}/videos/{vid}")).send().await.unwrap()).await;
    assert_eq!(v["views"], 0, "plays from byte 0 are no views");

    // Gone when deleted.
    srv.authed(Method::DELETE, &format!("/user/{name}/videos/{vid}"), &token).send().await.unwrap();
    expect_error(srv.req(Method::GET, &url).send().await.unwrap(), StatusCode::NOT_FOUND).await;
    srv.stop().await;
    db.drop_db().await;
}

async fn upload_rules(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({"max_upload_bytes": 1024 * 1024})).await;
    let (alice, bob) = (user(), user());
    let (ta, tb) = (srv.signup(&alice).await, srv.signup(&bob).await);
    let vid = srv.create_video(&alice, &ta, "rules").await["id"].as_str().unwrap().to_owned();
    let small = fake_mp4(200_000, 2);

    expect_error(
        srv.req(Method::GET, &format!("/stream/v1/videos/{vid}")).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let res =
        srv.req(Method::POST, &format!("/stream/v1/videos/{vid}/upload")).body(small.clone()).send().await.unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED).await;
    expect_error(srv.upload_raw(&vid, &tb, small.clone()).await, StatusCode::FORBIDDEN).await;
    expect_error(srv.upload_raw(&uuid::Uuid::now_v7().to_string(), &ta, small.clone()).await, StatusCode::NOT_FOUND)
        .await;
    expect_error(srv.upload_raw("not-an-id", &ta, small.clone()).await, StatusCode::NOT_FOUND).await;
    let code =
        expect_error(srv.upload_raw(&vid, &ta, vec![b'x'; 100_000]).await, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert_eq!(code, "unsupported_media_type");
    expect_error(srv.upload_raw(&vid, &ta, Vec::new()).await, StatusCode::BAD_REQUEST).await;

    // Too large: refused while reading (no Content-Length to go by), and nothing stays behind.
    let big = fake_mp4(3 * 1024 * 1024, 3);
    let stream =
        futures::stream::iter(big.chunks(64 * 1024).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>());
    let res = srv
        .authed(Method::POST, &format!("/stream/v1/videos/{vid}/upload"), &ta)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await;
    expect_error(res.unwrap(), StatusCode::PAYLOAD_TOO_LARGE).await;
    // With a Content-Length over the limit the answer needs no reading at all.
    let res = srv.upload_raw(&vid, &ta, big.clone()).await;
    expect_error(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    let staging = srv.data_dir().join("staging");
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 0, "no staging file is left");
    assert!(!srv.data_dir().join("blobs/sha256").exists() || files_under(&srv.data_dir().join("blobs")).is_empty());
    let v = body(srv.authed(Method::GET, &format!("/user/{alice}/videos/{vid}"), &ta).send().await.unwrap()).await;
    assert_eq!(v["status"], "created");

    // The seed's multipart route, field "file" among others.
    let form = reqwest::multipart::Form::new()
        .text("note", "ignored")
        .part("file", reqwest::multipart::Part::bytes(small.clone()).file_name("clip.mp4"));
    let res = srv.authed(Method::POST, &format!("/upload/{vid}"), &ta).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(body(res).await["sha256"], sha256_hex(&small));
    let got = srv.req(Method::GET, &format!("/videos/{vid}")).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(got.as_ref(), &small[..]);
    expect_error(srv.upload_raw(&vid, &ta, small.clone()).await, StatusCode::CONFLICT).await;

    let vid2 = srv.create_video(&alice, &ta, "second").await["id"].as_str().unwrap().to_owned();
    let form = reqwest::multipart::Form::new().text("other", "x");
    let res = srv.authed(Method::POST, &format!("/upload/{vid2}"), &ta).multipart(form).send().await.unwrap();
    expect_error(res, StatusCode::BAD_REQUEST).await;
    let res = srv.authed(Method::POST, &format!("/upload/{vid2}"), &ta).body(small.clone()).send().await.unwrap();
    expect_error(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    // The same bytes again: stored once.
    let res = srv.upload_raw(&vid2, &ta, small.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(body(res).await["deduplicated"], true);
    assert_eq!(files_under(&srv.data_dir().join("blobs")).len(), 1, "one blob for two videos");
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 0);
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(upload_then_play_every_range, upload_rules);

/// Two slots: a third stream gets 429; a finished stream and a client that goes away both give
/// their slot back at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limiter_frees_slots_when_streams_end_or_clients_leave() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(&db, json!({"max_streams": 2})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "long").await["id"].as_str().unwrap().to_owned();
    let data = fake_mp4(48 * 1024 * 1024, 4);
    assert_eq!(srv.upload_raw(&vid, &token, data).await.status(), StatusCode::CREATED);
    let url = format!("/stream/v1/videos/{vid}");

    let mut a = srv.req(Method::GET, &url).send().await.unwrap();
    let b = srv.req(Method::GET, &url).send().await.unwrap();
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    a.chunk().await.unwrap();
    let res = srv.req(Method::GET, &url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "1");
    expect_error(res, StatusCode::TOO_MANY_REQUESTS).await;
    // HEAD reads no bytes and takes no slot.
    assert_eq!(srv.req(Method::HEAD, &url).send().await.unwrap().status(), StatusCode::OK);

    drop(b); // the client goes away mid-stream
    let third = wait_for_slot(&srv, &url).await;
    assert_eq!(third.status(), StatusCode::OK);
    let _ = third.bytes().await.unwrap(); // reads to the end: finished, slot back
    let fourth = wait_for_slot(&srv, &url).await;
    assert_eq!(fourth.status(), StatusCode::OK);
    drop(fourth);
    drop(a);
    srv.stop().await;
}

async fn wait_for_slot(srv: &TestServer, url: &str) -> reqwest::Response {
    for _ in 0..100 {
        let res = srv.req(Method::GET, url).send().await.unwrap();
        if res.status() != StatusCode::TOO_MANY_REQUESTS {
            return res;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no slot came free within 2 s");
}
