use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use streamvault_core::Result;
use streamvault_core::ports::{Limit, LoginThrottle};
use tokio::time::Instant;

/// Login attempts counted in this process, a fixed window per key: the same rule as the Redis
/// adapter (`INCR`, with the window's expiry set on the first attempt), so one contract holds
/// for both. (governor's GCRA cannot take an attempt back or forget one key.)
#[derive(Default)]
pub struct LocalLoginThrottle {
    windows: Mutex<HashMap<String, Window>>,
}

struct Window {
    attempts: u32,
    ends: Instant,
}

/// Past this many keys, ended windows are dropped before a new one is added.
const TIDY_AT: usize = 10_000;

impl LocalLoginThrottle {
    pub fn new() -> Self {
        Self::default()
    }

    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<String, Window>> {
        // A poisoned map only holds counters; they are still consistent.
        self.windows.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl LoginThrottle for LocalLoginThrottle {
    async fn attempt(&self, key: &str, limit: Limit) -> Result<Option<Duration>> {
        let now = Instant::now();
        let mut windows = self.windows();
        if windows.len() >= TIDY_AT {
            windows.retain(|_, w| w.ends > now);
        }
        let w = windows.entry(key.to_owned()).or_insert(Window { attempts: 0, ends: now + limit.window });
        if w.ends <= now {
            *w = Window { attempts: 0, ends: now + limit.window };
        }
        w.attempts = w.attempts.saturating_add(1);
        Ok((w.attempts > limit.max).then(|| w.ends - now))
    }

    async fn forgive(&self, key: &str) -> Result<()> {
        if let Some(w) = self.windows().get_mut(key) {
            w.attempts = w.attempts.saturating_sub(1);
        }
        Ok(())
    }

    async fn reset(&self, key: &str) -> Result<()> {
        self.windows().remove(key);
        Ok(())
    }
}
