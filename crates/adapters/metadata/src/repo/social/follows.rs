use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, FromQueryResult, JoinType, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, RelationDef, Set,
};
use streamvault_core::ids::{UserId, VideoId};
use streamvault_core::paging::{Cursor, Page, PageRequest};
use streamvault_core::ports::FollowRepo;
use streamvault_core::social::{FollowCounts, Followed};
use streamvault_core::videos::Video;
use streamvault_core::{Error, Result};
use uuid::Uuid;

use super::{INSERT_CHUNK, after_ranked, lock_user, videos_joined};
use crate::MetadataStore;
use crate::entity::social::{block, feed_entry, follow};
use crate::entity::{user, video};
use crate::error::{db_err, is_unique_violation};
use crate::repo::videos::{fetch, live, public_only};
use crate::repo::{from_ms, to_ms};

#[derive(Clone)]
pub struct SqlFollowRepo {
    store: MetadataStore,
}

impl SqlFollowRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

#[derive(FromQueryResult)]
struct FollowedRow {
    followee_id: Uuid,
    name: String,
    created_at: i64,
}

async fn insert_entries(conn: &impl sea_orm::ConnectionTrait, rows: Vec<feed_entry::ActiveModel>) -> Result<()> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        feed_entry::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing_on([feed_entry::Column::UserId, feed_entry::Column::VideoId])
            .exec_without_returning(conn)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

#[async_trait]
impl FollowRepo for SqlFollowRepo {
    async fn follow(&self, follower: UserId, followee: UserId, at: DateTime<Utc>, backfill: u64) -> Result<bool> {
        let txn = self.store.begin().await?;
        lock_user(&txn, followee.uuid()).await?;
        let blocked =
            block::Entity::find_by_id((followee.uuid(), follower.uuid())).count(&txn).await.map_err(db_err)?;
        if blocked > 0 {
            txn.rollback().await.map_err(db_err)?;
            return Err(Error::Forbidden("you cannot follow this channel"));
        }
        // A plain insert: "already following" is the key's violation (on MySQL an upsert's
        // count cannot tell a duplicate from a new row).
        let made = follow::ActiveModel {
            follower_id: Set(follower.uuid()),
            followee_id: Set(followee.uuid()),
            created_at: Set(to_ms(at)),
        }
        .insert(&txn)
        .await;
        match made {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                txn.rollback().await.map_err(db_err)?;
                return Ok(false);
            }
            Err(e) => return Err(db_err(e)),
        }
        let newest: Vec<Uuid> = video::Entity::find()
            .select_only()
            .column(video::Column::Id)
            .filter(video::Column::AuthorId.eq(followee.uuid()))
            .filter(video::Column::DeletedAt.is_null())
            .filter(public_only())
            .order_by_desc(video::Column::Id)
            .limit(backfill)
            .into_tuple()
            .all(&txn)
            .await
            .map_err(db_err)?;
        let rows = newest
            .into_iter()
            .map(|v| feed_entry::ActiveModel {
                user_id: Set(follower.uuid()),
                video_id: Set(v),
                author_id: Set(followee.uuid()),
            })
            .collect();
        insert_entries(&txn, rows).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<bool> {
        let txn = self.store.begin().await?;
        let gone = follow::Entity::delete_by_id((follower.uuid(), followee.uuid())).exec(&txn).await.map_err(db_err)?;
        feed_entry::Entity::delete_many()
            .filter(feed_entry::Column::UserId.eq(follower.uuid()))
            .filter(feed_entry::Column::AuthorId.eq(followee.uuid()))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        Ok(gone.rows_affected > 0)
    }

    async fn is_following(&self, follower: UserId, followee: UserId) -> Result<bool> {
        let n = follow::Entity::find_by_id((follower.uuid(), followee.uuid()))
            .count(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(n > 0)
    }

    async fn counts(&self, user: UserId) -> Result<FollowCounts> {
        let conn = self.store.connection();
        let followers = follow::Entity::find()
            .filter(follow::Column::FolloweeId.eq(user.uuid()))
            .count(conn)
            .await
            .map_err(db_err)?;
        let following = follow::Entity::find()
            .filter(follow::Column::FollowerId.eq(user.uuid()))
            .count(conn)
            .await
            .map_err(db_err)?;
        Ok(FollowCounts { followers, following })
    }

    async fn following(&self, user: UserId, page: PageRequest) -> Result<Page<Followed>> {
        let rel: RelationDef =
            follow::Entity::belongs_to(user::Entity).from(follow::Column::FolloweeId).to(user::Column::Id).into();
        let mut q = follow::Entity::find()
            .select_only()
            .columns([follow::Column::FolloweeId, follow::Column::CreatedAt])
            .column(user::Column::Name)
            .join(JoinType::InnerJoin, rel)
            .filter(follow::Column::FollowerId.eq(user.uuid()));
        if let Some(after) = page.after {
            q = q.filter(after_ranked(follow::Column::CreatedAt, follow::Column::FolloweeId, after, true));
        }
        let rows = q
            .order_by_desc(follow::Column::CreatedAt)
            .order_by_desc(follow::Column::FolloweeId)
            .limit(page.limit + 1)
            .into_model::<FollowedRow>()
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        let items = rows
            .into_iter()
            .map(|r| Followed { user_id: r.followee_id.into(), name: r.name, since: from_ms(r.created_at) })
            .collect();
        Ok(Page::from_rows(items, page.limit, |f: &Followed| Cursor {
            id: f.user_id.uuid(),
            rank: Some(to_ms(f.since)),
        }))
    }

    async fn followers_after(&self, followee: UserId, after: Option<UserId>, limit: u64) -> Result<Vec<UserId>> {
        // A follower the channel blocked is never reached, whatever a race left behind.
        let blocked = sea_orm::sea_query::Query::select()
            .column(block::Column::BlockedId)
            .from(block::Entity)
            .and_where(block::Column::BlockerId.eq(followee.uuid()))
            .to_owned();
        let mut q = follow::Entity::find()
            .select_only()
            .column(follow::Column::FollowerId)
            .filter(follow::Column::FolloweeId.eq(followee.uuid()))
            .filter(follow::Column::FollowerId.not_in_subquery(blocked));
        if let Some(after) = after {
            q = q.filter(follow::Column::FollowerId.gt(after.uuid()));
        }
        let ids: Vec<Uuid> = q
            .order_by_asc(follow::Column::FollowerId)
            .limit(limit)
            .into_tuple()
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(ids.into_iter().map(UserId::from).collect())
    }

    async fn add_to_feeds(&self, video: VideoId, author: UserId, users: &[UserId]) -> Result<()> {
        let rows = users
            .iter()
            .map(|u| feed_entry::ActiveModel {
                user_id: Set(u.uuid()),
                video_id: Set(video.uuid()),
                author_id: Set(author.uuid()),
            })
            .collect();
        insert_entries(self.store.connection(), rows).await
    }

    async fn feed(&self, user: UserId, page: PageRequest) -> Result<Page<Video>> {
        let mut q = videos_joined::<feed_entry::Entity>(live(), feed_entry::Column::VideoId)
            .filter(feed_entry::Column::UserId.eq(user.uuid()))
            .filter(public_only());
        if let Some(after) = page.after {
            q = q.filter(feed_entry::Column::VideoId.lt(after.id));
        }
        // Newest first along the inbox's own key, `(user_id, video_id)`: ids are time-ordered.
        let q = q.order_by_desc(feed_entry::Column::VideoId).limit(page.limit + 1);
        let rows = fetch(&self.store, q).await?;
        Ok(Page::from_rows(rows, page.limit, |v| Cursor { id: v.id.uuid(), rank: None }))
    }
}
