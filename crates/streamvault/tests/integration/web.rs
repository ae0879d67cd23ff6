//! The web site: a real browser (Debian's headless Chromium, driven by playwright-core) goes
//! through sign-up, a video upload with its progress bar that is paused, resumed, interrupted by
//! a reload and resumed into the same video, HLS playback and seeking, a comment, the storyboard
//! preview, the home page's thumbnail, an interrupted and resumed drive upload downloaded
//! byte-exact, a file dropped on the drive, and a keyboard-only sign-in, with no JavaScript
//! error anywhere; screenshots of every page are kept. Over plain HTTP: CSRF protection on forms
//! and cookie-authenticated API calls, the security headers, password change, and the gateway
//! a web-only replica is in split mode.

use std::path::PathBuf;

use crate::common::{PWD, TestServer, lavfi_video};
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::json;
use streamvault_testkit::{Backend, TestDb, http_client, unique_name};

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

fn chromium() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    let ready = path.exists() && js_dir().join("node_modules/playwright-core").exists();
    if !ready {
        assert!(
            !streamvault_testkit::in_ci(),
            "chromium and tests/js/node_modules are required under CI (.ci/run installs them)"
        );
        eprintln!("SKIP: no chromium or playwright-core");
    }
    ready.then_some(path)
}

/// Runs `tests/js/<script>` in node with `args` and `--shots DIR` (SV_SCREENSHOTS, or a temporary
/// folder), driving `chromium`; fails unless it exits 0 having printed `ok`.
async fn run_in_chromium(chromium: PathBuf, script: &str, args: &[&str], ok: &str) {
    let shots = std::env::var("SV_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join("streamvault-screenshots"));
    let mut cmd = std::process::Command::new("node");
    cmd.arg(js_dir().join(script)).args(args).arg("--shots").arg(&shots).env("CHROMIUM", chromium);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("node runs")).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stdout.contains(ok), "{script} failed:\n{stdout}\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_uses_the_site_in_a_real_browser() {
    let Some(chromium) = chromium() else { return };
    let Some(db) = TestDb::create(Backend::Sqlite).await else { return };
    let dir = tempfile::tempdir().unwrap();
    if lavfi_video(
        dir.path(),
        "video.mp4",
        "1280x720",
        12,
        &["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    )
    .is_none()
    {
        return;
    }
    // Big enough that a throttled upload can be interrupted half-way.
    let drive_file = dir.path().join("report.bin");
    let noise: Vec<u8> = (0..24u32 * 1024 * 1024).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&drive_file, noise).unwrap();
    let srv = TestServer::start(&db, json!({})).await;
    let video = dir.path().join("video.mp4");
    let args = ["--base", &srv.url, "--video", video.to_str().unwrap(), "--file", drive_file.to_str().unwrap()];
    run_in_chromium(chromium, "browser.mjs", &args, "BROWSER OK").await;
    srv.stop().await;
    db.drop_db().await;
}

/// A request that does not follow redirects (they are what is checked).
fn req(srv: &TestServer, method: Method, path: &str) -> reqwest::RequestBuilder {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let client =
        CLIENT.get_or_init(|| reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap());
    client.request(method, format!("{}{path}", srv.url))
}

/// The CSRF cookie and token a page hands out.
async fn csrf_of(srv: &TestServer, cookies: &str) -> (String, String) {
    let res = req(srv, Method::GET, "/signin").header("cookie", cookies).send().await.unwrap();
    let set = res.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
    let html = res.text().await.unwrap();
    let token = html.split("name=\"csrf-token\" content=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let cookie = set.iter().find(|c| c.starts_with("sv_csrf=")).map(|c| c.split(';').next().unwrap().to_owned());
    (token, cookie.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_and_cookie_api_calls_need_the_csrf_token() {
    let Some(db) = TestDb::create(Backend::Sqlite).await else { return };
    // The test client stands in for a TLS-terminating proxy on loopback.
    let srv = TestServer::start(&db, json!({"trusted_proxies": "127.0.0.1"})).await;
    let (token, csrf_cookie) = csrf_of(&srv, "").await;
    assert_eq!(token.len(), 64);
    assert_eq!(csrf_cookie, format!("sv_csrf={token}"));

    let name = unique_name("w_");
    let form = |csrf: &str| {
        [
            ("csrf", csrf.to_owned()),
            ("username", name.clone()),
            ("password", PWD.to_owned()),
            ("next", "/upload".to_owned()),
        ]
    };
    // No token, a wrong token, or a token without its cookie (another site's form): refused.
    for (cookie, field) in
        [(csrf_cookie.clone(), String::new()), (csrf_cookie.clone(), "0".repeat(64)), (String::new(), token.clone())]
    {
        let res = req(&srv, Method::POST, "/signup").header("cookie", cookie).form(&form(&field)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    let res =
        req(&srv, Method::POST, "/signup").header("cookie", &csrf_cookie).form(&form(&token)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/upload");
    let session = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("sv_session="))
        .unwrap()
        .to_owned();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax") && !session.contains("Secure"),
        "{session}"
    );
    let cookies = format!("{}; {csrf_cookie}", session.split(';').next().unwrap());

    // The API, called with the cookie alone, wants the page's token in a header.
    let path = format!("/api/v1/user/{name}/videos");
    let res =
        req(&srv, Method::POST, &path).header("cookie", &cookies).json(&json!({"name": "x"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = srv
        .req(Method::POST, &path)
        .header("cookie", &cookies)
        .header("x-csrf-token", &token)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // Reads need no token; a bearer token is not a browser's ambient credential.
    let res = req(&srv, Method::GET, "/api/v1/me").header("cookie", &cookies).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Behind TLS the cookies are Secure.
    let res = req(&srv, Method::POST, "/signin")
        .header("cookie", &csrf_cookie)
        .header("x-forwarded-for", "203.0.113.9")
        .header("x-forwarded-proto", "https")
        .form(&form(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let set = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set.contains("; Secure"), "{set}");

    // A wrong password re-renders the form with the reason; `next` never leaves the site.
    let bad = [
        ("csrf", token.clone()),
        ("username", name.clone()),
        ("password", "wrong password".into()),
        ("next", "//evil.example/".into()),
    ];
    let res = req(&srv, Method::POST, "/signin").header("cookie", &csrf_cookie).form(&bad).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("Wrong user name or password"));
    let res = req(&srv, Method::GET, "/signin?next=//evil.example/").header("cookie", &cookies).send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/");

    // Changing the password: the current one is checked, other sessions end, this one stays.
    let other = crate::common::body(srv.login(&name, PWD).await).await["session_id"].as_str().unwrap().to_owned();
    let change = |current: &str| {
        [
            ("csrf", token.clone()),
            ("current_password", current.to_owned()),
            ("new_password", "a brand new passphrase".to_owned()),
        ]
    };
    let res = req(&srv, Method::POST, "/settings/password")
        .header("cookie", &cookies)
        .form(&change("not it at all"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("The current password is wrong"));
    let res = req(&srv, Method::POST, "/settings/password")
        .header("cookie", &cookies)
        .form(&change(PWD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()[LOCATION], "/settings?done=password");
    let res = req(&srv, Method::GET, "/api/v1/me").header("x-session-id", &other).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the other session ended");
    let res = req(&srv, Method::GET, "/settings").header("cookie", &cookies).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "this session stays");
    assert_eq!(srv.login(&name, "a brand new passphrase").await.status(), StatusCode::OK);

    // Every page carries the policy; unknown pages are a friendly 404, API paths JSON.
    for path in ["/", "/signin", "/no-such-page"] {
        let res = req(&srv, Method::GET, path).send().await.unwrap();
        let csp = res.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
    let res = req(&srv, Method::GET, "/no-such-page").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("Page not found"));
    let res = req(&srv, Method::GET, "/api/v1/no-such").send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/json");
    // Pages that need an account send you to sign in, and back.
    let res = req(&srv, Method::GET, "/drive").send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/signin?next=%2Fdrive");
    srv.stop().await;
    db.drop_db().await;
}

/// The status of a GET of `path` exactly as written.
async fn raw_status(addr: &str, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out[9..12]).parse().unwrap()
}

/// Split mode: a web-only replica forwards `/api/` and `/stream/` round robin to the pools it
/// is given, skipping a replica that is down, streaming bodies and keeping Range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_replica_is_the_gateway_to_api_and_stream_pools() {
    let Some(db) = TestDb::create(Backend::Sqlite).await else { return };
    // The upstreams trust the gateway to say who the client is.
    let backend = TestServer::start(&db, json!({ "roles": "api,stream,worker", "trusted_proxies": "127.0.0.1" })).await;
    // A replica that is down stays in the list: the gateway must go around it.
    let dead = "http://127.0.0.1:9";
    let web = TestServer::start(
        &db,
        json!({
            "roles": "web",
            "api_upstreams": format!("{dead},{}", backend.url),
            "stream_upstreams": format!("{},{dead}", backend.url),
        }),
    )
    .await;
    let http = http_client();
    let name = unique_name("g_");
    for _ in 0..4 {
        // Reads land whatever the round robin's turn.
        let res = http.get(format!("{}/api/v1/videos", web.url)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = http.post(format!("{}/api/v1/user", web.url)).json(&json!({"user_name": name, "pwd": PWD})).send().await;
    // A POST cannot be replayed: if its turn was the dead replica it fails with 502, once.
    let res = match res.unwrap() {
        r if r.status() == StatusCode::BAD_GATEWAY => http
            .post(format!("{}/api/v1/user", web.url))
            .json(&json!({"user_name": name, "pwd": PWD}))
            .send()
            .await
            .unwrap(),
        r => r,
    };
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = res.json::<serde_json::Value>().await.unwrap()["session_id"].as_str().unwrap().to_owned();
    let vid = crate::common::api_video(&http, &web.url, &token, &name, "via gateway").await;
    let data = crate::common::fake_mp4(3 * 1024 * 1024, 5);
    let res = http
        .post(format!("{}/stream/v1/videos/{vid}/upload", web.url))
        .header("x-session-id", &token)
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let res = http
        .get(format!("{}/stream/v1/videos/{vid}", web.url))
        .header("range", "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()["content-range"], format!("bytes 1000-1999/{}", data.len()));
    assert_eq!(res.bytes().await.unwrap(), &data[1000..2000]);
    // Pages are served by the web replica itself.
    let res = http.get(format!("{}/watch/{vid}", web.url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Paths that leave /api/ or /stream/ once normalised are not forwarded (sent raw: an HTTP
    // client would normalise them itself).
    let addr = web.url.trim_start_matches("http://").to_owned();
    for path in ["/api/../user/x", "/api/%2e%2e/metrics", "/api/v1/%2E%2E/%2e%2e/readyz", "/stream/../api/v1/me"] {
        assert_eq!(raw_status(&addr, path).await, 404, "{path} must not reach an upstream route");
    }
    assert_eq!(raw_status(&addr, "/api/v1/../v1/videos").await, 200, "inside the prefix it is fine");

    // Links the upstream builds carry the public origin the client used, not the upstream's.
    let res = http
        .post(format!("{}/stream/v1/files?name=shared.bin", web.url))
        .header("x-session-id", &token)
        .body(vec![1u8; 1000])
        .send()
        .await
        .unwrap();
    let file = res.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let res = http
        .post(format!("{}/api/v1/files/{file}/share", web.url))
        .header("x-session-id", &token)
        .header("host", "video.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let link = res.json::<serde_json::Value>().await.unwrap()["url"].as_str().unwrap().to_owned();
    assert!(link.starts_with("http://video.example/stream/v1/shared/"), "{link}");
    web.stop().await;
    backend.stop().await;
    db.drop_db().await;
}

/// Two browser contexts on one video: one sends a bullet comment, the other sees it fly
/// (`tests/js/danmaku.mjs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bullet_comments_fly_between_two_browsers() {
    let Some(chromium) = chromium() else { return };
    let Some(db) = TestDb::create(Backend::Sqlite).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let args = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"];
    let Some(data) = lavfi_video(dir.path(), "video.mp4", "320x180", 60, &args) else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let name = crate::common::user();
    let owner = srv.signup(&name).await;
    let vid = srv.create_video(&name, &owner, "bullets").await["id"].as_str().unwrap().to_owned();
    assert_eq!(srv.upload_raw(&vid, &owner, data).await.status(), StatusCode::CREATED);
    // Ready (HLS made): the pages start on HLS rather than switching to it midway.
    let status = format!("/api/v1/user/{name}/videos/{vid}");
    let ready = crate::common::poll::poll(300, std::time::Duration::from_millis(200), || async {
        let res = srv.req(Method::GET, &status).send().await.unwrap();
        crate::common::body(res).await["status"] == "ready"
    })
    .await;
    assert!(ready, "the video was processed");
    let (poster, viewer) = (srv.signup(&crate::common::user()).await, srv.signup(&crate::common::user()).await);
    let args = ["--base", &srv.url, "--video", &vid, "--poster", &poster, "--viewer", &viewer];
    run_in_chromium(chromium, "danmaku.mjs", &args, "DANMAKU OK").await;
    srv.stop().await;
    db.drop_db().await;
}

/// The social layer in a real browser (`tests/js/social.mjs`): B follows A, A uploads, B's bell
/// shows it, B's feed lists it, B saves it to "Watch later", likes it and messages A; A reads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_notify_save_and_like_in_a_real_browser() {
    let Some(chromium) = chromium() else { return };
    let Some(db) = TestDb::create(Backend::Sqlite).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let args = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"];
    if lavfi_video(dir.path(), "video.mp4", "320x180", 4, &args).is_none() {
        return;
    }
    let srv = TestServer::start(&db, json!({})).await;
    let (a, b) = (crate::common::user(), crate::common::user());
    let (a_token, b_token) = (srv.signup(&a).await, srv.signup(&b).await);
    let file = dir.path().join("video.mp4");
    let args =
        ["--base", &srv.url, "--a", &a, "--a-token", &a_token, "--b-token", &b_token, "--file", file.to_str().unwrap()];
    run_in_chromium(chromium, "social.mjs", &args, "SOCIAL OK").await;
    srv.stop().await;
    db.drop_db().await;
}
