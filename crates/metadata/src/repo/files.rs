use async_trait::async_trait;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use streamvault_core::Result;
use streamvault_core::paging::{Cursor, Page, PageRequest};
use streamvault_core::ports::{DriveFile, FileRepo};
use uuid::Uuid;

use super::{from_ms, to_ms};
use crate::MetadataStore;
use crate::entity::file;
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

    async fn list_by_owner(&self, owner_id: Uuid, page: PageRequest) -> Result<Page<DriveFile>> {
        let mut q =
            file::Entity::find().filter(file::Column::OwnerId.eq(owner_id)).filter(file::Column::DeletedAt.is_null());
        if let Some(after) = page.after {
            q = q.filter(file::Column::Id.lt(after.id));
        }
        let rows = q
            .order_by_desc(file::Column::Id)
            .limit(page.limit + 1)
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(Page::from_rows(rows.into_iter().map(to_domain).collect(), page.limit, |f| Cursor { id: f.id, rank: None }))
    }
}
