//! Sessions verified lately, kept in the process for a few seconds: a signed-in read would
//! otherwise cost two database trips (the session, then its user) before its own work. A
//! session that ends leaves the cache of every replica at once, through the event bus (topic
//! [`SESSIONS_TOPIC`], the user's id); the time-to-live bounds what a replica that missed the
//! message (the bus down, a lagging subscriber) may still accept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Authenticated;
use crate::ids::{Id, UserId};
use crate::ports::{EventBus, Missed};

/// The bus topic that says "forget the sessions of this user".
pub const SESSIONS_TOPIC: &str = "sessions";
/// The most sessions kept; past it, the oldest are dropped first.
const MAX_ENTRIES: usize = 50_000;

#[derive(Clone)]
pub struct SessionCache {
    entries: Arc<Mutex<HashMap<String, (Authenticated, Instant)>>>,
    ttl: Duration,
}

impl SessionCache {
    /// A cache keeping each verified session `ttl`; zero keeps none.
    pub fn new(ttl: Duration) -> Self {
        Self { entries: Arc::default(), ttl }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Authenticated, Instant)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session with this token hash, if verified within the time-to-live.
    pub fn get(&self, token_hash: &str) -> Option<Authenticated> {
        let entries = self.lock();
        let (auth, at) = entries.get(token_hash)?;
        (at.elapsed() < self.ttl).then(|| auth.clone())
    }

    pub fn put(&self, token_hash: String, auth: Authenticated) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(token_hash, (auth, Instant::now()));
    }

    /// Forgets every cached session of `user` (one of them ended, or all did).
    pub fn forget_user(&self, user: UserId) {
        self.lock().retain(|_, (a, _)| a.user.id != user);
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Forgets what other replicas say has ended, until the bus closes. Subscribes before it
    /// returns, so nothing published after this call is missed.
    pub fn follow(&self, bus: &dyn EventBus) -> tokio::task::JoinHandle<()> {
        let mut sub = bus.subscribe(SESSIONS_TOPIC);
        let cache = self.clone();
        tokio::spawn(async move {
            loop {
                match sub.recv().await {
                    Ok(msg) => match std::str::from_utf8(&msg).ok().and_then(|m| UserId::parse(m).ok()) {
                        Some(user) => cache.forget_user(user),
                        None => cache.clear(),
                    },
                    // Whatever was missed may have ended a session: start over.
                    Err(Missed::Lagged(_)) => cache.clear(),
                    Err(Missed::Closed) => {
                        cache.clear();
                        return;
                    }
                }
            }
        })
    }
}
