//! Drive files through the stream role: upload (raw and multipart), private downloads with
//! ranges and an RFC 6266 Content-Disposition, deduplication with videos.

use crate::common::{TestServer, body, expect_error, fake_mp4, sha256_hex, user};
use reqwest::{Method, StatusCode};
use serde_json::json;
use streamvault_testkit::{Backend, TestDb, per_backend};

async fn upload_and_download(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (alice, bob) = (user(), user());
    let (ta, tb) = (srv.signup(&alice).await, srv.signup(&bob).await);
    let text = "plain text, not a video — ünïcödé\n".repeat(5000).into_bytes();

    let res = srv
        .authed(Method::POST, "/stream/v1/files?name=notes%20%C3%BC%22q%22.txt", &ta)
        .body(text.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let f = body(res).await;
    assert_eq!(f["name"], "notes ü\"q\".txt");
    assert_eq!(f["size"], text.len());
    assert_eq!(f["sha256"], sha256_hex(&text));
    assert_eq!(f["mime"], "text/plain", "guessed from the name when the bytes say nothing");
    let id = f["id"].as_str().unwrap().to_owned();

    let url = format!("/stream/v1/files/{id}");
    let res = srv.authed(Method::GET, &url, &ta).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"notes __q_.txt\"; filename*=UTF-8''notes%20%C3%BC%22q%22.txt"
    );
    assert_eq!(res.headers()["cache-control"], "private, max-age=0");
    assert_eq!(res.bytes().await.unwrap().as_ref(), &text[..]);
    let res = srv.authed(Method::GET, &url, &ta).header("range", "bytes=10-29").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &text[10..30]);
    let res =
        srv.authed(Method::GET, &url, &ta).header("range", format!("bytes={}-", text.len())).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    // Private: no session is 401, someone else's file is not found.
    expect_error(srv.req(Method::GET, &url).send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    expect_error(srv.authed(Method::GET, &url, &tb).send().await.unwrap(), StatusCode::NOT_FOUND).await;
    let missing = format!("/stream/v1/files/{}", uuid::Uuid::now_v7());
    expect_error(srv.authed(Method::GET, &missing, &ta).send().await.unwrap(), StatusCode::NOT_FOUND).await;

    // Multipart takes the part's file name; any content is fine for the drive.
    let clip = fake_mp4(300_000, 21);
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(clip.clone()).file_name("clip.mp4"));
    let res = srv.authed(Method::POST, "/stream/v1/files", &tb).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let g = body(res).await;
    assert_eq!((g["name"].as_str(), g["mime"].as_str()), (Some("clip.mp4"), Some("video/mp4")));
    assert_eq!(g["deduplicated"], false);

    // The same bytes as a video: one blob.
    let vid = srv.create_video(&alice, &ta, "same bytes").await["id"].as_str().unwrap().to_owned();
    let up = body(srv.upload_raw(&vid, &ta, clip.clone()).await).await;
    assert_eq!(up["deduplicated"], true);

    // Bad names and missing names are refused, and nothing stays in staging.
    for bad in ["..", "a%2Fb", "%00", ""] {
        let res = srv
            .authed(Method::POST, &format!("/stream/v1/files?name={bad}"), &ta)
            .body(text.clone())
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::BAD_REQUEST).await;
    }
    let res = srv.authed(Method::POST, "/stream/v1/files", &ta).body(text.clone()).send().await.unwrap();
    expect_error(res, StatusCode::BAD_REQUEST).await;
    let res = srv.req(Method::POST, "/stream/v1/files?name=x.txt").body(text.clone()).send().await.unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED).await;
    assert_eq!(std::fs::read_dir(srv.data_dir().join("staging")).unwrap().count(), 0);
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(upload_and_download);
