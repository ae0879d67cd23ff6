//! Drive folders, instant-upload challenges, and shared secrets.

use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use streamvault_core::ErrorCode;
use streamvault_core::drive::tree;
use streamvault_core::drive::{Challenge, Folder};
use streamvault_core::ids::{FolderId, UserId};
use streamvault_core::ports::{ChallengeRepo, DeleteJob, FolderRepo, SecretStore};
use streamvault_core::{Error, Result};
use uuid::Uuid;

use super::{files, from_ms, jobs, quota, to_ms};
use crate::MetadataStore;
use crate::entity::{challenge, file, folder, secret};
use crate::error::db_err;

#[derive(Clone)]
pub struct SqlFolderRepo {
    store: MetadataStore,
}

impl SqlFolderRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

fn to_domain(m: folder::Model) -> Folder {
    Folder {
        id: m.id.into(),
        owner_id: m.owner_id.into(),
        parent_id: m.parent_id.map(Into::into),
        name: m.name,
        created_at: from_ms(m.created_at),
        updated_at: from_ms(m.updated_at),
    }
}

#[async_trait]
impl FolderRepo for SqlFolderRepo {
    async fn insert(&self, f: &Folder) -> Result<()> {
        let txn = self.store.begin().await?;
        quota::lock_tree(&txn, f.owner_id.into()).await?;
        if let Some(parent) = f.parent_id {
            files::check_folder(&txn, f.owner_id.into(), parent.into()).await?;
        }
        let row = folder::ActiveModel {
            id: Set(f.id.into()),
            owner_id: Set(f.owner_id.into()),
            parent_id: Set(f.parent_id.map(Into::into)),
            name: Set(f.name.clone()),
            created_at: Set(to_ms(f.created_at)),
            updated_at: Set(to_ms(f.updated_at)),
        };
        folder::Entity::insert(row).exec_without_returning(&txn).await.map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn get(&self, id: FolderId) -> Result<Option<Folder>> {
        let id: Uuid = id.into();
        Ok(folder::Entity::find_by_id(id).one(self.store.connection()).await.map_err(db_err)?.map(to_domain))
    }

    async fn all_of(&self, owner_id: UserId) -> Result<Vec<Folder>> {
        let owner_id: Uuid = owner_id.into();
        all_of(self.store.connection(), owner_id).await
    }

    async fn update(&self, owner_id: UserId, id: FolderId, name: &str, parent_id: Option<FolderId>) -> Result<()> {
        let owner_id: Uuid = owner_id.into();
        let id: Uuid = id.into();
        let parent_id: Option<Uuid> = parent_id.map(Uuid::from);
        let txn = self.store.begin().await?;
        quota::lock_tree(&txn, owner_id).await?;
        // Checked under the lock: no other move of this owner's folders runs meanwhile.
        let all = all_of(&txn, owner_id).await?;
        if !all.iter().any(|f| f.id == id.into()) {
            return Err(Error::NotFound("folder"));
        }
        if let Some(p) = parent_id {
            if !all.iter().any(|f| f.id == p.into()) {
                return Err(Error::NotFound("folder"));
            }
            if tree::would_cycle(&all, id.into(), p.into()) {
                return Err(Error::Conflict {
                    code: ErrorCode::FolderCycle,
                    message: "a folder cannot move into itself or one of its subfolders".into(),
                });
            }
        }
        folder::Entity::update_many()
            .col_expr(folder::Column::Name, Expr::value(name))
            .col_expr(folder::Column::ParentId, Expr::value(parent_id))
            .col_expr(folder::Column::UpdatedAt, Expr::value(to_ms(chrono::Utc::now())))
            .filter(folder::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn delete_tree(&self, owner_id: UserId, id: FolderId, delete_job: DeleteJob<'_>) -> Result<u64> {
        let owner_id: Uuid = owner_id.into();
        let id: Uuid = id.into();
        let txn = self.store.begin().await?;
        quota::lock_tree(&txn, owner_id).await?;
        let all = all_of(&txn, owner_id).await?;
        if !all.iter().any(|f| f.id == id.into()) {
            return Err(Error::NotFound("folder"));
        }
        let folders = tree::subtree(&all, id.into());
        let mut doomed = Vec::new();
        for chunk in folders.chunks(500) {
            let rows = file::Entity::find()
                .filter(file::Column::OwnerId.eq(owner_id))
                .filter(file::Column::FolderId.is_in(chunk.iter().map(|f| f.uuid())))
                .filter(file::Column::DeletedAt.is_null())
                .all(&txn)
                .await
                .map_err(db_err)?;
            doomed.extend(rows.into_iter().map(files::to_domain));
        }
        let ids: Vec<Uuid> = doomed.iter().map(|f| f.id.uuid()).collect();
        let hidden = files::hide(&txn, owner_id, &ids).await?;
        for chunk in folders.chunks(500) {
            folder::Entity::delete_many()
                .filter(folder::Column::OwnerId.eq(owner_id))
                .filter(folder::Column::Id.is_in(chunk.iter().map(|f| f.uuid())))
                .exec(&txn)
                .await
                .map_err(db_err)?;
        }
        for f in &doomed {
            jobs::enqueue(&txn, &delete_job(f)).await?;
        }
        txn.commit().await.map_err(db_err)?;
        Ok(hidden)
    }
}

async fn all_of(conn: &impl ConnectionTrait, owner_id: Uuid) -> Result<Vec<Folder>> {
    let rows = folder::Entity::find().filter(folder::Column::OwnerId.eq(owner_id)).all(conn).await.map_err(db_err)?;
    Ok(rows.into_iter().map(to_domain).collect())
}

#[derive(Clone)]
pub struct SqlChallengeRepo {
    store: MetadataStore,
}

impl SqlChallengeRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

#[async_trait]
impl ChallengeRepo for SqlChallengeRepo {
    async fn insert(&self, c: &Challenge) -> Result<()> {
        let conn = self.store.connection();
        // Expired challenges go with each new one: the table stays small without a sweeper.
        challenge::Entity::delete_many()
            .filter(challenge::Column::ExpiresAt.lt(to_ms(chrono::Utc::now())))
            .exec(conn)
            .await
            .map_err(db_err)?;
        let i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let row = challenge::ActiveModel {
            nonce: Set(c.nonce.clone()),
            owner_id: Set(c.owner_id.into()),
            sha256: Set(c.sha256.clone()),
            size: Set(i(c.size)),
            offset: Set(i(c.offset)),
            length: Set(i(c.length)),
            expires_at: Set(to_ms(c.expires_at)),
        };
        challenge::Entity::insert(row).exec_without_returning(conn).await.map_err(db_err)?;
        Ok(())
    }

    async fn take(&self, nonce: &str) -> Result<Option<Challenge>> {
        let conn = self.store.connection();
        let Some(row) = challenge::Entity::find_by_id(nonce.to_owned()).one(conn).await.map_err(db_err)? else {
            return Ok(None);
        };
        // Whoever deletes the row answers it; a replayed answer finds nothing.
        let res = challenge::Entity::delete_by_id(nonce.to_owned()).exec(conn).await.map_err(db_err)?;
        if res.rows_affected != 1 {
            return Ok(None);
        }
        let u = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(Some(Challenge {
            nonce: row.nonce,
            owner_id: row.owner_id.into(),
            sha256: row.sha256,
            size: u(row.size),
            offset: u(row.offset),
            length: u(row.length),
            expires_at: from_ms(row.expires_at),
        }))
    }
}

#[derive(Clone)]
pub struct SqlSecretStore {
    store: MetadataStore,
}

impl SqlSecretStore {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

#[async_trait]
impl SecretStore for SqlSecretStore {
    async fn get_or_create(&self, name: &str, fresh: &str) -> Result<String> {
        let conn = self.store.connection();
        let row = secret::ActiveModel { name: Set(name.to_owned()), value: Set(fresh.to_owned()) };
        secret::Entity::insert(row)
            .on_conflict_do_nothing_on([secret::Column::Name])
            .exec_without_returning(conn)
            .await
            .map_err(db_err)?;
        let row = secret::Entity::find_by_id(name.to_owned()).one(conn).await.map_err(db_err)?;
        row.map(|r| r.value).ok_or_else(|| streamvault_core::Error::internal(format!("secret {name} vanished")))
    }
}
