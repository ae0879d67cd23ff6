//! The worker role: durable background jobs (deletion and blob collection), periodic
//! cluster-wide tasks, and the node-local upkeep every replica that takes uploads runs.

pub mod jobs;
mod local;

pub use local::{Local, spawn_local};

use std::time::Duration;

use std::sync::Arc;

use streamvault_core::accounts::Accounts;
use streamvault_core::ports::PeriodicLease;
use streamvault_core::uploads::Uploads;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the periodic tasks need.
pub struct Periodic {
    pub accounts: Accounts,
    pub uploads: Uploads,
    /// Cluster-wide tasks run on one replica per period, by lease.
    pub leases: Arc<dyn PeriodicLease>,
    pub holder: String,
    pub every: Duration,
}

/// Starts the periodic tasks (the first run is at once); they stop when `shutdown` turns true.
/// Each runs on one replica per period.
pub fn spawn(p: Periodic, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let Periodic { accounts, uploads, leases, holder, every } = p;
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
                    match leases.try_acquire("expire_uploads", &holder, lease).await {
                        Ok(true) => {
                            metrics::counter!("periodic_runs_total", "task" => "expire_uploads").increment(1);
                            match uploads.expire().await {
                                Ok(0) => {}
                                Ok(n) => tracing::info!(removed = n, "expired uploads removed"),
                                Err(e) => tracing::warn!(error = %e, "upload expiry failed; will retry"),
                            }
                        }
                        Ok(false) => {}
                        Err(e) => tracing::warn!(error = %e, "periodic lease unavailable; will retry"),
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    })
}
