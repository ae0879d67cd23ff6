//! The Redis adapters against the real Redis, held to the same contract as the SQL ones.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use streamvault_core::ports::EventBus;

use streamvault_core::ports::{Scope, Stamps};
use streamvault_metadata::{MetadataStore, SqlUserRepo};
use streamvault_redis::{RedisBus, RedisClient, RedisLoginThrottle, RedisSessionStore, RedisStamps, RedisViewers};
use streamvault_testkit::{Backend, TcpProxy, TestDb, contract, redis_url, unique_name};

#[tokio::test]
async fn session_store_contract() {
    let Some(url) = redis_url().await else { return };
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let meta = MetadataStore::connect(&db.url, 2).await.unwrap();
    meta.migrate().await.unwrap();
    let redis = RedisClient::connect(&url, &unique_name("svtest:")).await.unwrap();
    contract::session_store(Arc::new(RedisSessionStore::new(redis.clone())), Arc::new(SqlUserRepo::new(meta))).await;
    redis.quit().await;
}

#[tokio::test]
async fn login_throttle_contract_across_clients() {
    let Some(url) = redis_url().await else { return };
    let prefix = unique_name("svtest:");
    let a = RedisLoginThrottle::new(RedisClient::connect(&url, &prefix).await.unwrap());
    let b = RedisLoginThrottle::new(RedisClient::connect(&url, &prefix).await.unwrap());
    // Two clients of one Redis stand for two replicas: every count is shared.
    contract::login_throttle(Arc::new(a), Arc::new(b)).await;
}

#[tokio::test]
async fn event_bus_across_replicas() {
    let Some(url) = redis_url().await else { return };
    let prefix = unique_name("svtest:");
    // Two connections of one prefix stand for two replicas.
    let a = RedisBus::connect(&url, &prefix).await.unwrap();
    let b = RedisBus::connect(&url, &prefix).await.unwrap();
    let (a, b) = (Arc::new(a), Arc::new(b));
    contract::event_bus(a.clone(), b.clone()).await;
    a.quit().await;
    b.quit().await;
}

#[tokio::test]
async fn viewer_registry_across_replicas() {
    let Some(url) = redis_url().await else { return };
    let prefix = unique_name("svtest:");
    let a = RedisViewers::new(RedisClient::connect(&url, &prefix).await.unwrap());
    let b = RedisViewers::new(RedisClient::connect(&url, &prefix).await.unwrap());
    contract::viewer_registry(Arc::new(a), Arc::new(b)).await;
}

#[tokio::test]
async fn stamps_across_replicas() {
    let Some(url) = redis_url().await else { return };
    let prefix = unique_name("svtest:");
    let a = RedisStamps::new(RedisClient::connect(&url, &prefix).await.unwrap());
    let b = RedisStamps::new(RedisClient::connect(&url, &prefix).await.unwrap());
    contract::stamps(Arc::new(a.clone()), Arc::new(b)).await;
    // Reads of scopes never written create nothing in Redis.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new("redis-cli").arg("-u").arg(&url).args(args).output().unwrap();
        assert!(out.status.success(), "redis-cli {args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let count = || cli(&["--scan", "--pattern", &format!("{prefix}stamp*")]).lines().count();
    let before_reads = count();
    for _ in 0..50 {
        a.current(&[Scope::Comments(<streamvault_core::ids::VideoId as streamvault_core::ids::Id>::new())])
            .await
            .unwrap();
    }
    assert_eq!(count(), before_reads, "reads of unknown scopes made keys");
    // Redis restarted empty: the next read makes a new epoch, never the old values again.
    let scope = [Scope::Video(<streamvault_core::ids::VideoId as streamvault_core::ids::Id>::new())];
    let before = a.current(&scope).await.unwrap();
    let keys = cli(&["--scan", "--pattern", &format!("{prefix}stamp*")]);
    let keys: Vec<&str> = keys.lines().collect();
    assert!(!keys.is_empty());
    cli(&[&["DEL"][..], &keys].concat());
    assert_ne!(a.current(&scope).await.unwrap(), before);
}

/// The stamps as the app wires them on Redis: each replica's reads coalesced
/// (`reads::CoalescedStamps`) keep the contract, and many reads at once, some just after a
/// write through the other replica, each see every write that finished before they began.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coalesced_stamps_across_replicas() {
    use streamvault_core::reads::CoalescedStamps;
    let Some(url) = redis_url().await else { return };
    let prefix = unique_name("svtest:");
    // The production bound on one call is 250 ms; a loaded test machine can take longer, and
    // a read that times out fails here (this test is about exactness, not the bound).
    let stamps = |client| {
        Arc::new(CoalescedStamps::with_timeout(Arc::new(RedisStamps::new(client)), std::time::Duration::from_secs(5)))
    };
    let a = stamps(RedisClient::connect(&url, &prefix).await.unwrap());
    let b = stamps(RedisClient::connect(&url, &prefix).await.unwrap());
    contract::stamps(a.clone(), b.clone()).await;
    let scope = [Scope::Video(<streamvault_core::ids::VideoId as streamvault_core::ids::Id>::new())];
    for _ in 0..20 {
        let before = b.current(&scope).await.unwrap();
        // Reads on b keep going while a writes; the ones begun after the write must see it.
        let noise: Vec<_> = (0..50)
            .map(|_| {
                let b = b.clone();
                tokio::spawn(async move { b.current(&scope).await.unwrap() })
            })
            .collect();
        a.bump(&scope).await.unwrap();
        let after = futures::future::join_all((0..20).map(|_| b.current(&scope))).await;
        for read in after {
            assert_ne!(read.unwrap(), before, "a read begun after the write missed it");
        }
        for n in noise {
            n.await.unwrap();
        }
    }
}

/// A replica whose Redis connection drops (a restart, a network cut) subscribes again when it
/// is back: its subscribers keep their subscription and hear what is published afterwards.
#[tokio::test]
async fn event_bus_survives_a_redis_reconnect() {
    let Some(url) = redis_url().await else { return };
    let proxy = TcpProxy::start(url.trim_start_matches("redis://")).await;
    let prefix = unique_name("svtest:");
    let listener = RedisBus::connect(&format!("redis://{}", proxy.addr), &prefix).await.unwrap();
    let speaker = RedisBus::connect(&url, &prefix).await.unwrap();
    let topic = unique_name("video:");
    let mut sub = listener.subscribe(&topic);
    speaker.publish(&topic, Bytes::from_static(b"before")).await.unwrap();
    assert_eq!(recv(&mut sub).await, "before");

    proxy.cut();
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.restore().await;
    // Published until the listener is subscribed again: the first may be missed (hints), so
    // keep speaking until one arrives.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut heard = None;
    while heard.is_none() && Instant::now() < deadline {
        speaker.publish(&topic, Bytes::from_static(b"after")).await.unwrap();
        heard = tokio::time::timeout(Duration::from_millis(200), sub.recv()).await.ok();
    }
    assert_eq!(heard.expect("heard again after the reconnect").unwrap(), "after");
    listener.quit().await;
    speaker.quit().await;
}

async fn recv(sub: &mut streamvault_core::ports::Subscription) -> Bytes {
    tokio::time::timeout(Duration::from_secs(2), sub.recv()).await.expect("in time").unwrap()
}
