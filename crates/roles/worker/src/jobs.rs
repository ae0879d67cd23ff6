//! The job runner: leases due jobs from the queue, runs them, and records the outcome.
//! Failures retry with exponential backoff and jitter; after the job's last attempt it goes to
//! the dead-letter list (state `dead`), where an operator can see it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use streamvault_core::Error;
use streamvault_core::cleanup::Cleanup;
use streamvault_core::media::Media;
use streamvault_core::ports::{Job, JobAdmin, JobQueue, LeasedJob};
use streamvault_core::social::Social;
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Clone)]
pub struct JobRunner {
    pub queue: Arc<dyn JobQueue>,
    /// For the queue's gauges (depth by state, age of the oldest due job).
    pub admin: Arc<dyn JobAdmin>,
    pub cleanup: Cleanup,
    /// Media jobs (probe, stills, transcode).
    pub media: Media,
    /// The fan-out of new videos to followers.
    pub social: Social,
    /// Who holds a lease, in the jobs table: host, process and a random tail.
    pub worker_id: String,
    /// How long a job is ours before another worker may take it over.
    pub lease: Duration,
    /// How long to wait when nothing is due.
    pub idle_poll: Duration,
    /// The first retry's delay; each later one doubles, up to an hour.
    pub backoff_base: Duration,
}

impl JobRunner {
    pub fn worker_id() -> String {
        let host =
            std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "host".into());
        format!("{host}-{}-{}", std::process::id(), &uuid::Uuid::now_v7().simple().to_string()[24..])
    }

    pub fn spawn(self, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut last_stats: Option<Instant> = None;
            loop {
                if *stop.borrow() {
                    break;
                }
                if last_stats.is_none_or(|t| t.elapsed() >= Duration::from_secs(5)) {
                    self.publish_stats().await;
                    last_stats = Some(Instant::now());
                }
                let idle = match self.queue.lease(&self.worker_id, self.lease).await {
                    Ok(Some(job)) => {
                        self.run(job, stop.clone()).await;
                        false
                    }
                    Ok(None) => true,
                    Err(e) => {
                        tracing::warn!(error = %e.report(), "cannot lease jobs; will retry");
                        true
                    }
                };
                if idle {
                    tokio::select! {
                        _ = tokio::time::sleep(self.idle_poll) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
        })
    }

    async fn dispatch(&self, job: &Job) -> streamvault_core::Result<()> {
        match job {
            Job::ProbeVideo { video_id } => self.media.probe(*video_id).await,
            Job::VideoStills { video_id } => self.media.stills(*video_id).await,
            Job::TranscodeVideo { video_id } => self.media.transcode(*video_id).await,
            Job::DeleteVideo { video_id, sha256 } => self.cleanup.delete_video(*video_id, sha256.as_deref()).await,
            Job::DeleteFile { file_id, sha256 } => self.cleanup.delete_file(*file_id, sha256).await,
            Job::CollectBlob { sha256 } => self.cleanup.collect(sha256).await,
            Job::FanOutVideo { video_id } => self.social.fan_out_video(*video_id).await,
        }
    }

    async fn run(&self, job: LeasedJob, mut stop: watch::Receiver<bool>) {
        let start = Instant::now();
        let parsed = job.job();
        let kind = parsed.as_ref().map_or("unknown", Job::kind);
        let outcome = {
            // A heartbeat keeps the lease short (a dead worker's job is taken over soon) however
            // long the job runs.
            let work = async {
                match &parsed {
                    Ok(work) => self.dispatch(work).await,
                    // Written by a newer build (a rolling upgrade): it fails and is retried with
                    // backoff, so that a worker that knows it takes it, and is dead-lettered
                    // if none does.
                    Err(e) => Err(Error::internal(format!("job kind {:?} is not understood here: {e}", job.kind))),
                }
            };
            tokio::pin!(work);
            let mut beat = tokio::time::interval(self.lease / 3);
            beat.tick().await;
            loop {
                tokio::select! {
                    r = &mut work => break r,
                    // Shutting down: a transcode may run for an hour. Dropping the work stops
                    // it (ffmpeg is killed); the job is handed back, due at once, for any worker.
                    _ = stop.changed() => {
                        tracing::info!(job_id = %job.id, kind, "shutting down: job handed back");
                        if let Err(e) = self.queue.fail(&job, "worker stopped", Some(chrono::Utc::now())).await {
                            tracing::warn!(job_id = %job.id, error = %e.report(), "job not handed back; its lease will run out");
                        }
                        return;
                    }
                    _ = beat.tick() => match self.queue.extend(&job, self.lease).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job_id = %job.id, "job lease lost; another worker may run it"),
                        Err(e) => tracing::warn!(job_id = %job.id, error = %e.report(), "job lease not extended"),
                    },
                }
            }
        };
        metrics::histogram!("job_duration_seconds", "kind" => kind).record(start.elapsed().as_secs_f64());
        let recorded = match outcome {
            Ok(()) => {
                metrics::counter!("jobs_completed_total", "kind" => kind).increment(1);
                self.queue.complete(&job).await
            }
            Err(e) if job.attempt >= job.max_attempts => {
                tracing::error!(job_id = %job.id, kind, attempt = job.attempt, error = %e.report(), "job failed for the last time: dead-lettered");
                metrics::counter!("jobs_dead_total", "kind" => kind).increment(1);
                self.queue.fail(&job, &e.report(), None).await
            }
            Err(e) => {
                let delay = self.backoff(job.attempt);
                tracing::warn!(job_id = %job.id, kind, attempt = job.attempt, retry_in_s = delay.as_secs_f64(), error = %e.report(), "job failed; will retry");
                metrics::counter!("jobs_failed_total", "kind" => kind).increment(1);
                let at = chrono::Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                self.queue.fail(&job, &e.report(), Some(at)).await
            }
        };
        if let Err(e) = recorded {
            // The lease runs out and the job runs again: handlers are idempotent.
            tracing::warn!(job_id = %job.id, error = %e.report(), "job outcome not recorded");
        }
    }

    async fn publish_stats(&self) {
        match self.admin.stats().await {
            Ok(s) => {
                metrics::gauge!("jobs_queue_depth", "state" => "queued").set(s.queued as f64);
                metrics::gauge!("jobs_queue_depth", "state" => "running").set(s.running as f64);
                metrics::gauge!("jobs_queue_depth", "state" => "dead").set(s.dead as f64);
                metrics::gauge!("jobs_oldest_due_age_seconds").set(s.oldest_due_secs as f64);
            }
            Err(e) => tracing::debug!(error = %e.report(), "queue stats unavailable"),
        }
    }

    /// `base * 2^(attempt-1)`, at most an hour, with ±25% jitter so retries do not stampede.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.backoff_base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let capped = exp.min(Duration::from_secs(3600));
        capped.mul_f64(rand::rng().random_range(0.75..1.25))
    }
}
