use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use streamvault_core::Result;
use streamvault_core::ports::{DriveFile, FileQuery, FileRepo, FileSort, NewJob};
use uuid::Uuid;

use super::{from_ms, jobs, to_ms};
use crate::MetadataStore;
use crate::entity::{file, folder};
use crate::error::db_err;

#[derive(Clone)]
pub struct SqlFileRepo {
    store: MetadataStore,
}

impl SqlFileRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

fn to_domain(m: file::Model) -> DriveFile {
    DriveFile {
        id: m.id,
        owner_id: m.owner_id,
        folder_id: m.folder_id,
        name: m.name,
        sha256: m.sha256,
        size: u64::try_from(m.size).unwrap_or(0),
        mime: m.mime,
        created_at: from_ms(m.created_at),
        updated_at: from_ms(m.updated_at),
    }
}

#[async_trait]
impl FileRepo for SqlFileRepo {
    async fn insert(&self, f: &DriveFile) -> Result<()> {
        file::ActiveModel {
            id: Set(f.id),
            owner_id: Set(f.owner_id),
            folder_id: Set(f.folder_id),
            name: Set(f.name.clone()),
            sha256: Set(f.sha256.clone()),
            size: Set(i64::try_from(f.size).unwrap_or(i64::MAX)),
            mime: Set(f.mime.clone()),
            created_at: Set(to_ms(f.created_at)),
            updated_at: Set(to_ms(f.updated_at)),
            deleted_at: Set(None),
        }
        .insert(self.store.connection())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn get(&self, id: Uuid) -> Result<Option<DriveFile>> {
        let row = file::Entity::find_by_id(id)
            .filter(file::Column::DeletedAt.is_null())
            .one(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(row.map(to_domain))
    }

    async fn usage(&self, owner_id: Uuid) -> Result<u64> {
        let sizes: Vec<i64> = file::Entity::find()
            .select_only()
            .column(file::Column::Size)
            .filter(file::Column::OwnerId.eq(owner_id))
            .filter(file::Column::DeletedAt.is_null())
            .into_tuple()
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(sizes.into_iter().map(|s| u64::try_from(s).unwrap_or(0)).sum())
    }

    async fn list(&self, q: &FileQuery) -> Result<Vec<DriveFile>> {
        let mut sel =
            file::Entity::find().filter(file::Column::OwnerId.eq(q.owner_id)).filter(file::Column::DeletedAt.is_null());
        sel = match q.folder_id {
            Some(f) => sel.filter(file::Column::FolderId.eq(f)),
            None => sel.filter(file::Column::FolderId.is_null()),
        };
        let order = if q.descending { Order::Desc } else { Order::Asc };
        // Keyset: after (key, id) in the listing's order; the id breaks ties.
        if let Some(after) = &q.after {
            let past_id = if q.descending { file::Column::Id.lt(after.id) } else { file::Column::Id.gt(after.id) };
            let cond = match (q.sort, &after.name, after.size) {
                (FileSort::Name, Some(name), _) => {
                    let past = if q.descending {
                        file::Column::Name.lt(name.as_str())
                    } else {
                        file::Column::Name.gt(name.as_str())
                    };
                    Condition::any()
                        .add(past)
                        .add(Condition::all().add(file::Column::Name.eq(name.as_str())).add(past_id))
                }
                (FileSort::Size, _, Some(size)) => {
                    let size = i64::try_from(size).unwrap_or(i64::MAX);
                    let past = if q.descending { file::Column::Size.lt(size) } else { file::Column::Size.gt(size) };
                    Condition::any().add(past).add(Condition::all().add(file::Column::Size.eq(size)).add(past_id))
                }
                _ => Condition::all().add(past_id),
            };
            sel = sel.filter(cond);
        }
        sel = match q.sort {
            FileSort::Name => sel.order_by(file::Column::Name, order.clone()),
            FileSort::Size => sel.order_by(file::Column::Size, order.clone()),
            FileSort::Date => sel,
        };
        let rows =
            sel.order_by(file::Column::Id, order).limit(q.fetch).all(self.store.connection()).await.map_err(db_err)?;
        Ok(rows.into_iter().map(to_domain).collect())
    }

    async fn update(&self, id: Uuid, name: &str, folder_id: Option<Uuid>) -> Result<bool> {
        let res = file::Entity::update_many()
            .col_expr(file::Column::Name, Expr::value(name))
            .col_expr(file::Column::FolderId, Expr::value(folder_id))
            .col_expr(file::Column::UpdatedAt, Expr::value(to_ms(chrono::Utc::now())))
            .filter(file::Column::Id.eq(id))
            .filter(file::Column::DeletedAt.is_null())
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected == 1)
    }

    async fn delete(&self, owner_id: Uuid, files: &[Uuid], folders: &[Uuid], jobs: &[NewJob]) -> Result<u64> {
        let txn = self.store.connection().begin().await.map_err(db_err)?;
        let now = to_ms(chrono::Utc::now());
        let mut hidden = 0;
        // In slices: some databases cap the parameters of one statement.
        for chunk in files.chunks(500) {
            hidden += file::Entity::update_many()
                .col_expr(file::Column::DeletedAt, Expr::value(now))
                .filter(file::Column::OwnerId.eq(owner_id))
                .filter(file::Column::Id.is_in(chunk.to_vec()))
                .filter(file::Column::DeletedAt.is_null())
                .exec(&txn)
                .await
                .map_err(db_err)?
                .rows_affected;
        }
        for chunk in folders.chunks(500) {
            folder::Entity::delete_many()
                .filter(folder::Column::OwnerId.eq(owner_id))
                .filter(folder::Column::Id.is_in(chunk.to_vec()))
                .exec(&txn)
                .await
                .map_err(db_err)?;
        }
        for job in jobs {
            jobs::enqueue(&txn, job).await?;
        }
        txn.commit().await.map_err(db_err)?;
        Ok(hidden)
    }

    async fn purge_deleted(&self, id: Uuid) -> Result<Option<String>> {
        let conn = self.store.connection();
        let Some(row) = file::Entity::find_by_id(id)
            .filter(file::Column::DeletedAt.is_not_null())
            .one(conn)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        let res = file::Entity::delete_many()
            .filter(file::Column::Id.eq(id))
            .filter(file::Column::DeletedAt.is_not_null())
            .exec(conn)
            .await
            .map_err(db_err)?;
        Ok((res.rows_affected == 1).then_some(row.sha256))
    }

    async fn in_folders(&self, owner_id: Uuid, folders: &[Uuid]) -> Result<Vec<DriveFile>> {
        let mut out = Vec::new();
        for chunk in folders.chunks(500) {
            let rows = file::Entity::find()
                .filter(file::Column::OwnerId.eq(owner_id))
                .filter(file::Column::FolderId.is_in(chunk.to_vec()))
                .filter(file::Column::DeletedAt.is_null())
                .all(self.store.connection())
                .await
                .map_err(db_err)?;
            out.extend(rows.into_iter().map(to_domain));
        }
        Ok(out)
    }
}
