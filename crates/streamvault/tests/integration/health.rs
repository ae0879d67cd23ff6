//! `/healthz`, `/readyz` and `/metrics`, the request id, and what clients see while a backend
//! is down.

use std::time::Duration;

use crate::common::poll::poll;
use crate::common::{TestServer, body, expect_error, user};
use reqwest::{Method, StatusCode};
use serde_json::json;
use streamvault_testkit::{Backend, TcpProxy, TestDb, redis_url};

#[tokio::test]
async fn health_ready_metrics_and_request_ids() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(&db, json!({})).await;
    let res = srv.req(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = srv.operator(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await["checks"]["database"], "ok");

    srv.signup(&user()).await;
    let res = srv.req(Method::GET, "/api/v1/nowhere").send().await.unwrap();
    assert_eq!(expect_error(res, StatusCode::NOT_FOUND).await, "not_found");
    let res = srv.req(Method::GET, "/no/such/page").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // A request id is made when absent and kept when a proxy sent one.
    let res = srv.req(Method::GET, "/healthz").send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let res = srv.req(Method::GET, "/healthz").header("X-Request-Id", "lb-1234").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "lb-1234");

    let res = srv.req(Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    for needle in [
        r#"http_requests_total{method="POST",route="/api/v1/user",status="201"}"#,
        r#"http_requests_total{method="GET",route="unmatched",status="404"}"#,
        "http_request_duration_seconds_bucket{",
        "http_requests_in_flight",
    ] {
        assert!(text.contains(needle), "metrics lack {needle}:\n{text}");
    }
    srv.stop().await;
}

/// A database that goes away: readiness fails, requests get 503 (not 500, not a hang), and
/// all is well again when it comes back.
async fn database_outage(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let target = match backend {
        Backend::MySql => "127.0.0.1:3306",
        _ => "127.0.0.1:5432",
    };
    let proxy = TcpProxy::start(target).await;
    let via_proxy = db.url.replacen(&format!("@{target}"), &format!("@{}", proxy.addr), 1);
    let srv = TestServer::start(&db, json!({"database_url": via_proxy})).await;
    let name = user();
    let token = srv.signup(&name).await;

    proxy.cut();
    let res = srv.operator(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_ne!(body(res).await["checks"]["database"], "ok");
    assert_eq!(
        srv.req(Method::GET, "/healthz").send().await.unwrap().status(),
        StatusCode::OK,
        "alive, just not ready"
    );
    let res = srv.authed(Method::GET, "/api/v1/me", &token).send().await.unwrap();
    assert_eq!(expect_error(res, StatusCode::SERVICE_UNAVAILABLE).await, "backend_unavailable");
    let res = srv
        .req(Method::POST, "/user")
        .json(&json!({"user_name": user(), "pwd": crate::common::PWD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);

    proxy.restore().await;
    let ready = poll(50, Duration::from_millis(200), || async {
        srv.operator(Method::GET, "/readyz").send().await.unwrap().status() == StatusCode::OK
    })
    .await;
    assert!(ready, "ready again after the database came back");
    assert_eq!(srv.me_status(&token).await, StatusCode::OK, "sessions survived the outage");
    srv.stop().await;
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_outage() {
    database_outage(Backend::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage() {
    database_outage(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage() {
    let Some(redis) = redis_url().await else { return };
    let proxy = TcpProxy::start(redis.trim_start_matches("redis://")).await;
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(&db, json!({"session_url": format!("redis://{}", proxy.addr)})).await;
    let token = srv.signup(&user()).await;
    assert_eq!(body(srv.operator(Method::GET, "/readyz").send().await.unwrap()).await["checks"]["redis"], "ok");

    proxy.cut();
    let res = srv.operator(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let res = srv.authed(Method::GET, "/api/v1/me", &token).send().await.unwrap();
    assert_eq!(expect_error(res, StatusCode::SERVICE_UNAVAILABLE).await, "backend_unavailable");

    proxy.restore().await;
    let ok = poll(50, Duration::from_millis(200), || async { srv.me_status(&token).await == StatusCode::OK }).await;
    assert!(ok, "sessions work again once Redis is back");
    srv.stop().await;
}
