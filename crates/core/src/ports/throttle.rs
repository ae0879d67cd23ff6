//! Throttling of login attempts, per account and per client address.
//!
//! An attempt is counted before its password is checked, atomically with the check of the
//! limit, so a burst of guesses cannot all be verified before the first failure is recorded:
//! once a key has used its attempts for the window, further attempts are refused (429) without
//! looking at the password, the right one included, until the window ends. A successful login
//! resets its account and takes its attempt back from its address. The embedded default keeps
//! the counts in the process; the Redis adapter shares them across replicas.

use std::time::Duration;

use async_trait::async_trait;

use crate::Result;

/// At most `max` attempts per `window` (a fixed window from the first attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

/// The limits logins run under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Per account (failed attempts: a success resets it).
    pub account: Limit,
    /// Per client address, over every account it tries.
    pub client: Limit,
}

#[async_trait]
pub trait LoginThrottle: Send + Sync {
    /// Counts an attempt against `key`; `Some(retry_after)` when it is over `limit` (the
    /// attempt must then not be made).
    async fn attempt(&self, key: &str, limit: Limit) -> Result<Option<Duration>>;
    /// Takes one counted attempt back (it succeeded, or was never made).
    async fn forgive(&self, key: &str) -> Result<()>;
    /// Forgets the key's attempts.
    async fn reset(&self, key: &str) -> Result<()>;

    /// Counts one action against each key's limit, in order: 429 (`TooManyRequests`) at the
    /// first that is over.
    async fn attempt_all(&self, limits: &[(String, Limit)]) -> Result<()> {
        for (key, limit) in limits {
            if let Some(retry_after) = self.attempt(key, *limit).await? {
                return Err(crate::Error::TooManyRequests { retry_after });
            }
        }
        Ok(())
    }
}
