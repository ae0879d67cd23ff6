use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    /// The name as the user typed it at sign-up.
    pub name: String,
    /// An argon2id PHC string; never leaves the server.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait UserRepo: Send + Sync {
    /// Inserts a user; fails with `Error::Conflict` when the name (compared case-insensitively)
    /// is taken, including by a concurrent insert.
    async fn insert(&self, user: &User) -> Result<()>;
    /// Finds a user by name, case-insensitively.
    async fn find_by_name(&self, name: &str) -> Result<Option<User>>;
    async fn find_by_id(&self, id: Uuid) -> Result<Option<User>>;
    /// Replaces the user's password hash.
    async fn set_password_hash(&self, id: Uuid, hash: &str) -> Result<()>;
}
