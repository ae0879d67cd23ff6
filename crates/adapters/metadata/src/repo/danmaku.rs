use async_trait::async_trait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use streamvault_core::ids::{DanmakuId, VideoId};
use streamvault_core::live::{Danmaku, Mode, Size};
use streamvault_core::ports::DanmakuRepo;
use streamvault_core::{Error, Result};

use super::{from_ms, i64_of, to_ms};
use crate::MetadataStore;
use crate::entity::{danmaku, video};
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
}
