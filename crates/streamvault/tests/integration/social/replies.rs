//! One level of comment replies, and `@name` mentions that notify.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, TestDb, per_backend};

use super::{Member, call, expect, member, nothing, public_video};
use crate::common::TestServer;

async fn kinds_of(srv: &TestServer, m: &Member) -> Vec<String> {
    let n = expect(srv, Some(m), Method::GET, "/api/v1/me/notifications?limit=100", None, StatusCode::OK).await;
    n["notifications"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_owned()).collect()
}

async fn post(srv: &TestServer, vid: &str, m: &Member, body: Value) -> reqwest::Response {
    call(srv, Some(m), Method::POST, &format!("/api/v1/videos/{vid}/comments"), Some(body)).await
}

async fn replies_and_mentions(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (owner, c, d, e) = (member(&srv).await, member(&srv).await, member(&srv).await, member(&srv).await);
    let vid = public_video(&srv, &db, &owner, "talk").await;
    let other_vid = public_video(&srv, &db, &owner, "elsewhere").await;
    let comments = format!("/api/v1/videos/{vid}/comments");

    let top = crate::common::body(post(&srv, &vid, &c, json!({"content": "first"})).await).await;
    let top_id = top["id"].as_str().unwrap().to_owned();
    assert_eq!(top["parent_id"], Value::Null);
    // D replies to C, naming E (twice), themselves, the owner and nobody.
    let text = format!("@{} look, @{} again @{} @{} @no_such_user_z", e.name, e.name, d.name, owner.name);
    let reply = post(&srv, &vid, &d, json!({"content": text, "parent_id": top_id})).await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let reply = crate::common::body(reply).await;
    assert_eq!(reply["parent_id"].as_str(), Some(top_id.as_str()));
    // A reply to the reply answers the top-level comment.
    let deeper =
        crate::common::body(post(&srv, &vid, &e, json!({"content": "me too", "parent_id": reply["id"]})).await).await;
    assert_eq!(deeper["parent_id"].as_str(), Some(top_id.as_str()));

    assert_eq!(kinds_of(&srv, &c).await, ["reply", "reply"], "C: both replies to their comment");
    assert_eq!(kinds_of(&srv, &e).await, ["mention"], "E: named once, whatever the count");
    assert!(kinds_of(&srv, &d).await.is_empty(), "D: not of their own");
    // The owner: a comment each time (the first reason wins over the mention).
    assert_eq!(kinds_of(&srv, &owner).await, ["comment", "comment", "comment"]);

    // What cannot be answered.
    let other_top = crate::common::body(
        call(
            &srv,
            Some(&c),
            Method::POST,
            &format!("/api/v1/videos/{other_vid}/comments"),
            Some(json!({"content": "there"})),
        )
        .await,
    )
    .await;
    for (parent, status) in [
        (json!(other_top["id"]), StatusCode::NOT_FOUND),
        (json!(nothing()), StatusCode::NOT_FOUND),
        (json!("nope"), StatusCode::NOT_FOUND),
        (Value::Null, StatusCode::BAD_REQUEST),
        (json!(7), StatusCode::BAD_REQUEST),
    ] {
        let res = post(&srv, &vid, &d, json!({"content": "x", "parent_id": parent.clone()})).await;
        assert_eq!(res.status(), status, "{parent}");
    }
    // The old root path takes replies too.
    let res = call(
        &srv,
        Some(&d),
        Method::POST,
        &format!("/videos/{vid}/comments"),
        Some(json!({"content": "seed", "parent_id": top_id})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // Someone who blocked the author is not told of their mention.
    expect(&srv, Some(&e), Method::PUT, &format!("/api/v1/me/blocks/{}", d.name), None, StatusCode::NO_CONTENT).await;
    post(&srv, &vid, &d, json!({"content": format!("@{} hello?", e.name)})).await;
    assert_eq!(kinds_of(&srv, &e).await, ["mention"]);

    // The list shows who answers what; deleting a comment takes its replies.
    let list = expect(&srv, None, Method::GET, &format!("{comments}?limit=100"), None, StatusCode::OK).await;
    let replies = list["comments"].as_array().unwrap().iter().filter(|c| c["parent_id"] == json!(top_id)).count();
    assert_eq!(replies, 3);
    let res = call(&srv, Some(&c), Method::DELETE, &format!("/api/v1/videos/{vid}/comment/{top_id}"), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let list = expect(&srv, None, Method::GET, &format!("{comments}?limit=100"), None, StatusCode::OK).await;
    assert!(
        list["comments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["parent_id"] != json!(top_id) && c["id"] != json!(top_id))
    );
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(replies_and_mentions);
