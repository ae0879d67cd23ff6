//! The worker role: durable background jobs (media processing: probe, stills, HLS ladder;
//! deletion and blob collection), periodic cluster-wide tasks (expiring uploads, sessions and
//! quota holds), and the node-local upkeep every replica that takes uploads runs.

pub mod jobs;
mod local;

pub use local::{Local, spawn_local};

use std::time::Duration;

use std::sync::Arc;

use streamvault_core::accounts::Accounts;
use streamvault_core::ports::PeriodicLease;
use streamvault_core::quota::Quota;
use streamvault_core::uploads::Uploads;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the periodic tasks need.
pub struct Periodic {
    pub accounts: Accounts,
    pub uploads: Uploads,
    pub quota: Quota,
    /// Cluster-wide tasks run on one replica per period, by lease.
    pub leases: Arc<dyn PeriodicLease>,
    pub holder: String,
    pub every: Duration,
}

/// Starts the periodic tasks (the first run is at once); they stop when `shutdown` turns true.
/// Each runs on one replica per period.
pub fn spawn(p: Periodic, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let Periodic { accounts, uploads, quota, leases, holder, every } = p;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    // A little under one period, so the next tick of whoever holds it renews it.
                    let lease = every.mul_f64(0.9);
                    if leased(leases.as_ref(), "purge_sessions", &holder, lease).await {
                        report("expired sessions removed", accounts.purge_expired_sessions().await);
                    }
                    if leased(leases.as_ref(), "expire_uploads", &holder, lease).await {
                        report("expired uploads removed", uploads.expire().await);
                        report("expired quota holds let go", quota.reap_expired().await);
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    })
}

/// Whether this replica holds the period's lease on `task` (and so runs it now).
async fn leased(leases: &dyn PeriodicLease, task: &'static str, holder: &str, lease: Duration) -> bool {
    match leases.try_acquire(task, holder, lease).await {
        Ok(true) => {
            metrics::counter!("periodic_runs_total", "task" => task).increment(1);
            true
        }
        Ok(false) => false,
        Err(e) => {
            tracing::warn!(task, error = %e.report(), "periodic lease unavailable; will retry");
            false
        }
    }
}

/// Logs what a clean-up task did: how many things went, or why it failed (it runs again next
/// period).
pub(crate) fn report(what: &str, result: streamvault_core::Result<u64>) {
    match result {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "{what}"),
        Err(e) => tracing::warn!(error = %e.report(), "{what}: failed; will retry"),
    }
}
