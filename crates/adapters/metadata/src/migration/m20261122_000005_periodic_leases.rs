use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::util::create_table;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PeriodicLeases {
    Table,
    Name,
    Holder,
    Until,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, PeriodicLeases::Table)
                    .col(string_len(PeriodicLeases::Name, 64).primary_key())
                    .col(string_len(PeriodicLeases::Holder, 128))
                    .col(big_integer(PeriodicLeases::Until))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PeriodicLeases::Table).to_owned()).await
    }
}
