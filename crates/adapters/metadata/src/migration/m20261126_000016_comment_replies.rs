//! One level of replies: a comment may name the top-level comment of its video it answers.
//! A reply goes with its parent (no orphan shows under nothing).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Comments {
    Table,
    ParentId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Comments::Table).add_column(uuid_null(Comments::ParentId)).to_owned())
            .await?;
        // SQLite cannot add a foreign key to a table that exists: the delete of a parent takes
        // its replies in the repository instead (in the same statement's transaction).
        manager
            .create_index(
                Index::create().name("idx_comments_parent").table(Comments::Table).col(Comments::ParentId).to_owned(),
            )
            .await
    }
}
