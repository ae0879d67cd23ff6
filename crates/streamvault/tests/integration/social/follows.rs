//! Follows, the subscription feed and notifications: counts under races, the fan-out job,
//! pages that neither repeat nor skip while videos arrive, and nothing of one user reachable
//! by another.

use std::time::{Duration, Instant};

use reqwest::header::{ETAG, IF_NONE_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use streamvault_core::ids::{Id, VideoId};
use streamvault_testkit::{Backend, TestDb, per_backend};

use super::{Member, call, expect, member, members, nothing, public_video, walk};
use crate::common::poll::eventually;
use crate::common::{TestServer, body, fake_mp4};

fn follow_path(name: &str) -> String {
    format!("/api/v1/channels/{name}/follow")
}

async fn feed_ids(srv: &TestServer, m: &Member) -> Vec<String> {
    let feed = expect(srv, Some(m), Method::GET, "/api/v1/me/feed?limit=100", None, StatusCode::OK).await;
    feed["videos"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_owned()).collect()
}

async fn notes(srv: &TestServer, m: &Member) -> Value {
    expect(srv, Some(m), Method::GET, "/api/v1/me/notifications?limit=100", None, StatusCode::OK).await
}

fn kinds(list: &Value) -> Vec<String> {
    list["notifications"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_owned()).collect()
}

/// Stands in for the worker's fan-out job of a video made public behind the app's back.
async fn fan_out(srv: &TestServer, vid: &str) {
    srv.app().social.fan_out_video(VideoId::parse(vid).unwrap()).await.unwrap();
}

async fn follows_feed_and_notifications(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (a, b, c) = (member(&srv).await, member(&srv).await, member(&srv).await);
    let old = public_video(&srv, &db, &a, "before the follow").await;

    // Who may follow whom.
    assert_eq!(call(&srv, None, Method::PUT, &follow_path(&a.name), None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(call(&srv, Some(&a), Method::PUT, &follow_path(&a.name), None).await.status(), StatusCode::CONFLICT);
    assert_eq!(
        call(&srv, Some(&b), Method::PUT, &follow_path("no_such_user_x"), None).await.status(),
        StatusCode::NOT_FOUND
    );
    let state = expect(&srv, Some(&b), Method::PUT, &follow_path(&a.name), None, StatusCode::OK).await;
    assert_eq!((state["following"].as_bool(), state["followers"].as_u64()), (Some(true), Some(1)));
    // Idempotent.
    let state = expect(&srv, Some(&b), Method::PUT, &follow_path(&a.name), None, StatusCode::OK).await;
    assert_eq!(state["followers"].as_u64(), Some(1));
    let channel =
        expect(&srv, Some(&b), Method::GET, &format!("/api/v1/channels/{}", a.name), None, StatusCode::OK).await;
    assert_eq!((channel["followers"].as_u64(), channel["following"].as_bool()), (Some(1), Some(true)));
    let channel = expect(&srv, None, Method::GET, &format!("/api/v1/channels/{}", b.name), None, StatusCode::OK).await;
    assert_eq!((channel["following_count"].as_u64(), channel["following"].as_bool()), (Some(1), Some(false)));
    let following = expect(&srv, Some(&b), Method::GET, "/api/v1/me/following", None, StatusCode::OK).await;
    assert_eq!(following["channels"][0]["user_name"].as_str(), Some(a.name.as_str()));
    // The feed starts with the channel's videos from before the follow.
    assert_eq!(feed_ids(&srv, &b).await, vec![old.clone()]);
    // A heard of the new follower.
    let a_notes = notes(&srv, &a).await;
    assert_eq!((kinds(&a_notes), a_notes["unread"].as_u64()), (vec!["new_follower".to_owned()], Some(1)));
    assert_eq!(a_notes["notifications"][0]["actor"].as_str(), Some(b.name.as_str()));

    // A uploads: the fan-out job (the worker, through the queue) puts it in B's feed and bell.
    let vid = srv.create_video(&a.name, &a.token, "fresh").await["id"].as_str().unwrap().to_owned();
    let before = body(call(&srv, Some(&b), Method::GET, "/api/v1/me/notifications/unread", None).await).await;
    assert_eq!(before["unread"].as_u64(), Some(0));
    let res = srv.upload_raw(&vid, &a.token, fake_mp4(64 * 1024, 1)).await;
    assert!(res.status().is_success(), "{}", res.status());
    eventually("the fan-out reaches the feed", 200, Duration::from_millis(50), || async {
        feed_ids(&srv, &b).await.first() == Some(&vid)
    })
    .await;
    // The job writes the feed, then the notifications.
    eventually("the fan-out reaches the bell", 200, Duration::from_millis(50), || async {
        notes(&srv, &b).await["unread"].as_u64() == Some(1)
    })
    .await;
    let b_notes = notes(&srv, &b).await;
    assert_eq!(kinds(&b_notes), ["new_video"]);
    let note = &b_notes["notifications"][0];
    assert_eq!((note["video_id"].as_str(), note["video_author"].as_str()), (Some(vid.as_str()), Some(a.name.as_str())));
    // Run again (a second delivery), it adds nothing.
    fan_out(&srv, &vid).await;
    assert_eq!(notes(&srv, &b).await["unread"].as_u64(), Some(1));

    // The bell, live: a long poll holding the current answer returns when the next arrives.
    let res = call(&srv, Some(&b), Method::GET, "/api/v1/me/notifications/unread", None).await;
    let etag = res.headers()[ETAG].to_str().unwrap().to_owned();
    let started = Instant::now();
    let waiting = srv
        .authed(Method::GET, "/api/v1/me/notifications/unread?wait=20", &b.token)
        .header(IF_NONE_MATCH, &etag)
        .send();
    let comment = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        // C comments on A's video: A hears of it; so does nobody else.
        let res = srv
            .authed(Method::POST, &format!("/api/v1/videos/{vid}/comments"), &c.token)
            .json(&json!({"content": "nice"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        // ...and a second video reaches B.
        let second = public_video(&srv, &db, &a, "second").await;
        fan_out(&srv, &second).await;
        second
    };
    let (answer, second) = tokio::join!(waiting, comment);
    let answer = answer.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(15), "answered when it arrived");
    assert_eq!(body(answer).await["unread"].as_u64(), Some(2));
    // Unchanged, a short wait ends in 304.
    let res = call(&srv, Some(&b), Method::GET, "/api/v1/me/notifications/unread", None).await;
    let etag = res.headers()[ETAG].to_str().unwrap().to_owned();
    let res = srv
        .authed(Method::GET, "/api/v1/me/notifications/unread?wait=1", &b.token)
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    for bad in ["31", "-1", "x"] {
        let res = call(&srv, Some(&b), Method::GET, &format!("/api/v1/me/notifications/unread?wait={bad}"), None).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "wait={bad}");
    }
    assert!(kinds(&notes(&srv, &a).await).contains(&"comment".to_owned()));
    assert!(!kinds(&notes(&srv, &c).await).contains(&"comment".to_owned()), "not to the commenter");

    // Reading: one, then all; another user cannot touch B's.
    let b_notes = notes(&srv, &b).await;
    let first = b_notes["notifications"][0]["id"].as_str().unwrap().to_owned();
    let one = format!("/api/v1/me/notifications/{first}/read");
    for (who, status) in [(Some(&c), StatusCode::NOT_FOUND), (None, StatusCode::UNAUTHORIZED)] {
        assert_eq!(call(&srv, who, Method::POST, &one, None).await.status(), status);
    }
    assert_eq!(notes(&srv, &b).await["unread"].as_u64(), Some(2), "untouched by others");
    assert_eq!(expect(&srv, Some(&b), Method::POST, &one, None, StatusCode::OK).await["marked"], 1);
    assert_eq!(expect(&srv, Some(&b), Method::POST, &one, None, StatusCode::OK).await["marked"], 0);
    let unread_only =
        expect(&srv, Some(&b), Method::GET, "/api/v1/me/notifications?unread=true", None, StatusCode::OK).await;
    assert_eq!(unread_only["notifications"].as_array().unwrap().len(), 1);
    assert_eq!(
        expect(&srv, Some(&b), Method::POST, "/api/v1/me/notifications/read", None, StatusCode::OK).await["marked"],
        1
    );
    assert_eq!(notes(&srv, &b).await["unread"].as_u64(), Some(0));
    let nobody = format!("/api/v1/me/notifications/{}/read", nothing());
    assert_eq!(call(&srv, Some(&b), Method::POST, &nobody, None).await.status(), StatusCode::NOT_FOUND);
    // C sees none of B's or A's.
    assert!(notes(&srv, &c).await["notifications"].as_array().unwrap().is_empty());

    // Settings: new videos off — the feed still gets them, the bell does not.
    let s = expect(&srv, Some(&b), Method::GET, "/api/v1/me/notifications/settings", None, StatusCode::OK).await;
    assert_eq!(s["new_video"].as_bool(), Some(true));
    let s = expect(
        &srv,
        Some(&b),
        Method::PATCH,
        "/api/v1/me/notifications/settings",
        Some(json!({"new_video": false})),
        StatusCode::OK,
    )
    .await;
    assert_eq!((s["new_video"].as_bool(), s["comment"].as_bool()), (Some(false), Some(true)));
    for bad in [json!({"new_video": "no"}), json!({"nonsense": true}), json!([1])] {
        let res = call(&srv, Some(&b), Method::PATCH, "/api/v1/me/notifications/settings", Some(bad.clone())).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let third = public_video(&srv, &db, &a, "third").await;
    fan_out(&srv, &third).await;
    assert_eq!(feed_ids(&srv, &b).await[0], third);
    assert_eq!(notes(&srv, &b).await["unread"].as_u64(), Some(0));

    // A video that stops being public (processing failed) and is renamed: its notification
    // shows nothing of it any more.
    let on = json!({"new_video": true});
    expect(&srv, Some(&b), Method::PATCH, "/api/v1/me/notifications/settings", Some(on), StatusCode::OK).await;
    let failed = public_video(&srv, &db, &a, "soon private").await;
    fan_out(&srv, &failed).await;
    assert_eq!(notes(&srv, &b).await["notifications"][0]["video_id"], json!(failed), "notified while public");
    crate::common::set_video_column(&db, &failed, "status", "failed").await;
    crate::common::set_video_column(&db, &failed, "name", "PRIVATE rename").await;
    srv.touched(&failed).await;
    let shown = notes(&srv, &b).await;
    assert!(!shown.to_string().contains("PRIVATE rename"), "{shown}");
    assert!(shown["notifications"].as_array().unwrap().iter().all(|n| n["video_id"] != json!(failed)));
    assert_eq!(shown["unread"].as_u64(), Some(0));
    let off = json!({"new_video": false});
    expect(&srv, Some(&b), Method::PATCH, "/api/v1/me/notifications/settings", Some(off), StatusCode::OK).await;

    // What the feed no longer shows: a video deleted, and everything after an unfollow.
    let res = call(&srv, Some(&a), Method::DELETE, &format!("/api/v1/user/{}/videos/{third}", a.name), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(feed_ids(&srv, &b).await, [second.clone(), vid.clone(), old.clone()]);
    assert!(notes(&srv, &b).await["notifications"].as_array().unwrap().iter().all(|n| n["video_id"] != json!(third)));
    let state = expect(&srv, Some(&b), Method::DELETE, &follow_path(&a.name), None, StatusCode::OK).await;
    assert_eq!((state["following"].as_bool(), state["followers"].as_u64()), (Some(false), Some(0)));
    expect(&srv, Some(&b), Method::DELETE, &follow_path(&a.name), None, StatusCode::OK).await;
    assert!(feed_ids(&srv, &b).await.is_empty());
    // Every /me route is the caller's own.
    for path in
        ["/api/v1/me/feed", "/api/v1/me/following", "/api/v1/me/notifications", "/api/v1/me/notifications/settings"]
    {
        assert_eq!(call(&srv, None, Method::GET, path, None).await.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    srv.stop().await;
    db.drop_db().await;
}

/// Follows and unfollows racing leave counts that match what is stored; the fan-out reaches
/// every follower of many; feed pages neither repeat nor skip while videos arrive.
async fn follow_races_fan_out_and_pages(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let channel = member(&srv).await;
    let fans = members(&srv, 30).await;
    let path = follow_path(&channel.name);
    for _ in 0..3 {
        let on = fans.iter().map(|f| call(&srv, Some(f), Method::PUT, &path, None));
        let off = fans.iter().map(|f| call(&srv, Some(f), Method::DELETE, &path, None));
        let (a, b) = tokio::join!(futures::future::join_all(on), futures::future::join_all(off));
        assert!(a.iter().chain(b.iter()).all(|r| r.status() == StatusCode::OK));
    }
    let mut following = 0;
    for f in &fans {
        let ch =
            expect(&srv, Some(f), Method::GET, &format!("/api/v1/channels/{}", channel.name), None, StatusCode::OK)
                .await;
        following += u64::from(ch["following"].as_bool().unwrap());
    }
    let ch = expect(&srv, None, Method::GET, &format!("/api/v1/channels/{}", channel.name), None, StatusCode::OK).await;
    assert_eq!(ch["followers"].as_u64(), Some(following), "the count is who follows");

    // Everyone follows; one video reaches every feed and bell, once.
    for f in &fans {
        expect(&srv, Some(f), Method::PUT, &path, None, StatusCode::OK).await;
    }
    let mut made = Vec::new();
    for i in 0..5 {
        let vid = public_video(&srv, &db, &channel, &format!("v{i}")).await;
        fan_out(&srv, &vid).await;
        made.push(vid);
    }
    made.reverse();
    for f in fans.iter().step_by(7) {
        assert_eq!(feed_ids(&srv, f).await, made);
        assert_eq!(notes(&srv, f).await["unread"].as_u64(), Some(5));
    }

    // Pages of two while newer videos arrive between them: the walk sees exactly what was
    // there when it began, once each.
    let reader = &fans[0];
    let db_ref = &db;
    let arrivals = std::cell::Cell::new(0);
    let walked = walk(
        &srv,
        reader,
        "/api/v1/me/feed",
        "videos",
        |v| v["id"].as_str().unwrap().to_owned(),
        || {
            arrivals.set(arrivals.get() + 1);
            let n = arrivals.get();
            let (srv, channel) = (&srv, &channel);
            async move {
                let vid = public_video(srv, db_ref, channel, &format!("late {n}")).await;
                fan_out(srv, &vid).await;
            }
        },
    )
    .await;
    assert_eq!(walked, made);
    let walked = walk(
        &srv,
        reader,
        "/api/v1/me/notifications",
        "notifications",
        |n| n["id"].as_str().unwrap().to_owned(),
        || async {},
    )
    .await;
    let mut unique = walked.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), walked.len(), "no notification twice");
    srv.stop().await;
    db.drop_db().await;
}

/// Comments (which notify the video's owner) are rate limited per user, on every path.
async fn comments_are_rate_limited(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (owner, spammer) = (member(&srv).await, member(&srv).await);
    let vid = public_video(&srv, &db, &owner, "target").await;
    let (v1, seed) = (format!("/api/v1/videos/{vid}/comments"), format!("/videos/{vid}/comments"));
    for i in 0..30 {
        let path = if i % 2 == 0 { &v1 } else { &seed };
        let res = call(&srv, Some(&spammer), Method::POST, path, Some(json!({"content": format!("spam {i}")}))).await;
        assert_eq!(res.status(), StatusCode::CREATED, "comment {i}");
    }
    for path in [&v1, &seed] {
        let res = call(&srv, Some(&spammer), Method::POST, path, Some(json!({"content": "one more"}))).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
        assert!(res.headers().contains_key("retry-after"));
    }
    // The page's form too.
    let csrf = "a".repeat(64);
    let res = srv
        .req(Method::POST, &format!("/watch/{vid}/comments"))
        .header("cookie", format!("sv_session={}; sv_csrf={csrf}", spammer.token))
        .form(&[("csrf", csrf.as_str()), ("content", "from the page")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"), "the page says when, too");
    // The notification page's settings form: ticked kinds on, the others off.
    let res = srv
        .req(Method::POST, "/notifications/settings")
        .header("cookie", format!("sv_session={}; sv_csrf={csrf}", owner.token))
        .form(&[("csrf", csrf.as_str()), ("comment", "on"), ("message", "on")])
        .send()
        .await
        .unwrap();
    // Back to the notifications page (the client follows the 303).
    assert_eq!((res.status(), res.url().path()), (StatusCode::OK, "/notifications"));
    let s = expect(&srv, Some(&owner), Method::GET, "/api/v1/me/notifications/settings", None, StatusCode::OK).await;
    assert_eq!(
        s,
        json!({"new_video": false, "comment": true, "reply": false, "mention": false, "new_follower": false, "message": true})
    );
    let forged = srv
        .req(Method::POST, "/notifications/settings")
        .header("cookie", format!("sv_session={}; sv_csrf={csrf}", owner.token))
        .form(&[("csrf", "b".repeat(64).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "nothing changes without the form's token");
    // Someone else is not held back; the owner heard of 30, not more.
    let other = member(&srv).await;
    assert_eq!(
        call(&srv, Some(&other), Method::POST, &v1, Some(json!({"content": "hi"}))).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(notes(&srv, &owner).await["unread"].as_u64(), Some(31));
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(follows_feed_and_notifications, follow_races_fan_out_and_pages, comments_are_rate_limited);
