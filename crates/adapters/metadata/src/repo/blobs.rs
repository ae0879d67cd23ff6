use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Set};
use streamvault_core::ports::{BlobIndex, BlobRecord, BlobState, NewJob};
use streamvault_core::{Error, Result};

use super::{from_ms, i64_of, jobs, to_ms};
use crate::MetadataStore;
use crate::entity::blob;
use crate::error::db_err;

pub(crate) const LIVE: &str = "live";
pub(crate) const COLLECTING: &str = "collecting";

#[derive(Clone)]
pub struct SqlBlobIndex {
    store: MetadataStore,
}

impl SqlBlobIndex {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

fn to_domain(m: blob::Model) -> Result<BlobRecord> {
    let state = match (m.state.as_str(), m.collect_until) {
        (LIVE, _) => BlobState::Live,
        (COLLECTING, until) => BlobState::Collecting { until: from_ms(until.unwrap_or(0)) },
        (other, _) => return Err(Error::bug(format!("blob {} has unknown state {other:?}", m.sha256))),
    };
    Ok(BlobRecord {
        size: u64::try_from(m.size).unwrap_or(0),
        held_by: m.held_by,
        refs: u64::try_from(m.refs).unwrap_or(0),
        state,
    })
}

#[async_trait]
impl BlobIndex for SqlBlobIndex {
    async fn get(&self, sha256: &str) -> Result<Option<BlobRecord>> {
        let row = blob::Entity::find_by_id(sha256.to_owned()).one(self.store.connection()).await.map_err(db_err)?;
        row.map(to_domain).transpose()
    }

    async fn record(&self, sha256: &str, size: u64, held_by: Option<&str>, collect: &NewJob) -> Result<bool> {
        let txn = self.store.begin().await?;
        let row = blob::ActiveModel {
            sha256: Set(sha256.to_owned()),
            size: Set(i64_of(size)),
            created_at: Set(to_ms(Utc::now())),
            held_by: Set(held_by.map(str::to_owned)),
            refs: Set(0),
            state: Set(LIVE.to_owned()),
            collect_until: Set(None),
        };
        blob::Entity::insert(row)
            .on_conflict_do_nothing_on([blob::Column::Sha256])
            .exec_without_returning(&txn)
            .await
            .map_err(db_err)?;
        // New or known, the row must be live: a known one is taken over by this node (or stays
        // in the primary store); a row being collected is not touched. (Rows matched, not
        // changed, on every backend: MySQL connections report found rows.)
        let res = blob::Entity::update_many()
            .col_expr(blob::Column::HeldBy, Expr::value(held_by.map(str::to_owned)))
            .filter(blob::Column::Sha256.eq(sha256))
            .filter(blob::Column::State.eq(LIVE))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            txn.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        jobs::enqueue(&txn, collect).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn mark_transferred(&self, sha256: &str, node: &str) -> Result<bool> {
        let res = blob::Entity::update_many()
            .col_expr(blob::Column::HeldBy, Expr::value(Option::<String>::None))
            .filter(blob::Column::Sha256.eq(sha256))
            .filter(blob::Column::HeldBy.eq(node))
            .filter(blob::Column::State.eq(LIVE))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn begin_collect(&self, sha256: &str, until: DateTime<Utc>) -> Result<Option<BlobRecord>> {
        let now = to_ms(Utc::now());
        // One conditional update decides: a live row nobody references, or a collection whose
        // collector ran out of time. A reference counted meanwhile makes it match nothing.
        let collectable = Condition::any()
            .add(Condition::all().add(blob::Column::State.eq(LIVE)).add(blob::Column::Refs.eq(0)))
            .add(Condition::all().add(blob::Column::State.eq(COLLECTING)).add(blob::Column::CollectUntil.lt(now)));
        let res = blob::Entity::update_many()
            .col_expr(blob::Column::State, Expr::value(COLLECTING))
            .col_expr(blob::Column::CollectUntil, Expr::value(to_ms(until)))
            .filter(blob::Column::Sha256.eq(sha256))
            .filter(collectable)
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            return Ok(None);
        }
        self.get(sha256).await
    }

    async fn end_collect(&self, sha256: &str) -> Result<()> {
        blob::Entity::delete_many()
            .filter(blob::Column::Sha256.eq(sha256))
            .filter(blob::Column::State.eq(COLLECTING))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
