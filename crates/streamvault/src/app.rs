//! Wiring: picks an adapter for each port from the configuration, and assembles the routers of
//! the configured roles into one service.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use streamvault_amqp::AmqpJobQueue;
use streamvault_config::{Config, Role};
use streamvault_core::accounts::{Accounts, SessionPolicy};
use streamvault_core::cleanup::Cleanup;
use streamvault_core::drive::{Drive, ShareLinks};
use streamvault_core::live::{Bullets, Live, LiveSettings};
use streamvault_core::media::{Media, MediaLimits};
use streamvault_core::ports::{BlobStore, CommentRepo, JobAdmin, JobQueue, RatingRepo, Stamps, VideoRepo};
use streamvault_core::ports::{EventBus, Limit, ThrottlePolicy, ViewerRegistry};
use streamvault_core::ports::{HealthCheck, LoginThrottle, SecretStore, SessionStore};
use streamvault_core::quota::Quota;
use streamvault_core::reads::{CoalescedStamps, ReadCache, StampedCommentRepo, StampedRatingRepo, StampedVideoRepo};
use streamvault_core::social::{Social, SocialLimits, SocialStores};
use streamvault_core::storage::{Holding, Storage};
use streamvault_core::uploads::{LockTiming, Uploads};
use streamvault_core::videos::{Videos, ViewCounter};
use streamvault_core::{Error, Result};
use streamvault_local::{LocalBus, LocalLoginThrottle, LocalStamps, LocalViewers};
use streamvault_metadata::{
    MetadataStore, SqlBlobIndex, SqlBlockRepo, SqlChallengeRepo, SqlCommentRepo, SqlDanmakuRepo, SqlFileRepo,
    SqlFolderRepo, SqlFollowRepo, SqlHistoryRepo, SqlJobQueue, SqlMessageRepo, SqlNotificationRepo, SqlPlaylistRepo,
    SqlQuotaLedger, SqlRatingRepo, SqlSecretStore, SqlSessionStore, SqlUploadRepo, SqlUserRepo, SqlVideoRepo,
};
use streamvault_redis::{RedisBus, RedisClient, RedisLoginThrottle, RedisSessionStore, RedisStamps, RedisViewers};
use streamvault_stream::{PlaybackMode, StreamLimiter};

/// Everything a process holds: connections to its backends and the domain services on them.
#[derive(Clone)]
pub struct App {
    pub config: Config,
    pub metadata: MetadataStore,
    pub redis: Option<RedisClient>,
    pub accounts: Accounts,
    pub videos: Videos,
    pub blobs: Arc<dyn BlobStore>,
    blob_health: Arc<dyn HealthCheck>,
    pub storage: Storage,
    limiter: StreamLimiter,
    pub views: ViewCounter,
    pub drive: Drive,
    pub uploads: Uploads,
    pub shares: ShareLinks,
    pub jobs: Arc<dyn JobQueue>,
    pub job_admin: Arc<dyn JobAdmin>,
    amqp: Option<Arc<AmqpJobQueue>>,
    pub cleanup: Cleanup,
    pub media: Media,
    /// Split mode: where a web-only process forwards `/api/` and `/stream/`.
    pub gateway: Option<streamvault_web::Gateway>,
    /// Bullet comments.
    pub bullets: Bullets,
    /// Hints between replicas (in this process alone without `STREAMVAULT_BUS_URL`).
    pub bus: Arc<dyn EventBus>,
    redis_bus: Option<(Arc<RedisBus>, RedisClient)>,
    /// Who watches what now (counts shared through the bus's Redis when there is one), and
    /// the live connections of this replica.
    pub live: Live,
    /// Ratings, follows and feeds, notifications, playlists, history.
    pub social: Social,
    /// Finished bodies of the hot reads.
    pub reads: ReadCache,
    /// The versions those reads are kept under (`None`: nothing is kept).
    pub stamps: Option<Arc<dyn Stamps>>,
    /// Forgets sessions other replicas ended.
    session_cache_task: Arc<tokio::task::AbortHandle>,
}

impl App {
    /// Connects to every configured backend and applies pending migrations.
    pub async fn connect(config: Config) -> Result<App> {
        // Only workers run media jobs: other roles do not start ffprobe. Looking for ffmpeg
        // takes longer than the rest of start-up, so it runs meanwhile.
        // The warning when it is missing is said once, from this task, at start.
        let media_nice = config.media_nice;
        let ffmpeg = config.roles.has(Role::Worker).then(|| {
            tokio::spawn(async move {
                let found = streamvault_ffmpeg::Ffmpeg::detect(media_nice).await;
                if found.is_none() {
                    tracing::warn!(
                        "ffmpeg/ffprobe are not on the PATH: videos play as uploaded, without probing, thumbnails or HLS; install ffmpeg on every worker"
                    );
                }
                found
            })
        });
        let metadata = MetadataStore::connect(&config.database_url, config.db_max_connections).await?;
        metadata.migrate().await?;

        let throttle_policy = ThrottlePolicy {
            account: Limit { max: config.login_max_failures, window: config.login_window },
            client: Limit { max: config.login_ip_max_failures, window: config.login_window },
        };
        let (redis, sessions, throttle): (_, Arc<dyn SessionStore>, Arc<dyn LoginThrottle>) = match &config.session_url
        {
            Some(url) => {
                let redis = RedisClient::connect(url, "sv:").await?;
                let sessions = Arc::new(RedisSessionStore::new(redis.clone()));
                let throttle = Arc::new(RedisLoginThrottle::new(redis.clone()));
                (Some(redis), sessions, throttle)
            }
            None => (None, Arc::new(SqlSessionStore::new(metadata.clone())), Arc::new(LocalLoginThrottle::new())),
        };
        let policy =
            SessionPolicy { idle: config.session_idle, absolute: config.session_absolute, ..Default::default() };
        let users = Arc::new(SqlUserRepo::new(metadata.clone()));
        let (bus, redis_bus, viewers): (Arc<dyn EventBus>, _, Arc<dyn ViewerRegistry>) = match &config.bus_url {
            Some(url) => {
                let bus = Arc::new(RedisBus::connect(url, "sv:").await?);
                let counts = RedisClient::connect(url, "sv:").await?;
                let viewers = Arc::new(RedisViewers::new(counts.clone()));
                (bus.clone(), Some((bus, counts)), viewers)
            }
            None => (Arc::new(LocalBus::new()), None, Arc::new(LocalViewers::new())),
        };
        // Replicas sharing a server database without a bus cannot tell each other that a
        // session ended: there, a cached session lives at most a second.
        let alone = config.bus_url.is_some() || config.database_url.starts_with("sqlite:");
        let cache_ttl = if alone { config.session_cache } else { config.session_cache.min(Duration::from_secs(1)) };
        let accounts = Accounts::new(users.clone(), sessions, throttle.clone(), throttle_policy, policy)
            .with_session_cache(bus.clone(), cache_ttl);
        let session_cache_task = Arc::new(accounts.session_cache().follow(bus.as_ref()).abort_handle());
        let (blobs, blob_health) = streamvault_blobs::open(&config.storage_url)?;
        let blob_index = Arc::new(SqlBlobIndex::new(metadata.clone()));
        let holding = match blobs.is_remote() {
            true => {
                let dir = config.data_dir.join("holding");
                let (store, _) = streamvault_blobs::open(&format!("fs://{}", dir.display()))?;
                Some(Holding::new(store, dir, node_id(&config.data_dir)?))
            }
            false => None,
        };
        let storage =
            Storage::new(blobs.clone(), blob_index, config.data_dir.join("staging"), config.max_upload_bytes, holding)?;
        // Finished reads are kept where every write can reach their stamps: in this process
        // alone (SQLite is one process), or in the bus's Redis shared by the replicas. Replicas
        // on a shared server database without a bus keep none.
        let stamps: Option<Arc<dyn Stamps>> = match &redis_bus {
            // Reads arriving together share one round trip (`reads::coalesced`).
            Some((_, counts)) => Some(Arc::new(CoalescedStamps::new(Arc::new(RedisStamps::new(counts.clone()))))),
            None if config.database_url.starts_with("sqlite:") => Some(Arc::new(LocalStamps::new())),
            None => None,
        };
        let mut video_repo: Arc<dyn VideoRepo> = Arc::new(SqlVideoRepo::new(metadata.clone()));
        let mut comment_repo: Arc<dyn CommentRepo> = Arc::new(SqlCommentRepo::new(metadata.clone()));
        let mut rating_repo: Arc<dyn RatingRepo> = Arc::new(SqlRatingRepo::new(metadata.clone()));
        let reads = match &stamps {
            Some(stamps) => {
                video_repo = Arc::new(StampedVideoRepo::new(video_repo, stamps.clone(), config.read_cache_ttl));
                comment_repo = Arc::new(StampedCommentRepo::new(comment_repo, stamps.clone()));
                rating_repo = Arc::new(StampedRatingRepo::new(rating_repo, stamps.clone()));
                ReadCache::new(stamps.clone(), config.read_cache_bytes, config.read_cache_ttl)
            }
            None => ReadCache::off(),
        };
        let videos = Videos::new(video_repo.clone(), comment_repo, users, storage.clone(), config.delete_grace);
        let block_repo: Arc<dyn streamvault_core::ports::BlockRepo> = Arc::new(SqlBlockRepo::new(metadata.clone()));
        let social = Social::new(
            videos.clone(),
            SocialStores {
                ratings: rating_repo,
                follows: Arc::new(SqlFollowRepo::new(metadata.clone())),
                notifications: Arc::new(SqlNotificationRepo::new(metadata.clone())),
                playlists: Arc::new(SqlPlaylistRepo::new(metadata.clone())),
                history: Arc::new(SqlHistoryRepo::new(metadata.clone())),
                messages: Arc::new(SqlMessageRepo::new(metadata.clone())),
                blocks: block_repo.clone(),
            },
            bus.clone(),
            throttle.clone(),
            SocialLimits::per_minute_and_day(
                (config.comments_per_minute, config.comments_per_day),
                (config.messages_per_minute, config.messages_per_day),
            ),
        );
        let limiter = StreamLimiter::new(config.max_streams as usize, config.max_streams_per_client as usize);
        let views = videos.views();
        let file_repo = Arc::new(SqlFileRepo::new(metadata.clone()));
        let quota = Quota::new(Arc::new(SqlQuotaLedger::new(metadata.clone())), config.quota_bytes);
        let drive = Drive::new(
            file_repo.clone(),
            Arc::new(SqlFolderRepo::new(metadata.clone())),
            Arc::new(SqlChallengeRepo::new(metadata.clone())),
            storage.clone(),
            quota,
            config.delete_grace,
        );
        let uploads = Uploads::new(
            Arc::new(SqlUploadRepo::new(metadata.clone())),
            storage.clone(),
            drive.clone(),
            videos.clone(),
            config.upload_expiry,
            LockTiming::with_lease(config.upload_lock),
        );
        let sql_jobs = Arc::new(SqlJobQueue::new(metadata.clone()));
        let (jobs, amqp): (Arc<dyn JobQueue>, _) = match &config.queue_url {
            Some(url) => {
                let q = Arc::new(AmqpJobQueue::connect(url, sql_jobs.clone(), sql_jobs.clone()).await?);
                (q.clone(), Some(q))
            }
            None => (sql_jobs.clone(), None),
        };
        // The metadata store keeps the record of every job, whichever queue carries it.
        let job_admin: Arc<dyn JobAdmin> = sql_jobs;
        let fresh: [u8; 32] = rand::random();
        let share_key = SqlSecretStore::new(metadata.clone()).get_or_create("share_key", &hex::encode(fresh)).await?;
        let shares = ShareLinks::new(share_key.as_bytes());
        let fresh: [u8; 32] = rand::random();
        let danmaku_key =
            SqlSecretStore::new(metadata.clone()).get_or_create("danmaku_key", &hex::encode(fresh)).await?;
        let live = Live::new(
            videos.clone(),
            viewers,
            bus.clone(),
            views.clone(),
            LiveSettings {
                ttl: config.watching_ttl,
                max_connections: config.live_max_connections as usize,
                max_per_client: config.live_max_per_client as usize,
                max_per_address: config.live_max_per_address as usize,
            },
        );
        let bullets = Bullets::new(
            Arc::new(SqlDanmakuRepo::new(metadata.clone())),
            block_repo.clone(),
            videos.clone(),
            throttle,
            live.clone(),
            danmaku_key.as_bytes(),
        );
        // Start-up does not wait for ffmpeg: the first media job does.
        let detecting = async move {
            let found = match ffmpeg {
                Some(detecting) => detecting.await.unwrap_or_else(|e| {
                    tracing::error!(error = %e, "ffmpeg detection failed");
                    None
                }),
                None => None,
            };
            found.map(|f| Arc::new(f) as Arc<dyn streamvault_core::ports::MediaTool>)
        };
        let media = Media::detecting(
            detecting,
            video_repo.clone(),
            storage.clone(),
            config.data_dir.join("media-work"),
            MediaLimits { concurrency: config.media_concurrency as usize, time_limit: config.media_time_limit },
        );
        let cleanup = Cleanup::new(video_repo, file_repo, storage.clone());
        // Only for the roles this process does not serve itself.
        let gateway = match config.roles.has(Role::Web) {
            true => streamvault_web::Gateway::new(
                if config.roles.has(Role::Api) { &[] } else { &config.api_upstreams },
                if config.roles.has(Role::Stream) { &[] } else { &config.stream_upstreams },
            ),
            false => None,
        };
        Ok(App {
            social,
            reads,
            stamps,
            gateway,
            bullets,
            live,
            bus,
            redis_bus,
            session_cache_task,
            config,
            metadata,
            redis,
            accounts,
            videos,
            blobs,
            blob_health,
            storage,
            limiter,
            views,
            drive,
            uploads,
            shares,
            jobs,
            job_admin,
            amqp,
            cleanup,
            media,
        })
    }

    /// The backends `/readyz` asks.
    pub fn health_checks(&self) -> Vec<Arc<dyn HealthCheck>> {
        let mut checks: Vec<Arc<dyn HealthCheck>> = vec![Arc::new(self.metadata.clone()), self.blob_health.clone()];
        if let Some(redis) = &self.redis {
            checks.push(Arc::new(redis.clone()));
        }
        if let Some(amqp) = &self.amqp {
            checks.push(amqp.clone());
        }
        // The counts use the bus's Redis: its check stands for both.
        if let Some((bus, _)) = &self.redis_bus {
            checks.push(bus.clone());
        }
        checks
    }

    /// One router with the routes of every configured role, plus health and metrics.
    pub fn router(&self) -> Router {
        let roles = &self.config.roles;
        let admin_token = self.config.admin_token.as_deref().map(Arc::from);
        let mut router = streamvault_http::health::routes(self.health_checks(), admin_token);
        if roles.has(Role::Api) {
            router = router.merge(streamvault_api::router(
                streamvault_api::ApiState::new(streamvault_api::ApiServices {
                    accounts: self.accounts.clone(),
                    videos: self.videos.clone(),
                    drive: self.drive.clone(),
                    uploads: self.uploads.clone(),
                    shares: self.shares.clone(),
                    live: self.live.clone(),
                    bullets: self.bullets.clone(),
                    social: self.social.clone(),
                    waiters: Default::default(),
                    reads: self.reads.clone(),
                    jobs: self.job_admin.clone(),
                    admin_token: self.config.admin_token.as_deref().map(Arc::from),
                }),
                [streamvault_stream::openapi(), streamvault_web::openapi(), streamvault_http::health::openapi()],
            ));
        }
        if roles.has(Role::Stream) {
            router = router.merge(streamvault_stream::router(streamvault_stream::StreamState::new(
                streamvault_stream::StreamServices {
                    accounts: self.accounts.clone(),
                    videos: self.videos.clone(),
                    storage: self.storage.clone(),
                    blobs: self.blobs.clone(),
                    limiter: self.limiter.clone(),
                    drive: self.drive.clone(),
                    uploads: self.uploads.clone(),
                    shares: self.shares.clone(),
                    playback: match self.config.playback {
                        streamvault_config::Playback::Redirect => PlaybackMode::Redirect,
                        streamvault_config::Playback::Proxy => PlaybackMode::Proxy,
                    },
                },
            )));
        }
        if roles.has(Role::Web) {
            let web = streamvault_web::WebState::new(streamvault_web::WebServices {
                accounts: self.accounts.clone(),
                videos: self.videos.clone(),
                drive: self.drive.clone(),
                social: self.social.clone(),
            });
            router =
                router.merge(streamvault_web::router(web, self.gateway.clone())).fallback(streamvault_web::not_found);
        } else {
            router = router.fallback(streamvault_http::error::not_found);
        }
        let proxies = Arc::new(self.config.proxies.clone());
        router
            // A request body that makes no progress for this long ends (a stalled upload).
            .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(self.config.read_timeout))
            .layer(axum::middleware::from_fn(streamvault_http::observe::middleware))
            .layer(axum::middleware::from_fn_with_state(proxies, streamvault_http::client::middleware))
            .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
            // A bug that panics answers 500 with the usual body (and is logged), never a cut
            // connection.
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
    }

    pub async fn close(self) {
        self.session_cache_task.abort();
        if let Some(redis) = &self.redis {
            redis.quit().await;
        }
        if let Some(amqp) = &self.amqp {
            amqp.close().await;
        }
        if let Some((bus, counts)) = &self.redis_bus {
            bus.quit().await;
            counts.quit().await;
        }
        self.metadata.close().await;
    }
}

fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    streamvault_http::ApiError(Error::bug(format!("a request handler panicked: {what}"))).into_response()
}

/// The name of this data directory's disk, made once and kept in `<data_dir>/node-id`: blobs
/// held for transfer are recorded under it, and it survives restarts as the bytes do.
fn node_id(data_dir: &std::path::Path) -> Result<String> {
    let path = data_dir.join("node-id");
    if let Ok(id) = std::fs::read_to_string(&path)
        && !id.trim().is_empty()
    {
        return Ok(id.trim().to_owned());
    }
    let id = uuid::Uuid::now_v7().to_string();
    std::fs::create_dir_all(data_dir)
        .and_then(|()| std::fs::write(&path, &id))
        .map_err(|e| Error::unavailable(format!("cannot write {}", path.display()), e))?;
    Ok(id)
}

/// For `main`: a start-up failure as one line.
pub fn describe_start_error(e: &Error) -> String {
    e.report()
}
