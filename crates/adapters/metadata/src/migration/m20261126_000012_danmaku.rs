//! Bullet comments (弹幕): per video, each at a moment of the video, with its look and its
//! sender; visible, or hidden by the video's owner. Read by segment of video time, so the index
//! leads with the video and the moment. `videos.danmaku_off` lets an owner turn them off.

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
    DanmakuOff,
}

#[derive(DeriveIden)]
enum Danmaku {
    Table,
    Id,
    VideoId,
    TMs,
    Mode,
    Color,
    Size,
    Text,
    SenderId,
    CreatedAt,
    Hidden,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Videos::Table).add_column(boolean(Videos::DanmakuOff).default(false)).to_owned(),
            )
            .await?;
        manager
            .create_table(
                create_table(manager, Danmaku::Table)
                    .col(pk_uuid(Danmaku::Id))
                    .col(uuid(Danmaku::VideoId))
                    .col(big_integer(Danmaku::TMs))
                    .col(small_integer(Danmaku::Mode))
                    .col(integer(Danmaku::Color))
                    .col(small_integer(Danmaku::Size))
                    // 100 characters of up to 4 bytes.
                    .col(string_len(Danmaku::Text, 400))
                    .col(uuid(Danmaku::SenderId))
                    .col(big_integer(Danmaku::CreatedAt))
                    .col(boolean(Danmaku::Hidden).default(false))
                    .foreign_key(&mut cascade(
                        "fk_danmaku_video",
                        (Danmaku::Table, Danmaku::VideoId),
                        (Videos::Table, Videos::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_danmaku_sender",
                        (Danmaku::Table, Danmaku::SenderId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_danmaku_video_t")
                    .table(Danmaku::Table)
                    .col(Danmaku::VideoId)
                    .col(Danmaku::TMs)
                    .to_owned(),
            )
            .await
    }
}
