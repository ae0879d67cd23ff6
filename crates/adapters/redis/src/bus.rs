//! The event bus across replicas: Redis pub/sub. Each replica keeps one subscriber connection
//! on a pattern of its prefix and hands what arrives to its own subscribers ([`Fanout`]), so
//! the number of viewers costs Redis nothing. fred reconnects and subscribes again after a
//! Redis restart; what was published meanwhile is missed (messages are hints).

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use fred::clients::SubscriberClient;
use fred::prelude::{Client, ClientLike, EventInterface, PubsubInterface};
use streamvault_core::ports::{EventBus, Fanout, HealthCheck, Subscription};
use streamvault_core::{Error, Result};
use tokio::task::JoinHandle;

use crate::client::{builder, init, redis_err};

pub struct RedisBus {
    publisher: Client,
    subscriber: SubscriberClient,
    channels: String,
    fanout: Arc<Fanout>,
    tasks: Vec<JoinHandle<()>>,
}

impl RedisBus {
    /// Connects the publisher and the subscriber; channels are `{prefix}bus:{topic}`.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        let publisher = builder(url)?.build().map_err(|e| Error::unavailable("redis", e))?;
        let subscriber = builder(url)?.build_subscriber_client().map_err(|e| Error::unavailable("redis", e))?;
        init(&publisher).await?;
        init(&subscriber).await?;
        let channels = format!("{prefix}bus:");
        let fanout = Arc::new(Fanout::default());
        let mut rx = subscriber.message_rx();
        let reader = {
            let (fanout, channels) = (fanout.clone(), channels.clone());
            tokio::spawn(async move {
                loop {
                    match rx.recv().await {
                        Ok(m) => {
                            let (Some(topic), Some(bytes)) = (m.channel.strip_prefix(&channels), m.value.as_bytes())
                            else {
                                continue;
                            };
                            fanout.deliver(topic, Bytes::copy_from_slice(bytes));
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!(missed = n, "event bus: messages from Redis dropped (reader behind)");
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                            // The client is gone (it was quit): subscribers hear that it ended.
                            tracing::info!("event bus: the Redis subscriber closed");
                            fanout.close();
                            break;
                        }
                    }
                }
            })
        };
        // Subscribes again after every reconnect (a Redis restart drops subscriptions).
        let resubscribe = subscriber.manage_subscriptions();
        subscriber.psubscribe(format!("{channels}*")).await.map_err(redis_err)?;
        Ok(Self { publisher, subscriber, channels, fanout, tasks: vec![reader, resubscribe] })
    }

    pub async fn quit(&self) {
        for t in &self.tasks {
            t.abort();
        }
        let _ = self.subscriber.quit().await;
        let _ = self.publisher.quit().await;
    }
}

#[async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, topic: &str, message: Bytes) -> Result<()> {
        self.publisher.publish::<i64, _, _>(format!("{}{topic}", self.channels), message).await.map_err(redis_err)?;
        Ok(())
    }

    fn subscribe(&self, topic: &str) -> Subscription {
        self.fanout.subscribe(topic)
    }
}

#[async_trait]
impl HealthCheck for RedisBus {
    fn name(&self) -> &'static str {
        "event bus"
    }

    /// Publishing works, and this replica still listens: its subscriber is connected and the
    /// task that hands messages on is running.
    async fn check(&self) -> Result<()> {
        self.publisher.ping::<String>(None).await.map_err(redis_err)?;
        if !self.subscriber.is_connected() || self.tasks.iter().any(|t| t.is_finished()) {
            return Err(Error::retry_later("event bus: this replica's subscriber is not listening"));
        }
        Ok(())
    }
}
