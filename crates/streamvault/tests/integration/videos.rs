//! Videos and comments over real HTTP on each metadata backend: every status, an
//! authorization matrix, pagination under concurrent inserts, search, and the seed's client flow.

use std::collections::HashSet;

use crate::common::{TestServer, body, expect_error, user};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, TestDb, per_backend};

const PREFIXES: [&str; 2] = ["", "/api/v1"];

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// The items of a list: at the root, the seed's format writes `null` for none.
fn items(v: &Value, key: &str) -> Vec<Value> {
    match &v[key] {
        Value::Null => Vec::new(),
        list => list.as_array().unwrap_or_else(|| panic!("{key} is not a list: {v}")).clone(),
    }
}

/// Posts a comment under prefix `p` and returns it. At the root the seed's answer is the text
/// `ok`, so the comment is read back from `/api/v1` (its newest).
async fn comment(srv: &TestServer, p: &str, vid: &str, token: &str, payload: Value) -> Value {
    let res =
        srv.authed(Method::POST, &format!("{p}/videos/{vid}/comments"), token).json(&payload).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    if !p.is_empty() {
        return body(res).await;
    }
    assert_eq!(res.text().await.unwrap(), "ok", "the seed's answer");
    let list =
        body(srv.req(Method::GET, &format!("/api/v1/videos/{vid}/comments?limit=100")).send().await.unwrap()).await;
    items(&list, "comments").last().unwrap().clone()
}

async fn video_statuses(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({"delete_grace_secs": 3600})).await;
    for p in PREFIXES {
        let (alice, bob) = (user(), user());
        let ta = srv.signup(&alice).await;
        let tb = srv.signup(&bob).await;
        let alice_id = body(srv.authed(Method::GET, "/api/v1/me", &ta).send().await.unwrap()).await["id"].clone();
        let videos = format!("{p}/user/{alice}/videos");

        // Create.
        let res = srv
            .authed(Method::POST, &videos, &ta)
            .json(&json!({"name": "First light", "author_id": "someone-else"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let v = body(res).await;
        let vid = uuid::Uuid::parse_str(v["id"].as_str().unwrap()).unwrap();
        assert_eq!(vid.get_version_num(), 7, "ids are UUID v7");
        assert_eq!(v["author_id"], alice_id, "the author is the session's user, never a body field");
        assert_eq!(v["author"], alice.as_str());
        assert_eq!(v["name"], "First light");
        assert_eq!(v["description"], "");
        assert_eq!(v["status"], "created");
        assert_eq!(v["views"], 0);
        let ctime = v["display_ctime"].as_str().unwrap();
        assert!(chrono::NaiveDateTime::parse_from_str(ctime, "%b %d %Y, %H:%M:%S").is_ok(), "{ctime}");
        assert!(chrono::DateTime::parse_from_rfc3339(v["created_at"].as_str().unwrap()).is_ok());

        for bad in [
            json!({}),
            json!({"name": ""}),
            json!({"name": "   "}),
            json!({"name": "x".repeat(201)}),
            json!({"name": 5}),
        ] {
            let res = srv.authed(Method::POST, &videos, &ta).json(&bad).send().await.unwrap();
            expect_error(res, StatusCode::BAD_REQUEST).await;
        }
        let res = srv.authed(Method::POST, &videos, &ta).json(&json!({"name": "é".repeat(200)})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "200 characters is the limit, not 200 bytes");
        let res = srv.authed(Method::POST, &videos, &ta).body("{").send().await.unwrap();
        expect_error(res, StatusCode::BAD_REQUEST).await;
        let res = srv.req(Method::POST, &videos).json(&json!({"name": "x"})).send().await.unwrap();
        expect_error(res, StatusCode::UNAUTHORIZED).await;
        let res = srv
            .authed(Method::POST, &videos, &tb)
            .json(&json!({"name": "x", "author_id": alice_id}))
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::FORBIDDEN).await;

        // Read: a video without bytes is the owner's alone.
        let one = format!("{videos}/{vid}");
        assert_eq!(srv.authed(Method::GET, &one, &ta).send().await.unwrap().status(), StatusCode::OK);
        assert_eq!(srv.req(Method::GET, &one).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        assert_eq!(srv.authed(Method::GET, &one, &tb).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        let listed = body(srv.req(Method::GET, &videos).send().await.unwrap()).await;
        let empty = if p.is_empty() { json!({"videos": null}) } else { json!({"videos": [], "next_cursor": null}) };
        assert_eq!(listed, empty, "nothing public: null at the root (the seed's), [] under /api/v1");
        assert_eq!(items(&body(srv.authed(Method::GET, &videos, &ta).send().await.unwrap()).await, "videos").len(), 2);

        srv.set_video(&db, &vid.to_string(), "ready", 0).await;
        let res = srv.req(Method::GET, &one).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(body(res).await["status"], "ready");
        let listed = body(srv.req(Method::GET, &videos).send().await.unwrap()).await;
        assert_eq!(items(&listed, "videos").len(), 1);
        for missing in [
            format!("{videos}/{}", uuid::Uuid::now_v7()),
            format!("{videos}/not-a-uuid"),
            format!("{p}/user/{bob}/videos/{vid}"),
        ] {
            let res = srv.req(Method::GET, &missing).send().await.unwrap();
            expect_error(res, StatusCode::NOT_FOUND).await;
        }
        let res = srv.req(Method::GET, &format!("{p}/user/{}/videos", user())).send().await.unwrap();
        expect_error(res, StatusCode::NOT_FOUND).await;

        // Edit.
        let res = srv.authed(Method::PATCH, &one, &ta).json(&json!({"name": "Renamed"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let v2 = body(res).await;
        assert_eq!((v2["name"].as_str(), v2["description"].as_str()), (Some("Renamed"), Some("")));
        assert!(v2["updated_at"].as_str() >= v["updated_at"].as_str());
        let res =
            srv.authed(Method::PATCH, &one, &ta).json(&json!({"description": "now with words"})).send().await.unwrap();
        assert_eq!(body(res).await["name"], "Renamed", "fields not given stay");
        for bad in [json!({}), json!({"name": ""}), json!({"description": "d".repeat(5001)})] {
            let res = srv.authed(Method::PATCH, &one, &ta).json(&bad).send().await.unwrap();
            expect_error(res, StatusCode::BAD_REQUEST).await;
        }
        let res = srv.authed(Method::PATCH, &one, &tb).json(&json!({"name": "mine now"})).send().await.unwrap();
        expect_error(res, StatusCode::FORBIDDEN).await;
        let res = srv.req(Method::PATCH, &one).json(&json!({"name": "anon"})).send().await.unwrap();
        expect_error(res, StatusCode::UNAUTHORIZED).await;
        let res = srv
            .authed(Method::PATCH, &format!("{videos}/{}", uuid::Uuid::now_v7()), &ta)
            .json(&json!({"name": "n"}))
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::NOT_FOUND).await;

        // Delete.
        let res = srv.req(Method::DELETE, &one).send().await.unwrap();
        expect_error(res, StatusCode::UNAUTHORIZED).await;
        let res = srv.authed(Method::DELETE, &one, &tb).send().await.unwrap();
        expect_error(res, StatusCode::FORBIDDEN).await;
        let res = srv.authed(Method::DELETE, &format!("{videos}/{}", uuid::Uuid::now_v7()), &ta).send().await.unwrap();
        expect_error(res, StatusCode::NOT_FOUND).await;
        let res = srv.authed(Method::DELETE, &one, &ta).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        for reader in [Some(&ta), Some(&tb), None] {
            let req = srv.req(Method::GET, &one);
            let req = if let Some(t) = reader { req.header("X-Session-Id", t) } else { req };
            assert_eq!(req.send().await.unwrap().status(), StatusCode::NOT_FOUND, "gone from every read at once");
        }
        let mine = body(srv.authed(Method::GET, &videos, &ta).send().await.unwrap()).await;
        assert!(items(&mine, "videos").iter().all(|v| v["id"] != vid.to_string()));
        let res = srv.authed(Method::DELETE, &one, &ta).send().await.unwrap();
        expect_error(res, StatusCode::NOT_FOUND).await;
        let res = srv.authed(Method::PATCH, &one, &ta).json(&json!({"name": "zombie"})).send().await.unwrap();
        expect_error(res, StatusCode::NOT_FOUND).await;

        // The seed's video_del_rec: one delayed job per deleted video.
        let conn = db.connect().await;
        let be = conn.get_database_backend();
        let rows = conn
            .query_all_raw(Statement::from_string(
                be,
                "SELECT kind, payload, run_at, created_at, state FROM jobs".to_owned(),
            ))
            .await
            .unwrap();
        let jobs: Vec<_> =
            rows.iter().filter(|r| r.try_get::<String>("", "payload").unwrap().contains(&vid.to_string())).collect();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].try_get::<String>("", "kind").unwrap(), "delete_video");
        assert_eq!(jobs[0].try_get::<String>("", "state").unwrap(), "queued");
        let delay = jobs[0].try_get::<i64>("", "run_at").unwrap() - jobs[0].try_get::<i64>("", "created_at").unwrap();
        assert!((3_590_000..=3_610_000).contains(&delay), "run after the grace period: {delay} ms");
        conn.close().await.ok();
    }
    srv.stop().await;
    db.drop_db().await;
}

async fn comment_statuses(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    for p in PREFIXES {
        let (alice, bob, carol) = (user(), user(), user());
        let (ta, tb, tc) = (srv.signup(&alice).await, srv.signup(&bob).await, srv.signup(&carol).await);
        let v = srv.create_video(&alice, &ta, "Commented").await;
        let vid = id(&v);
        srv.set_video(&db, &vid, "ready", 0).await;
        let comments = format!("{p}/videos/{vid}/comments");

        let c = comment(&srv, p, &vid, &tb, json!({"content": "nice", "author_id": "forged"})).await;
        assert_eq!(c["video_id"], vid.as_str());
        assert_eq!(c["author"], bob.as_str());
        assert_ne!(c["author_id"], "forged");
        assert_eq!(c["content"], "nice");
        let cb = id(&c);
        // 2000 characters is allowed.
        let cc = id(&comment(&srv, p, &vid, &tc, json!({"content": "ü".repeat(2000)})).await);
        let ca = id(&comment(&srv, p, &vid, &ta, json!({"content": "thanks"})).await);

        for bad in [json!({}), json!({"content": ""}), json!({"content": " \n "}), json!({"content": "x".repeat(2001)})]
        {
            let res = srv.authed(Method::POST, &comments, &tb).json(&bad).send().await.unwrap();
            expect_error(res, StatusCode::BAD_REQUEST).await;
        }
        let res = srv.req(Method::POST, &comments).json(&json!({"content": "anon"})).send().await.unwrap();
        expect_error(res, StatusCode::UNAUTHORIZED).await;
        for missing in [uuid::Uuid::now_v7().to_string(), "nope".into()] {
            let res = srv
                .authed(Method::POST, &format!("{p}/videos/{missing}/comments"), &tb)
                .json(&json!({"content": "x"}))
                .send()
                .await
                .unwrap();
            expect_error(res, StatusCode::NOT_FOUND).await;
            let res = srv.req(Method::GET, &format!("{p}/videos/{missing}/comments")).send().await.unwrap();
            expect_error(res, StatusCode::NOT_FOUND).await;
        }

        // Public; oldest first under /api/v1, newest first at the root (the seed's order).
        let list = body(srv.req(Method::GET, &comments).send().await.unwrap()).await;
        let mut ids: Vec<String> = items(&list, "comments").iter().map(id).collect();
        if p.is_empty() {
            ids.reverse();
        }
        assert_eq!(ids, vec![cb.clone(), cc.clone(), ca.clone()]);
        let first = &list["comments"][0];
        for field in ["id", "video_id", "author", "author_id", "content", "created_at"] {
            assert!(first.get(field).is_some(), "comment lacks {field}");
        }

        // Delete: the comment's author, or the video's owner; nobody else.
        let one = |cid: &str| format!("{p}/videos/{vid}/comment/{cid}");
        let res = srv.req(Method::DELETE, &one(&cb)).send().await.unwrap();
        expect_error(res, StatusCode::UNAUTHORIZED).await;
        let res = srv.authed(Method::DELETE, &one(&cb), &tc).send().await.unwrap();
        expect_error(res, StatusCode::FORBIDDEN).await;
        let res = srv.authed(Method::DELETE, &one(&ca), &tb).send().await.unwrap();
        expect_error(res, StatusCode::FORBIDDEN).await;
        let res = srv.authed(Method::DELETE, &one(&cb), &tb).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "author");
        let res = srv.authed(Method::DELETE, &one(&cc), &ta).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "video owner");
        let res = srv.authed(Method::DELETE, &one(&cc), &ta).send().await.unwrap();
        expect_error(res, StatusCode::NOT_FOUND).await;
        let res = srv.authed(Method::DELETE, &one(&uuid::Uuid::now_v7().to_string()), &ta).send().await.unwrap();
        expect_error(res, StatusCode::NOT_FOUND).await;
        let other = srv.create_video(&alice, &ta, "Other").await;
        let res =
            srv.authed(Method::DELETE, &format!("{p}/videos/{}/comment/{ca}", id(&other)), &ta).send().await.unwrap();
        expect_error(res, StatusCode::NOT_FOUND).await;
        let left = body(srv.req(Method::GET, &comments).send().await.unwrap()).await;
        assert_eq!(items(&left, "comments").len(), 1);

        // A deleted video takes its comments out of reach.
        srv.authed(Method::DELETE, &format!("{p}/user/{alice}/videos/{vid}"), &ta).send().await.unwrap();
        let res = srv.req(Method::GET, &comments).send().await.unwrap();
        expect_error(res, StatusCode::NOT_FOUND).await;
        let res = srv.authed(Method::POST, &comments, &tb).json(&json!({"content": "late"})).send().await.unwrap();
        expect_error(res, StatusCode::NOT_FOUND).await;
    }
    srv.stop().await;
    db.drop_db().await;
}

/// Owner, other user and anonymous against every route that has an owner.
async fn authorization_matrix(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (owner, other) = (user(), user());
    let (to, tx) = (srv.signup(&owner).await, srv.signup(&other).await);
    let who = |w: &str| match w {
        "owner" => Some(to.clone()),
        "other" => Some(tx.clone()),
        _ => None,
    };
    // (method, path builder, body, owner, other, anonymous)
    type Case = (Method, &'static str, Value, u16, u16, u16);
    let cases: Vec<Case> = vec![
        (Method::GET, "/user/{owner}", Value::Null, 200, 403, 401),
        (Method::POST, "/user/{owner}/videos", json!({"name": "m"}), 201, 403, 401),
        (Method::GET, "/user/{owner}/videos", Value::Null, 200, 200, 200),
        (Method::GET, "/user/{owner}/videos/{vid}", Value::Null, 200, 200, 200),
        (Method::PATCH, "/user/{owner}/videos/{vid}", json!({"name": "n"}), 200, 403, 401),
        (Method::GET, "/videos/{vid}/comments", Value::Null, 200, 200, 200),
        (Method::POST, "/videos/{vid}/comments", json!({"content": "c"}), 201, 201, 401),
        (Method::DELETE, "/videos/{vid}/comment/{cid}", Value::Null, 204, 403, 401),
        (Method::DELETE, "/user/{owner}/videos/{vid}", Value::Null, 204, 403, 401),
        (Method::DELETE, "/user/{owner}", Value::Null, 204, 403, 401),
    ];
    for (method, template, payload, owner_status, other_status, anon_status) in cases {
        // Fresh resources per case, so an allowed delete does not change the next row.
        let v = srv.create_video(&owner, &to, "matrix").await;
        let vid = id(&v);
        srv.set_video(&db, &vid, "ready", 0).await;
        let c = comment(&srv, "/api/v1", &vid, &to, json!({"content": "mine"})).await;
        let path = template.replace("{owner}", &owner).replace("{vid}", &vid).replace("{cid}", &id(&c));
        // The caller whose success ends a session or deletes goes last.
        for (caller, expected) in [("anonymous", anon_status), ("other", other_status), ("owner", owner_status)] {
            for prefix in PREFIXES {
                if caller == "owner" && prefix.is_empty() && method == Method::DELETE {
                    continue; // checked once, under /api/v1, below
                }
                let mut req = srv.req(method.clone(), &format!("{prefix}{path}"));
                if let Some(t) = who(caller) {
                    req = req.header("X-Session-Id", t);
                }
                if !payload.is_null() {
                    req = req.json(&payload);
                }
                let status = req.send().await.unwrap().status().as_u16();
                assert_eq!(status, expected, "{caller} {method} {prefix}{template}");
            }
        }
    }
    srv.stop().await;
    db.drop_db().await;
}

/// Walks every page while another task inserts: no row twice, no original row missed, and the
/// order holds.
async fn pagination_under_inserts(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let author = user();
    let token = srv.signup(&author).await;
    let mut originals = Vec::new();
    for i in 0..23 {
        let v = srv.create_video(&author, &token, &format!("video {i}")).await;
        srv.set_video(&db, &id(&v), "ready", i % 4).await;
        originals.push(id(&v));
    }
    let vid = originals[0].clone();
    let mut original_comments = Vec::new();
    for i in 0..23 {
        let c = srv
            .authed(Method::POST, &format!("/api/v1/videos/{vid}/comments"), &token)
            .json(&json!({"content": format!("c{i}")}))
            .send()
            .await
            .unwrap();
        original_comments.push(id(&body(c).await));
    }

    // A writer adds videos and comments the whole time the pages are read.
    let writer = {
        let (url, token, author, vid) = (srv.url.clone(), token.clone(), author.clone(), vid.clone());
        tokio::spawn(async move {
            let http = streamvault_testkit::http_client();
            for i in 0..15 {
                http.post(format!("{url}/api/v1/user/{author}/videos"))
                    .header("X-Session-Id", &token)
                    .json(&json!({"name": format!("new {i}")}))
                    .send()
                    .await
                    .unwrap();
                http.post(format!("{url}/api/v1/videos/{vid}/comments"))
                    .header("X-Session-Id", &token)
                    .json(&json!({"content": format!("new {i}")}))
                    .send()
                    .await
                    .unwrap();
            }
        })
    };

    let walk = |first: String, key: &'static str| {
        let srv = &srv;
        let token = token.clone();
        async move {
            let mut seen = Vec::new();
            let mut next = first;
            loop {
                let page = body(srv.authed(Method::GET, &next, &token).send().await.unwrap()).await;
                let items = page[key].as_array().unwrap();
                assert!(items.len() <= 5);
                seen.extend(items.iter().cloned());
                match page["next_cursor"].as_str() {
                    Some(c) => {
                        let base = next.split("cursor=").next().unwrap().trim_end_matches('&').to_owned();
                        next = format!("{base}&cursor={c}");
                    }
                    None => break,
                }
            }
            seen
        }
    };
    let videos = walk(format!("/api/v1/user/{author}/videos?limit=5"), "videos").await;
    let comments = walk(format!("/api/v1/videos/{vid}/comments?limit=5"), "comments").await;
    let latest = walk("/api/v1/videos?sort=latest&limit=5".into(), "videos").await;
    let popular = walk("/api/v1/videos?sort=popular&limit=5".into(), "videos").await;
    writer.await.unwrap();

    let check = |items: &[Value], originals: &[String], what: &str| {
        let ids: Vec<String> = items.iter().map(id).collect();
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{what}: a row came twice");
        for o in originals {
            assert!(unique.contains(o), "{what}: {o} was skipped");
        }
    };
    check(&videos, &originals, "author's videos");
    check(&comments, &original_comments, "comments");
    check(&latest, &originals, "latest");
    check(&popular, &originals, "popular");

    let ids = |items: &[Value]| items.iter().map(id).collect::<Vec<_>>();
    let mut sorted = ids(&videos);
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids(&videos), sorted, "newest first");
    let mut sorted = ids(&comments);
    sorted.sort();
    assert_eq!(ids(&comments), sorted, "oldest first");
    let ranks: Vec<(i64, String)> = popular.iter().map(|v| (v["views"].as_i64().unwrap(), id(v))).collect();
    let mut sorted = ranks.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ranks, sorted, "most viewed first, ties newest first");
    srv.stop().await;
    db.drop_db().await;
}

async fn discovery_search_and_channels(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (alice, bob) = (user(), user());
    let (ta, tb) = (srv.signup(&alice).await, srv.signup(&bob).await);
    let tag = user(); // a word no other test uses, so parallel tests do not disturb the search
    let mk = |title: String, description: &'static str, views: i64, tok: String, name: String| {
        let srv = &srv;
        let db = &db;
        async move {
            let res = srv
                .authed(Method::POST, &format!("/api/v1/user/{name}/videos"), &tok)
                .json(&json!({"name": title, "description": description}))
                .send()
                .await
                .unwrap();
            let v = body(res).await;
            srv.set_video(db, &id(&v), "ready", views).await;
            id(&v)
        }
    };
    let cats = mk(format!("Cats in Paris {tag}"), "a walk", 10, ta.clone(), alice.clone()).await;
    let strasse = mk(format!("Straßenbahn {tag}"), "ÜBER die Brücke", 30, ta.clone(), alice.clone()).await;
    let percent = mk(format!("100% real_deal {tag}"), "", 20, tb.clone(), bob.clone()).await;
    let emoji = mk(format!("🎬 Premiere {tag}"), "Ünïcödé", 5, tb.clone(), bob.clone()).await;
    let hidden = srv.create_video(&alice, &ta, &format!("Cats draft {tag}")).await; // never published
    let gone = mk(format!("Cats deleted {tag}"), "", 99, ta.clone(), alice.clone()).await;
    srv.authed(Method::DELETE, &format!("/api/v1/user/{alice}/videos/{gone}"), &ta).send().await.unwrap();

    let search = |q: String, sort: &'static str| {
        let srv = &srv;
        async move {
            let res = srv
                .req(Method::GET, "/api/v1/videos")
                .query(&[("q", q.as_str()), ("sort", sort)])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            body(res).await["videos"].as_array().unwrap().iter().map(id).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        search(tag.clone(), "latest").await,
        vec![emoji.clone(), percent.clone(), strasse.clone(), cats.clone()]
    );
    assert_eq!(
        search(tag.clone(), "popular").await,
        vec![strasse.clone(), percent.clone(), cats.clone(), emoji.clone()]
    );
    assert_eq!(
        search(format!("cats in paris {}", tag.to_uppercase()), "latest").await,
        vec![cats.clone()],
        "case-insensitive"
    );
    assert_eq!(
        search("über DIE brücke".into(), "latest").await,
        vec![strasse.clone()],
        "Unicode case folding, description too"
    );
    assert_eq!(search(format!("straßenbahn {tag}"), "latest").await, vec![strasse.clone()]);
    assert_eq!(
        search(format!("100% {tag}").replace("100% ", "100% real_deal "), "latest").await,
        vec![percent.clone()]
    );
    assert!(search("100%real".into(), "latest").await.is_empty(), "% is literal");
    assert!(!search(format!("real_deal {tag}"), "latest").await.is_empty());
    assert!(search(format!("real-deal {tag}"), "latest").await.is_empty(), "_ is literal");
    assert_eq!(search(format!("🎬 premiere {tag}"), "latest").await, vec![emoji.clone()]);
    assert!(search(format!("draft {tag}"), "latest").await.is_empty(), "unpublished videos are not listed");
    assert!(search(format!("deleted {tag}"), "latest").await.is_empty(), "deleted videos are not listed");
    let _ = hidden;

    for bad in [("sort", "oldest"), ("limit", "0"), ("limit", "1000"), ("limit", "x"), ("cursor", "garbage!")] {
        let res = srv.req(Method::GET, "/api/v1/videos").query(&[bad]).send().await.unwrap();
        expect_error(res, StatusCode::BAD_REQUEST).await;
    }
    let res = srv.req(Method::GET, "/api/v1/videos").query(&[("q", "x".repeat(201))]).send().await.unwrap();
    expect_error(res, StatusCode::BAD_REQUEST).await;

    let ch = body(srv.req(Method::GET, &format!("/api/v1/channels/{alice}")).send().await.unwrap()).await;
    assert_eq!(ch["user_name"], alice.as_str());
    assert_eq!(ch["video_count"], 2, "public, live videos only");
    assert!(ch.get("password_hash").is_none());
    let res = srv.req(Method::GET, &format!("/api/v1/channels/{}", user())).send().await.unwrap();
    expect_error(res, StatusCode::NOT_FOUND).await;
    srv.stop().await;
    db.drop_db().await;
}

/// Text comes back exactly as it was sent, whatever it contains.
async fn text_round_trips(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let samples = [
        "Ünïcödé — 中文标题 — العربية — עברית",
        "emoji 🎬🍿👩‍👩‍👧‍👦 and a flag 🇺🇦",
        "quotes ' \" ` and backslash \\ and tab\there",
        "'; DROP TABLE videos; -- ",
        "<script>alert('x')</script> &amp; <b>bold</b>",
        "  leading and trailing spaces  ",
        "line one\nline two\r\nline three",
    ];
    for s in samples {
        let res = srv
            .authed(Method::POST, &format!("/user/{name}/videos"), &token)
            .json(&json!({"name": s, "description": s}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "{s:?}");
        let v = body(res).await;
        let vid = id(&v);
        let got =
            body(srv.authed(Method::GET, &format!("/user/{name}/videos/{vid}"), &token).send().await.unwrap()).await;
        assert_eq!((got["name"].as_str(), got["description"].as_str()), (Some(s), Some(s)));
        let c = srv
            .authed(Method::POST, &format!("/videos/{vid}/comments"), &token)
            .json(&json!({"content": s}))
            .send()
            .await
            .unwrap();
        assert_eq!(c.status(), StatusCode::CREATED);
        let list =
            body(srv.authed(Method::GET, &format!("/videos/{vid}/comments"), &token).send().await.unwrap()).await;
        assert_eq!(list["comments"][0]["content"].as_str(), Some(s));
    }
    let count =
        body(srv.authed(Method::GET, &format!("/user/{name}/videos?limit=100"), &token).send().await.unwrap()).await;
    assert_eq!(count["videos"].as_array().unwrap().len(), samples.len(), "the SQL sample did not drop anything");
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(
    video_statuses,
    comment_statuses,
    authorization_matrix,
    pagination_under_inserts,
    discovery_search_and_channels,
    text_round_trips,
);

/// The comments of a video that is not public (here failed) are its owner's to read: its
/// comments exist, so only the list's own check of the video stands between them and others.
async fn comments_of_an_unpublished_video(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (owner, other) = (user(), user());
    let (to, tx) = (srv.signup(&owner).await, srv.signup(&other).await);
    let vid = id(&srv.create_video(&owner, &to, "soon failed").await);
    srv.set_video(&db, &vid, "ready", 0).await;
    comment(&srv, "/api/v1", &vid, &tx, json!({"content": "before it failed"})).await;
    srv.set_video(&db, &vid, "failed", 0).await;
    for prefix in PREFIXES {
        let path = format!("{prefix}/videos/{vid}/comments");
        assert_eq!(
            srv.req(Method::GET, &path).send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "anonymous {path}"
        );
        let res = srv.authed(Method::GET, &path, &tx).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "another user {path}");
        let res = srv.authed(Method::GET, &path, &to).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "the owner {path}");
    }
    let mine =
        body(srv.authed(Method::GET, &format!("/api/v1/videos/{vid}/comments"), &to).send().await.unwrap()).await;
    assert_eq!(items(&mine, "comments").len(), 1);
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(comments_of_an_unpublished_video);
