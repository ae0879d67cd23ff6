//! Stateless replicas: sessions survive restarts and are honoured by every replica that shares
//! the backends.

use crate::common::{PWD, TestServer, body, user};
use reqwest::{Method, StatusCode};
use serde_json::json;
use streamvault_testkit::{Backend, TestDb, redis_url, unique_name};

/// Sessions are honoured across replicas, and a logout on one is seen by the other at once.
async fn two_replicas_share_sessions(a: &TestServer, b: &TestServer) {
    let name = user();
    let token = a.signup(&name).await;
    let res = b.authed(Method::GET, &format!("/user/{name}"), &token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "a session made on A works on B");
    let t2 = body(b.login(&name, PWD).await).await["session_id"].as_str().unwrap().to_owned();
    assert_eq!(a.me_status(&t2).await, StatusCode::OK, "and one made on B works on A");

    let res = b.authed(Method::DELETE, &format!("/user/{name}"), &token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(a.me_status(&token).await, StatusCode::UNAUTHORIZED, "a logout on B is seen on A");
    let list = body(a.authed(Method::GET, "/api/v1/me/sessions", &t2).send().await.unwrap()).await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1);

    // Signing up the same name on both replicas at once: one account.
    let contested = user();
    let (ra, rb) = tokio::join!(
        a.req(Method::POST, "/user").json(&json!({"user_name": contested, "pwd": PWD})).send(),
        b.req(Method::POST, "/user").json(&json!({"user_name": contested, "pwd": PWD})).send(),
    );
    let mut statuses = [ra.unwrap().status(), rb.unwrap().status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_and_redis_replicas_share_sessions_and_throttle() {
    let Some(redis) = redis_url().await else { return };
    let Some(db) = TestDb::create(Backend::MySql).await else { return };
    let extra = json!({"session_url": redis, "login_max_failures": 2, "login_window_secs": 60});
    let a = TestServer::start(&db, extra.clone()).await;
    let b = TestServer::start(&db, extra).await;
    two_replicas_share_sessions(&a, &b).await;

    // The failed-login count is cluster-wide: failures on A and B add up.
    let victim = user();
    a.signup(&victim).await;
    assert_eq!(a.login(&victim, "bad password 1").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(b.login(&victim, "bad password 2").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(a.login(&victim, "bad password 3").await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(b.login(&victim, PWD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    a.stop().await;
    b.stop().await;
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_share_sessions_in_the_database() {
    let Some(db) = TestDb::create(Backend::Postgres).await else { return };
    let a = TestServer::start(&db, json!({})).await;
    let b = TestServer::start(&db, json!({})).await;
    two_replicas_share_sessions(&a, &b).await;
    a.stop().await;
    b.stop().await;
    db.drop_db().await;
}

/// A restart (same data directory, same database) keeps every session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_sessions() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(&db, json!({})).await;
    let name = user();
    let token = srv.signup(&name).await;
    srv.stop().await;
    let srv = TestServer::start(&db, json!({})).await;
    assert_eq!(srv.me_status(&token).await, StatusCode::OK);
    assert_eq!(srv.login(&name, PWD).await.status(), StatusCode::OK);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_redis_sessions() {
    let Some(redis) = redis_url().await else { return };
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let extra = json!({"session_url": redis});
    let srv = TestServer::start(&db, extra.clone()).await;
    let token = srv.signup(&unique_name("r_")).await;
    srv.stop().await;
    let srv = TestServer::start(&db, extra).await;
    assert_eq!(srv.me_status(&token).await, StatusCode::OK);
    srv.stop().await;
}

/// Cluster-wide periodic work runs on one replica per period, decided by a lease in the
/// database: two workers starting together purge sessions once between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periodic_tasks_run_once_per_period_across_workers() {
    let Some(db) = TestDb::create(Backend::Postgres).await else { return };
    let a = TestServer::start(&db, json!({"roles": "api,worker"})).await;
    let b = TestServer::start(&db, json!({"roles": "api,worker"})).await;
    // Both servers live in this test process, so the counter sums over both.
    let runs = async || {
        let metrics = a.req(Method::GET, "/metrics").send().await.unwrap().text().await.unwrap();
        let runs: Vec<String> = metrics
            .lines()
            .filter(|l| l.starts_with("periodic_runs_total{task=\"purge_sessions\"}"))
            .map(str::to_owned)
            .collect();
        (runs, metrics)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while runs().await.0.is_empty() {
        assert!(std::time::Instant::now() < deadline, "sessions were never purged");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The other worker has started too by now, and had its chance.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (runs, metrics) = runs().await;
    assert_eq!(runs, vec!["periodic_runs_total{task=\"purge_sessions\"} 1"], "{metrics}");
    a.stop().await;
    b.stop().await;
    db.drop_db().await;
}

async fn login(srv: &TestServer, name: &str) -> String {
    body(srv.login(name, PWD).await).await["session_id"].as_str().unwrap().to_owned()
}

/// Polls `GET /api/v1/me` on `srv` with `token` until it is refused; whether that happened
/// within a second.
async fn refused_within_a_second(srv: &TestServer, token: &str) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(1) {
        if srv.me_status(token).await == StatusCode::UNAUTHORIZED {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// Sessions verified on a replica stay in its cache for seconds (STREAMVAULT_SESSION_CACHE_SECS),
/// but one that ends on another replica is refused everywhere within a second: the ending is
/// announced on the event bus. Logout, "sign out everywhere else", ending one session by id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_session_is_refused_by_every_replica_within_a_second() {
    let (Some(db), Some(redis)) = (TestDb::create(Backend::Postgres).await, redis_url().await) else { return };
    let shared = json!({"bus_url": redis, "session_cache_secs": 600});
    let a = TestServer::start(&db, shared.clone()).await;
    let b = TestServer::start(&db, shared).await;
    let name = user();
    let t1 = a.signup(&name).await;
    // Cached on B (a long time-to-live: only the bus can take it out in time).
    assert_eq!(b.me_status(&t1).await, StatusCode::OK);
    assert_eq!(b.me_status(&t1).await, StatusCode::OK);
    let res = a.authed(Method::DELETE, &format!("/api/v1/user/{name}"), &t1).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert!(refused_within_a_second(&b, &t1).await, "B still accepts the session logged out on A");

    // Everywhere else: two sessions cached on A, ended from B.
    let (keep, t2, t3) = (login(&b, &name).await, login(&a, &name).await, login(&a, &name).await);
    for t in [&keep, &t2, &t3] {
        assert_eq!(a.me_status(t).await, StatusCode::OK);
    }
    let res = b.authed(Method::DELETE, "/api/v1/me/sessions", &keep).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert!(refused_within_a_second(&a, &t2).await && refused_within_a_second(&a, &t3).await);
    assert_eq!(a.me_status(&keep).await, StatusCode::OK, "the session that asked stays");

    // One session ended by its id, from the other replica.
    let t4 = login(&a, &name).await;
    assert_eq!(a.me_status(&t4).await, StatusCode::OK);
    let list = body(b.authed(Method::GET, "/api/v1/me/sessions", &keep).send().await.unwrap()).await;
    let sessions = list.as_array().or_else(|| list["sessions"].as_array()).expect("a list of sessions").clone();
    let ids: Vec<String> =
        sessions.iter().filter(|s| s["current"] != true).map(|s| s["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 1, "{list}");
    let res = b.authed(Method::DELETE, &format!("/api/v1/me/sessions/{}", ids[0]), &keep).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert!(refused_within_a_second(&a, &t4).await);
    a.stop().await;
    b.stop().await;
    db.drop_db().await;
}
