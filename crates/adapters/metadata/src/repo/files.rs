use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use streamvault_core::drive::{DriveFile, FileQuery, FileSort};
use streamvault_core::ids::{FileId, FolderId, UserId};
use streamvault_core::ports::{Charge, FileRepo, NewJob, Referenced};
use streamvault_core::{Error, Result};
use uuid::Uuid;

use super::{from_ms, i64_of, jobs, quota, to_ms};
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

pub(crate) fn to_domain(m: file::Model) -> DriveFile {
    DriveFile {
        id: m.id.into(),
        owner_id: m.owner_id.into(),
        folder_id: m.folder_id.map(Into::into),
        name: m.name,
        sha256: m.sha256,
        size: u64::try_from(m.size).unwrap_or(0),
        mime: m.mime,
        created_at: from_ms(m.created_at),
        updated_at: from_ms(m.updated_at),
    }
}

/// `NotFound("folder")` unless `folder_id` is one of `owner`'s folders (in `txn`, under the
/// owner's tree lock).
pub(crate) async fn check_folder(txn: &impl ConnectionTrait, owner: Uuid, folder_id: Uuid) -> Result<()> {
    let found = folder::Entity::find_by_id(folder_id)
        .filter(folder::Column::OwnerId.eq(owner))
        .one(txn)
        .await
        .map_err(db_err)?;
    found.map(|_| ()).ok_or(Error::NotFound("folder"))
}

#[async_trait]
impl FileRepo for SqlFileRepo {
    async fn insert(&self, f: &DriveFile, charge: &Charge) -> Result<Referenced<()>> {
        let txn = self.store.begin().await?;
        match f.folder_id {
            // The tree lock: the folder cannot be deleted between the check and the insert.
            Some(folder_id) => {
                quota::lock_tree(&txn, f.owner_id.into()).await?;
                check_folder(&txn, f.owner_id.into(), folder_id.into()).await?;
            }
            None => quota::lock_user(&txn, f.owner_id.into()).await?,
        }
        quota::charge(&txn, f.owner_id.into(), charge, f.size).await?;
        if !quota::add_ref(&txn, &f.sha256).await? {
            txn.rollback().await.map_err(db_err)?;
            return Ok(Referenced::BlobGone);
        }
        file::ActiveModel {
            id: Set(f.id.into()),
            owner_id: Set(f.owner_id.into()),
            folder_id: Set(f.folder_id.map(Into::into)),
            name: Set(f.name.clone()),
            sha256: Set(f.sha256.clone()),
            size: Set(i64_of(f.size)),
            mime: Set(f.mime.clone()),
            created_at: Set(to_ms(f.created_at)),
            updated_at: Set(to_ms(f.updated_at)),
            deleted_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        Ok(Referenced::Made(()))
    }

    async fn get(&self, id: FileId) -> Result<Option<DriveFile>> {
        let id: Uuid = id.into();
        let row = file::Entity::find_by_id(id)
            .filter(file::Column::DeletedAt.is_null())
            .one(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(row.map(to_domain))
    }

    async fn list(&self, q: &FileQuery) -> Result<Vec<DriveFile>> {
        let mut sel = file::Entity::find()
            .filter(file::Column::OwnerId.eq(q.owner_id.uuid()))
            .filter(file::Column::DeletedAt.is_null());
        sel = match q.folder_id {
            Some(f) => sel.filter(file::Column::FolderId.eq(f.uuid())),
            None => sel.filter(file::Column::FolderId.is_null()),
        };
        let order = if q.descending { Order::Desc } else { Order::Asc };
        // Keyset: after (key, id) in the listing's order; the id breaks ties.
        if let Some(after) = &q.after {
            let past_id =
                if q.descending { file::Column::Id.lt(after.id.uuid()) } else { file::Column::Id.gt(after.id.uuid()) };
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

    async fn update(&self, owner_id: UserId, id: FileId, name: &str, folder_id: Option<FolderId>) -> Result<bool> {
        let owner_id: Uuid = owner_id.into();
        let id: Uuid = id.into();
        let folder_id: Option<Uuid> = folder_id.map(Uuid::from);
        let txn = self.store.begin().await?;
        if let Some(f) = folder_id {
            quota::lock_tree(&txn, owner_id).await?;
            check_folder(&txn, owner_id, f).await?;
        }
        let res = file::Entity::update_many()
            .col_expr(file::Column::Name, Expr::value(name))
            .col_expr(file::Column::FolderId, Expr::value(folder_id))
            .col_expr(file::Column::UpdatedAt, Expr::value(to_ms(chrono::Utc::now())))
            .filter(file::Column::Id.eq(id))
            .filter(file::Column::OwnerId.eq(owner_id))
            .filter(file::Column::DeletedAt.is_null())
            .exec(&txn)
            .await
            .map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        Ok(res.rows_affected == 1)
    }

    async fn delete(&self, owner_id: UserId, id: FileId, job: &NewJob) -> Result<bool> {
        let owner_id: Uuid = owner_id.into();
        let id: Uuid = id.into();
        let txn = self.store.begin().await?;
        quota::lock_user(&txn, owner_id).await?;
        let hidden = hide(&txn, owner_id, &[id]).await?;
        if hidden == 0 {
            txn.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        jobs::enqueue(&txn, job).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn purge_deleted(&self, id: FileId) -> Result<Option<String>> {
        let id: Uuid = id.into();
        let conn = self.store.connection();
        let Some(row) = file::Entity::find_by_id(id)
            .filter(file::Column::DeletedAt.is_not_null())
            .one(conn)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        let txn = self.store.begin().await?;
        let res = file::Entity::delete_many()
            .filter(file::Column::Id.eq(id))
            .filter(file::Column::DeletedAt.is_not_null())
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if res.rows_affected == 1 {
            quota::drop_ref(&txn, &row.sha256).await?;
        }
        txn.commit().await.map_err(db_err)?;
        Ok((res.rows_affected == 1).then_some(row.sha256))
    }
}

/// Hides the owner's live files among `ids` (soft delete) and gives their bytes back to the
/// owner's quota, in `txn` (whose user row is locked). Returns how many it hid.
pub(crate) async fn hide(txn: &impl ConnectionTrait, owner_id: Uuid, ids: &[Uuid]) -> Result<u64> {
    let now = to_ms(chrono::Utc::now());
    let mut hidden = 0;
    // In slices: some databases cap the parameters of one statement.
    for chunk in ids.chunks(500) {
        let live = file::Entity::find()
            .filter(file::Column::OwnerId.eq(owner_id))
            .filter(file::Column::Id.is_in(chunk.to_vec()))
            .filter(file::Column::DeletedAt.is_null())
            .all(txn)
            .await
            .map_err(db_err)?;
        if live.is_empty() {
            continue;
        }
        let res = file::Entity::update_many()
            .col_expr(file::Column::DeletedAt, Expr::value(now))
            .filter(file::Column::Id.is_in(live.iter().map(|f| f.id).collect::<Vec<_>>()))
            .filter(file::Column::DeletedAt.is_null())
            .exec(txn)
            .await
            .map_err(db_err)?;
        hidden += res.rows_affected;
        let bytes: u64 = live.iter().map(|f| u64::try_from(f.size).unwrap_or(0)).sum();
        quota::refund(txn, owner_id, bytes).await?;
    }
    Ok(hidden)
}
