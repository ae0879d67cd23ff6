//! The RabbitMQ job queue against a real broker, with its outbox on each metadata backend.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use streamvault_amqp::AmqpJobQueue;
use streamvault_core::ports::{JobAdmin, JobQueue, LeasedJob, NewJob};
use streamvault_metadata::{MetadataStore, SqlJobQueue};
use streamvault_testkit::{Backend, TestDb, amqp_url, per_backend, unique_name};

async fn queue(store: &MetadataStore, url: &str) -> AmqpJobQueue {
    let sql = Arc::new(SqlJobQueue::new(store.clone()));
    AmqpJobQueue::connect(url, sql.clone(), sql).await.expect("connect to RabbitMQ")
}

/// A job told apart from the others by `tag` (queues do not look inside).
fn job(tag: &str, dedup: Option<String>) -> NewJob {
    NewJob {
        job: streamvault_core::ports::Job::CollectBlob { sha256: tag.into() },
        run_at: Utc::now(),
        dedup_key: dedup,
    }
}

/// Polls until a job is delivered or `within` passes.
async fn next(q: &AmqpJobQueue, worker: &str, lease: Duration, within: Duration) -> Option<LeasedJob> {
    let start = Instant::now();
    while start.elapsed() < within {
        if let Some(j) = q.lease(worker, lease).await.unwrap() {
            return Some(j);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

const LEASE: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(5);

async fn rabbitmq_queue(backend: Backend) {
    let (Some(db), Some(url)) = (TestDb::create(backend).await, amqp_url().await) else { return };
    let store = MetadataStore::connect(&db.url, 5).await.unwrap();
    store.migrate().await.unwrap();
    let admin = SqlJobQueue::new(store.clone());
    let q = queue(&store, &url).await;

    // Delivered once, and done is done.
    q.enqueue(&job("a", None)).await.unwrap();
    let a = next(&q, "w1", LEASE, WAIT).await.expect("relayed and delivered");
    assert_eq!((a.kind.as_str(), a.attempt), ("a", 1));
    assert_eq!(next(&q, "w2", LEASE, Duration::from_millis(400)).await, None, "not handed out twice");
    q.complete(&a).await.unwrap();
    assert_eq!(admin.get(a.id).await.unwrap().unwrap().state, streamvault_core::ports::JobState::Done);

    // A failure waits in a delay queue, comes back as attempt 2, then goes to the dead letters.
    q.enqueue(&job("b", None)).await.unwrap();
    let b1 = next(&q, "w1", LEASE, WAIT).await.unwrap();
    let retry_at = Utc::now() + chrono::Duration::milliseconds(600);
    q.fail(&b1, "boom", Some(retry_at)).await.unwrap();
    assert_eq!(next(&q, "w1", LEASE, Duration::from_millis(300)).await, None, "not before its retry time");
    let b2 = next(&q, "w1", LEASE, WAIT).await.expect("retried");
    assert!(Utc::now() >= retry_at, "delivered early");
    assert_eq!((b2.id, b2.attempt), (b1.id, 2));
    q.fail(&b2, "boom again", None).await.unwrap();
    let dead = admin.get(b2.id).await.unwrap().unwrap();
    assert_eq!((dead.state.as_str(), dead.last_error.as_deref()), ("dead", Some("boom again")));
    assert_eq!(q.depth(&q.topology().dead).await.unwrap(), 1, "a copy sits in the dead-letter queue");
    assert_eq!(next(&q, "w1", LEASE, Duration::from_millis(400)).await, None, "dead jobs do not run");

    // De-duplication by key while pending, in the outbox.
    let key = unique_name("k");
    q.enqueue(&job("d", Some(key.clone()))).await.unwrap();
    q.enqueue(&job("d", Some(key.clone()))).await.unwrap();
    let d = next(&q, "w1", LEASE, WAIT).await.unwrap();
    assert_eq!(next(&q, "w2", LEASE, Duration::from_millis(400)).await, None, "one job per pending key");
    q.complete(&d).await.unwrap();

    // Four workers, each with its own connection, draining twenty jobs: each job exactly once.
    let mut workers = Vec::new();
    for _ in 0..4 {
        workers.push(Arc::new(queue(&store, &url).await));
    }
    for _ in 0..20 {
        q.enqueue(&job("e", None)).await.unwrap();
    }
    let tasks: Vec<_> = workers
        .iter()
        .enumerate()
        .map(|(w, wq)| {
            let wq = wq.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(j) = next(&wq, &format!("w{w}"), LEASE, Duration::from_secs(2)).await {
                    got.push(j.id);
                    wq.complete(&j).await.unwrap();
                }
                got
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!((all.len(), unique.len()), (20, 20), "every job once, none twice");

    // A worker that dies holding a job (its connection drops, the message is unacked): another
    // worker gets it, but only once the dead worker's lease has run out.
    let doomed = queue(&store, &url).await;
    q.enqueue(&job("f", None)).await.unwrap();
    let f1 = next(&doomed, "dying", Duration::from_secs(2), WAIT).await.unwrap();
    let died = Instant::now();
    doomed.close().await;
    let f2 = next(&workers[0], "heir", LEASE, Duration::from_secs(8)).await.expect("taken over");
    assert!(died.elapsed() >= Duration::from_millis(1500), "two workers ran it at once");
    assert_eq!((f2.id, f2.attempt), (f1.id, 2));
    workers[0].complete(&f2).await.unwrap();
    assert_eq!(admin.stats().await.unwrap().queued, 0);

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
    assert_eq!(j.kind, "after");
    q.complete(&j).await.unwrap();
    assert!(streamvault_core::ports::HealthCheck::check(&q).await.is_ok());
    q.delete_queues().await.unwrap();
    q.close().await;
    admin.close().await;
    store.close().await;
}
