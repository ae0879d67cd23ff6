use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Videos {
    Table,
    DurationMs,
    Width,
    Height,
    VideoCodec,
    AudioCodec,
    Bitrate,
    FailureReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite's ALTER TABLE adds one at a time.
        let cols = [
            big_integer_null(Videos::DurationMs),
            integer_null(Videos::Width),
            integer_null(Videos::Height),
            string_len_null(Videos::VideoCodec, 32),
            string_len_null(Videos::AudioCodec, 32),
            big_integer_null(Videos::Bitrate),
            string_len_null(Videos::FailureReason, 500),
        ];
        for mut col in cols {
            manager.alter_table(Table::alter().table(Videos::Table).add_column(&mut col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            Videos::DurationMs,
            Videos::Width,
            Videos::Height,
            Videos::VideoCodec,
            Videos::AudioCodec,
            Videos::Bitrate,
            Videos::FailureReason,
        ] {
            manager.alter_table(Table::alter().table(Videos::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
