//! Throttling of failed logins per account.
//!
//! The policy: `max_failures` failed logins per `window` are tolerated; after that the account
//! refuses logins (429) until the window has let enough failures age out. The embedded default
//! is [`LocalLoginThrottle`] (governor's GCRA, per replica); the Redis adapter shares the state
//! across replicas.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub max_failures: u32,
    pub window: Duration,
}

#[async_trait]
pub trait LoginThrottle: Send + Sync {
    /// `Some(retry_after)` while the key is locked out.
    async fn locked_for(&self, key: &str) -> Result<Option<Duration>>;
    /// Counts one failure; returns `Some(retry_after)` if the key is now locked out.
    async fn record_failure(&self, key: &str) -> Result<Option<Duration>>;
    /// Forgets the key's failures (after a successful login).
    async fn reset(&self, key: &str) -> Result<()>;
}

/// Per-replica throttle on governor. Governor has no "peek", so the moment a key runs out of
/// cells is remembered in `locked_until`, which `locked_for` reads without consuming anything.
pub struct LocalLoginThrottle {
    limiter: DefaultKeyedRateLimiter<String>,
    quota: Quota,
    locked_until: Mutex<HashMap<String, Instant>>,
}

impl LocalLoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        let burst = NonZeroU32::new(policy.max_failures.max(1)).unwrap_or(NonZeroU32::MIN);
        let period = (policy.window / burst.get()).max(Duration::from_millis(1));
        let quota = Quota::with_period(period).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst);
        Self { limiter: DefaultKeyedRateLimiter::keyed(quota), quota, locked_until: Mutex::default() }
    }

    fn locks(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        // A poisoned map only holds deadlines; the data is still consistent.
        self.locked_until.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl LoginThrottle for LocalLoginThrottle {
    async fn locked_for(&self, key: &str) -> Result<Option<Duration>> {
        let now = Instant::now();
        let mut locks = self.locks();
        match locks.get(key) {
            Some(until) if *until > now => Ok(Some(*until - now)),
            Some(_) => {
                locks.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn record_failure(&self, key: &str) -> Result<Option<Duration>> {
        let key = key.to_owned();
        match self.limiter.check_key(&key) {
            Ok(()) => Ok(None),
            Err(not_until) => {
                // Locked until one cell replenishes.
                let wait = not_until.wait_time_from(DefaultClock::default().now()).max(self.quota.replenish_interval());
                let mut locks = self.locks();
                if locks.len() > 10_000 {
                    let now = Instant::now();
                    locks.retain(|_, until| *until > now);
                    self.limiter.retain_recent();
                }
                locks.insert(key, Instant::now() + wait);
                Ok(Some(wait))
            }
        }
    }

    async fn reset(&self, key: &str) -> Result<()> {
        self.locks().remove(key);
        // Governor cannot forget one key; a success only lifts the lock, and the GCRA state
        // ages out on its own within one window.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn locks_after_max_failures_and_only_that_key() {
        let t = LocalLoginThrottle::new(ThrottlePolicy { max_failures: 3, window: Duration::from_secs(60) });
        for _ in 0..3 {
            assert_eq!(t.record_failure("alice").await.unwrap(), None);
            assert_eq!(t.locked_for("alice").await.unwrap(), None);
        }
        let wait = t.record_failure("alice").await.unwrap().expect("fourth failure locks");
        assert!(wait <= Duration::from_secs(20) && wait > Duration::ZERO, "{wait:?}");
        assert!(t.locked_for("alice").await.unwrap().is_some());
        assert_eq!(t.locked_for("bob").await.unwrap(), None);
    }

    #[tokio::test]
    async fn lock_expires() {
        let t = LocalLoginThrottle::new(ThrottlePolicy { max_failures: 1, window: Duration::from_millis(100) });
        assert_eq!(t.record_failure("k").await.unwrap(), None);
        assert!(t.record_failure("k").await.unwrap().is_some());
        assert!(t.locked_for("k").await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(t.locked_for("k").await.unwrap(), None);
    }
}
