//! The media pipeline across process deaths and without ffmpeg, with the real binary:
//! `kill -9` in the middle of a transcode takes ffmpeg down with it, and after a restart the
//! job is taken over and the video ends ready; a server without ffmpeg says so once and still
//! plays originals.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::common::serve::{sigterm, spawn_serve};
use crate::common::{api_signup, api_video, encoders_running, lavfi_video};
use serde_json::Value;
use streamvault_testkit::{http_client, unique_name};

/// `streamvault serve` in `dir` (its SQLite database and blobs under `dir/data`), with `path`
/// as its `PATH`, and the URL it printed; stderr goes to `dir/stderr-{n}.log`.
fn start(dir: &Path, path: &str, n: u32) -> (Child, String) {
    let log = std::fs::File::create(dir.join(format!("stderr-{n}.log"))).unwrap();
    spawn_serve(
        Command::new(env!("CARGO_BIN_EXE_streamvault"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("PATH", path)
            // A killed worker's job is taken over after this: short, so a restart resumes soon.
            .env("STREAMVAULT_JOB_LEASE_SECS", "3")
            .env("STREAMVAULT_LOG", "warn")
            .env("STREAMVAULT_LOG_FORMAT", "text")
            .current_dir(dir)
            .stderr(log),
    )
}

fn stop(mut child: Child) {
    sigterm(&child);
    child.wait().unwrap();
}

async fn video(base: &str, name: &str, token: &str, vid: &str) -> Value {
    let http = http_client();
    let res = http.get(format!("{base}/api/v1/user/{name}/videos/{vid}")).bearer_auth(token).send().await.unwrap();
    res.json().await.unwrap()
}

/// The video once its processing ended (`ready` or `failed`), asked every `every`; the test
/// fails if that takes longer than `within`.
async fn processed(base: &str, name: &str, token: &str, vid: &str, within: Duration, every: Duration) -> Value {
    let start_at = Instant::now();
    loop {
        let v = video(base, name, token, vid).await;
        if v["status"] == "ready" || v["status"] == "failed" {
            return v;
        }
        assert!(start_at.elapsed() < within, "not processed within {within:?}: {v}");
        tokio::time::sleep(every).await;
    }
}

async fn upload(base: &str, token: &str, vid: &str, data: Vec<u8>) {
    let res = http_client()
        .post(format!("{base}/stream/v1/videos/{vid}/upload"))
        .bearer_auth(token)
        .body(data)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_transcode_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let Some(data) =
        lavfi_video(dir.path(), "src.mp4", "1280x720", 30, &["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"])
    else {
        return;
    };
    let path = std::env::var("PATH").unwrap();
    let (child, base) = start(dir.path(), &path, 1);
    let name = unique_name("m_");
    let token = api_signup(&http_client(), &base, &name).await;
    let vid = api_video(&http_client(), &base, &token, &name, "crash").await;
    upload(&base, &token, &vid, data).await;
    let work = format!("{}-hls", vid.replace('-', ""));

    let start_at = Instant::now();
    loop {
        let v = video(&base, &name, &token, &vid).await;
        if v["progress"].as_u64().unwrap_or(0) > 0 && encoders_running(&work) > 0 {
            break;
        }
        assert!(v["status"] != "ready", "finished before it could be killed: {v}");
        assert!(start_at.elapsed() < Duration::from_secs(90), "transcode never started: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut child = child;
    child.kill().unwrap();
    child.wait().unwrap();
    // ffmpeg's progress pipe broke with its parent: no orphan keeps encoding.
    let killed_at = Instant::now();
    while encoders_running(&work) > 0 {
        assert!(killed_at.elapsed() < Duration::from_secs(10), "ffmpeg outlived its worker");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Restarted: once the dead run's lease is out, the job runs again from a clean directory.
    let (child, base) = start(dir.path(), &path, 2);
    let v = processed(&base, &name, &token, &vid, Duration::from_secs(180), Duration::from_millis(500)).await;
    assert_eq!(v["status"], "ready", "{v}");
    assert_eq!(v["progress"], 100);
    let hls = format!("{base}{}", v["hls_url"].as_str().unwrap());
    let out =
        Command::new("ffmpeg").args(["-v", "error", "-i", &hls, "-map", "0", "-f", "null", "-"]).output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    stop(child);
    let leftovers = std::fs::read_dir(dir.path().join("data/media-work")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "work directories left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_ffmpeg_originals_play_and_start_up_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let Some(data) = lavfi_video(dir.path(), "src.mp4", "320x240", 1, &["-c:v", "libx264", "-c:a", "aac"]) else {
        return;
    };
    // A PATH with the usual tools but no ffmpeg/ffprobe.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for tool in ["nice", "true"] {
        if let Ok(p) = which(tool) {
            std::os::unix::fs::symlink(p, bin.join(tool)).unwrap();
        }
    }
    let (child, base) = start(dir.path(), bin.to_str().unwrap(), 1);
    let name = unique_name("n_");
    let token = api_signup(&http_client(), &base, &name).await;
    let vid = api_video(&http_client(), &base, &token, &name, "plain").await;
    upload(&base, &token, &vid, data.clone()).await;
    // Give the (no-op) probe time to run.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let v = video(&base, &name, &token, &vid).await;
    assert_eq!(v["status"], "uploaded", "{v}");
    assert!(v["hls_url"].is_null() && v["thumbnail_url"].is_null(), "{v}");
    let res = http_client().get(format!("{base}/stream/v1/videos/{vid}")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().len(), data.len(), "the original plays as uploaded");
    stop(child);
    let log = std::fs::read_to_string(dir.path().join("stderr-1.log")).unwrap();
    assert_eq!(log.matches("ffmpeg/ffprobe are not on the PATH").count(), 1, "said once at start: {log}");

    // ffmpeg installed later: the operator queues what was left unprocessed, and it is.
    let out = Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["media", "reprocess", "--unprocessed"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "queued 1 videos for processing");
    let (child, base) = start(dir.path(), &std::env::var("PATH").unwrap(), 2);
    let v = processed(&base, &name, &token, &vid, Duration::from_secs(60), Duration::from_millis(200)).await;
    assert_eq!(v["status"], "ready", "{v}");
    assert!(v["hls_url"].is_string() && v["thumbnail_url"].is_string(), "{v}");
    stop(child);
    let out = Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["media", "reprocess", "--unprocessed"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "queued 0 videos for processing", "nothing left");
    let out = Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["media", "reprocess"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--unprocessed"));
}

fn which(tool: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file())
        .ok_or(())
}
