//! What the accounts domain is made of: users and their sessions.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ids::{SessionId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// The name as the user typed it at sign-up.
    pub name: String,
    /// An argon2id PHC string; never leaves the server.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

/// A login. The bearer token itself is never stored: only its SHA-256 (`token_hash`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// A public id, so that a user can list and end sessions without seeing their tokens.
    pub id: SessionId,
    pub token_hash: String,
    pub user_id: UserId,
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
