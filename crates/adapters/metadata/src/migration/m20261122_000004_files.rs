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
enum Files {
    Table,
    Id,
    OwnerId,
    FolderId,
    Name,
    Sha256,
    Size,
    Mime,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, Files::Table)
                    .col(pk_uuid(Files::Id))
                    .col(uuid(Files::OwnerId))
                    .col(uuid_null(Files::FolderId))
                    .col(string_len(Files::Name, 255))
                    .col(char_len(Files::Sha256, 64))
                    .col(big_integer(Files::Size))
                    .col(string_len(Files::Mime, 127))
                    .col(big_integer(Files::CreatedAt))
                    .col(big_integer(Files::UpdatedAt))
                    .col(big_integer_null(Files::DeletedAt))
                    .foreign_key(&mut cascade(
                        "fk_files_owner",
                        (Files::Table, Files::OwnerId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_files_owner")
                    .table(Files::Table)
                    .col(Files::OwnerId)
                    .col(Files::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("idx_files_sha256").table(Files::Table).col(Files::Sha256).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Files::Table).to_owned()).await
    }
}
