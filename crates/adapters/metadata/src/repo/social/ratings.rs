use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use streamvault_core::Result;
use streamvault_core::ids::{UserId, VideoId};
use streamvault_core::ports::RatingRepo;
use streamvault_core::social::{Rating, RatingCounts};

use super::lock_video;
use crate::MetadataStore;
use crate::entity::social::video_rating;
use crate::entity::video;
use crate::error::db_err;
use crate::repo::to_ms;

#[derive(Clone)]
pub struct SqlRatingRepo {
    store: MetadataStore,
}

impl SqlRatingRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

fn counts_of(r: Option<Rating>) -> (i64, i64) {
    match r {
        Some(Rating::Like) => (1, 0),
        Some(Rating::Dislike) => (0, 1),
        None => (0, 0),
    }
}

#[async_trait]
impl RatingRepo for SqlRatingRepo {
    async fn rate(
        &self,
        video_id: VideoId,
        user: UserId,
        rating: Option<Rating>,
        at: DateTime<Utc>,
    ) -> Result<Option<RatingCounts>> {
        let (vid, uid) = (video_id.uuid(), user.uuid());
        let txn = self.store.begin().await?;
        // The video row first, for the whole transaction: ratings of one video take turns, so
        // reading the old rating and moving the counts cannot race. (Locking it later would
        // deadlock on MySQL: the rating's foreign-key check takes a shared lock on the row.)
        if lock_video(&txn, vid).await.map_err(db_err)?.is_none() {
            txn.rollback().await.map_err(db_err)?;
            return Ok(None);
        }
        let old = video_rating::Entity::find_by_id((vid, uid)).one(&txn).await.map_err(db_err)?;
        let before = old.as_ref().and_then(|r| Rating::from_value(r.rating));
        if before != rating {
            match (old, rating) {
                (Some(_), None) => {
                    video_rating::Entity::delete_by_id((vid, uid)).exec(&txn).await.map_err(db_err)?;
                }
                (Some(row), Some(r)) => {
                    let mut row: video_rating::ActiveModel = row.into();
                    row.rating = Set(r.value());
                    row.created_at = Set(to_ms(at));
                    row.update(&txn).await.map_err(db_err)?;
                }
                (None, Some(r)) => {
                    video_rating::ActiveModel {
                        video_id: Set(vid),
                        user_id: Set(uid),
                        rating: Set(r.value()),
                        created_at: Set(to_ms(at)),
                    }
                    .insert(&txn)
                    .await
                    .map_err(db_err)?;
                }
                (None, None) => {}
            }
            let ((l0, d0), (l1, d1)) = (counts_of(before), counts_of(rating));
            video::Entity::update_many()
                .col_expr(video::Column::Likes, Expr::col(video::Column::Likes).add(l1 - l0))
                .col_expr(video::Column::Dislikes, Expr::col(video::Column::Dislikes).add(d1 - d0))
                .filter(video::Column::Id.eq(vid))
                .exec(&txn)
                .await
                .map_err(db_err)?;
        }
        let (likes, dislikes) = video::Entity::find_by_id(vid)
            .select_only()
            .columns([video::Column::Likes, video::Column::Dislikes])
            .into_tuple::<(i64, i64)>()
            .one(&txn)
            .await
            .map_err(db_err)?
            .unwrap_or_default();
        txn.commit().await.map_err(db_err)?;
        Ok(Some(RatingCounts { likes, dislikes }))
    }

    async fn rating_of(&self, video_id: VideoId, user: UserId) -> Result<Option<Rating>> {
        let row = video_rating::Entity::find_by_id((video_id.uuid(), user.uuid()))
            .one(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(row.and_then(|r| Rating::from_value(r.rating)))
    }
}
