use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use streamvault_core::ids::{UserId, VideoId};
use streamvault_core::paging::{Cursor, Page, PageRequest};
use streamvault_core::ports::HistoryRepo;
use streamvault_core::social::HistoryEntry;
use streamvault_core::{Error, Result};
use uuid::Uuid;

use super::{after_ranked, videos_by_id, videos_joined, visible_to};
use crate::MetadataStore;
use crate::entity::social::watch_history;
use crate::entity::user;
use crate::error::db_err;
use crate::repo::videos::live;
use crate::repo::{from_ms, i64_of, to_ms};

#[derive(Clone)]
pub struct SqlHistoryRepo {
    store: MetadataStore,
}

impl SqlHistoryRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

#[async_trait]
impl HistoryRepo for SqlHistoryRepo {
    async fn record(&self, user: UserId, video: VideoId, position_ms: u64, at: DateTime<Utc>) -> Result<bool> {
        if self.paused(user).await? {
            return Ok(false);
        }
        watch_history::Entity::insert(watch_history::ActiveModel {
            user_id: Set(user.uuid()),
            video_id: Set(video.uuid()),
            position_ms: Set(i64_of(position_ms)),
            watched_at: Set(to_ms(at)),
        })
        .on_conflict(
            OnConflict::columns([watch_history::Column::UserId, watch_history::Column::VideoId])
                .update_columns([watch_history::Column::PositionMs, watch_history::Column::WatchedAt])
                .to_owned(),
        )
        .exec_without_returning(self.store.connection())
        .await
        .map_err(db_err)?;
        Ok(true)
    }

    async fn list(&self, user: UserId, page: PageRequest) -> Result<Page<HistoryEntry>> {
        let mut q = videos_joined::<watch_history::Entity>(live(), watch_history::Column::VideoId)
            .filter(watch_history::Column::UserId.eq(user.uuid()))
            .filter(visible_to(Some(user.uuid())));
        if let Some(after) = page.after {
            q = q.filter(after_ranked(watch_history::Column::WatchedAt, watch_history::Column::VideoId, after, true));
        }
        // The page's places first, then their videos, joined back by id.
        let places: Vec<(Uuid, i64, i64)> = q
            .select_only()
            .column(watch_history::Column::VideoId)
            .column(watch_history::Column::PositionMs)
            .column(watch_history::Column::WatchedAt)
            .order_by_desc(watch_history::Column::WatchedAt)
            .order_by_desc(watch_history::Column::VideoId)
            .limit(page.limit + 1)
            .into_tuple()
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        let mut videos = videos_by_id(&self.store, places.iter().map(|p| p.0).collect()).await?;
        let items: Vec<_> = places
            .into_iter()
            .filter_map(|(vid, pos, at)| {
                videos.remove(&vid).map(|video| HistoryEntry {
                    video,
                    position_ms: u64::try_from(pos).unwrap_or(0),
                    watched_at: from_ms(at),
                })
            })
            .collect();
        Ok(Page::from_rows(items, page.limit, |e| Cursor { id: e.video.id.uuid(), rank: Some(to_ms(e.watched_at)) }))
    }

    async fn position(&self, user: UserId, video: VideoId) -> Result<Option<u64>> {
        let row = watch_history::Entity::find_by_id((user.uuid(), video.uuid()))
            .one(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(row.map(|r| u64::try_from(r.position_ms).unwrap_or(0)))
    }

    async fn clear(&self, user: UserId, video: Option<VideoId>) -> Result<u64> {
        let mut q = watch_history::Entity::delete_many().filter(watch_history::Column::UserId.eq(user.uuid()));
        if let Some(v) = video {
            q = q.filter(watch_history::Column::VideoId.eq(v.uuid()));
        }
        Ok(q.exec(self.store.connection()).await.map_err(db_err)?.rows_affected)
    }

    async fn set_paused(&self, user: UserId, paused: bool) -> Result<()> {
        let res = user::Entity::update_many()
            .col_expr(user::Column::HistoryPaused, Expr::value(paused))
            .filter(user::Column::Id.eq(user.uuid()))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 { Err(Error::NotFound("user")) } else { Ok(()) }
    }

    async fn paused(&self, user: UserId) -> Result<bool> {
        let paused: Option<bool> = user::Entity::find_by_id(user.uuid())
            .select_only()
            .column(user::Column::HistoryPaused)
            .into_tuple()
            .one(self.store.connection())
            .await
            .map_err(db_err)?;
        paused.ok_or(Error::NotFound("user"))
    }
}
