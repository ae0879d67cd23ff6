//! The split deployment of `deploy/local/cluster` (2 api, 2 stream, 2 worker, 2 web replicas
//! behind nginx, on MariaDB, Redis, RabbitMQ and Garage), driven from outside as a client and an
//! operator would: sessions across replicas, tus across replicas, blobs in and out of the
//! bucket, and kill -9 of one replica of each role under load.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::common::poll::eventually;
use crate::common::s3::{bucket, objects};
use crate::common::{fake_mp4, sha256_hex};
use reqwest::StatusCode;
use serde_json::{Value, json};
use streamvault_core::ports::JobQueue;
use streamvault_testkit::{S3Target, http_client, in_ci, unique_name};

const ADMIN: &str = "cluster-test-admin-token-0123456789abcdef";

struct Cluster {
    desc: Value,
}

impl Cluster {
    fn up() -> Option<Cluster> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/local/cluster");
        let out = Command::new("bash")
            .arg(script)
            .arg("up")
            .env("SV_BIN", env!("CARGO_BIN_EXE_streamvault"))
            .env("SV_CLUSTER_REPLICAS", "api=2 stream=2 worker=2 web=2")
            .env("STREAMVAULT_DELETE_GRACE_SECS", "1")
            .env("STREAMVAULT_ADMIN_TOKEN", ADMIN)
            .env("STREAMVAULT_MAX_UPLOAD_BYTES", "67108864")
            .output()
            .expect("run deploy/local/cluster");
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!in_ci(), "cluster up failed under CI: {err}");
            eprintln!("SKIP: cluster up failed: {err}");
            return None;
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let desc: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("JSON last line");
        Some(Cluster { desc })
    }

    fn url(&self) -> String {
        self.desc["url"].as_str().unwrap().to_owned()
    }

    fn replicas(&self, role: &str) -> Vec<(String, u32)> {
        self.desc["replicas"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["role"] == role)
            .map(|r| (r["url"].as_str().unwrap().to_owned(), r["pid"].as_u64().unwrap() as u32))
            .collect()
    }

    fn s3(&self) -> opendal::Operator {
        streamvault_blobs::install_http_transport();
        let s3 = &self.desc["s3"];
        let field = |k: &str| s3[k].as_str().unwrap().to_owned();
        let target = S3Target {
            endpoint: field("endpoint"),
            region: field("region"),
            bucket: field("bucket"),
            access_key_id: field("access_key_id"),
            secret_access_key: field("secret_access_key"),
        };
        bucket(&target, s3["root"].as_str().unwrap())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/local/cluster");
        let id = self.desc["id"].as_str().unwrap_or_default().to_owned();
        let _ = Command::new("bash").arg(script).arg("down").arg(id).output();
    }
}

/// How long [`eventually`] waits here, 75 s in all: a job whose worker was killed mid-run waits
/// out its 30 s lease before another takes it.
const SETTLE_CHECKS: u32 = 375;
const SETTLE_EVERY: Duration = Duration::from_millis(200);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_deployment_survives_and_scales() {
    let Some(cluster) = Cluster::up() else { return };
    let lb = cluster.url();
    let http = http_client();
    let bearer = |t: &str| format!("Bearer {t}");

    // A session made through the load balancer works on every api replica.
    let name = unique_name("c_");
    let res = http
        .post(format!("{lb}/api/v1/user"))
        .json(&json!({"user_name": name, "pwd": "cluster-pass-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = res.json::<Value>().await.unwrap()["session_id"].as_str().unwrap().to_owned();
    for (url, _) in cluster.replicas("api") {
        let res = http.get(format!("{url}/api/v1/me")).header("authorization", bearer(&token)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "session on {url}");
    }

    // A tus upload whose PATCHes alternate between the stream replicas completes byte-exact.
    let streams = cluster.replicas("stream");
    let data = fake_mp4(5 * 1024 * 1024 + 11, 77);
    let tus = |m: reqwest::Method, url: String| {
        http.request(m, url).header("tus-resumable", "1.0.0").header("authorization", bearer(&token))
    };
    let res = tus(reqwest::Method::POST, format!("{}/stream/v1/tus/", streams[0].0))
        .header("upload-length", data.len())
        .header("upload-metadata", "filename Y2x1c3Rlci5iaW4=")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let path = res.headers()["location"].to_str().unwrap().to_owned();
    let mut offset = 0;
    let mut file_id = None;
    for (i, chunk) in data.chunks(1024 * 1024).enumerate() {
        let replica = &streams[i % 2].0;
        let res = tus(reqwest::Method::PATCH, format!("{replica}{path}"))
            .header("upload-offset", offset)
            .header("content-type", "application/offset+octet-stream")
            .body(chunk.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "PATCH {i} on {replica}");
        offset += chunk.len();
        file_id = res.headers().get("streamvault-file-id").map(|v| v.to_str().unwrap().to_owned());
    }
    let file_id = file_id.expect("the last PATCH names the file");
    let got = http
        .get(format!("{lb}/stream/v1/files/{file_id}"))
        .header("authorization", bearer(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert!(got.bytes().await.unwrap().as_ref() == &data[..], "byte-exact through the load balancer");

    // The bytes land in the Garage bucket once, and leave it after the delete.
    let op = cluster.s3();
    let sha = sha256_hex(&data);
    let key = format!("sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]);
    eventually("the blob reached the bucket", SETTLE_CHECKS, SETTLE_EVERY, || {
        let op = op.clone();
        let key = key.clone();
        async move { op.exists(&key).await.unwrap_or(false) }
    })
    .await;
    assert!(objects(&op, "uploads/").await.unwrap_or_default().is_empty(), "tus segments are gone once assembled");
    let res = http
        .delete(format!("{lb}/api/v1/files/{file_id}"))
        .header("authorization", bearer(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    eventually("the blob left the bucket", SETTLE_CHECKS, SETTLE_EVERY, || {
        let op = op.clone();
        let key = key.clone();
        async move { !op.exists(&key).await.unwrap_or(true) }
    })
    .await;

    // A video to watch under load, and videos whose deletion the workers carry out.
    let mut videos = Vec::new();
    for i in 0..4 {
        let res = http
            .post(format!("{lb}/api/v1/user/{name}/videos"))
            .header("authorization", bearer(&token))
            .json(&json!({"name": format!("v{i}")}))
            .send()
            .await
            .unwrap();
        let vid = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        let res = http
            .post(format!("{lb}/stream/v1/videos/{vid}/upload"))
            .header("authorization", bearer(&token))
            .body(fake_mp4(300_000, 100 + i))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        videos.push(vid);
    }
    let watched = videos[0].clone();
    let watched_bytes = fake_mp4(300_000, 100);

    // Load through the load balancer while one replica of each role is killed with SIGKILL:
    // reads (idempotent, retried by nginx) never fail; a write either succeeds and stays, or
    // fails visibly (nginx does not retry a POST a replica may have taken).
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let failed_reads = Arc::new(AtomicU64::new(0));
    let reads = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..4 {
        let (http, lb, token, watched, watched_bytes) =
            (http.clone(), lb.clone(), token.clone(), watched.clone(), watched_bytes.clone());
        let (stop, failed_reads, reads) = (stop.clone(), failed_reads.clone(), reads.clone());
        tasks.push(tokio::spawn(async move {
            let mut posted = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let me =
                    http.get(format!("{lb}/api/v1/me")).header("authorization", format!("Bearer {token}")).send().await;
                let video = http.get(format!("{lb}/stream/v1/videos/{watched}")).send().await;
                let page = http.get(format!("{lb}/")).send().await;
                for (what, r) in [("me", me), ("page", page)] {
                    reads.fetch_add(1, Ordering::Relaxed);
                    if !r.as_ref().is_ok_and(|r| r.status().is_success()) {
                        failed_reads.fetch_add(1, Ordering::Relaxed);
                        eprintln!("read failed ({what}): {:?}", r.map(|r| r.status()));
                    }
                }
                reads.fetch_add(1, Ordering::Relaxed);
                match video {
                    Ok(r) if r.status().is_success() => {
                        if r.bytes().await.map(|b| b.as_ref() != &watched_bytes[..]).unwrap_or(true) {
                            failed_reads.fetch_add(1, Ordering::Relaxed);
                            eprintln!("video body differed or broke");
                        }
                    }
                    other => {
                        failed_reads.fetch_add(1, Ordering::Relaxed);
                        eprintln!("read failed (video): {:?}", other.map(|r| r.status()));
                    }
                }
                let text = format!("w{w} c{i}");
                let res = http
                    .post(format!("{lb}/api/v1/videos/{watched}/comments"))
                    .header("authorization", format!("Bearer {token}"))
                    .json(&json!({"content": text}))
                    .send()
                    .await;
                if res.is_ok_and(|r| r.status() == StatusCode::CREATED) {
                    posted.push(text);
                }
            }
            posted
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Deletions queued just before a worker dies still happen.
    for vid in &videos[1..] {
        let res = http
            .delete(format!("{lb}/api/v1/user/{name}/videos/{vid}"))
            .header("authorization", bearer(&token))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    for role in ["api", "stream", "worker", "web"] {
        let (_, pid) = cluster.replicas(role)[0].clone();
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::Relaxed);
    let mut posted = Vec::new();
    for t in tasks {
        posted.extend(t.await.unwrap());
    }
    let (failed, total) = (failed_reads.load(Ordering::Relaxed), reads.load(Ordering::Relaxed));
    assert!(total > 50, "the load ran: {total} reads");
    assert_eq!(failed, 0, "{failed} of {total} retryable reads failed");

    // Every acknowledged write is there.
    let mut seen = std::collections::HashSet::new();
    let mut cursor = String::new();
    loop {
        let page: Value = http
            .get(format!("{lb}/api/v1/videos/{watched}/comments?limit=100&cursor={cursor}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for c in page["comments"].as_array().unwrap() {
            seen.insert(c["content"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    let lost: Vec<_> = posted.iter().filter(|p| !seen.contains(*p)).collect();
    assert!(lost.is_empty(), "acknowledged comments lost: {lost:?}");

    // The surviving worker finishes the deletions; their blobs leave the bucket. (Each stored
    // blob's own collection job waits an hour: it is not one of these.)
    eventually("every job is done", SETTLE_CHECKS, SETTLE_EVERY, || {
        let (http, lb) = (http.clone(), lb.clone());
        async move {
            let jobs: Value =
                match http.get(format!("{lb}/api/v1/admin/jobs?limit=1000")).bearer_auth(ADMIN).send().await {
                    Ok(r) => r.json().await.unwrap_or(Value::Null),
                    Err(_) => Value::Null,
                };
            let Some(jobs) = jobs["jobs"].as_array() else { return false };
            jobs.iter().all(|j| j["state"] == "done" || (j["kind"] == "collect_blob" && j["state"] != "dead"))
        }
    })
    .await;
    // A worker that dies holding a job: this test plays that worker on the cluster's own
    // queue (its RabbitMQ connection drops with the job claimed and unacked), while the
    // surviving real worker is frozen so that the dead one is sure to get the job.
    let (_, survivor) = cluster.replicas("worker")[1].clone();
    let store =
        streamvault_metadata::MetadataStore::connect(cluster.desc["database_url"].as_str().unwrap(), 2).await.unwrap();
    let sql = Arc::new(streamvault_metadata::SqlJobQueue::new(store.clone()));
    let doomed =
        streamvault_amqp::AmqpJobQueue::connect(cluster.desc["queue_url"].as_str().unwrap(), sql.clone(), sql.clone())
            .await
            .unwrap();
    let _ = Command::new("kill").args(["-STOP", &survivor.to_string()]).status();
    let res = http
        .delete(format!("{lb}/api/v1/user/{name}/videos/{watched}"))
        .header("authorization", bearer(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let mut held = None;
    let start = Instant::now();
    while held.is_none() && start.elapsed() < Duration::from_secs(20) {
        held = doomed.lease("doomed-worker", Duration::from_secs(2)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let held = held.expect("the doomed worker got the delete job");
    doomed.close().await;
    let _ = Command::new("kill").args(["-CONT", &survivor.to_string()]).status();
    eventually("the surviving worker took the dead worker's job over", SETTLE_CHECKS, SETTLE_EVERY, || {
        let sql = sql.clone();
        let id = held.id;
        async move {
            let j = streamvault_core::ports::JobAdmin::get(sql.as_ref(), id).await.ok().flatten();
            j.is_some_and(|j| {
                j.state == streamvault_core::ports::JobState::Done
                    && j.attempts == 2
                    && j.leased_by.as_deref() != Some("doomed-worker")
            })
        }
    })
    .await;
    store.close().await;

    for i in 0..4u64 {
        let sha = sha256_hex(&fake_mp4(300_000, 100 + i));
        let key = format!("sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]);
        eventually("deleted videos' blobs left the bucket", SETTLE_CHECKS, SETTLE_EVERY, || {
            let op = op.clone();
            let key = key.clone();
            async move { !op.exists(&key).await.unwrap_or(true) }
        })
        .await;
    }

    // Down means down: when it returns, no process of the cluster is left running.
    let dir = cluster.desc["dir"].as_str().unwrap().to_owned();
    drop(cluster);
    let running: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .filter(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            let state = stat.rsplit(") ").next().unwrap_or("").chars().next();
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            !matches!(state, Some('Z' | 'X') | None) && String::from_utf8_lossy(&cmd).contains(&format!("{dir}/"))
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(running.is_empty(), "processes of the cluster outlived down: {running:?}");
    assert!(!std::path::Path::new(&dir).exists(), "down removed the cluster's directory");
}
