use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, FromQueryResult, JoinType, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, RelationDef, Set,
};
use streamvault_core::Result;
use streamvault_core::ids::UserId;
use streamvault_core::paging::{Cursor, Page, PageRequest};
use streamvault_core::ports::BlockRepo;
use streamvault_core::social::Blocked;
use uuid::Uuid;

use super::{after_ranked, lock_user};
use crate::MetadataStore;
use crate::entity::social::{block, feed_entry, follow};
use crate::entity::user;
use crate::error::{db_err, is_unique_violation};
use crate::repo::{from_ms, to_ms};

#[derive(Clone)]
pub struct SqlBlockRepo {
    store: MetadataStore,
}

impl SqlBlockRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

/// The blocked one no longer follows the blocker, nor has their videos in a feed.
async fn unfollow(txn: &sea_orm::DatabaseTransaction, blocker: UserId, blocked: UserId) -> Result<()> {
    follow::Entity::delete_by_id((blocked.uuid(), blocker.uuid())).exec(txn).await.map_err(db_err)?;
    feed_entry::Entity::delete_many()
        .filter(feed_entry::Column::UserId.eq(blocked.uuid()))
        .filter(feed_entry::Column::AuthorId.eq(blocker.uuid()))
        .exec(txn)
        .await
        .map_err(db_err)?;
    Ok(())
}

#[derive(FromQueryResult)]
struct Row {
    blocked_id: Uuid,
    name: String,
    created_at: i64,
}

#[async_trait]
impl BlockRepo for SqlBlockRepo {
    async fn block(&self, blocker: UserId, blocked: UserId, at: DateTime<Utc>) -> Result<bool> {
        let txn = self.store.begin().await?;
        // The blocker's row, as a follow of theirs takes it: the two take turns.
        lock_user(&txn, blocker.uuid()).await?;
        let made = block::ActiveModel {
            blocker_id: Set(blocker.uuid()),
            blocked_id: Set(blocked.uuid()),
            created_at: Set(to_ms(at)),
        }
        .insert(&txn)
        .await;
        let new = match made {
            Ok(_) => true,
            Err(e) if is_unique_violation(&e) => {
                txn.rollback().await.map_err(db_err)?;
                return Ok(false);
            }
            Err(e) => return Err(db_err(e)),
        };
        unfollow(&txn, blocker, blocked).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(new)
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<bool> {
        let res = block::Entity::delete_by_id((blocker.uuid(), blocked.uuid()))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn is_blocked(&self, blocker: UserId, blocked: UserId) -> Result<bool> {
        let n = block::Entity::find_by_id((blocker.uuid(), blocked.uuid()))
            .count(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(n > 0)
    }

    async fn blocked(&self, blocker: UserId, page: PageRequest) -> Result<Page<Blocked>> {
        let rel: RelationDef =
            block::Entity::belongs_to(user::Entity).from(block::Column::BlockedId).to(user::Column::Id).into();
        let mut q = block::Entity::find()
            .select_only()
            .columns([block::Column::BlockedId, block::Column::CreatedAt])
            .column(user::Column::Name)
            .join(JoinType::InnerJoin, rel)
            .filter(block::Column::BlockerId.eq(blocker.uuid()));
        if let Some(after) = page.after {
            q = q.filter(after_ranked(block::Column::CreatedAt, block::Column::BlockedId, after, true));
        }
        let rows = q
            .order_by_desc(block::Column::CreatedAt)
            .order_by_desc(block::Column::BlockedId)
            .limit(page.limit + 1)
            .into_model::<Row>()
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        let items = rows
            .into_iter()
            .map(|r| Blocked { user_id: r.blocked_id.into(), name: r.name, since: from_ms(r.created_at) })
            .collect();
        Ok(Page::from_rows(items, page.limit, |b: &Blocked| Cursor {
            id: b.user_id.uuid(),
            rank: Some(to_ms(b.since)),
        }))
    }
}
