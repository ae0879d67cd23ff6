use crate::accounts::User;
use crate::ids::UserId;
use async_trait::async_trait;

use crate::Result;

#[async_trait]
pub trait UserRepo: Send + Sync {
    /// Inserts a user; fails with `Error::Conflict` when the name (compared case-insensitively)
    /// is taken, including by a concurrent insert.
    async fn insert(&self, user: &User) -> Result<()>;
    /// Finds a user by name, case-insensitively.
    async fn find_by_name(&self, name: &str) -> Result<Option<User>>;
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>>;
    /// Replaces the user's password hash.
    async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<()>;
}
