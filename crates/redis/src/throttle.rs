use std::time::Duration;

use async_trait::async_trait;
use fred::prelude::{KeysInterface, LuaInterface};
use streamvault_core::Result;
use streamvault_core::ports::LoginThrottle;
use streamvault_core::ports::throttle::ThrottlePolicy;

use crate::client::{RedisClient, redis_err};

/// Failed-login counting shared by all replicas: a fixed window per account, counted with one
/// atomic script (INCR, and PEXPIRE on the first failure). No maintained crate implements a
/// Redis-backed limiter on fred, and the pattern is three commands.
#[derive(Clone)]
pub struct RedisLoginThrottle {
    redis: RedisClient,
    policy: ThrottlePolicy,
}

const RECORD: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
";

impl RedisLoginThrottle {
    pub fn new(redis: RedisClient, policy: ThrottlePolicy) -> Self {
        Self { redis, policy }
    }

    fn key(&self, account: &str) -> String {
        self.redis.key(&["login-failures", account])
    }

    fn retry_after(pttl: i64) -> Duration {
        Duration::from_millis(u64::try_from(pttl).unwrap_or(0).max(1))
    }
}

#[async_trait]
impl LoginThrottle for RedisLoginThrottle {
    async fn locked_for(&self, account: &str) -> Result<Option<Duration>> {
        let key = self.key(account);
        let n: Option<i64> = self.redis.client.get(&key).await.map_err(redis_err)?;
        if n.unwrap_or(0) <= i64::from(self.policy.max_failures) {
            return Ok(None);
        }
        let pttl: i64 = self.redis.client.pttl(&key).await.map_err(redis_err)?;
        Ok((pttl > 0).then(|| Self::retry_after(pttl)))
    }

    async fn record_failure(&self, account: &str) -> Result<Option<Duration>> {
        let window = i64::try_from(self.policy.window.as_millis()).unwrap_or(i64::MAX);
        let (n, pttl): (i64, i64) =
            self.redis.client.eval(RECORD, vec![self.key(account)], vec![window]).await.map_err(redis_err)?;
        Ok((n > i64::from(self.policy.max_failures)).then(|| Self::retry_after(pttl)))
    }

    async fn reset(&self, account: &str) -> Result<()> {
        self.redis.client.del::<(), _>(self.key(account)).await.map_err(redis_err)
    }
}
