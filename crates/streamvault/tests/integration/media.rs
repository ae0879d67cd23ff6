//! The media pipeline with a real ffmpeg: videos made by ffmpeg itself (lavfi) are probed,
//! get a poster, a storyboard and an HLS ladder that ffprobe and ffmpeg read end to end; a
//! truncated or corrupt upload ends as `failed` with a reason its owner can read; a deleted
//! video stops its encoder.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{TestServer, body, encoders_running, ffprobe, lavfi_video, noise_mp4, user};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, TestDb, per_backend};

const H264_AAC: &[&str] = &["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"];

/// The video as its owner sees it, once it left `uploaded`/`processing`.
async fn settled(srv: &TestServer, name: &str, token: &str, vid: &str) -> Value {
    let start = Instant::now();
    loop {
        let v = owner_view(srv, name, token, vid).await;
        if v["status"] == "ready" || v["status"] == "failed" || start.elapsed() > Duration::from_secs(120) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn owner_view(srv: &TestServer, name: &str, token: &str, vid: &str) -> Value {
    body(srv.authed(Method::GET, &format!("/api/v1/user/{name}/videos/{vid}"), token).send().await.unwrap()).await
}

async fn text(srv: &TestServer, path: &str) -> String {
    let res = srv.req(Method::GET, path).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}

async fn probe(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&db, json!({})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let cases = [
        ("a.mp4", "640x360", 2, H264_AAC, 2),
        ("b.webm", "320x240", 1, &["-c:v", "libvpx", "-b:v", "200k", "-c:a", "libvorbis"][..], 1),
        ("c.mkv", "426x240", 1, H264_AAC, 1),
    ];
    let mut mp4 = Vec::new();
    for (file, size, secs, args, rungs) in cases {
        let Some(data) = lavfi_video(dir.path(), file, size, secs, args) else { return };
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
        assert_eq!(v["progress"], 100, "{file}");
        assert_eq!(v["thumbnail_url"], format!("/stream/v1/videos/{vid}/media/poster.jpg"), "{file}");
        let master = text(&srv, v["hls_url"].as_str().unwrap()).await;
        assert_eq!(master.matches("#EXT-X-STREAM-INF:").count(), rungs, "{file}: {master}");
        // Every part the playlists name is served (one rendition names its init segment
        // differently from several), and decodes.
        let hls = format!("{}{}", srv.url, v["hls_url"].as_str().unwrap());
        let out =
            Command::new("ffmpeg").args(["-v", "error", "-i", &hls, "-map", "0", "-f", "null", "-"]).output().unwrap();
        assert!(out.status.success() && out.stderr.is_empty(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
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
        assert!(v["hls_url"].is_null() && v["thumbnail_url"].is_null(), "{what}: {v}");
        // A failed video is its owner's business only.
        let res = srv.req(Method::GET, &format!("/api/v1/user/{name}/videos/{vid}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{what} hidden from others");
    }
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(probe);

/// The ladder in full: every rendition declared with BANDWIDTH, RESOLUTION and CODECS, fMP4
/// segments of 4 s starting on keyframes at the same instants in every rendition, decodable
/// end to end; the poster and storyboard; only the job's own files served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hls_ladder_plays_end_to_end() {
    let Some(db) = TestDb::create(Backend::Sqlite).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(data) = lavfi_video(dir.path(), "src.mp4", "854x480", 10, H264_AAC) else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "ladder").await["id"].as_str().unwrap().to_owned();
    assert_eq!(srv.upload_raw(&vid, &token, data).await.status(), StatusCode::CREATED);
    let v = settled(&srv, &name, &token, &vid).await;
    assert_eq!(v["status"], "ready", "{v}");
    let hls = format!("{}{}", srv.url, v["hls_url"].as_str().unwrap());

    let master = text(&srv, v["hls_url"].as_str().unwrap()).await;
    let declared: Vec<&str> = master.lines().filter(|l| l.starts_with("#EXT-X-STREAM-INF:")).collect();
    // 854 × 240/480 = 427, rounded to even.
    assert_eq!(declared.len(), 3, "240p, 360p, 480p and nothing above the source: {master}");
    for (line, res) in declared.iter().zip(["428x240", "640x360", "854x480"]) {
        assert!(line.contains("BANDWIDTH="), "{line}");
        assert!(line.contains(&format!("RESOLUTION={res}")), "{line}");
        assert!(line.contains("CODECS=\"avc1.") && line.contains("mp4a.40.2\""), "{line}");
    }

    let base = hls.trim_end_matches("master.m3u8");
    let mut starts: Option<f64> = None;
    for (i, height) in [240, 360, 480].into_iter().enumerate() {
        let playlist =
            text(&srv, &format!("{}/v{i}/index.m3u8", v["hls_url"].as_str().unwrap().trim_end_matches("/master.m3u8")))
                .await;
        assert!(playlist.contains("#EXT-X-MAP:URI=\"init_"), "fMP4: {playlist}");
        let durations: Vec<f64> = playlist
            .lines()
            .filter_map(|l| l.strip_prefix("#EXTINF:"))
            .map(|d| d.trim_end_matches(',').parse().unwrap())
            .collect();
        assert_eq!(durations.len(), 3, "10 s in 4 s segments: {playlist}");
        assert!(durations[..2].iter().all(|d| (d - 4.0).abs() < 0.05), "{durations:?}");
        let url = format!("{base}v{i}/index.m3u8");
        let streams = ffprobe(&url, &["-show_entries", "stream=codec_name,height"]);
        let codecs: Vec<&str> =
            streams["streams"].as_array().unwrap().iter().map(|s| s["codec_name"].as_str().unwrap()).collect();
        assert_eq!(codecs, ["h264", "aac"], "{url}");
        assert_eq!(streams["streams"][0]["height"], height, "{url}");
        // Keyframes exactly on the segment boundaries, the same in every rendition.
        let frames =
            ffprobe(&url, &["-select_streams", "v", "-skip_frame", "nokey", "-show_entries", "frame=pts_time"]);
        let keys: Vec<f64> = frames["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["pts_time"].as_str().unwrap().parse().unwrap())
            .collect();
        assert!(keys.len() >= 3, "{keys:?}");
        // Timestamps start where the stream starts (after the encoder's delay), the same in
        // every rendition.
        let first = *starts.get_or_insert(keys[0]);
        assert!((keys[0] - first).abs() < 0.01, "rendition {i} starts at {} s, not {first} s", keys[0]);
        for k in [0.0, 4.0, 8.0] {
            assert!(keys.iter().any(|t| (t - first - k).abs() < 0.05), "keyframe at +{k} s in {url}: {keys:?}");
        }
    }
    // ffmpeg reads the master playlist and decodes every rendition without an error.
    let out =
        Command::new("ffmpeg").args(["-v", "error", "-i", &hls, "-map", "0", "-f", "null", "-"]).output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));

    let poster = srv.req(Method::GET, v["thumbnail_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(poster.headers()["content-type"], "image/jpeg");
    let poster_file = dir.path().join("poster.jpg");
    std::fs::write(&poster_file, poster.bytes().await.unwrap()).unwrap();
    let p = ffprobe(poster_file.to_str().unwrap(), &["-show_entries", "stream=codec_name,height"]);
    assert_eq!(
        (p["streams"][0]["codec_name"].as_str(), p["streams"][0]["height"].as_u64()),
        (Some("mjpeg"), Some(480))
    );
    let vtt = text(&srv, v["storyboard_url"].as_str().unwrap()).await;
    assert!(vtt.starts_with("WEBVTT\n"), "{vtt}");
    assert_eq!(vtt.matches("storyboard.jpg#xywh=").count(), 10, "one tile a second: {vtt}");
    assert!(vtt.contains("00:00:09.000 --> 00:00:10.000\nstoryboard.jpg#xywh=1440,0,160,88\n"), "{vtt}");
    let sprite = srv.req(Method::GET, &format!("/stream/v1/videos/{vid}/media/storyboard.jpg")).send().await.unwrap();
    assert_eq!(sprite.status(), StatusCode::OK);
    let sprite_file = dir.path().join("storyboard.jpg");
    std::fs::write(&sprite_file, sprite.bytes().await.unwrap()).unwrap();
    // Ten 160-pixel tiles in a row, as tall as the source's aspect ratio makes them (even).
    let p = ffprobe(sprite_file.to_str().unwrap(), &["-show_entries", "stream=codec_name,width,height"]);
    let s = &p["streams"][0];
    assert_eq!(
        (s["codec_name"].as_str(), s["width"].as_u64(), s["height"].as_u64()),
        (Some("mjpeg"), Some(1600), Some(88))
    );

    // Ranges work on segments as on originals.
    let seg = format!("/stream/v1/videos/{vid}/media/hls/v0/seg00001.m4s");
    let res = srv.req(Method::GET, &seg).header("range", "bytes=0-9").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()["content-type"], "video/iso.segment");
    assert_eq!(res.bytes().await.unwrap().len(), 10);
    // Names the jobs do not write, or that are not there, are not served.
    for bad in [
        "media/hls/v0/seg99999.m4s",
        "media/hls/v7/index.m3u8",
        "media/etc/passwd",
        "media/hls/v0/..%2F..%2Fposter.jpg",
        "media/%2e%2e/x",
    ] {
        let res = srv.req(Method::GET, &format!("/stream/v1/videos/{vid}/{bad}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    srv.stop().await;
    db.drop_db().await;
}

/// Progress moves while the original plays; deleting the video kills its encoder and removes
/// whatever was made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_shows_and_delete_stops_the_encoder() {
    let Some(db) = TestDb::create(Backend::Sqlite).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(data) = lavfi_video(dir.path(), "long.mp4", "1280x720", 40, H264_AAC) else { return };
    let srv = TestServer::start(&db, json!({ "delete_grace_secs": 0 })).await;
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "long").await["id"].as_str().unwrap().to_owned();
    assert_eq!(srv.upload_raw(&vid, &token, data).await.status(), StatusCode::CREATED);
    let work = format!("{}-hls", vid.replace('-', ""));

    let start = Instant::now();
    let mut seen = Vec::new();
    loop {
        let v = owner_view(&srv, &name, &token, &vid).await;
        let p = v["progress"].as_u64().unwrap();
        seen.push(p);
        if v["status"] == "processing" && (1..100).contains(&p) {
            break;
        }
        assert!(v["status"] != "ready", "transcoded before progress was seen: {seen:?}");
        assert!(start.elapsed() < Duration::from_secs(90), "no progress: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(encoders_running(&work), 1, "one ffmpeg transcoding");
    let res =
        srv.req(Method::GET, &format!("/stream/v1/videos/{vid}")).header("range", "bytes=0-99").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "the original plays meanwhile");

    let res = srv.authed(Method::DELETE, &format!("/api/v1/user/{name}/videos/{vid}"), &token).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let start = Instant::now();
    while encoders_running(&work) > 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "ffmpeg still running after the delete");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nothing of it is left on disk once the delete job ran.
    let start = Instant::now();
    loop {
        let left: Vec<_> = crate::common::files_under(srv.data_dir())
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(&vid.replace('-', "")))
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "left behind: {left:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    srv.stop().await;
    db.drop_db().await;
}

/// A transcode that runs past `media_time_limit_secs` is stopped and its video fails with the
/// reason; the original still plays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transcode_past_the_time_limit_fails_its_video() {
    let Some(db) = TestDb::create(Backend::Sqlite).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(data) = lavfi_video(dir.path(), "long.mp4", "1280x720", 30, H264_AAC) else { return };
    let srv = TestServer::start(&db, json!({ "media_time_limit_secs": 2 })).await;
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "too long").await["id"].as_str().unwrap().to_owned();
    assert_eq!(srv.upload_raw(&vid, &token, data).await.status(), StatusCode::CREATED);
    let v = settled(&srv, &name, &token, &vid).await;
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["failure_reason"], "transcoding took longer than the limit of 2 s");
    let start = Instant::now();
    while encoders_running(&format!("{}-hls", vid.replace('-', ""))) > 0 {
        assert!(start.elapsed() < Duration::from_secs(5), "the encoder was not stopped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let res = srv
        .authed(Method::GET, &format!("/stream/v1/videos/{vid}"), &token)
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "its owner can still play the original");
    assert_eq!(res.bytes().await.unwrap().len(), 100);
    srv.stop().await;
    db.drop_db().await;
}
