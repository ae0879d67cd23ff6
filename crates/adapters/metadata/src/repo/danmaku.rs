use async_trait::async_trait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use streamvault_core::ids::{DanmakuId, UserId, VideoId};
use streamvault_core::live::{Danmaku, Mode, Size};
use streamvault_core::ports::DanmakuRepo;
use streamvault_core::{Error, Result};

use super::{from_ms, i64_of, to_ms};
use crate::MetadataStore;
use crate::entity::{danmaku, danmaku_filter, video};
use crate::error::db_err;

#[derive(Clone)]
pub struct SqlDanmakuRepo {
    store: MetadataStore,
}

impl SqlDanmakuRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

fn to_domain(m: danmaku::Model) -> Result<Danmaku> {
    let bad = |what: &str| Error::bug(format!("danmaku {} has an unknown {what}", m.id));
    Ok(Danmaku {
        id: m.id.into(),
        video_id: m.video_id.into(),
        t_ms: u64::try_from(m.t_ms).unwrap_or(0),
        mode: Mode::from_bilibili(m.mode).ok_or_else(|| bad("mode"))?,
        color: u32::try_from(m.color).map_err(|_| bad("color"))?,
        size: Size::from_bilibili(m.size).ok_or_else(|| bad("size"))?,
        text: m.text.clone(),
        sender: m.sender_id.into(),
        created_at: from_ms(m.created_at),
        hidden: m.hidden,
    })
}

#[async_trait]
impl DanmakuRepo for SqlDanmakuRepo {
    async fn insert(&self, d: &Danmaku) -> Result<()> {
        danmaku::ActiveModel {
            id: Set(d.id.uuid()),
            video_id: Set(d.video_id.uuid()),
            t_ms: Set(i64_of(d.t_ms)),
            mode: Set(d.mode.bilibili()),
            color: Set(i32::try_from(d.color).unwrap_or(0xFF_FF_FF)),
            size: Set(d.size.bilibili()),
            text: Set(d.text.clone()),
            sender_id: Set(d.sender.uuid()),
            created_at: Set(to_ms(d.created_at)),
            hidden: Set(d.hidden),
        }
        .insert(self.store.connection())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn get(&self, id: DanmakuId) -> Result<Option<Danmaku>> {
        let m = danmaku::Entity::find_by_id(id.uuid()).one(self.store.connection()).await.map_err(db_err)?;
        m.map(to_domain).transpose()
    }

    async fn segment(&self, video: VideoId, from_ms: u64, to_ms: u64, limit: u64) -> Result<Vec<Danmaku>> {
        // The most recent `limit` (ids are time-ordered), then in the order of the video.
        let rows = danmaku::Entity::find()
            .filter(danmaku::Column::VideoId.eq(video.uuid()))
            .filter(danmaku::Column::Hidden.eq(false))
            .filter(danmaku::Column::TMs.gte(i64_of(from_ms)))
            .filter(danmaku::Column::TMs.lt(i64_of(to_ms)))
            .order_by_desc(danmaku::Column::Id)
            .limit(limit)
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        let mut list = rows.into_iter().map(to_domain).collect::<Result<Vec<_>>>()?;
        list.sort_by(|a, b| a.t_ms.cmp(&b.t_ms).then(a.id.cmp(&b.id)));
        Ok(list)
    }

    async fn count(&self, video: VideoId) -> Result<u64> {
        danmaku::Entity::find()
            .filter(danmaku::Column::VideoId.eq(video.uuid()))
            .filter(danmaku::Column::Hidden.eq(false))
            .count(self.store.connection())
            .await
            .map_err(db_err)
    }

    async fn delete(&self, id: DanmakuId) -> Result<bool> {
        let r = danmaku::Entity::delete_by_id(id.uuid()).exec(self.store.connection()).await.map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    async fn hide(&self, id: DanmakuId) -> Result<bool> {
        let r = danmaku::Entity::update_many()
            .col_expr(danmaku::Column::Hidden, Expr::value(true))
            .filter(danmaku::Column::Id.eq(id.uuid()))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    async fn enabled(&self, video: VideoId) -> Result<bool> {
        let conn = self.store.connection();
        let q = Query::select()
            .column(Alias::new("danmaku_off"))
            .from(video::Entity)
            .and_where(Expr::col(video::Column::Id).eq(video.uuid()))
            .to_owned();
        let row = conn.query_one(&q).await.map_err(db_err)?;
        let off: bool = match row {
            Some(r) => r.try_get_by_index(0).map_err(db_err)?,
            None => return Err(Error::NotFound("video")),
        };
        Ok(!off)
    }

    async fn set_enabled(&self, video: VideoId, on: bool) -> Result<()> {
        let conn = self.store.connection();
        let q = Query::update()
            .table(video::Entity)
            .value(Alias::new("danmaku_off"), !on)
            .and_where(Expr::col(video::Column::Id).eq(video.uuid()))
            .to_owned();
        conn.execute(&q).await.map_err(db_err)?;
        Ok(())
    }

    async fn density(&self, video: VideoId, bucket_ms: u64) -> Result<Vec<(u64, u64)>> {
        // The bucket is written into the SQL as a number (it is ours, not the caller's): with
        // a bound parameter PostgreSQL could not tell the grouped expression is the selected one.
        let bucket = Expr::cust(format!("t_ms - t_ms % {}", Ord::max(bucket_ms, 1)));
        let q = Query::select()
            .expr_as(bucket.clone(), Alias::new("b"))
            .expr_as(Expr::col(danmaku::Column::Id).count(), Alias::new("n"))
            .from(danmaku::Entity)
            .and_where(Expr::col(danmaku::Column::VideoId).eq(video.uuid()))
            .and_where(Expr::col(danmaku::Column::Hidden).eq(false))
            .add_group_by([bucket])
            .order_by(Alias::new("b"), sea_orm::Order::Asc)
            .to_owned();
        let rows = self.store.connection().query_all(&q).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let b: i64 = r.try_get_by_index(0).map_err(db_err)?;
                let n: i64 = r.try_get_by_index(1).map_err(db_err)?;
                Ok((u64::try_from(b).unwrap_or(0), u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }

    async fn blocked_words(&self, owner: UserId) -> Result<Vec<String>> {
        let row =
            danmaku_filter::Entity::find_by_id(owner.uuid()).one(self.store.connection()).await.map_err(db_err)?;
        match row {
            None => Ok(Vec::new()),
            Some(r) => serde_json::from_str(&r.words)
                .map_err(|e| Error::internal_in(format!("the blocked words of {owner} are not a JSON list"), e)),
        }
    }

    async fn set_blocked_words(&self, owner: UserId, words: &[String]) -> Result<()> {
        let json = serde_json::to_string(words).map_err(Error::internal)?;
        danmaku_filter::Entity::insert(danmaku_filter::ActiveModel { owner_id: Set(owner.uuid()), words: Set(json) })
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(danmaku_filter::Column::OwnerId)
                    .update_column(danmaku_filter::Column::Words)
                    .to_owned(),
            )
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
