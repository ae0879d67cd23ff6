use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use streamvault_core::Result;
use streamvault_core::ports::{Concat, Upload, UploadRepo};
use uuid::Uuid;

use super::{from_ms, to_ms};
use crate::MetadataStore;
use crate::entity::upload;
use crate::error::db_err;

#[derive(Clone)]
pub struct SqlUploadRepo {
    store: MetadataStore,
}

impl SqlUploadRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

fn join<T: ToString>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

fn split<T: std::str::FromStr>(s: &str) -> Vec<T> {
    s.split(',').filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect()
}

fn to_domain(m: upload::Model) -> Upload {
    Upload {
        id: m.id,
        owner_id: m.owner_id,
        length: m.length.and_then(|l| u64::try_from(l).ok()),
        offset: u64::try_from(m.offset).unwrap_or(0),
        metadata: m.metadata,
        filename: m.filename,
        video_id: m.video_id,
        concat: Concat::parse(&m.concat),
        segments: split(&m.segments),
        parts: split(&m.parts),
        result: m.result,
        hash_state: m.hash_state,
        expires_at: from_ms(m.expires_at),
        created_at: from_ms(m.created_at),
    }
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[async_trait]
impl UploadRepo for SqlUploadRepo {
    async fn insert(&self, u: &Upload) -> Result<()> {
        let now = to_ms(Utc::now());
        let row = upload::ActiveModel {
            id: Set(u.id),
            owner_id: Set(u.owner_id),
            length: Set(u.length.map(i)),
            offset: Set(i(u.offset)),
            metadata: Set(u.metadata.clone()),
            filename: Set(u.filename.clone()),
            video_id: Set(u.video_id),
            concat: Set(u.concat.as_str().to_owned()),
            segments: Set(join(&u.segments)),
            parts: Set(join(&u.parts)),
            result: Set(u.result.clone()),
            hash_state: Set(u.hash_state.clone()),
            lock_holder: Set(None),
            lock_until: Set(None),
            expires_at: Set(to_ms(u.expires_at)),
            created_at: Set(to_ms(u.created_at)),
            updated_at: Set(now),
        };
        upload::Entity::insert(row).exec_without_returning(self.store.connection()).await.map_err(db_err)?;
        Ok(())
    }

    async fn get(&self, id: Uuid) -> Result<Option<Upload>> {
        let row = upload::Entity::find_by_id(id).one(self.store.connection()).await.map_err(db_err)?;
        Ok(row.map(to_domain))
    }

    async fn lock(&self, id: Uuid, holder: &str, lease: Duration) -> Result<bool> {
        let now = to_ms(Utc::now());
        let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let free = Condition::any()
            .add(upload::Column::LockHolder.is_null())
            .add(upload::Column::LockHolder.eq(holder))
            .add(upload::Column::LockUntil.lt(now));
        let res = upload::Entity::update_many()
            .col_expr(upload::Column::LockHolder, Expr::value(holder))
            .col_expr(upload::Column::LockUntil, Expr::value(until))
            .filter(upload::Column::Id.eq(id))
            .filter(free)
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected == 1)
    }

    async fn unlock(&self, id: Uuid, holder: &str) -> Result<()> {
        upload::Entity::update_many()
            .col_expr(upload::Column::LockHolder, Expr::value(Option::<String>::None))
            .col_expr(upload::Column::LockUntil, Expr::value(Option::<i64>::None))
            .filter(upload::Column::Id.eq(id))
            .filter(upload::Column::LockHolder.eq(holder))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn append(
        &self,
        id: Uuid,
        holder: &str,
        name: &str,
        from: u64,
        to: u64,
        length: Option<u64>,
        hash_state: Option<&str>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool> {
        let conn = self.store.connection();
        let Some(row) = upload::Entity::find_by_id(id).one(conn).await.map_err(db_err)? else {
            return Ok(false);
        };
        let mut segments: Vec<String> = split(&row.segments);
        if to > from && !name.is_empty() {
            segments.push(name.to_owned());
        }
        let mut q = upload::Entity::update_many()
            .col_expr(upload::Column::Offset, Expr::value(i(to)))
            .col_expr(upload::Column::Segments, Expr::value(join(&segments)))
            .col_expr(upload::Column::ExpiresAt, Expr::value(to_ms(expires_at)))
            .col_expr(upload::Column::UpdatedAt, Expr::value(to_ms(Utc::now())));
        if let Some(len) = length {
            q = q.col_expr(upload::Column::Length, Expr::value(i(len)));
        }
        if let Some(state) = hash_state {
            q = q.col_expr(upload::Column::HashState, Expr::value(state));
        }
        let res = q
            .filter(upload::Column::Id.eq(id))
            .filter(upload::Column::Offset.eq(i(from)))
            .filter(upload::Column::LockHolder.eq(holder))
            .exec(conn)
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected == 1)
    }

    async fn finish(&self, id: Uuid, result: &str) -> Result<()> {
        upload::Entity::update_many()
            .col_expr(upload::Column::Result, Expr::value(result))
            .col_expr(upload::Column::Segments, Expr::value(""))
            .col_expr(upload::Column::UpdatedAt, Expr::value(to_ms(Utc::now())))
            .filter(upload::Column::Id.eq(id))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete(&self, id: Uuid) -> Result<bool> {
        let res = upload::Entity::delete_by_id(id).exec(self.store.connection()).await.map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn expired(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<Upload>> {
        let rows = upload::Entity::find()
            .filter(upload::Column::ExpiresAt.lt(to_ms(now)))
            .order_by_asc(upload::Column::ExpiresAt)
            .limit(limit)
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(to_domain).collect())
    }

    async fn pending_bytes(&self, owner_id: Uuid) -> Result<u64> {
        // A user has few uploads open at once: summing here keeps one query for every backend.
        let lengths: Vec<Option<i64>> = upload::Entity::find()
            .select_only()
            .column(upload::Column::Length)
            .filter(upload::Column::OwnerId.eq(owner_id))
            .filter(upload::Column::Result.is_null())
            .filter(upload::Column::Concat.ne("final"))
            .into_tuple()
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(lengths.into_iter().flatten().map(|l| u64::try_from(l).unwrap_or(0)).sum())
    }
}
