//! Upkeep of this replica's own disk: abandoned uploads' staging files and dead media jobs'
//! scratch directories go, and blobs held here for remote primary storage are transferred to it
//! (woken by each upload, and retried).

use std::time::{Duration, Instant};

use streamvault_core::media::Media;
use streamvault_core::storage::Storage;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Local {
    pub storage: Storage,
    /// Staging files untouched this long belong to uploads that will not finish.
    pub upload_expiry: Duration,
    /// How often staging is swept, and held blobs are looked at without a wake-up.
    pub every: Duration,
    /// On workers: the media jobs, whose stale scratch directories are swept too.
    pub media: Option<Media>,
}

/// After a failed transfer (object storage down), the next try.
const TRANSFER_RETRY: Duration = Duration::from_secs(5);

pub fn spawn_local(l: Local, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let wake = l.storage.transfer_signal();
        let mut last_sweep: Option<Instant> = None;
        loop {
            let mut wait = l.every;
            if wake.is_some() {
                match l.storage.transfer_held().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(transferred = n, "held blobs transferred"),
                    Err(e) => {
                        tracing::warn!(error = %e.report(), "transfer to primary storage failed; will retry");
                        metrics::counter!("blob_transfer_failures_total").increment(1);
                        wait = TRANSFER_RETRY;
                    }
                }
            }
            if last_sweep.is_none_or(|t| t.elapsed() >= l.every) {
                last_sweep = Some(Instant::now());
                crate::report("abandoned uploads removed", l.storage.sweep_staging(l.upload_expiry).await);
                if let Some(media) = &l.media {
                    crate::report("stale media work directories removed", media.sweep_work().await);
                }
            }
            tokio::select! {
                _ = async {
                    match &wake {
                        Some(w) => w.notified().await,
                        None => std::future::pending().await,
                    }
                } => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => break,
            }
        }
    })
}
