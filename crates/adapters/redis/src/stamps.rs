//! Stamps shared by every replica: a scope's stamp is a Redis string holding a random value,
//! replaced by each write. Reads never create keys (a flood of reads of made-up ids must not
//! fill Redis): a scope never written, or whose key expired, reads as the store's *epoch*, one
//! random value made once. A Redis restarted empty gets a new epoch, so it can never bring back
//! a value some replica's kept read was built under.
//!
//! Each call is bounded to [`STAMP_TIMEOUT`]: a Redis that hangs costs a read its cache, not
//! seconds (the read is then built, see `reads`).

use std::time::Duration;

use async_trait::async_trait;
use fred::prelude::{KeysInterface, LuaInterface};
use streamvault_core::ports::{Scope, Stamps};
use streamvault_core::{Error, Result};

use crate::client::{RedisClient, redis_err};

/// A key unchanged this long is let go (it then reads as the epoch): reads kept in replicas
/// live far shorter (`STREAMVAULT_READ_CACHE_SECS`).
const KEY_TTL_SECS: &str = "86400";
/// The longest a stamp call may take.
pub const STAMP_TIMEOUT: Duration = Duration::from_millis(250);

/// KEYS: the epoch. ARGV: a fresh random value. Makes the epoch if there is none; returns it.
const EPOCH: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then
  v = ARGV[1]
  redis.call('SET', KEYS[1], v)
end
return v
";

#[derive(Clone)]
pub struct RedisStamps {
    redis: RedisClient,
}

impl RedisStamps {
    pub fn new(redis: RedisClient) -> Self {
        Self { redis }
    }

    fn keys(&self, scopes: &[Scope]) -> Vec<String> {
        scopes.iter().map(|s| self.redis.key(&["stamp", &s.key()])).collect()
    }

    async fn bounded<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(STAMP_TIMEOUT, call)
            .await
            .map_err(|_| Error::unavailable("redis", std::io::Error::from(std::io::ErrorKind::TimedOut)))?
    }

    async fn read(&self, scopes: &[Scope]) -> Result<Vec<u64>> {
        let epoch_key = self.redis.key(&["stamp-epoch"]);
        let keys: Vec<String> = std::iter::once(epoch_key.clone()).chain(self.keys(scopes)).collect();
        let mut values: Vec<Option<String>> = self.redis.client.mget(keys).await.map_err(redis_err)?;
        let epoch = match values.first_mut().and_then(Option::take) {
            Some(epoch) => epoch,
            None => self
                .redis
                .client
                .eval(EPOCH, vec![epoch_key], vec![rand::random::<u64>().to_string()])
                .await
                .map_err(redis_err)?,
        };
        Ok(values.iter().skip(1).map(|v| v.as_deref().unwrap_or(&epoch).parse().unwrap_or_default()).collect())
    }
}

#[async_trait]
impl Stamps for RedisStamps {
    async fn current(&self, scopes: &[Scope]) -> Result<Vec<u64>> {
        self.bounded(self.read(scopes)).await
    }

    async fn bump(&self, scopes: &[Scope]) -> Result<()> {
        // A fresh random value per key, set in one script so the keys change together.
        let mut args = vec![KEY_TTL_SECS.to_owned()];
        args.extend(scopes.iter().map(|_| rand::random::<u64>().to_string()));
        let keys = self.keys(scopes);
        self.bounded(async {
            let _: () = self
                .redis
                .client
                .eval("for i, k in ipairs(KEYS) do redis.call('SET', k, ARGV[i + 1], 'EX', ARGV[1]) end", keys, args)
                .await
                .map_err(redis_err)?;
            Ok(())
        })
        .await
    }
}
