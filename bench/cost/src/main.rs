//! The cost of one API request, counted rather than timed, so that it repeats on a noisy
//! machine and a regression shows in review (issue 16, goal 5).
//!
//! `seed DIR` makes a data directory (a channel of 20 videos, 20 comments on the first);
//! `run DIR --read R --requests N` opens it, sends R N times through the server's own router
//! (everything but the socket: middleware, session, handler, database, JSON), and prints the
//! heap allocations and bytes allocated per request, counted by this binary's allocator on
//! every thread (SQLite's worker threads too). `bench/cost_bench.sh` runs `run` under callgrind
//! twice with different N and divides the difference of the instruction counts, so start-up
//! cancels out.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Makes the data directory the runs read.
    Seed { dir: PathBuf },
    /// Sends one read `requests` times and prints its cost per request as JSON.
    Run {
        dir: PathBuf,
        #[arg(long, value_enum)]
        read: Read,
        #[arg(long, default_value_t = 1000)]
        requests: u64,
        /// Keep finished reads (the read cache), or build every one.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        cache: bool,
        /// Send the bench user's session with each request.
        #[arg(long)]
        signed_in: bool,
    },
}

#[derive(Clone, Copy, ValueEnum, Debug)]
enum Read {
    /// `/healthz`: the floor (middleware and routing only).
    Healthz,
    Comments,
    Video,
    Channel,
    Home,
    Search,
}

async fn open(dir: &Path, cache: bool) -> anyhow::Result<(streamvault::app::App, Router)> {
    let settings = json!({
        "data_dir": dir,
        "roles": "api,stream",
        "log": "error",
        "session_url": "",
        "bus_url": "",
        "read_cache_mb": if cache { 64 } else { 0 },
    });
    let config = streamvault_config::load(None, figment::providers::Serialized::globals(settings))?;
    let app = streamvault::app::App::connect(config).await?;
    let router = app.router();
    Ok((app, router))
}

/// One request through the router, as from 127.0.0.1; fails on an error status.
async fn send(router: &Router, method: Method, path: &str, token: Option<&str>, body: Body) -> anyhow::Result<Bytes> {
    let mut req = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("x-session-id", t);
    }
    let mut req = req.body(body)?;
    req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let res = router.clone().oneshot(req).await?;
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
    if !status.is_success() {
        bail!("{path}: {status} {}", String::from_utf8_lossy(&bytes));
    }
    Ok(bytes)
}

async fn call(router: &Router, method: Method, path: &str, token: Option<&str>, body: Body) -> anyhow::Result<Value> {
    Ok(serde_json::from_slice(&send(router, method, path, token, body).await?).unwrap_or(Value::Null))
}

fn json_body(v: Value) -> Body {
    Body::from(v.to_string())
}

async fn seed(dir: &Path) -> anyhow::Result<()> {
    let (app, router) = open(dir, false).await?;
    let signup = |name: String| {
        let router = router.clone();
        async move {
            let r = call(
                &router,
                Method::POST,
                "/user",
                None,
                json_body(json!({"user_name": name, "pwd": "bench-password"})),
            )
            .await?;
            r["session_id"].as_str().map(str::to_owned).context("no session")
        }
    };
    let token = signup("bench".into()).await?;
    let mut mp4 = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    mp4.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let mut first = None;
    for i in 0..20u8 {
        let description = "a video for the cost benchmark ".repeat(4);
        let v = call(
            &router,
            Method::POST,
            "/api/v1/user/bench/videos",
            Some(&token),
            json_body(json!({"name": format!("bench video {i}"), "description": description})),
        )
        .await?;
        let id = v["id"].as_str().context("no id")?.to_owned();
        let mut bytes = mp4.clone();
        bytes.push(i);
        call(&router, Method::POST, &format!("/stream/v1/videos/{id}/upload"), Some(&token), Body::from(bytes)).await?;
        first.get_or_insert(id);
    }
    let vid = first.context("no video")?;
    for i in 0..20 {
        let other = signup(format!("commenter{i}")).await?;
        let content = format!("comment number {i}: {}", "words ".repeat(40));
        call(
            &router,
            Method::POST,
            &format!("/api/v1/videos/{vid}/comments"),
            Some(&other),
            json_body(json!({"content": content})),
        )
        .await?;
    }
    std::fs::write(dir.join("bench.json"), json!({"token": token, "video": vid}).to_string())?;
    app.close().await;
    Ok(())
}

async fn run(dir: &Path, read: Read, requests: u64, cache: bool, signed_in: bool) -> anyhow::Result<()> {
    let ids: Value = serde_json::from_slice(&std::fs::read(dir.join("bench.json")).context("run `seed` first")?)?;
    let (token, vid) = (ids["token"].as_str().context("token")?, ids["video"].as_str().context("video")?);
    let path = match read {
        Read::Healthz => "/healthz".to_owned(),
        Read::Comments => format!("/api/v1/videos/{vid}/comments"),
        Read::Video => format!("/api/v1/user/bench/videos/{vid}"),
        Read::Channel => "/api/v1/user/bench/videos".to_owned(),
        Read::Home => "/api/v1/videos".to_owned(),
        Read::Search => "/api/v1/videos?q=bench".to_owned(),
    };
    let (app, router) = open(dir, cache).await?;
    let token = signed_in.then_some(token);
    // Warm: prepared statements, pooled connections, the session and read caches.
    for _ in 0..20 {
        send(&router, Method::GET, &path, token, Body::empty()).await?;
    }
    let (a0, b0) = (ALLOCATIONS.load(Ordering::SeqCst), ALLOCATED.load(Ordering::SeqCst));
    // Counted with the request's own making and the body's collection (a few allocations,
    // the same for every read: compare with `healthz`).
    for _ in 0..requests {
        send(&router, Method::GET, &path, token, Body::empty()).await?;
    }
    let (a1, b1) = (ALLOCATIONS.load(Ordering::SeqCst), ALLOCATED.load(Ordering::SeqCst));
    let n = requests.max(1) as f64;
    println!(
        "{}",
        json!({
            "read": format!("{read:?}").to_lowercase(), "cache": cache, "signed_in": signed_in, "requests": requests,
            "allocations_per_request": (a1 - a0) as f64 / n, "bytes_per_request": (b1 - b0) as f64 / n,
        })
    );
    app.close().await;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Seed { dir } => seed(&dir).await,
        Cmd::Run { dir, read, requests, cache, signed_in } => run(&dir, read, requests, cache, signed_in).await,
    }
}
