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
enum Videos {
    Table,
    Id,
    AuthorId,
    Name,
    Description,
    SearchKey,
    Status,
    Views,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    Id,
    VideoId,
    AuthorId,
    Content,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    DedupKey,
    State,
    RunAt,
    Attempts,
    MaxAttempts,
    LeaseUntil,
    LeasedBy,
    LastError,
    CreatedAt,
    UpdatedAt,
}

fn index(name: &str, table: impl IntoIden + 'static, cols: Vec<impl IntoIden + 'static>) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(c);
    }
    idx
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, Videos::Table)
                    .col(pk_uuid(Videos::Id))
                    .col(uuid(Videos::AuthorId))
                    .col(string_len(Videos::Name, 200))
                    .col(text(Videos::Description))
                    .col(text(Videos::SearchKey))
                    .col(string_len(Videos::Status, 16))
                    .col(big_integer(Videos::Views).default(0))
                    .col(big_integer(Videos::CreatedAt))
                    .col(big_integer(Videos::UpdatedAt))
                    .col(big_integer_null(Videos::DeletedAt))
                    .foreign_key(&mut cascade(
                        "fk_videos_author",
                        (Videos::Table, Videos::AuthorId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("idx_videos_author", Videos::Table, vec![Videos::AuthorId, Videos::Id])).await?;
        manager.create_index(index("idx_videos_status", Videos::Table, vec![Videos::Status, Videos::Id])).await?;
        manager.create_index(index("idx_videos_views", Videos::Table, vec![Videos::Views, Videos::Id])).await?;

        manager
            .create_table(
                create_table(manager, Comments::Table)
                    .col(pk_uuid(Comments::Id))
                    .col(uuid(Comments::VideoId))
                    .col(uuid(Comments::AuthorId))
                    .col(text(Comments::Content))
                    .col(big_integer(Comments::CreatedAt))
                    .foreign_key(&mut cascade(
                        "fk_comments_video",
                        (Comments::Table, Comments::VideoId),
                        (Videos::Table, Videos::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_comments_author",
                        (Comments::Table, Comments::AuthorId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_comments_video", Comments::Table, vec![Comments::VideoId, Comments::Id]))
            .await?;

        manager
            .create_table(
                create_table(manager, Jobs::Table)
                    .col(pk_uuid(Jobs::Id))
                    .col(string_len(Jobs::Kind, 64))
                    .col(text(Jobs::Payload))
                    .col(string_len_null(Jobs::DedupKey, 255).unique_key())
                    .col(string_len(Jobs::State, 16))
                    .col(big_integer(Jobs::RunAt))
                    .col(integer(Jobs::Attempts).default(0))
                    .col(integer(Jobs::MaxAttempts))
                    .col(big_integer_null(Jobs::LeaseUntil))
                    .col(string_len_null(Jobs::LeasedBy, 64))
                    .col(text_null(Jobs::LastError))
                    .col(big_integer(Jobs::CreatedAt))
                    .col(big_integer(Jobs::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("idx_jobs_due", Jobs::Table, vec![Jobs::State, Jobs::RunAt])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [Jobs::Table.into_iden(), Comments::Table.into_iden(), Videos::Table.into_iden()] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
