//! The stream role on S3-compatible object storage (a real Garage node): uploads land in the
//! bucket once per content, and playback works both by presigned redirect and proxied.

use std::time::Duration;

use crate::common::poll::poll;
use crate::common::s3::{bucket, objects, transferred};
use crate::common::{TestServer, body, fake_mp4, files_under, sha256_hex, user};
use reqwest::{Method, StatusCode};
use serde_json::json;
use streamvault_testkit::{Backend, S3Target, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_land_in_the_bucket_and_play_by_redirect_and_proxy() {
    let Some(s3) = S3Target::find().await else { return };
    let root = s3.unique_root();
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    for playback in ["redirect", "proxy"] {
        let srv = TestServer::start(&db, json!({"storage_url": s3.storage_url(&root), "playback": playback})).await;
        let ready = body(srv.operator(Method::GET, "/readyz").send().await.unwrap()).await;
        assert_eq!(ready["checks"]["storage"], "ok", "{ready}");
        let name = user();
        let token = srv.signup(&name).await;
        let data = fake_mp4(9 * 1024 * 1024 + 3, 11); // more than one multipart part
        let vid = srv.create_video(&name, &token, "on s3").await["id"].as_str().unwrap().to_owned();
        let res = srv.upload_raw(&vid, &token, data.clone()).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let up = body(res).await;
        assert_eq!(up["sha256"], sha256_hex(&data));
        assert_eq!(up["deduplicated"], playback == "proxy", "the second run uploads the same bytes");
        assert!(transferred(&srv, 200, Duration::from_millis(50)).await, "the bytes reached the bucket");

        let url = format!("/stream/v1/videos/{vid}");
        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let res = no_redirects.get(format!("{}{url}", srv.url)).header("range", "bytes=100-199").send().await.unwrap();
        if playback == "redirect" {
            assert_eq!(res.status(), StatusCode::FOUND);
            let location = res.headers()["location"].to_str().unwrap().to_owned();
            assert!(location.starts_with(&s3.endpoint), "{location}");
            assert!(location.contains("X-Amz-Signature"), "presigned: {location}");
            // The browser follows with its Range; object storage answers it.
            let res = srv.http.get(&location).header("range", "bytes=100-199").send().await.unwrap();
            assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
            assert_eq!(res.headers()["content-type"], "video/mp4");
            assert_eq!(res.bytes().await.unwrap().as_ref(), &data[100..200]);
        } else {
            assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
            assert_eq!(res.headers()["content-range"], format!("bytes 100-199/{}", data.len()).as_str());
            assert_eq!(res.bytes().await.unwrap().as_ref(), &data[100..200]);
            let all = srv.req(Method::GET, &url).send().await.unwrap().bytes().await.unwrap();
            assert_eq!(all.as_ref(), &data[..], "proxied in full, byte-exact");
            let tail =
                srv.req(Method::GET, &url).header("range", "bytes=-5").send().await.unwrap().bytes().await.unwrap();
            assert_eq!(tail.as_ref(), &data[data.len() - 5..]);
        }
        srv.stop().await;
    }
    // One object for the two uploads of the same bytes, keyed by content, not by any name
    // (what the media jobs made of the videos lives under `media/`).
    let keys = objects(&bucket(&s3, &root), "/").await.unwrap();
    let originals: Vec<&String> = keys.iter().filter(|k| !k.starts_with("media/")).collect();
    let sha = sha256_hex(&fake_mp4(9 * 1024 * 1024 + 3, 11));
    assert_eq!(originals, vec![&format!("sha256/{}/{}/{sha}", &sha[..2], &sha[2..4])]);
    bucket(&s3, &root).delete_with("/").recursive(true).await.unwrap();
}

/// Uploads are acknowledged once on the node's disk; the transfer to object storage follows.
/// With the store down, uploads still succeed and play from the node; once it is back the bytes
/// move to the bucket, the node's copy goes, and playback switches to the bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_moves_bytes_to_the_bucket_while_playback_goes_on() {
    let Some(s3) = S3Target::find().await else { return };
    let root = s3.unique_root();
    let garage = s3.endpoint.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let proxy = streamvault_testkit::TcpProxy::start(&garage).await;
    let mut via_proxy = s3.clone();
    via_proxy.endpoint = format!("http://{}", proxy.addr);
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(
        &db,
        json!({"storage_url": via_proxy.storage_url(&root), "playback": "redirect", "delete_grace_secs": 1}),
    )
    .await;
    let name = user();
    let token = srv.signup(&name).await;
    let data = fake_mp4(6 * 1024 * 1024 + 17, 12);
    let vid = srv.create_video(&name, &token, "in transit").await["id"].as_str().unwrap().to_owned();

    proxy.cut();
    let res = srv.upload_raw(&vid, &token, data.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED, "object storage down does not fail the upload");
    let url = format!("{}/stream/v1/videos/{vid}", srv.url);
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let during = no_redirects.get(&url).header("range", "bytes=1000-1999").send().await.unwrap();
    assert_eq!(during.status(), StatusCode::PARTIAL_CONTENT, "served by the node while held");
    assert_eq!(during.bytes().await.unwrap().as_ref(), &data[1000..2000]);
    let holding = srv.data_dir().join("holding");
    assert_eq!(files_under(&holding).len(), 1, "held on the node's disk");
    assert!(objects(&bucket(&s3, &root), "/").await.unwrap().is_empty(), "nothing reached the bucket yet");

    proxy.restore().await;
    assert!(
        transferred(&srv, 200, Duration::from_millis(50)).await,
        "the transfer finished once object storage was back"
    );
    let sha = sha256_hex(&data);
    let originals: Vec<String> =
        objects(&bucket(&s3, &root), "/").await.unwrap().into_iter().filter(|k| !k.starts_with("media/")).collect();
    assert_eq!(originals, vec![format!("sha256/{}/{}/{sha}", &sha[..2], &sha[2..4])]);
    let after = no_redirects.get(&url).header("range", "bytes=1000-1999").send().await.unwrap();
    assert_eq!(after.status(), StatusCode::FOUND, "played from the bucket after the move");
    let location = after.headers()["location"].to_str().unwrap().to_owned();
    let res = srv.http.get(&location).header("range", "bytes=1000-1999").send().await.unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), &data[1000..2000]);

    // Deleting the video takes the object out of the bucket again.
    let res = srv.authed(Method::DELETE, &format!("/user/{name}/videos/{vid}"), &token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let empty = || async { objects(&bucket(&s3, &root), "/").await.unwrap().is_empty() };
    let gone = poll(100, Duration::from_millis(100), empty).await;
    assert!(gone, "the blob left the bucket after the delete");
    srv.stop().await;
}

/// The media pipeline on object storage: the poster and the HLS ladder land in the bucket under
/// the video's prefix; playlists pass through the stream role (their relative URLs must resolve
/// against it), segments and images redirect to presigned URLs; ffmpeg plays the master
/// playlist end to end; deleting the video empties its prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_outputs_live_in_the_bucket_and_play_through_redirects() {
    let Some(s3) = S3Target::find().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let args = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"];
    let Some(data) = crate::common::lavfi_video(dir.path(), "src.mp4", "640x360", 6, &args) else { return };
    let root = s3.unique_root();
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(
        &db,
        json!({"storage_url": s3.storage_url(&root), "playback": "redirect", "delete_grace_secs": 1}),
    )
    .await;
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "media on s3").await["id"].as_str().unwrap().to_owned();
    assert_eq!(srv.upload_raw(&vid, &token, data).await.status(), StatusCode::CREATED);
    let path = format!("/api/v1/user/{name}/videos/{vid}");
    let mut v = serde_json::Value::Null;
    for _ in 0..600 {
        v = body(srv.authed(Method::GET, &path, &token).send().await.unwrap()).await;
        if v["status"] == "ready" && v["thumbnail_url"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(v["status"], "ready", "{v}");

    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |p: &str| no_redirects.get(format!("{}{p}", srv.url)).send();
    let master = get(v["hls_url"].as_str().unwrap()).await.unwrap();
    assert_eq!(master.status(), StatusCode::OK, "playlists pass through");
    assert!(master.text().await.unwrap().contains("#EXT-X-STREAM-INF:"));
    let seg = get(&format!("/stream/v1/videos/{vid}/media/hls/v0/seg00000.m4s")).await.unwrap();
    assert_eq!(seg.status(), StatusCode::FOUND, "segments redirect to the bucket");
    assert!(seg.headers()["location"].to_str().unwrap().contains("X-Amz-Signature"));
    let poster = srv.req(Method::GET, v["thumbnail_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(poster.status(), StatusCode::OK);
    assert_eq!(poster.headers()["content-type"], "image/jpeg");
    let hls = format!("{}{}", srv.url, v["hls_url"].as_str().unwrap());
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i", &hls, "-map", "0", "-f", "null", "-"])
        .output()
        .unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));

    let op = bucket(&s3, &root);
    let prefix = format!("media/{}/", vid.replace('-', ""));
    let made: Vec<String> = objects(&op, "/").await.unwrap().into_iter().filter(|k| k.starts_with(&prefix)).collect();
    for want in
        ["poster.jpg", "storyboard.jpg", "storyboard.vtt", "hls/master.m3u8", "hls/v0/index.m3u8", "hls/v0/init_0.mp4"]
    {
        assert!(made.contains(&format!("{prefix}{want}")), "{want} in {made:?}");
    }
    let res = srv.authed(Method::DELETE, &path, &token).send().await.unwrap();
    assert!(res.status().is_success());
    let mut left = made;
    for _ in 0..200 {
        left = objects(&op, "/").await.unwrap();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(left.is_empty(), "left in the bucket: {left:?}");
    srv.stop().await;
    db.drop_db().await;
}
