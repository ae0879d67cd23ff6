//! Load for streamvault's live events (`/api/v1/videos/{vid}/live`): `--viewers` WebSocket
//! viewers on one video, spread over the `--base` replicas, each sending a heartbeat every 15 s
//! as the watch page does; bullet comments posted at `--rate` per second through the replicas
//! in turn (by enough senders that none meets the 3 s cooldown). Each carries the moment it was
//! sent; every viewer measures how long it took to arrive. Reports delivery latency (p50, p99,
//! max), messages missed, connections lost, and each server's peak RSS and CPU (from /proc,
//! `--pid` per replica), against the goals of issue #14.
//!
//!   live_bench --base http://127.0.0.1:8080 --pid 1234 --viewers 5000 --rate 50 --secs 30

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[derive(Parser)]
struct Args {
    /// A replica's base URL; give it once per replica.
    #[arg(long, required = true)]
    base: Vec<String>,
    /// The server process of each replica, for RSS and CPU.
    #[arg(long)]
    pid: Vec<u32>,
    #[arg(long, default_value_t = 5000)]
    viewers: usize,
    /// Bullet comments per second.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    #[arg(long, default_value_t = 30)]
    secs: u64,
    /// A playable MP4 to upload as the video.
    #[arg(long)]
    video: std::path::PathBuf,
}

/// Delivery latencies in buckets of 100 µs up to 2 s, and the longest seen.
struct Latencies {
    buckets: Vec<AtomicU64>,
    max_us: AtomicU64,
}

const BUCKET_US: u64 = 100;

impl Latencies {
    fn new() -> Self {
        Self { buckets: (0..20_001).map(|_| AtomicU64::new(0)).collect(), max_us: AtomicU64::new(0) }
    }

    fn record(&self, us: u64) {
        let i = usize::try_from(us / BUCKET_US).unwrap_or(usize::MAX).min(self.buckets.len() - 1);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.max_us.fetch_max(us, Ordering::Relaxed);
    }

    fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The latency (ms) under which `q` of the samples fall.
    fn quantile_ms(&self, q: f64) -> f64 {
        let total = self.count();
        let want = ((total as f64) * q).ceil() as u64;
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= want.max(1) {
                return ((i as u64 + 1) * BUCKET_US) as f64 / 1000.0;
            }
        }
        f64::INFINITY
    }
}

/// When a bullet comment of this run was sent (µs from the start), from its text `lb <µs>`.
fn sent_at(message: &str) -> Option<u64> {
    let at = message.find("\"text\":\"lb ")? + 11;
    let digits = message[at..].find(|c: char| !c.is_ascii_digit()).map_or(&message[at..], |end| &message[at..at + end]);
    digits.parse().ok()
}

/// Resident memory (KiB) and CPU time (clock ticks) of a process.
fn proc_stats(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some((rss, ticks))
}

async fn signup(http: &reqwest::Client, base: &str, name: &str) -> Result<String> {
    let res = http
        .post(format!("{base}/user"))
        .json(&json!({"user_name": name, "pwd": "live bench password"}))
        .send()
        .await?;
    let body: Value = res.json().await?;
    body["session_id"].as_str().map(str::to_owned).with_context(|| format!("sign-up refused: {body}"))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    // reqwest is built without a TLS provider of its own (STACK.md: no aws-lc-sys).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let base0 = args.base[0].trim_end_matches('/').to_owned();
    let run = std::process::id();

    // The video, uploaded once.
    let owner_name = format!("lbowner{run}");
    let owner = signup(&http, &base0, &owner_name).await?;
    let res = http
        .post(format!("{base0}/api/v1/user/{owner_name}/videos"))
        .header("x-session-id", &owner)
        .json(&json!({"name": "live bench"}))
        .send()
        .await?;
    let vid = res.json::<Value>().await?["id"].as_str().context("no video id")?.to_owned();
    let res = http
        .post(format!("{base0}/stream/v1/videos/{vid}/upload"))
        .header("x-session-id", &owner)
        .header("content-type", "application/octet-stream")
        .body(std::fs::read(&args.video)?)
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("upload: {}", res.status());
    }

    // Senders: each posts once per `senders / rate` s, over the 3 s cooldown.
    let senders_n = (args.rate as usize * 4).max(1);
    eprintln!("signing up {senders_n} senders…");
    let mut senders = Vec::with_capacity(senders_n);
    for chunk in (0..senders_n).collect::<Vec<_>>().chunks(16) {
        let batch = futures::future::join_all(chunk.iter().map(|i| {
            let http = http.clone();
            let base = args.base[i % args.base.len()].trim_end_matches('/').to_owned();
            async move { signup(&http, &base, &format!("lbsend{run}x{i}")).await }
        }))
        .await;
        for t in batch {
            senders.push(t?);
        }
    }

    let start = Instant::now();
    let lat = Arc::new(Latencies::new());
    let lost = Arc::new(AtomicU64::new(0));
    let open_now = Arc::new(AtomicU64::new(0));
    eprintln!("opening {} live connections…", args.viewers);
    let config =
        WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0).max_write_buffer_size(64 * 1024);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut viewers = Vec::with_capacity(args.viewers);
    for i in 0..args.viewers {
        let base = args.base[i % args.base.len()].trim_end_matches('/').replacen("http://", "ws://", 1);
        let url = format!("{base}/api/v1/videos/{vid}/live");
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
            .await
            .with_context(|| format!("live connection {i}"))?;
        let (lat, lost, open_now) = (lat.clone(), lost.clone(), open_now.clone());
        let mut stop = stop_rx.clone();
        open_now.fetch_add(1, Ordering::Relaxed);
        viewers.push(tokio::spawn(async move {
            let (mut tx, mut rx) = ws.split();
            // Heartbeats every 15 s, spread over the period.
            let first = Duration::from_millis((i as u64 * 7919) % 15_000);
            let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + first, Duration::from_secs(15));
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = beat.tick() => {
                        if tx.send(Message::text(r#"{"type":"heartbeat"}"#)).await.is_err() { break; }
                    }
                    msg = rx.next() => match msg {
                        Some(Ok(Message::Text(t))) => {
                            // Not parsed as JSON: at 250,000 messages a second on the server's
                            // two cores the load tool's own parsing would be what is measured.
                            if let Some(sent) = sent_at(&t) {
                                lat.record((start.elapsed().as_micros() as u64).saturating_sub(sent));
                            }
                        }
                        Some(Ok(_)) => {}
                        _ => { lost.fetch_add(1, Ordering::Relaxed); break; }
                    }
                }
            }
            open_now.fetch_sub(1, Ordering::Relaxed);
        }));
    }
    eprintln!(
        "{} open; posting {} bullet comments/s for {} s…",
        open_now.load(Ordering::Relaxed),
        args.rate,
        args.secs
    );

    let before: Vec<_> = args.pid.iter().map(|p| proc_stats(*p)).collect();
    let peaks: Arc<Vec<AtomicU64>> = Arc::new(args.pid.iter().map(|_| AtomicU64::new(0)).collect());
    let sampler = {
        let (pids, peaks) = (args.pid.clone(), peaks.clone());
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(250));
            loop {
                tokio::select! { _ = stop.changed() => break, _ = every.tick() => {} }
                for (i, p) in pids.iter().enumerate() {
                    if let Some((rss, _)) = proc_stats(*p) {
                        peaks[i].fetch_max(rss, Ordering::Relaxed);
                    }
                }
            }
        })
    };
    let t0 = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(args.rate)));
    let (mut posted, mut refused) = (0u64, 0u64);
    let mut inflight = futures::stream::FuturesUnordered::new();
    let mut n = 0usize;
    while t0.elapsed() < Duration::from_secs(args.secs) {
        tick.tick().await;
        let base = args.base[n % args.base.len()].trim_end_matches('/').to_owned();
        let token = senders[n % senders.len()].clone();
        let http = http.clone();
        let text = format!("lb {}", start.elapsed().as_micros());
        let url = format!("{base}/api/v1/videos/{vid}/danmaku");
        inflight.push(async move {
            http.post(url).header("x-session-id", token).json(&json!({"t_ms": 1000, "text": text})).send().await
        });
        n += 1;
        while let Some(Some(r)) = futures::FutureExt::now_or_never(inflight.next()) {
            match r {
                Ok(r) if r.status().as_u16() == 201 => posted += 1,
                _ => refused += 1,
            }
        }
    }
    while let Some(r) = inflight.next().await {
        match r {
            Ok(r) if r.status().as_u16() == 201 => posted += 1,
            _ => refused += 1,
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    // Let the last ones arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after: Vec<_> = args.pid.iter().map(|p| proc_stats(*p)).collect();
    let still_open = open_now.load(Ordering::Relaxed);
    let _ = stop_tx.send(true);
    let _ = sampler.await;
    for v in viewers {
        let _ = v.await;
    }

    let delivered = lat.count();
    let expected = posted * args.viewers as u64;
    let (p50, p99) = (lat.quantile_ms(0.50), lat.quantile_ms(0.99));
    let max = lat.max_us.load(Ordering::Relaxed) as f64 / 1000.0;
    let ticks = 100.0; // USER_HZ on Linux
    println!(
        "live_bench: {} viewers on {} replica(s), {:.1} posts/s for {:.1} s",
        args.viewers,
        args.base.len(),
        posted as f64 / elapsed,
        elapsed
    );
    println!(
        "  posted {posted} (refused {refused}); delivered {delivered} of {expected} ({:.3} %); connections lost {} (open at the end {still_open})",
        100.0 * delivered as f64 / expected.max(1) as f64,
        lost.load(Ordering::Relaxed)
    );
    println!("  delivery latency: p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms   (goal p99 <= 250 ms)");
    for (i, pid) in args.pid.iter().enumerate() {
        let peak_mb = peaks[i].load(Ordering::Relaxed) as f64 / 1024.0;
        let cpu = match (before[i], after[i]) {
            (Some((_, a)), Some((_, b))) => format!("{:.0} %", (b - a) as f64 / ticks / (elapsed + 2.0) * 100.0),
            _ => "?".into(),
        };
        println!("  server {pid}: peak RSS {peak_mb:.0} MB (goal <= 200 MB), CPU {cpu} of one core");
    }
    Ok(())
}
