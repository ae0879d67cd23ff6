//! Operators see and steer jobs: `streamvault jobs list|show|retry|purge`, and queue gauges in
//! `/metrics`.

use std::process::Command;

use crate::common::poll::poll;
use crate::common::{TestServer, body, user};
use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::json;
use streamvault_testkit::{Backend, TestDb};

fn jobs(db: &TestDb, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .arg("jobs")
        .args(args)
        .args(["--database-url", &db.url, "--data-dir", dir.path().to_str().unwrap()])
        .env("STREAMVAULT_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_list_show_retry_and_purge_jobs() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(&db, json!({"delete_grace_secs": 3600})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "to delete").await["id"].as_str().unwrap().to_owned();
    let res = srv.authed(Method::DELETE, &format!("/user/{name}/videos/{vid}"), &token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let (code, out, err) = jobs(&db, &["list", "--state", "queued"]);
    assert_eq!(code, 0, "{err}");
    let line = out.lines().find(|l| l.contains("delete_video")).unwrap_or_else(|| panic!("no job listed: {out}"));
    let id = line.split_whitespace().next().unwrap().to_owned();
    assert!(line.contains("queued") && line.contains("0/10"), "{line}");

    let (code, out, _) = jobs(&db, &["show", &id]);
    assert_eq!(code, 0);
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["kind"], "delete_video");
    assert!(shown["payload"].as_str().unwrap().contains(&vid));

    let metrics = srv.req(Method::GET, "/metrics").send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("jobs_queue_depth{state=\"queued\"}"), "{metrics}");
    assert!(metrics.contains("jobs_oldest_due_age_seconds"));
    // From here on no worker may pick up the retried job before we look at it.
    srv.stop().await;

    // A dead job (here made so by hand) is run again by `retry`.
    let conn = db.connect().await;
    conn.execute_unprepared("UPDATE jobs SET state = 'dead', attempts = 10, last_error = 'boom'").await.unwrap();
    let (_, out, _) = jobs(&db, &["list", "--state", "dead"]);
    assert!(out.contains(&id) && out.contains("boom"), "{out}");
    let (code, out, _) = jobs(&db, &["retry", &id]);
    assert_eq!(code, 0, "{out}");
    let (_, out, _) = jobs(&db, &["show", &id]);
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((shown["state"].as_str(), shown["attempts"].as_u64()), (Some("queued"), Some(0)));

    let (code, _, err) = jobs(&db, &["retry", "not-an-id"]);
    assert_eq!(code, 1);
    assert!(err.contains("not a job id"), "{err}");
    let (code, _, _) = jobs(&db, &["show", &uuid::Uuid::now_v7().to_string()]);
    assert_eq!(code, 1);

    conn.execute_unprepared("UPDATE jobs SET state = 'done'").await.unwrap();
    conn.close().await.ok();
    let (code, out, _) = jobs(&db, &["purge", "--state", "done"]);
    assert_eq!((code, out.trim()), (0, "purged 1 done jobs"));
    // Refused when the arguments are parsed (a usage error, status 2), naming what is allowed.
    let (code, _, err) = jobs(&db, &["purge", "--state", "queued"]);
    assert_eq!(code, 2, "only finished jobs are purged: {err}");
    assert!(err.contains("done or dead"), "{err}");
}

const ADMIN_TOKEN: &str = "an-operator-token-of-at-least-32-chars";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_sees_and_steers_jobs() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let off = TestServer::start(&db, json!({"admin_token": ""})).await;
    let res = off.req(Method::GET, "/api/v1/admin/jobs").bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "off without a token configured");
    off.stop().await;

    let srv = TestServer::start(&db, json!({"delete_grace_secs": 3600, "admin_token": ADMIN_TOKEN})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "to delete").await["id"].as_str().unwrap().to_owned();
    let res = srv.authed(Method::DELETE, &format!("/user/{name}/videos/{vid}"), &token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let admin = |m: Method, path: &str| srv.req(m, path).bearer_auth(ADMIN_TOKEN);
    assert_eq!(srv.req(Method::GET, "/api/v1/admin/jobs").send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let res = srv.req(Method::GET, "/api/v1/admin/jobs").bearer_auth("x".repeat(40)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "wrong token");
    let res = srv.req(Method::GET, "/api/v1/admin/jobs").bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "a user's session is not the admin token");

    let list = body(admin(Method::GET, "/api/v1/admin/jobs?state=queued").send().await.unwrap()).await;
    let job = list["jobs"].as_array().unwrap().iter().find(|j| j["kind"] == "delete_video").expect("listed").clone();
    let id = job["id"].as_str().unwrap().to_owned();
    assert!(job["payload"].as_str().unwrap().contains(&vid));
    let res = admin(Method::GET, "/api/v1/admin/jobs?state=nope").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = admin(Method::GET, "/api/v1/admin/jobs?limit=0").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let stats = body(admin(Method::GET, "/api/v1/admin/jobs/stats").send().await.unwrap()).await;
    assert_eq!(stats["queued"], 1, "{stats}");
    let shown = body(admin(Method::GET, &format!("/api/v1/admin/jobs/{id}")).send().await.unwrap()).await;
    assert_eq!(shown["state"], "queued");
    let res = admin(Method::GET, &format!("/api/v1/admin/jobs/{}", uuid::Uuid::now_v7())).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // A dead job is run again by `retry`; the worker then finishes it.
    let conn = db.connect().await;
    conn.execute_unprepared("UPDATE jobs SET state = 'dead', attempts = 10, last_error = 'boom'").await.unwrap();
    let res = admin(Method::POST, &format!("/api/v1/admin/jobs/{id}/retry")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let done = poll(100, std::time::Duration::from_millis(50), || async {
        body(admin(Method::GET, &format!("/api/v1/admin/jobs/{id}")).send().await.unwrap()).await["state"] == "done"
    })
    .await;
    assert!(done, "the retried job ran");
    let res = admin(Method::POST, &format!("/api/v1/admin/jobs/{id}/retry")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "a done job is not retried");
    let res = admin(Method::DELETE, "/api/v1/admin/jobs?state=queued").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "only finished jobs are purged");
    let purged = body(admin(Method::DELETE, "/api/v1/admin/jobs?state=done").send().await.unwrap()).await;
    assert_eq!(purged["purged"], 1);
    conn.close().await.ok();
    srv.stop().await;
}
