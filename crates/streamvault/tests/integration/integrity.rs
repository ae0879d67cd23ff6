//! Integrity of content-addressed bytes under races a hostile (or unlucky) client can cause: a
//! stalled tus writer after its lock was taken over, concurrent appends, a collection racing a
//! new reference, two uploads to one video, folder moves and deletions racing each other. On
//! every metadata backend, and for tus on object storage too.

use std::time::Duration;

use futures::channel::mpsc;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, S3Target, TestDb, per_backend};

use crate::common::tus::{PATCH_TYPE, Tus, b64, file_id};
use crate::common::{TestServer, body, fake_mp4, files_under, sha256_hex, user};

/// The tests' upload lock lease: a stall of twice this is a lost lock.
const LEASE_SECS: u64 = 1;

fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn server(db: &TestDb, extra: Value) -> TestServer {
    let mut settings = json!({"upload_lock_secs": LEASE_SECS});
    if let (Some(s), Some(e)) = (settings.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    TestServer::start(db, settings).await
}

/// A writer streams part of an append, stalls past its lease, and resumes with other bytes
/// after a second writer took the upload over and completed it: the published content stays
/// the genuine one, and every later upload of it deduplicates onto the genuine bytes.
async fn stalled_writer(srv: &TestServer) {
    let c = Tus::signup(srv).await;
    let len = 256 * 1024;
    let genuine = noise(len, 7);
    let url = c.create_bare(len as u64).await;

    // Writer A: 64 KiB of the genuine bytes, then a stall.
    let (tx, rx) = mpsc::unbounded::<Result<Vec<u8>, std::io::Error>>();
    tx.unbounded_send(Ok(genuine[..64 * 1024].to_vec())).unwrap();
    let stalled = c
        .req(Method::PATCH, &url)
        .header("upload-offset", 0)
        .header("content-type", PATCH_TYPE)
        .body(reqwest::Body::wrap_stream(rx))
        .send();
    let stalled = tokio::spawn(stalled);
    tokio::time::sleep(Duration::from_millis(LEASE_SECS * 1000 * 3 / 2)).await;

    // Writer B takes the upload over (A never recorded anything) and completes it.
    assert_eq!(c.offset(&url).await, 0);
    let done = c.patch(&url, 0, &genuine).await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT, "the takeover completes the upload");
    let fid = file_id(&done);

    // A wakes up and sends other bytes for the rest of its body.
    // (If the server has answered already, there is no one to send them to.)
    let _ = tx.unbounded_send(Ok(vec![0xEE; len - 64 * 1024]));
    drop(tx);
    // The writer that lost its lock is refused (or cut off mid-body).
    if let Ok(a) = stalled.await.unwrap() {
        assert!(
            matches!(a.status(), StatusCode::LOCKED | StatusCode::CONFLICT | StatusCode::GONE | StatusCode::NOT_FOUND),
            "the writer that lost its lock is refused, got {}",
            a.status()
        );
    }

    tokio::time::sleep(Duration::from_millis(300)).await;
    let (bytes, etag) = c.download_tagged(&fid).await;
    assert_eq!(sha256_hex(&bytes), sha256_hex(&genuine), "the published bytes are the genuine ones");
    assert_eq!(etag, sha256_hex(&genuine));
    // The same content uploaded again deduplicates onto bytes that match their address.
    let again = c.srv.new_file(&c.token, "again.bin", genuine.clone()).await;
    assert_eq!(again["deduplicated"], true);
    let (bytes, etag) = c.download_tagged(again["id"].as_str().unwrap()).await;
    assert_eq!(sha256_hex(&bytes), etag, "the stored blob's bytes hash to its address");
    // On a local store, every blob file's name is the hash of its bytes.
    for f in files_under(&srv.data_dir().join("blobs").join("sha256")) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(sha256_hex(&std::fs::read(&f).unwrap()), name, "{}", f.display());
    }
}

/// Writers race appends to one upload, some of them stalling mid-body and then sending
/// garbage: whatever interleaving, the finished file is the genuine content.
async fn racing_appends(srv: &TestServer) {
    let c = Tus::signup(srv).await;
    let len = 768 * 1024;
    let genuine = noise(len, 99);
    let url = c.create_bare(len as u64).await;
    let chunk = 64 * 1024;
    let mut tasks = Vec::new();
    for w in 0..6u64 {
        let (srv, token, url, genuine) = (srv.url.clone(), c.token.clone(), url.clone(), genuine.clone());
        tasks.push(tokio::spawn(async move {
            let http = streamvault_testkit::http_client();
            let req =
                |m: Method| http.request(m, format!("{srv}{url}")).header("tus-resumable", "1.0.0").bearer_auth(&token);
            let mut last_file = None;
            for round in 0..200u64 {
                let head = req(Method::HEAD).send().await.unwrap();
                let off: usize = head.headers()["upload-offset"].to_str().unwrap().parse().unwrap();
                if off == len {
                    break;
                }
                let n = chunk.min(len - off);
                let patch = req(Method::PATCH).header("upload-offset", off).header("content-type", PATCH_TYPE);
                let res = if (w + round) % 4 == 0 {
                    // Half the genuine bytes, a stall past the lease, then garbage.
                    let (tx, rx) = mpsc::unbounded::<Result<Vec<u8>, std::io::Error>>();
                    tx.unbounded_send(Ok(genuine[off..off + n / 2].to_vec())).unwrap();
                    let sent = tokio::spawn(patch.body(reqwest::Body::wrap_stream(rx)).send());
                    tokio::time::sleep(Duration::from_millis(LEASE_SECS * 1000 * 3 / 2)).await;
                    let _ = tx.unbounded_send(Ok(vec![0xAB; n - n / 2]));
                    drop(tx);
                    match sent.await.unwrap() {
                        Ok(res) => res,
                        Err(_) => continue, // answered and closed while the garbage was on its way
                    }
                } else {
                    patch.body(genuine[off..off + n].to_vec()).send().await.unwrap()
                };
                if let Some(f) = res.headers().get("streamvault-file-id") {
                    last_file = Some(f.to_str().unwrap().to_owned());
                }
            }
            last_file
        }));
    }
    let mut file = None;
    for t in tasks {
        if let Some(f) = t.await.unwrap() {
            file = Some(f);
        }
    }
    assert_eq!(c.offset(&url).await, len as u64, "the upload completed");
    let fid = match file {
        Some(f) => f,
        None => file_id(&c.req(Method::HEAD, &url).send().await.unwrap()),
    };
    let (bytes, etag) = c.download_tagged(&fid).await;
    assert_eq!(bytes.len(), len);
    assert_eq!(sha256_hex(&bytes), sha256_hex(&genuine), "racing writers never mix in garbage");
    assert_eq!(etag, sha256_hex(&genuine));
}

/// A deferred-length upload is terminated while an append of it stalls past its lease: when the
/// stalled append ends, the upload's quota hold stays gone (it once came back, for good).
async fn terminated_under_a_stalled_append(srv: &TestServer) {
    let c = Tus::signup(srv).await;
    let usage = || c.srv.usage_bytes(&c.token);
    let res = c.req(Method::POST, "/stream/v1/tus/").header("upload-defer-length", "1").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let url = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(c.patch(&url, 0, &noise(64 * 1024, 3)).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(usage().await, 64 * 1024);

    let (tx, rx) = mpsc::unbounded::<Result<Vec<u8>, std::io::Error>>();
    tx.unbounded_send(Ok(vec![1; 100])).unwrap();
    let stalled = c
        .req(Method::PATCH, &url)
        .header("upload-offset", 64 * 1024)
        .header("content-type", PATCH_TYPE)
        .header("content-length", 100_000)
        .body(reqwest::Body::wrap_stream(rx))
        .send();
    let stalled = tokio::spawn(stalled);
    tokio::time::sleep(Duration::from_millis(LEASE_SECS * 1000 * 3 / 2)).await;
    assert_eq!(c.req(Method::DELETE, &url).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(usage().await, 0);
    drop(tx); // the stalled client goes away
    let _ = stalled.await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(usage().await, 0, "the terminated upload's hold stays gone");
}

async fn tus_writers(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = server(&db, json!({"quota_bytes": 10_000_000})).await;
    stalled_writer(&srv).await;
    racing_appends(&srv).await;
    terminated_under_a_stalled_append(&srv).await;
    srv.stop().await;
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tus_writers_on_object_storage() {
    let Some(s3) = S3Target::find().await else { return };
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = server(&db, json!({"storage_url": s3.storage_url(&s3.unique_root()), "playback": "proxy"})).await;
    stalled_writer(&srv).await;
    racing_appends(&srv).await;
    srv.stop().await;
}

/// A blob's last reference goes (its collection runs) while the same content is uploaded
/// again, deduplicated or instant: whichever wins, a file never points at bytes that are gone.
async fn collection_races_new_references(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = server(&db, json!({"delete_grace_secs": 3600})).await;
    let c = Tus::signup(&srv).await;
    for round in 0..12u64 {
        let data = noise(8 * 1024 + round as usize, 1000 + round);
        let first = srv.new_file(&c.token, "first.bin", data.clone()).await;
        let fid = first["id"].as_str().unwrap().to_owned();
        let res = srv.authed(Method::DELETE, &format!("/api/v1/files/{fid}"), &c.token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        // The delayed deletion job, run now, races a new upload of the same bytes.
        let cleanup = srv.app().cleanup.clone();
        let (file_id, sha256) = (fid.parse().unwrap(), sha256_hex(&data));
        let collect = tokio::spawn(async move { cleanup.delete_file(file_id, &sha256).await });
        let again = srv.new_file(&c.token, "again.bin", data.clone()).await;
        collect.await.unwrap().unwrap();
        let (bytes, _) = c.download_tagged(again["id"].as_str().unwrap()).await;
        assert_eq!(bytes, data, "round {round}: the new file's bytes are all there");
    }
    srv.stop().await;
    db.drop_db().await;
}

/// Two uploads of different bytes to one video: one wins, the other gets 409, and the loser's
/// bytes are removed at once and count against nobody.
async fn racing_uploads_to_one_video(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = server(&db, json!({})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "contested").await["id"].as_str().unwrap().to_owned();
    let a = fake_mp4(300 * 1024, 1);
    let b = fake_mp4(200 * 1024, 2);
    let (ra, rb) = tokio::join!(srv.upload_raw(&vid, &token, a.clone()), srv.upload_raw(&vid, &token, b.clone()));
    let mut statuses = [ra.status(), rb.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT], "one wins, one is refused");
    let (won, lost) = if ra.status() == StatusCode::CREATED { (&a, &b) } else { (&b, &a) };
    let blobs: Vec<String> = files_under(&srv.data_dir().join("blobs").join("sha256"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(blobs, vec![sha256_hex(won)], "the loser's bytes are not kept");
    let me = body(srv.authed(Method::GET, "/api/v1/me", &token).send().await.unwrap()).await;
    assert_eq!(me["usage_bytes"], won.len(), "only the winner's bytes count");
    assert_ne!(won.len(), lost.len());
    srv.stop().await;
    db.drop_db().await;
}

/// Two folders moved into each other at once: never both, so no cycle; and renames and deletes
/// afterwards finish.
async fn racing_folder_moves(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = server(&db, json!({})).await;
    let token = srv.signup(&user()).await;
    let folder = |name: &'static str| {
        let req = srv.authed(Method::POST, "/api/v1/folders", &token).json(&json!({"name": name}));
        async move { body(req.send().await.unwrap()).await["id"].as_str().unwrap().to_owned() }
    };
    let (a, b) = (folder("a").await, folder("b").await);
    let mv = |id: &str, parent: Option<&str>| {
        srv.authed(Method::PATCH, &format!("/api/v1/folders/{id}"), &token).json(&json!({"parent_id": parent})).send()
    };
    for round in 0..15 {
        let (ra, rb) = tokio::join!(mv(&a, Some(&b)), mv(&b, Some(&a)));
        let (ra, rb) = (ra.unwrap().status(), rb.unwrap().status());
        assert!(!(ra == StatusCode::OK && rb == StatusCode::OK), "round {round}: both moves succeeded, making a cycle");
        assert!(ra == StatusCode::OK || rb == StatusCode::OK, "round {round}: one of them wins ({ra}, {rb})");
        assert_eq!(mv(&a, None).await.unwrap().status(), StatusCode::OK);
        assert_eq!(mv(&b, None).await.unwrap().status(), StatusCode::OK);
    }
    let rename = srv.authed(Method::PATCH, &format!("/api/v1/folders/{a}"), &token).json(&json!({"name": "x"}));
    let renamed = tokio::time::timeout(Duration::from_secs(10), rename.send()).await.expect("a rename ends");
    assert_eq!(renamed.unwrap().status(), StatusCode::OK);
    let del = srv.authed(Method::DELETE, &format!("/api/v1/folders/{b}"), &token).send();
    assert_eq!(tokio::time::timeout(Duration::from_secs(10), del).await.expect("a delete ends").unwrap().status(), 204);
    srv.stop().await;
    db.drop_db().await;
}

/// Uploads into a folder race the folder's deletion: each file ends up deleted with the folder
/// or at the top of the drive, counted and reachable, never in a folder that is gone.
async fn uploads_race_folder_deletion(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = server(&db, json!({})).await;
    let c = Tus::signup(&srv).await;
    for round in 0..8u64 {
        let res = srv.authed(Method::POST, "/api/v1/folders", &c.token).json(&json!({"name": "doomed"})).send().await;
        let folder = body(res.unwrap()).await["id"].as_str().unwrap().to_owned();
        let meta = format!("filename {},folder_id {}", b64("f.bin"), b64(&folder));
        let data = noise(32 * 1024, round);
        let res =
            c.req(Method::POST, "/stream/v1/tus/").header("upload-length", data.len()).header("upload-metadata", meta);
        let url = res.send().await.unwrap().headers()["location"].to_str().unwrap().to_owned();
        let del = srv.authed(Method::DELETE, &format!("/api/v1/folders/{folder}"), &c.token).send();
        let (done, del) = tokio::join!(c.patch(&url, 0, &data), del);
        assert_eq!(done.status(), StatusCode::NO_CONTENT);
        assert_eq!(del.unwrap().status(), StatusCode::NO_CONTENT);
        let fid = file_id(&done);
        let res = srv.authed(Method::GET, &format!("/api/v1/files/{fid}"), &c.token).send().await.unwrap();
        if res.status() == StatusCode::OK {
            let f = body(res).await;
            assert_eq!(f["folder_id"], Value::Null, "round {round}: a file that outlived its folder is at the top");
            let top = body(srv.authed(Method::GET, "/api/v1/files?limit=100", &c.token).send().await.unwrap()).await;
            assert!(top["files"].as_array().unwrap().iter().any(|x| x["id"] == fid.as_str()), "and listed there");
        } else {
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "round {round}: otherwise it went with the folder");
        }
    }
    // What the quota counts is exactly what the drive shows.
    let top = body(srv.authed(Method::GET, "/api/v1/files?limit=100", &c.token).send().await.unwrap()).await;
    let shown: u64 = top["files"].as_array().unwrap().iter().map(|f| f["size"].as_u64().unwrap()).sum();
    let me = body(srv.authed(Method::GET, "/api/v1/me", &c.token).send().await.unwrap()).await;
    assert_eq!(me["usage_bytes"], shown);
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(
    tus_writers,
    collection_races_new_references,
    racing_uploads_to_one_video,
    racing_folder_moves,
    uploads_race_folder_deletion
);
