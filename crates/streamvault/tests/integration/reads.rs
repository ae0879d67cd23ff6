//! The read cache (issue 16): the hot reads are kept, answer with validators, and every write
//! is in the next read, on one process and across replicas.

use reqwest::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH, VARY};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, TestDb, per_backend, redis_url};

use crate::common::{TestServer, body, set_video_column, user};

/// Settings that turn the cache on for `backend`: SQLite keeps it in the process; a server
/// database keeps its stamps in the bus's Redis. `None` when Redis is missing outside CI.
async fn cached(backend: Backend) -> Option<Value> {
    match backend {
        Backend::Sqlite => Some(json!({})),
        _ => redis_url().await.map(|r| json!({"bus_url": r})),
    }
}

fn names(list: &Value, key: &str, field: &str) -> Vec<String> {
    list[key].as_array().unwrap().iter().map(|v| v[field].as_str().unwrap().to_owned()).collect()
}

async fn get(srv: &TestServer, path: &str, token: Option<&str>) -> reqwest::Response {
    match token {
        Some(t) => srv.authed(Method::GET, path, t),
        None => srv.req(Method::GET, path),
    }
    .send()
    .await
    .unwrap()
}

async fn json_of(srv: &TestServer, path: &str, token: Option<&str>) -> Value {
    let res = get(srv, path, token).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    body(res).await
}

async fn kept_reads_follow_every_write(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let Some(extra) = cached(backend).await else { return };
    let srv = TestServer::start(&db, extra).await;
    assert!(srv.app().reads.is_on());
    let (owner, other) = (user(), user());
    let (to, tx) = (srv.signup(&owner).await, srv.signup(&other).await);
    let vid = srv.create_video(&owner, &to, "first title").await["id"].as_str().unwrap().to_owned();
    srv.set_video(&db, &vid, "ready", 0).await;
    let video = format!("/api/v1/user/{owner}/videos/{vid}");
    let comments = format!("/api/v1/videos/{vid}/comments");
    let channel = format!("/api/v1/user/{owner}/videos");
    let (home, search) = ("/api/v1/videos".to_owned(), "/api/v1/videos?q=title".to_owned());

    // Kept, with a validator: a client holding it gets 304 and no body.
    let res = get(&srv, &video, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()[ETAG].to_str().unwrap().to_owned();
    assert_eq!(res.headers()[CACHE_CONTROL], "no-cache");
    assert!(res.headers()[VARY].to_str().unwrap().contains("X-Session-Id"));
    let res = srv.req(Method::GET, &video).header(IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()[ETAG].to_str().unwrap(), etag);
    assert!(res.bytes().await.unwrap().is_empty());
    // It is kept: a change nobody told the app about stays unseen, until the app is told.
    // Views written straight into the row, telling nobody: what a kept read hides.
    set_video_column(&db, &vid, "views", 41).await;
    assert_eq!(json_of(&srv, &video, None).await["views"], 0, "served from the cache");
    srv.touched(&vid).await;
    assert_eq!(json_of(&srv, &video, None).await["views"], 41);
    let res = srv.req(Method::GET, &video).header(IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the old validator no longer holds");

    // Every read cached, then each write shows in the next read.
    for path in [&video, &comments, &channel, &home, &search] {
        json_of(&srv, path, None).await;
        json_of(&srv, path, Some(&tx)).await;
    }
    let posted = srv.authed(Method::POST, &comments, &tx).json(&json!({"content": "first!"})).send().await.unwrap();
    assert_eq!(posted.status(), StatusCode::CREATED);
    let cid = body(posted).await["id"].as_str().unwrap().to_owned();
    for token in [None, Some(tx.as_str()), Some(to.as_str())] {
        assert_eq!(names(&json_of(&srv, &comments, token).await, "comments", "content"), ["first!"]);
    }
    let res = srv.authed(Method::PATCH, &video, &to).json(&json!({"name": "second title"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(&srv, &video, None).await["name"], "second title");
    for path in [&channel, &home, &search] {
        assert!(
            names(&json_of(&srv, path, None).await, "videos", "name").contains(&"second title".to_owned()),
            "{path}"
        );
    }
    let res = srv.authed(Method::DELETE, &format!("/api/v1/videos/{vid}/comment/{cid}"), &tx).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(names(&json_of(&srv, &comments, None).await, "comments", "content").is_empty());

    // Racing writes and reads: the read after the race has every comment.
    let posts = (0..10).map(|i| {
        srv.authed(Method::POST, &comments, if i % 2 == 0 { &tx } else { &to })
            .json(&json!({"content": format!("race {i}")}))
            .send()
    });
    let reads = (0..10).map(|_| srv.req(Method::GET, &comments).send());
    let (posted, read) = tokio::join!(futures::future::join_all(posts), futures::future::join_all(reads));
    assert!(posted.into_iter().all(|r| r.unwrap().status() == StatusCode::CREATED));
    assert!(read.into_iter().all(|r| r.unwrap().status() == StatusCode::OK));
    assert_eq!(names(&json_of(&srv, &format!("{comments}?limit=50"), None).await, "comments", "content").len(), 10);

    // What only the owner sees is never served to others, before or after the owner read it.
    let hidden = srv.create_video(&owner, &to, "not yet public").await["id"].as_str().unwrap().to_owned();
    let hidden_path = format!("/api/v1/user/{owner}/videos/{hidden}");
    for round in 0..2 {
        let own = get(&srv, &channel, Some(&to)).await;
        assert_eq!(own.headers()[CACHE_CONTROL], "private, no-cache");
        assert!(names(&body(own).await, "videos", "id").contains(&hidden), "round {round}");
        let own = get(&srv, &hidden_path, Some(&to)).await;
        assert_eq!(
            (own.status(), own.headers()[CACHE_CONTROL].to_str().unwrap()),
            (StatusCode::OK, "private, no-cache")
        );
        for token in [None, Some(tx.as_str())] {
            assert!(!names(&json_of(&srv, &channel, token).await, "videos", "id").contains(&hidden));
            assert_eq!(get(&srv, &hidden_path, token).await.status(), StatusCode::NOT_FOUND);
            let listed = get(&srv, &format!("/api/v1/videos/{hidden}/comments"), token).await;
            assert_eq!(listed.status(), StatusCode::NOT_FOUND);
        }
    }

    // Deleted: gone from every read at once.
    let res = srv.authed(Method::DELETE, &video, &to).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for path in [&video, &comments] {
        assert_eq!(get(&srv, path, None).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    for path in [&channel, &home, &search] {
        assert!(!names(&json_of(&srv, path, None).await, "videos", "id").contains(&vid), "{path}");
    }
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(kept_reads_follow_every_write);

/// Two replicas on PostgreSQL with the bus's Redis keeping the stamps: what is written through
/// one is in the very next read through the other, every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_replica_is_in_the_next_read_on_another() {
    let Some(redis) = redis_url().await else { return };
    let Some(db) = TestDb::create(Backend::Postgres).await else { return };
    let a = TestServer::start(&db, json!({"bus_url": redis})).await;
    let b = TestServer::start(&db, json!({"bus_url": redis})).await;
    let owner = user();
    let token = a.signup(&owner).await;
    let vid = a.create_video(&owner, &token, "shared").await["id"].as_str().unwrap().to_owned();
    a.set_video(&db, &vid, "ready", 0).await;
    let (video, comments) = (format!("/api/v1/user/{owner}/videos/{vid}"), format!("/api/v1/videos/{vid}/comments"));
    for i in 0..20 {
        let (writer, reader) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        json_of(reader, &comments, None).await;
        json_of(reader, "/api/v1/videos", None).await;
        let res = writer
            .authed(Method::POST, &comments, &token)
            .json(&json!({"content": format!("comment {i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let seen = names(&json_of(reader, &format!("{comments}?limit=50"), None).await, "comments", "content");
        assert_eq!(seen.len(), i + 1, "round {i}: {seen:?}");
        let title = format!("title {i}");
        let res = writer.authed(Method::PATCH, &video, &token).json(&json!({"name": title})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(json_of(reader, &video, None).await["name"], title.as_str());
        assert_eq!(names(&json_of(reader, "/api/v1/videos", None).await, "videos", "name")[0], title);
    }
    a.stop().await;
    b.stop().await;
    db.drop_db().await;
}

/// Replicas on a shared server database with no bus cannot tell each other about writes: they
/// keep nothing, and still read their writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_without_a_bus_keep_nothing() {
    let Some(db) = TestDb::create(Backend::MySql).await else { return };
    let a = TestServer::start(&db, json!({})).await;
    let b = TestServer::start(&db, json!({})).await;
    assert!(!a.app().reads.is_on());
    let owner = user();
    let token = a.signup(&owner).await;
    let vid = a.create_video(&owner, &token, "shared").await["id"].as_str().unwrap().to_owned();
    a.set_video(&db, &vid, "ready", 0).await;
    let comments = format!("/api/v1/videos/{vid}/comments");
    for i in 0..5 {
        json_of(&b, &comments, None).await;
        let res = a.authed(Method::POST, &comments, &token).json(&json!({"content": "x"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(json_of(&b, &comments, None).await["comments"].as_array().unwrap().len(), i + 1);
    }
    a.stop().await;
    b.stop().await;
    db.drop_db().await;
}
