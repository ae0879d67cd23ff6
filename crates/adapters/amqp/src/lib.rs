//! The job-queue port on RabbitMQ.
//!
//! The metadata store stays the record: a job is written to its `jobs` table (the outbox) in
//! the same transaction as the change that caused it, which also gives de-duplication by key
//! and the operators' view. A relay hands due jobs to RabbitMQ with publisher confirms; workers
//! take them with manual acks, claim them in the outbox (so a message RabbitMQ delivers twice
//! never runs twice at once), and ack only once the outcome is recorded. A worker that dies
//! leaves its message unacked: RabbitMQ hands it to another worker when the connection drops.
//! Retries wait in TTL queues that dead-letter back into the work queue; jobs out of attempts
//! go to a dead-letter queue as well as to the `dead` state.

mod queue;
mod topology;

pub use queue::AmqpJobQueue;
pub use topology::Topology;
