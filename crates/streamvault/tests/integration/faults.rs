//! Backend outages under load. Each backend (the database, Redis, RabbitMQ, object storage) is
//! cut for 10 s through the test kit's TCP proxy while a few clients keep a steady mix of
//! requests going: a request that needs the backend succeeds or gets a clean 503 with
//! `Retry-After` (never a 500, never a hang past the client's timeout), the others keep
//! succeeding, no acknowledged write is lost, and the service recovers without a restart.
//!
//! Each test prints its figures (requests and outcomes per phase and probe, the longest answer,
//! recovery times); `cargo test faults -- --nocapture` shows them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::{LocalBoxFuture, join_all};
use reqwest::header::RETRY_AFTER;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, S3Target, TcpProxy, TestDb, amqp_url, redis_url, unique_name};

use crate::common::s3::{bucket, transferred};
use crate::common::{TestServer, body, fake_mp4, user};

/// Client loops per probe: each probe is asked all the time, whatever the others wait for.
const CLIENTS_PER_PROBE: usize = 2;
/// Each client starts a request this often (at once when its last one took longer).
const PACE: Duration = Duration::from_millis(50);
/// Load before the cut.
const BEFORE: Duration = Duration::from_secs(5);
/// How long the backend is gone.
const CUT: Duration = Duration::from_secs(10);
/// Load after every probe has recovered; all of it must succeed.
const TAIL: Duration = Duration::from_secs(3);
/// A probe that needs the backend must succeed again within this long of its return.
const RECOVERY_LIMIT: Duration = Duration::from_secs(30);
/// Longer than any backend timeout in the service: a request not answered (body and all) by
/// then hangs.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(12);
const PHASES: [&str; 3] = ["before", "during", "after"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Needs the backend: while it is gone, a success or a clean 503.
    Needs,
    /// Does not: succeeds throughout.
    Independent,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Needs => "needs",
            Kind::Independent => "independent",
        }
    }
}

/// What one request came to.
#[derive(Debug)]
enum Outcome {
    /// 2xx or 3xx, and the probe's check of the answer passed.
    Ok(StatusCode),
    /// 503 with `Retry-After` and the error body with `error_code: backend_unavailable`.
    Unavailable,
    /// No complete answer within [`CLIENT_TIMEOUT`].
    Hang,
    /// Anything else: a short label for the figures (`500`, `200 cut`, `503 unclean`) and what
    /// was wrong.
    Bad { label: String, detail: String },
}

impl Outcome {
    fn bad(label: impl Into<String>, detail: impl Into<String>) -> Self {
        Outcome::Bad { label: label.into(), detail: detail.into() }
    }

    fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }

    fn label(&self) -> String {
        match self {
            Outcome::Ok(s) => s.as_u16().to_string(),
            Outcome::Unavailable => "503".into(),
            Outcome::Hang => "hang".into(),
            Outcome::Bad { label, .. } => label.clone(),
        }
    }

    fn describe(&self) -> String {
        match self {
            Outcome::Ok(s) => s.to_string(),
            Outcome::Unavailable => "503 backend_unavailable".into(),
            Outcome::Hang => format!("no answer within {CLIENT_TIMEOUT:?}"),
            Outcome::Bad { label, detail } => format!("{label}: {detail}"),
        }
    }
}

/// A complete answer with a 2xx or 3xx status.
struct Reply {
    status: StatusCode,
    body: Vec<u8>,
}

/// Sends `req` with the client's timeout and reads the whole answer: a success for the probe to
/// judge, or what else it came to.
async fn fetch(req: RequestBuilder) -> Result<Reply, Outcome> {
    let res = match req.timeout(CLIENT_TIMEOUT).send().await {
        Ok(res) => res,
        Err(e) if e.is_timeout() => return Err(Outcome::Hang),
        Err(e) => return Err(Outcome::bad("no answer", e.to_string())),
    };
    let status = res.status();
    let retry_after = res.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    let body = match res.bytes().await {
        Ok(b) => b.to_vec(),
        Err(e) if e.is_timeout() => return Err(Outcome::Hang),
        Err(e) => return Err(Outcome::bad(format!("{} cut", status.as_u16()), format!("body cut off: {e}"))),
    };
    if status.is_success() || status.is_redirection() {
        return Ok(Reply { status, body });
    }
    let text: String = String::from_utf8_lossy(&body).chars().take(300).collect();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        let json: Value = serde_json::from_slice(&body).unwrap_or_default();
        let clean = retry_after.is_some_and(|s| s > 0)
            && json["error"].as_str().is_some_and(|e| !e.is_empty())
            && json["error_code"] == "backend_unavailable";
        if clean {
            return Err(Outcome::Unavailable);
        }
        return Err(Outcome::bad("503 unclean", format!("Retry-After {retry_after:?}, body {text}")));
    }
    Err(Outcome::bad(status.as_u16().to_string(), text))
}

/// The outcome of a request whose success `check` judges (its error says what was wrong).
fn settle(reply: Result<Reply, Outcome>, check: impl FnOnce(&Reply) -> Result<(), String>) -> Outcome {
    match reply {
        Ok(r) => match check(&r) {
            Ok(()) => Outcome::Ok(r.status),
            Err(detail) => Outcome::bad(format!("{} wrong", r.status.as_u16()), detail),
        },
        Err(o) => o,
    }
}

fn status_is(r: &Reply, want: StatusCode) -> Result<(), String> {
    if r.status == want { Ok(()) } else { Err(format!("{} where {want} was expected", r.status)) }
}

fn bytes_are(r: &Reply, want: StatusCode, data: &[u8]) -> Result<(), String> {
    status_is(r, want)?;
    if r.body == data { Ok(()) } else { Err(format!("{} bytes, not the {} stored", r.body.len(), data.len())) }
}

/// A named kind of request in the load, and what it may come to while the backend is gone.
struct Probe<'a> {
    name: &'static str,
    kind: Kind,
    /// Makes and sends the `n`th request (`n` is unique within the run) and judges its answer.
    call: Box<dyn Fn(u64) -> LocalBoxFuture<'a, Outcome> + 'a>,
}

impl<'a> Probe<'a> {
    fn new<F: Future<Output = Outcome> + 'a>(name: &'static str, kind: Kind, call: impl Fn(u64) -> F + 'a) -> Self {
        Probe { name, kind, call: Box::new(move |n| -> LocalBoxFuture<'a, Outcome> { Box::pin(call(n)) }) }
    }

    /// A request made afresh by `make` each time, which succeeds with `want`.
    fn request(name: &'static str, kind: Kind, want: StatusCode, make: impl Fn(u64) -> RequestBuilder + 'a) -> Self {
        Probe::new(name, kind, move |n| {
            let req = make(n);
            async move { settle(fetch(req).await, |r| status_is(r, want)) }
        })
    }
}

fn healthz(srv: &TestServer) -> Probe<'_> {
    Probe::request("GET /healthz", Kind::Independent, StatusCode::OK, move |_| srv.req(Method::GET, "/healthz"))
}

/// Anonymous discovery: the database only.
fn videos(kind: Kind, srv: &TestServer) -> Probe<'_> {
    Probe::request("GET /api/v1/videos", kind, StatusCode::OK, move |_| srv.req(Method::GET, "/api/v1/videos"))
}

fn me<'a>(kind: Kind, srv: &'a TestServer, token: &'a str) -> Probe<'a> {
    Probe::request("GET /api/v1/me", kind, StatusCode::OK, move |_| srv.authed(Method::GET, "/api/v1/me", token))
}

/// The write load is one user's comments, far past the per-user limit a site has: lifted.
const UNLIMITED: u32 = 1_000_000;

/// A new comment each time; the acknowledged ones (201) go to `acked`.
fn comment<'a>(
    kind: Kind,
    srv: &'a TestServer,
    vid: &'a str,
    token: &'a str,
    acked: &'a Mutex<Vec<String>>,
) -> Probe<'a> {
    Probe::new("POST comment", kind, move |n| {
        let text = format!("comment #{n}");
        let req =
            srv.authed(Method::POST, &format!("/api/v1/videos/{vid}/comments"), token).json(&json!({"content": &text}));
        async move {
            settle(fetch(req).await, |r| {
                status_is(r, StatusCode::CREATED)?;
                acked.lock().unwrap().push(text);
                Ok(())
            })
        }
    })
}

/// One request of the load: which probe, when it started and ended (since the run began), and
/// what it came to.
struct Record {
    probe: usize,
    started: Duration,
    ended: Duration,
    outcome: Outcome,
}

/// What [`outage`] measured, for the checks that follow it.
struct Run {
    /// When the backend came back.
    restored: Instant,
}

/// Runs the mixed load of `probes` from [`CLIENTS_PER_PROBE`] loops each: [`BEFORE`] with the backend behind
/// `proxy` up, [`CUT`] with it cut, then until every probe that needs it has succeeded again
/// plus [`TAIL`]. Prints the figures, then fails on any request that came to what its probe does
/// not allow, on a recovery slower than [`RECOVERY_LIMIT`], or on `/readyz` not being ready at
/// the end. A request belongs to the phase in which it ended; once a probe has recovered, every
/// request of it started later must succeed.
async fn outage(name: &str, srv: &TestServer, proxy: &TcpProxy, probes: Vec<Probe<'_>>) -> Run {
    let t0 = Instant::now();
    let records = Mutex::new(Vec::<Record>::new());
    let seq = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let needs: Vec<usize> = (0..probes.len()).filter(|&p| probes[p].kind == Kind::Needs).collect();

    let client = |c: usize| {
        let (probes, records, seq, stop) = (&probes, &records, &seq, &stop);
        async move {
            let mut tick = tokio::time::interval(PACE);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let p = c % probes.len();
            loop {
                tick.tick().await;
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let started = t0.elapsed();
                let outcome = (probes[p].call)(seq.fetch_add(1, Ordering::Relaxed)).await;
                records.lock().unwrap().push(Record { probe: p, started, ended: t0.elapsed(), outcome });
            }
        }
    };
    let control = async {
        tokio::time::sleep(BEFORE).await;
        let cut = t0.elapsed();
        proxy.cut();
        tokio::time::sleep(CUT).await;
        proxy.restore().await;
        let restored = t0.elapsed();
        while t0.elapsed() < restored + RECOVERY_LIMIT {
            let recovered = {
                let recs = records.lock().unwrap();
                needs.iter().all(|&p| recs.iter().any(|r| r.probe == p && r.ended >= restored && r.outcome.is_ok()))
            };
            if recovered {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(TAIL).await;
        stop.store(true, Ordering::Relaxed);
        (cut, restored)
    };
    let ((cut, restored), _) = tokio::join!(control, join_all((0..CLIENTS_PER_PROBE * probes.len()).map(client)));
    let total = t0.elapsed();
    let records = records.into_inner().unwrap();

    // 0 before the cut, 1 during it, 2 after it, by when the request ended.
    let phase = |ended: Duration| usize::from(ended >= cut) + usize::from(ended >= restored);
    let mut failures = Vec::new();
    println!(
        "{name}: {} clients, a request each per {PACE:?}; cut from {:.1} s to {:.1} s; {} requests in {:.1} s",
        CLIENTS_PER_PROBE * probes.len(),
        cut.as_secs_f64(),
        restored.as_secs_f64(),
        records.len(),
        total.as_secs_f64()
    );
    for (p, probe) in probes.iter().enumerate() {
        let mine: Vec<&Record> = records.iter().filter(|r| r.probe == p).collect();
        let recovered = match probe.kind {
            Kind::Needs => mine.iter().filter(|r| r.ended >= restored && r.outcome.is_ok()).map(|r| r.ended).min(),
            Kind::Independent => None,
        };
        for r in &mine {
            let allowed = match (&r.outcome, probe.kind, phase(r.ended)) {
                (Outcome::Ok(_), ..) => true,
                (Outcome::Unavailable, Kind::Needs, 1) => true,
                (Outcome::Unavailable, Kind::Needs, 2) => recovered.is_none_or(|at| r.started <= at),
                _ => false,
            };
            if !allowed {
                failures.push(format!(
                    "{} ({}) {} the cut, started at {:.2} s: {}",
                    probe.name,
                    probe.kind.label(),
                    PHASES[phase(r.ended)],
                    r.started.as_secs_f64(),
                    r.outcome.describe()
                ));
            }
        }
        let mut line = format!("  {:<24} {:<11}", probe.name, probe.kind.label());
        for (ph, label) in PHASES.iter().enumerate() {
            let rs: Vec<&&Record> = mine.iter().filter(|r| phase(r.ended) == ph).collect();
            if rs.is_empty() {
                failures.push(format!("{}: no request ended {label} the cut", probe.name));
            }
            let mut counts = BTreeMap::<String, usize>::new();
            for r in &rs {
                *counts.entry(r.outcome.label()).or_default() += 1;
            }
            let counts: Vec<String> = counts.iter().map(|(l, c)| format!("{l}×{c}")).collect();
            let slowest = rs.iter().map(|r| r.ended - r.started).max().unwrap_or_default();
            line += &format!(" | {label} {} [{}] max {:.2} s", rs.len(), counts.join(" "), slowest.as_secs_f64());
        }
        if probe.kind == Kind::Needs {
            if !mine.iter().any(|r| phase(r.ended) == 1 && matches!(r.outcome, Outcome::Unavailable)) {
                failures.push(format!("{}: never a 503 during the cut (is the backend behind the proxy?)", probe.name));
            }
            match recovered {
                Some(at) => {
                    line += &format!(" | recovery {:.2} s", (at - restored).as_secs_f64());
                    if at - restored > RECOVERY_LIMIT {
                        failures.push(format!("{}: recovered only after {:?}", probe.name, at - restored));
                    }
                }
                None => {
                    line += " | no recovery";
                    failures.push(format!("{}: no success within {RECOVERY_LIMIT:?} of the restore", probe.name));
                }
            }
        }
        println!("{line}");
    }
    let ready = srv.operator(Method::GET, "/readyz").timeout(CLIENT_TIMEOUT).send().await.map(|r| r.status());
    if !ready.as_ref().is_ok_and(|s| *s == StatusCode::OK) {
        failures.push(format!("/readyz after the run: {ready:?}"));
    }
    println!("  failures: {}", failures.len());
    assert!(
        failures.is_empty(),
        "{name}: {} failures, e.g.:\n{}",
        failures.len(),
        failures.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
    Run { restored: t0 + restored }
}

/// The `host:port` of a URL like `scheme://[user[:password]@]host:port[/path][?query]`.
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['/', '?']).next().unwrap_or(rest);
    rest.rsplit_once('@').map_or(rest, |(_, host)| host)
}

/// `url` with its `host:port` replaced by the proxy's address.
fn behind(url: &str, proxy: &TcpProxy) -> String {
    url.replacen(authority(url), &proxy.addr.to_string(), 1)
}

/// Takes what a shared list collected.
fn taken<T: Default>(m: &Mutex<T>) -> T {
    std::mem::take(&mut *m.lock().unwrap())
}

/// Every acknowledged comment is stored, read back page by page.
async fn assert_kept(srv: &TestServer, vid: &str, token: &str, acked: &[String]) {
    let mut stored = HashSet::new();
    let mut cursor = String::new();
    loop {
        let path = format!("/api/v1/videos/{vid}/comments?limit=100&cursor={cursor}");
        let res = srv.authed(Method::GET, &path, token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "listing the comments");
        let page = body(res).await;
        let comments = page["comments"].as_array().unwrap();
        stored.extend(comments.iter().filter_map(|c| c["content"].as_str().map(str::to_owned)));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    let lost: Vec<&String> = acked.iter().filter(|c| !stored.contains(*c)).collect();
    println!("  comments: {} acknowledged, {} lost", acked.len(), lost.len());
    assert!(lost.is_empty(), "{} acknowledged comments lost, e.g. {:?}", lost.len(), &lost[..lost.len().min(10)]);
}

/// The database (PostgreSQL) cut for 10 s: whatever reads or writes metadata (discovery,
/// sessions, comments, playback's video row) succeeds or answers a clean 503, `/healthz` keeps
/// answering, no acknowledged comment is lost, and everything works again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage() {
    let Some(db) = TestDb::create(Backend::Postgres).await else { return };
    let proxy = TcpProxy::start(authority(&db.url)).await;
    let srv = TestServer::start(&db, json!({"database_url": behind(&db.url, &proxy), "comments_per_minute": UNLIMITED, "comments_per_day": UNLIMITED})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "under load").await["id"].as_str().unwrap().to_owned();
    let data = fake_mp4(64 * 1024, 41);
    assert_eq!(srv.upload_raw(&vid, &token, data.clone()).await.status(), StatusCode::CREATED);

    let acked = &Mutex::new(Vec::new());
    let (s, t) = (&srv, token.as_str());
    let play = format!("/stream/v1/videos/{vid}");
    let (play, want) = (play.as_str(), &data[100..200]);
    let probes = vec![
        healthz(s),
        videos(Kind::Needs, s),
        me(Kind::Needs, s, t),
        comment(Kind::Needs, s, &vid, t, acked),
        Probe::new("GET video (range)", Kind::Needs, move |_| {
            let req = s.authed(Method::GET, play, t).header("range", "bytes=100-199");
            async move { settle(fetch(req).await, |r| bytes_are(r, StatusCode::PARTIAL_CONTENT, want)) }
        }),
    ];
    outage("database outage (PostgreSQL)", &srv, &proxy, probes).await;
    assert_kept(&srv, &vid, &token, &taken(acked)).await;
    srv.stop().await;
    db.drop_db().await;
}

/// Redis (sessions) cut for 10 s: what needs a session succeeds or answers a clean 503,
/// anonymous reads and `/healthz` keep succeeding, no acknowledged comment is lost, and sessions
/// work again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_under_load() {
    let Some(redis) = redis_url().await else { return };
    let proxy = TcpProxy::start(authority(&redis)).await;
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(
        &db,
        json!({"session_url": behind(&redis, &proxy), "comments_per_minute": UNLIMITED, "comments_per_day": UNLIMITED}),
    )
    .await;
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "under load").await["id"].as_str().unwrap().to_owned();

    let acked = &Mutex::new(Vec::new());
    let (s, t) = (&srv, token.as_str());
    let probes =
        vec![healthz(s), videos(Kind::Independent, s), me(Kind::Needs, s, t), comment(Kind::Needs, s, &vid, t, acked)];
    outage("Redis outage (sessions)", &srv, &proxy, probes).await;
    assert_kept(&srv, &vid, &token, &taken(acked)).await;
    srv.stop().await;
}

/// Waits until every video in `deleted` has its `delete_video` job done; returns how long that
/// took from `since`.
async fn deletions_done(srv: &TestServer, deleted: &[String], since: Instant) -> Duration {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let res = srv.operator(Method::GET, "/api/v1/admin/jobs?limit=1000").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "listing the jobs");
        let jobs = body(res).await;
        let states: HashMap<String, String> = jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["kind"] == "delete_video")
            .filter_map(|j| {
                let payload: Value = serde_json::from_str(j["payload"].as_str()?).ok()?;
                Some((payload["video_id"].as_str()?.to_owned(), j["state"].as_str()?.to_owned()))
            })
            .collect();
        let pending: Vec<(&String, Option<&String>)> =
            deleted.iter().map(|id| (id, states.get(id))).filter(|(_, s)| s.is_none_or(|s| s != "done")).collect();
        if pending.is_empty() {
            return since.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} deletions not done within 60 s, e.g. {:?}",
            pending.len(),
            deleted.len(),
            &pending[..pending.len().min(5)]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// RabbitMQ cut for 10 s: jobs go to the database's outbox first, so every request keeps
/// succeeding, deletions included; the deletion jobs queued meanwhile all run once RabbitMQ is
/// back, and no acknowledged comment is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_outage_under_load() {
    let Some(amqp) = amqp_url().await else { return };
    let proxy = TcpProxy::start(authority(&amqp)).await;
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(&db, json!({"queue_url": behind(&amqp, &proxy), "delete_grace_secs": 1, "comments_per_minute": UNLIMITED, "comments_per_day": UNLIMITED})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "under load").await["id"].as_str().unwrap().to_owned();

    let (acked, deleted) = (&Mutex::new(Vec::new()), &Mutex::new(Vec::new()));
    let (s, t, nm) = (&srv, token.as_str(), name.as_str());
    let probes = vec![
        healthz(s),
        videos(Kind::Independent, s),
        comment(Kind::Independent, s, &vid, t, acked),
        // A throwaway video made for the purpose, then deleted: the delete queues a job.
        Probe::new("POST+DELETE video", Kind::Independent, move |n| async move {
            let create = s.authed(Method::POST, &format!("/api/v1/user/{nm}/videos"), t);
            let id = match fetch(create.json(&json!({"name": format!("throwaway {n}")}))).await {
                Ok(r) if r.status == StatusCode::CREATED => {
                    serde_json::from_slice::<Value>(&r.body).ok().and_then(|v| v["id"].as_str().map(str::to_owned))
                }
                Ok(r) => return Outcome::bad(format!("{} wrong", r.status.as_u16()), "creating the video"),
                Err(o) => return o,
            };
            let Some(id) = id else { return Outcome::bad("201 wrong", "no video id in the answer") };
            let delete = s.authed(Method::DELETE, &format!("/api/v1/user/{nm}/videos/{id}"), t);
            settle(fetch(delete).await, |r| {
                status_is(r, StatusCode::NO_CONTENT)?;
                deleted.lock().unwrap().push(id);
                Ok(())
            })
        }),
    ];
    let run = outage("RabbitMQ outage (jobs)", &srv, &proxy, probes).await;
    let deleted = taken(deleted);
    let took = deletions_done(&srv, &deleted, run.restored).await;
    println!(
        "  deletions: {} acknowledged, every job done {:.1} s after the restore",
        deleted.len(),
        took.as_secs_f64()
    );
    assert_kept(&srv, &vid, &token, &taken(acked)).await;
    srv.stop().await;

    // This test's queues go (through RabbitMQ itself, not the proxy).
    let store = streamvault_metadata::MetadataStore::connect(&db.url, 1).await.unwrap();
    let sql = std::sync::Arc::new(streamvault_metadata::SqlJobQueue::new(store.clone()));
    let q = streamvault_amqp::AmqpJobQueue::connect(&amqp, sql.clone(), sql).await.unwrap();
    q.delete_queues().await.unwrap();
    q.close().await;
    store.close().await;
}

/// 4 KiB of `tag` over and over: distinct bytes for each distinct tag.
fn file_bytes(tag: &str) -> Vec<u8> {
    let line = format!("{tag}\n");
    let mut v = line.repeat(4096 / line.len() + 1).into_bytes();
    v.truncate(4096);
    v
}

/// Object storage (Garage) cut for 10 s, playback proxied: reading a file that is in the bucket
/// succeeds or answers a clean 503; uploads keep succeeding (held on the node's disk, moved
/// later), as do metadata reads and writes; afterwards every file acknowledged meanwhile reaches
/// the bucket and reads back byte for byte, and no acknowledged comment is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_storage_outage_under_load() {
    let Some(s3) = S3Target::find().await else { return };
    let root = s3.unique_root();
    let proxy = TcpProxy::start(authority(&s3.endpoint)).await;
    let mut via_proxy = s3.clone();
    via_proxy.endpoint = behind(&s3.endpoint, &proxy);
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = TestServer::start(&db, json!({"storage_url": via_proxy.storage_url(&root), "playback": "proxy", "comments_per_minute": UNLIMITED, "comments_per_day": UNLIMITED})).await;
    let name = user();
    let token = srv.signup(&name).await;
    let vid = srv.create_video(&name, &token, "under load").await["id"].as_str().unwrap().to_owned();
    let run_tag = unique_name("f");
    let first = file_bytes(&format!("{run_tag} first"));
    let res =
        srv.authed(Method::POST, "/stream/v1/files?name=first.bin", &token).body(first.clone()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let first_id = body(res).await["id"].as_str().unwrap().to_owned();
    assert!(transferred(&srv, 100, Duration::from_millis(100)).await, "the first file reached the bucket");

    let (acked, uploads) = (&Mutex::new(Vec::new()), &Mutex::new(Vec::<(String, Vec<u8>)>::new()));
    let (s, t, tag) = (&srv, token.as_str(), run_tag.as_str());
    let download = format!("/stream/v1/files/{first_id}");
    let (download, want) = (download.as_str(), first.as_slice());
    let probes = vec![
        videos(Kind::Independent, s),
        comment(Kind::Independent, s, &vid, t, acked),
        Probe::new("POST file", Kind::Independent, move |n| {
            let data = file_bytes(&format!("{tag} #{n}"));
            let req = s.authed(Method::POST, &format!("/stream/v1/files?name=load-{n}.bin"), t).body(data.clone());
            async move {
                settle(fetch(req).await, |r| {
                    status_is(r, StatusCode::CREATED)?;
                    let answer: Value = serde_json::from_slice(&r.body).unwrap_or_default();
                    let id = answer["id"].as_str().ok_or("no file id in the answer")?;
                    uploads.lock().unwrap().push((id.to_owned(), data));
                    Ok(())
                })
            }
        }),
        Probe::new("GET file (proxied)", Kind::Needs, move |_| {
            let req = s.authed(Method::GET, download, t);
            async move { settle(fetch(req).await, |r| bytes_are(r, StatusCode::OK, want)) }
        }),
    ];
    let run = outage("object storage outage (Garage, proxied playback)", &srv, &proxy, probes).await;

    assert!(
        transferred(&srv, 300, Duration::from_millis(100)).await,
        "held uploads reached the bucket after the outage"
    );
    let moved = run.restored.elapsed();
    let uploads = taken(uploads);
    let mut wrong = Vec::new();
    for (id, data) in &uploads {
        let res = srv.authed(Method::GET, &format!("/stream/v1/files/{id}"), &token).send().await.unwrap();
        let status = res.status();
        let got = res.bytes().await.unwrap();
        if status != StatusCode::OK || got.as_ref() != data.as_slice() {
            wrong.push(format!("{id}: {status}, {} bytes", got.len()));
        }
    }
    println!(
        "  files: {} uploads acknowledged, all in the bucket {:.1} s after the restore, {} not read back intact",
        uploads.len(),
        moved.as_secs_f64(),
        wrong.len()
    );
    assert!(wrong.is_empty(), "acknowledged uploads not read back intact: {wrong:?}");
    assert_kept(&srv, &vid, &token, &taken(acked)).await;
    srv.stop().await;

    let _ = bucket(&s3, &root).delete_with("/").recursive(true).await;
}
