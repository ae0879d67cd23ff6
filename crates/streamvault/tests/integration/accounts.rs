//! The account and session routes over real HTTP, on each metadata backend, at both the seed's
//! root paths and `/api/v1`.

use std::time::Duration;

use crate::common::{PWD, TestServer, body, expect_error, user};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use streamvault_testkit::{Backend, TestDb, per_backend};

const PREFIXES: [&str; 2] = ["", "/api/v1"];

async fn signup_statuses(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    for p in PREFIXES {
        let path = format!("{p}/user");
        let name = user();
        let res = srv.req(Method::POST, &path).json(&json!({"user_name": name, "pwd": PWD})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let b = body(res).await;
        assert_eq!(b["success"], true);
        let token = b["session_id"].as_str().unwrap();
        assert_eq!(token.len(), 64, "256 bits, hex");
        assert!(token.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(srv.me_status(token).await, StatusCode::OK);

        // Taken, also when only the case differs.
        for taken in [name.clone(), name.to_uppercase()] {
            let res = srv.req(Method::POST, &path).json(&json!({"user_name": taken, "pwd": PWD})).send().await.unwrap();
            assert_eq!(expect_error(res, StatusCode::CONFLICT).await, "username_taken");
        }

        let bad_bodies = [
            json!({"pwd": PWD}),
            json!({"user_name": user()}),
            json!({"user_name": "", "pwd": PWD}),
            json!({"user_name": "ab", "pwd": PWD}),
            json!({"user_name": "x".repeat(33), "pwd": PWD}),
            json!({"user_name": "with space", "pwd": PWD}),
            json!({"user_name": "../etc", "pwd": PWD}),
            json!({"user_name": "ünï", "pwd": PWD}),
            json!({"user_name": user(), "pwd": "short"}),
            json!({"user_name": user(), "pwd": "p".repeat(129)}),
            json!({"user_name": 42, "pwd": PWD}),
            json!([1, 2]),
        ];
        for bad in bad_bodies {
            let res = srv.req(Method::POST, &path).json(&bad).send().await.unwrap();
            expect_error(res, StatusCode::BAD_REQUEST).await;
        }
        for raw in ["", "{", "not json", "{\"user_name\": \"abc\", \"pwd\": }"] {
            let res = srv.req(Method::POST, &path).body(raw).send().await.unwrap();
            assert_eq!(expect_error(res, StatusCode::BAD_REQUEST).await, "bad_json", "{raw:?}");
        }
        // The seed's client sends no Content-Type; that is fine.
        let res = srv
            .req(Method::POST, &path)
            .body(json!({"user_name": user(), "pwd": PWD}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        // Bodies past the limit are refused before they are parsed.
        let huge = format!("{{\"user_name\":\"{}\",\"pwd\":\"x\"}}", "a".repeat(2 * 1024 * 1024));
        let res = srv.req(Method::POST, &path).body(huge).send().await.unwrap();
        assert_eq!(expect_error(res, StatusCode::PAYLOAD_TOO_LARGE).await, "payload_too_large");
    }
    srv.stop().await;
    db.drop_db().await;
}

async fn login_statuses(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    for p in PREFIXES {
        let name = user();
        let first = srv.signup(&name).await;
        let path = format!("{p}/user/{name}");
        let res = srv.req(Method::POST, &path).json(&json!({"user_name": name, "pwd": PWD})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let b = body(res).await;
        assert_eq!(b["success"], true);
        let second = b["session_id"].as_str().unwrap().to_owned();
        assert_ne!(first, second, "each login is a new session");
        assert_eq!(srv.me_status(&first).await, StatusCode::OK);
        assert_eq!(srv.me_status(&second).await, StatusCode::OK);

        // The name in the path decides; a body without user_name is fine, a different one is not.
        let res = srv.req(Method::POST, &path).json(&json!({"pwd": PWD})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let upper = format!("{p}/user/{}", name.to_uppercase());
        let res = srv.req(Method::POST, &upper).json(&json!({"pwd": PWD})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "names are case-insensitive");
        // Another name in the body than in the path: a failed login, as in the seed.
        let res = srv.req(Method::POST, &path).json(&json!({"user_name": user(), "pwd": PWD})).send().await.unwrap();
        expect_error(res, StatusCode::UNAUTHORIZED).await;
        let res = srv.req(Method::POST, &path).json(&json!({"user_name": name})).send().await.unwrap();
        expect_error(res, StatusCode::BAD_REQUEST).await;
        let res = srv.req(Method::POST, &path).body("{oops").send().await.unwrap();
        expect_error(res, StatusCode::BAD_REQUEST).await;

        let res = srv
            .req(Method::POST, &path)
            .json(&json!({"user_name": name, "pwd": "wrong password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(expect_error(res, StatusCode::UNAUTHORIZED).await, "unauthenticated");
        let ghost = user();
        let res = srv.req(Method::POST, &format!("{p}/user/{ghost}")).json(&json!({"pwd": PWD})).send().await.unwrap();
        assert_eq!(expect_error(res, StatusCode::UNAUTHORIZED).await, "unauthenticated");
        let res =
            srv.req(Method::POST, &format!("{p}/user/no%20such")).json(&json!({"pwd": PWD})).send().await.unwrap();
        assert_eq!(expect_error(res, StatusCode::UNAUTHORIZED).await, "unauthenticated");
    }
    srv.stop().await;
    db.drop_db().await;
}

async fn user_info_and_logout(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    for p in PREFIXES {
        let (alice, bob) = (user(), user());
        let ta = srv.signup(&alice).await;
        let tb = srv.signup(&bob).await;
        let path = format!("{p}/user/{alice}");

        // Every way of presenting the token works.
        for req in [
            srv.req(Method::GET, &path).header("X-Session-Id", &ta),
            srv.req(Method::GET, &path).bearer_auth(&ta),
            srv.req(Method::GET, &path).header("Cookie", format!("theme=dark; sv_session={ta}")),
        ] {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let b = body(res).await;
            assert_eq!(b["user_name"], alice.as_str());
            assert!(uuid::Uuid::parse_str(b["id"].as_str().unwrap()).is_ok());
            assert!(b.get("pwd").is_none() && b.get("password_hash").is_none());
        }

        // No session, a bad one, or only the header the seed trusted: 401.
        let res = srv.req(Method::GET, &path).send().await.unwrap();
        assert_eq!(expect_error(res, StatusCode::UNAUTHORIZED).await, "unauthenticated");
        let res = srv.req(Method::GET, &path).header("X-User-Name", &alice).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "X-User-Name is never trusted");
        for bad in ["nope", &"0".repeat(64), &"z".repeat(500)] {
            let res = srv.authed(Method::GET, &path, bad).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        // Another user's session: authenticated, not the owner.
        let res = srv.authed(Method::GET, &path, &tb).header("X-User-Name", &alice).send().await.unwrap();
        assert_eq!(expect_error(res, StatusCode::FORBIDDEN).await, "forbidden");
        let res = srv.authed(Method::GET, &format!("{p}/user/{}", user()), &tb).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        // Logout: 401 without a session, 403 with another's, 204 with one's own, then dead.
        let res = srv.req(Method::DELETE, &path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = srv.authed(Method::DELETE, &path, &tb).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(srv.me_status(&tb).await, StatusCode::OK, "a refused logout ends nothing");
        let other = body(srv.login(&alice, PWD).await).await["session_id"].as_str().unwrap().to_owned();
        let res = srv.authed(Method::DELETE, &path, &ta).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(srv.me_status(&ta).await, StatusCode::UNAUTHORIZED);
        let res = srv.authed(Method::DELETE, &path, &ta).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "logging out twice");
        assert_eq!(srv.me_status(&other).await, StatusCode::OK, "only the calling session ends");
    }
    srv.stop().await;
    db.drop_db().await;
}

async fn me_and_sessions(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let (alice, bob) = (user(), user());
    let t1 = srv.signup(&alice).await;
    let t2 = body(srv.login(&alice, PWD).await).await["session_id"].as_str().unwrap().to_owned();
    let t3 = body(srv.login(&alice, PWD).await).await["session_id"].as_str().unwrap().to_owned();
    let tb = srv.signup(&bob).await;

    let me = body(srv.authed(Method::GET, "/api/v1/me", &t1).send().await.unwrap()).await;
    assert_eq!(me["user_name"], alice.as_str());
    let res = srv.req(Method::GET, "/api/v1/me").send().await.unwrap();
    assert_eq!(expect_error(res, StatusCode::UNAUTHORIZED).await, "unauthenticated");

    let list = body(
        srv.authed(Method::GET, "/api/v1/me/sessions", &t2).header("User-Agent", "TestAgent/1").send().await.unwrap(),
    )
    .await;
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(
        sessions.iter().all(|s| s.get("token_hash").is_none() && s.get("session_id").is_none()),
        "no tokens listed"
    );
    let current = sessions.iter().find(|s| s["current"] == true).unwrap()["id"].as_str().unwrap().to_owned();
    let first_id = body(srv.authed(Method::GET, "/api/v1/me", &t1).send().await.unwrap()).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(current, first_id);

    // Ending a session by id: someone else's id or garbage is 404, one's own is 204.
    let res = srv.authed(Method::DELETE, &format!("/api/v1/me/sessions/{first_id}"), &tb).send().await.unwrap();
    assert_eq!(expect_error(res, StatusCode::NOT_FOUND).await, "not_found");
    assert_eq!(srv.me_status(&t1).await, StatusCode::OK);
    let res = srv.authed(Method::DELETE, "/api/v1/me/sessions/not-a-uuid", &t2).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = srv.req(Method::DELETE, &format!("/api/v1/me/sessions/{first_id}")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = srv.authed(Method::DELETE, &format!("/api/v1/me/sessions/{first_id}"), &t2).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(srv.me_status(&t1).await, StatusCode::UNAUTHORIZED);
    let res = srv.authed(Method::DELETE, &format!("/api/v1/me/sessions/{first_id}"), &t2).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "already ended");

    // Sign out everywhere else.
    let res = srv.authed(Method::DELETE, "/api/v1/me/sessions", &t2).send().await.unwrap();
    assert_eq!(body(res).await["ended"], 1);
    assert_eq!(srv.me_status(&t3).await, StatusCode::UNAUTHORIZED);
    assert_eq!(srv.me_status(&t2).await, StatusCode::OK);
    assert_eq!(srv.me_status(&tb).await, StatusCode::OK, "other users keep their sessions");
    srv.stop().await;
    db.drop_db().await;
}

async fn failed_logins_are_throttled(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({"login_max_failures": 3, "login_window_secs": 3})).await;
    let (victim, bystander) = (user(), user());
    srv.signup(&victim).await;
    srv.signup(&bystander).await;
    for _ in 0..3 {
        assert_eq!(srv.login(&victim, "wrong password").await.status(), StatusCode::UNAUTHORIZED);
    }
    let res = srv.login(&victim, "wrong password").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3).contains(&retry), "Retry-After {retry}");
    assert_eq!(expect_error(res, StatusCode::TOO_MANY_REQUESTS).await, "too_many_requests");
    // Even the right password waits: the lock is on the account, not on wrong guesses.
    assert_eq!(srv.login(&victim, PWD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(srv.login(&victim.to_uppercase(), PWD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(srv.login(&bystander, PWD).await.status(), StatusCode::OK, "other accounts are unaffected");
    tokio::time::sleep(Duration::from_secs(retry) + Duration::from_millis(300)).await;
    assert_eq!(srv.login(&victim, PWD).await.status(), StatusCode::OK, "the lock lifts");
    srv.stop().await;
    db.drop_db().await;
}

async fn nothing_stored_in_clear(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let token2 = body(srv.login(&name, PWD).await).await["session_id"].as_str().unwrap().to_owned();
    let conn = db.connect().await;
    let backend_kind = conn.get_database_backend();
    let mut dump = String::new();
    for (table, cols) in [("users", "name, name_key, password_hash"), ("sessions", "token_hash, user_agent")] {
        let rows = conn
            .query_all_raw(Statement::from_string(backend_kind, format!("SELECT {cols} FROM {table}")))
            .await
            .unwrap();
        for row in rows {
            for col in cols.split(", ") {
                let v: Option<String> = row.try_get("", col).unwrap();
                dump.push_str(&v.unwrap_or_default());
                dump.push('\n');
            }
        }
    }
    assert!(dump.contains("$argon2id$v=19$m=19456,t=2,p=1$"), "passwords are argon2id with OWASP parameters");
    for secret in [PWD, &token, &token2] {
        assert!(!dump.contains(secret), "{secret} stored in clear");
    }
    conn.close().await.ok();
    srv.stop().await;
    db.drop_db().await;
}

async fn sessions_expire(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    // Idle: a session in use lives on; one left alone for the idle time dies.
    let srv = TestServer::start(&db, json!({"session_idle_secs": 2, "session_absolute_secs": 3600})).await;
    let busy = srv.signup(&user()).await;
    let idle = srv.signup(&user()).await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert_eq!(srv.me_status(&busy).await, StatusCode::OK);
    }
    assert_eq!(srv.me_status(&idle).await, StatusCode::UNAUTHORIZED, "idle for 3.6 s of 2");
    srv.stop().await;

    // Absolute: however busy, a session dies at its deadline.
    let srv = TestServer::start(&db, json!({"session_idle_secs": 3600, "session_absolute_secs": 4})).await;
    let t = srv.signup(&user()).await;
    assert_eq!(srv.me_status(&t).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(srv.me_status(&t).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(3300)).await;
    assert_eq!(srv.me_status(&t).await, StatusCode::UNAUTHORIZED);
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(
    signup_statuses,
    login_statuses,
    user_info_and_logout,
    me_and_sessions,
    failed_logins_are_throttled,
    nothing_stored_in_clear,
    sessions_expire,
);
