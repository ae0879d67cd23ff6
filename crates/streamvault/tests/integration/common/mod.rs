//! Starts real servers over loopback for the HTTP tests.
#![allow(dead_code)]

pub mod poll;
pub mod s3;
pub mod serve;
pub mod tus;

use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use streamvault::server::{self, Running};
use streamvault_testkit::{TestDb, unique_name};

pub const PWD: &str = "correct horse battery";
/// Every test server's admin token (`STREAMVAULT_ADMIN_TOKEN`).
pub const ADMIN_TOKEN: &str = "test-operator-token-test-operator-token";

pub struct TestServer {
    pub url: String,
    pub http: Client,
    running: Option<Running>,
    data: tempfile::TempDir,
}

/// Settings for a test server on `db`; `extra` overrides any key (as in the TOML file).
pub fn settings(db: &TestDb, extra: Value) -> Value {
    let mut s = json!({
        "listen": "127.0.0.1:0",
        "database_url": db.url,
        "session_url": "",
        "log": "warn",
        "shutdown_grace_secs": 10,
        "admin_token": ADMIN_TOKEN,
    });
    if let (Some(s), Some(extra)) = (s.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            s.insert(k.clone(), v.clone());
        }
    }
    s
}

/// Server logs (warnings and errors) go to the test's output, shown when it fails.
fn log_to_test_output() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let filter = std::env::var("STREAMVAULT_TEST_LOG").unwrap_or_else(|_| "warn".into());
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter(filter).try_init();
    });
}

impl TestServer {
    pub async fn start(db: &TestDb, extra: Value) -> TestServer {
        log_to_test_output();
        let data = tempfile::tempdir().unwrap();
        let mut s = settings(db, extra);
        s["data_dir"] = json!(data.path());
        let config =
            streamvault_config::load(None, figment::providers::Serialized::globals(s)).expect("valid test config");
        let running = server::start(config).await.expect("server starts");
        TestServer { url: running.url(), http: streamvault_testkit::http_client(), running: Some(running), data }
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self.data.path()
    }

    /// The running server's services, for tests that race them against HTTP requests.
    pub fn app(&self) -> &streamvault::app::App {
        &self.running.as_ref().expect("running").app
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.unwrap();
        }
    }

    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.url))
    }

    /// A request with the operators' token (the admin API, `/readyz`'s details).
    pub fn operator(&self, method: Method, path: &str) -> RequestBuilder {
        self.req(method, path).bearer_auth(ADMIN_TOKEN)
    }

    pub fn authed(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.req(method, path).header("X-Session-Id", token)
    }

    /// Signs up `name` and returns the session token.
    pub async fn signup(&self, name: &str) -> String {
        let res =
            self.req(Method::POST, "/api/v1/user").json(&json!({"user_name": name, "pwd": PWD})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "signup of {name}");
        body(res).await["session_id"].as_str().unwrap().to_owned()
    }

    pub async fn login(&self, name: &str, pwd: &str) -> Response {
        self.req(Method::POST, &format!("/api/v1/user/{name}"))
            .json(&json!({"user_name": name, "pwd": pwd}))
            .send()
            .await
            .unwrap()
    }

    /// Status of `GET /api/v1/me` with `token`.
    pub async fn me_status(&self, token: &str) -> StatusCode {
        self.authed(Method::GET, "/api/v1/me", token).send().await.unwrap().status()
    }
}

pub async fn body(res: Response) -> Value {
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// Asserts the status and the seed's error body, and returns the `error_code`.
pub async fn expect_error(res: Response, status: StatusCode) -> String {
    assert_eq!(res.status(), status, "status");
    let b = body(res).await;
    assert!(b["error"].as_str().is_some_and(|e| !e.is_empty()), "error message in {b}");
    b["error_code"].as_str().expect("error_code").to_owned()
}

pub fn user() -> String {
    unique_name("u_")
}

/// The number `sql` (a `SELECT COUNT(*) ...`) counts in the database at `db_url`.
pub async fn count(db_url: &str, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let conn = sea_orm::Database::connect(db_url).await.unwrap();
    let be = conn.get_database_backend();
    let rows = conn.query_all_raw(Statement::from_string(be, sql.to_owned())).await.unwrap();
    let n = rows.first().unwrap_or_else(|| panic!("{sql}: no row")).try_get_by_index::<i64>(0).unwrap();
    conn.close().await.ok();
    n
}

/// Sets one column of a video row straight in the database, telling nobody (callers
/// that stand in for the app tell the read cache with [`TestServer::touched`]).
pub async fn set_video_column(db: &TestDb, id: &str, column: &str, value: impl Into<sea_orm::Value>) {
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let conn = db.connect().await;
    let stmt = Query::update()
        .table(Alias::new("videos"))
        .value(Alias::new(column), value)
        .and_where(Expr::col(Alias::new("id")).eq(uuid::Uuid::parse_str(id).unwrap()))
        .to_owned();
    assert_eq!(conn.execute(&stmt).await.unwrap().rows_affected(), 1);
    conn.close().await.ok();
}

impl TestServer {
    /// Sets columns of a video row directly, standing in for the stream role and the worker
    /// (which move `status` and count `views`) in tests of the API alone; then tells the read
    /// cache, as their writes through the repository do.
    pub async fn set_video(&self, db: &TestDb, id: &str, status: &str, views: i64) {
        set_video_column(db, id, "status", status).await;
        set_video_column(db, id, "views", views).await;
        self.touched(id).await;
    }

    /// A video's row changed behind the app's back (a test's own SQL): its kept reads go.
    pub async fn touched(&self, vid: &str) {
        use streamvault_core::ids::{Id, VideoId};
        use streamvault_core::ports::Scope;
        if let Some(stamps) = &self.app().stamps {
            let vid = VideoId::parse(vid).unwrap();
            stamps.bump(&[Scope::Videos, Scope::Video(vid), Scope::Comments(vid)]).await.unwrap();
        }
    }
}

impl TestServer {
    /// Creates a video as `name` (token `token`) and returns its JSON.
    pub async fn create_video(&self, name: &str, token: &str, title: &str) -> Value {
        let res = self
            .authed(Method::POST, &format!("/api/v1/user/{name}/videos"), token)
            .json(&json!({"name": title, "description": format!("about {title}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        body(res).await
    }
}

/// A tiny real MP4 (one 64x64 frame, index first), made once by ffmpeg; `None` without it.
fn real_mp4_head() -> Option<&'static [u8]> {
    static HEAD: std::sync::OnceLock<Option<Vec<u8>>> = std::sync::OnceLock::new();
    HEAD.get_or_init(|| {
        let dir = tempfile::tempdir().ok()?;
        let out = dir.path().join("head.mp4");
        let ok = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=25", "-frames:v", "1"])
            .args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart"])
            .arg(&out)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(!streamvault_testkit::in_ci(), "ffmpeg is required under CI (.ci/run installs it)");
        }
        ok.then(|| std::fs::read(&out).ok()).flatten()
    })
    .as_deref()
}

/// A playable MP4 of `len` bytes, distinct per `seed`: a real one-frame video (its index
/// first) followed by pseudo-random bytes no demuxer reads. Falls back to [`noise_mp4`] when
/// too short or without ffmpeg.
pub fn fake_mp4(len: usize, seed: u64) -> Vec<u8> {
    match real_mp4_head() {
        Some(head) if head.len() + 64 <= len => {
            let mut v = head.to_vec();
            v.extend_from_slice(&noise_mp4(len - head.len(), seed));
            v
        }
        _ => noise_mp4(len, seed),
    }
}

/// Bytes that sniff as an MP4 (an `ftyp` box) followed by `len` pseudo-random bytes: accepted
/// as an upload, and no decodable video.
pub fn noise_mp4(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x20];
    v.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2avc1mp41");
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

impl TestServer {
    /// Uploads `data` as the raw body to the video's upload route and returns the response.
    pub async fn upload_raw(&self, vid: &str, token: &str, data: Vec<u8>) -> Response {
        self.authed(Method::POST, &format!("/stream/v1/videos/{vid}/upload"), token)
            .header("content-type", "application/octet-stream")
            .body(data)
            .send()
            .await
            .unwrap()
    }
}

impl TestServer {
    /// A simple upload (`POST /stream/v1/files?name=`) of `data` with session `token`.
    pub async fn post_file(&self, token: &str, name: &str, data: Vec<u8>) -> Response {
        self.authed(Method::POST, &format!("/stream/v1/files?name={name}"), token).body(data).send().await.unwrap()
    }

    /// [`TestServer::post_file`] that must succeed (201); returns the new file's JSON.
    pub async fn new_file(&self, token: &str, name: &str, data: Vec<u8>) -> Value {
        let res = self.post_file(token, name, data).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        body(res).await
    }

    /// The bytes counted against the quota of the holder of `token` (`usage_bytes` in `/me`).
    pub async fn usage_bytes(&self, token: &str) -> u64 {
        let me = body(self.authed(Method::GET, "/api/v1/me", token).send().await.unwrap()).await;
        me["usage_bytes"].as_u64().unwrap()
    }
}

/// Every file below `dir` (empty when it does not exist).
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() { out.extend(files_under(&p)) } else { out.push(p) }
        }
    }
    out
}

/// Signs up through a running binary at `base` and returns the session token.
pub async fn api_signup(http: &Client, base: &str, name: &str) -> String {
    let res = http.post(format!("{base}/user")).json(&json!({"user_name": name, "pwd": PWD})).send().await.unwrap();
    res.json::<Value>().await.unwrap()["session_id"].as_str().unwrap().to_owned()
}

/// Creates a video through a running binary at `base` and returns its id.
pub async fn api_video(http: &Client, base: &str, token: &str, name: &str, title: &str) -> String {
    let res = http
        .post(format!("{base}/api/v1/user/{name}/videos"))
        .header("X-Session-Id", token)
        .json(&json!({"name": title}))
        .send()
        .await
        .unwrap();
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// Whether ffmpeg is on the PATH: without it a test skips (`false`), except under CI, where it
/// fails.
pub fn have_ffmpeg() -> bool {
    if std::process::Command::new("ffmpeg").arg("-version").output().is_ok() {
        return true;
    }
    assert!(!streamvault_testkit::in_ci(), "ffmpeg is required under CI (.ci/run installs it)");
    eprintln!("SKIP: ffmpeg not found");
    false
}

/// A test pattern (`testsrc2` when `moving`, for encoders to chew on) with a tone, made by
/// ffmpeg into `dir/file`; `None` (skip) without ffmpeg outside CI.
pub fn lavfi_video(dir: &std::path::Path, file: &str, size: &str, secs: u32, codec_args: &[&str]) -> Option<Vec<u8>> {
    if !have_ffmpeg() {
        return None;
    }
    let out = dir.join(file);
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=duration={secs}:size={size}:rate=25"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=440:duration={secs}"))
        .args(codec_args)
        .args(["-shortest"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg failed for {file}");
    Some(std::fs::read(out).unwrap())
}

/// `ffprobe -of json` of a path or URL, with `args` choosing what to show.
pub fn ffprobe(input: &str, args: &[&str]) -> Value {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .arg(input)
        .output()
        .unwrap();
    assert!(out.status.success(), "ffprobe {input}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// ffmpeg processes whose command line mentions `needle` (a video's work directory).
pub fn encoders_running(needle: &str) -> usize {
    let out = std::process::Command::new("pgrep").args(["-f", "-c", needle]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0)
}
