//! Deletion end to end: a deleted video is hidden at once, its row goes when the worker runs
//! the delayed job, and a blob goes only when no video or file still uses it.

use std::time::Duration;

use crate::common::poll::poll;
use crate::common::{TestServer, body, count, fake_mp4, sha256_hex, user};
use reqwest::{Method, StatusCode};
use serde_json::json;
use streamvault_testkit::{Backend, TestDb, per_backend};

/// Waits for the worker: until `sql` counts `want`, for up to 10 s.
async fn until_counts(db: &TestDb, sql: &str, want: i64) {
    let counted = poll(100, Duration::from_millis(100), || async { count(&db.url, sql).await == want }).await;
    assert!(counted, "{sql} never counted {want} (now {})", count(&db.url, sql).await);
}

async fn shared_blobs_go_with_their_last_reference(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({"delete_grace_secs": 0})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let data = fake_mp4(400_000, 31);
    let sha = sha256_hex(&data);
    let blob_file = srv.data_dir().join(format!("blobs/sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]));

    let a = srv.create_video(&name, &token, "a").await["id"].as_str().unwrap().to_owned();
    let b = srv.create_video(&name, &token, "b").await["id"].as_str().unwrap().to_owned();
    assert_eq!(srv.upload_raw(&a, &token, data.clone()).await.status(), StatusCode::CREATED);
    assert_eq!(body(srv.upload_raw(&b, &token, data.clone()).await).await["deduplicated"], true);
    let res = srv
        .authed(Method::POST, &format!("/videos/{a}/comments"), &token)
        .json(&json!({"content": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    // Delete A: hidden at once; the worker removes the row and its comments, not the shared blob.
    let res = srv.authed(Method::DELETE, &format!("/user/{name}/videos/{a}"), &token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    until_counts(&db, "SELECT COUNT(*) FROM videos", 1).await;
    until_counts(&db, "SELECT COUNT(*) FROM comments", 0).await;
    until_counts(&db, "SELECT COUNT(*) FROM jobs WHERE state = 'done' AND kind = 'delete_video'", 1).await;
    assert!(blob_file.is_file(), "B still needs the blob");
    let played = srv.req(Method::GET, &format!("/stream/v1/videos/{b}")).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(played.as_ref(), &data[..]);

    // A drive file with the same bytes keeps it alive after B goes too.
    let res =
        srv.authed(Method::POST, "/stream/v1/files?name=keep.mp4", &token).body(data.clone()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let file = body(res).await["id"].as_str().unwrap().to_owned();
    srv.authed(Method::DELETE, &format!("/user/{name}/videos/{b}"), &token).send().await.unwrap();
    until_counts(&db, "SELECT COUNT(*) FROM videos", 0).await;
    until_counts(&db, "SELECT COUNT(*) FROM jobs WHERE state = 'done' AND kind = 'delete_video'", 2).await;
    assert!(blob_file.is_file(), "the file still needs the blob");
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM blobs").await, 1);

    // The file's deletion takes the blob with it: nothing else needs it any more.
    let res = srv.authed(Method::DELETE, &format!("/api/v1/files/{file}"), &token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    until_counts(&db, "SELECT COUNT(*) FROM blobs", 0).await;
    assert!(!blob_file.exists(), "the last reference took the bytes");

    // Stored again, the next deletion of a video with these bytes takes the blob again.
    let c = srv.create_video(&name, &token, "c").await["id"].as_str().unwrap().to_owned();
    assert_eq!(srv.upload_raw(&c, &token, data.clone()).await.status(), StatusCode::CREATED);
    srv.authed(Method::DELETE, &format!("/user/{name}/videos/{c}"), &token).send().await.unwrap();
    until_counts(&db, "SELECT COUNT(*) FROM blobs", 0).await;
    assert!(!blob_file.exists(), "no orphaned object");
    // No dangling job: the media jobs of the deleted videos end too (as no-ops).
    until_counts(&db, "SELECT COUNT(*) FROM jobs WHERE state <> 'done' AND kind <> 'collect_blob'", 0).await;
    srv.stop().await;
    db.drop_db().await;
}

/// With a grace period, the bytes stay (and the job waits) until it has passed.
async fn the_grace_period_is_honoured(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    // 4 s of grace, looked at after 1 s: room for a slow machine either way.
    let srv = TestServer::start(&db, json!({"delete_grace_secs": 4})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let v = srv.create_video(&name, &token, "later").await["id"].as_str().unwrap().to_owned();
    srv.upload_raw(&v, &token, fake_mp4(100_000, 32)).await;
    srv.authed(Method::DELETE, &format!("/user/{name}/videos/{v}"), &token).send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM videos").await, 1, "not before the grace period");
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM blobs").await, 1);
    until_counts(&db, "SELECT COUNT(*) FROM blobs", 0).await;
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM videos").await, 0);
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(shared_blobs_go_with_their_last_reference, the_grace_period_is_honoured);
