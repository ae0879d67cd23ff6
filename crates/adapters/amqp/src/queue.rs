//! The adapter: relay, lease (basic.get + claim), and outcomes (ack after recording).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lapin::Acker;
use lapin::Confirmation;
use lapin::options::{BasicAckOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use streamvault_core::ids::JobId;
use streamvault_core::ports::{Claim, HealthCheck, JobOutbox, JobQueue, LeasedJob, NewJob};
use streamvault_core::{Error, Result};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::topology::{Topology, amqp_err};

/// How long a relay keeps jobs it is publishing before another relay may take them.
const RELAY_LEASE: Duration = Duration::from_secs(5);
/// How often the relay looks for due jobs when nobody woke it.
const RELAY_POLL: Duration = Duration::from_millis(250);
/// Messages looked at per `lease` call before saying nothing is due.
const GETS_PER_LEASE: usize = 32;

pub struct AmqpJobQueue {
    inner: Arc<Inner>,
    relay: JoinHandle<()>,
}

struct Inner {
    /// The record: `enqueue`, `complete` and dead-lettering go through the embedded queue.
    record: Arc<dyn JobQueue>,
    outbox: Arc<dyn JobOutbox>,
    url: String,
    /// The connection and its channels, made again when RabbitMQ closed them (a restart, a
    /// deleted queue): every operation goes through [`Inner::link`].
    link: tokio::sync::Mutex<Option<Arc<Link>>>,
    topology: Topology,
    /// Deliveries whose job is running here, acked when its outcome is recorded.
    held: Mutex<HashMap<(JobId, u32), Acker>>,
    wake: Notify,
}

impl AmqpJobQueue {
    /// Connects to `url` (`amqp://user:pass@host:port/vhost`, optionally `?prefix=` for the
    /// queue names, default `streamvault`), declares the queues and starts the relay.
    pub async fn connect(url: &str, record: Arc<dyn JobQueue>, outbox: Arc<dyn JobOutbox>) -> Result<Self> {
        let (url, prefix) = split_prefix(url)?;
        let topology = Topology::new(&prefix);
        let link = Link::open(&url, &topology).await?;
        let inner = Arc::new(Inner {
            record,
            outbox,
            url,
            link: tokio::sync::Mutex::new(Some(Arc::new(link))),
            topology,
            held: Mutex::new(HashMap::new()),
            wake: Notify::new(),
        });
        let relay = tokio::spawn(relay(inner.clone()));
        Ok(Self { inner, relay })
    }

    pub fn topology(&self) -> &Topology {
        &self.inner.topology
    }

    /// How many messages wait in `queue` (ready, not unacked).
    pub async fn depth(&self, queue: &str) -> Result<u32> {
        let opts = lapin::options::QueueDeclareOptions { passive: true, ..Default::default() };
        let link = self.inner.link().await?;
        let q = link.publish.queue_declare(queue.into(), opts, FieldTable::default()).await.map_err(amqp_err)?;
        Ok(q.message_count())
    }

    /// Deletes this deployment's queues and whatever they hold (test teardown, decommissioning).
    pub async fn delete_queues(&self) -> Result<()> {
        let link = self.inner.link().await?;
        for q in self.inner.topology.all() {
            link.publish
                .queue_delete(q.into(), lapin::options::QueueDeleteOptions::default())
                .await
                .map_err(amqp_err)?;
        }
        Ok(())
    }

    /// Closes the connection: unacked deliveries go back to their queue at once.
    pub async fn close(&self) {
        self.relay.abort();
        if let Some(link) = self.inner.link.lock().await.take() {
            let _ = link.conn.close(200, "bye".into()).await;
        }
    }
}

impl Drop for AmqpJobQueue {
    fn drop(&mut self) {
        self.relay.abort();
    }
}

struct Link {
    conn: Connection,
    /// Publisher confirms on.
    publish: Channel,
    /// Deliveries are acked on the channel they came on.
    consume: Channel,
}

impl Link {
    fn alive(&self) -> bool {
        self.conn.status().connected() && self.publish.status().connected() && self.consume.status().connected()
    }

    async fn open(url: &str, topology: &Topology) -> Result<Link> {
        let props = ConnectionProperties::default().with_connection_name("streamvault".into());
        let conn = tokio::time::timeout(Duration::from_secs(5), Connection::connect(url, props))
            .await
            .map_err(|_| Error::retry_later("rabbitmq: connection timed out"))?
            .map_err(amqp_err)?;
        let publish = conn.create_channel().await.map_err(amqp_err)?;
        publish.confirm_select(ConfirmSelectOptions::default()).await.map_err(amqp_err)?;
        let consume = conn.create_channel().await.map_err(amqp_err)?;
        topology.declare(&publish).await?;
        Ok(Link { conn, publish, consume })
    }
}

/// `?prefix=` is ours, not lapin's.
fn split_prefix(raw: &str) -> Result<(String, String)> {
    let mut url = url::Url::parse(raw).map_err(|e| Error::unavailable("queue_url", e))?;
    let mut prefix = "streamvault".to_owned();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter_map(|(k, v)| {
            if k == "prefix" {
                prefix = v.into_owned();
                None
            } else {
                Some((k.into_owned(), v.into_owned()))
            }
        })
        .collect();
    url.set_query(None);
    if !kept.is_empty() {
        url.query_pairs_mut().extend_pairs(kept);
    }
    Ok((url.to_string(), prefix))
}

fn run_at_header(at: DateTime<Utc>) -> FieldTable {
    let mut headers = FieldTable::default();
    headers.insert("run_at".into(), AMQPValue::LongLongInt(at.timestamp_millis()));
    headers
}

impl Inner {
    /// The live connection, opened again (queues declared again) when it or a channel died.
    /// Deliveries held on a dead channel are back in their queue already: forget them.
    async fn link(&self) -> Result<Arc<Link>> {
        let mut current = self.link.lock().await;
        if let Some(link) = current.as_ref().filter(|l| l.alive()) {
            return Ok(link.clone());
        }
        if current.take().is_some() {
            tracing::warn!("rabbitmq connection or channel lost; reconnecting");
            self.held.lock().expect("held lock").clear();
        }
        let link = Arc::new(Link::open(&self.url, &self.topology).await?);
        *current = Some(link.clone());
        Ok(link)
    }

    /// Publishes the job's id, durable, to the queue for its due time, and waits for the
    /// broker's confirm.
    async fn publish_at(&self, id: JobId, at: DateTime<Utc>) -> Result<()> {
        let queue = self.topology.queue_for((at - Utc::now()).num_milliseconds());
        self.publish(queue, id, run_at_header(at)).await
    }

    /// A copy of a job out of attempts, with its last error, for RabbitMQ-side tooling.
    async fn dead_letter(&self, id: JobId, error: &str) -> Result<()> {
        let mut headers = run_at_header(Utc::now());
        let reason: String = error.chars().take(1000).collect();
        headers.insert("error".into(), AMQPValue::LongString(reason.as_str().into()));
        self.publish(&self.topology.dead, id, headers).await
    }

    async fn publish(&self, queue: &str, id: JobId, headers: FieldTable) -> Result<()> {
        let props = BasicProperties::default()
            .with_delivery_mode(2)
            .with_message_id(id.to_string().into())
            .with_headers(headers);
        let confirm = self
            .link()
            .await?
            .publish
            // Mandatory: a message no queue takes (the queue was deleted) comes back instead of
            // vanishing.
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions { mandatory: true, ..Default::default() },
                id.to_string().as_bytes(),
                props,
            )
            .await
            .map_err(amqp_err)?
            .await
            .map_err(amqp_err)?;
        match confirm {
            Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
            Confirmation::Ack(Some(_)) => {
                // Declared again on the next connection.
                self.link.lock().await.take();
                Err(Error::retry_later(format!("rabbitmq: queue {queue} is missing; job {id} will be sent again")))
            }
            Confirmation::Nack(_) => Err(Error::retry_later(format!("rabbitmq refused job {id}"))),
        }
    }

    async fn relay_once(&self, relay_id: &str) -> Result<usize> {
        let due = self.outbox.take_for_relay(relay_id, RELAY_LEASE, 100).await?;
        for job in &due {
            self.publish_at(job.id, job.run_at).await?;
            // A crash here publishes the job twice; the claim makes the copy harmless.
            self.outbox.mark_sent(job.id).await?;
        }
        Ok(due.len())
    }

    fn take_acker(&self, job: &LeasedJob) -> Option<Acker> {
        self.held.lock().expect("held lock").remove(&(job.id, job.attempt))
    }

    async fn ack(&self, job: &LeasedJob) {
        if let Some(acker) = self.take_acker(job)
            && let Err(e) = acker.ack(BasicAckOptions::default()).await
        {
            // The channel went away: the message is delivered again and its claim finds the
            // job finished.
            tracing::warn!(job_id = %job.id, error = %e, "ack failed");
        }
    }
}

async fn relay(inner: Arc<Inner>) {
    let relay_id = format!("relay-{}", &Uuid::now_v7().simple().to_string()[20..]);
    loop {
        match inner.relay_once(&relay_id).await {
            // A full batch: more may be waiting.
            Ok(100) => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e.report(), "job relay failed; retrying"),
        }
        let _ = tokio::time::timeout(RELAY_POLL, inner.wake.notified()).await;
    }
}

fn header_ms(props: &BasicProperties, key: &str) -> Option<i64> {
    match props.headers().as_ref()?.inner().get(key)? {
        AMQPValue::LongLongInt(v) => Some(*v),
        AMQPValue::LongInt(v) => Some(i64::from(*v)),
        _ => None,
    }
}

#[async_trait]
impl JobQueue for AmqpJobQueue {
    async fn enqueue(&self, job: &NewJob) -> Result<()> {
        self.inner.record.enqueue(job).await?;
        self.inner.wake.notify_one();
        Ok(())
    }

    async fn lease(&self, worker: &str, lease: Duration) -> Result<Option<LeasedJob>> {
        let inner = &self.inner;
        for _ in 0..GETS_PER_LEASE {
            let Some(msg) = inner
                .link()
                .await?
                .consume
                .basic_get(inner.topology.jobs.as_str().into(), BasicGetOptions { no_ack: false })
                .await
                .map_err(amqp_err)?
            else {
                return Ok(None);
            };
            let delivery = msg.delivery;
            let Some(id) = std::str::from_utf8(&delivery.data).ok().and_then(|s| s.parse::<JobId>().ok()) else {
                tracing::warn!("dropping a message that is not a job id");
                delivery.acker.ack(BasicAckOptions::default()).await.map_err(amqp_err)?;
                continue;
            };
            if let Some(at) = header_ms(&delivery.properties, "run_at").and_then(DateTime::from_timestamp_millis) {
                let early = (at - Utc::now()).num_milliseconds();
                if early > 20 {
                    // Back from a delay tier before its time: another round.
                    inner.publish_at(id, at).await?;
                    delivery.acker.ack(BasicAckOptions::default()).await.map_err(amqp_err)?;
                    continue;
                }
                // Also within the last millisecond (`early` is truncated to 0): the claim
                // compares whole milliseconds and would send the copy round a delay tier.
                if early >= 0 {
                    tokio::time::sleep(Duration::from_millis(early.unsigned_abs() + 1)).await;
                }
            }
            let claim = match inner.outbox.claim(id, worker, lease).await {
                Ok(c) => c,
                Err(e) => {
                    let _ = delivery.acker.nack(BasicNackOptions { requeue: true, ..Default::default() }).await;
                    return Err(e);
                }
            };
            match claim {
                Claim::Won(job) => {
                    inner.held.lock().expect("held lock").insert((job.id, job.attempt), delivery.acker);
                    return Ok(Some(job));
                }
                Claim::Busy(until) => {
                    // Delivered again while its first run lives (or its lease has not yet run
                    // out after a crash): look again when the lease ends.
                    inner.publish_at(id, until + chrono::Duration::milliseconds(50)).await?;
                    delivery.acker.ack(BasicAckOptions::default()).await.map_err(amqp_err)?;
                }
                Claim::Gone => {
                    delivery.acker.ack(BasicAckOptions::default()).await.map_err(amqp_err)?;
                }
            }
        }
        Ok(None)
    }

    async fn extend(&self, job: &LeasedJob, lease: Duration) -> Result<bool> {
        self.inner.record.extend(job, lease).await
    }

    async fn complete(&self, job: &LeasedJob) -> Result<()> {
        self.inner.record.complete(job).await?;
        self.inner.ack(job).await;
        Ok(())
    }

    async fn fail(&self, job: &LeasedJob, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()> {
        let inner = &self.inner;
        match retry_at {
            Some(at) => {
                // Published before it is recorded: if recording fails, the copy's claim waits
                // for this lease to run out, and the job still runs.
                inner.publish_at(job.id, at).await?;
                inner.outbox.retry_later(job, error, at).await?;
            }
            None => {
                inner.record.fail(job, error, None).await?;
                inner.dead_letter(job.id, error).await?;
            }
        }
        inner.ack(job).await;
        Ok(())
    }
}

#[async_trait]
impl HealthCheck for AmqpJobQueue {
    fn name(&self) -> &'static str {
        "rabbitmq"
    }

    async fn check(&self) -> Result<()> {
        self.inner.link().await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::split_prefix;

    #[test]
    fn prefix_is_taken_out_of_the_url() {
        let (url, prefix) = split_prefix("amqp://guest:guest@127.0.0.1:5672/%2f?prefix=t1&heartbeat=10").unwrap();
        assert_eq!((url.as_str(), prefix.as_str()), ("amqp://guest:guest@127.0.0.1:5672/%2f?heartbeat=10", "t1"));
        let (url, prefix) = split_prefix("amqp://127.0.0.1").unwrap();
        assert_eq!((url.as_str(), prefix.as_str()), ("amqp://127.0.0.1", "streamvault"));
    }
}
