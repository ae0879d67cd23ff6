//! Viewer counts shared by every replica: a sorted set per video (viewer → last heartbeat, in
//! Redis's own clock so replicas' clocks do not matter), trimmed and counted in one script.

use std::time::Duration;

use async_trait::async_trait;
use fred::prelude::LuaInterface;
use streamvault_core::Result;
use streamvault_core::ids::VideoId;
use streamvault_core::ports::{ViewRun, ViewerRegistry, Watching};

use crate::client::{RedisClient, redis_err};

/// KEYS: the viewers' set, the peak. ARGV: ttl in ms, the viewer ('' to only count).
const COUNT: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local ttl = tonumber(ARGV[1])
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[1], now, ARGV[2]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
local n = redis.call('ZCARD', KEYS[1])
if n > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
local peak = tonumber(redis.call('GET', KEYS[2]) or '0')
if n > peak then
  peak = n
  redis.call('SET', KEYS[2], peak)
end
return {n, peak}
";

/// KEYS: the viewer's run (a hash: since, last), its counted mark. ARGV: need, gap, again (ms).
/// A run is broken by a gap longer than `gap`; a counted mark keeps the next view away.
const WATCHED: &str = r"
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local need, gap, again = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local run = redis.call('HMGET', KEYS[1], 'since', 'last')
local since, last = tonumber(run[1]), tonumber(run[2])
if not since or not last or now - last > gap then since = now end
if now - since >= need then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', again)
  return 1
end
redis.call('HSET', KEYS[1], 'since', since, 'last', now)
redis.call('PEXPIRE', KEYS[1], gap)
return 0
";

#[derive(Clone)]
pub struct RedisViewers {
    redis: RedisClient,
}

impl RedisViewers {
    pub fn new(redis: RedisClient) -> Self {
        Self { redis }
    }

    async fn count(&self, video: VideoId, viewer: &str, ttl: Duration) -> Result<Watching> {
        let id = video.to_string();
        let keys = vec![self.redis.key(&["viewers", &id]), self.redis.key(&["viewers-peak", &id])];
        let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).to_string();
        let (now, peak): (u64, u64) =
            self.redis.client.eval(COUNT, keys, vec![ttl, viewer.to_owned()]).await.map_err(redis_err)?;
        Ok(Watching { now, peak })
    }
}

#[async_trait]
impl ViewerRegistry for RedisViewers {
    async fn heartbeat(&self, video: VideoId, viewer: &str, ttl: Duration) -> Result<Watching> {
        self.count(video, viewer, ttl).await
    }

    async fn watching(&self, video: VideoId, ttl: Duration) -> Result<Watching> {
        self.count(video, "", ttl).await
    }

    async fn watched(&self, video: VideoId, viewer: &str, run: ViewRun) -> Result<bool> {
        let id = video.to_string();
        let keys = vec![self.redis.key(&["view-run", &id, viewer]), self.redis.key(&["view-counted", &id, viewer])];
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1).to_string();
        let counted: i64 = self
            .redis
            .client
            .eval(WATCHED, keys, vec![ms(run.need), ms(run.gap), ms(run.again)])
            .await
            .map_err(redis_err)?;
        Ok(counted == 1)
    }
}
