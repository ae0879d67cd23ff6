//! Each owner's list of blocked words for bullet comments on their videos: one row per owner
//! holding the whole list (JSON), replaced at once, so a reader never sees half a list.

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
enum DanmakuFilters {
    Table,
    OwnerId,
    Words,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, DanmakuFilters::Table)
                    .col(pk_uuid(DanmakuFilters::OwnerId))
                    .col(text(DanmakuFilters::Words))
                    .foreign_key(&mut cascade(
                        "fk_danmaku_filters_owner",
                        (DanmakuFilters::Table, DanmakuFilters::OwnerId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await
    }
}
