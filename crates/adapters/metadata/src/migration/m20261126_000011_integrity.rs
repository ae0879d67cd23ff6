//! Integrity of stored bytes and of the limits on them:
//! - `blobs.refs` counts the files and videos that point at a blob, moved in the same
//!   transaction as the reference; `blobs.state` is `collecting` while the collector removes
//!   the bytes (until `collect_until`), so a new reference and a collection cannot interleave.
//! - `users.used_bytes` is the user's quota counter (files, video originals, and bytes held by
//!   uploads in flight in `quota_holds`), moved in the same transaction as what it pays for;
//!   `users.drive_rev` is bumped by every change to the folder tree, which makes such changes
//!   one at a time per user.
//! - `uploads.data_file` names the file a local upload appends to; it changes when a writer
//!   takes over an upload whose previous writer lost its lock.
//! - Repairs what races could leave: files and folders whose folder is gone move to the top,
//!   and folder cycles are broken.

use std::collections::{HashMap, HashSet};

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, FromQueryResult, Statement};

use super::util::{cascade, create_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    UsedBytes,
    DriveRev,
}

#[derive(DeriveIden)]
enum Blobs {
    Table,
    Refs,
    State,
    CollectUntil,
}

#[derive(DeriveIden)]
enum Uploads {
    Table,
    DataFile,
}

#[derive(DeriveIden)]
enum QuotaHolds {
    Table,
    Id,
    OwnerId,
    Bytes,
    ExpiresAt,
    CreatedAt,
}

#[derive(FromQueryResult)]
struct FolderRow {
    id: uuid::Uuid,
    parent_id: Option<uuid::Uuid>,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        let add = |table: DynIden, col: ColumnDef| Table::alter().table(table).add_column(col).to_owned();
        manager.alter_table(add(Users::Table.into_iden(), big_integer(Users::UsedBytes).default(0).to_owned())).await?;
        manager.alter_table(add(Users::Table.into_iden(), big_integer(Users::DriveRev).default(0).to_owned())).await?;
        manager.alter_table(add(Blobs::Table.into_iden(), big_integer(Blobs::Refs).default(0).to_owned())).await?;
        manager
            .alter_table(add(Blobs::Table.into_iden(), string_len(Blobs::State, 16).default("live").to_owned()))
            .await?;
        manager.alter_table(add(Blobs::Table.into_iden(), big_integer_null(Blobs::CollectUntil))).await?;
        manager.alter_table(add(Uploads::Table.into_iden(), string_len_null(Uploads::DataFile, 64))).await?;
        manager
            .create_table(
                create_table(manager, QuotaHolds::Table)
                    .col(pk_uuid(QuotaHolds::Id))
                    .col(uuid(QuotaHolds::OwnerId))
                    .col(big_integer(QuotaHolds::Bytes))
                    .col(big_integer_null(QuotaHolds::ExpiresAt))
                    .col(big_integer(QuotaHolds::CreatedAt))
                    .foreign_key(&mut cascade(
                        "fk_quota_holds_owner",
                        (QuotaHolds::Table, QuotaHolds::OwnerId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_quota_holds_expiry")
                    .table(QuotaHolds::Table)
                    .col(QuotaHolds::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        // Uploads appended in place (they keep a running hash) wrote to `uploads/<id>/data`.
        db.execute_unprepared("UPDATE uploads SET data_file = 'data' WHERE hash_state IS NOT NULL").await?;
        // Files in a folder that is gone go to the top. (MySQL cannot read the table an UPDATE
        // writes except through a derived table.)
        db.execute_unprepared(
            "UPDATE files SET folder_id = NULL WHERE folder_id IS NOT NULL \
             AND folder_id NOT IN (SELECT id FROM (SELECT id FROM folders) AS f)",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE folders SET parent_id = NULL WHERE parent_id IS NOT NULL \
             AND parent_id NOT IN (SELECT id FROM (SELECT id FROM folders) AS f)",
        )
        .await?;
        break_cycles(db).await?;
        db.execute_unprepared(
            "UPDATE blobs SET refs = \
             (SELECT COUNT(*) FROM files WHERE files.sha256 = blobs.sha256) + \
             (SELECT COUNT(*) FROM videos WHERE videos.source_sha256 = blobs.sha256)",
        )
        .await?;
        // Unfinished uploads hold what they declared (or received, when deferred).
        db.execute_unprepared(
            "INSERT INTO quota_holds (id, owner_id, bytes, expires_at, created_at) \
             SELECT id, owner_id, COALESCE(length, \"offset\"), NULL, created_at FROM uploads \
             WHERE result IS NULL AND concat <> 'final'"
                .replace('"', if db.get_database_backend() == sea_orm::DbBackend::MySql { "`" } else { "\"" })
                .as_str(),
        )
        .await?;
        db.execute_unprepared(
            "UPDATE users SET used_bytes = \
             COALESCE((SELECT SUM(size) FROM files WHERE files.owner_id = users.id AND files.deleted_at IS NULL), 0) + \
             COALESCE((SELECT SUM(source_size) FROM videos WHERE videos.author_id = users.id \
                       AND videos.deleted_at IS NULL AND videos.source_size IS NOT NULL), 0) + \
             COALESCE((SELECT SUM(bytes) FROM quota_holds WHERE quota_holds.owner_id = users.id), 0)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(QuotaHolds::Table).to_owned()).await?;
        let drop = |table: DynIden, col: DynIden| Table::alter().table(table).drop_column(col).to_owned();
        manager.alter_table(drop(Uploads::Table.into_iden(), Uploads::DataFile.into_iden())).await?;
        manager.alter_table(drop(Blobs::Table.into_iden(), Blobs::CollectUntil.into_iden())).await?;
        manager.alter_table(drop(Blobs::Table.into_iden(), Blobs::State.into_iden())).await?;
        manager.alter_table(drop(Blobs::Table.into_iden(), Blobs::Refs.into_iden())).await?;
        manager.alter_table(drop(Users::Table.into_iden(), Users::DriveRev.into_iden())).await?;
        manager.alter_table(drop(Users::Table.into_iden(), Users::UsedBytes.into_iden())).await
    }
}

/// Folders that are their own ancestors (two moves that raced before moves were serialised)
/// are cut loose: one folder of each cycle moves to the top.
async fn break_cycles(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let rows = FolderRow::find_by_statement(Statement::from_string(backend, "SELECT id, parent_id FROM folders"))
        .all(db)
        .await?;
    let parent: HashMap<uuid::Uuid, uuid::Uuid> = rows.iter().filter_map(|r| Some((r.id, r.parent_id?))).collect();
    let mut cut: HashSet<uuid::Uuid> = HashSet::new();
    let mut done: HashSet<uuid::Uuid> = HashSet::new();
    for start in parent.keys() {
        let mut seen = Vec::new();
        let mut at = *start;
        while let Some(&up) = parent.get(&at) {
            if done.contains(&at) || cut.contains(&at) {
                break;
            }
            if seen.contains(&at) {
                cut.insert(at);
                break;
            }
            seen.push(at);
            at = up;
        }
        done.extend(seen);
    }
    for id in cut {
        let stmt = Query::update()
            .table(Alias::new("folders"))
            .value(Alias::new("parent_id"), Option::<uuid::Uuid>::None)
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .to_owned();
        db.execute(&stmt).await?;
    }
    Ok(())
}
