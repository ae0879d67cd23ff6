//! Jobs survive crashes: a delete queued just before `kill -9` still happens after a restart,
//! and a job whose worker died mid-run is taken over when its lease runs out.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::common::poll::poll;
use crate::common::serve::{sigterm, spawn_serve};
use crate::common::{api_signup, api_video, count, fake_mp4, files_under};
use sea_orm::{ConnectionTrait, Statement};
use streamvault_amqp::AmqpJobQueue;
use streamvault_core::ports::{JobAdmin, JobQueue};
use streamvault_testkit::{http_client, unique_name};

fn start(dir: &Path, grace: &str, queue_url: Option<&str>) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamvault"));
    if let Some(url) = queue_url {
        cmd.env("STREAMVAULT_QUEUE_URL", url);
    }
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .env("STREAMVAULT_DELETE_GRACE_SECS", grace)
        .env("STREAMVAULT_JOB_LEASE_SECS", "3")
        .env("STREAMVAULT_LOG", "warn")
        .current_dir(dir);
    spawn_serve(&mut cmd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_and_jobs_survive_kill_9() {
    survive_kill_9(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_and_jobs_survive_kill_9_on_rabbitmq() {
    let Some(url) = streamvault_testkit::amqp_url().await else { return };
    survive_kill_9(Some(&url)).await;
}

async fn survive_kill_9(queue_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}/data/streamvault.db", dir.path().display());
    let (mut child, base) = start(dir.path(), "1", queue_url);
    let http = http_client();
    let name = unique_name("k_");
    let token = api_signup(&http, &base, &name).await;
    let mut vids = Vec::new();
    for (i, seed) in [41u64, 42].into_iter().enumerate() {
        let vid = api_video(&http, &base, &token, &name, &format!("v{i}")).await;
        http.post(format!("{base}/stream/v1/videos/{vid}/upload"))
            .header("X-Session-Id", &token)
            .body(fake_mp4(50_000, seed))
            .send()
            .await
            .unwrap();
        vids.push(vid);
    }

    // Delete, then kill -9 before the grace period is over: the job is already committed.
    let res = http
        .delete(format!("{base}/user/{name}/videos/{}", vids[0]))
        .header("X-Session-Id", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(count(&db_url, "SELECT COUNT(*) FROM videos").await, 2, "nothing ran before the kill");

    // A worker that leased the other video's delete job and then died (its lease is short).
    let conn = sea_orm::Database::connect(&db_url).await.unwrap();
    let be = conn.get_database_backend();
    conn.execute_raw(Statement::from_string(be, "UPDATE videos SET deleted_at = 1 WHERE name = 'v1'".to_owned()))
        .await
        .unwrap();
    let store = streamvault_metadata::MetadataStore::from_connection(conn);
    let sql = Arc::new(streamvault_metadata::SqlJobQueue::new(store.clone()));
    let amqp = match queue_url {
        Some(url) => Some(AmqpJobQueue::connect(url, sql.clone(), sql.clone()).await.unwrap()),
        None => None,
    };
    let queue: &dyn JobQueue = match &amqp {
        Some(q) => q,
        None => sql.as_ref(),
    };
    queue
        .enqueue(&streamvault_core::ports::NewJob {
            job: streamvault_core::ports::Job::DeleteVideo { video_id: vids[1].parse().unwrap(), sha256: None },
            run_at: chrono::Utc::now(),
            dedup_key: None,
        })
        .await
        .unwrap();
    // The job just enqueued is due first (the other waits for its grace period).
    let mut dead_worker_job = None;
    for _ in 0..50 {
        if let Some(j) = queue.lease("dead-worker", Duration::from_secs(1)).await.unwrap() {
            dead_worker_job = Some(j);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let leased = dead_worker_job.expect("the dead worker got a job");
    // The worker's end: on RabbitMQ its connection drops with the delivery unacked.
    if let Some(q) = &amqp {
        q.close().await;
    }
    store.close().await;

    // Restart: both deletions complete, both blobs go, nothing is left pending.
    let (mut child, _) = start(dir.path(), "1", queue_url);
    // Every job, the uploads' probes included, ends.
    let done = poll(200, Duration::from_millis(100), || async {
        count(&db_url, "SELECT COUNT(*) FROM videos").await == 0
            && count(&db_url, "SELECT COUNT(*) FROM blobs").await == 0
            && count(&db_url, "SELECT COUNT(*) FROM jobs WHERE state <> 'done' AND kind <> 'collect_blob'").await == 0
    })
    .await;
    sigterm(&child);
    child.wait().unwrap();
    assert!(done, "deletions did not finish after the restart");
    assert_eq!(count(&db_url, "SELECT COUNT(*) FROM jobs WHERE state <> 'done' AND kind <> 'collect_blob'").await, 0);
    let store = streamvault_metadata::MetadataStore::connect(&db_url, 1).await.unwrap();
    let taken_over = streamvault_metadata::SqlJobQueue::new(store.clone()).get(leased.id).await.unwrap().unwrap();
    assert_eq!((taken_over.state.as_str(), taken_over.attempts), ("done", 2), "taken over after the lease ran out");
    assert_ne!(taken_over.leased_by.as_deref(), Some("dead-worker"));
    store.close().await;
    let leftover: Vec<_> = files_under(&dir.path().join("data/blobs"));
    assert!(leftover.is_empty(), "orphaned objects: {leftover:?}");
    if let Some(url) = queue_url {
        let store = streamvault_metadata::MetadataStore::connect(&db_url, 1).await.unwrap();
        let sql = Arc::new(streamvault_metadata::SqlJobQueue::new(store.clone()));
        let q = AmqpJobQueue::connect(url, sql.clone(), sql).await.unwrap();
        assert_eq!(q.depth(&q.topology().jobs).await.unwrap(), 0, "no message left behind");
        q.delete_queues().await.unwrap();
        q.close().await;
        store.close().await;
    }
}

/// An upload cut off by `kill -9` leaves its staging file; once expired, the worker removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_uploads_are_reclaimed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = start(dir.path(), "600", None);
    let http = http_client();
    let name = unique_name("a_");
    let token = api_signup(&http, &base, &name).await;
    let vid = api_video(&http, &base, &token, &name, "cut off").await;
    // A body that sends its first 200 KB and then stalls.
    let head = fake_mp4(200_000, 51);
    let stalled = futures::stream::iter([Ok::<_, std::io::Error>(head)]).chain(futures::stream::pending());
    let upload = tokio::spawn({
        let http = http.clone();
        let url = format!("{base}/stream/v1/videos/{vid}/upload");
        async move { http.post(url).header("X-Session-Id", token).body(reqwest::Body::wrap_stream(stalled)).send().await }
    });
    let staging = dir.path().join("data/staging");
    let staged = poll(100, Duration::from_millis(50), || async {
        std::fs::read_dir(&staging).map(|d| d.count() > 0).unwrap_or(false)
    })
    .await;
    assert!(staged, "the upload reached staging");
    child.kill().unwrap();
    child.wait().unwrap();
    upload.abort();
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 1, "kill -9 leaves the part file behind");

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("STREAMVAULT_UPLOAD_EXPIRY_SECS", "1")
        .env("STREAMVAULT_LOG", "warn")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let gone =
        poll(100, Duration::from_millis(50), || async { std::fs::read_dir(&staging).unwrap().count() == 0 }).await;
    sigterm(&child);
    child.wait().unwrap();
    assert!(gone, "the abandoned upload's bytes were reclaimed");
}

/// `kill -9` of the server mid-PATCH: after a restart the client resumes from the last offset
/// the server recorded (the dead request's lock runs out within seconds) to a byte-exact file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tus_upload_resumes_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = start(dir.path(), "600", None);
    let http = http_client();
    let token = api_signup(&http, &base, &unique_name("t_")).await;
    let data = fake_mp4(3_000_000, 61);
    let tus = |m: reqwest::Method, url: &str| {
        http.request(m, url).header("tus-resumable", "1.0.0").header("Authorization", format!("Bearer {token}"))
    };
    let res = tus(reqwest::Method::POST, &format!("{base}/stream/v1/tus/"))
        .header("upload-length", data.len())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let path = res.headers()["location"].to_str().unwrap().to_owned();
    let res = tus(reqwest::Method::PATCH, &format!("{base}{path}"))
        .header("upload-offset", 0)
        .header("content-type", "application/offset+octet-stream")
        .body(data[..1_000_000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    // The next PATCH sends half a megabyte and stalls; the server dies under it.
    let head = data[1_000_000..1_500_000].to_vec();
    let stalled = futures::stream::iter([Ok::<_, std::io::Error>(head)]).chain(futures::stream::pending());
    let cut = tokio::spawn(
        tus(reqwest::Method::PATCH, &format!("{base}{path}"))
            .header("upload-offset", 1_000_000)
            .header("content-type", "application/offset+octet-stream")
            .body(reqwest::Body::wrap_stream(stalled))
            .send(),
    );
    let staging = dir.path().join("data/staging");
    poll(100, Duration::from_millis(50), || async {
        files_under(&staging).iter().any(|p| std::fs::metadata(p).map(|m| m.len() > 0).unwrap_or(false))
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    cut.abort();

    let (mut child, base) = start(dir.path(), "600", None);
    let url = format!("{base}{path}");
    let res = tus(reqwest::Method::HEAD, &url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let offset: usize = res.headers()["upload-offset"].to_str().unwrap().parse().unwrap();
    assert_eq!(offset, 1_000_000, "what was recorded before the kill");
    let started = std::time::Instant::now();
    let done = loop {
        let res = tus(reqwest::Method::PATCH, &url)
            .header("upload-offset", offset)
            .header("content-type", "application/offset+octet-stream")
            .body(data[offset..].to_vec())
            .send()
            .await
            .unwrap();
        match res.status().as_u16() {
            204 => break res,
            // The dead request's lock, until its lease runs out.
            423 if started.elapsed() < Duration::from_secs(20) => tokio::time::sleep(Duration::from_millis(500)).await,
            s => panic!("resume failed with {s}"),
        }
    };
    let fid = done.headers()["streamvault-file-id"].to_str().unwrap().to_owned();
    let got = http
        .get(format!("{base}/stream/v1/files/{fid}"))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(got.as_ref() == &data[..], "byte-exact after kill -9 and resume");
    sigterm(&child);
    child.wait().unwrap();
}
