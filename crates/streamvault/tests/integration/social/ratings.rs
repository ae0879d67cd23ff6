//! Likes and dislikes: idempotent, one per user and video, counted right under races.

use reqwest::{Method, StatusCode};
use streamvault_testkit::{Backend, TestDb, per_backend};

use super::{call, expect, member, members, nothing, public_video};
use crate::common::{TestServer, body, count};

async fn likes_count_right_under_races(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, serde_json::json!({})).await;
    let owner = member(&srv).await;
    let vid = public_video(&srv, &db, &owner, "likeable").await;
    let like = format!("/api/v1/videos/{vid}/like");
    let video = format!("/api/v1/user/{}/videos/{vid}", owner.name);

    // 100 users like it at once: 100.
    let fans = members(&srv, 100).await;
    let res = futures::future::join_all(fans.iter().map(|f| call(&srv, Some(f), Method::PUT, &like, None))).await;
    assert!(res.iter().all(|r| r.status() == StatusCode::OK));
    let v = body(call(&srv, None, Method::GET, &video, None).await).await;
    assert_eq!((v["likes"].as_i64(), v["dislikes"].as_i64()), (Some(100), Some(0)), "{v}");

    // Idempotent: again, and twice at once, still one each.
    let twice = [&fans[0], &fans[0], &fans[1]].map(|f| call(&srv, Some(f), Method::PUT, &like, None));
    for r in futures::future::join_all(twice).await {
        assert_eq!(r.status(), StatusCode::OK);
    }
    let mine = expect(&srv, Some(&fans[0]), Method::GET, &like, None, StatusCode::OK).await;
    assert_eq!(
        (mine["rating"].as_str(), mine["liked"].as_bool(), mine["likes"].as_i64()),
        (Some("like"), Some(true), Some(100))
    );

    // A like and an unlike racing, many times over: the count is the rows, whatever won.
    let racers = &fans[..20];
    for _ in 0..3 {
        let like_all = racers.iter().map(|f| call(&srv, Some(f), Method::PUT, &like, None));
        let unlike_all = racers.iter().map(|f| call(&srv, Some(f), Method::DELETE, &like, None));
        let (a, b) = tokio::join!(futures::future::join_all(like_all), futures::future::join_all(unlike_all));
        assert!(a.iter().chain(b.iter()).all(|r| r.status() == StatusCode::OK));
    }
    // (This database is the test's own: every rating in it is of this video.)
    let rows = count(&db.url, "SELECT COUNT(*) FROM video_ratings WHERE rating = 1").await;
    let v = body(call(&srv, None, Method::GET, &video, None).await).await;
    assert_eq!(v["likes"].as_i64(), Some(rows), "the counter is the rows");

    // A dislike replaces a like; taking it back leaves nothing.
    let r = expect(&srv, Some(&fans[50]), Method::PUT, &format!("/api/v1/videos/{vid}/dislike"), None, StatusCode::OK)
        .await;
    assert_eq!(
        (r["rating"].as_str(), r["likes"].as_i64(), r["dislikes"].as_i64()),
        (Some("dislike"), Some(rows - 1), Some(1))
    );
    let r =
        expect(&srv, Some(&fans[50]), Method::DELETE, &format!("/api/v1/videos/{vid}/dislike"), None, StatusCode::OK)
            .await;
    assert_eq!(
        (r["rating"].as_str(), r["likes"].as_i64(), r["dislikes"].as_i64()),
        (Some("none"), Some(rows - 1), Some(0))
    );

    // Nobody rates anonymously, a video they cannot see, or one that is not there.
    assert_eq!(call(&srv, None, Method::PUT, &like, None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(call(&srv, None, Method::GET, &like, None).await.status(), StatusCode::UNAUTHORIZED);
    let hidden = srv.create_video(&owner.name, &owner.token, "not public").await["id"].as_str().unwrap().to_owned();
    let other = member(&srv).await;
    for path in [
        format!("/api/v1/videos/{hidden}/like"),
        format!("/api/v1/videos/{}/like", nothing()),
        "/api/v1/videos/nope/like".into(),
    ] {
        assert_eq!(call(&srv, Some(&other), Method::PUT, &path, None).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The owner may (it is theirs to see).
    expect(&srv, Some(&owner), Method::PUT, &format!("/api/v1/videos/{hidden}/like"), None, StatusCode::OK).await;
    // A deleted video's rating goes with it.
    let res = call(&srv, Some(&owner), Method::DELETE, &video, None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(call(&srv, Some(&fans[0]), Method::PUT, &like, None).await.status(), StatusCode::NOT_FOUND);
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(likes_count_right_under_races);
