use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::Result;

/// A login. The bearer token itself is never stored: only its SHA-256 (`token_hash`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// A public id, so that a user can list and end sessions without seeing their tokens.
    pub id: Uuid,
    pub token_hash: String,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute expiry, fixed at creation.
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
}

impl Session {
    /// The moment the session dies: idle expiry or absolute expiry, whichever comes first.
    pub fn deadline(&self, idle: Duration) -> DateTime<Utc> {
        let idle_end = self.last_seen_at + chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::MAX);
        idle_end.min(self.expires_at)
    }

    pub fn is_live(&self, now: DateTime<Utc>, idle: Duration) -> bool {
        now < self.deadline(idle)
    }
}

/// Where sessions live: the metadata store by default, Redis when configured. Every replica
/// must see the others' sessions and logouts at once.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session. `idle` lets stores with native expiry (Redis) set a TTL.
    async fn create(&self, session: &Session, idle: Duration) -> Result<()>;
    async fn find_by_token_hash(&self, token_hash: &str) -> Result<Option<Session>>;
    /// Records activity, pushing the idle expiry forward.
    async fn touch(&self, session: &Session, at: DateTime<Utc>, idle: Duration) -> Result<()>;
    async fn list_for_user(&self, user_id: Uuid) -> Result<Vec<Session>>;
    /// Deletes one of `user_id`'s sessions; `false` if it was not theirs or did not exist.
    async fn delete(&self, user_id: Uuid, session_id: Uuid) -> Result<bool>;
    /// Deletes all of a user's sessions but `keep`; returns how many went.
    async fn delete_all_for_user(&self, user_id: Uuid, keep: Option<Uuid>) -> Result<u64>;
    /// Removes sessions that are past their deadline; returns how many went.
    async fn purge_expired(&self, now: DateTime<Utc>, idle: Duration) -> Result<u64>;
}
