//! Playlists: the built-in two, the user's own, who may see and change what, order, limits,
//! and a deleted video leaving no hole.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, TestDb, per_backend};

use super::{call, expect, member, nothing, public_video, walk};
use crate::common::TestServer;

fn names(list: &Value) -> Vec<String> {
    list["playlists"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect()
}

fn item_ids(items: &Value) -> Vec<String> {
    items["items"].as_array().unwrap().iter().map(|i| i["video"]["id"].as_str().unwrap().to_owned()).collect()
}

async fn playlists_and_their_items(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (owner, other) = (member(&srv).await, member(&srv).await);

    // Every user has the two built-in ones, first; they cannot go or be renamed.
    let mine = expect(&srv, Some(&owner), Method::GET, "/api/v1/me/playlists", None, StatusCode::OK).await;
    assert_eq!(names(&mine), ["Favorites", "Watch later"]);
    assert_eq!(mine["playlists"][0]["builtin"].as_str(), Some("favorites"));
    assert_eq!(mine["playlists"][0]["visibility"].as_str(), Some("private"));
    let favorites = mine["playlists"][0]["id"].as_str().unwrap().to_owned();
    let watch_later = mine["playlists"][1]["id"].as_str().unwrap().to_owned();
    let fav = format!("/api/v1/me/playlists/{favorites}");
    assert_eq!(call(&srv, Some(&owner), Method::DELETE, &fav, None).await.status(), StatusCode::CONFLICT);
    assert_eq!(
        call(&srv, Some(&owner), Method::PATCH, &fav, Some(json!({"name": "x"}))).await.status(),
        StatusCode::CONFLICT
    );
    // Its visibility may change.
    let p =
        expect(&srv, Some(&owner), Method::PATCH, &fav, Some(json!({"visibility": "public"})), StatusCode::OK).await;
    assert_eq!(p["visibility"].as_str(), Some("public"));
    // Listing again makes no more of them.
    let mine = expect(&srv, Some(&owner), Method::GET, "/api/v1/me/playlists", None, StatusCode::OK).await;
    assert_eq!(mine["playlists"].as_array().unwrap().len(), 2);

    // The user's own: made, listed after the built-in ones, changed, with bad input refused.
    let made = expect(
        &srv,
        Some(&owner),
        Method::POST,
        "/api/v1/me/playlists",
        Some(json!({"name": "Road trip 🚗", "visibility": "unlisted"})),
        StatusCode::CREATED,
    )
    .await;
    let trip = made["id"].as_str().unwrap().to_owned();
    assert_eq!((made["builtin"].clone(), made["video_count"].as_u64()), (Value::Null, Some(0)));
    for bad in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "  "}),
        json!({"name": "x".repeat(121)}),
        json!({"name": "ok", "visibility": "secret"}),
        json!({"name": "ok", "extra": 1}),
    ] {
        let res = call(&srv, Some(&owner), Method::POST, "/api/v1/me/playlists", Some(bad.clone())).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let secret = expect(
        &srv,
        Some(&owner),
        Method::POST,
        "/api/v1/me/playlists",
        Some(json!({"name": "Secret"})),
        StatusCode::CREATED,
    )
    .await;
    let secret = secret["id"].as_str().unwrap().to_owned();
    let mine = expect(&srv, Some(&owner), Method::GET, "/api/v1/me/playlists", None, StatusCode::OK).await;
    assert_eq!(names(&mine), ["Favorites", "Watch later", "Road trip 🚗", "Secret"]);

    // Who sees what: private to the owner alone; unlisted by link; the channel lists public ones.
    for (who, id, status) in [
        (Some(&other), &secret, StatusCode::NOT_FOUND),
        (None, &secret, StatusCode::NOT_FOUND),
        (Some(&owner), &secret, StatusCode::OK),
        (None, &trip, StatusCode::OK),
        (Some(&other), &favorites, StatusCode::OK),
        (None, &watch_later, StatusCode::NOT_FOUND),
    ] {
        assert_eq!(
            call(&srv, who, Method::GET, &format!("/api/v1/playlists/{id}"), None).await.status(),
            status,
            "{id}"
        );
        assert_eq!(call(&srv, who, Method::GET, &format!("/api/v1/playlists/{id}/items"), None).await.status(), status);
    }
    let listed =
        expect(&srv, None, Method::GET, &format!("/api/v1/channels/{}/playlists", owner.name), None, StatusCode::OK)
            .await;
    assert_eq!(names(&listed), ["Favorites"]);
    // Nobody else changes them: 403 where they may see it, 404 where they may not.
    for (id, status) in [(&trip, StatusCode::FORBIDDEN), (&secret, StatusCode::NOT_FOUND)] {
        let path = format!("/api/v1/me/playlists/{id}");
        assert_eq!(
            call(&srv, Some(&other), Method::PATCH, &path, Some(json!({"name": "mine"}))).await.status(),
            status
        );
        assert_eq!(call(&srv, Some(&other), Method::DELETE, &path, None).await.status(), status);
        assert_eq!(call(&srv, None, Method::DELETE, &path, None).await.status(), StatusCode::UNAUTHORIZED);
    }
    let v_other = public_video(&srv, &db, &other, "theirs").await;
    let put = |id: &str, vid: &str| format!("/api/v1/me/playlists/{id}/items/{vid}");
    assert_eq!(
        call(&srv, Some(&other), Method::PUT, &put(&trip, &v_other), None).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&srv, Some(&other), Method::PUT, &put(&secret, &v_other), None).await.status(),
        StatusCode::NOT_FOUND
    );

    // Items: added at the end, idempotently; moved; a video the owner cannot see is refused.
    let mut vids = Vec::new();
    for i in 0..5 {
        vids.push(public_video(&srv, &db, &other, &format!("clip {i}")).await);
    }
    for v in &vids {
        assert_eq!(call(&srv, Some(&owner), Method::PUT, &put(&trip, v), None).await.status(), StatusCode::CREATED);
    }
    assert_eq!(
        call(&srv, Some(&owner), Method::PUT, &put(&trip, &vids[0]), None).await.status(),
        StatusCode::NO_CONTENT
    );
    let hidden = srv.create_video(&other.name, &other.token, "not public").await["id"].as_str().unwrap().to_owned();
    for v in [hidden.as_str(), &nothing(), "nope"] {
        assert_eq!(
            call(&srv, Some(&owner), Method::PUT, &put(&trip, v), None).await.status(),
            StatusCode::NOT_FOUND,
            "{v}"
        );
    }
    let items = |id: &str| format!("/api/v1/playlists/{id}/items?limit=100");
    assert_eq!(item_ids(&expect(&srv, None, Method::GET, &items(&trip), None, StatusCode::OK).await), vids);
    // Moves: the last to the front, the front to the middle, one past the end to the end.
    let moved = |p: u64| Some(json!({"position": p}));
    expect(&srv, Some(&owner), Method::PUT, &put(&trip, &vids[4]), moved(0), StatusCode::NO_CONTENT).await;
    expect(&srv, Some(&owner), Method::PUT, &put(&trip, &vids[4]), moved(2), StatusCode::NO_CONTENT).await;
    expect(&srv, Some(&owner), Method::PUT, &put(&trip, &vids[0]), moved(99), StatusCode::NO_CONTENT).await;
    let order = [&vids[1], &vids[4], &vids[2], &vids[3], &vids[0]].map(|s| s.to_owned());
    assert_eq!(item_ids(&expect(&srv, None, Method::GET, &items(&trip), None, StatusCode::OK).await), order);
    // Many moves into one gap renumber and keep order.
    for _ in 0..30 {
        expect(&srv, Some(&owner), Method::PUT, &put(&trip, &vids[0]), moved(1), StatusCode::NO_CONTENT).await;
        expect(&srv, Some(&owner), Method::PUT, &put(&trip, &vids[3]), moved(1), StatusCode::NO_CONTENT).await;
    }
    let order = [&vids[1], &vids[3], &vids[0], &vids[4], &vids[2]].map(|s| s.to_owned());
    assert_eq!(item_ids(&expect(&srv, None, Method::GET, &items(&trip), None, StatusCode::OK).await), order);
    for bad in [
        json!({"position": -1}),
        json!({"position": "first"}),
        json!({"where": 1}),
        json!({"position": 5001}),
        json!({"position": 9223372036854775809u64}),
        json!({"position": u64::MAX}),
        json!({"position": null}),
        // Not the body's object, though serde alone reads a struct from an array of its fields.
        json!([]),
        json!([1]),
    ] {
        let res = call(&srv, Some(&owner), Method::PUT, &put(&trip, &vids[0]), Some(bad.clone())).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }

    // A video deleted later leaves no hole; its count goes down.
    let res =
        call(&srv, Some(&other), Method::DELETE, &format!("/api/v1/user/{}/videos/{}", other.name, vids[0]), None)
            .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let order = [&vids[1], &vids[3], &vids[4], &vids[2]].map(|s| s.to_owned());
    assert_eq!(item_ids(&expect(&srv, None, Method::GET, &items(&trip), None, StatusCode::OK).await), order);
    assert_eq!(
        expect(&srv, None, Method::GET, &format!("/api/v1/playlists/{trip}"), None, StatusCode::OK).await["video_count"],
        4
    );
    // Pages of two while videos are added at the end: each item once, in order.
    let mut more = Vec::new();
    for i in 0..3 {
        more.push(public_video(&srv, &db, &other, &format!("more {i}")).await);
    }
    let next = std::cell::Cell::new(0);
    let walked = walk(
        &srv,
        &owner,
        &format!("/api/v1/playlists/{trip}/items"),
        "items",
        |i| i["video"]["id"].as_str().unwrap().to_owned(),
        || {
            let i = next.get();
            next.set(i + 1);
            let (srv, owner, path) = (&srv, &owner, more.get(i).map(|v| put(&trip, v)));
            async move {
                if let Some(path) = path {
                    assert_eq!(call(srv, Some(owner), Method::PUT, &path, None).await.status(), StatusCode::CREATED);
                }
            }
        },
    )
    .await;
    // The last arrived after the last page was read: the walk ends before it.
    let mut expected = order.to_vec();
    expected.extend(more[..2].iter().cloned());
    assert_eq!(walked, expected);

    // Removing: once; the "save to playlist" view says where a video is.
    let saved = expect(
        &srv,
        Some(&owner),
        Method::GET,
        &format!("/api/v1/me/playlists?video={}", vids[1]),
        None,
        StatusCode::OK,
    )
    .await;
    let holds: Vec<bool> =
        saved["playlists"].as_array().unwrap().iter().map(|p| p["holds_video"].as_bool().unwrap()).collect();
    assert_eq!(holds, [false, false, true, false]);
    expect(&srv, Some(&owner), Method::DELETE, &put(&trip, &vids[1]), None, StatusCode::NO_CONTENT).await;
    assert_eq!(
        call(&srv, Some(&owner), Method::DELETE, &put(&trip, &vids[1]), None).await.status(),
        StatusCode::NOT_FOUND
    );

    // Parallel adds to one playlist: every one lands, each in its own place.
    let batch: Vec<String> = {
        let mut b = Vec::new();
        for i in 0..12 {
            b.push(public_video(&srv, &db, &other, &format!("par {i}")).await);
        }
        b
    };
    let paths: Vec<String> = batch.iter().map(|v| put(&watch_later, v)).collect();
    let puts = paths.iter().map(|p| call(&srv, Some(&owner), Method::PUT, p, None));
    assert!(futures::future::join_all(puts).await.iter().all(|r| r.status() == StatusCode::CREATED));
    let got = item_ids(&expect(&srv, Some(&owner), Method::GET, &items(&watch_later), None, StatusCode::OK).await);
    let (mut a, mut b) = (got.clone(), batch.clone());
    a.sort();
    b.sort();
    assert_eq!(a, b);

    // Deleting the user's own; the built-in ones stay.
    expect(&srv, Some(&owner), Method::DELETE, &format!("/api/v1/me/playlists/{trip}"), None, StatusCode::NO_CONTENT)
        .await;
    assert_eq!(
        call(&srv, None, Method::GET, &format!("/api/v1/playlists/{trip}"), None).await.status(),
        StatusCode::NOT_FOUND
    );
    srv.stop().await;
    db.drop_db().await;
}

/// A user has at most 200 playlists of their own, however many requests race for the last.
async fn playlist_limit_holds_under_a_burst(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let owner = member(&srv).await;
    for i in 0..190 {
        expect(
            &srv,
            Some(&owner),
            Method::POST,
            "/api/v1/me/playlists",
            Some(json!({"name": format!("p{i}")})),
            StatusCode::CREATED,
        )
        .await;
    }
    let burst = (0..30).map(|i| {
        call(&srv, Some(&owner), Method::POST, "/api/v1/me/playlists", Some(json!({"name": format!("b{i}")})))
    });
    let statuses: Vec<_> = futures::future::join_all(burst).await.iter().map(|r| r.status()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 10);
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 20);
    let walked =
        walk(&srv, &owner, "/api/v1/me/playlists", "playlists", |p| p["id"].as_str().unwrap().to_owned(), || async {})
            .await;
    assert_eq!(walked.len(), 202);
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(playlists_and_their_items, playlist_limit_holds_under_a_burst);
