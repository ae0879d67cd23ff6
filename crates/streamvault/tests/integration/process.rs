//! The real binary: start-up errors, `config check`, `migrate`, the printed URL, role subsets,
//! per-request log lines and draining on SIGTERM.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::PWD;
use crate::common::serve::{first_line, sigterm};
use reqwest::StatusCode;
use serde_json::json;
use streamvault_testkit::unique_name;

fn bin(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamvault"));
    cmd.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("STREAMVAULT_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("STREAMVAULT_LOG_FORMAT", "json");
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run streamvault");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn bad_settings_stop_start_up_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.toml"), "session_idle_secs = \"soon\"\n").unwrap();
    let cases: Vec<(Command, &str)> = vec![
        (
            {
                let mut c = bin(dir.path());
                c.args(["serve"]).env("STREAMVAULT_LISTEN", "bogus");
                c
            },
            "STREAMVAULT_LISTEN",
        ),
        (
            {
                let mut c = bin(dir.path());
                c.args(["serve"]).env("STREAMVAULT_MAX_UPLOAD_BYTE", "10");
                c
            },
            "STREAMVAULT_MAX_UPLOAD_BYTE (from the environment): there is no such setting; did you mean STREAMVAULT_MAX_UPLOAD_BYTES?",
        ),
        (
            {
                let mut c = bin(dir.path());
                c.args(["serve", "--roles", "api,cdn"]);
                c
            },
            "STREAMVAULT_ROLES",
        ),
        (
            {
                let mut c = bin(dir.path());
                c.args(["serve"]).env("STREAMVAULT_DATABASE_URL", "oracle://db");
                c
            },
            "STREAMVAULT_DATABASE_URL",
        ),
        (
            {
                let mut c = bin(dir.path());
                c.args(["serve"]).env("STREAMVAULT_SESSION_URL", "memcached://x");
                c
            },
            "STREAMVAULT_SESSION_URL",
        ),
        (
            {
                let mut c = bin(dir.path());
                c.args(["serve"]).env("STREAMVAULT_LOGIN_MAX_FAILURES", "-3");
                c
            },
            "STREAMVAULT_LOGIN_MAX_FAILURES",
        ),
        (
            {
                let mut c = bin(dir.path());
                c.args(["--config", "bad.toml", "serve"]);
                c
            },
            "STREAMVAULT_SESSION_IDLE_SECS",
        ),
        (
            {
                let mut c = bin(dir.path());
                c.args(["--config", "missing.toml", "serve"]);
                c
            },
            "--config",
        ),
    ];
    for (mut cmd, key) in cases {
        let (code, stdout, stderr) = run(&mut cmd);
        assert_eq!(code, 2, "{key}: {stderr}");
        assert!(stdout.is_empty());
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {stderr}");
        assert!(lines[0].starts_with("error: ") && lines[0].contains(key), "{key} not named in {stderr}");
    }
    assert!(!dir.path().join("data").exists(), "nothing is created when the config is bad");

    // A backend that does not answer is a start-up failure too, with the reason.
    let (code, _, stderr) = run(bin(dir.path()).args(["serve", "--database-url", "mysql://root@127.0.0.1:9/x"]));
    assert_eq!(code, 1);
    assert!(stderr.lines().last().unwrap().starts_with("error: database"), "{stderr}");
}

#[test]
fn config_check_prints_the_effective_config_with_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sv.toml"), "listen = \"127.0.0.1:9999\"\nlogin_max_failures = 7\n").unwrap();
    let (code, stdout, stderr) = run(bin(dir.path())
        .args(["--config", "sv.toml", "config", "check", "--session-url", "redis://:hunter2@127.0.0.1:6379"])
        .env("STREAMVAULT_DATABASE_URL", "postgres://sv:s3cret@db.internal/sv")
        .env("STREAMVAULT_LOGIN_MAX_FAILURES", "9"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("STREAMVAULT_LISTEN=127.0.0.1:9999\n"), "file layer: {stdout}");
    assert!(stdout.contains("STREAMVAULT_LOGIN_MAX_FAILURES=9\n"), "env beats file: {stdout}");
    assert!(stdout.contains("STREAMVAULT_DATABASE_URL=postgres://sv:***@db.internal/sv\n"), "{stdout}");
    assert!(stdout.contains("STREAMVAULT_SESSION_URL=redis://:***@127.0.0.1:6379"), "{stdout}");
    assert!(!stdout.contains("s3cret") && !stdout.contains("hunter2"));
}

#[test]
fn migrate_applies_the_schema_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let (code, stdout, stderr) = run(bin(dir.path()).args(["migrate"]));
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.lines().all(|l| l.starts_with("applied ")) && !stdout.is_empty(), "{stdout}");
    }
    assert!(dir.path().join("data/streamvault.db").is_file(), "the default database is ./data/streamvault.db");
}

struct Served {
    child: Child,
    url: String,
    stderr: std::thread::JoinHandle<String>,
}

/// Starts `streamvault serve` and reads the URL it prints.
fn serve(dir: &Path, args: &[&str]) -> Served {
    let mut child = bin(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let line = first_line(&mut child);
    let url = line.split_whitespace().last().unwrap_or_default().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "printed: {line:?}");
    Served { child, url, stderr }
}

fn wait_exit(child: &mut Child, within: Duration) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        assert!(start.elapsed() < within, "did not exit within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Requests to `route` in a handler now or answered, from `/metrics` (less the metrics
/// request itself, which is in flight while it renders).
async fn reached_handlers(http: &reqwest::Client, url: &str, route: &str) -> u64 {
    let Ok(res) = http.get(format!("{url}/metrics")).send().await else { return 0 };
    let text = res.text().await.unwrap_or_default();
    let value = |l: &str| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let in_flight: f64 = text.lines().filter(|l| l.starts_with("http_requests_in_flight ")).map(value).sum();
    let answered: f64 = text
        .lines()
        .filter(|l| l.starts_with("http_requests_total{") && l.contains(&format!("route=\"{route}\"")))
        .map(value)
        .sum();
    // Whole counts, as gauges and counters of requests are.
    (in_flight - 1.0 + answered).max(0.0) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests_then_exits() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = serve(dir.path(), &[]);
    let http = streamvault_testkit::http_client();

    // Sign-ups are slow on purpose (argon2id), so several are in flight when SIGTERM lands.
    let requests: Vec<_> = (0..12)
        .map(|_| {
            let http = http.clone();
            let url = format!("{}/user", s.url);
            tokio::spawn(async move {
                http.post(url).json(&json!({"user_name": unique_name("d_"), "pwd": PWD})).send().await
            })
        })
        .collect();
    // SIGTERM once every sign-up has reached a handler (in flight or answered), not after a
    // guessed pause: one still in the socket's backlog when the listener closes is not in
    // flight.
    let deadline = Instant::now() + Duration::from_secs(20);
    while reached_handlers(&http, &s.url, "/user").await < 12 {
        assert!(Instant::now() < deadline, "the sign-ups never reached the server");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(sigterm(&s.child));
    for r in requests {
        let res = r.await.unwrap().expect("an in-flight request is answered, not cut");
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let code = wait_exit(&mut s.child, Duration::from_secs(15));
    assert_eq!(code, 0);
    assert!(http.get(format!("{}/healthz", s.url)).send().await.is_err(), "no longer listening");

    // One JSON log line per request, each with a request id (the `/metrics` polls have theirs).
    let log = s.stderr.join().unwrap();
    let request_lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["message"] == "request" && v["route"] != "/metrics")
        .collect();
    assert_eq!(request_lines.len(), 12, "{log}");
    for l in &request_lines {
        assert_eq!(l["route"], "/user");
        assert_eq!(l["status"], 201);
        assert!(l["span"]["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{l}");
    }
    assert!(!log.contains(PWD), "passwords never reach the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_choose_the_routes() {
    let dir = tempfile::tempdir().unwrap();
    let http = streamvault_testkit::http_client();

    let mut api = serve(dir.path(), &["--roles", "api", "--data-dir", "api-data"]);
    assert_eq!(http.get(format!("{}/api/v1/me", api.url)).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(http.get(format!("{}/", api.url)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "no web role");
    assert_eq!(http.get(format!("{}/readyz", api.url)).send().await.unwrap().status(), StatusCode::OK);
    assert!(sigterm(&api.child));
    assert_eq!(wait_exit(&mut api.child, Duration::from_secs(10)), 0);
    assert!(dir.path().join("api-data/streamvault.db").is_file(), "--data-dir is honoured");

    let mut web = serve(dir.path(), &["--roles", "web,stream"]);
    let res = http.get(format!("{}/", web.url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let res =
        http.post(format!("{}/user", web.url)).json(&json!({"user_name": "abc", "pwd": PWD})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "no api role");
    assert_eq!(
        http.get(format!("{}/metrics", web.url)).send().await.unwrap().status(),
        StatusCode::OK,
        "every role has /metrics"
    );
    assert!(sigterm(&web.child));
    assert_eq!(wait_exit(&mut web.child, Duration::from_secs(10)), 0);
}
