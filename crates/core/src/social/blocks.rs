//! Blocks: a blocked user cannot message the blocker, comment on their videos or follow them.
//! Nobody is told of a block; the blocked one's attempts are refused like any other refusal.

use super::{Blocked, Social};
use crate::accounts::{User, now_ms};
use crate::ids::UserId;
use crate::paging::{Page, PageRequest};
use crate::{Error, ErrorCode, Result};

impl Social {
    /// `user` blocks `name` (idempotent); a follow of theirs on `user` ends.
    pub async fn block(&self, user: &User, name: &str) -> Result<()> {
        let other = self.videos.find_user(name).await?;
        if other.id == user.id {
            return Err(Error::conflict(ErrorCode::SelfTarget, "you cannot block yourself"));
        }
        self.stores.blocks.block(user.id, other.id, now_ms()).await?;
        Ok(())
    }

    pub async fn unblock(&self, user: &User, name: &str) -> Result<()> {
        let other = self.videos.find_user(name).await?;
        self.stores.blocks.unblock(user.id, other.id).await?;
        Ok(())
    }

    pub async fn blocked(&self, user: &User, page: PageRequest) -> Result<Page<Blocked>> {
        self.stores.blocks.blocked(user.id, page).await
    }

    /// Refuses `actor`'s `what` when `target` blocked them (a refusal that says no more than
    /// any other).
    pub(crate) async fn not_blocked(&self, target: UserId, actor: UserId, what: &'static str) -> Result<()> {
        if target != actor && self.stores.blocks.is_blocked(target, actor).await? {
            return Err(Error::Forbidden(what));
        }
        Ok(())
    }
}
