//! Who is watching a video now: heartbeats counted once per viewer, on every backend, in one
//! process and across replicas that share Redis; and views, counted from watching.

use std::time::Duration;

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, TestDb, per_backend, redis_url};

use crate::common::poll::poll;
use crate::common::{TestServer, body, fake_mp4, set_video_column, user};

/// A signed-up user's token and a video of theirs with its original uploaded.
async fn playable_video(srv: &TestServer) -> (String, String, String) {
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "live").await["id"].as_str().unwrap().to_owned();
    assert_eq!(srv.upload_raw(&vid, &token, fake_mp4(64 * 1024, 7)).await.status(), StatusCode::CREATED);
    (name, token, vid)
}

async fn beat(srv: &TestServer, vid: &str, token: Option<&str>) -> (StatusCode, Value) {
    let path = format!("/api/v1/videos/{vid}/watching");
    let req = match token {
        Some(t) => srv.authed(Method::POST, &path, t),
        None => srv.req(Method::POST, &path),
    };
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, body(res).await)
}

async fn watching(srv: &TestServer, vid: &str) -> Value {
    let res = srv.req(Method::GET, &format!("/api/v1/videos/{vid}/watching")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    body(res).await
}

async fn counts_each_viewer_once(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (owner_name, owner, vid) = playable_video(&srv).await;
    let viewer = srv.signup(&user()).await;

    assert_eq!(watching(&srv, &vid).await, json!({"now": 0, "peak": 0}), "nobody yet");
    assert_eq!(beat(&srv, &vid, Some(&viewer)).await, (StatusCode::OK, json!({"now": 1, "peak": 1})));
    // A burst from one viewer (many tabs) is one viewer.
    let burst = join_all((0..20).map(|_| beat(&srv, &vid, Some(&viewer)))).await;
    assert!(burst.iter().all(|(s, b)| *s == StatusCode::OK && b["now"] == 1), "{burst:?}");
    assert_eq!(beat(&srv, &vid, Some(&owner)).await.1["now"], 2);
    // Anonymous players count by address: made-up names cannot inflate the count.
    assert_eq!(beat(&srv, &vid, None).await.1["now"], 3);
    assert_eq!(beat(&srv, &vid, None).await.1["now"], 3);
    assert_eq!(watching(&srv, &vid).await, json!({"now": 3, "peak": 3}));

    // Nothing to watch: unknown, malformed, not uploaded yet.
    let none = srv.create_video(&owner_name, &owner, "empty").await["id"].as_str().unwrap().to_owned();
    for bad in [uuid::Uuid::now_v7().to_string(), "nope".to_owned(), none] {
        assert_eq!(beat(&srv, &bad, Some(&viewer)).await.0, StatusCode::NOT_FOUND, "{bad}");
        let res = srv.req(Method::GET, &format!("/api/v1/videos/{bad}/watching")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    // A token that is not valid is an anonymous viewer, as for playback.
    assert_eq!(beat(&srv, &vid, Some("not-a-token")).await.1["now"], 3);
    // Two new viewers racing: both count.
    let (x, y) = (srv.signup(&user()).await, srv.signup(&user()).await);
    let (rx, ry) = tokio::join!(beat(&srv, &vid, Some(&x)), beat(&srv, &vid, Some(&y)));
    assert_eq!((rx.0, ry.0), (StatusCode::OK, StatusCode::OK));
    assert_eq!(watching(&srv, &vid).await["now"], 5);
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(counts_each_viewer_once);

/// Two replicas sharing Redis (`STREAMVAULT_BUS_URL`) count one set of viewers: a viewer
/// beating on both counts once, and each replica reports what the other counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_the_count() {
    let (Some(db), Some(redis)) = (TestDb::create(Backend::Postgres).await, redis_url().await) else { return };
    let shared = json!({"bus_url": redis});
    let a = TestServer::start(&db, shared.clone()).await;
    let b = TestServer::start(&db, shared).await;
    let (_, owner, vid) = playable_video(&a).await;
    let viewer = a.signup(&user()).await;
    assert_eq!(beat(&a, &vid, Some(&viewer)).await.1["now"], 1);
    assert_eq!(beat(&b, &vid, Some(&viewer)).await.1["now"], 1, "one viewer on two replicas");
    assert_eq!(beat(&b, &vid, Some(&owner)).await.1["now"], 2);
    assert_eq!(watching(&a, &vid).await, json!({"now": 2, "peak": 2}), "A sees what B counted");
    let ready = a.req(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    a.stop().await;
    b.stop().await;
    db.drop_db().await;
}

async fn views(srv: &TestServer, name: &str, vid: &str) -> i64 {
    body(srv.req(Method::GET, &format!("/api/v1/user/{name}/videos/{vid}")).send().await.unwrap()).await["views"]
        .as_i64()
        .unwrap()
}

/// A view counts after watching long enough (30 s, or half a shorter video: 2 s of this 4 s
/// one, less a second for the player's timer), once per viewer; fetching the bytes is not a view.
async fn views_count_after_watching(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    // No worker: nothing probes the video and overwrites its length.
    let srv = TestServer::start(&db, json!({"roles": "api,stream,web"})).await;
    let (name, _, vid) = playable_video(&srv).await;
    // No worker probes it here: its length set straight in the row.
    set_video_column(&db, &vid, "duration_ms", 4000).await;
    srv.touched(&vid).await;
    for _ in 0..3 {
        let res = srv.req(Method::GET, &format!("/stream/v1/videos/{vid}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let viewer = srv.signup(&user()).await;
    assert_eq!(beat(&srv, &vid, Some(&viewer)).await.0, StatusCode::OK);
    // One heartbeat only (a viewer who left at once) never makes a view.
    let passer = srv.signup(&user()).await;
    assert_eq!(beat(&srv, &vid, Some(&passer)).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(views(&srv, &name, &vid).await, 0, "three downloads and a first heartbeat are no view");
    assert_eq!(beat(&srv, &vid, Some(&viewer)).await.0, StatusCode::OK);
    // Many tabs racing on the heartbeat that makes the view count it once.
    join_all((0..10).map(|_| beat(&srv, &vid, Some(&viewer)))).await;
    let counted = poll(40, Duration::from_millis(100), || async { views(&srv, &name, &vid).await == 1 }).await;
    assert!(counted, "one view, written by the batch");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(beat(&srv, &vid, Some(&viewer)).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(views(&srv, &name, &vid).await, 1, "the same viewer again so soon is the same view");
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(views_count_after_watching);
