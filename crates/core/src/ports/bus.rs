//! The event bus: hints from one replica to the others (live events for viewers now;
//! notifications and cache invalidations later). A message is a hint, never the record: the
//! record is in the database, and a receiver that missed messages catches up from it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

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

type Topics = Mutex<HashMap<String, broadcast::Sender<Bytes>>>;

/// One subscriber's messages on one topic. Dropping it leaves the topic; the last to leave
/// takes the topic with it.
pub struct Subscription {
    rx: broadcast::Receiver<Bytes>,
    topic: String,
    topics: Weak<Topics>,
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

impl Drop for Subscription {
    fn drop(&mut self) {
        let Some(topics) = self.topics.upgrade() else { return };
        let mut topics = topics.lock().expect("fanout lock");
        // This receiver is still counted: it is the last when the count is one.
        if topics.get(&self.topic).is_some_and(|tx| tx.receiver_count() <= 1) {
            topics.remove(&self.topic);
        }
    }
}

/// Delivery to this process's subscribers, by topic: what an in-process bus is, and where a
/// broker-backed one hands what it receives. A topic lives while someone listens.
#[derive(Default)]
pub struct Fanout {
    topics: Arc<Topics>,
}

impl Fanout {
    pub fn subscribe(&self, topic: &str) -> Subscription {
        let mut topics = self.topics.lock().expect("fanout lock");
        let tx = topics.entry(topic.to_owned()).or_insert_with(|| broadcast::channel(SUBSCRIBER_BACKLOG).0);
        Subscription { rx: tx.subscribe(), topic: topic.to_owned(), topics: Arc::downgrade(&self.topics) }
    }

    /// Hands `message` to this process's subscribers of `topic`, if there are any.
    pub fn deliver(&self, topic: &str, message: Bytes) {
        if let Some(tx) = self.topics.lock().expect("fanout lock").get(topic) {
            // No receiver left only between a last drop and its removal: nothing to do.
            let _ = tx.send(message);
        }
    }

    /// Topics someone listens to.
    pub fn topics(&self) -> usize {
        self.topics.lock().expect("fanout lock").len()
    }

    /// Ends every subscription (they get [`Missed::Closed`]): the source of messages is gone.
    pub fn close(&self) {
        self.topics.lock().expect("fanout lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn topics_live_while_someone_listens() {
        let f = Fanout::default();
        let mut a = f.subscribe("t");
        let b = f.subscribe("t");
        assert_eq!(f.topics(), 1);
        f.deliver("t", Bytes::from_static(b"x"));
        assert_eq!(a.recv().await.unwrap(), "x");
        drop(b);
        assert_eq!(f.topics(), 1, "a still listens");
        drop(a);
        assert_eq!(f.topics(), 0, "the last one took the topic");
        let mut c = f.subscribe("u");
        f.close();
        assert_eq!(c.recv().await, Err(Missed::Closed));
    }
}
