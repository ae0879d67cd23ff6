//! The worker role: durable background jobs (deletion and blob collection today; the job queue
//! issue adds transfer and media jobs, RabbitMQ and operator tools) and periodic tasks.

pub mod jobs;

use std::time::Duration;

use std::sync::Arc;

use streamvault_core::accounts::Accounts;
use streamvault_core::ports::PeriodicLease;
use streamvault_core::storage::Storage;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the periodic tasks need.
pub struct Periodic {
    pub accounts: Accounts,
    pub storage: Storage,
    pub upload_expiry: Duration,
    /// Cluster-wide tasks run on one replica per period, by lease.
    pub leases: Arc<dyn PeriodicLease>,
    pub holder: String,
    pub every: Duration,
}

/// Starts the periodic tasks (the first run is at once); they stop when `shutdown` turns true.
/// Database-wide work (purging expired sessions) runs on one replica per period; local work
/// (this replica's staging directory) runs everywhere.
pub fn spawn(p: Periodic, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let Periodic { accounts, storage, upload_expiry, leases, holder, every } = p;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    // A little under one period, so the next tick of whoever holds it renews it.
                    let lease = every.mul_f64(0.9);
                    match leases.try_acquire("purge_sessions", &holder, lease).await {
                        Ok(true) => {
                            metrics::counter!("periodic_runs_total", "task" => "purge_sessions").increment(1);
                            match accounts.purge_expired_sessions().await {
                                Ok(0) => {}
                                Ok(n) => tracing::info!(purged = n, "expired sessions removed"),
                                Err(e) => tracing::warn!(error = %e, "session purge failed; will retry"),
                            }
                        }
                        Ok(false) => {}
                        Err(e) => tracing::warn!(error = %e, "periodic lease unavailable; will retry"),
                    }
                    match storage.sweep_staging(upload_expiry).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(removed = n, "abandoned uploads removed"),
                        Err(e) => tracing::warn!(error = %e, "staging sweep failed; will retry"),
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    })
}
