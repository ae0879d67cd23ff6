//! Memory under the loads a hostile or unlucky crowd brings, on the real binary: a thousand
//! slow clients streaming (each connection costs about one read chunk, and nothing grows while
//! they dawdle), 150 uploads stalled mid-body, and a burst of a thousand failed logins.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::serve::{sigterm, spawn_serve};
use crate::common::{api_signup, fake_mp4};
use serde_json::json;
use streamvault_testkit::{http_client, unique_name};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

const CLIENTS: usize = 1000;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// The binary serving api and stream in a scratch directory, with `env` on top.
struct Server {
    child: std::process::Child,
    base: String,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamvault"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--roles", "api,stream"])
            .env("STREAMVAULT_LOG", "warn")
            .current_dir(dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let (child, base) = spawn_serve(&mut cmd);
        let addr = base.trim_start_matches("http://").to_owned();
        Server { child, base, addr, _dir: dir }
    }

    fn rss_kib(&self) -> u64 {
        rss_kib(self.child.id())
    }

    async fn signup(&self) -> (String, String) {
        let name = unique_name("m_");
        let token = api_signup(&http_client(), &self.base, &name).await;
        (name, token)
    }

    fn stop(mut self) {
        sigterm(&self.child);
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_slow_clients_keep_memory_flat() {
    let srv = Server::start(&[("STREAMVAULT_MAX_STREAMS", "2000"), ("STREAMVAULT_MAX_STREAMS_PER_CLIENT", "2000")]);
    let (base, addr) = (srv.base.clone(), srv.addr.clone());
    let http = http_client();
    let (name, token) = srv.signup().await;
    let v = http
        .post(format!("{base}/api/v1/user/{name}/videos"))
        .header("X-Session-Id", &token)
        .json(&json!({"name": "big"}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let vid = v["id"].as_str().unwrap().to_owned();
    let res = http
        .post(format!("{base}/stream/v1/videos/{vid}/upload"))
        .header("X-Session-Id", &token)
        .body(fake_mp4(16 * 1024 * 1024, 9))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // Warm up allocator and pools, then take the baseline.
    for _ in 0..20 {
        http.get(format!("{base}/stream/v1/videos/{vid}")).header("range", "bytes=0-999").send().await.unwrap();
    }
    let baseline = srv.rss_kib();

    // Every client connects and starts reading slowly; once all are streaming, memory is
    // sampled for a few seconds while they dawdle.
    let started = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (addr, vid, started, stop) = (addr.clone(), vid.clone(), started.clone(), stop.clone());
        clients.spawn(async move {
            let socket = TcpSocket::new_v4().unwrap();
            socket.set_recv_buffer_size(16 * 1024).unwrap();
            let mut s = socket.connect(addr.parse().unwrap()).await.unwrap();
            let req = format!("GET /stream/v1/videos/{vid} HTTP/1.1\r\nHost: x\r\n\r\n");
            s.write_all(req.as_bytes()).await.unwrap();
            let mut buf = vec![0u8; 8 * 1024];
            let mut got = 0usize;
            // A slow reader: 8 KiB every 200 ms.
            while !stop.load(Ordering::Relaxed) {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if got == 0 {
                            started.fetch_add(1, Ordering::Relaxed);
                        }
                        got += n;
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            got
        });
    }
    let ramp = Instant::now();
    while started.load(Ordering::Relaxed) < CLIENTS && ramp.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(started.load(Ordering::Relaxed), CLIENTS, "every slow client is being served");
    let mut samples = Vec::new();
    for _ in 0..16 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        samples.push(srv.rss_kib());
    }
    stop.store(true, Ordering::Relaxed);
    while let Some(got) = clients.join_next().await {
        assert!(got.unwrap() > 0);
    }
    let peak = *samples.iter().max().unwrap();
    srv.stop();

    let growth_mib = (peak.saturating_sub(baseline)) / 1024;
    eprintln!("RSS baseline {} MiB, peak {} MiB over {CLIENTS} slow clients", baseline / 1024, peak / 1024);
    // About one 64 KiB chunk per connection, plus per-connection bookkeeping.
    assert!(growth_mib < 160, "RSS grew by {growth_mib} MiB for {CLIENTS} slow clients");
    // Flat: while all of them stream, the last samples are no higher than the first plus noise.
    let (first, last) = (samples[0], *samples[8..].iter().max().unwrap());
    assert!(last <= first + 16 * 1024, "memory kept growing: {first} KiB then {last} KiB");
}

/// 150 tus appends that stall mid-body hold nothing of their own while they wait (before:
/// each held a 1 MiB write buffer, +144 MiB), and the read timeout ends them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_uploads_hold_little_memory() {
    const STALLED: usize = 150;
    let srv = Server::start(&[("STREAMVAULT_READ_TIMEOUT_SECS", "30")]);
    let (_, token) = srv.signup().await;
    let http = http_client();
    let mut urls = Vec::new();
    for _ in 0..STALLED {
        let res = http
            .post(format!("{}/stream/v1/tus/", srv.base))
            .header("tus-resumable", "1.0.0")
            .header("upload-length", 64 * 1024 * 1024)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        urls.push(res.headers()["location"].to_str().unwrap().to_owned());
    }
    // Warm up: one append that completes.
    let baseline = srv.rss_kib();
    let started = Instant::now();
    let mut conns = Vec::new();
    for url in &urls {
        let mut s = tokio::net::TcpStream::connect(&srv.addr).await.unwrap();
        let head = format!(
            "PATCH {url} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer {token}\r\n\
             Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: 67108864\r\n\r\n"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        // Some of the body, then nothing more.
        s.write_all(&vec![7u8; 512 * 1024]).await.unwrap();
        conns.push(s);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut peak = 0;
    for _ in 0..8 {
        peak = peak.max(srv.rss_kib());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let growth = peak.saturating_sub(baseline) / 1024;
    eprintln!(
        "RSS baseline {} MiB, peak {} MiB with {STALLED} stalled appends ({:?} to set up)",
        baseline / 1024,
        peak / 1024,
        started.elapsed()
    );
    drop(conns);
    srv.stop();
    assert!(growth < 48, "{STALLED} stalled appends grew RSS by {growth} MiB");
}

/// A burst of a thousand failed logins (argon2id at 19 MiB a hash) leaves the process well
/// under 150 MiB: hashing threads reuse their memory (before: ~900 MiB after 600).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_keep_memory_bounded() {
    const LOGINS: usize = 1000;
    let srv =
        Server::start(&[("STREAMVAULT_LOGIN_MAX_FAILURES", "100000"), ("STREAMVAULT_LOGIN_IP_MAX_FAILURES", "100000")]);
    let (name, _) = srv.signup().await;
    let http = http_client();
    let mut peak = 0;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..LOGINS {
        let (http, url) = (http.clone(), format!("{}/user/{name}", srv.base));
        let target = if i % 2 == 0 { name.clone() } else { format!("nobody{i}") };
        tasks.spawn(async move {
            let res = http.post(url).json(&json!({"user_name": target, "pwd": "wrong password"})).send().await;
            res.map(|r| r.status().as_u16()).unwrap_or(0)
        });
        if i % 50 == 0 {
            peak = peak.max(srv.rss_kib());
        }
        // At most 64 in flight, as a crowd of clients would send them.
        while tasks.len() >= 64 {
            assert!(matches!(tasks.join_next().await.unwrap().unwrap(), 400 | 401));
            peak = peak.max(srv.rss_kib());
        }
    }
    while let Some(r) = tasks.join_next().await {
        assert!(matches!(r.unwrap(), 400 | 401));
        peak = peak.max(srv.rss_kib());
    }
    let end = srv.rss_kib();
    srv.stop();
    eprintln!("RSS peak {} MiB, end {} MiB over {LOGINS} failed logins", peak / 1024, end / 1024);
    assert!(peak < 150 * 1024, "RSS reached {} MiB", peak / 1024);
}
