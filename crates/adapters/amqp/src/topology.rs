//! Queue names and declarations.

use lapin::options::QueueDeclareOptions;
use lapin::types::{AMQPValue, FieldTable};
use streamvault_core::{Error, Result};

/// How long retries wait, in tiers: a retry goes to the longest tier that does not overshoot
/// its time and, if it comes back early, round again. Per-queue TTLs keep each tier FIFO, so a
/// long wait never holds a short one up (per-message TTLs only expire at the head of a queue).
const DELAY_TIERS_MS: [u64; 6] = [100, 1_000, 10_000, 60_000, 600_000, 3_600_000];

/// The queues of one deployment, named from a prefix (`?prefix=` on the queue URL).
#[derive(Debug, Clone)]
pub struct Topology {
    pub jobs: String,
    pub dead: String,
    delays: Vec<(u64, String)>,
}

impl Topology {
    pub fn new(prefix: &str) -> Self {
        Self {
            jobs: format!("{prefix}.jobs"),
            dead: format!("{prefix}.jobs.dead"),
            delays: DELAY_TIERS_MS.iter().map(|ms| (*ms, format!("{prefix}.jobs.delay.{ms}ms"))).collect(),
        }
    }

    /// The queue to publish to for a job due in `wait_ms`: the work queue when due.
    pub fn queue_for(&self, wait_ms: i64) -> &str {
        if wait_ms <= 20 {
            return &self.jobs;
        }
        let wait = u64::try_from(wait_ms).unwrap_or(0);
        let tier = self.delays.iter().rev().find(|(ms, _)| *ms <= wait).unwrap_or(&self.delays[0]);
        &tier.1
    }

    /// Every queue's name.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        [&self.jobs, &self.dead].into_iter().chain(self.delays.iter().map(|(_, q)| q)).map(String::as_str)
    }

    /// Declares every queue (idempotent; all durable).
    pub async fn declare(&self, ch: &lapin::Channel) -> Result<()> {
        let durable = QueueDeclareOptions { durable: true, ..Default::default() };
        for q in [&self.jobs, &self.dead] {
            ch.queue_declare(q.as_str().into(), durable, FieldTable::default()).await.map_err(amqp_err)?;
        }
        for (ms, q) in &self.delays {
            let mut args = FieldTable::default();
            args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(i64::try_from(*ms).unwrap_or(i64::MAX)));
            args.insert("x-dead-letter-exchange".into(), AMQPValue::LongString("".into()));
            args.insert("x-dead-letter-routing-key".into(), AMQPValue::LongString(self.jobs.as_str().into()));
            ch.queue_declare(q.as_str().into(), durable, args).await.map_err(amqp_err)?;
        }
        Ok(())
    }
}

pub(crate) fn amqp_err(e: lapin::Error) -> Error {
    Error::unavailable("rabbitmq", e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_never_overshoot() {
        let t = Topology::new("sv");
        assert_eq!(t.queue_for(0), "sv.jobs");
        assert_eq!(t.queue_for(-5), "sv.jobs");
        assert_eq!(t.queue_for(50), "sv.jobs.delay.100ms", "under the shortest tier: the shortest");
        assert_eq!(t.queue_for(999), "sv.jobs.delay.100ms");
        assert_eq!(t.queue_for(1_000), "sv.jobs.delay.1000ms");
        assert_eq!(t.queue_for(59_999), "sv.jobs.delay.10000ms");
        assert_eq!(t.queue_for(86_400_000), "sv.jobs.delay.3600000ms");
    }
}
