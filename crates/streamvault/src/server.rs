//! The server lifecycle: bind, serve the roles' routers, run the worker's tasks, and drain on
//! shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use streamvault_config::{Config, Role};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use streamvault_metadata::SqlPeriodicLease;
use streamvault_worker::jobs::JobRunner;

use crate::app::App;

/// How often the worker purges expired sessions.
const PURGE_EVERY: Duration = Duration::from_secs(600);
/// How often an idle worker looks for due jobs.
const JOB_POLL: Duration = Duration::from_millis(500);
/// How often counted views are written.
const VIEWS_EVERY: Duration = Duration::from_secs(1);

/// A server running in this process.
pub struct Running {
    pub addr: SocketAddr,
    pub app: App,
    shutdown: watch::Sender<bool>,
    http: JoinHandle<()>,
    worker: Option<JoinHandle<()>>,
    jobs: Vec<JoinHandle<()>>,
    local: Option<JoinHandle<()>>,
    gateway_checks: Option<JoinHandle<()>>,
    views: JoinHandle<()>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops taking connections, lets in-flight requests finish (up to the grace period), stops
    /// the worker and closes the backends.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        // Upgraded connections are not the HTTP server's to drain: they are told to go.
        self.app.live.stop();
        let grace = self.app.config.shutdown_grace;
        let drained = tokio::time::timeout(grace, self.http).await;
        for task in [self.worker, self.local, self.gateway_checks].into_iter().flatten().chain(self.jobs) {
            let _ = task.await;
        }
        let _ = self.views.await;
        self.app.close().await;
        match drained {
            Ok(joined) => Ok(joined?),
            Err(_) => anyhow::bail!("in-flight requests did not finish within {} s", grace.as_secs()),
        }
    }
}

/// Connects the backends, binds `config.listen` and starts serving.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    let app = App::connect(config).await.map_err(|e| anyhow::anyhow!(crate::app::describe_start_error(&e)))?;
    let listener = TcpListener::bind(app.config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {} (STREAMVAULT_LISTEN): {e}", app.config.listen))?;
    let addr = listener.local_addr()?;
    let (shutdown, rx) = watch::channel(false);

    let timeouts = crate::http_server::Timeouts { header: app.config.header_timeout, write: app.config.write_timeout };
    let http = tokio::spawn(crate::http_server::serve(listener, app.router(), timeouts, rx.clone()));
    let gateway_checks = app.gateway.as_ref().map(|g| g.spawn_health_checks(rx.clone()));
    let worker = app.config.roles.has(Role::Worker).then(|| {
        streamvault_worker::spawn(
            streamvault_worker::Periodic {
                accounts: app.accounts.clone(),
                uploads: app.uploads.clone(),
                quota: app.drive.quota().clone(),
                leases: Arc::new(SqlPeriodicLease::new(app.metadata.clone())),
                holder: JobRunner::worker_id(),
                // Expired uploads go within one expiry period.
                every: PURGE_EVERY.min(app.config.upload_expiry),
            },
            rx.clone(),
        )
    });
    // One runner more than ffmpeg slots: deletions and probes keep moving while every slot
    // is transcoding.
    let runners = if app.config.roles.has(Role::Worker) { app.config.media_concurrency as usize + 1 } else { 0 };
    let jobs: Vec<_> = (0..runners)
        .map(|_| {
            JobRunner {
                queue: app.jobs.clone(),
                admin: app.job_admin.clone(),
                cleanup: app.cleanup.clone(),
                media: app.media.clone(),
                social: app.social.clone(),
                worker_id: JobRunner::worker_id(),
                lease: app.config.job_lease,
                idle_poll: JOB_POLL,
                backoff_base: app.config.job_retry,
            }
            .spawn(rx.clone())
        })
        .collect();
    let roles = &app.config.roles;
    let local = (roles.has(Role::Stream) || roles.has(Role::Worker)).then(|| {
        streamvault_worker::spawn_local(
            streamvault_worker::Local {
                storage: app.storage.clone(),
                upload_expiry: app.config.upload_expiry,
                every: PURGE_EVERY,
                media: app.config.roles.has(Role::Worker).then(|| app.media.clone()),
            },
            rx.clone(),
        )
    });
    let views = tokio::spawn(flush_views(app.views.clone(), rx));
    tracing::info!(%addr, roles = %app.config.roles, "streamvault started");
    Ok(Running { addr, app, shutdown, http, worker, jobs, local, gateway_checks, views })
}

/// Writes counted views every second, and once more at shutdown.
async fn flush_views(views: streamvault_core::videos::ViewCounter, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(VIEWS_EVERY);
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.wait_for(|s| *s) => true,
        };
        if let Err(e) = views.flush().await {
            tracing::warn!(error = %e.report(), "views not written yet; will retry");
        }
        if stopping {
            break;
        }
    }
}
