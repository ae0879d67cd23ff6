//! The job runner against real queues: a job that keeps failing retries with growing delays
//! and ends in the dead-letter list, on each metadata backend and on RabbitMQ.

use std::sync::Arc;
use std::time::{Duration, Instant};

use streamvault_amqp::AmqpJobQueue;
use streamvault_core::cleanup::Cleanup;
use streamvault_core::ids::{Id, VideoId};
use streamvault_core::media::{Media, MediaLimits};
use streamvault_core::ports::{Job, JobAdmin, JobQueue, NewJob};
use streamvault_core::social::{Social, SocialStores};
use streamvault_core::storage::Storage;
use streamvault_core::videos::Videos;
use streamvault_metadata::{
    MetadataStore, SqlBlobIndex, SqlBlockRepo, SqlCommentRepo, SqlFileRepo, SqlFollowRepo, SqlHistoryRepo, SqlJobQueue,
    SqlMessageRepo, SqlNotificationRepo, SqlPlaylistRepo, SqlRatingRepo, SqlUserRepo, SqlVideoRepo,
};
use streamvault_testkit::{Backend, TestDb, amqp_url, per_backend};
use streamvault_worker::jobs::JobRunner;

const BASE: Duration = Duration::from_millis(4);

/// The social service on `store`, as the runner needs it for fan-out jobs.
fn social(store: &MetadataStore, videos: Arc<SqlVideoRepo>, storage: Storage) -> Social {
    let users = Arc::new(SqlUserRepo::new(store.clone()));
    let comments = Arc::new(SqlCommentRepo::new(store.clone()));
    let videos = Videos::new(videos, comments, users, storage, Duration::from_secs(60));
    let stores = SocialStores {
        ratings: Arc::new(SqlRatingRepo::new(store.clone())),
        follows: Arc::new(SqlFollowRepo::new(store.clone())),
        notifications: Arc::new(SqlNotificationRepo::new(store.clone())),
        playlists: Arc::new(SqlPlaylistRepo::new(store.clone())),
        history: Arc::new(SqlHistoryRepo::new(store.clone())),
        messages: Arc::new(SqlMessageRepo::new(store.clone())),
        blocks: Arc::new(SqlBlockRepo::new(store.clone())),
    };
    let bus = Arc::new(streamvault_local::LocalBus::new());
    Social::new(videos, stores, bus, Arc::new(streamvault_local::LocalLoginThrottle::new()), Default::default())
}

async fn fails_then_dead_letters(store: &MetadataStore, queue: Arc<dyn JobQueue>) {
    let admin = Arc::new(SqlJobQueue::new(store.clone()));
    let dir = tempfile::tempdir().unwrap();
    let (blobs, _) = streamvault_blobs::open(&format!("fs://{}", dir.path().join("blobs").display())).unwrap();
    let videos = Arc::new(SqlVideoRepo::new(store.clone()));
    let index = Arc::new(SqlBlobIndex::new(store.clone()));
    let storage = Storage::new(blobs.clone(), index.clone(), dir.path().join("staging"), 1 << 20, None).unwrap();
    let limits = MediaLimits { concurrency: 1, time_limit: Duration::from_secs(60) };
    let media = Media::new(None, videos.clone(), storage.clone(), dir.path().join("work"), limits);
    let social = social(store, videos.clone(), storage.clone());
    let cleanup = Cleanup::new(videos, Arc::new(SqlFileRepo::new(store.clone())), storage);
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let runner = JobRunner {
        queue: queue.clone(),
        admin: admin.clone(),
        cleanup,
        media,
        social,
        worker_id: JobRunner::worker_id(),
        lease: Duration::from_secs(30),
        idle_poll: Duration::from_millis(20),
        backoff_base: BASE,
    }
    .spawn(stop);

    // The blob store cannot remove a video's media (a file stands where a directory should):
    // every attempt fails.
    std::fs::create_dir_all(dir.path().join("blobs")).unwrap();
    std::fs::write(dir.path().join("blobs/media"), b"not a directory").unwrap();
    let start = Instant::now();
    let job = Job::DeleteVideo { video_id: VideoId::new(), sha256: None };
    queue.enqueue(&NewJob { job, run_at: chrono::Utc::now(), dedup_key: None }).await.unwrap();
    let mut dead = None;
    while start.elapsed() < Duration::from_secs(30) && dead.is_none() {
        dead = admin.list(Some(streamvault_core::ports::JobState::Dead), 10).await.unwrap().into_iter().next();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop_tx.send(true);
    runner.await.unwrap();
    let dead = dead.expect("dead-lettered within 30 s");
    assert_eq!(dead.attempts, dead.max_attempts, "every attempt was made");
    assert!(dead.last_error.as_deref().unwrap_or_default().contains("delete"), "{dead:?}");
    // Nine retries waiting BASE·2^(n-1) each, less a quarter of jitter at most.
    let least = BASE.mul_f64(0.75 * f64::from((1u32 << (dead.max_attempts - 1)) - 1));
    assert!(start.elapsed() >= least, "retries did not back off: {:?} < {least:?}", start.elapsed());
}

async fn sql_queue(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let store = MetadataStore::connect(&db.url, 5).await.unwrap();
    store.migrate().await.unwrap();
    fails_then_dead_letters(&store, Arc::new(SqlJobQueue::new(store.clone()))).await;
    store.close().await;
    db.drop_db().await;
}

per_backend!(sql_queue);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_queue() {
    let (Some(db), Some(url)) = (TestDb::create(Backend::Sqlite).await, amqp_url().await) else { return };
    let store = MetadataStore::connect(&db.url, 5).await.unwrap();
    store.migrate().await.unwrap();
    let sql = Arc::new(SqlJobQueue::new(store.clone()));
    let q = Arc::new(AmqpJobQueue::connect(&url, sql.clone(), sql).await.unwrap());
    fails_then_dead_letters(&store, q.clone()).await;
    assert_eq!(q.depth(&q.topology().dead).await.unwrap(), 1, "in RabbitMQ's dead-letter queue too");
    q.delete_queues().await.unwrap();
    q.close().await;
    store.close().await;
}
