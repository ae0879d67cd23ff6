use std::time::Duration;

use crate::accounts::Session;
use crate::ids::{SessionId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// Where sessions live: the metadata store by default, Redis when configured. Every replica
/// must see the others' sessions and logouts at once.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session. `idle` lets stores with native expiry (Redis) set a TTL.
    async fn create(&self, session: &Session, idle: Duration) -> Result<()>;
    async fn find_by_token_hash(&self, token_hash: &str) -> Result<Option<Session>>;
    /// Records activity, pushing the idle expiry forward.
    async fn touch(&self, session: &Session, at: DateTime<Utc>, idle: Duration) -> Result<()>;
    async fn list_for_user(&self, user_id: UserId) -> Result<Vec<Session>>;
    /// Deletes one of `user_id`'s sessions; `false` if it was not theirs or did not exist.
    async fn delete(&self, user_id: UserId, session_id: SessionId) -> Result<bool>;
    /// Deletes all of a user's sessions but `keep`; returns how many went.
    async fn delete_all_for_user(&self, user_id: UserId, keep: Option<SessionId>) -> Result<u64>;
    /// Removes sessions that are past their deadline; returns how many went.
    async fn purge_expired(&self, now: DateTime<Utc>, idle: Duration) -> Result<u64>;
}
