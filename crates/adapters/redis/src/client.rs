use std::time::Duration;

use async_trait::async_trait;
use fred::prelude::{Builder, Client, ClientLike, Config, ReconnectPolicy};
use streamvault_core::ports::HealthCheck;
use streamvault_core::{Error, Result};

/// One multiplexed, auto-reconnecting connection. Commands time out instead of queueing
/// forever while Redis is down, so requests fail fast with 503.
#[derive(Clone)]
pub struct RedisClient {
    pub(crate) client: Client,
    pub(crate) prefix: String,
}

impl RedisClient {
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        let client = builder(url)?.build().map_err(|e| Error::unavailable("redis", e))?;
        init(&client).await?;
        Ok(Self { client, prefix: prefix.to_owned() })
    }

    pub(crate) fn key(&self, parts: &[&str]) -> String {
        let mut k = self.prefix.clone();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                k.push(':');
            }
            k.push_str(p);
        }
        k
    }

    pub async fn quit(&self) {
        let _ = self.client.quit().await;
    }
}

/// Every connection of ours: commands time out instead of queueing while Redis is down, and a
/// lost connection is made again with backoff.
pub(crate) fn builder(url: &str) -> Result<Builder> {
    let config = Config::from_url(url).map_err(|e| Error::unavailable("redis", e))?;
    let mut b = Builder::from_config(config);
    b.with_connection_config(|c| {
        c.connection_timeout = Duration::from_secs(3);
        c.internal_command_timeout = Duration::from_secs(3);
    })
    .with_performance_config(|p| {
        p.default_command_timeout = Duration::from_secs(3);
        // A pub/sub reader must not fall behind a burst of messages.
        p.broadcast_channel_capacity = 4096;
    })
    .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2));
    Ok(b)
}

/// Connects, or fails within five seconds.
pub(crate) async fn init(client: &impl ClientLike) -> Result<()> {
    match tokio::time::timeout(Duration::from_secs(5), client.init()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Error::unavailable("redis", e)),
        Err(_) => Err(Error::retry_later("redis: connection timed out")),
    }
}

pub(crate) fn redis_err(e: fred::error::Error) -> Error {
    Error::unavailable("redis", e)
}

#[async_trait]
impl HealthCheck for RedisClient {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn check(&self) -> Result<()> {
        self.client.ping::<String>(None).await.map(|_| ()).map_err(redis_err)
    }
}
