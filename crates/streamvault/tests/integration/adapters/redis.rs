//! The Redis adapters against the real Redis, held to the same contract as the SQL ones.

use std::sync::Arc;

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
async fn login_throttle_contract_across_clients() {
    let Some(url) = redis_url().await else { return };
    let prefix = unique_name("svtest:");
    let a = RedisLoginThrottle::new(RedisClient::connect(&url, &prefix).await.unwrap());
    let b = RedisLoginThrottle::new(RedisClient::connect(&url, &prefix).await.unwrap());
    // Two clients of one Redis stand for two replicas: every count is shared.
    contract::login_throttle(Arc::new(a), Arc::new(b)).await;
}
