//! The RabbitMQ job queue against a real broker, with its outbox on each metadata backend.

use std::sync::Arc;
use std::time::{Duration, Instant};

use streamvault_amqp::AmqpJobQueue;
use streamvault_core::ports::{JobAdmin, JobQueue};
use streamvault_metadata::{MetadataStore, SqlJobQueue};
use streamvault_testkit::{Backend, TestDb, amqp_url, per_backend};

async fn queue(store: &MetadataStore, url: &str) -> AmqpJobQueue {
    let sql = Arc::new(SqlJobQueue::new(store.clone()));
    AmqpJobQueue::connect(url, sql.clone(), sql).await.expect("connect to RabbitMQ")
}

use streamvault_testkit::contract::{self, next_job as next, tagged_job as job};

const LEASE: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(5);

async fn rabbitmq_queue(backend: Backend) {
    let (Some(db), Some(url)) = (TestDb::create(backend).await, amqp_url().await) else { return };
    let store = MetadataStore::connect(&db.url, 5).await.unwrap();
    store.migrate().await.unwrap();
    let admin = SqlJobQueue::new(store.clone());
    let q = queue(&store, &url).await;

    // What every queue does (the shared contract), then what only a broker does.
    let q = Arc::new(q);
    contract::job_queue(q.clone()).await;

    // A dead-lettered job leaves a copy in the dead-letter queue for operators.
    q.enqueue(&job("b", None)).await.unwrap();
    let b1 = next(q.as_ref(), "w1", LEASE, WAIT).await.unwrap();
    q.fail(&b1, "boom", None).await.unwrap();
    let dead = admin.get(b1.id).await.unwrap().unwrap();
    assert_eq!((dead.state.as_str(), dead.last_error.as_deref()), ("dead", Some("boom")));
    assert!(q.depth(&q.topology().dead).await.unwrap() >= 1, "a copy sits in the dead-letter queue");

    let workers = [Arc::new(queue(&store, &url).await)];

    // A worker that dies holding a job (its connection drops, the message is unacked): another
    // worker gets it, but only once the dead worker's lease has run out.
    let doomed = queue(&store, &url).await;
    q.enqueue(&job("f", None)).await.unwrap();
    let f1 = next(&doomed, "dying", Duration::from_secs(2), WAIT).await.unwrap();
    let died = Instant::now();
    doomed.close().await;
    let f2 = next(workers[0].as_ref(), "heir", LEASE, Duration::from_secs(8)).await.expect("taken over");
    assert!(died.elapsed() >= Duration::from_millis(1500), "two workers ran it at once");
    assert_eq!((f2.id, f2.attempt), (f1.id, 2));
    workers[0].complete(&f2).await.unwrap();
    assert_eq!(admin.stats().await.unwrap().queued, 0);

    // A retry whose ack was lost (the worker's connection dropped after its failure was
    // recorded): the first delivery comes back at once, and still waits for the retry time.
    let holder = queue(&store, &url).await;
    q.enqueue(&job("g", None)).await.unwrap();
    let g1 = next(&holder, "w-g", LEASE, WAIT).await.unwrap();
    let retry_at = contract::whole_ms(chrono::Utc::now() + chrono::Duration::milliseconds(1500));
    // Through another instance: the retry is published and recorded, the delivery stays unacked.
    q.fail(&g1, "boom", Some(retry_at)).await.unwrap();
    holder.close().await;
    let g2 = next(workers[0].as_ref(), "heir", LEASE, WAIT).await.expect("retried");
    assert!(chrono::Utc::now() >= retry_at, "the lost ack's copy ran before the retry time");
    assert_eq!((g2.id, g2.attempt), (g1.id, 2));
    workers[0].complete(&g2).await.unwrap();
    assert!(next(workers[0].as_ref(), "heir", LEASE, Duration::from_millis(400)).await.is_none(), "ran once");

    for w in &workers {
        w.close().await;
    }
    q.delete_queues().await.unwrap();
    q.close().await;
    store.close().await;
    db.drop_db().await;
}

per_backend!(rabbitmq_queue);

/// RabbitMQ closing the channels (here: the queues deleted under a running worker) is not the
/// end: the next call reconnects, declares the queues again, and jobs flow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_when_rabbitmq_closes_its_channels() {
    let (Some(db), Some(url)) = (TestDb::create(Backend::Sqlite).await, amqp_url().await) else { return };
    let store = MetadataStore::connect(&db.url, 5).await.unwrap();
    store.migrate().await.unwrap();
    let q = queue(&store, &url).await;
    let admin = queue(&store, &url).await;
    q.enqueue(&job("before", None)).await.unwrap();
    let j = next(&q, "w", LEASE, WAIT).await.unwrap();
    q.complete(&j).await.unwrap();

    admin.delete_queues().await.unwrap();
    // Published while the queue is gone: returned (mandatory), not lost; the relay sends it
    // again once the queues are back.
    q.enqueue(&job("after", None)).await.unwrap();
    let mut got = None;
    for _ in 0..100 {
        match q.lease("w", LEASE).await {
            Ok(Some(j)) => {
                got = Some(j);
                break;
            }
            Ok(None) | Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let j = got.expect("jobs flow again after the channel was lost");
    assert_eq!(j.job().unwrap(), streamvault_core::ports::Job::CollectBlob { sha256: "after".into() });
    q.complete(&j).await.unwrap();
    assert!(streamvault_core::ports::HealthCheck::check(&q).await.is_ok());
    q.delete_queues().await.unwrap();
    q.close().await;
    admin.close().await;
    store.close().await;
}
