//! Watch history: recorded as the player reports, resumable, pausable, clearable, and the
//! caller's alone.

use reqwest::{Method, StatusCode};
use serde_json::json;
use streamvault_testkit::{Backend, TestDb, per_backend};

use super::{call, expect, member, nothing, public_video, walk};
use crate::common::TestServer;

async fn history_records_resumes_pauses_and_clears(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (viewer, other) = (member(&srv).await, member(&srv).await);
    let mut vids = Vec::new();
    for i in 0..4 {
        vids.push(public_video(&srv, &db, &other, &format!("watch {i}")).await);
    }
    let at = |v: &str| format!("/api/v1/me/history/{v}");
    for (i, v) in vids.iter().enumerate() {
        let r = expect(
            &srv,
            Some(&viewer),
            Method::PUT,
            &at(v),
            Some(json!({"position_ms": 1000 * i as u64})),
            StatusCode::OK,
        )
        .await;
        assert_eq!(r["recorded"].as_bool(), Some(true));
    }
    // Watching again moves it to the front with the new position.
    expect(&srv, Some(&viewer), Method::PUT, &at(&vids[0]), Some(json!({"position_ms": 4242})), StatusCode::OK).await;
    let h = expect(&srv, Some(&viewer), Method::GET, "/api/v1/me/history", None, StatusCode::OK).await;
    let order: Vec<&str> = h["items"].as_array().unwrap().iter().map(|i| i["video"]["id"].as_str().unwrap()).collect();
    assert_eq!(order[0], vids[0]);
    assert_eq!(h["items"][0]["position_ms"].as_u64(), Some(4242));
    assert_eq!(
        expect(&srv, Some(&viewer), Method::GET, &at(&vids[0]), None, StatusCode::OK).await["position_ms"],
        4242
    );
    let walked = walk(
        &srv,
        &viewer,
        "/api/v1/me/history",
        "items",
        |i| i["video"]["id"].as_str().unwrap().to_owned(),
        || async {},
    )
    .await;
    assert_eq!(walked.len(), 4);

    // Another user's history is theirs: empty, and no resume point of the viewer's.
    let theirs = expect(&srv, Some(&other), Method::GET, "/api/v1/me/history", None, StatusCode::OK).await;
    assert!(theirs["items"].as_array().unwrap().is_empty());
    let none = expect(&srv, Some(&other), Method::GET, &at(&vids[0]), None, StatusCode::OK).await;
    assert_eq!(none["position_ms"], serde_json::Value::Null);
    for (m, path) in
        [("GET", "/api/v1/me/history"), ("DELETE", "/api/v1/me/history"), ("GET", "/api/v1/me/history-paused")]
    {
        let res = call(&srv, None, m.parse().unwrap(), path, None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{m} {path}");
    }
    // Bad input.
    let hidden = srv.create_video(&other.name, &other.token, "private").await["id"].as_str().unwrap().to_owned();
    for v in [hidden.as_str(), &nothing()] {
        let res = call(&srv, Some(&viewer), Method::PUT, &at(v), Some(json!({"position_ms": 1}))).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    for bad in [json!({"position_ms": -1}), json!({"position_ms": "1"}), json!({}), json!({"position_ms": 1, "x": 1})] {
        let res = call(&srv, Some(&viewer), Method::PUT, &at(&vids[1]), Some(bad.clone())).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }

    // Paused: nothing recorded until it is resumed.
    expect(
        &srv,
        Some(&viewer),
        Method::PUT,
        "/api/v1/me/history-paused",
        Some(json!({"paused": true})),
        StatusCode::OK,
    )
    .await;
    let r = expect(&srv, Some(&viewer), Method::PUT, &at(&vids[1]), Some(json!({"position_ms": 9999})), StatusCode::OK)
        .await;
    assert_eq!(r["recorded"].as_bool(), Some(false));
    assert_ne!(
        expect(&srv, Some(&viewer), Method::GET, &at(&vids[1]), None, StatusCode::OK).await["position_ms"],
        9999
    );
    assert_eq!(
        expect(&srv, Some(&viewer), Method::GET, "/api/v1/me/history", None, StatusCode::OK).await["paused"],
        true
    );
    expect(
        &srv,
        Some(&viewer),
        Method::PUT,
        "/api/v1/me/history-paused",
        Some(json!({"paused": false})),
        StatusCode::OK,
    )
    .await;

    // Forget one, then clear all.
    expect(&srv, Some(&viewer), Method::DELETE, &at(&vids[2]), None, StatusCode::NO_CONTENT).await;
    assert_eq!(call(&srv, Some(&viewer), Method::DELETE, &at(&vids[2]), None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        expect(&srv, Some(&viewer), Method::DELETE, "/api/v1/me/history", None, StatusCode::OK).await["cleared"],
        3
    );
    assert!(
        expect(&srv, Some(&viewer), Method::GET, "/api/v1/me/history", None, StatusCode::OK).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(history_records_resumes_pauses_and_clears);
