use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::util::create_table;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Blobs {
    Table,
    Sha256,
    Size,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Videos {
    Table,
    SourceSha256,
    SourceSize,
    SourceMime,
    UploadedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, Blobs::Table)
                    .col(char_len(Blobs::Sha256, 64).primary_key())
                    .col(big_integer(Blobs::Size))
                    .col(big_integer(Blobs::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for col in [
            char_len_null(Videos::SourceSha256, 64),
            big_integer_null(Videos::SourceSize),
            string_len_null(Videos::SourceMime, 64),
            big_integer_null(Videos::UploadedAt),
        ] {
            let mut col = col;
            manager.alter_table(Table::alter().table(Videos::Table).add_column(&mut col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [Videos::SourceSha256, Videos::SourceSize, Videos::SourceMime, Videos::UploadedAt] {
            manager.alter_table(Table::alter().table(Videos::Table).drop_column(col).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(Blobs::Table).to_owned()).await
    }
}
