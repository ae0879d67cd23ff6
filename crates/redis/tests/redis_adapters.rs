//! The Redis adapters against the real Redis, held to the same contract as the SQL ones.

use std::sync::Arc;
use std::time::Duration;

use streamvault_core::ports::LoginThrottle;
use streamvault_core::ports::throttle::ThrottlePolicy;
use streamvault_metadata::{MetadataStore, SqlUserRepo};
use streamvault_redis::{RedisClient, RedisLoginThrottle, RedisSessionStore};
use streamvault_testkit::{Backend, TestDb, contract, redis_url, unique_name};

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
async fn throttle_is_shared_between_clients() {
    let Some(url) = redis_url().await else { return };
    let prefix = unique_name("svtest:");
    let policy = ThrottlePolicy { max_failures: 3, window: Duration::from_secs(2) };
    let a = RedisLoginThrottle::new(RedisClient::connect(&url, &prefix).await.unwrap(), policy);
    let b = RedisLoginThrottle::new(RedisClient::connect(&url, &prefix).await.unwrap(), policy);
    assert_eq!(a.record_failure("carol").await.unwrap(), None);
    assert_eq!(b.record_failure("carol").await.unwrap(), None);
    assert_eq!(a.record_failure("carol").await.unwrap(), None);
    assert_eq!(b.locked_for("carol").await.unwrap(), None);
    let wait = b.record_failure("carol").await.unwrap().expect("fourth failure, on either replica, locks");
    assert!(wait <= Duration::from_secs(2));
    assert!(a.locked_for("carol").await.unwrap().is_some());
    assert_eq!(a.locked_for("dave").await.unwrap(), None);
    tokio::time::sleep(wait + Duration::from_millis(100)).await;
    assert_eq!(a.locked_for("carol").await.unwrap(), None, "the lock lifts when the window ends");
    b.record_failure("erin").await.unwrap();
    a.reset("erin").await.unwrap();
    assert_eq!(b.locked_for("erin").await.unwrap(), None);
}
