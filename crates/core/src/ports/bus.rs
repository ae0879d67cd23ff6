//! The event bus: hints from one replica to the others (live events for viewers now;
//! notifications and cache invalidations later). A message is a hint, never the record: the
//! record is in the database, and a receiver that missed messages catches up from it.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::broadcast;

use crate::Result;

/// How many messages a subscriber may fall behind before it misses some. A slow receiver is
/// cut off from what it missed, never buffered without bound.
pub const SUBSCRIBER_BACKLOG: usize = 256;

#[async_trait]
pub trait EventBus: Send + Sync {
    /// Sends `message` to every subscriber of `topic`, on every replica. At most once: a
    /// replica that is not listening (or a broker that is down) misses it.
    async fn publish(&self, topic: &str, message: Bytes) -> Result<()>;
    /// The messages published on `topic` from now on, from any replica.
    fn subscribe(&self, topic: &str) -> Subscription;
}

/// What a subscriber did not get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// It fell this many messages behind, and they were dropped for it.
    Lagged(u64),
    /// The bus is gone (the process is stopping).
    Closed,
}

/// One subscriber's messages on one topic.
pub struct Subscription {
    rx: broadcast::Receiver<Bytes>,
}

impl Subscription {
    /// The next message.
    pub async fn recv(&mut self) -> std::result::Result<Bytes, Missed> {
        self.rx.recv().await.map_err(|e| match e {
            broadcast::error::RecvError::Lagged(n) => Missed::Lagged(n),
            broadcast::error::RecvError::Closed => Missed::Closed,
        })
    }
}

/// Delivery to this process's subscribers, by topic: what an in-process bus is, and where a
/// broker-backed one hands what it receives. A topic lives while someone listens.
pub struct Fanout {
    topics: Mutex<HashMap<String, broadcast::Sender<Bytes>>>,
}

impl Default for Fanout {
    fn default() -> Self {
        Self { topics: Mutex::new(HashMap::new()) }
    }
}

impl Fanout {
    pub fn subscribe(&self, topic: &str) -> Subscription {
        let mut topics = self.topics.lock().expect("fanout lock");
        if topics.len() >= 1024 && topics.len().is_power_of_two() {
            // Forget topics nobody listens to any more (amortised: at each doubling).
            topics.retain(|_, tx| tx.receiver_count() > 0);
        }
        let tx = topics.entry(topic.to_owned()).or_insert_with(|| broadcast::channel(SUBSCRIBER_BACKLOG).0);
        Subscription { rx: tx.subscribe() }
    }

    /// Hands `message` to this process's subscribers of `topic`, if there are any.
    pub fn deliver(&self, topic: &str, message: Bytes) {
        let mut topics = self.topics.lock().expect("fanout lock");
        if let Some(tx) = topics.get(topic)
            && tx.send(message).is_err()
        {
            // Nobody listens any more.
            topics.remove(topic);
        }
    }

    /// Topics with a subscriber, for metrics and tests.
    pub fn topics(&self) -> usize {
        self.topics.lock().expect("fanout lock").values().filter(|tx| tx.receiver_count() > 0).count()
    }
}
