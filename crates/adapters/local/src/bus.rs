//! The event bus of a single replica: delivery within the process.

use async_trait::async_trait;
use bytes::Bytes;
use streamvault_core::Result;
use streamvault_core::ports::{EventBus, Fanout, Subscription};

#[derive(Default)]
pub struct LocalBus {
    fanout: Fanout,
}

impl LocalBus {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl EventBus for LocalBus {
    async fn publish(&self, topic: &str, message: Bytes) -> Result<()> {
        self.fanout.deliver(topic, message);
        Ok(())
    }

    fn subscribe(&self, topic: &str) -> Subscription {
        self.fanout.subscribe(topic)
    }
}
