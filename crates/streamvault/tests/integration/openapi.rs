//! The OpenAPI document: served, valid, and in step with the routes (routes are registered
//! through it, so every route is documented; here every documented operation is checked to be
//! served).

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Command;

use crate::common::{TestServer, body};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, TestDb};

/// `openapi-spec-validator` (PyPI), from `STREAMVAULT_TEST_OPENAPI_VALIDATOR`, the venv that
/// `.ci/run` makes, or the PATH.
fn validator() -> Option<PathBuf> {
    let candidates = [
        std::env::var("STREAMVAULT_TEST_OPENAPI_VALIDATOR").ok().map(PathBuf::from),
        std::env::var("HOME").ok().map(|h| PathBuf::from(h).join(".cache/streamvault-venv/bin/openapi-spec-validator")),
        Some(PathBuf::from("openapi-spec-validator")),
    ];
    candidates.into_iter().flatten().find(|p| Command::new(p).arg("--help").output().is_ok_and(|o| o.status.success()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_is_valid_and_covers_every_route() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(&db, json!({})).await;
    let res = srv.req(Method::GET, "/api/v1/openapi.json").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = body(res).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

    let mut ops = Vec::new();
    let mut ids = HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.push((method.to_uppercase(), path.clone()));
                assert!(ids.insert(op["operationId"].as_str().unwrap().to_owned()), "duplicate operationId in {path}");
            }
        }
    }
    let expected = [
        ("POST", "/user"),
        ("POST", "/user/{name}"),
        ("GET", "/user/{name}"),
        ("DELETE", "/user/{name}"),
        ("POST", "/user/{name}/videos"),
        ("GET", "/user/{name}/videos"),
        ("GET", "/user/{name}/videos/{vid}"),
        ("PATCH", "/user/{name}/videos/{vid}"),
        ("DELETE", "/user/{name}/videos/{vid}"),
        ("GET", "/videos/{vid}/comments"),
        ("POST", "/videos/{vid}/comments"),
        ("DELETE", "/videos/{vid}/comment/{cid}"),
    ];
    for (m, p) in expected {
        for path in [p.to_owned(), format!("/api/v1{p}")] {
            assert!(ops.contains(&(m.to_owned(), path.clone())), "{m} {path} is not documented");
        }
    }
    for (m, p) in [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/me/sessions"),
        ("DELETE", "/api/v1/me/sessions"),
        ("DELETE", "/api/v1/me/sessions/{id}"),
        ("GET", "/api/v1/videos"),
        ("GET", "/api/v1/channels/{name}"),
    ] {
        assert!(ops.contains(&(m.to_owned(), p.to_owned())), "{m} {p} is not documented");
    }

    // Every documented operation is served: whatever it answers, it is not "no such route".
    for (method, path) in &ops {
        let concrete = path
            .replace("{name}", "somebody")
            .replace("{vid}", &uuid::Uuid::now_v7().to_string())
            .replace("{cid}", &uuid::Uuid::now_v7().to_string())
            .replace("{id}", &uuid::Uuid::now_v7().to_string());
        let res =
            srv.req(Method::from_bytes(method.as_bytes()).unwrap(), &concrete).json(&json!({})).send().await.unwrap();
        let status = res.status();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        if status == StatusCode::NOT_FOUND {
            let b = body(res).await;
            assert_ne!(b["error"], "route not found", "{method} {path} is documented but not served");
        }
    }

    // The reference page and its assets are served from the binary.
    let res = srv.req(Method::GET, "/api/docs/").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let res = srv.req(Method::GET, "/api/docs/swagger-ui-bundle.js").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!html.contains("//cdn") && !html.contains("unpkg.com"), "nothing from a CDN");

    // And it validates against the OpenAPI specification.
    match validator() {
        Some(v) => {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("openapi.json");
            std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
            let out = Command::new(v).arg(&file).output().unwrap();
            assert!(
                out.status.success(),
                "openapi-spec-validator: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        None => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "openapi-spec-validator is required under CI (.ci/run installs it)"
            );
            eprintln!("SKIP: openapi-spec-validator not found; .ci/run installs it");
        }
    }
    srv.stop().await;
}
