//! Real containers made by ffmpeg are recognised and play back byte for byte.

use std::process::Command;

use crate::common::{TestServer, body, expect_error, have_ffmpeg, sha256_hex, user};
use reqwest::{Method, StatusCode};
use serde_json::json;
use streamvault_testkit::{Backend, TestDb};

/// A one-second test pattern in the given container, or `None` (skip) without ffmpeg outside CI.
fn generate(dir: &std::path::Path, file: &str, codec_args: &[&str]) -> Option<Vec<u8>> {
    if !have_ffmpeg() {
        return None;
    }
    let out = dir.join(file);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=1:size=320x240:rate=25"])
        .args(codec_args)
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg failed for {file}");
    Some(std::fs::read(out).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_containers_are_recognised_and_play_back() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("clip.mp4", &["-c:v", "libx264", "-pix_fmt", "yuv420p"][..], "video/mp4"),
        ("clip.webm", &["-c:v", "libvpx", "-b:v", "200k"][..], "video/webm"),
        ("clip.mkv", &["-c:v", "libx264", "-pix_fmt", "yuv420p"][..], "video/x-matroska"),
        ("clip.mov", &["-c:v", "libx264", "-pix_fmt", "yuv420p"][..], "video/quicktime"),
    ];
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(&db, json!({})).await;
    let name = user();
    let token = srv.signup(&name).await;
    for (file, args, mime) in cases {
        let Some(data) = generate(dir.path(), file, args) else { return };
        let vid = srv.create_video(&name, &token, file).await["id"].as_str().unwrap().to_owned();
        let res = srv.upload_raw(&vid, &token, data.clone()).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{file}");
        let up = body(res).await;
        assert_eq!(up["mime"], mime, "{file}");
        assert_eq!(up["sha256"], sha256_hex(&data));
        let res = srv.req(Method::GET, &format!("/stream/v1/videos/{vid}")).send().await.unwrap();
        assert_eq!(res.headers()["content-type"], mime);
        assert_eq!(res.bytes().await.unwrap().as_ref(), &data[..], "{file} byte-exact");
    }
    // A PNG from ffmpeg is an image, not a video.
    let png = dir.path().join("frame.png");
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x64", "-frames:v", "1"])
        .arg(&png)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let vid = srv.create_video(&name, &token, "not a video").await["id"].as_str().unwrap().to_owned();
    let res = srv.upload_raw(&vid, &token, std::fs::read(&png).unwrap()).await;
    expect_error(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    srv.stop().await;
}
