//! The probe job: real videos made by ffmpeg (lavfi) get their duration, size and codecs; a
//! truncated or corrupt upload ends as `failed` with a reason its owner can read.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{TestServer, body, noise_mp4, user};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, TestDb, per_backend};

/// A test pattern with a tone, or `None` (skip) without ffmpeg outside CI.
fn generate(dir: &std::path::Path, file: &str, size: &str, secs: u32, codec_args: &[&str]) -> Option<Vec<u8>> {
    if Command::new("ffmpeg").arg("-version").output().is_err() {
        assert!(!streamvault_testkit::in_ci(), "ffmpeg is required under CI (.ci/run installs it)");
        eprintln!("SKIP: ffmpeg not found");
        return None;
    }
    let out = dir.join(file);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=duration={secs}:size={size}:rate=25"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=440:duration={secs}"))
        .args(codec_args)
        .args(["-shortest"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg failed for {file}");
    Some(std::fs::read(out).unwrap())
}

/// The video as its owner sees it, once it left `uploaded`/`processing`.
async fn settled(srv: &TestServer, name: &str, token: &str, vid: &str) -> Value {
    let start = Instant::now();
    loop {
        let v =
            body(srv.authed(Method::GET, &format!("/api/v1/user/{name}/videos/{vid}"), token).send().await.unwrap())
                .await;
        if v["status"] == "ready" || v["status"] == "failed" || start.elapsed() > Duration::from_secs(30) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn probe(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&db, json!({})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let cases = [
        ("a.mp4", "640x360", 2, &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"][..], "h264"),
        ("b.webm", "320x240", 1, &["-c:v", "libvpx", "-b:v", "200k", "-c:a", "libvorbis"][..], "vp8"),
        ("c.mkv", "426x240", 1, &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"][..], "h264"),
    ];
    let mut mp4 = Vec::new();
    for (file, size, secs, args, _codec) in cases {
        let Some(data) = generate(dir.path(), file, size, secs, args) else { return };
        if file == "a.mp4" {
            mp4 = data.clone();
        }
        let vid = srv.create_video(&name, &token, file).await["id"].as_str().unwrap().to_owned();
        assert_eq!(srv.upload_raw(&vid, &token, data).await.status(), StatusCode::CREATED);
        let v = settled(&srv, &name, &token, &vid).await;
        assert_eq!(v["status"], "ready", "{file}: {v}");
        let (w, h) = size.split_once('x').unwrap();
        assert_eq!((v["width"].as_u64(), v["height"].as_u64()), (w.parse().ok(), h.parse().ok()), "{file}");
        let ms = v["duration_ms"].as_u64().unwrap();
        assert!(ms.abs_diff(u64::from(secs) * 1000) < 150, "{file}: duration {ms} ms");
        assert!(v["failure_reason"].is_null());
        // The original still plays.
        let res = srv.req(Method::GET, &format!("/stream/v1/videos/{vid}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    // Cut in half (the index is at the end of an ffmpeg MP4), and noise behind an MP4 header:
    // both are taken as uploads (they sniff as MP4) and then fail with a reason.
    for (what, data) in [("truncated", mp4[..mp4.len() / 2].to_vec()), ("corrupt", noise_mp4(200_000, 3))] {
        let vid = srv.create_video(&name, &token, what).await["id"].as_str().unwrap().to_owned();
        assert_eq!(srv.upload_raw(&vid, &token, data).await.status(), StatusCode::CREATED);
        let v = settled(&srv, &name, &token, &vid).await;
        assert_eq!(v["status"], "failed", "{what}: {v}");
        let reason = v["failure_reason"].as_str().unwrap_or_default();
        assert!(reason.starts_with("the file is not a playable video"), "{what}: {reason}");
        // A failed video is its owner's business only.
        let res = srv.req(Method::GET, &format!("/api/v1/user/{name}/videos/{vid}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{what} hidden from others");
    }
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(probe);
