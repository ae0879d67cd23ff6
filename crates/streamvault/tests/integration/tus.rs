//! tus 1.0 at `/stream/v1/tus/`: every status of the protocol and its extensions, on each
//! metadata backend, over real HTTP.

use crate::common::poll::poll;
use crate::common::tus::{PATCH_TYPE, Tus, b64, file_id, location};
use crate::common::{TestServer, body, fake_mp4, files_under, sha256_hex, user};
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::Digest;
use streamvault_testkit::{Backend, TestDb, per_backend};

const MAX: u64 = 4 * 1024 * 1024;

/// The server the protocol scenarios run against, or `None` (skip) without `backend`.
async fn protocol_server(backend: Backend) -> Option<(TestDb, TestServer)> {
    let db = TestDb::create(backend).await?;
    let srv = TestServer::start(&db, json!({"max_upload_bytes": MAX, "delete_grace_secs": 1})).await;
    Some((db, srv))
}

async fn finish(db: TestDb, srv: TestServer) {
    srv.stop().await;
    db.drop_db().await;
}

/// The file the protocol scenarios upload.
fn sample() -> Vec<u8> {
    fake_mp4(1_000_000, 7)
}

/// Discovery, the protocol version, and a session on every request.
async fn discovery(backend: Backend) {
    let Some((db, srv)) = protocol_server(backend).await else { return };
    let tus = Tus::signup(&srv).await;

    let res = srv.req(Method::OPTIONS, "/stream/v1/tus/").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let h = res.headers();
    assert_eq!(h["tus-version"], "1.0.0");
    assert_eq!(h["tus-resumable"], "1.0.0");
    assert_eq!(h["tus-max-size"], MAX.to_string().as_str());
    assert_eq!(h["tus-checksum-algorithm"], "sha1,sha256");
    for ext in [
        "creation",
        "creation-with-upload",
        "creation-defer-length",
        "expiration",
        "checksum",
        "termination",
        "concatenation",
    ] {
        assert!(h["tus-extension"].to_str().unwrap().split(',').any(|e| e == ext), "{ext}");
    }
    let res = srv
        .req(Method::POST, "/stream/v1/tus/")
        .bearer_auth(&tus.token)
        .header("upload-length", 10)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED, "no Tus-Resumable");
    assert_eq!(res.headers()["tus-version"], "1.0.0");
    let res = srv
        .req(Method::POST, "/stream/v1/tus/")
        .header("tus-resumable", "1.0.0")
        .header("upload-length", 10)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    finish(db, srv).await;
}

/// A browser on another site (Uppy, tus-js-client): a CORS preflight, then the request.
async fn cors(backend: Backend) {
    let Some((db, srv)) = protocol_server(backend).await else { return };
    let tus = Tus::signup(&srv).await;
    let res = srv
        .req(Method::OPTIONS, "/stream/v1/tus/")
        .header("origin", "https://elsewhere.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, tus-resumable, upload-length, upload-metadata")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let allowed = res.headers()["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    for h in ["authorization", "tus-resumable", "upload-length", "upload-metadata", "upload-offset", "content-type"] {
        assert!(allowed.contains(h), "{h} in {allowed}");
    }
    assert!(res.headers()["access-control-allow-methods"].to_str().unwrap().contains("PATCH"));
    let res = tus
        .req(Method::POST, "/stream/v1/tus/")
        .header("origin", "https://elsewhere.example")
        .header("upload-length", 1)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert!(res.headers()["access-control-expose-headers"].to_str().unwrap().contains("Location"));
    finish(db, srv).await;
}

/// Creation: a length, or a deferred one, and within limits.
async fn creation_checks(backend: Backend) {
    let Some((db, srv)) = protocol_server(backend).await else { return };
    let tus = Tus::signup(&srv).await;
    let res = tus.req(Method::POST, "/stream/v1/tus/").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "no length");
    let res = tus.req(Method::POST, "/stream/v1/tus/").header("upload-length", "-1").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = tus.req(Method::POST, "/stream/v1/tus/").header("upload-length", MAX + 1).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let res = tus
        .req(Method::POST, "/stream/v1/tus/")
        .header("upload-length", 5)
        .header("upload-metadata", "filename !!")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "metadata that is not base64");
    let res = tus
        .req(Method::POST, "/stream/v1/tus/")
        .header("upload-length", 5)
        .header("upload-metadata", format!("filename {}", b64("a/b")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "a file name with a slash");
    finish(db, srv).await;
}

/// Appends, with every way to get one wrong, up to the finished file.
async fn appends_and_offsets(backend: Backend) {
    let Some((db, srv)) = protocol_server(backend).await else { return };
    let tus = Tus::signup(&srv).await;
    let other = Tus::signup(&srv).await;
    let data = sample();
    let meta = format!("filename {},note", b64("holiday ünï.bin"));
    let url = tus.create(data.len() as u64, &meta).await;
    let head = tus.req(Method::HEAD, &url).send().await.unwrap();
    assert_eq!(head.headers()["upload-length"], "1000000");
    assert_eq!(head.headers()["upload-metadata"], meta.as_str());
    assert_eq!(head.headers()["cache-control"], "no-store");
    let res = tus
        .req(Method::PATCH, &url)
        .header("upload-offset", 0)
        .header("content-type", "application/octet-stream")
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = tus.patch(&url, 5, &data[..10]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "wrong offset");
    let res = tus.req(Method::PATCH, &url).header("content-type", PATCH_TYPE).body(vec![1u8; 10]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "no Upload-Offset");
    assert_eq!(other.patch(&url, 0, &data[..10]).await.status(), StatusCode::NOT_FOUND, "another user's upload");
    assert_eq!(other.req(Method::HEAD, &url).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(other.req(Method::DELETE, &url).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // The first part (with a checksum in `checksums`), then past the length, then the rest.
    assert_eq!(tus.patch(&url, 0, &data[..300_000]).await.status(), StatusCode::NO_CONTENT);
    let mut past = data[300_000..].to_vec();
    past.push(0);
    assert_eq!(tus.patch(&url, 300_000, &past).await.status(), StatusCode::PAYLOAD_TOO_LARGE, "past the length");
    assert_eq!(tus.offset(&url).await, 300_000);
    let res = tus.patch(&url, 300_000, &data[300_000..]).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let fid = file_id(&res);
    assert_eq!(tus.download(&fid).await, data, "byte-exact");
    let got = srv.req(Method::HEAD, &format!("/stream/v1/files/{fid}")).bearer_auth(&tus.token).send().await.unwrap();
    let disposition = got.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains("holiday%20%C3%BCn%C3%AF.bin"), "named from the metadata: {disposition}");
    let done = tus.req(Method::HEAD, &url).send().await.unwrap();
    assert_eq!(done.headers()["upload-offset"], "1000000");
    assert_eq!(done.headers()["streamvault-file-id"], fid.as_str(), "a finished upload says what it became");
    assert_eq!(tus.patch(&url, 1_000_000, b"x").await.status(), StatusCode::CONFLICT, "complete");
    finish(db, srv).await;
}

/// `Upload-Checksum`: a mismatch keeps nothing, an algorithm not offered is refused, a match
/// appends.
async fn checksums(backend: Backend) {
    let Some((db, srv)) = protocol_server(backend).await else { return };
    let tus = Tus::signup(&srv).await;
    let data = sample();
    let url = tus.create(data.len() as u64, "").await;
    let part = &data[..300_000];
    let wrong = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(b"something else"));
    let res = tus
        .req(Method::PATCH, &url)
        .header("upload-offset", 0)
        .header("content-type", PATCH_TYPE)
        .header("upload-checksum", format!("sha256 {wrong}"))
        .body(part.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 460, "checksum mismatch");
    assert_eq!(tus.offset(&url).await, 0, "nothing of a mismatched body is kept");
    let res = tus
        .req(Method::PATCH, &url)
        .header("upload-offset", 0)
        .header("content-type", PATCH_TYPE)
        .header("upload-checksum", "md5 AAAA")
        .body(part.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "an algorithm not offered");
    // Refused before its body was read: the connection is not offered for the next request.
    assert_eq!(res.headers()["connection"], "close");
    let good = base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(part));
    let res = tus
        .req(Method::PATCH, &url)
        .header("upload-offset", 0)
        .header("content-type", PATCH_TYPE)
        .header("upload-checksum", format!("sha1 {good}"))
        .body(part.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(res.headers()["upload-offset"], "300000");
    assert!(res.headers().contains_key("upload-expires"));
    finish(db, srv).await;
}

/// creation-defer-length, and creation-with-upload.
async fn deferred_length(backend: Backend) {
    let Some((db, srv)) = protocol_server(backend).await else { return };
    let tus = Tus::signup(&srv).await;
    let data = sample();
    let res = tus.req(Method::POST, "/stream/v1/tus/").header("upload-defer-length", "1").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let deferred = location(&res);
    assert_eq!(tus.req(Method::HEAD, &deferred).send().await.unwrap().headers()["upload-defer-length"], "1");
    assert_eq!(tus.patch(&deferred, 0, &data[..1000]).await.status(), StatusCode::NO_CONTENT);
    let res = tus
        .req(Method::PATCH, &deferred)
        .header("upload-offset", 1000)
        .header("upload-length", 2000)
        .header("content-type", PATCH_TYPE)
        .body(data[1000..2000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(tus.download(&file_id(&res)).await, &data[..2000]);
    let res = tus
        .req(Method::POST, "/stream/v1/tus/")
        .header("upload-length", 3000)
        .header("content-type", PATCH_TYPE)
        .body(data[..1200].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["upload-offset"], "1200", "bytes with the creation");
    finish(db, srv).await;
}

/// Termination: a terminated upload is gone.
async fn termination(backend: Backend) {
    let Some((db, srv)) = protocol_server(backend).await else { return };
    let tus = Tus::signup(&srv).await;
    let doomed = tus.create(10, "").await;
    assert_eq!(tus.patch(&doomed, 0, b"01234").await.status(), StatusCode::NO_CONTENT);
    assert_eq!(tus.req(Method::DELETE, &doomed).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(tus.req(Method::HEAD, &doomed).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    finish(db, srv).await;
}

/// Concatenation: two partial uploads joined into one file.
async fn concatenation(backend: Backend) {
    let Some((db, srv)) = protocol_server(backend).await else { return };
    let tus = Tus::signup(&srv).await;
    let other = Tus::signup(&srv).await;
    let data = sample();
    let mut parts = Vec::new();
    for chunk in [&data[..400_000], &data[400_000..]] {
        let res = tus
            .req(Method::POST, "/stream/v1/tus/")
            .header("upload-length", chunk.len())
            .header("upload-concat", "partial")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let u = location(&res);
        let res = tus
            .req(Method::PATCH, &u)
            .header("upload-offset", 0)
            .header("upload-concat", "partial")
            .header("content-type", PATCH_TYPE)
            .body(chunk.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert!(res.headers().get("streamvault-file-id").is_none(), "a part is not a file");
        parts.push(format!("{}{u}", srv.url));
    }
    let incomplete = tus
        .req(Method::POST, "/stream/v1/tus/")
        .header("upload-length", 10)
        .header("upload-concat", "partial")
        .send()
        .await
        .unwrap();
    let incomplete = location(&incomplete);
    let res = tus
        .req(Method::POST, "/stream/v1/tus/")
        .header("upload-concat", format!("final;{} {incomplete}", parts[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "an incomplete part");
    let res = other
        .req(Method::POST, "/stream/v1/tus/")
        .header("upload-concat", format!("final;{} {}", parts[0], parts[1]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "another user's parts");
    let res = tus
        .req(Method::POST, "/stream/v1/tus/")
        .header("upload-concat", format!("final;{} {}", parts[0], parts[1]))
        .header("upload-metadata", format!("filename {}", b64("joined.bin")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let joined = location(&res);
    assert_eq!(tus.download(&file_id(&res)).await, data);
    assert_eq!(
        tus.patch(&joined, 1_000_000, b"x").await.status(),
        StatusCode::FORBIDDEN,
        "final uploads take no PATCH"
    );
    let head = tus.req(Method::HEAD, &joined).send().await.unwrap();
    assert!(head.headers()["upload-concat"].to_str().unwrap().starts_with("final;"));
    finish(db, srv).await;
}

/// `video_id` in the metadata makes the upload a video's source; `folder_id` puts the finished
/// file in one of the uploader's folders.
async fn video_and_folder_targets(backend: Backend) {
    let Some((db, srv)) = protocol_server(backend).await else { return };
    let name = user();
    let tus = Tus { token: srv.signup(&name).await, srv: &srv };
    let other = Tus::signup(&srv).await;

    // A video's source through tus.
    let vid = srv.create_video(&name, &tus.token, "by tus").await["id"].as_str().unwrap().to_owned();
    let video = fake_mp4(200_000, 9);
    let url = tus.create(video.len() as u64, &format!("filename {},video_id {}", b64("v.mp4"), b64(&vid))).await;
    let res = tus.patch(&url, 0, &video).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(res.headers()["streamvault-video-id"], vid.as_str());
    let played = srv.req(Method::GET, &format!("/stream/v1/videos/{vid}")).send().await.unwrap();
    assert_eq!(played.headers()["etag"], format!("\"{}\"", sha256_hex(&video)).as_str());
    let res = other
        .req(Method::POST, "/stream/v1/tus/")
        .header("upload-length", 10)
        .header("upload-metadata", format!("video_id {}", b64(&vid)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "another user's video");

    // `folder_id` puts the finished file in one of the uploader's folders; another user's
    // folder is not found, and a video's source goes in no folder.
    let folder = body(
        tus.srv
            .authed(Method::POST, "/api/v1/folders", &tus.token)
            .json(&json!({"name": "In here"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let folder = folder["id"].as_str().unwrap().to_owned();
    let url = tus.create(5, &format!("filename {},folder_id {}", b64("f.txt"), b64(&folder))).await;
    let res = tus.patch(&url, 0, b"hello").await;
    let f = body(
        tus.srv.authed(Method::GET, &format!("/api/v1/files/{}", file_id(&res)), &tus.token).send().await.unwrap(),
    )
    .await;
    assert_eq!(f["folder_id"], folder.as_str(), "{f}");
    for (who, meta, status) in [
        (&other, format!("folder_id {}", b64(&folder)), StatusCode::NOT_FOUND),
        (&tus, format!("folder_id {},video_id {}", b64(&folder), b64(&vid)), StatusCode::BAD_REQUEST),
        (&tus, format!("folder_id {}", b64("nope")), StatusCode::BAD_REQUEST),
    ] {
        let res = who
            .req(Method::POST, "/stream/v1/tus/")
            .header("upload-length", 10)
            .header("upload-metadata", meta)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status);
    }
    finish(db, srv).await;
}

per_backend!(
    discovery,
    cors,
    creation_checks,
    appends_and_offsets,
    checksums,
    deferred_length,
    termination,
    concatenation,
    video_and_folder_targets
);

/// Two PATCHes racing for one upload: one wins (204), the other is turned away (423 while the
/// first holds the lock, or 409 once the offset moved), and the file is not corrupted.
async fn concurrent_patches(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({"max_upload_bytes": MAX})).await;
    let tus = Tus::signup(&srv).await;
    let a = fake_mp4(2_000_000, 1);
    let b = fake_mp4(2_000_000, 2);
    let url = tus.create(a.len() as u64, "").await;
    let (ra, rb) = tokio::join!(tus.patch(&url, 0, &a), tus.patch(&url, 0, &b));
    let statuses = [ra.status(), rb.status()];
    let winners = statuses.iter().filter(|s| **s == StatusCode::NO_CONTENT).count();
    assert_eq!(winners, 1, "exactly one append wins: {statuses:?}");
    assert!(
        statuses.iter().all(|s| [StatusCode::NO_CONTENT, StatusCode::LOCKED, StatusCode::CONFLICT].contains(s)),
        "{statuses:?}"
    );
    let won = if ra.status() == StatusCode::NO_CONTENT { (ra, &a) } else { (rb, &b) };
    assert_eq!(&tus.download(&file_id(&won.0)).await, won.1, "the winner's bytes, whole");
    srv.stop().await;
    db.drop_db().await;
}

/// A client that goes away mid-PATCH keeps what arrived; it resumes from there.
async fn disconnect_keeps_bytes(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({"max_upload_bytes": MAX})).await;
    let tus = Tus::signup(&srv).await;
    let data = fake_mp4(1_500_000, 3);
    let url = tus.create(data.len() as u64, "").await;
    // 600 KB, then the connection breaks.
    let head = data[..600_000].to_vec();
    let body = futures::stream::iter([Ok::<_, std::io::Error>(head), Err(std::io::Error::other("cable pulled"))]);
    let res = tus
        .req(Method::PATCH, &url)
        .header("upload-offset", 0)
        .header("content-type", PATCH_TYPE)
        .header("content-length", data.len())
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await;
    assert!(res.is_err() || !res.unwrap().status().is_success(), "the cut request did not succeed");
    let cut = std::time::Instant::now();
    let mut kept = 0;
    for _ in 0..100 {
        let res = tus.req(Method::HEAD, &url).send().await.unwrap();
        if res.status() == StatusCode::OK {
            kept = res.headers()["upload-offset"].to_str().unwrap().parse::<u64>().unwrap();
            if kept > 0 {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(kept > 0 && kept <= 600_000, "the bytes that arrived were kept: {kept}");
    // The offset is recorded while bytes arrive, so the first one seen may come before the
    // server has noticed the cut and let go of the lock (423, which tus clients retry): the
    // resume goes through as soon as it has, from the offset then.
    // Within 6 s (under the default 8 s lease: a server that only let go when the lease ran
    // out would still fail).
    let mut res = None;
    let deadline = cut + std::time::Duration::from_secs(6);
    while std::time::Instant::now() < deadline {
        let head = tus.req(Method::HEAD, &url).send().await.unwrap();
        let at: u64 = head.headers()["upload-offset"].to_str().unwrap().parse().unwrap();
        let r = tus.patch(&url, at, &data[at as usize..]).await;
        if r.status() != StatusCode::LOCKED {
            res = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let res = res.expect("the lock was let go within 6 s of the cut");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(tus.download(&file_id(&res)).await, data, "byte-exact after the resume");
    srv.stop().await;
    db.drop_db().await;
}

/// Quotas count files and unfinished uploads; uploads expire and their bytes go.
async fn quota_and_expiry(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv =
        TestServer::start(&db, json!({"max_upload_bytes": MAX, "quota_bytes": 1_000_000, "upload_expiry_secs": 2}))
            .await;
    let tus = Tus::signup(&srv).await;
    let data = fake_mp4(600_000, 4);
    let url = tus.create(data.len() as u64, "").await;
    let res = tus.req(Method::POST, "/stream/v1/tus/").header("upload-length", 500_000).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "600 KB pending + 500 KB > 1 MB");
    assert_eq!(tus.patch(&url, 0, &data).await.status(), StatusCode::NO_CONTENT);
    let res = tus.req(Method::POST, "/stream/v1/tus/").header("upload-defer-length", "1").send().await.unwrap();
    let deferred = location(&res);
    let res = tus
        .req(Method::PATCH, &deferred)
        .header("upload-offset", 0)
        .header("upload-length", 500_000)
        .header("content-type", PATCH_TYPE)
        .body(vec![0u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "a deferred length is checked when it comes");
    let other = Tus::signup(&srv).await;
    let res = other.req(Method::POST, "/stream/v1/tus/").header("upload-length", 900_000).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "quotas are per user");

    // An upload left half-way expires: not found, and its segments are removed.
    let stale = tus.create(300_000, "").await;
    assert_eq!(tus.patch(&stale, 0, &data[..100_000]).await.status(), StatusCode::NO_CONTENT);
    let segments = srv.data_dir().join("blobs/uploads");
    assert!(!files_under(&segments).is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(tus.req(Method::HEAD, &stale).send().await.unwrap().status(), StatusCode::NOT_FOUND, "expired");
    let reclaimed =
        poll(100, std::time::Duration::from_millis(100), || async { files_under(&segments).is_empty() }).await;
    assert!(reclaimed, "expired uploads' bytes are reclaimed: {:?}", files_under(&segments));
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(concurrent_patches, disconnect_keeps_bytes, quota_and_expiry);

/// Consecutive PATCHes land on different replicas (sharing the database and the blob store):
/// the upload completes byte-exact, whichever replica takes which part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_alternate_between_replicas() {
    let Some(db) = TestDb::create(Backend::MySql).await else { return };
    let shared = tempfile::tempdir().unwrap();
    let storage = format!("fs://{}", shared.path().display());
    let a = TestServer::start(&db, json!({"max_upload_bytes": MAX, "storage_url": storage})).await;
    let b = TestServer::start(&db, json!({"max_upload_bytes": MAX, "storage_url": storage})).await;
    let token = a.signup(&user()).await;
    let (ta, tb) = (Tus { token: token.clone(), srv: &a }, Tus { token, srv: &b });
    let data = fake_mp4(3_000_000, 5);
    let url = ta.create(data.len() as u64, "").await;
    let mut offset = 0;
    let mut last = None;
    for (i, chunk) in data.chunks(400_000).enumerate() {
        let tus = if i % 2 == 0 { &ta } else { &tb };
        assert_eq!(tus.offset(&url).await, offset as u64, "both replicas agree on the offset");
        let res = tus.patch(&url, offset as u64, chunk).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        offset += chunk.len();
        last = Some(res);
    }
    let fid = file_id(&last.unwrap());
    assert_eq!(ta.download(&fid).await, data);
    assert_eq!(tb.download(&fid).await, data);
    a.stop().await;
    b.stop().await;
    db.drop_db().await;
}

/// Runs the stock tus-js-client (from npm, under node) against `endpoint`.
fn tus_js(args: &[&str]) -> Option<serde_json::Value> {
    node_client("tus_upload.mjs", args)
}

/// Runs one of the JavaScript clients in tests/js under node.
fn node_client(script: &str, args: &[&str]) -> Option<serde_json::Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    if !dir.join("node_modules/tus-js-client").exists() {
        assert!(!streamvault_testkit::in_ci(), "tests/js/node_modules is missing under CI (npm ci)");
        eprintln!("SKIP: run `npm ci` in {} for the tus-js-client tests", dir.display());
        return None;
    }
    let out = std::process::Command::new("node").arg(dir.join(script)).args(args).output().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "tus-js-client failed: {stdout} {}", String::from_utf8_lossy(&out.stderr));
    Some(serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap())
}

/// Stock tus-js-client, unchanged: whole-file, chunked with an interruption and a resume, and
/// parallel parts joined by concatenation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tus_js_client_uploads_resumes_and_joins() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(&db, json!({"max_upload_bytes": 64 * 1024 * 1024})).await;
    let token = srv.signup(&user()).await;
    let tus = Tus { token: token.clone(), srv: &srv };
    let dir = tempfile::tempdir().unwrap();
    let data = fake_mp4(5_000_000, 6);
    let file = dir.path().join("clip.mp4");
    std::fs::write(&file, &data).unwrap();
    let endpoint = format!("{}/stream/v1/tus/", srv.url);
    let file_s = file.to_str().unwrap();
    let store = dir.path().join("urls.json");
    let runs: [&[&str]; 3] = [
        &[],
        &["--chunk-size", "1048576", "--interrupt-after", "2500000", "--store", store.to_str().unwrap()],
        &["--parallel", "2"],
    ];
    for extra in runs {
        let mut args = vec!["--endpoint", &endpoint, "--file", file_s, "--token", &token, "--timeout-ms", "60000"];
        args.extend_from_slice(extra);
        let Some(out) = tus_js(&args) else { return };
        assert_eq!(out["bytes"], 5_000_000, "{out}");
        if extra.contains(&"--interrupt-after") {
            assert_eq!(out["resumed"], true, "{out}");
            let at = out["offset_at_resume"].as_u64().unwrap();
            assert!((1_048_576..5_000_000).contains(&at), "resumed from the server's offset: {out}");
        }
        let fid = out["file_id"].as_str().unwrap_or_else(|| panic!("no file id: {out}"));
        assert_eq!(tus.download(fid).await, data, "byte-exact with {extra:?}");
    }
    srv.stop().await;
}

/// Stock Uppy (`@uppy/core` with `@uppy/tus`), unchanged, whole and in chunks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uppy_uploads_unchanged() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(&db, json!({"max_upload_bytes": 64 * 1024 * 1024})).await;
    let token = srv.signup(&user()).await;
    let tus = Tus { token: token.clone(), srv: &srv };
    let dir = tempfile::tempdir().unwrap();
    let data = fake_mp4(3_000_000, 8);
    let file = dir.path().join("by-uppy.bin");
    std::fs::write(&file, &data).unwrap();
    let endpoint = format!("{}/stream/v1/tus/", srv.url);
    for chunk in ["inf", "1048576"] {
        let args =
            ["--endpoint", &endpoint, "--file", file.to_str().unwrap(), "--token", &token, "--chunk-size", chunk];
        let Some(out) = node_client("uppy_upload.mjs", &args) else { return };
        assert_eq!(out["ok"], true, "{out}");
        let fid = out["file_id"].as_str().unwrap_or_else(|| panic!("no file id: {out}"));
        assert_eq!(tus.download(fid).await, data, "byte-exact with chunk size {chunk}");
    }
    srv.stop().await;
}
