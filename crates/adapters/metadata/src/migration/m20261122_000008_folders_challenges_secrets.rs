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
enum Folders {
    Table,
    Id,
    OwnerId,
    ParentId,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Challenges {
    Table,
    Nonce,
    OwnerId,
    Sha256,
    Size,
    Offset,
    Length,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Secrets {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    OwnerId,
    FolderId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, Folders::Table)
                    .col(pk_uuid(Folders::Id))
                    .col(uuid(Folders::OwnerId))
                    .col(uuid_null(Folders::ParentId))
                    .col(string_len(Folders::Name, 255))
                    .col(big_integer(Folders::CreatedAt))
                    .col(big_integer(Folders::UpdatedAt))
                    .foreign_key(&mut cascade(
                        "fk_folders_owner",
                        (Folders::Table, Folders::OwnerId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_folders_owner").table(Folders::Table).col(Folders::OwnerId).to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_files_folder")
                    .table(Files::Table)
                    .col(Files::OwnerId)
                    .col(Files::FolderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                create_table(manager, Challenges::Table)
                    .col(string_len(Challenges::Nonce, 64).primary_key())
                    .col(uuid(Challenges::OwnerId))
                    .col(char_len(Challenges::Sha256, 64))
                    .col(big_integer(Challenges::Size))
                    .col(big_integer(Challenges::Offset))
                    .col(big_integer(Challenges::Length))
                    .col(big_integer(Challenges::ExpiresAt))
                    .foreign_key(&mut cascade(
                        "fk_challenges_owner",
                        (Challenges::Table, Challenges::OwnerId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                create_table(manager, Secrets::Table)
                    .col(string_len(Secrets::Name, 64).primary_key())
                    .col(string_len(Secrets::Value, 255))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [Folders::Table.into_iden(), Challenges::Table.into_iden(), Secrets::Table.into_iden()] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        manager.drop_index(Index::drop().name("idx_files_folder").table(Files::Table).to_owned()).await
    }
}
