//! Bursts and races on the routes whose own tests are sequential: history reports, blocks
//! against follows, notification reads and settings, and every `/me` route refused to an
//! anonymous caller.

use reqwest::{Method, StatusCode};
use serde_json::json;
use streamvault_testkit::{Backend, TestDb, per_backend};

use super::{call, expect, member, public_video};
use crate::common::{TestServer, count};

async fn bursts_and_races(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (a, b) = (member(&srv).await, member(&srv).await);
    let vid = public_video(&srv, &db, &a, "raced").await;

    // 40 progress reports at once: one history row, holding one of the positions sent.
    let at = format!("/api/v1/me/history/{vid}");
    let bodies: Vec<_> = (0..40u64).map(|i| json!({"position_ms": i * 1000})).collect();
    let reports = bodies.iter().map(|j| call(&srv, Some(&b), Method::PUT, &at, Some(j.clone())));
    assert!(futures::future::join_all(reports).await.iter().all(|r| r.status() == StatusCode::OK));
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM watch_history").await, 1);
    let pos = expect(&srv, Some(&b), Method::GET, &at, None, StatusCode::OK).await["position_ms"].as_u64().unwrap();
    assert!(pos % 1000 == 0 && pos < 40_000, "{pos}");

    // A block racing a follow, ten times: once both have answered, a blocked user never
    // follows, and the count says so.
    let (follow, block) = (format!("/api/v1/channels/{}/follow", a.name), format!("/api/v1/me/blocks/{}", b.name));
    for round in 0..10 {
        expect(&srv, Some(&a), Method::DELETE, &block, None, StatusCode::NO_CONTENT).await;
        let (f, k) = tokio::join!(
            call(&srv, Some(&b), Method::PUT, &follow, None),
            call(&srv, Some(&a), Method::PUT, &block, None)
        );
        assert!(f.status() == StatusCode::OK || f.status() == StatusCode::FORBIDDEN, "{}", f.status());
        assert_eq!(k.status(), StatusCode::NO_CONTENT);
        let ch = expect(&srv, None, Method::GET, &format!("/api/v1/channels/{}", a.name), None, StatusCode::OK).await;
        assert_eq!(
            ch["followers"].as_u64(),
            Some(0),
            "round {round}: follow {}, a blocked user follows nobody who blocked them",
            f.status()
        );
    }
    expect(&srv, Some(&a), Method::DELETE, &block, None, StatusCode::NO_CONTENT).await;

    // Notifications marked read one by one and all at once, racing: none left unread.
    for i in 0..6 {
        let res = call(
            &srv,
            Some(&b),
            Method::POST,
            &format!("/api/v1/videos/{vid}/comments"),
            Some(json!({"content": format!("c{i}")})),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let list = expect(&srv, Some(&a), Method::GET, "/api/v1/me/notifications", None, StatusCode::OK).await;
    let ids: Vec<String> =
        list["notifications"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect();
    // Six comments, and a new follower if a follow got in before a block in the races above.
    let comments = list["notifications"].as_array().unwrap().iter().filter(|n| n["kind"] == "comment").count();
    assert_eq!(comments, 6);
    let paths: Vec<String> = ids.iter().map(|id| format!("/api/v1/me/notifications/{id}/read")).collect();
    let ones = paths.iter().map(|p| call(&srv, Some(&a), Method::POST, p, None));
    let (ones, all) = tokio::join!(
        futures::future::join_all(ones),
        call(&srv, Some(&a), Method::POST, "/api/v1/me/notifications/read", None)
    );
    assert!(ones.iter().all(|r| r.status() == StatusCode::OK) && all.status() == StatusCode::OK);
    assert_eq!(
        expect(&srv, Some(&a), Method::GET, "/api/v1/me/notifications", None, StatusCode::OK).await["unread"],
        0
    );

    // Two settings changes at once: each kind ends as one of them set it, never lost.
    let (x, y) = tokio::join!(
        call(&srv, Some(&a), Method::PATCH, "/api/v1/me/notifications/settings", Some(json!({"comment": false}))),
        call(&srv, Some(&a), Method::PATCH, "/api/v1/me/notifications/settings", Some(json!({"reply": false})))
    );
    assert!(x.status() == StatusCode::OK && y.status() == StatusCode::OK);
    let s = expect(&srv, Some(&a), Method::GET, "/api/v1/me/notifications/settings", None, StatusCode::OK).await;
    assert_eq!(
        (s["comment"].as_bool(), s["reply"].as_bool(), s["new_video"].as_bool()),
        (Some(false), Some(false), Some(true))
    );

    // Anonymous: every `/me` route of the social layer is refused, reads and writes.
    let id = uuid::Uuid::now_v7();
    for (m, path) in [
        (Method::GET, "/api/v1/me/feed".to_owned()),
        (Method::GET, "/api/v1/me/following".into()),
        (Method::GET, "/api/v1/me/notifications".into()),
        (Method::GET, "/api/v1/me/notifications/unread".into()),
        (Method::POST, "/api/v1/me/notifications/read".into()),
        (Method::POST, format!("/api/v1/me/notifications/{id}/read")),
        (Method::PATCH, "/api/v1/me/notifications/settings".into()),
        (Method::GET, "/api/v1/me/playlists".into()),
        (Method::POST, "/api/v1/me/playlists".into()),
        (Method::PATCH, format!("/api/v1/me/playlists/{id}")),
        (Method::PUT, format!("/api/v1/me/playlists/{id}/items/{vid}")),
        (Method::GET, "/api/v1/me/history".into()),
        (Method::PUT, at.clone()),
        (Method::DELETE, at.clone()),
        (Method::PUT, "/api/v1/me/history-paused".into()),
        (Method::GET, "/api/v1/me/conversations".into()),
        (Method::POST, format!("/api/v1/me/conversations/{}/messages", a.name)),
        (Method::GET, "/api/v1/me/blocks".into()),
        (Method::PUT, format!("/api/v1/me/blocks/{}", a.name)),
    ] {
        let res = call(&srv, None, m.clone(), &path, Some(json!({}))).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{m} {path}");
    }
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(bursts_and_races);
