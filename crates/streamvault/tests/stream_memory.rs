//! Memory stays flat while a thousand slow clients stream: each connection costs about one
//! read chunk, and nothing grows while they dawdle.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{PWD, fake_mp4};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_slow_clients_keep_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["serve", "--listen", "127.0.0.1:0", "--roles", "api,stream"])
        .env("STREAMVAULT_MAX_STREAMS", "2000")
        .env("STREAMVAULT_LOG", "warn")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.split_whitespace().last().unwrap().to_owned();
    let addr = base.trim_start_matches("http://").to_owned();

    let http = http_client();
    let name = unique_name("m_");
    let token = http.post(format!("{base}/user")).json(&json!({"user_name": name, "pwd": PWD})).send().await.unwrap();
    let token = token.json::<serde_json::Value>().await.unwrap()["session_id"].as_str().unwrap().to_owned();
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
    let pid = child.id();
    let baseline = rss_kib(pid);

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
        samples.push(rss_kib(pid));
    }
    stop.store(true, Ordering::Relaxed);
    while let Some(got) = clients.join_next().await {
        assert!(got.unwrap() > 0);
    }
    let peak = *samples.iter().max().unwrap();
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let _ = child.wait();

    let growth_mib = (peak.saturating_sub(baseline)) / 1024;
    eprintln!("RSS baseline {} MiB, peak {} MiB over {CLIENTS} slow clients", baseline / 1024, peak / 1024);
    // About one 64 KiB chunk per connection, plus per-connection bookkeeping.
    assert!(growth_mib < 160, "RSS grew by {growth_mib} MiB for {CLIENTS} slow clients");
    // Flat: while all of them stream, the last samples are no higher than the first plus noise.
    let (first, last) = (samples[0], *samples[8..].iter().max().unwrap());
    assert!(last <= first + 16 * 1024, "memory kept growing: {first} KiB then {last} KiB");
}
