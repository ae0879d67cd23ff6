use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Videos {
    Table,
    Progress,
    HasStills,
    Renditions,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite's ALTER TABLE adds one at a time.
        let cols = [
            small_integer(Videos::Progress).default(0).to_owned(),
            boolean(Videos::HasStills).default(false).to_owned(),
            // The HLS ladder as JSON ([{width, height, bandwidth}]); null until transcoded.
            text_null(Videos::Renditions),
        ];
        for mut col in cols {
            manager.alter_table(Table::alter().table(Videos::Table).add_column(&mut col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [Videos::Progress, Videos::HasStills, Videos::Renditions] {
            manager.alter_table(Table::alter().table(Videos::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
