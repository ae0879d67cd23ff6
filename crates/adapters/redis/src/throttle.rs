use std::time::Duration;

use async_trait::async_trait;
use fred::prelude::{KeysInterface, LuaInterface};
use streamvault_core::Result;
use streamvault_core::ports::{Limit, LoginThrottle};

use crate::client::{RedisClient, redis_err};

/// Login attempts counted for all replicas: a fixed window per key, counted and checked with
/// one atomic script (INCR, and PEXPIRE on the first attempt), so concurrent attempts on any
/// replicas cannot all pass. No maintained crate implements a Redis-backed limiter on fred,
/// and the pattern is three commands.
#[derive(Clone)]
pub struct RedisLoginThrottle {
    redis: RedisClient,
}

const ATTEMPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
";

/// Takes one attempt back, never below zero, keeping the window's expiry.
const FORGIVE: &str = r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return 0
";

impl RedisLoginThrottle {
    pub fn new(redis: RedisClient) -> Self {
        Self { redis }
    }

    fn key(&self, key: &str) -> String {
        self.redis.key(&["login-attempts", key])
    }
}

#[async_trait]
impl LoginThrottle for RedisLoginThrottle {
    async fn attempt(&self, key: &str, limit: Limit) -> Result<Option<Duration>> {
        let window = i64::try_from(limit.window.as_millis()).unwrap_or(i64::MAX);
        let (n, pttl): (i64, i64) =
            self.redis.client.eval(ATTEMPT, vec![self.key(key)], vec![window]).await.map_err(redis_err)?;
        Ok((n > i64::from(limit.max)).then(|| Duration::from_millis(u64::try_from(pttl).unwrap_or(0).max(1))))
    }

    async fn forgive(&self, key: &str) -> Result<()> {
        let _: i64 =
            self.redis.client.eval(FORGIVE, vec![self.key(key)], Vec::<i64>::new()).await.map_err(redis_err)?;
        Ok(())
    }

    async fn reset(&self, key: &str) -> Result<()> {
        self.redis.client.del::<(), _>(self.key(key)).await.map_err(redis_err)
    }
}
