//! Bullet comments on every backend: posting with its limits, reading by segment with a
//! validator, taking back and hiding, turning off, and the sender shown only as a pseudonym.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, TestDb, per_backend};

use std::time::Duration;

use crate::common::poll::poll;
use crate::common::{TestServer, body, lavfi_video, user};

struct Fixture {
    owner: String,
    vid: String,
    name: String,
}

/// A two-second video, probed (its length known), owned by a fresh user; `None` without ffmpeg
/// outside CI.
async fn fixture(srv: &TestServer) -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let data =
        lavfi_video(dir.path(), "two.mp4", "64x64", 2, &["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"])?;
    let name = user();
    let owner = srv.signup(&name).await;
    let vid = srv.create_video(&name, &owner, "bullets").await["id"].as_str().unwrap().to_owned();
    assert_eq!(srv.upload_raw(&vid, &owner, data).await.status(), StatusCode::CREATED);
    let path = format!("/api/v1/user/{name}/videos/{vid}");
    let probed = poll(150, Duration::from_millis(200), || async {
        body(srv.authed(Method::GET, &path, &owner).send().await.unwrap()).await["duration_ms"].is_u64()
    })
    .await;
    assert!(probed, "the video was probed");
    Some(Fixture { owner, vid, name })
}

async fn post(srv: &TestServer, vid: &str, token: &str, b: Value) -> (StatusCode, Value) {
    let res = srv.authed(Method::POST, &format!("/api/v1/videos/{vid}/danmaku"), token).json(&b).send().await.unwrap();
    let status = res.status();
    (status, body(res).await)
}

async fn segment(srv: &TestServer, vid: &str, n: u64) -> Value {
    let res = srv.req(Method::GET, &format!("/api/v1/videos/{vid}/danmaku?segment={n}")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    body(res).await
}

async fn bullet_comments(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let Some(f) = fixture(&srv).await else { return };
    let (a, b) = (srv.signup(&user()).await, srv.signup(&user()).await);

    // Posting: defaults, and verbatim text (markup and emoji kept as sent).
    let text = "<b>前方高能</b> 🎉 & 'quotes'";
    let (st, one) = post(&srv, &f.vid, &a, json!({"t_ms": 500, "text": text})).await;
    assert_eq!(st, StatusCode::CREATED, "{one}");
    // At once again: one per 3 s per user, with Retry-After.
    let res = srv
        .authed(Method::POST, &format!("/api/v1/videos/{}/danmaku", f.vid), &a)
        .json(&json!({"t_ms": 1, "text": "again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));

    assert_eq!(
        (one["text"].as_str(), one["mode"].as_str(), one["size"].as_str()),
        (Some(text), Some("scroll"), Some("normal"))
    );
    assert_eq!(one["color"], 0xFF_FF_FF);
    let (st, two) = post(
        &srv,
        &f.vid,
        &b,
        json!({"t_ms": 100, "text": "second", "mode": "top", "color": 0xFF0000, "size": "large"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{two}");

    // Bad input, each with its code; nothing stored.
    let c = srv.signup(&user()).await;
    for (bad, code) in [
        (json!({"t_ms": 1, "text": ""}), "bad_text"),
        (json!({"t_ms": 1, "text": "x".repeat(101)}), "bad_text"),
        (json!({"t_ms": 1, "text": "two\nlines"}), "bad_text"),
        (json!({"t_ms": 1, "text": "   "}), "bad_text"),
        (json!({"t_ms": 1, "text": "\u{200b}"}), "bad_text"),
        (json!({"t_ms": 1, "text": "\u{202e}evil"}), "bad_text"),
        (json!({"t_ms": 1, "text": "a\u{2028}b"}), "bad_text"),
        (json!({"t_ms": 1, "text": "ok", "mode": "sideways"}), "bad_mode"),
        (json!({"t_ms": 1, "text": "ok", "size": "huge"}), "bad_size"),
        (json!({"t_ms": 1, "text": "ok", "color": 16_777_216}), "bad_color"),
        (json!({"t_ms": -1, "text": "ok"}), "bad_json"),
        (json!({"t_ms": 2_500, "text": "past the end"}), "bad_time"),
    ] {
        let (st, e) = post(&srv, &f.vid, &c, bad.clone()).await;
        assert_eq!((st, e["error_code"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{bad}");
    }
    let (st, _) = post(&srv, &f.vid, &c, json!({"t_ms": 1, "text": "x".repeat(100)})).await;
    assert_eq!(st, StatusCode::CREATED, "100 characters are fine (and bad requests did not use the cooldown)");
    let res = srv
        .req(Method::POST, &format!("/api/v1/videos/{}/danmaku", f.vid))
        .json(&json!({"t_ms": 1, "text": "anon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let nowhere = uuid::Uuid::now_v7();
    assert_eq!(post(&srv, &nowhere.to_string(), &b, json!({"t_ms": 1, "text": "x"})).await.0, StatusCode::NOT_FOUND);

    // Reading: by segment, in video order, the sender a pseudonym (stable, not the user id).
    let seg = segment(&srv, &f.vid, 0).await;
    let list = seg["danmaku"].as_array().unwrap();
    let times: Vec<u64> = list.iter().map(|d| d["t_ms"].as_u64().unwrap()).collect();
    assert_eq!(times, [1, 100, 500]);
    assert_eq!(seg["segment_ms"], 360_000);
    let senders: Vec<&str> = list.iter().map(|d| d["sender"].as_str().unwrap()).collect();
    assert!(senders.iter().all(|s| s.len() == 16), "{senders:?}");
    assert_ne!(senders[1], senders[2]);
    assert_eq!(segment(&srv, &f.vid, 1).await["danmaku"], json!([]), "the next six minutes are empty");
    let res = srv.req(Method::GET, &format!("/api/v1/videos/{}/danmaku?segment=x", f.vid)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // The validator: 304 while the segment is unchanged, a new one after a change.
    let path = format!("/api/v1/videos/{}/danmaku?segment=0", f.vid);
    let etag = srv.req(Method::GET, &path).send().await.unwrap().headers()["etag"].to_str().unwrap().to_owned();
    let res = srv.req(Method::GET, &path).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // Taking back (the author, within two minutes), hiding (the owner), refusing others.
    let one_id = one["id"].as_str().unwrap();
    let del = |token: &str, id: &str| {
        srv.authed(Method::DELETE, &format!("/api/v1/videos/{}/danmaku/{id}", f.vid), token).send()
    };
    assert_eq!(del(&b, one_id).await.unwrap().status(), StatusCode::FORBIDDEN, "another viewer's");
    assert_eq!(del(&a, one_id).await.unwrap().status(), StatusCode::NO_CONTENT, "its author takes it back");
    assert_eq!(del(&a, one_id).await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(
        del(&f.owner, two["id"].as_str().unwrap()).await.unwrap().status(),
        StatusCode::NO_CONTENT,
        "the owner hides it"
    );
    let left: Vec<u64> = segment(&srv, &f.vid, 0).await["danmaku"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["t_ms"].as_u64().unwrap())
        .collect();
    assert_eq!(left, [1]);
    let res = srv.req(Method::GET, &path).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "a changed segment has a new validator");

    // Meta, and the owner's switch (others cannot flip it).
    let meta =
        body(srv.req(Method::GET, &format!("/api/v1/videos/{}/danmaku/meta", f.vid)).send().await.unwrap()).await;
    assert_eq!(meta, json!({"enabled": true, "count": 1, "segment_ms": 360_000, "segments": 1}));
    let switch = |token: &str, on: bool| {
        srv.authed(Method::PUT, &format!("/api/v1/videos/{}/danmaku/enabled", f.vid), token)
            .json(&json!({"enabled": on}))
            .send()
    };
    assert_eq!(switch(&b, false).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(body(switch(&f.owner, false).await.unwrap()).await["enabled"], false);
    let d = srv.signup(&user()).await;
    let (st, e) = post(&srv, &f.vid, &d, json!({"t_ms": 1, "text": "off?"})).await;
    assert_eq!((st, e["error_code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    assert_eq!(body(switch(&f.owner, true).await.unwrap()).await["enabled"], true);
    assert_eq!(post(&srv, &f.vid, &d, json!({"t_ms": 1, "text": "on again"})).await.0, StatusCode::CREATED);

    // A race: ten posts at once from one user, one gets through.
    let racer = srv.signup(&user()).await;
    let posts = futures::future::join_all(
        (0..10).map(|i| post(&srv, &f.vid, &racer, json!({"t_ms": 10 + i, "text": format!("race {i}")}))),
    )
    .await;
    let created = posts.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let limited = posts.iter().filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((created, limited), (1, 9), "{posts:?}");
    // A burst of anonymous reads: all answered, with one validator.
    let reads = futures::future::join_all((0..50).map(|_| srv.req(Method::GET, &path).send())).await;
    let mut tags = std::collections::HashSet::new();
    for r in reads {
        let r = r.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        tags.insert(r.headers()["etag"].to_str().unwrap().to_owned());
    }
    assert_eq!(tags.len(), 1);

    // A video nobody may play yet has nothing to read.
    let empty = srv.create_video(&f.name, &f.owner, "empty").await["id"].as_str().unwrap().to_owned();
    let res = srv.req(Method::GET, &format!("/api/v1/videos/{empty}/danmaku")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(bullet_comments);

/// The owner's blocked words hold matching bullet comments back; the export in bilibili's XML
/// format and the density strip count only what viewers see.
async fn blocked_words_export_and_density(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let Some(f) = fixture(&srv).await else { return };
    let words = "/api/v1/me/danmaku/blocked-words";

    // Only for oneself: anonymous is 401; bad lists are 400 and change nothing.
    let res = srv.req(Method::GET, words).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = srv.req(Method::PUT, words).json(&json!({"words": ["x"]})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (srv_, owner_) = (&srv, &f.owner);
    let put = |list: Value| async move {
        let res = srv_.authed(Method::PUT, words, owner_).json(&json!({ "words": list })).send().await.unwrap();
        let status = res.status();
        (status, body(res).await)
    };
    let too_many: Vec<String> = (0..201).map(|i| format!("w{i}")).collect();
    for bad in [json!(["x".repeat(31)]), json!([""]), json!(["a\u{202e}b"]), json!(too_many), json!("word")] {
        assert_eq!(put(bad.clone()).await.0, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (st, kept) = put(json!([" Spoiler ", "spoiler", "剧透"])).await;
    assert_eq!((st, kept), (StatusCode::OK, json!({"words": ["Spoiler", "剧透"]})), "trimmed, once in any case");
    let mine = body(srv.authed(Method::GET, words, &f.owner).send().await.unwrap()).await;
    assert_eq!(mine["words"], json!(["Spoiler", "剧透"]));
    let other = srv.signup(&user()).await;
    let theirs = body(srv.authed(Method::GET, words, &other).send().await.unwrap()).await;
    assert_eq!(theirs["words"], json!([]), "each user their own list");

    // A matching one is taken (201, the sender is not told) and shown to nobody.
    let (a, b, c) = (srv.signup(&user()).await, srv.signup(&user()).await, srv.signup(&user()).await);
    let (st, held) = post(&srv, &f.vid, &a, json!({"t_ms": 100, "text": "前方剧透 ahead"})).await;
    assert_eq!(st, StatusCode::CREATED, "{held}");
    let (_, one) =
        post(&srv, &f.vid, &b, json!({"t_ms": 1500, "text": "<tag> & \"q\"", "mode": "top", "color": 255})).await;
    let (_, two) = post(&srv, &f.vid, &c, json!({"t_ms": 1600, "text": "last", "size": "large"})).await;
    let seg = segment(&srv, &f.vid, 0).await;
    let ids: Vec<&Value> = seg["danmaku"].as_array().unwrap().iter().map(|d| &d["id"]).collect();
    assert_eq!(ids, [&one["id"], &two["id"]], "the held one is not shown");

    // Export: bilibili's <d p="time,mode,size,color,ctime,pool,sender,id">, text escaped.
    let path = format!("/api/v1/videos/{}/danmaku.xml", f.vid);
    let res = srv.req(Method::GET, &path).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/xml"));
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let xml = res.text().await.unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<i>"), "{xml}");
    let ds: Vec<&str> = xml.lines().filter(|l| l.trim_start().starts_with("<d ")).collect();
    assert_eq!(ds.len(), 2, "{xml}");
    let p = "<d p=\"1.500,5,25,255,".to_string();
    assert!(ds[0].trim_start().starts_with(&p), "{}", ds[0]);
    assert!(
        ds[0].ends_with(&format!(
            ",0,{},{}\">&lt;tag&gt; &amp; &quot;q&quot;</d>",
            one["sender"].as_str().unwrap(),
            one["id"].as_str().unwrap()
        )),
        "{}",
        ds[0]
    );
    assert!(ds[1].contains("\"1.600,1,36,16777215,") && ds[1].ends_with(">last</d>"), "{}", ds[1]);
    assert!(!xml.contains("剧透"), "the held one is not exported");
    let res = srv.req(Method::GET, &path).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // Density: the two seconds in buckets of a second; only visible ones count.
    let res = srv.req(Method::GET, &format!("/api/v1/videos/{}/danmaku/density", f.vid)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let dens = body(res).await;
    assert_eq!(dens["bucket_ms"], 1000);
    let counts: Vec<u64> = dens["counts"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).collect();
    assert_eq!(counts.iter().sum::<u64>(), 2, "{dens}");
    assert_eq!(counts[1], 2, "both at 1.5 s and 1.6 s: {dens}");
    // Nothing for a video the caller cannot play.
    let none = uuid::Uuid::now_v7();
    for p in [format!("/api/v1/videos/{none}/danmaku.xml"), format!("/api/v1/videos/{none}/danmaku/density")] {
        assert_eq!(srv.req(Method::GET, &p).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{p}");
    }
    // Bypasses of the blocked word: invisible characters are refused, width and case folded.
    for sneaky in ["剧\u{AD}透", "a\u{FE0F}b", "\u{3164}"] {
        let who = srv.signup(&user()).await;
        let (st, _) = post(&srv, &f.vid, &who, json!({"t_ms": 10, "text": sneaky})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{sneaky:?}");
    }
    let (_, _) = put(json!(["spoiler"])).await;
    let who = srv.signup(&user()).await;
    let (st, wide) = post(&srv, &f.vid, &who, json!({"t_ms": 10, "text": "ＳＰＯＩＬＥＲ!"})).await;
    assert_eq!(st, StatusCode::CREATED);
    let seg = segment(&srv, &f.vid, 0).await;
    assert!(!seg["danmaku"].as_array().unwrap().iter().any(|d| d["id"] == wide["id"]), "fullwidth is held too");
    // Its author can take back a held one like any other (204): nothing tells it was held.
    let res = srv
        .authed(Method::DELETE, &format!("/api/v1/videos/{}/danmaku/{}", f.vid, held["id"].as_str().unwrap()), &a)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // A huge list is refused at once, before any work on it.
    let huge: Vec<String> = (0..20_000).map(|i| format!("w{i}")).collect();
    assert_eq!(put(json!(huge)).await.0, StatusCode::BAD_REQUEST);
    let _ = f.name;
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(blocked_words_export_and_density);

/// One posted past the end before the video's length was known belongs to its last segment,
/// and to the export: the count, the segments and the export agree.
async fn past_the_end_belongs_to_the_last_segment(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let Some(f) = fixture(&srv).await else { return };
    let poster = srv.signup(&user()).await;
    let (st, d) = post(&srv, &f.vid, &poster, json!({"t_ms": 1000, "text": "inside"})).await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    // As if posted while the length was unknown: moved past the end in the database.
    let conn = db.connect().await;
    {
        use sea_orm::ConnectionTrait;
        use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
        let id = uuid::Uuid::parse_str(d["id"].as_str().unwrap()).unwrap();
        let q = Query::update()
            .table(Alias::new("danmaku"))
            .value(Alias::new("t_ms"), 86_400_000i64)
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .to_owned();
        assert_eq!(conn.execute(&q).await.unwrap().rows_affected(), 1);
    }
    conn.close().await.ok();
    let seg = segment(&srv, &f.vid, 0).await;
    assert_eq!(seg["danmaku"].as_array().unwrap().len(), 1, "in the last (here the only) segment: {seg}");
    assert_eq!(segment(&srv, &f.vid, 240).await["danmaku"], json!([]), "not in a segment past the end");
    let xml = srv
        .req(Method::GET, &format!("/api/v1/videos/{}/danmaku.xml", f.vid))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(xml.contains(">inside</d>"), "{xml}");
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(past_the_end_belongs_to_the_last_segment);

/// The read routes added with the export (density, XML) as another user and anonymous on a
/// video that is not public, under a burst; and blocked words under a race of two writes.
async fn export_density_and_blocked_words_under_abuse(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let Some(f) = fixture(&srv).await else { return };
    let other = srv.signup(&user()).await;
    let reads = [format!("/api/v1/videos/{}/danmaku.xml", f.vid), format!("/api/v1/videos/{}/danmaku/density", f.vid)];
    // A burst of anonymous reads: all answered, one validator.
    for path in &reads {
        let burst = futures::future::join_all((0..20).map(|_| srv.req(Method::GET, path).send())).await;
        let tags: std::collections::HashSet<String> = burst
            .into_iter()
            .map(|r| {
                let r = r.unwrap();
                assert_eq!(r.status(), StatusCode::OK, "{path}");
                r.headers()["etag"].to_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(tags.len(), 1, "{path}: {tags:?}");
    }
    // Not public (failed): its owner's alone.
    srv.set_video(&db, &f.vid, "failed", 0).await;
    for path in &reads {
        assert_eq!(
            srv.req(Method::GET, path).send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "anonymous {path}"
        );
        assert_eq!(
            srv.authed(Method::GET, path, &other).send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "other {path}"
        );
        assert_eq!(
            srv.authed(Method::GET, path, &f.owner).send().await.unwrap().status(),
            StatusCode::OK,
            "owner {path}"
        );
    }
    // Two writes of the list racing: one of them whole, never a mix.
    let words = "/api/v1/me/danmaku/blocked-words";
    let (a, b) = (json!({"words": ["alpha", "beta"]}), json!({"words": ["gamma", "delta", "epsilon"]}));
    let (ra, rb) = tokio::join!(
        srv.authed(Method::PUT, words, &f.owner).json(&a).send(),
        srv.authed(Method::PUT, words, &f.owner).json(&b).send()
    );
    assert_eq!((ra.unwrap().status(), rb.unwrap().status()), (StatusCode::OK, StatusCode::OK));
    let now = body(srv.authed(Method::GET, words, &f.owner).send().await.unwrap()).await;
    assert!(now == a || now == b, "one list whole: {now}");
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(export_density_and_blocked_words_under_abuse);
