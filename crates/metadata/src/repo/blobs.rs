use async_trait::async_trait;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use streamvault_core::Result;
use streamvault_core::ports::BlobIndex;

use super::to_ms;
use crate::MetadataStore;
use crate::entity::{blob, file, video};
use crate::error::db_err;

#[derive(Clone)]
pub struct SqlBlobIndex {
    store: MetadataStore,
}

impl SqlBlobIndex {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

#[async_trait]
impl BlobIndex for SqlBlobIndex {
    async fn record(&self, sha256: &str, size: u64) -> Result<()> {
        let row = blob::ActiveModel {
            sha256: Set(sha256.to_owned()),
            size: Set(i64::try_from(size).unwrap_or(i64::MAX)),
            created_at: Set(to_ms(chrono::Utc::now())),
            held_by: Set(None),
        };
        blob::Entity::insert(row)
            .on_conflict_do_nothing_on([blob::Column::Sha256])
            .exec_without_returning(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn find(&self, sha256: &str) -> Result<Option<u64>> {
        let row = blob::Entity::find_by_id(sha256.to_owned()).one(self.store.connection()).await.map_err(db_err)?;
        Ok(row.map(|b| u64::try_from(b.size).unwrap_or(0)))
    }

    async fn holder(&self, sha256: &str) -> Result<Option<String>> {
        let row = blob::Entity::find_by_id(sha256.to_owned()).one(self.store.connection()).await.map_err(db_err)?;
        Ok(row.and_then(|b| b.held_by))
    }

    async fn record_held(&self, sha256: &str, size: u64, node: &str) -> Result<()> {
        let row = blob::ActiveModel {
            sha256: Set(sha256.to_owned()),
            size: Set(i64::try_from(size).unwrap_or(i64::MAX)),
            created_at: Set(to_ms(chrono::Utc::now())),
            held_by: Set(Some(node.to_owned())),
        };
        blob::Entity::insert(row)
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(blob::Column::Sha256)
                    .update_column(blob::Column::HeldBy)
                    .to_owned(),
            )
            .exec_without_returning(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn mark_transferred(&self, sha256: &str, node: &str) -> Result<bool> {
        let res = blob::Entity::update_many()
            .col_expr(blob::Column::HeldBy, sea_orm::sea_query::Expr::value(Option::<String>::None))
            .filter(blob::Column::Sha256.eq(sha256))
            .filter(blob::Column::HeldBy.eq(node))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn references(&self, sha256: &str) -> Result<u64> {
        let conn = self.store.connection();
        let videos =
            video::Entity::find().filter(video::Column::SourceSha256.eq(sha256)).count(conn).await.map_err(db_err)?;
        let files = file::Entity::find().filter(file::Column::Sha256.eq(sha256)).count(conn).await.map_err(db_err)?;
        Ok(videos + files)
    }

    async fn forget_if_unreferenced(&self, sha256: &str) -> Result<bool> {
        if self.references(sha256).await? > 0 {
            return Ok(false);
        }
        let res = blob::Entity::delete_by_id(sha256.to_owned()).exec(self.store.connection()).await.map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }
}
