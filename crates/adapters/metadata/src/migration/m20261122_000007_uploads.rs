use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::util::{cascade, create_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Uploads {
    Table,
    Id,
    OwnerId,
    Length,
    Offset,
    Metadata,
    Filename,
    VideoId,
    Concat,
    Segments,
    Parts,
    Result,
    HashState,
    LockHolder,
    LockUntil,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, Uploads::Table)
                    .col(pk_uuid(Uploads::Id))
                    .col(uuid(Uploads::OwnerId))
                    .col(big_integer_null(Uploads::Length))
                    .col(big_integer(Uploads::Offset))
                    .col(text(Uploads::Metadata))
                    .col(string_len_null(Uploads::Filename, 255))
                    .col(uuid_null(Uploads::VideoId))
                    .col(string_len(Uploads::Concat, 16))
                    .col(text(Uploads::Segments))
                    .col(text(Uploads::Parts))
                    .col(string_len_null(Uploads::Result, 64))
                    .col(text_null(Uploads::HashState))
                    .col(string_len_null(Uploads::LockHolder, 64))
                    .col(big_integer_null(Uploads::LockUntil))
                    .col(big_integer(Uploads::ExpiresAt))
                    .col(big_integer(Uploads::CreatedAt))
                    .col(big_integer(Uploads::UpdatedAt))
                    .foreign_key(&mut cascade(
                        "fk_uploads_owner",
                        (Uploads::Table, Uploads::OwnerId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_uploads_expiry").table(Uploads::Table).col(Uploads::ExpiresAt).to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_uploads_owner").table(Uploads::Table).col(Uploads::OwnerId).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Uploads::Table).to_owned()).await
    }
}
