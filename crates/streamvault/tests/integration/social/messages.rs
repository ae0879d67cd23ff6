//! Private messages and blocks: verbatim text, unread counts, pages, races, rate limits, and
//! nobody outside a conversation reading it: every other user, an anonymous caller, and the
//! operators' token.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, TestDb, per_backend};

use super::{Member, call, expect, member, members, public_video, walk};
use crate::common::{ADMIN_TOKEN, TestServer, body};

fn thread(name: &str) -> String {
    format!("/api/v1/me/conversations/{name}/messages")
}

async fn send(srv: &TestServer, from: &Member, to: &Member, text: &str) -> reqwest::Response {
    call(srv, Some(from), Method::POST, &thread(&to.name), Some(json!({"text": text}))).await
}

fn texts(list: &Value) -> Vec<String> {
    list["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect()
}

async fn messages_stay_between_two(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (a, b) = (member(&srv).await, member(&srv).await);
    let others = members(&srv, 4).await;

    // Verbatim, from 1 to 4000 characters.
    let odd = "  héllo\n\t<b>wörld</b> 👋🏽 \u{202e}  ";
    let long = "界".repeat(4000);
    for text in [odd, "x", long.as_str()] {
        let sent = body(send(&srv, &b, &a, text).await).await;
        assert_eq!(sent["text"].as_str(), Some(text));
        assert_eq!(sent["mine"].as_bool(), Some(true));
    }
    for bad in [
        json!({"text": ""}),
        json!({"text": "   "}),
        json!({"text": "界".repeat(4001)}),
        json!({"text": null}),
        json!({}),
        json!({"text": "a\u{0}b"}),
    ] {
        let res = call(&srv, Some(&b), Method::POST, &thread(&a.name), Some(bad.clone())).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(send(&srv, &b, &b, "me").await.status(), StatusCode::CONFLICT);
    assert_eq!(
        send(&srv, &b, &Member { name: "no_such_user_y".into(), token: String::new() }, "x").await.status(),
        StatusCode::NOT_FOUND
    );

    // A's list: one conversation, three unread; reading it marks it read. No shared cache
    // keeps any of it.
    let res = call(&srv, Some(&a), Method::GET, "/api/v1/me/conversations", None).await;
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let list = body(res).await;
    assert_eq!(list["unread"].as_u64(), Some(3));
    assert_eq!(list["conversations"][0]["user_name"].as_str(), Some(b.name.as_str()));
    assert_eq!(list["conversations"][0]["last_message"]["text"].as_str(), Some(long.as_str()));
    let read = expect(&srv, Some(&a), Method::GET, &thread(&b.name), None, StatusCode::OK).await;
    assert_eq!(texts(&read), [long.as_str(), "x", odd]);
    assert_eq!(read["messages"][0]["mine"].as_bool(), Some(false));
    let list = expect(&srv, Some(&a), Method::GET, "/api/v1/me/conversations", None, StatusCode::OK).await;
    assert_eq!((list["unread"].as_u64(), list["conversations"][0]["unread"].as_u64()), (Some(0), Some(0)));
    // The message notified A (and links to B); nobody else heard of it.
    let notes = expect(&srv, Some(&a), Method::GET, "/api/v1/me/notifications", None, StatusCode::OK).await;
    assert!(
        notes["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "message" && n["actor"] == json!(b.name))
    );

    // Nobody else reads it: every other user, anonymous, the operators' token.
    for o in &others {
        let theirs = expect(&srv, Some(o), Method::GET, "/api/v1/me/conversations", None, StatusCode::OK).await;
        assert!(theirs["conversations"].as_array().unwrap().is_empty());
        for peer in [&a.name, &b.name] {
            let t = expect(&srv, Some(o), Method::GET, &thread(peer), None, StatusCode::OK).await;
            assert!(texts(&t).is_empty(), "{} reads nothing of {peer}'s", o.name);
        }
        let notes = body(call(&srv, Some(o), Method::GET, "/api/v1/me/notifications", None).await).await;
        assert!(notes["notifications"].as_array().unwrap().is_empty());
    }
    for path in ["/api/v1/me/conversations".to_owned(), thread(&a.name), thread(&b.name)] {
        assert_eq!(call(&srv, None, Method::GET, &path, None).await.status(), StatusCode::UNAUTHORIZED);
        let res = srv.req(Method::GET, &path).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the operators' token reads no one's messages");
        let res =
            srv.req(Method::POST, &path).bearer_auth(ADMIN_TOKEN).json(&json!({"text": "x"})).send().await.unwrap();
        assert!(res.status() == StatusCode::UNAUTHORIZED || res.status() == StatusCode::METHOD_NOT_ALLOWED);
    }
    let everything = format!("{}", body(call(&srv, None, Method::GET, "/api/v1/openapi.json", None).await).await);
    assert!(!everything.contains("héllo"));

    // Both writing at once: every message lands once, each side's count is what the other sent.
    let (ta, tb): (Vec<String>, Vec<String>) =
        ((0..8).map(|i| format!("a{i}")).collect(), (0..8).map(|i| format!("b{i}")).collect());
    let from_a = ta.iter().map(|t| send(&srv, &a, &b, t));
    let from_b = tb.iter().map(|t| send(&srv, &b, &a, t));
    let (ra, rb) = tokio::join!(futures::future::join_all(from_a), futures::future::join_all(from_b));
    let statuses: Vec<_> = ra.iter().chain(rb.iter()).map(|r| r.status()).collect();
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
    let la = expect(&srv, Some(&a), Method::GET, "/api/v1/me/conversations", None, StatusCode::OK).await;
    let lb = expect(&srv, Some(&b), Method::GET, "/api/v1/me/conversations", None, StatusCode::OK).await;
    assert_eq!((la["conversations"].as_array().unwrap().len(), lb["conversations"].as_array().unwrap().len()), (1, 1));
    assert_eq!((la["unread"].as_u64(), lb["unread"].as_u64()), (Some(8), Some(8)));

    // Pages of two while messages arrive: each older one once, in order.
    let before = texts(
        &expect(&srv, Some(&a), Method::GET, &format!("{}?limit=100", thread(&b.name)), None, StatusCode::OK).await,
    );
    let n = std::cell::Cell::new(0);
    let walked = walk(
        &srv,
        &a,
        &thread(&b.name),
        "messages",
        |m| m["text"].as_str().unwrap().to_owned(),
        || {
            n.set(n.get() + 1);
            let (srv, b, a, i) = (&srv, &b, &a, n.get());
            async move {
                if i < 4 {
                    assert_eq!(send(srv, b, a, &format!("late {i}")).await.status(), StatusCode::CREATED);
                }
            }
        },
    )
    .await;
    assert_eq!(walked, before);
    srv.stop().await;
    db.drop_db().await;
}

async fn blocks_and_the_rate_limit(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (a, b, c) = (member(&srv).await, member(&srv).await, member(&srv).await);
    let vid = public_video(&srv, &db, &a, "mine").await;
    // With its bytes: bullet comments need a playable video.
    let res = srv.upload_raw(&vid, &a.token, crate::common::fake_mp4(64 * 1024, 3)).await;
    assert!(res.status().is_success(), "{}", res.status());
    expect(&srv, Some(&b), Method::PUT, &format!("/api/v1/channels/{}/follow", a.name), None, StatusCode::OK).await;

    // A blocks B: B's follow ends; B can no longer message, comment or follow; C still can.
    let block = format!("/api/v1/me/blocks/{}", b.name);
    assert_eq!(call(&srv, None, Method::PUT, &block, None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        call(&srv, Some(&a), Method::PUT, &format!("/api/v1/me/blocks/{}", a.name), None).await.status(),
        StatusCode::CONFLICT
    );
    expect(&srv, Some(&a), Method::PUT, &block, None, StatusCode::NO_CONTENT).await;
    expect(&srv, Some(&a), Method::PUT, &block, None, StatusCode::NO_CONTENT).await;
    let ch = expect(&srv, Some(&b), Method::GET, &format!("/api/v1/channels/{}", a.name), None, StatusCode::OK).await;
    assert_eq!((ch["followers"].as_u64(), ch["following"].as_bool()), (Some(0), Some(false)));
    assert_eq!(send(&srv, &b, &a, "hi").await.status(), StatusCode::FORBIDDEN);
    let res = call(&srv, Some(&b), Method::PUT, &format!("/api/v1/channels/{}/follow", a.name), None).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res =
        call(&srv, Some(&b), Method::POST, &format!("/api/v1/videos/{vid}/comments"), Some(json!({"content": "hey"})))
            .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = call(
        &srv,
        Some(&b),
        Method::POST,
        &format!("/api/v1/videos/{vid}/danmaku"),
        Some(json!({"text": "hey", "t_ms": 0})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "nor bullet comments");
    assert_eq!(send(&srv, &c, &a, "hi from c").await.status(), StatusCode::CREATED);
    // A may still write to B; B is not told of the block.
    assert_eq!(send(&srv, &a, &b, "one way").await.status(), StatusCode::CREATED);
    let b_notes = expect(&srv, Some(&b), Method::GET, "/api/v1/me/notifications", None, StatusCode::OK).await;
    // (The upload's fan-out job may have reached B while B still followed A: a new video.)
    assert!(
        b_notes["notifications"].as_array().unwrap().iter().all(|n| n["kind"] == "message" || n["kind"] == "new_video")
    );
    let listed = expect(&srv, Some(&a), Method::GET, "/api/v1/me/blocks", None, StatusCode::OK).await;
    assert_eq!(listed["blocked"][0]["user_name"].as_str(), Some(b.name.as_str()));
    assert!(
        expect(&srv, Some(&b), Method::GET, "/api/v1/me/blocks", None, StatusCode::OK).await["blocked"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    expect(&srv, Some(&a), Method::DELETE, &block, None, StatusCode::NO_CONTENT).await;
    assert_eq!(send(&srv, &b, &a, "hi again").await.status(), StatusCode::CREATED);

    // At most 20 a minute per sender, to anyone.
    let burst = (0..25).map(|i| send(&srv, &c, if i % 2 == 0 { &a } else { &b }, "spam"));
    let statuses: Vec<_> = futures::future::join_all(burst).await.iter().map(|r| r.status()).collect();
    // C sent one before the burst.
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 19);
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(), 6);
    assert_eq!(send(&srv, &b, &a, "not held back").await.status(), StatusCode::CREATED);
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(messages_stay_between_two, blocks_and_the_rate_limit);
