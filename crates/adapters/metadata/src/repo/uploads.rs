use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use streamvault_core::ids::UploadId;
use streamvault_core::ports::{Acquired, AppendRecord, AppendedBytes, UploadRepo};
use streamvault_core::uploads::{Concat, Segment, Upload, UploadResult};
use streamvault_core::{Error, Result};
use uuid::Uuid;

use super::{from_ms, i64_of, to_ms};
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

fn parts(s: &str) -> Vec<&str> {
    s.split(',').filter(|p| !p.is_empty()).collect()
}

fn to_domain(m: upload::Model) -> Result<Upload> {
    let corrupt = |what: &str| Error::bug(format!("upload {} has a corrupt {what}", m.id));
    Ok(Upload {
        id: m.id.into(),
        owner_id: m.owner_id.into(),
        length: m.length.and_then(|l| u64::try_from(l).ok()),
        offset: u64::try_from(m.offset).unwrap_or(0),
        concat: Concat::parse(&m.concat).ok_or_else(|| corrupt("concat"))?,
        segments: parts(&m.segments)
            .into_iter()
            .map(Segment::parse)
            .collect::<Option<_>>()
            .ok_or_else(|| corrupt("segment"))?,
        parts: parts(&m.parts)
            .into_iter()
            .map(|p| p.parse::<UploadId>())
            .collect::<Result<_, _>>()
            .map_err(|_| corrupt("part"))?,
        result: m.result.as_deref().map(|r| UploadResult::decode(r).ok_or_else(|| corrupt("result"))).transpose()?,
        metadata: m.metadata,
        filename: m.filename,
        video_id: m.video_id.map(Into::into),
        data_file: m.data_file,
        hash_state: m.hash_state,
        expires_at: from_ms(m.expires_at),
        created_at: from_ms(m.created_at),
    })
}

#[async_trait]
impl UploadRepo for SqlUploadRepo {
    async fn insert(&self, u: &Upload) -> Result<()> {
        let now = to_ms(Utc::now());
        let row = upload::ActiveModel {
            id: Set(u.id.into()),
            owner_id: Set(u.owner_id.into()),
            length: Set(u.length.map(i64_of)),
            offset: Set(i64_of(u.offset)),
            metadata: Set(u.metadata.clone()),
            filename: Set(u.filename.clone()),
            video_id: Set(u.video_id.map(Into::into)),
            concat: Set(u.concat.as_str().to_owned()),
            segments: Set(join(&u.segments.iter().map(Segment::name).collect::<Vec<_>>())),
            parts: Set(join(&u.parts)),
            result: Set(u.result.map(UploadResult::encode)),
            hash_state: Set(u.hash_state.clone()),
            data_file: Set(u.data_file.clone()),
            lock_holder: Set(None),
            lock_until: Set(None),
            expires_at: Set(to_ms(u.expires_at)),
            created_at: Set(to_ms(u.created_at)),
            updated_at: Set(now),
        };
        upload::Entity::insert(row).exec_without_returning(self.store.connection()).await.map_err(db_err)?;
        Ok(())
    }

    async fn get(&self, id: UploadId) -> Result<Option<Upload>> {
        let id: Uuid = id.into();
        let row = upload::Entity::find_by_id(id).one(self.store.connection()).await.map_err(db_err)?;
        row.map(to_domain).transpose()
    }

    async fn acquire(&self, id: UploadId, holder: &str, lease: Duration) -> Result<Option<Acquired>> {
        let id: Uuid = id.into();
        let now = to_ms(Utc::now());
        let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let take = |cond: Condition| {
            upload::Entity::update_many()
                .col_expr(upload::Column::LockHolder, Expr::value(holder))
                .col_expr(upload::Column::LockUntil, Expr::value(until))
                .filter(upload::Column::Id.eq(id))
                .filter(cond)
                .exec(self.store.connection())
        };
        if take(Condition::all().add(upload::Column::LockHolder.is_null())).await.map_err(db_err)?.rows_affected == 1 {
            return Ok(Some(Acquired::Free));
        }
        // A holder whose lease ran out without letting go: it may be stalled, not dead.
        let stale =
            Condition::all().add(upload::Column::LockHolder.is_not_null()).add(upload::Column::LockUntil.lt(now));
        if take(stale).await.map_err(db_err)?.rows_affected == 1 {
            return Ok(Some(Acquired::TakenOver));
        }
        Ok(None)
    }

    async fn renew(&self, id: UploadId, holder: &str, lease: Duration) -> Result<bool> {
        let id: Uuid = id.into();
        let now = to_ms(Utc::now());
        let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let res = upload::Entity::update_many()
            .col_expr(upload::Column::LockUntil, Expr::value(until))
            .filter(upload::Column::Id.eq(id))
            .filter(upload::Column::LockHolder.eq(holder))
            .filter(upload::Column::LockUntil.gte(now))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected == 1)
    }

    async fn release(&self, id: UploadId, holder: &str) -> Result<()> {
        let id: Uuid = id.into();
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

    async fn record(&self, a: &AppendRecord) -> Result<bool> {
        let conn = self.store.connection();
        let Some(row) = upload::Entity::find_by_id(a.id).one(conn).await.map_err(db_err)? else {
            return Ok(false);
        };
        let mut q = upload::Entity::update_many()
            .col_expr(upload::Column::Offset, Expr::value(i64_of(a.to)))
            .col_expr(upload::Column::ExpiresAt, Expr::value(to_ms(a.expires_at)))
            .col_expr(upload::Column::UpdatedAt, Expr::value(to_ms(Utc::now())));
        match &a.bytes {
            Some(AppendedBytes::Segment(seg)) => {
                let mut segments: Vec<&str> = parts(&row.segments);
                let name = seg.name();
                segments.push(&name);
                q = q.col_expr(upload::Column::Segments, Expr::value(segments.join(",")));
            }
            Some(AppendedBytes::File(file)) => {
                q = q.col_expr(upload::Column::DataFile, Expr::value(file.clone()));
            }
            None => {}
        }
        if let Some(len) = a.length {
            q = q.col_expr(upload::Column::Length, Expr::value(i64_of(len)));
        }
        if let Some(state) = &a.hash_state {
            q = q.col_expr(upload::Column::HashState, Expr::value(state.clone()));
        }
        // The segment list read above is only extended by the lock's holder, which is us.
        let res = q
            .filter(upload::Column::Id.eq(a.id.uuid()))
            .filter(upload::Column::Offset.eq(i64_of(a.from)))
            .filter(upload::Column::LockHolder.eq(a.holder.as_str()))
            .exec(conn)
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected == 1)
    }

    async fn finish(&self, id: UploadId, result: UploadResult) -> Result<()> {
        let id: Uuid = id.into();
        upload::Entity::update_many()
            .col_expr(upload::Column::Result, Expr::value(result.encode()))
            .col_expr(upload::Column::Segments, Expr::value(""))
            .col_expr(upload::Column::DataFile, Expr::value(Option::<String>::None))
            .col_expr(upload::Column::UpdatedAt, Expr::value(to_ms(Utc::now())))
            .filter(upload::Column::Id.eq(id))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete(&self, id: UploadId) -> Result<bool> {
        let id: Uuid = id.into();
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
        rows.into_iter().map(to_domain).collect()
    }
}
